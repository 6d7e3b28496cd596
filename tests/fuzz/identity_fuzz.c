// Fuzz target: identity registrations (POST and PUT /v1/identities): the
// certificate field, a leaf and optionally its chain in PEM, DER or
// PKCS#7, and the description, as a client may send any bytes.
//
// Besides not crashing, an accepted upload must keep its promises: at most
// CA_LIMIT_IDENTITY_CERTS certificates, exactly one leaf (it issued none
// of the others), a chain that is every other certificate back to back,
// and a verification that answers (verified or why not) whatever the
// anchors. A refusal must name the input's fault, never an internal error.
#include <openssl/mem.h>
#include <string.h>

#include "ca/limits.h"
#include "ca/policy/identity.h"
#include "tests/fuzz/fuzz.h"

static void check_description(const uint8_t *data, size_t size) {
  char text[CA_LIMIT_DESCRIPTION_LEN + 2];
  const size_t len = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
  memcpy(text, data, len);
  text[len] = '\0';
  if (!ca_trust_description_check(text)) {
    FUZZ_ASSERT(ca_err_get()->code == CA_ERR_PARAMETER_INVALID);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_description(data, size);
  ca_identity_upload u;
  if (!ca_identity_parse(&u, data, size)) {
    FUZZ_ASSERT_REFUSED();
    return 0;
  }
  FUZZ_ASSERT(u.n >= 1 && u.n <= CA_LIMIT_IDENTITY_CERTS && u.leaf < u.n);
  size_t chain_expected = 0;
  for (size_t i = 0; i < u.n; i++) {
    FUZZ_ASSERT(!ca_trust_issued_by(&u.certs[i], &u.certs[u.leaf]));
    chain_expected += i == u.leaf ? 0 : u.certs[i].der_len;
  }
  uint8_t *chain = NULL;
  size_t chain_len = 0;
  FUZZ_ASSERT(ca_identity_chain_der(&u, &chain, &chain_len));
  FUZZ_ASSERT(chain_len == chain_expected &&
              (chain_len == 0) == (chain == NULL));
  OPENSSL_free(chain);
  // Verified against the upload itself: every certificate an anchor, so a
  // chain that holds together verifies; either way there is a detail.
  const uint8_t *anchors[CA_LIMIT_IDENTITY_CERTS];
  size_t lens[CA_LIMIT_IDENTITY_CERTS];
  for (size_t i = 0; i < u.n; i++) {
    anchors[i] = u.certs[i].der;
    lens[i] = u.certs[i].der_len;
  }
  ca_identity_verdict verdict;
  FUZZ_ASSERT(ca_identity_verify(&u, anchors, lens, u.n, 0, &verdict));
  FUZZ_ASSERT(verdict.detail[0] != '\0');
  ca_identity_upload_cleanup(&u);
  return 0;
}
