// pkictl revoke: one certificate (SERIAL), the serials of a file
// (--serials-file), or the certificates a selection finds (--select), the
// last two through POST /v1/certificates:batchRevoke.
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cli/pkictl.h"
#include "api/cli/pkictl_json.h"
#include "api/cli/pkictl_queue.h"
#include "ca/limits.h"
#include "ca/x509/asn1_time.h"
#include "ca/x509/reason.h"
#include "proto/pki.pb-c.h"

// The longest serial accepted (hex of 20 octets with ':' separators and
// "0x", with room to spare) and CA name, and the longest line of a serials
// file.
#define SERIAL_TEXT_MAX 128
#define ISSUER_TEXT_MAX 64
#define LINE_MAX_BYTES 512

// Batches in flight at once (--parallel), each on a connection of its own.
// One batch is one PostgreSQL transaction on one backend, so one at a time
// leaves the database's other cores idle; two use a second where there is
// one to spare (on a 2-core machine shared with pkid, bench:revoke measured
// 0.84 to 1.30 times one at a time: README, "Revocation").
#define DEFAULT_PARALLEL 2
#define MAX_PARALLEL 16

typedef struct revoke_flags {
  const char *reason, *issuer, *time, *serials_file, *cluster, *profile, *cn,
      *issued_before, *issued_after;
  int select, dry_run;
  unsigned batch_items, parallel;
  const char *positional[2];
  int n_positional;
} revoke_flags;

static int to_batch_items(const char *flag, const char *value, unsigned *out) {
  return pkictl_uint_in(flag, value, 1, CA_LIMIT_BATCH_ITEMS_MAX, out);
}

static int to_parallel(const char *flag, const char *value, unsigned *out) {
  return pkictl_uint_in(flag, value, 1, MAX_PARALLEL, out);
}

static int parse(int argc, char **argv, revoke_flags *f) {
  static const pkictl_flag kFlags[] = {
      PKICTL_STRING_FLAG("--reason", revoke_flags, reason),
      PKICTL_STRING_FLAG("--issuer", revoke_flags, issuer),
      PKICTL_STRING_FLAG("--time", revoke_flags, time),
      PKICTL_STRING_FLAG("--serials-file", revoke_flags, serials_file),
      PKICTL_BOOL_FLAG("--select", revoke_flags, select),
      PKICTL_STRING_FLAG("--cluster", revoke_flags, cluster),
      PKICTL_STRING_FLAG("--profile", revoke_flags, profile),
      PKICTL_STRING_FLAG("--cn", revoke_flags, cn),
      PKICTL_STRING_FLAG("--issued-before", revoke_flags, issued_before),
      PKICTL_STRING_FLAG("--issued-after", revoke_flags, issued_after),
      PKICTL_BOOL_FLAG("--dry-run", revoke_flags, dry_run),
      PKICTL_UINT_FLAG("--batch-items", revoke_flags, batch_items,
                       to_batch_items),
      PKICTL_UINT_FLAG("--parallel", revoke_flags, parallel, to_parallel),
  };
  static const pkictl_flag_spec kSpec = {
      kFlags, PKICTL_COUNT(kFlags), sizeof(revoke_flags), 1, NULL,
  };
  return pkictl_parse_flags(&kSpec, argc, argv, f, f->positional,
                            &f->n_positional);
}

// serial_ok tells whether |s| looks like a serial as pkid reads them
// (hexadecimal, optional "0x" and ':' separators); pkid judges the rest.
static int serial_ok(const char *s) {
  const size_t n = strlen(s);
  if (n == 0 || n > SERIAL_TEXT_MAX) {
    return 0;
  }
  for (const char *p = s; *p != '\0'; p++) {
    if (strchr("0123456789abcdefABCDEF:x", *p) == NULL) {
      return 0;
    }
  }
  return 1;
}

// parse_date reads Unix seconds, YYYY-MM-DD (midnight UTC) or
// YYYY-MM-DDTHH:MM:SSZ, as pkictl find's dates.
static int parse_date(const char *flag, const char *text, int64_t *out) {
  int y, mo, d, h = 0, mi = 0, sec = 0, used = 0;
  char *end;
  errno = 0;
  const long long v = strtoll(text, &end, 10);
  if (end != text && *end == '\0' && v > 0 && errno == 0) {
    *out = v;
    return 1;
  }
  const int date =
      sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3 && !text[used];
  const int datetime = !date &&
                       sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d,
                              &h, &mi, &sec, &used) == 6 &&
                       !text[used];
  if ((!date && !datetime) || y < 1970 || y > 9999 || mo < 1 || mo > 12 ||
      d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
      sec > 59) {
    fprintf(stderr,
            "pkictl: %s must be a date (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or "
            "Unix seconds)\n",
            flag);
    return 0;
  }
  *out = ca_time_from_civil(y, mo, d, h, mi, sec);
  return 1;
}

// --- One certificate ---

int pkictl_post_revocation(pki_client *client, const char *path,
                           const ProtobufCMessage *msg) {
  const size_t len = protobuf_c_message_get_packed_size(msg);
  uint8_t *body = malloc(len + 1);
  pki_reply reply;
  int rc = 1;
  if (body == NULL) {
    fprintf(stderr, "pkictl: out of memory\n");
    return 1;
  }
  protobuf_c_message_pack(msg, body);
  if (!pki_client_call(client, "POST", path, "application/x-protobuf", body,
                       len, &reply)) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
    free(body);
    return 1;
  }
  free(body);
  if (reply.status != 200) {
    rc = pkictl_report(&reply);
  } else {
    Pki__V1__RevocationResponse *r =
        pki__v1__revocation_response__unpack(NULL, reply.body_len, reply.body);
    pkictl_json_answer((const ProtobufCMessage *)r);
    if (r != NULL) {
      char when[21] = "", due[21] = "";
      pkictl_format_time(r->crl_due_at, due);
      printf("%s (%s): %s, in the CRL by %s\n", r->serial, r->issuer, r->status,
             due);
      if (r->revoked_at != 0) {
        pkictl_format_time(r->revoked_at, when);
        printf("revoked at %s, reason %s\n", when, ca_reason_name(r->reason));
      }
      rc = 0;
    } else {
      fprintf(stderr, "pkictl: unreadable reply\n");
    }
    pki__v1__revocation_response__free_unpacked(r, NULL);
  }
  pki_reply_cleanup(&reply);
  return rc;
}

static int revoke_one(pki_client *client, const revoke_flags *f,
                      ca_reason reason, int64_t when) {
  const char *serial = f->positional[0];
  if (!serial_ok(serial)) {
    fprintf(stderr, "pkictl: SERIAL must be hexadecimal\n");
    return 2;
  }
  char path[256];
  snprintf(path, sizeof(path), "/v1/certificates/%s:revoke", serial);
  Pki__V1__RevokeRequest req = PKI__V1__REVOKE_REQUEST__INIT;
  req.reason = (int32_t)reason;
  req.issuer = (char *)(f->issuer != NULL ? f->issuer : "");
  req.revocation_time = when;
  return pkictl_post_revocation(client, path, &req.base);
}

// --- Batches ---

// What the batches of one command did, for its summary.
#define MAX_CODES 16

typedef struct tally {
  uint64_t revoked, already, refused, selected, skipped;
  struct {
    char code[40];
    char example[160];  // the first message of this code
    uint64_t count;
  } codes[MAX_CODES];
  size_t n_codes;
  int failed;  // a whole batch was refused or could not be sent
} tally;

// add_refusals counts |n| refusals of |code| into |t|, |message| the
// first one's.
static void add_refusals(tally *t, const char *code, const char *message,
                         uint64_t n) {
  t->refused += n;
  size_t i = 0;
  while (i < t->n_codes && strcmp(t->codes[i].code, code) != 0) {
    i++;
  }
  if (i == t->n_codes) {
    if (t->n_codes == MAX_CODES) {
      i = MAX_CODES - 1;  // the rest share the last line
    } else {
      t->n_codes++;
      snprintf(t->codes[i].code, sizeof(t->codes[i].code), "%s", code);
      snprintf(t->codes[i].example, sizeof(t->codes[i].example), "%s", message);
    }
  }
  t->codes[i].count += n;
}

// tally_merge adds what one batch did (|from|) to the command's |into|.
static void tally_merge(tally *into, const tally *from) {
  into->revoked += from->revoked;
  into->already += from->already;
  for (size_t i = 0; i < from->n_codes; i++) {
    add_refusals(into, from->codes[i].code, from->codes[i].example,
                 from->codes[i].count);
  }
  into->failed |= from->failed;
}

// The --json answer is one document the batches' answers merge into:
// senders take turns.
static pthread_mutex_t g_json_mu = PTHREAD_MUTEX_INITIALIZER;

// A batch being filled: its items point into |serials| and |issuers|.
typedef struct batch {
  Pki__V1__BatchRevokeItem *items;
  Pki__V1__BatchRevokeItem **ptrs;
  char (*serials)[SERIAL_TEXT_MAX + 1];
  char (*issuers)[ISSUER_TEXT_MAX + 1];
  size_t n, cap;
  int32_t reason;
  int64_t when;
  const char *issuer;  // --issuer: for lines of a file that name none
} batch;

static int batch_init(batch *b, size_t cap, ca_reason reason, int64_t when) {
  memset(b, 0, sizeof(*b));
  b->items = calloc(cap, sizeof(*b->items));
  b->ptrs = calloc(cap, sizeof(*b->ptrs));
  b->serials = calloc(cap, sizeof(*b->serials));
  b->issuers = calloc(cap, sizeof(*b->issuers));
  b->cap = cap;
  b->reason = (int32_t)reason;
  b->when = when;
  if (b->items == NULL || b->ptrs == NULL || b->serials == NULL ||
      b->issuers == NULL) {
    fprintf(stderr, "pkictl: out of memory\n");
    return 0;
  }
  return 1;
}

static void batch_free(batch *b) {
  free(b->items);
  free(b->ptrs);
  free(b->serials);
  free(b->issuers);
}

static void batch_add(batch *b, const char *serial, const char *issuer) {
  const size_t i = b->n++;
  snprintf(b->serials[i], sizeof(b->serials[i]), "%s", serial);
  snprintf(b->issuers[i], sizeof(b->issuers[i]), "%s",
           issuer != NULL ? issuer : "");
  pki__v1__batch_revoke_item__init(&b->items[i]);
  b->items[i].serial = b->serials[i];
  b->items[i].issuer = b->issuers[i];
  b->items[i].reason = b->reason;
  b->items[i].revocation_time = b->when;
  b->ptrs[i] = &b->items[i];
}

// batch_send sends the items gathered and counts their results into |t|;
// it empties |b|. It returns 0 when the batch as a whole was not done.
static int batch_send(pki_client *client, batch *b, tally *t) {
  if (b->n == 0) {
    return 1;
  }
  Pki__V1__BatchRevokeRequest req = PKI__V1__BATCH_REVOKE_REQUEST__INIT;
  req.items = b->ptrs;
  req.n_items = b->n;
  const size_t len = pki__v1__batch_revoke_request__get_packed_size(&req);
  uint8_t *body = malloc(len + 1);
  pki_reply reply;
  int ok = 0;
  if (body == NULL) {
    fprintf(stderr, "pkictl: out of memory\n");
    t->failed = 1;
    return 0;
  }
  pki__v1__batch_revoke_request__pack(&req, body);
  if (!pki_client_call(client, "POST", "/v1/certificates:batchRevoke",
                       "application/x-protobuf", body, len, &reply)) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
    free(body);
    t->failed = 1;
    return 0;
  }
  free(body);
  Pki__V1__BatchRevokeResponse *resp = NULL;
  if (reply.status != 200) {
    pthread_mutex_lock(&g_json_mu);  // the error joins the --json answer
    pkictl_report(&reply);
    pthread_mutex_unlock(&g_json_mu);
  } else {
    resp = pki__v1__batch_revoke_response__unpack(NULL, reply.body_len,
                                                  reply.body);
    pthread_mutex_lock(&g_json_mu);
    pkictl_json_answer((const ProtobufCMessage *)resp);
    pthread_mutex_unlock(&g_json_mu);
    ok = resp != NULL && resp->n_results == b->n;
    if (!ok) {
      fprintf(stderr, "pkictl: unreadable reply\n");
    }
  }
  for (size_t i = 0; ok && i < resp->n_results; i++) {
    const Pki__V1__RevokeResult *r = resp->results[i];
    if (r->error == NULL) {
      t->revoked++;
    } else if (strcmp(r->error->code, "ALREADY_REVOKED") == 0) {
      t->already++;
    } else {
      add_refusals(t, r->error->code, r->error->message, 1);
      fprintf(stderr, "%s: %s: %s\n", b->serials[i], r->error->code,
              r->error->message);
    }
  }
  pki__v1__batch_revoke_response__free_unpacked(resp, NULL);
  pki_reply_cleanup(&reply);
  b->n = 0;
  if (!ok) {
    t->failed = 1;
  }
  return ok;
}

// --- Batches in flight ---

// The senders of one command: threads with a connection each
// (pki_client_dup) send the full batches the reader hands over
// (pool_send, through |ready|) while it reads on, and give each back
// emptied (|spare|). There are as many batches as senders, plus the
// reader's: memory stays bounded whatever the number of certificates, and
// the reader waits only when every batch is full.
typedef struct pool pool;

typedef struct sender {
  pool *p;
  pki_client *client;
} sender;

struct pool {
  batch slots[MAX_PARALLEL];
  pkictl_queue ready, spare;  // of batch: full, oldest first; empty
  pthread_mutex_t mu;         // guards |sent|
  tally sent;                 // what the senders' batches did
  atomic_int failed;          // a batch was not done: send nothing more
  pki_client *clients[MAX_PARALLEL];
  sender senders[MAX_PARALLEL];
  pthread_t threads[MAX_PARALLEL];
  unsigned n_slots, n_clients, n_threads;
  int queues;  // ready and spare were made
};

static void *sender_main(void *arg) {
  const sender *s = arg;
  pool *p = s->p;
  batch *b;
  while ((b = pkictl_queue_pop(&p->ready)) != NULL) {
    // After a batch that was not done nothing more is sent, as the reader
    // stops: the summary counts what was.
    tally done;
    memset(&done, 0, sizeof(done));
    if (!atomic_load(&p->failed)) {
      (void)batch_send(s->client, b, &done);
    }
    b->n = 0;
    pthread_mutex_lock(&p->mu);
    tally_merge(&p->sent, &done);
    pthread_mutex_unlock(&p->mu);
    if (done.failed) {
      atomic_store(&p->failed, 1);
    }
    pkictl_queue_push(&p->spare, b);
  }
  return NULL;
}

// pool_send hands the full batch |b| to the senders and gives the reader
// an empty one in its place; it returns 0, sending nothing, once a batch
// was not done.
static int pool_send(pool *p, batch *b) {
  if (b->n == 0) {
    return 1;
  }
  // Every batch a sender takes comes back to |spare|: this wait ends.
  batch *s = pkictl_queue_pop(&p->spare);
  if (atomic_load(&p->failed)) {
    pkictl_queue_push(&p->spare, s);
    return 0;
  }
  const batch full = *b;
  *b = *s;
  *s = full;
  pkictl_queue_push(&p->ready, s);
  return 1;
}

// pool_close sends what is left, waits for the senders and frees the pool;
// what they did is added to |t|.
static void pool_close(pool *p, tally *t) {
  if (p->queues) {
    pkictl_queue_close(&p->ready);
  }
  for (unsigned i = 0; i < p->n_threads; i++) {
    pthread_join(p->threads[i], NULL);
  }
  for (unsigned i = 0; i < p->n_clients; i++) {
    pki_client_free(p->clients[i]);
  }
  for (unsigned i = 0; i < p->n_slots; i++) {
    batch_free(&p->slots[i]);
  }
  if (p->queues) {
    pkictl_queue_destroy(&p->ready);
    pkictl_queue_destroy(&p->spare);
  }
  tally_merge(t, &p->sent);
  pthread_mutex_destroy(&p->mu);
}

// pool_open starts |parallel| senders of batches shaped like |shape|
// (capacity, reason, time, issuer); on failure it closes what it started
// and returns 0.
static int pool_open(pool *p, const pki_client *client, unsigned parallel,
                     const batch *shape) {
  memset(p, 0, sizeof(*p));
  if (pthread_mutex_init(&p->mu, NULL) != 0) {
    fprintf(stderr, "pkictl: could not start the senders\n");
    return 0;
  }
  atomic_init(&p->failed, 0);
  int ok = pkictl_queue_init(&p->ready, parallel);
  if (ok && !pkictl_queue_init(&p->spare, parallel)) {
    pkictl_queue_destroy(&p->ready);
    ok = 0;
  }
  p->queues = ok;
  for (unsigned i = 0; ok && i < parallel; i++) {
    ok = batch_init(&p->slots[i], shape->cap, (ca_reason)shape->reason,
                    shape->when);
    p->n_slots++;
    p->slots[i].issuer = shape->issuer;
    pkictl_queue_push(&p->spare, &p->slots[i]);
    ok = ok && (p->clients[i] = pki_client_dup(client)) != NULL;
    p->n_clients += ok;
  }
  for (unsigned i = 0; ok && i < parallel; i++) {
    p->senders[i] = (sender){p, p->clients[i]};
    ok = pthread_create(&p->threads[i], NULL, sender_main, &p->senders[i]) == 0;
    p->n_threads += ok;
  }
  if (!ok) {
    fprintf(stderr, "pkictl: could not start the senders\n");
    tally ignored;
    memset(&ignored, 0, sizeof(ignored));
    pool_close(p, &ignored);
  }
  return ok;
}

// summary prints what the command did and returns its exit status: 0 when
// every certificate asked for is revoked now (already revoked ones count).
static int summary(const tally *t, int dry_run) {
  // --json: the batch answers (results, revoked, failed) and these.
  pkictl_json_bool("dryRun", dry_run);
  pkictl_json_int("selected", (long)t->selected);
  pkictl_json_int("skippedSelfSigned", (long)t->skipped);
  if (!dry_run) {
    pkictl_json_int("alreadyRevoked", (long)t->already);
    pkictl_json_int("refused", (long)t->refused);
  }
  if (dry_run) {
    printf("would revoke %" PRIu64 " certificates", t->selected);
    if (t->skipped > 0) {
      printf(" (%" PRIu64 " self-signed skipped)", t->skipped);
    }
    printf("\n");
    return t->failed;
  }
  printf("revoked %" PRIu64 ", already revoked %" PRIu64 ", refused %" PRIu64
         "\n",
         t->revoked, t->already, t->refused);
  for (size_t i = 0; i < t->n_codes; i++) {
    printf("  %s: %" PRIu64 " (%s)\n", t->codes[i].code, t->codes[i].count,
           t->codes[i].example);
  }
  if (t->skipped > 0) {
    printf("skipped %" PRIu64 " self-signed (no CRL or OCSP covers them)\n",
           t->skipped);
  }
  if (t->failed) {
    printf(
        "stopped: a batch was not done (see above); what is counted "
        "here was\n");
  }
  return t->failed || t->refused > 0;
}

// --- --serials-file ---

// split_line cuts |line| into a serial and an optional issuer (separated
// by blanks or a comma); a blank line or a comment (#) has no serial. It
// returns 0 for a line that is neither.
static int split_line(char *line, const char **serial, const char **issuer) {
  *serial = NULL;
  *issuer = NULL;
  char *save = NULL;
  char *first = strtok_r(line, " \t\r\n,", &save);
  if (first == NULL || first[0] == '#') {
    return 1;
  }
  char *second = strtok_r(NULL, " \t\r\n,", &save);
  char *third = strtok_r(NULL, " \t\r\n,", &save);
  if (third != NULL || !serial_ok(first) ||
      (second != NULL && (strlen(second) > ISSUER_TEXT_MAX))) {
    return 0;
  }
  *serial = first;
  *issuer = second;
  return 1;
}

// each_line calls |fn| for every serial of |file|; with |fn| NULL it only
// checks the file, so that a bad line is found before anything is sent.
static int each_line(FILE *file, const char *name, batch *b, pool *p,
                     uint64_t *out_count) {
  char line[LINE_MAX_BYTES + 2];
  uint64_t lineno = 0, count = 0;
  rewind(file);
  while (fgets(line, sizeof(line), file) != NULL) {
    lineno++;
    if (strchr(line, '\n') == NULL && !feof(file)) {
      fprintf(stderr, "pkictl: %s:%" PRIu64 ": line longer than %d bytes\n",
              name, lineno, LINE_MAX_BYTES);
      return 0;
    }
    const char *serial, *issuer;
    if (!split_line(line, &serial, &issuer)) {
      fprintf(stderr,
              "pkictl: %s:%" PRIu64
              ": not \"SERIAL [ISSUER]\" with a "
              "hexadecimal serial\n",
              name, lineno);
      return 0;
    }
    if (serial == NULL) {
      continue;
    }
    count++;
    if (b != NULL) {
      batch_add(b, serial, issuer != NULL ? issuer : b->issuer);
      if (b->n == b->cap && !pool_send(p, b)) {
        return 0;
      }
    }
  }
  if (ferror(file)) {
    fprintf(stderr, "pkictl: %s: %s\n", name, strerror(errno));
    return 0;
  }
  *out_count = count;
  return b == NULL || pool_send(p, b);
}

static int revoke_file(pool *p, const revoke_flags *f, batch *b, tally *t) {
  FILE *file = fopen(f->serials_file, "r");
  if (file == NULL) {
    fprintf(stderr, "pkictl: %s: %s\n", f->serials_file, strerror(errno));
    return 1;
  }
  uint64_t count = 0;
  int rc = 2;
  if (each_line(file, f->serials_file, NULL, NULL, &count)) {
    t->selected = count;
    if (!f->dry_run) {
      (void)each_line(file, f->serials_file, b, p, &count);
    }
    rc = 0;
  }
  fclose(file);
  return rc;
}

// --- --select ---

// select_page reads one page of the certificates the filters find and adds
// those it keeps to |b| (sending full batches unless |dry_run|). It sets
// |cursor| to the next page's, "" after the last.
static int select_page(pki_client *client, pool *p, const revoke_flags *f,
                       int64_t before, int64_t after, char cursor[64], batch *b,
                       tally *t) {
  char path[4096] = "/v1/certificates";
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", CA_LIMIT_LIST_PAGE);
  pkictl_add_query(path, sizeof(path), "usage", "identity");
  pkictl_add_query(path, sizeof(path), "status", "good");
  pkictl_add_query(path, sizeof(path), "cluster", f->cluster);
  pkictl_add_query(path, sizeof(path), "profile", f->profile);
  pkictl_add_query(path, sizeof(path), "cn", f->cn);
  pkictl_add_query(path, sizeof(path), "limit", limit);
  pkictl_add_query(path, sizeof(path), "after",
                   cursor[0] != '\0' ? cursor : NULL);
  pki_reply reply;
  if (!pkictl_get(client, path, &reply)) {
    pki_reply_cleanup(&reply);
    return 0;
  }
  Pki__V1__ListCertificatesResponse *resp =
      pki__v1__list_certificates_response__unpack(NULL, reply.body_len,
                                                  reply.body);
  pki_reply_cleanup(&reply);
  if (resp == NULL) {
    fprintf(stderr, "pkictl: unreadable reply\n");
    return 0;
  }
  int ok = 1;
  for (size_t i = 0; ok && i < resp->n_certificates; i++) {
    const Pki__V1__CertificateInfo *c = resp->certificates[i];
    // The issue time is judged here: find filters by expiry only.
    if ((before != 0 && c->not_before >= before) ||
        (after != 0 && c->not_before < after)) {
      continue;
    }
    if (c->self_signed || c->issuer[0] == '\0') {
      t->skipped++;
      continue;
    }
    t->selected++;
    if (!f->dry_run) {
      batch_add(b, c->serial, c->issuer);
      ok = b->n < b->cap || pool_send(p, b);
    }
  }
  snprintf(cursor, 64, "%s", resp->next_after);
  pki__v1__list_certificates_response__free_unpacked(resp, NULL);
  return ok;
}

static int revoke_select(pki_client *client, pool *p, const revoke_flags *f,
                         batch *b, tally *t) {
  int64_t before = 0, after = 0;
  if ((f->issued_before != NULL &&
       !parse_date("--issued-before", f->issued_before, &before)) ||
      (f->issued_after != NULL &&
       !parse_date("--issued-after", f->issued_after, &after))) {
    return 2;
  }
  if (f->cluster == NULL && f->profile == NULL && f->cn == NULL &&
      before == 0 && after == 0) {
    fprintf(stderr,
            "pkictl revoke --select: give at least one of --cluster, "
            "--profile, --cn, --issued-before, --issued-after\n");
    return 2;
  }
  // Pages follow the cursor (notAfter, then id), which the revocations of
  // earlier pages do not move.
  char cursor[64] = "";
  do {
    if (!select_page(client, p, f, before, after, cursor, b, t)) {
      t->failed = 1;
      return 0;
    }
  } while (cursor[0] != '\0');
  if (!f->dry_run) {
    (void)pool_send(p, b);
  }
  return 0;
}

int pkictl_revoke(pki_client *client, int argc, char **argv) {
  revoke_flags f;
  if (!parse(argc, argv, &f)) {
    return 2;
  }
  const int forms = (f.n_positional == 1) + (f.serials_file != NULL) + f.select;
  if (forms != 1 || f.reason == NULL) {
    fprintf(stderr,
            "pkictl revoke: --reason and one of SERIAL, --serials-file FILE "
            "or --select are required\n");
    return 2;
  }
  if (f.n_positional == 1 && f.dry_run) {
    fprintf(stderr,
            "pkictl revoke: --dry-run goes with --serials-file or "
            "--select\n");
    return 2;
  }
  const int selecting = f.cluster != NULL || f.profile != NULL ||
                        f.cn != NULL || f.issued_before != NULL ||
                        f.issued_after != NULL;
  if (selecting && !f.select) {
    fprintf(stderr,
            "pkictl revoke: --cluster, --profile, --cn and "
            "--issued-* go with --select\n");
    return 2;
  }
  ca_reason reason;
  if (!ca_reason_parse(&reason, f.reason)) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
    return 2;
  }
  int64_t when = 0;
  if (f.time != NULL) {
    char *end;
    errno = 0;
    when = strtoll(f.time, &end, 10);
    if (*end != '\0' || errno != 0 || when <= 0) {
      fprintf(stderr, "pkictl: --time is Unix seconds\n");
      return 2;
    }
  }
  if (f.n_positional == 1) {
    return revoke_one(client, &f, reason, when);
  }
  if (f.issuer != NULL && f.select) {
    fprintf(stderr, "pkictl revoke --select: --issuer is not a filter\n");
    return 2;
  }
  batch b;
  tally t;
  memset(&t, 0, sizeof(t));
  const size_t cap = f.batch_items != 0 ? f.batch_items : CA_LIMIT_BATCH_ITEMS;
  if (!batch_init(&b, cap, reason, when)) {
    batch_free(&b);
    return 1;
  }
  b.issuer = f.issuer;
  pool p;
  const unsigned parallel = f.parallel != 0 ? f.parallel : DEFAULT_PARALLEL;
  if (!f.dry_run && !pool_open(&p, client, parallel, &b)) {
    batch_free(&b);
    return 1;
  }
  int rc = f.select ? revoke_select(client, &p, &f, &b, &t)
                    : revoke_file(&p, &f, &b, &t);
  if (!f.dry_run) {
    pool_close(&p, &t);
  }
  if (rc == 0) {
    rc = summary(&t, f.dry_run);
  }
  batch_free(&b);
  return rc;
}
