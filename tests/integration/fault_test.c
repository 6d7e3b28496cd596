// Faults against a real pkid and a real PostgreSQL (issue 6, "Proof"):
//
// - PostgreSQL stopped in the middle of a stream of batches, on a cluster of
//   the test's own: clients get 503 STORAGE_UNAVAILABLE with Retry-After at
//   once, never a hang; pkid (the same process) serves again soon after the
//   server is back; every certificate a client received has its row, byte
//   for byte, and no request answered 200 lacks one.
// - pkid killed with SIGKILL in the middle of a stream of batches: after a
//   restart on the same data directory and database every returned
//   certificate is there and whole, every row matches its DER, and each
//   batch is recorded whole or not at all (the writer records whole jobs in
//   one transaction: ARCHITECTURE.md, ca/issue/engine.c).
// - A full disk under the keys directory (a small tmpfs): the first start
//   and the writing of delegated OCSP responder keys fail with ENOSPC in the
//   log, leave no key file, no temporary file and no database row, and
//   succeed once space is freed.
//
// Serial collisions are tested in collision_test.c.
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/mem.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/client/client.h"
#include "ca/x509/name.h"
#include "ca/x509/serial.h"
#include "ca/x509/x509.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

// count_in_file_from returns how many lines of |path| from byte |offset|
// contain |needle|.
static int count_in_file_from(const char *path, long offset,
                              const char *needle) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    return -1;
  }
  if (fseek(f, offset, SEEK_SET) != 0) {
    fclose(f);
    return -1;
  }
  int n = 0;
  char line[4096];
  while (fgets(line, sizeof(line), f) != NULL) {
    n += strstr(line, needle) != NULL;
  }
  fclose(f);
  return n;
}

static int count_in_file(const char *path, const char *needle) {
  return count_in_file_from(path, 0, needle);
}

static long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

// --- A PostgreSQL cluster of the test's own, which it may stop ---

typedef struct pg_cluster {
  char dir[512];
  char bin[512];
  unsigned port;
  char url[640];
} pg_cluster;

// The cluster running, stopped at exit whatever happens.
static pg_cluster *live_cluster;

// The running postmaster, which a signal handler stops (SIGQUIT: an
// immediate shutdown) if the test is killed, by a timeout say.
static atomic_int live_postmaster;

// as_postgres runs |command| (a shell line) as the postgres user when the
// test runs as root: initdb refuses root.
static int as_postgres(const char *command) {
  char line[4096];
  if (geteuid() == 0) {
    snprintf(line, sizeof(line), "cd / && runuser -u postgres -- sh -c '%s'",
             command);
  } else {
    snprintf(line, sizeof(line), "cd / && sh -c '%s'", command);
  }
  return it_run(line);
}

static int pg_cluster_start(pg_cluster *pg) {
  char cmd[2048];
  snprintf(cmd, sizeof(cmd),
           "%s/pg_ctl -D %s/data -l %s/log -w -o \"-p %u -c "
           "listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c "
           "log_connections=on\" start "
           ">/dev/null",
           pg->bin, pg->dir, pg->dir, pg->port, pg->dir);
  if (as_postgres(cmd) != 0) {
    return 0;
  }
  // The postmaster's pid, for the signal handler: the first line of
  // postmaster.pid.
  char pidfile[600];
  snprintf(pidfile, sizeof(pidfile), "%s/data/postmaster.pid", pg->dir);
  FILE *f = fopen(pidfile, "r");
  long pid = 0;
  if (f != NULL) {
    if (fscanf(f, "%ld", &pid) != 1) {
      pid = 0;
    }
    fclose(f);
  }
  atomic_store(&live_postmaster, (int)pid);
  return 1;
}

static int pg_cluster_stop(pg_cluster *pg, const char *mode) {
  char cmd[2048];
  snprintf(cmd, sizeof(cmd), "%s/pg_ctl -D %s/data -m %s -w stop >/dev/null",
           pg->bin, pg->dir, mode);
  atomic_store(&live_postmaster, 0);
  return as_postgres(cmd) == 0;
}

// pg_cluster_create makes and starts a cluster in a new directory that the
// postgres user owns: under $TEST_TMPDIR when postgres may enter it (Bazel's
// is often under /root, which it may not), else under /tmp. It fails the
// test, never skips, when PKI_PG_BIN is unset or anything fails.
static int pg_cluster_create(pg_cluster *pg) {
  memset(pg, 0, sizeof(*pg));
  const char *bin = getenv("PKI_PG_BIN");
  if (bin == NULL || bin[0] == '\0') {
    fprintf(stderr,
            "PKI_PG_BIN is not set: the fault test runs a PostgreSQL server "
            "of its own (run it through bazel/pki test)\n");
    return 0;
  }
  snprintf(pg->bin, sizeof(pg->bin), "%s", bin);
  const struct passwd *pw = getpwnam("postgres");
  if (geteuid() == 0 && pw == NULL) {
    fprintf(stderr, "no postgres user to run the test's PostgreSQL\n");
    return 0;
  }
  char tmpl[512];
  it_tmpdir("pg.XXXXXX", tmpl, sizeof(tmpl));
  int made = mkdtemp(tmpl) != NULL;
  if (made && geteuid() == 0) {
    char probe[1024];
    snprintf(probe, sizeof(probe), "test -w %s", tmpl);
    made = chown(tmpl, pw->pw_uid, pw->pw_gid) == 0 && as_postgres(probe) == 0;
    if (!made) {
      rmdir(tmpl);
    }
  }
  if (!made) {
    snprintf(tmpl, sizeof(tmpl), "/tmp/pki-fault-pg.XXXXXX");
    if (mkdtemp(tmpl) == NULL ||
        (geteuid() == 0 && chown(tmpl, pw->pw_uid, pw->pw_gid) != 0)) {
      fprintf(stderr, "cannot make a directory for PostgreSQL: %s\n",
              strerror(errno));
      return 0;
    }
  }
  snprintf(pg->dir, sizeof(pg->dir), "%s", tmpl);
  live_cluster = pg;
  char cmd[2048];
  snprintf(cmd, sizeof(cmd),
           "%s/initdb -D %s/data -U postgres -A trust --encoding=UTF8 "
           "--locale=C.UTF-8 >/dev/null",
           pg->bin, pg->dir);
  if (as_postgres(cmd) != 0) {
    fprintf(stderr, "initdb failed in %s\n", pg->dir);
    return 0;
  }
  pg->port = it_free_port();
  snprintf(pg->url, sizeof(pg->url),
           "postgresql://postgres@127.0.0.1:%u/postgres", pg->port);
  if (pg->port == 0 || !pg_cluster_start(pg)) {
    fprintf(stderr, "cannot start PostgreSQL in %s\n", pg->dir);
    return 0;
  }
  return 1;
}

static void pg_cluster_destroy(pg_cluster *pg) {
  if (pg->dir[0] == '\0') {
    return;
  }
  (void)pg_cluster_stop(pg, "immediate");
  char cmd[1024];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", pg->dir);
  (void)it_run(cmd);
  pg->dir[0] = '\0';
  live_cluster = NULL;
  atomic_store(&live_postmaster, 0);
}

static void destroy_live_cluster(void) {
  if (live_cluster != NULL) {
    pg_cluster_destroy(live_cluster);
  }
}

// --- Clients streaming batches ---

// Item I of batch B of a stream tagged T has the subject CN
// TB-iI.fault.example.com, so that the rows of every batch can be counted
// whatever its fate.
typedef struct batch_rec {
  int id;
  int items;
  long status;         // 0: no HTTP answer (transport error)
  long retry_after;    // seconds
  char code[48];       // the error code of a refusal
  int64_t start, end;  // now_ms()
} batch_rec;

typedef struct cert_got {
  int batch;
  char serial[CA_SERIAL_HEX_LEN];
  uint8_t *der;
  size_t der_len;
} cert_got;

typedef struct stream {
  const it_pkid *pkid;
  char tag;
  int items;
  atomic_int stop;
  atomic_int next_batch;
  atomic_int ok;       // batches answered 200
  atomic_int running;  // client threads not finished
  pthread_mutex_t mu;
  batch_rec *batches;
  size_t n_batches, cap_batches;
  cert_got *certs;
  size_t n_certs, cap_certs;
} stream;

static void stream_add(stream *s, const batch_rec *b, cert_got *certs,
                       size_t n) {
  pthread_mutex_lock(&s->mu);
  if (s->n_batches == s->cap_batches) {
    s->cap_batches = s->cap_batches ? 2 * s->cap_batches : 256;
    s->batches = realloc(s->batches, s->cap_batches * sizeof(*s->batches));
  }
  s->batches[s->n_batches++] = *b;
  if (s->n_certs + n > s->cap_certs) {
    s->cap_certs = 2 * (s->n_certs + n) + 256;
    s->certs = realloc(s->certs, s->cap_certs * sizeof(*s->certs));
  }
  memcpy(s->certs + s->n_certs, certs, n * sizeof(*certs));
  s->n_certs += n;
  pthread_mutex_unlock(&s->mu);
}

#define MAX_ITEMS 64

// send_batch sends batch |id| of |items| new CSRs and records the outcome.
static void send_batch(stream *s, pki_client *client, int id) {
  // Sizes vary, so that a group of several batches never splits evenly
  // along their edges.
  const int items = s->items + id % 5;
  batch_rec b = {.id = id, .items = items};
  uint8_t *csrs[MAX_ITEMS];
  size_t lens[MAX_ITEMS];
  Pki__V1__IssueRequest reqs[MAX_ITEMS];
  Pki__V1__IssueRequest *ptrs[MAX_ITEMS];
  cert_got got[MAX_ITEMS];
  size_t n_got = 0;
  for (int i = 0; i < items; i++) {
    char subject[96];
    snprintf(subject, sizeof(subject), "/CN=%c%d-i%d.fault.example.com", s->tag,
             id, i);
    const test_csr_spec spec = {.key = "EC-P256", .subject = subject};
    csrs[i] = test_make_csr(&spec, &lens[i], NULL);
    pki__v1__issue_request__init(&reqs[i]);
    reqs[i].csr.data = csrs[i];
    reqs[i].csr.len = lens[i];
    ptrs[i] = &reqs[i];
  }
  Pki__V1__BatchIssueRequest req = PKI__V1__BATCH_ISSUE_REQUEST__INIT;
  req.profile = "tomcat-ECDSA";
  req.n_items = (size_t)items;
  req.items = ptrs;
  const size_t len = pki__v1__batch_issue_request__get_packed_size(&req);
  uint8_t *body = malloc(len);
  pki__v1__batch_issue_request__pack(&req, body);
  pki_reply reply;
  b.start = now_ms();
  const int answered =
      pki_client_call(client, "POST", "/v1/certificates:batchIssue",
                      "application/x-protobuf", body, len, &reply);
  b.end = now_ms();
  if (answered) {
    b.status = reply.status;
    b.retry_after = reply.retry_after;
    if (reply.status == 200) {
      Pki__V1__BatchIssueResponse *resp = pki__v1__batch_issue_response__unpack(
          NULL, reply.body_len, reply.body);
      CHECK(resp != NULL && resp->n_results == (size_t)items);
      for (size_t i = 0; resp != NULL && i < resp->n_results; i++) {
        const Pki__V1__IssuedCertificate *c = resp->results[i]->certificate;
        CHECK(c != NULL);
        if (c == NULL) {
          continue;
        }
        cert_got *g = &got[n_got++];
        g->batch = id;
        snprintf(g->serial, sizeof(g->serial), "%s", c->serial);
        g->der = OPENSSL_memdup(c->certificate.data, c->certificate.len);
        g->der_len = c->certificate.len;
      }
      pki__v1__batch_issue_response__free_unpacked(resp, NULL);
      atomic_fetch_add(&s->ok, 1);
    } else {
      char text[256];
      pki_reply_error_text(&reply, text, sizeof(text));
      snprintf(b.code, sizeof(b.code), "%.*s", (int)strcspn(text, ":"), text);
    }
    pki_reply_cleanup(&reply);
  }
  stream_add(s, &b, got, n_got);
  free(body);
  for (int i = 0; i < items; i++) {
    OPENSSL_free(csrs[i]);
  }
  if (!answered || b.status != 200) {
    sleep_ms(20);  // a refused client retries, but does not spin
  }
}

static void *client_main(void *arg) {
  stream *s = arg;
  pki_client *client = it_client(s->pkid);
  CHECK(client != NULL);
  while (client != NULL && !atomic_load(&s->stop)) {
    send_batch(s, client, atomic_fetch_add(&s->next_batch, 1));
  }
  pki_client_free(client);
  atomic_fetch_sub(&s->running, 1);
  return NULL;
}

#define CLIENTS 4

static void stream_start(stream *s, const it_pkid *pkid, char tag, int items,
                         pthread_t threads[CLIENTS]) {
  memset(s, 0, sizeof(*s));
  s->pkid = pkid;
  s->tag = tag;
  s->items = items;
  pthread_mutex_init(&s->mu, NULL);
  atomic_store(&s->running, CLIENTS);
  for (int i = 0; i < CLIENTS; i++) {
    CHECK(pthread_create(&threads[i], NULL, client_main, s) == 0);
  }
}

// stream_stop stops the clients. A client still waiting after |bound_ms|
// is a hang: the check fails and |pkid| is killed, which ends the wait.
static void stream_stop(stream *s, it_pkid *pkid, pthread_t threads[CLIENTS],
                        int64_t bound_ms) {
  atomic_store(&s->stop, 1);
  const int64_t deadline = now_ms() + bound_ms;
  while (atomic_load(&s->running) > 0 && now_ms() < deadline) {
    sleep_ms(10);
  }
  CHECK_EQ_INT(atomic_load(&s->running), 0);
  if (atomic_load(&s->running) > 0) {
    fprintf(stderr, "clients still waiting for pkid after %lld ms\n",
            (long long)bound_ms);
    it_pkid_kill(pkid);
  }
  for (int i = 0; i < CLIENTS; i++) {
    pthread_join(threads[i], NULL);
  }
}

static void stream_free(stream *s) {
  for (size_t i = 0; i < s->n_certs; i++) {
    OPENSSL_free(s->certs[i].der);
  }
  free(s->certs);
  free(s->batches);
  pthread_mutex_destroy(&s->mu);
}

// wait_ok waits until |want| batches were answered 200, at most |bound_ms|.
static int wait_ok(stream *s, int want, int64_t bound_ms) {
  const int64_t deadline = now_ms() + bound_ms;
  while (atomic_load(&s->ok) < want && now_ms() < deadline) {
    sleep_ms(10);
  }
  return atomic_load(&s->ok) >= want;
}

// --- What the database holds ---

static int hex_decode(const char *hex, uint8_t **out, size_t *out_len) {
  const size_t n = strlen(hex) / 2;
  uint8_t *buf = malloc(n > 0 ? n : 1);
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
      free(buf);
      return 0;
    }
    buf[i] = (uint8_t)v;
  }
  *out = buf;
  *out_len = n;
  return 1;
}

// check_records checks what |db| holds against what the clients of |s|
// got: every certificate received is recorded with the same DER; every
// row is whole (its DER parses, and its serial, issuer and subject are
// those of the DER); every batch is recorded whole or not at all, and
// whole when it was answered 200. It returns the number of rows.
static int check_records(const it_db *db, const stream *s) {
  PGresult *res = it_db_query(
      db,
      "SELECT c.serial, encode(c.der, 'hex'), c.subject, c.common_name,"
      " encode(i.der, 'hex') FROM certificates c"
      " JOIN issuers i ON i.id = c.issuer_id WHERE c.profile = 'tomcat-ECDSA'",
      NULL, NULL);
  CHECK(res != NULL);
  if (res == NULL) {
    return -1;
  }
  const int rows = PQntuples(res);
  const int batches = atomic_load(&s->next_batch);
  int *per_batch = calloc((size_t)batches + 1, sizeof(int));
  int whole = 0;
  for (int r = 0; r < rows; r++) {
    uint8_t *der = NULL, *issuer_der = NULL;
    size_t der_len = 0, issuer_len = 0;
    ca_x509 cert, issuer;
    ca_serial serial;
    char hex[CA_SERIAL_HEX_LEN];
    char *subject = NULL;
    int ok = hex_decode(PQgetvalue(res, r, 1), &der, &der_len) &&
             hex_decode(PQgetvalue(res, r, 4), &issuer_der, &issuer_len) &&
             ca_x509_parse(&cert, der, der_len) &&
             ca_x509_parse(&issuer, issuer_der, issuer_len) &&
             ca_serial_from_integer(&cert.serial, &serial) &&
             ca_name_format(&cert.subject, &subject);
    if (ok) {
      ca_serial_to_hex(&serial, hex);
      ok = strcmp(hex, PQgetvalue(res, r, 0)) == 0 &&
           strcmp(subject, PQgetvalue(res, r, 2)) == 0 &&
           CBS_len(&cert.issuer) == CBS_len(&issuer.subject) &&
           memcmp(CBS_data(&cert.issuer), CBS_data(&issuer.subject),
                  CBS_len(&cert.issuer)) == 0;
    }
    if (!ok) {
      fprintf(stderr, "row %s is not whole\n", PQgetvalue(res, r, 0));
    }
    whole += ok;
    int batch, item;
    char tag;
    if (sscanf(PQgetvalue(res, r, 3), "%c%d-i%d.", &tag, &batch, &item) != 3) {
      fprintf(stderr, "row of no batch: %s\n", PQgetvalue(res, r, 3));
      CHECK(0);
    } else if (tag != s->tag) {
      // Another stream's.
    } else if (batch >= 0 && batch < batches) {
      per_batch[batch]++;
    } else {
      fprintf(stderr, "row of an unknown batch: %s\n", PQgetvalue(res, r, 3));
      CHECK(0);
    }
    OPENSSL_free(subject);
    free(der);
    free(issuer_der);
  }
  CHECK_EQ_INT(whole, rows);
  // Every certificate received is recorded, byte for byte.
  int found = 0;
  for (size_t k = 0; k < s->n_certs; k++) {
    const cert_got *g = &s->certs[k];
    int match = 0;
    for (int r = 0; r < rows && !match; r++) {
      if (strcmp(PQgetvalue(res, r, 0), g->serial) != 0) {
        continue;
      }
      uint8_t *der = NULL;
      size_t der_len = 0;
      match = hex_decode(PQgetvalue(res, r, 1), &der, &der_len) &&
              der_len == g->der_len && memcmp(der, g->der, der_len) == 0;
      free(der);
    }
    if (!match) {
      fprintf(stderr, "certificate %s (batch %d) was returned, not recorded\n",
              g->serial, g->batch);
    }
    found += match;
  }
  CHECK_EQ_INT(found, s->n_certs);
  // Never half a batch; all of a batch answered 200.
  int half = 0, ok_missing = 0;
  for (size_t k = 0; k < s->n_batches; k++) {
    const batch_rec *b = &s->batches[k];
    const int n = per_batch[b->id];
    if (n != 0 && n != b->items) {
      fprintf(stderr, "batch %d: %d of %d items recorded\n", b->id, n,
              b->items);
      half++;
    }
    if (b->status == 200 && n != b->items) {
      fprintf(stderr, "batch %d answered 200 with %d rows of %d\n", b->id, n,
              b->items);
      ok_missing++;
    }
  }
  CHECK_EQ_INT(half, 0);
  CHECK_EQ_INT(ok_missing, 0);
  free(per_batch);
  PQclear(res);
  return rows;
}

static const char *const kQuiet[] = {"--keypool", "none", NULL};

// --- PostgreSQL stopped and started under load ---

TEST(database_outage_fails_fast_and_pkid_recovers_without_restart) {
  pg_cluster pg;
  if (!pg_cluster_create(&pg)) {
    CHECK(!"a PostgreSQL cluster of the test's own");
    pg_cluster_destroy(&pg);
    return;
  }
  it_db db;
  it_db_create_on(pg.url, &db);
  char dir[512];
  it_tmpdir("outage", dir, sizeof(dir));
  it_pkid pkid = {0};
  if (!it_pkid_start(&pkid, &db, dir, kQuiet)) {
    CHECK(!"pkid starts");
    pg_cluster_destroy(&pg);
    return;
  }
  const pid_t pid = pkid.pid;
  stream s, s2;
  pthread_t threads[CLIENTS];
  stream_start(&s, &pkid, 'a', 8, threads);
  CHECK(wait_ok(&s, 20, 30000));

  // The server goes away at once, as in a crash; connections are cut.
  const int ok_before = atomic_load(&s.ok);
  CHECK(pg_cluster_stop(&pg, "immediate"));
  const int64_t stopped = now_ms();
  sleep_ms(3000);
  const int64_t restarting = now_ms();
  CHECK(pg_cluster_start(&pg));
  const int64_t restarted = now_ms();
  // pkid serves again within its longest backoff (5 s) and a margin.
  const int ok_after_restart = atomic_load(&s.ok);
  CHECK(wait_ok(&s, ok_after_restart + 5, 15000));
  const int64_t recovered = now_ms();
  fprintf(stderr, "outage: %d batches ok before, back %lld ms after restart\n",
          ok_before, (long long)(recovered - restarted));
  CHECK(recovered - restarted < 10000);
  stream_stop(&s, &pkid, threads, 30000);

  // The same pkid, still running.
  CHECK_EQ_INT(pkid.pid, pid);
  CHECK(pkid.pid > 0 && kill(pkid.pid, 0) == 0);
  CHECK(waitpid(pkid.pid, NULL, WNOHANG) == 0);

  int refused = 0, slow = 0, ok_during = 0, transport = 0, no_retry = 0;
  int64_t slowest = 0;
  for (size_t k = 0; k < s.n_batches; k++) {
    const batch_rec *b = &s.batches[k];
    transport += b->status == 0;
    if (b->end < stopped || b->start > restarting) {
      continue;
    }
    // Sent and answered while the server was down: refused, and quickly.
    if (b->start > stopped && b->end < restarting) {
      ok_during += b->status == 200;
    }
    if (b->status == 503) {
      refused++;
      no_retry += b->retry_after < 1;
      if (strcmp(b->code, "STORAGE_UNAVAILABLE") != 0) {
        fprintf(stderr, "outage answered %s\n", b->code);
        CHECK(0);
      }
    }
    if (b->end - b->start > slowest) {
      slowest = b->end - b->start;
    }
    slow += b->end - b->start > 2000;
  }
  fprintf(stderr, "outage: %d refusals, slowest answer %lld ms\n", refused,
          (long long)slowest);
  CHECK(refused > 10);
  CHECK_EQ_INT(ok_during, 0);
  CHECK_EQ_INT(slow, 0);
  CHECK_EQ_INT(transport, 0);
  CHECK_EQ_INT(no_retry, 0);

  CHECK(check_records(&db, &s) > 0);

  // One line when the database became unreachable, one when it was back.
  CHECK_EQ_INT(count_in_file(pkid.log, "database unreachable:"), 1);
  CHECK_EQ_INT(count_in_file(pkid.log, "database reachable again"), 1);
  // The LISTEN session of the OCSP cache comes back on its own (its own
  // backoff reaches 4 s).
  const int64_t deadline = now_ms() + 10000;
  while (count_in_file(pkid.log, "database notifications are back") < 1 &&
         now_ms() < deadline) {
    sleep_ms(50);
  }
  CHECK_EQ_INT(count_in_file(pkid.log, "database notifications are back"), 1);

  // The server up but refusing pkid's database: every connection attempt
  // reaches it and is logged (log_connections), so the attempts can be
  // counted. In 3 s the pool's backoff (0.1, 0.2, 0.4, ... s) allows a few,
  // and the listener's a few more, however many requests come.
  char server_log[600], sql[256];
  snprintf(server_log, sizeof(server_log), "%s/log", pg.dir);
  it_db server = {.name = "postgres"};
  snprintf(server.url, sizeof(server.url), "%s", pg.url);
  stream_start(&s2, &pkid, 'c', 4, threads);
  CHECK(wait_ok(&s2, 5, 30000));
  const long log_from = file_size(server_log);
  snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS false",
           db.name);
  PGresult *res = it_db_query(&server, sql, NULL, NULL);
  CHECK(res != NULL);
  PQclear(res);
  res = it_db_query(&server,
                    "SELECT count(pg_terminate_backend(pid)) FROM "
                    "pg_stat_activity WHERE datname = $1",
                    db.name, NULL);
  CHECK(res != NULL);
  PQclear(res);
  const int64_t refusing = now_ms();
  sleep_ms(3000);
  const long log_to = file_size(server_log);
  const int ok_refusing = atomic_load(&s2.ok);
  snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS true",
           db.name);
  res = it_db_query(&server, sql, NULL, NULL);
  CHECK(res != NULL);
  PQclear(res);
  const int64_t allowed = now_ms();
  CHECK(wait_ok(&s2, ok_refusing + 5, 15000));
  CHECK(now_ms() - allowed < 10000);
  stream_stop(&s2, &pkid, threads, 30000);
  int refused2 = 0;
  for (size_t k = 0; k < s2.n_batches; k++) {
    const batch_rec *b = &s2.batches[k];
    refused2 +=
        b->start > refusing + 200 && b->end < allowed && b->status == 503;
  }
  // The test's own two connections (ALTER, terminate) are among them.
  const int attempts =
      count_in_file_from(server_log, log_from, "connection received") -
      count_in_file_from(server_log, log_to, "connection received");
  fprintf(stderr, "refusing: %d requests refused, %d connection attempts\n",
          refused2, attempts);
  CHECK(refused2 > 10);
  CHECK(attempts > 2);
  CHECK(attempts <= 2 + 28);
  CHECK_EQ_INT(count_in_file(pkid.log, "database unreachable:"), 2);
  CHECK_EQ_INT(count_in_file(pkid.log, "database reachable again"), 2);
  CHECK(check_records(&db, &s2) > 0);

  // /healthz answers 200 again (it reads the database).
  pki_client *client = it_client(&pkid);
  pki_reply reply;
  CHECK(pki_client_call(client, "GET", "/healthz", NULL, NULL, 0, &reply));
  CHECK_EQ_INT(reply.status, 200);
  pki_reply_cleanup(&reply);
  // So does an expiry check, which reads and writes the monitor's tables.
  CHECK(pki_client_call(client, "POST", "/v1/monitor:check", NULL, NULL, 0,
                        &reply));
  CHECK_EQ_INT(reply.status, 200);
  pki_reply_cleanup(&reply);
  pki_client_free(client);

  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  stream_free(&s);
  stream_free(&s2);
  it_db_drop(&db);
  pg_cluster_destroy(&pg);
}

// --- pkid killed in the middle of batches ---

#define KILLS 3

TEST(sigkill_mid_batch_leaves_whole_batches_and_every_returned_certificate) {
  it_db db;
  it_db_create(&db);
  char dir[512];
  it_tmpdir("sigkill", dir, sizeof(dir));
  it_pkid pkid = {0};
  if (!it_pkid_start(&pkid, &db, dir, kQuiet)) {
    CHECK(!"pkid starts");
    it_db_drop(&db);
    return;
  }
  // Three kills, each at another moment of the writer's cycle: right
  // after an answer, and some milliseconds later.
  static const long kDelayMs[KILLS] = {0, 17, 43};
  stream s[KILLS];
  pthread_t threads[CLIENTS];
  int cut = 0, ok = 0;
  for (int round = 0; round < KILLS; round++) {
    if (round > 0) {
      CHECK(it_pkid_start(&pkid, &db, dir, kQuiet));
    }
    stream_start(&s[round], &pkid, (char)('k' + round), 16, threads);
    CHECK(wait_ok(&s[round], 6, 30000));
    sleep_ms(kDelayMs[round]);
    it_pkid_kill(&pkid);
    stream_stop(&s[round], &pkid, threads, 30000);
    // Some batches were in flight: their clients got no answer.
    for (size_t k = 0; k < s[round].n_batches; k++) {
      cut += s[round].batches[k].status == 0;
    }
    ok += atomic_load(&s[round].ok);
  }
  fprintf(stderr, "sigkill: %d batches ok, %d cut\n", ok, cut);
  CHECK(cut >= KILLS);

  CHECK(it_pkid_start(&pkid, &db, dir, kQuiet));
  for (int round = 0; round < KILLS; round++) {
    CHECK(check_records(&db, &s[round]) >= ok * 16);  // 16 items or more
  }

  // The restarted pkid issues, and what it issues is recorded.
  stream again;
  pthread_t threads2[CLIENTS];
  stream_start(&again, &pkid, 'r', 4, threads2);
  CHECK(wait_ok(&again, 4, 30000));
  stream_stop(&again, &pkid, threads2, 30000);
  CHECK(again.n_certs > 0);
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  for (int round = 0; round < KILLS; round++) {
    stream_free(&s[round]);
  }
  stream_free(&again);
  it_db_drop(&db);
}

// --- A full disk under the keys directory ---

static char mounted[600];

static void unmount_keys(void) {
  if (mounted[0] != '\0') {
    if (umount2(mounted, MNT_DETACH) != 0) {
      fprintf(stderr, "cannot unmount %s: %s\n", mounted, strerror(errno));
    }
    mounted[0] = '\0';
  }
}

// fill writes |path| until the file system is full, then frees |keep|
// bytes of it. It returns 1 when the disk filled up (ENOSPC).
static int fill(const char *path, off_t keep) {
  const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    return 0;
  }
  static const uint8_t block[4096];
  off_t size = 0;
  int full = 0;
  for (;;) {
    const ssize_t w = write(fd, block, sizeof(block));
    if (w < 0) {
      full = errno == ENOSPC;
      break;
    }
    size += w;
  }
  const int ok = full && ftruncate(fd, size > keep ? size - keep : 0) == 0 &&
                 fsync(fd) == 0;
  close(fd);
  return ok;
}

// key_dir_listing counts the files of |dir| (not "filler") whose names end
// in ".key" and those holding ".tmp-".
static void key_dir_listing(const char *dir, int *keys, int *tmps) {
  char cmd[1024];
  *keys = 0;
  *tmps = 0;
  snprintf(cmd, sizeof(cmd), "ls -A %s", dir);
  FILE *p = popen(cmd, "r");
  if (p == NULL) {
    return;
  }
  char name[512];
  while (fgets(name, sizeof(name), p) != NULL) {
    name[strcspn(name, "\n")] = '\0';
    const size_t n = strlen(name);
    *keys += n > 4 && strcmp(name + n - 4, ".key") == 0;
    *tmps += strstr(name, ".tmp-") != NULL;
  }
  pclose(p);
}

// check_key_files checks that each of the |want| key files named by |sql|
// is in |keys|, not empty, mode 0600.
static void check_key_files(const it_db *db, const char *keys, const char *sql,
                            int want) {
  PGresult *res = it_db_query(db, sql, NULL, NULL);
  CHECK(res != NULL);
  int present = 0;
  for (int r = 0; res != NULL && r < PQntuples(res); r++) {
    char path[1024];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", keys, PQgetvalue(res, r, 0));
    present +=
        stat(path, &st) == 0 && st.st_size > 0 && (st.st_mode & 0777) == 0600;
  }
  CHECK_EQ_INT(present, want);
  PQclear(res);
}

// run_pkid_once starts pkid expected to fail at start and returns its exit
// status (124 if it was still running after 60 s); its output goes to
// |log|.
static int run_pkid_once(const char *dir, const it_db *db, const char *log,
                         const char *more) {
  char cmd[4096];
  snprintf(cmd, sizeof(cmd),
           "timeout 60 api/pkid --data-dir %s --database '%s' --listen "
           "127.0.0.1:0 --ocsp-listen 127.0.0.1:0 --keypool none %s >%s 2>&1",
           dir, db->url, more, log);
  return it_run(cmd);
}

TEST(a_full_disk_gives_errors_not_half_written_keys) {
  it_db db;
  it_db_create(&db);
  char dir[512], keys[600], filler[700], log[600];
  it_tmpdir("fulldisk", dir, sizeof(dir));
  snprintf(keys, sizeof(keys), "%s/keys", dir);
  snprintf(filler, sizeof(filler), "%s/filler", keys);
  snprintf(log, sizeof(log), "%s.failed.log", dir);
  CHECK(mkdir(dir, 0700) == 0 || errno == EEXIST);
  CHECK(mkdir(keys, 0700) == 0 || errno == EEXIST);
  // Tests run as root (here and in CI): a mount that fails is a failure,
  // never a skip.
  if (mount("tmpfs", keys, "tmpfs", 0, "size=64k,mode=0700") != 0) {
    fprintf(stderr,
            "cannot mount a 64 KiB tmpfs on %s (%s): the full-disk test needs "
            "root and mount(2)\n",
            keys, strerror(errno));
    CHECK(!"mount tmpfs");
    it_db_drop(&db);
    return;
  }
  snprintf(mounted, sizeof(mounted), "%s", keys);

  // First start: room for two of the four CA keys. The third fails; the
  // two written are removed and no CA is recorded.
  CHECK(fill(filler, 2 * 4096));
  int rc = run_pkid_once(dir, &db, log, "");
  CHECK(rc != 0 && rc != 124);
  CHECK(count_in_file(log, "No space left on device") >= 1);
  CHECK_EQ_INT(count_in_file(log, "Sanitizer"), 0);  // a refusal, not a crash
  CHECK(count_in_file(log, "KEY_FILE") +
            count_in_file(log, "cannot load the CAs") >=
        1);
  int n_keys, n_tmps;
  key_dir_listing(keys, &n_keys, &n_tmps);
  CHECK_EQ_INT(n_keys, 0);
  CHECK_EQ_INT(n_tmps, 0);
  CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM issuers", NULL), 0);

  // Space freed: the same start succeeds and signs.
  CHECK(unlink(filler) == 0);
  it_pkid pkid = {0};
  CHECK(it_pkid_start(&pkid, &db, dir, kQuiet));
  // The four CA keys (and whatever else pkid keeps there), each CA's key
  // file present.
  key_dir_listing(keys, &n_keys, &n_tmps);
  const int keys_started = n_keys;
  CHECK(n_keys >= 4);
  CHECK_EQ_INT(n_tmps, 0);
  CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM issuers", NULL), 4);
  check_key_files(&db, keys, "SELECT key_file FROM issuers", 4);
  stream s;
  pthread_t threads[CLIENTS];
  stream_start(&s, &pkid, 'd', 2, threads);
  CHECK(wait_ok(&s, 2, 30000));
  stream_stop(&s, &pkid, threads, 30000);
  CHECK(check_records(&db, &s) > 0);
  stream_free(&s);
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);

  // Delegated OCSP responders on a full disk: their keys cannot be
  // written, so pkid refuses to start, and records no responder.
  CHECK(fill(filler, 0));
  rc = run_pkid_once(dir, &db, log, "--ocsp-signer delegated");
  CHECK(rc != 0 && rc != 124);
  CHECK(count_in_file(log, "No space left on device") >= 1);
  CHECK_EQ_INT(count_in_file(log, "Sanitizer"), 0);  // a refusal, not a crash
  key_dir_listing(keys, &n_keys, &n_tmps);
  CHECK_EQ_INT(n_keys, keys_started);
  CHECK_EQ_INT(n_tmps, 0);
  CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM ocsp_responders", NULL), 0);
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM certificates"
                         " WHERE profile = 'ocsp-responder'",
                         NULL),
               0);

  // Space freed: the responders are issued, each row with its key file.
  CHECK(unlink(filler) == 0);
  const char *const delegated[] = {"--keypool", "none", "--ocsp-signer",
                                   "delegated", NULL};
  CHECK(it_pkid_start(&pkid, &db, dir, delegated));
  const long long responders =
      it_db_int(&db, "SELECT count(*) FROM ocsp_responders", NULL);
  CHECK(responders >= 1);
  key_dir_listing(keys, &n_keys, &n_tmps);
  CHECK_EQ_INT(n_keys, keys_started + responders);
  CHECK_EQ_INT(n_tmps, 0);
  check_key_files(&db, keys, "SELECT key_file FROM ocsp_responders",
                  (int)responders);
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  unmount_keys();
  it_db_drop(&db);
}

// on_fatal_signal cleans up what must not outlive a killed test, with
// async-signal-safe calls only, then dies of the signal.
static void on_fatal_signal(int sig) {
  const int pid = atomic_load(&live_postmaster);
  if (pid > 0) {
    kill(pid, SIGQUIT);
  }
  if (mounted[0] != '\0') {
    umount2(mounted, MNT_DETACH);
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

int main(void) {
  // Whatever happens, the tmpfs and the cluster do not outlive the test.
  atexit(unmount_keys);
  atexit(destroy_live_cluster);
  signal(SIGTERM, on_fatal_signal);
  signal(SIGINT, on_fatal_signal);
  RUN(database_outage_fails_fast_and_pkid_recovers_without_restart);
  RUN(sigkill_mid_batch_leaves_whole_batches_and_every_returned_certificate);
  RUN(a_full_disk_gives_errors_not_half_written_keys);
  return test_summary();
}
