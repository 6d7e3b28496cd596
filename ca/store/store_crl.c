// The CRL half of ca/store/store.h and ca/store/store_crl.h: CRL state,
// numbers, storage, and the streams of a CRL's entries and bytes.
#include "ca/store/store_crl.h"

#include <inttypes.h>
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/store/store_internal.h"
#include "ca/x509/asn1_time.h"

// Seconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z): a
// binary timestamptz counts microseconds from there.
#define PG_EPOCH_OFFSET INT64_C(946684800)

static void id_text(char out[24], int64_t v) {
  snprintf(out, 24, "%" PRId64, v);
}

static void shard_text(char out[8], unsigned shard) {
  snprintf(out, 8, "%u", shard);
}

// --- State, queue, numbers ---

// The CA-wide CRL's changes ($1 the CA), as the Unix second the oldest was
// queued, NULL when none: every change of the CA (crl_pending, and shard 0
// of crl_pending_shards), then those of certificates without a shard
// (shard 0 alone, queued by migration 0021's trigger), which no shard's
// CRL carries. least() skips a NULL.
#define OLDEST_QUEUED(FROM_WHERE) \
  "(SELECT floor(extract(epoch FROM min(p.queued_at)))::bigint " FROM_WHERE ")"
#define OLDEST_OWN                                               \
  OLDEST_QUEUED(                                                 \
      "FROM crl_pending_shards p WHERE p.issuer_id = $1::bigint" \
      " AND p.shard = 0")
#define OLDEST_ANY        \
  "least(" OLDEST_QUEUED( \
      "FROM crl_pending p WHERE p.issuer_id = $1::bigint") ", " OLDEST_OWN ")"
#define WIDE_PENDING_COLUMNS OLDEST_ANY ", " OLDEST_OWN

// read_state reads a CRL's state (columns 0-3) and, for the CA-wide CRL,
// when the oldest change only it carries was queued (column 4).
static int read_state(ca_store_tx *tx, int64_t issuer_id, unsigned shard,
                      ca_crl_state *out, ca_crl_wide_pending *own) {
  char issuer[24], k[8];
  id_text(issuer, issuer_id);
  shard_text(k, shard);
  const char *values[2] = {issuer, k};
  memset(out, 0, sizeof(*out));
  PGresult *res = ca_store_tx_query(
      tx,
      shard == 0
          ? "SELECT c.crl_number, extract(epoch FROM c.this_update)::bigint,"
            " extract(epoch FROM c.next_update)::bigint, " WIDE_PENDING_COLUMNS
            " FROM (SELECT 1) one LEFT JOIN crls c"
            " ON c.issuer_id = $1::bigint AND c.shard = $2::smallint"
          : "SELECT c.crl_number, extract(epoch FROM c.this_update)::bigint,"
            " extract(epoch FROM c.next_update)::bigint,"
            " (SELECT floor(extract(epoch FROM min(p.queued_at)))::bigint"
            " FROM crl_pending_shards p WHERE p.issuer_id = $1::bigint"
            " AND p.shard = $2::smallint), NULL::bigint"
            " FROM (SELECT 1) one LEFT JOIN crls c"
            " ON c.issuer_id = $1::bigint AND c.shard = $2::smallint",
      2, values, NULL, NULL, PGRES_TUPLES_OK, "reading the CRL state");
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
    if (own != NULL) {
      own->any = out->pending;
      own->any_since = out->pending_since;
      own->own = !PQgetisnull(res, 0, 4);
      own->own_since = own->own ? ca_store_get_int(res, 0, 4) : 0;
    }
  }
  PQclear(res);
  return 1;
}

int ca_store_tx_shard_crl_state(ca_store_tx *tx, int64_t issuer_id,
                                unsigned shard, ca_crl_state *out) {
  return read_state(tx, issuer_id, shard, out, NULL);
}

int ca_store_tx_wide_crl_state(ca_store_tx *tx, int64_t issuer_id,
                               ca_crl_state *out,
                               ca_crl_wide_pending *pending) {
  memset(pending, 0, sizeof(*pending));
  return read_state(tx, issuer_id, 0, out, pending);
}

int ca_store_tx_crl_state(ca_store_tx *tx, int64_t issuer_id,
                          ca_crl_state *out) {
  return ca_store_tx_shard_crl_state(tx, issuer_id, 0, out);
}

int ca_store_tx_take_shard_pending(ca_store_tx *tx, int64_t issuer_id,
                                   unsigned shard) {
  char issuer[24], k[8];
  id_text(issuer, issuer_id);
  shard_text(k, shard);
  const char *values[2] = {issuer, k};
  return ca_store_tx_command(
      tx,
      // Both queues of the CA-wide CRL, in one statement (one snapshot).
      shard == 0 ? "WITH wide AS (DELETE FROM crl_pending"
                   " WHERE issuer_id = $1::bigint RETURNING 1)"
                   " DELETE FROM crl_pending_shards"
                   " WHERE issuer_id = $1::bigint AND shard = $2::smallint"
                 : "DELETE FROM crl_pending_shards"
                   " WHERE issuer_id = $1::bigint AND shard = $2::smallint",
      2, values, PGRES_COMMAND_OK, "taking the changes a CRL covers");
}

int ca_store_tx_take_pending(ca_store_tx *tx, int64_t issuer_id) {
  return ca_store_tx_take_shard_pending(tx, issuer_id, 0);
}

static int decode_since(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  int64_t *since = elem;
  *since = ca_store_get_int(res, i, 0);
  return 1;
}

int ca_store_shard_pending_since(ca_store *store, int64_t issuer_id,
                                 unsigned shard, int64_t *out_since,
                                 int *out_found) {
  // The CA-wide CRL's changes are of two kinds: ca_store_wide_pending.
  CA_ENSURE_RETURN(shard > 0, CA_ERR_INTERNAL,
                   "the CA-wide CRL's changes are read apart");
  char issuer[24], k[8];
  id_text(issuer, issuer_id);
  shard_text(k, shard);
  const char *values[2] = {issuer, k};
  const ca_store_stmt stmt = {
      .sql =
          "SELECT floor(extract(epoch FROM queued_at))::bigint"
          " FROM crl_pending_shards WHERE issuer_id = $1::bigint"
          " AND shard = $2::smallint ORDER BY queued_at LIMIT 1",
      .n_params = 2,
      .values = values,
      .what = "reading the changes waiting for a CRL"};
  *out_since = 0;
  return ca_store_read_one(store, &stmt, decode_since, out_since, NULL,
                           out_found);
}

static int decode_wide(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_crl_wide_pending *out = elem;
  out->any = !PQgetisnull(res, i, 0);
  out->any_since = out->any ? ca_store_get_int(res, i, 0) : 0;
  out->own = !PQgetisnull(res, i, 1);
  out->own_since = out->own ? ca_store_get_int(res, i, 1) : 0;
  return 1;
}

int ca_store_wide_pending(ca_store *store, int64_t issuer_id,
                          ca_crl_wide_pending *out) {
  char issuer[24];
  id_text(issuer, issuer_id);
  const char *values[1] = {issuer};
  const ca_store_stmt stmt = {.sql = "SELECT " WIDE_PENDING_COLUMNS,
                              .n_params = 1,
                              .values = values,
                              .what = "reading the changes waiting for a CRL"};
  int found;
  memset(out, 0, sizeof(*out));
  return ca_store_read_one(store, &stmt, decode_wide, out, NULL, &found);
}

int ca_store_tx_next_shard_crl_number(ca_store_tx *tx, int64_t issuer_id,
                                      unsigned shard, uint64_t *out) {
  char issuer[24], k[8];
  id_text(issuer, issuer_id);
  shard_text(k, shard);
  const char *values[2] = {issuer, k};
  int locked;
  if (!ca_store_tx_lock_crl(tx, issuer_id, 1, &locked)) {
    return 0;
  }
  // The CRL lock makes two nodes publish one after the other, each with
  // its own number, even before the row exists; FOR UPDATE keeps the row
  // of the callers that predate it.
  PGresult *res = ca_store_tx_query(
      tx,
      "SELECT crl_number FROM crls WHERE issuer_id = $1::bigint"
      " AND shard = $2::smallint FOR UPDATE",
      2, values, NULL, NULL, PGRES_TUPLES_OK, "reading the CRL number");
  if (res == NULL) {
    return 0;
  }
  *out = PQntuples(res) > 0 ? (uint64_t)ca_store_get_int(res, 0, 0) + 1 : 1;
  PQclear(res);
  return 1;
}

int ca_store_tx_next_crl_number(ca_store_tx *tx, int64_t issuer_id,
                                uint64_t *out) {
  return ca_store_tx_next_shard_crl_number(tx, issuer_id, 0, out);
}

int ca_store_tx_crl_top_shard(ca_store_tx *tx, int64_t issuer_id,
                              unsigned *out) {
  char issuer[24];
  id_text(issuer, issuer_id);
  const char *values[1] = {issuer};
  PGresult *res = ca_store_tx_query(
      tx,
      "SELECT greatest(coalesce((SELECT max(shard) FROM crls"
      " WHERE issuer_id = $1::bigint), 0), coalesce((SELECT max(shard)"
      " FROM crl_pending_shards WHERE issuer_id = $1::bigint), 0))",
      1, values, NULL, NULL, PGRES_TUPLES_OK, "reading the CRL shards");
  if (res == NULL) {
    return 0;
  }
  *out = PQntuples(res) == 1 ? (unsigned)ca_store_get_int(res, 0, 0) : 0;
  PQclear(res);
  return 1;
}

// --- Storing and reading CRLs ---

int ca_store_tx_put_crl(ca_store_tx *tx, int64_t issuer_id, uint64_t number,
                        int64_t this_update, int64_t next_update,
                        const uint8_t *der, size_t der_len) {
  ca_crl_put *p;
  CA_GUARD_RETURN(ca_store_tx_crl_put_begin(
      tx, issuer_id, 0, number, this_update, next_update, der_len, &p));
  const int ok = ca_crl_put_write(p, der, der_len);
  return ca_crl_put_finish(p, !ok) && ok;
}

// Where a stored CRL's bytes are: in crl_parts (migration 0020), or, for
// a CRL stored before, in crls.der.
typedef enum crl_place { IN_PARTS, IN_DER } crl_place;

// read_crl_head reads the number, times, length and place of a stored CRL.
static int read_crl_head(PGconn *conn, const char *const values[2],
                         ca_crl_row *out, size_t *out_len, crl_place *out_place,
                         int *out_found) {
  PGresult *res = ca_store_check_result(
      conn,
      PQexecParams(conn,
                   "SELECT crl_number, extract(epoch FROM this_update)::bigint,"
                   " extract(epoch FROM next_update)::bigint,"
                   " CASE WHEN der IS NULL THEN der_len"
                   " ELSE octet_length(der) END, der IS NULL FROM crls"
                   " WHERE issuer_id = $1::bigint AND shard = $2::smallint",
                   2, NULL, values, NULL, NULL, 0),
      PGRES_TUPLES_OK, "reading a CRL");
  if (res == NULL) {
    return 0;
  }
  *out_found = PQntuples(res) == 1 && !PQgetisnull(res, 0, 3);
  if (*out_found) {
    out->number = (uint64_t)ca_store_get_int(res, 0, 0);
    out->this_update = ca_store_get_int(res, 0, 1);
    out->next_update = ca_store_get_int(res, 0, 2);
    *out_len = (size_t)ca_store_get_int(res, 0, 3);
    *out_place = PQgetvalue(res, 0, 4)[0] == 't' ? IN_PARTS : IN_DER;
  }
  PQclear(res);
  return 1;
}

// A slice of the CRL numbered $3 from its octet $4 (0-based), at most $5
// octets: from the part holding that octet, so a slice never crosses from
// one part into the next (it ends where its part does).
static const char kPartSlice[] =
    "SELECT substring(bytes FROM ($4::bigint - at + 1)::integer"
    " FOR $5::integer) FROM crl_parts WHERE issuer_id = $1::bigint"
    " AND shard = $2::smallint AND crl_number = $3::bigint"
    " AND at <= $4::bigint ORDER BY at DESC LIMIT 1";
static const char kDerSlice[] =
    "SELECT substring(der FROM $4::integer + 1 FOR $5::integer)"
    " FROM crls WHERE issuer_id = $1::bigint"
    " AND shard = $2::smallint AND crl_number = $3::bigint";

// read_crl_slices reads the |len| bytes of the CRL numbered |number| into
// |out|, a slice at a time, in binary. It fails with CA_ERR_CONFLICT when
// another CRL replaced it meanwhile (each slice is its own statement, and
// the parts of a CRL are deleted when the next one commits).
static int read_crl_slices(PGconn *conn, const char *const values[2],
                           uint64_t number, crl_place place, uint8_t *out,
                           size_t len) {
  char num[24], from[24], count[24];
  snprintf(num, sizeof(num), "%" PRIu64, number);
  snprintf(count, sizeof(count), "%d", CA_STORE_CRL_SLICE);
  for (size_t off = 0; off < len;) {
    snprintf(from, sizeof(from), "%zu", off);
    const char *params[5] = {values[0], values[1], num, from, count};
    PGresult *res = ca_store_check_result(
        conn,
        PQexecParams(conn, place == IN_PARTS ? kPartSlice : kDerSlice, 5, NULL,
                     params, NULL, NULL, 1),
        PGRES_TUPLES_OK, "reading a CRL");
    if (res == NULL) {
      return 0;
    }
    const size_t got = PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)
                           ? (size_t)PQgetlength(res, 0, 0)
                           : 0;
    const int ok = got > 0 && got <= len - off;
    if (ok) {
      memcpy(out + off, PQgetvalue(res, 0, 0), got);
    }
    PQclear(res);
    CA_ENSURE_RETURN(ok, CA_ERR_CONFLICT,
                     "the CRL was replaced while it was read");
    off += got;
  }
  return 1;
}

int ca_store_get_shard_crl(ca_store *store, int64_t issuer_id, unsigned shard,
                           ca_crl_row *out, int *out_found) {
  size_t slot, len = 0;
  PGconn *conn;
  char issuer[24], k[8];
  id_text(issuer, issuer_id);
  shard_text(k, shard);
  const char *values[2] = {issuer, k};
  memset(out, 0, sizeof(*out));
  *out_found = 0;
  if (!ca_store_acquire(store, &slot, &conn)) {
    return 0;
  }
  int ok = 0, found = 0;
  // A CRL replaced between two slices is read again, from its head.
  for (int attempt = 0; attempt < 3; attempt++) {
    OPENSSL_free(out->der);
    memset(out, 0, sizeof(*out));
    crl_place place;
    if (!read_crl_head(conn, values, out, &len, &place, &found)) {
      break;
    }
    if (!found) {
      ok = 1;
      break;
    }
    out->der = OPENSSL_malloc(len > 0 ? len : 1);
    if (out->der == NULL) {
      CA_SET_ERROR(CA_ERR_NO_MEMORY, "out of memory");
      break;
    }
    out->der_len = len;
    ok = read_crl_slices(conn, values, out->number, place, out->der, len);
    if (ok || ca_err_get()->code != CA_ERR_CONFLICT) {
      break;
    }
  }
  ca_store_release(store, slot);
  if (!ok || !found) {
    OPENSSL_free(out->der);
    memset(out, 0, sizeof(*out));
    return ok;
  }
  *out_found = 1;
  return 1;
}

int ca_store_get_crl(ca_store *store, int64_t issuer_id, ca_crl_row *out,
                     int *out_found) {
  return ca_store_get_shard_crl(store, issuer_id, 0, out, out_found);
}

// --- The revoked certificates, streamed ---

// While pkid encodes one batch of entries, PostgreSQL reads the next: a
// FETCH is sent as soon as the previous one's rows are handed out (the
// read-ahead), and its result read when they are asked for, or before any
// other statement of the transaction (ca_store_tx's settle hook: libpq runs
// one statement at a time on a connection).
struct ca_revoked_stream {
  ca_store_tx *tx;
  int open;                            // the cursor exists
  char issuer[24], shard[8], now[21];  // its parameters
  int ahead;  // a FETCH of |ahead_cap| rows is in flight
  size_t ahead_cap;
  PGresult *held;  // a FETCH's result, rows from |held_pos| not handed out
  int held_pos;
  size_t held_cap;  // the rows it asked for
  int done;         // a FETCH came back short: the cursor is at its end
};

static int receive(ca_revoked_stream *s);

// settle_stream is the transaction's settle hook while a FETCH is in
// flight: its rows stay held for the stream.
static int settle_stream(void *arg) {
  return receive(arg);
}

// send_fetch sends a FETCH of |cap| rows, binary, without waiting for it.
static int send_fetch(ca_revoked_stream *s, size_t cap) {
  char sql[64];
  snprintf(sql, sizeof(sql), "FETCH FORWARD %zu FROM pki_crl_rows", cap);
  // Binary results: no number parsed from text, and the row arrives as it
  // is stored.
  if (!PQsendQueryParams(s->tx->conn, sql, 0, NULL, NULL, NULL, NULL, 1)) {
    (void)ca_store_check_result(s->tx->conn, NULL, PGRES_TUPLES_OK,
                                "reading revoked certificates");
    s->tx->failed = 1;
    return 0;
  }
  s->ahead = 1;
  s->ahead_cap = cap;
  s->tx->settle = settle_stream;
  s->tx->settle_arg = s;
  return 1;
}

// receive waits for the FETCH in flight and makes its result |held|.
static int receive(ca_revoked_stream *s) {
  PGconn *conn = s->tx->conn;
  s->ahead = 0;
  s->tx->settle = NULL;
  s->tx->settle_arg = NULL;
  PGresult *res = PQgetResult(conn);
  for (PGresult *end; (end = PQgetResult(conn)) != NULL;) {
    PQclear(end);  // a single statement: nothing else may follow
  }
  res = ca_store_check_result(conn, res, PGRES_TUPLES_OK,
                              "reading revoked certificates");
  if (res == NULL) {
    s->tx->failed = 1;
    return 0;
  }
  PQclear(s->held);
  s->held = res;
  s->held_pos = 0;
  s->held_cap = s->ahead_cap;
  return 1;
}

// drop forgets the rows read ahead (a rewind or close).
static int drop(ca_revoked_stream *s) {
  const int ok = !s->ahead || receive(s);
  PQclear(s->held);
  s->held = NULL;
  s->done = 0;
  return ok;
}

// The rows of a CRL, without their columns: parameters $1 issuer, $2 the
// CRL's time (expired certificates are left out), $3 shard (0: every one).
#define REVOKED_ROWS(COLUMNS)                           \
  "SELECT " COLUMNS                                     \
  " FROM revocations"                                   \
  " WHERE issuer_id = $1::bigint"                       \
  " AND ($3::smallint = 0 OR crl_shard = $3::smallint)" \
  " AND not_after > $2::timestamptz"

int ca_store_tx_revoked_open(ca_store_tx *tx, int64_t issuer_id, unsigned shard,
                             int64_t now, ca_revoked_stream **out) {
  char issuer[24], k[8], now_text[21];
  id_text(issuer, issuer_id);
  shard_text(k, shard);
  CA_GUARD_RETURN(ca_time_format(now, now_text));
  ca_revoked_stream *s = calloc(1, sizeof(*s));
  CA_ENSURE_ALLOC_RETURN(s);
  s->tx = tx;
  memcpy(s->issuer, issuer, sizeof(s->issuer));
  memcpy(s->shard, k, sizeof(s->shard));
  memcpy(s->now, now_text, sizeof(s->now));
  const char *values[3] = {issuer, now_text, k};
  // SCROLL: the cursor may be read twice (its rows are those of its
  // snapshot, both times). The narrow revocations table alone (migration
  // 0018), in the order it is stored: a CRL's revokedCertificates is a
  // SEQUENCE, in no required order, and a sort of every entry would cost
  // more than the read. The shard's own index serves a shard (the planner
  // sees $3 when it plans); the CA-wide CRL reads every revocation of the
  // CA.
  if (!ca_store_tx_command(
          tx,
          "DECLARE pki_crl_rows SCROLL CURSOR FOR " REVOKED_ROWS(
              "serial, revoked_at, reason"),
          3, values, PGRES_COMMAND_OK, "opening the revoked certificates")) {
    free(s);
    return 0;
  }
  s->open = 1;
  *out = s;
  return 1;
}

static uint64_t be64(const char *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) {
    v = v << 8 | (uint8_t)p[i];
  }
  return v;
}

// decode_entry reads row |i| of a binary FETCH: serial (text), revoked_at
// (timestamptz: microseconds from 2000-01-01), reason (smallint).
static int decode_entry(PGresult *res, int i, ca_revoked_entry *e) {
  const int serial_len = PQgetlength(res, i, 0);
  CA_ENSURE_RETURN(serial_len > 0 && serial_len < CA_SERIAL_HEX_LEN &&
                       !PQgetisnull(res, i, 1) && PQgetlength(res, i, 1) == 8,
                   CA_ERR_INTERNAL, "unexpected revoked row");
  memcpy(e->serial, PQgetvalue(res, i, 0), (size_t)serial_len);
  e->serial[serial_len] = '\0';
  const int64_t us = (int64_t)be64(PQgetvalue(res, i, 1));
  // Floor division: a time before 2000 counts down.
  const int64_t s = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
  e->revoked_at = s + PG_EPOCH_OFFSET;
  e->reason = 0;
  if (!PQgetisnull(res, i, 2) && PQgetlength(res, i, 2) == 2) {
    const uint8_t *r = (const uint8_t *)PQgetvalue(res, i, 2);
    e->reason = (int)(int16_t)(r[0] << 8 | r[1]);
  }
  return 1;
}

int ca_revoked_stream_next(ca_revoked_stream *s, ca_revoked_entry *out,
                           size_t cap, size_t *out_n) {
  *out_n = 0;
  if (cap == 0) {
    return 1;
  }
  CA_ENSURE_RETURN(!s->tx->failed, CA_ERR_STORAGE_UNAVAILABLE,
                   "transaction failed earlier");
  if (s->held == NULL) {
    if (s->done) {
      return 1;
    }
    if (!s->ahead) {
      CA_GUARD_RETURN(send_fetch(s, cap));
    }
    CA_GUARD_RETURN(receive(s));
  }
  const int total = PQntuples(s->held);
  size_t n = 0;
  for (; n < cap && s->held_pos < total; n++, s->held_pos++) {
    CA_GUARD_RETURN(decode_entry(s->held, s->held_pos, &out[n]));
  }
  if (s->held_pos == total) {
    const size_t asked = s->held_cap;
    PQclear(s->held);
    s->held = NULL;
    s->done = (size_t)total < asked;
    if (!s->done) {
      CA_GUARD_RETURN(send_fetch(s, asked));
    }
  }
  *out_n = n;
  return 1;
}

// The octets of one entry as ca/revocation/crl.c encodes it: SEQUENCE
// (2; an entry is shorter than 128), INTEGER serial (2, the magnitude's
// octets, a leading 0 when its top bit is set; serials are stored as the
// lower-case hex of the magnitude), UTCTime before 2050 (15) else
// GeneralizedTime (17), and a reasonCode extension unless unspecified (14).
// The cheapest expressions that say so, since it runs on every row: the
// octets of the hex (ASCII) rather than its characters, and a first digit
// of 8 or more compared bytewise, without a substring.
#define ENTRY_LEN                                                          \
  "4 + (octet_length(serial) + 1) / 2 + CASE WHEN"                         \
  " octet_length(serial) % 2 = 0 AND serial COLLATE \"C\" >= '8'"          \
  " THEN 1 ELSE 0 END"                                                     \
  " + CASE WHEN revoked_at < timestamptz '2050-01-01 00:00:00+00' THEN 15" \
  " ELSE 17 END + CASE WHEN reason <> 0 THEN 14 ELSE 0 END"

int ca_revoked_stream_measure(ca_revoked_stream *s, size_t *out_n,
                              size_t *out_len) {
  const char *values[3] = {s->issuer, s->now, s->shard};
  PGresult *res = ca_store_tx_query(
      s->tx, REVOKED_ROWS("count(*), coalesce(sum(" ENTRY_LEN "), 0)"), 3,
      values, NULL, NULL, PGRES_TUPLES_OK, "measuring revoked certificates");
  CA_GUARD_RETURN(res != NULL);
  *out_n = (size_t)ca_store_get_int(res, 0, 0);
  *out_len = (size_t)ca_store_get_int(res, 0, 1);
  PQclear(res);
  return 1;
}

int ca_revoked_stream_rewind(ca_revoked_stream *s) {
  CA_GUARD_RETURN(drop(s));
  return ca_store_tx_command(s->tx, "MOVE ABSOLUTE 0 IN pki_crl_rows", 0, NULL,
                             PGRES_COMMAND_OK,
                             "rewinding revoked certificates");
}

void ca_revoked_stream_close(ca_revoked_stream *s) {
  if (s == NULL) {
    return;
  }
  ca_err saved;
  ca_err_copy(&saved);
  const int settled = drop(s);
  ca_err_restore(&saved);
  if (s->open && settled && !s->tx->failed) {
    (void)ca_store_tx_command(s->tx, "CLOSE pki_crl_rows", 0, NULL,
                              PGRES_COMMAND_OK, "closing a cursor");
    ca_err_restore(&saved);
  }
  free(s);
}

// --- Writing a CRL in parts ---
//
// The CRL's bytes are made while its entries are still being fetched from
// the cursor, so they cannot travel in a COPY (which holds the connection
// until it ends): each piece the CRL's writer sends is an INSERT of one
// part into crl_parts, where the CRL stays (migration 0020): it is never
// assembled or copied. `crls` gets its head when the last part is in, and
// the parts of the CRL it replaces go in the same transaction.

struct ca_crl_put {
  ca_store_tx *tx;
  char issuer[24];
  char shard[8];
  char number[24];
  char this_update[21];
  char next_update[21];
  size_t announced;
  size_t sent;  // bytes sent so far: the offset of the next part
};

int ca_store_tx_crl_put_begin(ca_store_tx *tx, int64_t issuer_id,
                              unsigned shard, uint64_t number,
                              int64_t this_update, int64_t next_update,
                              size_t der_len, ca_crl_put **out) {
  CA_ENSURE_RETURN(der_len <= INT32_MAX, CA_ERR_INTERNAL,
                   "a CRL of %zu bytes is too large to store", der_len);
  ca_crl_put *p = calloc(1, sizeof(*p));
  CA_ENSURE_ALLOC_RETURN(p);
  p->tx = tx;
  id_text(p->issuer, issuer_id);
  shard_text(p->shard, shard);
  snprintf(p->number, sizeof(p->number), "%" PRIu64, number);
  if (!ca_time_format(this_update, p->this_update) ||
      !ca_time_format(next_update, p->next_update)) {
    free(p);
    return 0;
  }
  p->announced = der_len;
  // Parts of this number can only be those of a CRL stored again under
  // the same number (ca_store_tx_put_crl): never part of this one.
  const char *values[3] = {p->issuer, p->shard, p->number};
  if (!ca_store_tx_command(tx,
                           "DELETE FROM crl_parts WHERE issuer_id = $1::bigint"
                           " AND shard = $2::smallint"
                           " AND crl_number = $3::bigint",
                           3, values, PGRES_COMMAND_OK, "storing a CRL")) {
    free(p);
    return 0;
  }
  *out = p;
  return 1;
}

int ca_crl_put_write(ca_crl_put *p, const uint8_t *data, size_t len) {
  CA_ENSURE_RETURN(len <= p->announced - p->sent, CA_ERR_INTERNAL,
                   "the CRL is longer than announced");
  if (len == 0) {
    return 1;
  }
  char at[24];
  snprintf(at, sizeof(at), "%zu", p->sent);
  const char *values[5] = {p->issuer, p->shard, p->number, at,
                           (const char *)data};
  const int lengths[5] = {0, 0, 0, 0, (int)len};
  const int formats[5] = {0, 0, 0, 0, 1};
  PGresult *res = ca_store_tx_query(
      p->tx,
      "INSERT INTO crl_parts (issuer_id, shard, crl_number, at, bytes)"
      " VALUES ($1::bigint, $2::smallint, $3::bigint, $4::bigint, $5::bytea)",
      5, values, lengths, formats, PGRES_COMMAND_OK, "storing a CRL");
  CA_GUARD_RETURN(res != NULL);
  PQclear(res);
  p->sent += len;
  return 1;
}

int ca_crl_put_finish(ca_crl_put *p, int abandon) {
  int ok = 0;
  PGresult *res = NULL;
  char len[24];
  if (abandon) {
    goto done;  // the caller rolls back; its error stands
  }
  CA_ENSURE(p->sent == p->announced, CA_ERR_INTERNAL,
            "the CRL is shorter than announced");
  snprintf(len, sizeof(len), "%zu", p->announced);
  const char *values[6] = {p->issuer,      p->shard,       p->number,
                           p->this_update, p->next_update, len};
  // The head, with the length its parts add up to (octet_length of a value
  // stored out of line reads its header alone): any other is refused.
  res = ca_store_tx_query(
      p->tx,
      "INSERT INTO crls (issuer_id, shard, crl_number, this_update,"
      " next_update, der, der_len)"
      " SELECT $1::bigint, $2::smallint, $3::bigint, $4::timestamptz,"
      " $5::timestamptz, NULL, $6::integer"
      " WHERE (SELECT coalesce(sum(octet_length(bytes)), 0) FROM crl_parts"
      " WHERE issuer_id = $1::bigint AND shard = $2::smallint"
      " AND crl_number = $3::bigint) = $6::integer"
      " ON CONFLICT (issuer_id, shard) DO UPDATE SET"
      " crl_number = excluded.crl_number,"
      " this_update = excluded.this_update,"
      " next_update = excluded.next_update, der = NULL,"
      " der_len = excluded.der_len RETURNING 1",
      6, values, NULL, NULL, PGRES_TUPLES_OK, "storing a CRL");
  CA_GUARD(res != NULL);
  CA_ENSURE(PQntuples(res) == 1, CA_ERR_INTERNAL,
            "the stored CRL is not the one written");
  // The CRL replaced, and any left by a CRL of another number: readers of
  // the old one meet CA_ERR_CONFLICT and read the new one.
  CA_GUARD(ca_store_tx_command(p->tx,
                               "DELETE FROM crl_parts"
                               " WHERE issuer_id = $1::bigint"
                               " AND shard = $2::smallint"
                               " AND crl_number <> $3::bigint",
                               3, values, PGRES_COMMAND_OK, "storing a CRL"));
  ok = 1;
err:
done:
  PQclear(res);
  free(p);
  return ok;
}
