// The issuance benchmark: certificates per second through the signing core
// (in process) and through pkid over HTTP with PostgreSQL commits, next to
// the raw BoringSSL limit measured in the same run, interleaved with them.
//
// DESIGN: the limit is measured with |threads| threads (as many as pkid has
// signing workers), each verifying a CSR signature and signing a message as
// long as a real TBSCertificate of the pair with its own copy of the CA key:
// the cost of one certificate with nothing else around it.
//
// The limit and the cases run in slices, interleaved, as bench/ocsp_bench.c
// runs its cases: --rounds rounds (default about one per second of
// --seconds), each running limit, case 1, limit, case 2, ..., case N, and a
// last limit slice closes the run. A slice of a case lasts seconds / rounds,
// a limit slice half that. Each slice of a case is compared with the mean of
// the two limit slices around it, and a case's limit_per_s is the mean of its
// slices' limits weighted by their length, so that a disturbance by another
// process on a shared machine moves a case and its limit alike: ratio =
// certs_per_s / limit_per_s, and slice_min_ratio / slice_max_ratio give the
// spread. Every limit slice is printed as an "issue_limit" line; the case
// lines come at the end of the pair. Nothing of a slice runs during the
// next: an HTTP slice stops sending at its end and waits for its answers.
//
// CPU time, which the rest of the machine does not move: each in-process
// line has cpu_ratio, the limit's CPU per certificate (threads' CPU time,
// CLOCK_THREAD_CPUTIME_ID, in the limit slices around it) over the case's;
// each HTTP line has pkid_cpu_ratio, the same over pkid's CPU per
// certificate (/proc, whole slices), and pkid_cpu_us_per_cert. Every line
// has system_cpu_ratio, the same over the CPU of this whole side per
// certificate (this program with its clients, pkid, and PostgreSQL's
// processes as pg_stat_activity lists them), and others_cpu_share, the
// share of the machine's CPUs every other process used meanwhile
// (/proc/stat). When other processes compete (others_cpu_share well above
// 0), a case with many runnable threads (64 clients, pkid, PostgreSQL) gets
// a larger share of the CPUs than the limit's threads did, and its wall
// ratio can exceed 1: system_cpu_ratio is then the figure that holds.
// Every case line has broken, the names of its ratios above 1.0 as printed
// (ratio, slice_max_ratio, cpu_ratio or pkid_cpu_ratio, system_cpu_ratio):
// a case cannot beat the limit, so a named ratio is a broken measurement,
// not a result, and so are the line's wall figures when slice_max_ratio is
// named.
//
// Modes:
//   raw        the limit alone, in slices (a "raw" line sums them)
//   inprocess  CSR bytes -> certificate DER through ca_issue_sign, no HTTP,
//              no database; "inprocess-shared-key" does the same with one
//              key shared by all threads (the single-handle comparison)
//   http       POST /v1/certificates:batchIssue to a pkid this program
//              starts against --database (bench/with_postgres.sh starts a
//              throwaway PostgreSQL when none is given), batches of 1, 10,
//              100, 1000 from 64, 16, 6 and 3 connections. Each connection
//              is kept across the slices (keep-alive: one TLS handshake per
//              connection per run). The first --warmup seconds of a slice
//              (default a quarter of it, at most 0.3 s) fill the pipeline and
//              are not counted; a request's certificates count pro rata of
//              its time inside the counted window.
//   pkictl     `pkictl batch` as a user runs it (not part of "all"): each
//              slice is one whole run over a directory of --pkictl-csrs
//              PEM CSR files (see --names) into an
//              emptied output directory, both under --work (default
//              /dev/shm:
//              tmpfs, so that the disk is not what is measured), against
//              the pkid this program starts; the slice's time is the run's
//              from exec to exit, and this side's CPU includes pkictl's.
//              --rounds runs (default 3).
//   --names    distinct (the default): the CSRs that http and pkictl send
//              each name a node of its own (cucm-sub03.cl001234.example.net,
//              20 nodes to a cluster), as a user's do: --pkictl-csrs of
//              them for pkictl, HTTP_NAMES for http, which each connection
//              sends in turn, a batch at a time. A name PostgreSQL has not
//              seen costs it more than a renewal's (README, "A name per
//              CSR"). repeated: the pair's 32 CSRs, again and
//              again. Each line's "names" says how many names its CSRs
//              carry; the raw and in-process cases use the 32.
//              new (pkictl only): distinct names, new ones for every
//              slice (NODE_NAMES at most over a run), as for nodes never
//              issued before; distinct sends the
//              same names in every slice, so its slices after the first
//              renew them, as a CA's bulk re-issue before expiry does.
//              The slice's CSRs are made and written before its clock
//              starts.
//   keygen     POST /v1/keys:generate, one request at a time: latency with
//              the key pool full (--keygen-rounds runs of it, the pool
//              refilled before each), then with the pool disabled
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <openssl/bytestring.h>
#include <openssl/digest.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/client/client.h"
#include "bench/proc_stat.h"
#include "ca/issue/authority.h"
#include "ca/issue/issue.h"
#include "ca/issue/issuer_keys.h"
#include "ca/store/pq.h"
#include "ca/x509/csr.h"
#include "ca/x509/signer.h"
#include "ca/x509/x509.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"

typedef struct pair {
  const char *csr_key;     // "RSA-2048"
  const char *issuer_key;  // the CA key pkid uses for it by default
  const char *profile;
} pair;

static const pair kPairs[] = {
    {"RSA-2048", "RSA-2048", "tomcat"},
    {"EC-P256", "EC-P256", "tomcat-ECDSA"},
    {"RSA-3072", "RSA-2048", "tomcat"},
    {"EC-P384", "EC-P256", "tomcat-ECDSA"},
};
#define PAIR_COUNT (sizeof(kPairs) / sizeof(kPairs[0]))
#define CSR_POOL 32
// How many CSRs of distinct names the http cases send (--names distinct).
#define HTTP_NAMES 10000

// --names: the pair's 32 CSRs again and again; a name per CSR, the same in
// every slice; a name per CSR, new in every slice (pkictl).
enum { NAMES_REPEATED, NAMES_DISTINCT, NAMES_NEW };
// How many node names pair_name_csrs has before they repeat: 20 nodes in
// each of 1,000,000 clusters.
#define NODE_NAMES (20 * 1000000)

typedef struct options {
  double seconds;  // of each case, all its slices together
  int rounds;      // slices of each case, interleaved with the limit
  double warmup;   // HTTP: seconds of a slice not counted; < 0: default
  int threads;
  const char *mode;  // "all", "inprocess", "http", "raw"
  const char *database;
  const char *pairs;  // comma-separated csr keys, or NULL for all
  const char *batches;
  const char *server;    // an already running pkid, instead of starting one
  int keygen_rounds;     // keygen: runs of the pool, refilled in between
  pid_t pkid_pid;        // the pkid this program started, for its CPU time
  const it_db *pkid_db;  // its database, for PostgreSQL's processes
  size_t pkictl_csrs;    // pkictl: CSR files per run
  int names;             // http and pkictl: NAMES_REPEATED, _DISTINCT, _NEW
  const char *work;      // pkictl: where the CSR and certificate files go
  const it_pkid *pkid;   // pkictl: the pkid it calls
} options;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

// thread_cpu_s is the CPU time of the calling thread: what a certificate
// costs, whatever else the machine runs meanwhile.
static double thread_cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

// --- Latency samples ---

typedef struct samples {
  double *ms;
  size_t n, cap;
} samples;

static void sample_add(samples *s, double ms) {
  if (s->n == s->cap) {
    const size_t cap = s->cap > 0 ? s->cap * 2 : 4096;
    double *grown = realloc(s->ms, cap * sizeof(double));
    if (grown == NULL) {
      return;  // a lost sample skews nothing that matters
    }
    s->ms = grown;
    s->cap = cap;
  }
  s->ms[s->n++] = ms;
}

static int compare_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

// merge_percentiles merges |n| sample sets and computes p50 and p99.
static void merge_percentiles(samples *sets, size_t n, double *p50,
                              double *p99) {
  samples all = {0};
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < sets[i].n; k++) {
      sample_add(&all, sets[i].ms[k]);
    }
    free(sets[i].ms);
    sets[i].ms = NULL;
  }
  *p50 = *p99 = 0;
  if (all.n > 0) {
    qsort(all.ms, all.n, sizeof(double), compare_double);
    *p50 = all.ms[(size_t)(0.50 * (double)(all.n - 1))];
    *p99 = all.ms[(size_t)(0.99 * (double)(all.n - 1))];
  }
  free(all.ms);
}

// --- Key pairs ---

typedef struct pair_state {
  const pair *p;
  uint8_t *csrs[CSR_POOL];
  size_t lens[CSR_POOL];
  EVP_PKEY *keys[CSR_POOL];  // the CSRs' keys
  uint8_t **named;           // --names distinct or new: CSRs of a name each
  size_t *named_lens;
  size_t named_n;
  size_t named_first;       // the number of named[0]'s node
  ca_authority *authority;  // ephemeral: for in-process issuance
  size_t tbs_len;           // the size of a real TBSCertificate of this pair
} pair_state;

static int pair_setup(const pair *p, pair_state *out) {
  memset(out, 0, sizeof(*out));
  out->p = p;
  for (int i = 0; i < CSR_POOL; i++) {
    char subject[96];
    snprintf(subject, sizeof(subject), "/CN=bench%d.example.com/O=Bench", i);
    test_csr_spec spec = {.key = p->csr_key, .subject = subject};
    out->csrs[i] = test_make_csr(&spec, &out->lens[i], &out->keys[i]);
    if (out->csrs[i] == NULL) {
      return 0;
    }
  }
  ca_authority_config config;
  ca_authority_config_init(&config);
  config.ocsp_url = "http://ocsp.example.com/";
  if (!ca_key_spec_parse(
          strncmp(p->issuer_key, "RSA", 3) == 0 ? &config.rsa : &config.ec,
          p->issuer_key) ||
      !ca_authority_new_ephemeral(&config, &out->authority)) {
    return 0;
  }
  // The raw limit signs a message as long as a real TBSCertificate.
  ca_issue_request req = {.profile = p->profile,
                          .csr = out->csrs[0],
                          .csr_len = out->lens[0],
                          .validity_days = 0};
  ca_issued issued;
  ca_x509 cert;
  if (!ca_issue_sign(out->authority, NULL, &req, (int64_t)time(NULL),
                     &issued)) {
    return 0;
  }
  const int parsed = ca_x509_parse(&cert, issued.der, issued.der_len);
  out->tbs_len = parsed ? CBS_len(&cert.tbs) : 0;
  ca_issued_cleanup(&issued);
  return parsed;
}

static void pair_free_named(pair_state *ps) {
  for (size_t i = 0; i < ps->named_n; i++) {
    OPENSSL_free(ps->named[i]);
  }
  free(ps->named);
  free(ps->named_lens);
  ps->named = NULL;
  ps->named_lens = NULL;
  ps->named_n = 0;
}

// pair_name_csrs makes |n| CSRs of distinct names into |ps|->named, in
// place of those it had: nodes |first| to |first| + |n| - 1 of numbered
// clusters (cucm-sub03.cl001234.example.net: 20 nodes to a cluster, node k
// being sub k % 20 of cluster k / 20), each signed with one of the pool's
// keys (a key per CSR would take minutes to make for RSA).
static int pair_name_csrs(pair_state *ps, size_t first, size_t n) {
  pair_free_named(ps);
  ps->named = calloc(n, sizeof(*ps->named));
  ps->named_lens = calloc(n, sizeof(*ps->named_lens));
  ps->named_first = first;
  if (ps->named == NULL || ps->named_lens == NULL) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    const size_t k = first + i;
    char subject[96];
    snprintf(subject, sizeof(subject),
             "/CN=cucm-sub%02zu.cl%06zu.example.net/O=Bench", k % 20,
             k / 20 % (NODE_NAMES / 20));
    test_csr_spec spec = {.key = ps->p->csr_key,
                          .subject = subject,
                          .reuse_key = ps->keys[i % CSR_POOL]};
    ps->named[i] = test_make_csr(&spec, &ps->named_lens[i], NULL);
    if (ps->named[i] == NULL) {
      return 0;
    }
    ps->named_n = i + 1;
  }
  return 1;
}

// pair_csr returns CSR |i| of what the http and pkictl cases send.
static const uint8_t *pair_csr(const pair_state *ps, size_t i, size_t *len) {
  if (ps->named_n > 0) {
    *len = ps->named_lens[i % ps->named_n];
    return ps->named[i % ps->named_n];
  }
  *len = ps->lens[i % CSR_POOL];
  return ps->csrs[i % CSR_POOL];
}

static void pair_cleanup(pair_state *s) {
  for (int i = 0; i < CSR_POOL; i++) {
    OPENSSL_free(s->csrs[i]);
    EVP_PKEY_free(s->keys[i]);
  }
  pair_free_named(s);
  ca_authority_free(s->authority);
}

// --- Threads running for one slice ---

typedef struct run_arg {
  pair_state *pair;
  int shared_key;
  size_t batch;
  pki_client *client;  // HTTP: kept across slices (one keep-alive connection)
  int index;
  int connections;  // HTTP: how many threads send the case's batches
  double warmup;    // seconds from the start not counted (pipeline filling)
  double seconds;   // counted seconds after the warm-up
  double done;      // certificates made inside the counted window
  double cpu;       // raw and in-process: the thread's CPU seconds
  double made;      // HTTP: certificates of the whole slice
  samples lat;      // latency of the requests that ended inside it
  int failed;
} run_arg;

// The start of a slice: every thread waits here until all are created. A
// wait, not a spin: 64 spinning clients would take the CPUs from the
// thread creating the others, and from pkid.
static pthread_mutex_t go_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t go_cv = PTHREAD_COND_INITIALIZER;
static int go;

static void run_threads(void *(*fn)(void *), run_arg *args, int n) {
  pthread_t *threads = calloc((size_t)n, sizeof(pthread_t));
  if (threads == NULL) {
    fprintf(stderr, "bench: out of memory\n");
    exit(1);
  }
  pthread_mutex_lock(&go_mu);
  go = 0;
  pthread_mutex_unlock(&go_mu);
  for (int i = 0; i < n; i++) {
    if (pthread_create(&threads[i], NULL, fn, &args[i]) != 0) {
      fprintf(stderr, "bench: pthread_create failed\n");
      exit(1);
    }
  }
  pthread_mutex_lock(&go_mu);
  go = 1;
  pthread_cond_broadcast(&go_cv);
  pthread_mutex_unlock(&go_mu);
  for (int i = 0; i < n; i++) {
    pthread_join(threads[i], NULL);
  }
  free(threads);
}

static void wait_go(void) {
  pthread_mutex_lock(&go_mu);
  while (!go) {
    pthread_cond_wait(&go_cv, &go_mu);
  }
  pthread_mutex_unlock(&go_mu);
}

// overlap is the share of the request [t0, t1] that falls inside the window
// [w0, w1]: a request's certificates are counted pro rata of its time inside
// the window, so that a few long requests (batches of 1000) do not make the
// count jump by whole batches at the window's edges.
static double overlap(double t0, double t1, double w0, double w1) {
  const double a = t0 > w0 ? t0 : w0, b = t1 < w1 ? t1 : w1;
  if (b <= a) {
    return 0;
  }
  return t1 > t0 ? (b - a) / (t1 - t0) : 1;
}

// raw_thread: one CSR verification plus one signature per iteration.
static void *raw_thread(void *varg) {
  run_arg *a = varg;
  ca_csr csr;
  const uint8_t *der = a->pair->csrs[a->index % CSR_POOL];
  if (!ca_csr_parse(&csr, der, a->pair->lens[a->index % CSR_POOL])) {
    a->failed = 1;
    return NULL;
  }
  ca_issuer_keys keys;
  const ca_issuer *issuer =
      ca_authority_issuer_for(a->pair->authority, csr.key.type);
  if (issuer == NULL || !ca_issuer_keys_init(&keys, a->pair->authority)) {
    a->failed = 1;
    ca_csr_cleanup(&csr);
    return NULL;
  }
  EVP_PKEY *key = ca_issuer_keys_get(&keys, a->pair->authority, issuer);
  const EVP_MD *md = ca_signature_digest(&issuer->key_info, &csr.key);
  uint8_t tbs[4096], sig[CA_SIGNATURE_MAX_LEN];
  const size_t tbs_len =
      a->pair->tbs_len < sizeof(tbs) ? a->pair->tbs_len : sizeof(tbs);
  memset(tbs, 0x5a, sizeof(tbs));
  wait_go();
  const double cpu0 = thread_cpu_s();
  const double end = now_s() + a->seconds;
  while (now_s() < end) {
    size_t sig_len;
    if (!ca_csr_verify(&csr) ||
        !ca_sign(key, md, tbs, tbs_len, sig, &sig_len)) {
      a->failed = 1;
      break;
    }
    a->done++;
  }
  a->cpu = thread_cpu_s() - cpu0;
  ca_issuer_keys_cleanup(&keys);
  ca_csr_cleanup(&csr);
  return NULL;
}

// measure_raw runs the limit for |seconds| on |threads| threads and returns
// its rate; *cpu_per_cert: the CPU seconds one certificate took.
static double measure_raw(pair_state *ps, double seconds, int threads,
                          double *cpu_per_cert) {
  run_arg *args = calloc((size_t)threads, sizeof(run_arg));
  for (int i = 0; i < threads; i++) {
    args[i] = (run_arg){.pair = ps, .index = i, .seconds = seconds};
  }
  run_threads(raw_thread, args, threads);
  double total = 0, cpu = 0;
  for (int i = 0; i < threads; i++) {
    total += args[i].done;
    cpu += args[i].cpu;
    if (args[i].failed) {
      fprintf(stderr, "bench: raw measurement failed\n");
      exit(1);
    }
  }
  free(args);
  *cpu_per_cert = total > 0 ? cpu / total : 0;
  return total / seconds;
}

// inprocess_thread: the whole core path, one request at a time.
static void *inprocess_thread(void *varg) {
  run_arg *a = varg;
  ca_issuer_keys keys;
  if (!a->shared_key && !ca_issuer_keys_init(&keys, a->pair->authority)) {
    a->failed = 1;
    return NULL;
  }
  wait_go();
  const double cpu0 = thread_cpu_s();
  const double end = now_s() + a->seconds;
  size_t i = (size_t)a->index;
  double t = now_s();
  while (t < end) {
    ca_issue_request req = {.profile = a->pair->p->profile,
                            .csr = a->pair->csrs[i % CSR_POOL],
                            .csr_len = a->pair->lens[i % CSR_POOL],
                            .validity_days = 0};
    ca_issued out;
    if (!ca_issue_sign(a->pair->authority, a->shared_key ? NULL : &keys, &req,
                       (int64_t)time(NULL), &out)) {
      fprintf(stderr, "bench: %s\n", out.err.message);
      a->failed = 1;
      break;
    }
    ca_issued_cleanup(&out);
    const double t2 = now_s();
    sample_add(&a->lat, (t2 - t) * 1000);
    t = t2;
    a->done++;
    i++;
  }
  a->cpu = thread_cpu_s() - cpu0;
  if (!a->shared_key) {
    ca_issuer_keys_cleanup(&keys);
  }
  return NULL;
}

// --- HTTP ---

// pack_batch builds a BatchIssueRequest of |n| items from the pool.
static uint8_t *pack_batch(pair_state *ps, size_t n, size_t first,
                           size_t *out_len) {
  Pki__V1__IssueRequest *items = calloc(n, sizeof(*items));
  Pki__V1__IssueRequest **ptrs = calloc(n, sizeof(*ptrs));
  for (size_t i = 0; i < n; i++) {
    pki__v1__issue_request__init(&items[i]);
    items[i].csr.data = (uint8_t *)pair_csr(ps, first + i, &items[i].csr.len);
    ptrs[i] = &items[i];
  }
  Pki__V1__BatchIssueRequest req = PKI__V1__BATCH_ISSUE_REQUEST__INIT;
  req.profile = (char *)ps->p->profile;
  req.n_items = n;
  req.items = ptrs;
  *out_len = pki__v1__batch_issue_request__get_packed_size(&req);
  uint8_t *body = malloc(*out_len);
  pki__v1__batch_issue_request__pack(&req, body);
  free(items);
  free(ptrs);
  return body;
}

// http_call sends one batch and checks that every item was issued.
static int http_call(run_arg *a, const uint8_t *body, size_t len, int *busy) {
  pki_reply reply;
  *busy = 0;
  if (!pki_client_call(a->client, "POST", "/v1/certificates:batchIssue",
                       "application/x-protobuf", body, len, &reply)) {
    fprintf(stderr, "bench: %s\n", ca_err_get()->message);
    return 0;
  }
  if (reply.status == 503) {
    // A full queue: the service works as designed; the caller backs off.
    pki_reply_cleanup(&reply);
    *busy = 1;
    return 1;
  }
  Pki__V1__BatchIssueResponse *resp =
      reply.status == 200 ? pki__v1__batch_issue_response__unpack(
                                NULL, reply.body_len, reply.body)
                          : NULL;
  const int ok = resp != NULL && resp->issued == a->batch;
  if (!ok) {
    const Pki__V1__Error *e = NULL;
    for (size_t k = 0; resp != NULL && k < resp->n_results && e == NULL; k++) {
      e = resp->results[k]->error;
    }
    fprintf(stderr, "bench: HTTP %ld: %s: %s\n", reply.status,
            e != NULL ? e->code : "-", e != NULL ? e->message : "-");
  }
  pki__v1__batch_issue_response__free_unpacked(resp, NULL);
  pki_reply_cleanup(&reply);
  return ok;
}

// http_thread sends batches back to back from the start of the slice until
// the end of its counted window, and waits for the last answer: nothing of
// the slice is still running when the next limit slice starts.
static void *http_thread(void *varg) {
  run_arg *a = varg;
  // The bodies this connection sends in turn: with CSRs of distinct names,
  // its share of them (connection k: batches k, k + connections, ...),
  // packed before the slice starts; else one batch of the 32.
  const size_t per_round = a->batch * (size_t)a->connections;
  size_t n_bodies = a->pair->named_n / (per_round > 0 ? per_round : 1);
  n_bodies = n_bodies > 0 ? n_bodies : 1;
  uint8_t **bodies = calloc(n_bodies, sizeof(*bodies));
  size_t *lens = calloc(n_bodies, sizeof(*lens));
  if (bodies == NULL || lens == NULL) {
    fprintf(stderr, "bench: out of memory\n");
    exit(1);
  }
  for (size_t j = 0; j < n_bodies; j++) {
    const size_t first =
        a->pair->named_n > 0
            ? ((size_t)a->index + j * (size_t)a->connections) * a->batch
            : (size_t)a->index;
    bodies[j] = pack_batch(a->pair, a->batch, first, &lens[j]);
  }
  size_t next = 0;
  wait_go();
  const double w0 = now_s() + a->warmup, w1 = w0 + a->seconds;
  double t = now_s();
  while (t < w1) {
    int busy;
    if (!http_call(a, bodies[next], lens[next], &busy)) {
      a->failed = 1;
      break;
    }
    const double t2 = now_s();
    if (busy) {
      usleep(1000);
    } else {
      next = (next + 1) % n_bodies;
      a->done += (double)a->batch * overlap(t, t2, w0, w1);
      a->made += (double)a->batch;
      if (t2 >= w0 && t2 <= w1) {
        sample_add(&a->lat, (t2 - t) * 1000);
      }
    }
    t = now_s();
  }
  for (size_t j = 0; j < n_bodies; j++) {
    free(bodies[j]);
  }
  free(bodies);
  free(lens);
  return NULL;
}

// Connections per batch size: enough requests in flight to keep every
// worker busy and let group commit gather them.
static int connections_for(size_t batch) {
  if (batch == 1) {
    return 64;
  }
  if (batch <= 10) {
    return 16;
  }
  if (batch <= 100) {
    return 6;
  }
  return 3;
}

// --- Cases, interleaved with the limit ---

typedef enum case_kind {
  CASE_INPROCESS,
  CASE_SHARED_KEY,
  CASE_HTTP,
  CASE_PKICTL
} case_kind;

// One case of a pair and the sum of its slices.
typedef struct bench_case {
  case_kind kind;
  const struct options *opts;  // pkictl: its directories and pkid
  size_t batch;
  int threads;                  // threads (HTTP: client connections)
  pki_client **clients;         // HTTP: one per thread, kept across slices
  double done, seconds;         // certificates and counted seconds, all slices
  double limit_sum;             // sum over slices of limit x counted seconds
  double min_ratio, max_ratio;  // of one slice against its own limit
  int slices;
  samples lat;
  double done_last, counted_last;  // the slice just run
  // CPU: in process, the threads' CPU seconds; HTTP, pkid's (the process
  // alone, neither PostgreSQL nor the clients) over whole slices, with
  // made_last the certificates of the whole slice.
  double cpu_last, made_last;
  double cpu, made,
      limit_cpu;  // all slices; limit_cpu: what the limit's CPU cost
                  // per certificate would have taken for them
  // The machine: CPU seconds of this side (this program, pkid and
  // PostgreSQL's processes) and of every other process, and wall seconds,
  // over whole slices.
  double ours_last, others_last, wall_last;
  double ours, others, wall;
} bench_case;

// --- CPU of the machine ---

#define MAX_PG_PIDS 128

// pg_pids lists the processes of pkid's PostgreSQL server (backends and
// its own workers, as pg_stat_activity shows them); 0 without a database.
static size_t pg_pids(const it_db *db, pid_t *out, size_t cap) {
  if (db == NULL) {
    return 0;
  }
  PGresult *res =
      it_db_query(db, "SELECT pid FROM pg_stat_activity", NULL, NULL);
  size_t n = 0;
  for (int i = 0; res != NULL && i < PQntuples(res) && n < cap; i++) {
    out[n++] = (pid_t)atoi(PQgetvalue(res, i, 0));
  }
  PQclear(res);
  return n;
}

// ours_ticks is the CPU time (clock ticks) of this program, pkid and the
// processes |pg|.
static long long ours_ticks(pid_t pkid, const pid_t *pg, size_t n) {
  long long t = proc_cpu_ticks(getpid());
  const long long k = pkid > 0 ? proc_cpu_ticks(pkid) : 0;
  t += k > 0 ? k : 0;
  for (size_t i = 0; i < n; i++) {
    const long long p = proc_cpu_ticks(pg[i]);
    t += p > 0 ? p : 0;  // a process that ended meanwhile counts no more
  }
  return t;
}

// machine_ticks is the busy CPU time of the whole machine (/proc/stat:
// user, nice, system, irq, softirq, steal), in clock ticks.
static long long machine_ticks(void) {
  FILE *f = fopen("/proc/stat", "r");
  long long v[8] = {0};
  const int got =
      f != NULL ? fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld",
                         &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7])
                : 0;
  if (f != NULL) {
    fclose(f);
  }
  return got == 8 ? v[0] + v[1] + v[2] + v[5] + v[6] + v[7] : 0;
}

static const char *case_mode(const bench_case *c) {
  return c->kind == CASE_PKICTL       ? "pkictl"
         : c->kind == CASE_HTTP       ? "http"
         : c->kind == CASE_SHARED_KEY ? "inprocess-shared-key"
                                      : "inprocess";
}

static void print_limit_slice(const pair_state *ps, int threads, int round,
                              const char *next, size_t next_batch,
                              double seconds, double rate) {
  printf(
      "{\"bench\":\"issue_limit\",\"csr_key\":\"%s\",\"issuer_key\":\"%s\","
      "\"threads\":%d,\"round\":%d,\"before_mode\":\"%s\","
      "\"before_batch\":%zu,\"seconds\":%.2f,\"limit_per_s\":%.1f}\n",
      ps->p->csr_key, ps->p->issuer_key, threads, round, next, next_batch,
      seconds, rate);
  fflush(stdout);
}

// --- pkictl batch ---

// pkictl_dirs names the case's CSR and output directories under --work.
static void pkictl_dirs(const options *opts, const pair_state *ps,
                        char csrs[512], char out[512]) {
  snprintf(csrs, 512, "%s/pki-issue-bench-%ld-%s", opts->work, (long)getpid(),
           ps->p->csr_key);
  snprintf(out, 512, "%s.out", csrs);
}

// pkictl_prepare writes --pkictl-csrs PEM files of |ps|'s CSRs into the
// case's CSR directory, over those of the slice before.
static int pkictl_prepare(const options *opts, const pair_state *ps) {
  char csrs[512], out[512];
  pkictl_dirs(opts, ps, csrs, out);
  if (mkdir(csrs, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "bench: mkdir %s: %s\n", csrs, strerror(errno));
    return 0;
  }
  int ok = 1;
  for (size_t i = 0; ok && i < opts->pkictl_csrs; i++) {
    char path[600];
    snprintf(path, sizeof(path), "%s/c%06zu.csr", csrs, i);
    size_t len;
    const uint8_t *der = pair_csr(ps, i, &len);
    char *pem = test_pem_csr(der, len);
    FILE *f = pem != NULL ? fopen(path, "w") : NULL;
    ok = f != NULL && fputs(pem, f) >= 0;
    ok = f != NULL && fclose(f) == 0 && ok;
    OPENSSL_free(pem);
  }
  return ok;
}

static void pkictl_cleanup(const options *opts, const pair_state *ps) {
  char csrs[512], out[512];
  pkictl_dirs(opts, ps, csrs, out);
  struct stat st;
  if (stat(csrs, &st) == 0) {
    proc_remove_tree("bench", csrs);
  }
  if (stat(out, &st) == 0) {
    proc_remove_tree("bench", out);
  }
}

// pkictl_slice runs `pkictl batch` once over the case's CSRs, adds its CPU
// (user and system, from wait4) to |*cpu_s| and returns the certificates
// it wrote, checked against the run's summary; *counted: its wall time.
static double pkictl_slice(const options *opts, const pair_state *ps,
                           double *counted, double *cpu_s) {
  char csrs[512], out[512];
  pkictl_dirs(opts, ps, csrs, out);
  struct stat st;
  if (stat(out, &st) == 0) {
    proc_remove_tree("bench", out);  // the last run's certificates
  }
  const it_pkid *pkid = opts->pkid;
  const char *argv[] = {
      "api/pkictl", "--server",   pkid->server, "--token",   pkid->token,
      "--cacert",   pkid->cacert, "batch",      "--profile", ps->p->profile,
      "--csr-dir",  csrs,         "--out-dir",  out,         "--json",
      NULL};
  int pipefd[2];
  if (pipe(pipefd) != 0) {
    fprintf(stderr, "bench: pipe: %s\n", strerror(errno));
    exit(1);
  }
  const double t0 = now_s();
  const pid_t child = fork();
  if (child == 0) {
    dup2(pipefd[1], 1);
    close(pipefd[0]);
    close(pipefd[1]);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  close(pipefd[1]);
  char summary[4096];
  size_t have = 0;
  ssize_t r;
  while ((r = read(pipefd[0], summary + have, sizeof(summary) - 1 - have)) >
         0) {
    have += (size_t)r;
  }
  close(pipefd[0]);
  summary[have] = '\0';
  int status = 0;
  struct rusage ru;
  if (child < 0 || wait4(child, &status, 0, &ru) != child) {
    fprintf(stderr, "bench: pkictl did not run\n");
    exit(1);
  }
  *counted = now_s() - t0;
  *cpu_s += (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
            (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  const char *issued = strstr(summary, "\"issued\":");
  const size_t n = issued != NULL ? strtoul(issued + 9, NULL, 10) : 0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      n != opts->pkictl_csrs) {
    fprintf(stderr, "bench: pkictl batch failed (status %d): %s\n", status,
            summary);
    exit(1);
  }
  return (double)n;
}

// pkictl_new_names gives the case's CSR files names no slice has sent yet
// (--names new), before the slice's clock starts.
static int pkictl_new_names(const options *opts, pair_state *ps) {
  return pair_name_csrs(ps, ps->named_first + ps->named_n, opts->pkictl_csrs) &&
         pkictl_prepare(opts, ps);
}

// run_case_slice runs one slice of |c| and returns the certificates made in
// its counted window (*counted: that window's length).
static double run_case_slice(pair_state *ps, bench_case *c, double seconds,
                             double warmup, pid_t pkid, const it_db *db,
                             double *counted) {
  run_arg *args = calloc((size_t)c->threads, sizeof(run_arg));
  if (args == NULL) {
    fprintf(stderr, "bench: out of memory\n");
    exit(1);
  }
  const int http = c->kind == CASE_HTTP || c->kind == CASE_PKICTL;
  for (int i = 0; c->kind != CASE_PKICTL && i < c->threads; i++) {
    args[i] = (run_arg){.pair = ps,
                        .index = i,
                        .shared_key = c->kind == CASE_SHARED_KEY,
                        .batch = c->batch,
                        .connections = c->threads,
                        .client = http ? c->clients[i] : NULL,
                        .warmup = http ? warmup : 0,
                        .seconds = seconds};
  }
  if (c->kind == CASE_PKICTL && c->opts->names == NAMES_NEW && c->done > 0 &&
      !pkictl_new_names(c->opts, ps)) {
    fprintf(stderr, "bench: cannot make new CSRs: %s\n", ca_err_get()->message);
    exit(1);
  }
  pid_t pg[MAX_PG_PIDS];
  const size_t n_pg = http ? pg_pids(db, pg, MAX_PG_PIDS) : 0;
  const pid_t side_pkid = http ? pkid : 0;
  const long long ours0 = ours_ticks(side_pkid, pg, n_pg);
  const long long machine0 = machine_ticks();
  const double wall0 = now_s();
  const long long ticks0 = http && pkid > 0 ? proc_cpu_ticks(pkid) : -1;
  double pkictl_done = 0, pkictl_counted = 0, pkictl_cpu = 0;
  if (c->kind == CASE_PKICTL) {
    pkictl_done = pkictl_slice(c->opts, ps, &pkictl_counted, &pkictl_cpu);
  } else {
    run_threads(http ? http_thread : inprocess_thread, args, c->threads);
  }
  const long long ticks1 = ticks0 >= 0 ? proc_cpu_ticks(pkid) : -1;
  const double tck = (double)sysconf(_SC_CLK_TCK);
  const double ours =
      (double)(ours_ticks(side_pkid, pg, n_pg) - ours0) / tck + pkictl_cpu;
  c->ours_last = ours;
  c->others_last = (double)(machine_ticks() - machine0) / tck - ours;
  c->wall_last = now_s() - wall0;
  double done = 0;
  c->cpu_last = c->made_last = 0;
  if (ticks0 >= 0 && ticks1 >= ticks0) {
    c->cpu_last = (double)(ticks1 - ticks0) / (double)sysconf(_SC_CLK_TCK);
  }
  if (c->kind == CASE_PKICTL) {
    free(args);
    c->made_last = pkictl_done;
    *counted = pkictl_counted;
    return pkictl_done;
  }
  for (int i = 0; i < c->threads; i++) {
    if (args[i].failed) {
      fprintf(stderr, "bench: %s run failed\n", case_mode(c));
      exit(1);
    }
    done += args[i].done;
    if (!http) {
      c->cpu_last += args[i].cpu;
      c->made_last += args[i].done;
    } else {
      c->made_last += args[i].made;
    }
    for (size_t k = 0; k < args[i].lat.n; k++) {
      sample_add(&c->lat, args[i].lat.ms[k]);
    }
    free(args[i].lat.ms);
  }
  free(args);
  *counted = seconds;
  return done;
}

// above_one is whether |ratio|, as printed (three decimals), is above 1.0:
// the text is what a reader of the line compares.
static int above_one(double ratio) {
  char text[32];
  snprintf(text, sizeof(text), "%.3f", ratio);
  return strtod(text, NULL) > 1.0;
}

// broken_list writes into |out| the JSON array of the names of |n| ratios
// (|names|, |ratios|) that are above 1.0: the case cannot have done its work
// faster or with less CPU than the limit, so such a run is a broken
// measurement (another process slowed the limit's slices), not a result.
// |out| holds every name (the callers' four take under 80 bytes).
static void broken_list(char *out, size_t out_len, const char *const *names,
                        const double *ratios, size_t n) {
  const char *sep = "";
  snprintf(out, out_len, "[");
  for (size_t i = 0; i < n; i++) {
    if (above_one(ratios[i])) {
      const size_t used = strlen(out);
      snprintf(out + used, out_len - used, "%s\"%s\"", sep, names[i]);
      sep = ",";
    }
  }
  const size_t used = strlen(out);
  snprintf(out + used, out_len - used, "]");
}

static void print_case(const pair_state *ps, bench_case *c, int workers) {
  double p50, p99;
  merge_percentiles(&c->lat, 1, &p50, &p99);
  const double rate = c->seconds > 0 ? c->done / c->seconds : 0;
  const double limit = c->seconds > 0 ? c->limit_sum / c->seconds : 0;
  const char *cpu_name = c->kind >= CASE_HTTP ? "pkid_cpu_ratio" : "cpu_ratio";
  const char *const names[] = {"ratio", "slice_max_ratio", cpu_name,
                               "system_cpu_ratio"};
  const double ratios[] = {limit > 0 ? rate / limit : 0, c->max_ratio,
                           c->cpu > 0 ? c->limit_cpu / c->cpu : 0,
                           c->ours > 0 ? c->limit_cpu / c->ours : 0};
  char broken[128];
  broken_list(broken, sizeof(broken), names, ratios, 4);
  printf(
      "{\"bench\":\"issue\",\"mode\":\"%s\",\"csr_key\":\"%s\","
      "\"issuer_key\":\"%s\",\"threads\":%d,\"connections\":%d,"
      "\"batch\":%zu,\"slices\":%d,\"seconds\":%.2f,\"certs_per_s\":%.1f,"
      "\"limit_per_s\":%.1f,\"ratio\":%.3f,\"slice_min_ratio\":%.3f,"
      "\"slice_max_ratio\":%.3f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
      "\"%s\":%.3f,\"%s\":%.1f,\"system_cpu_ratio\":%.3f,"
      "\"others_cpu_share\":%.3f,\"broken\":%s,\"names\":%zu,"
      "\"names_new\":%s}\n",
      case_mode(c), ps->p->csr_key, ps->p->issuer_key, workers,
      c->kind >= CASE_HTTP ? c->threads : 0, c->batch, c->slices, c->seconds,
      rate, limit, ratios[0], c->min_ratio, ratios[1], p50, p99, cpu_name,
      ratios[2],
      c->kind >= CASE_HTTP ? "pkid_cpu_us_per_cert" : "cpu_us_per_cert",
      c->made > 0 ? c->cpu / c->made * 1e6 : 0, ratios[3],
      c->wall > 0
          ? c->others / (c->wall * (double)sysconf(_SC_NPROCESSORS_ONLN))
          : 0,
      broken,
      c->kind >= CASE_HTTP && ps->named_n > 0 ? ps->named_n : (size_t)CSR_POOL,
      c->kind == CASE_PKICTL && c->opts->names == NAMES_NEW ? "true" : "false");
  fflush(stdout);
}

// run_interleaved measures the limit and the |n| cases of |ps| in rounds:
// limit, case 1, limit, case 2, ..., limit, then the next round. Each slice
// of a case is compared with the mean of the two limit slices around it, so
// a disturbance by another process on a shared machine moves the case and
// its limit alike; a case's limit is the mean of its slices' limits,
// weighted by their length.
static void run_interleaved(pair_state *ps, const options *opts,
                            bench_case *cases, size_t n) {
  const double slice = opts->seconds / opts->rounds;
  const double limit_slice = slice / 2;
  const double warmup = opts->warmup >= 0 ? opts->warmup
                        : slice / 4 < 0.3 ? slice / 4
                                          : 0.3;
  double raw_total = 0, raw_min = 0, raw_max = 0;
  int raw_n = 0;
  double before = 0, before_cpu = 0;
  for (int r = 0; r <= opts->rounds; r++) {
    for (size_t k = 0; k < (n > 0 ? n : 1); k++) {
      const int last = r == opts->rounds;
      // The limit slice before case k of round r (and after the one before).
      double cpu_per_cert;
      const double rate =
          measure_raw(ps, limit_slice, opts->threads, &cpu_per_cert);
      print_limit_slice(ps, opts->threads, r,
                        last || n == 0 ? "-" : case_mode(&cases[k]),
                        last || n == 0 ? 0 : cases[k].batch, limit_slice, rate);
      raw_total += rate;
      raw_min = raw_n == 0 || rate < raw_min ? rate : raw_min;
      raw_max = raw_n == 0 || rate > raw_max ? rate : raw_max;
      raw_n++;
      if (raw_n > 1 && n > 0) {
        // Close the slice of the case run just before this limit slice.
        bench_case *prev = &cases[(k + n - 1) % n];
        const double limit = (before + rate) / 2;
        const double case_rate = prev->done_last / prev->counted_last;
        const double ratio = case_rate / limit;
        prev->limit_sum += limit * prev->counted_last;
        prev->limit_cpu += (before_cpu + cpu_per_cert) / 2 * prev->made_last;
        prev->cpu += prev->cpu_last;
        prev->made += prev->made_last;
        prev->ours += prev->ours_last;
        prev->others += prev->others_last;
        prev->wall += prev->wall_last;
        prev->min_ratio = prev->slices == 0 || ratio < prev->min_ratio
                              ? ratio
                              : prev->min_ratio;
        prev->max_ratio = prev->slices == 0 || ratio > prev->max_ratio
                              ? ratio
                              : prev->max_ratio;
        prev->slices++;
      }
      before = rate;
      before_cpu = cpu_per_cert;
      if (last || n == 0) {
        break;
      }
      bench_case *c = &cases[k];
      c->done_last = run_case_slice(ps, c, slice, warmup, opts->pkid_pid,
                                    opts->pkid_db, &c->counted_last);
      c->done += c->done_last;
      c->seconds += c->counted_last;
    }
  }
  const pair_state *p = ps;
  const double mean = raw_n > 0 ? raw_total / raw_n : 0;
  printf(
      "{\"bench\":\"issue\",\"mode\":\"raw\",\"csr_key\":\"%s\","
      "\"issuer_key\":\"%s\",\"threads\":%d,\"batch\":1,\"slices\":%d,"
      "\"certs_per_s\":%.1f,\"limit_per_s\":%.1f,\"ratio\":1.000,"
      "\"slice_min_per_s\":%.1f,\"slice_max_per_s\":%.1f,\"p50_ms\":0,"
      "\"p99_ms\":0}\n",
      p->p->csr_key, p->p->issuer_key, opts->threads, raw_n, mean, mean,
      raw_min, raw_max);
  for (size_t k = 0; k < n; k++) {
    print_case(ps, &cases[k], opts->threads);
  }
}

// --- pkid ---

// The directory of the pkid running (one at a time): its data directory,
// ready file, log and TLS files, removed when it stops.
static char g_work[] = "/tmp/pki-issue-bench.XXXXXX";

// start_pkid starts pkid (tests/integration/harness.h) on a database of
// its own, with |workers| signing threads and |extra| flags.
static int start_pkid(const options *opts, int workers, const char *keypool,
                      it_db *db, it_pkid *pkid) {
  char dir[sizeof(g_work) + 8], threads[16];
  memcpy(g_work + sizeof(g_work) - 7, "XXXXXX", 6);
  if (mkdtemp(g_work) == NULL) {
    fprintf(stderr, "bench: mkdtemp: %s\n", strerror(errno));
    return 0;
  }
  it_db_create_on(opts->database, db);
  snprintf(dir, sizeof(dir), "%s/pkid", g_work);
  snprintf(threads, sizeof(threads), "%d", workers);
  const char *extra[] = {
      "--workers", threads, "--ocsp-url", "http://ocsp.example.com/",
      "--keypool", keypool, NULL};
  if (!it_pkid_start(pkid, db, dir, extra)) {
    it_db_drop(db);
    proc_remove_tree("bench", g_work);
    return 0;
  }
  return 1;
}

static void stop_pkid(it_db *db, it_pkid *pkid) {
  (void)it_pkid_stop(pkid);
  it_db_drop(db);
  proc_remove_tree("bench", g_work);
}

// --- Server-side key generation ---

typedef struct keygen_kind {
  const char *key;      // key type asked for
  const char *profile;  // a profile of its family
  int requests;         // as many as the pool holds of it
} keygen_kind;

static const keygen_kind kKeygenKinds[] = {
    {"RSA-2048", "tomcat", 8},
    {"RSA-3072", "tomcat", 2},
    {"EC-P256", "tomcat-ECDSA", 16},
    {"EC-P384", "tomcat-ECDSA", 8},
};
static const char kKeygenPool[] =
    "RSA-2048=8,RSA-3072=2,RSA-4096=0,EC-P256=16,EC-P384=8";

// pool_full waits until every kind of kKeygenPool is ready in |pkid|.
static int pool_full(const it_pkid *pkid) {
  pki_client *client = it_client(pkid);
  int full = 0;
  for (int i = 0; i < 1200 && !full; i++) {
    pki_reply reply;
    full = 1;
    if (!pki_client_call(client, "GET", "/metrics", NULL, NULL, 0, &reply) ||
        reply.body == NULL) {
      full = 0;
    }
    for (size_t k = 0;
         full && k < sizeof(kKeygenKinds) / sizeof(kKeygenKinds[0]); k++) {
      char needle[96];
      snprintf(needle, sizeof(needle), "pki_keypool_ready{kind=\"%s\"} %d\n",
               kKeygenKinds[k].key, kKeygenKinds[k].requests);
      full = strstr((const char *)reply.body, needle) != NULL;
    }
    pki_reply_cleanup(&reply);
    if (!full) {
      usleep(100 * 1000);
    }
  }
  pki_client_free(client);
  return full;
}

#define KEYGEN_KINDS (sizeof(kKeygenKinds) / sizeof(kKeygenKinds[0]))

// thread_nice returns the nice value of thread |tid| of |pid| (field 19 of
// its stat line), or 0.
static int thread_nice(pid_t pid, const char *tid) {
  char path[96], line[1024];
  snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", (int)pid, tid);
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    return 0;
  }
  const int got = fgets(line, sizeof(line), f) != NULL;
  fclose(f);
  const char *p = got ? strrchr(line, ')') : NULL;
  long nice = 0;
  // After ")": state (3), then fields 4 to 18, then nice (19).
  if (p != NULL && sscanf(p + 2,
                          "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
                          "%*u %*u %*d %*d %*d %ld",
                          &nice) != 1) {
    nice = 0;
  }
  return (int)nice;
}

// request_cpu_ns is the CPU time (ns, /proc/PID/task/TID/schedstat) of
// pkid's threads that serve requests: every thread but the key pool's
// filler, which runs at nice 19. Load on the machine delays a request but
// does not change this figure.
static long long request_cpu_ns(pid_t pid) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
  DIR *dir = opendir(path);
  long long total = 0;
  for (struct dirent *e; dir != NULL && (e = readdir(dir)) != NULL;) {
    if (e->d_name[0] == '.' || thread_nice(pid, e->d_name) == 19) {
      continue;
    }
    char sched[96];
    snprintf(sched, sizeof(sched), "/proc/%d/task/%s/schedstat", (int)pid,
             e->d_name);
    FILE *f = fopen(sched, "r");
    long long ns = 0;
    if (f != NULL && fscanf(f, "%lld", &ns) == 1) {
      total += ns;
    }
    if (f != NULL) {
      fclose(f);
    }
  }
  if (dir != NULL) {
    closedir(dir);
  }
  return total;
}

// keygen_run sends the requests of every kind one after the other and adds
// their latency to |lat| (one set per kind), the count of keys that came
// from the pool to |from_pool|, and pkid's CPU time for them (ns, the key
// pool's filler left out) to |cpu_ns|.
static void keygen_run(const it_pkid *pkid, samples *lat, int *from_pool,
                       long long *cpu_ns) {
  pki_client *client = it_client(pkid);
  for (size_t k = 0; k < KEYGEN_KINDS; k++) {
    const keygen_kind *kind = &kKeygenKinds[k];
    const long long cpu0 = request_cpu_ns(pkid->pid);
    for (int i = 0; i < kind->requests; i++) {
      Pki__V1__Subject subject = PKI__V1__SUBJECT__INIT;
      char cn[64];
      snprintf(cn, sizeof(cn), "key%d.example.com", i);
      subject.common_name = cn;
      Pki__V1__GenerateKeyRequest req = PKI__V1__GENERATE_KEY_REQUEST__INIT;
      req.profile = (char *)kind->profile;
      req.subject = &subject;
      req.key_type = (char *)kind->key;
      const size_t len = pki__v1__generate_key_request__get_packed_size(&req);
      uint8_t *body = malloc(len + 1);
      pki__v1__generate_key_request__pack(&req, body);
      const double t = now_s();
      pki_reply reply;
      if (!pki_client_call(client, "POST", "/v1/keys:generate",
                           "application/x-protobuf", body, len, &reply) ||
          reply.status != 200) {
        fprintf(stderr, "bench: keys:generate failed\n");
        exit(1);
      }
      sample_add(&lat[k], (now_s() - t) * 1000);
      Pki__V1__GenerateKeyResponse *resp =
          pki__v1__generate_key_response__unpack(NULL, reply.body_len,
                                                 reply.body);
      from_pool[k] += resp != NULL && resp->key_from_pool;
      pki__v1__generate_key_response__free_unpacked(resp, NULL);
      pki_reply_cleanup(&reply);
      free(body);
    }
    cpu_ns[k] += request_cpu_ns(pkid->pid) - cpu0;
  }
  pki_client_free(client);
}

// keygen_print prints the latency of each kind over |rounds| runs.
static void keygen_print(const char *source, int rounds, samples *lat,
                         const int *from_pool, const long long *cpu_ns) {
  for (size_t k = 0; k < KEYGEN_KINDS; k++) {
    double p50, p99;
    const size_t requests = lat[k].n;
    const double cpu_us =
        requests > 0 ? (double)cpu_ns[k] / 1e3 / (double)requests : 0;
    merge_percentiles(&lat[k], 1, &p50, &p99);
    lat[k] = (samples){0};  // freed: ready for the next run
    printf(
        "{\"bench\":\"keygen\",\"key\":\"%s\",\"source\":\"%s\","
        "\"rounds\":%d,\"requests\":%zu,\"from_pool\":%d,\"p50_ms\":%.3f,"
        "\"p99_ms\":%.3f,\"pkid_cpu_us_per_call\":%.1f}\n",
        kKeygenKinds[k].key, source, rounds, requests, from_pool[k], p50, p99,
        cpu_us);
  }
  fflush(stdout);
}

// measure_keygen runs the pool --keygen-rounds times, waiting for it to
// fill again before each run, so that every request draws a ready key;
// then one run with the pool disabled (keys generated on demand).
static int measure_keygen(const options *opts) {
  it_db db;
  it_pkid pkid = {0};
  samples lat[KEYGEN_KINDS];
  int from_pool[KEYGEN_KINDS];
  long long cpu_ns[KEYGEN_KINDS];
  memset(lat, 0, sizeof(lat));
  memset(from_pool, 0, sizeof(from_pool));
  memset(cpu_ns, 0, sizeof(cpu_ns));
  if (!start_pkid(opts, opts->threads, kKeygenPool, &db, &pkid)) {
    return 0;
  }
  int full = 1;
  for (int r = 0; full && r < opts->keygen_rounds; r++) {
    full = pool_full(&pkid);
    if (full) {
      keygen_run(&pkid, lat, from_pool, cpu_ns);
    }
  }
  stop_pkid(&db, &pkid);
  if (!full) {
    fprintf(stderr, "bench: the key pool did not fill\n");
    for (size_t k = 0; k < KEYGEN_KINDS; k++) {
      free(lat[k].ms);
    }
    return 0;
  }
  keygen_print("pool", opts->keygen_rounds, lat, from_pool, cpu_ns);
  if (!start_pkid(opts, opts->threads, "none", &db, &pkid)) {
    return 0;
  }
  memset(from_pool, 0, sizeof(from_pool));
  memset(cpu_ns, 0, sizeof(cpu_ns));
  keygen_run(&pkid, lat, from_pool, cpu_ns);
  stop_pkid(&db, &pkid);
  keygen_print("on-demand", 1, lat, from_pool, cpu_ns);
  return 1;
}

// --- main ---

static int wanted(const char *list, const char *name) {
  if (list == NULL) {
    return 1;
  }
  const size_t n = strlen(name);
  for (const char *p = list; (p = strstr(p, name)) != NULL; p += n) {
    if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ',')) {
      return 1;
    }
  }
  return 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: bazel run -c opt //bench:issue -- [--seconds S (per case)] "
          "[--rounds N (slices per case)]\n"
          "       [--warmup S (HTTP, per slice)] [--mode "
          "all|raw|inprocess|http|pkictl|keygen]\n"
          "       [--threads N] [--database URL] [--pairs "
          "RSA-2048,EC-P256,RSA-3072,EC-P384]\n"
          "       [--batches 1,10,100,1000] [--server URL (a running "
          "pkid)]\n"
          "       [--keygen-rounds N (keygen: runs of the full pool)]\n"
          "       [--pkictl-csrs N (pkictl: CSR files, default 20000)] "
          "[--work DIR (pkictl: default /dev/shm)]\n"
          "       [--names distinct|repeated|new (http and pkictl: a common "
          "name per CSR, the default, the 32 CSRs repeated, or, pkictl "
          "only, new names in every slice)]\n");
}

// add_cases lists the cases of one pair for |opts|. HTTP cases get their
// clients now: each keeps its connection across the slices.
static size_t add_cases(const options *opts, const it_pkid *pkid, int inprocess,
                        int http, int pkictl, bench_case *out) {
  static const size_t kBatches[] = {1, 10, 100, 1000};
  size_t n = 0;
  if (pkictl) {
    // pkictl's defaults: 4 requests in flight, 1,000 CSRs each.
    out[n++] = (bench_case){
        .kind = CASE_PKICTL, .opts = opts, .batch = 1000, .threads = 4};
  }
  if (inprocess) {
    out[n++] = (bench_case){
        .kind = CASE_INPROCESS, .batch = 1, .threads = opts->threads};
    out[n++] = (bench_case){
        .kind = CASE_SHARED_KEY, .batch = 1, .threads = opts->threads};
  }
  for (size_t b = 0; http && b < sizeof(kBatches) / sizeof(kBatches[0]); b++) {
    char name[16];
    snprintf(name, sizeof(name), "%zu", kBatches[b]);
    if (!wanted(opts->batches, name)) {
      continue;
    }
    bench_case *c = &out[n++];
    *c = (bench_case){.kind = CASE_HTTP,
                      .batch = kBatches[b],
                      .threads = connections_for(kBatches[b])};
    c->clients = calloc((size_t)c->threads, sizeof(pki_client *));
    for (int i = 0; c->clients != NULL && i < c->threads; i++) {
      c->clients[i] = it_client(pkid);
    }
  }
  return n;
}

static void free_cases(bench_case *cases, size_t n) {
  for (size_t k = 0; k < n; k++) {
    for (int i = 0; cases[k].clients != NULL && i < cases[k].threads; i++) {
      pki_client_free(cases[k].clients[i]);
    }
    free(cases[k].clients);
    free(cases[k].lat.ms);
  }
}

int main(int argc, char **argv) {
  options opts = {.seconds = 5,
                  .rounds = 0,
                  .warmup = -1,
                  .mode = "all",
                  .keygen_rounds = 1,
                  .pkictl_csrs = 20000,
                  .names = NAMES_DISTINCT};
  struct stat shm;
  opts.work =
      stat("/dev/shm", &shm) == 0 && S_ISDIR(shm.st_mode) ? "/dev/shm" : "/tmp";
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  opts.threads = cpus > 0 ? (int)cpus : 1;
  opts.database = getenv("DATABASE_URL");
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) {
      usage();
      return 2;
    }
    if (strcmp(argv[i], "--seconds") == 0) {
      opts.seconds = atof(argv[++i]);
    } else if (strcmp(argv[i], "--rounds") == 0) {
      opts.rounds = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--warmup") == 0) {
      opts.warmup = atof(argv[++i]);
    } else if (strcmp(argv[i], "--threads") == 0) {
      opts.threads = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--mode") == 0) {
      opts.mode = argv[++i];
    } else if (strcmp(argv[i], "--database") == 0) {
      opts.database = argv[++i];
    } else if (strcmp(argv[i], "--pairs") == 0) {
      opts.pairs = argv[++i];
    } else if (strcmp(argv[i], "--batches") == 0) {
      opts.batches = argv[++i];
    } else if (strcmp(argv[i], "--server") == 0) {
      opts.server = argv[++i];
    } else if (strcmp(argv[i], "--keygen-rounds") == 0) {
      opts.keygen_rounds = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--pkictl-csrs") == 0) {
      opts.pkictl_csrs = strtoul(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--work") == 0) {
      opts.work = argv[++i];
    } else if (strcmp(argv[i], "--names") == 0 && i + 1 < argc &&
               (strcmp(argv[i + 1], "distinct") == 0 ||
                strcmp(argv[i + 1], "repeated") == 0 ||
                strcmp(argv[i + 1], "new") == 0)) {
      i++;
      opts.names = strcmp(argv[i], "distinct") == 0 ? NAMES_DISTINCT
                   : strcmp(argv[i], "new") == 0    ? NAMES_NEW
                                                    : NAMES_REPEATED;
    } else {
      usage();
      return 2;
    }
  }
  const int pkictl = strcmp(opts.mode, "pkictl") == 0;
  if (opts.rounds == 0) {
    // About one slice per second of each case; pkictl: three whole runs.
    opts.rounds = pkictl               ? 3
                  : opts.seconds < 1.5 ? 1
                                       : (int)(opts.seconds + 0.5);
  }
  if (opts.seconds <= 0 || opts.threads <= 0 || opts.rounds < 0 ||
      opts.keygen_rounds <= 0 || opts.keygen_rounds > 1000 ||
      opts.pkictl_csrs == 0 || opts.pkictl_csrs > 10000000) {
    usage();
    return 2;
  }
  if (opts.names == NAMES_NEW && !pkictl) {
    fprintf(stderr, "bench: --names new is for --mode pkictl\n");
    return 2;
  }
  if (opts.names == NAMES_NEW &&
      opts.pkictl_csrs * (size_t)opts.rounds > NODE_NAMES) {
    fprintf(stderr, "bench: --names new has %d names for all the slices\n",
            NODE_NAMES);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  const int all = strcmp(opts.mode, "all") == 0;
  const int http = all || pkictl || strcmp(opts.mode, "http") == 0;
  const int keygen = all || strcmp(opts.mode, "keygen") == 0;
  const int inprocess = all || strcmp(opts.mode, "inprocess") == 0;
  if ((http || keygen) && opts.server == NULL &&
      (opts.database == NULL || opts.database[0] == '\0')) {
    fprintf(stderr,
            "bench: http mode needs --database (bench/issue.sh "
            "starts a throwaway PostgreSQL)\n");
    return 2;
  }
  it_db db;
  it_pkid pkid;
  memset(&pkid, 0, sizeof(pkid));
  if (opts.server != NULL) {
    it_pkid_external(&pkid, opts.server);
  } else if (http && !start_pkid(&opts, opts.threads, "none", &db, &pkid)) {
    return 1;
  } else if (http) {
    opts.pkid_pid = pkid.pid;
    opts.pkid_db = &db;
  }
  const int pairs = strcmp(opts.mode, "keygen") != 0;
  for (size_t k = 0; pairs && k < PAIR_COUNT; k++) {
    if (!wanted(opts.pairs, kPairs[k].csr_key)) {
      continue;
    }
    pair_state ps;
    if (!pair_setup(&kPairs[k], &ps)) {
      fprintf(stderr, "bench: cannot prepare %s: %s\n", kPairs[k].csr_key,
              ca_err_get()->message);
      return 1;
    }
    opts.pkid = &pkid;
    if (http && opts.names != NAMES_REPEATED &&
        !pair_name_csrs(&ps, 0, pkictl ? opts.pkictl_csrs : HTTP_NAMES)) {
      fprintf(stderr, "bench: cannot make %s CSRs: %s\n", kPairs[k].csr_key,
              ca_err_get()->message);
      pair_cleanup(&ps);
      return 1;
    }
    if (pkictl && !pkictl_prepare(&opts, &ps)) {
      pkictl_cleanup(&opts, &ps);
      return 1;
    }
    bench_case cases[7];
    const size_t n =
        add_cases(&opts, &pkid, inprocess, http && !pkictl, pkictl, cases);
    run_interleaved(&ps, &opts, cases, n);
    free_cases(cases, n);
    if (pkictl) {
      pkictl_cleanup(&opts, &ps);
    }
    pair_cleanup(&ps);
  }
  if (http && opts.server == NULL) {
    stop_pkid(&db, &pkid);
  }
  if (keygen && opts.server == NULL && !measure_keygen(&opts)) {
    return 1;
  }
  return 0;
}
