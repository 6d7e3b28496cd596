// Unit tests of ca/x509/signer.c: the digest rule (hash at least as strong as
// the key, CUCM), AlgorithmIdentifier bytes worked out by hand and read
// back by BoringSSL, and signatures checked with BoringSSL's low-level
// RSA_verify and ECDSA_do_verify rather than the EVP path pki signs with,
// including from several threads sharing one key.
#include <openssl/bytestring.h>
#include <openssl/digest.h>
#include <openssl/ec_key.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <string.h>

#include "ca/x509/key.h"
#include "ca/x509/signer.h"
#include "tests/support/test.h"

static EVP_PKEY *rsa_key, *p256_key, *p384_key;

static EVP_PKEY *new_key(const char *name) {
  ca_key_spec spec;
  return ca_key_spec_parse(&spec, name) ? ca_key_generate(&spec) : NULL;
}

TEST(digest_rule) {
  const ca_key_info rsa = {.type = CA_KEY_RSA, .bits = 2048};
  const ca_key_info rsa4096 = {.type = CA_KEY_RSA, .bits = 4096};
  const ca_key_info p256 = {
      .type = CA_KEY_EC, .bits = 256, .curve_nid = NID_X9_62_prime256v1};
  const ca_key_info p384 = {
      .type = CA_KEY_EC, .bits = 384, .curve_nid = NID_secp384r1};
  CHECK(ca_signature_digest(&rsa, &rsa) == EVP_sha256());
  CHECK(ca_signature_digest(&rsa, NULL) == EVP_sha256());
  CHECK(ca_signature_digest(&rsa4096, &rsa4096) == EVP_sha256());
  CHECK(ca_signature_digest(&p256, &p256) == EVP_sha256());
  CHECK(ca_signature_digest(&p256, NULL) == EVP_sha256());
  // A P-384 key on either side means SHA-384.
  CHECK(ca_signature_digest(&p256, &p384) == EVP_sha384());
  CHECK(ca_signature_digest(&p384, &p256) == EVP_sha384());
  CHECK(ca_signature_digest(&p384, &p384) == EVP_sha384());
  CHECK(ca_signature_digest(&p384, NULL) == EVP_sha384());
  CHECK(ca_signature_digest(&p384, &rsa) == EVP_sha384());
  CHECK(ca_signature_digest(&rsa, &p384) == EVP_sha384());
}

static void check_alg(ca_key_type type, const EVP_MD *md, const char *want,
                      size_t want_len, int want_nid) {
  uint8_t buf[32];
  CBB cbb;
  size_t len = 0;
  CHECK(CBB_init_fixed(&cbb, buf, sizeof(buf)) &&
        ca_signature_algorithm_add(&cbb, type, md) &&
        CBB_finish(&cbb, NULL, &len));
  CHECK_EQ_BYTES(buf, len, want, want_len);
  const uint8_t *p = buf;
  X509_ALGOR *alg = d2i_X509_ALGOR(NULL, &p, (long)len);
  CHECK(alg != NULL && p == buf + len);
  if (alg != NULL) {
    const ASN1_OBJECT *obj;
    int param_type;
    const void *param;
    X509_ALGOR_get0(&obj, &param_type, &param, alg);
    CHECK_EQ_INT(OBJ_obj2nid(obj), want_nid);
    CHECK_EQ_INT(param_type, type == CA_KEY_RSA ? V_ASN1_NULL : V_ASN1_UNDEF);
  }
  X509_ALGOR_free(alg);
}

#define ALG(type, md, der, nid) check_alg(type, md, der, sizeof(der) - 1, nid)

TEST(algorithm_identifiers) {
  ALG(CA_KEY_RSA, EVP_sha256(),
      "\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b\x05\x00",
      NID_sha256WithRSAEncryption);
  ALG(CA_KEY_RSA, EVP_sha384(),
      "\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0c\x05\x00",
      NID_sha384WithRSAEncryption);
  ALG(CA_KEY_RSA, EVP_sha512(),
      "\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0d\x05\x00",
      NID_sha512WithRSAEncryption);
  ALG(CA_KEY_EC, EVP_sha256(),
      "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02",
      NID_ecdsa_with_SHA256);
  ALG(CA_KEY_EC, EVP_sha384(),
      "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x03",
      NID_ecdsa_with_SHA384);
  ALG(CA_KEY_EC, EVP_sha512(),
      "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x04",
      NID_ecdsa_with_SHA512);
  // No identifier for weak or unknown combinations.
  static const struct {
    ca_key_type type;
    const EVP_MD *(*md)(void);
  } kBad[] = {
      {CA_KEY_RSA, EVP_sha1},   {CA_KEY_RSA, EVP_md5},
      {CA_KEY_RSA, EVP_sha224}, {CA_KEY_EC, EVP_sha1},
      {CA_KEY_EC, EVP_sha224},  {CA_KEY_NONE, EVP_sha256},
  };
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    CBB cbb;
    CHECK(CBB_init(&cbb, 32));
    ca_err_clear();
    CHECK(!ca_signature_algorithm_add(&cbb, kBad[i].type, kBad[i].md()));
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_INTERNAL);
    CHECK_EQ_INT(CBB_len(&cbb), 0);  // nothing half-written
    CBB_cleanup(&cbb);
  }
}

TEST(signature_bit_strings) {
  uint8_t buf[16];
  CBB cbb;
  size_t len = 0;
  CHECK(CBB_init_fixed(&cbb, buf, sizeof(buf)) &&
        ca_signature_add(&cbb, (const uint8_t *)"\x01\x02\x03", 3) &&
        CBB_finish(&cbb, NULL, &len));
  CHECK_EQ_BYTES(buf, len, "\x03\x04\x00\x01\x02\x03", 6);
  CHECK(CBB_init_fixed(&cbb, buf, sizeof(buf)) &&
        ca_signature_add(&cbb, NULL, 0) && CBB_finish(&cbb, NULL, &len));
  CHECK_EQ_BYTES(buf, len, "\x03\x01\x00", 3);
  // A full RSA-4096-sized value takes a two-octet length.
  static uint8_t sig[512];
  memset(sig, 0xab, sizeof(sig));
  uint8_t big[600];
  CHECK(CBB_init_fixed(&cbb, big, sizeof(big)) &&
        ca_signature_add(&cbb, sig, sizeof(sig)) &&
        CBB_finish(&cbb, NULL, &len));
  CHECK(len == 517 && memcmp(big, "\x03\x82\x02\x01\x00", 5) == 0 &&
        memcmp(big + 5, sig, sizeof(sig)) == 0);
}

static const uint8_t kMsg[] = "tbsCertificate bytes stand-in";

TEST(rsa_signatures) {
  uint8_t sig[CA_SIGNATURE_MAX_LEN], sig2[CA_SIGNATURE_MAX_LEN];
  size_t len = 0, len2 = 0;
  static const struct {
    const EVP_MD *(*md)(void);
    int nid;
  } kDigests[] = {{EVP_sha256, NID_sha256},
                  {EVP_sha384, NID_sha384},
                  {EVP_sha512, NID_sha512}};
  RSA *rsa = (RSA *)EVP_PKEY_get0_RSA(rsa_key);  // RSA_verify is not const
  for (size_t i = 0; i < 3; i++) {
    const EVP_MD *md = kDigests[i].md();
    CHECK(ca_sign(rsa_key, md, kMsg, sizeof(kMsg), sig, &len));
    CHECK_EQ_INT(len, 256);
    // PKCS#1 v1.5 over the digest, checked with the low-level RSA API.
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned digest_len = 0;
    CHECK(EVP_Digest(kMsg, sizeof(kMsg), digest, &digest_len, md, NULL));
    CHECK_EQ_INT(RSA_verify(kDigests[i].nid, digest, digest_len, sig, len, rsa),
                 1);
    // Deterministic: the same message signs to the same bytes.
    CHECK(ca_sign(rsa_key, md, kMsg, sizeof(kMsg), sig2, &len2));
    CHECK_EQ_BYTES(sig, len, sig2, len2);
    // Another message does not verify.
    digest[0] ^= 1;
    CHECK(RSA_verify(kDigests[i].nid, digest, digest_len, sig, len, rsa) != 1);
  }
  // Not PSS: a PSS verifier refuses it.
  EVP_MD_CTX ctx;
  EVP_MD_CTX_init(&ctx);
  EVP_PKEY_CTX *pctx = NULL;
  CHECK(ca_sign(rsa_key, EVP_sha256(), kMsg, sizeof(kMsg), sig, &len));
  CHECK(EVP_DigestVerifyInit(&ctx, &pctx, EVP_sha256(), NULL, rsa_key) &&
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING));
  CHECK(!EVP_DigestVerify(&ctx, sig, len, kMsg, sizeof(kMsg)));
  EVP_MD_CTX_cleanup(&ctx);
  ERR_clear_error();
}

// ecdsa_verify checks a DER ECDSA-Sig-Value with ECDSA_do_verify.
static int ecdsa_verify(EVP_PKEY *key, const EVP_MD *md, const uint8_t *msg,
                        size_t msg_len, const uint8_t *sig, size_t sig_len) {
  ECDSA_SIG *s = ECDSA_SIG_from_bytes(sig, sig_len);
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned digest_len = 0;
  const int ok =
      s != NULL && EVP_Digest(msg, msg_len, digest, &digest_len, md, NULL) &&
      ECDSA_do_verify(digest, digest_len, s, EVP_PKEY_get0_EC_KEY(key)) == 1;
  ECDSA_SIG_free(s);
  return ok;
}

TEST(ecdsa_signatures) {
  uint8_t sig[CA_SIGNATURE_MAX_LEN], sig2[CA_SIGNATURE_MAX_LEN];
  size_t len = 0, len2 = 0;
  CHECK(ca_sign(p256_key, EVP_sha256(), kMsg, sizeof(kMsg), sig, &len));
  // DER SEQUENCE of two INTEGERs of at most 33 octets each.
  CHECK(len >= 8 && len <= 72 && sig[0] == 0x30);
  CHECK(ecdsa_verify(p256_key, EVP_sha256(), kMsg, sizeof(kMsg), sig, len));
  CHECK(
      !ecdsa_verify(p256_key, EVP_sha256(), kMsg, sizeof(kMsg) - 1, sig, len));
  CHECK(!ecdsa_verify(p384_key, EVP_sha256(), kMsg, sizeof(kMsg), sig, len));
  // ECDSA is randomised: two signatures differ, both verify.
  CHECK(ca_sign(p256_key, EVP_sha256(), kMsg, sizeof(kMsg), sig2, &len2));
  CHECK(len != len2 || memcmp(sig, sig2, len) != 0);
  CHECK(ecdsa_verify(p256_key, EVP_sha256(), kMsg, sizeof(kMsg), sig2, len2));
  // P-384 with SHA-384.
  CHECK(ca_sign(p384_key, EVP_sha384(), kMsg, sizeof(kMsg), sig, &len));
  CHECK(len <= 104);
  CHECK(ecdsa_verify(p384_key, EVP_sha384(), kMsg, sizeof(kMsg), sig, len));
  CHECK(!ecdsa_verify(p384_key, EVP_sha256(), kMsg, sizeof(kMsg), sig, len));
  // An empty message is a message.
  CHECK(ca_sign(p256_key, EVP_sha256(), NULL, 0, sig, &len));
  CHECK(ecdsa_verify(p256_key, EVP_sha256(), (const uint8_t *)"", 0, sig, len));
}

TEST(public_key_cannot_sign) {
  // A key without its private part fails cleanly.
  uint8_t *spki = NULL;
  const int spki_len = i2d_PUBKEY(p256_key, &spki);
  CBS cbs;
  CBS_init(&cbs, spki, (size_t)spki_len);
  EVP_PKEY *pub = EVP_parse_public_key(&cbs);
  uint8_t sig[CA_SIGNATURE_MAX_LEN];
  size_t len = 0;
  ca_err_clear();
  CHECK(pub != NULL &&
        !ca_sign(pub, EVP_sha256(), kMsg, sizeof(kMsg), sig, &len));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_INTERNAL);
  EVP_PKEY_free(pub);
  OPENSSL_free(spki);
}

// --- several threads, one key ---

enum { kThreads = 4, kPerThread = 25 };

typedef struct worker {
  EVP_PKEY *key;
  const EVP_MD *md;
  int ok;  // signatures made and verified
} worker;

static void *sign_loop(void *arg) {
  worker *w = arg;
  for (int i = 0; i < kPerThread; i++) {
    uint8_t msg[32], sig[CA_SIGNATURE_MAX_LEN];
    size_t len = 0;
    memset(msg, i, sizeof(msg));
    if (!ca_sign(w->key, w->md, msg, sizeof(msg), sig, &len)) {
      continue;
    }
    if (EVP_PKEY_id(w->key) == EVP_PKEY_EC) {
      w->ok += ecdsa_verify(w->key, w->md, msg, sizeof(msg), sig, len);
    } else {
      uint8_t digest[EVP_MAX_MD_SIZE];
      unsigned digest_len = 0;
      w->ok += EVP_Digest(msg, sizeof(msg), digest, &digest_len, w->md, NULL) &&
               RSA_verify(EVP_MD_type(w->md), digest, digest_len, sig, len,
                          (RSA *)EVP_PKEY_get0_RSA(w->key)) == 1;
    }
  }
  return NULL;
}

TEST(threads_share_a_key) {
  EVP_PKEY *keys[2] = {p256_key, rsa_key};
  for (int k = 0; k < 2; k++) {
    pthread_t threads[kThreads];
    worker workers[kThreads];
    for (int i = 0; i < kThreads; i++) {
      workers[i] = (worker){.key = keys[k], .md = EVP_sha256(), .ok = 0};
      CHECK(pthread_create(&threads[i], NULL, sign_loop, &workers[i]) == 0);
    }
    int total = 0;
    for (int i = 0; i < kThreads; i++) {
      pthread_join(threads[i], NULL);
      total += workers[i].ok;
    }
    CHECK_EQ_INT(total, kThreads * kPerThread);
  }
}

int main(void) {
  rsa_key = new_key("RSA-2048");
  p256_key = new_key("EC-P256");
  p384_key = new_key("EC-P384");
  if (rsa_key == NULL || p256_key == NULL || p384_key == NULL) {
    fprintf(stderr, "cannot make keys\n");
    return 1;
  }
  RUN(digest_rule);
  RUN(algorithm_identifiers);
  RUN(signature_bit_strings);
  RUN(rsa_signatures);
  RUN(ecdsa_signatures);
  RUN(public_key_cannot_sign);
  RUN(threads_share_a_key);
  EVP_PKEY_free(rsa_key);
  EVP_PKEY_free(p256_key);
  EVP_PKEY_free(p384_key);
  return test_summary();
}
