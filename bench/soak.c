// The soak benchmark: a mixed load on one pkid for --minutes M — single
// issuance, small batches, revocation of a share of what was issued and
// OCSP queries about good and revoked certificates — printing, every
// minute, the throughput of each kind, the errors, and pkid's resident
// memory and CPU time; at the end a summary that says whether the memory
// stayed flat after warm-up, next to the raw crypto limit measured in the
// same run.
//
// bazel run -c opt //bench:soak -- --minutes M
//
// DESIGN
//
// Threads of the load, each with a libcurl handle of its own made before
// the clock starts, closed loop (one request outstanding each):
//   issue   (--issue-threads)  POST /v1/certificates:issue, one CSR a call
//   batch   (--batch-threads)  POST /v1/certificates:batchIssue, --batch CSRs
//   revoke  (1)                POST /v1/certificates/{serial}:revoke of every
//                              --revoke-every-th certificate issued
//   ocsp    (--ocsp-threads)   POST to the OCSP listener, paced at --ocsp-per-s
//                              in all (the mix below)
// and the main thread, which samples pkid's VmRSS and CPU every second and
// prints one JSON line per minute. The CSRs (RSA-2048, profile tomcat) and
// the request bodies are made once, before the clock starts.
//
// Shared state: rings of serials under one mutex. `known` holds the first
// KNOWN_GOOD good certificates of the run and `known_revoked` the first
// KNOWN_REVOKED revoked ones: the fixed population a deployment's OCSP
// clients ask about again and again. `recent` and `recent_revoked` hold the
// latest good and revoked certificates; `pending` those picked for
// revocation, in order, for the revoker. A certificate is picked for
// revocation when its issuance is answered, before any query can ask about
// it, so no query races its revocation: what the bench expects is what
// pkid must answer (ARCHITECTURE.md invariant 6: a revocation is seen by OCSP
// at once on the node that took it). When the revoker falls behind and
// `pending` is full, the certificate stays good (counted as revoke_skipped).
//
// The OCSP mix, of every 8 queries: 5 about a known good certificate and 1
// about a known revoked one, without a nonce (answered from the responder's
// cache of pre-signed responses), 1 about a recent good certificate and 1
// about a recent revoked one with a nonce (signed live, from the database
// or the cache, never cached): a certificate issued or revoked a moment ago
// is checked without each one adding an entry to the responder's cache, so
// the cache holds a bounded population, filled during the warm-up, and the
// RSS after it shows what the load leaks, not how full the cache is (its
// bound, 100,000 responses, would take minutes to reach).
//
// Every answer is checked: HTTP 200 and a certificate for each issuance,
// 200 for each revocation, and for each OCSP query a successful response
// about the CertID asked with the expected certStatus and the nonce echoed
// (its signature verified for one in 64); anything else counts as an error.
// 503 QUEUE_FULL is pkid's designed back-pressure: it is counted apart
// (queue_full) and retried.
//
// Memory: pkid's VmRSS is sampled every second. The warm-up is the first
// minute; its value is the median of the samples of its second half (the
// responder has cached the known populations by then). rss_growth_kb is
// the highest per-minute median of minutes 2..M less that value, and
// rss_flat says whether the growth is under --rss-threshold-pct of it (5 by
// default: a leak of a few bytes per request, at hundreds of requests per
// second, exceeds that within minutes). Medians, because a single sample
// may catch a buffer pkid holds for a moment only (a group commit's COPY, a
// CRL being rebuilt); rss_max_kb still shows those peaks.
#include <errno.h>
#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/client/client.h"
#include "bench/ocsp_wire.h"
#include "bench/proc_stat.h"
#include "ca/issue/authority.h"
#include "ca/issue/issue.h"
#include "ca/issue/issuer_keys.h"
#include "ca/x509/csr.h"
#include "ca/x509/signer.h"
#include "ca/x509/x509.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"

#define CSR_POOL 64
// Serials kept in each ring.
#define RING_SIZE 4096
// The populations asked about from the cache, small enough that the
// responder has cached them before the warm-up ends even at a tenth of the
// default OCSP rate: 100/s, 5/8 of it about known good certificates, asks
// 3750 times about 1024 certificates in a minute, leaving exp(-3750/1024),
// 3%, unasked; at 500/s none. (heaptrack showed a population of 4096 still
// being cached after the warm-up on a loaded machine: RSS growth that was
// no leak.)
#define KNOWN_GOOD 1024
#define KNOWN_REVOKED 64
// INTEGER contents of a serial: 20 octets at most (RFC 5280 4.1.2.2), and a
// leading zero.
#define SERIAL_MAX 21
// One OCSP answer in VERIFY_EVERY has its signature verified.
#define VERIFY_EVERY 64
// Error messages printed to stderr; the rest are only counted.
#define ERRORS_SHOWN 20
#define MAX_MINUTES 1440

static const char kProfile[] = "tomcat";
static const char kCsrKey[] = "RSA-2048";
static const char kCaKey[] = "RSA-2048";

typedef struct options {
  int minutes;
  double minute_s;  // seconds in a "minute": 60, shorter for a quick check
  int issue_threads;
  int batch_threads;
  int batch;
  int revoke_every;
  int ocsp_threads;
  double ocsp_per_s;  // 0: unpaced
  int workers;        // pkid's signing threads, and the limit's threads
  double limit_s;     // seconds of each raw crypto measurement
  double rss_threshold_pct;
  // pkid --crl-shards: the revoked certificates' CRLs stay small; the
  // CA-wide CRL still lists them all.
  int crl_shards;
  // pkid --crl-wide-interval (0: pkid's default): how often the CA-wide CRL,
  // which grows with every revocation of the run, is rebuilt for them.
  int crl_wide_interval_s;
  const char *database;
} options;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s) {
  if (s <= 0) {
    return;
  }
  struct timespec ts = {.tv_sec = (time_t)s,
                        .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// --- Counters ---

typedef struct counters {
  atomic_ullong issued;          // by :issue
  atomic_ullong batch_certs;     // by :batchIssue
  atomic_ullong batch_calls;     // :batchIssue requests answered
  atomic_ullong revoked;         // :revoke answered 200
  atomic_ullong revoke_skipped;  // picked while the revoker was behind
  atomic_ullong ocsp_good;       // answered good, as expected
  atomic_ullong ocsp_revoked;    // answered revoked, as expected
  atomic_ullong ocsp_live;       // of which asked with a nonce
  atomic_ullong ocsp_verified;   // of which the signature was verified
  atomic_ullong revoke_us;       // time the revocations took

  atomic_ullong queue_full;  // 503 QUEUE_FULL, retried
  atomic_ullong errors;
} counters;

typedef struct snapshot {
  unsigned long long issued, batch_certs, batch_calls, revoked, revoke_skipped,
      ocsp_good, ocsp_revoked, ocsp_live, ocsp_verified, revoke_us, queue_full,
      errors;
} snapshot;

static counters g_count;
static atomic_int g_stop;
// Set between two minutes while the raw limit is measured (run_load): the
// load threads hold, so that the limit and the load see the same machine.
static atomic_int g_pause;

// running holds a load thread while the limit is measured, and says whether
// to go on.
static int running(void) {
  while (atomic_load(&g_pause) && !atomic_load(&g_stop)) {
    usleep(2000);
  }
  return !atomic_load(&g_stop);
}

static void snapshot_take(snapshot *out) {
  out->issued = atomic_load(&g_count.issued);
  out->batch_certs = atomic_load(&g_count.batch_certs);
  out->batch_calls = atomic_load(&g_count.batch_calls);
  out->revoked = atomic_load(&g_count.revoked);
  out->revoke_skipped = atomic_load(&g_count.revoke_skipped);
  out->ocsp_good = atomic_load(&g_count.ocsp_good);
  out->ocsp_revoked = atomic_load(&g_count.ocsp_revoked);
  out->ocsp_live = atomic_load(&g_count.ocsp_live);
  out->ocsp_verified = atomic_load(&g_count.ocsp_verified);
  out->revoke_us = atomic_load(&g_count.revoke_us);
  out->queue_full = atomic_load(&g_count.queue_full);
  out->errors = atomic_load(&g_count.errors);
}

static void report_error(const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

// report_error counts an error and prints the first ERRORS_SHOWN.
static void report_error(const char *kind, const char *fmt, ...) {
  const unsigned long long n = atomic_fetch_add(&g_count.errors, 1);
  if (n >= ERRORS_SHOWN) {
    return;
  }
  char text[512];
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  fprintf(stderr, "soak: error (%s): %s%s\n", kind, text,
          n + 1 == ERRORS_SHOWN ? " (further errors are only counted)" : "");
}

// --- Serials ---

typedef struct serial {
  uint8_t len;
  uint8_t bytes[SERIAL_MAX];
} serial;

typedef struct ring {
  serial items[RING_SIZE];
  size_t head;  // the next slot written
  size_t count;
} ring;

// The rings; one mutex: they are touched once per request, far less often
// than pkid takes to answer one.
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static ring g_known, g_recent, g_pending, g_known_revoked, g_recent_revoked;
static atomic_ullong g_seq;  // certificates issued, for the revocation pick

// ring_push adds |s|, over the oldest entry when full.
static void ring_push(ring *r, const serial *s) {
  r->items[r->head] = *s;
  r->head = (r->head + 1) % RING_SIZE;
  if (r->count < RING_SIZE) {
    r->count++;
  }
}

// ring_pick copies a random entry of |r|; 0 when empty.
static int ring_pick(ring *r, uint64_t random, serial *out) {
  if (r->count == 0) {
    return 0;
  }
  const size_t back = 1 + (size_t)(random % r->count);
  *out = r->items[(r->head + RING_SIZE - back) % RING_SIZE];
  return 1;
}

// ring_pop takes the oldest entry of |r|; 0 when empty.
static int ring_pop(ring *r, serial *out) {
  if (r->count == 0) {
    return 0;
  }
  *out = r->items[(r->head + RING_SIZE - r->count) % RING_SIZE];
  r->count--;
  return 1;
}

// record_issued files the certificate |der| answered by pkid: picked for
// revocation (one in |revoke_every|) or good for good: recent, and known
// while that population is not full.
static int record_issued(const uint8_t *der, size_t len, int revoke_every) {
  ocsp_wire_cert cert;
  if (!ocsp_wire_cert_parse(der, len, &cert) ||
      CBS_len(&cert.serial) > SERIAL_MAX || CBS_len(&cert.serial) == 0) {
    return 0;
  }
  serial s;
  s.len = (uint8_t)CBS_len(&cert.serial);
  memcpy(s.bytes, CBS_data(&cert.serial), s.len);
  const unsigned long long n = atomic_fetch_add(&g_seq, 1);
  const int pick = revoke_every > 0 && n % (unsigned)revoke_every == 0;
  pthread_mutex_lock(&g_lock);
  const int pending = pick && g_pending.count < RING_SIZE;
  if (pending) {
    ring_push(&g_pending, &s);
  } else {
    ring_push(&g_recent, &s);
    if (g_known.count < KNOWN_GOOD) {
      ring_push(&g_known, &s);
    }
  }
  pthread_mutex_unlock(&g_lock);
  if (pick && !pending) {
    // The revoker is RING_SIZE behind: this one stays good.
    atomic_fetch_add(&g_count.revoke_skipped, 1);
  }
  return 1;
}

// xorshift64*: the picks need spread, not secrecy.
static uint64_t next_random(uint64_t *state) {
  uint64_t x = *state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return x * 0x2545F4914F6CDD1Dull;
}

static uint64_t random_seed(void) {
  uint64_t seed = 0;
  while (seed == 0 && RAND_bytes((uint8_t *)&seed, sizeof(seed))) {
  }
  return seed != 0 ? seed : 88172645463325252ull;
}

// --- Requests, made before the clock starts ---

typedef struct body {
  uint8_t *data;
  size_t len;
} body;

typedef struct fixture {
  uint8_t *csrs[CSR_POOL];
  size_t csr_lens[CSR_POOL];
  body singles[CSR_POOL];  // IssueRequest of each CSR
  body batches[CSR_POOL];  // BatchIssueRequest of --batch CSRs from each
  ocsp_wire_issuer issuer;
  size_t tbs_len;  // of a real certificate: the raw limit signs as much
} fixture;

static int pack_single(const fixture *fx, size_t i, body *out) {
  Pki__V1__IssueRequest req = PKI__V1__ISSUE_REQUEST__INIT;
  req.profile = (char *)kProfile;
  req.csr.data = fx->csrs[i];
  req.csr.len = fx->csr_lens[i];
  out->len = pki__v1__issue_request__get_packed_size(&req);
  out->data = malloc(out->len);
  if (out->data == NULL) {
    return 0;
  }
  pki__v1__issue_request__pack(&req, out->data);
  return 1;
}

static int pack_batch(const fixture *fx, size_t first, size_t n, body *out) {
  Pki__V1__IssueRequest *items = calloc(n, sizeof(*items));
  Pki__V1__IssueRequest **ptrs = calloc(n, sizeof(*ptrs));
  int ok = 0;
  if (items == NULL || ptrs == NULL) {
    goto err;
  }
  for (size_t i = 0; i < n; i++) {
    pki__v1__issue_request__init(&items[i]);
    items[i].csr.data = fx->csrs[(first + i) % CSR_POOL];
    items[i].csr.len = fx->csr_lens[(first + i) % CSR_POOL];
    ptrs[i] = &items[i];
  }
  Pki__V1__BatchIssueRequest req = PKI__V1__BATCH_ISSUE_REQUEST__INIT;
  req.profile = (char *)kProfile;
  req.n_items = n;
  req.items = ptrs;
  out->len = pki__v1__batch_issue_request__get_packed_size(&req);
  out->data = malloc(out->len);
  if (out->data == NULL) {
    goto err;
  }
  pki__v1__batch_issue_request__pack(&req, out->data);
  ok = 1;
err:
  free(items);
  free(ptrs);
  return ok;
}

static void fixture_cleanup(fixture *fx) {
  for (int i = 0; i < CSR_POOL; i++) {
    OPENSSL_free(fx->csrs[i]);
    free(fx->singles[i].data);
    free(fx->batches[i].data);
  }
  ocsp_wire_issuer_cleanup(&fx->issuer);
}

// first_issuance issues one certificate before the clock starts: it learns
// the issuing CA (for the CertIDs and the signature checks) and the size
// of a real TBSCertificate, and checks that OCSP calls it good.
static int first_issuance(pki_client *api, pki_client *ocsp, fixture *fx) {
  pki_reply reply;
  Pki__V1__IssueResponse *resp = NULL;
  ca_x509 cert;
  ocsp_wire_cert leaf;
  ocsp_wire_query q;
  const char *why = NULL;
  int ok = 0;
  memset(&reply, 0, sizeof(reply));
  if (!pki_client_call(api, "POST", "/v1/certificates:issue",
                       "application/x-protobuf", fx->singles[0].data,
                       fx->singles[0].len, &reply)) {
    fprintf(stderr, "soak: :issue: %s\n", ca_err_get()->message);
    goto err;
  }
  resp = reply.status == 200
             ? pki__v1__issue_response__unpack(NULL, reply.body_len, reply.body)
             : NULL;
  if (resp == NULL || resp->certificate == NULL ||
      resp->certificate->n_chain < 1) {
    char text[512];
    pki_reply_error_text(&reply, text, sizeof(text));
    fprintf(stderr, "soak: :issue answered %ld: %s\n", reply.status, text);
    goto err;
  }
  const ProtobufCBinaryData *der = &resp->certificate->certificate;
  const ProtobufCBinaryData *ca = &resp->certificate->chain[0];
  if (!ocsp_wire_issuer_init(&fx->issuer, ca->data, ca->len) ||
      !ca_x509_parse(&cert, der->data, der->len) ||
      !ocsp_wire_cert_parse(der->data, der->len, &leaf) ||
      !ocsp_wire_query_build(&fx->issuer, CBS_data(&leaf.serial),
                             CBS_len(&leaf.serial), 0, &q)) {
    fprintf(stderr, "soak: cannot read the first certificate\n");
    goto err;
  }
  fx->tbs_len = CBS_len(&cert.tbs);
  pki_reply_cleanup(&reply);
  if (!pki_client_call(ocsp, "POST", "/", "application/ocsp-request", q.der,
                       q.der_len, &reply)) {
    fprintf(stderr, "soak: OCSP: %s\n", ca_err_get()->message);
    goto err;
  }
  if (reply.status != 200 ||
      !ocsp_wire_check(&fx->issuer, &q, OCSP_WIRE_GOOD, 1, reply.body,
                       reply.body_len, &why)) {
    fprintf(stderr, "soak: OCSP about the first certificate: HTTP %ld, %s\n",
            reply.status, why != NULL ? why : "-");
    goto err;
  }
  ok = 1;
err:
  pki__v1__issue_response__free_unpacked(resp, NULL);
  pki_reply_cleanup(&reply);
  return ok;
}

static int fixture_setup(const options *opts, pki_client *api, pki_client *ocsp,
                         fixture *fx) {
  memset(fx, 0, sizeof(*fx));
  for (int i = 0; i < CSR_POOL; i++) {
    char subject[96];
    snprintf(subject, sizeof(subject), "/CN=soak%d.example.com/O=Bench", i);
    test_csr_spec spec = {.key = kCsrKey, .subject = subject};
    fx->csrs[i] = test_make_csr(&spec, &fx->csr_lens[i], NULL);
    if (fx->csrs[i] == NULL) {
      fprintf(stderr, "soak: cannot make a CSR\n");
      return 0;
    }
  }
  for (size_t i = 0; i < CSR_POOL; i++) {
    if (!pack_single(fx, i, &fx->singles[i]) ||
        !pack_batch(fx, i, (size_t)opts->batch, &fx->batches[i])) {
      fprintf(stderr, "soak: out of memory\n");
      return 0;
    }
  }
  return first_issuance(api, ocsp, fx);
}

// --- Load threads ---

typedef struct load_arg {
  const options *opts;
  const fixture *fx;
  pki_client *client;
  int index;
} load_arg;

// queue_full_wait counts a 503 and waits before the retry: a full signing
// queue is back-pressure, not a failure.
static int queue_full_wait(const pki_reply *reply) {
  if (reply->status != 503) {
    return 0;
  }
  atomic_fetch_add(&g_count.queue_full, 1);
  sleep_s(0.01);
  return 1;
}

static void *issue_main(void *varg) {
  load_arg *a = varg;
  for (size_t i = (size_t)a->index * 7; running(); i++) {
    const body *b = &a->fx->singles[i % CSR_POOL];
    pki_reply reply;
    if (!pki_client_call(a->client, "POST", "/v1/certificates:issue",
                         "application/x-protobuf", b->data, b->len, &reply)) {
      report_error("issue", "%s", ca_err_get()->message);
      sleep_s(0.1);
      continue;
    }
    if (queue_full_wait(&reply)) {
      pki_reply_cleanup(&reply);
      continue;
    }
    Pki__V1__IssueResponse *resp =
        reply.status == 200
            ? pki__v1__issue_response__unpack(NULL, reply.body_len, reply.body)
            : NULL;
    if (resp == NULL || resp->certificate == NULL ||
        !record_issued(resp->certificate->certificate.data,
                       resp->certificate->certificate.len,
                       a->opts->revoke_every)) {
      char text[512];
      pki_reply_error_text(&reply, text, sizeof(text));
      report_error("issue", "HTTP %ld: %s", reply.status, text);
    } else {
      atomic_fetch_add(&g_count.issued, 1);
    }
    pki__v1__issue_response__free_unpacked(resp, NULL);
    pki_reply_cleanup(&reply);
  }
  return NULL;
}

static void *batch_main(void *varg) {
  load_arg *a = varg;
  for (size_t i = (size_t)a->index * 13; running(); i++) {
    const body *b = &a->fx->batches[i % CSR_POOL];
    pki_reply reply;
    if (!pki_client_call(a->client, "POST", "/v1/certificates:batchIssue",
                         "application/x-protobuf", b->data, b->len, &reply)) {
      report_error("batch", "%s", ca_err_get()->message);
      sleep_s(0.1);
      continue;
    }
    if (queue_full_wait(&reply)) {
      pki_reply_cleanup(&reply);
      continue;
    }
    Pki__V1__BatchIssueResponse *resp =
        reply.status == 200 ? pki__v1__batch_issue_response__unpack(
                                  NULL, reply.body_len, reply.body)
                            : NULL;
    if (resp == NULL || resp->n_results != (size_t)a->opts->batch) {
      char text[512];
      pki_reply_error_text(&reply, text, sizeof(text));
      report_error("batch", "HTTP %ld: %s", reply.status, text);
    } else {
      atomic_fetch_add(&g_count.batch_calls, 1);
      for (size_t k = 0; k < resp->n_results; k++) {
        const Pki__V1__IssueResult *r = resp->results[k];
        if (r->certificate == NULL ||
            !record_issued(r->certificate->certificate.data,
                           r->certificate->certificate.len,
                           a->opts->revoke_every)) {
          report_error("batch", "item %zu: %s: %s", k,
                       r->error != NULL ? r->error->code : "-",
                       r->error != NULL ? r->error->message : "no certificate");
          continue;
        }
        atomic_fetch_add(&g_count.batch_certs, 1);
      }
    }
    pki__v1__batch_issue_response__free_unpacked(resp, NULL);
    pki_reply_cleanup(&reply);
  }
  return NULL;
}

static void hex_of(const serial *s, char *out, size_t out_len) {
  size_t n = 0;
  for (size_t i = 0; i < s->len && n + 3 <= out_len; i++) {
    n += (size_t)snprintf(out + n, out_len - n, "%02x", s->bytes[i]);
  }
  out[n] = '\0';
}

static void *revoke_main(void *varg) {
  load_arg *a = varg;
  uint8_t packed[64];
  size_t packed_len;
  Pki__V1__RevokeRequest req = PKI__V1__REVOKE_REQUEST__INIT;
  req.reason = 1;  // keyCompromise
  packed_len = pki__v1__revoke_request__get_packed_size(&req);
  if (packed_len > sizeof(packed)) {
    report_error("revoke", "RevokeRequest too large");
    return NULL;
  }
  pki__v1__revoke_request__pack(&req, packed);
  while (running()) {
    serial s;
    pthread_mutex_lock(&g_lock);
    const int have = ring_pop(&g_pending, &s);
    pthread_mutex_unlock(&g_lock);
    if (!have) {
      sleep_s(0.005);
      continue;
    }
    char hex[2 * SERIAL_MAX + 1], path[128];
    hex_of(&s, hex, sizeof(hex));
    snprintf(path, sizeof(path), "/v1/certificates/%s:revoke", hex);
    pki_reply reply;
    const double t0 = now_s();
    if (!pki_client_call(a->client, "POST", path, "application/x-protobuf",
                         packed, packed_len, &reply)) {
      report_error("revoke", "%s", ca_err_get()->message);
      sleep_s(0.1);
      continue;
    }
    atomic_fetch_add(&g_count.revoke_us,
                     (unsigned long long)((now_s() - t0) * 1e6));
    if (reply.status == 200) {
      pthread_mutex_lock(&g_lock);
      ring_push(&g_recent_revoked, &s);
      if (g_known_revoked.count < KNOWN_REVOKED) {
        ring_push(&g_known_revoked, &s);
      }
      pthread_mutex_unlock(&g_lock);
      atomic_fetch_add(&g_count.revoked, 1);
    } else {
      char text[512];
      pki_reply_error_text(&reply, text, sizeof(text));
      report_error("revoke", "%s: HTTP %ld: %s", hex, reply.status, text);
    }
    pki_reply_cleanup(&reply);
  }
  return NULL;
}

static void *ocsp_main(void *varg) {
  load_arg *a = varg;
  uint64_t rnd = random_seed();
  const double interval =
      a->opts->ocsp_per_s > 0 ? a->opts->ocsp_threads / a->opts->ocsp_per_s : 0;
  double next = now_s();
  for (uint64_t n = 0; running();) {
    if (interval > 0) {
      const double t = now_s();
      if (next > t) {
        sleep_s(next - t);
      } else if (t - next > 1) {
        next = t;  // behind by over a second: no burst to catch up
      }
      next += interval;
    }
    // Of every 8: 5 known good and 1 known revoked, cached; 1 recent good
    // and 1 recent revoked, live (the DESIGN comment). Good instead of
    // revoked while nothing is revoked yet.
    const uint64_t slot = n % 8;
    const int live = slot >= 6;
    ring *revoked = live ? &g_recent_revoked : &g_known_revoked;
    ring *good = live ? &g_recent : &g_known;
    serial s;
    pthread_mutex_lock(&g_lock);
    int have =
        (slot == 5 || slot == 7) && ring_pick(revoked, next_random(&rnd), &s);
    const unsigned want = have ? OCSP_WIRE_REVOKED : OCSP_WIRE_GOOD;
    if (!have) {
      have = ring_pick(good, next_random(&rnd), &s);
    }
    pthread_mutex_unlock(&g_lock);
    if (!have) {
      sleep_s(0.01);
      continue;
    }
    n++;
    ocsp_wire_query q;
    if (!ocsp_wire_query_build(&a->fx->issuer, s.bytes, s.len, live, &q)) {
      report_error("ocsp", "cannot build a request");
      continue;
    }
    pki_reply reply;
    if (!pki_client_call(a->client, "POST", "/", "application/ocsp-request",
                         q.der, q.der_len, &reply)) {
      report_error("ocsp", "%s", ca_err_get()->message);
      sleep_s(0.1);
      continue;
    }
    const int verify = n % VERIFY_EVERY == 0;
    const char *why = NULL;
    if (reply.status != 200 ||
        !ocsp_wire_check(&a->fx->issuer, &q, want, verify, reply.body,
                         reply.body_len, &why)) {
      char hex[2 * SERIAL_MAX + 1];
      hex_of(&s, hex, sizeof(hex));
      report_error("ocsp", "%s (%s expected%s): HTTP %ld: %s", hex,
                   want == OCSP_WIRE_REVOKED ? "revoked" : "good",
                   live ? ", nonce" : "", reply.status,
                   why != NULL ? why : "-");
      ERR_clear_error();
    } else {
      atomic_fetch_add(want == OCSP_WIRE_REVOKED ? &g_count.ocsp_revoked
                                                 : &g_count.ocsp_good,
                       1);
      if (live) {
        atomic_fetch_add(&g_count.ocsp_live, 1);
      }
      if (verify) {
        atomic_fetch_add(&g_count.ocsp_verified, 1);
      }
    }
    pki_reply_cleanup(&reply);
  }
  return NULL;
}

// --- The raw crypto limit (as bench/issue_bench.c measures it) ---

typedef struct raw_arg {
  ca_authority *authority;
  const uint8_t *csr;
  size_t csr_len;
  size_t tbs_len;
  int verify;  // the CSR's signature too: the crypto of one certificate
  double seconds;
  pthread_barrier_t *start;
  uint64_t done;
  int failed;
} raw_arg;

// raw_main: a CSR verification (if |verify|) and a signature of a message
// as long as a real TBSCertificate, with this thread's own copy of the CA
// key, as pkid's workers sign.
static void *raw_main(void *varg) {
  raw_arg *a = varg;
  ca_csr csr;
  ca_issuer_keys keys;
  int have_csr = 0, have_keys = 0;
  a->failed = 1;
  if (!ca_csr_parse(&csr, a->csr, a->csr_len)) {
    pthread_barrier_wait(a->start);
    return NULL;
  }
  have_csr = 1;
  const ca_issuer *issuer = ca_authority_issuer_for(a->authority, csr.key.type);
  if (issuer != NULL && ca_issuer_keys_init(&keys, a->authority)) {
    have_keys = 1;
  }
  EVP_PKEY *key =
      have_keys ? ca_issuer_keys_get(&keys, a->authority, issuer) : NULL;
  const EVP_MD *md =
      issuer != NULL ? ca_signature_digest(&issuer->key_info, &csr.key) : NULL;
  uint8_t tbs[4096], sig[CA_SIGNATURE_MAX_LEN];
  const size_t tbs_len = a->tbs_len < sizeof(tbs) ? a->tbs_len : sizeof(tbs);
  memset(tbs, 0x5a, sizeof(tbs));
  pthread_barrier_wait(a->start);
  if (key == NULL || md == NULL) {
    goto err;
  }
  const double end = now_s() + a->seconds;
  while (now_s() < end) {
    size_t sig_len;
    if ((a->verify && !ca_csr_verify(&csr)) ||
        !ca_sign(key, md, tbs, tbs_len, sig, &sig_len)) {
      goto err;
    }
    a->done++;
  }
  a->failed = 0;
err:
  if (have_keys) {
    ca_issuer_keys_cleanup(&keys);
  }
  if (have_csr) {
    ca_csr_cleanup(&csr);
  }
  return NULL;
}

// measure_raw returns operations per second of |threads| threads, or -1.
static double measure_raw(ca_authority *authority, const fixture *fx,
                          int threads, int verify, double seconds) {
  raw_arg *args = calloc((size_t)threads, sizeof(raw_arg));
  pthread_t *ids = calloc((size_t)threads, sizeof(pthread_t));
  pthread_barrier_t start;
  double rate = -1;
  if (args == NULL || ids == NULL ||
      pthread_barrier_init(&start, NULL, (unsigned)threads) != 0) {
    free(args);
    free(ids);
    return -1;
  }
  int started = 0;
  for (int t = 0; t < threads; t++) {
    args[t] = (raw_arg){.authority = authority,
                        .csr = fx->csrs[t % CSR_POOL],
                        .csr_len = fx->csr_lens[t % CSR_POOL],
                        .tbs_len = fx->tbs_len,
                        .verify = verify,
                        .seconds = seconds,
                        .start = &start};
    if (pthread_create(&ids[t], NULL, raw_main, &args[t]) != 0) {
      // The barrier waits for every thread: the run cannot go on.
      fprintf(stderr, "soak: pthread_create failed\n");
      exit(1);
    }
    started++;
  }
  uint64_t total = 0;
  int failed = 0;
  for (int t = 0; t < started; t++) {
    pthread_join(ids[t], NULL);
    total += args[t].done;
    failed |= args[t].failed;
  }
  pthread_barrier_destroy(&start);
  if (!failed) {
    rate = (double)total / seconds;
  }
  free(args);
  free(ids);
  return rate;
}

typedef struct limits {
  double cert_per_s;  // CSR verification + signature
  double sign_per_s;  // signature alone
} limits;

static double max_of(double a, double b) {
  return a > b ? a : b;
}

// limit_authority makes the throwaway CA the raw limit signs with, or NULL.
static ca_authority *limit_authority(void) {
  ca_authority_config config;
  ca_authority *authority = NULL;
  ca_authority_config_init(&config);
  config.ocsp_url = "http://ocsp.example.com/";
  if (!ca_key_spec_parse(&config.rsa, kCaKey) ||
      !ca_authority_new_ephemeral(&config, &authority)) {
    fprintf(stderr, "soak: cannot make a CA for the raw limit: %s\n",
            ca_err_get()->message);
    return NULL;
  }
  return authority;
}

static int measure_limits(const options *opts, const fixture *fx, limits *out) {
  ca_authority *authority = limit_authority();
  if (authority == NULL) {
    return 0;
  }
  fprintf(stderr, "soak: raw limit, %s, %d threads, %.1f s twice\n", kCaKey,
          opts->workers, opts->limit_s);
  out->cert_per_s = measure_raw(authority, fx, opts->workers, 1, opts->limit_s);
  out->sign_per_s = measure_raw(authority, fx, opts->workers, 0, opts->limit_s);
  ca_authority_free(authority);
  if (out->cert_per_s <= 0 || out->sign_per_s <= 0) {
    fprintf(stderr, "soak: the raw measurement failed\n");
    return 0;
  }
  return 1;
}

// --- Reporting ---

typedef struct minute_rss {
  long end_kb;     // at the end of the minute
  long max_kb;     // the highest of its per-second samples
  long median_kb;  // their median
  long late_kb;    // the median of the samples of its second half
  long crl_kb;     // the size of the RSA issuing CA's CRL then
} minute_rss;

// crl_kb returns the size of the current CA-wide CRL of the CA the load
// revokes under, or -1. It lists every revocation of the run; with shards
// pkid rebuilds it at --crl-wide-interval only, without, at every
// --crl-interval: what pkid holds while revoking grows with it, and the
// per-minute lines show both.
static long crl_kb(pki_client *api) {
  pki_reply reply;
  if (!pki_client_call(api, "GET", "/v1/crl/rsa-issuing", NULL, NULL, 0,
                       &reply)) {
    return -1;
  }
  const long kb =
      reply.status == 200 ? (long)(reply.body_len + 512) / 1024 : -1;
  pki_reply_cleanup(&reply);
  return kb;
}

static void print_minute(int minute, double seconds, const snapshot *d,
                         const minute_rss *rss, double cpu_s,
                         double cpu_total_s, size_t backlog) {
  printf(
      "{\"bench\":\"soak\",\"minute\":%d,\"seconds\":%.1f,"
      "\"issued_per_s\":%.1f,\"batch_certs_per_s\":%.1f,"
      "\"revoked_per_s\":%.1f,\"ocsp_per_s\":%.1f,\"ocsp_good\":%llu,"
      "\"ocsp_revoked\":%llu,\"ocsp_live\":%llu,\"revoke_ms\":%.1f,"
      "\"errors\":%llu,\"queue_full\":%llu,"
      "\"revoke_skipped\":%llu,\"revoke_backlog\":%zu,\"rss_kb\":%ld,"
      "\"rss_max_kb\":%ld,\"rss_median_kb\":%ld,\"crl_kb\":%ld,"
      "\"pkid_cpu_s\":%.2f,"
      "\"pkid_cpu_total_s\":%.2f}\n",
      minute, seconds, (double)d->issued / seconds,
      (double)d->batch_certs / seconds, (double)d->revoked / seconds,
      (double)(d->ocsp_good + d->ocsp_revoked) / seconds, d->ocsp_good,
      d->ocsp_revoked, d->ocsp_live,
      d->revoked > 0 ? (double)d->revoke_us / 1e3 / (double)d->revoked : 0,
      d->errors, d->queue_full, d->revoke_skipped, backlog, rss->end_kb,
      rss->max_kb, rss->median_kb, rss->crl_kb, cpu_s, cpu_total_s);
  fflush(stdout);
}

static void snapshot_diff(const snapshot *a, const snapshot *b, snapshot *out) {
  out->issued = b->issued - a->issued;
  out->batch_certs = b->batch_certs - a->batch_certs;
  out->batch_calls = b->batch_calls - a->batch_calls;
  out->revoked = b->revoked - a->revoked;
  out->revoke_skipped = b->revoke_skipped - a->revoke_skipped;
  out->ocsp_good = b->ocsp_good - a->ocsp_good;
  out->ocsp_revoked = b->ocsp_revoked - a->ocsp_revoked;
  out->ocsp_live = b->ocsp_live - a->ocsp_live;
  out->ocsp_verified = b->ocsp_verified - a->ocsp_verified;
  out->revoke_us = b->revoke_us - a->revoke_us;
  out->queue_full = b->queue_full - a->queue_full;
  out->errors = b->errors - a->errors;
}

static int compare_long(const void *a, const void *b) {
  const long x = *(const long *)a, y = *(const long *)b;
  return x < y ? -1 : x > y;
}

// median_of sorts |v| and returns its median, or -1 when empty.
static long median_of(long *v, size_t n) {
  if (n == 0) {
    return -1;
  }
  qsort(v, n, sizeof(long), compare_long);
  return v[n / 2];
}

static double cpu_s_of(pid_t pid) {
  const long long ticks = proc_cpu_ticks(pid);
  return ticks >= 0 ? (double)ticks / (double)sysconf(_SC_CLK_TCK) : -1;
}

// run_load runs the threads for opts->minutes minutes, printing a line per
// minute, and fills |rss| (one per minute), |total|, and the seconds and
// pkid's CPU seconds they took.
// The drain before a limit slice: requests in flight finish, none start.
#define DRAIN_S 0.25

// limit_slice holds the load, lets it drain, measures the raw limit (CSR
// verification and signature) for a fifth of --limit-seconds (at least
// 0.2 s), and lets the load go on. It returns the limit, 0 on failure.
static double limit_slice(const options *opts, const fixture *fx,
                          ca_authority *authority) {
  atomic_store(&g_pause, 1);
  sleep_s(DRAIN_S);
  const double slice_s = opts->limit_s / 5 > 0.2 ? opts->limit_s / 5 : 0.2;
  const double rate = measure_raw(authority, fx, opts->workers, 1, slice_s);
  atomic_store(&g_pause, 0);
  return rate;
}

// run_load runs the load for --minutes; between two minutes it measures a
// slice of the raw limit with the load held (limit_slice), so that the
// limit is sampled through the run, not only before and after it. The
// slices' time is not load time: |*seconds| leaves it out. |*slice_sum|
// and |*n_slices| are the slices' rates.
static int run_load(const options *opts, const fixture *fx, const it_pkid *pkid,
                    minute_rss *rss, snapshot *total, double *seconds,
                    double *cpu_s, double *slice_sum, int *n_slices) {
  const int n =
      opts->issue_threads + opts->batch_threads + 1 + opts->ocsp_threads;
  load_arg *args = calloc((size_t)n, sizeof(load_arg));
  pthread_t *ids = calloc((size_t)n, sizeof(pthread_t));
  void *(*mains[4])(void *) = {issue_main, batch_main, revoke_main, ocsp_main};
  const int counts[4] = {opts->issue_threads, opts->batch_threads, 1,
                         opts->ocsp_threads};
  int started = 0, ok = 0;
  pki_client *api = it_client(pkid);  // the main thread's, for the CRL
  ca_authority *authority = limit_authority();
  double paused = 0;  // seconds of limit slices, not of load
  *slice_sum = 0;
  *n_slices = 0;
  // The per-second RSS samples of one minute.
  const size_t max_kbs = (size_t)opts->minute_s + 2;
  long *kbs = calloc(max_kbs, sizeof(long));
  if (args == NULL || ids == NULL || api == NULL || kbs == NULL ||
      authority == NULL) {
    goto err;
  }
  // Every client is made here, on one thread: curl_global_init is not
  // safe to race on every libcurl.
  for (int kind = 0, i = 0; kind < 4; kind++) {
    for (int k = 0; k < counts[kind]; k++, i++) {
      args[i] = (load_arg){.opts = opts, .fx = fx, .index = k};
      args[i].client = kind == 3 ? pki_client_new(pkid->ocsp) : it_client(pkid);
      if (args[i].client == NULL) {
        fprintf(stderr, "soak: cannot make a client\n");
        goto err;
      }
    }
  }
  const double t0 = now_s();
  const double cpu0 = cpu_s_of(pkid->pid);
  for (int kind = 0, i = 0; kind < 4; kind++) {
    for (int k = 0; k < counts[kind]; k++, i++) {
      if (pthread_create(&ids[i], NULL, mains[kind], &args[i]) != 0) {
        fprintf(stderr, "soak: pthread_create failed\n");
        atomic_store(&g_stop, 1);
        goto err;
      }
      started++;
    }
  }
  snapshot prev, now, diff;
  memset(&prev, 0, sizeof(prev));
  double prev_t = t0, prev_cpu = cpu0;
  for (int minute = 1; minute <= opts->minutes; minute++) {
    const double end = t0 + paused + minute * opts->minute_s;
    rss[minute - 1].max_kb = 0;
    size_t n_kbs = 0;
    for (double t = now_s(); t < end; t = now_s()) {
      sleep_s(end - t < 1 ? end - t : 1);
      const long kb = proc_status_kb(pkid->pid, "VmRSS");
      if (kb < 0) {
        fprintf(stderr, "soak: pkid is gone\n");
        atomic_store(&g_stop, 1);
        goto err;
      }
      if (kb > rss[minute - 1].max_kb) {
        rss[minute - 1].max_kb = kb;
      }
      if (n_kbs < max_kbs) {
        kbs[n_kbs++] = kb;
      }
    }
    // The median of the half, then of the whole (median_of sorts in place:
    // the second half first, while it is still in order of time).
    rss[minute - 1].late_kb = median_of(kbs + n_kbs / 2, n_kbs - n_kbs / 2);
    rss[minute - 1].median_kb = median_of(kbs, n_kbs);
    snapshot_take(&now);
    const double t = now_s(), cpu = cpu_s_of(pkid->pid);
    rss[minute - 1].end_kb = proc_status_kb(pkid->pid, "VmRSS");
    rss[minute - 1].crl_kb = crl_kb(api);
    pthread_mutex_lock(&g_lock);
    const size_t backlog = g_pending.count;
    pthread_mutex_unlock(&g_lock);
    snapshot_diff(&prev, &now, &diff);
    print_minute(minute, t - prev_t, &diff, &rss[minute - 1], cpu - prev_cpu,
                 cpu - cpu0, backlog);
    prev = now;
    prev_t = t;
    prev_cpu = cpu;
    if (minute < opts->minutes) {
      const double slice = limit_slice(opts, fx, authority);
      if (slice <= 0) {
        fprintf(stderr, "soak: the raw measurement failed\n");
        goto err;
      }
      printf(
          "{\"bench\":\"soak_limit\",\"after_minute\":%d,"
          "\"limit_per_s\":%.1f}\n",
          minute, slice);
      fflush(stdout);
      *slice_sum += slice;
      (*n_slices)++;
      // The drain counts as load time (its answers are in the next
      // minute's counts); the slice itself does not.
      const double resumed = now_s();
      paused += resumed - t - DRAIN_S;
      prev_t = resumed - DRAIN_S;
      prev_cpu = cpu_s_of(pkid->pid);
    }
  }
  *total = prev;
  *seconds = prev_t - t0 - paused;
  *cpu_s = prev_cpu - cpu0;
  ok = 1;
err:
  atomic_store(&g_stop, 1);
  for (int i = 0; i < started; i++) {
    pthread_join(ids[i], NULL);
  }
  for (int i = 0; args != NULL && i < n; i++) {
    pki_client_free(args[i].client);
  }
  pki_client_free(api);
  ca_authority_free(authority);
  free(kbs);
  free(args);
  free(ids);
  return ok;
}

static void print_summary(const options *opts, const snapshot *t,
                          double seconds, const minute_rss *rss,
                          const limits *before, const limits *after,
                          double cpu_total_s, long hwm_kb, long long db_certs,
                          long long db_revoked, unsigned long long recorded,
                          unsigned long long revoked_total, double slice_sum,
                          int n_slices) {
  // Medians, not single samples: a sample taken while pkid holds a large
  // buffer for a moment (a group commit's COPY, a CRL being rebuilt) is not
  // memory it keeps.
  const long warm = rss[0].late_kb;
  long max_after = 0;
  for (int m = 1; m < opts->minutes; m++) {
    max_after = rss[m].median_kb > max_after ? rss[m].median_kb : max_after;
  }
  const long growth = max_after - warm;
  const double growth_pct = warm > 0 ? 100.0 * (double)growth / warm : 0;
  const double certs_per_s = (double)(t->issued + t->batch_certs) / seconds;
  // The limit is the mean of every sample: before the load, one slice
  // between each two minutes, after it. Samples taken through the run see
  // the machine the load saw; one taken apart from it can fall or rise with
  // what else runs, and a ratio above 1 is then a broken measurement.
  const double limit = (before->cert_per_s + after->cert_per_s + slice_sum) /
                       (double)(2 + n_slices);
  printf(
      "{\"bench\":\"soak\",\"summary\":true,\"minutes\":%d,"
      "\"minute_seconds\":%.1f,\"seconds\":%.1f,\"issue_threads\":%d,"
      "\"batch_threads\":%d,\"batch\":%d,\"revoke_every\":%d,"
      "\"ocsp_threads\":%d,\"ocsp_target_per_s\":%.0f,\"workers\":%d,"
      "\"issued\":%llu,\"batch_certs\":%llu,\"batch_requests\":%llu,"
      "\"revoked\":%llu,\"revoke_skipped\":%llu,\"ocsp\":%llu,"
      "\"ocsp_good\":%llu,\"ocsp_revoked\":%llu,\"ocsp_live\":%llu,"
      "\"ocsp_verified\":%llu,"
      "\"queue_full\":%llu,\"errors\":%llu,"
      "\"db_certificates\":%lld,\"certificates_answered\":%llu,"
      "\"db_revoked\":%lld,\"revocations_answered\":%llu,"
      "\"issued_per_s\":%.1f,\"batch_certs_per_s\":%.1f,"
      "\"revoked_per_s\":%.1f,\"ocsp_per_s\":%.1f,\"certs_per_s\":%.1f,"
      "\"pkid_cpu_s\":%.1f,\"pkid_cpu_ms_per_cert\":%.3f,"
      "\"rss_warmup_kb\":%ld,\"rss_end_kb\":%ld,"
      "\"rss_median_max_after_warmup_kb\":%ld,\"rss_growth_kb\":%ld,"
      "\"rss_growth_pct\":%.2f,\"rss_threshold_pct\":%.1f,"
      "\"rss_flat\":%s,\"vm_hwm_kb\":%ld,\"crl_warmup_kb\":%ld,"
      "\"crl_end_kb\":%ld,"
      "\"limit_key\":\"%s\",\"limit_threads\":%d,\"limit_per_s\":%.1f,"
      "\"limit_before_per_s\":%.1f,\"limit_after_per_s\":%.1f,"
      "\"limit_samples\":%d,"
      "\"limit_sign_per_s\":%.1f,\"ratio\":%.3f}\n",
      opts->minutes, opts->minute_s, seconds, opts->issue_threads,
      opts->batch_threads, opts->batch, opts->revoke_every, opts->ocsp_threads,
      opts->ocsp_per_s, opts->workers, t->issued, t->batch_certs,
      t->batch_calls, t->revoked, t->revoke_skipped,
      t->ocsp_good + t->ocsp_revoked, t->ocsp_good, t->ocsp_revoked,
      t->ocsp_live, t->ocsp_verified, t->queue_full, t->errors, db_certs,
      recorded, db_revoked, revoked_total, (double)t->issued / seconds,
      (double)t->batch_certs / seconds, (double)t->revoked / seconds,
      (double)(t->ocsp_good + t->ocsp_revoked) / seconds, certs_per_s,
      cpu_total_s,
      t->issued + t->batch_certs > 0
          ? cpu_total_s * 1e3 / (double)(t->issued + t->batch_certs)
          : 0,
      warm, rss[opts->minutes - 1].end_kb, max_after, growth, growth_pct,
      opts->rss_threshold_pct,
      growth_pct < opts->rss_threshold_pct ? "true" : "false", hwm_kb,
      rss[0].crl_kb, rss[opts->minutes - 1].crl_kb, kCaKey, opts->workers,
      limit, before->cert_per_s, after->cert_per_s, 2 + n_slices,
      max_of(before->sign_per_s, after->sign_per_s), certs_per_s / limit);
  fflush(stdout);
}

// --- main ---

static void usage(void) {
  fprintf(stderr,
          "usage: bazel run -c opt //bench:soak -- [--minutes M (2 or more, "
          "default 10)]\n"
          "       [--issue-threads N (4)] [--batch-threads N (2)] [--batch N "
          "(10)]\n"
          "       [--revoke-every N (20)] [--ocsp-threads N (2)] "
          "[--ocsp-per-s R (1000; 0: unpaced)]\n"
          "       [--workers N (CPUs)] [--limit-seconds S (5)] "
          "[--rss-threshold-pct P (5)]\n"
          "       [--crl-shards K (16; 1: the CA-wide CRL alone)] "
          "[--crl-wide-interval S (pkid's)]\n"
          "       [--database URL] [--minute-seconds S (60; shorter "
          "\"minutes\" for a quick check only)]\n");
}

static int parse_options(int argc, char **argv, int cpus, options *opts) {
  *opts = (options){.minutes = 10,
                    .minute_s = 60,
                    .issue_threads = 4,
                    .batch_threads = 2,
                    .batch = 10,
                    .revoke_every = 20,
                    .ocsp_threads = 2,
                    .ocsp_per_s = 1000,
                    .workers = cpus,
                    .limit_s = 5,
                    .rss_threshold_pct = 5,
                    .crl_shards = 16,
                    .database = getenv("DATABASE_URL")};
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) {
      return 0;
    }
    const char *flag = argv[i], *value = argv[++i];
    if (strcmp(flag, "--minutes") == 0) {
      opts->minutes = atoi(value);
    } else if (strcmp(flag, "--minute-seconds") == 0) {
      opts->minute_s = atof(value);
    } else if (strcmp(flag, "--issue-threads") == 0) {
      opts->issue_threads = atoi(value);
    } else if (strcmp(flag, "--batch-threads") == 0) {
      opts->batch_threads = atoi(value);
    } else if (strcmp(flag, "--batch") == 0) {
      opts->batch = atoi(value);
    } else if (strcmp(flag, "--revoke-every") == 0) {
      opts->revoke_every = atoi(value);
    } else if (strcmp(flag, "--ocsp-threads") == 0) {
      opts->ocsp_threads = atoi(value);
    } else if (strcmp(flag, "--ocsp-per-s") == 0) {
      opts->ocsp_per_s = atof(value);
    } else if (strcmp(flag, "--workers") == 0) {
      opts->workers = atoi(value);
    } else if (strcmp(flag, "--limit-seconds") == 0) {
      opts->limit_s = atof(value);
    } else if (strcmp(flag, "--rss-threshold-pct") == 0) {
      opts->rss_threshold_pct = atof(value);
    } else if (strcmp(flag, "--crl-shards") == 0) {
      opts->crl_shards = atoi(value);
    } else if (strcmp(flag, "--crl-wide-interval") == 0) {
      opts->crl_wide_interval_s = atoi(value);
    } else if (strcmp(flag, "--database") == 0) {
      opts->database = value;
    } else {
      return 0;
    }
  }
  // Two minutes at least: the first is the warm-up.
  return opts->minutes >= 2 && opts->minutes <= MAX_MINUTES &&
         opts->crl_shards >= 1 && opts->crl_shards <= 1024 &&
         opts->crl_wide_interval_s >= 0 && opts->minute_s >= 1 &&
         opts->issue_threads >= 0 && opts->issue_threads <= 64 &&
         opts->batch_threads >= 0 && opts->batch_threads <= 64 &&
         opts->issue_threads + opts->batch_threads > 0 && opts->batch >= 1 &&
         opts->batch <= 1000 && opts->revoke_every >= 0 &&
         opts->ocsp_threads >= 0 && opts->ocsp_threads <= 64 &&
         opts->ocsp_per_s >= 0 && opts->workers >= 1 && opts->workers <= 256 &&
         opts->limit_s > 0 && opts->rss_threshold_pct > 0;
}

int main(int argc, char **argv) {
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  options opts;
  if (!parse_options(argc, argv, online > 0 ? (int)online : 1, &opts)) {
    usage();
    return 2;
  }
  if (opts.database == NULL || opts.database[0] == '\0') {
    fprintf(stderr,
            "soak: give --database (bazel run //bench:soak starts a "
            "throwaway PostgreSQL)\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  char work[] = "/tmp/pki-soak.XXXXXX";
  char dir[sizeof(work) + 8], workers[16];
  if (mkdtemp(work) == NULL) {
    fprintf(stderr, "soak: mkdtemp: %s\n", strerror(errno));
    return 1;
  }
  it_db db;
  it_pkid pkid = {0};
  it_db_create_on(opts.database, &db);
  snprintf(dir, sizeof(dir), "%s/pkid", work);
  snprintf(workers, sizeof(workers), "%d", opts.workers);
  // No key pool: its filler would take CPU from the load at random times.
  char shards[16], wide[16];
  snprintf(shards, sizeof(shards), "%d", opts.crl_shards);
  snprintf(wide, sizeof(wide), "%d", opts.crl_wide_interval_s);
  const char *extra[] = {
      "--workers",
      workers,
      "--keypool",
      "none",
      "--crl-shards",
      shards,
      "--crl-url",
      "http://crl.example.com/v1/crl/{ca}",
      opts.crl_wide_interval_s > 0 ? "--crl-wide-interval" : NULL,
      wide,
      NULL};
  if (!it_pkid_start(&pkid, &db, dir, extra)) {
    it_db_drop(&db);
    proc_remove_tree("soak", work);
    return 1;
  }
  int rc = 1;
  fixture fx;
  limits before, after;
  snapshot total;
  double seconds = 0, cpu_s = 0;
  minute_rss *rss = calloc((size_t)opts.minutes, sizeof(minute_rss));
  pki_client *api = it_client(&pkid);
  pki_client *ocsp = pki_client_new(pkid.ocsp);
  memset(&fx, 0, sizeof(fx));
  if (rss == NULL || api == NULL || ocsp == NULL ||
      !fixture_setup(&opts, api, ocsp, &fx) ||
      !measure_limits(&opts, &fx, &before)) {
    goto done;
  }
  fprintf(stderr,
          "soak: %d minutes of %.0f s: %d issue, %d batch (%d), 1 revoke "
          "(1 in %d), %d OCSP threads (%.0f/s)\n",
          opts.minutes, opts.minute_s, opts.issue_threads, opts.batch_threads,
          opts.batch, opts.revoke_every, opts.ocsp_threads, opts.ocsp_per_s);
  double slice_sum = 0;
  int n_slices = 0;
  if (!run_load(&opts, &fx, &pkid, rss, &total, &seconds, &cpu_s, &slice_sum,
                &n_slices) ||
      !measure_limits(&opts, &fx, &after)) {
    goto done;
  }
  // After the threads stopped: every answered certificate must be a row
  // (the first one was issued before the clock).
  const unsigned long long recorded =
      atomic_load(&g_count.issued) + atomic_load(&g_count.batch_certs) + 1;
  const unsigned long long revoked_total = atomic_load(&g_count.revoked);
  const long long db_certs =
      it_db_int(&db, "SELECT count(*) FROM certificates", NULL);
  const long long db_revoked =
      it_db_int(&db, "SELECT count(*) FROM revocations", NULL);
  if (db_certs < (long long)recorded ||
      db_revoked != (long long)revoked_total) {
    report_error("database",
                 "%lld rows for %llu certificates answered, %lld "
                 "revoked for %llu revocations answered",
                 db_certs, recorded, db_revoked, revoked_total);
    total.errors++;
  }
  print_summary(&opts, &total, seconds, rss, &before, &after, cpu_s,
                proc_status_kb(pkid.pid, "VmHWM"), db_certs, db_revoked,
                recorded, revoked_total, slice_sum, n_slices);
  rc = total.errors == 0 && atomic_load(&g_count.errors) == 0 ? 0 : 1;
done:
  pki_client_free(api);
  pki_client_free(ocsp);
  fixture_cleanup(&fx);
  free(rss);
  const int status = it_pkid_stop(&pkid);
  if (status != 0) {
    fprintf(stderr, "soak: pkid exited with %d\n", status);
    rc = 1;
  }
  it_db_drop(&db);
  proc_remove_tree("soak", work);
  return rc;
}
