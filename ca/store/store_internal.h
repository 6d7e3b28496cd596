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
  // Connections to replace on release (ca_store_recycle), and how.
  uint8_t *recycle;
  char *conninfo;
};

struct ca_store_tx {
  ca_store *store;
  size_t slot;
  PGconn *conn;
  int failed;  // a statement failed: only rollback remains
};

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

// ca_store_get_int reads an integer column.
int64_t ca_store_get_int(PGresult *res, int row, int col);

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

// ca_store_tx_query runs |sql| with |n| parameters in |tx| (|lengths| and
// |formats| as PQexecParams takes them; NULL for text parameters) and
// returns its result when the status is |want|. On failure it records the
// error, marks the transaction failed and returns NULL.
PGresult *ca_store_tx_query(ca_store_tx *tx, const char *sql, int n,
                            const char *const *values, const int *lengths,
                            const int *formats, ExecStatusType want,
                            const char *what);

// ca_store_query runs |sql| with |n| text parameters on a pooled
// connection, outside any transaction of the caller (one statement: reads,
// or a single change), and returns its result when the status is |want|, or
// NULL with CA_ERR_STORAGE_UNAVAILABLE (CA_ERR_CONFLICT for a unique
// violation). The caller PQclears it.
PGresult *ca_store_query(ca_store *store, const char *sql, int n,
                         const char *const *values, ExecStatusType want,
                         const char *what);

// ca_store_recycle marks the connection of |slot| (borrowed) to be closed
// and replaced by a new one when it is released. libpq keeps a
// connection's buffers as large as the largest message it ever carried and
// never shrinks them: after a CRL of hundreds of KiB went through it, every
// pooled connection would hold that much for good, and pkid's memory would
// grow with its largest CRL times the pool. A reconnection costs a few
// milliseconds, paid only when a message was that large.
void ca_store_recycle(ca_store *store, size_t slot);

// ca_store_exec runs a command without results; 1 on success.
int ca_store_exec(PGconn *conn, const char *sql, const char *what);

#endif  // PKI_CA_STORE_INTERNAL_H
