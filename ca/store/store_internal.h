// What the files of the PostgreSQL store share; not part of ca/store/store.h.
#ifndef PKI_CA_STORE_INTERNAL_H
#define PKI_CA_STORE_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/store/pq.h"
#include "ca/store/store.h"

struct ca_store {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  PGconn **conns;
  uint8_t *busy;
  size_t n;
  // Reconnection (ca_store_acquire), under |mu|. |epoch| grows each time
  // the database is found unreachable; a connection made in an earlier
  // epoch (|conn_epoch|) is re-established before it is lent again, so that
  // none that was open during an outage fails its first request after it.
  uint64_t *conn_epoch;
  uint64_t epoch;
  int down;                 // a connection attempt failed; none succeeded since
  int probing;              // while |down|: an attempt is under way
  int64_t next_attempt_ms;  // while |down|: CLOCK_MONOTONIC, no attempt before
  int64_t backoff_ms;       // the wait after the next failed attempt
  int64_t down_since_ms;
  char last_error[256];  // libpq's message of the last failed attempt
  ca_store_state_fn on_state;
  void *state_arg;
};

// The type of what a transaction keeps (ca_store_tx.kept): one static
// instance per kind, so that the statement that reads it recognises its
// own by the address of its type rather than trusting a cast.
typedef struct ca_store_kept_type {
  const char *name;          // for messages
  void (*free)(void *kept);  // frees what |kept| points to
} ca_store_kept_type;

struct ca_store_tx {
  ca_store *store;
  size_t slot;
  PGconn *conn;
  int failed;  // a statement failed: only rollback remains
  // A statement sent without waiting for its result (a CRL cursor's
  // read-ahead, store_crl.c): libpq runs one statement at a time and would
  // discard that result, so ca_store_tx_query first has |settle| read it
  // and keep it for its owner (|settle_arg|), which clears both then.
  int (*settle)(void *settle_arg);
  void *settle_arg;
  // What a statement of the transaction keeps for a later statement of it
  // (the certificates ca_store_begin_revocations read, for
  // ca_store_commit_revocations), of type |kept_type|; NULL for none. The
  // transaction owns it: ca_store_tx_end frees it with |kept_type->free|
  // whichever way the transaction ends (commit, commit_audited, rollback,
  // commit_revocations).
  void *kept;
  const ca_store_kept_type *kept_type;
};

// A certificate's revocation state is its row in revocations, if any
// (migration 0018): every reader joins certificates |c| to revocations as
// alias rv with this, and reads the state through the macros below.
#define CA_STORE_JOIN_REVOCATION(c)                \
  " LEFT JOIN revocations rv ON rv.issuer_id = " c \
  ".issuer_id AND"                                 \
  " rv.serial = " c ".serial"
#define CA_STORE_REVOKED "(rv.serial IS NOT NULL)"
#define CA_STORE_STATUS \
  "(CASE WHEN rv.serial IS NULL THEN 'good' ELSE 'revoked' END)"

// The columns ca_store_get_cert_state reads, in its order, from
// certificates c joined by CA_STORE_JOIN_REVOCATION("c").
#define CA_STORE_STATE_COLUMNS                               \
  "c.id, c.issuer_id, " CA_STORE_REVOKED                     \
  ","                                                        \
  " coalesce(extract(epoch FROM rv.revoked_at)::bigint, 0)," \
  " coalesce(rv.reason, 0),"                                 \
  " extract(epoch FROM c.not_before)::bigint,"               \
  " extract(epoch FROM c.not_after)::bigint"
#define CA_STORE_STATE_FROM "certificates c" CA_STORE_JOIN_REVOCATION("c")

// ca_store_raise_conn records CA_ERR_STORAGE_UNAVAILABLE with libpq's
// message for |conn| (which never holds a password).
void ca_store_raise_conn(PGconn *conn, const char *what);

// ca_store_check_result returns |res| when its status is |want|; otherwise
// it records CA_ERR_STORAGE_UNAVAILABLE (CA_ERR_CONFLICT for a unique
// violation, SQLSTATE 23505), clears |res| and returns NULL.
PGresult *ca_store_check_result(PGconn *conn, PGresult *res,
                                ExecStatusType want, const char *what);

// ca_store_get_bytea decodes a bytea column of the text result format
// ("\\x" hex) into a new buffer (OPENSSL_free).
int ca_store_get_bytea(PGresult *res, int row, int col, uint8_t **out,
                       size_t *out_len) CA_MUST_CHECK;

// ca_store_text_array makes the PostgreSQL array literal {"a","b"} of |n|
// strings, each double-quoted with " and \ escaped (PostgreSQL manual
// 8.15.6), to send as one text parameter. The caller frees it with
// OPENSSL_free; NULL when out of memory.
char *ca_store_text_array(const char *const *items, size_t n);

// ca_store_get_int reads an integer column.
int64_t ca_store_get_int(PGresult *res, int row, int col);

// ca_store_get_bool reads a boolean column; SQL NULL reads as false.
int ca_store_get_bool(PGresult *res, int row, int col);

// ca_store_get_cert_state reads the seven columns a certificate's state
// is selected as (id, issuer_id, revoked, revoked_at, reason, not_before,
// not_after; times as epoch seconds: CA_STORE_STATE_COLUMNS), from
// column 0 of |row|.
void ca_store_get_cert_state(PGresult *res, int row, ca_cert_state *out);

// ca_store_get_text copies a text column into a new string (OPENSSL_free);
// SQL NULL becomes "". ca_store_get_text_or_null leaves NULL for SQL NULL.
// Both return 0 only when out of memory, without recording an error: the
// decode functions test several columns at once and record one.
int ca_store_get_text(PGresult *res, int row, int col, char **out);
int ca_store_get_text_or_null(PGresult *res, int row, int col, char **out);

// --- Reading rows ---
//
// Most reads are one statement whose rows become an array of one C type.
// ca_store_read_rows is the loop they share (borrow a pooled connection, run
// the statement, release the connection, allocate, decode each row, free
// everything on failure), so that each read is its SQL, its parameters and
// a small decode function.

// One statement and its parameters, as PQexecParams takes them.
typedef struct ca_store_stmt {
  const char *sql;
  int n_params;
  const char *const *values;
  const int *lengths;  // NULL when every parameter is text
  const int *formats;  // NULL when every parameter is text
  const char *what;    // what the statement does, for the error message
} ca_store_stmt;

// A ca_store_decode_fn fills |elem| (zeroed by the caller) from row |row| of
// |res|; |arg| is the caller's. It returns 0 with the error recorded; what
// it had put in |elem| is then freed with the rest of the array.
typedef int (*ca_store_decode_fn)(PGresult *res, int row, void *elem,
                                  const void *arg);

// The C type a read makes of each row.
typedef struct ca_store_row_type {
  size_t size;  // sizeof one element
  ca_store_decode_fn decode;
  // free_rows frees |n| elements and their array: the type's own _free
  // function. NULL when the elements own nothing (free() alone).
  void (*free_rows)(void *rows, size_t n);
} ca_store_row_type;

// What a read made.
typedef struct ca_store_rows {
  void *rows;  // |n| elements; never NULL after success, even when |n| is 0
  size_t n;
  int more;  // the statement returned more rows than the read was to decode
} ca_store_rows;

// ca_store_query_stmt is ca_store_query for a statement that may have
// binary parameters.
PGresult *ca_store_query_stmt(ca_store *store, const ca_store_stmt *stmt,
                              ExecStatusType want);

// ca_store_decode_rows decodes the first |max_rows| rows of |res| (every row
// when |max_rows| is 0) into a new array of |type|, and sets |out->more|
// when |res| holds more. The caller frees |out->rows| with |type|'s free
// function. On failure nothing is left to free.
int ca_store_decode_rows(PGresult *res, const ca_store_row_type *type,
                         const void *arg, size_t max_rows,
                         ca_store_rows *out) CA_MUST_CHECK;

// ca_store_read_rows runs |stmt| on a pooled connection, outside any
// transaction, and decodes its rows as ca_store_decode_rows does. The
// connection goes back to the pool before the rows are decoded.
int ca_store_read_rows(ca_store *store, const ca_store_stmt *stmt,
                       const ca_store_row_type *type, const void *arg,
                       size_t max_rows, ca_store_rows *out) CA_MUST_CHECK;

// ca_store_read_one runs |stmt|, which returns at most one row that matters
// (a unique key, or LIMIT 1), on a pooled connection, and sets |*out_found|
// to whether it returned one. When it did and |decode| is not NULL, the
// first row is decoded into |out| (the caller's to clean up, on failure
// too).
int ca_store_read_one(ca_store *store, const ca_store_stmt *stmt,
                      ca_store_decode_fn decode, void *out, const void *arg,
                      int *out_found) CA_MUST_CHECK;

// ca_store_acquire borrows a connection of the pool, waiting for one to be
// free, and re-establishes it if it broke (or was open when the database
// was found unreachable). While the database is unreachable it returns 0
// with CA_ERR_STORAGE_UNAVAILABLE at once, unless this call is the one
// attempt to reconnect that the backoff allows (see "When the database is
// unreachable" in ca/store/store.h). ca_store_release returns the connection.
int ca_store_acquire(ca_store *store, size_t *out_slot,
                     PGconn **out_conn) CA_MUST_CHECK;
void ca_store_release(ca_store *store, size_t slot);

// ca_store_acquire_large borrows the connection kept for messages as large
// as a CRL (see ca_store_begin_large).
int ca_store_acquire_large(ca_store *store, size_t *out_slot,
                           PGconn **out_conn) CA_MUST_CHECK;

// ca_store_tx_end frees |tx| once its transaction is over (committed or
// rolled back, or its connection marked for re-establishing): it returns
// the connection to the pool and frees what the transaction kept. Every
// path that ends a ca_store_tx ends with it.
void ca_store_tx_end(ca_store_tx *tx);

// ca_store_tx_query runs |sql| with |n| parameters in |tx| (|lengths| and
// |formats| as PQexecParams takes them; NULL for text parameters) and
// returns its result when the status is |want|. On failure it records the
// error, marks the transaction failed and returns NULL.
PGresult *ca_store_tx_query(ca_store_tx *tx, const char *sql, int n,
                            const char *const *values, const int *lengths,
                            const int *formats, ExecStatusType want,
                            const char *what);

// ca_store_tx_command runs |sql| with |n| text parameters in |tx| and
// checks that its status is |want|; its result is not read. On failure it
// records the error and marks the transaction failed.
int ca_store_tx_command(ca_store_tx *tx, const char *sql, int n,
                        const char *const *values, ExecStatusType want,
                        const char *what) CA_MUST_CHECK;

// ca_store_query runs |sql| with |n| text parameters on a pooled
// connection, outside any transaction of the caller (one statement: reads,
// or a single change), and returns its result when the status is |want|, or
// NULL with CA_ERR_STORAGE_UNAVAILABLE (CA_ERR_CONFLICT for a unique
// violation). The caller PQclears it.
PGresult *ca_store_query(ca_store *store, const char *sql, int n,
                         const char *const *values, ExecStatusType want,
                         const char *what);

// ca_store_exec runs a command without results; 1 on success.
int ca_store_exec(PGconn *conn, const char *sql, const char *what);

#endif  // PKI_CA_STORE_INTERNAL_H
