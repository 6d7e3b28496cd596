// The write half of revocation (ca/revocation/revoke.c): a batch of
// revocations is two round trips to PostgreSQL, each a pipeline (libpq's
// pipeline mode) of several statements: BEGIN and the state of every
// certificate named, then the revocations rows, the audit rows, the
// NOTIFYs, the crl_pending rows and COMMIT. A group commit of a few
// clients' revocations waits for two answers instead of eight.
//
// The state is read without locking the certificates (a lock writes every
// wide row); the write checks instead that it changed as many rows as
// decided (revocations_expect, migration 0018), which a concurrent change
// of one of them prevents: the batch is then rolled back and decided again
// (ca_revocation_writes.raced).
//
// The read returns what a revocations row copies from its certificate
// (issuer, serial, CRL shard, notAfter), which never changes: the
// transaction keeps it (its kept data, of type kRevokeRead), and the write
// sends it back as arrays instead of reading the wide certificates rows a
// second time.
#include <inttypes.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/store/store.h"
#include "ca/store/store_internal.h"
#include "ca/store/store_revoke_sql.h"

// int_literal makes an array literal of the |n| integers |get| reads from
// the |n| elements of |elems|, |size| bytes each (at most 20 digits and a
// comma each). Free with free().
static char *int_literal(const void *elems, size_t size, size_t n,
                         int64_t (*get)(const void *)) {
  char *out = malloc(n * 22 + 3);
  if (out == NULL) {
    return NULL;
  }
  size_t off = 0;
  out[off++] = '{';
  for (size_t i = 0; i < n; i++) {
    off += (size_t)sprintf(out + off, "%s%" PRId64, i ? "," : "",
                           get((const uint8_t *)elems + i * size));
  }
  out[off++] = '}';
  out[off] = '\0';
  return out;
}

static int64_t row_id(const void *r) {
  return ((const ca_revocation_row *)r)->id;
}
static int64_t row_at(const void *r) {
  return ((const ca_revocation_row *)r)->revoked_at;
}
static int64_t row_reason(const void *r) {
  return ((const ca_revocation_row *)r)->reason;
}
static int64_t row_held(const void *r) {
  return ((const ca_revocation_row *)r)->held != 0;
}
static int64_t plain_int(const void *v) {
  return *(const int64_t *)v;
}

// --- Pipelines ---

// One statement of a pipeline.
typedef struct pipe_stmt {
  const char *sql;
  int n_params;
  const char *const *values;  // text parameters
  ExecStatusType want;
  const char *what;  // for the error message
  PGresult **keep;   // where its result goes (the caller PQclears), or NULL
} pipe_stmt;

// send_all queues the |n| statements and the pipeline's end.
static int send_all(PGconn *conn, const pipe_stmt *stmts, size_t n) {
  CA_ENSURE_RETURN(PQenterPipelineMode(conn) == 1, CA_ERR_STORAGE_UNAVAILABLE,
                   "database write failed: %s", PQerrorMessage(conn));
  for (size_t i = 0; i < n; i++) {
    // libpq copies the parameters into its output buffer at once.
    CA_ENSURE_RETURN(
        PQsendQueryParams(conn, stmts[i].sql, stmts[i].n_params, NULL,
                          stmts[i].values, NULL, NULL, 0) == 1,
        CA_ERR_STORAGE_UNAVAILABLE, "database write failed: %s",
        PQerrorMessage(conn));
  }
  CA_ENSURE_RETURN(PQpipelineSync(conn) == 1, CA_ERR_STORAGE_UNAVAILABLE,
                   "database write failed: %s", PQerrorMessage(conn));
  return 1;
}

// A concurrent change of a certificate between the read and the write:
// serialization_failure (what revocations_expect raises),
// unique_violation (a revocations row made meanwhile), or deadlock_detected
// (two batches' writes waiting for each other, which the key order of
// CA_REVOKE_BATCH_WRITE_SQL avoids for revocations rows; a trigger's
// deletes of pre-signed OCSP answers may still meet so). Each rolls the
// batch back to be decided again.
static int is_race(const PGresult *res) {
  const char *state =
      res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
  return state != NULL &&
         (strcmp(state, "40001") == 0 || strcmp(state, "23505") == 0 ||
          strcmp(state, "40P01") == 0);
}

// read_all reads the results of the |n| statements send_all queued, and
// the pipeline's end. The first failure is the error; the statements after
// it are not run (PGRES_PIPELINE_ABORTED), a COMMIT included. It returns 1
// when every statement succeeded, and leaves in |*drained| whether the
// connection is back out of pipeline mode and in |*raced| whether a
// statement failed with a serialization failure.
static int read_all(PGconn *conn, const pipe_stmt *stmts, size_t n,
                    int *drained, int *raced) {
  ca_err first;
  int ok = 1;
  *drained = 0;
  for (size_t i = 0; i < n; i++) {
    PGresult *raw = PQgetResult(conn);
    if (is_race(raw)) {
      *raced = 1;
    }
    PGresult *res =
        ca_store_check_result(conn, raw, stmts[i].want, stmts[i].what);
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
    if (stmts[i].keep != NULL && res != NULL) {
      *stmts[i].keep = res;
    } else {
      PQclear(res);
    }
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

// run_pipeline runs the |n| statements on |slot|'s connection in one round
// trip. On failure the transaction they were part of is rolled back: by a
// ROLLBACK when the connection is usable, else by the server when the pool
// replaces the connection (the server rolls back what an ended connection
// left open) before lending it again, as after an outage. |*raced| (may
// be NULL) tells whether a statement failed with a serialization failure.
static int run_pipeline(ca_store *store, size_t slot, PGconn *conn,
                        const pipe_stmt *stmts, size_t n, int *raced) {
  int drained = 0, race = 0;
  const int ok =
      send_all(conn, stmts, n) && read_all(conn, stmts, n, &drained, &race);
  if (raced != NULL) {
    *raced = race;
  }
  if (ok) {
    return 1;
  }
  ca_err saved;
  ca_err_copy(&saved);
  for (size_t i = 0; i < n; i++) {
    if (stmts[i].keep != NULL) {
      PQclear(*stmts[i].keep);
      *stmts[i].keep = NULL;
    }
  }
  if (drained) {
    (void)ca_store_exec(conn, "ROLLBACK", "rollback");
  } else {
    pthread_mutex_lock(&store->mu);
    store->conn_epoch[slot] = store->epoch - 1;
    pthread_mutex_unlock(&store->mu);
  }
  ca_err_restore(&saved);
  return 0;
}

// --- Reading the certificates ---

static int decode_match(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_cert_match *m = elem;
  snprintf(m->serial, sizeof(m->serial), "%s", PQgetvalue(res, i, 7));
  ca_store_get_cert_state(res, i, &m->state);
  return 1;
}

static const ca_store_row_type kMatchRows = {sizeof(ca_cert_match),
                                             decode_match, NULL};

// What a revocations row copies from a certificate read.
typedef struct revoke_cert {
  int64_t id, issuer_id, not_after;
  int crl_shard;  // -1: none (SQL NULL)
  char serial[CA_SERIAL_HEX_LEN];
} revoke_cert;

// The certificates a batch's transaction read, in the order of their ids:
// what the transaction keeps (ca_store_tx.kept, of type kRevokeRead), so
// that whichever way it ends frees them.
typedef struct revoke_read {
  size_t n;
  revoke_cert certs[];
} revoke_read;

static void revoke_read_free(void *read) {
  free(read);
}

// The type of a revoke_read: ca_store_commit_revocations takes only a
// transaction that keeps one.
static const ca_store_kept_type kRevokeRead = {"revocation batch read",
                                               revoke_read_free};

// tx_make makes the transaction of |slot| and |conn|, keeping the
// certificates of |res| (CA_REVOKE_BATCH_READ_SQL); NULL when out of memory.
static ca_store_tx *tx_make(ca_store *store, size_t slot, PGconn *conn,
                            PGresult *res) {
  const size_t n = (size_t)PQntuples(res);
  ca_store_tx *tx = calloc(1, sizeof(*tx));
  revoke_read *read = calloc(1, sizeof(*read) + n * sizeof(read->certs[0]));
  if (tx == NULL || read == NULL) {
    free(tx);
    free(read);
    return NULL;
  }
  tx->store = store;
  tx->slot = slot;
  tx->conn = conn;
  tx->kept = read;
  tx->kept_type = &kRevokeRead;
  read->n = n;
  for (size_t i = 0; i < n; i++) {
    revoke_cert *c = &read->certs[i];
    c->id = ca_store_get_int(res, (int)i, 0);
    c->issuer_id = ca_store_get_int(res, (int)i, 1);
    c->not_after = ca_store_get_int(res, (int)i, 6);
    snprintf(c->serial, sizeof(c->serial), "%s", PQgetvalue(res, (int)i, 7));
    c->crl_shard = PQgetisnull(res, (int)i, 8)
                       ? -1
                       : (int)ca_store_get_int(res, (int)i, 8);
  }
  return tx;
}

// find_cert returns the certificate |id| of |read|, or NULL.
static const revoke_cert *find_cert(const revoke_read *read, int64_t id) {
  size_t lo = 0, hi = read->n;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (read->certs[mid].id < id) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo < read->n && read->certs[lo].id == id ? &read->certs[lo] : NULL;
}

int ca_store_begin_revocations(ca_store *store, const char *const *serials,
                               size_t n, ca_store_tx **out_tx,
                               ca_cert_match **out, size_t *out_n) {
  *out_tx = NULL;
  *out = NULL;
  *out_n = 0;
  char *list = ca_store_text_array(serials, n);
  PGresult *res = NULL;
  ca_store_tx *tx = NULL;
  ca_store_rows rows = {NULL, 0, 0};
  size_t slot;
  PGconn *conn;
  int ok = 0;
  CA_ENSURE(list != NULL, CA_ERR_NO_MEMORY, "out of memory");
  CA_GUARD(ca_store_acquire(store, &slot, &conn));
  const char *values[1] = {list};
  pipe_stmt stmts[3];
  size_t k = 0;
  stmts[k++] = (pipe_stmt){"BEGIN", 0, NULL, PGRES_COMMAND_OK, "begin", NULL};
  if (n >= CA_REVOKE_PROBE_EACH_FROM) {
    // For this transaction only.
    stmts[k++] =
        (pipe_stmt){CA_REVOKE_BATCH_PLAN_SQL, 0,   NULL, PGRES_COMMAND_OK,
                    "planning a batch",       NULL};
  }
  // Not locked: the write checks what it changed (see the top).
  stmts[k++] =
      (pipe_stmt){CA_REVOKE_BATCH_READ_SQL, 1,   values, PGRES_TUPLES_OK,
                  "reading certificates",   &res};
  if (!run_pipeline(store, slot, conn, stmts, k, NULL)) {
    ca_store_release(store, slot);
    goto err;
  }
  tx = tx_make(store, slot, conn, res);
  if (tx == NULL) {
    CA_SET_ERROR(CA_ERR_NO_MEMORY, "out of memory");
    ca_err saved;
    ca_err_copy(&saved);
    (void)ca_store_exec(conn, "ROLLBACK", "rollback");
    ca_err_restore(&saved);
    ca_store_release(store, slot);
    goto err;
  }
  if (!ca_store_decode_rows(res, &kMatchRows, NULL, 0, &rows)) {
    ca_store_rollback(tx);
    goto err;
  }
  *out = rows.rows;
  *out_n = rows.n;
  *out_tx = tx;
  ok = 1;
err:
  PQclear(res);
  OPENSSL_free(list);
  return ok;
}

// --- Recording them ---

// The parameters of the writes, as array literals.
typedef struct write_params {
  char *ids, *ats, *reasons, *held, *actors, *sources, *objects, *details,
      *payloads, *issuers;
  // Per row, from its certificate as read (revoke_read).
  char *cert_issuers, *serials, *shards, *not_afters;
  char count[24];
} write_params;

static void params_free(write_params *p) {
  free(p->ids);
  free(p->ats);
  free(p->reasons);
  free(p->held);
  OPENSSL_free(p->actors);
  OPENSSL_free(p->sources);
  OPENSSL_free(p->objects);
  OPENSSL_free(p->details);
  OPENSSL_free(p->payloads);
  free(p->issuers);
  free(p->cert_issuers);
  free(p->serials);
  free(p->shards);
  free(p->not_afters);
}

// cert_arrays makes the array literals of what each row of |w| copies from
// its certificate in |read|. It fails when a row's certificate was not read
// in the transaction.
static int cert_arrays(const revoke_read *read, const ca_revocation_writes *w,
                       write_params *p) {
  const size_t k = w->n;
  p->cert_issuers = malloc(k * 22 + 3);
  p->serials = malloc(k * (CA_SERIAL_HEX_LEN + 3) + 3);
  p->shards = malloc(k * 8 + 3);
  p->not_afters = malloc(k * 22 + 3);
  CA_ENSURE_RETURN(p->cert_issuers != NULL && p->serials != NULL &&
                       p->shards != NULL && p->not_afters != NULL,
                   CA_ERR_NO_MEMORY, "out of memory");
  size_t oi = 0, os = 0, oh = 0, on = 0;
  p->cert_issuers[oi++] = p->serials[os++] = p->shards[oh++] =
      p->not_afters[on++] = '{';
  for (size_t i = 0; i < k; i++) {
    const revoke_cert *c = find_cert(read, w->rows[i].id);
    CA_ENSURE_RETURN(c != NULL, CA_ERR_INTERNAL,
                     "certificate %" PRId64 " was not read in the transaction",
                     w->rows[i].id);
    const char *sep = i ? "," : "";
    oi +=
        (size_t)sprintf(p->cert_issuers + oi, "%s%" PRId64, sep, c->issuer_id);
    os += (size_t)sprintf(p->serials + os, "%s\"%s\"", sep, c->serial);
    oh += (size_t)(c->crl_shard < 0
                       ? sprintf(p->shards + oh, "%sNULL", sep)
                       : sprintf(p->shards + oh, "%s%d", sep, c->crl_shard));
    on += (size_t)sprintf(p->not_afters + on, "%s%" PRId64, sep, c->not_after);
  }
  memcpy(p->cert_issuers + oi, "}", 2);
  memcpy(p->serials + os, "}", 2);
  memcpy(p->shards + oh, "}", 2);
  memcpy(p->not_afters + on, "}", 2);
  return 1;
}

static int params_make(const revoke_read *read, const ca_revocation_writes *w,
                       write_params *p) {
  memset(p, 0, sizeof(*p));
  if (!cert_arrays(read, w, p)) {
    return 0;
  }
  const size_t row = sizeof(ca_revocation_row);
  p->ids = int_literal(w->rows, row, w->n, row_id);
  p->ats = int_literal(w->rows, row, w->n, row_at);
  p->reasons = int_literal(w->rows, row, w->n, row_reason);
  p->held = int_literal(w->rows, row, w->n, row_held);
  p->actors = ca_store_text_array(w->actors, w->n);
  p->sources = ca_store_text_array(w->sources, w->n);
  p->objects = ca_store_text_array(w->objects, w->n);
  p->details = ca_store_text_array(w->details, w->n);
  p->payloads = ca_store_text_array(w->payloads, w->n);
  p->issuers =
      int_literal(w->issuers, sizeof(int64_t), w->n_issuers, plain_int);
  snprintf(p->count, sizeof(p->count), "%zu", w->n);
  CA_ENSURE_RETURN(p->ids != NULL && p->ats != NULL && p->reasons != NULL &&
                       p->held != NULL && p->actors != NULL &&
                       p->sources != NULL && p->objects != NULL &&
                       p->details != NULL && p->payloads != NULL &&
                       p->issuers != NULL,
                   CA_ERR_NO_MEMORY, "out of memory");
  return 1;
}

int ca_store_commit_revocations(ca_store_tx **txp,
                                const ca_revocation_writes *w) {
  ca_store_tx *tx = *txp;
  *txp = NULL;  // consumed whatever happens, as by ca_store_commit
  if (tx->kept_type != &kRevokeRead) {
    CA_SET_ERROR(CA_ERR_INTERNAL,
                 "a batch of revocations needs the transaction "
                 "ca_store_begin_revocations made, not one keeping %s",
                 tx->kept_type != NULL ? tx->kept_type->name : "nothing");
    ca_store_rollback(tx);  // ends the transaction, keeps the error
    return 0;
  }
  if (w->n == 0 || tx->failed) {
    return ca_store_commit(&tx);  // nothing to write, or nothing to commit
  }
  write_params p;
  if (!params_make(tx->kept, w, &p)) {
    params_free(&p);
    ca_store_rollback(tx);  // ends the transaction, keeps the error
    return 0;
  }
  const char *update[9] = {p.ids,     p.cert_issuers, p.serials,
                           p.shards,  p.not_afters,   p.ats,
                           p.reasons, p.count,        p.held};
  const char *audit[5] = {w->action, p.actors, p.sources, p.objects, p.details};
  const char *notify[2] = {w->channel, p.payloads};
  const char *queue[1] = {p.issuers};
  const pipe_stmt stmts[] = {
      {CA_REVOKE_BATCH_WRITE_SQL, 9, update, PGRES_TUPLES_OK,
       "recording revocations", NULL},
      {CA_REVOKE_BATCH_AUDIT_SQL, 5, audit, PGRES_COMMAND_OK,
       "writing the audit log", NULL},
      {CA_REVOKE_BATCH_NOTIFY_SQL, 2, notify, PGRES_TUPLES_OK, "NOTIFY", NULL},
      {CA_REVOKE_BATCH_QUEUE_SQL, 1, queue, PGRES_COMMAND_OK, "queueing a CRL",
       NULL},
      {"COMMIT", 0, NULL, PGRES_COMMAND_OK, "commit", NULL},
  };
  int raced = 0;
  const int ok = run_pipeline(tx->store, tx->slot, tx->conn, stmts,
                              sizeof(stmts) / sizeof(stmts[0]), &raced);
  if (w->raced != NULL) {
    *w->raced = raced;
  }
  params_free(&p);
  ca_store_tx_end(tx);
  return ok;
}
