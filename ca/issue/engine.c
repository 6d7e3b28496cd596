#include "ca/issue/engine.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca/issue/issuer_keys.h"
#include "ca/limits.h"

// One queued item: the |index|th request of |job|.
typedef struct work_item {
  ca_job *job;
  size_t index;
} work_item;

struct ca_engine {
  const ca_authority *authority;
  ca_store *store;
  ca_engine_config config;

  pthread_mutex_t mu;
  pthread_cond_t work_cv;    // items queued, or stopping
  pthread_cond_t writer_cv;  // a job signed, or the last worker idle
  // The item queue: a ring of |config.queue_items| entries.
  work_item *ring;
  size_t head, count;
  // Jobs whose items are all signed, waiting for the writer (FIFO).
  ca_job *signed_head, *signed_tail;
  size_t signing;  // items taken by workers and not finished
  int stopping;

  pthread_t *workers;
  size_t workers_started;
  pthread_t writer;
  int writer_started;

  atomic_uint_fast64_t groups_committed, rows_committed, groups_failed,
      serial_collisions;
};

void ca_engine_config_init(ca_engine_config *config) {
  memset(config, 0, sizeof(*config));
  config->queue_items = 4 * CA_LIMIT_BATCH_ITEMS;
  config->group_rows = 5000;
}

// --- Workers ---

static void *worker_main(void *arg) {
  ca_engine *e = arg;
  ca_issuer_keys keys;
  // Every worker signs with its own copies of the CA keys
  // (ca/issue/issuer_keys.h). Should copying fail, the worker signs with the
  // shared keys: slower, never wrong.
  const int own_keys = ca_issuer_keys_init(&keys, e->authority);
  pthread_mutex_lock(&e->mu);
  for (;;) {
    while (e->count == 0 && !e->stopping) {
      pthread_cond_wait(&e->work_cv, &e->mu);
    }
    if (e->count == 0) {
      break;  // stopping, and nothing left to sign
    }
    const work_item item = e->ring[e->head];
    e->head = (e->head + 1) % e->config.queue_items;
    e->count--;
    e->signing++;
    pthread_mutex_unlock(&e->mu);

    ca_job *job = item.job;
    // The issuance time is read per item: a queue may hold work for seconds.
    const ca_issue_request *request = &job->requests[item.index];
    if (request->generate != NULL) {
      (void)ca_issue_generate(e->authority, own_keys ? &keys : NULL,
                              e->config.keypool, request, (int64_t)time(NULL),
                              &job->results[item.index]);
    } else {
      (void)ca_issue_sign(e->authority, own_keys ? &keys : NULL, request,
                          (int64_t)time(NULL), &job->results[item.index]);
    }
    const int last = atomic_fetch_sub(&job->unsigned_items, 1) == 1;

    pthread_mutex_lock(&e->mu);
    e->signing--;
    if (last) {
      job->next = NULL;
      if (e->signed_tail != NULL) {
        e->signed_tail->next = job;
      } else {
        e->signed_head = job;
      }
      e->signed_tail = job;
    }
    if (last || (e->stopping && e->signing == 0 && e->count == 0)) {
      pthread_cond_signal(&e->writer_cv);
    }
  }
  pthread_mutex_unlock(&e->mu);
  if (own_keys) {
    ca_issuer_keys_cleanup(&keys);
  }
  return NULL;
}

// --- The writer ---

// One certificate of a group: where it lives, and its record.
typedef struct group_row {
  ca_job *job;
  size_t index;
} group_row;

static void to_record(const ca_issued *issued, const char *requester,
                      const char *cluster, ca_new_cert_row *out) {
  memset(out, 0, sizeof(*out));
  out->issuer_id = issued->issuer->id;
  out->serial = issued->serial_hex;
  out->profile = issued->profile->name;
  out->subject = issued->subject;
  out->common_name = issued->common_name;
  out->sans = issued->sans;
  out->san_count = issued->san_count;
  out->key_type = issued->key.type;
  out->key_bits = issued->key.bits;
  out->not_before = issued->not_before;
  out->not_after = issued->not_after;
  out->der = issued->der;
  out->der_len = issued->der_len;
  out->requester = requester;
  out->csr_sha256 = issued->csr_sha256;
  out->key_generated = issued->private_key != NULL;
  out->cluster = cluster;
  out->crl_shard = issued->crl_shard;
}

static size_t made_in(const ca_job *job) {
  size_t made = 0;
  for (size_t i = 0; i < job->n; i++) {
    made += job->results[i].err.code == CA_OK;
  }
  return made;
}

// commit_group writes one audit row per job of |group|, notifies the other
// nodes and commits |*tx|, in one round trip to the database.
static int commit_group(ca_store_tx **tx, ca_job *group) {
  size_t n = 0;
  for (ca_job *job = group; job != NULL; job = job->next) {
    n++;
  }
  ca_new_audit_row *rows = calloc(n, sizeof(*rows));
  char(*details)[64] = calloc(n, 64);
  int ok = 0;
  if (rows != NULL && details != NULL) {
    size_t i = 0;
    for (ca_job *job = group; job != NULL; job = job->next, i++) {
      const size_t made = made_in(job);
      snprintf(details[i], 64, "issued=%zu refused=%zu", made, job->n - made);
      rows[i] = (ca_new_audit_row){job->requester, "issue", "certificates",
                                   job->source,    "ok",    details[i]};
    }
    ok = ca_store_commit_audited(tx, rows, n, CA_ISSUED_CHANNEL, "");
  } else {
    CA_SET_ERROR(CA_ERR_NO_MEMORY, "out of memory");
  }
  free(rows);
  free(details);
  return ok;
}

// The rows of one group commit: each certificate's record, where its result
// lives, and whether its serial collided. Owned by record_group.
typedef struct group_rows {
  ca_new_cert_row *records;
  group_row *where;
  uint8_t *collided;
  size_t pending;  // rows still to record
} group_rows;

static void group_rows_cleanup(group_rows *g) {
  free(g->records);
  free(g->where);
  free(g->collided);
}

// collect_rows makes the record of every certificate the jobs of |group|
// made (|rows| of them).
static int collect_rows(ca_job *group, size_t rows, group_rows *g) {
  memset(g, 0, sizeof(*g));
  if (rows == 0) {
    return 1;
  }
  g->records = calloc(rows, sizeof(*g->records));
  g->where = calloc(rows, sizeof(*g->where));
  g->collided = calloc(rows, 1);
  CA_ENSURE_RETURN(
      g->records != NULL && g->where != NULL && g->collided != NULL,
      CA_ERR_NO_MEMORY, "out of memory");
  for (ca_job *job = group; job != NULL; job = job->next) {
    for (size_t i = 0; i < job->n; i++) {
      if (job->results[i].err.code != CA_OK) {
        continue;
      }
      to_record(&job->results[i], job->requester, job->requests[i].cluster,
                &g->records[g->pending]);
      g->where[g->pending].job = job;
      g->where[g->pending++].index = i;
    }
  }
  return 1;
}

// copy_rows tries the fast path: all rows in one binary COPY
// (bench/store_bench: about a third of the database's CPU per row of a
// multi-row INSERT). COPY is all or nothing, so a serial that exists already
// fails it: then, and only then, the transaction starts over for
// insert_rows, which names the collided rows.
static int copy_rows(ca_engine *e, ca_store_tx **tx, group_rows *g) {
  if (g->pending == 0) {
    return 1;
  }
  if (ca_store_tx_copy_certificates(*tx, g->records, g->pending)) {
    g->pending = 0;
    return 1;
  }
  if (ca_err_get()->code != CA_ERR_CONFLICT) {
    return 0;
  }
  ca_store_rollback(*tx);
  *tx = NULL;
  return ca_store_begin(e->store, tx);
}

// resign re-signs the certificate of |row|, whose serial collided. A
// generated key is generated again: the discarded one was never seen by
// anyone.
static int resign(ca_engine *e, const ca_issuer_keys *keys, group_row *row) {
  ca_job *job = row->job;
  const size_t i = row->index;
  const ca_issue_request *request = &job->requests[i];
  ca_issued_cleanup(&job->results[i]);
  if (request->generate != NULL) {
    return ca_issue_generate(e->authority, keys, e->config.keypool, request,
                             (int64_t)time(NULL), &job->results[i]);
  }
  return ca_issue_sign(e->authority, keys, request, (int64_t)time(NULL),
                       &job->results[i]);
}

// insert_rows records the rows still pending with INSERT ... ON CONFLICT.
// Invariant 2: a serial that exists already is drawn again, never returned;
// each round re-signs only the collided certificates.
static int insert_rows(ca_engine *e, const ca_issuer_keys *keys,
                       ca_store_tx *tx, group_rows *g) {
  for (int attempt = 0; g->pending > 0; attempt++) {
    CA_ENSURE_RETURN(attempt < CA_LIMIT_SERIAL_ATTEMPTS,
                     CA_ERR_SERIAL_EXHAUSTED,
                     "serial collided %d times: the random source is suspect",
                     CA_LIMIT_SERIAL_ATTEMPTS);
    CA_GUARD_RETURN(ca_store_tx_insert_certificates(tx, g->records, g->pending,
                                                    g->collided));
    size_t again = 0;
    for (size_t k = 0; k < g->pending; k++) {
      if (!g->collided[k]) {
        continue;
      }
      atomic_fetch_add(&e->serial_collisions, 1);
      CA_GUARD_RETURN(resign(e, keys, &g->where[k]));
      const group_row row = g->where[k];
      to_record(&row.job->results[row.index], row.job->requester,
                row.job->requests[row.index].cluster, &g->records[again]);
      g->where[again++] = row;
    }
    g->pending = again;
  }
  return 1;
}

// record_group records every certificate of the jobs |group| (|rows| of
// them) and one audit row per job in one transaction. It returns 1 when the
// transaction committed.
static int record_group(ca_engine *e, const ca_issuer_keys *keys, ca_job *group,
                        size_t rows) {
  int ret = 0;
  ca_store_tx *tx = NULL;
  group_rows g;
  CA_GUARD(collect_rows(group, rows, &g));
  CA_GUARD(ca_store_begin(e->store, &tx));
  CA_GUARD(copy_rows(e, &tx, &g));
  CA_GUARD(insert_rows(e, keys, tx, &g));
  CA_GUARD(commit_group(&tx, group));
  ret = 1;
err:
  ca_store_rollback(tx);
  group_rows_cleanup(&g);
  return ret;
}

// fail_group replaces every certificate of |group| by the error: none may
// leave the service unrecorded (invariant 1).
static void fail_group(ca_job *group, const ca_err *cause) {
  ca_err err = *cause;
  if (err.code != CA_ERR_STORAGE_UNAVAILABLE &&
      err.code != CA_ERR_SERIAL_EXHAUSTED) {
    // Whatever went wrong, the client learns that nothing was stored.
    char message[CA_ERR_MESSAGE_LEN];
    snprintf(message, sizeof(message), "nothing was issued: %s", err.message);
    snprintf(err.message, sizeof(err.message), "%s", message);
    err.code = CA_ERR_STORAGE_UNAVAILABLE;
  }
  for (ca_job *job = group; job != NULL; job = job->next) {
    job->failure = err;
    for (size_t i = 0; i < job->n; i++) {
      if (job->results[i].err.code == CA_OK) {
        ca_issued_fail(&job->results[i], &err);
      }
    }
  }
}

static void *writer_main(void *arg) {
  ca_engine *e = arg;
  ca_issuer_keys keys;
  const int own_keys = ca_issuer_keys_init(&keys, e->authority);
  pthread_mutex_lock(&e->mu);
  for (;;) {
    while (e->signed_head == NULL &&
           !(e->stopping && e->count == 0 && e->signing == 0)) {
      pthread_cond_wait(&e->writer_cv, &e->mu);
    }
    if (e->signed_head == NULL) {
      break;  // stopping, and everything is recorded
    }
    // Take jobs up to |group_rows| certificates (at least one job).
    ca_job *group = e->signed_head, *last = group;
    size_t rows = made_in(group);
    while (last->next != NULL &&
           rows + made_in(last->next) <= e->config.group_rows) {
      last = last->next;
      rows += made_in(last);
    }
    e->signed_head = last->next;
    if (e->signed_head == NULL) {
      e->signed_tail = NULL;
    }
    last->next = NULL;
    pthread_mutex_unlock(&e->mu);

    ca_err_clear();
    const int committed =
        rows == 0 || record_group(e, own_keys ? &keys : NULL, group, rows);
    if (committed) {
      atomic_fetch_add(&e->groups_committed, rows > 0);
      atomic_fetch_add(&e->rows_committed, rows);
    } else {
      atomic_fetch_add(&e->groups_failed, 1);
      fail_group(group, ca_err_get());
    }
    // The callback may free the job: read |next| first.
    for (ca_job *job = group, *next; job != NULL; job = next) {
      next = job->next;
      job->done(job->done_arg, committed);
    }
    pthread_mutex_lock(&e->mu);
  }
  pthread_mutex_unlock(&e->mu);
  if (own_keys) {
    ca_issuer_keys_cleanup(&keys);
  }
  return NULL;
}

// --- Life cycle ---

int ca_engine_start(const ca_authority *authority, ca_store *store,
                    const ca_engine_config *config, ca_engine **out) {
  ca_engine *e = calloc(1, sizeof(*e));
  CA_ENSURE_ALLOC(e);
  e->authority = authority;
  e->store = store;
  e->config = *config;
  if (e->config.workers == 0) {
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    e->config.workers = cpus > 0 ? (size_t)cpus : 1;
  }
  CA_ENSURE(e->config.workers <= 256, CA_ERR_CONFIG,
            "at most 256 signing workers");
  CA_ENSURE(e->config.queue_items > 0, CA_ERR_CONFIG,
            "the queue must hold at least one item");
  CA_ENSURE(e->config.group_rows > 0, CA_ERR_CONFIG,
            "group_rows must be positive");
  e->ring = calloc(e->config.queue_items, sizeof(*e->ring));
  e->workers = calloc(e->config.workers, sizeof(*e->workers));
  CA_ENSURE(e->ring != NULL && e->workers != NULL, CA_ERR_NO_MEMORY,
            "out of memory");
  CA_ENSURE(pthread_mutex_init(&e->mu, NULL) == 0 &&
                pthread_cond_init(&e->work_cv, NULL) == 0 &&
                pthread_cond_init(&e->writer_cv, NULL) == 0,
            CA_ERR_INTERNAL, "cannot create the engine's locks");
  for (size_t i = 0; i < e->config.workers; i++) {
    CA_ENSURE(pthread_create(&e->workers[i], NULL, worker_main, e) == 0,
              CA_ERR_INTERNAL, "cannot start a signing worker");
    e->workers_started++;
  }
  CA_ENSURE(pthread_create(&e->writer, NULL, writer_main, e) == 0,
            CA_ERR_INTERNAL, "cannot start the writer");
  e->writer_started = 1;
  *out = e;
  return 1;
err:
  ca_engine_stop(e);
  return 0;
}

int ca_engine_submit(ca_engine *e, ca_job *job) {
  CA_ENSURE_RETURN(job->n > 0, CA_ERR_BATCH_EMPTY, "a job needs items");
  for (size_t i = 0; i < job->n; i++) {
    memset(&job->results[i], 0, sizeof(job->results[i]));
  }
  atomic_init(&job->unsigned_items, job->n);
  job->next = NULL;
  memset(&job->failure, 0, sizeof(job->failure));
  pthread_mutex_lock(&e->mu);
  if (e->stopping) {
    pthread_mutex_unlock(&e->mu);
    CA_SET_ERROR(CA_ERR_SHUTTING_DOWN, "the service is shutting down");
    return 0;
  }
  if (job->n > e->config.queue_items) {
    pthread_mutex_unlock(&e->mu);
    CA_SET_ERROR(
        CA_ERR_BATCH_TOO_LARGE,
        "a batch of %zu items cannot fit the signing queue (%zu items)", job->n,
        e->config.queue_items);
    return 0;
  }
  if (job->n > e->config.queue_items - e->count) {
    pthread_mutex_unlock(&e->mu);
    CA_SET_ERROR(CA_ERR_QUEUE_FULL,
                 "the signing queue is full (%zu items): retry shortly",
                 e->config.queue_items);
    return 0;
  }
  size_t tail = (e->head + e->count) % e->config.queue_items;
  for (size_t i = 0; i < job->n; i++) {
    e->ring[tail].job = job;
    e->ring[tail].index = i;
    tail = (tail + 1) % e->config.queue_items;
  }
  e->count += job->n;
  if (job->n == 1) {
    pthread_cond_signal(&e->work_cv);
  } else {
    pthread_cond_broadcast(&e->work_cv);
  }
  pthread_mutex_unlock(&e->mu);
  return 1;
}

// The state of a blocking ca_engine_issue call.
typedef struct waiter {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
  int committed;
} waiter;

static void wake(void *arg, int committed) {
  waiter *w = arg;
  pthread_mutex_lock(&w->mu);
  w->done = 1;
  w->committed = committed;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

int ca_engine_issue(ca_engine *e, const ca_issue_request *requests, size_t n,
                    const char *requester, const char *source,
                    ca_issued *results) {
  waiter w;
  memset(&w, 0, sizeof(w));
  pthread_mutex_init(&w.mu, NULL);
  pthread_cond_init(&w.cv, NULL);
  ca_job job;
  memset(&job, 0, sizeof(job));
  job.requests = requests;
  job.results = results;
  job.n = n;
  job.requester = requester;
  job.source = source;
  job.done = wake;
  job.done_arg = &w;
  int ok = ca_engine_submit(e, &job);
  if (ok) {
    pthread_mutex_lock(&w.mu);
    while (!w.done) {
      pthread_cond_wait(&w.cv, &w.mu);
    }
    pthread_mutex_unlock(&w.mu);
    ok = w.committed;
    if (!ok) {
      ca_err_restore(&job.failure);
    }
  }
  pthread_mutex_destroy(&w.mu);
  pthread_cond_destroy(&w.cv);
  return ok;
}

void ca_engine_get_stats(ca_engine *e, ca_engine_stats *out) {
  pthread_mutex_lock(&e->mu);
  out->queued_items = e->count;
  pthread_mutex_unlock(&e->mu);
  out->groups_committed = atomic_load(&e->groups_committed);
  out->rows_committed = atomic_load(&e->rows_committed);
  out->groups_failed = atomic_load(&e->groups_failed);
  out->serial_collisions = atomic_load(&e->serial_collisions);
}

void ca_engine_stop(ca_engine *e) {
  if (e == NULL) {
    return;
  }
  if (e->workers_started > 0 || e->writer_started) {
    pthread_mutex_lock(&e->mu);
    e->stopping = 1;
    pthread_cond_broadcast(&e->work_cv);
    pthread_cond_broadcast(&e->writer_cv);
    pthread_mutex_unlock(&e->mu);
    for (size_t i = 0; i < e->workers_started; i++) {
      pthread_join(e->workers[i], NULL);
    }
    // The workers are gone: wake the writer for its last look.
    pthread_mutex_lock(&e->mu);
    pthread_cond_broadcast(&e->writer_cv);
    pthread_mutex_unlock(&e->mu);
    if (e->writer_started) {
      pthread_join(e->writer, NULL);
    }
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->work_cv);
    pthread_cond_destroy(&e->writer_cv);
  }
  free(e->ring);
  free(e->workers);
  free(e);
}
