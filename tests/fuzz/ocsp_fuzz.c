// Fuzz target: OCSP requests as any client on the network sends them
// (RFC 6960 4.1), through ca_ocsp_request_parse and, for each request it
// accepts, through ca_ocsp_response_build as the responder would answer it.
//
// The input is the DER request itself, so the seeds are requests exactly as
// `openssl ocsp -reqout` writes them. ca/revocation/responder.h is left out: it
// needs a database; what it adds between parse and build is the status lookup,
// which here cycles through good, revoked and unknown instead.
#include <openssl/bytestring.h>
#include <openssl/digest.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <stdint.h>
#include <string.h>

#include "ca/limits.h"
#include "ca/oid.h"
#include "ca/x509/key.h"
#include "ca/x509/ocsp_request.h"
#include "ca/x509/ocsp_response.h"
#include "ca/x509/signer.h"
#include "ca/x509/x509.h"
#include "tests/fuzz/fuzz.h"

// Fixed times keep the output a function of the input alone, so a crash
// replays. 2023-11-14T22:13:20Z; nextUpdate a week on.
#define PRODUCED_AT INT64_C(1700000000)
#define NEXT_UPDATE (PRODUCED_AT + 7 * 86400)
#define REVOKED_AT (PRODUCED_AT - 86400)
static const char kProducedAtText[] = "20231114221320Z";

// Made once per process, on first use: key generation costs far more than
// one input, and the replaying main() of driver.c never calls
// LLVMFuzzerInitialize. P-256 keeps each input's signature cheap.
static EVP_PKEY *signer_key;
static ca_ocsp_signer signer;

static void signer_free(void) {
  EVP_PKEY_free(signer_key);
  signer_key = NULL;
  memset(&signer, 0, sizeof(signer));
}

static void signer_init(void) {
  if (signer_key != NULL) {
    return;
  }
  const ca_key_spec p256 = {CA_KEY_EC, 0, NID_X9_62_prime256v1};
  CBB cbb;
  CBB_zero(&cbb);
  uint8_t *spki = NULL;
  size_t spki_len;
  CBS spki_cbs;
  signer_key = ca_key_generate(&p256);
  int ok = signer_key != NULL && CBB_init(&cbb, 128) &&
           EVP_marshal_public_key(&cbb, signer_key) &&
           CBB_finish(&cbb, &spki, &spki_len);
  if (ok) {
    // ResponderID byKey is the SHA-1 of the subjectPublicKey bits, which is
    // the RFC 5280 4.2.1.2 method (1) key identifier.
    CBS_init(&spki_cbs, spki, spki_len);
    ok = ca_spki_key_id(&spki_cbs, signer.key_hash);
  }
  OPENSSL_free(spki);
  if (!ok) {
    CBB_cleanup(&cbb);
    fprintf(stderr, "ocsp_fuzz: setup failed: %s\n", ca_err_get()->message);
    abort();
  }
  signer.key = signer_key;
  signer.key_type = CA_KEY_EC;
  signer.digest = EVP_sha256();
  atexit(signer_free);
}

// within reports whether |view| lies entirely inside |buf|. The addresses
// are compared as integers: a view that escaped its buffer points into
// another object, and comparing pointers to different objects is undefined.
static int within(const CBS *view, const uint8_t *buf, size_t buf_len) {
  const uintptr_t start = (uintptr_t)buf;
  const uintptr_t p = (uintptr_t)CBS_data(view);
  return p >= start && CBS_len(view) <= buf_len &&
         p - start <= buf_len - CBS_len(view);
}

// check_request checks what ca/x509/ocsp_request.h promises of a parsed
// request.
static void check_request(const ca_ocsp_request *req, const uint8_t *der,
                          size_t der_len) {
  FUZZ_ASSERT(req->count <= CA_LIMIT_OCSP_CERT_IDS);
  // The responder answers with singles[0]'s nextUpdate: a request that
  // asks for nothing must be refused by the parser.
  FUZZ_ASSERT(req->count >= 1);
  for (size_t i = 0; i < req->count; i++) {
    const ca_ocsp_cert_id *id = &req->ids[i];
    FUZZ_ASSERT(within(&id->element, der, der_len));
    const uint8_t *elem = CBS_data(&id->element);
    const size_t elem_len = CBS_len(&id->element);
    // The fields are parts of the CertID that gets echoed, not just of the
    // request: the response must answer for exactly what was matched.
    FUZZ_ASSERT(within(&id->name_hash, elem, elem_len));
    FUZZ_ASSERT(within(&id->key_hash, elem, elem_len));
    FUZZ_ASSERT(within(&id->serial, elem, elem_len));
    FUZZ_ASSERT(CBS_len(&id->serial) > 0);
    FUZZ_ASSERT(id->hash == CA_OCSP_HASH_OTHER ||
                id->hash == CA_OCSP_HASH_SHA1 ||
                id->hash == CA_OCSP_HASH_SHA256);
    // The element is one whole DER SEQUENCE, since the response copies it
    // verbatim as its certID.
    CBS copy = id->element, seq;
    FUZZ_ASSERT(CBS_get_asn1(&copy, &seq, CBS_ASN1_SEQUENCE) &&
                CBS_len(&copy) == 0);
  }
  if (!req->has_nonce) {
    FUZZ_ASSERT(CBS_len(&req->nonce) == 0);
    return;
  }
  // |nonce| is the extnValue contents, the Nonce OCTET STRING with its
  // header (RFC 8954 2.1); the limit applies to the octets inside.
  FUZZ_ASSERT(within(&req->nonce, der, der_len));
  CBS value = req->nonce, nonce;
  FUZZ_ASSERT(CBS_get_asn1(&value, &nonce, CBS_ASN1_OCTETSTRING) &&
              CBS_len(&value) == 0);
  FUZZ_ASSERT(CBS_len(&nonce) >= 1 &&
              CBS_len(&nonce) <= CA_LIMIT_OCSP_NONCE_BYTES);
}

// check_signature verifies the BasicOCSPResponse signature over the
// ResponseData element |tbs| with the signer's key.
static void check_signature(const CBS *tbs, CBS *basic) {
  CBS alg, bits;
  uint8_t unused;
  FUZZ_ASSERT(CBS_get_asn1(basic, &alg, CBS_ASN1_SEQUENCE) &&
              CBS_get_asn1(basic, &bits, CBS_ASN1_BITSTRING) &&
              CBS_get_u8(&bits, &unused) && unused == 0);
  FUZZ_ASSERT(
      CBS_get_asn1(&alg, &alg, CBS_ASN1_OBJECT) &&
      CBS_mem_equal(&alg, kOidEcdsaWithSha256, sizeof(kOidEcdsaWithSha256)));
  EVP_MD_CTX ctx;
  EVP_MD_CTX_init(&ctx);
  FUZZ_ASSERT(
      EVP_DigestVerifyInit(&ctx, NULL, signer.digest, NULL, signer.key));
  const int valid = EVP_DigestVerify(&ctx, CBS_data(&bits), CBS_len(&bits),
                                     CBS_data(tbs), CBS_len(tbs));
  EVP_MD_CTX_cleanup(&ctx);
  FUZZ_ASSERT(valid);
}

// check_response reads back the OCSPResponse |der| built for |req| from
// |singles|: every CertID echoed in order with its status, the nonce echoed
// unchanged, and a signature that verifies.
static void check_response(const uint8_t *der, size_t der_len,
                           const ca_ocsp_request *req,
                           const ca_ocsp_single *singles) {
  CBS in, response, status, bytes_tag, bytes, type, octets, basic, tbs, data;
  CBS_init(&in, der, der_len);
  FUZZ_ASSERT(CBS_get_asn1(&in, &response, CBS_ASN1_SEQUENCE) &&
              CBS_len(&in) == 0);
  FUZZ_ASSERT(CBS_get_asn1(&response, &status, CBS_ASN1_ENUMERATED) &&
              CBS_len(&status) == 1 &&
              CBS_data(&status)[0] == CA_OCSP_SUCCESSFUL);
  FUZZ_ASSERT(
      CBS_get_asn1(&response, &bytes_tag,
                   CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
      CBS_len(&response) == 0 &&
      CBS_get_asn1(&bytes_tag, &bytes, CBS_ASN1_SEQUENCE) &&
      CBS_len(&bytes_tag) == 0 &&
      CBS_get_asn1(&bytes, &type, CBS_ASN1_OBJECT) &&
      CBS_mem_equal(&type, kOidOcspBasic, sizeof(kOidOcspBasic)) &&
      CBS_get_asn1(&bytes, &octets, CBS_ASN1_OCTETSTRING) &&
      CBS_len(&bytes) == 0 &&
      CBS_get_asn1(&octets, &basic, CBS_ASN1_SEQUENCE) &&
      CBS_len(&octets) == 0);
  FUZZ_ASSERT(CBS_get_asn1_element(&basic, &tbs, CBS_ASN1_SEQUENCE));
  check_signature(&tbs, &basic);
  // The signer's own key signs, so no certificate travels with it.
  FUZZ_ASSERT(CBS_len(&basic) == 0);

  CBS responder, key_hash, produced, list;
  FUZZ_ASSERT(
      CBS_get_asn1(&tbs, &data, CBS_ASN1_SEQUENCE) &&
      CBS_get_asn1(&data, &responder,
                   CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 2) &&
      CBS_get_asn1(&responder, &key_hash, CBS_ASN1_OCTETSTRING) &&
      CBS_mem_equal(&key_hash, signer.key_hash, CA_KEY_ID_LEN) &&
      CBS_get_asn1(&data, &produced, CBS_ASN1_GENERALIZEDTIME) &&
      CBS_mem_equal(&produced, (const uint8_t *)kProducedAtText,
                    sizeof(kProducedAtText) - 1) &&
      CBS_get_asn1(&data, &list, CBS_ASN1_SEQUENCE));
  for (size_t i = 0; i < req->count; i++) {
    CBS single, cert_id;
    FUZZ_ASSERT(CBS_get_asn1(&list, &single, CBS_ASN1_SEQUENCE) &&
                CBS_get_any_asn1_element(&single, &cert_id, NULL, NULL) &&
                CBS_mem_equal(&cert_id, CBS_data(&req->ids[i].element),
                              CBS_len(&req->ids[i].element)));
    static const unsigned kStatusTags[] = {
        [CA_OCSP_GOOD] = CBS_ASN1_CONTEXT_SPECIFIC | 0,
        [CA_OCSP_REVOKED] =
            CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1,
        [CA_OCSP_UNKNOWN] = CBS_ASN1_CONTEXT_SPECIFIC | 2,
    };
    FUZZ_ASSERT(CBS_peek_asn1_tag(&single, kStatusTags[singles[i].status]));
  }
  FUZZ_ASSERT(CBS_len(&list) == 0);

  if (!req->has_nonce) {
    FUZZ_ASSERT(CBS_len(&data) == 0);
    return;
  }
  CBS tag, exts, ext, oid, value;
  FUZZ_ASSERT(
      CBS_get_asn1(&data, &tag,
                   CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 1) &&
      CBS_len(&data) == 0 && CBS_get_asn1(&tag, &exts, CBS_ASN1_SEQUENCE) &&
      CBS_get_asn1(&exts, &ext, CBS_ASN1_SEQUENCE) && CBS_len(&exts) == 0 &&
      CBS_get_asn1(&ext, &oid, CBS_ASN1_OBJECT) &&
      CBS_mem_equal(&oid, kOidOcspNonce, sizeof(kOidOcspNonce)) &&
      CBS_get_asn1(&ext, &value, CBS_ASN1_OCTETSTRING) && CBS_len(&ext) == 0);
  FUZZ_ASSERT(
      CBS_mem_equal(&value, CBS_data(&req->nonce), CBS_len(&req->nonce)));
}

// answer builds the response to |req| as the responder would, with the
// status of CertID i cycling through good, revoked and unknown, and the
// revocation reason through the CRLReason values.
static void answer(const ca_ocsp_request *req) {
  signer_init();
  ca_ocsp_single singles[CA_LIMIT_OCSP_CERT_IDS];
  memset(singles, 0, sizeof(singles));
  for (size_t i = 0; i < req->count; i++) {
    static const ca_ocsp_cert_status kStatuses[3] = {
        CA_OCSP_GOOD, CA_OCSP_REVOKED, CA_OCSP_UNKNOWN};
    singles[i].cert_id = req->ids[i].element;
    singles[i].status = kStatuses[i % 3];
    singles[i].revoked_at = REVOKED_AT;
    singles[i].reason = (int)(i % 11);
    singles[i].this_update = PRODUCED_AT;
    singles[i].next_update = NEXT_UPDATE;
  }
  uint8_t *der = NULL;
  size_t der_len;
  FUZZ_ASSERT(ca_ocsp_response_build(&signer, singles, req->count,
                                     req->has_nonce ? &req->nonce : NULL,
                                     PRODUCED_AT, &der, &der_len));
  check_response(der, der_len, req, singles);
  OPENSSL_free(der);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  ca_ocsp_request req;
  if (!ca_ocsp_request_parse(&req, data, size)) {
    FUZZ_ASSERT(ca_err_get()->code == CA_ERR_REQUEST_MALFORMED);
    return 0;
  }
  check_request(&req, data, size);
  answer(&req);
  return 0;
}
