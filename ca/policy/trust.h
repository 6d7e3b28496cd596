// Trust stores (ARCHITECTURE.md, "Trust stores and what lands in them"): the
// named certificate stores of the seed products, what an upload to one holds,
// and which stores a certificate of each purpose belongs in.
#ifndef PKI_CA_TRUST_H
#define PKI_CA_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/x509/serial.h"

#define CA_TRUST_STORE_COUNT 6
#define CA_TRUST_FINGERPRINT_LEN 32  // SHA-256
#define CA_TRUST_FINGERPRINT_HEX_LEN (2 * CA_TRUST_FINGERPRINT_LEN + 1)

// ca_trust_store_names returns the six store names (static strings):
// tomcat-trust, CallManager-trust, Phone-SAST-trust, CAPF-trust, ipsec-trust,
// TVS-trust.
const char *const *ca_trust_store_names(void);

// ca_trust_store_find returns the canonical spelling of the store |name|
// (matched without regard to case), or NULL with CA_ERR_TRUST_STORE_UNKNOWN.
const char *ca_trust_store_find(const char *name);

// ca_trust_upload_stores sets |out| to the stores an upload to |store| (a
// canonical name) lands in, and returns their number: the store itself, and
// for CAPF-trust also CallManager-trust (CallManager verifies the CAPF
// certificates of phones' LSC issuers).
size_t ca_trust_upload_stores(const char *store, const char *out[2]);

// ca_trust_purpose_stores sets |out| to the stores that a peer cluster's
// certificate of |purpose| is imported into by a bulk import, and returns
// their number (0 for a purpose with no store):
//   tomcat, tomcat-ECDSA            -> tomcat-trust
//   CallManager, CallManager-ECDSA  -> CallManager-trust, Phone-SAST-trust
//   CAPF                            -> CallManager-trust
//   ITLRecovery                     -> Phone-SAST-trust, CallManager-trust
//   ipsec                           -> ipsec-trust
//   TVS                             -> TVS-trust
// Purposes match without regard to case.
size_t ca_trust_purpose_stores(const char *purpose, const char *out[2]);

// What pki records of a certificate in a trust store. Strings are
// OPENSSL_malloc'd and owned; free with ca_trust_cert_cleanup.
typedef struct ca_trust_cert {
  uint8_t fingerprint[CA_TRUST_FINGERPRINT_LEN];
  char *subject;         // RFC 4514-style text
  uint8_t *subject_der;  // the Name element as encoded
  size_t subject_der_len;
  char *issuer;
  uint8_t *issuer_der;  // the issuer Name element as encoded
  size_t issuer_der_len;
  // Lower-case hex of the INTEGER contents (a sign octet included).
  char serial[2 * (CA_SERIAL_MAX_LEN + 1) + 1];
  char *common_name;  // "" when the subject has none
  char key_type[8];   // "RSA", "EC" or "other"
  unsigned key_bits;
  int is_ca;        // basicConstraints cA is TRUE
  int self_signed;  // subject equals issuer
  int64_t not_before;
  int64_t not_after;
  uint8_t *der;  // the certificate
  size_t der_len;
} ca_trust_cert;

// ca_trust_cert_read fills |out| from the DER certificate |der|. It returns
// 0 with CA_ERR_CERT_MALFORMED (|out| then owns nothing).
int ca_trust_cert_read(const uint8_t *der, size_t der_len,
                       ca_trust_cert *out) CA_MUST_CHECK;

// ca_trust_cert_cleanup frees what |cert| owns and zeroes it. Accepts NULL.
void ca_trust_cert_cleanup(ca_trust_cert *cert);

// ca_trust_certs_free cleans up |n| certificates and free()s the array.
void ca_trust_certs_free(ca_trust_cert *certs, size_t n);

// ca_trust_parse_upload reads the certificates of an upload: one or more PEM
// CERTIFICATE blocks, a PEM PKCS7 block, a DER certificate or a DER PKCS#7
// (certificates-only or signed). At most CA_LIMIT_TRUST_UPLOAD_CERTS
// certificates; duplicates within the upload are kept once. On success
// |*out| is an array of |*out_n| >= 1 certificates the caller frees with
// ca_trust_certs_free. It returns 0 with CA_ERR_CERT_MALFORMED (nothing that
// parses as certificates), CA_ERR_PEM_MALFORMED, CA_ERR_OBJECT_TOO_LARGE or
// CA_ERR_NO_MEMORY.
int ca_trust_parse_upload(ca_trust_cert **out, size_t *out_n, const uint8_t *in,
                          size_t in_len) CA_MUST_CHECK;

// ca_trust_check_upload decides whether |cert| may be uploaded to a trust
// store at |now|: unless |force|, it must not be expired
// (CA_ERR_CERT_EXPIRED). CA and leaf certificates are both accepted, as
// CUCM's stores accept a peer's self-signed tomcat certificate or a
// third-party server's.
int ca_trust_check_upload(const ca_trust_cert *cert, int64_t now,
                          int force) CA_MUST_CHECK;

// ca_trust_issued_by reports whether |child| names |parent| as its issuer
// (issuer Name equal, octet for octet, to |parent|'s subject) and is not
// |parent| itself: |child| chains to |parent|.
int ca_trust_issued_by(const ca_trust_cert *child, const ca_trust_cert *parent);

// ca_trust_chain_leaf reports whether |certs[i]| is a leaf (not a CA) that
// another certificate of the upload, a CA, issued: the end of a chain given
// with its CAs, which an upload reports as skipped rather than storing.
int ca_trust_chain_leaf(const ca_trust_cert *certs, size_t n, size_t i);

// ca_trust_description_check accepts an operator's note of at most
// CA_LIMIT_DESCRIPTION_LEN bytes of UTF-8 without control characters; NULL
// is the empty note. It returns 0 with CA_ERR_PARAMETER_INVALID.
int ca_trust_description_check(const char *text) CA_MUST_CHECK;

// ca_trust_fingerprint_hex writes the lower-case hex of |fp|.
void ca_trust_fingerprint_hex(const uint8_t fp[CA_TRUST_FINGERPRINT_LEN],
                              char out[CA_TRUST_FINGERPRINT_HEX_LEN]);

// ca_trust_fingerprint_parse reads 64 hex digits, with or without ':'
// between octets, into |out|. It returns 0 with CA_ERR_PARAMETER_INVALID.
int ca_trust_fingerprint_parse(uint8_t out[CA_TRUST_FINGERPRINT_LEN],
                               const char *text) CA_MUST_CHECK;

#endif  // PKI_CA_TRUST_H
