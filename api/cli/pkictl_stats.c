// pkictl stats [--refresh] [--json]: the certificate statistics snapshot
// (README.md, "Certificate statistics"), GET /v1/stats, or POST
// /v1/stats:refresh (admin) to compute it first.
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/cli/pkictl.h"
#include "api/cli/pkictl_json.h"
#include "ca/error.h"
#include "proto/pki.pb-c.h"

typedef struct stats_flags {
  int refresh;
  int json;  // also taken after the command: pkictl stats --json
  const char *positional[1];
  int n_positional;
} stats_flags;

static int parse(int argc, char **argv, stats_flags *f) {
  static const pkictl_flag kFlags[] = {
      PKICTL_BOOL_FLAG("--refresh", stats_flags, refresh),
      PKICTL_BOOL_FLAG("--json", stats_flags, json),
  };
  static const pkictl_flag_spec kSpec = {
      kFlags, PKICTL_COUNT(kFlags), sizeof(stats_flags), 0, NULL,
  };
  return pkictl_parse_flags(&kSpec, argc, argv, f, f->positional,
                            &f->n_positional);
}

// issuer_shown names the issuer column: the CA, or what stands for none.
static const char *issuer_shown(const Pki__V1__StatsCount *c) {
  if (c->issuer[0] != '\0') {
    return c->issuer;
  }
  return strcmp(c->kind, "external") == 0 ? "(registered)" : "(self-signed)";
}

static void print_stats(const Pki__V1__StatsResponse *r) {
  if (!r->computed) {
    printf(
        "no statistics snapshot yet (pkid --stats-interval, or pkictl "
        "stats --refresh)\n");
    return;
  }
  char when[32] = "";
  const time_t t = (time_t)r->computed_at;
  struct tm tm;
  if (gmtime_r(&t, &tm) != NULL) {
    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
  }
  printf("as of %s (%" PRId64 " s ago), computed by %s in %" PRId64 " ms\n",
         when, r->age_seconds, r->computed_by, r->duration_ms);
  printf("expiring within 1d %" PRIu64 ", 7d %" PRIu64 ", 30d %" PRIu64
         "; expired (last 30 days) %" PRIu64 "\n",
         r->expiring_within_1d, r->expiring_within_7d, r->expiring_within_30d,
         r->expired);
  printf("%-20s %-20s %-8s %10s %8s %8s %8s\n", "ISSUER", "PROFILE", "STATUS",
         "COUNT", "1D", "7D", "30D");
  for (size_t i = 0; i < r->n_counts; i++) {
    const Pki__V1__StatsCount *c = r->counts[i];
    printf("%-20s %-20s %-8s %10" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64
           "\n",
           issuer_shown(c), c->profile, c->status, c->count,
           c->expiring_within_1d, c->expiring_within_7d,
           c->expiring_within_30d);
  }
}

int pkictl_stats(pki_client *client, int argc, char **argv) {
  stats_flags f;
  if (!parse(argc, argv, &f)) {
    return 2;
  }
  if (f.json && !pkictl_json_on() && !pkictl_json_begin()) {
    return 1;
  }
  pki_reply reply;
  memset(&reply, 0, sizeof(reply));
  if (f.refresh) {
    if (!pki_client_call(client, "POST", "/v1/stats:refresh", NULL, NULL, 0,
                         &reply)) {
      fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
      return 1;
    }
    if (reply.status != 200) {
      pkictl_report(&reply);
      pki_reply_cleanup(&reply);
      return 1;
    }
  } else if (!pkictl_get(client, "/v1/stats", &reply)) {
    pki_reply_cleanup(&reply);
    return 1;
  }
  Pki__V1__StatsResponse *r =
      pki__v1__stats_response__unpack(NULL, reply.body_len, reply.body);
  pkictl_json_answer((const ProtobufCMessage *)r);
  int rc = 1;
  if (r != NULL) {
    print_stats(r);
    rc = 0;
  } else {
    fprintf(stderr, "pkictl: unreadable reply\n");
  }
  pki__v1__stats_response__free_unpacked(r, NULL);
  pki_reply_cleanup(&reply);
  return rc;
}
