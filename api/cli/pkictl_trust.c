// pkictl trust (list, add, get, delete) and pkictl find.
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cli/pkictl.h"
#include "api/cli/pkictl_json.h"
#include "ca/limits.h"
#include "ca/x509/asn1_time.h"
#include "proto/pki.pb-c.h"

// The flags of these commands: --force and --all are switches.
typedef struct find_flags {
  const char *cn, *profile, *usage, *key_type, *key_bits, *status, *store,
      *cluster, *before, *after_date, *limit, *after, *format, *out,
      *revocation, *description;
  int force, all;
  const char *positional[3];
  int n_positional;
} find_flags;

static int parse(int argc, char **argv, find_flags *f) {
  static const pkictl_flag kFlags[] = {
      PKICTL_STRING_FLAG("--cn", find_flags, cn),
      PKICTL_STRING_FLAG("--profile", find_flags, profile),
      PKICTL_STRING_FLAG("--usage", find_flags, usage),
      PKICTL_STRING_FLAG("--key-type", find_flags, key_type),
      PKICTL_STRING_FLAG("--key-bits", find_flags, key_bits),
      PKICTL_STRING_FLAG("--status", find_flags, status),
      PKICTL_STRING_FLAG("--store", find_flags, store),
      PKICTL_STRING_FLAG("--cluster", find_flags, cluster),
      PKICTL_STRING_FLAG("--expires-before", find_flags, before),
      PKICTL_STRING_FLAG("--expires-after", find_flags, after_date),
      PKICTL_STRING_FLAG("--limit", find_flags, limit),
      PKICTL_STRING_FLAG("--after", find_flags, after),
      PKICTL_STRING_FLAG("--format", find_flags, format),
      PKICTL_STRING_FLAG("--out", find_flags, out),
      PKICTL_STRING_FLAG("--revocation", find_flags, revocation),
      PKICTL_STRING_FLAG("--description", find_flags, description),
      PKICTL_BOOL_FLAG("--force", find_flags, force),
      PKICTL_BOOL_FLAG("--all", find_flags, all),
  };
  static const pkictl_flag_spec kSpec = {
      kFlags, PKICTL_COUNT(kFlags), sizeof(find_flags), 3, NULL,
  };
  return pkictl_parse_flags(&kSpec, argc, argv, f, f->positional,
                            &f->n_positional);
}

int pkictl_find(pki_client *client, int argc, char **argv) {
  find_flags f;
  if (!parse(argc, argv, &f) || f.n_positional != 0) {
    fprintf(stderr, "pkictl: usage: pkictl find [filters] (see --help)\n");
    return 2;
  }
  char cursor[64] = "";
  if (f.after != NULL) {
    snprintf(cursor, sizeof(cursor), "%s", f.after);
  }
  int header = 1;
  for (;;) {
    char path[4096] = "/v1/certificates";
    pkictl_add_query(path, sizeof(path), "cn", f.cn);
    pkictl_add_query(path, sizeof(path), "profile", f.profile);
    pkictl_add_query(path, sizeof(path), "usage", f.usage);
    pkictl_add_query(path, sizeof(path), "key_type", f.key_type);
    pkictl_add_query(path, sizeof(path), "key_bits", f.key_bits);
    pkictl_add_query(path, sizeof(path), "status", f.status);
    pkictl_add_query(path, sizeof(path), "store", f.store);
    pkictl_add_query(path, sizeof(path), "cluster", f.cluster);
    pkictl_add_query(path, sizeof(path), "expires_before", f.before);
    pkictl_add_query(path, sizeof(path), "expires_after", f.after_date);
    pkictl_add_query(path, sizeof(path), "limit", f.limit);
    pkictl_add_query(path, sizeof(path), "revocation", f.revocation);
    pkictl_add_query(path, sizeof(path), "after",
                     cursor[0] != '\0' ? cursor : NULL);
    Pki__V1__ListCertificatesResponse *resp =
        (Pki__V1__ListCertificatesResponse *)pkictl_get_message(
            client, path, &pki__v1__list_certificates_response__descriptor);
    if (resp == NULL) {
      return 1;
    }
    if (header) {
      printf("%-8s %-20s %-17s %-8s %-8s %-34s %s  %s\n", "USAGE", "NOT_AFTER",
             "PROFILE/STORE", "KEY", "STATUS", "SERIAL", "COMMON_NAME",
             "REVOCATION");
      header = 0;
    }
    for (size_t i = 0; i < resp->n_certificates; i++) {
      const Pki__V1__CertificateInfo *c = resp->certificates[i];
      char na[21], key[16];
      pkictl_format_time(c->not_after, na);
      snprintf(key, sizeof(key), "%s-%u", c->key_type, c->key_bits);
      const int trust = strcmp(c->usage, "trust") == 0;
      printf("%-8s %-20s %-17s %-8s %-8s %-34s %s  %s\n", c->usage, na,
             trust ? c->store : c->profile, key, c->status, c->serial,
             c->common_name,
             c->revocation_status[0] != '\0' ? c->revocation_status : "-");
    }
    snprintf(cursor, sizeof(cursor), "%s", resp->next_after);
    pki__v1__list_certificates_response__free_unpacked(resp, NULL);
    if (!f.all || cursor[0] == '\0') {
      if (cursor[0] != '\0') {
        fprintf(stderr, "more: add --after %s (or --all)\n", cursor);
      }
      return 0;
    }
  }
}

static int trust_list(pki_client *client, const find_flags *f) {
  char path[256] = "/v1/trust";
  if (f->n_positional == 2) {
    snprintf(path, sizeof(path), "/v1/trust/%.64s", f->positional[1]);
  }
  pkictl_add_query(path, sizeof(path), "revocation", f->revocation);
  Pki__V1__ListTrustResponse *resp =
      (Pki__V1__ListTrustResponse *)pkictl_get_message(
          client, path, &pki__v1__list_trust_response__descriptor);
  if (resp == NULL) {
    return 1;
  }
  // Fixed-width columns first, the free text (subject, description) next;
  // REVOCATION (pki's own check) and CHECKED come last, tab separated, so
  // that the columns before them read as they always did.
  printf("%-17s %-64s %-20s %-6s %-7s %-4s %s%s\t%s\t%s\n", "STORE",
         "FINGERPRINT", "NOT_AFTER", "SOURCE", "STATUS", "KIND", "SUBJECT",
         "  [DESCRIPTION]", "REVOCATION", "CHECKED");
  for (size_t i = 0; i < resp->n_entries; i++) {
    const Pki__V1__TrustEntry *e = resp->entries[i];
    char na[21], checked[21] = "-";
    pkictl_format_time(e->not_after, na);
    if (e->revocation_checked_at != 0) {
      pkictl_format_time(e->revocation_checked_at, checked);
    }
    printf("%-17s %-64s %-20s %-6s %-7s %-4s %s", e->store, e->fingerprint, na,
           e->source, e->revoked_at != 0 ? "revoked" : "good",
           e->leaf ? "leaf" : "ca", e->subject);
    if (e->description[0] != '\0') {
      printf("  [%s]", e->description);
    }
    printf("\t%s\t%s\n",
           e->revocation_status[0] != '\0' ? e->revocation_status : "unchecked",
           checked);
  }
  pki__v1__list_trust_response__free_unpacked(resp, NULL);
  return 0;
}

static int trust_add(pki_client *client, const find_flags *f) {
  size_t len;
  uint8_t *body =
      pkictl_read_file(f->positional[2], CA_LIMIT_TRUST_UPLOAD_BYTES, &len);
  if (body == NULL) {
    return 1;
  }
  // Room for a description of CA_LIMIT_DESCRIPTION_LEN bytes, each one
  // percent-encoded.
  char path[128 + 3 * CA_LIMIT_DESCRIPTION_LEN];
  snprintf(path, sizeof(path), "/v1/trust/%.64s", f->positional[1]);
  pkictl_add_query(path, sizeof(path), "force", f->force ? "true" : NULL);
  pkictl_add_query(path, sizeof(path), "description", f->description);
  Pki__V1__TrustUploadResponse *resp =
      (Pki__V1__TrustUploadResponse *)pkictl_call_message(
          client, "POST", path, "application/octet-stream", body, len,
          &pki__v1__trust_upload_response__descriptor);
  free(body);
  if (resp == NULL) {
    return 1;
  }
  for (size_t i = 0; i < resp->n_results; i++) {
    const Pki__V1__TrustUploadResult *r = resp->results[i];
    printf("%-9s %-17s %s %s\trevocation=%s\n", r->outcome, r->store,
           r->fingerprint, r->subject,
           r->revocation_status[0] != '\0' ? r->revocation_status : "-");
    if (r->warning[0] != '\0') {
      fprintf(stderr, "pkictl: warning: %s: %s\n", r->fingerprint, r->warning);
    }
  }
  pki__v1__trust_upload_response__free_unpacked(resp, NULL);
  return 0;
}

static int trust_get(pki_client *client, const find_flags *f) {
  char path[512];
  snprintf(path, sizeof(path), "/v1/trust/%.64s/%.128s", f->positional[1],
           f->positional[2]);
  pkictl_add_query(path, sizeof(path), "format",
                   f->format != NULL ? f->format : "pem");
  return pkictl_download(client, path, f->out);
}

static int trust_delete(pki_client *client, const find_flags *f) {
  char path[512];
  snprintf(path, sizeof(path), "/v1/trust/%.64s/%.128s", f->positional[1],
           f->positional[2]);
  pkictl_add_query(path, sizeof(path), "force", f->force ? "true" : NULL);
  pki_reply reply;
  if (!pki_client_call(client, "DELETE", path, NULL, NULL, 0, &reply)) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
    return 1;
  }
  const int rc = reply.status == 200 ? 0 : pkictl_report(&reply);
  if (rc == 0) {
    printf("deleted %s from %s\n", f->positional[2], f->positional[1]);
    pkictl_json_string("store", f->positional[1]);
    pkictl_json_string("deleted", f->positional[2]);
  }
  pki_reply_cleanup(&reply);
  return rc;
}

int pkictl_trust(pki_client *client, int argc, char **argv) {
  find_flags f;
  if (!parse(argc, argv, &f) || f.n_positional == 0) {
    fprintf(stderr, "pkictl: usage: pkictl trust list|add|get|delete ...\n");
    return 2;
  }
  const char *verb = f.positional[0];
  if (strcmp(verb, "list") == 0 && f.n_positional <= 2) {
    return trust_list(client, &f);
  }
  if (strcmp(verb, "add") == 0 && f.n_positional == 3) {
    return trust_add(client, &f);
  }
  if (strcmp(verb, "get") == 0 && f.n_positional == 3) {
    return trust_get(client, &f);
  }
  if (strcmp(verb, "delete") == 0 && f.n_positional == 3) {
    return trust_delete(client, &f);
  }
  fprintf(stderr,
          "pkictl: usage: pkictl trust list [STORE] [--revocation STATUS] | add"
          " STORE FILE [--force] [--description TEXT] | get STORE FINGERPRINT"
          " | delete STORE FINGERPRINT [--force]\n");
  return 2;
}
