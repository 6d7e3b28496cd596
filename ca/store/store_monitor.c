// The expiry monitor's queries (ca/store/store_monitor.h).
#include "ca/store/store_monitor.h"

#include <inttypes.h>
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/limits.h"
#include "ca/store/store_internal.h"
#include "ca/x509/asn1_time.h"

// Certificate T is good: no row in revocations (migration 0018). Revoked
// certificates never count as expiring, nor as renewals.
#define NOT_REVOKED(T)                                             \
  "NOT EXISTS (SELECT 1 FROM revocations v WHERE v.issuer_id = " T \
  ".issuer_id AND v.serial = " T ".serial)"

// The certificates that count, with notAfter in ($1, $2]: identity
// certificates, then trust-store entries. Both use their not_after index;
// the renewal test probes certificates_renewal_idx (migrations 0010, 0019) once
// per certificate.
#define IDENTITY_SQL \
  "SELECT 'identity' AS kind, c.id, c.serial, coalesce(i.name, '') AS iss,"   \
  " c.profile, '' AS store, c.common_name, c.subject,"                        \
  " extract(epoch FROM c.not_after)::bigint AS na,"                           \
  " coalesce(c.cluster, '') AS cluster, 0::bigint AS rev"                     \
  " FROM certificates c LEFT JOIN issuers i ON i.id = c.issuer_id"            \
  " WHERE " NOT_REVOKED("c") " AND c.not_after > $1::timestamptz"           \
  " AND c.not_after <= $2::timestamptz AND c.profile <> 'ocsp-responder'"     \
  " AND NOT EXISTS (SELECT 1 FROM certificates r WHERE r.replaces_id = c.id)" \
  " AND NOT EXISTS (SELECT 1 FROM certificates n"                             \
  "  WHERE lower(n.common_name) = lower(c.common_name)"                       \
  "  AND n.profile = c.profile AND " NOT_REVOKED("n")                        \
  "  AND n.not_after > c.not_after)"
// A trust entry pki's own revocation check found revoked (revocation_checks,
// migration 0015) is reported whatever its notAfter, once per window, as
// revoked rather than expiring; rev is its revocation time.
// A registered identity found revoked likewise (REVOKED_CHECK_OF(x)).
#define REVOKED_CHECK_OF(alias)                                      \
  "(SELECT extract(epoch FROM coalesce(k.revoked_at, k.checked_at))" \
  "::bigint FROM revocation_checks k WHERE k.fingerprint = " alias   \
  ".fingerprint AND k.status = 'revoked')"
#define REVOKED_CHECK_SQL REVOKED_CHECK_OF("t")
#define TRUST_SQL                                                         \
  "SELECT 'trust', t.id, t.serial, t.issuer, '', t.store, t.common_name," \
  " t.subject, extract(epoch FROM t.not_after)::bigint,"                  \
  " coalesce(t.cluster, ''), 0::bigint"                                   \
  " FROM trust_entries t WHERE t.revoked_at IS NULL"                      \
  " AND t.not_after > $1::timestamptz AND t.not_after <= $2::timestamptz" \
  " AND " REVOKED_CHECK_SQL " IS NULL"
#define REVOKED_TRUST_SQL                                                 \
  "SELECT 'trust', t.id, t.serial, t.issuer, '', t.store, t.common_name," \
  " t.subject, extract(epoch FROM t.not_after)::bigint,"                  \
  " coalesce(t.cluster, ''), " REVOKED_CHECK_SQL                          \
  " FROM trust_entries t WHERE t.revoked_at IS NULL"                      \
  " AND " REVOKED_CHECK_SQL " IS NOT NULL"
// Registered identities (pki did not issue them), unless pki issued the
// node a good certificate of the same purpose after it (a later notBefore):
// the node moved to pki, and the registration is history.
#define EXTERNAL_SUPERSEDED_SQL                                     \
  " AND NOT EXISTS (SELECT 1 FROM certificates n"                   \
  "  WHERE lower(n.common_name) = x.node AND n.profile = x.purpose" \
  "  AND " NOT_REVOKED("n") " AND n.not_before > x.not_before)"
#define EXTERNAL_SQL                                                        \
  "SELECT 'external', x.id, x.serial, x.issuer, x.purpose, '',"             \
  " x.common_name, x.subject, extract(epoch FROM x.not_after)::bigint,"     \
  " x.cluster, 0::bigint FROM identities x"                                 \
  " WHERE x.not_after > $1::timestamptz AND x.not_after <= $2::timestamptz" \
  " AND " REVOKED_CHECK_OF("x") " IS NULL" EXTERNAL_SUPERSEDED_SQL
// A registered identity found revoked: reported whatever its notAfter, as
// a revoked trust entry is, unless the node moved to pki.
#define REVOKED_EXTERNAL_SQL \
  "SELECT 'external', x.id, x.serial, x.issuer, x.purpose, '',"         \
  " x.common_name, x.subject, extract(epoch FROM x.not_after)::bigint," \
  " x.cluster, " REVOKED_CHECK_OF("x") " FROM identities x"             \
  " WHERE " REVOKED_CHECK_OF("x") " IS NOT NULL" EXTERNAL_SUPERSEDED_SQL
#define SELECTION_SQL \
  IDENTITY_SQL " UNION ALL " TRUST_SQL " UNION ALL " EXTERNAL_SQL

// The first $3 of the selection by notAfter. Each half is ordered and
// limited on its own, so that it walks its not_after index and stops after
// $3 rows: with millions of certificates, tens of thousands may be due, and
// the renewal test is then paid for the rows returned only, not for every
// row of the window.
// Revoked trust entries and identities come first: they matter most, and
// are few.
#define FIRST_DUE_SQL                              \
  "SELECT * FROM ((" IDENTITY_SQL                  \
  " ORDER BY c.not_after, c.id LIMIT $3::integer)" \
  " UNION ALL (" TRUST_SQL                         \
  " ORDER BY t.not_after, t.id LIMIT $3::integer)" \
  " UNION ALL (" REVOKED_TRUST_SQL                 \
  " ORDER BY t.id LIMIT $3::integer)"              \
  " UNION ALL (" EXTERNAL_SQL                      \
  " ORDER BY x.not_after, x.id LIMIT $3::integer)" \
  " UNION ALL (" REVOKED_EXTERNAL_SQL              \
  " ORDER BY x.id LIMIT $3::integer)) x"           \
  " ORDER BY rev = 0, na, kind, id LIMIT $3::integer"

const char *ca_expiring_kind(const ca_expiring *row) {
  return row->external ? "external" : row->trust ? "trust" : "identity";
}

void ca_expiring_free(ca_expiring *rows, size_t n) {
  if (rows == NULL) {
    return;
  }
  for (size_t i = 0; i < n; i++) {
    OPENSSL_free(rows[i].serial);
    OPENSSL_free(rows[i].issuer);
    OPENSSL_free(rows[i].profile);
    OPENSSL_free(rows[i].store);
    OPENSSL_free(rows[i].common_name);
    OPENSSL_free(rows[i].subject);
    OPENSSL_free(rows[i].cluster);
  }
  free(rows);
}

// bounds formats the selection's ($1, $2]: from the oldest expired
// certificate still reported to |now| + |within_s|.
static int bounds(int64_t now, int64_t within_s, char lower[21],
                  char upper[21]) {
  CA_ENSURE(within_s >= 0 && within_s <= 10 * 366 * 86400LL,
            CA_ERR_PARAMETER_INVALID, "window out of range");
  CA_ENSURE(
      ca_time_format(now - CA_LIMIT_MONITOR_EXPIRED_DAYS * 86400LL, lower) &&
          ca_time_format(now + within_s, upper),
      CA_ERR_PARAMETER_INVALID, "time out of range");
  return 1;
err:
  return 0;
}

static int decode_expiring(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_expiring *r = elem;
  r->trust = strcmp(PQgetvalue(res, i, 0), "trust") == 0;
  r->external = strcmp(PQgetvalue(res, i, 0), "external") == 0;
  r->id = ca_store_get_int(res, i, 1);
  r->not_after = ca_store_get_int(res, i, 8);
  r->revoked_at = ca_store_get_int(res, i, 10);
  CA_ENSURE_RETURN(ca_store_get_text(res, i, 2, &r->serial) &&
                       ca_store_get_text(res, i, 3, &r->issuer) &&
                       ca_store_get_text(res, i, 4, &r->profile) &&
                       ca_store_get_text(res, i, 5, &r->store) &&
                       ca_store_get_text(res, i, 6, &r->common_name) &&
                       ca_store_get_text(res, i, 7, &r->subject) &&
                       ca_store_get_text(res, i, 9, &r->cluster),
                   CA_ERR_NO_MEMORY, "out of memory");
  return 1;
}

static void free_expiring(void *rows, size_t n) {
  ca_expiring_free(rows, n);
}

static const ca_store_row_type kExpiringRows = {sizeof(ca_expiring),
                                                decode_expiring, free_expiring};

int ca_store_monitor_expiring(ca_store *store, int64_t now, int64_t within_s,
                              ca_expiring **out, size_t *out_n) {
  char lower[21], upper[21], limit[16];
  CA_GUARD_RETURN(bounds(now, within_s, lower, upper));
  snprintf(limit, sizeof(limit), "%d", CA_LIMIT_MONITOR_ROWS);
  const char *values[3] = {lower, upper, limit};
  const ca_store_stmt stmt = {.sql = FIRST_DUE_SQL,
                              .n_params = 3,
                              .values = values,
                              .what = "reading expiring certificates"};
  ca_store_rows rows;
  CA_GUARD_RETURN(
      ca_store_read_rows(store, &stmt, &kExpiringRows, NULL, 0, &rows));
  *out = rows.rows;
  *out_n = rows.n;
  return 1;
}

static int decode_counts(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_expiry_counts *out = elem;
  out->within_1d = (uint64_t)ca_store_get_int(res, i, 0);
  out->within_7d = (uint64_t)ca_store_get_int(res, i, 1);
  out->within_30d = (uint64_t)ca_store_get_int(res, i, 2);
  out->expired = (uint64_t)ca_store_get_int(res, i, 3);
  out->external_within_1d = (uint64_t)ca_store_get_int(res, i, 4);
  out->external_within_7d = (uint64_t)ca_store_get_int(res, i, 5);
  out->external_within_30d = (uint64_t)ca_store_get_int(res, i, 6);
  out->external_expired = (uint64_t)ca_store_get_int(res, i, 7);
  return 1;
}

// The four counts over the rows where COND holds.
#define COUNTS_SQL(COND)                                              \
  "count(*) FILTER (WHERE " COND                                      \
  " AND na > extract(epoch FROM"                                      \
  " $3::timestamptz) AND na <= extract(epoch FROM $4::timestamptz))," \
  " count(*) FILTER (WHERE " COND                                     \
  " AND na > extract(epoch FROM"                                      \
  " $3::timestamptz) AND na <= extract(epoch FROM $5::timestamptz))," \
  " count(*) FILTER (WHERE " COND                                     \
  " AND na > extract(epoch FROM"                                      \
  " $3::timestamptz)),"                                               \
  " count(*) FILTER (WHERE " COND                                     \
  " AND na <= extract(epoch FROM"                                     \
  " $3::timestamptz))"

int ca_store_monitor_counts(ca_store *store, int64_t now,
                            ca_expiry_counts *out) {
  char lower[21], upper[21], now_text[21], d1[21], d7[21];
  memset(out, 0, sizeof(*out));
  if (!bounds(now, 30 * 86400LL, lower, upper) ||
      !ca_time_format(now, now_text) || !ca_time_format(now + 86400, d1) ||
      !ca_time_format(now + 7 * 86400, d7)) {
    return 0;
  }
  const char *values[5] = {lower, upper, now_text, d1, d7};
  const ca_store_stmt stmt = {
      .sql = "SELECT " COUNTS_SQL("true") ", " COUNTS_SQL(
          "kind = 'external'") " FROM (" SELECTION_SQL ") x",
      .n_params = 5,
      .values = values,
      .what = "counting expiring certificates"};
  // An aggregate without GROUP BY always returns its one row.
  int found;
  return ca_store_read_one(store, &stmt, decode_counts, out, NULL, &found);
}

// add_arrays writes the kinds and ids of |rows| as two PostgreSQL array
// literals, NUL-terminated. Only fixed
// words and digits go in: nothing to escape.
static int add_arrays(const ca_expiring *rows, size_t n, CBB *kinds, CBB *ids) {
  int first = 1;
  if (!CBB_add_u8(kinds, '{') || !CBB_add_u8(ids, '{')) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    char id[24];
    const int len =
        snprintf(id, sizeof(id), "%s%" PRId64, first ? "" : ",", rows[i].id);
    const char *kind = ca_expiring_kind(&rows[i]);
    if ((!first && !CBB_add_u8(kinds, ',')) ||
        !CBB_add_bytes(kinds, (const uint8_t *)kind, strlen(kind)) ||
        !CBB_add_bytes(ids, (const uint8_t *)id, (size_t)len)) {
      return 0;
    }
    first = 0;
  }
  return CBB_add_u8(kinds, '}') && CBB_add_u8(kinds, 0) &&
         CBB_add_u8(ids, '}') && CBB_add_u8(ids, 0);
}

// A row of a claim, keyed as the claim's answer names it.
typedef struct keyed {
  const char *kind;
  int64_t id;
  size_t index;
} keyed;

static int keyed_cmp(const void *a, const void *b) {
  const keyed *x = a, *y = b;
  const int k = strcmp(x->kind, y->kind);
  if (k != 0) {
    return k;
  }
  return (x->id > y->id) - (x->id < y->id);
}

// mark_claimed sets |out_claimed|[i] for each row of |res| (kind, cert_id),
// found in |keys| (sorted by keyed_cmp): a sort and a binary search per
// row, since a check may claim tens of thousands of notices at once.
static void mark_claimed(PGresult *res, const keyed *keys, size_t n,
                         uint8_t *out_claimed) {
  const int got = PQntuples(res);
  for (int r = 0; r < got; r++) {
    const keyed want = {PQgetvalue(res, r, 0), ca_store_get_int(res, r, 1), 0};
    const keyed *hit = bsearch(&want, keys, n, sizeof(keys[0]), keyed_cmp);
    if (hit != NULL) {
      out_claimed[hit->index] = 1;
    }
  }
}

int ca_store_monitor_claim(ca_store *store, const ca_expiring *rows, size_t n,
                           uint64_t window, const char *destination,
                           const char *node, uint8_t *out_claimed,
                           int64_t *out_claim) {
  PGresult *res = NULL;
  keyed *keys = NULL;
  CBB kinds, ids;
  CBB_zero(&kinds);
  CBB_zero(&ids);
  memset(out_claimed, 0, n);
  *out_claim = 0;
  if (n == 0) {
    return 1;
  }
  char window_text[24];
  snprintf(window_text, sizeof(window_text), "%" PRIu64, window);
  keys = calloc(n, sizeof(keys[0]));
  CA_ENSURE(keys != NULL && CBB_init(&kinds, n * 10 + 4) &&
                CBB_init(&ids, n * 12 + 4) && add_arrays(rows, n, &kinds, &ids),
            CA_ERR_NO_MEMORY, "out of memory");
  for (size_t i = 0; i < n; i++) {
    keys[i] = (keyed){ca_expiring_kind(&rows[i]), rows[i].id, i};
  }
  qsort(keys, n, sizeof(keys[0]), keyed_cmp);
  const char *values[5] = {(const char *)CBB_data(&kinds),
                           (const char *)CBB_data(&ids), window_text,
                           destination, node};
  // The claim is named by its transaction's id (migration 0024), unique
  // in the cluster and never reused: ca_store_monitor_finish records the
  // outcome of exactly these notices, and a later claim taking one over
  // renames it.
  res = ca_store_query(
      store,
      "INSERT INTO monitor_notices"
      " (kind, cert_id, window_no, destination, state, node, claim)"
      " SELECT k, i, $3::bigint, $4, 'sending', $5,"
      " pg_current_xact_id()::text::bigint"
      " FROM unnest($1::text[], $2::bigint[]) AS t(k, i)"
      " ON CONFLICT (kind, cert_id, window_no, destination) DO UPDATE"
      " SET state = 'sending', node = excluded.node,"
      " claimed_at = now(), error = NULL, claim = excluded.claim"
      " WHERE monitor_notices.state = 'failed'"
      " OR (monitor_notices.state = 'sending'"
      " AND monitor_notices.claimed_at < now() - interval '10 minutes')"
      " RETURNING kind, cert_id, claim",
      5, values, PGRES_TUPLES_OK, "claiming notices");
  CA_GUARD(res != NULL);
  mark_claimed(res, keys, n, out_claimed);
  if (PQntuples(res) > 0) {
    *out_claim = ca_store_get_int(res, 0, 2);
  }
  PQclear(res);
  free(keys);
  CBB_cleanup(&kinds);
  CBB_cleanup(&ids);
  return 1;
err:
  PQclear(res);
  free(keys);
  CBB_cleanup(&kinds);
  CBB_cleanup(&ids);
  return 0;
}

int ca_store_monitor_finish(ca_store *store, int64_t claim, int sent,
                            const char *error) {
  char claim_text[24];
  snprintf(claim_text, sizeof(claim_text), "%" PRId64, claim);
  const char *values[3] = {claim_text, sent ? "sent" : "failed",
                           sent ? NULL : error};
  // Only the notices still under this claim: one taken over by another
  // node (ten minutes later) is that node's to record.
  PGresult *res = ca_store_query(
      store,
      "UPDATE monitor_notices SET state = $2,"
      " sent_at = CASE WHEN $2 = 'sent' THEN now() END, error = $3"
      " WHERE claim = $1::bigint AND state = 'sending'",
      3, values, PGRES_COMMAND_OK, "recording notices");
  PQclear(res);
  return res != NULL;
}

int ca_store_monitor_prune(ca_store *store) {
  char days[16];
  snprintf(days, sizeof(days), "%d", CA_LIMIT_MONITOR_NOTICE_DAYS);
  const char *values[1] = {days};
  PGresult *res =
      ca_store_query(store,
                     "DELETE FROM monitor_notices WHERE claimed_at <"
                     " now() - make_interval(days => $1::integer)",
                     1, values, PGRES_COMMAND_OK, "pruning notices");
  PQclear(res);
  return res != NULL;
}

static int decode_config(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_monitor_config *out = elem;
  out->enabled = ca_store_get_bool(res, i, 0);
  out->start_days = (uint32_t)ca_store_get_int(res, i, 1);
  out->frequency_s = (uint32_t)ca_store_get_int(res, i, 2);
  out->smtp_port = (uint32_t)ca_store_get_int(res, i, 4);
  out->updated_at = ca_store_get_int(res, i, 6);
  CA_ENSURE_RETURN(ca_store_get_text(res, i, 3, &out->smtp_host) &&
                       ca_store_get_text(res, i, 5, &out->smtp_from) &&
                       ca_store_get_text(res, i, 7, &out->updated_by),
                   CA_ERR_NO_MEMORY, "out of memory");
  return 1;
}

// add_destination appends the destination of row |i| to |out|'s list of
// its kind.
static int add_destination(PGresult *res, int i, ca_monitor_config *out) {
  const int email = strcmp(PQgetvalue(res, i, 0), "email") == 0;
  size_t *count = email ? &out->n_emails : &out->n_webhooks;
  char **list = email ? out->emails : out->webhooks;
  // The API never stores more; a hand-edited table is cut, not overrun.
  if (*count == CA_LIMIT_MONITOR_DESTINATIONS) {
    return 1;
  }
  CA_ENSURE_RETURN(ca_store_get_text(res, i, 1, &list[*count]),
                   CA_ERR_NO_MEMORY, "out of memory");
  if (!email) {
    out->webhook_allow_private[*count] = ca_store_get_bool(res, i, 2);
  }
  (*count)++;
  return 1;
}

int ca_store_monitor_get_config(ca_store *store, ca_monitor_config *out) {
  int ret = 0, found;
  PGresult *res = NULL;
  memset(out, 0, sizeof(*out));
  const ca_store_stmt stmt = {
      .sql =
          "SELECT enabled, start_days, frequency_seconds, smtp_host,"
          " smtp_port, smtp_from, extract(epoch FROM updated_at)::bigint,"
          " updated_by FROM monitor_config WHERE id = 1",
      .what = "reading the monitor configuration"};
  CA_GUARD(ca_store_read_one(store, &stmt, decode_config, out, NULL, &found));
  CA_ENSURE(found, CA_ERR_STORAGE_UNAVAILABLE,
            "the monitor configuration row is missing");
  res = ca_store_query(store,
                       "SELECT kind, address, allow_private"
                       " FROM monitor_destinations ORDER BY kind, position",
                       0, NULL, PGRES_TUPLES_OK,
                       "reading the monitor destinations");
  CA_GUARD_PTR(res);
  for (int i = 0; i < PQntuples(res); i++) {
    CA_GUARD(add_destination(res, i, out));
  }
  ret = 1;
err:
  PQclear(res);
  if (!ret) {
    ca_monitor_config_cleanup(out);
  }
  return ret;
}

// add_destinations stores |n| destinations of |kind|; |allow_private|
// (NULL for e-mail addresses) holds each one's opt-in.
static int add_destinations(ca_store_tx *tx, const char *kind,
                            char *const *list, const uint8_t *allow_private,
                            size_t n) {
  for (size_t i = 0; i < n; i++) {
    char position[16];
    snprintf(position, sizeof(position), "%zu", i);
    const char *values[4] = {
        kind, list[i], position,
        allow_private != NULL && allow_private[i] ? "true" : "false"};
    if (!ca_store_tx_command(tx,
                             "INSERT INTO monitor_destinations"
                             " (kind, address, position, allow_private)"
                             " VALUES ($1, $2, $3::integer, $4::boolean)",
                             4, values, PGRES_COMMAND_OK,
                             "storing a monitor destination")) {
      return 0;
    }
  }
  return 1;
}

int ca_store_monitor_put_config(ca_store *store,
                                const ca_monitor_config *config,
                                const char *actor, const char *source) {
  ca_store_tx *tx = NULL;
  char start[16], frequency[16], port[16], detail[160];
  snprintf(start, sizeof(start), "%u", (unsigned)config->start_days);
  snprintf(frequency, sizeof(frequency), "%u", (unsigned)config->frequency_s);
  snprintf(port, sizeof(port), "%u", (unsigned)config->smtp_port);
  // Counts only: a webhook URL may hold a secret.
  char webhooks[24];
  if (config->keep_webhooks) {
    snprintf(webhooks, sizeof(webhooks), "kept");
  } else {
    snprintf(webhooks, sizeof(webhooks), "%zu", config->n_webhooks);
  }
  snprintf(detail, sizeof(detail),
           "enabled=%d start_days=%s frequency_s=%s emails=%zu webhooks=%s",
           config->enabled, start, frequency, config->n_emails, webhooks);
  const char *values[7] = {config->enabled ? "true" : "false",
                           start,
                           frequency,
                           config->smtp_host,
                           port,
                           config->smtp_from,
                           actor};
  CA_GUARD(ca_store_begin(store, &tx));
  CA_GUARD(ca_store_tx_command(
      tx,
      "UPDATE monitor_config SET enabled = $1::boolean,"
      " start_days = $2::integer,"
      " frequency_seconds = $3::integer, smtp_host = $4,"
      " smtp_port = $5::integer, smtp_from = $6,"
      " updated_at = now(), updated_by = $7 WHERE id = 1",
      7, values, PGRES_COMMAND_OK, "storing the monitor configuration"));
  // Kept webhooks stay as stored: their whole URLs are known only here.
  CA_GUARD(ca_store_tx_command(
      tx,
      config->keep_webhooks ? "DELETE FROM monitor_destinations"
                              " WHERE kind = 'email'"
                            : "DELETE FROM monitor_destinations",
      0, NULL, PGRES_COMMAND_OK, "replacing the monitor destinations"));
  CA_GUARD(
      add_destinations(tx, "email", config->emails, NULL, config->n_emails));
  if (!config->keep_webhooks) {
    CA_GUARD(add_destinations(tx, "webhook", config->webhooks,
                              config->webhook_allow_private,
                              config->n_webhooks));
  }
  CA_GUARD(ca_store_tx_audit(tx, actor, "monitor.set", "monitor", source, "ok",
                             detail));
  return ca_store_commit(&tx);
err:
  ca_store_rollback(tx);
  return 0;
}
