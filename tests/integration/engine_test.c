// The signing engine behind a real pkid and PostgreSQL: many concurrent
// single and batch requests (every returned certificate has its row, no
// serial repeats, every request answered once), a full queue answered 503
// with Retry-After and recovering, and a shutdown in the middle of a batch
// that leaves nothing half written.
#include <openssl/mem.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/client/client.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

// A few distinct requests, reused: every issuance draws a new serial.
#define CSR_POOL 16
static uint8_t *ec_csrs[CSR_POOL];
static size_t ec_lens[CSR_POOL];
static uint8_t *rsa_csr;
static size_t rsa_len;

static void make_csrs(void) {
  for (int i = 0; i < CSR_POOL; i++) {
    char subject[64];
    snprintf(subject, sizeof(subject), "/CN=load%d.example.com", i);
    test_csr_spec spec = {.key = "EC-P256", .subject = subject};
    ec_csrs[i] = test_make_csr(&spec, &ec_lens[i], NULL);
    CHECK(ec_csrs[i] != NULL);
  }
  test_csr_spec spec = {.key = "RSA-2048", .subject = "/CN=slow.example.com"};
  rsa_csr = test_make_csr(&spec, &rsa_len, NULL);
  CHECK(rsa_csr != NULL);
}

// post_batch sends |n| requests (CSR pool round robin from |first|) and
// returns the HTTP status; on 200 it appends every serial to |serials|.
static long post_batch(pki_client *client, const char *profile,
                       const uint8_t *csr, size_t csr_len, size_t n,
                       size_t first, char (*serials)[40], size_t *n_serials,
                       long *retry_after) {
  Pki__V1__IssueRequest *items = calloc(n, sizeof(*items));
  Pki__V1__IssueRequest **ptrs = calloc(n, sizeof(*ptrs));
  for (size_t i = 0; i < n; i++) {
    pki__v1__issue_request__init(&items[i]);
    items[i].csr.data =
        (uint8_t *)(csr != NULL ? csr : ec_csrs[(first + i) % CSR_POOL]);
    items[i].csr.len = csr != NULL ? csr_len : ec_lens[(first + i) % CSR_POOL];
    ptrs[i] = &items[i];
  }
  Pki__V1__BatchIssueRequest req = PKI__V1__BATCH_ISSUE_REQUEST__INIT;
  req.profile = (char *)profile;
  req.n_items = n;
  req.items = ptrs;
  const size_t len = pki__v1__batch_issue_request__get_packed_size(&req);
  uint8_t *body = malloc(len);
  pki__v1__batch_issue_request__pack(&req, body);
  pki_reply reply;
  long status = 0;
  if (pki_client_call(client, "POST", "/v1/certificates:batchIssue",
                      "application/x-protobuf", body, len, &reply)) {
    status = reply.status;
    if (retry_after != NULL) {
      *retry_after = reply.retry_after;
    }
    if (status == 200) {
      Pki__V1__BatchIssueResponse *resp = pki__v1__batch_issue_response__unpack(
          NULL, reply.body_len, reply.body);
      CHECK(resp != NULL && resp->n_results == n && resp->issued == n);
      for (size_t i = 0; resp != NULL && i < resp->n_results; i++) {
        if (resp->results[i]->certificate != NULL && serials != NULL) {
          snprintf(serials[(*n_serials)++], 40, "%s",
                   resp->results[i]->certificate->serial);
        }
      }
      pki__v1__batch_issue_response__free_unpacked(resp, NULL);
    }
    pki_reply_cleanup(&reply);
  }
  free(body);
  free(items);
  free(ptrs);
  return status;
}

// --- Concurrency ---

#define CLIENTS 8
#define ROUNDS 12

typedef struct client_run {
  const it_pkid *pkid;
  int id;
  char (*serials)[40];
  size_t n_serials;
  size_t expected;
  int failures;
} client_run;

static void *run_client(void *arg) {
  client_run *run = arg;
  pki_client *client = it_client(run->pkid);
  for (int round = 0; round < ROUNDS; round++) {
    // Alternate single items and batches of various sizes.
    const size_t n = (run->id + round) % 3 == 0 ? 1 : 5 + (size_t)round * 3;
    run->expected += n;
    const long status =
        post_batch(client, "tomcat-ECDSA", NULL, 0, n, (size_t)round,
                   run->serials, &run->n_serials, NULL);
    if (status != 200) {
      run->failures++;
    }
  }
  pki_client_free(client);
  return NULL;
}

static int compare_serials(const void *a, const void *b) {
  return strcmp((const char *)a, (const char *)b);
}

TEST(concurrent_requests_each_answered_once_and_recorded) {
  it_db db;
  it_db_create(&db);
  it_pkid pkid = {0};
  char dir[512];
  it_tmpdir("concurrency", dir, sizeof(dir));
  const char *extra[] = {"--workers", "2", "--group-rows", "64", NULL};
  CHECK(it_pkid_start(&pkid, &db, dir, extra));
  client_run runs[CLIENTS];
  pthread_t threads[CLIENTS];
  // 12 rounds of at most 38 items each.
  const size_t cap = ROUNDS * 40;
  for (int i = 0; i < CLIENTS; i++) {
    memset(&runs[i], 0, sizeof(runs[i]));
    runs[i].pkid = &pkid;
    runs[i].id = i;
    runs[i].serials = calloc(cap, 40);
    CHECK(pthread_create(&threads[i], NULL, run_client, &runs[i]) == 0);
  }
  size_t total = 0, expected = 0;
  char(*all)[40] = calloc(CLIENTS * cap, 40);
  for (int i = 0; i < CLIENTS; i++) {
    pthread_join(threads[i], NULL);
    CHECK_EQ_INT(runs[i].failures, 0);
    CHECK_EQ_INT(runs[i].n_serials, runs[i].expected);
    memcpy(all[total], runs[i].serials, runs[i].n_serials * 40);
    total += runs[i].n_serials;
    expected += runs[i].expected;
    free(runs[i].serials);
  }
  CHECK_EQ_INT(total, expected);
  // No serial twice among the answers...
  qsort(all, total, 40, compare_serials);
  size_t repeats = 0;
  for (size_t i = 1; i < total; i++) {
    repeats += strcmp(all[i - 1], all[i]) == 0;
  }
  CHECK_EQ_INT(repeats, 0);
  // ... every one of them in the database, and nothing else there.
  CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM certificates", NULL),
               (long long)total);
  CHECK_EQ_INT(
      it_db_int(&db, "SELECT count(DISTINCT serial) FROM certificates", NULL),
      (long long)total);
  size_t missing = 0;
  for (size_t i = 0; i < total; i += 7) {
    missing +=
        it_db_int(&db, "SELECT count(*) FROM certificates WHERE serial = $1",
                  all[i]) != 1;
  }
  CHECK_EQ_INT(missing, 0);
  // One audit row per request; several requests shared transactions.
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM audit_log WHERE action = "
                         "'issue'",
                         NULL),
               CLIENTS * ROUNDS);
  pki_client *client = it_client(&pkid);
  pki_reply reply;
  CHECK(pki_client_call(client, "GET", "/metrics", NULL, NULL, 0, &reply));
  CHECK(reply.body != NULL &&
        strstr((const char *)reply.body, "pki_commit_groups_total") != NULL);
  pki_reply_cleanup(&reply);
  pki_client_free(client);
  free(all);
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  it_db_drop(&db);
}

// --- A full queue ---

typedef struct burst {
  const it_pkid *pkid;
  long status;
  long retry_after;
} burst;

static void *send_slow_batch(void *arg) {
  burst *b = arg;
  pki_client *client = it_client(b->pkid);
  // 100 RSA signatures on one worker: at least 50 ms even unsanitized.
  b->status = post_batch(client, "tomcat", rsa_csr, rsa_len, 100, 0, NULL, NULL,
                         &b->retry_after);
  pki_client_free(client);
  return NULL;
}

TEST(a_full_queue_answers_503_and_recovers) {
  it_db db;
  it_db_create(&db);
  it_pkid pkid = {0};
  char dir[512];
  it_tmpdir("queue", dir, sizeof(dir));
  const char *extra[] = {"--workers", "1", "--queue-items", "100", NULL};
  CHECK(it_pkid_start(&pkid, &db, dir, extra));
  // Five batches at once, each as large as the whole queue: while one is
  // signed, the others cannot be queued.
  burst bursts[5];
  pthread_t threads[5];
  for (int i = 0; i < 5; i++) {
    memset(&bursts[i], 0, sizeof(bursts[i]));
    bursts[i].pkid = &pkid;
    CHECK(pthread_create(&threads[i], NULL, send_slow_batch, &bursts[i]) == 0);
  }
  int ok = 0, full = 0;
  for (int i = 0; i < 5; i++) {
    pthread_join(threads[i], NULL);
    if (bursts[i].status == 200) {
      ok++;
    } else if (bursts[i].status == 503) {
      full++;
      CHECK(bursts[i].retry_after >= 1);
    } else {
      fprintf(stderr, "unexpected status %ld\n", bursts[i].status);
      CHECK(0);
    }
  }
  CHECK(ok >= 1);
  CHECK(full >= 1);
  CHECK_EQ_INT(ok + full, 5);
  // Recovered: the queue is empty again and takes a batch.
  pki_client *client = it_client(&pkid);
  CHECK_EQ_INT(
      post_batch(client, "tomcat", rsa_csr, rsa_len, 10, 0, NULL, NULL, NULL),
      200);
  // A batch that can never fit the queue is refused as too large.
  CHECK_EQ_INT(
      post_batch(client, "tomcat-ECDSA", NULL, 0, 101, 0, NULL, NULL, NULL),
      413);
  pki_client_free(client);
  CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM certificates", NULL),
               ok * 100 + 10);
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  it_db_drop(&db);
}

// --- Shutdown in the middle of a batch ---

typedef struct inflight {
  const it_pkid *pkid;
  long status;
  char (*serials)[40];
  size_t n_serials;
} inflight;

static void *send_big_batch(void *arg) {
  inflight *f = arg;
  pki_client *client = it_client(f->pkid);
  f->status = post_batch(client, "tomcat", rsa_csr, rsa_len, 400, 0, f->serials,
                         &f->n_serials, NULL);
  pki_client_free(client);
  return NULL;
}

TEST(a_shutdown_mid_batch_answers_and_records_it_whole) {
  it_db db;
  it_db_create(&db);
  it_pkid pkid = {0};
  char dir[512];
  it_tmpdir("shutdown", dir, sizeof(dir));
  const char *extra[] = {"--workers", "1", NULL};
  CHECK(it_pkid_start(&pkid, &db, dir, extra));
  inflight f = {.pkid = &pkid, .serials = calloc(400, 40)};
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, send_big_batch, &f) == 0);
  // Wait until the batch sits in the engine's queue (400 RSA signatures on
  // one worker take at least 200 ms), then ask pkid to stop.
  pki_client *watcher = it_client(&pkid);
  long long queued = 0;
  for (int i = 0; i < 500 && queued == 0; i++) {
    pki_reply reply;
    if (pki_client_call(watcher, "GET", "/metrics", NULL, NULL, 0, &reply) &&
        reply.body != NULL) {
      const char *line = strstr((const char *)reply.body, "\npki_queue_items ");
      if (line != NULL) {
        queued = strtoll(line + strlen("\npki_queue_items "), NULL, 10);
      }
    }
    pki_reply_cleanup(&reply);
    if (queued == 0) {
      usleep(10 * 1000);
    }
  }
  pki_client_free(watcher);
  CHECK(queued > 0);
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  pthread_join(thread, NULL);
  const long long rows =
      it_db_int(&db, "SELECT count(*) FROM certificates", NULL);
  // Either the batch was taken before the stop, then it was signed,
  // recorded whole and answered; or it was refused, and nothing of it is
  // stored. Never a part.
  if (f.status == 200) {
    CHECK_EQ_INT(f.n_serials, 400);
    CHECK_EQ_INT(rows, 400);
  } else {
    fprintf(stderr, "batch answered %ld during shutdown\n", f.status);
    CHECK_EQ_INT(rows, 0);
  }
  free(f.serials);
  it_db_drop(&db);
}

int main(void) {
  make_csrs();
  RUN(concurrent_requests_each_answered_once_and_recorded);
  RUN(a_full_queue_answers_503_and_recovers);
  RUN(a_shutdown_mid_batch_answers_and_records_it_whole);
  for (int i = 0; i < CSR_POOL; i++) {
    OPENSSL_free(ec_csrs[i]);
  }
  OPENSSL_free(rsa_csr);
  return test_summary();
}
