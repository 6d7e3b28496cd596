#include "ca/x509/ocsp_client_msg.h"
#include "ca/x509/der.h"

#include <openssl/bytestring.h>
#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>

#include "ca/limits.h"
#include "ca/oid.h"
#include "ca/x509/asn1_time.h"
#include "ca/x509/ocsp_request.h"
#include "ca/x509/x509_verify.h"

#define BAD(...) CA_SET_ERROR(CA_ERR_OCSP_RESPONSE_INVALID, __VA_ARGS__)

// --- The request ---

// add_cert_id writes CertID ::= SEQUENCE { hashAlgorithm (SHA-1, NULL
// parameters), issuerNameHash, issuerKeyHash, serialNumber }.
static int add_cert_id(CBB *out, const ca_ocsp_query *q) {
  CBB id, alg, oid, null, name, key, serial;
  return CBB_add_asn1(out, &id, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&id, &alg, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&alg, &oid, CBS_ASN1_OBJECT) &&
         CBB_add_bytes(&oid, kOidSha1, sizeof(kOidSha1)) &&
         CBB_add_asn1(&alg, &null, CBS_ASN1_NULL) &&
         CBB_add_asn1(&id, &name, CBS_ASN1_OCTETSTRING) &&
         CBB_add_bytes(&name, q->name_hash, CA_KEY_ID_LEN) &&
         CBB_add_asn1(&id, &key, CBS_ASN1_OCTETSTRING) &&
         CBB_add_bytes(&key, q->key_hash, CA_KEY_ID_LEN) &&
         CBB_add_asn1(&id, &serial, CBS_ASN1_INTEGER) &&
         CBB_add_bytes(&serial, q->serial, q->serial_len) && CBB_flush(out);
}

// add_nonce writes requestExtensions [2] EXPLICIT Extensions holding the
// nonce: extnValue is an OCTET STRING of the Nonce OCTET STRING (RFC 8954).
static int add_nonce(CBB *tbs, const ca_ocsp_query *q) {
  CBB tag, exts, ext, oid, value, nonce;
  return CBB_add_asn1(tbs, &tag,
                      CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 2) &&
         CBB_add_asn1(&tag, &exts, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&exts, &ext, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&ext, &oid, CBS_ASN1_OBJECT) &&
         CBB_add_bytes(&oid, kOidOcspNonce, sizeof(kOidOcspNonce)) &&
         CBB_add_asn1(&ext, &value, CBS_ASN1_OCTETSTRING) &&
         CBB_add_asn1(&value, &nonce, CBS_ASN1_OCTETSTRING) &&
         CBB_add_bytes(&nonce, q->nonce, sizeof(q->nonce)) && CBB_flush(tbs);
}

int ca_ocsp_query_build(const ca_x509 *cert, const ca_x509 *issuer,
                        ca_ocsp_query *out) {
  memset(out, 0, sizeof(*out));
  CBB cbb, request, tbs, list, single;
  CBB_zero(&cbb);
  CA_ENSURE(CBS_len(&cert->serial) > 0 &&
                CBS_len(&cert->serial) <= sizeof(out->serial),
            CA_ERR_CERT_MALFORMED, "serial number too long for OCSP");
  memcpy(out->serial, CBS_data(&cert->serial), CBS_len(&cert->serial));
  out->serial_len = CBS_len(&cert->serial);
  CA_GUARD_CRYPTO(SHA1(CBS_data(&issuer->subject), CBS_len(&issuer->subject),
                       out->name_hash) != NULL);
  CA_GUARD(ca_spki_key_id(&issuer->spki, out->key_hash));
  CA_GUARD_CRYPTO(RAND_bytes(out->nonce, sizeof(out->nonce)));
  // OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest }
  // TBSRequest ::= SEQUENCE { requestList SEQUENCE OF Request,
  //   requestExtensions [2] EXPLICIT Extensions }
  // Request ::= SEQUENCE { reqCert CertID }
  CA_GUARD_CRYPTO(CBB_init(&cbb, 256));
  CA_GUARD_CRYPTO(CBB_add_asn1(&cbb, &request, CBS_ASN1_SEQUENCE));
  CA_GUARD_CRYPTO(CBB_add_asn1(&request, &tbs, CBS_ASN1_SEQUENCE));
  CA_GUARD_CRYPTO(CBB_add_asn1(&tbs, &list, CBS_ASN1_SEQUENCE));
  CA_GUARD_CRYPTO(CBB_add_asn1(&list, &single, CBS_ASN1_SEQUENCE));
  CA_GUARD_CRYPTO(add_cert_id(&single, out));
  CA_GUARD_CRYPTO(CBB_flush(&tbs));
  CA_GUARD_CRYPTO(add_nonce(&tbs, out));
  CA_GUARD_CRYPTO(CBB_finish(&cbb, &out->der, &out->der_len));
  ca_ocsp_request parsed;
  CA_ENSURE(ca_ocsp_request_parse(&parsed, out->der, out->der_len) &&
                parsed.count == 1 && parsed.has_nonce,
            CA_ERR_INTERNAL, "the OCSP request built does not parse");
  return 1;
err:
  CBB_cleanup(&cbb);
  ca_ocsp_query_cleanup(out);
  return 0;
}

void ca_ocsp_query_cleanup(ca_ocsp_query *q) {
  OPENSSL_free(q->der);
  q->der = NULL;
  q->der_len = 0;
}

// --- The response ---

// What the BasicOCSPResponse holds; views into the response.
typedef struct basic_response {
  ca_x509 signed_part;  // tbs, signature_algorithm and signature only
  CBS responder;        // the ResponderID's contents: a Name or a KeyHash
  int by_key;
  CBS responses;  // SEQUENCE OF SingleResponse contents
  CBS nonce;      // extnValue of the nonce extension
  int has_nonce;
  CBS certs;  // contents of the certs SEQUENCE; empty when absent
} basic_response;

static int parse_response_extensions(CBS *tag, basic_response *out) {
  CBS exts;
  if (!CBS_get_asn1(tag, &exts, CBS_ASN1_SEQUENCE) || CBS_len(tag) != 0) {
    return 0;
  }
  while (CBS_len(&exts) > 0) {
    CBS oid, value;
    int critical;
    if (!ca_der_get_extension(&exts, &oid, &critical, &value)) {
      return 0;
    }
    if (CBS_mem_equal(&oid, kOidOcspNonce, sizeof(kOidOcspNonce))) {
      if (out->has_nonce) {
        return 0;
      }
      out->has_nonce = 1;
      out->nonce = value;
    } else if (critical) {
      return 0;  // RFC 6960 4.4: an unknown critical extension
    }
  }
  return 1;
}

// parse_basic reads BasicOCSPResponse ::= SEQUENCE { tbsResponseData,
// signatureAlgorithm, signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF
// Certificate OPTIONAL } and ResponseData ::= SEQUENCE { version [0]
// EXPLICIT DEFAULT v1, responderID, producedAt, responses, responseExtensions
// [1] EXPLICIT OPTIONAL }.
static int parse_basic(CBS *in, basic_response *out) {
  CBS basic, data, sig_bits, certs_tag, version, responder_tag, ext_tag;
  uint8_t unused;
  int present;
  int64_t produced_at;
  memset(out, 0, sizeof(*out));
  if (!CBS_get_asn1(in, &basic, CBS_ASN1_SEQUENCE) || CBS_len(in) != 0 ||
      !CBS_get_asn1_element(&basic, &out->signed_part.tbs, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1_element(&basic, &out->signed_part.signature_algorithm,
                            CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&basic, &sig_bits, CBS_ASN1_BITSTRING) ||
      !CBS_get_u8(&sig_bits, &unused) || unused != 0 ||
      !CBS_get_optional_asn1(
          &basic, &certs_tag, &present,
          CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
      CBS_len(&basic) != 0) {
    return 0;
  }
  out->signed_part.signature = sig_bits;
  CBS_init(&out->certs, NULL, 0);
  if (present && (!CBS_get_asn1(&certs_tag, &out->certs, CBS_ASN1_SEQUENCE) ||
                  CBS_len(&certs_tag) != 0)) {
    return 0;
  }
  CBS tbs = out->signed_part.tbs;
  if (!CBS_get_asn1(&tbs, &data, CBS_ASN1_SEQUENCE) ||
      !CBS_get_optional_asn1(
          &data, &version, &present,
          CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0)) {
    return 0;
  }
  if (present) {
    uint64_t v;
    if (!CBS_get_asn1_uint64(&version, &v) || v != 0 ||
        CBS_len(&version) != 0) {
      return 0;
    }
  }
  // ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash }
  if (CBS_peek_asn1_tag(&data,
                        CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1)) {
    if (!CBS_get_asn1(&data, &responder_tag,
                      CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1) ||
        !CBS_get_asn1_element(&responder_tag, &out->responder,
                              CBS_ASN1_SEQUENCE) ||
        CBS_len(&responder_tag) != 0) {
      return 0;
    }
  } else {
    if (!CBS_get_asn1(&data, &responder_tag,
                      CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 2) ||
        !CBS_get_asn1(&responder_tag, &out->responder, CBS_ASN1_OCTETSTRING) ||
        CBS_len(&responder_tag) != 0 ||
        CBS_len(&out->responder) != CA_KEY_ID_LEN) {
      return 0;
    }
    out->by_key = 1;
  }
  if (!CBS_peek_asn1_tag(&data, CBS_ASN1_GENERALIZEDTIME) ||
      !ca_time_parse(&data, &produced_at) ||
      !CBS_get_asn1(&data, &out->responses, CBS_ASN1_SEQUENCE) ||
      !CBS_get_optional_asn1(
          &data, &ext_tag, &present,
          CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1) ||
      CBS_len(&data) != 0) {
    return 0;
  }
  return !present || parse_response_extensions(&ext_tag, out);
}

// parse_outer reads OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED,
// responseBytes [0] EXPLICIT SEQUENCE { responseType, response OCTET
// STRING } } down to the BasicOCSPResponse.
static int parse_outer(const uint8_t *der, size_t der_len, CBS *out_basic) {
  CBS in, response, status, bytes_tag, bytes, type;
  uint8_t code;
  CA_ENSURE_RETURN(
      der_len <= CA_LIMIT_OCSP_RESPONSE_BYTES, CA_ERR_OCSP_RESPONSE_INVALID,
      "OCSP response larger than %d bytes", CA_LIMIT_OCSP_RESPONSE_BYTES);
  CBS_init(&in, der, der_len);
  CA_ENSURE_RETURN(CBS_get_asn1(&in, &response, CBS_ASN1_SEQUENCE) &&
                       CBS_len(&in) == 0 &&
                       CBS_get_asn1(&response, &status, CBS_ASN1_ENUMERATED) &&
                       CBS_get_u8(&status, &code) && CBS_len(&status) == 0,
                   CA_ERR_OCSP_RESPONSE_INVALID, "not an OCSP response");
  CA_ENSURE_RETURN(code == CA_OCSP_SUCCESSFUL, CA_ERR_OCSP_RESPONSE_INVALID,
                   "the responder answered responseStatus %u (%s)", code,
                   code == CA_OCSP_UNAUTHORIZED        ? "unauthorized"
                   : code == CA_OCSP_TRY_LATER         ? "tryLater"
                   : code == CA_OCSP_MALFORMED_REQUEST ? "malformedRequest"
                                                       : "an error");
  CA_ENSURE_RETURN(
      CBS_get_asn1(&response, &bytes_tag,
                   CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
          CBS_len(&response) == 0 &&
          CBS_get_asn1(&bytes_tag, &bytes, CBS_ASN1_SEQUENCE) &&
          CBS_len(&bytes_tag) == 0 &&
          CBS_get_asn1(&bytes, &type, CBS_ASN1_OBJECT) &&
          CBS_mem_equal(&type, kOidOcspBasic, sizeof(kOidOcspBasic)) &&
          CBS_get_asn1(&bytes, out_basic, CBS_ASN1_OCTETSTRING) &&
          CBS_len(&bytes) == 0,
      CA_ERR_OCSP_RESPONSE_INVALID, "not a basic OCSP response");
  return 1;
}

// --- Who signed ---

static int has_ocsp_signing(const ca_x509 *cert) {
  CBS value, list, oid;
  int critical;
  if (!ca_x509_find_extension(cert, kOidExtKeyUsage, sizeof(kOidExtKeyUsage),
                              &value, &critical) ||
      !CBS_get_asn1(&value, &list, CBS_ASN1_SEQUENCE)) {
    return 0;
  }
  while (CBS_len(&list) > 0) {
    if (!CBS_get_asn1(&list, &oid, CBS_ASN1_OBJECT)) {
      return 0;
    }
    if (CBS_mem_equal(&oid, kOidKpOcspSigning, sizeof(kOidKpOcspSigning))) {
      return 1;
    }
  }
  return 0;
}

static int names_responder(const basic_response *b, const ca_x509 *cert) {
  if (!b->by_key) {
    return CBS_mem_equal(&b->responder, CBS_data(&cert->subject),
                         CBS_len(&cert->subject));
  }
  uint8_t key_id[CA_KEY_ID_LEN];
  return ca_spki_key_id(&cert->spki, key_id) &&
         CBS_mem_equal(&b->responder, key_id, sizeof(key_id));
}

static EVP_PKEY *public_key(const ca_x509 *cert) {
  CBS spki = cert->spki;
  EVP_PKEY *key = EVP_parse_public_key(&spki);
  if (key == NULL) {
    ERR_clear_error();
    BAD("OCSP response: a signer's public key does not parse");
  }
  return key;
}

// find_delegate looks in the response's certificates for the one the
// ResponderID names and checks it as RFC 6960 4.2.2.2 asks of a delegated
// responder. It sets |*out_key| (EVP_PKEY_free) to its key.
static int find_delegate(const basic_response *b, const ca_x509 *issuer,
                         EVP_PKEY *issuer_key, int64_t now, int64_t skew,
                         EVP_PKEY **out_key) {
  CBS certs = b->certs;
  size_t count = 0;
  while (CBS_len(&certs) > 0) {
    CBS element;
    ca_x509 cert;
    CA_ENSURE_RETURN(
        ++count <= CA_LIMIT_OCSP_RESPONSE_CERTS &&
            CBS_get_asn1_element(&certs, &element, CBS_ASN1_SEQUENCE) &&
            ca_x509_parse(&cert, CBS_data(&element), CBS_len(&element)),
        CA_ERR_OCSP_RESPONSE_INVALID, "OCSP response: bad certificates");
    if (!names_responder(b, &cert)) {
      continue;
    }
    CA_ENSURE_RETURN(
        CBS_mem_equal(&cert.issuer, CBS_data(&issuer->subject),
                      CBS_len(&issuer->subject)) &&
            ca_x509_verify_signed_by(&cert, issuer_key),
        CA_ERR_OCSP_RESPONSE_INVALID,
        "OCSP response: the responder's certificate was not issued by the "
        "certificate's CA (RFC 6960 4.2.2.2)");
    CA_ENSURE_RETURN(has_ocsp_signing(&cert), CA_ERR_OCSP_RESPONSE_INVALID,
                     "OCSP response: the responder's certificate lacks "
                     "id-kp-OCSPSigning (RFC 6960 4.2.2.2)");
    CA_ENSURE_RETURN(
        cert.not_before <= now + skew && cert.not_after >= now - skew,
        CA_ERR_OCSP_RESPONSE_INVALID,
        "OCSP response: the responder's certificate is not "
        "valid now");
    *out_key = public_key(&cert);
    return *out_key != NULL;
  }
  BAD("OCSP response: signed by neither the certificate's CA nor a "
      "responder it authorized (RFC 6960 4.2.2.2)");
  return 0;
}

static int verify_signature(const basic_response *b, const ca_x509 *issuer,
                            int64_t now, int64_t skew, int *out_delegated) {
  int ok = 0;
  EVP_PKEY *issuer_key = public_key(issuer), *delegate = NULL;
  CA_GUARD_PTR(issuer_key);
  EVP_PKEY *signer = issuer_key;
  *out_delegated = !names_responder(b, issuer);
  if (*out_delegated) {
    CA_GUARD(find_delegate(b, issuer, issuer_key, now, skew, &delegate));
    signer = delegate;
  }
  CA_ENSURE(ca_x509_verify_signed_by(&b->signed_part, signer),
            CA_ERR_OCSP_RESPONSE_INVALID,
            "OCSP response: the signature does not verify");
  ok = 1;
err:
  EVP_PKEY_free(issuer_key);
  EVP_PKEY_free(delegate);
  return ok;
}

// --- The answer about the certificate ---

static int cert_id_matches(CBS *id, const ca_ocsp_query *q) {
  CBS alg, oid, name, key, serial;
  if (!CBS_get_asn1(id, &alg, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&alg, &oid, CBS_ASN1_OBJECT) ||
      !CBS_get_asn1(id, &name, CBS_ASN1_OCTETSTRING) ||
      !CBS_get_asn1(id, &key, CBS_ASN1_OCTETSTRING) ||
      !CBS_get_asn1(id, &serial, CBS_ASN1_INTEGER) || CBS_len(id) != 0) {
    return -1;
  }
  // pki asks with SHA-1; a responder answers with the CertID asked.
  return CBS_mem_equal(&oid, kOidSha1, sizeof(kOidSha1)) &&
         CBS_mem_equal(&name, q->name_hash, sizeof(q->name_hash)) &&
         CBS_mem_equal(&key, q->key_hash, sizeof(q->key_hash)) &&
         CBS_mem_equal(&serial, q->serial, q->serial_len);
}

static int parse_status(CBS *single, ca_ocsp_answer *out) {
  CBS status, info, reason_tag;
  unsigned tag;
  int present;
  if (!CBS_get_any_asn1(single, &status, &tag)) {
    return 0;
  }
  out->reason = -1;
  switch (tag) {
    case CBS_ASN1_CONTEXT_SPECIFIC | 0:
      out->status = CA_OCSP_GOOD;
      return CBS_len(&status) == 0;
    case CBS_ASN1_CONTEXT_SPECIFIC | 2:
      out->status = CA_OCSP_UNKNOWN;
      return CBS_len(&status) == 0;
    case CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1:
      out->status = CA_OCSP_REVOKED;
      info = status;
      if (!CBS_peek_asn1_tag(&info, CBS_ASN1_GENERALIZEDTIME) ||
          !ca_time_parse(&info, &out->revoked_at) ||
          !CBS_get_optional_asn1(
              &info, &reason_tag, &present,
              CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
          CBS_len(&info) != 0) {
        return 0;
      }
      if (present) {
        CBS reason;
        uint8_t value;
        if (!CBS_get_asn1(&reason_tag, &reason, CBS_ASN1_ENUMERATED) ||
            !CBS_get_u8(&reason, &value) || CBS_len(&reason) != 0 ||
            CBS_len(&reason_tag) != 0 || value > 10) {
          return 0;
        }
        out->reason = value;
      }
      return 1;
    default:
      return 0;
  }
}

// find_single reads the SingleResponses and fills |out| from the one about
// the certificate asked for.
static int find_single(const basic_response *b, const ca_ocsp_query *q,
                       ca_ocsp_answer *out) {
  CBS list = b->responses;
  size_t count = 0;
  while (CBS_len(&list) > 0) {
    CBS single, id, next_tag;
    int present;
    CA_ENSURE_RETURN(++count <= CA_LIMIT_OCSP_CERT_IDS &&
                         CBS_get_asn1(&list, &single, CBS_ASN1_SEQUENCE) &&
                         CBS_get_asn1(&single, &id, CBS_ASN1_SEQUENCE),
                     CA_ERR_OCSP_RESPONSE_INVALID,
                     "OCSP response: bad SingleResponse");
    const int match = cert_id_matches(&id, q);
    CA_ENSURE_RETURN(match >= 0, CA_ERR_OCSP_RESPONSE_INVALID,
                     "OCSP response: bad CertID");
    if (!match) {
      continue;
    }
    out->next_update = 0;
    CA_ENSURE_RETURN(parse_status(&single, out) &&
                         CBS_peek_asn1_tag(&single, CBS_ASN1_GENERALIZEDTIME) &&
                         ca_time_parse(&single, &out->this_update) &&
                         CBS_get_optional_asn1(&single, &next_tag, &present,
                                               CBS_ASN1_CONTEXT_SPECIFIC |
                                                   CBS_ASN1_CONSTRUCTED | 0),
                     CA_ERR_OCSP_RESPONSE_INVALID,
                     "OCSP response: bad SingleResponse");
    if (present) {
      CA_ENSURE_RETURN(CBS_peek_asn1_tag(&next_tag, CBS_ASN1_GENERALIZEDTIME) &&
                           ca_time_parse(&next_tag, &out->next_update) &&
                           CBS_len(&next_tag) == 0,
                       CA_ERR_OCSP_RESPONSE_INVALID,
                       "OCSP response: bad nextUpdate");
    }
    // singleExtensions [1] are not read: none that pki needs, and RFC 6960
    // defines none that is critical.
    return 1;
  }
  BAD("OCSP response: no answer about the certificate asked for (CertID "
      "mismatch)");
  return 0;
}

static int check_fresh(const ca_ocsp_answer *a, int64_t now, int64_t skew,
                       int64_t max_age) {
  CA_ENSURE_RETURN(a->this_update <= now + skew, CA_ERR_OCSP_RESPONSE_INVALID,
                   "OCSP response: thisUpdate is in the future");
  if (a->next_update != 0) {
    CA_ENSURE_RETURN(a->next_update >= now - skew, CA_ERR_OCSP_RESPONSE_INVALID,
                     "OCSP response: stale (nextUpdate has passed)");
    return 1;
  }
  CA_ENSURE_RETURN(a->this_update >= now - max_age,
                   CA_ERR_OCSP_RESPONSE_INVALID,
                   "OCSP response: stale (no nextUpdate and thisUpdate older "
                   "than %lld s)",
                   (long long)max_age);
  return 1;
}

static int check_nonce(const basic_response *b, const ca_ocsp_query *q,
                       ca_ocsp_answer *out) {
  out->nonce_echoed = 0;
  if (!b->has_nonce) {
    return 1;
  }
  CBS value = b->nonce, nonce;
  CA_ENSURE_RETURN(CBS_get_asn1(&value, &nonce, CBS_ASN1_OCTETSTRING) &&
                       CBS_len(&value) == 0 &&
                       CBS_mem_equal(&nonce, q->nonce, sizeof(q->nonce)),
                   CA_ERR_OCSP_RESPONSE_INVALID,
                   "OCSP response: the nonce is not the one sent");
  out->nonce_echoed = 1;
  return 1;
}

int ca_ocsp_answer_verify(const uint8_t *der, size_t der_len,
                          const ca_ocsp_query *q, const ca_x509 *issuer,
                          int64_t now, int64_t skew, int64_t max_age,
                          ca_ocsp_answer *out) {
  memset(out, 0, sizeof(*out));
  CBS basic_der;
  basic_response b;
  CA_GUARD_RETURN(parse_outer(der, der_len, &basic_der));
  CA_ENSURE_RETURN(parse_basic(&basic_der, &b), CA_ERR_OCSP_RESPONSE_INVALID,
                   "OCSP response: bad BasicOCSPResponse");
  CA_GUARD_RETURN(check_nonce(&b, q, out));
  CA_GUARD_RETURN(verify_signature(&b, issuer, now, skew, &out->delegated));
  CA_GUARD_RETURN(find_single(&b, q, out));
  return check_fresh(out, now, skew, max_age);
}
