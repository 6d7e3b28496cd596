#include "ca/revocation/crl.h"

#include <openssl/bytestring.h>
#include <stdlib.h>
#include <string.h>

#include "ca/oid.h"
#include "ca/x509/asn1_time.h"
#include "ca/x509/signer.h"

static int add_entry(CBB *list, const ca_crl_entry *e) {
  CBB entry, exts, ext, oid, value, reason;
  if (!CBB_add_asn1(list, &entry, CBS_ASN1_SEQUENCE) ||
      !ca_serial_add(&entry, &e->serial) ||
      !ca_time_add(&entry, e->revoked_at)) {
    return 0;
  }
  if (e->reason != CA_REASON_UNSPECIFIED) {
    // reasonCode ::= { CRLReason } (ENUMERATED), non-critical.
    if (!CBB_add_asn1(&entry, &exts, CBS_ASN1_SEQUENCE) ||
        !CBB_add_asn1(&exts, &ext, CBS_ASN1_SEQUENCE) ||
        !CBB_add_asn1(&ext, &oid, CBS_ASN1_OBJECT) ||
        !CBB_add_bytes(&oid, kOidCrlReason, sizeof(kOidCrlReason)) ||
        !CBB_add_asn1(&ext, &value, CBS_ASN1_OCTETSTRING) ||
        !CBB_add_asn1(&value, &reason, CBS_ASN1_ENUMERATED) ||
        !CBB_add_u8(&reason, (uint8_t)e->reason)) {
      return 0;
    }
  }
  return CBB_flush(list);
}

static int add_crl_extensions(CBB *tbs, const ca_issuer *issuer,
                              uint64_t number) {
  CBB tag, exts, aki, aki_oid, aki_value, aki_seq, key_id, num, num_oid,
      num_value;
  // crlExtensions [0] EXPLICIT: authorityKeyIdentifier ("MUST include",
  // RFC 5280 5.2.1) and cRLNumber (5.2.3), both non-critical.
  return CBB_add_asn1(tbs, &tag,
                      CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
         CBB_add_asn1(&tag, &exts, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&exts, &aki, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&aki, &aki_oid, CBS_ASN1_OBJECT) &&
         CBB_add_bytes(&aki_oid, kOidAuthorityKeyIdentifier,
                       sizeof(kOidAuthorityKeyIdentifier)) &&
         CBB_add_asn1(&aki, &aki_value, CBS_ASN1_OCTETSTRING) &&
         CBB_add_asn1(&aki_value, &aki_seq, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&aki_seq, &key_id, CBS_ASN1_CONTEXT_SPECIFIC | 0) &&
         CBB_add_bytes(&key_id, issuer->key_id, CA_KEY_ID_LEN) &&
         CBB_flush(&exts) && CBB_add_asn1(&exts, &num, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&num, &num_oid, CBS_ASN1_OBJECT) &&
         CBB_add_bytes(&num_oid, kOidCrlNumber, sizeof(kOidCrlNumber)) &&
         CBB_add_asn1(&num, &num_value, CBS_ASN1_OCTETSTRING) &&
         CBB_add_asn1_uint64(&num_value, number) && CBB_flush(tbs);
}

int ca_crl_build(const ca_issuer *issuer, EVP_PKEY *key, uint64_t crl_number,
                 int64_t this_update, int64_t next_update,
                 const ca_crl_entry *entries, size_t n, uint8_t **out_der,
                 size_t *out_len) {
  CBB cbb, crl, tbs, list;
  CBB_zero(&cbb);
  const EVP_MD *digest = ca_signature_digest(&issuer->key_info, NULL);
  CA_GUARD_CRYPTO(CBB_init(&cbb, 512 + n * 48));
  CA_GUARD_CRYPTO(CBB_add_asn1(&cbb, &crl, CBS_ASN1_SEQUENCE));
  CA_GUARD_CRYPTO(CBB_add_asn1(&crl, &tbs, CBS_ASN1_SEQUENCE));
  // version v2(1): "MUST be present" when extensions are (RFC 5280 5.1.2.1).
  CA_GUARD_CRYPTO(CBB_add_asn1_uint64(&tbs, 1));
  CA_GUARD(ca_signature_algorithm_add(&tbs, issuer->key_info.type, digest));
  CA_GUARD_CRYPTO(CBB_add_bytes(&tbs, CBS_data(&issuer->cert.subject),
                                CBS_len(&issuer->cert.subject)));
  CA_GUARD(ca_time_add(&tbs, this_update));
  CA_GUARD(ca_time_add(&tbs, next_update));
  // "When there are no revoked certificates, the revoked certificates list
  // MUST be absent" (RFC 5280 5.1.2.6).
  if (n > 0) {
    CA_GUARD_CRYPTO(CBB_add_asn1(&tbs, &list, CBS_ASN1_SEQUENCE));
    for (size_t i = 0; i < n; i++) {
      CA_ENSURE(add_entry(&list, &entries[i]), CA_ERR_INTERNAL,
                "cannot encode a CRL entry");
    }
  }
  CA_ENSURE(add_crl_extensions(&tbs, issuer, crl_number), CA_ERR_INTERNAL,
            "cannot encode the CRL extensions");
  CA_GUARD_CRYPTO(CBB_flush(&crl));
  uint8_t sig[CA_SIGNATURE_MAX_LEN];
  size_t sig_len;
  CA_GUARD(ca_sign(key, digest, CBB_data(&crl), CBB_len(&crl), sig, &sig_len));
  CA_GUARD(ca_signature_algorithm_add(&crl, issuer->key_info.type, digest));
  CA_GUARD(ca_signature_add(&crl, sig, sig_len));
  CA_GUARD_CRYPTO(CBB_finish(&cbb, out_der, out_len));
  return 1;
err:
  CBB_cleanup(&cbb);
  return 0;
}
