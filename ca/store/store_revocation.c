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

static const char kStateColumns[] =
    "id, issuer_id, status = 'revoked',"
    " coalesce(extract(epoch FROM revoked_at)::bigint, 0),"
    " coalesce(revocation_reason, 0),"
    " extract(epoch FROM not_before)::bigint,"
    " extract(epoch FROM not_after)::bigint";

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

// array_literal makes a PostgreSQL array literal of |n| strings, each
// double-quoted with " and \ escaped (PostgreSQL manual 8.15.6). Free with
// free().
static char *array_literal(const char *const *items, size_t n) {
  size_t len = 3;
  for (size_t i = 0; i < n; i++) {
    len += 2 * strlen(items[i]) + 3;
  }
  char *out = malloc(len);
  if (out == NULL) {
    return NULL;
  }
  char *p = out;
  *p++ = '{';
  for (size_t i = 0; i < n; i++) {
    if (i > 0) {
      *p++ = ',';
    }
    *p++ = '"';
    for (const char *c = items[i]; *c != '\0'; c++) {
      if (*c == '"' || *c == '\\') {
        *p++ = '\\';
      }
      *p++ = *c;
    }
    *p++ = '"';
  }
  *p++ = '}';
  *p = '\0';
  return out;
}

// int_literal makes an array literal of |n| integers read by |get| from
// |rows| (at most 20 digits and a comma each). Free with free().
static char *int_literal(const ca_revocation_row *rows, size_t n,
                         int64_t (*get)(const ca_revocation_row *)) {
  char *out = malloc(n * 22 + 3);
  if (out == NULL) {
    return NULL;
  }
  size_t off = 0;
  out[off++] = '{';
  for (size_t i = 0; i < n; i++) {
    off +=
        (size_t)sprintf(out + off, "%s%" PRId64, i ? "," : "", get(&rows[i]));
  }
  out[off++] = '}';
  out[off] = '\0';
  return out;
}

static int64_t row_id(const ca_revocation_row *r) {
  return r->id;
}
static int64_t row_at(const ca_revocation_row *r) {
  return r->revoked_at;
}
static int64_t row_reason(const ca_revocation_row *r) {
  return r->reason;
}

static int decode_match(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_cert_match *m = elem;
  snprintf(m->serial, sizeof(m->serial), "%s", PQgetvalue(res, i, 7));
  ca_store_get_cert_state(res, i, &m->state);
  return 1;
}

static const ca_store_row_type kMatchRows = {sizeof(ca_cert_match),
                                             decode_match, NULL};

int ca_store_tx_lock_certificates(ca_store_tx *tx, const char *const *serials,
                                  size_t n, ca_cert_match **out,
                                  size_t *out_n) {
  char sql[512];
  char *list = array_literal(serials, n);
  CA_ENSURE_ALLOC_RETURN(list);
  snprintf(sql, sizeof(sql),
           "SELECT %s, serial FROM certificates"
           " WHERE serial = ANY($1::text[]) ORDER BY id FOR UPDATE",
           kStateColumns);
  const char *values[1] = {list};
  // An index probe per serial: for a batch of more than a few percent of
  // the table the planner's costs prefer reading the whole table, many
  // times slower with rows of this width. For this transaction only (its
  // UPDATE by id too).
  PGresult *res =
      ca_store_tx_command(tx, "SET LOCAL enable_seqscan = off", 0, NULL,
                          PGRES_COMMAND_OK, "planning a batch")
          ? tx_query(tx, sql, 1, values, PGRES_TUPLES_OK,
                     "locking certificates")
          : NULL;
  free(list);
  if (res == NULL) {
    return 0;
  }
  ca_store_rows rows;
  const int ok = ca_store_decode_rows(res, &kMatchRows, NULL, 0, &rows);
  PQclear(res);
  CA_GUARD_RETURN(ok);
  *out = rows.rows;
  *out_n = rows.n;
  return 1;
}

int ca_store_tx_set_revocations(ca_store_tx *tx, const ca_revocation_row *rows,
                                size_t n) {
  char *ids = int_literal(rows, n, row_id);
  char *ats = int_literal(rows, n, row_at);
  char *reasons = int_literal(rows, n, row_reason);
  int ok = 0;
  CA_ENSURE(ids != NULL && ats != NULL && reasons != NULL, CA_ERR_NO_MEMORY,
            "out of memory");
  const char *values[3] = {ids, ats, reasons};
  ok = ca_store_tx_command(
      tx,
      "UPDATE certificates c SET status = 'revoked',"
      " revoked_at = to_timestamp(u.at), revocation_reason = u.reason"
      " FROM unnest($1::bigint[], $2::bigint[], $3::smallint[])"
      " AS u(id, at, reason) WHERE c.id = u.id",
      3, values, PGRES_COMMAND_OK, "recording revocations");
err:
  free(ids);
  free(ats);
  free(reasons);
  return ok;
}

int ca_store_tx_audit_objects(ca_store_tx *tx, const char *actor,
                              const char *action, const char *source,
                              const char *const *objects,
                              const char *const *details, size_t n) {
  char *object_list = array_literal(objects, n);
  char *detail_list = array_literal(details, n);
  int ok = 0;
  CA_ENSURE(object_list != NULL && detail_list != NULL, CA_ERR_NO_MEMORY,
            "out of memory");
  const char *values[5] = {actor, action, source, object_list, detail_list};
  ok = ca_store_tx_command(
      tx,
      "INSERT INTO audit_log (actor, action, object, source, outcome, detail)"
      " SELECT $1, $2, u.object, $3, 'ok', u.detail"
      " FROM unnest($4::text[], $5::text[]) AS u(object, detail)",
      5, values, PGRES_COMMAND_OK, "writing the audit log");
err:
  free(object_list);
  free(detail_list);
  return ok;
}

int ca_store_tx_notify_many(ca_store_tx *tx, const char *channel,
                            const char *const *payloads, size_t n) {
  char *list = array_literal(payloads, n);
  CA_ENSURE_ALLOC_RETURN(list);
  const char *values[2] = {channel, list};
  const int ok = ca_store_tx_command(
      tx, "SELECT count(pg_notify($1, p)) FROM unnest($2::text[]) AS p", 2,
      values, PGRES_TUPLES_OK, "NOTIFY");
  free(list);
  return ok;
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
