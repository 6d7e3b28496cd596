// pkictl batch: a certificate for every CSR file of a directory, through
// POST /v1/certificates:batchIssue, several requests in flight, retried
// when the server asks for it, resumable.
//
// DESIGN: threads and queues.
//   reader (1 thread): walks --csr-dir with readdir, one name at a time (no
//     listing is kept: memory does not grow with the directory; a first
//     pass only counts the names, for the progress line's ETA). A CSR whose
//     certificate is already in --out-dir (valid PEM, the CSR's public key)
//     is counted and skipped. The others are read into chunks of
//     --batch-size items (at most CHUNK_BYTES of CSRs) pushed onto |todo|;
//     the last chunks of a run are smaller (next_chunk_size).
//   senders (--parallel threads, each with its own client and connection):
//     pop a chunk, POST it, retry it while the server answers that it may
//     be retried (503, a connection failure), and push the answered chunk
//     onto |done|.
//   writer (1 thread): pops answered chunks and writes each certificate to
//     a temporary file; once the chunk's are written, flushes them
//     (syncfs), renames each to <name>.pem and fsyncs the directory; lists
//     the refused items.
//   main: prints the progress line every 250 ms until the writer is done.
// |todo| and |done| hold at most --parallel chunks each, so at most
// 3 * parallel + 2 chunks exist at once (one being filled, |todo|, one per
// sender, |done|, one being written): memory is bounded by that times
// CHUNK_BYTES of CSRs (and their answers), whatever the directory holds.
// Ordering: none between chunks; a file's certificate is written once,
// by the writer alone.
//
// What "nothing twice" rests on: a certificate written is never asked for
// again (the resume check), and a request is re-sent only when the server
// said nothing of it was issued (503 QUEUE_FULL, BUFFERS_FULL,
// SHUTTING_DOWN; STORAGE_UNAVAILABLE but for a commit cut in flight) or
// when the connection failed. The windows left are counted in the summary
// and described in the README ("pkictl batch").
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "api/cli/pkictl.h"
#include "api/cli/pkictl_queue.h"
#include "api/client/client.h"
#include "ca/error.h"
#include "ca/limits.h"
#include "ca/x509/csr.h"
#include "ca/x509/pem.h"
#include "ca/x509/x509.h"
#include "proto/pki.pb-c.h"

// The defaults (README, "pkictl batch"). Four requests in flight keep the
// server's signing workers busy while an answer travels back and is
// written and the next request travels in; more only queue on the server.
// 1,000 items a request: past that a request costs no less per item
// (bench:issue), while a retry re-sends more and the progress moves less
// often; it is well under the server's default --max-batch-items (10,000),
// and a server with a lower limit (413 BATCH_TOO_LARGE) makes pkictl halve
// it. Five minutes of retries outlast a PostgreSQL restart or failover and
// a pkid restart.
#define DEFAULT_PARALLEL 4
#define DEFAULT_BATCH_SIZE 1000
#define DEFAULT_MAX_WAIT_S 300
#define MAX_PARALLEL 64

// The fewest CSRs of a request at the end of a run (next_chunk_size):
// below this, a request's own cost shows.
#define TAPER_MIN 64

// The CSR bytes of one request at most: under the server's default
// --max-body-bytes (32 MiB) with room for the protobuf framing.
#define CHUNK_BYTES (8 * 1024 * 1024)

// Retry backoff: the first wait, doubled after every retry, up to the cap;
// a Retry-After from the server is honoured when it is longer.
#define BACKOFF_FIRST_MS 250
#define BACKOFF_MAX_MS 8000

// Until pkid has answered once in this run, a connection failure is
// retried for this long at most, not --max-wait: a mistyped --server
// fails in seconds, not minutes.
#define FIRST_CONTACT_WAIT_S 10

// Without a progress line, a retry is announced on stderr at most this
// often.
#define RETRY_NOTICE_S 5

// The largest file name taken (NAME_MAX).
#define NAME_BYTES 256

typedef struct batch_flags {
  const char *profile, *csr_dir, *out_dir, *cluster;
  unsigned days, parallel, batch_size, max_wait;
  int json;
  const char *positional[1];
  int n_positional;
} batch_flags;

// One CSR file.
typedef struct batch_item {
  char name[NAME_BYTES];  // the file's name in --csr-dir
  uint8_t *csr;           // its bytes (malloc)
  size_t csr_len;
  int tmp_written;  // the writer: its certificate is in the temporary file
} batch_item;

// One request's worth of items, and its fate.
typedef struct batch_chunk {
  batch_item *items;  // malloc, room for |cap|, |n| of them used
  size_t n, cap;
  size_t bytes;
  Pki__V1__BatchIssueResponse *resp;  // the answer, or NULL
  // Set when the request failed as a whole for good.
  char code[64];
  char message[512];
} batch_chunk;

// The PEM of a chain (the issuing CA, the root), made once for every
// answer that carries the same one: every answer of a run from one issuing
// CA. Encoding the two CA certificates again for each file was a fifth of
// pkictl's CPU in a batch of P-256 CSRs.
typedef struct chain_pem {
  uint8_t *key;  // each certificate's length (4 bytes) and DER (OPENSSL_free)
  size_t key_len;
  uint8_t *pem;  // OPENSSL_free
  size_t pem_len;
} chain_pem;

typedef struct batch_run {
  const batch_flags *f;
  pki_client *clients[MAX_PARALLEL];
  pkictl_queue todo, done;  // of batch_chunk
  int out_fd;               // --out-dir, for fsync
  int out_had_pem;          // --out-dir held a .pem file when the run began
  chain_pem chain;          // the writer's: the last chain written, as PEM
  atomic_size_t batch_size;
  // Counters (README: the summary's fields).
  atomic_size_t files, total, issued, present, failed, not_sent, requests,
      retries, resent_unknown;
  atomic_int stop;      // set once a request failed for good: send no more
  atomic_int answered;  // pkid answered a request of this run
  int reader_failed;
  char stop_code[64], stop_message[512];  // under |out_mu|
  pthread_mutex_t out_mu;  // stdout, stderr, the JSON failures list
  size_t json_failures;    // under |out_mu|
  int progress;            // a terminal: draw the progress line
  int progress_drawn;      // under |out_mu|
  double last_notice;      // under |out_mu|: seconds_since(started)
  struct timespec started;
} batch_run;

// --- small helpers ---

static double seconds_since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) +
         (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static int to_days(const char *flag, const char *text, unsigned *out) {
  return pkictl_uint_in(flag, text, 1, 100000, out);
}

static int to_parallel(const char *flag, const char *text, unsigned *out) {
  return pkictl_uint_in(flag, text, 1, MAX_PARALLEL, out);
}

static int to_batch_size(const char *flag, const char *text, unsigned *out) {
  return pkictl_uint_in(flag, text, 1, CA_LIMIT_BATCH_ITEMS_MAX, out);
}

static int to_max_wait(const char *flag, const char *text, unsigned *out) {
  return pkictl_uint_in(flag, text, 0, 86400, out);
}

// json_string writes |s| as a JSON string.
static void json_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    if (*p == '"' || *p == '\\') {
      fprintf(out, "\\%c", *p);
    } else if (*p < 0x20 || *p == 0x7f) {
      fprintf(out, "\\u%04x", *p);
    } else {
      fputc(*p, out);
    }
  }
  fputc('"', out);
}

// clear_progress erases the progress line before another line is printed
// (with |out_mu| held).
static void clear_progress(batch_run *run) {
  if (run->progress_drawn) {
    fputs("\r\033[K", stderr);
    run->progress_drawn = 0;
  }
}

// report_failure lists a refused item: "DIR/NAME: CODE: message" on stderr
// and, with --json, an element of the "failures" array on stdout.
static void report_failure(batch_run *run, const char *name, const char *code,
                           const char *message) {
  atomic_fetch_add(&run->failed, 1);
  pthread_mutex_lock(&run->out_mu);
  clear_progress(run);
  fprintf(stderr, "%s/%s: %s: %s\n", run->f->csr_dir, name, code, message);
  if (run->f->json) {
    fputs(run->json_failures++ == 0 ? "\n" : ",\n", stdout);
    fputs("{\"file\":", stdout);
    json_string(stdout, name);
    fputs(",\"code\":", stdout);
    json_string(stdout, code);
    fputs(",\"message\":", stdout);
    json_string(stdout, message);
    fputc('}', stdout);
  }
  pthread_mutex_unlock(&run->out_mu);
}

// note_stop records the first reason the run stopped sending.
static void note_stop(batch_run *run, const char *code, const char *message) {
  pthread_mutex_lock(&run->out_mu);
  if (run->stop_code[0] == '\0') {
    snprintf(run->stop_code, sizeof(run->stop_code), "%s", code);
    snprintf(run->stop_message, sizeof(run->stop_message), "%s", message);
  }
  pthread_mutex_unlock(&run->out_mu);
  atomic_store(&run->stop, 1);
}

static void chunk_free(batch_chunk *c) {
  if (c == NULL) {
    return;
  }
  for (size_t i = 0; i < c->n; i++) {
    free(c->items[i].csr);
  }
  free(c->items);
  pki__v1__batch_issue_response__free_unpacked(c->resp, NULL);
  free(c);
}

// chunk_new returns an empty chunk with room for |cap| items, or NULL.
static batch_chunk *chunk_new(size_t cap) {
  batch_chunk *c = calloc(1, sizeof(*c));
  if (c == NULL) {
    return NULL;
  }
  c->items = calloc(cap, sizeof(*c->items));
  if (c->items == NULL) {
    free(c);
    return NULL;
  }
  c->cap = cap;
  return c;
}

// --- the resume check ---

// spki_key_id_of_csr sets |out| to the key identifier of the CSR |in|
// (PEM or DER); 0 when it cannot be read.
static int spki_key_id_of_csr(const uint8_t *in, size_t len,
                              uint8_t out[CA_KEY_ID_LEN]) {
  const uint8_t *der;
  size_t der_len;
  uint8_t *owned = NULL;
  ca_csr csr;
  int ret = 0;
  memset(&csr, 0, sizeof(csr));
  CA_GUARD(ca_csr_decode(in, len, &der, &der_len, &owned));
  CA_GUARD(ca_csr_parse(&csr, der, der_len));
  CA_GUARD(ca_spki_key_id(&csr.spki, out));
  ret = 1;
err:
  ca_csr_cleanup(&csr);
  OPENSSL_free(owned);
  return ret;
}

// spki_key_id_of_pem_cert sets |out| to the key identifier of the first
// certificate of the PEM file |name| of |dir_fd|; 0 when there is none or it
// is broken.
static int spki_key_id_of_pem_cert(int dir_fd, const char *name,
                                   uint8_t out[CA_KEY_ID_LEN]) {
  size_t len;
  uint8_t *text = NULL, *der = NULL;
  size_t der_len;
  CBS in, label;
  ca_x509 cert;
  int ret = 0;
  int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
  struct stat st;
  CA_ENSURE(fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0 &&
                st.st_size <= 1024 * 1024,
            CA_ERR_NOT_FOUND, "no certificate file");
  len = (size_t)st.st_size;
  text = malloc(len);
  CA_ENSURE(text != NULL, CA_ERR_NO_MEMORY, "out of memory");
  CA_ENSURE(read(fd, text, len) == (ssize_t)len, CA_ERR_NOT_FOUND,
            "short read");
  CBS_init(&in, text, len);
  CA_GUARD(ca_pem_next(&in, &label, &der, &der_len, 64 * 1024));
  CA_ENSURE(ca_pem_label_is(&label, "CERTIFICATE"), CA_ERR_PEM_MALFORMED,
            "not a certificate");
  CA_GUARD(ca_x509_parse(&cert, der, der_len));
  CA_GUARD(ca_spki_key_id(&cert.spki, out));
  ret = 1;
err:
  if (fd >= 0) {
    close(fd);
  }
  OPENSSL_free(der);
  free(text);
  return ret;
}

// out_name writes "<name without extension>.pem", the output's name in
// OUT_DIR, into |out|. Every output is reached relative to OUT_DIR's
// descriptor: no path walked from the root for each file.
static int out_name(const char *name, char *out, size_t len) {
  char base[NAME_BYTES];
  snprintf(base, sizeof(base), "%s", name);
  char *dot = strrchr(base, '.');
  if (dot != NULL && dot != base) {
    *dot = '\0';
  }
  const int n = snprintf(out, len, "%s.pem", base);
  return n > 0 && (size_t)n < len;
}

// already_issued says whether OUT_DIR holds the certificate of the CSR
// |csr|: a PEM certificate of the same public key, written before this
// run began (this run writes each file's certificate once). Anything else (no
// file, a broken one, another key: the CSR was replaced) means asking again.
static int already_issued(const batch_run *run, const char *name,
                          const uint8_t *csr, size_t csr_len) {
  char out[NAME_BYTES + 8];
  struct stat st;
  // A run into an empty directory looks for nothing: a lookup per file
  // was a fifteenth of pkictl's CPU there.
  if (!run->out_had_pem || !out_name(name, out, sizeof(out)) ||
      fstatat(run->out_fd, out, &st, 0) != 0) {
    return 0;
  }
  uint8_t want[CA_KEY_ID_LEN], have[CA_KEY_ID_LEN];
  const int same = spki_key_id_of_csr(csr, csr_len, want) &&
                   spki_key_id_of_pem_cert(run->out_fd, out, have) &&
                   memcmp(want, have, sizeof(want)) == 0;
  ca_err_clear();
  return same;
}

// --- the reader ---

// read_csr reads at most |max| bytes of DIR/|name| into a buffer of the
// file's size; it returns NULL with errno set (EFBIG for a larger file).
// One read into |scratch| (|max| + 1 bytes, the reader's): a regular
// file's read returns less than asked for only at its end, so the size
// needs no fstat and the end no second read.
static uint8_t *read_csr(int dir_fd, const char *name, uint8_t *scratch,
                         size_t max, size_t *out_len) {
  const int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return NULL;
  }
  size_t n = 0;
  int err = 0;
  for (;;) {
    const size_t asked = max + 1 - n;
    const ssize_t r = read(fd, scratch + n, asked);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r < 0) {
      err = errno;
      break;
    }
    n += (size_t)r;
    if ((size_t)r < asked || n > max) {
      break;  // short: the end of the file; or more than |max|
    }
  }
  close(fd);
  if (err == 0 && n > max) {
    err = EFBIG;
  }
  uint8_t *buf = err == 0 ? malloc(n > 0 ? n : 1) : NULL;
  if (err == 0 && buf == NULL) {
    err = ENOMEM;
  }
  if (err != 0) {
    errno = err;
    return NULL;
  }
  memcpy(buf, scratch, n);
  *out_len = n;
  return buf;
}

// is_csr_file says whether the entry |e| of |dir_fd| is a file to issue
// for: a regular file (followed through a link) whose name does not start
// with '.'.
static int is_csr_file(int dir_fd, const struct dirent *e) {
  if (e->d_name[0] == '.' || strlen(e->d_name) >= NAME_BYTES) {
    return 0;
  }
  if (e->d_type == DT_REG) {
    return 1;
  }
  if (e->d_type != DT_UNKNOWN && e->d_type != DT_LNK) {
    return 0;
  }
  struct stat st;
  return fstatat(dir_fd, e->d_name, &st, 0) == 0 && S_ISREG(st.st_mode);
}

// count_files counts the CSR files of |dir| (names only), for the ETA.
static size_t count_files(const char *dir) {
  DIR *d = opendir(dir);
  size_t n = 0;
  if (d == NULL) {
    return 0;
  }
  const struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    n += is_csr_file(dirfd(d), e);
  }
  closedir(d);
  return n;
}

// next_chunk_size returns the number of CSRs the reader puts into the next
// request: --batch-size (or less, once a 413 halved it), but less again
// when fewer files are left than --parallel full requests would take. Then
// each request takes a --parallel-th of what is left, down to TAPER_MIN:
// the last requests are signed side by side and end together, instead of
// one full request being signed, committed and written at the end while
// the rest of the machine waits (in a run of 20,000 P-256 CSRs, 60 ms of
// one core idle out of 3.5 s). |total| is the count made before reading:
// files added since are sent TAPER_MIN at a time.
static size_t next_chunk_size(batch_run *run) {
  const size_t cap = atomic_load(&run->batch_size);
  const size_t total = atomic_load(&run->total);
  const size_t taken = atomic_load(&run->files);  // the current one included
  const size_t left = total >= taken ? total - taken + 1 : 0;
  size_t size = left / run->f->parallel;
  size = size < TAPER_MIN ? TAPER_MIN : size;
  return size < cap ? size : cap;
}

// reader_take handles one CSR file: skipped when already issued, a local
// failure when unreadable, else added to |*chunk|, which is pushed when
// full. It returns 0 when out of memory.
static int reader_take(batch_run *run, int dir_fd, const char *name,
                       uint8_t *scratch, batch_chunk **chunk) {
  atomic_fetch_add(&run->files, 1);
  size_t len = 0;
  uint8_t *csr = read_csr(dir_fd, name, scratch, CA_LIMIT_PEM_BODY_BYTES, &len);
  if (csr == NULL) {
    report_failure(run, name,
                   errno == EFBIG ? "CSR_TOO_LARGE" : "FILE_UNREADABLE",
                   errno == EFBIG ? "larger than 128 KiB" : strerror(errno));
    return 1;
  }
  if (already_issued(run, name, csr, len)) {
    free(csr);
    atomic_fetch_add(&run->present, 1);
    return 1;
  }
  if (*chunk == NULL && (*chunk = chunk_new(next_chunk_size(run))) == NULL) {
    free(csr);
    return 0;
  }
  batch_chunk *c = *chunk;
  batch_item *item = &c->items[c->n++];
  snprintf(item->name, sizeof(item->name), "%s", name);
  item->csr = csr;
  item->csr_len = len;
  c->bytes += len;
  if (c->n >= c->cap || c->n >= atomic_load(&run->batch_size) ||
      c->bytes >= CHUNK_BYTES) {
    pkictl_queue_push(&run->todo, c);
    *chunk = NULL;
  }
  return 1;
}

static void *reader_main(void *arg) {
  batch_run *run = arg;
  uint8_t *scratch = malloc(CA_LIMIT_PEM_BODY_BYTES + 1);
  DIR *d = scratch != NULL ? opendir(run->f->csr_dir) : NULL;
  batch_chunk *chunk = NULL;
  if (d == NULL) {
    pthread_mutex_lock(&run->out_mu);
    fprintf(stderr, "pkictl: %s: %s\n", run->f->csr_dir,
            scratch != NULL ? strerror(errno) : "out of memory");
    pthread_mutex_unlock(&run->out_mu);
    run->reader_failed = 1;
  } else {
    const struct dirent *e;
    while (!atomic_load(&run->stop) && (e = readdir(d)) != NULL) {
      if (is_csr_file(dirfd(d), e) &&
          !reader_take(run, dirfd(d), e->d_name, scratch, &chunk)) {
        note_stop(run, "NO_MEMORY", "out of memory reading the CSRs");
        run->reader_failed = 1;
      }
    }
    closedir(d);
  }
  free(scratch);
  if (chunk != NULL && chunk->n > 0) {
    pkictl_queue_push(&run->todo, chunk);
  } else {
    chunk_free(chunk);
  }
  pkictl_queue_close(&run->todo);
  return NULL;
}

// --- the senders ---

// The 503 answers that say nothing of the request was issued (README,
// "Error codes") and that it may be sent again.
static int retryable_code(const char *code) {
  return strcmp(code, "QUEUE_FULL") == 0 || strcmp(code, "BUFFERS_FULL") == 0 ||
         strcmp(code, "SHUTTING_DOWN") == 0 ||
         strcmp(code, "STORAGE_UNAVAILABLE") == 0;
}

// pack_request returns the body of a batchIssue request of |c| (malloc).
static uint8_t *pack_request(const batch_flags *f, const batch_chunk *c,
                             size_t *out_len) {
  Pki__V1__IssueRequest *items = calloc(c->n, sizeof(*items));
  Pki__V1__IssueRequest **ptrs = calloc(c->n, sizeof(*ptrs));
  uint8_t *body = NULL;
  if (items != NULL && ptrs != NULL) {
    for (size_t i = 0; i < c->n; i++) {
      pki__v1__issue_request__init(&items[i]);
      items[i].csr.data = c->items[i].csr;
      items[i].csr.len = c->items[i].csr_len;
      items[i].validity_days = f->days;
      ptrs[i] = &items[i];
    }
    Pki__V1__BatchIssueRequest req = PKI__V1__BATCH_ISSUE_REQUEST__INIT;
    req.profile = (char *)f->profile;
    req.cluster = (char *)(f->cluster != NULL ? f->cluster : "");
    req.n_items = c->n;
    req.items = ptrs;
    *out_len = pki__v1__batch_issue_request__get_packed_size(&req);
    body = malloc(*out_len + 1);
    if (body != NULL) {
      pki__v1__batch_issue_request__pack(&req, body);
    }
  }
  free(items);
  free(ptrs);
  return body;
}

// The outcome of one attempt.
typedef enum attempt_result {
  ATTEMPT_DONE,   // answered: c->resp, or c->code for a final refusal
  ATTEMPT_RETRY,  // may be sent again after |*wait_ms|
  ATTEMPT_SPLIT,  // too large for the server: send it in halves
} attempt_result;

// attempt sends |c| once.
// |*unknown| is set when the request may have been committed although
// no certificate came back.
static attempt_result attempt(batch_run *run, pki_client *client,
                              batch_chunk *c, long *wait_ms, int *unknown,
                              char *why, size_t why_len) {
  size_t len = 0;
  uint8_t *body = pack_request(run->f, c, &len);
  pki_reply reply;
  memset(&reply, 0, sizeof(reply));
  attempt_result result = ATTEMPT_DONE;
  char code[64] = "", message[512] = "";
  *wait_ms = 0;
  *unknown = 0;
  if (body == NULL) {
    snprintf(c->code, sizeof(c->code), "NO_MEMORY");
    snprintf(c->message, sizeof(c->message), "out of memory");
    return ATTEMPT_DONE;
  }
  atomic_fetch_add(&run->requests, 1);
  if (!pki_client_call(client, "POST", "/v1/certificates:batchIssue",
                       "application/x-protobuf", body, len, &reply)) {
    snprintf(why, why_len, "CONNECTION_FAILED: %s", ca_err_get()->message);
    ca_err_clear();
    // Sent whole, the request may have been signed and committed before
    // the connection broke: re-sending it may issue those again.
    *unknown = pki_client_failure_sent(client);
    result = ATTEMPT_RETRY;
  } else if (reply.status == 200) {
    atomic_store(&run->answered, 1);
    c->resp =
        pki__v1__batch_issue_response__unpack(NULL, reply.body_len, reply.body);
    if (c->resp == NULL || c->resp->n_results != c->n) {
      snprintf(c->code, sizeof(c->code), "REPLY_MALFORMED");
      snprintf(c->message, sizeof(c->message),
               "the answer is not a BatchIssueResponse of %zu results", c->n);
      pki__v1__batch_issue_response__free_unpacked(c->resp, NULL);
      c->resp = NULL;
    }
  } else {
    atomic_store(&run->answered, 1);
    pki_reply_error(&reply, code, sizeof(code), message, sizeof(message));
    snprintf(why, why_len, "%s: %s", code, message);
    if (reply.status == 413 && c->n > 1 &&
        (strcmp(code, "BATCH_TOO_LARGE") == 0 ||
         strcmp(code, "BODY_TOO_LARGE") == 0)) {
      result = ATTEMPT_SPLIT;
    } else if (reply.status == 503 || reply.status == 502 ||
               reply.status == 504 || retryable_code(code)) {
      // A commit cut in flight may have been durable (README, "When
      // PostgreSQL is down"): the one 503 of pkid after which a retry may
      // issue twice. A proxy's 502 or 504 may follow a request that reached
      // pkid.
      *unknown = strcmp(code, "STORAGE_UNAVAILABLE") == 0 ||
                 reply.status == 502 || reply.status == 504;
      *wait_ms = reply.retry_after * 1000;
      result = ATTEMPT_RETRY;
    } else {
      snprintf(c->code, sizeof(c->code), "%s", code);
      snprintf(c->message, sizeof(c->message), "%s", message);
    }
  }
  pki_reply_cleanup(&reply);
  free(body);
  return result;
}

static void send_chunk(batch_run *run, pki_client *client, batch_chunk *c,
                       unsigned *seed);

// notice_retry says on stderr why a request waits, when no progress line
// shows it, at most every RETRY_NOTICE_S seconds.
static void notice_retry(batch_run *run, const char *why, long wait_ms) {
  if (run->progress) {
    return;
  }
  const double now = seconds_since(&run->started);
  pthread_mutex_lock(&run->out_mu);
  if (run->last_notice == 0 || now - run->last_notice >= RETRY_NOTICE_S) {
    run->last_notice = now;
    fprintf(stderr, "pkictl: %s; retrying in %.1f s\n", why,
            (double)wait_ms / 1000);
  }
  pthread_mutex_unlock(&run->out_mu);
}

// split_and_send sends |c| as two requests of half its items, and remembers
// the smaller size for the chunks read next.
static void split_and_send(batch_run *run, pki_client *client, batch_chunk *c,
                           unsigned *seed) {
  const size_t half = c->n / 2;
  size_t size = atomic_load(&run->batch_size);
  while (size > half && size > 1 &&
         !atomic_compare_exchange_weak(&run->batch_size, &size, half)) {
  }
  batch_chunk *second = chunk_new(c->n - half);
  if (second == NULL) {
    snprintf(c->code, sizeof(c->code), "NO_MEMORY");
    snprintf(c->message, sizeof(c->message), "out of memory");
    pkictl_queue_push(&run->done, c);
    return;
  }
  memcpy(second->items, c->items + half, (c->n - half) * sizeof(*c->items));
  second->n = c->n - half;
  c->n = half;
  send_chunk(run, client, c, seed);
  send_chunk(run, client, second, seed);
}

// send_chunk sends |c| until it is answered, the server refuses it for good
// or --max-wait is spent, then hands it to the writer.
static void send_chunk(batch_run *run, pki_client *client, batch_chunk *c,
                       unsigned *seed) {
  struct timespec first;
  clock_gettime(CLOCK_MONOTONIC, &first);
  long backoff = BACKOFF_FIRST_MS;
  char why[600] = "";
  int counted = 0;  // in resent_unknown
  for (;;) {
    if (atomic_load(&run->stop)) {
      snprintf(c->code, sizeof(c->code), "NOT_SENT");
      snprintf(c->message, sizeof(c->message),
               "not sent: the run stopped (see above)");
      break;
    }
    long wait_ms;
    int unknown;
    const attempt_result r =
        attempt(run, client, c, &wait_ms, &unknown, why, sizeof(why));
    if (r == ATTEMPT_SPLIT) {
      split_and_send(run, client, c, seed);
      return;
    }
    if (r == ATTEMPT_DONE) {
      break;
    }
    // Jitter (up to a quarter more) keeps the senders from retrying in
    // step.
    long wait = backoff + (long)(rand_r(seed) % (unsigned)(backoff / 4 + 1));
    if (wait_ms > wait) {
      wait = wait_ms;
    }
    backoff = backoff * 2 < BACKOFF_MAX_MS ? backoff * 2 : BACKOFF_MAX_MS;
    const unsigned limit_s =
        atomic_load(&run->answered) || run->f->max_wait < FIRST_CONTACT_WAIT_S
            ? run->f->max_wait
            : FIRST_CONTACT_WAIT_S;
    if (seconds_since(&first) * 1000 + (double)wait > (double)limit_s * 1000) {
      const char *colon = strchr(why, ':');
      snprintf(c->code, sizeof(c->code), "%.*s",
               colon != NULL ? (int)(colon - why) : (int)strlen(why), why);
      snprintf(c->message, sizeof(c->message), "%s (retried for %.0f s)",
               colon != NULL ? colon + 2 : why, seconds_since(&first));
      break;
    }
    atomic_fetch_add(&run->retries, 1);
    notice_retry(run, why, wait);
    // Counted once per request: the summary names requests, not attempts.
    if (unknown && !counted) {
      atomic_fetch_add(&run->resent_unknown, 1);
      counted = 1;
    }
    sleep_ms(wait);
  }
  if (c->resp == NULL && strcmp(c->code, "NOT_SENT") != 0) {
    // Refused as a whole: every other request would be too (credentials,
    // profile, a server gone for longer than --max-wait).
    note_stop(run, c->code, c->message);
  }
  pkictl_queue_push(&run->done, c);
}

typedef struct sender_arg {
  batch_run *run;
  pki_client *client;
  unsigned seed;
} sender_arg;

static void *sender_main(void *arg) {
  sender_arg *a = arg;
  batch_chunk *c;
  while ((c = pkictl_queue_pop(&a->run->todo)) != NULL) {
    send_chunk(a->run, a->client, c, &a->seed);
  }
  return NULL;
}

// --- the writer ---

// The files of an answered chunk are written in three steps, so that a
// kill or a crash leaves the old file, or none, or the whole new one,
// never part of it, at the cost of one flush per chunk rather than one
// per file:
//   1. each certificate to a temporary file ".<name>.pem.tmp" (a leading
//      dot, so a --csr-dir listing never takes it and a later run removes
//      what a kill left);
//   2. syncfs(): every temporary file's data on disk;
//   3. each renamed to <name>.pem, then the directory fsynced: the chunk
//      counts as done.

static void tmp_name(const char *out, char *tmp, size_t len) {
  snprintf(tmp, len, ".%s.tmp", out);
}

// write_all writes |len| bytes of |iov| (|n| parts) to |fd|.
static int write_all(int fd, struct iovec *iov, int n, size_t len) {
  size_t done = 0;
  while (done < len) {
    const ssize_t w = writev(fd, iov, n);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w <= 0) {
      return 0;
    }
    done += (size_t)w;
    // A short write: skip what went out.
    size_t skip = (size_t)w;
    while (n > 0 && skip >= iov->iov_len) {
      skip -= iov->iov_len;
      iov++;
      n--;
    }
    if (n > 0) {
      iov->iov_base = (uint8_t *)iov->iov_base + skip;
      iov->iov_len -= skip;
    }
  }
  return 1;
}

// write_tmp writes |head| then |tail| to OUT_DIR's temporary file of
// |out| (step 1).
static int write_tmp(batch_run *run, const char *out, const uint8_t *head,
                     size_t head_len, const uint8_t *tail, size_t tail_len,
                     char *why, size_t why_len) {
  char tmp[NAME_BYTES + 16];
  tmp_name(out, tmp, sizeof(tmp));
  const int fd =
      openat(run->out_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    snprintf(why, why_len, "%s/%s: %s", run->f->out_dir, tmp, strerror(errno));
    return 0;
  }
  struct iovec iov[2] = {{(void *)head, head_len}, {(void *)tail, tail_len}};
  const int ok = write_all(fd, iov, tail_len > 0 ? 2 : 1, head_len + tail_len);
  const int saved = errno;
  if (close(fd) != 0 || !ok) {
    snprintf(why, why_len, "%s/%s: %s", run->f->out_dir, tmp,
             strerror(ok ? errno : saved));
    (void)unlinkat(run->out_fd, tmp, 0);
    return 0;
  }
  return 1;
}

// chain_key writes the lengths and DER of |c|'s chain into |*out|
// (OPENSSL_free), the key of chain_pem.
static int chain_key(const Pki__V1__IssuedCertificate *c, uint8_t **out,
                     size_t *out_len) {
  CBB cbb;
  if (!CBB_init(&cbb, 4096)) {
    return 0;
  }
  for (size_t i = 0; i < c->n_chain; i++) {
    if (!CBB_add_u32(&cbb, (uint32_t)c->chain[i].len) ||
        !CBB_add_bytes(&cbb, c->chain[i].data, c->chain[i].len)) {
      CBB_cleanup(&cbb);
      return 0;
    }
  }
  if (!CBB_finish(&cbb, out, out_len)) {
    CBB_cleanup(&cbb);
    return 0;
  }
  return 1;
}

// chain_matches says whether |c|'s chain is the one |cache| holds.
static int chain_matches(const chain_pem *cache,
                         const Pki__V1__IssuedCertificate *c) {
  if (cache->pem == NULL) {
    return 0;
  }
  CBS key;
  CBS_init(&key, cache->key, cache->key_len);
  for (size_t i = 0; i < c->n_chain; i++) {
    uint32_t len;
    CBS der;
    if (!CBS_get_u32(&key, &len) || len != c->chain[i].len ||
        !CBS_get_bytes(&key, &der, len) ||
        memcmp(CBS_data(&der), c->chain[i].data, len) != 0) {
      return 0;
    }
  }
  return CBS_len(&key) == 0;
}

// chain_of returns the PEM of |c|'s chain, from |cache| when it is the
// chain written last (the cache owns it); NULL when out of memory.
static const uint8_t *chain_of(chain_pem *cache,
                               const Pki__V1__IssuedCertificate *c,
                               size_t *out_len) {
  if (chain_matches(cache, c)) {
    *out_len = cache->pem_len;
    return cache->pem;
  }
  uint8_t *key;
  size_t key_len;
  if (!chain_key(c, &key, &key_len)) {
    return NULL;
  }
  CBB cbb;
  uint8_t *pem = NULL;
  size_t pem_len = 0;
  int ok = CBB_init(&cbb, 4096);
  for (size_t i = 0; ok && i < c->n_chain; i++) {
    ok = ca_pem_add(&cbb, "CERTIFICATE", c->chain[i].data, c->chain[i].len);
  }
  if (!ok || !CBB_finish(&cbb, &pem, &pem_len)) {
    CBB_cleanup(&cbb);
    OPENSSL_free(key);
    return NULL;
  }
  OPENSSL_free(cache->key);
  OPENSSL_free(cache->pem);
  *cache = (chain_pem){key, key_len, pem, pem_len};
  *out_len = pem_len;
  return pem;
}

// write_result writes item |i| of the answered chunk |c| to its temporary
// file (step 1), or lists it.
static void write_result(batch_run *run, batch_chunk *c, size_t i) {
  batch_item *item = &c->items[i];
  const Pki__V1__IssueResult *r = c->resp->results[i];
  if (r->certificate == NULL) {
    report_failure(run, item->name,
                   r->error != NULL ? r->error->code : "INTERNAL",
                   r->error != NULL ? r->error->message : "no result");
    return;
  }
  char out[NAME_BYTES + 8], why[4600] = "out of memory";
  CBB leaf;
  uint8_t *leaf_pem = NULL;
  size_t leaf_len = 0, chain_len = 0;
  const uint8_t *chain = chain_of(&run->chain, r->certificate, &chain_len);
  if (CBB_init(&leaf, 2048) &&
      ca_pem_add(&leaf, "CERTIFICATE", r->certificate->certificate.data,
                 r->certificate->certificate.len) &&
      CBB_finish(&leaf, &leaf_pem, &leaf_len) && chain != NULL &&
      out_name(item->name, out, sizeof(out)) &&
      write_tmp(run, out, leaf_pem, leaf_len, chain, chain_len, why,
                sizeof(why))) {
    item->tmp_written = 1;
  } else {
    CBB_cleanup(&leaf);
    report_failure(run, item->name, "WRITE_FAILED", why);
  }
  OPENSSL_free(leaf_pem);
}

// finish_chunk flushes the temporary files of |c| (step 2) and renames
// them (step 3); a failed flush fails them all.
static void finish_chunk(batch_run *run, batch_chunk *c) {
  const int flushed = syncfs(run->out_fd) == 0;
  const int flush_errno = errno;
  for (size_t i = 0; i < c->n; i++) {
    batch_item *item = &c->items[i];
    if (!item->tmp_written) {
      continue;
    }
    char out[NAME_BYTES + 8], tmp[NAME_BYTES + 16], why[600];
    (void)out_name(item->name, out, sizeof(out));  // done in step 1
    tmp_name(out, tmp, sizeof(tmp));
    if (flushed && renameat(run->out_fd, tmp, run->out_fd, out) == 0) {
      atomic_fetch_add(&run->issued, 1);
      continue;
    }
    snprintf(why, sizeof(why), "%s/%s: %s", run->f->out_dir, out,
             strerror(flushed ? errno : flush_errno));
    (void)unlinkat(run->out_fd, tmp, 0);
    report_failure(run, item->name, "WRITE_FAILED", why);
  }
  // The renames of the chunk reach the disk before it counts as done.
  if (fsync(run->out_fd) != 0) {
    pthread_mutex_lock(&run->out_mu);
    clear_progress(run);
    fprintf(stderr, "pkictl: fsync %s: %s\n", run->f->out_dir, strerror(errno));
    pthread_mutex_unlock(&run->out_mu);
  }
}

static void *writer_main(void *arg) {
  batch_run *run = arg;
  batch_chunk *c;
  while ((c = pkictl_queue_pop(&run->done)) != NULL) {
    for (size_t i = 0; i < c->n; i++) {
      if (c->resp != NULL) {
        write_result(run, c, i);
      } else if (strcmp(c->code, "NOT_SENT") == 0) {
        atomic_fetch_add(&run->not_sent, 1);
      } else {
        report_failure(run, c->items[i].name, c->code, c->message);
      }
    }
    if (c->resp != NULL) {
      finish_chunk(run, c);
    }
    chunk_free(c);
  }
  OPENSSL_free(run->chain.key);
  OPENSSL_free(run->chain.pem);
  return NULL;
}

// --- progress and summary ---

static void print_progress(batch_run *run) {
  const size_t issued = atomic_load(&run->issued),
               failed = atomic_load(&run->failed),
               present = atomic_load(&run->present),
               total = atomic_load(&run->total);
  const double t = seconds_since(&run->started);
  const double rate = t > 0 ? (double)(issued + failed) / t : 0;
  const size_t done = issued + failed + present;
  char eta[32] = "-";
  if (rate > 0 && total >= done) {
    const long s = (long)((double)(total - done) / rate + 0.5);
    snprintf(eta, sizeof(eta), "%ld:%02ld", s / 60, s % 60);
  }
  pthread_mutex_lock(&run->out_mu);
  fprintf(stderr,
          "\r%zu/%zu done: %zu issued, %zu already, %zu failed; %.0f/s; "
          "ETA %s; %zu retries\033[K",
          done, total, issued, present, failed, rate, eta,
          atomic_load(&run->retries));
  run->progress_drawn = 1;
  pthread_mutex_unlock(&run->out_mu);
}

static void print_summary(batch_run *run) {
  const double t = seconds_since(&run->started);
  const size_t issued = atomic_load(&run->issued);
  const double rate = t > 0 ? (double)issued / t : 0;
  const size_t resent = atomic_load(&run->resent_unknown);
  pthread_mutex_lock(&run->out_mu);
  clear_progress(run);
  if (run->stop_code[0] != '\0') {
    fprintf(stderr, "pkictl: stopped: %s: %s\n", run->stop_code,
            run->stop_message);
  }
  if (resent > 0) {
    fprintf(stderr,
            "pkictl: %zu request(s) were sent again after an answer that "
            "may have followed a commit (a broken connection, "
            "STORAGE_UNAVAILABLE): their certificates may have been issued "
            "twice (README, \"pkictl batch\")\n",
            resent);
  }
  if (run->f->json) {
    fprintf(stdout,
            "%s],\"issued\":%zu,\"already_issued\":%zu,\"failed\":%zu,"
            "\"not_sent\":%zu,\"files\":%zu,\"requests\":%zu,\"retries\":%zu,"
            "\"resent_after_unknown_outcome\":%zu,\"seconds\":%.3f,"
            "\"certs_per_s\":%.1f,\"stopped\":",
            run->json_failures > 0 ? "\n" : "", issued,
            atomic_load(&run->present), atomic_load(&run->failed),
            atomic_load(&run->not_sent), atomic_load(&run->files),
            atomic_load(&run->requests), atomic_load(&run->retries), resent, t,
            rate);
    if (run->stop_code[0] != '\0') {
      fputs("{\"code\":", stdout);
      json_string(stdout, run->stop_code);
      fputs(",\"message\":", stdout);
      json_string(stdout, run->stop_message);
      fputs("}}\n", stdout);
    } else {
      fputs("null}\n", stdout);
    }
  } else {
    fprintf(stdout,
            "%zu issued, %zu failed, %zu files (%zu already issued, %zu not "
            "sent); %zu requests, %zu retries; %.1f s, %.0f/s\n",
            issued, atomic_load(&run->failed), atomic_load(&run->files),
            atomic_load(&run->present), atomic_load(&run->not_sent),
            atomic_load(&run->requests), atomic_load(&run->retries), t, rate);
  }
  fflush(stdout);
  pthread_mutex_unlock(&run->out_mu);
}

// --- the command ---

static int parse(int argc, char **argv, batch_flags *f) {
  static const pkictl_flag kFlags[] = {
      PKICTL_STRING_FLAG("--profile", batch_flags, profile),
      PKICTL_STRING_FLAG("--csr-dir", batch_flags, csr_dir),
      PKICTL_STRING_FLAG("--out-dir", batch_flags, out_dir),
      PKICTL_STRING_FLAG("--cluster", batch_flags, cluster),
      PKICTL_UINT_FLAG("--days", batch_flags, days, to_days),
      PKICTL_UINT_FLAG("--parallel", batch_flags, parallel, to_parallel),
      PKICTL_UINT_FLAG("--batch-size", batch_flags, batch_size, to_batch_size),
      PKICTL_UINT_FLAG("--max-wait", batch_flags, max_wait, to_max_wait),
      PKICTL_BOOL_FLAG("--json", batch_flags, json),
  };
  static const pkictl_flag_spec kSpec = {
      kFlags,
      PKICTL_COUNT(kFlags),
      sizeof(batch_flags),
      0,
      "usage: pkictl batch --profile P --csr-dir DIR --out-dir DIR [--days N]\n"
      "       [--cluster C] [--parallel N] [--batch-size N] [--max-wait S]\n"
      "       [--json]\n",
  };
  // --max-wait 0 (no retries) is a value of its own, not "unset".
  int max_wait_set = 0;
  for (int i = 0; i < argc; i++) {
    max_wait_set |= strcmp(argv[i], "--max-wait") == 0;
  }
  if (!pkictl_parse_flags(&kSpec, argc, argv, f, f->positional,
                          &f->n_positional)) {
    return 0;
  }
  if (f->profile == NULL || f->csr_dir == NULL || f->out_dir == NULL) {
    fprintf(stderr,
            "pkictl batch: --profile, --csr-dir and --out-dir are required\n");
    return 0;
  }
  if (f->parallel == 0) {
    f->parallel = DEFAULT_PARALLEL;
  }
  if (f->batch_size == 0) {
    f->batch_size = DEFAULT_BATCH_SIZE;
  }
  if (!max_wait_set) {
    f->max_wait = DEFAULT_MAX_WAIT_S;
  }
  return 1;
}

// open_out_dir makes --out-dir if needed, refuses --csr-dir itself (its
// .pem files would be read as CSRs by the next run), removes the temporary
// files a killed run left, sets |*had_pem| when it holds a .pem file and
// returns the directory's descriptor, or -1.
static int open_out_dir(const batch_flags *f, int *had_pem) {
  if (mkdir(f->out_dir, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "pkictl: %s: %s\n", f->out_dir, strerror(errno));
    return -1;
  }
  struct stat in, out;
  if (stat(f->csr_dir, &in) != 0) {
    fprintf(stderr, "pkictl: %s: %s\n", f->csr_dir, strerror(errno));
    return -1;
  }
  const int fd = open(f->out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &out) != 0) {
    fprintf(stderr, "pkictl: %s: %s\n", f->out_dir, strerror(errno));
    if (fd >= 0) {
      close(fd);
    }
    return -1;
  }
  if (in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
    fprintf(stderr, "pkictl: --out-dir must not be --csr-dir\n");
    close(fd);
    return -1;
  }
  // A listing that fails counts as one that found a .pem file: each CSR's
  // certificate is then looked for, as it must be when resuming.
  *had_pem = 1;
  DIR *d = fdopendir(dup(fd));
  if (d != NULL) {
    const struct dirent *e;
    *had_pem = 0;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
      const size_t n = strlen(e->d_name);
      if (e->d_name[0] == '.' && n > 9 &&
          strcmp(e->d_name + n - 8, ".pem.tmp") == 0) {
        (void)unlinkat(fd, e->d_name, 0);
      } else if (n > 4 && strcmp(e->d_name + n - 4, ".pem") == 0) {
        *had_pem = 1;
      }
    }
    *had_pem |= errno != 0;
    closedir(d);
  }
  return fd;
}

// run_threads starts the writer, the senders and the reader and waits for
// them: the senders end once the reader closed |todo| and it is empty, the
// writer once |done| is closed after them and empty.
static int run_threads(batch_run *run) {
  pthread_t reader, writer, senders[MAX_PARALLEL];
  sender_arg args[MAX_PARALLEL];
  const unsigned parallel = run->f->parallel;
  unsigned started = 0;
  if (pthread_create(&writer, NULL, writer_main, run) != 0) {
    return 0;
  }
  for (; started < parallel; started++) {
    args[started] = (sender_arg){run, run->clients[started],
                                 (unsigned)getpid() * 2654435761u + started};
    if (pthread_create(&senders[started], NULL, sender_main, &args[started]) !=
        0) {
      break;
    }
  }
  const int reading =
      started > 0 && pthread_create(&reader, NULL, reader_main, run) == 0;
  if (!reading) {
    pkictl_queue_close(&run->todo);
  }
  for (unsigned k = 0; k < started; k++) {
    pthread_join(senders[k], NULL);
  }
  pkictl_queue_close(&run->done);
  if (reading) {
    pthread_join(reader, NULL);
  }
  pthread_join(writer, NULL);
  return reading && !run->reader_failed;
}

typedef struct progress_arg {
  batch_run *run;
  atomic_int finished;
} progress_arg;

static void *progress_main(void *arg) {
  progress_arg *p = arg;
  while (!atomic_load(&p->finished)) {
    print_progress(p->run);
    sleep_ms(250);
  }
  return NULL;
}

int pkictl_batch(pki_client *client, int argc, char **argv) {
  batch_flags f;
  memset(&f, 0, sizeof(f));
  if (!parse(argc, argv, &f)) {
    return 2;
  }
  batch_run *run = calloc(1, sizeof(*run));
  int rc = 1, queues = 0, mu = 0;
  if (run == NULL) {
    return 1;
  }
  run->f = &f;
  run->out_fd = -1;
  atomic_store(&run->batch_size, f.batch_size);
  if (pthread_mutex_init(&run->out_mu, NULL) != 0) {
    goto done;
  }
  mu = 1;
  if (!pkictl_queue_init(&run->todo, f.parallel)) {
    goto done;
  }
  if (!pkictl_queue_init(&run->done, f.parallel)) {
    pkictl_queue_destroy(&run->todo);
    goto done;
  }
  queues = 1;
  if ((run->out_fd = open_out_dir(&f, &run->out_had_pem)) < 0) {
    goto done;
  }
  // The first sender uses pkictl's own client; the others copies of it.
  run->clients[0] = client;
  for (unsigned k = 1; k < f.parallel; k++) {
    if ((run->clients[k] = pki_client_dup(client)) == NULL) {
      fprintf(stderr, "pkictl: cannot make a client\n");
      goto done;
    }
  }
  run->progress = isatty(STDERR_FILENO);
  clock_gettime(CLOCK_MONOTONIC, &run->started);
  atomic_store(&run->total, count_files(f.csr_dir));
  if (f.json) {
    fputs("{\"failures\":[", stdout);
  }
  progress_arg progress = {run, 0};
  pthread_t progress_thread;
  const int drawing =
      run->progress &&
      pthread_create(&progress_thread, NULL, progress_main, &progress) == 0;
  const int ok = run_threads(run);
  if (drawing) {
    atomic_store(&progress.finished, 1);
    pthread_join(progress_thread, NULL);
  }
  print_summary(run);
  rc = ok && atomic_load(&run->failed) == 0 &&
               atomic_load(&run->not_sent) == 0 && run->stop_code[0] == '\0'
           ? 0
           : 1;
done:
  for (unsigned k = 1; k < MAX_PARALLEL; k++) {
    pki_client_free(run->clients[k]);
  }
  if (run->out_fd >= 0) {
    close(run->out_fd);
  }
  if (queues) {
    pkictl_queue_destroy(&run->todo);
    pkictl_queue_destroy(&run->done);
  }
  if (mu) {
    pthread_mutex_destroy(&run->out_mu);
  }
  free(run);
  return rc;
}
