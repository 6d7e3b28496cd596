// ca/issue/engine.c against a real PostgreSQL: jobs signed and recorded in
// one transaction before their callback runs, exactly once; a job refused
// whole when the queue cannot take all of it; ca_engine_stop answering
// every accepted job; a store that refuses the rows failing every item of
// the group with no certificate (ARCHITECTURE.md invariant 1).
//
// The workers are held still where the test needs a full queue: the serial
// source (ca_serial_set_test_source) is a gate that blocks the worker
// drawing a serial until the test opens it, so the queue's state is known,
// not guessed from timing.
#include <openssl/mem.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/issue/engine.h"
#include "ca/x509/serial.h"
#include "ca/x509/x509.h"
#include "tests/modules/fixture.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

// --- The gate in the serial source ---

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_closed;
static int gate_waiting;  // workers blocked in the gate now

static int gated_source(uint8_t out[16]) {
  (void)out;
  pthread_mutex_lock(&gate_mu);
  gate_waiting++;
  pthread_cond_broadcast(&gate_cv);
  while (gate_closed) {
    pthread_cond_wait(&gate_cv, &gate_mu);
  }
  gate_waiting--;
  pthread_mutex_unlock(&gate_mu);
  return 0;  // then the real CSPRNG draws the serial
}

static void gate_close(void) {
  pthread_mutex_lock(&gate_mu);
  gate_closed = 1;
  pthread_mutex_unlock(&gate_mu);
  ca_serial_set_test_source(gated_source);
}

static void gate_open(void) {
  pthread_mutex_lock(&gate_mu);
  gate_closed = 0;
  pthread_cond_broadcast(&gate_cv);
  pthread_mutex_unlock(&gate_mu);
}

// gate_wait_for waits until |n| workers are held in the gate; 0 after 30 s.
static int gate_wait_for(int n) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 30;
  int ok = 1;
  pthread_mutex_lock(&gate_mu);
  while (gate_waiting < n && ok) {
    ok = pthread_cond_timedwait(&gate_cv, &gate_mu, &deadline) == 0;
  }
  ok = gate_waiting >= n;
  pthread_mutex_unlock(&gate_mu);
  return ok;
}

// --- Jobs the test follows ---

#define MAX_ITEMS 6

static const uint8_t kBadCsr[] = {0x30, 0x03, 0x02, 0x01, 0x01};

typedef struct tracked {
  ca_job job;
  ca_issue_request requests[MAX_ITEMS];
  ca_issued results[MAX_ITEMS];
  const mod_db *db;
  atomic_int calls;
  int committed;
  // Certificates of this job the database held when the callback ran.
  long long recorded_at_callback;
} tracked;

static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static int done_count;

static void on_done(void *arg, int committed) {
  tracked *t = arg;
  t->committed = committed;
  // The rows must be visible to any other connection by now: the callback
  // runs only after COMMIT.
  char serials[MAX_ITEMS * (CA_SERIAL_HEX_LEN + 1) + 3] = "{";
  for (size_t i = 0; i < t->job.n; i++) {
    if (t->results[i].der != NULL) {
      strcat(serials, serials[1] != '\0' ? "," : "");
      strcat(serials, t->results[i].serial_hex);
    }
  }
  strcat(serials, "}");
  t->recorded_at_callback = mod_db_int(
      t->db, "SELECT count(*) FROM certificates WHERE serial = ANY($1::text[])",
      serials, NULL);
  atomic_fetch_add(&t->calls, 1);
  pthread_mutex_lock(&done_mu);
  done_count++;
  pthread_cond_broadcast(&done_cv);
  pthread_mutex_unlock(&done_mu);
}

// wait_done waits until |n| callbacks ran since the test began; 0 after
// 60 s.
static int wait_done(int n) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 60;
  pthread_mutex_lock(&done_mu);
  while (done_count < n &&
         pthread_cond_timedwait(&done_cv, &done_mu, &deadline) == 0) {
  }
  const int ok = done_count >= n;
  pthread_mutex_unlock(&done_mu);
  return ok;
}

static void reset_done(void) {
  pthread_mutex_lock(&done_mu);
  done_count = 0;
  pthread_mutex_unlock(&done_mu);
}

// track prepares |t| with |n| requests of the CSR |csr|, the item |bad|
// (or none when >= n) replaced by bytes no parser accepts.
static void track(tracked *t, const mod_db *db, const uint8_t *csr,
                  size_t csr_len, size_t n, size_t bad) {
  memset(t, 0, sizeof(*t));
  for (size_t i = 0; i < n; i++) {
    t->requests[i] =
        (ca_issue_request){.profile = "tomcat-ECDSA",
                           .csr = i == bad ? kBadCsr : csr,
                           .csr_len = i == bad ? sizeof(kBadCsr) : csr_len};
  }
  t->db = db;
  t->recorded_at_callback = -1;
  t->job.requests = t->requests;
  t->job.results = t->results;
  t->job.n = n;
  t->job.requester = "module-test";
  t->job.source = "127.0.0.1";
  t->job.done = on_done;
  t->job.done_arg = t;
}

static void untrack(tracked *t) {
  for (size_t i = 0; i < MAX_ITEMS; i++) {
    ca_issued_cleanup(&t->results[i]);
  }
}

static long long certificates(const mod_ca *ca) {
  return mod_db_int(&ca->db, "SELECT count(*) FROM certificates", NULL, NULL);
}

static long long issue_audits(const mod_ca *ca) {
  return mod_db_int(&ca->db,
                    "SELECT count(*) FROM audit_log WHERE action = 'issue'",
                    NULL, NULL);
}

static int start_engine(mod_ca *ca, size_t workers, size_t queue_items) {
  ca_engine_config config;
  ca_engine_config_init(&config);
  config.workers = workers;
  config.queue_items = queue_items;
  return ca_engine_start(ca->authority, ca->store, &config, &ca->engine);
}

static uint8_t *good_csr(size_t *len) {
  test_csr_spec spec = {.key = "EC-P256", .subject = "/CN=engine.example.com"};
  return test_make_csr(&spec, len, NULL);
}

TEST(jobs_are_committed_before_their_callback_runs_once) {
  mod_ca ca;
  CHECK(mod_ca_open(&ca, "engine-commit", 4));
  CHECK(start_engine(&ca, 2, 64));
  reset_done();
  size_t csr_len;
  uint8_t *csr = good_csr(&csr_len);
  CHECK(csr != NULL);
  // Five jobs of 1 to 5 items; the third one's second item is no CSR.
  tracked jobs[5];
  int made = 0;
  for (size_t j = 0; j < 5; j++) {
    track(&jobs[j], &ca.db, csr, csr_len, j + 1, j == 2 ? 1 : MAX_ITEMS);
    CHECK(ca_engine_submit(ca.engine, &jobs[j].job));
    made += (int)(j + 1) - (j == 2);
  }
  CHECK(wait_done(5));
  for (size_t j = 0; j < 5; j++) {
    CHECK_EQ_INT(atomic_load(&jobs[j].calls), 1);
    CHECK_EQ_INT(jobs[j].committed, 1);
    const size_t want = j + 1 - (j == 2);
    CHECK_EQ_INT(jobs[j].recorded_at_callback, want);
    for (size_t i = 0; i < jobs[j].job.n; i++) {
      const ca_issued *r = &jobs[j].results[i];
      if (j == 2 && i == 1) {
        CHECK_EQ_INT(r->err.code, CA_ERR_CSR_MALFORMED);
        CHECK(r->der == NULL);
        continue;
      }
      CHECK_EQ_INT(r->err.code, CA_OK);
      // What the client gets is what was recorded, byte for byte.
      PGresult *res = mod_db_query(
          &ca.db,
          "SELECT encode(der, 'hex') FROM certificates WHERE serial = $1",
          r->serial_hex, NULL);
      CHECK(res != NULL && PQntuples(res) == 1);
      if (res != NULL && PQntuples(res) == 1) {
        size_t stored_len = 0;
        uint8_t *stored = NULL;
        const char *hex = PQgetvalue(res, 0, 0);
        stored_len = strlen(hex) / 2;
        stored = OPENSSL_malloc(stored_len > 0 ? stored_len : 1);
        for (size_t k = 0; stored != NULL && k < stored_len; k++) {
          unsigned v;
          sscanf(hex + 2 * k, "%2x", &v);
          stored[k] = (uint8_t)v;
        }
        CHECK_EQ_BYTES(stored, stored_len, r->der, r->der_len);
        OPENSSL_free(stored);
      }
      PQclear(res);
    }
  }
  CHECK_EQ_INT(certificates(&ca), made);
  // One audit row per job, saying what it issued and refused.
  CHECK_EQ_INT(issue_audits(&ca), 5);
  CHECK_EQ_INT(mod_db_int(&ca.db,
                          "SELECT count(*) FROM audit_log WHERE action ="
                          " 'issue' AND detail = 'issued=2 refused=1'"
                          " AND actor = 'module-test'",
                          NULL, NULL),
               1);
  ca_engine_stats stats;
  ca_engine_get_stats(ca.engine, &stats);
  CHECK_EQ_INT(stats.rows_committed, made);
  CHECK_EQ_INT(stats.groups_failed, 0);
  CHECK(stats.groups_committed >= 1 && stats.groups_committed <= 5);
  CHECK_EQ_INT(stats.queued_items, 0);
  for (size_t j = 0; j < 5; j++) {
    untrack(&jobs[j]);
  }
  OPENSSL_free(csr);
  mod_ca_close(&ca);
}

TEST(a_job_is_refused_whole_when_the_queue_is_full) {
  mod_ca ca;
  CHECK(mod_ca_open(&ca, "engine-full", 2));
  // One worker, four items of queue.
  CHECK(start_engine(&ca, 1, 4));
  reset_done();
  size_t csr_len;
  uint8_t *csr = good_csr(&csr_len);
  tracked a, b, c, d, e;
  track(&a, &ca.db, csr, csr_len, 1, MAX_ITEMS);
  track(&b, &ca.db, csr, csr_len, 3, MAX_ITEMS);
  track(&c, &ca.db, csr, csr_len, 2, MAX_ITEMS);
  track(&d, &ca.db, csr, csr_len, 5, MAX_ITEMS);
  track(&e, &ca.db, csr, csr_len, 1, MAX_ITEMS);
  gate_close();
  // The worker takes |a| and is held: the queue is empty again.
  CHECK(ca_engine_submit(ca.engine, &a.job));
  CHECK(gate_wait_for(1));
  CHECK(ca_engine_submit(ca.engine, &b.job));  // 3 of 4 places
  ca_engine_stats stats;
  ca_engine_get_stats(ca.engine, &stats);
  CHECK_EQ_INT(stats.queued_items, 3);
  // Two items do not fit in the one place left: none is queued.
  CHECK(!ca_engine_submit(ca.engine, &c.job));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_QUEUE_FULL);
  // Five never could.
  CHECK(!ca_engine_submit(ca.engine, &d.job));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_BATCH_TOO_LARGE);
  ca_engine_get_stats(ca.engine, &stats);
  CHECK_EQ_INT(stats.queued_items, 3);
  // One still fits.
  CHECK(ca_engine_submit(ca.engine, &e.job));
  gate_open();
  CHECK(wait_done(3));
  ca_serial_set_test_source(NULL);
  ca_engine_stop(ca.engine);
  ca.engine = NULL;
  CHECK_EQ_INT(atomic_load(&a.calls), 1);
  CHECK_EQ_INT(atomic_load(&b.calls), 1);
  CHECK_EQ_INT(atomic_load(&e.calls), 1);
  CHECK(a.committed && b.committed && e.committed);
  // A refused job is never called back, and nothing of it was signed.
  CHECK_EQ_INT(atomic_load(&c.calls), 0);
  CHECK_EQ_INT(atomic_load(&d.calls), 0);
  for (size_t i = 0; i < 2; i++) {
    CHECK(c.results[i].der == NULL);
  }
  CHECK_EQ_INT(certificates(&ca), 5);
  CHECK_EQ_INT(issue_audits(&ca), 3);
  untrack(&a);
  untrack(&b);
  untrack(&c);
  untrack(&d);
  untrack(&e);
  OPENSSL_free(csr);
  mod_ca_close(&ca);
}

static void *stop_engine(void *arg) {
  ca_engine_stop(arg);
  return NULL;
}

TEST(stop_answers_every_accepted_job_and_refuses_new_ones) {
  mod_ca ca;
  CHECK(mod_ca_open(&ca, "engine-stop", 2));
  CHECK(start_engine(&ca, 1, 256));
  reset_done();
  size_t csr_len;
  uint8_t *csr = good_csr(&csr_len);
  enum { kJobs = 64 };
  tracked *jobs = calloc(kJobs, sizeof(*jobs));
  CHECK(jobs != NULL);
  if (jobs == NULL) {
    return;
  }
  gate_close();
  track(&jobs[0], &ca.db, csr, csr_len, 1, MAX_ITEMS);
  CHECK(ca_engine_submit(ca.engine, &jobs[0].job));
  CHECK(gate_wait_for(1));
  int accepted = 1, items = 1;
  for (; accepted < 6; accepted++) {
    track(&jobs[accepted], &ca.db, csr, csr_len, 2, MAX_ITEMS);
    CHECK(ca_engine_submit(ca.engine, &jobs[accepted].job));
    items += 2;
  }
  // Stop while the worker is held: it must wait for everything queued.
  pthread_t stopper;
  CHECK(pthread_create(&stopper, NULL, stop_engine, ca.engine) == 0);
  // Keep submitting until the engine says it is shutting down; whatever
  // it accepted before must be answered too.
  int refused = 0;
  for (int tries = 0; tries < 5000 && accepted < kJobs - 1; tries++) {
    track(&jobs[accepted], &ca.db, csr, csr_len, 1, MAX_ITEMS);
    if (!ca_engine_submit(ca.engine, &jobs[accepted].job)) {
      CHECK_EQ_INT(ca_err_get()->code, CA_ERR_SHUTTING_DOWN);
      refused = 1;
      break;
    }
    accepted++;
    items++;
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  CHECK(refused);
  const int refused_job = accepted;
  gate_open();
  pthread_join(stopper, NULL);
  ca.engine = NULL;
  ca_serial_set_test_source(NULL);
  CHECK(wait_done(accepted));
  for (int j = 0; j < accepted; j++) {
    CHECK_EQ_INT(atomic_load(&jobs[j].calls), 1);
    CHECK_EQ_INT(jobs[j].committed, 1);
  }
  CHECK_EQ_INT(atomic_load(&jobs[refused_job].calls), 0);
  CHECK_EQ_INT(certificates(&ca), items);
  CHECK_EQ_INT(issue_audits(&ca), accepted);
  for (int j = 0; j < kJobs; j++) {
    untrack(&jobs[j]);
  }
  free(jobs);
  OPENSSL_free(csr);
  mod_ca_close(&ca);
}

// A trigger that refuses every certificate row stands for a store that
// fails at the moment of the write (disk full, constraint, lost primary).
static const char kRefuseRows[] =
    "CREATE FUNCTION refuse_rows() RETURNS trigger LANGUAGE plpgsql AS $$"
    " BEGIN RAISE EXCEPTION 'refused by the test'; END $$;"
    "CREATE TRIGGER refuse_rows BEFORE INSERT ON certificates"
    " FOR EACH ROW EXECUTE FUNCTION refuse_rows();";

TEST(a_failing_store_fails_every_item_with_no_certificate) {
  mod_ca ca;
  CHECK(mod_ca_open(&ca, "engine-fail", 2));
  CHECK(start_engine(&ca, 2, 64));
  reset_done();
  size_t csr_len;
  uint8_t *csr = good_csr(&csr_len);
  CHECK(mod_db_exec(&ca.db, kRefuseRows));

  // Blocking form: three items, the last no CSR.
  tracked t;
  track(&t, &ca.db, csr, csr_len, 3, 2);
  CHECK(!ca_engine_issue(ca.engine, t.requests, 3, "module-test", "127.0.0.1",
                         t.results));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_STORAGE_UNAVAILABLE);
  for (size_t i = 0; i < 2; i++) {
    CHECK_EQ_INT(t.results[i].err.code, CA_ERR_STORAGE_UNAVAILABLE);
    CHECK(t.results[i].der == NULL);
    CHECK_EQ_INT(t.results[i].der_len, 0);
  }
  // The item that failed on its own keeps its own error.
  CHECK_EQ_INT(t.results[2].err.code, CA_ERR_CSR_MALFORMED);
  untrack(&t);

  // Callback form: called once, with committed = 0.
  tracked u;
  track(&u, &ca.db, csr, csr_len, 4, MAX_ITEMS);
  CHECK(ca_engine_submit(ca.engine, &u.job));
  CHECK(wait_done(1));
  CHECK_EQ_INT(atomic_load(&u.calls), 1);
  CHECK_EQ_INT(u.committed, 0);
  for (size_t i = 0; i < 4; i++) {
    CHECK_EQ_INT(u.results[i].err.code, CA_ERR_STORAGE_UNAVAILABLE);
    CHECK(u.results[i].der == NULL);
  }
  untrack(&u);
  CHECK_EQ_INT(certificates(&ca), 0);
  CHECK_EQ_INT(issue_audits(&ca), 0);
  ca_engine_stats stats;
  ca_engine_get_stats(ca.engine, &stats);
  CHECK_EQ_INT(stats.groups_failed, 2);
  CHECK_EQ_INT(stats.rows_committed, 0);

  // Once the store takes rows again, so does the engine.
  CHECK(mod_db_exec(&ca.db, "DROP TRIGGER refuse_rows ON certificates"));
  ca_issued ok;
  CHECK(mod_issue(&ca, "tomcat-ECDSA", "EC-P256", "again.example.com", &ok));
  CHECK_EQ_INT(ok.err.code, CA_OK);
  ca_issued_cleanup(&ok);
  CHECK_EQ_INT(certificates(&ca), 1);
  OPENSSL_free(csr);
  mod_ca_close(&ca);
}

int main(void) {
  RUN(jobs_are_committed_before_their_callback_runs_once);
  RUN(a_job_is_refused_whole_when_the_queue_is_full);
  RUN(stop_answers_every_accepted_job_and_refuses_new_ones);
  RUN(a_failing_store_fails_every_item_with_no_certificate);
  return test_summary();
}
