// The revocation benchmark: single revocations per second from --clients
// clients over pkid's API, with 0, 10,000 and 100,000 certificates of the
// same CA already revoked (--populations), next to the rate of the same
// durable transaction sent straight to PostgreSQL, measured interleaved.
//
// bazel run -c opt //bench:revoke -- [--clients 4] [--seconds 10]
//     [--rounds 5] [--populations 0,10000,100000] [--batch-items 10000]
//     [--batches 4] [--batch-parallel 2]
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
// case and the two references for --seconds / --rounds / 3 each, in 4
// turns of the three, so that a disturbance of the shared machine hits
// them alike. The pkid case:
// each client thread (a libcurl handle of its own, keep-alive) takes the
// next target and calls POST /v1/certificates/{serial}:revoke, closed
// loop; every answer must be 200.
//
// The limit (pg_group): pkid commits the revocations of concurrent clients
// together (ca/revocation/revoke_group.h), one transaction in flight at a
// time, so with --clients closed-loop clients a transaction carries at
// most --clients revocations. The reference is PostgreSQL alone doing that
// same work at its best: one connection committing, back to back, the
// transaction pkid sends for a group of --clients revocations (the same
// statements, in the same two pipelined round trips: read the rows' state;
// insert their revocations rows (migration 0018), one audit row and one
// NOTIFY each, a crl_pending row, COMMIT with fsync). vs_pg_group is pkid's
// rate over it: what the HTTP API, TLS and pkid's own work leave of the
// database's limit. Above 1.0 it would be a broken measurement. per_commit: the
// revocations pkid committed per transaction, on average (the rows one
// transaction revoked share their xmin). pg_txn_per_s, for scale only:
// --clients connections each committing one transaction per revocation, what
// pkid would be held to without grouping (PostgreSQL itself shares a WAL flush
// among commits that meet, so it is more than one fsync per revocation).
//
// The batch case (--batch-items N, --batches B, after the populations):
// POST /v1/certificates:batchRevoke of N serials at a time, B times, each
// followed by the same transaction for N other serials sent to PostgreSQL
// alone (pg_batch: read, insert, audit, NOTIFY, crl_pending, COMMIT; the
// order of the two alternates from batch to batch); certificates per
// second and vs_pg_batch. Then the same with --batch-parallel P batches
// in flight at once on each side (default 2, as pkictl revoke sends them;
// 1: no second case), on P connections each, their JSON lines marked
// "parallel": P.
//
// One JSON line per round and case (the trend within a population), one
// per population with the sums, latencies and ratios, and one per batch
// case.
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
#include "ca/store/store_revoke_sql.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"

#define MAX_CLIENTS 64
#define MAX_POPULATIONS 8
// Turns of the three single cases in a round.
#define SLICES 4

typedef struct options {
  const char *database;
  int clients;
  double seconds;  // per population, both cases
  int rounds;
  long populations[MAX_POPULATIONS];
  int n_populations;
  long batch_items;  // 0: no batch case
  int batches;
  int batch_parallel;  // batches in flight in the second batch case; 1: none
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
           " ('id', 'serial', 'common_name', 'created_at');"
           " EXECUTE format('WITH ins AS (INSERT INTO certificates (serial,"
           " common_name, %%s) SELECT"
           " ''%c'' || md5(g::text) || substr(md5(g::text || ''x''), 1, 1),"
           " ''bench-%c-'' || g, %%s FROM certificates,"
           " generate_series(%ld, %ld) g WHERE id = %lld"
           " RETURNING issuer_id, serial, id, crl_shard, not_after)"
           " %s', cols, cols);"
           " END $$",
           tag, tag, first, first + n - 1, id,
           revoked ? "INSERT INTO revocations SELECT issuer_id, serial, id,"
                     " crl_shard, not_after, now(), 1 FROM ins"
                   : "SELECT count(*) FROM ins");
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
           "SELECT serial FROM certificates c WHERE NOT EXISTS (SELECT 1"
           " FROM revocations r WHERE r.issuer_id = c.issuer_id"
           " AND r.serial = c.serial)"
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
  PGconn *conn;        // the references
  int group;           // pg_group: revocations per transaction
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
      "SELECT c.id, rv.reason FROM certificates c LEFT JOIN revocations rv"
      " ON rv.issuer_id = c.issuer_id AND rv.serial = c.serial"
      " WHERE c.serial = $1",
      "INSERT INTO revocations SELECT issuer_id, serial, id, crl_shard,"
      " not_after, now(), 1 FROM certificates WHERE serial = $1",
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

// --- The grouped reference: pkid's statements, PostgreSQL alone ---

// run_pipeline sends |n| statements (text parameters, at most 9) in one
// round trip and reads them; |keep|, when set, receives the first
// statement returning rows. It returns 0 on any failure.
typedef struct raw_stmt {
  const char *sql;
  int n;
  const char *values[9];
} raw_stmt;

static int run_pipeline(PGconn *conn, const raw_stmt *st, int n,
                        PGresult **keep) {
  int ok = PQenterPipelineMode(conn) == 1;
  for (int i = 0; ok && i < n; i++) {
    ok = PQsendQueryParams(conn, st[i].sql, st[i].n, NULL, st[i].values, NULL,
                           NULL, 0) == 1;
  }
  const int synced = ok && PQpipelineSync(conn) == 1;
  ok = synced;
  for (int i = 0; ok && i < n; i++) {
    PGresult *res = PQgetResult(conn);
    const ExecStatusType status = PQresultStatus(res);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      fprintf(stderr, "revoke: reference: %s", PQerrorMessage(conn));
      ok = 0;
    }
    if (ok && keep != NULL && *keep == NULL && status == PGRES_TUPLES_OK) {
      *keep = res;
    } else {
      PQclear(res);
    }
    for (PGresult *rest; (rest = PQgetResult(conn)) != NULL;) {
      PQclear(rest);
    }
  }
  while (synced) {  // up to the end of the pipeline
    PGresult *res = PQgetResult(conn);
    if (res == NULL) {
      if (PQstatus(conn) != CONNECTION_OK) {
        break;
      }
      continue;
    }
    const int end = PQresultStatus(res) == PGRES_PIPELINE_SYNC;
    PQclear(res);
    if (end || PQstatus(conn) != CONNECTION_OK) {
      break;
    }
  }
  if (PQexitPipelineMode(conn) != 1) {
    ok = 0;
  }
  if (!ok) {
    PQclear(PQexec(conn, "ROLLBACK"));
  }
  return ok;
}

// text_array returns (malloc) the array literal of the |n| strings |get|
// returns (serials and numbers: nothing to escape; NULL for SQL NULL).
static char *text_array(size_t n, const char *(*get)(void *, size_t, char *),
                        void *arg) {
  char *out = malloc(n * 48 + 3), buf[48];
  if (out == NULL) {
    return NULL;
  }
  size_t off = 0;
  out[off++] = '{';
  for (size_t i = 0; i < n; i++) {
    const char *v = get(arg, i, buf);  // NULL: SQL NULL
    off += (size_t)(v != NULL ? sprintf(out + off, "%s\"%s\"", i ? "," : "", v)
                              : sprintf(out + off, "%sNULL", i ? "," : ""));
  }
  out[off++] = '}';
  out[off] = '\0';
  return out;
}

static const char *get_serial(void *arg, size_t i, char *buf) {
  (void)buf;
  return ((const char **)arg)[i];
}

// column_array: the array literal of column |col| of |res|.
typedef struct column_arg {
  PGresult *res;
  int col;
  const char *prefix;  // before each value (payloads), or ""
} column_arg;

static const char *get_col(void *arg, size_t i, char *buf) {
  const column_arg *c = arg;
  if (PQgetisnull(c->res, (int)i, c->col)) {
    return NULL;
  }
  snprintf(buf, 48, "%s%s", c->prefix, PQgetvalue(c->res, (int)i, c->col));
  return buf;
}

static const char *get_same(void *arg, size_t i, char *buf) {
  (void)i;
  (void)buf;
  return arg;
}

// raw_group revokes the |n| serials in one transaction as pkid does
// (ca/store/store_revoke.c): one round trip to begin and read the state,
// one to write and commit. It returns the number revoked, -1 on failure.
static long raw_group(PGconn *conn, const char **serials, size_t n) {
  char *list = text_array(n, get_serial, serials);
  PGresult *locked = NULL;
  long done = -1;
  // pkid sets the planner hint from CA_REVOKE_PROBE_EACH_FROM serials on.
  const int hint = n >= CA_REVOKE_PROBE_EACH_FROM;
  raw_stmt lock[3] = {{"BEGIN", 0, {NULL}},
                      {CA_REVOKE_BATCH_PLAN_SQL, 0, {NULL}},
                      {CA_REVOKE_BATCH_READ_SQL, 1, {list}}};
  if (!hint) {
    lock[1] = lock[2];
  }
  if (list == NULL || !run_pipeline(conn, lock, hint ? 3 : 2, &locked)) {
    goto done;
  }
  const size_t rows = (size_t)PQntuples(locked);
  column_arg ids = {locked, 0, ""}, objects = {locked, 7, ""},
             payloads = {locked, 7, "1:"}, issuers = {locked, 1, ""},
             shards = {locked, 8, ""}, not_afters = {locked, 6, ""};
  char *a_ids = text_array(rows, get_col, &ids);
  char *a_cert_issuers = text_array(rows, get_col, &issuers);
  char *a_shards = text_array(rows, get_col, &shards);
  char *a_not_afters = text_array(rows, get_col, &not_afters);
  char *a_objects = text_array(rows, get_col, &objects);
  char *a_payloads = text_array(rows, get_col, &payloads);
  char *a_issuers = text_array(rows > 0 ? 1 : 0, get_col, &issuers);
  char *a_ats = text_array(rows, get_same, "1700000000");
  char *a_reasons = text_array(rows, get_same, "1");
  char *a_held = text_array(rows, get_same, "0");
  char *a_actors = text_array(rows, get_same, "token:1:bench");
  char *a_sources = text_array(rows, get_same, "127.0.0.1");
  char *a_details = text_array(rows, get_same, "reason=keyCompromise");
  char a_count[24];
  snprintf(a_count, sizeof(a_count), "%zu", rows);
  const raw_stmt write[5] = {
      {CA_REVOKE_BATCH_WRITE_SQL,
       9,
       {a_ids, a_cert_issuers, a_objects, a_shards, a_not_afters, a_ats,
        a_reasons, a_count, a_held}},
      {CA_REVOKE_BATCH_AUDIT_SQL,
       5,
       {"revoke", a_actors, a_sources, a_objects, a_details}},
      {CA_REVOKE_BATCH_NOTIFY_SQL, 2, {"pki_bench_revocation", a_payloads}},
      {CA_REVOKE_BATCH_QUEUE_SQL, 1, {a_issuers}},
      {"COMMIT", 0, {NULL}}};
  if (a_ids != NULL && a_cert_issuers != NULL && a_shards != NULL &&
      a_not_afters != NULL && a_objects != NULL && a_payloads != NULL &&
      a_issuers != NULL && a_ats != NULL && a_reasons != NULL &&
      a_held != NULL && a_actors != NULL && a_sources != NULL &&
      a_details != NULL && run_pipeline(conn, write, 5, NULL)) {
    done = (long)rows;
  }
  free(a_ids);
  free(a_cert_issuers);
  free(a_shards);
  free(a_not_afters);
  free(a_objects);
  free(a_payloads);
  free(a_issuers);
  free(a_ats);
  free(a_reasons);
  free(a_held);
  free(a_actors);
  free(a_sources);
  free(a_details);
done:
  PQclear(locked);
  free(list);
  return done;
}

static void *group_main(void *arg) {
  worker *w = arg;
  const char *serials[MAX_CLIENTS];
  while (now_s() < w->s->deadline) {
    size_t n = 0;
    while (n < (size_t)w->group && (serials[n] = take(w->s->targets)) != NULL) {
      n++;
    }
    if (n == 0) {
      break;
    }
    const long done = raw_group(w->conn, serials, n);
    if (done < 0) {
      atomic_fetch_add(&w->s->errors, 1);
    } else {
      atomic_fetch_add(&w->s->done, (unsigned long)done);
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

// One case of a round: its slice and the time it took.
typedef struct case_sum {
  unsigned long done;
  double seconds;
} case_sum;

// settle lets the database finish with the rows a case's setup just wrote
// before the case is timed: their statistics and visibility (VACUUM
// ANALYZE of the two tables the copies go to) and a CHECKPOINT, so that the
// WAL of 100,000 copied rows does not set off a checkpoint inside the case,
// whose writes would then compete with its commits' fsyncs: the case
// measures revocation with that many revoked, not the bench's own load. A
// database user allowed no CHECKPOINT leaves a warning in the output.
static void settle(const it_db *db) {
  PQclear(it_db_query(db, "VACUUM ANALYZE certificates", NULL, NULL));
  PQclear(it_db_query(db, "VACUUM ANALYZE revocations", NULL, NULL));
  PQclear(it_db_query(db, "CHECKPOINT", NULL, NULL));
}

static double run_case(run *r, void *(*fn)(void *), int threads, slice *s,
                       double seconds, case_sum *sum) {
  const double t0 = now_s();
  const double rate = run_slice(r->workers, threads, fn, s, seconds);
  sum->seconds += now_s() - t0;
  sum->done += atomic_load(&s->done);
  return rate;
}

static double rate_of(const case_sum *c) {
  return c->seconds > 0 ? (double)c->done / c->seconds : 0;
}

static int measure_population(run *r, long population) {
  const options *o = r->opts;
  // Enough targets for 2,000 revocations per second and client, which no
  // case reaches on a small machine; a case that runs out stops.
  const long per_case = (long)(2000.0 * o->clients * o->seconds / 3.0) + 1000;
  if (population > r->revoked_now &&
      !copy_rows(r->db, r->model_id, population - r->revoked_now, '9', 1)) {
    return 0;
  }
  r->revoked_now = population > r->revoked_now ? population : r->revoked_now;
  if (r->tags_used + 3 > sizeof(kTags) - 1) {
    fprintf(stderr, "revoke: too many populations\n");
    return 0;
  }
  const char tags[3] = {kTags[r->tags_used], kTags[r->tags_used + 1],
                        kTags[r->tags_used + 2]};
  r->tags_used += 3;
  // The targets of pkid, pg_group and pg_txn.
  targets t[3];
  memset(t, 0, sizeof(t));
  for (int k = 0; k < 3; k++) {
    if (!copy_rows(r->db, r->model_id, per_case, tags[k], 0) ||
        !load_targets(r->db, tags[k], &t[k])) {
      return 0;
    }
  }
  settle(r->db);
  case_sum sums[3];
  memset(sums, 0, sizeof(sums));
  size_t lat_cap = (size_t)per_case;
  uint32_t *lat = calloc(lat_cap, sizeof(*lat));
  size_t lat_n = 0;
  unsigned long errors = 0;
  const double part = o->seconds / o->rounds / 3.0;
  for (int k = 0; k < o->clients; k++) {
    r->workers[k].group = o->clients;
  }
  for (int round = 0; round < o->rounds && lat != NULL; round++) {
    // A round is SLICES short turns of the three cases, so that a burst of
    // the machine's other load falls on all of them alike.
    case_sum in_round[3];
    memset(in_round, 0, sizeof(in_round));
    for (int turn = 0; turn < SLICES; turn++) {
      slice sl[3];
      memset(sl, 0, sizeof(sl));
      pthread_mutex_init(&sl[0].mu, NULL);
      sl[0].lat_us = lat + lat_n;
      sl[0].lat_cap = lat_cap - lat_n;
      for (int k = 0; k < 3; k++) {
        sl[k].targets = &t[k];
      }
      (void)run_case(r, revoke_main, o->clients, &sl[0], part / SLICES,
                     &in_round[0]);
      (void)run_case(r, group_main, 1, &sl[1], part / SLICES, &in_round[1]);
      (void)run_case(r, raw_main, o->clients, &sl[2], part / SLICES,
                     &in_round[2]);
      pthread_mutex_destroy(&sl[0].mu);
      lat_n += sl[0].lat_n;
      for (int k = 0; k < 3; k++) {
        errors += atomic_load(&sl[k].errors);
      }
    }
    for (int k = 0; k < 3; k++) {
      sums[k].done += in_round[k].done;
      sums[k].seconds += in_round[k].seconds;
    }
    const double pkid_rate = rate_of(&in_round[0]);
    const double group_rate = rate_of(&in_round[1]);
    const double txn_rate = rate_of(&in_round[2]);
    printf(
        "{\"bench\":\"revoke\",\"case\":\"single_round\","
        "\"already_revoked\":%ld,\"round\":%d,\"clients\":%d,"
        "\"per_s\":%.1f,\"pg_group_per_s\":%.1f,\"vs_pg_group\":%.3f,"
        "\"pg_txn_per_s\":%.1f}\n",
        population, round + 1, o->clients, pkid_rate, group_rate,
        group_rate > 0 ? pkid_rate / group_rate : 0, txn_rate);
    fflush(stdout);
  }
  const double pkid_rate = rate_of(&sums[0]), group_rate = rate_of(&sums[1]);
  // Revocations per pkid transaction: the rows one transaction revoked
  // share their xmin.
  char sql[256];
  snprintf(sql, sizeof(sql),
           "SELECT (100 * count(*) / greatest(count(DISTINCT xmin::text), 1))"
           " FROM revocations WHERE serial LIKE '%c%%'"
           " AND length(serial) = 34",
           tags[0]);
  const double per_commit = (double)it_db_int(r->db, sql, NULL) / 100.0;
  const long long in_db =
      it_db_int(r->db, "SELECT count(*) FROM revocations", NULL);
  printf(
      "{\"bench\":\"revoke\",\"case\":\"single\",\"already_revoked\":%ld,"
      "\"clients\":%d,\"seconds\":%.2f,\"revocations\":%lu,"
      "\"per_s\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,"
      "\"per_commit\":%.2f,\"pg_group_per_s\":%.1f,\"vs_pg_group\":%.3f,"
      "\"pg_txn_per_s\":%.1f,\"errors\":%lu,\"revoked_in_db\":%lld,\"pkid_rss_"
      "kb\":%ld}\n",
      population, o->clients, sums[0].seconds, sums[0].done, pkid_rate,
      percentile_ms(lat, lat_n, 0.5), percentile_ms(lat, lat_n, 0.99),
      per_commit, group_rate, group_rate > 0 ? pkid_rate / group_rate : 0,
      rate_of(&sums[2]), errors, in_db, proc_status_kb(r->pkid->pid, "VmRSS"));
  fflush(stdout);
  // The revocations of every case are the population of the next one.
  r->revoked_now = in_db > 0 ? (long)in_db : r->revoked_now;
  free(lat);
  for (int k = 0; k < 3; k++) {
    free(t[k].serials);
  }
  return lat != NULL && errors == 0;
}

// --- Batches ---

// pkid_batch revokes the |n| serials in one POST
// /v1/certificates:batchRevoke; it returns the number revoked, -1 on
// failure.
static long pkid_batch(pki_client *client, const char **serials, size_t n) {
  Pki__V1__BatchRevokeItem *items = calloc(n, sizeof(*items));
  Pki__V1__BatchRevokeItem **ptrs = calloc(n, sizeof(*ptrs));
  uint8_t *body = NULL;
  long revoked = -1;
  if (items == NULL || ptrs == NULL) {
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    pki__v1__batch_revoke_item__init(&items[i]);
    items[i].serial = (char *)serials[i];
    items[i].reason = 1;  // keyCompromise
    ptrs[i] = &items[i];
  }
  Pki__V1__BatchRevokeRequest req = PKI__V1__BATCH_REVOKE_REQUEST__INIT;
  req.items = ptrs;
  req.n_items = n;
  const size_t len = pki__v1__batch_revoke_request__get_packed_size(&req);
  body = malloc(len + 1);
  if (body == NULL) {
    goto done;
  }
  pki__v1__batch_revoke_request__pack(&req, body);
  pki_reply reply;
  if (!pki_client_call(client, "POST", "/v1/certificates:batchRevoke",
                       "application/x-protobuf", body, len, &reply)) {
    fprintf(stderr, "revoke: batch: %s\n", ca_err_get()->message);
    goto done;
  }
  Pki__V1__BatchRevokeResponse *resp =
      reply.status == 200 ? pki__v1__batch_revoke_response__unpack(
                                NULL, reply.body_len, reply.body)
                          : NULL;
  if (resp != NULL) {
    revoked = resp->revoked;
  } else {
    char text[256];
    pki_reply_error_text(&reply, text, sizeof(text));
    fprintf(stderr, "revoke: batch: HTTP %ld: %s\n", reply.status, text);
  }
  pki__v1__batch_revoke_response__free_unpacked(resp, NULL);
  pki_reply_cleanup(&reply);
done:
  free(items);
  free(ptrs);
  free(body);
  return revoked;
}

// A batch of one side (k 0: pkid, 1: PostgreSQL alone) sent by worker w,
// on a thread of its own when several are in flight.
typedef struct batch_job {
  run *r;
  int k, w;
  const char **serials;
  size_t n;
  long done;
} batch_job;

static void *batch_job_main(void *arg) {
  batch_job *j = arg;
  j->done = j->k == 0 ? pkid_batch(j->r->workers[j->w].client, j->serials, j->n)
                      : raw_group(j->r->workers[j->w].conn, j->serials, j->n);
  return NULL;
}

// send_batches sends |parallel| batches of |n| serials each at once, from
// |serials| (n * parallel of them), and returns how many were revoked.
static long send_batches(run *r, int k, const char **serials, long n,
                         int parallel) {
  batch_job jobs[MAX_CLIENTS];
  pthread_t threads[MAX_CLIENTS];
  int started = 0;
  for (int w = 0; w < parallel; w++) {
    jobs[w] = (batch_job){.r = r,
                          .k = k,
                          .w = w,
                          .serials = serials + (size_t)w * (size_t)n,
                          .n = (size_t)n,
                          .done = -1};
  }
  if (parallel == 1) {
    batch_job_main(&jobs[0]);
    return jobs[0].done;
  }
  while (started < parallel &&
         pthread_create(&threads[started], NULL, batch_job_main,
                        &jobs[started]) == 0) {
    started++;
  }
  long done = started == parallel ? 0 : -1;
  for (int w = 0; w < started; w++) {
    pthread_join(threads[w], NULL);
    done = done < 0 || jobs[w].done < 0 ? -1 : done + jobs[w].done;
  }
  return done;
}

// measure_batches times pkid's batches against the same statements sent
// by PostgreSQL's side alone, |parallel| batches in flight on each side
// (pkictl revoke --parallel sends so).
static int measure_batches(run *r, int parallel) {
  const options *o = r->opts;
  const long n = o->batch_items, per_round = n * parallel,
             total = per_round * o->batches;
  if (r->tags_used + 2 > sizeof(kTags) - 1) {
    fprintf(stderr, "revoke: too many populations\n");
    return 0;
  }
  const char tags[2] = {kTags[r->tags_used], kTags[r->tags_used + 1]};
  r->tags_used += 2;
  targets t[2];
  memset(t, 0, sizeof(t));
  const char **serials = calloc((size_t)per_round, sizeof(*serials));
  int ok = serials != NULL;
  for (int k = 0; ok && k < 2; k++) {
    ok = copy_rows(r->db, r->model_id, total, tags[k], 0) &&
         load_targets(r->db, tags[k], &t[k]) && t[k].n == (size_t)total;
    if (!ok) {
      fprintf(stderr, "revoke: could not make %ld certificates to revoke\n",
              total);
    }
  }
  settle(r->db);
  case_sum sums[2];
  memset(sums, 0, sizeof(sums));
  for (int b = 0; ok && b < o->batches; b++) {
    double rates[2];
    // pkid first in odd rounds, PostgreSQL alone first in even ones: what
    // the machine's other load does to the second of a pair evens out.
    for (int j = 0; ok && j < 2; j++) {
      const int k = (j + b) % 2;
      for (long i = 0; i < per_round; i++) {
        serials[i] = take(&t[k]);
      }
      const double t0 = now_s();
      const long done = send_batches(r, k, serials, n, parallel);
      const double took = now_s() - t0;
      ok = done == per_round;
      if (!ok) {
        fprintf(stderr, "revoke: %s revoked %ld of %ld in round %d\n",
                k == 0 ? "pkid" : "PostgreSQL alone", done, per_round, b + 1);
      }
      sums[k].done += (unsigned long)(done > 0 ? done : 0);
      sums[k].seconds += took;
      rates[k] = took > 0 ? (double)per_round / took : 0;
    }
    if (ok) {
      printf(
          "{\"bench\":\"revoke\",\"case\":\"batch_round\","
          "\"items\":%ld,\"parallel\":%d,\"round\":%d,\"per_s\":%.0f,"
          "\"pg_batch_per_s\":%.0f,\"vs_pg_batch\":%.3f}\n",
          n, parallel, b + 1, rates[0], rates[1],
          rates[1] > 0 ? rates[0] / rates[1] : 0);
      fflush(stdout);
    }
  }
  if (ok) {
    const double pkid_rate = rate_of(&sums[0]), raw_rate = rate_of(&sums[1]);
    printf(
        "{\"bench\":\"revoke\",\"case\":\"batch\",\"items\":%ld,"
        "\"parallel\":%d,\"batches\":%d,\"revocations\":%lu,"
        "\"seconds\":%.2f,"
        "\"per_s\":%.0f,\"pg_batch_per_s\":%.0f,\"vs_pg_batch\":%.3f,"
        "\"pkid_rss_kb\":%ld}\n",
        n, parallel, o->batches, sums[0].done, sums[0].seconds, pkid_rate,
        raw_rate, raw_rate > 0 ? pkid_rate / raw_rate : 0,
        proc_status_kb(r->pkid->pid, "VmRSS"));
    fflush(stdout);
  } else {
    fprintf(stderr, "revoke: the batch case failed\n");
  }
  free(serials);
  free(t[0].serials);
  free(t[1].serials);
  return ok;
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
          " [--rounds R] [--populations N,N,...] [--batch-items N]"
          " [--batches B] [--batch-parallel P]\n");
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
  o->batch_items = 10000;
  o->batches = 4;
  o->batch_parallel = 2;
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
    } else if (strcmp(argv[i], "--batch-items") == 0) {
      o->batch_items = atol(v);
    } else if (strcmp(argv[i], "--batches") == 0) {
      o->batches = atoi(v);
    } else if (strcmp(argv[i], "--batch-parallel") == 0) {
      o->batch_parallel = atoi(v);
    } else if (strcmp(argv[i], "--populations") == 0) {
      if (!parse_populations(v, o)) {
        return 0;
      }
    } else {
      return 0;
    }
  }
  return o->database != NULL && o->clients >= 1 && o->clients <= MAX_CLIENTS &&
         o->seconds > 0 && o->rounds >= 1 && o->batch_items >= 0 &&
         o->batch_items <= 100000 && o->batches >= 1 &&
         o->batch_parallel >= 1 && o->batch_parallel <= o->clients;
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
  it_pkid pkid = {0};
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
  if (rc == 0 && opts.batch_items > 0 &&
      (!measure_batches(&r, 1) ||
       (opts.batch_parallel > 1 &&
        !measure_batches(&r, opts.batch_parallel)))) {
    rc = 1;
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
