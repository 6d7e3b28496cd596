// The OCSP responder benchmark: requests per second on pkid's OCSP listener
// for answers from the pre-signed cache (good, revoked, unknown) and for
// answers signed live (a nonce), next to two limits measured in the same
// run: the listener's own ceiling (GET /healthz, which touches neither the
// responder nor the database: pure HTTP) and the raw rate of the signature a
// live answer costs.
//
// DESIGN: the load generator has --client-threads threads (default: the CPU
// count). Each runs an epoll loop over its share of --connections keep-alive
// HTTP/1.1 connections on raw sockets, each connection with one request
// outstanding: closed-loop load, so the rate is what the server sustains. A
// response is read whole (status line, Content-Length, body) before the
// connection sends its next request; its latency runs from the request's
// first byte written to the response's last byte read (CLOCK_MONOTONIC).
// Every response must be HTTP 200; a sample of bodies (the first of every
// connection, then one in VERIFY_EVERY) is checked: OCSP status successful,
// one SingleResponse for the CertID asked about, its certStatus as the case
// expects, and the nonce echoed when one was sent. A wrong answer aborts the
// run: the bench never reports the rate of error responses. Before the
// timed runs every kind of request is sent once and its response's
// signature is verified as well (this also fills the responder's cache).
//
// Cases are interleaved: --rounds rounds (default about one per second of
// --seconds), each running healthz, good, revoked, unknown and nonce for
// seconds / rounds, on fresh connections. A case's figures sum its slices,
// so the ceiling (healthz) is measured across the whole run, next to every
// case, and a disturbance by another process on a shared machine hits all
// cases alike; the spread of the slices is printed. Lines are printed at the
// end, when the ceiling is known. Then the crypto lines: one signature of
// the kind a live answer carries (the signer's key type and size, its
// digest, a message as long as the live ResponseData) on one thread, on
// every CPU with a key per thread (the limit), and on every CPU sharing one
// key as the responder does. The CPU time of the client, of pkid and of
// everything else on the machine is printed with each case: the load
// generator shares the machine with pkid, and server_cpu_ratio (pkid's CPU
// per healthz request over its CPU per request of the case) is the ratio
// with the client's share left out.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/digest.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/client/client.h"
#include "bench/ocsp_wire.h"
#include "bench/proc_stat.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"

// Good certificates asked about in turn (connection i asks about i % N).
#define GOOD_CERTS 3
// Every how many responses a connection checks the body.
#define VERIFY_EVERY 16
// A response with headers: an OCSP response with a delegated responder's
// certificate is under 4 KiB.
#define RESPONSE_MAX 65536
// How long the responses outstanding at the deadline may take to arrive.
#define DRAIN_S 10

// --- Options ---

typedef struct options {
  double seconds;     // per case
  int rounds;         // slices of each case, interleaved
  const char *cases;  // comma-separated case names (and "crypto")
  int connections;
  int client_threads;
  int http_threads;
  const char *key;  // "rsa" or "ec"
  const char *database;
  const char *server;  // a running pkid's API ...
  const char *ocsp;    // ... and its OCSP listener, instead of starting one
} options;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// machine_busy_s returns the CPU seconds every CPU of the machine has
// spent busy (not idle, not waiting for I/O) since boot, or -1. On a shared
// machine the share of others shows how much a run was disturbed.
static double machine_busy_s(void) {
  FILE *f = fopen("/proc/stat", "r");
  unsigned long long v[8] = {0};
  const int n =
      f != NULL ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
                         &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7])
                : 0;
  if (f != NULL) {
    fclose(f);
  }
  if (n != 8) {
    return -1;
  }
  // user nice system idle iowait irq softirq steal (proc(5))
  const unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6];
  return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

static double cpu_self_s(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) {
    return 0;
  }
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// --- Latency samples ---

typedef struct samples {
  uint32_t *us;  // microseconds: 4 bytes a sample at 100k requests/s
  size_t n, cap;
} samples;

static int sample_add(samples *s, uint64_t ns) {
  if (s->n == s->cap) {
    const size_t cap = s->cap > 0 ? s->cap * 2 : 65536;
    uint32_t *grown = realloc(s->us, cap * sizeof(uint32_t));
    if (grown == NULL) {
      return 0;
    }
    s->us = grown;
    s->cap = cap;
  }
  const uint64_t us = ns / 1000;
  s->us[s->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
  return 1;
}

static int compare_u32(const void *a, const void *b) {
  const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

// --- Certificates ---

// A certificate chain as /v1/sign returns it: leaf, issuing CA, root.
typedef struct chain {
  uint8_t *der[4];
  size_t len[4];
  size_t n;
} chain;

static void chain_cleanup(chain *c) {
  for (size_t i = 0; i < c->n; i++) {
    OPENSSL_free(c->der[i]);
  }
  c->n = 0;
}

static int chain_from_pem(const uint8_t *pem, size_t pem_len, chain *out) {
  memset(out, 0, sizeof(*out));
  if (pem_len > INT_MAX) {
    return 0;
  }
  BIO *bio = BIO_new_mem_buf(pem, (int)pem_len);
  if (bio == NULL) {
    return 0;
  }
  char *name, *header;
  uint8_t *data;
  long len;
  while (out->n < 4 && PEM_read_bio(bio, &name, &header, &data, &len)) {
    const int cert = strcmp(name, "CERTIFICATE") == 0;
    OPENSSL_free(name);
    OPENSSL_free(header);
    if (!cert) {
      OPENSSL_free(data);
      continue;
    }
    out->der[out->n] = data;
    out->len[out->n] = (size_t)len;
    out->n++;
  }
  BIO_free(bio);
  return out->n >= 2;
}

// --- OCSP requests ---

// One OCSP request the bench sends, and what its answer must say.
typedef struct query {
  ocsp_wire_query wire;
  unsigned want;  // OCSP_WIRE_GOOD, _REVOKED or _UNKNOWN
} query;

// query_build makes the request for |serial| (INTEGER contents) of
// |issuer|, with a nonce if |nonce|.
static int query_build(const ocsp_wire_issuer *issuer, const uint8_t *serial,
                       size_t serial_len, int nonce, unsigned want,
                       query *out) {
  out->want = want;
  return ocsp_wire_query_build(issuer, serial, serial_len, nonce, &out->wire);
}

// --- Load generation ---

typedef enum case_id {
  CASE_HEALTHZ,
  CASE_GOOD,
  CASE_REVOKED,
  CASE_UNKNOWN,
  CASE_NONCE,
  CASE_COUNT,
} case_id;

static const char *const kCaseNames[CASE_COUNT] = {"healthz", "good", "revoked",
                                                   "unknown", "nonce"};

// What one timed run sends.
typedef struct run_spec {
  case_id id;
  const query *queries;  // NULL for healthz
  size_t n_queries;
  struct sockaddr_storage addr;
  socklen_t addr_len;
  char host[96];  // the Host header
  uint64_t deadline_ns;
} run_spec;

typedef struct conn {
  int fd;
  const query *q;  // NULL for healthz
  uint8_t *req;    // the whole HTTP request
  size_t req_len, sent;
  size_t nonce_off;  // of the nonce bytes in |req|; 0 without
  uint64_t counter;  // requests sent
  uint8_t *buf;      // the response so far
  size_t have;
  size_t total;  // header + body, once the header is in; else 0
  size_t header_len;
  uint64_t t0;
  int busy;
} conn;

typedef struct worker {
  const run_spec *run;
  conn *conns;
  size_t n;
  int epfd;
  pthread_barrier_t *start;
  uint64_t done;     // answered before the deadline
  uint64_t checked;  // bodies verified
  samples lat;
  char error[256];
} worker;

static atomic_int g_abort;

static void fail(worker *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fail(worker *w, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(w->error, sizeof(w->error), fmt, ap);
  va_end(ap);
  atomic_store(&g_abort, 1);
}

// A connection's nonces are 8 random bytes of its own, then its counter.
_Static_assert(OCSP_WIRE_NONCE_LEN == 16, "nonce layout in conn_open");

static int conn_open(const run_spec *run, const query *q, conn *c) {
  char head[512];
  int n;
  memset(c, 0, sizeof(c[0]));
  c->fd = -1;
  c->q = q;
  if (q == NULL) {
    n = snprintf(head, sizeof(head),
                 "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", run->host);
  } else {
    n = snprintf(head, sizeof(head),
                 "POST / HTTP/1.1\r\nHost: %s\r\n"
                 "Content-Type: application/ocsp-request\r\n"
                 "Content-Length: %zu\r\n\r\n",
                 run->host, q->wire.der_len);
  }
  if (n < 0 || (size_t)n >= sizeof(head)) {
    return 0;
  }
  c->req_len = (size_t)n + (q != NULL ? q->wire.der_len : 0);
  c->req = malloc(c->req_len);
  c->buf = malloc(RESPONSE_MAX);
  if (c->req == NULL || c->buf == NULL) {
    return 0;
  }
  memcpy(c->req, head, (size_t)n);
  if (q != NULL) {
    memcpy(c->req + n, q->wire.der, q->wire.der_len);
    if (q->wire.has_nonce) {
      // The nonce is the request's last bytes (ocsp_wire.h).
      c->nonce_off = (size_t)n + q->wire.der_len - OCSP_WIRE_NONCE_LEN;
      // 8 random bytes per connection, then a counter: every nonce of the
      // run differs, at no cost per request.
      if (!RAND_bytes(c->req + c->nonce_off, 8)) {
        return 0;
      }
    }
  }
  c->fd = socket(run->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (c->fd < 0 ||
      connect(c->fd, (const struct sockaddr *)&run->addr, run->addr_len) != 0 ||
      setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    return 0;
  }
  const int flags = fcntl(c->fd, F_GETFL);
  return flags >= 0 && fcntl(c->fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

static void conn_close(conn *c) {
  if (c->fd >= 0) {
    close(c->fd);
  }
  free(c->req);
  free(c->buf);
  c->fd = -1;
  c->req = c->buf = NULL;
}

// conn_write sends what is left of the request; on a full socket buffer it
// waits for EPOLLOUT.
static int conn_write(worker *w, conn *c) {
  while (c->sent < c->req_len) {
    const ssize_t n =
        send(c->fd, c->req + c->sent, c->req_len - c->sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
      if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
        fail(w, "epoll_ctl: %s", strerror(errno));
        return 0;
      }
      return 1;
    }
    if (n <= 0) {
      fail(w, "send: %s", strerror(errno));
      return 0;
    }
    c->sent += (size_t)n;
  }
  return 1;
}

static int conn_send(worker *w, conn *c) {
  if (c->nonce_off > 0) {
    const uint64_t k = c->counter;
    for (int i = 0; i < 8; i++) {
      c->req[c->nonce_off + 8 + i] = (uint8_t)(k >> (56 - 8 * i));
    }
  }
  c->counter++;
  c->sent = 0;
  c->have = c->total = c->header_len = 0;
  c->busy = 1;
  c->t0 = now_ns();
  return conn_write(w, c);
}

// header_value finds header |name| in the response header of |c|.
static const char *header_value(const conn *c, const char *name,
                                size_t *out_len) {
  const size_t name_len = strlen(name);
  const char *p = (const char *)c->buf;
  const char *end = p + c->header_len;
  // Skip the status line; each header line ends with CRLF.
  while ((p = memmem(p, (size_t)(end - p), "\r\n", 2)) != NULL) {
    p += 2;
    if ((size_t)(end - p) > name_len + 1 &&
        strncasecmp(p, name, name_len) == 0 && p[name_len] == ':') {
      const char *v = p + name_len + 1;
      while (v < end && (*v == ' ' || *v == '\t')) {
        v++;
      }
      const char *eol = memmem(v, (size_t)(end - v), "\r\n", 2);
      *out_len = eol != NULL ? (size_t)(eol - v) : (size_t)(end - v);
      return v;
    }
  }
  return NULL;
}

// parse_header reads the status line and Content-Length once the header
// is complete.
static int parse_header(worker *w, conn *c) {
  const uint8_t *eoh = memmem(c->buf, c->have, "\r\n\r\n", 4);
  if (eoh == NULL) {
    if (c->have == RESPONSE_MAX) {
      fail(w, "response header over %d bytes", RESPONSE_MAX);
      return 0;
    }
    return 1;
  }
  c->header_len = (size_t)(eoh - c->buf) + 4;
  if (c->have < 13 || (memcmp(c->buf, "HTTP/1.1 200 ", 13) != 0 &&
                       memcmp(c->buf, "HTTP/1.0 200 ", 13) != 0)) {
    const size_t shown = c->header_len > 9 + 12 ? 12 : c->header_len - 9;
    fail(w, "%s: HTTP status \"%.*s\", expected 200", kCaseNames[w->run->id],
         c->header_len > 9 ? (int)shown : 0, (const char *)c->buf + 9);
    return 0;
  }
  size_t len;
  const char *v = header_value(c, "Content-Length", &len);
  char digits[24];
  if (v == NULL || len == 0 || len >= sizeof(digits)) {
    fail(w, "a response without Content-Length");
    return 0;
  }
  memcpy(digits, v, len);
  digits[len] = '\0';
  char *end;
  const unsigned long long body = strtoull(digits, &end, 10);
  if (*end != '\0' || body > RESPONSE_MAX - c->header_len) {
    fail(w, "bad Content-Length \"%s\"", digits);
    return 0;
  }
  c->total = c->header_len + (size_t)body;
  return 1;
}

// verify checks the body of the response of |c|.
static int verify(worker *w, conn *c) {
  const uint8_t *body = c->buf + c->header_len;
  const size_t len = c->total - c->header_len;
  size_t type_len;
  const char *type = header_value(c, "Content-Type", &type_len);
  w->checked++;
  if (c->q == NULL) {
    if (len != 3 || memcmp(body, "ok\n", 3) != 0) {
      fail(w, "healthz answered \"%.*s\"", (int)(len < 64 ? len : 64),
           (const char *)body);
      return 0;
    }
    return 1;
  }
  static const char kType[] = "application/ocsp-response";
  if (type == NULL || type_len != sizeof(kType) - 1 ||
      strncasecmp(type, kType, type_len) != 0) {
    fail(w, "%s: Content-Type is not %s", kCaseNames[w->run->id], kType);
    return 0;
  }
  const char *why;
  const uint8_t *nonce = c->nonce_off > 0 ? c->req + c->nonce_off : NULL;
  ocsp_wire_response resp;
  if (!ocsp_wire_response_parse(body, len, &resp, &why) ||
      !ocsp_wire_match(&resp, &c->q->wire, nonce, c->q->want, &why)) {
    fail(w, "%s: wrong answer: %s", kCaseNames[w->run->id], why);
    return 0;
  }
  return 1;
}

// conn_read reads what has arrived and, once a response is whole, records
// it and sends the next request (until the deadline).
static int conn_read(worker *w, conn *c) {
  for (;;) {
    const ssize_t n = recv(c->fd, c->buf + c->have, RESPONSE_MAX - c->have, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return 1;
    }
    if (n < 0) {
      fail(w, "recv: %s", strerror(errno));
      return 0;
    }
    if (n == 0) {
      fail(w, "%s: the server closed a keep-alive connection",
           kCaseNames[w->run->id]);
      return 0;
    }
    if (!c->busy) {
      fail(w, "bytes that answer no request");
      return 0;
    }
    c->have += (size_t)n;
    if (c->total == 0 && !parse_header(w, c)) {
      return 0;
    }
    if (c->total == 0 || c->have < c->total) {
      continue;
    }
    if (c->have > c->total) {
      fail(w, "bytes after the response");
      return 0;
    }
    const uint64_t t1 = now_ns();
    c->busy = 0;
    if ((c->counter == 1 || c->counter % VERIFY_EVERY == 0) && !verify(w, c)) {
      return 0;
    }
    if (t1 <= w->run->deadline_ns) {
      w->done++;
      if (!sample_add(&w->lat, t1 - c->t0)) {
        fail(w, "out of memory");
        return 0;
      }
      if (!conn_send(w, c)) {
        return 0;
      }
    }
    return 1;
  }
}

static void *worker_main(void *arg) {
  worker *w = arg;
  struct epoll_event events[64];
  pthread_barrier_wait(w->start);
  for (size_t i = 0; i < w->n; i++) {
    if (!conn_send(w, &w->conns[i])) {
      return NULL;
    }
  }
  const uint64_t give_up = w->run->deadline_ns + DRAIN_S * 1000000000ull;
  for (;;) {
    size_t busy = 0;
    for (size_t i = 0; i < w->n; i++) {
      busy += (size_t)w->conns[i].busy;
    }
    if (busy == 0 || atomic_load(&g_abort)) {
      return NULL;
    }
    if (now_ns() > give_up) {
      fail(w, "%s: %zu responses did not arrive", kCaseNames[w->run->id], busy);
      return NULL;
    }
    const int n = epoll_wait(w->epfd, events, 64, 200);
    if (n < 0 && errno != EINTR) {
      fail(w, "epoll_wait: %s", strerror(errno));
      return NULL;
    }
    for (int i = 0; i < n; i++) {
      conn *c = events[i].data.ptr;
      if ((events[i].events & EPOLLOUT) && c->sent < c->req_len) {
        if (!conn_write(w, c)) {
          return NULL;
        }
        if (c->sent == c->req_len) {
          struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
          if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0) {
            fail(w, "epoll_ctl: %s", strerror(errno));
            return NULL;
          }
        }
      }
      if ((events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) &&
          !conn_read(w, c)) {
        return NULL;
      }
    }
  }
}

// The outcome of a case: the sum of its slices.
typedef struct result {
  int slices;
  double seconds;
  uint64_t requests;
  uint64_t checked;
  samples lat;
  double min_rate, max_rate;  // of one slice
  double client_cpu_s;
  double server_cpu_s;   // < 0 when pkid is not ours
  double machine_cpu_s;  // every process's; < 0 when unknown
} result;

// measure runs |run| for |seconds| and adds the outcome to |out|.
static int measure(const options *opts, run_spec *run, double seconds,
                   pid_t pkid_pid, result *out) {
  const int threads = opts->client_threads < opts->connections
                          ? opts->client_threads
                          : opts->connections;
  worker *workers = calloc((size_t)threads, sizeof(worker));
  conn *conns = calloc((size_t)opts->connections, sizeof(conn));
  pthread_t *ids = calloc((size_t)threads, sizeof(pthread_t));
  pthread_barrier_t start;
  int ok = 0, barrier = 0;
  if (workers == NULL || conns == NULL || ids == NULL) {
    fprintf(stderr, "bench: out of memory\n");
    goto done;
  }
  for (int i = 0; i < opts->connections; i++) {
    conns[i].fd = -1;
  }
  for (int t = 0; t < threads; t++) {
    workers[t].epfd = -1;
  }
  for (int i = 0; i < opts->connections; i++) {
    const query *q =
        run->queries != NULL ? &run->queries[(size_t)i % run->n_queries] : NULL;
    if (!conn_open(run, q, &conns[i])) {
      fprintf(stderr, "bench: cannot connect to the OCSP listener: %s\n",
              strerror(errno));
      goto done;
    }
  }
  for (int t = 0; t < threads; t++) {
    worker *w = &workers[t];
    w->run = run;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (w->epfd < 0) {
      fprintf(stderr, "bench: epoll_create1: %s\n", strerror(errno));
      goto done;
    }
  }
  for (int t = 0; t < threads; t++) {
    // The connections of one worker sit next to each other.
    const size_t first = (size_t)opts->connections * (size_t)t / threads;
    const size_t last = (size_t)opts->connections * (size_t)(t + 1) / threads;
    workers[t].conns = &conns[first];
    workers[t].n = last - first;
    for (size_t i = first; i < last; i++) {
      struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
      if (epoll_ctl(workers[t].epfd, EPOLL_CTL_ADD, conns[i].fd, &ev) != 0) {
        fprintf(stderr, "bench: epoll_ctl: %s\n", strerror(errno));
        goto done;
      }
    }
  }
  if (pthread_barrier_init(&start, NULL, (unsigned)threads + 1) != 0) {
    fprintf(stderr, "bench: pthread_barrier_init failed\n");
    goto done;
  }
  barrier = 1;
  for (int t = 0; t < threads; t++) {
    workers[t].start = &start;
    if (pthread_create(&ids[t], NULL, worker_main, &workers[t]) != 0) {
      fprintf(stderr, "bench: pthread_create failed\n");
      // The barrier waits for every thread: the run cannot go on.
      exit(1);
    }
  }
  const long long ticks0 = pkid_pid > 0 ? proc_cpu_ticks(pkid_pid) : -1;
  const double cpu0 = cpu_self_s();
  const double busy0 = machine_busy_s();
  run->deadline_ns = now_ns() + (uint64_t)(seconds * 1e9);
  pthread_barrier_wait(&start);
  for (int t = 0; t < threads; t++) {
    pthread_join(ids[t], NULL);
  }
  const double cpu1 = cpu_self_s();
  const double busy1 = machine_busy_s();
  const long long ticks1 = pkid_pid > 0 ? proc_cpu_ticks(pkid_pid) : -1;
  for (int t = 0; t < threads; t++) {
    if (workers[t].error[0] != '\0') {
      fprintf(stderr, "bench: %s\n", workers[t].error);
      goto done;
    }
  }
  uint64_t requests = 0;
  for (int t = 0; t < threads; t++) {
    requests += workers[t].done;
    out->checked += workers[t].checked;
    for (size_t i = 0; i < workers[t].lat.n; i++) {
      if (!sample_add(&out->lat, (uint64_t)workers[t].lat.us[i] * 1000)) {
        fprintf(stderr, "bench: out of memory\n");
        goto done;
      }
    }
  }
  if (requests == 0) {
    fprintf(stderr, "bench: %s: no request was answered\n",
            kCaseNames[run->id]);
    goto done;
  }
  const double rate = (double)requests / seconds;
  out->min_rate =
      out->slices == 0 || rate < out->min_rate ? rate : out->min_rate;
  out->max_rate = rate > out->max_rate ? rate : out->max_rate;
  out->slices++;
  out->seconds += seconds;
  out->requests += requests;
  out->client_cpu_s += cpu1 - cpu0;
  if (ticks0 < 0 || ticks1 < 0) {
    out->server_cpu_s = -1;
  } else if (out->server_cpu_s >= 0) {
    out->server_cpu_s += (double)(ticks1 - ticks0) / sysconf(_SC_CLK_TCK);
  }
  if (busy0 < 0 || busy1 < 0) {
    out->machine_cpu_s = -1;
  } else if (out->machine_cpu_s >= 0) {
    out->machine_cpu_s += busy1 - busy0;
  }
  ok = 1;
done:
  if (barrier) {
    pthread_barrier_destroy(&start);
  }
  for (int t = 0; workers != NULL && t < threads; t++) {
    if (workers[t].epfd >= 0) {
      close(workers[t].epfd);
    }
    free(workers[t].lat.us);
  }
  for (int i = 0; conns != NULL && i < opts->connections; i++) {
    conn_close(&conns[i]);
  }
  free(workers);
  free(conns);
  free(ids);
  return ok;
}

// --- The raw signing limit ---

typedef struct sign_arg {
  EVP_PKEY *key;
  const EVP_MD *md;
  size_t msg_len;
  uint64_t deadline_ns;
  pthread_barrier_t *start;
  uint64_t done;
  int failed;
} sign_arg;

static void *sign_main(void *varg) {
  sign_arg *a = varg;
  uint8_t msg[4096], sig[1024];
  memset(msg, 0x5a, sizeof(msg));
  const size_t msg_len = a->msg_len < sizeof(msg) ? a->msg_len : sizeof(msg);
  pthread_barrier_wait(a->start);
  while (now_ns() < a->deadline_ns) {
    // As the responder signs (ca_sign): a context per signature.
    EVP_MD_CTX ctx;
    EVP_MD_CTX_init(&ctx);
    size_t sig_len = sizeof(sig);
    const int ok = (size_t)EVP_PKEY_size(a->key) <= sizeof(sig) &&
                   EVP_DigestSignInit(&ctx, NULL, a->md, NULL, a->key) &&
                   EVP_DigestSign(&ctx, sig, &sig_len, msg, msg_len);
    EVP_MD_CTX_cleanup(&ctx);
    if (!ok) {
      a->failed = 1;
      return NULL;
    }
    a->done++;
  }
  return NULL;
}

// copy_key returns a key of its own with the same private key.
static EVP_PKEY *copy_key(const EVP_PKEY *key) {
  CBB cbb;
  uint8_t *der = NULL;
  size_t len;
  EVP_PKEY *copy = NULL;
  if (CBB_init(&cbb, 2048) && EVP_marshal_private_key(&cbb, key) &&
      CBB_finish(&cbb, &der, &len)) {
    CBS cbs;
    CBS_init(&cbs, der, len);
    copy = EVP_parse_private_key(&cbs);
  } else {
    CBB_cleanup(&cbb);
  }
  OPENSSL_free(der);
  return copy;
}

// measure_signing returns signatures per second of |threads| threads, each
// with a copy of |key| unless |shared|.
static double measure_signing(EVP_PKEY *key, const EVP_MD *md, size_t msg_len,
                              int threads, int shared, double seconds) {
  sign_arg *args = calloc((size_t)threads, sizeof(sign_arg));
  pthread_t *ids = calloc((size_t)threads, sizeof(pthread_t));
  pthread_barrier_t start;
  if (args == NULL || ids == NULL ||
      pthread_barrier_init(&start, NULL, (unsigned)threads + 1) != 0) {
    fprintf(stderr, "bench: cannot set up the signing threads\n");
    exit(1);
  }
  for (int t = 0; t < threads; t++) {
    args[t] = (sign_arg){.key = shared ? key : copy_key(key),
                         .md = md,
                         .msg_len = msg_len,
                         .start = &start};
    if (args[t].key == NULL ||
        pthread_create(&ids[t], NULL, sign_main, &args[t]) != 0) {
      fprintf(stderr, "bench: cannot start a signing thread\n");
      exit(1);
    }
  }
  // The threads read their deadline after the barrier: set it now that
  // every key copy is made.
  const uint64_t deadline = now_ns() + (uint64_t)(seconds * 1e9);
  for (int t = 0; t < threads; t++) {
    args[t].deadline_ns = deadline;
  }
  pthread_barrier_wait(&start);
  uint64_t total = 0;
  int failed = 0;
  for (int t = 0; t < threads; t++) {
    pthread_join(ids[t], NULL);
    total += args[t].done;
    failed |= args[t].failed;
    if (!shared) {
      EVP_PKEY_free(args[t].key);
    }
  }
  pthread_barrier_destroy(&start);
  free(args);
  free(ids);
  if (failed) {
    fprintf(stderr, "bench: signing failed\n");
    exit(1);
  }
  return (double)total / seconds;
}

// new_key_like makes a private key of the type and size of |pub|.
static EVP_PKEY *new_key_like(EVP_PKEY *pub, char *name, size_t name_len) {
  EVP_PKEY *key = EVP_PKEY_new();
  if (key == NULL) {
    return NULL;
  }
  if (EVP_PKEY_id(pub) == EVP_PKEY_RSA) {
    const int bits = EVP_PKEY_bits(pub);
    RSA *rsa = RSA_new();
    BIGNUM *e = BN_new();
    const int ok = rsa != NULL && e != NULL && BN_set_word(e, RSA_F4) &&
                   RSA_generate_key_ex(rsa, bits, e, NULL) &&
                   EVP_PKEY_assign_RSA(key, rsa);
    BN_free(e);
    if (!ok) {
      RSA_free(rsa);
      EVP_PKEY_free(key);
      return NULL;
    }
    snprintf(name, name_len, "RSA-%d", bits);
    return key;
  }
  if (EVP_PKEY_id(pub) == EVP_PKEY_EC) {
    const EC_KEY *pub_ec = EVP_PKEY_get0_EC_KEY(pub);
    const int nid = EC_GROUP_get_curve_name(EC_KEY_get0_group(pub_ec));
    EC_KEY *ec = EC_KEY_new_by_curve_name(nid);
    if (ec == NULL || !EC_KEY_generate_key(ec) ||
        !EVP_PKEY_assign_EC_KEY(key, ec)) {
      EC_KEY_free(ec);
      EVP_PKEY_free(key);
      return NULL;
    }
    snprintf(name, name_len, "%s",
             nid == NID_X9_62_prime256v1 ? "EC-P256"
             : nid == NID_secp384r1      ? "EC-P384"
                                         : "EC");
    return key;
  }
  EVP_PKEY_free(key);
  return NULL;
}

// --- Setting up: certificates in pkid ---

// The fixture: what the bench asks pkid about.
typedef struct fixture {
  chain good[GOOD_CERTS];
  chain revoked;
  query queries[CASE_COUNT][GOOD_CERTS];
  size_t n_queries[CASE_COUNT];
  ocsp_wire_issuer issuer;  // the issuing CA, whom the CertIDs name
  EVP_PKEY *signer_pub;     // who signs the answers
  const EVP_MD *md;         // with which digest
  size_t live_tbs_len;      // the ResponseData of a live answer
} fixture;

static int issue(pki_client *api, const char *profile, const char *key, int i,
                 chain *out) {
  char subject[96];
  snprintf(subject, sizeof(subject), "/CN=ocsp-bench%d.example.com/O=Bench", i);
  test_csr_spec spec = {.key = key, .subject = subject};
  size_t der_len;
  uint8_t *der = test_make_csr(&spec, &der_len, NULL);
  char *pem = der != NULL ? test_pem_csr(der, der_len) : NULL;
  OPENSSL_free(der);
  if (pem == NULL) {
    fprintf(stderr, "bench: cannot make a CSR\n");
    return 0;
  }
  char path[96];
  snprintf(path, sizeof(path), "/v1/sign?profile=%s", profile);
  pki_reply reply;
  const int called = pki_client_call(api, "POST", path, "application/pkcs10",
                                     (const uint8_t *)pem, strlen(pem), &reply);
  OPENSSL_free(pem);
  if (!called) {
    fprintf(stderr, "bench: /v1/sign: %s\n", ca_err_get()->message);
    return 0;
  }
  const int ok =
      reply.status == 200 && chain_from_pem(reply.body, reply.body_len, out);
  if (!ok) {
    char text[512];
    pki_reply_error_text(&reply, text, sizeof(text));
    fprintf(stderr, "bench: /v1/sign answered %ld: %s\n", reply.status, text);
  }
  pki_reply_cleanup(&reply);
  return ok;
}

static void hex_of(const CBS *bytes, char *out, size_t out_len) {
  size_t n = 0;
  for (size_t i = 0; i < CBS_len(bytes) && n + 3 <= out_len; i++) {
    n += (size_t)snprintf(out + n, out_len - n, "%02x", CBS_data(bytes)[i]);
  }
  out[n] = '\0';
}

static int revoke_cert(pki_client *api, const ocsp_wire_cert *leaf) {
  char hex[128], path[256];
  hex_of(&leaf->serial, hex, sizeof(hex));
  snprintf(path, sizeof(path), "/v1/certificates/%s:revoke", hex);
  Pki__V1__RevokeRequest req = PKI__V1__REVOKE_REQUEST__INIT;
  req.reason = 1;  // keyCompromise
  uint8_t body[64];
  const size_t len = pki__v1__revoke_request__get_packed_size(&req);
  if (len > sizeof(body)) {
    return 0;
  }
  pki__v1__revoke_request__pack(&req, body);
  pki_reply reply;
  if (!pki_client_call(api, "POST", path, "application/x-protobuf", body, len,
                       &reply)) {
    fprintf(stderr, "bench: revoke: %s\n", ca_err_get()->message);
    return 0;
  }
  const int ok = reply.status == 200;
  if (!ok) {
    char text[512];
    pki_reply_error_text(&reply, text, sizeof(text));
    fprintf(stderr, "bench: revoke answered %ld: %s\n", reply.status, text);
  }
  pki_reply_cleanup(&reply);
  return ok;
}

// unused_serial draws a serial (positive, DER-minimal INTEGER contents) and
// makes sure pkid holds no certificate with it.
static int unused_serial(pki_client *api, uint8_t serial[16]) {
  if (!RAND_bytes(serial, 16)) {
    return 0;
  }
  serial[0] = (uint8_t)(0x40 | (serial[0] & 0x3f));
  CBS cbs;
  CBS_init(&cbs, serial, 16);
  char hex[40], path[96];
  hex_of(&cbs, hex, sizeof(hex));
  snprintf(path, sizeof(path), "/v1/certificates/%s", hex);
  pki_reply reply;
  if (!pki_client_call(api, "GET", path, NULL, NULL, 0, &reply)) {
    fprintf(stderr, "bench: %s\n", ca_err_get()->message);
    return 0;
  }
  const int ok = reply.status == 404;
  if (!ok) {
    fprintf(stderr, "bench: GET %s answered %ld, expected 404\n", path,
            reply.status);
  }
  pki_reply_cleanup(&reply);
  return ok;
}

// ask sends |q| once through libcurl, checks the answer fully (signature
// included) and, on the first call, learns who signs.
static int ask(fixture *fx, pki_client *ocsp, const query *q,
               const char *case_name) {
  pki_reply reply;
  if (!pki_client_call(ocsp, "POST", "/", "application/ocsp-request",
                       q->wire.der, q->wire.der_len, &reply)) {
    fprintf(stderr, "bench: OCSP: %s\n", ca_err_get()->message);
    return 0;
  }
  const char *why = NULL;
  ocsp_wire_response resp;
  int ok =
      reply.status == 200 &&
      ocsp_wire_response_parse(reply.body, reply.body_len, &resp, &why) &&
      ocsp_wire_match(&resp, &q->wire, q->wire.has_nonce ? q->wire.nonce : NULL,
                      q->want, &why);
  const EVP_MD *md = ok ? ocsp_wire_digest(&resp) : NULL;
  if (ok && md == NULL) {
    why = "unknown signature algorithm";
    ok = 0;
  }
  if (ok && CBS_len(&resp.signer) > 0) {
    // A delegated responder: its certificate travels in the answer.
    // Its key signs, and the crypto lines measure a key like it.
    ocsp_wire_cert signer;
    EVP_PKEY *pub = NULL;
    if (ocsp_wire_cert_parse(CBS_data(&resp.signer), CBS_len(&resp.signer),
                             &signer)) {
      CBS spki = signer.spki;
      pub = EVP_parse_public_key(&spki);
    }
    ok = pub != NULL;
    if (ok) {
      EVP_PKEY_free(fx->signer_pub);
      fx->signer_pub = pub;
    }
    why = ok ? NULL : "unreadable responder certificate";
  }
  if (ok) {
    ok = ocsp_wire_verify(&resp, md, fx->signer_pub);
    why = ok ? NULL : "the signature does not verify";
  }
  if (ok) {
    fx->md = md;
    if (q->wire.has_nonce) {
      fx->live_tbs_len = CBS_len(&resp.tbs);
    }
  } else {
    fprintf(stderr, "bench: %s: HTTP %ld, %s\n", case_name, reply.status,
            why != NULL ? why : "not an OCSP response");
  }
  pki_reply_cleanup(&reply);
  return ok;
}

static int fixture_setup(const options *opts, const it_pkid *pkid,
                         const char *ocsp_url, fixture *fx) {
  const int ec = strcmp(opts->key, "ec") == 0;
  const char *profile = ec ? "tomcat-ECDSA" : "tomcat";
  const char *csr_key = ec ? "EC-P256" : "RSA-2048";
  pki_client *api = it_client(pkid);
  pki_client *ocsp = pki_client_new(ocsp_url);
  ocsp_wire_cert leaf;
  uint8_t unknown[16];
  int ok = 0;
  memset(fx, 0, sizeof(*fx));
  if (api == NULL || ocsp == NULL) {
    goto done;
  }
  for (int i = 0; i < GOOD_CERTS; i++) {
    if (!issue(api, profile, csr_key, i, &fx->good[i])) {
      goto done;
    }
  }
  if (!issue(api, profile, csr_key, GOOD_CERTS, &fx->revoked) ||
      !ocsp_wire_cert_parse(fx->revoked.der[0], fx->revoked.len[0], &leaf) ||
      !revoke_cert(api, &leaf) || !unused_serial(api, unknown)) {
    goto done;
  }
  // The issuing CA is second in the chain. Its key signs the answers
  // unless a delegated responder's certificate comes with them (ask).
  if (!ocsp_wire_issuer_init(&fx->issuer, fx->good[0].der[1],
                             fx->good[0].len[1])) {
    fprintf(stderr, "bench: unreadable issuing CA certificate\n");
    goto done;
  }
  fx->signer_pub = fx->issuer.pub;
  EVP_PKEY_up_ref(fx->signer_pub);
  for (int i = 0; i < GOOD_CERTS; i++) {
    if (!ocsp_wire_cert_parse(fx->good[i].der[0], fx->good[i].len[0], &leaf) ||
        !query_build(&fx->issuer, CBS_data(&leaf.serial), CBS_len(&leaf.serial),
                     0, OCSP_WIRE_GOOD, &fx->queries[CASE_GOOD][i])) {
      goto done;
    }
  }
  fx->n_queries[CASE_GOOD] = GOOD_CERTS;
  fx->n_queries[CASE_REVOKED] = fx->n_queries[CASE_UNKNOWN] =
      fx->n_queries[CASE_NONCE] = 1;
  if (!ocsp_wire_cert_parse(fx->revoked.der[0], fx->revoked.len[0], &leaf) ||
      !query_build(&fx->issuer, CBS_data(&leaf.serial), CBS_len(&leaf.serial),
                   0, OCSP_WIRE_REVOKED, &fx->queries[CASE_REVOKED][0]) ||
      !query_build(&fx->issuer, unknown, sizeof(unknown), 0, OCSP_WIRE_UNKNOWN,
                   &fx->queries[CASE_UNKNOWN][0]) ||
      !ocsp_wire_cert_parse(fx->good[0].der[0], fx->good[0].len[0], &leaf) ||
      !query_build(&fx->issuer, CBS_data(&leaf.serial), CBS_len(&leaf.serial),
                   1, OCSP_WIRE_GOOD, &fx->queries[CASE_NONCE][0])) {
    fprintf(stderr, "bench: cannot build the OCSP requests\n");
    goto done;
  }
  // Once each, checked with the signature: this also fills the cache, so
  // the timed runs measure what a client sees in steady state.
  for (int c = CASE_GOOD; c < CASE_COUNT; c++) {
    for (size_t i = 0; i < fx->n_queries[c]; i++) {
      if (!ask(fx, ocsp, &fx->queries[c][i], kCaseNames[c])) {
        goto done;
      }
    }
  }
  ok = fx->live_tbs_len > 0;
done:
  pki_client_free(api);
  pki_client_free(ocsp);
  return ok;
}

static void fixture_cleanup(fixture *fx) {
  for (int i = 0; i < GOOD_CERTS; i++) {
    chain_cleanup(&fx->good[i]);
  }
  chain_cleanup(&fx->revoked);
  EVP_PKEY_free(fx->signer_pub);
  fx->signer_pub = NULL;
  ocsp_wire_issuer_cleanup(&fx->issuer);
}

// --- main ---

// resolve fills |run| with the address of "http://HOST:PORT".
static int resolve(const char *url, run_spec *run) {
  char host[80];
  unsigned port;
  if (sscanf(url, "http://%79[^:/]:%u", host, &port) != 2 || port == 0 ||
      port > 65535) {
    fprintf(stderr, "bench: --ocsp must be http://HOST:PORT\n");
    return 0;
  }
  char service[8];
  snprintf(service, sizeof(service), "%u", port);
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, service, &hints, &res) != 0 || res == NULL) {
    fprintf(stderr, "bench: cannot resolve %s\n", host);
    return 0;
  }
  memcpy(&run->addr, res->ai_addr, res->ai_addrlen);
  run->addr_len = res->ai_addrlen;
  freeaddrinfo(res);
  snprintf(run->host, sizeof(run->host), "%s:%u", host, port);
  return 1;
}

static void usage(void) {
  fprintf(stderr,
          "usage: bazel run -c opt //bench:ocsp -- [--seconds S (per case)]\n"
          "       [--rounds N (slices per case, interleaved)]\n"
          "       [--cases healthz,good,revoked,unknown,nonce,crypto]\n"
          "       [--connections N] [--client-threads N] [--http-threads N]\n"
          "       [--key rsa|ec] [--database URL]\n"
          "       [--server URL --ocsp URL (a running pkid)]\n");
}

// wanted says whether |name| is in the comma-separated |list|.
static int wanted(const char *list, const char *name) {
  const size_t n = strlen(name);
  for (const char *p = list; (p = strstr(p, name)) != NULL; p += n) {
    if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ',')) {
      return 1;
    }
  }
  return 0;
}

static int parse_options(int argc, char **argv, int cpus, options *opts) {
  *opts = (options){.seconds = 5,
                    .rounds = 0,
                    .cases = "healthz,good,revoked,unknown,nonce,crypto",
                    .connections = 64,
                    .client_threads = cpus,
                    .http_threads = cpus,
                    .key = "rsa",
                    .database = getenv("DATABASE_URL")};
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) {
      return 0;
    }
    const char *flag = argv[i], *value = argv[++i];
    if (strcmp(flag, "--seconds") == 0) {
      opts->seconds = atof(value);
    } else if (strcmp(flag, "--rounds") == 0) {
      opts->rounds = atoi(value);
    } else if (strcmp(flag, "--cases") == 0) {
      opts->cases = value;
    } else if (strcmp(flag, "--connections") == 0) {
      opts->connections = atoi(value);
    } else if (strcmp(flag, "--client-threads") == 0) {
      opts->client_threads = atoi(value);
    } else if (strcmp(flag, "--http-threads") == 0) {
      opts->http_threads = atoi(value);
    } else if (strcmp(flag, "--key") == 0) {
      opts->key = value;
    } else if (strcmp(flag, "--database") == 0) {
      opts->database = value;
    } else if (strcmp(flag, "--server") == 0) {
      opts->server = value;
    } else if (strcmp(flag, "--ocsp") == 0) {
      opts->ocsp = value;
    } else {
      return 0;
    }
  }
  if (opts->rounds == 0) {
    // Slices of about a second: long enough to reach a steady state, short
    // enough that a disturbance by another process hits every case alike.
    opts->rounds = opts->seconds < 2    ? 1
                   : opts->seconds > 10 ? 10
                                        : (int)opts->seconds;
  }
  return opts->seconds > 0 && opts->rounds > 0 && opts->connections > 0 &&
         opts->connections <= 4096 && opts->client_threads > 0 &&
         opts->http_threads > 0 && opts->http_threads <= 256 &&
         (strcmp(opts->key, "rsa") == 0 || strcmp(opts->key, "ec") == 0) &&
         (opts->server == NULL) == (opts->ocsp == NULL);
}

// The figures of a case against the ceiling and the signing limit.
typedef struct reference {
  const char *issuer_key;
  int cpus;
  double ceiling;             // healthz requests per second; 0 if not run
  double ceiling_server_cpu;  // pkid's CPU per healthz request, s; 0 if not
  double limit;               // signatures per second on every CPU
} reference;

static void print_case(case_id id, result *r, const options *opts,
                       const reference *ref) {
  const double rate = (double)r->requests / r->seconds;
  double p50 = 0, p99 = 0;
  if (r->lat.n > 0) {
    qsort(r->lat.us, r->lat.n, sizeof(uint32_t), compare_u32);
    p50 = r->lat.us[(size_t)(0.50 * (double)(r->lat.n - 1))] / 1000.0;
    p99 = r->lat.us[(size_t)(0.99 * (double)(r->lat.n - 1))] / 1000.0;
  }
  printf(
      "{\"bench\":\"ocsp\",\"case\":\"%s\",\"issuer_key\":\"%s\","
      "\"cpus\":%d,\"http_threads\":%d,\"client_threads\":%d,"
      "\"connections\":%d,\"seconds\":%.2f,\"slices\":%d,\"requests\":%llu,"
      "\"checked\":%llu,\"req_per_s\":%.1f,\"slice_min_req_per_s\":%.1f,"
      "\"slice_max_req_per_s\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
      "\"client_cpu_us_per_req\":%.2f,\"client_cpu_cores\":%.2f",
      // A running pkid's HTTP threads are not known: 0.
      kCaseNames[id], ref->issuer_key, ref->cpus,
      opts->server != NULL ? 0 : opts->http_threads, opts->client_threads,
      opts->connections, r->seconds, r->slices, (unsigned long long)r->requests,
      (unsigned long long)r->checked, rate, r->min_rate, r->max_rate, p50, p99,
      r->client_cpu_s * 1e6 / (double)r->requests,
      r->client_cpu_s / r->seconds);
  const double server_per_req =
      r->server_cpu_s >= 0 ? r->server_cpu_s / (double)r->requests : -1;
  if (server_per_req >= 0) {
    printf(",\"server_cpu_us_per_req\":%.2f,\"server_cpu_cores\":%.2f",
           server_per_req * 1e6, r->server_cpu_s / r->seconds);
  }
  if (r->server_cpu_s >= 0 && r->machine_cpu_s >= 0) {
    // CPU that neither the bench nor pkid used: other processes (and the
    // kernel's work charged to neither).
    const double other = r->machine_cpu_s - r->client_cpu_s - r->server_cpu_s;
    printf(",\"other_cpu_cores\":%.2f", (other > 0 ? other : 0) / r->seconds);
  }
  if (id != CASE_HEALTHZ && ref->ceiling > 0) {
    printf(",\"ceiling_req_per_s\":%.1f,\"ratio\":%.3f", ref->ceiling,
           rate / ref->ceiling);
    // pkid's own CPU per healthz request over its CPU per request of this
    // case: the ratio with the load generator's share of the machine left
    // out.
    if (server_per_req > 0 && ref->ceiling_server_cpu > 0) {
      printf(",\"server_cpu_ratio\":%.3f",
             ref->ceiling_server_cpu / server_per_req);
    }
  }
  if (id == CASE_NONCE && ref->limit > 0) {
    printf(",\"limit_per_s\":%.1f,\"limit_ratio\":%.3f", ref->limit,
           rate / ref->limit);
  }
  printf("}\n");
}

// print_log_tail copies the last lines of pkid's log to stderr: the
// directory it is in is removed.
static void print_log_tail(const char *path) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    return;
  }
  char lines[20][512];
  size_t n = 0;
  while (fgets(lines[n % 20], sizeof(lines[0]), f) != NULL) {
    n++;
  }
  fclose(f);
  fprintf(stderr, "bench: the end of pkid's log:\n");
  for (size_t i = n > 20 ? n - 20 : 0; i < n; i++) {
    fputs(lines[i % 20], stderr);
  }
}

// run_cases measures the chosen cases, interleaved: round after round,
// each case for seconds / rounds.
static int run_cases(const options *opts, const fixture *fx, run_spec *run,
                     pid_t pkid_pid, result results[CASE_COUNT]) {
  const double slice = opts->seconds / opts->rounds;
  for (int round = 0; round < opts->rounds; round++) {
    for (int id = 0; id < CASE_COUNT; id++) {
      if (!wanted(opts->cases, kCaseNames[id])) {
        continue;
      }
      run->id = (case_id)id;
      run->queries = id == CASE_HEALTHZ ? NULL : fx->queries[id];
      run->n_queries = fx->n_queries[id];
      fprintf(stderr, "bench: round %d/%d: %s, %d connections, %.2f s\n",
              round + 1, opts->rounds, kCaseNames[id], opts->connections,
              slice);
      if (!measure(opts, run, slice, pkid_pid, &results[id])) {
        return 0;
      }
    }
  }
  return 1;
}

int main(int argc, char **argv) {
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  const int cpus = online > 0 ? (int)online : 1;
  options opts;
  if (!parse_options(argc, argv, cpus, &opts)) {
    usage();
    return 2;
  }
  if (opts.server == NULL &&
      (opts.database == NULL || opts.database[0] == '\0')) {
    fprintf(stderr,
            "bench: give --database (bazel run //bench:ocsp starts a "
            "throwaway PostgreSQL) or --server and --ocsp\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  it_db db;
  it_pkid pkid;
  char work[] = "/tmp/pki-ocsp-bench.XXXXXX";
  memset(&pkid, 0, sizeof(pkid));
  if (opts.server != NULL) {
    it_pkid_external(&pkid, opts.server);
    snprintf(pkid.ocsp, sizeof(pkid.ocsp), "%s", opts.ocsp);
  } else {
    char dir[sizeof(work) + 8], threads[16];
    if (mkdtemp(work) == NULL) {
      fprintf(stderr, "bench: mkdtemp: %s\n", strerror(errno));
      return 1;
    }
    it_db_create_on(opts.database, &db);
    snprintf(dir, sizeof(dir), "%s/pkid", work);
    snprintf(threads, sizeof(threads), "%d", opts.http_threads);
    // No key pool: its filler would take CPU from the runs.
    const char *extra[] = {"--http-threads", threads, "--keypool", "none",
                           NULL};
    if (!it_pkid_start(&pkid, &db, dir, extra)) {
      it_db_drop(&db);
      proc_remove_tree("bench", work);
      return 1;
    }
  }
  int rc = 1;
  fixture fx;
  run_spec run;
  result results[CASE_COUNT];
  memset(&run, 0, sizeof(run));
  memset(results, 0, sizeof(results));
  if (!fixture_setup(&opts, &pkid, pkid.ocsp, &fx) ||
      !resolve(pkid.ocsp, &run) ||
      !run_cases(&opts, &fx, &run, opts.server == NULL ? pkid.pid : 0,
                 results)) {
    goto done;
  }
  // The raw cost of a live answer's signature, with a key like the signer's.
  char key_name[32];
  EVP_PKEY *key = new_key_like(fx.signer_pub, key_name, sizeof(key_name));
  if (key == NULL) {
    fprintf(stderr, "bench: cannot make a key like the signer's\n");
    goto done;
  }
  const int crypto = wanted(opts.cases, "crypto");
  const struct {
    int threads;
    int shared;  // one key for all threads, as the responder signs
  } kCrypto[] = {{1, 0}, {cpus, 0}, {cpus, 1}};
  double rates[3] = {0, 0, 0};
  for (size_t i = 0; crypto && i < 3; i++) {
    fprintf(stderr, "bench: crypto, %s, %d threads\n", key_name,
            kCrypto[i].threads);
    rates[i] = measure_signing(key, fx.md, fx.live_tbs_len, kCrypto[i].threads,
                               kCrypto[i].shared, opts.seconds);
  }
  EVP_PKEY_free(key);
  const result *h = &results[CASE_HEALTHZ];
  reference ref = {.issuer_key = key_name, .cpus = cpus, .limit = rates[1]};
  if (h->requests > 0) {
    ref.ceiling = (double)h->requests / h->seconds;
    ref.ceiling_server_cpu =
        h->server_cpu_s > 0 ? h->server_cpu_s / (double)h->requests : 0;
  }
  for (int id = 0; id < CASE_COUNT; id++) {
    if (results[id].requests > 0) {
      print_case((case_id)id, &results[id], &opts, &ref);
    }
  }
  const result *n = &results[CASE_NONCE];
  const double nonce_rate =
      n->requests > 0 ? (double)n->requests / n->seconds : 0;
  for (size_t i = 0; crypto && i < 3; i++) {
    printf(
        "{\"bench\":\"ocsp\",\"case\":\"crypto\",\"issuer_key\":\"%s\","
        "\"cpus\":%d,\"threads\":%d,\"keys\":\"%s\",\"msg_len\":%zu,"
        "\"seconds\":%.2f,\"limit_per_s\":%.1f,\"nonce_req_per_s\":%.1f,"
        "\"ratio\":%.3f}\n",
        key_name, cpus, kCrypto[i].threads,
        kCrypto[i].shared ? "shared" : "own", fx.live_tbs_len, opts.seconds,
        rates[i], nonce_rate, rates[i] > 0 ? nonce_rate / rates[i] : 0);
  }
  fflush(stdout);
  rc = 0;
done:
  for (int id = 0; id < CASE_COUNT; id++) {
    free(results[id].lat.us);
  }
  fixture_cleanup(&fx);
  if (opts.server == NULL) {
    (void)it_pkid_stop(&pkid);
    it_db_drop(&db);
    if (rc != 0) {
      print_log_tail(pkid.log);
    }
    proc_remove_tree("bench", work);
  }
  return rc;
}
