// The CA-wide CRL with shards (pkid --crl-shards 4 --crl-wide-interval;
// README, "Partitioned CRLs"): a revocation is in the CRL its certificate
// names by its crl_due_at (--crl-interval after the commit, plus the
// writer's slack): a certificate with a shard in its shard's CRL, while
// the CA-wide CRL is not rebuilt for it before the wide interval since its
// last one (same CRL number), and lists it after; a certificate without a
// shard (issued while pkid ran with --crl-shards 1) in the CA-wide CRL, for
// a revocation, a hold, its release and a batch alike. Once every CRL is
// published, no change waits in either queue (crl_pending,
// crl_pending_shards).
//
// Each check is made at a due time the answers gave (sleeping until then;
// GET publishes itself when no writer did), never by timing pkid.
#include <openssl/bn.h>
#include <openssl/mem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/client/client.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

#define OLD 2      // certificates without a shard
#define SHARDED 4  // certificates with one
// --crl-wide-interval: long enough that the checks made within it, a few
// seconds after the CA-wide CRL's thisUpdate, come before its end on a
// loaded machine.
#define WIDE 15
#define WIDE_TEXT "15"
// CA_CRL_WRITER_SLACK_SECONDS, which crl_due_at adds to --crl-interval (1).
#define SLACK 2

static it_db db;
static it_pkid node;
static pki_client *api;
static char old_serials[OLD][64];
static char serials[SHARDED][64];

// issue issues |n| tomcat-ECDSA certificates of ec-issuing in one batch and
// writes their serials into |out|.
static int issue(size_t n, char (*out)[64]) {
  EVP_PKEY *key = NULL;
  Pki__V1__IssueRequest items[SHARDED];
  Pki__V1__IssueRequest *ptrs[SHARDED];
  uint8_t *csrs[SHARDED] = {0};
  int ok = n <= SHARDED;
  for (size_t i = 0; i < n && ok; i++) {
    char subject[96];
    snprintf(subject, sizeof(subject), "/CN=crl-wide-%zu.example.com", i);
    const test_csr_spec spec = {
        .key = "EC-P256", .subject = subject, .reuse_key = key};
    size_t len;
    csrs[i] = test_make_csr(&spec, &len, key == NULL ? &key : NULL);
    ok = csrs[i] != NULL;
    pki__v1__issue_request__init(&items[i]);
    items[i].csr.data = csrs[i];
    items[i].csr.len = len;
    ptrs[i] = &items[i];
  }
  Pki__V1__BatchIssueRequest req = PKI__V1__BATCH_ISSUE_REQUEST__INIT;
  req.profile = "tomcat-ECDSA";
  req.items = ptrs;
  req.n_items = n;
  uint8_t *body = NULL;
  pki_reply reply;
  memset(&reply, 0, sizeof(reply));
  Pki__V1__BatchIssueResponse *resp = NULL;
  if (ok) {
    const size_t len = pki__v1__batch_issue_request__get_packed_size(&req);
    body = malloc(len);
    ok = body != NULL;
    if (ok) {
      pki__v1__batch_issue_request__pack(&req, body);
      ok = pki_client_call(api, "POST", "/v1/certificates:batchIssue",
                           "application/x-protobuf", body, len, &reply) &&
           reply.status == 200;
    }
  }
  if (ok) {
    resp =
        pki__v1__batch_issue_response__unpack(NULL, reply.body_len, reply.body);
    ok = resp != NULL && resp->issued == n;
  }
  for (size_t i = 0; ok && i < n; i++) {
    snprintf(out[i], 64, "%s", resp->results[i]->certificate->serial);
  }
  pki__v1__batch_issue_response__free_unpacked(resp, NULL);
  pki_reply_cleanup(&reply);
  free(body);
  for (size_t i = 0; i < n; i++) {
    OPENSSL_free(csrs[i]);
  }
  EVP_PKEY_free(key);
  return ok;
}

// change revokes (reason >= 0) or releases from hold (reason -1) |serial|
// and returns the answer's crl_due_at, or 0.
static int64_t change(const char *serial, int reason) {
  uint8_t body[64];
  size_t len = 0;
  char path[160];
  if (reason >= 0) {
    Pki__V1__RevokeRequest req = PKI__V1__REVOKE_REQUEST__INIT;
    req.reason = reason;
    len = pki__v1__revoke_request__pack(&req, body);
  }
  snprintf(path, sizeof(path), "/v1/certificates/%s:%s", serial,
           reason >= 0 ? "revoke" : "unhold");
  pki_reply reply;
  if (!pki_client_call(api, "POST", path, "application/x-protobuf",
                       len > 0 ? body : NULL, len, &reply)) {
    return 0;
  }
  int64_t due = 0;
  if (reply.status == 200) {
    Pki__V1__RevocationResponse *r =
        pki__v1__revocation_response__unpack(NULL, reply.body_len, reply.body);
    due = r != NULL ? r->crl_due_at : 0;
    pki__v1__revocation_response__free_unpacked(r, NULL);
  }
  pki_reply_cleanup(&reply);
  return due;
}

// A CRL as GET /v1/crl served it.
typedef struct crl_seen {
  X509_CRL *crl;
  long long number;
  int64_t this_update;
  int64_t asked_at;  // the clock just before the request
} crl_seen;

// fetch reads the CRL of ec-issuing's |shard| (0: the CA-wide CRL).
static int fetch(unsigned shard, crl_seen *out) {
  char path[64];
  if (shard == 0) {
    snprintf(path, sizeof(path), "/v1/crl/ec-issuing");
  } else {
    snprintf(path, sizeof(path), "/v1/crl/ec-issuing/%u", shard);
  }
  memset(out, 0, sizeof(*out));
  out->asked_at = (int64_t)time(NULL);
  pki_reply reply;
  if (!pki_client_call(api, "GET", path, NULL, NULL, 0, &reply)) {
    return 0;
  }
  if (reply.status == 200) {
    const uint8_t *p = reply.body;
    out->crl = d2i_X509_CRL(NULL, &p, (long)reply.body_len);
  }
  pki_reply_cleanup(&reply);
  if (out->crl == NULL) {
    return 0;
  }
  ASN1_INTEGER *n = X509_CRL_get_ext_d2i(out->crl, NID_crl_number, NULL, NULL);
  out->number = n != NULL ? (long long)ASN1_INTEGER_get(n) : -1;
  ASN1_INTEGER_free(n);
  // thisUpdate as seconds after the time of the request.
  int days = 0, seconds = 0;
  ASN1_TIME *asked = ASN1_TIME_set(NULL, (time_t)out->asked_at);
  const int ok =
      asked != NULL && ASN1_TIME_diff(&days, &seconds, asked,
                                      X509_CRL_get0_lastUpdate(out->crl));
  ASN1_TIME_free(asked);
  out->this_update = out->asked_at + (int64_t)days * 86400 + seconds;
  return ok;
}

static void seen_free(crl_seen *s) {
  X509_CRL_free(s->crl);
  s->crl = NULL;
}

// reason_in returns the reason of |serial| in |crl| (0 without a
// reasonCode), or -1 when it is not listed.
static int reason_in(X509_CRL *crl, const char *serial) {
  BIGNUM *bn = NULL;
  ASN1_INTEGER *want = NULL;
  X509_REVOKED *entry = NULL;
  int reason = -1;
  if (BN_hex2bn(&bn, serial) > 0 &&
      (want = BN_to_ASN1_INTEGER(bn, NULL)) != NULL &&
      X509_CRL_get0_by_serial(crl, &entry, want) == 1) {
    ASN1_ENUMERATED *code =
        X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, NULL, NULL);
    reason = code != NULL ? (int)ASN1_ENUMERATED_get(code) : 0;
    ASN1_ENUMERATED_free(code);
  }
  ASN1_INTEGER_free(want);
  BN_free(bn);
  return reason;
}

// shard_of returns the shard the database records for |serial|, 0 for
// none.
static unsigned shard_of(const char *serial) {
  return (unsigned)it_db_int(&db,
                             "SELECT coalesce(crl_shard, 0) FROM certificates"
                             " WHERE serial = $1",
                             serial);
}

static void sleep_until(int64_t t) {
  while ((int64_t)time(NULL) < t) {
    usleep(50 * 1000);
  }
}

TEST(certificates_issued_with_one_crl_have_no_shard) {
  for (int i = 0; i < OLD; i++) {
    CHECK_EQ_INT(shard_of(old_serials[i]), 0);
  }
  for (int i = 0; i < SHARDED; i++) {
    const unsigned k = shard_of(serials[i]);
    CHECK(k >= 1 && k <= 4);
  }
}

TEST(a_sharded_revocation_waits_for_the_wide_interval_in_the_ca_wide_crl) {
  crl_seen wide, shard;
  // A first revocation, to have a CA-wide CRL published just now: polled
  // until it lists it, which it must by the wide interval.
  const int64_t due0 = change(serials[0], 1);
  CHECK(due0 > 0);
  int found = 0;
  while (!found) {
    CHECK(fetch(0, &wide));
    found = wide.crl != NULL && reason_in(wide.crl, serials[0]) == 1;
    if (!found) {
      CHECK(wide.asked_at < due0 - 1 + WIDE);
      if (wide.asked_at >= due0 - 1 + WIDE) {
        seen_free(&wide);
        return;
      }
      seen_free(&wide);
      usleep(200 * 1000);
    }
  }
  const long long n1 = wide.number;
  const int64_t t1 = wide.this_update;
  seen_free(&wide);
  printf("CA-wide CRL %lld (thisUpdate %lld) lists the first revocation\n", n1,
         (long long)t1);

  // The next one: in its shard's CRL by its due time ...
  const unsigned k = shard_of(serials[1]);
  const int64_t due1 = change(serials[1], 1);
  CHECK(due1 > 0);
  sleep_until(due1);
  CHECK(fetch(k, &shard));
  CHECK(shard.crl != NULL && reason_in(shard.crl, serials[1]) == 1);
  seen_free(&shard);
  // ... while the CA-wide CRL is the same until the wide interval since
  // its thisUpdate has passed.
  CHECK(fetch(0, &wide));
  if (wide.asked_at < t1 + WIDE) {
    CHECK_EQ_INT(wide.number, n1);
    CHECK(wide.crl != NULL && reason_in(wide.crl, serials[1]) == -1);
  } else {
    printf("the shard's CRL was read too late to compare (%lld s after)\n",
           (long long)(wide.asked_at - t1));
  }
  seen_free(&wide);
  // Then a new CA-wide CRL lists it, made no sooner than the wide interval
  // after the last one, by the wide interval after the commit.
  sleep_until(due1 - 1 + WIDE);
  CHECK(fetch(0, &wide));
  CHECK(wide.number > n1);
  CHECK(wide.this_update >= t1 + WIDE);
  CHECK(wide.crl != NULL && reason_in(wide.crl, serials[1]) == 1);
  printf("CA-wide CRL %lld lists the second %lld s after the first\n",
         wide.number, (long long)(wide.this_update - t1));
  seen_free(&wide);
}

// listed_by_due checks that the CA-wide CRL read at |due| lists |serial|
// with |reason| (-1: not at all).
static void listed_by_due(const char *serial, int64_t due, int reason) {
  crl_seen wide;
  CHECK(due > 0);
  sleep_until(due);
  CHECK(fetch(0, &wide));
  CHECK(wide.crl != NULL);
  if (wide.crl != NULL) {
    CHECK_EQ_INT(reason_in(wide.crl, serial), reason);
  }
  seen_free(&wide);
}

TEST(a_change_without_a_shard_is_in_the_ca_wide_crl_by_its_due_time) {
  crl_seen wide;
  CHECK(fetch(0, &wide));
  const int64_t since = wide.this_update;
  seen_free(&wide);
  // Revoked, held, released: each in the CA-wide CRL by its due time,
  // --crl-interval after the commit, not the wide interval.
  const int64_t due = change(old_serials[0], 1);
  CHECK(due > 0);
  printf(
      "revoked %lld s after the CA-wide CRL's thisUpdate, due %lld s "
      "after it (the wide interval: %d s)\n",
      (long long)(due - 3 - since), (long long)(due - since), WIDE);
  listed_by_due(old_serials[0], due, 1);
  listed_by_due(old_serials[1], change(old_serials[1], 6), 6);
  listed_by_due(old_serials[1], change(old_serials[1], -1), -1);
}

TEST(a_batch_queues_each_crl_its_certificates_name) {
  Pki__V1__BatchRevokeItem items[2], *ptrs[2];
  const char *which[2] = {old_serials[1], serials[2]};
  for (int i = 0; i < 2; i++) {
    pki__v1__batch_revoke_item__init(&items[i]);
    items[i].serial = (char *)which[i];
    items[i].reason = 4;  // superseded
    ptrs[i] = &items[i];
  }
  Pki__V1__BatchRevokeRequest req = PKI__V1__BATCH_REVOKE_REQUEST__INIT;
  req.items = ptrs;
  req.n_items = 2;
  uint8_t body[512];
  CHECK(pki__v1__batch_revoke_request__get_packed_size(&req) < sizeof(body));
  const size_t len = pki__v1__batch_revoke_request__pack(&req, body);
  pki_reply reply;
  CHECK(pki_client_call(api, "POST", "/v1/certificates:batchRevoke",
                        "application/x-protobuf", body, len, &reply));
  CHECK_EQ_INT(reply.status, 200);
  Pki__V1__BatchRevokeResponse *resp =
      reply.status == 200 ? pki__v1__batch_revoke_response__unpack(
                                NULL, reply.body_len, reply.body)
                          : NULL;
  pki_reply_cleanup(&reply);
  CHECK(resp != NULL && resp->revoked == 2 && resp->n_results == 2);
  if (resp == NULL || resp->n_results != 2 || resp->results[0]->state == NULL ||
      resp->results[1]->state == NULL) {
    pki__v1__batch_revoke_response__free_unpacked(resp, NULL);
    return;
  }
  const int64_t due_old = resp->results[0]->state->crl_due_at;
  const int64_t due_sharded = resp->results[1]->state->crl_due_at;
  pki__v1__batch_revoke_response__free_unpacked(resp, NULL);
  listed_by_due(old_serials[1], due_old, 4);
  crl_seen shard;
  sleep_until(due_sharded);
  CHECK(fetch(shard_of(serials[2]), &shard));
  CHECK(shard.crl != NULL && reason_in(shard.crl, serials[2]) == 4);
  seen_free(&shard);
}

TEST(nothing_waits_once_every_crl_is_published) {
  // Every change above is at most the wide interval old by now; a
  // publication of each CRL takes its queue.
  long long waiting = -1;
  const int64_t give_up = (int64_t)time(NULL) + WIDE + 30;
  while (waiting != 0 && (int64_t)time(NULL) < give_up) {
    waiting = it_db_int(&db,
                        "SELECT (SELECT count(*) FROM crl_pending)"
                        " + (SELECT count(*) FROM crl_pending_shards)",
                        NULL);
    if (waiting != 0) {
      usleep(200 * 1000);
    }
  }
  CHECK_EQ_INT(waiting, 0);
  // And the CA-wide CRL lists every revoked certificate of the CA.
  crl_seen wide;
  CHECK(fetch(0, &wide));
  CHECK(wide.crl != NULL);
  if (wide.crl != NULL) {
    CHECK_EQ_INT(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(wide.crl)),
                 it_db_int(&db,
                           "SELECT count(*) FROM revocations r JOIN issuers i"
                           " ON i.id = r.issuer_id WHERE i.name = $1",
                           "ec-issuing"));
  }
  seen_free(&wide);
}

// refuses tells whether pkid exits 2 with |message| for the flags |args|.
static int refuses(const char *args, const char *message) {
  char cmd[1024], err[600];
  it_tmpdir("crl-wide-flag.err", err, sizeof(err));
  snprintf(cmd, sizeof(cmd),
           "api/pkid --database postgresql://nowhere.invalid/x %s 2> '%s'; "
           "test $? = 2 && grep -qF -- '%s' '%s'",
           args, err, message, err);
  return it_run(cmd) == 0;
}

TEST(the_wide_interval_is_never_below_the_interval) {
  CHECK(refuses("--crl-wide-interval 0",
                "--crl-wide-interval must be 1 to 86400"));
  CHECK(refuses("--crl-wide-interval 86401",
                "--crl-wide-interval must be 1 to 86400"));
  CHECK(refuses("--crl-interval 10 --crl-wide-interval 9",
                "--crl-wide-interval must be at least --crl-interval (10)"));
}

static int start(const char *dir, const char *shards) {
  const char *extra[] = {"--crl-shards",
                         shards,
                         "--crl-url",
                         "http://crl.example.com/v1/crl/{ca}",
                         "--crl-interval",
                         "1",
                         "--crl-wide-interval",
                         WIDE_TEXT,
                         NULL};
  if (!it_pkid_start(&node, &db, dir, extra)) {
    return 0;
  }
  api = it_client(&node);
  return api != NULL;
}

int main(void) {
  it_db_create(&db);
  char dir[512];
  it_tmpdir("crl-wide", dir, sizeof(dir));
  // With one CRL (the option has no effect then), then with four.
  int ok = start(dir, "1") && issue(OLD, old_serials);
  CHECK(ok);
  pki_client_free(api);
  api = NULL;
  if (node.pid > 0) {
    CHECK_EQ_INT(it_pkid_stop(&node), 0);
  }
  ok = ok && start(dir, "4") && issue(SHARDED, serials);
  CHECK(ok);
  RUN(the_wide_interval_is_never_below_the_interval);
  if (ok) {
    RUN(certificates_issued_with_one_crl_have_no_shard);
    RUN(a_sharded_revocation_waits_for_the_wide_interval_in_the_ca_wide_crl);
    RUN(a_change_without_a_shard_is_in_the_ca_wide_crl_by_its_due_time);
    RUN(a_batch_queues_each_crl_its_certificates_name);
    RUN(nothing_waits_once_every_crl_is_published);
  }
  pki_client_free(api);
  if (node.pid > 0) {
    CHECK_EQ_INT(it_pkid_stop(&node), 0);
  }
  it_db_drop(&db);
  return test_summary();
}
