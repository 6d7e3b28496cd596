// Signing with a CA key: the algorithm identifier and the signature value
// of certificates, OCSP responses and CRLs.
#ifndef PKI_CA_SIGNER_H
#define PKI_CA_SIGNER_H

#include <openssl/base.h>
#include <openssl/bytestring.h>

#include "ca/error.h"
#include "ca/x509/csr.h"

// ca_signature_digest returns the hash for a signature by a key like
// |issuer| over a certificate for a key like |subject| (NULL for none):
// SHA-384 when either key is P-384 (CUCM requires the hash to be at least as
// strong as the key), SHA-256 otherwise.
const EVP_MD *ca_signature_digest(const ca_key_info *issuer,
                                  const ca_key_info *subject);

// ca_signature_algorithm_add appends the AlgorithmIdentifier of a signature
// with a |type| key and |digest|: sha{256,384,512}WithRSAEncryption with NULL
// parameters (RFC 4055) or ecdsa-with-SHA{256,384,512} without (RFC 5758).
int ca_signature_algorithm_add(CBB *out, ca_key_type type,
                               const EVP_MD *digest) CA_MUST_CHECK;

// The largest signature pki makes: RSA-8192 (CA keys are at most 4096 bits,
// but the bound costs nothing).
#define CA_SIGNATURE_MAX_LEN 1024

// ca_sign writes the signature of |msg| by |key| with |digest| (PKCS#1 v1.5
// for RSA, DER ECDSA-Sig-Value for EC) into |out|, which holds
// CA_SIGNATURE_MAX_LEN bytes, and its length into |*out_len|. |key| is only
// read: BoringSSL keys may sign from several threads at once.
int ca_sign(EVP_PKEY *key, const EVP_MD *digest, const uint8_t *msg,
            size_t msg_len, uint8_t out[CA_SIGNATURE_MAX_LEN],
            size_t *out_len) CA_MUST_CHECK;

// ca_signature_add appends |sig| as a BIT STRING without unused bits.
int ca_signature_add(CBB *out, const uint8_t *sig,
                     size_t sig_len) CA_MUST_CHECK;

#endif  // PKI_CA_SIGNER_H
