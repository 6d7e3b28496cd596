// The revocation half of ca/store/store.h: certificate status, the CRL
// lock, NOTIFY (the CRLs themselves: store_crl.c).
#include <inttypes.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/limits.h"
#include "ca/store/store.h"
#include "ca/store/store_internal.h"
#include "ca/x509/asn1_time.h"

static const char kStateColumns[] = CA_STORE_STATE_COLUMNS;

void ca_store_get_cert_state(PGresult *res, int row, ca_cert_state *out) {
  out->id = ca_store_get_int(res, row, 0);
  out->issuer_id = ca_store_get_int(res, row, 1);
  out->revoked = ca_store_get_bool(res, row, 2);
  out->revoked_at = ca_store_get_int(res, row, 3);
  out->reason = (int)ca_store_get_int(res, row, 4);
  out->not_before = ca_store_get_int(res, row, 5);
  out->not_after = ca_store_get_int(res, row, 6);
}

// tx_query runs |sql| in |tx| and returns its result, or NULL (the
// transaction is then failed).
static PGresult *tx_query(ca_store_tx *tx, const char *sql, int n,
                          const char *const *values, ExecStatusType want,
                          const char *what) {
  return ca_store_tx_query(tx, sql, n, values, NULL, NULL, want, what);
}

int ca_store_tx_lock_certificate(ca_store_tx *tx, const char *serial,
                                 int64_t issuer_id, ca_cert_state *out,
                                 size_t *out_matches) {
  char sql[512], issuer[24];
  snprintf(issuer, sizeof(issuer), "%" PRId64, issuer_id);
  snprintf(sql, sizeof(sql),
           "SELECT %s FROM %s WHERE c.serial = $1"
           " AND ($2::bigint = 0 OR c.issuer_id = $2::bigint)"
           " ORDER BY c.id FOR UPDATE OF c",
           kStateColumns, CA_STORE_STATE_FROM);
  const char *values[2] = {serial, issuer};
  PGresult *res =
      tx_query(tx, sql, 2, values, PGRES_TUPLES_OK, "locking a certificate");
  if (res == NULL) {
    return 0;
  }
  *out_matches = (size_t)PQntuples(res);
  if (*out_matches > 0) {
    ca_store_get_cert_state(res, 0, out);
  }
  PQclear(res);
  return 1;
}

// Revoked: the certificate's row in revocations, made or replaced. The
// caller locked the certificate's row (ca_store_tx_lock_certificate,
// ca_store_tx_find_issued), which every change of state but a batch's
// takes; a batch (store_revoke.c) checks what it changed instead.
static const char kSetRevokedSql[] =
    "INSERT INTO revocations AS r (issuer_id, serial, certificate_id,"
    " crl_shard, not_after, revoked_at, reason)"
    " SELECT c.issuer_id, c.serial, c.id, c.crl_shard, c.not_after,"
    " $2::timestamptz, $3::smallint FROM certificates c"
    " WHERE c.id = $1::bigint AND c.issuer_id IS NOT NULL"
    " ON CONFLICT (issuer_id, serial) DO UPDATE SET"
    " revoked_at = excluded.revoked_at, reason = excluded.reason"
    " WHERE (r.revoked_at, r.reason) IS DISTINCT FROM"
    " (excluded.revoked_at, excluded.reason)";

// Good again: no row. A batch may have revoked a held certificate for good
// since the caller read it on hold (a batch does not lock): then nothing
// is deleted, and the caller is told.
static const char kSetGoodSql[] =
    "DELETE FROM revocations r USING certificates c"
    " WHERE c.id = $1::bigint AND r.issuer_id = c.issuer_id"
    " AND r.serial = c.serial AND ($2::smallint IS NULL OR r.reason = $2)"
    " RETURNING 1";

int ca_store_tx_set_revocation(ca_store_tx *tx, int64_t id, int revoked,
                               int64_t revoked_at, int reason) {
  char id_text[24], at[21], reason_text[8];
  snprintf(id_text, sizeof(id_text), "%" PRId64, id);
  snprintf(reason_text, sizeof(reason_text), "%d", reason);
  if (revoked && !ca_time_format(revoked_at, at)) {
    CA_SET_ERROR(CA_ERR_PARAMETER_INVALID, "revocation time out of range");
    return 0;
  }
  if (revoked) {
    const char *values[3] = {id_text, at, reason_text};
    return ca_store_tx_command(tx, kSetRevokedSql, 3, values, PGRES_COMMAND_OK,
                               "recording a revocation");
  }
  // |reason| names the state released (certificateHold for an unhold), or
  // any state when 0.
  const char *values[2] = {id_text, reason != 0 ? reason_text : NULL};
  PGresult *res = tx_query(tx, kSetGoodSql, 2, values, PGRES_TUPLES_OK,
                           "recording a release");
  if (res == NULL) {
    return 0;
  }
  const int deleted = PQntuples(res);
  PQclear(res);
  if (reason != 0 && deleted != 1) {
    tx->failed = 1;
    CA_SET_ERROR(CA_ERR_CONFLICT,
                 "the certificate's revocation changed concurrently: "
                 "try again");
    return 0;
  }
  return 1;
}

// The CRL lock of a CA: the two-key form of the advisory locks, whose
// space is apart from the one-key locks of migrations and bootstrap
// (store_pg.c); first key "pkiC", second the issuer's id.
#define CRL_LOCK_CLASS "1886087491"

int ca_store_tx_lock_crl(ca_store_tx *tx, int64_t issuer_id, int wait,
                         int *out_locked) {
  char issuer[24];
  snprintf(issuer, sizeof(issuer), "%" PRId64, issuer_id);
  const char *values[1] = {issuer};
  PGresult *res =
      tx_query(tx,
               wait ? "SELECT pg_advisory_xact_lock(" CRL_LOCK_CLASS
                      ", $1::bigint::integer), true"
                    : "SELECT null, pg_try_advisory_xact_lock(" CRL_LOCK_CLASS
                      ", $1::bigint::integer)",
               1, values, PGRES_TUPLES_OK, "taking the CRL lock");
  if (res == NULL) {
    return 0;
  }
  *out_locked = ca_store_get_bool(res, 0, 1);
  PQclear(res);
  return 1;
}

int ca_store_tx_queue_crl(ca_store_tx *tx, int64_t issuer_id) {
  char issuer[24];
  snprintf(issuer, sizeof(issuer), "%" PRId64, issuer_id);
  const char *values[1] = {issuer};
  return ca_store_tx_command(
      tx, "INSERT INTO crl_pending (issuer_id) VALUES ($1::bigint)", 1, values,
      PGRES_COMMAND_OK, "queueing a CRL");
}

int ca_store_tx_notify(ca_store_tx *tx, const char *channel,
                       const char *payload) {
  const char *values[2] = {channel, payload};
  return ca_store_tx_command(tx, "SELECT pg_notify($1, $2)", 2, values,
                             PGRES_TUPLES_OK, "NOTIFY");
}

static int decode_state(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_store_get_cert_state(res, i, elem);
  return 1;
}

int ca_store_certificate_state(ca_store *store, int64_t issuer_id,
                               const char *serial, ca_cert_state *out,
                               int *out_found) {
  char issuer[24], sql[512];
  snprintf(issuer, sizeof(issuer), "%" PRId64, issuer_id);
  snprintf(sql, sizeof(sql),
           "SELECT %s FROM %s WHERE c.serial = $1"
           " AND c.issuer_id = $2::bigint",
           kStateColumns, CA_STORE_STATE_FROM);
  const char *values[2] = {serial, issuer};
  const ca_store_stmt stmt = {.sql = sql,
                              .n_params = 2,
                              .values = values,
                              .what = "reading a certificate's status"};
  return ca_store_read_one(store, &stmt, decode_state, out, NULL, out_found);
}

void ca_responder_rows_free(ca_responder_row *records, size_t n) {
  if (records == NULL) {
    return;
  }
  for (size_t i = 0; i < n; i++) {
    OPENSSL_free(records[i].der);
    OPENSSL_free(records[i].key_file);
  }
  free(records);
}

static int decode_responder(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_responder_row *r = elem;
  r->not_after = ca_store_get_int(res, i, 2);
  CA_ENSURE_RETURN(ca_store_get_text(res, i, 1, &r->key_file), CA_ERR_NO_MEMORY,
                   "out of memory");
  return ca_store_get_bytea(res, i, 0, &r->der, &r->der_len);
}

static void free_responders(void *rows, size_t n) {
  ca_responder_rows_free(rows, n);
}

static const ca_store_row_type kResponderRows = {
    sizeof(ca_responder_row), decode_responder, free_responders};

int ca_store_find_responders(ca_store *store, int64_t issuer_id,
                             const char *node, ca_responder_row **out,
                             size_t *out_n) {
  char issuer[24];
  snprintf(issuer, sizeof(issuer), "%" PRId64, issuer_id);
  const char *values[2] = {issuer, node};
  const ca_store_stmt stmt = {
      .sql =
          "SELECT c.der, r.key_file, extract(epoch FROM c.not_after)::bigint"
          " FROM ocsp_responders r"
          " JOIN certificates c ON c.id = r.certificate_id"
          " WHERE r.issuer_id = $1::bigint AND r.node = $2"
          " AND NOT EXISTS (SELECT 1 FROM revocations v"
          " WHERE v.issuer_id = c.issuer_id AND v.serial = c.serial)"
          " ORDER BY r.id DESC",
      .n_params = 2,
      .values = values,
      .what = "reading OCSP responders"};
  ca_store_rows rows;
  CA_GUARD_RETURN(
      ca_store_read_rows(store, &stmt, &kResponderRows, NULL, 0, &rows));
  *out = rows.rows;
  *out_n = rows.n;
  return 1;
}

int ca_store_tx_add_responder(ca_store_tx *tx, int64_t issuer_id,
                              const char *serial, const char *node,
                              const char *key_file) {
  char issuer[24];
  snprintf(issuer, sizeof(issuer), "%" PRId64, issuer_id);
  const char *values[4] = {issuer, serial, node, key_file};
  return ca_store_tx_command(
      tx,
      "INSERT INTO ocsp_responders (issuer_id, certificate_id, node, key_file)"
      " SELECT $1::bigint, id, $3, $4 FROM certificates"
      " WHERE issuer_id = $1::bigint AND serial = $2",
      4, values, PGRES_COMMAND_OK, "recording an OCSP responder");
}
