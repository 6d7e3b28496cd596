// Test requests made with BoringSSL's own X509_REQ encoder: independent of
// pki's CBS parser, so a bug in one is not mirrored by the other.
#ifndef PKI_TESTS_SUPPORT_CSR_MAKER_H
#define PKI_TESTS_SUPPORT_CSR_MAKER_H

#include <openssl/base.h>
#include <stddef.h>
#include <stdint.h>

typedef struct test_csr_spec {
  const char *key;        // "RSA-2048", "EC-P256", ... (ca_key_spec_parse)
  const char *subject;    // "/CN=host.example.com/O=Example/OU=Voice"
  const char *sans;       // "DNS:a,DNS:b,IP:10.0.0.1,email:x@y" or NULL
  const char *digest;     // "sha256" (default), "sha1", "sha384"
  int corrupt_signature;  // flip a bit of the signature
  EVP_PKEY *reuse_key;    // sign with this key instead of a new one (borrowed)
} test_csr_spec;

// test_make_csr returns a newly allocated DER request (free with
// OPENSSL_free) and its length, or NULL. When |out_key| is not NULL it
// receives the key (free with EVP_PKEY_free).
uint8_t *test_make_csr(const test_csr_spec *spec, size_t *out_len,
                       EVP_PKEY **out_key);

// test_pem_csr wraps DER in a CERTIFICATE REQUEST PEM block (OPENSSL_free).
char *test_pem_csr(const uint8_t *der, size_t len);

#endif  // PKI_TESTS_SUPPORT_CSR_MAKER_H
