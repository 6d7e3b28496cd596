// A test-side OCSP client: builds requests and reads responses (RFC 6960)
// with BoringSSL's CBB/CBS directly, not with pki's ca/ocsp_* code, so that
// a misreading in one is not mirrored by the other.
#ifndef PKI_TESTS_SUPPORT_OCSP_CLIENT_H
#define PKI_TESTS_SUPPORT_OCSP_CLIENT_H

#include <openssl/base.h>
#include <stddef.h>
#include <stdint.h>

#define TEST_OCSP_MAX_SINGLES 16

// test_ocsp_request returns a DER OCSPRequest (OPENSSL_free) asking about
// the |n| certificates |serials_hex| of |issuer|, with SHA-1 CertIDs or
// SHA-256 ones when |sha256|, and a nonce extension holding |nonce| when it
// is not NULL. It returns NULL on failure.
uint8_t *test_ocsp_request(X509 *issuer, const char *const *serials_hex,
                           size_t n, int sha256, const uint8_t *nonce,
                           size_t nonce_len, size_t *out_len);

enum { TEST_OCSP_GOOD = 0, TEST_OCSP_REVOKED = 1, TEST_OCSP_UNKNOWN = 2 };

typedef struct test_ocsp_single {
  char serial[80];  // lower-case hex, no leading zero bytes
  int status;       // TEST_OCSP_*
  int64_t revoked_at;
  int reason;  // -1 when absent
  int64_t this_update;
  int64_t next_update;  // 0 when absent
} test_ocsp_single;

typedef struct test_ocsp_response {
  int response_status;  // OCSPResponseStatus; the rest only when 0
  int by_key;           // ResponderID byKey
  uint8_t key_hash[20];
  int64_t produced_at;
  test_ocsp_single singles[TEST_OCSP_MAX_SINGLES];
  size_t count;
  int has_nonce;
  uint8_t nonce[64];
  size_t nonce_len;
  X509 *signer;  // the first certificate of `certs`, or NULL; owned
  // The signature verifies with |signer|'s key when there is one, else with
  // the key given to test_ocsp_parse.
  int signature_ok;
} test_ocsp_response;

// test_ocsp_parse reads the DER OCSPResponse |der|. |ca_key| (borrowed) is
// the key the response must be signed with when it carries no certificate.
// It returns 0 when the bytes are not a well-formed response; |out| must be
// released with test_ocsp_response_cleanup either way.
int test_ocsp_parse(const uint8_t *der, size_t len, EVP_PKEY *ca_key,
                    test_ocsp_response *out);

void test_ocsp_response_cleanup(test_ocsp_response *r);

// test_ocsp_key_hash writes the SHA-1 of |cert|'s subjectPublicKey bits
// (RFC 6960 ResponderID byKey) into |out|. It returns 1 on success.
int test_ocsp_key_hash(X509 *cert, uint8_t out[20]);

#endif  // PKI_TESTS_SUPPORT_OCSP_CLIENT_H
