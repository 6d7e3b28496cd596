// Fuzz target: PKCS#10 requests as clients send them, through decoding,
// parsing, signature verification and the whole profile application of
// ca_issue_sign.
//
// Input: one control byte, then the request.
//   bits 0-2  the profile (six built-in names, a case variant, an unknown)
//   bit 3     re-sign mode (below)
//   bit 4     in re-sign mode, sign EC requests with a P-384 key, not P-256
//   bits 5-7  the requested validity in days
// A mutated request almost never keeps a valid signature, so on its own the
// fuzzer would not get past ca_csr_verify into certificate building. In
// re-sign mode the rest of the input is a CertificationRequestInfo: the
// target swaps its SubjectPublicKeyInfo for one of its own keys and signs
// it, so mutated subjects and requested SANs reach every step of issuance.
#include <openssl/bytestring.h>
#include <openssl/digest.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <string.h>
#include <time.h>

#include "ca/issue/authority.h"
#include "ca/issue/issue.h"
#include "ca/oid.h"
#include "ca/x509/csr.h"
#include "ca/x509/key.h"
#include "ca/x509/signer.h"
#include "ca/x509/x509.h"
#include "tests/fuzz/fuzz.h"

static const char *const kProfiles[8] = {
    "tomcat",
    "tomcat-ECDSA",
    "ipsec",
    "CallManager",
    "CallManager-ECDSA",
    "CAPF",
    "callmanager-ecdsa",  // profile names are matched ignoring case
    "no-such-profile",
};

// 0 is the profile default; 730 the maximum; 731 and above are refused.
static const uint32_t kDays[8] = {0, 1, 90, 730, 731, 7320, 7321, UINT32_MAX};

// Made once per process: RSA key generation costs far more than one input.
typedef struct fuzz_state {
  ca_authority *authority;
  EVP_PKEY *rsa;
  EVP_PKEY *p256;
  EVP_PKEY *p384;
} fuzz_state;

static fuzz_state state;

static void state_free(void) {
  ca_authority_free(state.authority);
  EVP_PKEY_free(state.rsa);
  EVP_PKEY_free(state.p256);
  EVP_PKEY_free(state.p384);
  memset(&state, 0, sizeof(state));
}

static void state_init(void) {
  if (state.authority != NULL) {
    return;
  }
  ca_authority_config config;
  ca_authority_config_init(&config);
  config.ocsp_url = "http://ocsp.example.com/";
  const ca_key_spec rsa = {CA_KEY_RSA, 2048, 0};
  const ca_key_spec p256 = {CA_KEY_EC, 0, NID_X9_62_prime256v1};
  const ca_key_spec p384 = {CA_KEY_EC, 0, NID_secp384r1};
  if (!ca_authority_new_ephemeral(&config, &state.authority) ||
      (state.rsa = ca_key_generate(&rsa)) == NULL ||
      (state.p256 = ca_key_generate(&p256)) == NULL ||
      (state.p384 = ca_key_generate(&p384)) == NULL) {
    fprintf(stderr, "csr_fuzz: setup failed: %s\n", ca_err_get()->message);
    abort();
  }
  atexit(state_free);
}

// resign builds a CertificationRequest from the CertificationRequestInfo in
// |in| with its key replaced by |key|'s and signed by |key|. The fields
// after the key (the attributes, or anything the fuzzer put there) are kept
// as they are. It returns 0 when |in| does not hold the first three fields.
static int resign(const uint8_t *in, size_t in_len, EVP_PKEY *key,
                  ca_key_type type, const EVP_MD *md, uint8_t **out,
                  size_t *out_len) {
  CBS cbs, info, version, subject, spki;
  CBS_init(&cbs, in, in_len);
  if (!CBS_get_asn1(&cbs, &info, CBS_ASN1_SEQUENCE) ||
      !CBS_get_any_asn1_element(&info, &version, NULL, NULL) ||
      !CBS_get_any_asn1_element(&info, &subject, NULL, NULL) ||
      !CBS_get_any_asn1_element(&info, &spki, NULL, NULL)) {
    return 0;
  }
  CBB cbb, req, new_info;
  uint8_t sig[CA_SIGNATURE_MAX_LEN];
  size_t sig_len;
  int ok = CBB_init(&cbb, in_len + 1024) &&
           CBB_add_asn1(&cbb, &req, CBS_ASN1_SEQUENCE) &&
           CBB_add_asn1(&req, &new_info, CBS_ASN1_SEQUENCE) &&
           CBB_add_bytes(&new_info, CBS_data(&version), CBS_len(&version)) &&
           CBB_add_bytes(&new_info, CBS_data(&subject), CBS_len(&subject)) &&
           EVP_marshal_public_key(&new_info, key) &&
           CBB_add_bytes(&new_info, CBS_data(&info), CBS_len(&info)) &&
           CBB_flush(&req);
  // The signed bytes are the whole CertificationRequestInfo element, which
  // is all |req| holds so far.
  ok = ok && ca_sign(key, md, CBB_data(&req), CBB_len(&req), sig, &sig_len) &&
       ca_signature_algorithm_add(&req, type, md) &&
       ca_signature_add(&req, sig, sig_len) && CBB_finish(&cbb, out, out_len);
  if (!ok) {
    CBB_cleanup(&cbb);
    fprintf(stderr, "csr_fuzz: cannot build a request\n");
    abort();
  }
  return 1;
}

// check_request runs the request parser on its own, as the service does
// before issuance.
static void check_request(const uint8_t *in, size_t in_len) {
  const uint8_t *der;
  size_t der_len;
  uint8_t *owned = NULL;
  if (!ca_csr_decode(in, in_len, &der, &der_len, &owned)) {
    FUZZ_ASSERT_REFUSED();
    FUZZ_ASSERT(owned == NULL);
    return;
  }
  FUZZ_ASSERT(der_len <= CA_LIMIT_CSR_BYTES);
  ca_csr csr;
  if (!ca_csr_parse(&csr, der, der_len)) {
    FUZZ_ASSERT_REFUSED();
  } else {
    FUZZ_ASSERT(csr.pkey != NULL);
    FUZZ_ASSERT(csr.key.type == CA_KEY_RSA || csr.key.type == CA_KEY_EC);
    if (!ca_csr_verify(&csr)) {
      FUZZ_ASSERT(ca_err_get()->code == CA_ERR_CSR_SIGNATURE_INVALID);
    }
    ca_csr_cleanup(&csr);
  }
  OPENSSL_free(owned);
}

// check_issued reads back a certificate that ca_issue_sign made from the
// request |in| and checks ARCHITECTURE.md invariants 4 and 5 on it.
static void check_issued(const ca_issued *issued, const uint8_t *in,
                         size_t in_len) {
  ca_x509 cert;
  FUZZ_ASSERT(ca_x509_parse(&cert, issued->der, issued->der_len));
  FUZZ_ASSERT(issued->subject != NULL);
  FUZZ_ASSERT(issued->san_count >= 1);
  FUZZ_ASSERT(issued->not_before < issued->not_after);

  // Invariant 5: only Key Usage and Basic Constraints are critical.
  CBS exts = cert.extensions;
  while (CBS_len(&exts) > 0) {
    CBS ext, oid;
    int critical = 0;
    FUZZ_ASSERT(CBS_get_asn1(&exts, &ext, CBS_ASN1_SEQUENCE) &&
                CBS_get_asn1(&ext, &oid, CBS_ASN1_OBJECT));
    if (CBS_peek_asn1_tag(&ext, CBS_ASN1_BOOLEAN)) {
      FUZZ_ASSERT(CBS_get_asn1_bool(&ext, &critical));
    }
    FUZZ_ASSERT(!critical ||
                CBS_mem_equal(&oid, kOidKeyUsage, sizeof(kOidKeyUsage)) ||
                CBS_mem_equal(&oid, kOidBasicConstraints,
                              sizeof(kOidBasicConstraints)));
  }

  // Invariant 4: a SAN always, and a requested one copied exactly.
  CBS san;
  int critical;
  FUZZ_ASSERT(ca_x509_find_extension(&cert, kOidSubjectAltName,
                                     sizeof(kOidSubjectAltName), &san,
                                     &critical) &&
              !critical);
  const uint8_t *der;
  size_t der_len;
  uint8_t *owned;
  ca_csr csr;
  FUZZ_ASSERT(ca_csr_decode(in, in_len, &der, &der_len, &owned));
  FUZZ_ASSERT(ca_csr_parse(&csr, der, der_len));
  if (csr.has_san) {
    FUZZ_ASSERT(CBS_mem_equal(&san, CBS_data(&csr.san), CBS_len(&csr.san)));
  }
  ca_csr_cleanup(&csr);
  OPENSSL_free(owned);
}

static void check_issue(const char *profile, uint32_t days, const uint8_t *in,
                        size_t in_len) {
  const ca_issue_request request = {
      .profile = profile, .csr = in, .csr_len = in_len, .validity_days = days};
  ca_issued issued;
  if (ca_issue_sign(state.authority, NULL, &request, (int64_t)time(NULL),
                    &issued)) {
    FUZZ_ASSERT(issued.err.code == CA_OK);
    check_issued(&issued, in, in_len);
  } else {
    FUZZ_ASSERT(issued.der == NULL);
    FUZZ_ASSERT_REFUSED();
    FUZZ_ASSERT(issued.err.code == ca_err_get()->code);
  }
  ca_issued_cleanup(&issued);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) {
    return 0;
  }
  state_init();
  const uint8_t control = data[0];
  const char *profile = kProfiles[control & 7];
  const int resign_mode = (control & 0x08) != 0;
  const int use_p384 = (control & 0x10) != 0;
  const uint32_t days = kDays[control >> 5];
  data++;
  size--;

  if (!resign_mode) {
    check_request(data, size);
    check_issue(profile, days, data, size);
    return 0;
  }

  // Sign with a key of the profile's type, so the request gets past the
  // key checks; an unknown profile is refused before the key matters.
  const ca_profile *p = ca_profile_find(&state.authority->profiles, profile);
  const int ec = p == NULL || p->key_type == CA_KEY_EC;
  EVP_PKEY *key = ec ? (use_p384 ? state.p384 : state.p256) : state.rsa;
  const EVP_MD *md = ec && use_p384 ? EVP_sha384() : EVP_sha256();
  uint8_t *csr = NULL;
  size_t csr_len;
  if (!resign(data, size, key, ec ? CA_KEY_EC : CA_KEY_RSA, md, &csr,
              &csr_len)) {
    return 0;
  }
  check_request(csr, csr_len);
  check_issue(profile, days, csr, csr_len);
  OPENSSL_free(csr);
  return 0;
}
