// The revocation benchmark: single revocations per second from --clients
// clients over pkid's API, with 0, 10,000 and 100,000 certificates of the
// same CA already revoked (--populations), next to the rate of the same
// durable transaction sent straight to PostgreSQL, measured interleaved.
//
// bazel run -c opt //bench:revoke -- [--clients 4] [--seconds 10]
//     [--rounds 5] [--populations 0,10000,100000]
//
// DESIGN
//
// The certificates: one real certificate is issued through the API
// (tomcat-ECDSA, EC P-256), then its row is copied in SQL under new serials
// (`INSERT ... SELECT ... generate_series`) to make the targets and the
// already-revoked populations: a revocation reads and writes the row, the
// audit log and the CRL, never the certificate's bytes, so copies cost what
// real ones would, and a population of 100,000 takes seconds, not minutes of
// signing. The copies' DER is the real certificate's; the CRL lists their
// serials from the rows.
//
// Each population is measured in --rounds rounds; a round runs the pkid
// case and then the limit for --seconds / --rounds / 2 each, so that a
// disturbance of the shared machine hits both alike. The pkid case: each
// client thread (a libcurl handle of its own, keep-alive) takes the next
// target and calls POST /v1/certificates/{serial}:revoke, closed loop; every
// answer must be 200. The reference (pg_txn): each of --clients libpq
// connections runs the transaction one revocation needs (lock the row,
// update it, one audit row, one NOTIFY, COMMIT with fsync) on targets of its
// own: what one durable transaction per revocation allows on this machine.
// vs_pg_txn is pkid's rate over it. It is not a ceiling: a server that
// commits several clients' revocations in one transaction may exceed it.
//
// One JSON line per round and case (the trend within a population), and one
// per population with the sums, latencies and vs_pg_txn.
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <openssl/mem.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/client/client.h"
#include "bench/proc_stat.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"

#define MAX_CLIENTS 64
#define MAX_POPULATIONS 8

typedef struct options {
  const char *database;
  int clients;
  double seconds;  // per population, both cases
  int rounds;
  long populations[MAX_POPULATIONS];
  int n_populations;
} options;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

// --- Rows made in SQL ---

// The copies made so far: each copy's number goes into its serial, so that
// copies of the same tag made at different times never collide.
static long g_copies;

// copy_rows inserts |n| copies of certificate |id| with fresh serials of
// |tag| (a hex digit), revoked when |revoked|. It returns 0 on error.
static int copy_rows(const it_db *db, long long id, long n, char tag,
                     int revoked) {
  const long first = g_copies + 1;
  g_copies += n;
  char sql[2048];
  // Every column but the ones that make a copy a new certificate, read from
  // the catalog so that later migrations' columns are copied too. The
  // serial: |tag|, 32 hex digits of md5 and one more, 17 octets, no leading
  // zero.
  snprintf(sql, sizeof(sql),
           "DO $$ DECLARE cols text; BEGIN"
           " SELECT string_agg(quote_ident(column_name), ',') INTO cols"
           " FROM information_schema.columns WHERE table_name = 'certificates'"
           " AND table_schema = current_schema() AND column_name NOT IN"
           " ('id', 'serial', 'common_name', 'status', 'revoked_at',"
           " 'revocation_reason', 'created_at');"
           " EXECUTE format('INSERT INTO certificates (serial, common_name,"
           " status, revoked_at, revocation_reason, %%s) SELECT"
           " ''%c'' || md5(g::text) || substr(md5(g::text || ''x''), 1, 1),"
           " ''bench-%c-'' || g, %s, %%s FROM certificates,"
           " generate_series(%ld, %ld) g WHERE id = %lld', cols, cols);"
           " END $$",
           tag, tag, revoked ? "''revoked'', now(), 1" : "''good'', NULL, NULL",
           first, first + n - 1, id);
  PGresult *res = it_db_query(db, sql, NULL, NULL);
  const int ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;
  PQclear(res);
  return ok;
}

// A list of serials to revoke, taken in order by several threads.
typedef struct targets {
  char (*serials)[40];
  size_t n;
  atomic_size_t next;
} targets;

static int load_targets(const it_db *db, char tag, targets *out) {
  char sql[256];
  snprintf(sql, sizeof(sql),
           "SELECT serial FROM certificates WHERE status = 'good'"
           " AND serial LIKE '%c%%' AND length(serial) = 34 ORDER BY serial",
           tag);
  PGresult *res = it_db_query(db, sql, NULL, NULL);
  if (res == NULL) {
    return 0;
  }
  out->n = (size_t)PQntuples(res);
  out->serials = calloc(out->n > 0 ? out->n : 1, sizeof(*out->serials));
  for (size_t i = 0; out->serials != NULL && i < out->n; i++) {
    snprintf(out->serials[i], sizeof(out->serials[i]), "%s",
             PQgetvalue(res, (int)i, 0));
  }
  atomic_store(&out->next, 0);
  PQclear(res);
  return out->serials != NULL;
}

static const char *take(targets *t) {
  const size_t i = atomic_fetch_add(&t->next, 1);
  return i < t->n ? t->serials[i] : NULL;
}

// --- The two cases ---

typedef struct slice {
  double deadline;
  targets *targets;
  atomic_ulong done;
  atomic_ulong errors;
  // Latencies of the pkid case, in microseconds, for percentiles.
  pthread_mutex_t mu;
  uint32_t *lat_us;
  size_t lat_n, lat_cap;
} slice;

typedef struct worker {
  slice *s;
  pki_client *client;  // the pkid case
  PGconn *conn;        // the limit
} worker;

static void record_latency(slice *s, double seconds) {
  pthread_mutex_lock(&s->mu);
  if (s->lat_n < s->lat_cap) {
    s->lat_us[s->lat_n++] = (uint32_t)(seconds * 1e6);
  }
  pthread_mutex_unlock(&s->mu);
}

static void *revoke_main(void *arg) {
  worker *w = arg;
  uint8_t body[16];
  Pki__V1__RevokeRequest req = PKI__V1__REVOKE_REQUEST__INIT;
  req.reason = 1;  // keyCompromise
  const size_t body_len = pki__v1__revoke_request__pack(&req, body);
  const char *serial;
  while (now_s() < w->s->deadline && (serial = take(w->s->targets)) != NULL) {
    char path[96];
    pki_reply reply;
    snprintf(path, sizeof(path), "/v1/certificates/%s:revoke", serial);
    const double t0 = now_s();
    if (!pki_client_call(w->client, "POST", path, "application/x-protobuf",
                         body, body_len, &reply)) {
      atomic_fetch_add(&w->s->errors, 1);
      continue;
    }
    if (reply.status == 200) {
      atomic_fetch_add(&w->s->done, 1);
      record_latency(w->s, now_s() - t0);
    } else {
      char text[256];
      pki_reply_error_text(&reply, text, sizeof(text));
      fprintf(stderr, "revoke: %s: HTTP %ld: %s\n", serial, reply.status, text);
      atomic_fetch_add(&w->s->errors, 1);
    }
    pki_reply_cleanup(&reply);
  }
  return NULL;
}

// The transaction a single revocation commits, without pkid: what
// PostgreSQL alone allows on this machine.
static int raw_revoke(PGconn *conn, const char *serial) {
  const char *values[1] = {serial};
  static const char *const kSteps[] = {
      "BEGIN",
      "SELECT id FROM certificates WHERE serial = $1 FOR UPDATE",
      "UPDATE certificates SET status = 'revoked', revoked_at = now(),"
      " revocation_reason = 1 WHERE serial = $1",
      "INSERT INTO audit_log (actor, action, object, source, outcome, detail)"
      " VALUES ('bench', 'revoke', $1, '127.0.0.1', 'ok', 'reason=x')",
      "SELECT pg_notify('pki_bench_revocation', $1)",
      "COMMIT"};
  for (size_t i = 0; i < sizeof(kSteps) / sizeof(kSteps[0]); i++) {
    const int n = strchr(kSteps[i], '$') != NULL ? 1 : 0;
    PGresult *res =
        PQexecParams(conn, kSteps[i], n, NULL, values, NULL, NULL, 0);
    const ExecStatusType st = PQresultStatus(res);
    PQclear(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      PQclear(PQexec(conn, "ROLLBACK"));
      return 0;
    }
  }
  return 1;
}

static void *raw_main(void *arg) {
  worker *w = arg;
  const char *serial;
  while (now_s() < w->s->deadline && (serial = take(w->s->targets)) != NULL) {
    if (raw_revoke(w->conn, serial)) {
      atomic_fetch_add(&w->s->done, 1);
    } else {
      atomic_fetch_add(&w->s->errors, 1);
    }
  }
  return NULL;
}

// run_slice runs |fn| on |n| workers for |seconds| and returns the rate.
static double run_slice(worker *workers, int n, void *(*fn)(void *), slice *s,
                        double seconds) {
  pthread_t threads[MAX_CLIENTS];
  const double t0 = now_s();
  s->deadline = t0 + seconds;
  for (int i = 0; i < n; i++) {
    workers[i].s = s;
    if (pthread_create(&threads[i], NULL, fn, &workers[i]) != 0) {
      fprintf(stderr, "revoke: pthread_create failed\n");
      exit(1);
    }
  }
  for (int i = 0; i < n; i++) {
    pthread_join(threads[i], NULL);
  }
  const double took = now_s() - t0;
  return took > 0 ? (double)atomic_load(&s->done) / took : 0;
}

static int compare_u32(const void *a, const void *b) {
  const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static double percentile_ms(uint32_t *v, size_t n, double p) {
  if (n == 0) {
    return 0;
  }
  qsort(v, n, sizeof(*v), compare_u32);
  size_t i = (size_t)(p * (double)(n - 1));
  return (double)v[i] / 1000.0;
}

// --- One population ---

typedef struct run {
  const options *opts;
  const it_db *db;
  it_pkid *pkid;
  worker workers[MAX_CLIENTS];
  long long model_id;  // the real certificate the copies are made of
  long revoked_now;    // copies made revoked so far
  size_t tags_used;    // of kTags, the serial prefixes of targets
} run;

// The first hex digit of each case's targets ('9': the populations).
static const char kTags[] = "abcdef12345678";

static int measure_population(run *r, long population) {
  const options *o = r->opts;
  // Enough targets for 2,000 revocations per second and client, which
  // neither case reaches on a small machine; a case that runs out stops.
  const long per_case = (long)(2000.0 * o->clients * o->seconds / 2.0) + 1000;
  if (population > r->revoked_now &&
      !copy_rows(r->db, r->model_id, population - r->revoked_now, '9', 1)) {
    return 0;
  }
  r->revoked_now = population > r->revoked_now ? population : r->revoked_now;
  if (r->tags_used + 2 > sizeof(kTags) - 1) {
    fprintf(stderr, "revoke: too many populations\n");
    return 0;
  }
  const char pkid_tag = kTags[r->tags_used++], raw_tag = kTags[r->tags_used++];
  targets pkid_targets, raw_targets;
  memset(&pkid_targets, 0, sizeof(pkid_targets));
  memset(&raw_targets, 0, sizeof(raw_targets));
  if (!copy_rows(r->db, r->model_id, per_case, pkid_tag, 0) ||
      !copy_rows(r->db, r->model_id, per_case, raw_tag, 0) ||
      !load_targets(r->db, pkid_tag, &pkid_targets) ||
      !load_targets(r->db, raw_tag, &raw_targets)) {
    return 0;
  }
  PQclear(it_db_query(r->db, "VACUUM ANALYZE certificates", NULL, NULL));
  slice sum_pkid, sum_raw;
  memset(&sum_pkid, 0, sizeof(sum_pkid));
  memset(&sum_raw, 0, sizeof(sum_raw));
  size_t lat_cap = (size_t)per_case;
  uint32_t *lat = calloc(lat_cap, sizeof(*lat));
  size_t lat_n = 0;
  double pkid_s = 0, raw_s = 0;
  unsigned long errors = 0;
  const double part = o->seconds / o->rounds / 2.0;
  for (int round = 0; round < o->rounds && lat != NULL; round++) {
    slice sp, sr;
    memset(&sp, 0, sizeof(sp));
    memset(&sr, 0, sizeof(sr));
    pthread_mutex_init(&sp.mu, NULL);
    sp.targets = &pkid_targets;
    sp.lat_us = lat + lat_n;
    sp.lat_cap = lat_cap - lat_n;
    sr.targets = &raw_targets;
    const double t0 = now_s();
    const double pkid_rate =
        run_slice(r->workers, o->clients, revoke_main, &sp, part);
    const double t1 = now_s();
    const double raw_rate =
        run_slice(r->workers, o->clients, raw_main, &sr, part);
    const double t2 = now_s();
    pthread_mutex_destroy(&sp.mu);
    lat_n += sp.lat_n;
    pkid_s += t1 - t0;
    raw_s += t2 - t1;
    atomic_fetch_add(&sum_pkid.done, atomic_load(&sp.done));
    atomic_fetch_add(&sum_raw.done, atomic_load(&sr.done));
    errors += atomic_load(&sp.errors) + atomic_load(&sr.errors);
    printf(
        "{\"bench\":\"revoke\",\"case\":\"single_round\","
        "\"already_revoked\":%ld,\"round\":%d,\"clients\":%d,"
        "\"per_s\":%.1f,\"pg_txn_per_s\":%.1f,\"vs_pg_txn\":%.3f}\n",
        population, round + 1, o->clients, pkid_rate, raw_rate,
        raw_rate > 0 ? pkid_rate / raw_rate : 0);
    fflush(stdout);
  }
  const double pkid_rate =
      pkid_s > 0 ? (double)atomic_load(&sum_pkid.done) / pkid_s : 0;
  const double raw_rate =
      raw_s > 0 ? (double)atomic_load(&sum_raw.done) / raw_s : 0;
  const long long in_db = it_db_int(
      r->db, "SELECT count(*) FROM certificates WHERE status = 'revoked'",
      NULL);
  printf(
      "{\"bench\":\"revoke\",\"case\":\"single\",\"already_revoked\":%ld,"
      "\"clients\":%d,\"seconds\":%.2f,\"revocations\":%lu,"
      "\"per_s\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,"
      "\"pg_txn_per_s\":%.1f,\"vs_pg_txn\":%.3f,\"errors\":%lu,"
      "\"revoked_in_db\":%lld,\"pkid_rss_kb\":%ld}\n",
      population, o->clients, pkid_s, atomic_load(&sum_pkid.done), pkid_rate,
      percentile_ms(lat, lat_n, 0.5), percentile_ms(lat, lat_n, 0.99), raw_rate,
      raw_rate > 0 ? pkid_rate / raw_rate : 0, errors, in_db,
      proc_status_kb(r->pkid->pid, "VmRSS"));
  fflush(stdout);
  // The revocations of both cases are the population of the next one.
  r->revoked_now = in_db > 0 ? (long)in_db : r->revoked_now;
  free(lat);
  free(pkid_targets.serials);
  free(raw_targets.serials);
  return lat != NULL && errors == 0;
}

// --- Setup ---

// issue_model issues one real certificate and returns its row's id.
static long long issue_model(it_pkid *pkid, const it_db *db) {
  test_csr_spec spec = {
      .subject = "/O=Acme/OU=Voice/CN=revoke-bench.uc.example.com",
      .key = "EC-P256"};
  size_t der_len;
  uint8_t *der = test_make_csr(&spec, &der_len, NULL);
  char *pem = der != NULL ? test_pem_csr(der, der_len) : NULL;
  pki_client *client = it_client(pkid);
  pki_reply reply;
  long long id = -1;
  if (pem != NULL && client != NULL &&
      pki_client_call(client, "POST", "/v1/sign?profile=tomcat-ECDSA",
                      "application/pkcs10", (const uint8_t *)pem, strlen(pem),
                      &reply)) {
    if (reply.status == 200) {
      id = it_db_int(db,
                     "SELECT max(id) FROM certificates"
                     " WHERE common_name = 'revoke-bench.uc.example.com'",
                     NULL);
    } else {
      char text[256];
      pki_reply_error_text(&reply, text, sizeof(text));
      fprintf(stderr, "revoke: issuing the model: HTTP %ld: %s\n", reply.status,
              text);
    }
    pki_reply_cleanup(&reply);
  }
  pki_client_free(client);
  OPENSSL_free(pem);
  OPENSSL_free(der);
  return id;
}

static void usage(void) {
  fprintf(stderr,
          "usage: revoke --database URL [--clients N] [--seconds S]"
          " [--rounds R] [--populations N,N,...]\n");
}

static int parse_populations(const char *text, options *o) {
  o->n_populations = 0;
  for (const char *p = text; *p != '\0';) {
    char *end;
    errno = 0;
    const long v = strtol(p, &end, 10);
    if (end == p || errno != 0 || v < 0 ||
        o->n_populations >= MAX_POPULATIONS) {
      return 0;
    }
    o->populations[o->n_populations++] = v;
    p = *end == ',' ? end + 1 : end;
    if (*end != ',' && *end != '\0') {
      return 0;
    }
  }
  return o->n_populations > 0;
}

static int parse_options(int argc, char **argv, options *o) {
  memset(o, 0, sizeof(*o));
  o->clients = 4;
  o->seconds = 10;
  o->rounds = 5;
  if (!parse_populations("0,10000,100000", o)) {
    return 0;
  }
  for (int i = 1; i < argc; i += 2) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v == NULL) {
      return 0;
    }
    if (strcmp(argv[i], "--database") == 0) {
      o->database = v;
    } else if (strcmp(argv[i], "--clients") == 0) {
      o->clients = atoi(v);
    } else if (strcmp(argv[i], "--seconds") == 0) {
      o->seconds = atof(v);
    } else if (strcmp(argv[i], "--rounds") == 0) {
      o->rounds = atoi(v);
    } else if (strcmp(argv[i], "--populations") == 0) {
      if (!parse_populations(v, o)) {
        return 0;
      }
    } else {
      return 0;
    }
  }
  return o->database != NULL && o->clients >= 1 && o->clients <= MAX_CLIENTS &&
         o->seconds > 0 && o->rounds >= 1;
}

int main(int argc, char **argv) {
  options opts;
  if (!parse_options(argc, argv, &opts)) {
    usage();
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  char work[] = "/tmp/pki-revoke.XXXXXX";
  char dir[sizeof(work) + 8];
  if (mkdtemp(work) == NULL) {
    fprintf(stderr, "revoke: mkdtemp: %s\n", strerror(errno));
    return 1;
  }
  it_db db;
  it_pkid pkid;
  it_db_create_on(opts.database, &db);
  snprintf(dir, sizeof(dir), "%s/pkid", work);
  const char *extra[] = {"--keypool", "none", NULL};
  if (!it_pkid_start(&pkid, &db, dir, extra)) {
    it_db_drop(&db);
    proc_remove_tree("revoke", work);
    return 1;
  }
  int rc = 1;
  run r;
  memset(&r, 0, sizeof(r));
  r.opts = &opts;
  r.db = &db;
  r.pkid = &pkid;
  for (int i = 0; i < opts.clients; i++) {
    r.workers[i].client = it_client(&pkid);
    r.workers[i].conn = PQconnectdb(db.url);
    if (r.workers[i].client == NULL ||
        PQstatus(r.workers[i].conn) != CONNECTION_OK) {
      fprintf(stderr, "revoke: cannot connect\n");
      goto done;
    }
  }
  r.model_id = issue_model(&pkid, &db);
  if (r.model_id <= 0) {
    goto done;
  }
  rc = 0;
  for (int i = 0; i < opts.n_populations && rc == 0; i++) {
    if (!measure_population(&r, opts.populations[i])) {
      rc = 1;
    }
  }
done:
  for (int i = 0; i < opts.clients; i++) {
    pki_client_free(r.workers[i].client);
    PQfinish(r.workers[i].conn);
  }
  const int status = it_pkid_stop(&pkid);
  if (status != 0) {
    fprintf(stderr, "revoke: pkid exited with %d\n", status);
    rc = 1;
  }
  it_db_drop(&db);
  proc_remove_tree("revoke", work);
  return rc;
}
