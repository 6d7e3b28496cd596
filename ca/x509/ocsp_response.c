#include "ca/x509/ocsp_response.h"

#include <stdio.h>
#include <string.h>

#include "ca/oid.h"
#include "ca/x509/asn1_time.h"
#include "ca/x509/signer.h"

void ca_ocsp_error_response(ca_ocsp_status status, uint8_t out[5]) {
  // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED }
  out[0] = 0x30;
  out[1] = 0x03;
  out[2] = 0x0a;
  out[3] = 0x01;
  out[4] = (uint8_t)status;
}

// add_generalized_time writes GeneralizedTime, which OCSP uses for every
// time whatever the year ("YYYYMMDDHHMMSSZ", RFC 5280 4.1.2.5.2 form).
static int add_generalized_time(CBB *out, int64_t t) {
  char text[21];
  if (!ca_time_format(t, text)) {
    return 0;
  }
  // "YYYY-MM-DDTHH:MM:SSZ" -> "YYYYMMDDHHMMSSZ"
  char compact[16];
  snprintf(compact, sizeof(compact), "%.4s%.2s%.2s%.2s%.2s%.2sZ", text,
           text + 5, text + 8, text + 11, text + 14, text + 17);
  CBB time;
  return CBB_add_asn1(out, &time, CBS_ASN1_GENERALIZEDTIME) &&
         CBB_add_bytes(&time, (const uint8_t *)compact, 15) && CBB_flush(out);
}

// SingleResponse ::= SEQUENCE { certID, certStatus, thisUpdate,
//   nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL, ... }
// CertStatus ::= CHOICE { good [0] IMPLICIT NULL,
//   revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT UnknownInfo }
static int add_single(CBB *responses, const ca_ocsp_single *s) {
  CBB single, status, next, reason_tag, reason;
  if (!CBB_add_asn1(responses, &single, CBS_ASN1_SEQUENCE) ||
      !CBB_add_bytes(&single, CBS_data(&s->cert_id), CBS_len(&s->cert_id))) {
    return 0;
  }
  switch (s->status) {
    case CA_OCSP_GOOD:
      if (!CBB_add_asn1(&single, &status, CBS_ASN1_CONTEXT_SPECIFIC | 0)) {
        return 0;
      }
      break;
    case CA_OCSP_REVOKED:
      // RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime,
      //   revocationReason [0] EXPLICIT CRLReason OPTIONAL }
      if (!CBB_add_asn1(&single, &status,
                        CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1) ||
          !add_generalized_time(&status, s->revoked_at) ||
          !CBB_add_asn1(&status, &reason_tag,
                        CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
          !CBB_add_asn1(&reason_tag, &reason, CBS_ASN1_ENUMERATED) ||
          !CBB_add_u8(&reason, (uint8_t)s->reason)) {
        return 0;
      }
      break;
    case CA_OCSP_UNKNOWN:
      if (!CBB_add_asn1(&single, &status, CBS_ASN1_CONTEXT_SPECIFIC | 2)) {
        return 0;
      }
      break;
  }
  if (!CBB_flush(&single) || !add_generalized_time(&single, s->this_update) ||
      !CBB_add_asn1(&single, &next,
                    CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) ||
      !add_generalized_time(&next, s->next_update)) {
    return 0;
  }
  return CBB_flush(responses);
}

static int add_nonce(CBB *data, const CBS *nonce) {
  CBB tag, exts, ext, oid, value;
  // responseExtensions [1] EXPLICIT Extensions: the request's nonce
  // extnValue, unchanged (RFC 8954 2.1).
  return CBB_add_asn1(data, &tag,
                      CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1) &&
         CBB_add_asn1(&tag, &exts, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&exts, &ext, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&ext, &oid, CBS_ASN1_OBJECT) &&
         CBB_add_bytes(&oid, kOidOcspNonce, sizeof(kOidOcspNonce)) &&
         CBB_add_asn1(&ext, &value, CBS_ASN1_OCTETSTRING) &&
         CBB_add_bytes(&value, CBS_data(nonce), CBS_len(nonce)) &&
         CBB_flush(data);
}

int ca_ocsp_response_build(const ca_ocsp_signer *signer,
                           const ca_ocsp_single *singles, size_t n,
                           const CBS *nonce, int64_t produced_at, uint8_t **out,
                           size_t *out_len) {
  CBB cbb, response, status, bytes_tag, bytes, type, octets, basic, data,
      responder, key_hash, list, certs_tag, certs;
  CBB_zero(&cbb);
  CA_GUARD_CRYPTO(CBB_init(&cbb, 1024 + n * 128 + signer->cert_len));
  // OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED,
  //   responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
  // ResponseBytes ::= SEQUENCE { responseType OID, response OCTET STRING }
  CA_GUARD_CRYPTO(CBB_add_asn1(&cbb, &response, CBS_ASN1_SEQUENCE));
  CA_GUARD_CRYPTO(CBB_add_asn1(&response, &status, CBS_ASN1_ENUMERATED));
  CA_GUARD_CRYPTO(CBB_add_u8(&status, CA_OCSP_SUCCESSFUL));
  CA_GUARD_CRYPTO(
      CBB_add_asn1(&response, &bytes_tag,
                   CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0));
  CA_GUARD_CRYPTO(CBB_add_asn1(&bytes_tag, &bytes, CBS_ASN1_SEQUENCE));
  CA_GUARD_CRYPTO(CBB_add_asn1(&bytes, &type, CBS_ASN1_OBJECT));
  CA_GUARD_CRYPTO(CBB_add_bytes(&type, kOidOcspBasic, sizeof(kOidOcspBasic)));
  CA_GUARD_CRYPTO(CBB_add_asn1(&bytes, &octets, CBS_ASN1_OCTETSTRING));
  // BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm,
  //   signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate }
  CA_GUARD_CRYPTO(CBB_add_asn1(&octets, &basic, CBS_ASN1_SEQUENCE));
  // ResponseData ::= SEQUENCE { version [0] EXPLICIT DEFAULT v1 (omitted),
  //   responderID, producedAt, responses, responseExtensions [1] }
  CA_GUARD_CRYPTO(CBB_add_asn1(&basic, &data, CBS_ASN1_SEQUENCE));
  // ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash }
  // KeyHash ::= OCTET STRING: the SHA-1 of the responder's public key.
  CA_GUARD_CRYPTO(CBB_add_asn1(
      &data, &responder, CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 2));
  CA_GUARD_CRYPTO(CBB_add_asn1(&responder, &key_hash, CBS_ASN1_OCTETSTRING));
  CA_GUARD_CRYPTO(CBB_add_bytes(&key_hash, signer->key_hash, CA_KEY_ID_LEN));
  CA_GUARD_CRYPTO(CBB_flush(&data));
  CA_ENSURE(add_generalized_time(&data, produced_at), CA_ERR_INTERNAL,
            "bad producedAt");
  CA_GUARD_CRYPTO(CBB_add_asn1(&data, &list, CBS_ASN1_SEQUENCE));
  for (size_t i = 0; i < n; i++) {
    CA_ENSURE(add_single(&list, &singles[i]), CA_ERR_INTERNAL,
              "cannot encode a SingleResponse");
  }
  CA_GUARD_CRYPTO(CBB_flush(&data));
  if (nonce != NULL) {
    CA_GUARD_CRYPTO(add_nonce(&data, nonce));
  }
  CA_GUARD_CRYPTO(CBB_flush(&basic));
  // The ResponseData is all of |basic| so far: sign it in place.
  uint8_t sig[CA_SIGNATURE_MAX_LEN];
  size_t sig_len;
  CA_GUARD(ca_sign(signer->key, signer->digest, CBB_data(&basic),
                   CBB_len(&basic), sig, &sig_len));
  CA_GUARD(
      ca_signature_algorithm_add(&basic, signer->key_type, signer->digest));
  CA_GUARD(ca_signature_add(&basic, sig, sig_len));
  if (signer->cert != NULL) {
    // RFC 6960 4.2.2.2: a delegated responder's certificate goes with the
    // response so that the client can check it was issued by the CA.
    CA_GUARD_CRYPTO(
        CBB_add_asn1(&basic, &certs_tag,
                     CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0));
    CA_GUARD_CRYPTO(CBB_add_asn1(&certs_tag, &certs, CBS_ASN1_SEQUENCE));
    CA_GUARD_CRYPTO(CBB_add_bytes(&certs, signer->cert, signer->cert_len));
  }
  CA_GUARD_CRYPTO(CBB_finish(&cbb, out, out_len));
  return 1;
err:
  CBB_cleanup(&cbb);
  return 0;
}
