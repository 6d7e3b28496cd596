#include "ca/x509/signer.h"

#include <openssl/digest.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>

#include "ca/oid.h"

const EVP_MD *ca_signature_digest(const ca_key_info *issuer,
                                  const ca_key_info *subject) {
  if (issuer->curve_nid == NID_secp384r1 ||
      (subject != NULL && subject->curve_nid == NID_secp384r1)) {
    return EVP_sha384();
  }
  return EVP_sha256();
}

int ca_signature_algorithm_add(CBB *out, ca_key_type type,
                               const EVP_MD *digest) {
  const uint8_t *oid = NULL;
  size_t oid_len = 0;
  const int md = EVP_MD_type(digest);
#define CA_PICK(o)       \
  do {                   \
    oid = o;             \
    oid_len = sizeof(o); \
  } while (0)
  if (type == CA_KEY_RSA) {
    if (md == NID_sha256) {
      CA_PICK(kOidSha256WithRsa);
    } else if (md == NID_sha384) {
      CA_PICK(kOidSha384WithRsa);
    } else if (md == NID_sha512) {
      CA_PICK(kOidSha512WithRsa);
    }
  } else if (type == CA_KEY_EC) {
    if (md == NID_sha256) {
      CA_PICK(kOidEcdsaWithSha256);
    } else if (md == NID_sha384) {
      CA_PICK(kOidEcdsaWithSha384);
    } else if (md == NID_sha512) {
      CA_PICK(kOidEcdsaWithSha512);
    }
  }
#undef CA_PICK
  CA_ENSURE_RETURN(oid != NULL, CA_ERR_INTERNAL,
                   "no signature algorithm for key %d", (int)type);
  CBB alg, obj, null;
  CA_GUARD_CRYPTO_RETURN(CBB_add_asn1(out, &alg, CBS_ASN1_SEQUENCE));
  CA_GUARD_CRYPTO_RETURN(CBB_add_asn1(&alg, &obj, CBS_ASN1_OBJECT));
  CA_GUARD_CRYPTO_RETURN(CBB_add_bytes(&obj, oid, oid_len));
  if (type == CA_KEY_RSA) {
    CA_GUARD_CRYPTO_RETURN(CBB_add_asn1(&alg, &null, CBS_ASN1_NULL));
  }
  CA_GUARD_CRYPTO_RETURN(CBB_flush(out));
  return 1;
}

int ca_sign(EVP_PKEY *key, const EVP_MD *digest, const uint8_t *msg,
            size_t msg_len, uint8_t out[CA_SIGNATURE_MAX_LEN],
            size_t *out_len) {
  int ret = 0;
  EVP_MD_CTX ctx;
  EVP_MD_CTX_init(&ctx);
  size_t len = EVP_PKEY_size(key);
  CA_ENSURE(len <= CA_SIGNATURE_MAX_LEN, CA_ERR_INTERNAL,
            "signing key too large");
  CA_GUARD_CRYPTO(EVP_DigestSignInit(&ctx, NULL, digest, NULL, key));
  CA_GUARD_CRYPTO(EVP_DigestSign(&ctx, out, &len, msg, msg_len));
  *out_len = len;
  ret = 1;
err:
  EVP_MD_CTX_cleanup(&ctx);
  return ret;
}

int ca_signature_add(CBB *out, const uint8_t *sig, size_t sig_len) {
  CBB bits;
  CA_GUARD_CRYPTO_RETURN(CBB_add_asn1(out, &bits, CBS_ASN1_BITSTRING));
  CA_GUARD_CRYPTO_RETURN(CBB_add_u8(&bits, 0 /* no unused bits */));
  CA_GUARD_CRYPTO_RETURN(CBB_add_bytes(&bits, sig, sig_len));
  CA_GUARD_CRYPTO_RETURN(CBB_flush(out));
  return 1;
}
