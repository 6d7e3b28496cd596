// ca/issue/issuer_keys.c with the CAs pkid creates at its first start (in
// a database of its own): one private copy of every CA key, the same key
// material in an object that shares nothing with the authority's, handed
// out by ca_issuer_keys_get, signing certificates that verify under the CA;
// cleanup leaves nothing behind.
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>
#include <time.h>

#include "ca/issue/issue.h"
#include "ca/issue/issuer_keys.h"
#include "tests/modules/fixture.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

static mod_ca ca;

// same_object tells whether two keys share their RSA or EC object.
static int same_object(EVP_PKEY *a, EVP_PKEY *b) {
  if (EVP_PKEY_id(a) == EVP_PKEY_RSA) {
    return EVP_PKEY_get0_RSA(a) == EVP_PKEY_get0_RSA(b);
  }
  return EVP_PKEY_get0_EC_KEY(a) == EVP_PKEY_get0_EC_KEY(b);
}

TEST(every_ca_key_is_copied_and_shares_nothing) {
  const ca_authority *a = ca.authority;
  CHECK_EQ_INT(a->count, 4);
  ca_issuer_keys keys;
  CHECK(ca_issuer_keys_init(&keys, a));
  for (size_t i = 0; i < a->count; i++) {
    const ca_issuer *issuer = &a->issuers[i];
    CHECK(issuer->key != NULL);
    CHECK(keys.keys[i] != NULL);
    if (keys.keys[i] == NULL || issuer->key == NULL) {
      continue;
    }
    CHECK(keys.keys[i] != issuer->key);
    CHECK(!same_object(keys.keys[i], issuer->key));
    // The same key: the public halves compare equal.
    CHECK_EQ_INT(EVP_PKEY_cmp(keys.keys[i], issuer->key), 1);
    CHECK(ca_issuer_keys_get(&keys, a, issuer) == keys.keys[i]);
    CHECK(ca_issuer_keys_get(NULL, a, issuer) == issuer->key);
    // And the private half signs what the CA certificate verifies.
    X509 *cert = mod_issuer_x509(issuer);
    EVP_PKEY *pub = cert != NULL ? X509_get_pubkey(cert) : NULL;
    static const uint8_t kMsg[] = "issuer keys";
    uint8_t sig[1024];
    size_t sig_len = sizeof(sig);
    EVP_MD_CTX ctx;
    EVP_MD_CTX_init(&ctx);
    CHECK(EVP_DigestSignInit(&ctx, NULL, EVP_sha256(), NULL, keys.keys[i]) &&
          EVP_DigestSign(&ctx, sig, &sig_len, kMsg, sizeof(kMsg)));
    EVP_MD_CTX_cleanup(&ctx);
    EVP_MD_CTX_init(&ctx);
    CHECK(pub != NULL &&
          EVP_DigestVerifyInit(&ctx, NULL, EVP_sha256(), NULL, pub) &&
          EVP_DigestVerify(&ctx, sig, sig_len, kMsg, sizeof(kMsg)));
    EVP_MD_CTX_cleanup(&ctx);
    EVP_PKEY_free(pub);
    X509_free(cert);
  }
  for (size_t i = a->count; i < CA_AUTHORITY_MAX_ISSUERS; i++) {
    CHECK(keys.keys[i] == NULL);
  }
  ca_issuer_keys_cleanup(&keys);
  for (size_t i = 0; i < CA_AUTHORITY_MAX_ISSUERS; i++) {
    CHECK(keys.keys[i] == NULL);
  }
  // A zeroed set is fine to clean up.
  ca_issuer_keys_cleanup(&keys);
}

TEST(certificates_signed_with_the_copies_verify_under_their_ca) {
  ca_issuer_keys keys;
  CHECK(ca_issuer_keys_init(&keys, ca.authority));
  static const struct {
    const char *profile, *key;
  } kCases[] = {{"tomcat", "RSA-2048"}, {"tomcat-ECDSA", "EC-P256"}};
  for (size_t c = 0; c < 2; c++) {
    test_csr_spec spec = {.key = kCases[c].key,
                          .subject = "/CN=keys.example.com"};
    size_t len;
    uint8_t *csr = test_make_csr(&spec, &len, NULL);
    const ca_issue_request request = {
        .profile = kCases[c].profile, .csr = csr, .csr_len = len};
    ca_issued out;
    CHECK(ca_issue_sign(ca.authority, &keys, &request, (int64_t)time(NULL),
                        &out));
    CHECK(out.issuer != NULL && out.der != NULL);
    if (out.issuer != NULL && out.der != NULL) {
      const uint8_t *p = out.der;
      X509 *leaf = d2i_X509(NULL, &p, (long)out.der_len);
      X509 *issuer = mod_issuer_x509(out.issuer);
      EVP_PKEY *pub = issuer != NULL ? X509_get_pubkey(issuer) : NULL;
      CHECK(leaf != NULL && pub != NULL && X509_verify(leaf, pub) == 1);
      EVP_PKEY_free(pub);
      X509_free(issuer);
      X509_free(leaf);
    }
    ca_issued_cleanup(&out);
    OPENSSL_free(csr);
  }
  ca_issuer_keys_cleanup(&keys);
}

int main(void) {
  if (!mod_ca_open(&ca, "issuer-keys", 1)) {
    mod_ca_close(&ca);
    return 1;
  }
  RUN(every_ca_key_is_copied_and_shares_nothing);
  RUN(certificates_signed_with_the_copies_verify_under_their_ca);
  mod_ca_close(&ca);
  return test_summary();
}
