#include "api/server/revcheck.h"

#include <errno.h>
#include <openssl/mem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/server/curl_lib.h"
#include "api/server/formats.h"
#include "api/server/log.h"
#include "ca/limits.h"
#include "ca/store/store_revcheck.h"
#include "ca/x509/x509.h"

// An OCSP answer without nextUpdate is taken for at most a day old.
#define REVCHECK_MAX_AGE_S 86400
// Entries checked by one claim; the rest wait for the next round.
#define REVCHECK_BATCH 32
// A claimed entry whose checker died is claimed again after this.
#define REVCHECK_LEASE_S 600
// An answer whose nextUpdate comes sooner than the interval is asked again
// then, but not sooner than this.
#define REVCHECK_MIN_RECHECK_S 300
// unknown and unreachable are asked again sooner than the interval.
#define REVCHECK_RETRY_S 3600

const char kApiRevcheckUsage[] =
    "  --revcheck-interval S  seconds between two revocation checks of a\n"
    "                         trust-store entry or registered identity\n"
    "                         (OCSP, then CRL), 0 for none after the check\n"
    "                         at upload. Default 43200\n"
    "  --revcheck-timeout S   one OCSP or CRL fetch, 1 to 120. Default 10\n"
    "  --revcheck-skew S      clock skew allowed on thisUpdate/nextUpdate,\n"
    "                         0 to 3600. Default 300\n"
    "  --revcheck-policy STORE=refuse|warn-undetermined|warn\n"
    "                         what an upload to STORE (or \"all\") whose\n"
    "                         status is revoked, unknown or unreachable\n"
    "                         gets. Default refuse (Common Criteria)\n"
    "  --revcheck-responder STORE=URL\n"
    "                         ask this OCSP responder for STORE's entries\n"
    "                         instead of their AIA's\n";

void api_revcheck_config_init(api_revcheck_config *config) {
  memset(config, 0, sizeof(*config));
  config->interval_s = 12 * 3600;
  config->timeout_s = 10;
  config->skew_s = 300;
}

static int read_seconds(const char *flag, const char *value, unsigned min,
                        unsigned max, unsigned *out) {
  char *end;
  errno = 0;
  const unsigned long v = strtoul(value, &end, 10);
  if (errno != 0 || end == value || *end != '\0' || v < min || v > max) {
    fprintf(stderr, "pkid: %s must be %u to %u\n", flag, min, max);
    return -1;
  }
  *out = (unsigned)v;
  return 1;
}

// store_pair reads "STORE=VALUE": the indexes of the stores it names (all
// six for "all") are set in |which|.
static int store_pair(const char *flag, const char *pair,
                      int which[CA_TRUST_STORE_COUNT], const char **out_value) {
  const char *eq = strchr(pair, '=');
  char name[64];
  if (eq == NULL || eq == pair || (size_t)(eq - pair) >= sizeof(name)) {
    fprintf(stderr, "pkid: %s takes STORE=VALUE\n", flag);
    return 0;
  }
  memcpy(name, pair, (size_t)(eq - pair));
  name[eq - pair] = '\0';
  const char *const *names = ca_trust_store_names();
  const int all = strcmp(name, "all") == 0;
  const char *canonical = all ? NULL : ca_trust_store_find(name);
  if (!all && canonical == NULL) {
    fprintf(stderr, "pkid: %s: no trust store %s\n", flag, name);
    return 0;
  }
  for (int i = 0; i < CA_TRUST_STORE_COUNT; i++) {
    which[i] = all || strcmp(names[i], canonical) == 0;
  }
  *out_value = eq + 1;
  return 1;
}

static int policy_flag(api_revcheck_config *config, const char *flag,
                       const char *value) {
  int which[CA_TRUST_STORE_COUNT];
  const char *text;
  if (!store_pair(flag, value, which, &text)) {
    return -1;
  }
  api_revcheck_policy policy;
  if (strcmp(text, "refuse") == 0) {
    policy = API_REVCHECK_REFUSE;
  } else if (strcmp(text, "warn-undetermined") == 0) {
    policy = API_REVCHECK_WARN_UNDETERMINED;
  } else if (strcmp(text, "warn") == 0) {
    policy = API_REVCHECK_WARN;
  } else {
    fprintf(stderr, "pkid: %s: refuse, warn-undetermined or warn\n", flag);
    return -1;
  }
  for (int i = 0; i < CA_TRUST_STORE_COUNT; i++) {
    if (which[i]) {
      config->policy[i] = policy;
    }
  }
  return 1;
}

static int responder_flag(api_revcheck_config *config, const char *flag,
                          const char *value) {
  int which[CA_TRUST_STORE_COUNT];
  const char *url;
  if (!store_pair(flag, value, which, &url)) {
    return -1;
  }
  if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
    fprintf(stderr, "pkid: %s: the URL must be http:// or https://\n", flag);
    return -1;
  }
  for (int i = 0; i < CA_TRUST_STORE_COUNT; i++) {
    if (which[i]) {
      config->responder[i] = url;
    }
  }
  return 1;
}

int api_revcheck_config_flag(api_revcheck_config *config, const char *flag,
                             const char *value) {
  if (strcmp(flag, "--revcheck-interval") == 0) {
    return read_seconds(flag, value, 0, 30 * 86400, &config->interval_s);
  }
  if (strcmp(flag, "--revcheck-timeout") == 0) {
    return read_seconds(flag, value, 1, 120, &config->timeout_s);
  }
  if (strcmp(flag, "--revcheck-skew") == 0) {
    return read_seconds(flag, value, 0, 3600, &config->skew_s);
  }
  if (strcmp(flag, "--revcheck-policy") == 0) {
    return policy_flag(config, flag, value);
  }
  if (strcmp(flag, "--revcheck-responder") == 0) {
    return responder_flag(config, flag, value);
  }
  return 0;
}

// --- Fetching over HTTP ---

typedef struct sink {
  uint8_t *data;
  size_t len;
  size_t max;
  int overflow;
} sink;

static size_t collect(char *ptr, size_t size, size_t n, void *arg) {
  sink *s = arg;
  const size_t len = size * n;
  if (len > s->max - s->len) {
    s->overflow = 1;
    return 0;  // libcurl stops the transfer
  }
  uint8_t *grown = OPENSSL_realloc(s->data, s->len + len + 1);
  if (grown == NULL) {
    return 0;
  }
  s->data = grown;
  memcpy(s->data + s->len, ptr, len);
  s->len += len;
  return len;
}

struct api_revcheck {
  ca_store *store;
  const ca_authority *authority;
  api_revcheck_config config;
  pthread_t thread;
  int started;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stopping;
};

// fetch is the ca_revcheck_fetcher of pkid: no proxy, no redirect (a
// responder answers where the certificate says), http or https only, the
// answer bounded by |max_bytes| and the whole by --revcheck-timeout.
static int fetch(void *ctx, const char *url, const uint8_t *body,
                 size_t body_len, const char *content_type, size_t max_bytes,
                 uint8_t **out, size_t *out_len) {
  const api_revcheck *rc = ctx;
  sink s = {.max = max_bytes};
  char errbuf[CURL_ERROR_SIZE] = "";
  struct curl_slist *headers = NULL;
  long status = 0;
  CA_GUARD(api_curl_load());
  CURL *curl = api_curl.curl_easy_init();
  CA_ENSURE(curl != NULL, CA_ERR_NO_MEMORY, "out of memory");
  api_curl.curl_easy_setopt(curl, CURLOPT_URL, url);
  api_curl.curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  api_curl.curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  api_curl.curl_easy_setopt(curl, CURLOPT_PROXY, "");
  api_curl.curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  api_curl.curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
                            (long)rc->config.timeout_s);
  api_curl.curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)rc->config.timeout_s);
  api_curl.curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  api_curl.curl_easy_setopt(curl, CURLOPT_USERAGENT, "pki-revocation-check");
  api_curl.curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  api_curl.curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
  if (body != NULL) {
    char header[96];
    snprintf(header, sizeof(header), "Content-Type: %s", content_type);
    headers = api_curl.curl_slist_append(NULL, header);
    api_curl.curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    api_curl.curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    api_curl.curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)body_len);
  }
  const CURLcode code = api_curl.curl_easy_perform(curl);
  api_curl.curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  api_curl.curl_easy_cleanup(curl);
  api_curl.curl_slist_free_all(headers);
  CA_ENSURE(!s.overflow, CA_ERR_REVOCATION_UNREACHABLE,
            "the answer is larger than %zu bytes", max_bytes);
  CA_ENSURE(code == CURLE_OK, CA_ERR_REVOCATION_UNREACHABLE, "%s",
            errbuf[0] != '\0' ? errbuf : api_curl.curl_easy_strerror(code));
  CA_ENSURE(status == 200, CA_ERR_REVOCATION_UNREACHABLE, "HTTP %ld", status);
  *out = s.data != NULL ? s.data : OPENSSL_malloc(1);
  CA_ENSURE(*out != NULL, CA_ERR_NO_MEMORY, "out of memory");
  *out_len = s.len;
  return 1;
err:
  OPENSSL_free(s.data);
  return 0;
}

// --- Checking one certificate ---

static int store_index(const char *trust_store) {
  const char *const *names = ca_trust_store_names();
  for (int i = 0; i < CA_TRUST_STORE_COUNT; i++) {
    if (strcmp(names[i], trust_store) == 0) {
      return i;
    }
  }
  return -1;
}

// Where the issuer of a certificate is looked for: the other certificates
// of an upload (|batch|) or an identity's uploaded chain (|chain|, DER back
// to back), then the trust stores named, then pki's CAs.
typedef struct issuer_places {
  const ca_trust_cert *batch;
  size_t batch_n;
  const uint8_t *chain;
  size_t chain_len;
  const char *stores[2];
  size_t n_stores;
} issuer_places;

// chain_issuer finds |cert|'s issuer in a chain of DER certificates.
static void chain_issuer(const ca_x509 *cert, const uint8_t *chain,
                         size_t chain_len, const uint8_t **out,
                         size_t *out_len) {
  CBS rest;
  CBS_init(&rest, chain, chain != NULL ? chain_len : 0);
  while (CBS_len(&rest) > 0) {
    CBS element;
    ca_x509 candidate;
    if (!CBS_get_asn1_element(&rest, &element, CBS_ASN1_SEQUENCE)) {
      return;
    }
    if (ca_x509_parse(&candidate, CBS_data(&element), CBS_len(&element)) &&
        CBS_len(&candidate.subject) > 0 &&
        CBS_mem_equal(&cert->issuer, CBS_data(&candidate.subject),
                      CBS_len(&candidate.subject))) {
      *out = CBS_data(&element);
      *out_len = CBS_len(&element);
      return;
    }
  }
  ca_err_clear();
}

// find_issuer sets |*out| to the DER of |cert|'s issuer, |*owned| when it
// must be freed (OPENSSL_free); NULL when none is known.
static int find_issuer(api_revcheck *rc, const issuer_places *at,
                       const ca_x509 *cert, const uint8_t **out,
                       size_t *out_len, uint8_t **owned) {
  *out = NULL;
  *owned = NULL;
  for (size_t i = 0; i < at->batch_n; i++) {
    if (CBS_mem_equal(&cert->issuer, at->batch[i].subject_der,
                      at->batch[i].subject_der_len) &&
        at->batch[i].subject_der_len > 0) {
      *out = at->batch[i].der;
      *out_len = at->batch[i].der_len;
      return 1;
    }
  }
  chain_issuer(cert, at->chain, at->chain_len, out, out_len);
  if (*out != NULL) {
    return 1;
  }
  for (size_t s = 0; s < at->n_stores; s++) {
    CA_GUARD_RETURN(
        ca_store_trust_issuer(rc->store, at->stores[s], CBS_data(&cert->issuer),
                              CBS_len(&cert->issuer), owned, out_len));
    if (*owned != NULL) {
      *out = *owned;
      return 1;
    }
  }
  for (size_t i = 0; rc->authority != NULL && i < rc->authority->count; i++) {
    const ca_issuer *ca = &rc->authority->issuers[i];
    if (CBS_mem_equal(&cert->issuer, CBS_data(&ca->cert.subject),
                      CBS_len(&ca->cert.subject))) {
      *out = ca->der;
      *out_len = ca->der_len;
      return 1;
    }
  }
  return 1;
}

static int64_t next_check(const api_revcheck *rc, const ca_revcheck_result *r,
                          int64_t now) {
  const int64_t interval =
      rc->config.interval_s > 0 ? rc->config.interval_s : 12 * 3600;
  int64_t next = now + interval;
  if (r->status == CA_REV_UNKNOWN || r->status == CA_REV_UNREACHABLE) {
    next = now + (interval < REVCHECK_RETRY_S ? interval : REVCHECK_RETRY_S);
  } else if (r->next_update > 0 && r->next_update < next) {
    next = r->next_update;
  }
  return next < now + REVCHECK_MIN_RECHECK_S &&
                 interval >= REVCHECK_MIN_RECHECK_S
             ? now + REVCHECK_MIN_RECHECK_S
             : next;
}

static int record(api_revcheck *rc, const uint8_t fp[CA_TRUST_FINGERPRINT_LEN],
                  const ca_revcheck_result *r, int64_t now) {
  ca_revcheck_row row = {
      .status = (char *)ca_revstatus_name(r->status),
      .source = (char *)r->source,
      .responder_url = (char *)r->url,
      .error = (char *)r->message,
      .revoked_at = r->status == CA_REV_REVOKED ? r->revoked_at : 0,
      .reason = r->status == CA_REV_REVOKED ? r->reason : -1,
      .checked_at = now,
      .next_check_at = next_check(rc, r, now),
  };
  memcpy(row.fingerprint, fp, CA_TRUST_FINGERPRINT_LEN);
  return ca_store_revcheck_put(rc->store, &row);
}

// check_der checks |der|, its issuer looked for at |at|, asking
// |responder_url| (NULL: the certificate's AIA) first.
static void check_der(api_revcheck *rc, const issuer_places *at,
                      const char *responder_url, const uint8_t *der,
                      size_t der_len, ca_revcheck_result *out) {
  const int64_t now = (int64_t)time(NULL);
  const ca_revcheck_params params = {
      .responder_url = responder_url,
      .now = now,
      .skew = rc->config.skew_s,
      .max_age = REVCHECK_MAX_AGE_S,
  };
  const ca_revcheck_fetcher fetcher = {.fetch = fetch, .ctx = rc};
  ca_x509 cert;
  const uint8_t *issuer = NULL;
  size_t issuer_len = 0;
  uint8_t *owned = NULL;
  memset(out, 0, sizeof(*out));
  out->status = CA_REV_UNKNOWN;
  if (!ca_x509_parse(&cert, der, der_len) ||
      !find_issuer(rc, at, &cert, &issuer, &issuer_len, &owned) ||
      !ca_revcheck_run(der, der_len, issuer, issuer_len, &params, &fetcher,
                       out)) {
    out->status = CA_REV_UNKNOWN;
    snprintf(out->message, sizeof(out->message), "%s", ca_err_get()->message);
  }
  OPENSSL_free(owned);
}

static void check_trust_der(api_revcheck *rc, const char *trust_store,
                            const uint8_t *der, size_t der_len,
                            const ca_trust_cert *batch, size_t batch_n,
                            ca_revcheck_result *out) {
  const int idx = store_index(trust_store);
  const issuer_places at = {.batch = batch,
                            .batch_n = batch_n,
                            .stores = {trust_store},
                            .n_stores = 1};
  check_der(rc, &at, idx >= 0 ? rc->config.responder[idx] : NULL, der, der_len,
            out);
}

void api_revcheck_check(api_revcheck *rc, const char *trust_store,
                        const ca_trust_cert *cert, const ca_trust_cert *batch,
                        size_t batch_n, ca_revcheck_result *out) {
  check_trust_der(rc, trust_store, cert->der, cert->der_len, batch, batch_n,
                  out);
}

void api_revcheck_check_identity(api_revcheck *rc, const char *purpose,
                                 const uint8_t *der, size_t der_len,
                                 const uint8_t *chain, size_t chain_len,
                                 ca_revcheck_result *out) {
  issuer_places at = {.chain = chain, .chain_len = chain_len};
  at.n_stores = ca_trust_purpose_stores(purpose, at.stores);
  // The certificate's own AIA: a store's --revcheck-responder answers for
  // the store's entries, not for what their CAs issued.
  check_der(rc, &at, NULL, der, der_len, out);
}

int api_revcheck_record(api_revcheck *rc,
                        const uint8_t fp[CA_TRUST_FINGERPRINT_LEN],
                        const ca_revcheck_result *result) {
  return record(rc, fp, result, (int64_t)time(NULL));
}

int api_revcheck_admit(const api_revcheck *rc, const char *trust_store,
                       const char *subject, const ca_revcheck_result *r,
                       char *warning, size_t warning_len) {
  warning[0] = '\0';
  if (r->status == CA_REV_GOOD || r->status == CA_REV_ANCHOR) {
    return 1;
  }
  const int idx = store_index(trust_store);
  const api_revcheck_policy policy =
      idx >= 0 ? rc->config.policy[idx] : API_REVCHECK_REFUSE;
  const int revoked = r->status == CA_REV_REVOKED;
  if (policy == API_REVCHECK_WARN ||
      (policy == API_REVCHECK_WARN_UNDETERMINED && !revoked)) {
    snprintf(warning, warning_len, "revocation status %s%s%s",
             ca_revstatus_name(r->status), r->message[0] != '\0' ? ": " : "",
             r->message);
    return 1;
  }
  if (revoked) {
    CA_SET_ERROR(CA_ERR_TRUST_CERT_REVOKED,
                 "%.120s is revoked (%s %.200s); %s refuses it", subject,
                 r->source, r->url, trust_store);
  } else if (r->status == CA_REV_UNREACHABLE) {
    CA_SET_ERROR(CA_ERR_REVOCATION_UNREACHABLE,
                 "the revocation status of %.120s cannot be fetched: %.300s",
                 subject, r->message);
  } else {
    CA_SET_ERROR(CA_ERR_REVOCATION_UNKNOWN,
                 "the revocation status of %.120s is unknown: %.300s", subject,
                 r->message);
  }
  return 0;
}

// --- The background thread ---

static void check_round(api_revcheck *rc) {
  for (;;) {
    ca_revcheck_due *due = NULL;
    size_t n = 0;
    if (!ca_store_revcheck_claim(rc->store, (int64_t)time(NULL),
                                 REVCHECK_LEASE_S, REVCHECK_BATCH, &due, &n)) {
      api_log(API_LOG_WARN, "revocation checks: %s", ca_err_get()->message);
      return;
    }
    for (size_t i = 0; i < n; i++) {
      ca_revcheck_result r;
      const int identity = due[i].store[0] == '\0';
      if (identity) {
        api_revcheck_check_identity(rc, due[i].purpose, due[i].der,
                                    due[i].der_len, due[i].chain,
                                    due[i].chain_len, &r);
      } else {
        check_trust_der(rc, due[i].store, due[i].der, due[i].der_len, NULL, 0,
                        &r);
      }
      if (!record(rc, due[i].fingerprint, &r, (int64_t)time(NULL))) {
        api_log(API_LOG_WARN, "revocation checks: %s", ca_err_get()->message);
      }
      if (r.status == CA_REV_REVOKED) {
        char fp[CA_TRUST_FINGERPRINT_HEX_LEN];
        ca_trust_fingerprint_hex(due[i].fingerprint, fp);
        api_log(API_LOG_WARN,
                "revocation checks: the %s %s of %s is revoked (%s %s)",
                identity ? "registered identity" : "trusted certificate", fp,
                identity ? due[i].purpose : due[i].store, r.source, r.url);
      }
    }
    ca_revcheck_due_free(due, n);
    pthread_mutex_lock(&rc->mu);
    const int stopping = rc->stopping;
    pthread_mutex_unlock(&rc->mu);
    if (n < REVCHECK_BATCH || stopping) {
      return;
    }
  }
}

// The thread wakes every minute (or at the interval, when shorter) to
// claim what is due: the due times live in the database, so a node that
// restarts, or another node, picks up where this one left.
static void *run(void *arg) {
  api_revcheck *rc = arg;
  const unsigned wake_s =
      rc->config.interval_s < 60 ? rc->config.interval_s : 60;
  pthread_mutex_lock(&rc->mu);
  while (!rc->stopping) {
    pthread_mutex_unlock(&rc->mu);
    check_round(rc);
    pthread_mutex_lock(&rc->mu);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += wake_s;
    while (!rc->stopping &&
           pthread_cond_timedwait(&rc->cv, &rc->mu, &until) != ETIMEDOUT) {
    }
  }
  pthread_mutex_unlock(&rc->mu);
  return NULL;
}

api_revcheck *api_revcheck_new(ca_store *store, const ca_authority *authority,
                               const api_revcheck_config *config) {
  api_revcheck *rc = calloc(1, sizeof(*rc));
  if (rc == NULL) {
    return NULL;
  }
  rc->store = store;
  rc->authority = authority;
  rc->config = *config;
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&rc->cv, &attr);
  pthread_condattr_destroy(&attr);
  pthread_mutex_init(&rc->mu, NULL);
  return rc;
}

int api_revcheck_start(api_revcheck *rc) {
  if (rc->config.interval_s == 0) {
    return 1;
  }
  CA_ENSURE_RETURN(pthread_create(&rc->thread, NULL, run, rc) == 0,
                   CA_ERR_INTERNAL, "cannot start the revocation checks");
  rc->started = 1;
  return 1;
}

void api_revcheck_free(api_revcheck *rc) {
  if (rc == NULL) {
    return;
  }
  pthread_mutex_lock(&rc->mu);
  rc->stopping = 1;
  pthread_cond_broadcast(&rc->cv);
  pthread_mutex_unlock(&rc->mu);
  if (rc->started) {
    pthread_join(rc->thread, NULL);
  }
  pthread_cond_destroy(&rc->cv);
  pthread_mutex_destroy(&rc->mu);
  free(rc);
}

// --- /metrics ---

// add_samples appends the samples of one usage ("trust" or "external").
static int add_samples(CBB *cbb, const char *usage, const char *const *names,
                       const int64_t *counts, int64_t unchecked) {
  for (int i = 0; i < CA_REVSTATUS_COUNT; i++) {
    if (!api_cbb_printf(
            cbb,
            "pki_trust_revocation_status{usage=\"%s\",status=\"%s\"} %lld\n",
            usage, names[i], (long long)counts[i])) {
      return 0;
    }
  }
  return api_cbb_printf(
      cbb,
      "pki_trust_revocation_status{usage=\"%s\",status=\"unchecked\"} %lld\n",
      usage, (long long)unchecked);
}

int api_revcheck_add_metrics(ca_store *store, CBB *cbb) {
  const char *names[CA_REVSTATUS_COUNT];
  int64_t trust[CA_REVSTATUS_COUNT], external[CA_REVSTATUS_COUNT];
  int64_t trust_unchecked, external_unchecked;
  for (int i = 0; i < CA_REVSTATUS_COUNT; i++) {
    names[i] = ca_revstatus_name((ca_revstatus)i);
  }
  if (!ca_store_revcheck_counts(store, 0, names, CA_REVSTATUS_COUNT, trust,
                                &trust_unchecked) ||
      !ca_store_revcheck_counts(store, 1, names, CA_REVSTATUS_COUNT, external,
                                &external_unchecked)) {
    return 1;  // the database does not answer: left out
  }
  // One family, one group: trust-store certificates and registered
  // identities told apart by their usage, as in find.
  return api_cbb_printf(cbb,
                        "# HELP pki_trust_revocation_status Trust-store "
                        "certificates (usage trust) and registered "
                        "identities (usage external) by revocation status.\n"
                        "# TYPE pki_trust_revocation_status gauge\n") &&
         add_samples(cbb, "trust", names, trust, trust_unchecked) &&
         add_samples(cbb, "external", names, external, external_unchecked);
}
