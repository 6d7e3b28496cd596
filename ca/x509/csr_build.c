#include "ca/x509/csr_build.h"

#include <openssl/bytestring.h>
#include <openssl/evp.h>
#include <openssl/mem.h>

#include "ca/oid.h"
#include "ca/x509/certificate.h"
#include "ca/x509/csr.h"
#include "ca/x509/san.h"
#include "ca/x509/signer.h"

// add_extension_request appends the attributes [0] with an
// extensionRequest, when there is anything to request.
static int add_attributes(CBB *info, const ca_csr_template *t) {
  CBB attrs, attr, oid, values, exts, sans;
  CA_GUARD_CRYPTO_RETURN(CBB_add_asn1(
      info, &attrs, CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0));
  if (t->san_count == 0 && t->key_usage == 0 && t->ext_key_usage == 0) {
    CA_GUARD_CRYPTO_RETURN(CBB_flush(info));
    return 1;
  }
  int ret = 0;
  CBB_zero(&sans);
  // Attribute ::= SEQUENCE { type, values SET OF ANY }
  CA_GUARD_CRYPTO(CBB_add_asn1(&attrs, &attr, CBS_ASN1_SEQUENCE));
  CA_GUARD_CRYPTO(CBB_add_asn1(&attr, &oid, CBS_ASN1_OBJECT));
  CA_GUARD_CRYPTO(
      CBB_add_bytes(&oid, kOidExtensionRequest, sizeof(kOidExtensionRequest)));
  CA_GUARD_CRYPTO(CBB_add_asn1(&attr, &values, CBS_ASN1_SET));
  CA_GUARD_CRYPTO(CBB_add_asn1(&values, &exts, CBS_ASN1_SEQUENCE));
  if (t->key_usage != 0) {
    CA_GUARD(ca_extension_add_key_usage(&exts, t->key_usage));
  }
  if (t->ext_key_usage != 0) {
    CA_GUARD(ca_extension_add_ext_key_usage(&exts, t->ext_key_usage));
  }
  if (t->san_count > 0) {
    CA_GUARD_CRYPTO(CBB_init(&sans, 256));
    CA_GUARD(ca_san_add_from_strings(&sans, t->sans, t->san_count));
    CBS names;
    CBS_init(&names, CBB_data(&sans), CBB_len(&sans));
    CA_GUARD(ca_extension_add_san(&exts, &names));
  }
  CA_GUARD_CRYPTO(CBB_flush(info));
  ret = 1;
err:
  CBB_cleanup(&sans);
  return ret;
}

// build signs the request with |key| when |sign| is set, and otherwise
// leaves its signature empty.
static int build(const ca_csr_template *t, EVP_PKEY *key, int sign,
                 uint8_t **out_der, size_t *out_len) {
  CBB cbb, req, info;
  CBB_zero(&cbb);
  ca_key_info key_info;
  CA_GUARD(ca_key_info_from_pkey(key, &key_info));
  const EVP_MD *digest = ca_signature_digest(&key_info, NULL);
  CA_GUARD_CRYPTO(CBB_init(&cbb, 1024));
  // CertificationRequest ::= SEQUENCE { info, signatureAlgorithm, signature }
  CA_GUARD_CRYPTO(CBB_add_asn1(&cbb, &req, CBS_ASN1_SEQUENCE));
  CA_GUARD_CRYPTO(CBB_add_asn1(&req, &info, CBS_ASN1_SEQUENCE));
  CA_GUARD_CRYPTO(CBB_add_asn1_uint64(&info, 0));  // version v1(0)
  CA_GUARD(ca_name_add_fields(&info, t->subject));
  CA_GUARD_CRYPTO(EVP_marshal_public_key(&info, key));
  CA_GUARD(add_attributes(&info, t));
  CA_GUARD_CRYPTO(CBB_flush(&req));
  // The info is now all of |req|'s contents: sign it in place, as
  // ca_certificate_build does.
  uint8_t sig[CA_SIGNATURE_MAX_LEN];
  size_t sig_len = 0;
  if (sign) {
    CA_GUARD(
        ca_sign(key, digest, CBB_data(&req), CBB_len(&req), sig, &sig_len));
  }
  CA_GUARD(ca_signature_algorithm_add(&req, key_info.type, digest));
  CA_GUARD(ca_signature_add(&req, sig, sig_len));
  CA_GUARD_CRYPTO(CBB_finish(&cbb, out_der, out_len));
  return 1;
err:
  CBB_cleanup(&cbb);
  return 0;
}

int ca_csr_build(const ca_csr_template *t, EVP_PKEY *key, uint8_t **out_der,
                 size_t *out_len) {
  return build(t, key, 1, out_der, out_len);
}

int ca_csr_build_unsigned(const ca_csr_template *t, EVP_PKEY *key,
                          uint8_t **out_der, size_t *out_len) {
  return build(t, key, 0, out_der, out_len);
}
