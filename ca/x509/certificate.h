// Building and signing X.509 v3 certificates (RFC 5280 4.1) with CBB.
#ifndef PKI_CA_CERTIFICATE_H
#define PKI_CA_CERTIFICATE_H

#include <openssl/base.h>
#include <openssl/bytestring.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/x509/csr.h"
#include "ca/x509/serial.h"
#include "ca/x509/x509.h"

// Everything that goes into one certificate. Byte ranges are borrowed; the
// builder copies them into its output.
typedef struct ca_cert_template {
  const ca_serial *serial;
  CBS issuer_name;   // Name element: the issuer certificate's subject, as is
  CBS subject_name;  // Name element, final (OU already dropped)
  CBS spki;          // SubjectPublicKeyInfo element, copied verbatim
  int64_t not_before;
  int64_t not_after;
  unsigned key_usage;      // CA_KU_* (usage.h); 0 for none
  unsigned ext_key_usage;  // CA_EKU_*; 0 for none
  int is_ca;
  int path_len;  // pathLenConstraint when is_ca; -1 for none
  CBS san;       // GeneralNames element; empty for no subjectAltName
  const uint8_t *authority_key_id;  // CA_KEY_ID_LEN bytes; NULL for none
  const char *ocsp_url;             // AIA id-ad-ocsp; NULL for none
  const char *ca_issuers_url;       // AIA id-ad-caIssuers; NULL for none
  const char *crl_url;              // CRL distribution point; NULL for none
  int ocsp_no_check;                // id-pkix-ocsp-nocheck (OCSP responders)
} ca_cert_template;

// ca_certificate_build builds the certificate |tmpl| describes, signs it
// with |issuer_key| (of type |issuer_type|) using |digest|, and sets
// |*out_der| to a newly allocated DER buffer of |*out_len| bytes that the
// caller frees with OPENSSL_free. When |out_key_id| is not NULL it receives
// the subject key identifier written into the certificate.
//
// Extensions, in this order: basicConstraints and keyUsage (the only two
// marked critical: ARCHITECTURE.md invariant 5), extKeyUsage, subjectAltName,
// subjectKeyIdentifier, authorityKeyIdentifier, authorityInfoAccess,
// cRLDistributionPoints, id-pkix-ocsp-nocheck.
int ca_certificate_build(const ca_cert_template *tmpl, EVP_PKEY *issuer_key,
                         ca_key_type issuer_type, const EVP_MD *digest,
                         uint8_t **out_der, size_t *out_len,
                         uint8_t out_key_id[CA_KEY_ID_LEN]) CA_MUST_CHECK;

// The extensions a CSR may request too (ca/x509/csr_build.c). Each appends one
// Extension to the Extensions SEQUENCE |exts| and returns 1, or 0 with
// CA_ERR_INTERNAL when |exts| cannot grow: keyUsage (critical) for the CA_KU_*
// bits, extKeyUsage for the CA_EKU_* bits, subjectAltName holding the
// GeneralNames element |general_names|.
int ca_extension_add_key_usage(CBB *exts, unsigned bits) CA_MUST_CHECK;
int ca_extension_add_ext_key_usage(CBB *exts, unsigned bits) CA_MUST_CHECK;
int ca_extension_add_san(CBB *exts, const CBS *general_names) CA_MUST_CHECK;

// ca_key_usage_add appends the keyUsage BIT STRING for the CA_KU_* bits in
// |bits|, DER-minimal (trailing zero bits removed, X.690 11.2.2).
int ca_key_usage_add(CBB *out, unsigned bits) CA_MUST_CHECK;

#endif  // PKI_CA_CERTIFICATE_H
