// The table of common names (certificate_names, migration 0026) against a
// real PostgreSQL while other transactions add the same names: the writer
// of a certificate whose name another transaction added and has not yet
// committed waits for that transaction (ON CONFLICT's rule), then commits
// after a COMMIT and adds the name itself after a ROLLBACK; two engines
// recording certificates of the same new names at once both commit. Each
// name is in the table once, and a find lists every certificate of it.
#include <openssl/mem.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/store/store.h"
#include "tests/modules/fixture.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

static mod_ca ca;

// The certificates issued for |n| CSRs of the names "|prefix|-<i>.Example.NET"
// through |engine|, and how many were committed.
typedef struct issue_run {
  ca_engine *engine;
  const char *prefix;
  size_t n;
  pthread_barrier_t *start;  // may be NULL
  int ok;
  size_t committed;
  atomic_int finished;
} issue_run;

static void *issue_names(void *arg) {
  issue_run *r = arg;
  ca_issue_request *requests = calloc(r->n, sizeof(*requests));
  uint8_t **csrs = calloc(r->n, sizeof(*csrs));
  ca_issued *results = calloc(r->n, sizeof(*results));
  int made = requests != NULL && csrs != NULL && results != NULL;
  for (size_t i = 0; made && i < r->n; i++) {
    char subject[128];
    snprintf(subject, sizeof(subject), "/CN=%s-%03zu.Example.NET", r->prefix,
             i);
    test_csr_spec spec = {.key = "EC-P256", .subject = subject};
    size_t len = 0;
    csrs[i] = test_make_csr(&spec, &len, NULL);
    made = csrs[i] != NULL;
    requests[i] = (ca_issue_request){
        .profile = "tomcat-ECDSA", .csr = csrs[i], .csr_len = len};
  }
  if (r->start != NULL) {
    pthread_barrier_wait(r->start);
  }
  r->ok = made && ca_engine_issue(r->engine, requests, r->n, "names-test",
                                  "127.0.0.1", results);
  for (size_t i = 0; r->ok && i < r->n; i++) {
    r->committed += results[i].err.code == CA_OK;
    ca_issued_cleanup(&results[i]);
  }
  for (size_t i = 0; csrs != NULL && i < r->n; i++) {
    OPENSSL_free(csrs[i]);
  }
  free(requests);
  free(csrs);
  free(results);
  atomic_store(&r->finished, 1);
  return NULL;
}

// names_like counts the names of the table matching the LIKE |pattern|.
static long long names_like(const char *pattern) {
  return mod_db_int(&ca.db,
                    "SELECT count(*) FROM certificate_names WHERE name LIKE $1",
                    pattern, NULL);
}

// found counts the certificates a find by common-name text |cn| lists.
static long found(const char *cn) {
  ca_cert_filter f = {.usage = CA_USAGE_IDENTITY, .cn = cn, .limit = 1000};
  ca_cert_row *rows = NULL;
  size_t n = 0;
  if (!ca_store_list_certificates(ca.store, &f, &rows, &n)) {
    fprintf(stderr, "find %s: %s\n", cn, ca_err_get()->message);
    return -1;
  }
  ca_cert_rows_free(rows, n);
  return (long)n;
}

// exec_on runs |sql| on |conn| and returns 1 when it succeeded.
static int exec_on(PGconn *conn, const char *sql) {
  PGresult *res = PQexec(conn, sql);
  const int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  if (!ok) {
    fprintf(stderr, "%s: %s", sql, PQerrorMessage(conn));
  }
  PQclear(res);
  return ok;
}

static void sleep_ms(long ms) {
  const struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

// held_name_waits holds a transaction that recorded a certificate of the
// name |prefix|-000.example.net, issues one of the same name through the
// engine meanwhile, and ends the held transaction with |end| (COMMIT or
// ROLLBACK) once the engine's writer is seen waiting for it.
static void held_name_waits(const char *prefix, const char *end,
                            int held_commits) {
  PGconn *held = mod_db_connect(&ca.db);
  char insert[1024];
  snprintf(insert, sizeof(insert),
           "INSERT INTO certificates (issuer_id, serial, profile, subject,"
           " common_name, sans, key_type, key_bits, not_before, not_after,"
           " der, requester) SELECT min(id), 'abc%zu', 'tomcat-ECDSA',"
           " 'CN=%s-000.example.net', '%s-000.example.net', '{}', 'EC', 256,"
           " now(), now() + interval '1 day', '\\x3000', 'held' FROM issuers",
           strlen(prefix), prefix, prefix);
  CHECK(held != NULL && exec_on(held, "BEGIN") && exec_on(held, insert));
  issue_run run = {.engine = ca.engine, .prefix = prefix, .n = 1};
  pthread_t t;
  if (held == NULL || pthread_create(&t, NULL, issue_names, &run) != 0) {
    CHECK(!"a held transaction and the issuing thread");
    PQfinish(held);
    return;
  }
  // The engine's writer waits on the held transaction's uncommitted name.
  long long waiting = 0;
  for (int i = 0; i < 200 && waiting == 0; i++) {
    sleep_ms(25);
    waiting = mod_db_int(&ca.db,
                         "SELECT count(*) FROM pg_stat_activity WHERE"
                         " datname = current_database() AND"
                         " wait_event_type = 'Lock'",
                         NULL, NULL);
  }
  CHECK_EQ_INT(waiting, 1);
  CHECK(!atomic_load(&run.finished));
  CHECK(exec_on(held, end));
  pthread_join(t, NULL);
  CHECK(run.ok);
  CHECK_EQ_INT(run.committed, 1);
  char pattern[64], text[64];
  snprintf(pattern, sizeof(pattern), "%s-000.example.net", prefix);
  CHECK_EQ_INT(names_like(pattern), 1);
  snprintf(text, sizeof(text), "%s-000.EXAMPLE", prefix);
  CHECK_EQ_INT(found(text), 1 + held_commits);
  PQfinish(held);
}

TEST(a_writer_waits_for_a_name_added_uncommitted_then_commits) {
  held_name_waits("held", "COMMIT", 1);
}

TEST(a_writer_adds_the_name_a_rolled_back_transaction_added) {
  held_name_waits("rolled", "ROLLBACK", 0);
}

TEST(two_engines_record_the_same_new_names_at_once) {
  // Two engines on one database, each with its own writer and transaction,
  // recording 100 certificates of the same 100 new names in the same
  // moments, four times over.
  ca_engine_config config;
  ca_engine_config_init(&config);
  config.workers = 1;
  ca_engine *second = NULL;
  CHECK(ca_engine_start(ca.authority, ca.store, &config, &second));
  if (second == NULL) {
    return;
  }
  for (int round = 0; round < 4; round++) {
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "race%d", round);
    pthread_barrier_t start;
    CHECK(pthread_barrier_init(&start, NULL, 2) == 0);
    issue_run runs[2] = {
        {.engine = ca.engine, .prefix = prefix, .n = 100, .start = &start},
        {.engine = second, .prefix = prefix, .n = 100, .start = &start}};
    pthread_t t[2];
    int started = 0;
    for (int i = 0; i < 2; i++) {
      started += pthread_create(&t[i], NULL, issue_names, &runs[i]) == 0;
    }
    if (started != 2) {
      // A lone thread would wait at the barrier for ever.
      fprintf(stderr, "cannot start the issuing threads\n");
      exit(1);
    }
    for (int i = 0; i < 2; i++) {
      pthread_join(t[i], NULL);
      CHECK(runs[i].ok);
      CHECK_EQ_INT(runs[i].committed, 100);
    }
    pthread_barrier_destroy(&start);
    char pattern[64], text[64];
    snprintf(pattern, sizeof(pattern), "%s-%%.example.net", prefix);
    CHECK_EQ_INT(names_like(pattern), 100);
    snprintf(text, sizeof(text), "%s-042.example", prefix);
    CHECK_EQ_INT(found(text), 2);
  }
  ca_engine_stop(second);
}

int main(void) {
  // Two connections: one per engine's writer, and finds beside them.
  if (!mod_ca_open(&ca, "store-names", 3) || !mod_ca_start_engine(&ca, 1)) {
    fprintf(stderr, "setup failed\n");
    mod_ca_close(&ca);
    return 1;
  }
  RUN(a_writer_waits_for_a_name_added_uncommitted_then_commits);
  RUN(a_writer_adds_the_name_a_rolled_back_transaction_added);
  RUN(two_engines_record_the_same_new_names_at_once);
  mod_ca_close(&ca);
  printf("%d checks, %d failed\n", test_checks, test_failures);
  return test_failures != 0;
}
