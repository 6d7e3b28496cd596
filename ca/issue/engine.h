// The issuance engine: a pool of signing workers fed by a bounded queue, and
// a writer that records what they made in PostgreSQL, many requests per
// transaction (group commit), before anything is released.
//
// DESIGN
//
// Threads: |workers| signing threads and one writer thread, all started by
// ca_engine_start. Callers (the HTTP threads) never sign: they submit a job
// and are called back.
//
// Queues: the item queue holds (job, index) pairs, at most |queue_items| of
// them; a job is accepted whole or refused whole (CA_ERR_QUEUE_FULL), so a
// client never sees half a batch queued. Workers take items one at a time,
// so the items of one large batch spread over every worker. When the last
// item of a job is signed, the job moves to the writer queue.
//
// Group commit: the writer takes every job waiting (up to |group_rows|
// certificates), records all their certificates and one audit row per job in
// one transaction, commits, and only then calls each job's callback. While it
// commits, the next group gathers. A serial that exists already is drawn
// again and the certificate re-signed, in the same transaction (ARCHITECTURE.md
// invariant 2).
//
// Ordering: a job's callback runs exactly once, on the writer thread, after
// its transaction committed (|committed| = 1: every certificate in the
// results is recorded) or failed (|committed| = 0: no certificate is
// returned; each made certificate is replaced by the error). Jobs complete
// in submission order within the writer, but callers must not rely on it.
//
// Shutdown: ca_engine_stop refuses new jobs, lets the workers sign and the
// writer record everything already queued, calls every callback, and only
// then joins the threads: nothing is left half written or unanswered.
#ifndef PKI_CA_ENGINE_H
#define PKI_CA_ENGINE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/issue/authority.h"
#include "ca/issue/issue.h"
#include "ca/issue/keypool.h"
#include "ca/store/store.h"

typedef struct ca_engine ca_engine;

// The channel every group commit NOTIFYs (empty payload): OCSP responders
// then drop cached `unknown` answers, which may be stale now
// (ca/revocation/responder.h).
#define CA_ISSUED_CHANNEL "pki_issued"

typedef struct ca_engine_config {
  size_t workers;       // signing threads; 0: one per CPU
  size_t queue_items;   // items queued at most; a larger job is refused
  size_t group_rows;    // certificates per transaction at most
  ca_keypool *keypool;  // keys for POST /v1/keys:generate; may be NULL
} ca_engine_config;

// ca_engine_config_init sets the defaults: one worker per CPU, 4 batches of
// the largest size in the queue, 5,000 certificates per transaction.
void ca_engine_config_init(ca_engine_config *config);

// The callback of a job: |committed| as described above.
typedef void (*ca_job_done)(void *arg, int committed);

// One client request. The submitter owns the job, its requests and its
// results, and keeps them alive until |done| has been called.
typedef struct ca_job {
  const ca_issue_request *requests;
  ca_issued *results;  // |n| entries, filled by the engine
  size_t n;
  const char *requester;  // for the records and the audit log
  const char *source;     // client address, for the audit log
  ca_job_done done;
  void *done_arg;
  // Private to the engine.
  atomic_size_t unsigned_items;
  struct ca_job *next;
  ca_err failure;  // why the group failed, when it did
} ca_job;

// ca_engine_start starts the threads. |authority| and |store| are borrowed
// and must outlive the engine. On success the caller stops it with
// ca_engine_stop.
int ca_engine_start(const ca_authority *authority, ca_store *store,
                    const ca_engine_config *config,
                    ca_engine **out) CA_MUST_CHECK;

// ca_engine_submit queues |job| (its public fields set). It returns 0 without
// queueing anything, with CA_ERR_QUEUE_FULL when the queue cannot take all
// of its items now (the client should retry later), CA_ERR_BATCH_TOO_LARGE
// when it never could, or CA_ERR_SHUTTING_DOWN; |done| is then never
// called.
int ca_engine_submit(ca_engine *engine, ca_job *job) CA_MUST_CHECK;

// ca_engine_issue is the blocking form: it submits a job of |n| requests,
// waits for it and returns 1 when it was committed, or 0 with the error of
// the submission or of the transaction. |results| must have |n| entries; the
// caller frees them with ca_issued_cleanup.
int ca_engine_issue(ca_engine *engine, const ca_issue_request *requests,
                    size_t n, const char *requester, const char *source,
                    ca_issued *results) CA_MUST_CHECK;

// Counters for /metrics and the benchmarks. Reading them takes no lock; the
// values may be a moment old.
typedef struct ca_engine_stats {
  uint64_t queued_items;       // items waiting for a worker now
  uint64_t groups_committed;   // transactions committed
  uint64_t rows_committed;     // certificates recorded
  uint64_t groups_failed;      // transactions that failed
  uint64_t serial_collisions;  // serials drawn again
} ca_engine_stats;

void ca_engine_get_stats(ca_engine *engine, ca_engine_stats *out);

// ca_engine_stop drains and stops the engine as described above, and frees
// it. It accepts NULL.
void ca_engine_stop(ca_engine *engine);

#endif  // PKI_CA_ENGINE_H
