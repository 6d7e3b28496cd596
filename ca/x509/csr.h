// PKCS#10 certification requests (RFC 2986), parsed with CBS.
#ifndef PKI_CA_CSR_H
#define PKI_CA_CSR_H

#include <openssl/base.h>
#include <openssl/bytestring.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"

typedef enum ca_key_type {
  CA_KEY_NONE = 0,
  CA_KEY_RSA = 1,
  CA_KEY_EC = 2,
} ca_key_type;

// What the CA needs to know of a public key to apply a profile.
typedef struct ca_key_info {
  ca_key_type type;
  unsigned bits;  // RSA modulus size, or the EC group order size
  int curve_nid;  // NID_X9_62_prime256v1 or NID_secp384r1; 0 for RSA
} ca_key_info;

// ca_key_info_from_pkey fills |out| from |pkey|. It returns 0 with
// CA_ERR_KEY_UNSUPPORTED for key types other than RSA and EC.
int ca_key_info_from_pkey(const EVP_PKEY *pkey, ca_key_info *out) CA_MUST_CHECK;

// ca_key_type_name returns the static name of |type|: "RSA" or "EC".
const char *ca_key_type_name(ca_key_type type);

// A parsed request. Every CBS is a view into the DER buffer given to
// ca_csr_parse, which must outlive the ca_csr.
typedef struct ca_csr {
  CBS info;     // the CertificationRequestInfo element: the signed bytes
  CBS subject;  // the subject Name element
  CBS spki;     // the SubjectPublicKeyInfo element
  CBS san;      // the GeneralNames element of a requested subjectAltName
  int has_san;
  CBS signature;  // the signature value, without the unused-bits octet
  const EVP_MD *digest;
  ca_key_type signature_key_type;
  EVP_PKEY *pkey;  // owned
  ca_key_info key;
} ca_csr;

// ca_csr_decode turns a request as a client sent it (DER, or PEM labelled
// CERTIFICATE REQUEST or NEW CERTIFICATE REQUEST) into DER. A UTF-8 byte
// order mark before either is dropped; text around the PEM block (RFC 7468
// section 2, as openssl req -text writes) and blocks of other labels are
// skipped. For DER input |*out_der| aliases |in| and |*out_owned| is NULL;
// for PEM both point to a new buffer that the caller frees with
// OPENSSL_free(*out_owned). Input over CA_LIMIT_CSR_BYTES (DER) or twice
// that (PEM) is refused. It returns 0 with CA_ERR_CSR_TOO_LARGE,
// CA_ERR_PEM_MALFORMED, CA_ERR_CSR_MALFORMED, or CA_ERR_CSR_MULTIPLE when
// the input holds two requests (two PEM blocks, or two DER requests one
// after the other): issuing the first alone would lose the second silently.
int ca_csr_decode(const uint8_t *in, size_t in_len, const uint8_t **out_der,
                  size_t *out_der_len, uint8_t **out_owned) CA_MUST_CHECK;

// ca_csr_decode_max is ca_csr_decode with the limit |max_der| (DER bytes;
// PEM text may be twice that) instead of CA_LIMIT_CSR_BYTES: the operator's
// --max-csr-bytes. A |max_der| of 0 or above CA_LIMIT_CSR_BYTES means
// CA_LIMIT_CSR_BYTES, the ceiling.
int ca_csr_decode_max(const uint8_t *in, size_t in_len, size_t max_der,
                      const uint8_t **out_der, size_t *out_der_len,
                      uint8_t **out_owned) CA_MUST_CHECK;

// ca_csr_parse parses the DER request |der| into |out| without verifying its
// signature. The whole request, and the value of each requested extension,
// must be strict DER (ca/x509/der.h), or it is CA_ERR_CSR_MALFORMED. Requested
// extensions other than subjectAltName are read only to check their encoding
// and are otherwise ignored: the profile decides every extension
// (ARCHITECTURE.md invariant 3). RSA keys above CA_LIMIT_RSA_MAX_BITS are
// refused here, before any costly operation. On failure |out| holds nothing
// to free. It returns 0 with CA_ERR_CSR_MALFORMED, CA_ERR_CSR_TOO_LARGE,
// CA_ERR_KEY_UNSUPPORTED (neither RSA nor EC: checked before the signature
// algorithm), CA_ERR_KEY_SIZE_UNSUPPORTED, CA_ERR_CSR_SIGNATURE_ALGORITHM, or
// CA_ERR_CSR_SIGNATURE_INVALID when the signature algorithm does not match
// the key type.
int ca_csr_parse(ca_csr *out, const uint8_t *der, size_t der_len) CA_MUST_CHECK;

// ca_csr_verify checks the request's signature with its own public key: the
// proof of possession of the private key. It returns 0 with
// CA_ERR_CSR_SIGNATURE_INVALID when the signature does not verify.
int ca_csr_verify(const ca_csr *csr) CA_MUST_CHECK;

// ca_csr_cleanup frees what |csr| owns. It accepts a zeroed ca_csr.
void ca_csr_cleanup(ca_csr *csr);

#endif  // PKI_CA_CSR_H
