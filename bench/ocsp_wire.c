#include "bench/ocsp_wire.h"

#include <openssl/digest.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

static const uint8_t kOidSha1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};
static const uint8_t kOidOcspBasic[] = {0x2b, 0x06, 0x01, 0x05, 0x05,
                                        0x07, 0x30, 0x01, 0x01};
static const uint8_t kOidOcspNonce[] = {0x2b, 0x06, 0x01, 0x05, 0x05,
                                        0x07, 0x30, 0x01, 0x02};

typedef struct sig_alg {
  uint8_t oid[9];
  size_t oid_len;
  const EVP_MD *(*md)(void);
} sig_alg;

static const sig_alg kSigAlgs[] = {
    // sha{256,384,512}WithRSAEncryption (RFC 4055)
    {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b}, 9, EVP_sha256},
    {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c}, 9, EVP_sha384},
    {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d}, 9, EVP_sha512},
    // ecdsa-with-SHA{256,384,512} (RFC 5758)
    {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}, 8, EVP_sha256},
    {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}, 8, EVP_sha384},
    {{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04}, 8, EVP_sha512},
};

int ocsp_wire_cert_parse(const uint8_t *der, size_t len, ocsp_wire_cert *out) {
  CBS in, cert, tbs, spki, alg;
  uint8_t unused;
  CBS_init(&in, der, len);
  // Certificate ::= SEQUENCE { tbsCertificate TBSCertificate, ... }
  // TBSCertificate ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1,
  //   serialNumber, signature, issuer, validity, subject,
  //   subjectPublicKeyInfo, ... }
  if (!CBS_get_asn1(&in, &cert, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&cert, &tbs, CBS_ASN1_SEQUENCE) ||
      !CBS_get_optional_asn1(
          &tbs, NULL, NULL,
          CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
      !CBS_get_asn1(&tbs, &out->serial, CBS_ASN1_INTEGER) ||
      !CBS_get_asn1(&tbs, NULL, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&tbs, NULL, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&tbs, NULL, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1_element(&tbs, &out->subject, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1_element(&tbs, &out->spki, CBS_ASN1_SEQUENCE)) {
    return 0;
  }
  spki = out->spki;
  return CBS_get_asn1(&spki, &spki, CBS_ASN1_SEQUENCE) &&
         CBS_get_asn1(&spki, &alg, CBS_ASN1_SEQUENCE) &&
         CBS_get_asn1(&spki, &out->key, CBS_ASN1_BITSTRING) &&
         CBS_get_u8(&out->key, &unused) && unused == 0;
}

int ocsp_wire_issuer_init(ocsp_wire_issuer *out, const uint8_t *ca_der,
                          size_t ca_len) {
  ocsp_wire_cert ca;
  memset(out, 0, sizeof(*out));
  if (!ocsp_wire_cert_parse(ca_der, ca_len, &ca)) {
    return 0;
  }
  // RFC 6960 4.1.1: issuerNameHash is the hash of the issuer's DN (the CA's
  // subject), issuerKeyHash the hash of the value of its subjectPublicKey.
  SHA1(CBS_data(&ca.subject), CBS_len(&ca.subject), out->name_hash);
  SHA1(CBS_data(&ca.key), CBS_len(&ca.key), out->key_hash);
  CBS spki = ca.spki;
  out->pub = EVP_parse_public_key(&spki);
  return out->pub != NULL;
}

void ocsp_wire_issuer_cleanup(ocsp_wire_issuer *issuer) {
  EVP_PKEY_free(issuer->pub);
  issuer->pub = NULL;
}

int ocsp_wire_query_build(const ocsp_wire_issuer *issuer, const uint8_t *serial,
                          size_t serial_len, int nonce, ocsp_wire_query *out) {
  CBB cbb, id, alg, oid, octets, integer, req, tbs, list, one, ext_tag, exts,
      ext, value, inner;
  uint8_t *der = NULL;
  size_t len;
  int ok = 0;
  memset(out, 0, sizeof(*out));
  // CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash
  //   OCTET STRING, issuerKeyHash OCTET STRING, serialNumber INTEGER }
  if (!CBB_init(&cbb, 128) || !CBB_add_asn1(&cbb, &id, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&id, &alg, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&alg, &oid, CBS_ASN1_OBJECT) ||
      !CBB_add_bytes(&oid, kOidSha1, sizeof(kOidSha1)) ||
      !CBB_add_asn1(&alg, &octets, CBS_ASN1_NULL) ||
      !CBB_add_asn1(&id, &octets, CBS_ASN1_OCTETSTRING) ||
      !CBB_add_bytes(&octets, issuer->name_hash, SHA_DIGEST_LENGTH) ||
      !CBB_add_asn1(&id, &octets, CBS_ASN1_OCTETSTRING) ||
      !CBB_add_bytes(&octets, issuer->key_hash, SHA_DIGEST_LENGTH) ||
      !CBB_add_asn1(&id, &integer, CBS_ASN1_INTEGER) ||
      !CBB_add_bytes(&integer, serial, serial_len) ||
      !CBB_finish(&cbb, &der, &len) || len > sizeof(out->cert_id)) {
    goto err;
  }
  memcpy(out->cert_id, der, len);
  out->cert_id_len = len;
  OPENSSL_free(der);
  der = NULL;
  out->has_nonce = nonce;
  if (nonce && !RAND_bytes(out->nonce, sizeof(out->nonce))) {
    goto err;
  }
  // OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest }
  // TBSRequest ::= SEQUENCE { requestList SEQUENCE OF Request,
  //   requestExtensions [2] EXPLICIT Extensions OPTIONAL }
  // Request ::= SEQUENCE { reqCert CertID }
  if (!CBB_init(&cbb, 256) || !CBB_add_asn1(&cbb, &req, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&req, &tbs, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&tbs, &list, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&list, &one, CBS_ASN1_SEQUENCE) ||
      !CBB_add_bytes(&one, out->cert_id, out->cert_id_len)) {
    goto err;
  }
  // The nonce extension (RFC 8954): extnValue is an OCTET STRING holding
  // the DER of an OCTET STRING of the nonce.
  if (nonce &&
      (!CBB_add_asn1(&tbs, &ext_tag,
                     CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 2) ||
       !CBB_add_asn1(&ext_tag, &exts, CBS_ASN1_SEQUENCE) ||
       !CBB_add_asn1(&exts, &ext, CBS_ASN1_SEQUENCE) ||
       !CBB_add_asn1(&ext, &oid, CBS_ASN1_OBJECT) ||
       !CBB_add_bytes(&oid, kOidOcspNonce, sizeof(kOidOcspNonce)) ||
       !CBB_add_asn1(&ext, &value, CBS_ASN1_OCTETSTRING) ||
       !CBB_add_asn1(&value, &inner, CBS_ASN1_OCTETSTRING) ||
       !CBB_add_bytes(&inner, out->nonce, sizeof(out->nonce)))) {
    goto err;
  }
  if (!CBB_finish(&cbb, &der, &len) || len > sizeof(out->der)) {
    goto err;
  }
  memcpy(out->der, der, len);
  out->der_len = len;
  ok = 1;
err:
  if (!ok) {
    CBB_cleanup(&cbb);
  }
  OPENSSL_free(der);
  return ok;
}

int ocsp_wire_response_parse(const uint8_t *der, size_t len,
                             ocsp_wire_response *out, const char **why) {
  CBS in, resp, status, bytes_tag, bytes, type, octets, basic, alg, certs, data,
      responses, single, skip, exts;
  uint8_t status_value, unused;
  unsigned tag;
  int present;
  memset(out, 0, sizeof(*out));
  CBS_init(&in, der, len);
  // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED,
  //   responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
  *why = "not an OCSPResponse";
  if (!CBS_get_asn1(&in, &resp, CBS_ASN1_SEQUENCE) || CBS_len(&in) != 0 ||
      !CBS_get_asn1(&resp, &status, CBS_ASN1_ENUMERATED) ||
      !CBS_get_u8(&status, &status_value) || CBS_len(&status) != 0) {
    return 0;
  }
  if (status_value != 0) {
    *why = status_value == 1   ? "responseStatus malformedRequest"
           : status_value == 2 ? "responseStatus internalError"
           : status_value == 3 ? "responseStatus tryLater"
           : status_value == 6 ? "responseStatus unauthorized"
                               : "responseStatus not successful";
    return 0;
  }
  // ResponseBytes ::= SEQUENCE { responseType OID, response OCTET STRING }
  // BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm,
  //   signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate
  //   OPTIONAL }
  *why = "not a BasicOCSPResponse";
  if (!CBS_get_asn1(&resp, &bytes_tag,
                    CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
      !CBS_get_asn1(&bytes_tag, &bytes, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&bytes, &type, CBS_ASN1_OBJECT) ||
      !CBS_mem_equal(&type, kOidOcspBasic, sizeof(kOidOcspBasic)) ||
      !CBS_get_asn1(&bytes, &octets, CBS_ASN1_OCTETSTRING) ||
      !CBS_get_asn1(&octets, &basic, CBS_ASN1_SEQUENCE) ||
      CBS_len(&octets) != 0 ||
      !CBS_get_asn1_element(&basic, &out->tbs, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&basic, &alg, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&alg, &out->sig_alg, CBS_ASN1_OBJECT) ||
      !CBS_get_asn1(&basic, &out->signature, CBS_ASN1_BITSTRING) ||
      !CBS_get_u8(&out->signature, &unused) || unused != 0 ||
      !CBS_get_optional_asn1(
          &basic, &certs, &present,
          CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
      (present &&
       (!CBS_get_asn1(&certs, &certs, CBS_ASN1_SEQUENCE) ||
        !CBS_get_asn1_element(&certs, &out->signer, CBS_ASN1_SEQUENCE)))) {
    return 0;
  }
  // ResponseData ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1,
  //   responderID ResponderID, producedAt GeneralizedTime,
  //   responses SEQUENCE OF SingleResponse, ... }
  *why = "malformed ResponseData";
  data = out->tbs;
  if (!CBS_get_asn1(&data, &data, CBS_ASN1_SEQUENCE) ||
      !CBS_get_optional_asn1(
          &data, NULL, NULL,
          CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
      !CBS_get_any_asn1(&data, &skip, &tag) ||
      !CBS_get_asn1(&data, NULL, CBS_ASN1_GENERALIZEDTIME) ||
      !CBS_get_asn1(&data, &responses, CBS_ASN1_SEQUENCE)) {
    return 0;
  }
  // SingleResponse ::= SEQUENCE { certID CertID, certStatus CertStatus, ...}
  // CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT
  //   RevokedInfo, unknown [2] IMPLICIT UnknownInfo }
  *why = "not exactly one SingleResponse";
  if (!CBS_get_asn1(&responses, &single, CBS_ASN1_SEQUENCE) ||
      CBS_len(&responses) != 0 ||
      !CBS_get_asn1_element(&single, &out->cert_id, CBS_ASN1_SEQUENCE) ||
      !CBS_get_any_asn1(&single, &skip, &tag)) {
    return 0;
  }
  if (tag == (CBS_ASN1_CONTEXT_SPECIFIC | 0)) {
    out->cert_status = OCSP_WIRE_GOOD;
  } else if (tag == (CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1)) {
    out->cert_status = OCSP_WIRE_REVOKED;
  } else if (tag == (CBS_ASN1_CONTEXT_SPECIFIC | 2)) {
    out->cert_status = OCSP_WIRE_UNKNOWN;
  } else {
    *why = "unknown certStatus";
    return 0;
  }
  // ResponseData: ... responseExtensions [1] EXPLICIT Extensions OPTIONAL
  *why = "malformed responseExtensions";
  if (!CBS_get_optional_asn1(
          &data, &exts, &present,
          CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1) ||
      (present && !CBS_get_asn1(&exts, &exts, CBS_ASN1_SEQUENCE))) {
    return 0;
  }
  while (present && CBS_len(&exts) > 0) {
    // Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE,
    //   extnValue OCTET STRING }
    CBS ext, oid, value;
    if (!CBS_get_asn1(&exts, &ext, CBS_ASN1_SEQUENCE) ||
        !CBS_get_asn1(&ext, &oid, CBS_ASN1_OBJECT) ||
        !CBS_get_optional_asn1(&ext, NULL, NULL, CBS_ASN1_BOOLEAN) ||
        !CBS_get_asn1(&ext, &value, CBS_ASN1_OCTETSTRING)) {
      return 0;
    }
    if (CBS_mem_equal(&oid, kOidOcspNonce, sizeof(kOidOcspNonce))) {
      out->has_nonce = 1;
      out->nonce = value;
    }
  }
  *why = NULL;
  return 1;
}

int ocsp_wire_match(const ocsp_wire_response *resp, const ocsp_wire_query *q,
                    const uint8_t *nonce, unsigned want, const char **why) {
  if (!CBS_mem_equal(&resp->cert_id, q->cert_id, q->cert_id_len)) {
    *why = "the SingleResponse is about another CertID";
    return 0;
  }
  if (resp->cert_status != want) {
    static const char *const kNames[] = {"good", "revoked", "unknown"};
    static _Thread_local char text[64];
    snprintf(text, sizeof(text), "certStatus %s, expected %s",
             kNames[resp->cert_status], want <= 2 ? kNames[want] : "?");
    *why = text;
    return 0;
  }
  // RFC 8954 2.1: the response's nonce extnValue is the request's.
  if (nonce != NULL) {
    uint8_t inner[2 + OCSP_WIRE_NONCE_LEN] = {CBS_ASN1_OCTETSTRING,
                                              OCSP_WIRE_NONCE_LEN};
    memcpy(inner + 2, nonce, OCSP_WIRE_NONCE_LEN);
    if (!resp->has_nonce ||
        !CBS_mem_equal(&resp->nonce, inner, sizeof(inner))) {
      *why = "the nonce is not echoed";
      return 0;
    }
  } else if (resp->has_nonce) {
    *why = "a nonce in the answer to a request without one";
    return 0;
  }
  *why = NULL;
  return 1;
}

const EVP_MD *ocsp_wire_digest(const ocsp_wire_response *resp) {
  for (size_t i = 0; i < sizeof(kSigAlgs) / sizeof(kSigAlgs[0]); i++) {
    if (CBS_mem_equal(&resp->sig_alg, kSigAlgs[i].oid, kSigAlgs[i].oid_len)) {
      return kSigAlgs[i].md();
    }
  }
  return NULL;
}

int ocsp_wire_verify(const ocsp_wire_response *resp, const EVP_MD *md,
                     EVP_PKEY *pub) {
  EVP_MD_CTX ctx;
  EVP_MD_CTX_init(&ctx);
  const int ok = EVP_DigestVerifyInit(&ctx, NULL, md, NULL, pub) &&
                 EVP_DigestVerify(&ctx, CBS_data(&resp->signature),
                                  CBS_len(&resp->signature),
                                  CBS_data(&resp->tbs), CBS_len(&resp->tbs));
  EVP_MD_CTX_cleanup(&ctx);
  return ok;
}

int ocsp_wire_check(const ocsp_wire_issuer *issuer, const ocsp_wire_query *q,
                    unsigned want, int verify, const uint8_t *der, size_t len,
                    const char **why) {
  ocsp_wire_response resp;
  if (!ocsp_wire_response_parse(der, len, &resp, why) ||
      !ocsp_wire_match(&resp, q, q->has_nonce ? q->nonce : NULL, want, why)) {
    return 0;
  }
  if (!verify) {
    return 1;
  }
  const EVP_MD *md = ocsp_wire_digest(&resp);
  if (md == NULL) {
    *why = "unknown signature algorithm";
    return 0;
  }
  const int ok = ocsp_wire_verify(&resp, md, issuer->pub);
  *why = ok ? NULL : "the signature does not verify with the issuing CA's key";
  return ok;
}
