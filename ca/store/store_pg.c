// ca/store/store.h on PostgreSQL through libpq (ca/store/pq.h).
#include <inttypes.h>
#include <openssl/mem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/hex.h"
#include "ca/limits.h"
#include "ca/store/pq.h"
#include "ca/store/sql_split.h"
#include "ca/store/store.h"
#include "ca/store/store_internal.h"
#include "ca/x509/asn1_time.h"
#include "migrations/migrations.h"

// Advisory lock keys: arbitrary constants, the same on every node.
#define LOCK_MIGRATIONS INT64_C(0x706b690001)
#define LOCK_BOOTSTRAP INT64_C(0x706b690002)

// How often a node waiting for another's migrations asks for their lock.
#define CA_MIGRATION_LOCK_POLL_MS 50

static void silent_notice(void *arg, const char *message) {
  (void)arg;
  (void)message;
}

static PGconn *connect_one(const char *conninfo) {
  // The keys before dbname are defaults: a value in |conninfo| overrides
  // them. JIT off: PostgreSQL compiles a statement whose estimated cost
  // passes jit_above_cost, and a find whose estimate is of millions of rows
  // but which stops after a page paid 100 to 170 ms of compilation for a
  // few milliseconds of work; pki's statements are short.
  const char *const keys[] = {"connect_timeout", "fallback_application_name",
                              "options", "dbname", NULL};
  const char *const values[] = {"10", "pkid", "-c jit=off", conninfo, NULL};
  PGconn *conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn != NULL) {
    PQsetNoticeProcessor(conn, silent_notice, NULL);
  }
  return conn;
}

void ca_store_raise_conn(PGconn *conn, const char *what) {
  const char *msg = conn != NULL ? PQerrorMessage(conn) : "out of memory";
  size_t len = strlen(msg);
  while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' ')) {
    len--;
  }
  CA_SET_ERROR(CA_ERR_STORAGE_UNAVAILABLE, "database %s: %.*s", what, (int)len,
               msg);
}

int ca_store_open(const char *conninfo, size_t pool_size, ca_store **out) {
  ca_store *store = NULL;
  CA_GUARD(ca_pq_load());
  CA_ENSURE(pool_size > 0 && pool_size <= 256, CA_ERR_CONFIG,
            "database pool size must be 1 to 256");
  store = calloc(1, sizeof(*store));
  CA_ENSURE_ALLOC(store);
  store->conns = calloc(pool_size, sizeof(PGconn *));
  store->busy = calloc(pool_size, 1);
  store->conn_epoch = calloc(pool_size, sizeof(uint64_t));
  CA_ENSURE_ALLOC(store->conns);
  CA_ENSURE_ALLOC(store->busy);
  CA_ENSURE_ALLOC(store->conn_epoch);
  store->n = pool_size;
  store->backoff_ms = CA_LIMIT_DB_RETRY_MIN_MS;
  CA_ENSURE(pthread_mutex_init(&store->mu, NULL) == 0 &&
                pthread_cond_init(&store->cv, NULL) == 0,
            CA_ERR_INTERNAL, "cannot create the pool lock");
  for (size_t i = 0; i < pool_size; i++) {
    store->conns[i] = connect_one(conninfo);
    if (store->conns[i] == NULL || PQstatus(store->conns[i]) != CONNECTION_OK) {
      ca_store_raise_conn(store->conns[i], "connection failed");
      goto err;
    }
  }
  *out = store;
  return 1;
err:
  ca_store_free(store);
  return 0;
}

void ca_store_free(ca_store *store) {
  if (store == NULL) {
    return;
  }
  for (size_t i = 0; i < store->n; i++) {
    if (store->conns[i] != NULL) {
      PQfinish(store->conns[i]);
    }
  }
  free(store->conns);
  free(store->busy);
  free(store->conn_epoch);
  pthread_mutex_destroy(&store->mu);
  pthread_cond_destroy(&store->cv);
  free(store);
}

static int64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ca_store_set_state_callback(ca_store *store, ca_store_state_fn fn,
                                 void *arg) {
  store->on_state = fn;
  store->state_arg = arg;
}

// conn_message copies libpq's message for |conn| without its line end.
static void conn_message(PGconn *conn, char *out, size_t out_len) {
  const char *msg = conn != NULL ? PQerrorMessage(conn) : "out of memory";
  size_t len = strlen(msg);
  while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' ')) {
    len--;
  }
  snprintf(out, out_len, "%.*s", (int)len, msg);
}

// attempt_done records the outcome of a connection attempt; |mu| is held.
static void attempt_done(ca_store *store, size_t slot, int ok, PGconn *conn) {
  const int64_t now = monotonic_ms();
  if (ok) {
    store->conn_epoch[slot] = store->epoch;
    store->backoff_ms = CA_LIMIT_DB_RETRY_MIN_MS;
    if (store->down) {
      store->down = 0;
      if (store->on_state != NULL) {
        store->on_state(store->state_arg, 1, "");
      }
    }
    return;
  }
  conn_message(conn, store->last_error, sizeof(store->last_error));
  if (!store->down) {
    // Every connection open now was open when the server went away.
    store->down = 1;
    store->epoch++;
    store->down_since_ms = now;
    store->backoff_ms = CA_LIMIT_DB_RETRY_MIN_MS;
    if (store->on_state != NULL) {
      store->on_state(store->state_arg, 0, store->last_error);
    }
  }
  store->next_attempt_ms = now + store->backoff_ms;
  store->backoff_ms = store->backoff_ms * 2 < CA_LIMIT_DB_RETRY_MAX_MS
                          ? store->backoff_ms * 2
                          : CA_LIMIT_DB_RETRY_MAX_MS;
}

// The last connection of a pool of two or more is kept for the transactions
// that carry CRLs (ca_store_begin_large): they take turns there, never
// holding up the connections issuance uses.
static size_t large_slot(const ca_store *store) {
  return store->n - 1;
}

static size_t general_slots(const ca_store *store) {
  return store->n >= 2 ? store->n - 1 : store->n;
}

// acquire_in borrows a connection among the slots [lo, hi).
static int acquire_in(ca_store *store, size_t lo, size_t hi, size_t *out_slot,
                      PGconn **out_conn) {
  pthread_mutex_lock(&store->mu);
  size_t i = lo;
  for (;;) {
    for (i = lo; i < hi && store->busy[i]; i++) {
    }
    if (i < hi) {
      break;
    }
    pthread_cond_wait(&store->cv, &store->mu);
  }
  store->busy[i] = 1;
  PGconn *conn = store->conns[i];
  if (PQstatus(conn) == CONNECTION_OK && store->conn_epoch[i] == store->epoch) {
    pthread_mutex_unlock(&store->mu);
    *out_slot = i;
    *out_conn = conn;
    return 1;
  }
  // The connection must be re-established. While the database is held
  // unreachable, only one attempt at a time, and none before the backoff
  // ends: the others fail at once rather than wait for a connect timeout.
  const int64_t now = monotonic_ms();
  if (store->down && (store->probing || now < store->next_attempt_ms)) {
    const int64_t wait = store->probing ? 0 : store->next_attempt_ms - now;
    const int64_t since = (now - store->down_since_ms) / 1000;
    char last[sizeof(store->last_error)];
    memcpy(last, store->last_error, sizeof(last));
    store->busy[i] = 0;
    pthread_cond_signal(&store->cv);
    pthread_mutex_unlock(&store->mu);
    CA_SET_ERROR(CA_ERR_STORAGE_UNAVAILABLE,
                 "database unreachable for %" PRId64
                 " s (next attempt in %" PRId64 " ms): %s",
                 since, wait, last);
    return 0;
  }
  const int probe = store->down;
  store->probing |= probe;
  pthread_mutex_unlock(&store->mu);

  PQreset(conn);
  const int ok = PQstatus(conn) == CONNECTION_OK;

  pthread_mutex_lock(&store->mu);
  if (probe) {
    store->probing = 0;
  }
  attempt_done(store, i, ok, conn);
  char last[sizeof(store->last_error)];
  if (!ok) {
    // Copied before the slot is released: another thread may reuse |conn|.
    memcpy(last, store->last_error, sizeof(last));
    store->busy[i] = 0;
    pthread_cond_signal(&store->cv);
  }
  pthread_mutex_unlock(&store->mu);
  if (!ok) {
    CA_SET_ERROR(CA_ERR_STORAGE_UNAVAILABLE, "database reconnect failed: %s",
                 last);
    return 0;
  }
  *out_slot = i;
  *out_conn = conn;
  return 1;
}

int ca_store_acquire(ca_store *store, size_t *out_slot, PGconn **out_conn) {
  return acquire_in(store, 0, general_slots(store), out_slot, out_conn);
}

int ca_store_acquire_large(ca_store *store, size_t *out_slot,
                           PGconn **out_conn) {
  return acquire_in(store, large_slot(store), store->n, out_slot, out_conn);
}

void ca_store_release(ca_store *store, size_t slot) {
  pthread_mutex_lock(&store->mu);
  store->busy[slot] = 0;
  pthread_cond_signal(&store->cv);
  pthread_mutex_unlock(&store->mu);
}

PGresult *ca_store_check_result(PGconn *conn, PGresult *res,
                                ExecStatusType want, const char *what) {
  if (res != NULL && PQresultStatus(res) == want) {
    return res;
  }
  if (res == NULL) {
    ca_store_raise_conn(conn, what);
    return NULL;
  }
  const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  // 23505 unique_violation: a serial drawn twice (COPY cannot skip it).
  const int conflict = state != NULL && strcmp(state, "23505") == 0;
  CA_SET_ERROR(conflict ? CA_ERR_CONFLICT : CA_ERR_STORAGE_UNAVAILABLE,
               "database %s failed: %s (SQLSTATE %s)", what,
               msg != NULL ? msg : PQresultErrorMessage(res),
               state != NULL ? state : "?");
  PQclear(res);
  return NULL;
}

int ca_store_exec(PGconn *conn, const char *sql, const char *what) {
  PGresult *res =
      ca_store_check_result(conn, PQexec(conn, sql), PGRES_COMMAND_OK, what);
  if (res == NULL) {
    return 0;
  }
  PQclear(res);
  return 1;
}

static int exec_lock(PGconn *conn, const char *fn, int64_t key) {
  char sql[96];
  snprintf(sql, sizeof(sql), "SELECT %s(%" PRId64 ")", fn, key);
  PGresult *res =
      ca_store_check_result(conn, PQexec(conn, sql), PGRES_TUPLES_OK, fn);
  if (res == NULL) {
    return 0;
  }
  PQclear(res);
  return 1;
}

int ca_store_ping(ca_store *store) {
  size_t slot;
  PGconn *conn;
  if (!ca_store_acquire(store, &slot, &conn)) {
    return 0;
  }
  PGresult *res = ca_store_check_result(conn, PQexec(conn, "SELECT 1"),
                                        PGRES_TUPLES_OK, "ping");
  const int ok = res != NULL;
  PQclear(res);
  ca_store_release(store, slot);
  return ok;
}

// --- Migrations ---

static int migration_applied(PGresult *applied, int version) {
  for (int i = 0; i < PQntuples(applied); i++) {
    if (atoi(PQgetvalue(applied, i, 0)) == version) {
      return 1;
    }
  }
  return 0;
}

// record_migration adds |m| to schema_migrations.
static int record_migration(PGconn *conn, const pki_migration *m) {
  char version[16];
  snprintf(version, sizeof(version), "%d", m->version);
  const char *params[2] = {version, m->name};
  PGresult *res = ca_store_check_result(
      conn,
      PQexecParams(conn,
                   "INSERT INTO schema_migrations (version, name) "
                   "VALUES ($1, $2)",
                   2, NULL, params, NULL, NULL, 0),
      PGRES_COMMAND_OK, "recording a migration");
  PQclear(res);
  return res != NULL;
}

// apply_statements applies a migration marked CA_SQL_NO_TRANSACTION_MARKER:
// each statement on its own, outside any transaction block, as CREATE
// INDEX CONCURRENTLY requires (it builds an index without blocking the
// writes of nodes that keep serving). Such a file is not atomic: a start
// that stops half-way (a crash, a lost connection) leaves the statements
// before the failing one applied and the migration unrecorded, so the next
// start runs the whole file again. Each statement must therefore be safe
// to repeat (IF NOT EXISTS; DROP INDEX CONCURRENTLY IF EXISTS before
// CREATE INDEX CONCURRENTLY, which leaves an INVALID index behind when it
// fails).
static int apply_statements(PGconn *conn, const pki_migration *m) {
  size_t pos = 0, start = 0, len = 0;
  while (ca_sql_next_statement(m->sql, &pos, &start, &len)) {
    char *one = OPENSSL_strndup(m->sql + start, len);
    CA_ENSURE_ALLOC_RETURN(one);
    PGresult *res = ca_store_check_result(conn, PQexec(conn, one),
                                          PGRES_COMMAND_OK, m->name);
    OPENSSL_free(one);
    if (res == NULL) {
      return 0;
    }
    PQclear(res);
  }
  return record_migration(conn, m);
}

static int apply_migration(PGconn *conn, const pki_migration *m) {
  if (ca_sql_no_transaction(m->sql)) {
    return apply_statements(conn, m);
  }
  if (!ca_store_exec(conn, "BEGIN", "begin")) {
    return 0;
  }
  PGresult *res = ca_store_check_result(conn, PQexec(conn, m->sql),
                                        PGRES_COMMAND_OK, m->name);
  const int ok = res != NULL && record_migration(conn, m);
  PQclear(res);
  if (!ok) {
    ca_err saved;
    ca_err_copy(&saved);
    (void)ca_store_exec(conn, "ROLLBACK", "rollback");
    ca_err_restore(&saved);
    return 0;
  }
  return ca_store_exec(conn, "COMMIT", "commit");
}

// wait_migration_lock takes the migrations' advisory lock, polling with
// pg_try_advisory_lock rather than waiting in pg_advisory_lock: a session
// waiting inside a statement holds a snapshot, and CREATE INDEX
// CONCURRENTLY on the node applying the migrations waits for every older
// snapshot to end, so two nodes starting together would deadlock (and
// PostgreSQL would cancel one of them).
static int wait_migration_lock(PGconn *conn) {
  char sql[96];
  snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_lock(%" PRId64 ")",
           LOCK_MIGRATIONS);
  for (;;) {
    PGresult *res = ca_store_check_result(conn, PQexec(conn, sql),
                                          PGRES_TUPLES_OK, "migration lock");
    if (res == NULL) {
      return 0;
    }
    const int got = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    if (got) {
      return 1;
    }
    const struct timespec pause = {0, CA_MIGRATION_LOCK_POLL_MS * 1000000L};
    nanosleep(&pause, NULL);
  }
}

int ca_store_migrate(ca_store *store) {
  size_t slot = 0;
  PGconn *conn = NULL;
  PGresult *applied = NULL;
  int locked = 0;
  CA_GUARD(ca_store_acquire(store, &slot, &conn));
  CA_GUARD(wait_migration_lock(conn));
  locked = 1;
  CA_GUARD(ca_store_exec(conn,
                         "CREATE TABLE IF NOT EXISTS schema_migrations ("
                         " version integer PRIMARY KEY,"
                         " name text NOT NULL,"
                         " applied_at timestamptz NOT NULL DEFAULT now())",
                         "creating schema_migrations"));
  applied = ca_store_check_result(
      conn, PQexec(conn, "SELECT version FROM schema_migrations"),
      PGRES_TUPLES_OK, "reading schema_migrations");
  CA_GUARD(applied != NULL);
  for (size_t i = 0; i < pki_migration_count; i++) {
    const pki_migration *m = &pki_migrations[i];
    if (!migration_applied(applied, m->version)) {
      CA_GUARD(apply_migration(conn, m));
    }
  }
  PQclear(applied);
  CA_GUARD(exec_lock(conn, "pg_advisory_unlock", LOCK_MIGRATIONS));
  ca_store_release(store, slot);
  return 1;
err:
  PQclear(applied);
  if (locked) {
    ca_err saved;
    ca_err_copy(&saved);
    (void)exec_lock(conn, "pg_advisory_unlock", LOCK_MIGRATIONS);
    ca_err_restore(&saved);
  }
  if (conn != NULL) {
    ca_store_release(store, slot);
  }
  return 0;
}

// --- Result decoding ---

int ca_store_get_bytea(PGresult *res, int row, int col, uint8_t **out,
                       size_t *out_len) {
  const char *text = PQgetvalue(res, row, col);
  const size_t len = (size_t)PQgetlength(res, row, col);
  CA_ENSURE(len >= 2 && text[0] == '\\' && text[1] == 'x' && len % 2 == 0,
            CA_ERR_STORAGE_UNAVAILABLE,
            "database returned bytea not in hex format");
  const size_t n = (len - 2) / 2;
  uint8_t *buf = OPENSSL_malloc(n > 0 ? n : 1);
  CA_ENSURE_ALLOC(buf);
  for (size_t i = 0; i < n; i++) {
    const int hi = ca_hex_value(text[2 + 2 * i]);
    const int lo = ca_hex_value(text[3 + 2 * i]);
    if (hi < 0 || lo < 0) {
      OPENSSL_free(buf);
      CA_RAISE(CA_ERR_STORAGE_UNAVAILABLE, "database returned bad hex");
    }
    buf[i] = (uint8_t)(hi << 4 | lo);
  }
  *out = buf;
  *out_len = n;
  return 1;
err:
  return 0;
}

PGresult *ca_store_tx_query(ca_store_tx *tx, const char *sql, int n,
                            const char *const *values, const int *lengths,
                            const int *formats, ExecStatusType want,
                            const char *what) {
  if (tx->settle != NULL && !tx->settle(tx->settle_arg)) {
    return NULL;  // the settled statement failed the transaction
  }
  if (tx->failed) {
    CA_SET_ERROR(CA_ERR_STORAGE_UNAVAILABLE, "transaction failed earlier");
    return NULL;
  }
  PGresult *res = ca_store_check_result(
      tx->conn,
      PQexecParams(tx->conn, sql, n, NULL, values, lengths, formats, 0), want,
      what);
  if (res == NULL) {
    tx->failed = 1;
  }
  return res;
}

int ca_store_tx_command(ca_store_tx *tx, const char *sql, int n,
                        const char *const *values, ExecStatusType want,
                        const char *what) {
  PGresult *res = ca_store_tx_query(tx, sql, n, values, NULL, NULL, want, what);
  PQclear(res);
  return res != NULL;
}

int64_t ca_store_get_int(PGresult *res, int row, int col) {
  return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

// --- Issuers ---

void ca_issuer_row_cleanup(ca_issuer_row *r) {
  OPENSSL_free(r->name);
  OPENSSL_free(r->role);
  OPENSSL_free(r->algorithm);
  OPENSSL_free(r->parent);
  OPENSSL_free(r->subject);
  OPENSSL_free(r->serial);
  OPENSSL_free(r->der);
  OPENSSL_free(r->key_file);
  memset(r, 0, sizeof(*r));
}

void ca_issuer_rows_free(ca_issuer_row *records, size_t n) {
  if (records == NULL) {
    return;
  }
  for (size_t i = 0; i < n; i++) {
    ca_issuer_row_cleanup(&records[i]);
  }
  free(records);
}

static const char kSelectIssuers[] =
    "SELECT i.id, i.name, i.role, i.algorithm, p.name, i.subject, i.serial,"
    " extract(epoch FROM i.not_before)::bigint,"
    " extract(epoch FROM i.not_after)::bigint, i.der, i.key_file"
    " FROM issuers i LEFT JOIN issuers p ON p.id = i.parent_id"
    " ORDER BY i.id";

static int decode_issuer(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_issuer_row *r = elem;
  r->id = ca_store_get_int(res, i, 0);
  r->not_before = ca_store_get_int(res, i, 7);
  r->not_after = ca_store_get_int(res, i, 8);
  CA_ENSURE_RETURN(ca_store_get_text_or_null(res, i, 1, &r->name) &&
                       ca_store_get_text_or_null(res, i, 2, &r->role) &&
                       ca_store_get_text_or_null(res, i, 3, &r->algorithm) &&
                       ca_store_get_text_or_null(res, i, 4, &r->parent) &&
                       ca_store_get_text_or_null(res, i, 5, &r->subject) &&
                       ca_store_get_text_or_null(res, i, 6, &r->serial) &&
                       ca_store_get_text_or_null(res, i, 10, &r->key_file),
                   CA_ERR_NO_MEMORY, "out of memory");
  return ca_store_get_bytea(res, i, 9, &r->der, &r->der_len);
}

static void free_issuers(void *rows, size_t n) {
  ca_issuer_rows_free(rows, n);
}

static const ca_store_row_type kIssuerRows = {sizeof(ca_issuer_row),
                                              decode_issuer, free_issuers};

// read_issuers reads every issuer on |conn|, inside the caller's
// transaction (ca_store_bootstrap_issuers), hence not ca_store_read_rows.
static int read_issuers(PGconn *conn, ca_issuer_row **out, size_t *out_n) {
  ca_store_rows rows;
  PGresult *res = ca_store_check_result(conn, PQexec(conn, kSelectIssuers),
                                        PGRES_TUPLES_OK, "reading issuers");
  CA_GUARD_RETURN(res != NULL);
  const int ok = ca_store_decode_rows(res, &kIssuerRows, NULL, 0, &rows);
  PQclear(res);
  CA_GUARD_RETURN(ok);
  *out = rows.rows;
  *out_n = rows.n;
  return 1;
}

static int insert_issuer(PGconn *conn, const ca_issuer_row *r) {
  char nb[21], na[21];
  CA_ENSURE(
      ca_time_format(r->not_before, nb) && ca_time_format(r->not_after, na),
      CA_ERR_INTERNAL, "issuer validity out of range");
  const char *values[10] = {
      r->name, r->role, r->algorithm,         r->parent,  r->subject, r->serial,
      nb,      na,      (const char *)r->der, r->key_file};
  int lengths[10] = {0};
  int formats[10] = {0};
  lengths[8] = (int)r->der_len;
  formats[8] = 1;
  PGresult *res = ca_store_check_result(
      conn,
      PQexecParams(conn,
                   "INSERT INTO issuers (name, role, algorithm, parent_id,"
                   " subject, serial, not_before, not_after, der, key_file)"
                   " VALUES ($1, $2, $3,"
                   " (SELECT id FROM issuers WHERE name = $4),"
                   " $5, $6, $7, $8, $9, $10)",
                   10, NULL, values, lengths, formats, 0),
      PGRES_COMMAND_OK, "inserting an issuer");
  CA_GUARD(res != NULL);
  PQclear(res);
  return 1;
err:
  return 0;
}

int ca_store_bootstrap_issuers(ca_store *store, ca_issuer_generator generate,
                               void *arg, ca_issuer_row **out, size_t *out_n) {
  size_t slot = 0;
  PGconn *conn = NULL;
  ca_issuer_row *made = NULL;
  size_t made_n = 0;
  int in_tx = 0;
  CA_GUARD(ca_store_acquire(store, &slot, &conn));
  CA_GUARD(ca_store_exec(conn, "BEGIN", "begin"));
  in_tx = 1;
  CA_GUARD(exec_lock(conn, "pg_advisory_xact_lock", LOCK_BOOTSTRAP));
  CA_GUARD(read_issuers(conn, out, out_n));
  if (*out_n > 0) {
    CA_GUARD(ca_store_exec(conn, "COMMIT", "commit"));
    ca_store_release(store, slot);
    return 1;
  }
  // None yet: the empty array read is dropped, the CAs made are read back.
  ca_issuer_rows_free(*out, *out_n);
  *out = NULL;
  CA_GUARD(generate(arg, &made, &made_n));
  for (size_t i = 0; i < made_n; i++) {
    CA_GUARD(insert_issuer(conn, &made[i]));
  }
  CA_GUARD(ca_store_exec(conn, "COMMIT", "commit"));
  in_tx = 0;
  ca_issuer_rows_free(made, made_n);
  made = NULL;
  CA_GUARD(read_issuers(conn, out, out_n));
  ca_store_release(store, slot);
  return 1;
err:
  ca_issuer_rows_free(made, made_n);
  if (conn != NULL) {
    if (in_tx) {
      ca_err saved;
      ca_err_copy(&saved);
      (void)ca_store_exec(conn, "ROLLBACK", "rollback");
      ca_err_restore(&saved);
    }
    ca_store_release(store, slot);
  }
  return 0;
}

// --- Transactions ---

static int begin_on(ca_store *store, int large, ca_store_tx **out) {
  ca_store_tx *tx = calloc(1, sizeof(*tx));
  CA_ENSURE_ALLOC(tx);
  tx->store = store;
  if (!(large ? ca_store_acquire_large(store, &tx->slot, &tx->conn)
              : ca_store_acquire(store, &tx->slot, &tx->conn))) {
    free(tx);
    return 0;
  }
  if (!ca_store_exec(tx->conn, "BEGIN", "begin")) {
    ca_store_tx_end(tx);
    return 0;
  }
  *out = tx;
  return 1;
err:
  return 0;
}

int ca_store_begin(ca_store *store, ca_store_tx **out) {
  return begin_on(store, 0, out);
}

int ca_store_begin_large(ca_store *store, ca_store_tx **out) {
  return begin_on(store, 1, out);
}

void ca_store_tx_end(ca_store_tx *tx) {
  ca_store_release(tx->store, tx->slot);
  if (tx->kept != NULL) {
    tx->kept_type->free(tx->kept);
  }
  free(tx);
}

int ca_store_commit(ca_store_tx **txp) {
  ca_store_tx *tx = *txp;
  *txp = NULL;  // consumed whatever happens: the caller's rollback is a no-op
  int ok = !tx->failed;
  if (ok) {
    // A COMMIT of a transaction that failed earlier reports ROLLBACK as its
    // command tag, never an error; tx->failed guards that case above.
    ok = ca_store_exec(tx->conn, "COMMIT", "commit");
  } else {
    CA_SET_ERROR(CA_ERR_STORAGE_UNAVAILABLE,
                 "transaction failed earlier; nothing was stored");
    (void)ca_store_exec(tx->conn, "ROLLBACK", "rollback");
  }
  ca_store_tx_end(tx);
  return ok;
}

void ca_store_rollback(ca_store_tx *tx) {
  if (tx == NULL) {
    return;
  }
  ca_err saved;
  ca_err_copy(&saved);
  (void)ca_store_exec(tx->conn, "ROLLBACK", "rollback");
  ca_err_restore(&saved);
  ca_store_tx_end(tx);
}

int ca_store_tx_audit(ca_store_tx *tx, const char *actor, const char *action,
                      const char *object, const char *source,
                      const char *outcome, const char *detail) {
  const ca_new_audit_row row = {actor, action, object, source, outcome, detail};
  return ca_store_tx_audit_many(tx, &row, 1);
}

#define AUDIT_COLUMNS 6

// audit_statement builds the INSERT of |n| <= CA_LIMIT_INSERT_ROWS audit
// rows: its text in |*out_sql| and its parameters, borrowed from |rows|, in
// |*out_values|. The caller frees both with free().
static int audit_statement(const ca_new_audit_row *rows, size_t n,
                           char **out_sql, const char ***out_values) {
  const char **values = calloc(n * AUDIT_COLUMNS, sizeof(char *));
  // "($1,...,$6)," is at most 6 * 6 + 3 bytes per row.
  const size_t cap = 128 + n * (AUDIT_COLUMNS * 6 + 3);
  char *sql = malloc(cap);
  if (values == NULL || sql == NULL) {
    free(values);
    free(sql);
    CA_SET_ERROR(CA_ERR_NO_MEMORY, "out of memory");
    return 0;
  }
  size_t off = (size_t)snprintf(sql, cap,
                                "INSERT INTO audit_log (actor, action, object,"
                                " source, outcome, detail) VALUES ");
  for (size_t i = 0; i < n; i++) {
    const char *row[AUDIT_COLUMNS] = {rows[i].actor,   rows[i].action,
                                      rows[i].object,  rows[i].source,
                                      rows[i].outcome, rows[i].detail};
    memcpy(&values[i * AUDIT_COLUMNS], row, sizeof(row));
    const size_t p = i * AUDIT_COLUMNS;
    off += (size_t)snprintf(sql + off, cap - off,
                            "%s($%zu,$%zu,$%zu,$%zu,$%zu,$%zu)", i ? "," : "",
                            p + 1, p + 2, p + 3, p + 4, p + 5, p + 6);
  }
  *out_sql = sql;
  *out_values = values;
  return 1;
}

// audit_chunk inserts |n| <= CA_LIMIT_INSERT_ROWS audit rows.
static int audit_chunk(ca_store_tx *tx, const ca_new_audit_row *rows,
                       size_t n) {
  const char **values = NULL;
  char *sql = NULL;
  PGresult *res = NULL;
  CA_GUARD(audit_statement(rows, n, &sql, &values));
  res = ca_store_check_result(
      tx->conn,
      PQexecParams(tx->conn, sql, (int)(n * AUDIT_COLUMNS), NULL, values, NULL,
                   NULL, 0),
      PGRES_COMMAND_OK, "writing the audit log");
  CA_GUARD(res != NULL);
  PQclear(res);
  free(values);
  free(sql);
  return 1;
err:
  tx->failed = 1;
  free(values);
  free(sql);
  return 0;
}

int ca_store_tx_audit_many(ca_store_tx *tx, const ca_new_audit_row *rows,
                           size_t n) {
  CA_ENSURE(!tx->failed, CA_ERR_STORAGE_UNAVAILABLE,
            "transaction failed earlier");
  for (size_t off = 0; off < n; off += CA_LIMIT_INSERT_ROWS) {
    const size_t chunk =
        n - off < CA_LIMIT_INSERT_ROWS ? n - off : CA_LIMIT_INSERT_ROWS;
    CA_GUARD(audit_chunk(tx, rows + off, chunk));
  }
  return 1;
err:
  return 0;
}

// --- The end of a group commit, in one round trip ---

// send_tail queues, in pipeline mode, the audit rows, the NOTIFY and the
// COMMIT; it returns the number of statements queued, 0 on failure.
static int send_tail(PGconn *conn, const ca_new_audit_row *rows, size_t n,
                     const char *channel, const char *payload) {
  int sent = 0;
  for (size_t off = 0; off < n; off += CA_LIMIT_INSERT_ROWS) {
    const size_t chunk =
        n - off < CA_LIMIT_INSERT_ROWS ? n - off : CA_LIMIT_INSERT_ROWS;
    char *sql = NULL;
    const char **values = NULL;
    if (!audit_statement(rows + off, chunk, &sql, &values)) {
      return 0;
    }
    // libpq copies the parameters into its output buffer at once.
    const int queued = PQsendQueryParams(
        conn, sql, (int)(chunk * AUDIT_COLUMNS), NULL, values, NULL, NULL, 0);
    free(sql);
    free(values);
    CA_ENSURE_RETURN(queued == 1, CA_ERR_STORAGE_UNAVAILABLE,
                     "database write failed: %s", PQerrorMessage(conn));
    sent++;
  }
  const char *notify[2] = {channel, payload};
  CA_ENSURE_RETURN(PQsendQueryParams(conn, "SELECT pg_notify($1, $2)", 2, NULL,
                                     notify, NULL, NULL, 0) == 1 &&
                       PQsendQueryParams(conn, "COMMIT", 0, NULL, NULL, NULL,
                                         NULL, 0) == 1 &&
                       PQpipelineSync(conn) == 1,
                   CA_ERR_STORAGE_UNAVAILABLE, "database write failed: %s",
                   PQerrorMessage(conn));
  return sent + 2;
}

// read_tail reads the results of the |sent| statements send_tail queued
// and the pipeline's end. The first failure is the error; a statement
// after it is not run (PGRES_PIPELINE_ABORTED), the COMMIT included. It
// returns 1 when every statement succeeded, and leaves in |*drained|
// whether the connection is back out of the pipeline.
static int read_tail(PGconn *conn, int sent, int *drained) {
  ca_err first;
  int ok = 1;
  *drained = 0;
  for (int i = 0; i < sent; i++) {
    const int notify = i == sent - 2, commit = i == sent - 1;
    PGresult *res = ca_store_check_result(
        conn, PQgetResult(conn), notify ? PGRES_TUPLES_OK : PGRES_COMMAND_OK,
        commit   ? "commit"
        : notify ? "NOTIFY"
                 : "writing the audit log");
    if (res == NULL) {
      if (ok) {
        ca_err_copy(&first);  // the first failure is the one reported
        ok = 0;
      }
      if (PQstatus(conn) != CONNECTION_OK) {
        ca_err_restore(&first);
        return 0;  // the connection is gone: nothing more to read
      }
    }
    PQclear(res);
    // Each statement's results end with NULL.
    for (PGresult *rest; (rest = PQgetResult(conn)) != NULL;) {
      PQclear(rest);
    }
  }
  PGresult *sync = PQgetResult(conn);
  *drained = sync != NULL && PQresultStatus(sync) == PGRES_PIPELINE_SYNC &&
             PQexitPipelineMode(conn) == 1;
  PQclear(sync);
  if (!ok) {
    ca_err_restore(&first);
  }
  return ok;
}

int ca_store_commit_audited(ca_store_tx **txp, const ca_new_audit_row *rows,
                            size_t n, const char *channel,
                            const char *payload) {
  ca_store_tx *tx = *txp;
  *txp = NULL;  // consumed whatever happens, as by ca_store_commit
  int ok = 0, drained = 1, sent = 0;
  CA_ENSURE(!tx->failed, CA_ERR_STORAGE_UNAVAILABLE,
            "transaction failed earlier; nothing was stored");
  CA_ENSURE(PQenterPipelineMode(tx->conn) == 1, CA_ERR_STORAGE_UNAVAILABLE,
            "database write failed: %s", PQerrorMessage(tx->conn));
  drained = 0;
  sent = send_tail(tx->conn, rows, n, channel, payload);
  CA_GUARD(sent > 0);
  ok = read_tail(tx->conn, sent, &drained);
err:
  if (!ok) {
    ca_err saved;
    ca_err_copy(&saved);
    if (drained) {
      // A failed statement left the transaction aborted: end it.
      (void)ca_store_exec(tx->conn, "ROLLBACK", "rollback");
    } else {
      // Results still pending, or the connection broken: the pool
      // re-establishes it before lending it again, as after an outage
      // (the server rolls back what an ended connection left open), rather
      // than a rollback on a connection in an unknown state.
      pthread_mutex_lock(&tx->store->mu);
      tx->store->conn_epoch[tx->slot] = tx->store->epoch - 1;
      pthread_mutex_unlock(&tx->store->mu);
    }
    ca_err_restore(&saved);
  }
  ca_store_tx_end(tx);
  return ok;
}

// --- Certificates ---

#define CERT_COLUMNS 18

// Text parameters of one row that are not borrowed from the record.
typedef struct row_text {
  char issuer_id[24];
  char replaces_id[24];
  char crl_shard[8];
  char key_bits[16];
  char not_before[21];
  char not_after[21];
  char *sans;  // array literal, owned
} row_text;

char *ca_store_text_array(const char *const *sans, size_t n) {
  size_t len = 3;
  for (size_t i = 0; i < n; i++) {
    len += 2 * strlen(sans[i]) + 3;
  }
  char *out = OPENSSL_malloc(len);
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
    for (const char *s = sans[i]; *s != '\0'; s++) {
      if (*s == '"' || *s == '\\') {
        *p++ = '\\';
      }
      *p++ = *s;
    }
    *p++ = '"';
  }
  *p++ = '}';
  *p = '\0';
  return out;
}

// The parameters of one multi-row INSERT: |n| rows of CERT_COLUMNS values,
// the text they are written in, and the statement. Owned by insert_chunk.
typedef struct insert_params {
  size_t n;
  const char **values;
  int *lengths;
  int *formats;
  row_text *text;
  char *sql;
  size_t sql_cap;
  size_t sql_len;
} insert_params;

static void insert_params_free(insert_params *p) {
  if (p->text != NULL) {
    for (size_t i = 0; i < p->n; i++) {
      OPENSSL_free(p->text[i].sans);
    }
  }
  free(p->values);
  free(p->lengths);
  free(p->formats);
  free(p->text);
  free(p->sql);
}

static int insert_params_init(insert_params *p, size_t n) {
  memset(p, 0, sizeof(*p));
  p->n = n;
  const size_t params = n * CERT_COLUMNS;
  p->values = calloc(params, sizeof(char *));
  p->lengths = calloc(params, sizeof(int));
  p->formats = calloc(params, sizeof(int));
  p->text = calloc(n, sizeof(row_text));
  // "($1,...,$18)," is at most 18 * 7 + 3 bytes per row.
  p->sql_cap = 512 + n * (CERT_COLUMNS * 7 + 3);
  p->sql = malloc(p->sql_cap);
  CA_ENSURE(p->values != NULL && p->lengths != NULL && p->formats != NULL &&
                p->text != NULL && p->sql != NULL,
            CA_ERR_NO_MEMORY, "out of memory");
  p->sql_len = (size_t)snprintf(
      p->sql, p->sql_cap,
      "INSERT INTO certificates (issuer_id, serial, profile, subject,"
      " common_name, sans, key_type, key_bits, not_before, not_after, der,"
      " requester, csr_sha256, key_generated, cluster, self_signed,"
      " replaces_id, crl_shard) VALUES ");
  return 1;
err:
  return 0;
}

// bind_row sets the parameters of row |i| to record |r| and appends its
// placeholders to the statement.
static int bind_row(insert_params *p, size_t i, const ca_new_cert_row *r) {
  row_text *t = &p->text[i];
  snprintf(t->issuer_id, sizeof(t->issuer_id), "%" PRId64, r->issuer_id);
  snprintf(t->replaces_id, sizeof(t->replaces_id), "%" PRId64, r->replaces_id);
  snprintf(t->key_bits, sizeof(t->key_bits), "%u", r->key_bits);
  snprintf(t->crl_shard, sizeof(t->crl_shard), "%u", r->crl_shard);
  CA_ENSURE(ca_time_format(r->not_before, t->not_before) &&
                ca_time_format(r->not_after, t->not_after),
            CA_ERR_INTERNAL, "validity out of range");
  t->sans = ca_store_text_array(r->sans, r->san_count);
  CA_ENSURE_ALLOC(t->sans);
  const char *row[CERT_COLUMNS] = {r->self_signed ? NULL : t->issuer_id,
                                   r->serial,
                                   r->profile,
                                   r->subject,
                                   r->common_name,
                                   t->sans,
                                   ca_key_type_name(r->key_type),
                                   t->key_bits,
                                   t->not_before,
                                   t->not_after,
                                   (const char *)r->der,
                                   r->requester,
                                   (const char *)r->csr_sha256,
                                   r->key_generated ? "true" : "false",
                                   r->cluster,
                                   r->self_signed ? "true" : "false",
                                   r->replaces_id != 0 ? t->replaces_id : NULL,
                                   r->crl_shard != 0 ? t->crl_shard : NULL};
  const size_t base = i * CERT_COLUMNS;
  memcpy(&p->values[base], row, sizeof(row));
  // der and csr_sha256 travel in binary: no escaping, half the bytes.
  p->lengths[base + 10] = (int)r->der_len;
  p->formats[base + 10] = 1;
  p->lengths[base + 12] = r->csr_sha256 != NULL ? 32 : 0;
  p->formats[base + 12] = 1;
  p->sql_len += (size_t)snprintf(p->sql + p->sql_len, p->sql_cap - p->sql_len,
                                 "%s(", i ? "," : "");
  for (size_t c = 1; c <= CERT_COLUMNS; c++) {
    p->sql_len +=
        (size_t)snprintf(p->sql + p->sql_len, p->sql_cap - p->sql_len, "$%zu%s",
                         base + c, c < CERT_COLUMNS ? "," : ")");
  }
  return 1;
err:
  return 0;
}

// mark_collided sets |out_collided[i]| for every record that the INSERT's
// result |res| (the rows inserted) does not name: its serial existed.
static void mark_collided(PGresult *res, const ca_new_cert_row *records,
                          size_t n, uint8_t *out_collided) {
  const int inserted = PQntuples(res);
  memset(out_collided, (size_t)inserted != n, n);
  if ((size_t)inserted == n) {
    return;
  }
  for (int r = 0; r < inserted; r++) {
    const int64_t issuer = ca_store_get_int(res, r, 0);
    const char *serial = PQgetvalue(res, r, 1);
    for (size_t i = 0; i < n; i++) {
      if (records[i].issuer_id == issuer &&
          strcmp(records[i].serial, serial) == 0) {
        out_collided[i] = 0;
      }
    }
  }
}

// insert_chunk inserts |n| <= CA_LIMIT_INSERT_ROWS records in one statement.
static int insert_chunk(ca_store_tx *tx, const ca_new_cert_row *records,
                        size_t n, uint8_t *out_collided) {
  int ret = 0;
  insert_params p;
  PGresult *res = NULL;
  CA_GUARD(insert_params_init(&p, n));
  for (size_t i = 0; i < n; i++) {
    CA_GUARD(bind_row(&p, i, &records[i]));
  }
  snprintf(p.sql + p.sql_len, p.sql_cap - p.sql_len,
           " ON CONFLICT (serial, issuer_id)"
           " DO NOTHING RETURNING issuer_id, serial");
  res = ca_store_check_result(
      tx->conn,
      PQexecParams(tx->conn, p.sql, (int)(n * CERT_COLUMNS), NULL, p.values,
                   p.lengths, p.formats, 0),
      PGRES_TUPLES_OK, "inserting certificates");
  CA_GUARD(res != NULL);
  mark_collided(res, records, n, out_collided);
  PQclear(res);
  ret = 1;
err:
  if (!ret) {
    tx->failed = 1;
  }
  insert_params_free(&p);
  return ret;
}

int ca_store_tx_insert_certificates(ca_store_tx *tx,
                                    const ca_new_cert_row *records, size_t n,
                                    uint8_t *out_collided) {
  CA_ENSURE(!tx->failed, CA_ERR_STORAGE_UNAVAILABLE,
            "transaction failed earlier");
  for (size_t off = 0; off < n; off += CA_LIMIT_INSERT_ROWS) {
    const size_t chunk =
        n - off < CA_LIMIT_INSERT_ROWS ? n - off : CA_LIMIT_INSERT_ROWS;
    CA_GUARD(insert_chunk(tx, records + off, chunk, out_collided + off));
  }
  return 1;
err:
  return 0;
}
