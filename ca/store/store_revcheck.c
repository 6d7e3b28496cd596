// Revocation status of trusted certificates (table revocation_checks,
// migration 0015).
#include "ca/store/store_revcheck.h"

#include <inttypes.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/limits.h"
#include "ca/store/store_internal.h"

// The advisory lock of the claim: one node at a time picks entries.
#define REVCHECK_LOCK_SQL \
  "SELECT pg_try_advisory_xact_lock(hashtext('pki_revocation_checks'))"

static int get_fp(PGresult *res, int row, int col,
                  uint8_t out[CA_TRUST_FINGERPRINT_LEN]) {
  uint8_t *fp = NULL;
  size_t len = 0;
  CA_GUARD_RETURN(ca_store_get_bytea(res, row, col, &fp, &len));
  const int ok = len == CA_TRUST_FINGERPRINT_LEN;
  if (ok) {
    memcpy(out, fp, len);
  }
  OPENSSL_free(fp);
  CA_ENSURE_RETURN(ok, CA_ERR_STORAGE_UNAVAILABLE, "bad fingerprint stored");
  return 1;
}

void ca_revcheck_rows_free(ca_revcheck_row *rows, size_t n) {
  if (rows == NULL) {
    return;
  }
  for (size_t i = 0; i < n; i++) {
    OPENSSL_free(rows[i].status);
    OPENSSL_free(rows[i].source);
    OPENSSL_free(rows[i].responder_url);
    OPENSSL_free(rows[i].error);
  }
  free(rows);
}

int ca_store_revcheck_put(ca_store *store, const ca_revcheck_row *row) {
  char revoked_at[24], reason[8], checked_at[24], next_at[24];
  snprintf(revoked_at, sizeof(revoked_at), "%" PRId64, row->revoked_at);
  snprintf(reason, sizeof(reason), "%d", row->reason);
  snprintf(checked_at, sizeof(checked_at), "%" PRId64, row->checked_at);
  snprintf(next_at, sizeof(next_at), "%" PRId64, row->next_check_at);
  const char *values[9] = {(const char *)row->fingerprint,
                           row->status,
                           reason,
                           revoked_at,
                           row->source,
                           row->responder_url,
                           checked_at,
                           next_at,
                           row->error};
  const int lengths[9] = {CA_TRUST_FINGERPRINT_LEN};
  const int formats[9] = {1};
  const ca_store_stmt stmt = {
      .sql =
          "INSERT INTO revocation_checks AS r (fingerprint, status, reason,"
          " revoked_at, source, responder_url, checked_at, next_check_at,"
          " error) VALUES ($1, $2,"
          " CASE WHEN $3::smallint < 0 THEN NULL ELSE $3::smallint END,"
          " CASE WHEN $4::bigint = 0 THEN NULL"
          " ELSE to_timestamp($4::bigint) END, $5, left($6, 511),"
          " to_timestamp($7::bigint), to_timestamp($8::bigint),"
          " left($9, 1000))"
          " ON CONFLICT (fingerprint) DO UPDATE SET status = $2,"
          " reason = EXCLUDED.reason, revoked_at = EXCLUDED.revoked_at,"
          " source = $5, responder_url = EXCLUDED.responder_url,"
          " checked_at = EXCLUDED.checked_at,"
          " next_check_at = EXCLUDED.next_check_at, error = EXCLUDED.error",
      .n_params = 9,
      .values = values,
      .lengths = lengths,
      .formats = formats,
      .what = "recording a revocation check"};
  PGresult *res = ca_store_query_stmt(store, &stmt, PGRES_COMMAND_OK);
  CA_GUARD_PTR_RETURN(res);
  PQclear(res);
  return 1;
}

static int decode_check(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_revcheck_row *r = elem;
  r->reason = (int)ca_store_get_int(res, i, 2);
  r->revoked_at = ca_store_get_int(res, i, 3);
  r->checked_at = ca_store_get_int(res, i, 6);
  r->next_check_at = ca_store_get_int(res, i, 7);
  CA_ENSURE_RETURN(ca_store_get_text(res, i, 1, &r->status) &&
                       ca_store_get_text(res, i, 4, &r->source) &&
                       ca_store_get_text(res, i, 5, &r->responder_url) &&
                       ca_store_get_text(res, i, 8, &r->error),
                   CA_ERR_NO_MEMORY, "out of memory");
  return get_fp(res, i, 0, r->fingerprint);
}

static void free_checks(void *rows, size_t n) {
  ca_revcheck_rows_free(rows, n);
}

static const ca_store_row_type kCheckRows = {sizeof(ca_revcheck_row),
                                             decode_check, free_checks};

#define CHECK_COLUMNS_SQL                                         \
  "SELECT fingerprint, status, coalesce(reason, -1),"             \
  " coalesce(extract(epoch FROM revoked_at)::bigint, 0), source," \
  " responder_url, extract(epoch FROM checked_at)::bigint,"       \
  " extract(epoch FROM next_check_at)::bigint, error"             \
  " FROM revocation_checks r WHERE EXISTS (SELECT 1 FROM "

static int list_checks(ca_store *store, int identities, ca_revcheck_row **out,
                       size_t *out_n) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d",
           identities ? CA_LIMIT_IDENTITY_LIST : CA_LIMIT_TRUST_LIST);
  const char *values[1] = {limit};
  const ca_store_stmt stmt = {
      .sql = identities ? CHECK_COLUMNS_SQL
                 "identities t WHERE t.fingerprint = r.fingerprint)"
                 " ORDER BY fingerprint LIMIT $1::integer"
                        : CHECK_COLUMNS_SQL
                 "trust_entries t WHERE t.fingerprint = r.fingerprint)"
                 " ORDER BY fingerprint LIMIT $1::integer",
      .n_params = 1,
      .values = values,
      .what = "listing revocation checks"};
  ca_store_rows rows;
  CA_GUARD_RETURN(
      ca_store_read_rows(store, &stmt, &kCheckRows, NULL, 0, &rows));
  *out = rows.rows;
  *out_n = rows.n;
  return 1;
}

int ca_store_revcheck_list(ca_store *store, ca_revcheck_row **out,
                           size_t *out_n) {
  return list_checks(store, 0, out, out_n);
}

int ca_store_revcheck_list_identities(ca_store *store, ca_revcheck_row **out,
                                      size_t *out_n) {
  return list_checks(store, 1, out, out_n);
}

const ca_revcheck_row *ca_revcheck_row_find(
    const ca_revcheck_row *rows, size_t n,
    const uint8_t fp[CA_TRUST_FINGERPRINT_LEN]) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    const int c = memcmp(rows[mid].fingerprint, fp, CA_TRUST_FINGERPRINT_LEN);
    if (c == 0) {
      return &rows[mid];
    }
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return NULL;
}

void ca_revcheck_due_free(ca_revcheck_due *rows, size_t n) {
  if (rows == NULL) {
    return;
  }
  for (size_t i = 0; i < n; i++) {
    OPENSSL_free(rows[i].store);
    OPENSSL_free(rows[i].purpose);
    OPENSSL_free(rows[i].der);
    OPENSSL_free(rows[i].chain);
  }
  free(rows);
}

static int decode_due(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_revcheck_due *d = elem;
  CA_ENSURE_RETURN(ca_store_get_text(res, i, 0, &d->store) &&
                       ca_store_get_text(res, i, 1, &d->purpose),
                   CA_ERR_NO_MEMORY, "out of memory");
  return get_fp(res, i, 2, d->fingerprint) &&
         ca_store_get_bytea(res, i, 3, &d->der, &d->der_len) &&
         ca_store_get_bytea(res, i, 4, &d->chain, &d->chain_len);
}

static void free_due(void *rows, size_t n) {
  ca_revcheck_due_free(rows, n);
}

static const ca_store_row_type kDueRows = {sizeof(ca_revcheck_due), decode_due,
                                           free_due};

int ca_store_revcheck_claim(ca_store *store, int64_t now, int64_t lease_s,
                            size_t limit, ca_revcheck_due **out,
                            size_t *out_n) {
  *out = NULL;
  *out_n = 0;
  ca_store_tx *tx = NULL;
  PGresult *res = NULL;
  char now_text[24], lease_at[24], limit_text[16];
  snprintf(now_text, sizeof(now_text), "%" PRId64, now);
  snprintf(lease_at, sizeof(lease_at), "%" PRId64, now + lease_s);
  snprintf(limit_text, sizeof(limit_text), "%zu", limit);
  CA_GUARD(ca_store_begin(store, &tx));
  res = ca_store_tx_query(tx, REVCHECK_LOCK_SQL, 0, NULL, NULL, NULL,
                          PGRES_TUPLES_OK, "locking the revocation checks");
  CA_GUARD_PTR(res);
  const int locked = ca_store_get_bool(res, 0, 0);
  PQclear(res);
  res = NULL;
  if (!locked) {
    ca_store_rollback(tx);
    *out = calloc(1, sizeof(**out));
    CA_ENSURE_RETURN(*out != NULL, CA_ERR_NO_MEMORY, "out of memory");
    return 1;
  }
  // Entries never checked first, then the longest due; one row per
  // certificate, from its first store, else from a registered identity
  // (its purpose, and the chain uploaded with it, where its issuer may be).
  const char *values[3] = {now_text, lease_at, limit_text};
  res = ca_store_tx_query(
      tx,
      "WITH held AS (SELECT 0 AS k, t.store, '' AS purpose, t.fingerprint,"
      " t.der, ''::bytea AS chain FROM trust_entries t UNION ALL"
      " SELECT 1, '', x.purpose, x.fingerprint, x.der, x.chain"
      " FROM identities x),"
      " due AS (SELECT DISTINCT ON (h.fingerprint) h.store, h.purpose,"
      " h.fingerprint, h.der, h.chain, r.next_check_at FROM held h"
      " LEFT JOIN revocation_checks r ON r.fingerprint = h.fingerprint"
      " WHERE r.fingerprint IS NULL"
      " OR r.next_check_at <= to_timestamp($1::bigint)"
      " ORDER BY h.fingerprint, h.k, h.store, h.purpose),"
      " picked AS (SELECT * FROM due ORDER BY next_check_at NULLS FIRST"
      " LIMIT $3::integer),"
      " bumped AS (UPDATE revocation_checks r SET next_check_at ="
      " to_timestamp($2::bigint) FROM picked p"
      " WHERE r.fingerprint = p.fingerprint RETURNING r.fingerprint)"
      " SELECT store, purpose, fingerprint, der, chain FROM picked",
      3, values, NULL, NULL, PGRES_TUPLES_OK, "claiming revocation checks");
  CA_GUARD_PTR(res);
  ca_store_rows rows;
  CA_GUARD(ca_store_decode_rows(res, &kDueRows, NULL, 0, &rows));
  PQclear(res);
  res = NULL;
  // Entries never checked get a row now, "unknown" until the check is
  // done, so that the lease holds for them too.
  for (size_t i = 0; i < rows.n; i++) {
    ca_revcheck_due *d = &((ca_revcheck_due *)rows.rows)[i];
    const char *v[3] = {(const char *)d->fingerprint, now_text, lease_at};
    const int l[3] = {CA_TRUST_FINGERPRINT_LEN};
    const int f[3] = {1};
    res = ca_store_tx_query(
        tx,
        "INSERT INTO revocation_checks (fingerprint, status, source,"
        " responder_url, checked_at, next_check_at, error) VALUES ($1,"
        " 'unknown', '', '', to_timestamp($2::bigint),"
        " to_timestamp($3::bigint), 'not checked yet')"
        " ON CONFLICT (fingerprint) DO NOTHING",
        3, v, l, f, PGRES_COMMAND_OK, "claiming revocation checks");
    if (res == NULL) {
      ca_revcheck_due_free(rows.rows, rows.n);
      goto err;
    }
    PQclear(res);
    res = NULL;
  }
  if (!ca_store_commit(&tx)) {
    ca_revcheck_due_free(rows.rows, rows.n);
    return 0;
  }
  *out = rows.rows;
  *out_n = rows.n;
  return 1;
err:
  PQclear(res);
  ca_store_rollback(tx);
  return 0;
}

static int decode_der(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_revcheck_due *d = elem;
  return ca_store_get_bytea(res, i, 0, &d->der, &d->der_len);
}

int ca_store_trust_issuer(ca_store *store, const char *trust_store,
                          const uint8_t *name, size_t name_len, uint8_t **out,
                          size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  const char *values[2] = {trust_store, (const char *)name};
  const int lengths[2] = {0, (int)name_len};
  const int formats[2] = {0, 1};
  const ca_store_stmt stmt = {
      .sql =
          "SELECT der FROM trust_entries WHERE store = $1"
          " AND subject_der = $2 ORDER BY not_before DESC LIMIT 1",
      .n_params = 2,
      .values = values,
      .lengths = lengths,
      .formats = formats,
      .what = "looking up an issuer in a trust store"};
  ca_revcheck_due d;
  memset(&d, 0, sizeof(d));
  int found = 0;
  if (!ca_store_read_one(store, &stmt, decode_der, &d, NULL, &found)) {
    OPENSSL_free(d.der);
    return 0;
  }
  if (found) {
    *out = d.der;
    *out_len = d.der_len;
  }
  return 1;
}

int ca_store_revcheck_counts(ca_store *store, int identities,
                             const char *const *names, size_t n,
                             int64_t *counts, int64_t *unchecked) {
  memset(counts, 0, n * sizeof(*counts));
  *unchecked = 0;
  PGresult *res = ca_store_query(
      store,
      identities ? "SELECT coalesce(r.status, ''), count(*) FROM (SELECT"
                   " DISTINCT fingerprint FROM identities) t LEFT JOIN"
                   " revocation_checks r ON r.fingerprint = t.fingerprint"
                   " GROUP BY 1"
                 : "SELECT coalesce(r.status, ''), count(*) FROM (SELECT"
                   " DISTINCT fingerprint FROM trust_entries) t LEFT JOIN"
                   " revocation_checks r ON r.fingerprint = t.fingerprint"
                   " GROUP BY 1",
      0, NULL, PGRES_TUPLES_OK, "counting revocation statuses");
  CA_GUARD_PTR_RETURN(res);
  for (int i = 0; i < PQntuples(res); i++) {
    const char *status = PQgetvalue(res, i, 0);
    const int64_t count = ca_store_get_int(res, i, 1);
    if (status[0] == '\0') {
      *unchecked += count;
      continue;
    }
    for (size_t k = 0; k < n; k++) {
      if (strcmp(status, names[k]) == 0) {
        counts[k] += count;
      }
    }
  }
  PQclear(res);
  return 1;
}
