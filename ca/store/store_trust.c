// Trust-store entries in PostgreSQL (table trust_entries, migrations 0005
// and 0014).
#include <inttypes.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/limits.h"
#include "ca/store/store.h"
#include "ca/store/store_internal.h"

const char *ca_trust_outcome_name(ca_trust_outcome outcome) {
  switch (outcome) {
    case CA_TRUST_ADDED:
      return "added";
    case CA_TRUST_REPLACED:
      return "replaced";
    case CA_TRUST_UNCHANGED:
      return "unchanged";
    case CA_TRUST_KEPT:
      return "kept";
  }
  return "unknown";
}

// The parameters of one entry, in the order of kInsertSql's columns.
#define PUT_PARAMS 21

typedef struct put_params {
  const char *values[PUT_PARAMS];
  int lengths[PUT_PARAMS];
  int formats[PUT_PARAMS];
  char key_bits[16];
  char not_before[24];
  char not_after[24];
  char revoked_at[24];
  char reason[16];
} put_params;

static void bind_binary(put_params *p, int i, const uint8_t *data, size_t len) {
  p->values[i] = (const char *)data;
  p->lengths[i] = (int)len;
  p->formats[i] = 1;
}

static void bind_put(put_params *p, const ca_trust_put *put) {
  const ca_trust_cert *c = put->cert;
  memset(p, 0, sizeof(*p));
  snprintf(p->key_bits, sizeof(p->key_bits), "%u", c->key_bits);
  snprintf(p->not_before, sizeof(p->not_before), "%" PRId64, c->not_before);
  snprintf(p->not_after, sizeof(p->not_after), "%" PRId64, c->not_after);
  snprintf(p->revoked_at, sizeof(p->revoked_at), "%" PRId64, put->revoked_at);
  snprintf(p->reason, sizeof(p->reason), "%d", put->revocation_reason);
  p->values[0] = put->store;
  bind_binary(p, 1, c->fingerprint, CA_TRUST_FINGERPRINT_LEN);
  p->values[2] = c->subject;
  bind_binary(p, 3, c->subject_der, c->subject_der_len);
  p->values[4] = c->issuer;
  p->values[5] = c->serial;
  p->values[6] = c->common_name;
  p->values[7] = c->key_type;
  p->values[8] = p->key_bits;
  p->values[9] = c->is_ca ? "true" : "false";
  p->values[10] = p->not_before;
  p->values[11] = p->not_after;
  bind_binary(p, 12, c->der, c->der_len);
  p->values[13] = put->source;
  p->values[14] = put->cluster;
  p->values[15] = put->node;
  p->values[16] = put->purpose;
  p->values[17] = p->revoked_at;
  p->values[18] = p->reason;
  p->values[19] = put->added_by;
  p->values[20] = put->description != NULL ? put->description : "";
}

#define REVOKED_AT_SQL \
  "CASE WHEN $18::bigint = 0 THEN NULL ELSE to_timestamp($18::bigint) END"
#define REASON_SQL "CASE WHEN $18::bigint = 0 THEN NULL ELSE $19::smallint END"

// A first insert wins without a lock; a conflict (same subject, or same
// certificate) leaves the existing row to be compared under a row lock.
static const char kInsertSql[] =
    "INSERT INTO trust_entries (store, fingerprint, subject, subject_der,"
    " issuer, serial, common_name, key_type, key_bits, is_ca, not_before,"
    " not_after, der, source, cluster, node, purpose, revoked_at,"
    " revocation_reason, added_by, description) VALUES ($1, $2, $3, $4, $5,"
    " $6, $7, $8, $9::integer, $10::boolean, to_timestamp($11::bigint),"
    " to_timestamp($12::bigint), $13, $14, $15, $16, $17, " REVOKED_AT_SQL
    ", " REASON_SQL ", $20, $21) ON CONFLICT DO NOTHING RETURNING id";

static const char kReplaceSql[] =
    "UPDATE trust_entries SET (fingerprint, subject, issuer, serial,"
    " common_name, key_type, key_bits, is_ca, not_before, not_after, der,"
    " source, cluster, node, purpose, revoked_at, revocation_reason,"
    " added_by, description, created_at) = ($2, $3, $5, $6, $7, $8,"
    " $9::integer, $10::boolean, to_timestamp($11::bigint),"
    " to_timestamp($12::bigint), $13, $14, $15, $16, $17, " REVOKED_AT_SQL
    ", " REASON_SQL ", $20, $21, now()) WHERE store = $1 AND subject_der = $4";

// get_fingerprint reads the SHA-256 fingerprint of column |col|.
static int get_fingerprint(PGresult *res, int row, int col,
                           uint8_t out[CA_TRUST_FINGERPRINT_LEN]) {
  uint8_t *fp = NULL;
  size_t fp_len = 0;
  CA_GUARD_RETURN(ca_store_get_bytea(res, row, col, &fp, &fp_len));
  const int ok = fp_len == CA_TRUST_FINGERPRINT_LEN;
  if (ok) {
    memcpy(out, fp, CA_TRUST_FINGERPRINT_LEN);
  }
  OPENSSL_free(fp);
  CA_ENSURE_RETURN(ok, CA_ERR_STORAGE_UNAVAILABLE,
                   "bad fingerprint in trust_entries");
  return 1;
}

static int set_description(ca_store_tx *tx, const char *trust_store,
                           const uint8_t fp[CA_TRUST_FINGERPRINT_LEN],
                           const char *description) {
  const char *values[3] = {trust_store, (const char *)fp, description};
  const int lengths[3] = {0, CA_TRUST_FINGERPRINT_LEN, 0};
  const int formats[3] = {0, 1, 0};
  PGresult *res = ca_store_tx_query(
      tx,
      "UPDATE trust_entries SET description = $3 WHERE store = $1"
      " AND fingerprint = $2",
      3, values, lengths, formats, PGRES_COMMAND_OK,
      "describing a trust entry");
  if (res == NULL) {
    return 0;
  }
  PQclear(res);
  return 1;
}

int ca_store_tx_put_trust(ca_store_tx *tx, const ca_trust_put *put,
                          ca_trust_outcome *out,
                          uint8_t out_other[CA_TRUST_FINGERPRINT_LEN]) {
  put_params p;
  bind_put(&p, put);
  PGresult *res =
      ca_store_tx_query(tx, kInsertSql, PUT_PARAMS, p.values, p.lengths,
                        p.formats, PGRES_TUPLES_OK, "adding a trust entry");
  CA_GUARD(res != NULL);
  const int inserted = PQntuples(res) == 1;
  PQclear(res);
  if (inserted) {
    *out = CA_TRUST_ADDED;
    return 1;
  }
  // The store has this subject already (or this very certificate, which
  // has the same subject). Lock it: a concurrent upload of the same subject
  // waits here and then sees the winner.
  const char *lock_values[2] = {put->store,
                                (const char *)put->cert->subject_der};
  const int lock_lengths[2] = {0, (int)put->cert->subject_der_len};
  const int lock_formats[2] = {0, 1};
  res = ca_store_tx_query(
      tx,
      "SELECT fingerprint, extract(epoch FROM not_before)::bigint"
      " FROM trust_entries WHERE store = $1 AND subject_der = $2 FOR UPDATE",
      2, lock_values, lock_lengths, lock_formats, PGRES_TUPLES_OK,
      "locking a trust entry");
  CA_GUARD(res != NULL);
  CA_ENSURE(PQntuples(res) == 1, CA_ERR_CONFLICT,
            "the trust store changed during the upload; try again");
  uint8_t other[CA_TRUST_FINGERPRINT_LEN];
  if (!get_fingerprint(res, 0, 0, other)) {
    PQclear(res);
    goto err;
  }
  const int64_t other_not_before = ca_store_get_int(res, 0, 1);
  PQclear(res);
  const int same =
      memcmp(other, put->cert->fingerprint, CA_TRUST_FINGERPRINT_LEN) == 0;
  if (out_other != NULL) {
    memcpy(out_other, other, CA_TRUST_FINGERPRINT_LEN);
  }
  if (same) {
    *out = CA_TRUST_UNCHANGED;
    if (strcmp(put->source, "bulk") != 0) {
      // The same upload again with a note: the note is the operator's
      // latest word on the entry.
      return put->description == NULL ||
             set_description(tx, put->store, put->cert->fingerprint,
                             put->description);
    }
    // A bulk import refreshes what the peer cluster says of it now: its
    // revocation above all.
    const char *values[8] = {put->store,   (const char *)put->cert->fingerprint,
                             put->cluster, put->node,
                             put->purpose, p.revoked_at,
                             p.reason,     put->source};
    const char *unknown_values[6] = {values[0], values[1], values[2],
                                     values[3], values[4], put->source};
    const int lengths[8] = {0, CA_TRUST_FINGERPRINT_LEN, 0, 0, 0, 0, 0, 0};
    const int formats[8] = {0, 1, 0, 0, 0, 0, 0, 0};
    // Without a word on revocation (|revocation_unknown|) only the first
    // six parameters are sent: the revocation state stays as it is.
    res = ca_store_tx_query(
        tx,
        put->revocation_unknown
            ? "UPDATE trust_entries SET source = $6, cluster = $3, node = $4,"
              " purpose = $5 WHERE store = $1 AND fingerprint = $2"
            : "UPDATE trust_entries SET source = $8, cluster = $3, node = $4,"
              " purpose = $5, revoked_at = CASE WHEN $6::bigint = 0 THEN NULL"
              " ELSE to_timestamp($6::bigint) END, revocation_reason = CASE"
              " WHEN $6::bigint = 0 THEN NULL ELSE $7::smallint END"
              " WHERE store = $1 AND fingerprint = $2",
        put->revocation_unknown ? 6 : 8,
        put->revocation_unknown ? unknown_values : values, lengths, formats,
        PGRES_COMMAND_OK, "refreshing a trust entry");
    CA_GUARD(res != NULL);
    PQclear(res);
    return 1;
  }
  // ARCHITECTURE.md: "A trust store keeps one certificate per subject: the
  // later notBefore wins." On a tie the certificate already there stays.
  if (put->cert->not_before <= other_not_before) {
    *out = CA_TRUST_KEPT;
    return 1;
  }
  res =
      ca_store_tx_query(tx, kReplaceSql, PUT_PARAMS, p.values, p.lengths,
                        p.formats, PGRES_COMMAND_OK, "replacing a trust entry");
  CA_GUARD(res != NULL);
  PQclear(res);
  *out = CA_TRUST_REPLACED;
  return 1;
err:
  return 0;
}

void ca_trust_rows_free(ca_trust_row *rows, size_t n) {
  if (rows == NULL) {
    return;
  }
  for (size_t i = 0; i < n; i++) {
    ca_trust_row *r = &rows[i];
    OPENSSL_free(r->store);
    OPENSSL_free(r->subject);
    OPENSSL_free(r->issuer);
    OPENSSL_free(r->serial);
    OPENSSL_free(r->common_name);
    OPENSSL_free(r->key_type);
    OPENSSL_free(r->source);
    OPENSSL_free(r->cluster);
    OPENSSL_free(r->node);
    OPENSSL_free(r->purpose);
    OPENSSL_free(r->added_by);
    OPENSSL_free(r->description);
    OPENSSL_free(r->der);
  }
  free(rows);
}

static int decode_trust(PGresult *res, int i, void *elem, const void *arg) {
  const int *with_der = arg;
  ca_trust_row *r = elem;
  r->id = ca_store_get_int(res, i, 0);
  r->key_bits = (unsigned)ca_store_get_int(res, i, 8);
  r->is_ca = ca_store_get_bool(res, i, 9);
  r->not_before = ca_store_get_int(res, i, 10);
  r->not_after = ca_store_get_int(res, i, 11);
  r->revoked_at = ca_store_get_int(res, i, 16);
  r->revocation_reason = (int)ca_store_get_int(res, i, 17);
  r->created_at = ca_store_get_int(res, i, 19);
  CA_ENSURE_RETURN(ca_store_get_text(res, i, 1, &r->store) &&
                       ca_store_get_text(res, i, 3, &r->subject) &&
                       ca_store_get_text(res, i, 4, &r->issuer) &&
                       ca_store_get_text(res, i, 5, &r->serial) &&
                       ca_store_get_text(res, i, 6, &r->common_name) &&
                       ca_store_get_text(res, i, 7, &r->key_type) &&
                       ca_store_get_text(res, i, 12, &r->source) &&
                       ca_store_get_text(res, i, 13, &r->cluster) &&
                       ca_store_get_text(res, i, 14, &r->node) &&
                       ca_store_get_text(res, i, 15, &r->purpose) &&
                       ca_store_get_text(res, i, 18, &r->added_by) &&
                       ca_store_get_text(res, i, 21, &r->description),
                   CA_ERR_NO_MEMORY, "out of memory");
  CA_GUARD_RETURN(get_fingerprint(res, i, 2, r->fingerprint));
  return !*with_der || ca_store_get_bytea(res, i, 20, &r->der, &r->der_len);
}

static void free_trust_rows(void *rows, size_t n) {
  ca_trust_rows_free(rows, n);
}

static const ca_store_row_type kTrustRows = {sizeof(ca_trust_row), decode_trust,
                                             free_trust_rows};

// Every column of an entry; the DER only when $3 asks for it.
static const char kListSql[] =
    "SELECT id, store, fingerprint, subject, issuer, serial, common_name,"
    " key_type, key_bits, is_ca, extract(epoch FROM not_before)::bigint,"
    " extract(epoch FROM not_after)::bigint, source, cluster, node,"
    " purpose, coalesce(extract(epoch FROM revoked_at)::bigint, 0),"
    " coalesce(revocation_reason, 0), added_by,"
    " extract(epoch FROM created_at)::bigint,"
    " CASE WHEN $3::boolean THEN der END, description"
    " FROM trust_entries WHERE ($1::text IS NULL OR store = $1)"
    " AND ($2::bytea IS NULL OR fingerprint = $2)"
    " ORDER BY store, subject, id LIMIT $4::integer";

int ca_store_list_trust(ca_store *store, const char *trust_store,
                        const uint8_t *fingerprint, int with_der,
                        ca_trust_row **out, size_t *out_n) {
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", CA_LIMIT_TRUST_LIST);
  const char *values[4] = {trust_store, (const char *)fingerprint,
                           with_der ? "true" : "false", limit};
  const int lengths[4] = {0, fingerprint != NULL ? CA_TRUST_FINGERPRINT_LEN : 0,
                          0, 0};
  const int formats[4] = {0, 1, 0, 0};
  const ca_store_stmt stmt = {.sql = kListSql,
                              .n_params = 4,
                              .values = values,
                              .lengths = lengths,
                              .formats = formats,
                              .what = "listing trust entries"};
  ca_store_rows rows;
  CA_GUARD_RETURN(
      ca_store_read_rows(store, &stmt, &kTrustRows, &with_der, 0, &rows));
  *out = rows.rows;
  *out_n = rows.n;
  return 1;
}

int ca_store_tx_delete_trust(
    ca_store_tx *tx, const char *trust_store,
    const uint8_t fingerprint[CA_TRUST_FINGERPRINT_LEN], int *out_found) {
  const char *values[2] = {trust_store, (const char *)fingerprint};
  const int lengths[2] = {0, CA_TRUST_FINGERPRINT_LEN};
  const int formats[2] = {0, 1};
  PGresult *res = ca_store_tx_query(
      tx,
      "DELETE FROM trust_entries WHERE store = $1 AND fingerprint = $2"
      " RETURNING id",
      2, values, lengths, formats, PGRES_TUPLES_OK, "deleting a trust entry");
  if (res == NULL) {
    return 0;
  }
  *out_found = PQntuples(res) > 0;
  PQclear(res);
  return 1;
}

int ca_store_identity_fingerprint(
    ca_store *store, const uint8_t fingerprint[CA_TRUST_FINGERPRINT_LEN],
    int *out_found) {
  const char *values[1] = {(const char *)fingerprint};
  const int lengths[1] = {CA_TRUST_FINGERPRINT_LEN};
  const int formats[1] = {1};
  // No index on the hash: this runs only when a DELETE names a fingerprint
  // that no trust store holds, to say why it cannot be deleted.
  const ca_store_stmt stmt = {
      .sql = "SELECT 1 FROM certificates WHERE sha256(der) = $1 LIMIT 1",
      .n_params = 1,
      .values = values,
      .lengths = lengths,
      .formats = formats,
      .what = "looking up a fingerprint"};
  return ca_store_read_one(store, &stmt, NULL, NULL, NULL, out_found);
}
