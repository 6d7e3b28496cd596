#include "api/server/metrics.h"

#include <inttypes.h>
#include <openssl/bytestring.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/server/formats.h"
#include "ca/limits.h"

void api_metrics_refused(api_metrics *m, ca_err_code code) {
  if ((unsigned)code < CA_ERR_COUNT) {
    atomic_fetch_add(&m->refused[code], 1);
  }
}

static int add_line(CBB *cbb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int add_line(CBB *cbb, const char *fmt, ...) {
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  return n > 0 && (size_t)n < sizeof(line) &&
         CBB_add_bytes(cbb, (const uint8_t *)line, (size_t)n);
}

static int add_engine(CBB *cbb, const ca_engine_stats *e) {
  return add_line(cbb,
                  "# HELP pki_queue_items Certificates waiting for a signing "
                  "worker.\n# TYPE pki_queue_items gauge\n"
                  "pki_queue_items %" PRIu64 "\n",
                  e->queued_items) &&
         add_line(cbb,
                  "# HELP pki_commit_groups_total Transactions that recorded "
                  "certificates (group commit).\n# TYPE "
                  "pki_commit_groups_total counter\n"
                  "pki_commit_groups_total %" PRIu64 "\n",
                  e->groups_committed) &&
         add_line(cbb,
                  "# HELP pki_committed_certificates_total Certificates "
                  "recorded.\n# TYPE pki_committed_certificates_total "
                  "counter\npki_committed_certificates_total %" PRIu64 "\n",
                  e->rows_committed) &&
         add_line(cbb,
                  "# HELP pki_commit_failures_total Transactions that "
                  "failed.\n# TYPE pki_commit_failures_total counter\n"
                  "pki_commit_failures_total %" PRIu64 "\n",
                  e->groups_failed) &&
         add_line(cbb,
                  "# HELP pki_serial_collisions_total Serials drawn again.\n"
                  "# TYPE pki_serial_collisions_total counter\n"
                  "pki_serial_collisions_total %" PRIu64 "\n",
                  e->serial_collisions);
}

static int add_keypool(CBB *cbb, const ca_keypool_stats *k) {
  int ok = add_line(cbb,
                    "# HELP pki_keypool_ready Pre-generated keys ready, by "
                    "kind.\n# TYPE pki_keypool_ready gauge\n");
  for (int i = 0; ok && i < CA_KEYPOOL_KINDS; i++) {
    ok = add_line(cbb, "pki_keypool_ready{kind=\"%s\"} %zu\n",
                  ca_keypool_kind_name((ca_keypool_kind)i), k->ready[i]);
  }
  return ok &&
         add_line(cbb,
                  "# HELP pki_keys_generated_total Keys handed out for "
                  "POST /v1/keys:generate, by source.\n# TYPE "
                  "pki_keys_generated_total counter\n"
                  "pki_keys_generated_total{source=\"pool\"} %" PRIu64
                  "\n"
                  "pki_keys_generated_total{source=\"on_demand\"} %" PRIu64
                  "\n",
                  k->from_pool, k->on_demand);
}

int api_metrics_render(api_metrics *m, const ca_engine_stats *engine,
                       const ca_keypool_stats *keypool, int database_up,
                       uint8_t **out, size_t *out_len) {
  CBB cbb;
  if (!CBB_init(&cbb, 4096)) {
    return 0;
  }
  int ok =
      add_line(&cbb,
               "# HELP pki_certificates_issued_total Certificates issued and "
               "recorded.\n# TYPE pki_certificates_issued_total counter\n"
               "pki_certificates_issued_total %" PRIuFAST64 "\n",
               atomic_load(&m->issued)) &&
      add_line(&cbb,
               "# HELP pki_issue_requests_total Issuance requests (single "
               "or batch) processed.\n# TYPE pki_issue_requests_total "
               "counter\npki_issue_requests_total %" PRIuFAST64 "\n",
               atomic_load(&m->batches)) &&
      add_line(&cbb,
               "# HELP pki_storage_failures_total Requests answered with an "
               "error because the database failed.\n# TYPE "
               "pki_storage_failures_total counter\n"
               "pki_storage_failures_total %" PRIuFAST64 "\n",
               atomic_load(&m->storage_failures)) &&
      add_line(&cbb,
               "# HELP pki_database_up Whether the database answered the "
               "last check.\n# TYPE pki_database_up gauge\n"
               "pki_database_up %d\n",
               database_up) &&
      add_line(&cbb,
               "# HELP pki_refusals_total Requests or items refused, by "
               "error code.\n# TYPE pki_refusals_total counter\n");
  // The samples of a family follow its # HELP and # TYPE lines with no
  // other family between (the text exposition format: parsers take a
  // family seen again as a second one, and refuse it).
  for (unsigned i = 1; ok && i < CA_ERR_COUNT; i++) {
    const uint_fast64_t v = atomic_load(&m->refused[i]);
    if (v > 0) {
      ok = add_line(&cbb, "pki_refusals_total{code=\"%s\"} %" PRIuFAST64 "\n",
                    ca_err_code_name((ca_err_code)i), v);
    }
  }
  if (ok && engine != NULL) {
    ok = add_engine(&cbb, engine);
  }
  if (ok && keypool != NULL) {
    ok = add_keypool(&cbb, keypool);
  }
  if (!ok || !CBB_finish(&cbb, out, out_len)) {
    CBB_cleanup(&cbb);
    return 0;
  }
  return 1;
}

int api_metrics_add_budgets(CBB *cbb, api_budget *api, api_budget *ocsp) {
  api_budget *const budgets[2] = {api, ocsp};
  static const char *const kListeners[2] = {"api", "ocsp"};
  int ok = add_line(cbb,
                    "# HELP pki_buffered_body_bytes Bytes reserved for request "
                    "bodies now, by listener.\n"
                    "# TYPE pki_buffered_body_bytes gauge\n");
  for (int i = 0; ok && i < 2; i++) {
    ok = add_line(cbb, "pki_buffered_body_bytes{listener=\"%s\"} %zu\n",
                  kListeners[i], api_budget_used(budgets[i]));
  }
  ok = ok && add_line(cbb,
                      "# HELP pki_buffered_body_bytes_max The most bytes "
                      "reserved at once since start, by listener.\n"
                      "# TYPE pki_buffered_body_bytes_max gauge\n");
  for (int i = 0; ok && i < 2; i++) {
    ok = add_line(cbb, "pki_buffered_body_bytes_max{listener=\"%s\"} %zu\n",
                  kListeners[i], api_budget_peak(budgets[i]));
  }
  ok = ok && add_line(cbb,
                      "# HELP pki_buffered_body_limit_bytes "
                      "--max-buffered-bytes, by listener.\n"
                      "# TYPE pki_buffered_body_limit_bytes gauge\n");
  for (int i = 0; ok && i < 2; i++) {
    ok = add_line(cbb, "pki_buffered_body_limit_bytes{listener=\"%s\"} %zu\n",
                  kListeners[i], budgets[i]->limit);
  }
  ok = ok && add_line(cbb,
                      "# HELP pki_buffered_body_refusals_total Requests "
                      "answered 503 BUFFERS_FULL, by listener.\n"
                      "# TYPE pki_buffered_body_refusals_total counter\n");
  for (int i = 0; ok && i < 2; i++) {
    ok = add_line(
        cbb, "pki_buffered_body_refusals_total{listener=\"%s\"} %" PRIu64 "\n",
        kListeners[i], api_budget_refused(budgets[i]));
  }
  return ok;
}

int api_metrics_add_ocsp(CBB *cbb, const ca_responder_stats *s) {
  // A miss answered from the shared store is not signed: signed answers
  // are the misses less those.
  return add_line(cbb,
                  "# HELP pki_ocsp_answers_total OCSP answers by source: "
                  "cache, shared (pre-signed, from the database), signed.\n"
                  "# TYPE pki_ocsp_answers_total counter\n") &&
         add_line(cbb, "pki_ocsp_answers_total{source=\"cache\"} %" PRIu64 "\n",
                  s->hits) &&
         add_line(cbb,
                  "pki_ocsp_answers_total{source=\"shared\"} %" PRIu64 "\n",
                  s->shared) &&
         add_line(cbb,
                  "pki_ocsp_answers_total{source=\"signed\"} %" PRIu64 "\n",
                  s->misses - s->shared + s->live) &&
         add_line(cbb,
                  "# HELP pki_ocsp_cached_answers Answers in this node's "
                  "cache.\n# TYPE pki_ocsp_cached_answers gauge\n"
                  "pki_ocsp_cached_answers %zu\n",
                  s->cached);
}

// add_label_value appends |v| as a label value: \, " and newline escaped
// (the text exposition format).
static int add_label_value(CBB *cbb, const char *v) {
  for (; *v != '\0'; v++) {
    const char *esc = *v == '\\' ? "\\\\" : *v == '"' ? "\\\"" : NULL;
    if (*v == '\n') {
      esc = "\\n";
    }
    if (!(esc != NULL ? CBB_add_bytes(cbb, (const uint8_t *)esc, 2)
                      : CBB_add_u8(cbb, (uint8_t)*v))) {
      return 0;
    }
  }
  return 1;
}

static int add_stats_count(CBB *cbb, const ca_stats_count *c) {
  static const char kPrefix[] = "pki_stats_certificates{kind=\"";
  return CBB_add_bytes(cbb, (const uint8_t *)kPrefix, sizeof(kPrefix) - 1) &&
         add_label_value(cbb, c->kind) && add_line(cbb, "\",issuer=\"") &&
         add_label_value(cbb, c->issuer) && add_line(cbb, "\",profile=\"") &&
         add_label_value(cbb, c->profile) && add_line(cbb, "\",status=\"") &&
         add_label_value(cbb, c->status) &&
         add_line(cbb, "\"} %" PRIu64 "\n", c->count);
}

// add_expiry writes the expiry monitor's four families, with the help
// texts they had when each scrape counted them.
static int add_expiry(CBB *cbb, const ca_expiry_counts *c) {
  return api_cbb_printf(
             cbb,
             "# HELP pki_certificates_expiring Good issued certificates, "
             "trust-store entries and registered identities expiring "
             "within the period, not expired yet.\n") &&
         add_line(cbb,
                  "# TYPE pki_certificates_expiring gauge\n"
                  "pki_certificates_expiring{within=\"1d\"} %" PRIu64
                  "\npki_certificates_expiring{within=\"7d\"} %" PRIu64
                  "\npki_certificates_expiring{within=\"30d\"} %" PRIu64 "\n",
                  c->within_1d, c->within_7d, c->within_30d) &&
         api_cbb_printf(
             cbb,
             "# HELP pki_certificates_expired Good issued certificates, "
             "trust-store entries and registered identities expired in the "
             "last %d days.\n",
             CA_LIMIT_MONITOR_EXPIRED_DAYS) &&
         add_line(cbb,
                  "# TYPE pki_certificates_expired gauge\n"
                  "pki_certificates_expired %" PRIu64 "\n",
                  c->expired) &&
         api_cbb_printf(
             cbb,
             "# HELP pki_external_certificates_expiring Registered "
             "identities (certificates pki did not issue) expiring within "
             "the period, not expired yet.\n") &&
         add_line(
             cbb,
             "# TYPE pki_external_certificates_expiring gauge\n"
             "pki_external_certificates_expiring{within=\"1d\"} %" PRIu64
             "\npki_external_certificates_expiring{within=\"7d\"} %" PRIu64
             "\npki_external_certificates_expiring{within=\"30d\"} %" PRIu64
             "\n",
             c->external_within_1d, c->external_within_7d,
             c->external_within_30d) &&
         api_cbb_printf(cbb,
                        "# HELP pki_external_certificates_expired Registered "
                        "identities expired in the last %d days.\n",
                        CA_LIMIT_MONITOR_EXPIRED_DAYS) &&
         add_line(cbb,
                  "# TYPE pki_external_certificates_expired gauge\n"
                  "pki_external_certificates_expired %" PRIu64 "\n",
                  c->external_expired);
}

int api_metrics_add_stats(CBB *cbb, const ca_stats *s) {
  int ok =
      api_cbb_printf(
          cbb,
          "# HELP pki_stats_computed Whether a statistics snapshot "
          "exists (GET /v1/stats); the gauges below come from it.\n") &&
      add_line(cbb, "# TYPE pki_stats_computed gauge\npki_stats_computed %d\n",
               s->computed);
  if (!ok || !s->computed) {
    return ok;
  }
  ok = add_expiry(cbb, &s->expiry) &&
       api_cbb_printf(cbb,
                      "# HELP pki_stats_age_seconds Seconds since the "
                      "statistics snapshot was computed.\n") &&
       add_line(cbb,
                "# TYPE pki_stats_age_seconds gauge\n"
                "pki_stats_age_seconds %" PRId64 "\n",
                s->age_s) &&
       api_cbb_printf(cbb,
                      "# HELP pki_stats_refresh_duration_seconds How long "
                      "the snapshot's computation took.\n") &&
       add_line(cbb,
                "# TYPE pki_stats_refresh_duration_seconds gauge\n"
                "pki_stats_refresh_duration_seconds %.3f\n",
                (double)s->duration_ms / 1000.0) &&
       api_cbb_printf(cbb,
                      "# HELP pki_stats_certificates Issued certificates "
                      "(kind issued, by CA; issuer \"\": self-signed) and "
                      "registered identities (kind external, by purpose) by "
                      "profile and status, as of the snapshot.\n") &&
       add_line(cbb, "# TYPE pki_stats_certificates gauge\n");
  for (size_t i = 0; ok && i < s->n_counts; i++) {
    ok = add_stats_count(cbb, &s->counts[i]);
  }
  return ok;
}
