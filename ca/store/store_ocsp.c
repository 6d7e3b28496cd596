// Pre-signed OCSP answers (ca/store/store_ocsp.h).
#include "ca/store/store_ocsp.h"

#include <inttypes.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/store/store_internal.h"
#include "ca/x509/asn1_time.h"

void ca_ocsp_stored_clear(ca_ocsp_stored *s) {
  OPENSSL_free(s->der);
  s->der = NULL;
  s->der_len = 0;
}

// An answer states what the certificate's revocation row rv (migration
// 0018; none while good) says when both agree on the status, the time and
// the reason.
#define SAME_STATUS(a)                                      \
  a ".revoked = " CA_STORE_REVOKED " AND " a                \
    ".revoked_at IS NOT DISTINCT FROM rv.revoked_at AND " a \
    ".reason IS NOT DISTINCT FROM rv.reason"

// Columns 0-6 are the certificate's state (ca_store_get_cert_state), 7-9
// the answer, NULL when none qualifies.
static const char kLookupSql[] =
    "SELECT " CA_STORE_STATE_COLUMNS
    ","
    " a.der, extract(epoch FROM a.produced_at)::bigint,"
    " extract(epoch FROM a.next_update)::bigint"
    " FROM " CA_STORE_STATE_FROM
    " LEFT JOIN ocsp_answers a"
    " ON a.certificate_id = c.id AND a.cert_id = $3 AND a.signer = $4"
    " AND a.produced_at > $5::timestamptz AND " SAME_STATUS(
        "a") " WHERE c.serial = $1 AND c.issuer_id = $2::bigint";

typedef struct lookup_out {
  ca_cert_state *state;
  ca_ocsp_stored *answer;
  int *has_answer;
} lookup_out;

static int decode_lookup(PGresult *res, int row, void *elem, const void *arg) {
  (void)arg;
  const lookup_out *out = elem;
  ca_store_get_cert_state(res, row, out->state);
  if (PQgetisnull(res, row, 7)) {
    return 1;
  }
  ca_ocsp_stored *a = out->answer;
  CA_GUARD_RETURN(ca_store_get_bytea(res, row, 7, &a->der, &a->der_len));
  a->produced_at = ca_store_get_int(res, row, 8);
  a->next_update = ca_store_get_int(res, row, 9);
  a->revoked = out->state->revoked;
  a->revoked_at = out->state->revoked_at;
  a->reason = out->state->reason;
  *out->has_answer = 1;
  return 1;
}

int ca_store_ocsp_lookup(ca_store *store, int64_t issuer_id, const char *serial,
                         const uint8_t *cert_id, size_t cert_id_len,
                         const uint8_t signer[CA_OCSP_SIGNER_LEN],
                         int64_t produced_after, ca_cert_state *out_state,
                         int *out_found, ca_ocsp_stored *out_answer,
                         int *out_has_answer) {
  char issuer[24], after[21];
  *out_has_answer = 0;
  CA_ENSURE_RETURN(cert_id_len <= CA_OCSP_CERT_ID_MAX, CA_ERR_INTERNAL,
                   "CertID too long to look up");
  CA_GUARD_RETURN(ca_time_format(produced_after, after));
  snprintf(issuer, sizeof(issuer), "%" PRId64, issuer_id);
  const char *values[5] = {serial, issuer, (const char *)cert_id,
                           (const char *)signer, after};
  const int lengths[5] = {0, 0, (int)cert_id_len, CA_OCSP_SIGNER_LEN, 0};
  const int formats[5] = {0, 0, 1, 1, 0};
  const ca_store_stmt stmt = {.sql = kLookupSql,
                              .n_params = 5,
                              .values = values,
                              .lengths = lengths,
                              .formats = formats,
                              .what = "reading a certificate's status"};
  lookup_out out = {out_state, out_answer, out_has_answer};
  return ca_store_read_one(store, &stmt, decode_lookup, &out, NULL, out_found);
}

// The status an answer states, as parameters: revoked (0 or 1), and the
// revocation time (epoch seconds) and reason, 0 when good.
typedef struct status_params {
  char revoked[2];
  char at[24];
  char reason[8];
} status_params;

static void format_status(const ca_ocsp_stored *a, status_params *p) {
  snprintf(p->revoked, sizeof(p->revoked), "%d", a->revoked ? 1 : 0);
  snprintf(p->at, sizeof(p->at), "%" PRId64, a->revoked ? a->revoked_at : 0);
  snprintf(p->reason, sizeof(p->reason), "%d", a->revoked ? a->reason : 0);
}

// Whether the certificate (its revocation row rv) has the status of
// parameters $R, $T and $N (status_params), compared as the responder read
// it: to the second (ca_store_get_cert_state). An answer's row copies the
// revocation's columns, so that the lookup compares them exactly.
#define ROW_STATES(R, T, N)                                           \
  " " CA_STORE_REVOKED " = $" R                                       \
  "::int::boolean"                                                    \
  " AND coalesce(extract(epoch FROM rv.revoked_at)::bigint, 0) = $" T \
  "::bigint AND coalesce(rv.reason, 0) = $" N "::int"

// Parameters $1-$4 name the answer, $5-$7 its status, $8-$10 the response.
static const char kPutSql[] =
    "INSERT INTO ocsp_answers AS a (certificate_id, cert_id, signer,"
    " revoked, revoked_at, reason, produced_at, next_update, der)"
    " SELECT c.id, $3, $4, " CA_STORE_REVOKED ", rv.revoked_at,"
    " rv.reason, $8::timestamptz, $9::timestamptz, $10"
    " FROM " CA_STORE_STATE_FROM
    " WHERE c.issuer_id = $1::bigint AND c.serial = $2"
    " AND" ROW_STATES("5", "6", "7")
    " ON CONFLICT (certificate_id, cert_id, signer) DO UPDATE SET"
    " revoked = excluded.revoked, revoked_at = excluded.revoked_at,"
    " reason = excluded.reason, produced_at = excluded.produced_at,"
    " next_update = excluded.next_update, der = excluded.der"
    " WHERE a.produced_at < excluded.produced_at";

static int put_one(ca_store_tx *tx, const ca_ocsp_stored *a) {
  char issuer[24], produced[21], next[21];
  status_params st;
  format_status(a, &st);
  CA_GUARD_RETURN(ca_time_format(a->produced_at, produced));
  CA_GUARD_RETURN(ca_time_format(a->next_update, next));
  snprintf(issuer, sizeof(issuer), "%" PRId64, a->issuer_id);
  const char *values[10] = {issuer,
                            a->serial,
                            (const char *)a->cert_id,
                            (const char *)a->signer,
                            st.revoked,
                            st.at,
                            st.reason,
                            produced,
                            next,
                            (const char *)a->der};
  const int lengths[10] = {
      0, 0, (int)a->cert_id_len, CA_OCSP_SIGNER_LEN, 0, 0, 0,
      0, 0, (int)a->der_len};
  const int formats[10] = {0, 0, 1, 1, 0, 0, 0, 0, 0, 1};
  PGresult *res =
      ca_store_tx_query(tx, kPutSql, 10, values, lengths, formats,
                        PGRES_COMMAND_OK, "storing a pre-signed OCSP answer");
  if (res == NULL) {
    return 0;
  }
  PQclear(res);
  return 1;
}

int ca_store_ocsp_put(ca_store *store, const ca_ocsp_stored *answers,
                      size_t n) {
  ca_store_tx *tx = NULL;
  if (n == 0) {
    return 1;
  }
  CA_GUARD(ca_store_begin(store, &tx));
  CA_GUARD(ca_store_tx_command(tx, "SET LOCAL synchronous_commit = off", 0,
                               NULL, PGRES_COMMAND_OK, "set"));
  for (size_t i = 0; i < n; i++) {
    if (answers[i].cert_id_len <= CA_OCSP_CERT_ID_MAX) {
      CA_GUARD(put_one(tx, &answers[i]));
    }
  }
  CA_GUARD(ca_store_commit(&tx));
  return 1;
err:
  ca_store_rollback(tx);
  return 0;
}

// Columns: the answer's key (0-3), the certificate's status now (4-6).
static const char kDueSql[] =
    "SELECT c.issuer_id, c.serial, a.cert_id, a.certificate_id,"
    " " CA_STORE_REVOKED ","
    " coalesce(extract(epoch FROM rv.revoked_at)::bigint, 0),"
    " coalesce(rv.reason, 0)"
    " FROM ocsp_answers a JOIN certificates c ON c.id = a.certificate_id"
    CA_STORE_JOIN_REVOCATION("c")
    " WHERE a.signer = $1 AND a.produced_at < $2::timestamptz"
    " AND c.not_after > $3::timestamptz"
    " ORDER BY a.produced_at LIMIT $4::int FOR UPDATE OF a SKIP LOCKED";

// Parameters $1-$3 name the answer, $4-$6 the status it was signed for,
// $7-$9 the response.
static const char kRewriteSql[] =
    "UPDATE ocsp_answers a SET revoked = " CA_STORE_REVOKED
    ","
    " revoked_at = rv.revoked_at, reason = rv.reason,"
    " produced_at = $7::timestamptz, next_update = $8::timestamptz, der = $9"
    " FROM " CA_STORE_STATE_FROM
    " WHERE c.id = a.certificate_id"
    " AND a.certificate_id = $1::bigint AND a.cert_id = $2 AND a.signer = $3"
    " AND" ROW_STATES("4", "5", "6");

static int rewrite(ca_store_tx *tx, const char *certificate_id,
                   const ca_ocsp_stored *a) {
  char produced[21], next[21];
  status_params st;
  format_status(a, &st);
  CA_GUARD_RETURN(ca_time_format(a->produced_at, produced));
  CA_GUARD_RETURN(ca_time_format(a->next_update, next));
  const char *values[9] = {certificate_id,
                           (const char *)a->cert_id,
                           (const char *)a->signer,
                           st.revoked,
                           st.at,
                           st.reason,
                           produced,
                           next,
                           (const char *)a->der};
  const int lengths[9] = {
      0, (int)a->cert_id_len, CA_OCSP_SIGNER_LEN, 0, 0, 0, 0,
      0, (int)a->der_len};
  const int formats[9] = {0, 1, 1, 0, 0, 0, 0, 0, 1};
  PGresult *res =
      ca_store_tx_query(tx, kRewriteSql, 9, values, lengths, formats,
                        PGRES_COMMAND_OK, "renewing a pre-signed OCSP answer");
  if (res == NULL) {
    return 0;
  }
  PQclear(res);
  return 1;
}

// renew_row signs row |i| of |due| again and writes it. A row the signer
// declines (its CA gone, say) is left for the next round.
static int renew_row(ca_store_tx *tx, PGresult *due, int i,
                     const uint8_t signer[CA_OCSP_SIGNER_LEN], int64_t now,
                     ca_store_ocsp_renew_fn renew, void *arg, size_t *renewed) {
  ca_ocsp_stored a;
  memset(&a, 0, sizeof(a));
  uint8_t *cert_id = NULL;
  size_t cert_id_len;
  int ret = 0;
  a.issuer_id = ca_store_get_int(due, i, 0);
  snprintf(a.serial, sizeof(a.serial), "%s", PQgetvalue(due, i, 1));
  CA_GUARD(ca_store_get_bytea(due, i, 2, &cert_id, &cert_id_len));
  if (cert_id_len > CA_OCSP_CERT_ID_MAX) {
    ret = 1;
    goto err;
  }
  memcpy(a.cert_id, cert_id, cert_id_len);
  a.cert_id_len = cert_id_len;
  memcpy(a.signer, signer, CA_OCSP_SIGNER_LEN);
  a.revoked = ca_store_get_bool(due, i, 4);
  a.revoked_at = ca_store_get_int(due, i, 5);
  a.reason = (int)ca_store_get_int(due, i, 6);
  if (!renew(arg, &a, now)) {
    ca_err_clear();
    ret = 1;
    goto err;
  }
  CA_GUARD(rewrite(tx, PQgetvalue(due, i, 3), &a));
  (*renewed)++;
  ret = 1;
err:
  OPENSSL_free(cert_id);
  ca_ocsp_stored_clear(&a);
  return ret;
}

int ca_store_ocsp_renew(ca_store *store,
                        const uint8_t signer[CA_OCSP_SIGNER_LEN],
                        int64_t produced_before, int64_t now, size_t max,
                        ca_store_ocsp_renew_fn renew, void *arg,
                        size_t *out_renewed) {
  ca_store_tx *tx = NULL;
  PGresult *due = NULL;
  char before[21], now_text[21], limit[24];
  *out_renewed = 0;
  CA_GUARD(ca_time_format(produced_before, before));
  CA_GUARD(ca_time_format(now, now_text));
  snprintf(limit, sizeof(limit), "%zu", max);
  CA_GUARD(ca_store_begin(store, &tx));
  CA_GUARD(ca_store_tx_command(tx, "SET LOCAL synchronous_commit = off", 0,
                               NULL, PGRES_COMMAND_OK, "set"));
  {
    const char *values[1] = {now_text};
    CA_GUARD(ca_store_tx_command(
        tx,
        "DELETE FROM ocsp_answers a USING certificates c"
        " WHERE c.id = a.certificate_id AND c.not_after <= $1::timestamptz",
        1, values, PGRES_COMMAND_OK,
        "deleting answers of expired certificates"));
  }
  const char *values[4] = {(const char *)signer, before, now_text, limit};
  const int lengths[4] = {CA_OCSP_SIGNER_LEN, 0, 0, 0};
  const int formats[4] = {1, 0, 0, 0};
  due = ca_store_tx_query(tx, kDueSql, 4, values, lengths, formats,
                          PGRES_TUPLES_OK, "reading OCSP answers to renew");
  CA_GUARD_PTR(due);
  for (int i = 0; i < PQntuples(due); i++) {
    CA_GUARD(renew_row(tx, due, i, signer, now, renew, arg, out_renewed));
  }
  PQclear(due);
  due = NULL;
  CA_GUARD(ca_store_commit(&tx));
  return 1;
err:
  PQclear(due);
  ca_store_rollback(tx);
  *out_renewed = 0;
  return 0;
}

static int decode_count(PGresult *res, int row, void *elem, const void *arg) {
  (void)arg;
  *(int64_t *)elem = ca_store_get_int(res, row, 0);
  return 1;
}

int ca_store_ocsp_count(ca_store *store, int64_t *out) {
  int found;
  const ca_store_stmt stmt = {.sql = "SELECT count(*) FROM ocsp_answers",
                              .what = "counting OCSP answers"};
  *out = 0;
  return ca_store_read_one(store, &stmt, decode_count, out, NULL, &found);
}
