// ca/revocation/responder.c against a real PostgreSQL: `good`, `revoked`
// and `unknown` for issued, revoked and never-issued serials; the cache of
// pre-signed answers and what empties it (ca_responder_forget,
// ca_responder_forget_unknown, deafness); nonce answers signed live and
// never cached; `unauthorized` for an issuer that is not pki's; `tryLater`
// when the database cannot be read and nothing cached can stand in.
//
// Requests are built and responses read with tests/support/ocsp_client.h
// (BoringSSL's CBB/CBS), not with pki's own OCSP code.
#include <openssl/bytestring.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/revocation/responder.h"
#include "ca/revocation/revoke.h"
#include "ca/x509/reason.h"
#include "ca/x509/serial.h"
#include "tests/modules/fixture.h"
#include "tests/support/ocsp_client.h"
#include "tests/support/test.h"

// OCSPResponseStatus (RFC 6960 4.2.1).
enum {
  kSuccessful = 0,
  kMalformedRequest = 1,
  kTryLater = 3,
  kUnauthorized = 6,
};

// A serial no CA of the test ever issued (the engine draws 128 bits).
static const char kNeverIssued[] = "1234567890abcdef";

typedef struct fixture {
  mod_ca ca;
  ca_responder *responder;
  const ca_issuer *issuer;  // ec-issuing, of every certificate below
  X509 *issuer_x509;
  EVP_PKEY *issuer_key;  // public
  ca_issued certs[3];
} fixture;

static int setup(fixture *f, const char *name) {
  memset(f, 0, sizeof(*f));
  int ok = mod_ca_open(&f->ca, name, 4) && mod_ca_start_engine(&f->ca, 1);
  for (int i = 0; ok && i < 3; i++) {
    char cn[64];
    snprintf(cn, sizeof(cn), "ocsp%d.example.com", i);
    ok = mod_issue(&f->ca, "tomcat-ECDSA", "EC-P256", cn, &f->certs[i]);
  }
  ca_responder_config config;
  ca_responder_config_init(&config);
  ok = ok &&
       ca_responder_new(f->ca.authority, f->ca.store, &config, &f->responder);
  if (ok) {
    f->issuer = f->certs[0].issuer;
    f->issuer_x509 = mod_issuer_x509(f->issuer);
    f->issuer_key =
        f->issuer_x509 != NULL ? X509_get_pubkey(f->issuer_x509) : NULL;
    ok = f->issuer_key != NULL && strcmp(f->issuer->name, "ec-issuing") == 0;
  }
  return ok;
}

static void teardown(fixture *f) {
  ca_responder_free(f->responder);
  for (int i = 0; i < 3; i++) {
    ca_issued_cleanup(&f->certs[i]);
  }
  EVP_PKEY_free(f->issuer_key);
  X509_free(f->issuer_x509);
  mod_ca_close(&f->ca);
}

// ask sends a request for |serials| of |issuer| and parses the response
// into |r| (test_ocsp_response_cleanup it) and, when |answer| is not NULL,
// keeps the responder's answer there (OPENSSL_free its der). It returns 0
// when the responder gave no well-formed response.
static int ask(fixture *f, X509 *issuer, const char *const *serials, size_t n,
               int sha256, const uint8_t *nonce, size_t nonce_len,
               test_ocsp_response *r, ca_ocsp_answer *answer) {
  size_t len = 0;
  uint8_t *req =
      test_ocsp_request(issuer, serials, n, sha256, nonce, nonce_len, &len);
  ca_ocsp_answer a;
  memset(&a, 0, sizeof(a));
  memset(r, 0, sizeof(*r));
  int ok = req != NULL && ca_responder_answer(f->responder, req, len, &a);
  ok = ok && test_ocsp_parse(a.der, a.der_len, f->issuer_key, r);
  OPENSSL_free(req);
  if (answer != NULL) {
    *answer = a;
  } else {
    OPENSSL_free(a.der);
  }
  return ok;
}

// status_of asks about one serial (SHA-1 CertID, no nonce) and returns its
// TEST_OCSP_* status, or -1 when the answer is not a signed, successful
// response about that serial.
static int status_of(fixture *f, const char *serial) {
  test_ocsp_response r;
  int status = -1;
  if (ask(f, f->issuer_x509, &serial, 1, 0, NULL, 0, &r, NULL) &&
      r.response_status == kSuccessful && r.count == 1 && r.signature_ok &&
      strcmp(r.singles[0].serial, serial) == 0) {
    status = r.singles[0].status;
  }
  test_ocsp_response_cleanup(&r);
  return status;
}

// revoke_behind_its_back marks |serial| revoked in the database the way
// another node would, without this responder hearing of it.
static int revoke_behind_its_back(fixture *f, const char *serial) {
  PGresult *res = mod_db_query(&f->ca.db,
                               "INSERT INTO revocations SELECT issuer_id,"
                               " serial, id, crl_shard, not_after, now(), 1"
                               " FROM certificates WHERE serial = $1"
                               " RETURNING certificate_id",
                               serial, NULL);
  const int ok = res != NULL && PQntuples(res) == 1;
  PQclear(res);
  return ok;
}

TEST(good_revoked_and_unknown_for_issued_revoked_and_never_issued) {
  fixture f;
  CHECK(setup(&f, "responder-status"));
  const char *good = f.certs[0].serial_hex;
  const char *revoked = f.certs[1].serial_hex;
  ca_revocation request = {.serial = revoked,
                           .issuer = NULL,
                           .reason = CA_REASON_KEY_COMPROMISE,
                           .actor = "module-test",
                           .source = "127.0.0.1"};
  ca_revocation_result result;
  CHECK(ca_revoke(f.ca.authority, f.ca.store, &request, &result));

  for (int sha256 = 0; sha256 <= 1; sha256++) {
    const char *serials[3] = {good, revoked, kNeverIssued};
    test_ocsp_response r;
    const int64_t before = (int64_t)time(NULL);
    CHECK(ask(&f, f.issuer_x509, serials, 3, sha256, NULL, 0, &r, NULL));
    CHECK_EQ_INT(r.response_status, kSuccessful);
    CHECK(r.signature_ok);
    CHECK_EQ_INT(r.count, 3);
    if (r.count == 3) {
      for (int i = 0; i < 3; i++) {
        CHECK_EQ_STR(r.singles[i].serial, serials[i]);
        CHECK(r.singles[i].this_update >= before - 1);
        CHECK_EQ_INT(r.singles[i].next_update - r.singles[i].this_update,
                     CA_OCSP_DEFAULT_VALIDITY_S);
      }
      CHECK_EQ_INT(r.singles[0].status, TEST_OCSP_GOOD);
      CHECK_EQ_INT(r.singles[1].status, TEST_OCSP_REVOKED);
      CHECK_EQ_INT(r.singles[1].reason, CA_REASON_KEY_COMPROMISE);
      CHECK_EQ_INT(r.singles[1].revoked_at, result.revoked_at);
      CHECK_EQ_INT(r.singles[2].status, TEST_OCSP_UNKNOWN);
    }
    test_ocsp_response_cleanup(&r);
  }
  // The issuing CA itself, asked of its root, is one pki issued: good.
  X509 *root = mod_issuer_x509(f.issuer->parent);
  const char *ca_serial = f.issuer->serial;
  test_ocsp_response r;
  CHECK(root != NULL);
  EVP_PKEY *root_key = root != NULL ? X509_get_pubkey(root) : NULL;
  EVP_PKEY *kept = f.issuer_key;
  f.issuer_key = root_key;
  CHECK(ask(&f, root, &ca_serial, 1, 0, NULL, 0, &r, NULL));
  CHECK_EQ_INT(r.response_status, kSuccessful);
  CHECK(r.signature_ok);
  CHECK(r.count == 1 && r.singles[0].status == TEST_OCSP_GOOD);
  test_ocsp_response_cleanup(&r);
  // A leaf's serial asked of the root is not one the root issued.
  CHECK(ask(&f, root, &good, 1, 0, NULL, 0, &r, NULL));
  CHECK(r.count == 1 && r.singles[0].status == TEST_OCSP_UNKNOWN);
  test_ocsp_response_cleanup(&r);
  f.issuer_key = kept;
  EVP_PKEY_free(root_key);
  X509_free(root);
  teardown(&f);
}

TEST(the_cache_answers_until_forget) {
  fixture f;
  CHECK(setup(&f, "responder-cache"));
  ca_responder_set_listening(f.responder, 1);
  const char *serial = f.certs[0].serial_hex;
  ca_ocsp_answer first, second;
  test_ocsp_response r;
  CHECK(ask(&f, f.issuer_x509, &serial, 1, 0, NULL, 0, &r, &first));
  test_ocsp_response_cleanup(&r);
  CHECK(ask(&f, f.issuer_x509, &serial, 1, 0, NULL, 0, &r, &second));
  test_ocsp_response_cleanup(&r);
  CHECK(first.cacheable && second.cacheable);
  // The same pre-signed bytes, not a new signature.
  CHECK_EQ_BYTES(second.der, second.der_len, first.der, first.der_len);
  CHECK_EQ_STR(second.etag, first.etag);
  OPENSSL_free(first.der);
  OPENSSL_free(second.der);
  ca_responder_stats stats;
  ca_responder_get_stats(f.responder, &stats);
  CHECK_EQ_INT(stats.hits, 1);
  CHECK_EQ_INT(stats.misses, 1);
  CHECK_EQ_INT(stats.cached, 1);

  // The same certificate asked by a CertID of SHA-256 hashes: an entry of
  // its own, which a forget of the serial drops too.
  CHECK(ask(&f, f.issuer_x509, &serial, 1, 1, NULL, 0, &r, NULL));
  CHECK(r.count == 1 && r.singles[0].status == TEST_OCSP_GOOD);
  test_ocsp_response_cleanup(&r);
  ca_responder_get_stats(f.responder, &stats);
  CHECK_EQ_INT(stats.cached, 2);

  // Revoked where this responder did not hear it: the cache still says
  // good (that is what the notification is for) ...
  CHECK(revoke_behind_its_back(&f, serial));
  CHECK_EQ_INT(status_of(&f, serial), TEST_OCSP_GOOD);
  // ... forgetting another certificate changes nothing ...
  ca_responder_forget(f.responder, f.issuer->id, f.certs[1].serial_hex);
  CHECK_EQ_INT(status_of(&f, serial), TEST_OCSP_GOOD);
  // ... and forgetting this one reads the database again.
  ca_responder_forget(f.responder, f.issuer->id, serial);
  CHECK_EQ_INT(status_of(&f, serial), TEST_OCSP_REVOKED);
  CHECK(ask(&f, f.issuer_x509, &serial, 1, 1, NULL, 0, &r, NULL));
  CHECK(r.count == 1 && r.singles[0].status == TEST_OCSP_REVOKED);
  test_ocsp_response_cleanup(&r);

  // A deaf responder never answers from its cache.
  const char *other = f.certs[2].serial_hex;
  CHECK_EQ_INT(status_of(&f, other), TEST_OCSP_GOOD);  // now cached
  ca_responder_set_listening(f.responder, 0);
  CHECK(revoke_behind_its_back(&f, other));
  CHECK_EQ_INT(status_of(&f, other), TEST_OCSP_REVOKED);
  teardown(&f);
}

// forced_serial makes the next serial drawn kNeverIssued's bytes.
static int forced_serial(uint8_t out[16]) {
  memset(out, 0, 16);
  static const uint8_t kBytes[] = {0x12, 0x34, 0x56, 0x78,
                                   0x90, 0xab, 0xcd, 0xef};
  memcpy(out + 8, kBytes, sizeof(kBytes));
  return 1;
}

TEST(unknown_answers_are_forgotten_when_anything_is_issued) {
  fixture f;
  CHECK(setup(&f, "responder-unknown"));
  ca_responder_set_listening(f.responder, 1);
  CHECK_EQ_INT(status_of(&f, kNeverIssued), TEST_OCSP_UNKNOWN);
  // Now the serial is issued (the engine's NOTIFY would reach the
  // responder through the listener; here nobody passes it on).
  ca_serial_set_test_source(forced_serial);
  ca_issued late;
  CHECK(mod_issue(&f.ca, "tomcat-ECDSA", "EC-P256", "late.example.com", &late));
  ca_serial_set_test_source(NULL);
  CHECK_EQ_STR(late.serial_hex, kNeverIssued);
  ca_issued_cleanup(&late);
  CHECK_EQ_INT(status_of(&f, kNeverIssued), TEST_OCSP_UNKNOWN);
  ca_responder_forget_unknown(f.responder);
  CHECK_EQ_INT(status_of(&f, kNeverIssued), TEST_OCSP_GOOD);
  teardown(&f);
}

TEST(nonce_answers_are_signed_live_and_never_cached) {
  fixture f;
  CHECK(setup(&f, "responder-nonce"));
  ca_responder_set_listening(f.responder, 1);
  const char *serial = f.certs[0].serial_hex;
  const uint8_t n1[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const uint8_t n2[16] = {0xff, 0xee, 0xdd, 0xcc};
  ca_ocsp_answer a1, a2;
  test_ocsp_response r1, r2;
  CHECK(ask(&f, f.issuer_x509, &serial, 1, 0, n1, sizeof(n1), &r1, &a1));
  CHECK(ask(&f, f.issuer_x509, &serial, 1, 0, n2, sizeof(n2), &r2, &a2));
  CHECK_EQ_INT(r1.response_status, kSuccessful);
  CHECK(r1.signature_ok && r2.signature_ok);
  CHECK(r1.has_nonce && r2.has_nonce);
  CHECK_EQ_BYTES(r1.nonce, r1.nonce_len, n1, sizeof(n1));
  CHECK_EQ_BYTES(r2.nonce, r2.nonce_len, n2, sizeof(n2));
  CHECK(r1.count == 1 && r1.singles[0].status == TEST_OCSP_GOOD);
  CHECK(!a1.cacheable && !a2.cacheable);
  test_ocsp_response_cleanup(&r1);
  test_ocsp_response_cleanup(&r2);
  OPENSSL_free(a1.der);
  OPENSSL_free(a2.der);
  ca_responder_stats stats;
  ca_responder_get_stats(f.responder, &stats);
  CHECK_EQ_INT(stats.live, 2);
  CHECK_EQ_INT(stats.hits, 0);
  CHECK_EQ_INT(stats.cached, 0);
  // Nothing of them is served to a request without a nonce: that one is
  // a miss, signed and cached now.
  CHECK_EQ_INT(status_of(&f, serial), TEST_OCSP_GOOD);
  ca_responder_get_stats(f.responder, &stats);
  CHECK_EQ_INT(stats.misses, 1);
  CHECK_EQ_INT(stats.cached, 1);
  teardown(&f);
}

// foreign_ca makes a self-signed CA certificate pki knows nothing of.
static X509 *foreign_ca(void) {
  EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  EVP_PKEY *key = EVP_PKEY_new();
  X509 *x = X509_new();
  X509_NAME *name = X509_NAME_new();
  int ok = ec != NULL && key != NULL && x != NULL && name != NULL &&
           EC_KEY_generate_key(ec) && EVP_PKEY_assign_EC_KEY(key, ec);
  if (ok) {
    ec = NULL;  // owned by |key|
  }
  ok = ok &&
       X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                  (const uint8_t *)"Foreign CA", -1, -1, 0) &&
       X509_set_version(x, X509_VERSION_3) &&
       ASN1_INTEGER_set(X509_get_serialNumber(x), 1) &&
       X509_set_subject_name(x, name) && X509_set_issuer_name(x, name) &&
       X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
       X509_gmtime_adj(X509_getm_notAfter(x), 86400) &&
       X509_set_pubkey(x, key) && X509_sign(x, key, EVP_sha256());
  EC_KEY_free(ec);
  EVP_PKEY_free(key);
  X509_NAME_free(name);
  if (!ok) {
    X509_free(x);
    return NULL;
  }
  return x;
}

TEST(a_foreign_issuer_is_unauthorized_and_garbage_malformed) {
  fixture f;
  CHECK(setup(&f, "responder-foreign"));
  X509 *foreign = foreign_ca();
  CHECK(foreign != NULL);
  const char *serial = f.certs[0].serial_hex;
  test_ocsp_response r;
  // Same serial, another issuer: pki cannot speak for it.
  CHECK(ask(&f, foreign, &serial, 1, 0, NULL, 0, &r, NULL));
  CHECK_EQ_INT(r.response_status, kUnauthorized);
  CHECK_EQ_INT(r.count, 0);
  test_ocsp_response_cleanup(&r);
  X509_free(foreign);

  static const uint8_t kGarbage[] = {0x30, 0x03, 0x01, 0x01, 0xff};
  ca_ocsp_answer a;
  CHECK(ca_responder_answer(f.responder, kGarbage, sizeof(kGarbage), &a));
  CHECK(test_ocsp_parse(a.der, a.der_len, f.issuer_key, &r));
  CHECK_EQ_INT(r.response_status, kMalformedRequest);
  CHECK(!a.cacheable);
  test_ocsp_response_cleanup(&r);
  OPENSSL_free(a.der);
  teardown(&f);
}

TEST(an_unreadable_database_means_try_later_unless_an_answer_was_cached) {
  fixture f;
  CHECK(setup(&f, "responder-trylater"));
  const char *cached = f.certs[0].serial_hex;
  const char *uncached = f.certs[1].serial_hex;
  ca_responder_set_listening(f.responder, 1);
  CHECK_EQ_INT(status_of(&f, cached), TEST_OCSP_GOOD);
  ca_responder_set_listening(f.responder, 0);
  // The table is gone: every read of a status fails.
  CHECK(mod_db_exec(&f.ca.db,
                    "ALTER TABLE certificates RENAME TO certificates_gone"));
  test_ocsp_response r;
  CHECK(ask(&f, f.issuer_x509, &uncached, 1, 0, NULL, 0, &r, NULL));
  CHECK_EQ_INT(r.response_status, kTryLater);
  test_ocsp_response_cleanup(&r);
  // Nobody can revoke without the database: the pre-signed answer stands.
  CHECK_EQ_INT(status_of(&f, cached), TEST_OCSP_GOOD);
  CHECK(mod_db_exec(&f.ca.db,
                    "ALTER TABLE certificates_gone RENAME TO certificates"));
  CHECK_EQ_INT(status_of(&f, uncached), TEST_OCSP_GOOD);
  teardown(&f);
}

int main(void) {
  RUN(good_revoked_and_unknown_for_issued_revoked_and_never_issued);
  RUN(the_cache_answers_until_forget);
  RUN(unknown_answers_are_forgotten_when_anything_is_issued);
  RUN(nonce_answers_are_signed_live_and_never_cached);
  RUN(a_foreign_issuer_is_unauthorized_and_garbage_malformed);
  RUN(an_unreadable_database_means_try_later_unless_an_answer_was_cached);
  return test_summary();
}
