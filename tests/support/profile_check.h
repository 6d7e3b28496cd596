// The profile table of the README as test expectations, and a checker that
// reads a certificate with BoringSSL's X509 parser (not pki's) and compares
// its extensions with them.
#ifndef PKI_TESTS_SUPPORT_PROFILE_CHECK_H
#define PKI_TESTS_SUPPORT_PROFILE_CHECK_H

#include <openssl/base.h>
#include <stddef.h>
#include <stdint.h>

typedef struct test_profile {
  const char *profile;
  const char *key;         // a key type the profile takes, for test_make_csr
  uint32_t key_usage;      // BoringSSL KU_* bits
  unsigned ext_key_usage;  // profile.h CA_EKU_* bits
  int is_ca;
  const char *issuer;  // name of the issuing CA
} test_profile;

// test_profiles lists the six profiles; |*out_n| receives the count.
const test_profile *test_profiles(size_t *out_n);

// test_check_profile checks the certificate |der| against |want|: exactly
// its Key Usage, Extended Key Usage and Basic Constraints (pathlen 0 for a
// CA), only KU and BC critical, subject and authority key identifiers
// present, version 3. It reports each mismatch through the harness and
// returns the parsed certificate (X509_free), or NULL if unparseable.
X509 *test_check_profile(const uint8_t *der, size_t len,
                         const test_profile *want);

#endif  // PKI_TESTS_SUPPORT_PROFILE_CHECK_H
