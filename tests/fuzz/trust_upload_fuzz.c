// Fuzz target: trust-store uploads (POST /v1/trust/{store}): PEM with any
// text around its blocks, DER certificates, PKCS#7 in DER and PEM.
//
// Besides not crashing, an accepted upload must keep its promises: at least
// one certificate, no two with one fingerprint, each fingerprint the SHA-256
// of its DER, and each certificate read again from its DER to the same
// record. A refusal must name the input's fault, never an internal error.
#include <openssl/sha.h>
#include <string.h>

#include "ca/limits.h"
#include "ca/policy/trust.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ca_trust_cert *certs = NULL;
  size_t n = 0;
  if (!ca_trust_parse_upload(&certs, &n, data, size)) {
    FUZZ_ASSERT_REFUSED();
    return 0;
  }
  FUZZ_ASSERT(n >= 1 && n <= CA_LIMIT_TRUST_UPLOAD_CERTS);
  for (size_t i = 0; i < n; i++) {
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256(certs[i].der, certs[i].der_len, digest);
    FUZZ_ASSERT(memcmp(digest, certs[i].fingerprint, sizeof(digest)) == 0);
    for (size_t j = 0; j < i; j++) {
      FUZZ_ASSERT(memcmp(certs[i].fingerprint, certs[j].fingerprint,
                         CA_TRUST_FINGERPRINT_LEN) != 0);
    }
    ca_trust_cert again;
    FUZZ_ASSERT(ca_trust_cert_read(certs[i].der, certs[i].der_len, &again));
    FUZZ_ASSERT(strcmp(again.subject, certs[i].subject) == 0 &&
                strcmp(again.serial, certs[i].serial) == 0 &&
                again.is_ca == certs[i].is_ca &&
                again.not_after == certs[i].not_after);
    ca_trust_cert_cleanup(&again);
    // Every certificate, CA or leaf, is accepted or refused as expired.
    if (!ca_trust_check_upload(&certs[i], 0, 0)) {
      FUZZ_ASSERT(ca_err_get()->code == CA_ERR_CERT_EXPIRED);
    }
    // A leaf skipped as the end of a chain has its issuer, a CA, here.
    if (ca_trust_chain_leaf(certs, n, i)) {
      FUZZ_ASSERT(!certs[i].is_ca && !certs[i].self_signed);
    }
    char hex[CA_TRUST_FINGERPRINT_HEX_LEN];
    uint8_t back[CA_TRUST_FINGERPRINT_LEN];
    ca_trust_fingerprint_hex(certs[i].fingerprint, hex);
    FUZZ_ASSERT(ca_trust_fingerprint_parse(back, hex) &&
                memcmp(back, certs[i].fingerprint, sizeof(back)) == 0);
  }
  ca_trust_certs_free(certs, n);
  return 0;
}
