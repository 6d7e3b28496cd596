// Revocation and OCSP against real pkid processes and PostgreSQL: the
// revoke/unhold rules and their audit rows, batch revocation (per-item
// results, what is stored, audit rows, OCSP on both nodes), the CRL, its
// numbers and crl_due_at, the responder's answers (good, revoked, unknown,
// nonce, cache), and two nodes on one database — a revocation on one is
// answered by the other within one second (ARCHITECTURE.md invariant 6), also
// after its notifications were cut, and a restarted node answers correctly from
// its first request. Concurrent single revocations from several clients,
// good and bad mixed, committed together (group commit): each answered for
// itself, each audited, each revoked in OCSP on both nodes.
#include <openssl/base64.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/client/client.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"
#include "tests/support/ocsp_client.h"
#include "tests/support/test.h"

static it_db db;
static it_pkid node_a, node_b;
static pki_client *api_a, *api_b, *ocsp_a, *ocsp_b;
static X509 *rsa_issuing;  // the CA of every certificate issued here

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// --- The API ---

typedef struct issued {
  char serial[64];
  int64_t not_before;
} issued;

// issue_rsa issues a tomcat certificate on |client| and fills |out|; it
// also keeps the issuing CA the first time.
static int issue_rsa(pki_client *client, const char *cn, issued *out) {
  char subject[128];
  snprintf(subject, sizeof(subject), "/CN=%s/O=Example", cn);
  const test_csr_spec spec = {.key = "RSA-2048", .subject = subject};
  size_t csr_len;
  uint8_t *csr = test_make_csr(&spec, &csr_len, NULL);
  CHECK(csr != NULL);
  if (csr == NULL) {
    return 0;
  }
  Pki__V1__IssueRequest req = PKI__V1__ISSUE_REQUEST__INIT;
  req.profile = "tomcat";
  req.csr.data = csr;
  req.csr.len = csr_len;
  const size_t len = pki__v1__issue_request__get_packed_size(&req);
  uint8_t *body = malloc(len);
  pki__v1__issue_request__pack(&req, body);
  pki_reply reply;
  int ok = pki_client_call(client, "POST", "/v1/certificates:issue",
                           "application/x-protobuf", body, len, &reply);
  free(body);
  OPENSSL_free(csr);
  CHECK(ok);
  if (!ok) {
    return 0;
  }
  CHECK_EQ_INT(reply.status, 200);
  Pki__V1__IssueResponse *resp =
      reply.status == 200
          ? pki__v1__issue_response__unpack(NULL, reply.body_len, reply.body)
          : NULL;
  ok = resp != NULL && resp->certificate != NULL &&
       resp->certificate->n_chain == 2;
  CHECK(ok);
  if (ok) {
    snprintf(out->serial, sizeof(out->serial), "%s", resp->certificate->serial);
    out->not_before = resp->certificate->not_before;
    if (rsa_issuing == NULL) {
      const uint8_t *p = resp->certificate->chain[0].data;
      rsa_issuing = d2i_X509(NULL, &p, (long)resp->certificate->chain[0].len);
    }
  }
  pki__v1__issue_response__free_unpacked(resp, NULL);
  pki_reply_cleanup(&reply);
  return ok;
}

// change_result is what :revoke and :unhold answered.
typedef struct change_result {
  long http;
  char code[64];  // the error code, when refused
  char status[16];
  int64_t revoked_at;
  int reason;
  uint64_t crl_number;
  int64_t crl_due_at;
} change_result;

static void read_change(pki_reply *reply, change_result *out) {
  memset(out, 0, sizeof(*out));
  out->http = reply->status;
  if (reply->status == 200) {
    Pki__V1__RevocationResponse *r = pki__v1__revocation_response__unpack(
        NULL, reply->body_len, reply->body);
    CHECK(r != NULL);
    if (r != NULL) {
      snprintf(out->status, sizeof(out->status), "%s", r->status);
      out->revoked_at = r->revoked_at;
      out->reason = r->reason;
      out->crl_number = r->crl_number;
      out->crl_due_at = r->crl_due_at;
    }
    pki__v1__revocation_response__free_unpacked(r, NULL);
    return;
  }
  Pki__V1__Error *e =
      pki__v1__error__unpack(NULL, reply->body_len, reply->body);
  CHECK(e != NULL);
  if (e != NULL) {
    snprintf(out->code, sizeof(out->code), "%s", e->code);
  }
  pki__v1__error__free_unpacked(e, NULL);
}

static change_result revoke_cert(pki_client *client, const char *serial,
                                 int reason, int64_t when) {
  Pki__V1__RevokeRequest req = PKI__V1__REVOKE_REQUEST__INIT;
  req.reason = reason;
  req.revocation_time = when;
  uint8_t body[64];
  const size_t len = pki__v1__revoke_request__pack(&req, body);
  char path[160];
  snprintf(path, sizeof(path), "/v1/certificates/%s:revoke", serial);
  pki_reply reply;
  change_result out;
  memset(&out, 0, sizeof(out));
  CHECK(pki_client_call(client, "POST", path, "application/x-protobuf", body,
                        len, &reply));
  read_change(&reply, &out);
  pki_reply_cleanup(&reply);
  return out;
}

static change_result unhold_cert(pki_client *client, const char *serial) {
  char path[160];
  snprintf(path, sizeof(path), "/v1/certificates/%s:unhold", serial);
  pki_reply reply;
  change_result out;
  memset(&out, 0, sizeof(out));
  CHECK(pki_client_call(client, "POST", path, "application/x-protobuf", NULL, 0,
                        &reply));
  read_change(&reply, &out);
  pki_reply_cleanup(&reply);
  return out;
}

static long long audit_rows(const char *action, const char *serial) {
  char sql[256];
  snprintf(sql, sizeof(sql),
           "SELECT count(*) FROM audit_log WHERE action = '%s'"
           " AND object = $1 AND outcome = 'ok'",
           action);
  return it_db_int(&db, sql, serial);
}

// --- OCSP ---

// ask sends an OCSP request about |serial| (POST, or GET when |get|) to
// |client| and parses the answer into |out|; it returns the HTTP reply's
// Cache-Control presence through |cacheable| when not NULL.
static int ask(pki_client *client, const char *serial, int nonce, int get,
               test_ocsp_response *out) {
  const char *serials[] = {serial};
  uint8_t nonce_bytes[16];
  CHECK(RAND_bytes(nonce_bytes, sizeof(nonce_bytes)));
  size_t req_len;
  uint8_t *req =
      test_ocsp_request(rsa_issuing, serials, 1, 0, nonce ? nonce_bytes : NULL,
                        sizeof(nonce_bytes), &req_len);
  CHECK(req != NULL);
  pki_reply reply;
  int ok;
  if (get) {
    // RFC 6960 appendix A.1: base64, URL-encoded.
    char b64[1024], path[3200];
    size_t b64_len;
    ok = EVP_EncodedLength(&b64_len, req_len) && b64_len <= sizeof(b64) &&
         EVP_EncodeBlock((uint8_t *)b64, req, req_len) > 0;
    size_t n = 0;
    path[n++] = '/';
    for (const char *p = b64; ok && *p != '\0'; p++) {
      if (*p == '/' || *p == '+' || *p == '=') {
        n += (size_t)snprintf(path + n, sizeof(path) - n, "%%%02X", *p);
      } else {
        path[n++] = *p;
      }
    }
    path[n] = '\0';
    ok = ok && pki_client_call(client, "GET", path, NULL, NULL, 0, &reply);
  } else {
    ok = pki_client_call(client, "POST", "/", "application/ocsp-request", req,
                         req_len, &reply);
  }
  OPENSSL_free(req);
  CHECK(ok);
  if (!ok) {
    memset(out, 0, sizeof(*out));
    return 0;
  }
  CHECK_EQ_INT(reply.status, 200);
  CHECK_EQ_STR(reply.content_type, "application/ocsp-response");
  EVP_PKEY *ca_key = X509_get_pubkey(rsa_issuing);
  ok = test_ocsp_parse(reply.body, reply.body_len, ca_key, out);
  EVP_PKEY_free(ca_key);
  CHECK(ok);
  pki_reply_cleanup(&reply);
  if (!ok || out->response_status != 0 || out->count != 1) {
    CHECK_EQ_INT(out->response_status, 0);
    CHECK_EQ_INT(out->count, 1);
    return 0;
  }
  CHECK(out->signature_ok);
  CHECK_EQ_STR(out->singles[0].serial, serial);
  CHECK_EQ_INT(out->has_nonce, nonce);
  if (nonce && out->has_nonce) {
    CHECK(out->nonce_len == sizeof(nonce_bytes) &&
          memcmp(out->nonce, nonce_bytes, sizeof(nonce_bytes)) == 0);
  }
  return 1;
}

// status_of returns the OCSP status |client| gives |serial| (no nonce, so
// possibly cached), or -1.
static int status_of(pki_client *client, const char *serial) {
  test_ocsp_response r;
  const int ok = ask(client, serial, 0, 0, &r);
  const int status = ok ? r.singles[0].status : -1;
  test_ocsp_response_cleanup(&r);
  return status;
}

// wait_status polls |client| every 10 ms until |serial| has |want| or
// |limit_ms| passed, and returns the milliseconds it took (or -1).
static int64_t wait_status(pki_client *client, const char *serial, int want,
                           int64_t limit_ms) {
  const int64_t start = now_ms();
  for (;;) {
    const int64_t elapsed = now_ms() - start;
    if (status_of(client, serial) == want) {
      return elapsed;
    }
    if (elapsed > limit_ms) {
      return -1;
    }
    usleep(10 * 1000);
  }
}

// --- Tests ---

TEST(revoke_and_unhold_follow_rfc5280_and_are_audited) {
  issued a, b, c;
  CHECK(issue_rsa(api_a, "revoke-a.example.com", &a));
  CHECK(issue_rsa(api_a, "hold-b.example.com", &b));
  CHECK(issue_rsa(api_a, "past-c.example.com", &c));

  const int64_t t0 = (int64_t)time(NULL);
  change_result r = revoke_cert(api_a, a.serial, 1, 0);
  CHECK_EQ_INT(r.http, 200);
  CHECK_EQ_STR(r.status, "revoked");
  CHECK_EQ_INT(r.reason, 1);
  CHECK(r.revoked_at > 0 && llabs((long long)(r.revoked_at - time(NULL))) < 60);
  // The CRL comes after the commit: its number is not known yet, and it is
  // due --crl-interval (1 s) plus the writer's 2 s after the commit.
  CHECK_EQ_INT(r.crl_number, 0);
  CHECK(r.crl_due_at >= t0 + 3 && r.crl_due_at <= (int64_t)time(NULL) + 3);
  CHECK_EQ_INT(audit_rows("revoke", a.serial), 1);
  CHECK_EQ_INT(
      it_db_int(&db,
                "SELECT count(*) FROM certificate_status WHERE serial = $1"
                " AND status = 'revoked' AND revocation_reason = 1",
                a.serial),
      1);

  // Every reason but certificateHold is final.
  r = revoke_cert(api_a, a.serial, 4, 0);
  CHECK_EQ_INT(r.http, 409);
  CHECK_EQ_STR(r.code, "ALREADY_REVOKED");
  r = unhold_cert(api_a, a.serial);
  CHECK_EQ_INT(r.http, 409);
  CHECK_EQ_STR(r.code, "NOT_ON_HOLD");
  CHECK_EQ_INT(audit_rows("revoke", a.serial), 1);
  CHECK_EQ_INT(audit_rows("unhold", a.serial), 0);

  // certificateHold, lifted, held again, then revoked for good.
  r = revoke_cert(api_a, b.serial, 6, 0);
  CHECK_EQ_INT(r.http, 200);
  CHECK_EQ_INT(r.reason, 6);
  CHECK(r.crl_due_at > 0);
  r = revoke_cert(api_a, b.serial, 6, 0);
  CHECK_EQ_STR(r.code, "ALREADY_REVOKED");
  r = unhold_cert(api_a, b.serial);
  CHECK_EQ_INT(r.http, 200);
  CHECK_EQ_STR(r.status, "good");
  CHECK(r.crl_due_at >= t0 + 3);
  r = unhold_cert(api_a, b.serial);
  CHECK_EQ_INT(r.http, 409);
  CHECK_EQ_STR(r.code, "NOT_ON_HOLD");
  CHECK_EQ_INT(revoke_cert(api_a, b.serial, 6, 0).http, 200);
  r = revoke_cert(api_a, b.serial, 1, 0);
  CHECK_EQ_INT(r.http, 200);
  CHECK_EQ_INT(r.reason, 1);
  CHECK_EQ_INT(audit_rows("revoke", b.serial), 3);
  CHECK_EQ_INT(audit_rows("unhold", b.serial), 1);

  // A revocation time between notBefore and now is kept; others refused.
  r = revoke_cert(api_a, c.serial, 3, (int64_t)time(NULL) + 86400);
  CHECK_EQ_INT(r.http, 400);
  CHECK_EQ_STR(r.code, "PARAMETER_INVALID");
  r = revoke_cert(api_a, c.serial, 3, c.not_before - 86400);
  CHECK_EQ_STR(r.code, "PARAMETER_INVALID");
  r = revoke_cert(api_a, c.serial, 7, 0);
  CHECK_EQ_STR(r.code, "PARAMETER_INVALID");
  r = revoke_cert(api_a, c.serial, 8, 0);
  CHECK_EQ_STR(r.code, "PARAMETER_INVALID");
  CHECK_EQ_INT(audit_rows("revoke", c.serial), 0);
  r = revoke_cert(api_a, c.serial, 3, c.not_before + 1);
  CHECK_EQ_INT(r.http, 200);
  CHECK_EQ_INT(r.revoked_at, c.not_before + 1);

  // Serials pki never issued, or that are not serials.
  r = revoke_cert(api_a, "0123456789abcdef", 1, 0);
  CHECK_EQ_INT(r.http, 404);
  CHECK_EQ_STR(r.code, "NOT_FOUND");
  r = revoke_cert(api_a, "not-hex", 1, 0);
  CHECK_EQ_INT(r.http, 400);
  pki_reply reply;
  char path[160];
  snprintf(path, sizeof(path), "/v1/certificates/%s:revoke", c.serial);
  const uint8_t junk[] = {0xff, 0xff, 0xff};
  CHECK(pki_client_call(api_a, "POST", path, "application/x-protobuf", junk,
                        sizeof(junk), &reply));
  change_result bad;
  read_change(&reply, &bad);
  pki_reply_cleanup(&reply);
  CHECK_EQ_INT(bad.http, 400);
  CHECK_EQ_STR(bad.code, "REQUEST_MALFORMED");
}

// fetch_crl returns the DER CRL of |ca| from node A, or NULL.
static X509_CRL *fetch_crl(const char *ca, const char *query) {
  char path[128];
  snprintf(path, sizeof(path), "/v1/crl/%s%s", ca, query);
  pki_reply reply;
  CHECK(pki_client_call(api_a, "GET", path, NULL, NULL, 0, &reply));
  X509_CRL *crl = NULL;
  if (reply.status == 200) {
    if (strstr(reply.content_type, "pem") != NULL) {
      BIO *bio = BIO_new_mem_buf(reply.body, (int)reply.body_len);
      crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
      BIO_free(bio);
    } else {
      const uint8_t *p = reply.body;
      crl = d2i_X509_CRL(NULL, &p, (long)reply.body_len);
    }
  }
  pki_reply_cleanup(&reply);
  return crl;
}

static long long crl_number(X509_CRL *crl) {
  ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
  const long long v = n != NULL ? (long long)ASN1_INTEGER_get(n) : -1;
  ASN1_INTEGER_free(n);
  return v;
}

// crl_reason returns the reason of |serial| in |crl|: the reasonCode, 0
// when the entry has none (unspecified), -1 when not listed.
static int crl_reason(X509_CRL *crl, const char *serial) {
  BIGNUM *bn = NULL;
  ASN1_INTEGER *integer = NULL;
  X509_REVOKED *entry = NULL;
  int reason = -1;
  if (BN_hex2bn(&bn, serial) > 0 &&
      (integer = BN_to_ASN1_INTEGER(bn, NULL)) != NULL &&
      X509_CRL_get0_by_serial(crl, &entry, integer) == 1) {
    ASN1_ENUMERATED *code =
        X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, NULL, NULL);
    reason = code != NULL ? (int)ASN1_ENUMERATED_get(code) : 0;
    ASN1_ENUMERATED_free(code);
  }
  ASN1_INTEGER_free(integer);
  BN_free(bn);
  return reason;
}

// sleep_until sleeps until the wall clock reads |t| (Unix seconds).
static void sleep_until(int64_t t) {
  while ((int64_t)time(NULL) < t) {
    usleep(50 * 1000);
  }
}

TEST(the_crl_lists_each_revocation_by_its_due_time_with_a_higher_number) {
  issued good, gone;
  CHECK(issue_rsa(api_a, "crl-good.example.com", &good));
  CHECK(issue_rsa(api_a, "crl-gone.example.com", &gone));
  X509_CRL *before = fetch_crl("rsa-issuing", "");
  CHECK(before != NULL);
  if (before == NULL) {
    return;
  }
  const long long n0 = crl_number(before);
  change_result r = revoke_cert(api_a, gone.serial, 5, 0);
  CHECK_EQ_INT(r.http, 200);
  CHECK_EQ_INT(r.crl_number, 0);
  // At its due time, the CRL served lists the revocation, whoever made it.
  sleep_until(r.crl_due_at);
  X509_CRL *after = fetch_crl("rsa-issuing", "?format=pem");
  CHECK(after != NULL);
  if (after != NULL) {
    CHECK(crl_number(after) > n0);
    CHECK_EQ_INT(crl_reason(after, gone.serial), 5);
    CHECK_EQ_INT(crl_reason(after, good.serial), -1);
    CHECK_EQ_INT(X509_CRL_get_version(after), 1);  // v2
    EVP_PKEY *key = X509_get_pubkey(rsa_issuing);
    CHECK_EQ_INT(X509_CRL_verify(after, key), 1);
    EVP_PKEY_free(key);
    CHECK_EQ_INT(X509_NAME_cmp(X509_CRL_get_issuer(after),
                               X509_get_subject_name(rsa_issuing)),
                 0);
    // --crl-validity-days: 7 by default.
    int days, seconds;
    CHECK(ASN1_TIME_diff(&days, &seconds, X509_CRL_get0_lastUpdate(after),
                         X509_CRL_get0_nextUpdate(after)));
    CHECK_EQ_INT(days * 86400 + seconds, 7 * 86400);
    X509_CRL_free(after);
  }
  // The EC issuing CA has a CRL of its own, untouched by RSA revocations.
  X509_CRL *ec = fetch_crl("ec-issuing", "?format=der");
  CHECK(ec != NULL);
  if (ec != NULL) {
    CHECK_EQ_INT(crl_reason(ec, gone.serial), -1);
    X509_CRL_free(ec);
  }
  pki_reply reply;
  CHECK(pki_client_call(api_a, "GET", "/v1/crl/no-such-ca", NULL, NULL, 0,
                        &reply));
  CHECK_EQ_INT(reply.status, 404);
  pki_reply_cleanup(&reply);
  X509_CRL_free(before);
}

TEST(the_responder_answers_good_revoked_unknown_with_and_without_nonce) {
  issued good, gone;
  CHECK(issue_rsa(api_a, "ocsp-good.example.com", &good));
  CHECK(issue_rsa(api_a, "ocsp-gone.example.com", &gone));
  const int64_t when = (int64_t)time(NULL) - 10;
  CHECK_EQ_INT(revoke_cert(api_a, gone.serial, 1, when).http, 200);
  uint8_t key_hash[20];
  CHECK(test_ocsp_key_hash(rsa_issuing, key_hash));

  for (int get = 0; get <= 1; get++) {
    for (int nonce = 0; nonce <= 1; nonce++) {
      test_ocsp_response r;
      if (ask(ocsp_a, good.serial, nonce, get, &r)) {
        CHECK_EQ_INT(r.singles[0].status, TEST_OCSP_GOOD);
        CHECK(r.by_key && memcmp(r.key_hash, key_hash, 20) == 0);
        CHECK(r.signer == NULL);  // the CA signs: no certificate travels
        // --ocsp-validity-hours 12 (main).
        CHECK_EQ_INT(r.singles[0].next_update - r.singles[0].this_update,
                     12 * 3600);
        CHECK(llabs((long long)(r.produced_at - time(NULL))) < 60);
      }
      test_ocsp_response_cleanup(&r);
      if (ask(ocsp_a, gone.serial, nonce, get, &r)) {
        CHECK_EQ_INT(r.singles[0].status, TEST_OCSP_REVOKED);
        CHECK_EQ_INT(r.singles[0].revoked_at, when);
        CHECK_EQ_INT(r.singles[0].reason, 1);
      }
      test_ocsp_response_cleanup(&r);
      if (ask(ocsp_a, "7e57ab1e0000000000000000000001", nonce, get, &r)) {
        CHECK_EQ_INT(r.singles[0].status, TEST_OCSP_UNKNOWN);
      }
      test_ocsp_response_cleanup(&r);
    }
  }

  // Several CertIDs, SHA-256 ones, in one request: answered in order.
  const char *serials[] = {good.serial, gone.serial, "7e57ab1e02"};
  size_t len;
  uint8_t *req = test_ocsp_request(rsa_issuing, serials, 3, 1, NULL, 0, &len);
  pki_reply reply;
  CHECK(pki_client_call(ocsp_a, "POST", "/any/path", "application/ocsp-request",
                        req, len, &reply));
  OPENSSL_free(req);
  EVP_PKEY *key = X509_get_pubkey(rsa_issuing);
  test_ocsp_response r;
  CHECK(test_ocsp_parse(reply.body, reply.body_len, key, &r));
  CHECK_EQ_INT(r.count, 3);
  CHECK(r.signature_ok);
  if (r.count == 3) {
    CHECK_EQ_INT(r.singles[0].status, TEST_OCSP_GOOD);
    CHECK_EQ_INT(r.singles[1].status, TEST_OCSP_REVOKED);
    CHECK_EQ_INT(r.singles[2].status, TEST_OCSP_UNKNOWN);
    CHECK_EQ_STR(r.singles[1].serial, gone.serial);
  }
  test_ocsp_response_cleanup(&r);
  pki_reply_cleanup(&reply);
  EVP_PKEY_free(key);

  // Bytes that are not a request: malformedRequest (1), HTTP 200.
  const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x05};
  CHECK(pki_client_call(ocsp_a, "POST", "/", "application/ocsp-request", junk,
                        sizeof(junk), &reply));
  CHECK_EQ_INT(reply.status, 200);
  CHECK(test_ocsp_parse(reply.body, reply.body_len, NULL, &r));
  CHECK_EQ_INT(r.response_status, 1);
  test_ocsp_response_cleanup(&r);
  pki_reply_cleanup(&reply);
}

TEST(a_revocation_replaces_the_cached_answer_at_once) {
  issued c;
  CHECK(issue_rsa(api_a, "cached.example.com", &c));
  test_ocsp_response first, second;
  CHECK(ask(ocsp_a, c.serial, 0, 0, &first));
  sleep(1);  // a fresh signature would carry a later producedAt
  CHECK(ask(ocsp_a, c.serial, 0, 0, &second));
  CHECK_EQ_INT(second.singles[0].status, TEST_OCSP_GOOD);
  CHECK_EQ_INT(second.produced_at, first.produced_at);  // pre-signed
  test_ocsp_response_cleanup(&first);
  test_ocsp_response_cleanup(&second);
  // A live answer (nonce) takes its status from the cache too.
  CHECK(ask(ocsp_a, c.serial, 1, 0, &first));
  CHECK_EQ_INT(first.singles[0].status, TEST_OCSP_GOOD);
  test_ocsp_response_cleanup(&first);
  CHECK_EQ_INT(revoke_cert(api_a, c.serial, 4, 0).http, 200);
  CHECK(ask(ocsp_a, c.serial, 1, 0, &first));
  CHECK_EQ_INT(first.singles[0].status, TEST_OCSP_REVOKED);
  CHECK_EQ_INT(first.singles[0].reason, 4);
  test_ocsp_response_cleanup(&first);
  CHECK_EQ_INT(status_of(ocsp_a, c.serial), TEST_OCSP_REVOKED);
  CHECK_EQ_INT(unhold_cert(api_a, c.serial).http, 409);
}

// start_node_b starts the second node on the same database with A's CA
// keys, a name of its own and a delegated responder.
static int start_node_b(void) {
  char url[1100];
  snprintf(url, sizeof(url), "%s%capplication_name=pki-node-b", db.url,
           strchr(db.url, '?') != NULL ? '&' : '?');
  it_db db_b = db;
  snprintf(db_b.url, sizeof(db_b.url), "%s", url);
  const char *extra[] = {
      "--node", "node-b", "--ocsp-signer", "delegated", "--ocsp-validity-hours",
      "12",     NULL};
  if (!it_pkid_start(&node_b, &db_b, node_b.data_dir, extra)) {
    return 0;
  }
  pki_client_free(api_b);
  pki_client_free(ocsp_b);
  api_b = it_client(&node_b);
  ocsp_b = pki_client_new(node_b.ocsp);
  return api_b != NULL && ocsp_b != NULL;
}

// node_b_responders counts the delegated responders of node B for
// rsa-issuing recorded in the database.
static long long node_b_responders(void) {
  return it_db_int(&db,
                   "SELECT count(*) FROM ocsp_responders r JOIN issuers i"
                   " ON i.id = r.issuer_id WHERE r.node = 'node-b'"
                   " AND i.name = $1",
                   "rsa-issuing");
}

TEST(node_b_answers_with_its_own_delegated_responder) {
  issued c;
  CHECK(issue_rsa(api_a, "delegated.example.com", &c));
  test_ocsp_response r;
  CHECK(ask(ocsp_b, c.serial, 1, 0, &r));
  CHECK(r.signer != NULL);
  if (r.signer != NULL) {
    uint8_t key_hash[20];
    CHECK(test_ocsp_key_hash(r.signer, key_hash));
    CHECK(r.by_key && memcmp(r.key_hash, key_hash, 20) == 0);
    // Issued by the CA, for OCSP signing only, and not itself checked.
    EVP_PKEY *ca_key = X509_get_pubkey(rsa_issuing);
    CHECK_EQ_INT(X509_verify(r.signer, ca_key), 1);
    EVP_PKEY_free(ca_key);
    CHECK((X509_get_extended_key_usage(r.signer) & XKU_OCSP_SIGN) != 0);
    CHECK(X509_get_ext_by_NID(r.signer, NID_id_pkix_OCSP_noCheck, -1) >= 0);
    CHECK(X509_check_ca(r.signer) == 0);
  }
  test_ocsp_response_cleanup(&r);
  CHECK_EQ_INT(node_b_responders(), 1);
  // Node A still signs with the CA itself.
  CHECK(ask(ocsp_a, c.serial, 1, 0, &r));
  CHECK(r.signer == NULL);
  test_ocsp_response_cleanup(&r);
}

TEST(a_revocation_on_one_node_reaches_the_other_within_one_second) {
  issued c;
  CHECK(issue_rsa(api_a, "two-nodes.example.com", &c));
  // Both nodes have a pre-signed `good` cached.
  CHECK_EQ_INT(status_of(ocsp_b, c.serial), TEST_OCSP_GOOD);
  CHECK_EQ_INT(status_of(ocsp_b, c.serial), TEST_OCSP_GOOD);
  CHECK_EQ_INT(status_of(ocsp_a, c.serial), TEST_OCSP_GOOD);
  CHECK_EQ_INT(revoke_cert(api_a, c.serial, 6, 0).http, 200);
  int64_t ms = wait_status(ocsp_b, c.serial, TEST_OCSP_REVOKED, 1000);
  printf("node B answered revoked %lld ms after node A revoked\n",
         (long long)ms);
  CHECK(ms >= 0 && ms <= 1000);
  test_ocsp_response live;
  CHECK(ask(ocsp_b, c.serial, 1, 0, &live));
  CHECK_EQ_INT(live.singles[0].status, TEST_OCSP_REVOKED);
  test_ocsp_response_cleanup(&live);
  // And back: released on B, good on A (which had `revoked` cached).
  CHECK_EQ_INT(status_of(ocsp_a, c.serial), TEST_OCSP_REVOKED);
  CHECK_EQ_INT(unhold_cert(api_b, c.serial).http, 200);
  ms = wait_status(ocsp_a, c.serial, TEST_OCSP_GOOD, 1000);
  printf("node A answered good %lld ms after node B released\n", (long long)ms);
  CHECK(ms >= 0 && ms <= 1000);
}

// batch_revoke sends |n| items to :batchRevoke on |client| and returns the
// HTTP status; |*out| is the decoded answer on 200 (free_unpacked).
static long batch_revoke(pki_client *client, Pki__V1__BatchRevokeItem **items,
                         size_t n, Pki__V1__BatchRevokeResponse **out) {
  Pki__V1__BatchRevokeRequest req = PKI__V1__BATCH_REVOKE_REQUEST__INIT;
  req.items = items;
  req.n_items = n;
  const size_t len = pki__v1__batch_revoke_request__get_packed_size(&req);
  uint8_t *body = malloc(len + 1);
  pki__v1__batch_revoke_request__pack(&req, body);
  pki_reply reply;
  *out = NULL;
  const int ok = pki_client_call(client, "POST", "/v1/certificates:batchRevoke",
                                 "application/x-protobuf", body, len, &reply);
  free(body);
  CHECK(ok);
  if (!ok) {
    return -1;
  }
  const long status = reply.status;
  if (status == 200) {
    *out = pki__v1__batch_revoke_response__unpack(NULL, reply.body_len,
                                                  reply.body);
    CHECK(*out != NULL);
  }
  pki_reply_cleanup(&reply);
  return status;
}

TEST(a_batch_revokes_its_good_items_and_answers_each_bad_one) {
  issued c[4];
  for (int i = 0; i < 4; i++) {
    char cn[64];
    snprintf(cn, sizeof(cn), "batch-%d.example.com", i);
    CHECK(issue_rsa(api_a, cn, &c[i]));
  }
  CHECK_EQ_INT(revoke_cert(api_a, c[3].serial, 1, 0).http, 200);
  // Both nodes have a pre-signed `good` cached for the good ones.
  for (int i = 0; i < 3; i++) {
    CHECK_EQ_INT(status_of(ocsp_a, c[i].serial), TEST_OCSP_GOOD);
    CHECK_EQ_INT(status_of(ocsp_b, c[i].serial), TEST_OCSP_GOOD);
    CHECK_EQ_INT(status_of(ocsp_b, c[i].serial), TEST_OCSP_GOOD);
  }
  Pki__V1__BatchRevokeItem it[7];
  Pki__V1__BatchRevokeItem *items[7];
  for (int i = 0; i < 7; i++) {
    pki__v1__batch_revoke_item__init(&it[i]);
    items[i] = &it[i];
  }
  it[0].serial = c[0].serial;
  it[0].reason = 1;
  it[1].serial = "0123456789abcdef";  // never issued
  it[1].reason = 1;
  it[2].serial = c[1].serial;
  it[2].issuer = "rsa-issuing";
  it[2].reason = 4;
  it[3].serial = c[3].serial;  // revoked before
  it[3].reason = 4;
  it[4].serial = c[2].serial;
  it[4].reason = 7;  // no such reason
  it[5].serial = c[2].serial;
  it[5].issuer = "ec-issuing";  // not its CA
  it[5].reason = 1;
  it[6].serial = c[2].serial;
  it[6].reason = 9;
  it[6].revocation_time = c[2].not_before + 5;
  const int64_t t0 = (int64_t)time(NULL);
  Pki__V1__BatchRevokeResponse *resp;
  CHECK_EQ_INT(batch_revoke(api_a, items, 7, &resp), 200);
  if (resp == NULL) {
    return;
  }
  CHECK_EQ_INT(resp->revoked, 3);
  CHECK_EQ_INT(resp->failed, 4);
  CHECK_EQ_INT(resp->n_results, 7);
  static const char *const kWant[7] = {
      NULL,        "NOT_FOUND", NULL, "ALREADY_REVOKED", "PARAMETER_INVALID",
      "NOT_FOUND", NULL};
  for (size_t i = 0; i < resp->n_results && i < 7; i++) {
    const Pki__V1__RevokeResult *r = resp->results[i];
    if (kWant[i] == NULL) {
      CHECK(r->state != NULL && r->error == NULL);
      if (r->state != NULL) {
        CHECK_EQ_STR(r->state->status, "revoked");
        CHECK_EQ_STR(r->state->serial, it[i].serial);
        CHECK_EQ_STR(r->state->issuer, "rsa-issuing");
        CHECK_EQ_INT(r->state->reason, it[i].reason);
        CHECK_EQ_INT(r->state->crl_number, 0);
        CHECK(r->state->crl_due_at >= t0 + 3);
      }
    } else {
      CHECK(r->state == NULL && r->error != NULL);
      if (r->error != NULL) {
        CHECK_EQ_STR(r->error->code, kWant[i]);
        CHECK(r->error->message[0] != '\0');
      }
    }
  }
  CHECK_EQ_INT(resp->results[6]->state->revoked_at, c[2].not_before + 5);
  // What is stored: the three revoked, one audit row each, nothing for the
  // refused items.
  for (int i = 0; i < 3; i++) {
    CHECK_EQ_INT(
        it_db_int(&db,
                  "SELECT count(*) FROM certificate_status WHERE serial = $1"
                  " AND status = 'revoked'",
                  c[i].serial),
        1);
    CHECK_EQ_INT(audit_rows("revoke", c[i].serial), 1);
  }
  CHECK_EQ_INT(audit_rows("revoke", c[3].serial), 1);
  CHECK_EQ_INT(audit_rows("revoke", "0123456789abcdef"), 0);
  // OCSP: revoked at once on node A, within a second on node B.
  for (int i = 0; i < 3; i++) {
    CHECK_EQ_INT(status_of(ocsp_a, c[i].serial), TEST_OCSP_REVOKED);
    const int64_t ms =
        wait_status(ocsp_b, c[i].serial, TEST_OCSP_REVOKED, 1000);
    CHECK(ms >= 0 && ms <= 1000);
  }
  // And the CRL, by the due time.
  sleep_until(resp->results[0]->state->crl_due_at);
  X509_CRL *crl = fetch_crl("rsa-issuing", "");
  CHECK(crl != NULL);
  if (crl != NULL) {
    CHECK_EQ_INT(crl_reason(crl, c[0].serial), 1);
    CHECK_EQ_INT(crl_reason(crl, c[1].serial), 4);
    CHECK_EQ_INT(crl_reason(crl, c[2].serial), 9);
    X509_CRL_free(crl);
  }
  pki__v1__batch_revoke_response__free_unpacked(resp, NULL);

  // Whole-batch refusals: nothing to do, not a batch.
  CHECK_EQ_INT(batch_revoke(api_a, items, 0, &resp), 400);
  pki_reply reply;
  const uint8_t junk[] = {0x0a, 0x05, 0xff};
  CHECK(pki_client_call(api_a, "POST", "/v1/certificates:batchRevoke",
                        "application/x-protobuf", junk, sizeof(junk), &reply));
  CHECK_EQ_INT(reply.status, 400);
  pki_reply_cleanup(&reply);
}

// --- Concurrent single revocations (group commit) ---

#define RACERS 8

// What one client thread revokes, and what it was answered.
typedef struct racer {
  pthread_barrier_t *start;
  const char *serials[3];
  change_result answers[3];
  int called;  // calls that reached the server
} racer;

static void *race_main(void *arg) {
  racer *r = arg;
  pki_client *client = it_client(&node_a);
  pthread_barrier_wait(r->start);
  for (int i = 0; client != NULL && i < 3; i++) {
    if (r->serials[i] == NULL) {
      continue;
    }
    // CHECK is not for threads: revoke_cert's own CHECK runs only when the
    // call fails, which the main thread then sees as a zero http.
    r->answers[i] = revoke_cert(client, r->serials[i], 1, 0);
    r->called++;
  }
  pki_client_free(client);
  return NULL;
}

TEST(concurrent_revocations_are_each_answered_audited_and_revoked) {
  // Per client: its own good certificate, a serial never issued, and (the
  // first two clients) one certificate both revoke at the same time.
  issued good[RACERS], shared;
  for (int i = 0; i < RACERS; i++) {
    char cn[64];
    snprintf(cn, sizeof(cn), "race-%d.example.com", i);
    CHECK(issue_rsa(api_a, cn, &good[i]));
    CHECK_EQ_INT(status_of(ocsp_b, good[i].serial), TEST_OCSP_GOOD);
  }
  CHECK(issue_rsa(api_a, "race-shared.example.com", &shared));
  char unknown[RACERS][40];
  racer racers[RACERS];
  pthread_t threads[RACERS];
  pthread_barrier_t start;
  CHECK(pthread_barrier_init(&start, NULL, RACERS) == 0);
  memset(racers, 0, sizeof(racers));
  for (int i = 0; i < RACERS; i++) {
    snprintf(unknown[i], sizeof(unknown[i]), "7ace%028x", i + 1);
    racers[i].start = &start;
    racers[i].serials[0] = i % 2 == 0 ? good[i].serial : unknown[i];
    racers[i].serials[1] = i % 2 == 0 ? unknown[i] : good[i].serial;
    racers[i].serials[2] = i < 2 ? shared.serial : NULL;
  }
  const int64_t t0 = (int64_t)time(NULL);
  for (int i = 0; i < RACERS; i++) {
    CHECK(pthread_create(&threads[i], NULL, race_main, &racers[i]) == 0);
  }
  for (int i = 0; i < RACERS; i++) {
    pthread_join(threads[i], NULL);
  }
  pthread_barrier_destroy(&start);
  int shared_ok = 0, shared_already = 0;
  int64_t due = 0;
  for (int i = 0; i < RACERS; i++) {
    CHECK_EQ_INT(racers[i].called, i < 2 ? 3 : 2);
    for (int k = 0; k < 3; k++) {
      const change_result *a = &racers[i].answers[k];
      const char *serial = racers[i].serials[k];
      if (serial == NULL) {
        continue;
      }
      if (serial == unknown[i]) {
        CHECK_EQ_INT(a->http, 404);
        CHECK_EQ_STR(a->code, "NOT_FOUND");
      } else if (serial == shared.serial) {
        shared_ok += a->http == 200;
        shared_already +=
            a->http == 409 && strcmp(a->code, "ALREADY_REVOKED") == 0;
      } else {
        CHECK_EQ_INT(a->http, 200);
        CHECK_EQ_STR(a->status, "revoked");
        CHECK_EQ_INT(a->reason, 1);
        CHECK(a->revoked_at >= t0 && a->crl_due_at >= t0 + 3);
        due = a->crl_due_at > due ? a->crl_due_at : due;
      }
    }
  }
  // The same certificate from two clients: once revoked, once refused,
  // whichever came first.
  CHECK_EQ_INT(shared_ok, 1);
  CHECK_EQ_INT(shared_already, 1);
  // One audit row per revocation, with its own client's actor; none for
  // the refused ones.
  for (int i = 0; i < RACERS; i++) {
    CHECK_EQ_INT(audit_rows("revoke", good[i].serial), 1);
    CHECK_EQ_INT(audit_rows("revoke", unknown[i]), 0);
    CHECK_EQ_INT(
        it_db_int(&db,
                  "SELECT count(*) FROM audit_log WHERE action = 'revoke'"
                  " AND object = $1 AND actor LIKE 'token:%'"
                  " AND source = '127.0.0.1'",
                  good[i].serial),
        1);
    CHECK_EQ_INT(
        it_db_int(&db,
                  "SELECT count(*) FROM certificate_status WHERE serial = $1"
                  " AND status = 'revoked' AND revocation_reason = 1",
                  good[i].serial),
        1);
  }
  CHECK_EQ_INT(audit_rows("revoke", shared.serial), 1);
  // How many transactions carried them (informative: grouping depends on
  // timing, correctness does not).
  printf("%d revocations in %lld transactions\n", RACERS + 1,
         it_db_int(&db,
                   "SELECT count(DISTINCT r.xmin::text) FROM revocations r"
                   " JOIN certificates c ON c.id = r.certificate_id"
                   " WHERE c.common_name LIKE 'race-%'",
                   NULL));
  // OCSP: revoked at once on node A, within a second on node B.
  for (int i = 0; i < RACERS; i++) {
    CHECK_EQ_INT(status_of(ocsp_a, good[i].serial), TEST_OCSP_REVOKED);
    const int64_t ms =
        wait_status(ocsp_b, good[i].serial, TEST_OCSP_REVOKED, 1000);
    CHECK(ms >= 0 && ms <= 1000);
  }
  CHECK_EQ_INT(status_of(ocsp_a, shared.serial), TEST_OCSP_REVOKED);
  // And the CRL lists them by the due time.
  sleep_until(due);
  X509_CRL *crl = fetch_crl("rsa-issuing", "");
  CHECK(crl != NULL);
  if (crl != NULL) {
    for (int i = 0; i < RACERS; i++) {
      CHECK_EQ_INT(crl_reason(crl, good[i].serial), 1);
    }
    X509_CRL_free(crl);
  }
}

// wait_log waits up to 10 s for |text| in node B's log.
static int wait_log(const char *text) {
  char cmd[700];
  snprintf(cmd, sizeof(cmd), "grep -q '%s' '%s'", text, node_b.log);
  for (int i = 0; i < 100; i++) {
    if (it_run(cmd) == 0) {
      return 1;
    }
    usleep(100 * 1000);
  }
  return 0;
}

TEST(a_node_that_cannot_hear_notifications_reads_the_database) {
  issued c;
  CHECK(issue_rsa(api_a, "deaf.example.com", &c));
  // New sessions are refused, so node B's listener cannot come back, while
  // the pooled sessions of both nodes carry on; then B's LISTEN session
  // (the one whose last statement was a LISTEN) is cut.
  char sql[400];
  snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS false",
           db.name);
  CHECK(it_db_admin(sql));
  CHECK(
      it_db_admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                  " WHERE application_name = 'pki-node-b'"
                  " AND query LIKE 'LISTEN%'"));
  CHECK(wait_log("lost the database notifications"));
  // Deaf, B reads every answer afresh: what it would have cached a moment
  // before a revocation it cannot hear about must not outlive it.
  CHECK_EQ_INT(status_of(ocsp_b, c.serial), TEST_OCSP_GOOD);
  CHECK_EQ_INT(status_of(ocsp_b, c.serial), TEST_OCSP_GOOD);
  CHECK_EQ_INT(revoke_cert(api_a, c.serial, 1, 0).http, 200);
  CHECK_EQ_INT(status_of(ocsp_b, c.serial), TEST_OCSP_REVOKED);
  snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS true",
           db.name);
  CHECK(it_db_admin(sql));
  CHECK(wait_log("database notifications are back"));
  CHECK_EQ_INT(status_of(ocsp_b, c.serial), TEST_OCSP_REVOKED);
}

TEST(a_restarted_node_answers_correctly_from_its_first_request) {
  issued c;
  CHECK(issue_rsa(api_a, "restart.example.com", &c));
  CHECK_EQ_INT(status_of(ocsp_b, c.serial), TEST_OCSP_GOOD);
  CHECK_EQ_INT(it_pkid_stop(&node_b), 0);
  CHECK_EQ_INT(revoke_cert(api_a, c.serial, 4, 0).http, 200);
  CHECK(start_node_b());
  CHECK_EQ_INT(status_of(ocsp_b, c.serial), TEST_OCSP_REVOKED);
  // The restart reused its delegated responder.
  CHECK_EQ_INT(node_b_responders(), 1);
}

// copy_ca_keys gives node B the CA keys of node A.
static int copy_ca_keys(const char *from, const char *to) {
  char cmd[2400];
  snprintf(cmd, sizeof(cmd),
           "mkdir -p '%s/keys' && chmod 0700 '%s' '%s/keys' && "
           "cp -p '%s'/keys/rsa-*.key '%s'/keys/ec-*.key '%s/keys/'",
           to, to, to, from, from, to);
  return it_run(cmd) == 0;
}

// --- A node stopped with revocations in flight ---

#define STOPPERS 8
#define STOPPER_CALLS 8

// One client revoking its certificates on node B while B stops.
typedef struct stopper {
  issued certs[STOPPER_CALLS];
  change_result answers[STOPPER_CALLS];  // http 0: no answer
  atomic_int *answered;
} stopper;

static void *stopper_main(void *arg) {
  stopper *s = arg;
  pki_client *client = it_client(&node_b);
  for (int i = 0; client != NULL && i < STOPPER_CALLS; i++) {
    Pki__V1__RevokeRequest req = PKI__V1__REVOKE_REQUEST__INIT;
    req.reason = 1;
    uint8_t body[64];
    const size_t len = pki__v1__revoke_request__pack(&req, body);
    char path[160];
    snprintf(path, sizeof(path), "/v1/certificates/%s:revoke",
             s->certs[i].serial);
    pki_reply reply;
    // Not CHECK (not for threads): a call the stopped node cannot take
    // stays at http 0, which the main thread reads.
    if (pki_client_call(client, "POST", path, "application/x-protobuf", body,
                        len, &reply)) {
      read_change(&reply, &s->answers[i]);
      pki_reply_cleanup(&reply);
      atomic_fetch_add(s->answered, 1);
    }
  }
  pki_client_free(client);
  return NULL;
}

// Revocations are committed by a thread of node B's own while its HTTP
// threads go on (ca/revocation/revoke_group.h); B stopped in the middle
// must commit every revocation it took before it answers, answer it, and
// refuse (or not take) the rest: a 200 is always in the database, and
// nothing else is.
TEST(a_node_stopped_mid_revocations_commits_what_it_answered) {
  static stopper stoppers[STOPPERS];
  atomic_int answered = 0;
  memset(stoppers, 0, sizeof(stoppers));
  for (int i = 0; i < STOPPERS; i++) {
    stoppers[i].answered = &answered;
    for (int k = 0; k < STOPPER_CALLS; k++) {
      char cn[64];
      snprintf(cn, sizeof(cn), "stop-%d-%d.example.com", i, k);
      CHECK(issue_rsa(api_a, cn, &stoppers[i].certs[k]));
    }
  }
  pthread_t threads[STOPPERS];
  int started = 0;
  for (int i = 0; i < STOPPERS; i++) {
    if (pthread_create(&threads[i], NULL, stopper_main, &stoppers[i]) != 0) {
      CHECK(0);  // a client thread did not start
      break;
    }
    started++;
  }
  // Stop B once a quarter of the calls are answered.
  for (int t = 0; t < 1000 && atomic_load(&answered) < STOPPERS * 2; t++) {
    usleep(5000);
  }
  CHECK_EQ_INT(it_pkid_stop(&node_b), 0);
  for (int i = 0; i < started; i++) {
    pthread_join(threads[i], NULL);
  }
  int ok = 0, refused = 0, unanswered = 0;
  for (int i = 0; i < started; i++) {
    for (int k = 0; k < STOPPER_CALLS; k++) {
      const change_result *a = &stoppers[i].answers[k];
      const char *serial = stoppers[i].certs[k].serial;
      const long long revoked =
          it_db_int(&db,
                    "SELECT count(*) FROM certificate_status WHERE serial = $1"
                    " AND status = 'revoked'",
                    serial);
      if (a->http == 200) {
        ok++;
        CHECK_EQ_INT(revoked, 1);
        CHECK_EQ_INT(audit_rows("revoke", serial), 1);
      } else if (a->http == 503) {
        refused++;
        CHECK_EQ_STR(a->code, "SHUTTING_DOWN");
        CHECK_EQ_INT(revoked, 0);
      } else {
        // No answer (the node had closed): committed or not, never half.
        CHECK_EQ_INT(a->http, 0);
        CHECK_EQ_INT(audit_rows("revoke", serial), revoked);
        unanswered++;
      }
    }
  }
  printf(
      "node B stopped: %d revocations answered, %d refused, %d not"
      " answered\n",
      ok, refused, unanswered);
  CHECK(ok >= STOPPERS * 2);
}

int main(void) {
  it_db_create(&db);
  char dir_a[512];
  it_tmpdir("revocation-a", dir_a, sizeof(dir_a));
  it_tmpdir("revocation-b", node_b.data_dir, sizeof(node_b.data_dir));
  const char *extra[] = {"--ocsp-validity-hours", "12", NULL};
  if (!it_pkid_start(&node_a, &db, dir_a, extra)) {
    it_db_drop(&db);
    return 1;
  }
  api_a = it_client(&node_a);
  ocsp_a = pki_client_new(node_a.ocsp);
  RUN(revoke_and_unhold_follow_rfc5280_and_are_audited);
  RUN(the_crl_lists_each_revocation_by_its_due_time_with_a_higher_number);
  RUN(the_responder_answers_good_revoked_unknown_with_and_without_nonce);
  RUN(a_revocation_replaces_the_cached_answer_at_once);
  if (copy_ca_keys(dir_a, node_b.data_dir) && start_node_b()) {
    RUN(node_b_answers_with_its_own_delegated_responder);
    RUN(a_revocation_on_one_node_reaches_the_other_within_one_second);
    RUN(a_batch_revokes_its_good_items_and_answers_each_bad_one);
    RUN(concurrent_revocations_are_each_answered_audited_and_revoked);
    RUN(a_node_that_cannot_hear_notifications_reads_the_database);
    RUN(a_restarted_node_answers_correctly_from_its_first_request);
    RUN(a_node_stopped_mid_revocations_commits_what_it_answered);  // stops B
  } else {
    CHECK(0);  // node B did not start
  }
  pki_client_free(api_a);
  pki_client_free(api_b);
  pki_client_free(ocsp_a);
  pki_client_free(ocsp_b);
  X509_free(rsa_issuing);
  CHECK_EQ_INT(it_pkid_stop(&node_a), 0);
  it_db_drop(&db);
  return test_summary();
}
