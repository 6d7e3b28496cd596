// Unit tests of ca/x509/certificate.c: KeyUsage BIT STRINGs against hand-worked
// DER (unused-bits count, second octet for decipherOnly) and BoringSSL's
// bit reader; certificates built by pki are parsed back with BoringSSL's
// d2i_X509, their signatures checked with X509_verify, a root-issuing-leaf
// chain validated with X509_verify_cert, and every extension's order,
// criticality and bytes compared with what ARCHITECTURE.md asks for.
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ca/policy/profile.h"
#include "ca/x509/asn1_time.h"
#include "ca/x509/certificate.h"
#include "ca/x509/key.h"
#include "ca/x509/name.h"
#include "ca/x509/serial.h"
#include "ca/x509/usage.h"
#include "tests/support/test.h"

static EVP_PKEY *ec_issuer, *rsa_issuer, *leaf_key;

static EVP_PKEY *new_key(const char *name) {
  ca_key_spec spec;
  return ca_key_spec_parse(&spec, name) ? ca_key_generate(&spec) : NULL;
}

// --- KeyUsage ---

static void check_ku(unsigned bits, const char *want, size_t want_len) {
  uint8_t buf[16];
  CBB cbb;
  size_t len = 0;
  CHECK(CBB_init_fixed(&cbb, buf, sizeof(buf)) &&
        ca_key_usage_add(&cbb, bits) && CBB_finish(&cbb, NULL, &len));
  CHECK_EQ_BYTES(buf, len, want, want_len);
  if (len != want_len || memcmp(buf, want, want_len) != 0) {
    fprintf(stderr, "  bits 0x%x:", bits);
    for (size_t i = 0; i < len; i++) {
      fprintf(stderr, " %02x", buf[i]);
    }
    fprintf(stderr, "\n");
  }
  // BoringSSL reads the same bits back, and nothing else.
  const uint8_t *p = buf;
  ASN1_BIT_STRING *bs = d2i_ASN1_BIT_STRING(NULL, &p, (long)len);
  CHECK(bs != NULL && p == buf + len);
  for (int i = 0; bs != NULL && i < 16; i++) {
    CHECK_EQ_INT(ASN1_BIT_STRING_get_bit(bs, i), (bits >> i) & 1);
  }
  ASN1_BIT_STRING_free(bs);
}

#define KU(bits, der) check_ku(bits, der, sizeof(der) - 1)

TEST(key_usage_bit_strings) {
  // Bit n of KeyUsage is the n-th bit from the most significant of the
  // first octet; DER drops trailing zero bits and counts them as unused.
  KU(0, "\x03\x01\x00");
  KU(CA_KU_DIGITAL_SIGNATURE, "\x03\x02\x07\x80");
  KU(CA_KU_NON_REPUDIATION, "\x03\x02\x06\x40");
  KU(CA_KU_DIGITAL_SIGNATURE | CA_KU_KEY_AGREEMENT, "\x03\x02\x03\x88");
  // tomcat, ipsec, CallManager: 0, 2, 3, 4.
  KU(CA_KU_DIGITAL_SIGNATURE | CA_KU_KEY_ENCIPHERMENT |
         CA_KU_DATA_ENCIPHERMENT | CA_KU_KEY_AGREEMENT,
     "\x03\x02\x03\xb8");
  // CAPF: 0 and 5.
  KU(CA_KU_DIGITAL_SIGNATURE | CA_KU_KEY_CERT_SIGN, "\x03\x02\x02\x84");
  // pki's CAs: 0, 5 and 6.
  KU(CA_KU_DIGITAL_SIGNATURE | CA_KU_KEY_CERT_SIGN | CA_KU_CRL_SIGN,
     "\x03\x02\x01\x86");
  KU(CA_KU_KEY_CERT_SIGN | CA_KU_CRL_SIGN, "\x03\x02\x01\x06");
  KU(CA_KU_CRL_SIGN, "\x03\x02\x01\x02");
  // encipherOnly (7) fills the first octet; decipherOnly (8) needs a second.
  KU(1u << 7, "\x03\x02\x00\x01");
  KU(1u << 8, "\x03\x03\x07\x00\x80");
  KU(CA_KU_DIGITAL_SIGNATURE | (1u << 8), "\x03\x03\x07\x80\x80");
  KU(0x1ff, "\x03\x03\x07\xff\x80");
  KU(0xff, "\x03\x02\x00\xff");
}

// --- building ---

typedef struct built {
  uint8_t *der;
  size_t len;
  X509 *x;
  uint8_t key_id[CA_KEY_ID_LEN];
} built;

static void built_free(built *b) {
  OPENSSL_free(b->der);
  X509_free(b->x);
  memset(b, 0, sizeof(*b));
}

// Buffers the template borrows from.
static uint8_t issuer_name[128], subject_name[128], spki[1024];
static size_t issuer_name_len, subject_name_len, spki_len;
static const uint8_t kSan[] = {0x30, 0x19, 0x82, 0x11, 'c',  'u', 'c', 'm', '1',
                               '.',  'e',  'x',  'a',  'm',  'p', 'l', 'e', '.',
                               'c',  'o',  'm',  0x87, 0x04, 10,  0,   0,   5};
static const uint8_t kAkid[CA_KEY_ID_LEN] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
static ca_serial serial;

static int bytes_of(CBB *cbb, uint8_t *out, size_t cap, size_t *out_len) {
  if (CBB_len(cbb) > cap) {
    return 0;
  }
  memcpy(out, CBB_data(cbb), CBB_len(cbb));
  *out_len = CBB_len(cbb);
  return 1;
}

static int setup_names(void) {
  CBB cbb;
  int ok = CBB_init(&cbb, 128) &&
           ca_name_add_simple(&cbb, "US", "Example", "Example Issuing CA") &&
           bytes_of(&cbb, issuer_name, sizeof(issuer_name), &issuer_name_len);
  CBB_cleanup(&cbb);
  ok = ok && CBB_init(&cbb, 128) &&
       ca_name_add_simple(&cbb, NULL, "Example", "cucm1.example.com") &&
       bytes_of(&cbb, subject_name, sizeof(subject_name), &subject_name_len);
  CBB_cleanup(&cbb);
  ok = ok && CBB_init(&cbb, 1024) && EVP_marshal_public_key(&cbb, leaf_key) &&
       bytes_of(&cbb, spki, sizeof(spki), &spki_len);
  CBB_cleanup(&cbb);
  return ok &&
         ca_serial_from_hex("80a1b2c3d4e5f60718293a4b5c6d7e8f", 32, &serial);
}

// leaf_template fills |t| as issue.c would for a tomcat leaf.
static void leaf_template(ca_cert_template *t) {
  memset(t, 0, sizeof(*t));
  t->serial = &serial;
  CBS_init(&t->issuer_name, issuer_name, issuer_name_len);
  CBS_init(&t->subject_name, subject_name, subject_name_len);
  CBS_init(&t->spki, spki, spki_len);
  t->not_before = INT64_C(1700000000);
  t->not_after = INT64_C(1700000000) + 730 * 86400;
  t->key_usage = CA_KU_DIGITAL_SIGNATURE | CA_KU_KEY_ENCIPHERMENT |
                 CA_KU_DATA_ENCIPHERMENT | CA_KU_KEY_AGREEMENT;
  t->ext_key_usage =
      CA_EKU_SERVER_AUTH | CA_EKU_CLIENT_AUTH | CA_EKU_IPSEC_END_SYSTEM;
  t->path_len = -1;
  CBS_init(&t->san, kSan, sizeof(kSan));
  t->authority_key_id = kAkid;
  t->ocsp_url = "http://ocsp.example.com:8080/";
}

static int build(const ca_cert_template *t, EVP_PKEY *issuer, ca_key_type type,
                 const EVP_MD *md, built *out) {
  memset(out, 0, sizeof(*out));
  ca_err_clear();
  if (!ca_certificate_build(t, issuer, type, md, &out->der, &out->len,
                            out->key_id)) {
    return 0;
  }
  const uint8_t *p = out->der;
  out->x = d2i_X509(NULL, &p, (long)out->len);
  CHECK(out->x != NULL);
  CHECK(p == out->der + out->len);
  return out->x != NULL;
}

static int64_t posix_of(const ASN1_TIME *t) {
  ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
  int days = 0, secs = 0;
  if (epoch == NULL || !ASN1_TIME_diff(&days, &secs, epoch, t)) {
    days = secs = -1;
  }
  ASN1_TIME_free(epoch);
  return (int64_t)days * 86400 + secs;
}

// ext_value returns a view of the extnValue contents of |nid| in |x|.
static int ext_value(X509 *x, int nid, CBS *out) {
  const int idx = X509_get_ext_by_NID(x, nid, -1);
  if (idx < 0) {
    return 0;
  }
  const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(X509_get_ext(x, idx));
  CBS_init(out, ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v));
  return 1;
}

static int ext_is(X509 *x, int nid, const char *want, size_t want_len) {
  CBS v;
  return ext_value(x, nid, &v) &&
         CBS_mem_equal(&v, (const uint8_t *)want, want_len);
}

static int name_is(const X509_NAME *name, const uint8_t *der, size_t len) {
  uint8_t *buf = NULL;
  const int n = i2d_X509_NAME((X509_NAME *)name, &buf);  // i2d is not const
  const int same = n > 0 && (size_t)n == len && memcmp(buf, der, len) == 0;
  OPENSSL_free(buf);
  return same;
}

TEST(leaf_read_back_by_boringssl) {
  ca_cert_template t;
  leaf_template(&t);
  built b;
  CHECK(build(&t, ec_issuer, CA_KEY_EC, EVP_sha256(), &b));
  if (b.x == NULL) {
    built_free(&b);
    return;
  }
  X509 *x = b.x;
  // The signature is the issuer's, and only the issuer's.
  CHECK_EQ_INT(X509_verify(x, ec_issuer), 1);
  CHECK(X509_verify(x, leaf_key) != 1);
  ERR_clear_error();
  CHECK_EQ_INT(X509_get_version(x), X509_VERSION_3);
  // Serial 0x80a1...8f: positive, so a zero sign octet precedes it.
  BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
  char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
  CHECK(hex != NULL &&
        strcasecmp(hex, "80A1B2C3D4E5F60718293A4B5C6D7E8F") == 0);
  CHECK(bn != NULL && !BN_is_negative(bn));
  OPENSSL_free(hex);
  BN_free(bn);
  // Names byte for byte, times to the second.
  CHECK(name_is(X509_get_issuer_name(x), issuer_name, issuer_name_len));
  CHECK(name_is(X509_get_subject_name(x), subject_name, subject_name_len));
  CHECK_EQ_INT(posix_of(X509_get0_notBefore(x)), t.not_before);
  CHECK_EQ_INT(posix_of(X509_get0_notAfter(x)), t.not_after);
  // The key is the template's.
  EVP_PKEY *pub = X509_get_pubkey(x);
  CHECK(pub != NULL && EVP_PKEY_cmp(pub, leaf_key) == 1);
  EVP_PKEY_free(pub);
  // The signature algorithm appears twice, identically (RFC 5280 4.1.1.2).
  const ASN1_BIT_STRING *sig;
  const X509_ALGOR *outer;
  X509_get0_signature(&sig, &outer, x);
  CHECK_EQ_INT(X509_ALGOR_cmp(outer, X509_get0_tbs_sigalg(x)), 0);
  CHECK_EQ_INT(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
  built_free(&b);
}

TEST(leaf_extensions) {
  ca_cert_template t;
  leaf_template(&t);
  built b;
  CHECK(build(&t, rsa_issuer, CA_KEY_RSA, EVP_sha256(), &b));
  if (b.x == NULL) {
    built_free(&b);
    return;
  }
  X509 *x = b.x;
  // The order and criticality of ca/x509/certificate.h (ARCHITECTURE.md
  // invariant 5: only keyUsage and basicConstraints are critical).
  static const int kOrder[] = {
      NID_basic_constraints,
      NID_key_usage,
      NID_ext_key_usage,
      NID_subject_alt_name,
      NID_subject_key_identifier,
      NID_authority_key_identifier,
      NID_info_access,
  };
  const size_t n = sizeof(kOrder) / sizeof(kOrder[0]);
  CHECK_EQ_INT(X509_get_ext_count(x), n);
  for (size_t i = 0; i < n && i < (size_t)X509_get_ext_count(x); i++) {
    X509_EXTENSION *ext = X509_get_ext(x, (int)i);
    CHECK_EQ_INT(OBJ_obj2nid(X509_EXTENSION_get_object(ext)), kOrder[i]);
    CHECK_EQ_INT(
        X509_EXTENSION_get_critical(ext),
        kOrder[i] == NID_basic_constraints || kOrder[i] == NID_key_usage);
  }
  // basicConstraints of a leaf: the empty SEQUENCE (cA DEFAULT FALSE).
  CHECK(ext_is(x, NID_basic_constraints, "\x30\x00", 2));
  BASIC_CONSTRAINTS *bc =
      X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
  CHECK(bc != NULL && !bc->ca && bc->pathlen == NULL);
  BASIC_CONSTRAINTS_free(bc);
  // keyUsage 0, 2, 3, 4 and BoringSSL's reading of it.
  CHECK(ext_is(x, NID_key_usage, "\x03\x02\x03\xb8", 4));
  CHECK_EQ_INT(X509_get_key_usage(x),
               KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT |
                   KU_DATA_ENCIPHERMENT | KU_KEY_AGREEMENT);
  // extKeyUsage in the documented order.
  EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
  CHECK(eku != NULL && sk_ASN1_OBJECT_num(eku) == 3);
  if (eku != NULL && sk_ASN1_OBJECT_num(eku) == 3) {
    CHECK_EQ_INT(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)), NID_server_auth);
    CHECK_EQ_INT(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 1)), NID_client_auth);
    CHECK_EQ_INT(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 2)), NID_ipsecEndSystem);
  }
  EXTENDED_KEY_USAGE_free(eku);
  // subjectAltName copied exactly.
  CHECK(ext_is(x, NID_subject_alt_name, (const char *)kSan, sizeof(kSan)));
  // subjectKeyIdentifier: SHA-1 of the key bits (RFC 5280 4.2.1.2 (1)),
  // computed here from BoringSSL's view of the key.
  const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(x);
  uint8_t sha[SHA_DIGEST_LENGTH];
  SHA1(ASN1_STRING_get0_data(bits), (size_t)ASN1_STRING_length(bits), sha);
  const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(x);
  CHECK(skid != NULL && ASN1_STRING_length(skid) == CA_KEY_ID_LEN &&
        memcmp(ASN1_STRING_get0_data(skid), sha, CA_KEY_ID_LEN) == 0);
  CHECK(memcmp(b.key_id, sha, CA_KEY_ID_LEN) == 0);
  // authorityKeyIdentifier: keyIdentifier [0] only.
  const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(x);
  CHECK(akid != NULL && ASN1_STRING_length(akid) == CA_KEY_ID_LEN &&
        memcmp(ASN1_STRING_get0_data(akid), kAkid, CA_KEY_ID_LEN) == 0);
  CBS v;
  CHECK(ext_value(x, NID_authority_key_identifier, &v) && CBS_len(&v) == 24 &&
        memcmp(CBS_data(&v), "\x30\x16\x80\x14", 4) == 0);
  // authorityInfoAccess: one id-ad-ocsp URI.
  AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
  CHECK(aia != NULL && sk_ACCESS_DESCRIPTION_num(aia) == 1);
  if (aia != NULL && sk_ACCESS_DESCRIPTION_num(aia) == 1) {
    const ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, 0);
    CHECK_EQ_INT(OBJ_obj2nid(ad->method), NID_ad_OCSP);
    CHECK_EQ_INT(ad->location->type, GEN_URI);
    const ASN1_IA5STRING *uri = ad->location->d.uniformResourceIdentifier;
    CHECK(ASN1_STRING_length(uri) == 29 &&
          memcmp(ASN1_STRING_get0_data(uri), "http://ocsp.example.com:8080/",
                 29) == 0);
  }
  AUTHORITY_INFO_ACCESS_free(aia);
  built_free(&b);
}

TEST(optional_extensions_left_out) {
  ca_cert_template t;
  leaf_template(&t);
  t.key_usage = 0;
  t.ext_key_usage = 0;
  CBS_init(&t.san, NULL, 0);
  t.authority_key_id = NULL;
  t.ocsp_url = NULL;
  built b;
  CHECK(build(&t, ec_issuer, CA_KEY_EC, EVP_sha256(), &b));
  // Only basicConstraints and the subject key identifier remain.
  CHECK(b.x != NULL && X509_get_ext_count(b.x) == 2);
  CHECK(b.x != NULL &&
        X509_get_ext_by_NID(b.x, NID_basic_constraints, -1) == 0 &&
        X509_get_ext_by_NID(b.x, NID_subject_key_identifier, -1) == 1);
  built_free(&b);
  // An empty OCSP URL is no URL.
  t.ocsp_url = "";
  CHECK(build(&t, ec_issuer, CA_KEY_EC, EVP_sha256(), &b));
  CHECK(b.x != NULL && X509_get_ext_by_NID(b.x, NID_info_access, -1) < 0);
  built_free(&b);
  // EKU alone, with OCSP signing (an OCSP responder certificate).
  t.ext_key_usage = CA_EKU_OCSP_SIGNING;
  CHECK(build(&t, ec_issuer, CA_KEY_EC, EVP_sha256(), &b));
  static const char kOcspEku[] =
      "\x30\x0a\x06\x08\x2b\x06\x01\x05\x05\x07\x03\x09";
  CHECK(b.x != NULL &&
        ext_is(b.x, NID_ext_key_usage, kOcspEku, sizeof(kOcspEku) - 1));
  built_free(&b);
}

// The AIA with a caIssuers URI after the OCSP one, or alone, in the DER
// RFC 5280 4.2.2.1 gives and as BoringSSL reads it.
TEST(authority_info_access_ca_issuers) {
  ca_cert_template t;
  leaf_template(&t);
  t.ocsp_url = "http://o/";
  t.ca_issuers_url = "http://c/i";
  built b;
  CHECK(build(&t, rsa_issuer, CA_KEY_RSA, EVP_sha256(), &b));
  // SEQUENCE { SEQUENCE { id-ad-ocsp, [6] "http://o/" },
  //            SEQUENCE { id-ad-caIssuers, [6] "http://c/i" } }
  static const char kBoth[] =
      "\x30\x2f"
      "\x30\x15\x06\x08\x2b\x06\x01\x05\x05\x07\x30\x01\x86\x09http://o/"
      "\x30\x16\x06\x08\x2b\x06\x01\x05\x05\x07\x30\x02\x86\x0ahttp://c/i";
  CHECK(b.x != NULL && ext_is(b.x, NID_info_access, kBoth, sizeof(kBoth) - 1));
  AUTHORITY_INFO_ACCESS *aia =
      b.x != NULL ? X509_get_ext_d2i(b.x, NID_info_access, NULL, NULL) : NULL;
  CHECK(aia != NULL && sk_ACCESS_DESCRIPTION_num(aia) == 2);
  if (aia != NULL && sk_ACCESS_DESCRIPTION_num(aia) == 2) {
    const ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, 1);
    CHECK_EQ_INT(OBJ_obj2nid(ad->method), NID_ad_ca_issuers);
    CHECK_EQ_INT(ad->location->type, GEN_URI);
  }
  AUTHORITY_INFO_ACCESS_free(aia);
  built_free(&b);
  // caIssuers alone: the extension still comes, with one description.
  t.ocsp_url = "";
  CHECK(build(&t, rsa_issuer, CA_KEY_RSA, EVP_sha256(), &b));
  static const char kAlone[] =
      "\x30\x18"
      "\x30\x16\x06\x08\x2b\x06\x01\x05\x05\x07\x30\x02\x86\x0ahttp://c/i";
  CHECK(b.x != NULL &&
        ext_is(b.x, NID_info_access, kAlone, sizeof(kAlone) - 1));
  built_free(&b);
  // Neither: no AIA at all.
  t.ca_issuers_url = NULL;
  CHECK(build(&t, rsa_issuer, CA_KEY_RSA, EVP_sha256(), &b));
  CHECK(b.x != NULL && X509_get_ext_by_NID(b.x, NID_info_access, -1) < 0);
  built_free(&b);
}

TEST(ca_basic_constraints) {
  ca_cert_template t;
  leaf_template(&t);
  t.is_ca = 1;
  t.key_usage = CA_KU_DIGITAL_SIGNATURE | CA_KU_KEY_CERT_SIGN;
  static const struct {
    int path_len;
    const char *der;
    size_t len;
  } kCases[] = {
      {-1, "\x30\x03\x01\x01\xff", 5},
      {0, "\x30\x06\x01\x01\xff\x02\x01\x00", 8},
      {1, "\x30\x06\x01\x01\xff\x02\x01\x01", 8},
      {200, "\x30\x07\x01\x01\xff\x02\x02\x00\xc8", 9},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    t.path_len = kCases[i].path_len;
    built b;
    CHECK(build(&t, ec_issuer, CA_KEY_EC, EVP_sha256(), &b));
    if (b.x == NULL) {
      built_free(&b);
      continue;
    }
    CHECK(ext_is(b.x, NID_basic_constraints, kCases[i].der, kCases[i].len));
    BASIC_CONSTRAINTS *bc =
        X509_get_ext_d2i(b.x, NID_basic_constraints, NULL, NULL);
    CHECK(bc != NULL && bc->ca);
    if (bc != NULL) {
      if (kCases[i].path_len < 0) {
        CHECK(bc->pathlen == NULL);
      } else {
        CHECK(bc->pathlen != NULL &&
              ASN1_INTEGER_get(bc->pathlen) == kCases[i].path_len);
      }
    }
    BASIC_CONSTRAINTS_free(bc);
    built_free(&b);
  }
  // path_len is ignored for a leaf.
  t.is_ca = 0;
  t.path_len = 0;
  built b;
  CHECK(build(&t, ec_issuer, CA_KEY_EC, EVP_sha256(), &b));
  CHECK(b.x != NULL && ext_is(b.x, NID_basic_constraints, "\x30\x00", 2));
  built_free(&b);
}

TEST(signature_algorithms) {
  static const struct {
    int rsa;
    const EVP_MD *(*md)(void);
    int nid;
    const char *alg;
    size_t alg_len;
  } kCases[] = {
      {1, EVP_sha256, NID_sha256WithRSAEncryption,
       "\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b\x05\x00", 15},
      {1, EVP_sha384, NID_sha384WithRSAEncryption,
       "\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0c\x05\x00", 15},
      {1, EVP_sha512, NID_sha512WithRSAEncryption,
       "\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0d\x05\x00", 15},
      {0, EVP_sha256, NID_ecdsa_with_SHA256,
       "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02", 12},
      {0, EVP_sha384, NID_ecdsa_with_SHA384,
       "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x03", 12},
      {0, EVP_sha512, NID_ecdsa_with_SHA512,
       "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x04", 12},
  };
  ca_cert_template t;
  leaf_template(&t);
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    EVP_PKEY *issuer = kCases[i].rsa ? rsa_issuer : ec_issuer;
    built b;
    CHECK(build(&t, issuer, kCases[i].rsa ? CA_KEY_RSA : CA_KEY_EC,
                kCases[i].md(), &b));
    if (b.x == NULL) {
      built_free(&b);
      continue;
    }
    CHECK_EQ_INT(X509_get_signature_nid(b.x), kCases[i].nid);
    CHECK_EQ_INT(X509_verify(b.x, issuer), 1);
    // The AlgorithmIdentifier bytes: NULL parameters for RSA (RFC 4055),
    // none for ECDSA (RFC 5758); the outer one ends the certificate but
    // for the signature.
    const ASN1_BIT_STRING *sig;
    const X509_ALGOR *alg;
    X509_get0_signature(&sig, &alg, b.x);
    uint8_t *alg_der = NULL;
    const int alg_len = i2d_X509_ALGOR((X509_ALGOR *)alg, &alg_der);
    CHECK(alg_len > 0 && (size_t)alg_len == kCases[i].alg_len &&
          memcmp(alg_der, kCases[i].alg, kCases[i].alg_len) == 0);
    OPENSSL_free(alg_der);
    built_free(&b);
  }
  // No SHA-1, no MD5: refused before anything is signed.
  built b;
  uint8_t *der = (uint8_t *)"untouched";
  size_t len = 0;
  CHECK(!ca_certificate_build(&t, rsa_issuer, CA_KEY_RSA, EVP_sha1(), &der,
                              &len, NULL));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_INTERNAL);
  CHECK(!ca_certificate_build(&t, ec_issuer, CA_KEY_EC, EVP_md5(), &der, &len,
                              NULL));
  CHECK(strcmp((const char *)der, "untouched") == 0);
  // RSA PKCS#1 v1.5 is deterministic: the same template gives the same
  // certificate, so nothing random slips in besides the serial given.
  built b2;
  CHECK(build(&t, rsa_issuer, CA_KEY_RSA, EVP_sha256(), &b));
  CHECK(build(&t, rsa_issuer, CA_KEY_RSA, EVP_sha256(), &b2));
  CHECK(b.len == b2.len && memcmp(b.der, b2.der, b.len) == 0);
  built_free(&b);
  built_free(&b2);
}

TEST(validity_encoding_and_checks) {
  ca_cert_template t;
  leaf_template(&t);
  // Through 2049 UTCTime, from 2050 GeneralizedTime (RFC 5280 4.1.2.5).
  t.not_before = INT64_C(2524607999);
  t.not_after = INT64_C(2524608000);
  built b;
  CHECK(build(&t, ec_issuer, CA_KEY_EC, EVP_sha256(), &b));
  if (b.x != NULL) {
    const ASN1_TIME *nb = X509_get0_notBefore(b.x);
    const ASN1_TIME *na = X509_get0_notAfter(b.x);
    CHECK_EQ_INT(ASN1_STRING_type(nb), V_ASN1_UTCTIME);
    CHECK(ASN1_STRING_length(nb) == 13 &&
          memcmp(ASN1_STRING_get0_data(nb), "491231235959Z", 13) == 0);
    CHECK_EQ_INT(ASN1_STRING_type(na), V_ASN1_GENERALIZEDTIME);
    CHECK(ASN1_STRING_length(na) == 15 &&
          memcmp(ASN1_STRING_get0_data(na), "20500101000000Z", 15) == 0);
  }
  built_free(&b);
  // A certificate must start before it ends, within the Time range.
  static const struct {
    int64_t nb, na;
  } kBad[] = {
      {1000, 1000},
      {1001, 1000},
      {0, CA_TIME_MAX + 1},
      {CA_TIME_MIN - 1, 0},
  };
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    t.not_before = kBad[i].nb;
    t.not_after = kBad[i].na;
    uint8_t *der = NULL;
    size_t len = 0;
    CHECK(!ca_certificate_build(&t, ec_issuer, CA_KEY_EC, EVP_sha256(), &der,
                                &len, NULL));
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_INTERNAL);
    CHECK(der == NULL);
  }
  // The extremes are fine.
  t.not_before = CA_TIME_MIN;
  t.not_after = CA_TIME_MAX;
  CHECK(build(&t, ec_issuer, CA_KEY_EC, EVP_sha256(), &b));
  built_free(&b);
}

TEST(bad_subject_key) {
  ca_cert_template t;
  leaf_template(&t);
  static const uint8_t kNotSpki[] = {0x30, 0x03, 0x02, 0x01, 0x00};
  CBS_init(&t.spki, kNotSpki, sizeof(kNotSpki));
  uint8_t *der = NULL;
  size_t len = 0;
  uint8_t id[CA_KEY_ID_LEN];
  CHECK(!ca_certificate_build(&t, ec_issuer, CA_KEY_EC, EVP_sha256(), &der,
                              &len, id));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  CHECK(der == NULL);
}

// Every ca_extension_add_* failure records why: a fixed buffer too small for
// the extension makes the CBB refuse to grow.
TEST(extension_add_failures_record_an_error) {
  uint8_t buf[4];
  CBB cbb;
  CBS names;
  CBS_init(&names, kSan, sizeof(kSan));
  for (int which = 0; which < 3; which++) {
    ca_err_clear();
    CHECK(CBB_init_fixed(&cbb, buf, sizeof(buf)));
    int ok;
    if (which == 0) {
      ok = ca_extension_add_key_usage(&cbb, CA_KU_DIGITAL_SIGNATURE);
    } else if (which == 1) {
      ok = ca_extension_add_ext_key_usage(&cbb, CA_EKU_SERVER_AUTH);
    } else {
      ok = ca_extension_add_san(&cbb, &names);
    }
    CHECK(!ok);
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_INTERNAL);
    CHECK(ca_err_get()->message[0] != '\0');
    CBB_cleanup(&cbb);
  }
}

TEST(chain_validates_with_boringssl) {
  // A root and a leaf made by pki, validated by BoringSSL's path builder:
  // the issuer name, key identifiers, basicConstraints and keyUsage of the
  // root must all be right for this to pass.
  const int64_t now = (int64_t)time(NULL);
  CBB cbb;
  uint8_t root_name[128], root_spki[1024];
  size_t root_name_len = 0, root_spki_len = 0;
  CHECK(CBB_init(&cbb, 128) &&
        ca_name_add_simple(&cbb, NULL, "Example", "Example Root CA") &&
        bytes_of(&cbb, root_name, sizeof(root_name), &root_name_len));
  CBB_cleanup(&cbb);
  CHECK(CBB_init(&cbb, 1024) && EVP_marshal_public_key(&cbb, ec_issuer) &&
        bytes_of(&cbb, root_spki, sizeof(root_spki), &root_spki_len));
  CBB_cleanup(&cbb);
  ca_serial root_serial;
  CHECK(ca_serial_generate(&root_serial));
  ca_cert_template rt = {
      .serial = &root_serial,
      .not_before = now - 3600,
      .not_after = now + 10 * 365 * 86400,
      .key_usage =
          CA_KU_KEY_CERT_SIGN | CA_KU_CRL_SIGN | CA_KU_DIGITAL_SIGNATURE,
      .is_ca = 1,
      .path_len = -1,
  };
  CBS_init(&rt.issuer_name, root_name, root_name_len);
  rt.subject_name = rt.issuer_name;
  CBS_init(&rt.spki, root_spki, root_spki_len);
  built root;
  CHECK(build(&rt, ec_issuer, CA_KEY_EC, EVP_sha256(), &root));
  ca_cert_template lt;
  leaf_template(&lt);
  lt.issuer_name = rt.subject_name;
  lt.authority_key_id = root.key_id;
  lt.not_before = now - 300;
  lt.not_after = now + 730 * 86400;
  built leaf;
  CHECK(build(&lt, ec_issuer, CA_KEY_EC, EVP_sha256(), &leaf));
  if (root.x != NULL && leaf.x != NULL) {
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    CHECK(store != NULL && ctx != NULL && X509_STORE_add_cert(store, root.x));
    CHECK(X509_STORE_CTX_init(ctx, store, leaf.x, NULL));
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    const int ok = X509_verify_cert(ctx);
    if (ok != 1) {
      fprintf(stderr, "  X509_verify_cert: %s\n",
              X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    }
    CHECK_EQ_INT(ok, 1);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    CHECK_EQ_INT(X509_check_issued(root.x, leaf.x), X509_V_OK);
    CHECK_EQ_INT(X509_check_ca(root.x), 1);
    CHECK_EQ_INT(X509_check_ca(leaf.x), 0);
  }
  built_free(&root);
  built_free(&leaf);
}

int main(void) {
  ec_issuer = new_key("EC-P256");
  rsa_issuer = new_key("RSA-2048");
  leaf_key = new_key("EC-P384");
  if (ec_issuer == NULL || rsa_issuer == NULL || leaf_key == NULL ||
      !setup_names()) {
    fprintf(stderr, "setup failed\n");
    return 1;
  }
  RUN(key_usage_bit_strings);
  RUN(leaf_read_back_by_boringssl);
  RUN(leaf_extensions);
  RUN(optional_extensions_left_out);
  RUN(ca_basic_constraints);
  RUN(signature_algorithms);
  RUN(validity_encoding_and_checks);
  RUN(authority_info_access_ca_issuers);
  RUN(bad_subject_key);
  RUN(extension_add_failures_record_an_error);
  RUN(chain_validates_with_boringssl);
  EVP_PKEY_free(ec_issuer);
  EVP_PKEY_free(rsa_issuer);
  EVP_PKEY_free(leaf_key);
  return test_summary();
}
