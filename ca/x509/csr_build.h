// Making PKCS#10 requests (RFC 2986): for keys pki generates itself (POST
// /v1/keys:generate) and for pkictl, which writes the request a Cisco node
// would make for a purpose.
#ifndef PKI_CA_CSR_BUILD_H
#define PKI_CA_CSR_BUILD_H

#include <openssl/base.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/x509/name.h"

typedef struct ca_csr_template {
  const ca_name_fields *subject;
  const char *const *sans;  // "DNS:...", "IP:..." or bare; may be none
  size_t san_count;
  unsigned key_usage;      // CA_KU_* bits to request; 0 for none
  unsigned ext_key_usage;  // CA_EKU_* bits to request; 0 for none
} ca_csr_template;

// ca_csr_build makes a request for |key| as |tmpl| describes, signed by
// |key| with SHA-256 (SHA-384 for a P-384 key), and sets |*out_der| to a
// new DER buffer of |*out_len| bytes (free with OPENSSL_free). The
// ExtensionRequest holds the SANs (if any) and the key usages asked for.
// It returns 0 with the subject and SAN error codes of ca/x509/name.h and
// ca/x509/san.h, or CA_ERR_KEY_UNSUPPORTED.
int ca_csr_build(const ca_csr_template *tmpl, EVP_PKEY *key, uint8_t **out_der,
                 size_t *out_len) CA_MUST_CHECK;

// ca_csr_build_unsigned is ca_csr_build with an empty signature: the
// request pki makes for a key it holds itself (POST /v1/keys:generate),
// where a signature would prove nothing pki does not know. Such a request
// never leaves pki and is issued only by ca_issue_generate, which does not
// verify it; any other reader refuses it (CSR_SIGNATURE_INVALID). |key|
// needs only its public half.
int ca_csr_build_unsigned(const ca_csr_template *tmpl, EVP_PKEY *key,
                          uint8_t **out_der, size_t *out_len) CA_MUST_CHECK;

#endif  // PKI_CA_CSR_BUILD_H
