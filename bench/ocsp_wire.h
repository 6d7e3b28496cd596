// OCSP on the wire for the benchmarks (RFC 6960): the CertID of a
// certificate pki issued, a request for it, and the check of the answer.
// Written with CBS/CBB, like the responder, but separately from it: a bug
// in ca/ocsp_*.c is not mirrored here. Shared by bench/ocsp_bench.c and
// bench/soak.c.
#ifndef PKI_BENCH_OCSP_WIRE_H
#define PKI_BENCH_OCSP_WIRE_H

#include <openssl/base.h>
#include <openssl/bytestring.h>
#include <openssl/digest.h>
#include <openssl/sha.h>
#include <stddef.h>
#include <stdint.h>

// The parts of an X.509 certificate a CertID is made of (RFC 5280 4.1).
// Every CBS points into the DER it was parsed from.
typedef struct ocsp_wire_cert {
  CBS serial;   // serialNumber INTEGER contents
  CBS subject;  // subject Name, DER element
  CBS spki;     // subjectPublicKeyInfo, DER element
  CBS key;      // the subjectPublicKey BIT STRING value, less unused bits
} ocsp_wire_cert;

// ocsp_wire_cert_parse reads |der|; it returns 0 if it is not a
// certificate.
int ocsp_wire_cert_parse(const uint8_t *der, size_t len, ocsp_wire_cert *out);

// The CertID hashes of an issuing CA (SHA-1, as most clients send them).
typedef struct ocsp_wire_issuer {
  uint8_t name_hash[SHA_DIGEST_LENGTH];
  uint8_t key_hash[SHA_DIGEST_LENGTH];
  EVP_PKEY *pub;  // verifies the answers the CA signs
} ocsp_wire_issuer;

// ocsp_wire_issuer_init fills |out| from the CA's certificate; release it
// with ocsp_wire_issuer_cleanup. It returns 0 on a bad certificate.
int ocsp_wire_issuer_init(ocsp_wire_issuer *out, const uint8_t *ca_der,
                          size_t ca_len);

void ocsp_wire_issuer_cleanup(ocsp_wire_issuer *issuer);

#define OCSP_WIRE_GOOD 0
#define OCSP_WIRE_REVOKED 1
#define OCSP_WIRE_UNKNOWN 2

#define OCSP_WIRE_NONCE_LEN 16

// A request for one certificate and the CertID its answer must echo.
// Without a nonce pkid answers from its cache of pre-signed responses; with
// one it signs the answer live and never caches it. The nonce is the last
// OCSP_WIRE_NONCE_LEN bytes of |der|: a sender may rewrite them for every
// request it sends (a nonce of its own each) and check the answers with
// ocsp_wire_match.
typedef struct ocsp_wire_query {
  uint8_t der[256];
  size_t der_len;
  uint8_t cert_id[192];
  size_t cert_id_len;
  int has_nonce;
  uint8_t nonce[OCSP_WIRE_NONCE_LEN];
} ocsp_wire_query;

// ocsp_wire_query_build makes the request for |serial| (INTEGER contents)
// of |issuer|, with a random nonce if |nonce|. It returns 0 for a serial
// too long for a CertID.
int ocsp_wire_query_build(const ocsp_wire_issuer *issuer, const uint8_t *serial,
                          size_t serial_len, int nonce, ocsp_wire_query *out);

// The parts of an OCSPResponse that are checked (RFC 6960 4.2.1). Every CBS
// points into the DER it was parsed from.
typedef struct ocsp_wire_response {
  CBS tbs;        // ResponseData element: what is signed
  CBS sig_alg;    // signatureAlgorithm OID
  CBS signature;  // signature BIT STRING value, less unused bits
  CBS signer;     // the first certificate in certs (a delegated responder's),
                  // or empty
  CBS cert_id;    // the SingleResponse's CertID element
  unsigned cert_status;  // OCSP_WIRE_GOOD, _REVOKED or _UNKNOWN
  int has_nonce;
  CBS nonce;  // the nonce extension's extnValue contents
} ocsp_wire_response;

// ocsp_wire_response_parse reads the OCSPResponse |der|: successful, a
// BasicOCSPResponse with exactly one SingleResponse. It returns 0 with the
// reason in |*why| (a static string).
int ocsp_wire_response_parse(const uint8_t *der, size_t len,
                             ocsp_wire_response *out, const char **why);

// ocsp_wire_match checks that |resp| answers |q|: about the CertID asked,
// certStatus |want|, and |nonce| echoed, the OCSP_WIRE_NONCE_LEN bytes the
// request carried as sent (|q->nonce| unless the sender rewrote them; NULL
// for a request without one, whose answer must then carry none). It
// returns 0 with the reason in |*why| (a static string, or one of this
// thread's).
int ocsp_wire_match(const ocsp_wire_response *resp, const ocsp_wire_query *q,
                    const uint8_t *nonce, unsigned want, const char **why);

// ocsp_wire_digest returns the digest of |resp|'s signatureAlgorithm, or
// NULL for one the benchmarks do not know.
const EVP_MD *ocsp_wire_digest(const ocsp_wire_response *resp);

// ocsp_wire_verify says whether |resp|'s signature over its ResponseData
// verifies with |pub| and |md|.
int ocsp_wire_verify(const ocsp_wire_response *resp, const EVP_MD *md,
                     EVP_PKEY *pub);

// ocsp_wire_check checks the OCSPResponse |der| answering |q|: successful,
// one SingleResponse about the CertID asked, certStatus |want|, the nonce
// echoed when |q| has one (and none otherwise), and, when |verify|, a
// signature by |issuer|'s key over the ResponseData. It returns 0 with the
// reason in |*why| (a static string, or one of this thread's).
int ocsp_wire_check(const ocsp_wire_issuer *issuer, const ocsp_wire_query *q,
                    unsigned want, int verify, const uint8_t *der, size_t len,
                    const char **why);

#endif  // PKI_BENCH_OCSP_WIRE_H
