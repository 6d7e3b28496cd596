// The revocation half of ca/store/store.h: certificate status, CRLs, NOTIFY.
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
           "SELECT %s FROM certificates WHERE serial = $1"
           " AND ($2::bigint = 0 OR issuer_id = $2::bigint)"
           " ORDER BY id FOR UPDATE",
           kStateColumns);
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

int ca_store_tx_set_revocation(ca_store_tx *tx, int64_t id, int revoked,
                               int64_t revoked_at, int reason) {
  char id_text[24], at[21], reason_text[8];
  snprintf(id_text, sizeof(id_text), "%" PRId64, id);
  snprintf(reason_text, sizeof(reason_text), "%d", reason);
  if (revoked && !ca_time_format(revoked_at, at)) {
    CA_SET_ERROR(CA_ERR_PARAMETER_INVALID, "revocation time out of range");
    return 0;
  }
  const char *values[3] = {id_text, revoked ? at : NULL,
                           revoked ? reason_text : NULL};
  return ca_store_tx_command(
      tx,
      "UPDATE certificates SET"
      " status = CASE WHEN $2::timestamptz IS NULL THEN 'good'"
      " ELSE 'revoked' END,"
      " revoked_at = $2::timestamptz, revocation_reason = $3::smallint"
      " WHERE id = $1::bigint",
      3, values, PGRES_COMMAND_OK, "recording a revocation");
}

static int decode_revoked(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_revoked_entry *r = elem;
  snprintf(r->serial, sizeof(r->serial), "%s", PQgetvalue(res, i, 0));
  r->revoked_at = ca_store_get_int(res, i, 1);
  r->reason = (int)ca_store_get_int(res, i, 2);
  return 1;
}

static const ca_store_row_type kRevokedRows = {sizeof(ca_revoked_entry),
                                               decode_revoked, NULL};

int ca_store_tx_revoked(ca_store_tx *tx, int64_t issuer_id, int64_t now,
                        ca_revoked_entry **out, size_t *out_n) {
  char issuer[24], now_text[21];
  snprintf(issuer, sizeof(issuer), "%" PRId64, issuer_id);
  if (!ca_time_format(now, now_text)) {
    return 0;
  }
  const char *values[2] = {issuer, now_text};
  PGresult *res =
      tx_query(tx,
               "SELECT serial, extract(epoch FROM revoked_at)::bigint,"
               " revocation_reason FROM certificates"
               " WHERE issuer_id = $1::bigint AND status = 'revoked'"
               " AND not_after > $2::timestamptz ORDER BY serial",
               2, values, PGRES_TUPLES_OK, "reading revoked certificates");
  if (res == NULL) {
    return 0;
  }
  ca_store_rows rows;
  const int ok = ca_store_decode_rows(res, &kRevokedRows, NULL, 0, &rows);
  PQclear(res);
  CA_GUARD_RETURN(ok);
  // A row is about 60 bytes on the wire; see ca_store_recycle.
  if (rows.n * 60 > CA_LIMIT_CONN_RECYCLE_BYTES) {
    ca_store_recycle(tx->store, tx->slot);
  }
  *out = rows.rows;
  *out_n = rows.n;
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

int ca_store_tx_crl_state(ca_store_tx *tx, int64_t issuer_id,
                          ca_crl_state *out) {
  char issuer[24];
  snprintf(issuer, sizeof(issuer), "%" PRId64, issuer_id);
  const char *values[1] = {issuer};
  memset(out, 0, sizeof(*out));
  PGresult *res = tx_query(
      tx,
      "SELECT c.crl_number, extract(epoch FROM c.this_update)::bigint,"
      " extract(epoch FROM c.next_update)::bigint,"
      " (SELECT floor(extract(epoch FROM min(p.queued_at)))::bigint"
      " FROM crl_pending p WHERE p.issuer_id = $1::bigint)"
      " FROM (SELECT 1) one LEFT JOIN crls c ON c.issuer_id = $1::bigint",
      1, values, PGRES_TUPLES_OK, "reading the CRL state");
  if (res == NULL) {
    return 0;
  }
  if (PQntuples(res) == 1) {
    out->found = !PQgetisnull(res, 0, 0);
    if (out->found) {
      out->number = (uint64_t)ca_store_get_int(res, 0, 0);
      out->this_update = ca_store_get_int(res, 0, 1);
      out->next_update = ca_store_get_int(res, 0, 2);
    }
    out->pending = !PQgetisnull(res, 0, 3);
    out->pending_since = out->pending ? ca_store_get_int(res, 0, 3) : 0;
  }
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

int ca_store_tx_take_pending(ca_store_tx *tx, int64_t issuer_id) {
  char issuer[24];
  snprintf(issuer, sizeof(issuer), "%" PRId64, issuer_id);
  const char *values[1] = {issuer};
  return ca_store_tx_command(
      tx, "DELETE FROM crl_pending WHERE issuer_id = $1::bigint", 1, values,
      PGRES_COMMAND_OK, "taking the changes a CRL covers");
}

static int decode_since(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  int64_t *since = elem;
  *since = ca_store_get_int(res, i, 0);
  return 1;
}

int ca_store_crl_pending_since(ca_store *store, int64_t issuer_id,
                               int64_t *out_since, int *out_found) {
  char issuer[24];
  snprintf(issuer, sizeof(issuer), "%" PRId64, issuer_id);
  const char *values[1] = {issuer};
  const ca_store_stmt stmt = {
      .sql =
          "SELECT floor(extract(epoch FROM queued_at))::bigint"
          " FROM crl_pending WHERE issuer_id = $1::bigint"
          " ORDER BY queued_at LIMIT 1",
      .n_params = 1,
      .values = values,
      .what = "reading the changes waiting for a CRL"};
  *out_since = 0;
  return ca_store_read_one(store, &stmt, decode_since, out_since, NULL,
                           out_found);
}

int ca_store_tx_next_crl_number(ca_store_tx *tx, int64_t issuer_id,
                                uint64_t *out) {
  char issuer[24];
  snprintf(issuer, sizeof(issuer), "%" PRId64, issuer_id);
  const char *values[1] = {issuer};
  int locked;
  if (!ca_store_tx_lock_crl(tx, issuer_id, 1, &locked)) {
    return 0;
  }
  // The CRL lock makes two nodes publish one after the other, each with
  // its own number, even before the row exists; FOR UPDATE keeps the row
  // of the callers that predate it.
  PGresult *res = tx_query(
      tx, "SELECT crl_number FROM crls WHERE issuer_id = $1::bigint FOR UPDATE",
      1, values, PGRES_TUPLES_OK, "reading the CRL number");
  if (res == NULL) {
    return 0;
  }
  *out = PQntuples(res) > 0 ? (uint64_t)ca_store_get_int(res, 0, 0) + 1 : 1;
  PQclear(res);
  return 1;
}

int ca_store_tx_put_crl(ca_store_tx *tx, int64_t issuer_id, uint64_t number,
                        int64_t this_update, int64_t next_update,
                        const uint8_t *der, size_t der_len) {
  char issuer[24], num[24], tu[21], nu[21];
  snprintf(issuer, sizeof(issuer), "%" PRId64, issuer_id);
  snprintf(num, sizeof(num), "%" PRIu64, number);
  if (!ca_time_format(this_update, tu) || !ca_time_format(next_update, nu)) {
    return 0;
  }
  const char *values[5] = {issuer, num, tu, nu, (const char *)der};
  const int lengths[5] = {0, 0, 0, 0, (int)der_len};
  const int formats[5] = {0, 0, 0, 0, 1};
  PGresult *res = ca_store_tx_query(
      tx,
      "INSERT INTO crls (issuer_id, crl_number, this_update,"
      " next_update, der) VALUES ($1, $2, $3, $4, $5)"
      " ON CONFLICT (issuer_id) DO UPDATE SET"
      " crl_number = excluded.crl_number,"
      " this_update = excluded.this_update,"
      " next_update = excluded.next_update, der = excluded.der",
      5, values, lengths, formats, PGRES_COMMAND_OK, "storing a CRL");
  if (res == NULL) {
    return 0;
  }
  PQclear(res);
  if (der_len > CA_LIMIT_CONN_RECYCLE_BYTES) {
    ca_store_recycle(tx->store, tx->slot);
  }
  return 1;
}

int ca_store_tx_notify(ca_store_tx *tx, const char *channel,
                       const char *payload) {
  const char *values[2] = {channel, payload};
  return ca_store_tx_command(tx, "SELECT pg_notify($1, $2)", 2, values,
                             PGRES_TUPLES_OK, "NOTIFY");
}

int ca_store_get_crl(ca_store *store, int64_t issuer_id, ca_crl_row *out,
                     int *out_found) {
  size_t slot;
  PGconn *conn;
  char issuer[24];
  snprintf(issuer, sizeof(issuer), "%" PRId64, issuer_id);
  const char *values[1] = {issuer};
  memset(out, 0, sizeof(*out));
  *out_found = 0;
  if (!ca_store_acquire_large(store, &slot, &conn)) {
    return 0;
  }
  PGresult *res = ca_store_check_result(
      conn,
      PQexecParams(conn,
                   "SELECT crl_number, extract(epoch FROM this_update)::bigint,"
                   " extract(epoch FROM next_update)::bigint, der"
                   " FROM crls WHERE issuer_id = $1::bigint",
                   1, NULL, values, NULL, NULL, 0),
      PGRES_TUPLES_OK, "reading a CRL");
  int ok = res != NULL;
  if (ok && PQntuples(res) == 1) {
    out->number = (uint64_t)ca_store_get_int(res, 0, 0);
    out->this_update = ca_store_get_int(res, 0, 1);
    out->next_update = ca_store_get_int(res, 0, 2);
    ok = ca_store_get_bytea(res, 0, 3, &out->der, &out->der_len);
    *out_found = ok;
  }
  PQclear(res);
  if (out->der_len > CA_LIMIT_CONN_RECYCLE_BYTES / 2) {
    // Read as hex: twice its size went through the connection.
    ca_store_recycle(store, slot);
  }
  ca_store_release(store, slot);
  return ok;
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
           "SELECT %s FROM certificates WHERE serial = $1"
           " AND issuer_id = $2::bigint",
           kStateColumns);
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
          " AND c.status = 'good' ORDER BY r.id DESC",
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
