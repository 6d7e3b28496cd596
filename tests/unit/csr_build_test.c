// Unit tests of ca/x509/csr_build.c: the requests it makes parse and verify
// with BoringSSL's X509_REQ code and with pki's own parser, carry the subject,
// SANs and key usages asked for, and refuse bad subjects and names.
#include <openssl/bytestring.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "ca/policy/profile.h"
#include "ca/x509/csr.h"
#include "ca/x509/csr_build.h"
#include "ca/x509/key.h"
#include "ca/x509/san.h"
#include "tests/support/test.h"

static EVP_PKEY *make_key(const char *kind) {
  ca_key_spec spec;
  CHECK(ca_key_spec_parse(&spec, kind));
  return ca_key_generate(&spec);
}

TEST(requests_verify_with_boringssl_and_pki) {
  const char *kinds[] = {"RSA-2048", "EC-P256", "EC-P384"};
  for (size_t i = 0; i < 3; i++) {
    EVP_PKEY *key = make_key(kinds[i]);
    const ca_name_fields subject = {.country = "US",
                                    .organization = "Example",
                                    .organizational_unit = "Voice",
                                    .common_name = "cucm1.example.com"};
    const char *sans[] = {"DNS:cucm1.example.com", "example.com", "IP:10.0.0.1",
                          "2001:db8::5"};
    const ca_csr_template t = {
        .subject = &subject,
        .sans = sans,
        .san_count = 4,
        .key_usage = CA_KU_DIGITAL_SIGNATURE | CA_KU_KEY_ENCIPHERMENT,
        .ext_key_usage = CA_EKU_SERVER_AUTH | CA_EKU_CLIENT_AUTH};
    uint8_t *der = NULL;
    size_t len = 0;
    CHECK(ca_csr_build(&t, key, &der, &len));
    // BoringSSL: parses, verifies, and reads the requested extensions.
    const uint8_t *p = der;
    X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
    CHECK(req != NULL && p == der + len);
    if (req != NULL) {
      CHECK_EQ_INT(X509_REQ_verify(req, key), 1);
      STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
      CHECK(exts != NULL && sk_X509_EXTENSION_num(exts) == 3);
      sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
      char cn[64];
      CHECK(X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req),
                                      NID_commonName, cn, sizeof(cn)) > 0);
      CHECK_EQ_STR(cn, "cucm1.example.com");
      X509_REQ_free(req);
    }
    // pki: parses, verifies, finds the four SANs in order.
    ca_csr csr;
    CHECK(ca_csr_parse(&csr, der, len));
    CHECK(ca_csr_verify(&csr));
    CHECK(csr.has_san);
    ca_san_list list;
    CHECK(ca_san_parse(&list, &csr.san));
    CHECK_EQ_INT(list.count, 4);
    char text[80];
    CHECK(ca_san_format(&list.items[1], text, sizeof(text)));
    CHECK_EQ_STR(text, "DNS:example.com");
    CHECK(ca_san_format(&list.items[3], text, sizeof(text)));
    CHECK_EQ_STR(text, "IP:2001:db8::5");
    ca_csr_cleanup(&csr);
    OPENSSL_free(der);
    EVP_PKEY_free(key);
  }
}

TEST(a_bare_request_has_no_extension_request) {
  EVP_PKEY *key = make_key("EC-P256");
  const ca_name_fields subject = {.common_name = "host.example.com"};
  const ca_csr_template t = {.subject = &subject};
  uint8_t *der = NULL;
  size_t len;
  CHECK(ca_csr_build(&t, key, &der, &len));
  ca_csr csr;
  CHECK(ca_csr_parse(&csr, der, len) && !csr.has_san);
  ca_csr_cleanup(&csr);
  const uint8_t *p = der;
  X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
  CHECK(req != NULL && X509_REQ_verify(req, key) == 1);
  X509_REQ_free(req);
  OPENSSL_free(der);
  EVP_PKEY_free(key);
}

TEST(bad_subjects_and_names_are_refused) {
  EVP_PKEY *key = make_key("EC-P256");
  struct {
    ca_name_fields subject;
    const char *san;
    ca_err_code code;
  } cases[] = {
      {{.common_name = ""}, NULL, CA_ERR_SUBJECT_CN_MISSING},
      {{.common_name = "a.example.com", .country = "USA"},
       NULL,
       CA_ERR_SUBJECT_INVALID},
      {{.common_name = "a.example.com", .organization = "bad\x01name"},
       NULL,
       CA_ERR_SUBJECT_INVALID},
      {{.common_name = "a.example.com"},
       "DNS:*.example.com",
       CA_ERR_SAN_WILDCARD},
      {{.common_name = "a.example.com"},
       "email:x@example.com",
       CA_ERR_SAN_TYPE_UNSUPPORTED},
      {{.common_name = "a.example.com"}, "IP:999.1.1.1", CA_ERR_SAN_INVALID},
      {{.common_name = "a.example.com"},
       "DNS:under_score.example.com",
       CA_ERR_SAN_INVALID},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const char *sans[1] = {cases[i].san};
    const ca_csr_template t = {.subject = &cases[i].subject,
                               .sans = sans,
                               .san_count = cases[i].san != NULL ? 1 : 0};
    uint8_t *der = NULL;
    size_t len;
    CHECK(!ca_csr_build(&t, key, &der, &len));
    CHECK_EQ_INT(ca_err_get()->code, cases[i].code);
    CHECK(der == NULL);
  }
  EVP_PKEY_free(key);
}

// The request pki makes for a key it holds (keys:generate) has the same
// content and no signature: it parses, and any check of its signature fails.
TEST(an_unsigned_request_parses_and_never_verifies) {
  EVP_PKEY *key = make_key("RSA-2048");
  const ca_name_fields subject = {.common_name = "host.example.com"};
  const char *sans[] = {"DNS:host.example.com"};
  const ca_csr_template t = {.subject = &subject, .sans = sans, .san_count = 1};
  uint8_t *der = NULL, *signed_der = NULL;
  size_t len, signed_len;
  CHECK(ca_csr_build_unsigned(&t, key, &der, &len));
  CHECK(ca_csr_build(&t, key, &signed_der, &signed_len));
  ca_csr csr, signed_csr;
  CHECK(ca_csr_parse(&csr, der, len) && csr.has_san);
  CHECK_EQ_INT(CBS_len(&csr.signature), 0);
  CHECK(!ca_csr_verify(&csr));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CSR_SIGNATURE_INVALID);
  // The same CertificationRequestInfo as the signed request's.
  CHECK(ca_csr_parse(&signed_csr, signed_der, signed_len));
  CHECK(CBS_len(&csr.info) == CBS_len(&signed_csr.info) &&
        memcmp(CBS_data(&csr.info), CBS_data(&signed_csr.info),
               CBS_len(&csr.info)) == 0);
  ca_csr_cleanup(&csr);
  ca_csr_cleanup(&signed_csr);
  const uint8_t *p = der;
  X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
  CHECK(req == NULL || X509_REQ_verify(req, key) != 1);
  X509_REQ_free(req);
  OPENSSL_free(der);
  OPENSSL_free(signed_der);
  EVP_PKEY_free(key);
}

int main(void) {
  RUN(requests_verify_with_boringssl_and_pki);
  RUN(an_unsigned_request_parses_and_never_verifies);
  RUN(a_bare_request_has_no_extension_request);
  RUN(bad_subjects_and_names_are_refused);
  return test_summary();
}
