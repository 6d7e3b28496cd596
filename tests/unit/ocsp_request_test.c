// Unit tests of ca/x509/ocsp_request.c: requests written by the OpenSSL command
// line client, and requests built here with CBB that vary one part of RFC
// 6960 4.1.1 at a time: hash algorithms, several CertIDs and their limit,
// the nonce (RFC 8954) and its limit, known and unknown extensions, a signed
// request, trailing bytes, wrong tags and every truncation.
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "ca/error.h"
#include "ca/limits.h"
#include "ca/x509/ocsp_request.h"
#include "tests/support/test.h"

// The issuer of the requests below: a self-signed EC P-256 certificate with
// subject CN=t, made with
//   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes
//     -subj /CN=t -keyout k -out c
// Its subject Name element, and its subjectPublicKey BIT STRING value.
static const uint8_t kIssuerName[] = {0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06,
                                      0x03, 0x55, 0x04, 0x03, 0x0c, 0x01, 0x74};
static const uint8_t kIssuerKey[] = {
    0x04, 0xf8, 0xad, 0x5f, 0x73, 0xc1, 0xc1, 0x8b, 0x32, 0x22, 0x32,
    0xaa, 0x86, 0x1b, 0xf3, 0x51, 0xe9, 0x16, 0xdc, 0x0d, 0xa5, 0x8b,
    0x03, 0x10, 0x05, 0x49, 0x26, 0x5b, 0xe1, 0xc9, 0xb4, 0x9c, 0x09,
    0x02, 0x94, 0xb2, 0x80, 0x44, 0x3b, 0x36, 0x93, 0xde, 0xeb, 0x6e,
    0xb7, 0x24, 0x4a, 0x82, 0x1c, 0xd1, 0xe5, 0xf8, 0x7f, 0xe8, 0x11,
    0x5b, 0x45, 0x84, 0x47, 0xda, 0x2b, 0x93, 0x05, 0x89, 0xc4};
static const uint8_t kSerial[] = {0x12, 0x34, 0xab, 0xcd, 0x56, 0x78, 0xef};

// openssl ocsp -issuer c -serial 0x1234abcd5678ef -reqout r -no_nonce
static const uint8_t kOpensslSha1Request[] = {
    0x30, 0x48, 0x30, 0x46, 0x30, 0x44, 0x30, 0x42, 0x30, 0x40, 0x30,
    0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
    0x14, 0x76, 0xb3, 0xb6, 0xf4, 0x08, 0xe4, 0xa7, 0xf0, 0x00, 0x6b,
    0x43, 0x02, 0x11, 0x59, 0x5e, 0x17, 0xad, 0x61, 0xad, 0x0f, 0x04,
    0x14, 0xd9, 0x5d, 0x35, 0x37, 0x25, 0xd3, 0xca, 0x44, 0xd5, 0x77,
    0x23, 0xef, 0x95, 0x69, 0x01, 0xd0, 0x87, 0x3e, 0x87, 0x9d, 0x02,
    0x07, 0x12, 0x34, 0xab, 0xcd, 0x56, 0x78, 0xef};
// Where the parts of kOpensslSha1Request start: the CertID element, the
// two hashes' contents, the serial's contents.
#define SHA1_REQUEST_CERT_ID 8
#define SHA1_REQUEST_NAME_HASH 23
#define SHA1_REQUEST_KEY_HASH 45
#define SHA1_REQUEST_SERIAL 67

// The same, without -no_nonce: a 16-byte nonce in requestExtensions.
static const uint8_t kOpensslNonceRequest[] = {
    0x30, 0x6d, 0x30, 0x6b, 0x30, 0x44, 0x30, 0x42, 0x30, 0x40, 0x30, 0x09,
    0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14, 0x76,
    0xb3, 0xb6, 0xf4, 0x08, 0xe4, 0xa7, 0xf0, 0x00, 0x6b, 0x43, 0x02, 0x11,
    0x59, 0x5e, 0x17, 0xad, 0x61, 0xad, 0x0f, 0x04, 0x14, 0xd9, 0x5d, 0x35,
    0x37, 0x25, 0xd3, 0xca, 0x44, 0xd5, 0x77, 0x23, 0xef, 0x95, 0x69, 0x01,
    0xd0, 0x87, 0x3e, 0x87, 0x9d, 0x02, 0x07, 0x12, 0x34, 0xab, 0xcd, 0x56,
    0x78, 0xef, 0xa2, 0x23, 0x30, 0x21, 0x30, 0x1f, 0x06, 0x09, 0x2b, 0x06,
    0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02, 0x04, 0x12, 0x04, 0x10, 0xaf,
    0x9f, 0xf5, 0x9a, 0x4c, 0xdb, 0x85, 0xd9, 0x07, 0x6d, 0x36, 0x1b, 0xc9,
    0x0e, 0x6e, 0xf8};
// The extnValue contents of its nonce extension (an OCTET STRING inside).
#define NONCE_REQUEST_NONCE_VALUE 93

// openssl ocsp -sha256 -issuer c -serial 0x1234abcd5678ef -reqout r
//   -no_nonce
static const uint8_t kOpensslSha256Request[] = {
    0x30, 0x64, 0x30, 0x62, 0x30, 0x60, 0x30, 0x5e, 0x30, 0x5c, 0x30, 0x0d,
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20, 0x4b, 0x51, 0xde, 0xd2, 0xdd, 0x13, 0x12, 0x54, 0x74,
    0x49, 0x1c, 0x94, 0xc8, 0xe6, 0xe4, 0x68, 0xe2, 0xd0, 0x54, 0xb5, 0x4f,
    0x83, 0x5c, 0x2f, 0xee, 0x83, 0x56, 0xea, 0x38, 0xcb, 0x22, 0x10, 0x04,
    0x20, 0x54, 0x59, 0x44, 0x8c, 0xfb, 0x99, 0xc0, 0x0a, 0xfa, 0x1e, 0x15,
    0xa8, 0x09, 0xac, 0x9c, 0xeb, 0xc8, 0x57, 0x62, 0x3d, 0xd8, 0x89, 0x75,
    0x8f, 0xa1, 0x81, 0xc0, 0xae, 0x1d, 0x90, 0x6e, 0xf0, 0x02, 0x07, 0x12,
    0x34, 0xab, 0xcd, 0x56, 0x78, 0xef};

// OID contents: the CertID hashes pki matches on, two it does not, the
// nonce, and an extension no one knows (a private arc).
static const uint8_t kOidSha1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};
static const uint8_t kOidSha256[] = {0x60, 0x86, 0x48, 0x01, 0x65,
                                     0x03, 0x04, 0x02, 0x01};
static const uint8_t kOidSha384[] = {0x60, 0x86, 0x48, 0x01, 0x65,
                                     0x03, 0x04, 0x02, 0x02};
static const uint8_t kOidMd5[] = {0x2a, 0x86, 0x48, 0x86,
                                  0xf7, 0x0d, 0x02, 0x05};
static const uint8_t kOidNonce[] = {0x2b, 0x06, 0x01, 0x05, 0x05,
                                    0x07, 0x30, 0x01, 0x02};
static const uint8_t kOidUnknown[] = {0x2b, 0x06, 0x01, 0x04, 0x01,
                                      0x82, 0x37, 0x63, 0x01};
static const uint8_t kOidSha256WithRsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                            0x0d, 0x01, 0x01, 0x0b};

// How the hashAlgorithm parameters are written.
enum {
  PARAMS_NULL,          // NULL, as OpenSSL writes them
  PARAMS_ABSENT,        // absent, as RFC 5754 prefers for SHA-2
  PARAMS_OCTET_STRING,  // something that is not NULL
  PARAMS_NULL_CONTENT,  // a NULL with a content octet
  PARAMS_TWO_NULLS,     // NULL followed by a second element
};

typedef struct extension {
  const uint8_t *oid;
  size_t oid_len;
  int critical;
  const uint8_t *value;  // extnValue contents
  size_t value_len;
} extension;

// A request as build_request writes it. spec_init sets the plain request
// a client sends: one SHA-1 CertID, no nonce, no signature; each test then
// changes what it is about.
typedef struct request_spec {
  size_t cert_ids;
  const uint8_t *hash_oid;
  size_t hash_oid_len;
  size_t hash_len;  // length of issuerNameHash and issuerKeyHash
  int hash_params;
  int version;  // written as [0] EXPLICIT when >= 0
  int requestor_name;
  // singleRequestExtensions on every Request: 1 an unknown non-critical
  // extension, 2 an unknown critical one.
  int single_extensions;
  const extension *exts;  // requestExtensions when |n_exts| > 0
  size_t n_exts;
  int signature;  // optionalSignature
  // Damage, one place at a time.
  int empty_serial;       // serialNumber INTEGER without contents
  int cert_id_extra;      // an element after the CertID's serialNumber
  int request_extra;      // an element after a Request's extensions
  int tbs_extra;          // an element after requestExtensions
  int outer_extra;        // an element after optionalSignature
  int trailing_bytes;     // bytes after the OCSPRequest
  int exts_not_sequence;  // requestExtensions holding a SET
} request_spec;

static void spec_init(request_spec *spec) {
  memset(spec, 0, sizeof(*spec));
  spec->cert_ids = 1;
  spec->hash_oid = kOidSha1;
  spec->hash_oid_len = sizeof(kOidSha1);
  spec->hash_len = SHA_DIGEST_LENGTH;
  spec->hash_params = PARAMS_NULL;
  spec->version = -1;
}

// The contents of CertID |i|: issuerNameHash octets 0xa0+i, issuerKeyHash
// octets 0xb0+i, serial 7f i a5; distinct for every CertID.
static uint8_t name_hash_octet(size_t i) {
  return (uint8_t)(0xa0 + i);
}
static uint8_t key_hash_octet(size_t i) {
  return (uint8_t)(0xb0 + i);
}

static int add_filled_octet_string(CBB *out, uint8_t octet, size_t len) {
  CBB s;
  uint8_t *p;
  if (!CBB_add_asn1(out, &s, CBS_ASN1_OCTETSTRING) ||
      !CBB_add_space(&s, &p, len)) {
    return 0;
  }
  memset(p, octet, len);
  return CBB_flush(out);
}

static int add_null(CBB *out) {
  CBB null;
  return CBB_add_asn1(out, &null, CBS_ASN1_NULL) && CBB_flush(out);
}

static int add_hash_algorithm(CBB *out, const request_spec *spec) {
  CBB alg, oid, params;
  if (!CBB_add_asn1(out, &alg, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&alg, &oid, CBS_ASN1_OBJECT) ||
      !CBB_add_bytes(&oid, spec->hash_oid, spec->hash_oid_len)) {
    return 0;
  }
  switch (spec->hash_params) {
    case PARAMS_NULL:
      if (!add_null(&alg)) {
        return 0;
      }
      break;
    case PARAMS_ABSENT:
      break;
    case PARAMS_OCTET_STRING:
      if (!add_filled_octet_string(&alg, 0, 1)) {
        return 0;
      }
      break;
    case PARAMS_NULL_CONTENT:
      if (!CBB_add_asn1(&alg, &params, CBS_ASN1_NULL) ||
          !CBB_add_u8(&params, 0)) {
        return 0;
      }
      break;
    case PARAMS_TWO_NULLS:
      if (!add_null(&alg) || !add_null(&alg)) {
        return 0;
      }
      break;
  }
  return CBB_flush(out);
}

static int add_cert_id(CBB *out, const request_spec *spec, size_t i) {
  CBB cert_id, serial;
  if (!CBB_add_asn1(out, &cert_id, CBS_ASN1_SEQUENCE) ||
      !add_hash_algorithm(&cert_id, spec) ||
      !add_filled_octet_string(&cert_id, name_hash_octet(i), spec->hash_len) ||
      !add_filled_octet_string(&cert_id, key_hash_octet(i), spec->hash_len) ||
      !CBB_add_asn1(&cert_id, &serial, CBS_ASN1_INTEGER)) {
    return 0;
  }
  if (!spec->empty_serial &&
      (!CBB_add_u8(&serial, 0x7f) || !CBB_add_u8(&serial, (uint8_t)i) ||
       !CBB_add_u8(&serial, 0xa5))) {
    return 0;
  }
  if (spec->cert_id_extra && !add_null(&cert_id)) {
    return 0;
  }
  return CBB_flush(out);
}

static int add_extensions(CBB *out, const extension *exts, size_t n,
                          unsigned list_tag) {
  CBB list, ext, oid, value;
  if (!CBB_add_asn1(out, &list, list_tag)) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (!CBB_add_asn1(&list, &ext, CBS_ASN1_SEQUENCE) ||
        !CBB_add_asn1(&ext, &oid, CBS_ASN1_OBJECT) ||
        !CBB_add_bytes(&oid, exts[i].oid, exts[i].oid_len) ||
        (exts[i].critical && !CBB_add_asn1_bool(&ext, 1)) ||
        !CBB_add_asn1(&ext, &value, CBS_ASN1_OCTETSTRING) ||
        !CBB_add_bytes(&value, exts[i].value, exts[i].value_len) ||
        !CBB_flush(&list)) {
      return 0;
    }
  }
  return CBB_flush(out);
}

static const uint8_t kUnknownValue[] = {0x05, 0x00};
static const extension kUnknownNonCritical = {
    kOidUnknown, sizeof(kOidUnknown), 0, kUnknownValue, sizeof(kUnknownValue)};

static int add_request(CBB *out, const request_spec *spec, size_t i) {
  CBB request, tag;
  if (!CBB_add_asn1(out, &request, CBS_ASN1_SEQUENCE) ||
      !add_cert_id(&request, spec, i)) {
    return 0;
  }
  const extension unknown_critical = {kOidUnknown, sizeof(kOidUnknown), 1,
                                      kUnknownValue, sizeof(kUnknownValue)};
  if (spec->single_extensions &&
      (!CBB_add_asn1(&request, &tag,
                     CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
       !add_extensions(&tag,
                       spec->single_extensions == 2 ? &unknown_critical
                                                    : &kUnknownNonCritical,
                       1, CBS_ASN1_SEQUENCE))) {
    return 0;
  }
  if (spec->request_extra && !add_null(&request)) {
    return 0;
  }
  return CBB_flush(out);
}

// add_signature writes optionalSignature [0] EXPLICIT Signature with an
// empty certs list; the parser must skip it whatever it holds.
static int add_signature(CBB *out) {
  CBB tag, signature, alg, oid, bits, certs_tag, certs;
  uint8_t *p;
  if (!CBB_add_asn1(out, &tag,
                    CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
      !CBB_add_asn1(&tag, &signature, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&signature, &alg, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&alg, &oid, CBS_ASN1_OBJECT) ||
      !CBB_add_bytes(&oid, kOidSha256WithRsa, sizeof(kOidSha256WithRsa)) ||
      !add_null(&alg) || !CBB_add_asn1(&signature, &bits, CBS_ASN1_BITSTRING) ||
      !CBB_add_u8(&bits, 0) || !CBB_add_space(&bits, &p, 256)) {
    return 0;
  }
  memset(p, 0x5c, 256);
  return CBB_add_asn1(&signature, &certs_tag,
                      CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
         CBB_add_asn1(&certs_tag, &certs, CBS_ASN1_SEQUENCE) && CBB_flush(out);
}

// build_request writes the request |spec| describes into a new buffer of
// exactly its size (so that ASan sees any read past its end); the caller
// frees it with OPENSSL_free.
static int build_request(const request_spec *spec, uint8_t **out,
                         size_t *out_len) {
  CBB cbb, ocsp, tbs, tag, name, list;
  if (!CBB_init(&cbb, 256) || !CBB_add_asn1(&cbb, &ocsp, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&ocsp, &tbs, CBS_ASN1_SEQUENCE)) {
    goto err;
  }
  if (spec->version >= 0 &&
      (!CBB_add_asn1(&tbs, &tag,
                     CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
       !CBB_add_asn1_uint64(&tag, (uint64_t)spec->version) ||
       !CBB_flush(&tbs))) {
    goto err;
  }
  // requestorName [1] EXPLICIT GeneralName: a dNSName.
  if (spec->requestor_name &&
      (!CBB_add_asn1(&tbs, &tag,
                     CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1) ||
       !CBB_add_asn1(&tag, &name, CBS_ASN1_CONTEXT_SPECIFIC | 2) ||
       !CBB_add_bytes(&name, (const uint8_t *)"client.example", 14) ||
       !CBB_flush(&tbs))) {
    goto err;
  }
  if (!CBB_add_asn1(&tbs, &list, CBS_ASN1_SEQUENCE)) {
    goto err;
  }
  for (size_t i = 0; i < spec->cert_ids; i++) {
    if (!add_request(&list, spec, i)) {
      goto err;
    }
  }
  if (spec->n_exts > 0 &&
      (!CBB_add_asn1(&tbs, &tag,
                     CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 2) ||
       !add_extensions(
           &tag, spec->exts, spec->n_exts,
           spec->exts_not_sequence ? CBS_ASN1_SET : CBS_ASN1_SEQUENCE))) {
    goto err;
  }
  if ((spec->tbs_extra && !add_null(&tbs)) || !CBB_flush(&ocsp) ||
      (spec->signature && !add_signature(&ocsp)) ||
      (spec->outer_extra && !add_null(&ocsp)) || !CBB_flush(&cbb) ||
      (spec->trailing_bytes && !add_null(&cbb)) ||
      !CBB_finish(&cbb, out, out_len)) {
    goto err;
  }
  return 1;
err:
  CBB_cleanup(&cbb);
  return 0;
}

// nonce_value writes the extnValue contents of a nonce extension holding
// |len| (< 128) octets |octet|: Nonce ::= OCTET STRING (RFC 8954 2.1).
static size_t nonce_value(uint8_t *out, uint8_t octet, size_t len) {
  out[0] = CBS_ASN1_OCTETSTRING;
  out[1] = (uint8_t)len;
  memset(out + 2, octet, len);
  return len + 2;
}

// parse_spec builds |spec| and parses it into |req|: 1 when both worked.
// A build failure is a failed check; the caller frees |*der|, which |req|
// views.
static int parse_spec(const request_spec *spec, ca_ocsp_request *req,
                      uint8_t **der) {
  size_t len;
  *der = NULL;
  const int built = build_request(spec, der, &len);
  CHECK(built);
  if (!built) {
    return 0;
  }
  ca_err_clear();
  return ca_ocsp_request_parse(req, *der, len);
}

// spec_refused reports whether the request |spec| describes is refused
// with CA_ERR_REQUEST_MALFORMED.
static int spec_refused(const request_spec *spec) {
  ca_ocsp_request req;
  uint8_t *der;
  const int ok = parse_spec(spec, &req, &der);
  const int built = der != NULL;
  OPENSSL_free(der);
  return built && !ok && ca_err_get()->code == CA_ERR_REQUEST_MALFORMED;
}

static int spec_accepted(const request_spec *spec) {
  ca_ocsp_request req;
  uint8_t *der;
  const int ok = parse_spec(spec, &req, &der);
  OPENSSL_free(der);
  return ok;
}

// bytes_refused parses a heap copy of exactly |len| bytes of |der|.
static int bytes_refused(const uint8_t *der, size_t len) {
  uint8_t *copy = OPENSSL_malloc(len > 0 ? len : 1);
  if (copy == NULL) {
    return 0;
  }
  if (len > 0) {
    memcpy(copy, der, len);
  }
  ca_ocsp_request req;
  ca_err_clear();
  const int ok = ca_ocsp_request_parse(&req, copy, len);
  OPENSSL_free(copy);
  return !ok && ca_err_get()->code == CA_ERR_REQUEST_MALFORMED;
}

static int cbs_is(const CBS *cbs, const uint8_t *want, size_t want_len) {
  return CBS_len(cbs) == want_len && memcmp(CBS_data(cbs), want, want_len) == 0;
}

static int cbs_filled(const CBS *cbs, uint8_t octet, size_t len) {
  if (CBS_len(cbs) != len) {
    return 0;
  }
  for (size_t i = 0; i < len; i++) {
    if (CBS_data(cbs)[i] != octet) {
      return 0;
    }
  }
  return 1;
}

// cbs_within reports whether |cbs| is a view into |buf|.
static int cbs_within(const CBS *cbs, const uint8_t *buf, size_t len) {
  return CBS_data(cbs) >= buf && CBS_data(cbs) + CBS_len(cbs) <= buf + len;
}

TEST(openssl_sha1_request) {
  const uint8_t *der = kOpensslSha1Request;
  const size_t len = sizeof(kOpensslSha1Request);
  ca_ocsp_request req;
  ca_err_clear();
  CHECK(ca_ocsp_request_parse(&req, der, len));
  CHECK_EQ_INT(req.count, 1);
  CHECK(!req.has_nonce);
  const ca_ocsp_cert_id *id = &req.ids[0];
  CHECK_EQ_INT(id->hash, CA_OCSP_HASH_SHA1);
  // The hashes are those of the issuer certificate (RFC 6960 4.1.1): the
  // SHA-1 of its DER subject and of its public key.
  uint8_t want[SHA_DIGEST_LENGTH];
  SHA1(kIssuerName, sizeof(kIssuerName), want);
  CHECK(cbs_is(&id->name_hash, want, sizeof(want)));
  SHA1(kIssuerKey, sizeof(kIssuerKey), want);
  CHECK(cbs_is(&id->key_hash, want, sizeof(want)));
  CHECK(cbs_is(&id->serial, kSerial, sizeof(kSerial)));
  // The views point into the request: the CertID element whole, for the
  // response to echo, and each field at its place.
  CHECK(CBS_data(&id->element) == der + SHA1_REQUEST_CERT_ID);
  CHECK_EQ_INT(CBS_len(&id->element), len - SHA1_REQUEST_CERT_ID);
  CHECK(CBS_data(&id->name_hash) == der + SHA1_REQUEST_NAME_HASH);
  CHECK(CBS_data(&id->key_hash) == der + SHA1_REQUEST_KEY_HASH);
  CHECK(CBS_data(&id->serial) == der + SHA1_REQUEST_SERIAL);
}

TEST(openssl_nonce_request) {
  const uint8_t *der = kOpensslNonceRequest;
  const size_t len = sizeof(kOpensslNonceRequest);
  ca_ocsp_request req;
  CHECK(ca_ocsp_request_parse(&req, der, len));
  CHECK_EQ_INT(req.count, 1);
  CHECK_EQ_INT(req.ids[0].hash, CA_OCSP_HASH_SHA1);
  CHECK(cbs_is(&req.ids[0].serial, kSerial, sizeof(kSerial)));
  // The CertID is the same as without a nonce.
  CHECK(cbs_is(&req.ids[0].element, kOpensslSha1Request + SHA1_REQUEST_CERT_ID,
               sizeof(kOpensslSha1Request) - SHA1_REQUEST_CERT_ID));
  // The nonce is the extnValue contents, OCTET STRING header included, so
  // that the response echoes it byte for byte (RFC 8954 2.1).
  CHECK(req.has_nonce);
  CHECK(CBS_data(&req.nonce) == der + NONCE_REQUEST_NONCE_VALUE);
  CHECK_EQ_INT(CBS_len(&req.nonce), 18);
  CHECK_EQ_INT(CBS_data(&req.nonce)[0], CBS_ASN1_OCTETSTRING);
  CHECK_EQ_INT(CBS_data(&req.nonce)[1], 16);
  // A later parse into the same structure forgets the nonce.
  CHECK(ca_ocsp_request_parse(&req, kOpensslSha1Request,
                              sizeof(kOpensslSha1Request)));
  CHECK(!req.has_nonce);
  CHECK_EQ_INT(CBS_len(&req.nonce), 0);
}

TEST(openssl_sha256_request) {
  const uint8_t *der = kOpensslSha256Request;
  const size_t len = sizeof(kOpensslSha256Request);
  ca_ocsp_request req;
  CHECK(ca_ocsp_request_parse(&req, der, len));
  CHECK_EQ_INT(req.count, 1);
  CHECK(!req.has_nonce);
  const ca_ocsp_cert_id *id = &req.ids[0];
  CHECK_EQ_INT(id->hash, CA_OCSP_HASH_SHA256);
  uint8_t want[SHA256_DIGEST_LENGTH];
  SHA256(kIssuerName, sizeof(kIssuerName), want);
  CHECK(cbs_is(&id->name_hash, want, sizeof(want)));
  SHA256(kIssuerKey, sizeof(kIssuerKey), want);
  CHECK(cbs_is(&id->key_hash, want, sizeof(want)));
  CHECK(cbs_is(&id->serial, kSerial, sizeof(kSerial)));
  CHECK(cbs_within(&id->element, der, len));
  CHECK_EQ_INT(CBS_len(&id->element), len - 8);
}

TEST(hash_algorithms) {
  static const struct {
    const uint8_t *oid;
    size_t oid_len;
    size_t hash_len;
    int params;
    ca_ocsp_hash want;
  } kCases[] = {
      {kOidSha1, sizeof(kOidSha1), 20, PARAMS_NULL, CA_OCSP_HASH_SHA1},
      {kOidSha1, sizeof(kOidSha1), 20, PARAMS_ABSENT, CA_OCSP_HASH_SHA1},
      {kOidSha256, sizeof(kOidSha256), 32, PARAMS_NULL, CA_OCSP_HASH_SHA256},
      {kOidSha256, sizeof(kOidSha256), 32, PARAMS_ABSENT, CA_OCSP_HASH_SHA256},
      // Hashes pki does not match on still parse: the responder answers
      // "unknown" for them rather than "malformed".
      {kOidSha384, sizeof(kOidSha384), 48, PARAMS_ABSENT, CA_OCSP_HASH_OTHER},
      {kOidMd5, sizeof(kOidMd5), 16, PARAMS_NULL, CA_OCSP_HASH_OTHER},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    request_spec spec;
    spec_init(&spec);
    spec.hash_oid = kCases[i].oid;
    spec.hash_oid_len = kCases[i].oid_len;
    spec.hash_len = kCases[i].hash_len;
    spec.hash_params = kCases[i].params;
    ca_ocsp_request req;
    uint8_t *der;
    CHECK(parse_spec(&spec, &req, &der));
    CHECK_EQ_INT(req.count, 1);
    CHECK_EQ_INT(req.ids[0].hash, kCases[i].want);
    CHECK(cbs_filled(&req.ids[0].name_hash, name_hash_octet(0),
                     kCases[i].hash_len));
    CHECK(cbs_filled(&req.ids[0].key_hash, key_hash_octet(0),
                     kCases[i].hash_len));
    OPENSSL_free(der);
  }
  // Parameters other than absent or an empty NULL are malformed.
  static const int kBadParams[] = {PARAMS_OCTET_STRING, PARAMS_NULL_CONTENT,
                                   PARAMS_TWO_NULLS};
  for (size_t i = 0; i < sizeof(kBadParams) / sizeof(kBadParams[0]); i++) {
    request_spec spec;
    spec_init(&spec);
    spec.hash_params = kBadParams[i];
    CHECK(spec_refused(&spec));
  }
}

TEST(several_cert_ids) {
  request_spec spec;
  spec_init(&spec);
  spec.cert_ids = 3;
  spec.hash_oid = kOidSha256;
  spec.hash_oid_len = sizeof(kOidSha256);
  spec.hash_len = SHA256_DIGEST_LENGTH;
  spec.single_extensions = 1;
  ca_ocsp_request req;
  uint8_t *der;
  CHECK(parse_spec(&spec, &req, &der));
  CHECK_EQ_INT(req.count, 3);
  for (size_t i = 0; i < req.count && i < 3; i++) {
    const ca_ocsp_cert_id *id = &req.ids[i];
    CHECK_EQ_INT(id->hash, CA_OCSP_HASH_SHA256);
    CHECK(cbs_filled(&id->name_hash, name_hash_octet(i), 32));
    CHECK(cbs_filled(&id->key_hash, key_hash_octet(i), 32));
    const uint8_t serial[] = {0x7f, (uint8_t)i, 0xa5};
    CHECK(cbs_is(&id->serial, serial, sizeof(serial)));
    // Each element is a whole CertID SEQUENCE holding its own fields, and
    // follows the previous one.
    CHECK_EQ_INT(CBS_data(&id->element)[0], 0x30);  // SEQUENCE
    CHECK(CBS_data(&id->serial) + CBS_len(&id->serial) ==
          CBS_data(&id->element) + CBS_len(&id->element));
    if (i > 0) {
      CHECK(CBS_data(&id->element) > CBS_data(&req.ids[i - 1].element));
    }
  }
  OPENSSL_free(der);
}

TEST(cert_id_limit) {
  request_spec spec;
  spec_init(&spec);
  spec.cert_ids = CA_LIMIT_OCSP_CERT_IDS;
  ca_ocsp_request req;
  uint8_t *der;
  CHECK(parse_spec(&spec, &req, &der));
  CHECK_EQ_INT(req.count, CA_LIMIT_OCSP_CERT_IDS);
  const uint8_t last[] = {0x7f, CA_LIMIT_OCSP_CERT_IDS - 1, 0xa5};
  CHECK(
      cbs_is(&req.ids[CA_LIMIT_OCSP_CERT_IDS - 1].serial, last, sizeof(last)));
  OPENSSL_free(der);
  spec.cert_ids = CA_LIMIT_OCSP_CERT_IDS + 1;
  CHECK(spec_refused(&spec));
}

TEST(empty_request_list_refused) {
  // RFC 6960 does not forbid it, but there is nothing to answer.
  request_spec spec;
  spec_init(&spec);
  spec.cert_ids = 0;
  CHECK(spec_refused(&spec));
  spec.n_exts = 1;
  spec.exts = &kUnknownNonCritical;
  CHECK(spec_refused(&spec));
}

TEST(nonce_lengths) {
  // RFC 8954 2.1: Nonce ::= OCTET STRING (SIZE(1..32)).
  static const struct {
    size_t len;
    int accepted;
  } kCases[] = {
      {0, 0},
      {1, 1},
      {16, 1},
      {CA_LIMIT_OCSP_NONCE_BYTES, 1},
      {CA_LIMIT_OCSP_NONCE_BYTES + 1, 0},
      {100, 0},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    uint8_t value[2 + 127];
    const size_t value_len = nonce_value(value, 0x6e, kCases[i].len);
    const extension nonce = {kOidNonce, sizeof(kOidNonce), 0, value, value_len};
    request_spec spec;
    spec_init(&spec);
    spec.exts = &nonce;
    spec.n_exts = 1;
    ca_ocsp_request req;
    uint8_t *der;
    const int ok = parse_spec(&spec, &req, &der);
    CHECK_EQ_INT(ok, kCases[i].accepted);
    if (ok) {
      CHECK(req.has_nonce);
      CHECK(cbs_is(&req.nonce, value, value_len));
    } else {
      CHECK_EQ_INT(ca_err_get()->code, CA_ERR_REQUEST_MALFORMED);
    }
    OPENSSL_free(der);
  }
}

TEST(nonce_forms) {
  uint8_t good[2 + 8];
  const size_t good_len = nonce_value(good, 0x11, 8);
  request_spec spec;
  spec_init(&spec);
  // A nonce marked critical is understood, hence accepted.
  const extension critical = {kOidNonce, sizeof(kOidNonce), 1, good, good_len};
  spec.exts = &critical;
  spec.n_exts = 1;
  ca_ocsp_request req;
  uint8_t *der;
  CHECK(parse_spec(&spec, &req, &der));
  CHECK(req.has_nonce && cbs_is(&req.nonce, good, good_len));
  OPENSSL_free(der);
  // The raw octets without the inner OCTET STRING (pre-RFC 8954 clients)
  // are not a Nonce.
  static const uint8_t kRaw[16] = {0xaf, 0x9f, 0xf5, 0x9a, 0x4c, 0xdb,
                                   0x85, 0xd9, 0x07, 0x6d, 0x36, 0x1b,
                                   0xc9, 0x0e, 0x6e, 0xf8};
  const extension raw = {kOidNonce, sizeof(kOidNonce), 0, kRaw, sizeof(kRaw)};
  spec.exts = &raw;
  CHECK(spec_refused(&spec));
  // Nor is an OCTET STRING followed by anything.
  uint8_t trailing[2 + 8 + 1];
  memcpy(trailing, good, good_len);
  trailing[good_len] = 0;
  const extension extra = {kOidNonce, sizeof(kOidNonce), 0, trailing,
                           sizeof(trailing)};
  spec.exts = &extra;
  CHECK(spec_refused(&spec));
  // Two nonces leave no single value to echo.
  const extension two[] = {
      {kOidNonce, sizeof(kOidNonce), 0, good, good_len},
      {kOidNonce, sizeof(kOidNonce), 0, good, good_len},
  };
  spec.exts = two;
  spec.n_exts = 2;
  CHECK(spec_refused(&spec));
}

TEST(unknown_extensions) {
  uint8_t nonce[2 + 20];
  const size_t nonce_len = nonce_value(nonce, 0x42, 20);
  const extension non_critical[] = {
      kUnknownNonCritical,
      {kOidNonce, sizeof(kOidNonce), 0, nonce, nonce_len},
  };
  request_spec spec;
  spec_init(&spec);
  // Unknown and not critical: ignored, the nonce after it still read.
  spec.exts = non_critical;
  spec.n_exts = 2;
  ca_ocsp_request req;
  uint8_t *der;
  CHECK(parse_spec(&spec, &req, &der));
  CHECK(req.has_nonce && cbs_is(&req.nonce, nonce, nonce_len));
  OPENSSL_free(der);
  spec.n_exts = 1;
  CHECK(parse_spec(&spec, &req, &der));
  CHECK(!req.has_nonce);
  OPENSSL_free(der);
  // Unknown and critical: the request cannot be answered as asked.
  const extension critical[] = {
      {kOidNonce, sizeof(kOidNonce), 0, nonce, nonce_len},
      {kOidUnknown, sizeof(kOidUnknown), 1, kUnknownValue,
       sizeof(kUnknownValue)},
  };
  spec.exts = critical;
  spec.n_exts = 2;
  CHECK(spec_refused(&spec));
  spec.exts = critical + 1;
  spec.n_exts = 1;
  CHECK(spec_refused(&spec));
  // requestExtensions must be a SEQUENCE OF Extension.
  spec.exts = non_critical;
  spec.exts_not_sequence = 1;
  CHECK(spec_refused(&spec));
}

TEST(single_request_extensions) {
  request_spec spec;
  spec_init(&spec);
  spec.cert_ids = 2;
  // RFC 6960 4.4: unrecognized extensions are ignored unless critical, at
  // the level of one Request as at the level of the whole request.
  spec.single_extensions = 1;
  CHECK(spec_accepted(&spec));
  spec.single_extensions = 2;
  CHECK(spec_refused(&spec));
}

TEST(extension_count_limit) {
  extension exts[CA_LIMIT_OCSP_EXTENSIONS + 1];
  for (size_t i = 0; i < CA_LIMIT_OCSP_EXTENSIONS + 1; i++) {
    exts[i] = kUnknownNonCritical;
  }
  request_spec spec;
  spec_init(&spec);
  spec.exts = exts;
  spec.n_exts = CA_LIMIT_OCSP_EXTENSIONS;
  CHECK(spec_accepted(&spec));
  spec.n_exts = CA_LIMIT_OCSP_EXTENSIONS + 1;
  CHECK(spec_refused(&spec));
}

TEST(optional_fields) {
  request_spec spec;
  spec_init(&spec);
  // A requestorName (skipped: pki answers anyone).
  spec.requestor_name = 1;
  ca_ocsp_request req;
  uint8_t *der;
  CHECK(parse_spec(&spec, &req, &der));
  CHECK_EQ_INT(req.count, 1);
  CHECK_EQ_INT(req.ids[0].hash, CA_OCSP_HASH_SHA1);
  OPENSSL_free(der);
  // Only v1 exists (RFC 6960 4.1.1), and it is the DEFAULT: strict DER
  // (ca/x509/der.h) leaves it out, so an encoded version is refused, v1
  // included.
  spec.version = 1;
  CHECK(spec_refused(&spec));
  spec.version = 0;
  CHECK(spec_refused(&spec));
}

TEST(signed_request_accepted) {
  // pki answers anyone: the signature is skipped, not checked.
  uint8_t nonce[2 + 16];
  const size_t nonce_len = nonce_value(nonce, 0x33, 16);
  const extension ext = {kOidNonce, sizeof(kOidNonce), 0, nonce, nonce_len};
  request_spec spec;
  spec_init(&spec);
  spec.signature = 1;
  spec.requestor_name = 1;
  spec.exts = &ext;
  spec.n_exts = 1;
  ca_ocsp_request req;
  uint8_t *der;
  CHECK(parse_spec(&spec, &req, &der));
  CHECK_EQ_INT(req.count, 1);
  CHECK(req.has_nonce && cbs_is(&req.nonce, nonce, nonce_len));
  OPENSSL_free(der);
  // Anything after the signature is not.
  spec.outer_extra = 1;
  CHECK(spec_refused(&spec));
}

TEST(trailing_bytes_refused) {
  request_spec spec;
  spec_init(&spec);
  CHECK(spec_accepted(&spec));
  spec.trailing_bytes = 1;
  CHECK(spec_refused(&spec));
  spec_init(&spec);
  spec.outer_extra = 1;
  CHECK(spec_refused(&spec));
  spec_init(&spec);
  spec.tbs_extra = 1;
  CHECK(spec_refused(&spec));
  spec_init(&spec);
  spec.request_extra = 1;
  CHECK(spec_refused(&spec));
  spec_init(&spec);
  spec.cert_id_extra = 1;
  CHECK(spec_refused(&spec));
  // One byte after the OpenSSL request.
  uint8_t longer[sizeof(kOpensslSha1Request) + 1];
  memcpy(longer, kOpensslSha1Request, sizeof(kOpensslSha1Request));
  longer[sizeof(kOpensslSha1Request)] = 0;
  CHECK(bytes_refused(longer, sizeof(longer)));
}

TEST(empty_serial_refused) {
  request_spec spec;
  spec_init(&spec);
  spec.empty_serial = 1;
  CHECK(spec_refused(&spec));
}

TEST(every_truncation_refused) {
  // A request using every optional part, and the three from OpenSSL.
  uint8_t nonce[2 + 32];
  const size_t nonce_len = nonce_value(nonce, 0x77, 32);
  const extension exts[] = {
      kUnknownNonCritical,
      {kOidNonce, sizeof(kOidNonce), 0, nonce, nonce_len},
  };
  request_spec spec;
  spec_init(&spec);
  spec.requestor_name = 1;
  spec.cert_ids = 3;
  spec.single_extensions = 1;
  spec.exts = exts;
  spec.n_exts = 2;
  spec.signature = 1;
  uint8_t *rich = NULL;
  size_t rich_len = 0;
  CHECK(build_request(&spec, &rich, &rich_len));
  const struct {
    const uint8_t *der;
    size_t len;
  } kRequests[] = {
      {rich, rich_len},
      {kOpensslSha1Request, sizeof(kOpensslSha1Request)},
      {kOpensslNonceRequest, sizeof(kOpensslNonceRequest)},
      {kOpensslSha256Request, sizeof(kOpensslSha256Request)},
  };
  for (size_t r = 0; r < sizeof(kRequests) / sizeof(kRequests[0]); r++) {
    if (kRequests[r].der == NULL) {
      continue;
    }
    // Whole, each is accepted; every strict prefix is refused.
    ca_ocsp_request req;
    CHECK(ca_ocsp_request_parse(&req, kRequests[r].der, kRequests[r].len));
    size_t accepted_prefixes = 0;
    for (size_t len = 0; len < kRequests[r].len; len++) {
      if (!bytes_refused(kRequests[r].der, len)) {
        accepted_prefixes++;
      }
    }
    CHECK_EQ_INT(accepted_prefixes, 0);
  }
  OPENSSL_free(rich);
}

TEST(wrong_tags_refused) {
  // Each case changes one identifier octet of an OpenSSL request.
  static const struct {
    int with_nonce;
    size_t offset;
    uint8_t tag;
  } kCases[] = {
      {0, 0, 0x31},   // OCSPRequest as a SET
      {0, 2, 0xa0},   // TBSRequest as [0]
      {0, 4, 0x31},   // requestList as a SET
      {0, 4, 0xa2},   // requestList missing, [2] in its place
      {0, 6, 0x04},   // Request as an OCTET STRING
      {0, 8, 0xa0},   // CertID as [0]
      {0, 10, 0x31},  // AlgorithmIdentifier as a SET
      {0, 12, 0x04},  // hash OID as an OCTET STRING
      {0, 21, 0x03},  // issuerNameHash as a BIT STRING
      {0, 43, 0x0c},  // issuerKeyHash as a UTF8String
      {0, 65, 0x04},  // serialNumber as an OCTET STRING
      {0, 65, 0x0a},  // serialNumber as an ENUMERATED
      {1, 74, 0xa3},  // requestExtensions as [3]
      {1, 74, 0x30},  // requestExtensions without their [2]
      {1, 76, 0x31},  // Extensions as a SET
      {1, 78, 0x04},  // Extension as an OCTET STRING
      {1, 80, 0x04},  // extnID as an OCTET STRING
      {1, 91, 0x03},  // extnValue as a BIT STRING
      {1, 93, 0x03},  // the Nonce as a BIT STRING
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    uint8_t der[sizeof(kOpensslNonceRequest)];
    const uint8_t *src =
        kCases[i].with_nonce ? kOpensslNonceRequest : kOpensslSha1Request;
    const size_t len = kCases[i].with_nonce ? sizeof(kOpensslNonceRequest)
                                            : sizeof(kOpensslSha1Request);
    memcpy(der, src, len);
    CHECK(der[kCases[i].offset] != kCases[i].tag);
    der[kCases[i].offset] = kCases[i].tag;
    if (!bytes_refused(der, len)) {
      fprintf(stderr, "  accepted with octet %zu set to %02x\n",
              kCases[i].offset, kCases[i].tag);
      CHECK(!"a wrong tag was accepted");
    }
  }
  // Not DER at all.
  static const uint8_t kGarbage[] = {'G', 'E', 'T', ' ', '/', ' '};
  CHECK(bytes_refused(kGarbage, sizeof(kGarbage)));
  CHECK(bytes_refused(kGarbage, 0));
}

// fill_octet_string makes |out| one DER OCTET STRING of |len| bytes in all
// (two length octets: 260 to 65539 bytes).
static void fill_octet_string(uint8_t *out, size_t len) {
  memset(out, 0x46, len);
  out[0] = 0x04;
  out[1] = 0x82;
  out[2] = (uint8_t)((len - 4) >> 8);
  out[3] = (uint8_t)(len - 4);
}

TEST(size_limit) {
  // A request of exactly CA_LIMIT_OCSP_REQUEST_BYTES is read; one byte more
  // is refused before parsing. The size is reached with a large unknown
  // extension, whose length octets stay two bytes long in this range.
  // The extnValue must be DER: one OCTET STRING filling it (see
  // fill_octet_string).
  static uint8_t filler[CA_LIMIT_OCSP_REQUEST_BYTES];
  extension big = {kOidUnknown, sizeof(kOidUnknown), 0, filler, 15000};
  fill_octet_string(filler, big.value_len);
  request_spec spec;
  spec_init(&spec);
  spec.exts = &big;
  spec.n_exts = 1;
  uint8_t *der = NULL;
  size_t len = 0;
  CHECK(build_request(&spec, &der, &len));
  OPENSSL_free(der);
  CHECK(len < CA_LIMIT_OCSP_REQUEST_BYTES);
  big.value_len += CA_LIMIT_OCSP_REQUEST_BYTES - len;
  fill_octet_string(filler, big.value_len);
  der = NULL;
  CHECK(build_request(&spec, &der, &len));
  CHECK_EQ_INT(len, CA_LIMIT_OCSP_REQUEST_BYTES);
  ca_ocsp_request req;
  CHECK(der != NULL && ca_ocsp_request_parse(&req, der, len));
  OPENSSL_free(der);
  big.value_len++;
  fill_octet_string(filler, big.value_len);
  der = NULL;
  CHECK(build_request(&spec, &der, &len));
  CHECK_EQ_INT(len, CA_LIMIT_OCSP_REQUEST_BYTES + 1);
  CHECK(der != NULL && bytes_refused(der, len));
  OPENSSL_free(der);
}

int main(void) {
  RUN(openssl_sha1_request);
  RUN(openssl_nonce_request);
  RUN(openssl_sha256_request);
  RUN(hash_algorithms);
  RUN(several_cert_ids);
  RUN(cert_id_limit);
  RUN(empty_request_list_refused);
  RUN(nonce_lengths);
  RUN(nonce_forms);
  RUN(unknown_extensions);
  RUN(single_request_extensions);
  RUN(extension_count_limit);
  RUN(optional_fields);
  RUN(signed_request_accepted);
  RUN(trailing_bytes_refused);
  RUN(empty_serial_refused);
  RUN(every_truncation_refused);
  RUN(wrong_tags_refused);
  RUN(size_limit);
  return test_summary();
}
