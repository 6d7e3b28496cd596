// ca/revocation/ocsp_delegate.c against a real PostgreSQL: a responder
// certificate issued by the CA with id-kp-OCSPSigning and
// id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2), its key in the node's data
// directory (mode 0600) and never in the database; found again rather than
// reissued while it has more than a third of its validity left and its key
// file is there; one per node; and responses signed with it once the
// responder is told (ca_responder_set_delegate).
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ca/revocation/ocsp_delegate.h"
#include "ca/revocation/responder.h"
#include "tests/modules/fixture.h"
#include "tests/support/ocsp_client.h"
#include "tests/support/test.h"

static X509 *parse_x509(const uint8_t *der, size_t len) {
  const uint8_t *p = der;
  return d2i_X509(NULL, &p, (long)len);
}

// key_file_of returns the responder key file recorded for |node|, "" if
// none, in |out|.
static void key_file_of(mod_ca *ca, const char *node, char *out, size_t len) {
  char name[256] = "";
  (void)mod_db_text(&ca->db,
                    "SELECT key_file FROM ocsp_responders WHERE node = $1"
                    " ORDER BY id DESC LIMIT 1",
                    node, NULL, name, sizeof(name));
  snprintf(out, len, "%s/keys/%s", ca->data_dir, name);
}

TEST(a_responder_certificate_is_issued_once_per_node_and_kept) {
  mod_ca ca;
  CHECK(mod_ca_open(&ca, "delegate", 2));
  const ca_issuer *issuer = ca_authority_find(ca.authority, "ec-issuing");
  CHECK(issuer != NULL);
  if (issuer == NULL) {
    mod_ca_close(&ca);
    return;
  }
  const int64_t now = (int64_t)time(NULL);
  ca_ocsp_delegate a;
  CHECK(ca_ocsp_delegate_ensure(ca.authority, ca.store, issuer, ca.data_dir,
                                "node-a", 30, NULL, &a));
  CHECK_EQ_INT(a.issued, 1);
  CHECK(a.not_after >= now + 30 * 86400 - 5 &&
        a.not_after <= now + 30 * 86400 + 5);

  X509 *cert = parse_x509(a.cert, a.cert_len);
  X509 *ca_cert = mod_issuer_x509(issuer);
  CHECK(cert != NULL && ca_cert != NULL);
  if (cert != NULL && ca_cert != NULL) {
    // Issued by the CA, for the key it returned.
    EVP_PKEY *ca_key = X509_get_pubkey(ca_cert);
    CHECK(X509_verify(cert, ca_key) == 1);
    EVP_PKEY_free(ca_key);
    CHECK(X509_check_issued(ca_cert, cert) == X509_V_OK);
    EVP_PKEY *pub = X509_get_pubkey(cert);
    CHECK(pub != NULL && EVP_PKEY_cmp(pub, a.key) == 1);
    EVP_PKEY_free(pub);
    // id-kp-OCSPSigning, and nocheck so that clients do not ask about it.
    CHECK((X509_get_extended_key_usage(cert) & XKU_OCSP_SIGN) != 0);
    CHECK(X509_get_ext_by_NID(cert, NID_id_pkix_OCSP_noCheck, -1) >= 0);
    CHECK(!X509_check_ca(cert));
  }
  X509_free(cert);

  // Recorded like any certificate, and in ocsp_responders; the key is not.
  CHECK_EQ_INT(mod_db_int(&ca.db,
                          "SELECT count(*) FROM certificates WHERE profile ="
                          " 'ocsp-responder'",
                          NULL, NULL),
               1);
  CHECK_EQ_INT(mod_db_int(&ca.db,
                          "SELECT count(*) FROM ocsp_responders WHERE node ="
                          " 'node-a'",
                          NULL, NULL),
               1);
  char path[1024];
  key_file_of(&ca, "node-a", path, sizeof(path));
  struct stat st;
  CHECK(stat(path, &st) == 0);
  CHECK_EQ_INT(st.st_mode & 0777, 0600);

  // Asked again: the same certificate, nothing new issued.
  ca_ocsp_delegate again;
  CHECK(ca_ocsp_delegate_ensure(ca.authority, ca.store, issuer, ca.data_dir,
                                "node-a", 30, NULL, &again));
  CHECK_EQ_INT(again.issued, 0);
  CHECK_EQ_BYTES(again.cert, again.cert_len, a.cert, a.cert_len);
  CHECK(EVP_PKEY_cmp(again.key, a.key) == 1);
  ca_ocsp_delegate_cleanup(&again);

  // Another node gets its own.
  ca_ocsp_delegate b;
  CHECK(ca_ocsp_delegate_ensure(ca.authority, ca.store, issuer, ca.data_dir,
                                "node-b", 30, NULL, &b));
  CHECK_EQ_INT(b.issued, 1);
  CHECK(b.cert_len != a.cert_len || memcmp(b.cert, a.cert, a.cert_len) != 0);
  CHECK(EVP_PKEY_cmp(b.key, a.key) != 1);
  ca_ocsp_delegate_cleanup(&b);

  // With less than a third of its validity left it is renewed ...
  CHECK(mod_db_exec(&ca.db,
                    "UPDATE certificates SET not_after = now() + interval"
                    " '1 day' WHERE profile = 'ocsp-responder'"
                    " AND requester = 'pkid@node-a'"));
  ca_ocsp_delegate renewed;
  CHECK(ca_ocsp_delegate_ensure(ca.authority, ca.store, issuer, ca.data_dir,
                                "node-a", 30, NULL, &renewed));
  CHECK_EQ_INT(renewed.issued, 1);
  CHECK(EVP_PKEY_cmp(renewed.key, a.key) != 1);
  ca_ocsp_delegate_cleanup(&renewed);
  // ... and so it is when its key file is gone.
  key_file_of(&ca, "node-a", path, sizeof(path));
  CHECK(unlink(path) == 0);
  ca_ocsp_delegate rekeyed;
  CHECK(ca_ocsp_delegate_ensure(ca.authority, ca.store, issuer, ca.data_dir,
                                "node-a", 30, NULL, &rekeyed));
  CHECK_EQ_INT(rekeyed.issued, 1);
  ca_ocsp_delegate_cleanup(&rekeyed);
  CHECK_EQ_INT(mod_db_int(&ca.db,
                          "SELECT count(*) FROM ocsp_responders WHERE node ="
                          " 'node-a'",
                          NULL, NULL),
               3);
  CHECK_EQ_INT(mod_db_int(&ca.db,
                          "SELECT count(*) FROM audit_log WHERE action ="
                          " 'issue-ocsp-responder'",
                          NULL, NULL),
               4);

  // Out of range validity is a configuration error.
  ca_ocsp_delegate bad;
  memset(&bad, 0, sizeof(bad));
  CHECK(!ca_ocsp_delegate_ensure(ca.authority, ca.store, issuer, ca.data_dir,
                                 "node-c", 0, NULL, &bad));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFIG);
  ca_ocsp_delegate_cleanup(&bad);

  X509_free(ca_cert);
  ca_ocsp_delegate_cleanup(&a);
  mod_ca_close(&ca);
}

TEST(responses_are_signed_by_the_delegate_once_it_is_set) {
  mod_ca ca;
  CHECK(mod_ca_open(&ca, "delegate-sign", 3));
  CHECK(mod_ca_start_engine(&ca, 1));
  ca_issued leaf;
  CHECK(mod_issue(&ca, "tomcat-ECDSA", "EC-P256", "leaf.example.com", &leaf));
  const ca_issuer *issuer = leaf.issuer;
  ca_responder_config config;
  ca_responder_config_init(&config);
  ca_responder *responder = NULL;
  CHECK(ca_responder_new(ca.authority, ca.store, &config, &responder));
  ca_ocsp_delegate d;
  CHECK(ca_ocsp_delegate_ensure(ca.authority, ca.store, issuer, ca.data_dir,
                                "node-a", 30, NULL, &d));
  X509 *ca_cert = mod_issuer_x509(issuer);
  EVP_PKEY *ca_key = X509_get_pubkey(ca_cert);
  const char *serial = leaf.serial_hex;
  size_t len = 0;
  uint8_t *req = test_ocsp_request(ca_cert, &serial, 1, 0, NULL, 0, &len);
  uint8_t ca_hash[20], delegate_hash[20];
  X509 *delegate_cert = parse_x509(d.cert, d.cert_len);
  CHECK(test_ocsp_key_hash(ca_cert, ca_hash));
  CHECK(test_ocsp_key_hash(delegate_cert, delegate_hash));

  // The CA signs, by default.
  ca_ocsp_answer answer;
  test_ocsp_response r;
  CHECK(ca_responder_answer(responder, req, len, &answer));
  CHECK(test_ocsp_parse(answer.der, answer.der_len, ca_key, &r));
  CHECK(r.signature_ok && r.signer == NULL && r.by_key);
  CHECK_EQ_BYTES(r.key_hash, 20, ca_hash, 20);
  test_ocsp_response_cleanup(&r);
  OPENSSL_free(answer.der);

  // Then the delegate, with its certificate in the response.
  EVP_PKEY *key = d.key;
  d.key = NULL;  // taken by the responder
  CHECK(ca_responder_set_delegate(responder, issuer, key, d.cert, d.cert_len));
  CHECK(ca_responder_answer(responder, req, len, &answer));
  CHECK(test_ocsp_parse(answer.der, answer.der_len, ca_key, &r));
  CHECK(r.signer != NULL && r.signature_ok);
  CHECK(r.count == 1 && r.singles[0].status == TEST_OCSP_GOOD);
  CHECK(r.by_key);
  CHECK_EQ_BYTES(r.key_hash, 20, delegate_hash, 20);
  if (r.signer != NULL) {
    CHECK(X509_cmp(r.signer, delegate_cert) == 0);
  }
  test_ocsp_response_cleanup(&r);
  OPENSSL_free(answer.der);

  X509_free(delegate_cert);
  OPENSSL_free(req);
  EVP_PKEY_free(ca_key);
  X509_free(ca_cert);
  ca_ocsp_delegate_cleanup(&d);
  ca_responder_free(responder);
  ca_issued_cleanup(&leaf);
  mod_ca_close(&ca);
}

int main(void) {
  RUN(a_responder_certificate_is_issued_once_per_node_and_kept);
  RUN(responses_are_signed_by_the_delegate_once_it_is_set);
  return test_summary();
}
