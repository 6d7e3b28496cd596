// Whether a certificate was signed by a given CA key: for certificates that
// arrive from elsewhere and claim one of pki's CAs as their issuer (an
// --issued import, CAs adopted at a restore).
#ifndef PKI_CA_X509_VERIFY_H
#define PKI_CA_X509_VERIFY_H

#include <openssl/base.h>

#include "ca/error.h"
#include "ca/x509/x509.h"

// ca_x509_verify_signed_by returns 1 when the signature of |cert| verifies
// over its TBSCertificate with the public key of |issuer_key|. The
// signature algorithms are those pki signs with (RFC 4055 PKCS#1 v1.5 and
// RFC 5758 ECDSA, with SHA-256, SHA-384 or SHA-512). It returns 0 with
// CA_ERR_CERT_MALFORMED for another or malformed algorithm, one that does
// not fit the key's type, or a signature that does not verify (no error
// code of its own: to a caller, a certificate that does not verify under
// the CA it names is a bad certificate).
int ca_x509_verify_signed_by(const ca_x509 *cert,
                             EVP_PKEY *issuer_key) CA_MUST_CHECK;

#endif  // PKI_CA_X509_VERIFY_H
