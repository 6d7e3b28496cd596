#include "ca/x509/x509_verify.h"

#include <openssl/bytestring.h>
#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "ca/oid.h"

// signature_digest maps the certificate's outer AlgorithmIdentifier to a
// digest and the key type it needs.
static int signature_digest(const CBS *element, const EVP_MD **out_md,
                            int *out_pkey_id) {
  CBS in = *element, alg, oid;
  CA_ENSURE_RETURN(CBS_get_asn1(&in, &alg, CBS_ASN1_SEQUENCE) &&
                       CBS_len(&in) == 0 &&
                       CBS_get_asn1(&alg, &oid, CBS_ASN1_OBJECT),
                   CA_ERR_CERT_MALFORMED, "bad signature AlgorithmIdentifier");
  static const struct {
    const uint8_t *oid;
    size_t len;
    const EVP_MD *(*md)(void);
    int pkey_id;
  } kAlgs[] = {
      {kOidSha256WithRsa, sizeof(kOidSha256WithRsa), EVP_sha256, EVP_PKEY_RSA},
      {kOidSha384WithRsa, sizeof(kOidSha384WithRsa), EVP_sha384, EVP_PKEY_RSA},
      {kOidSha512WithRsa, sizeof(kOidSha512WithRsa), EVP_sha512, EVP_PKEY_RSA},
      {kOidEcdsaWithSha256, sizeof(kOidEcdsaWithSha256), EVP_sha256,
       EVP_PKEY_EC},
      {kOidEcdsaWithSha384, sizeof(kOidEcdsaWithSha384), EVP_sha384,
       EVP_PKEY_EC},
      {kOidEcdsaWithSha512, sizeof(kOidEcdsaWithSha512), EVP_sha512,
       EVP_PKEY_EC},
  };
  for (size_t i = 0; i < sizeof(kAlgs) / sizeof(kAlgs[0]); i++) {
    if (!CBS_mem_equal(&oid, kAlgs[i].oid, kAlgs[i].len)) {
      continue;
    }
    // RFC 4055: PKCS#1 v1.5 parameters are NULL (omitted is also seen);
    // RFC 5758: ECDSA parameters MUST be absent.
    if (CBS_len(&alg) > 0) {
      CBS null;
      CA_ENSURE_RETURN(kAlgs[i].pkey_id == EVP_PKEY_RSA &&
                           CBS_get_asn1(&alg, &null, CBS_ASN1_NULL) &&
                           CBS_len(&null) == 0 && CBS_len(&alg) == 0,
                       CA_ERR_CERT_MALFORMED,
                       "bad signature algorithm parameters");
    }
    *out_md = kAlgs[i].md();
    *out_pkey_id = kAlgs[i].pkey_id;
    return 1;
  }
  CA_SET_ERROR(CA_ERR_CERT_MALFORMED,
               "a signature algorithm pki does not sign with");
  return 0;
}

int ca_x509_verify_signed_by(const ca_x509 *cert, EVP_PKEY *issuer_key) {
  int ret = 0;
  const EVP_MD *md;
  int pkey_id;
  EVP_MD_CTX ctx;
  EVP_MD_CTX_init(&ctx);
  CA_GUARD(signature_digest(&cert->signature_algorithm, &md, &pkey_id));
  CA_ENSURE(EVP_PKEY_id(issuer_key) == pkey_id, CA_ERR_CERT_MALFORMED,
            "signature algorithm does not fit the CA's key");
  const int ok = EVP_DigestVerifyInit(&ctx, NULL, md, NULL, issuer_key) &&
                 EVP_DigestVerify(&ctx, CBS_data(&cert->signature),
                                  CBS_len(&cert->signature),
                                  CBS_data(&cert->tbs), CBS_len(&cert->tbs));
  if (!ok) {
    ERR_clear_error();  // the reason is ours to give
  }
  CA_ENSURE(ok, CA_ERR_CERT_MALFORMED,
            "the signature does not verify with the CA's key");
  ret = 1;
err:
  EVP_MD_CTX_cleanup(&ctx);
  return ret;
}
