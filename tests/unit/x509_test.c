// Unit tests of ca/x509/x509.c: certificates made by BoringSSL's X509 encoder
// are read by pki and every field compared with BoringSSL's own accessors;
// variants are made by splitting a certificate into its DER fields and
// reassembling it with one field changed.
#include <openssl/asn1.h>
#include <openssl/bytestring.h>
#include <openssl/ec_key.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "ca/x509/asn1_time.h"
#include "ca/x509/x509.h"
#include "tests/support/test.h"

static EVP_PKEY *key;

static EVP_PKEY *new_ec_key(void) {
  EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
  EVP_PKEY *pkey = EVP_PKEY_new();
  if (ec == NULL || pkey == NULL || !EC_KEY_generate_key(ec) ||
      !EVP_PKEY_assign_EC_KEY(pkey, ec)) {
    EC_KEY_free(ec);
    EVP_PKEY_free(pkey);
    return NULL;
  }
  return pkey;
}

static int add_ext(X509 *x, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
  const int ok = ext != NULL && X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  return ok;
}

// make_cert makes a certificate with BoringSSL: |version| is X509_VERSION_*,
// |with_exts| adds basicConstraints and keyUsage (critical), an SKI
// computed by BoringSSL ("hash"), a SAN and an EKU.
static X509 *make_cert(long version, int with_exts, int64_t not_before,
                       int64_t not_after) {
  X509 *x = X509_new();
  X509_NAME *name = X509_NAME_new();
  int ok =
      x != NULL && name != NULL && X509_set_version(x, version) &&
      ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234567) &&
      X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                 (const uint8_t *)"Example", -1, -1, 0) &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 (const uint8_t *)"x509 test", -1, -1, 0) &&
      X509_set_subject_name(x, name) && X509_set_issuer_name(x, name) &&
      ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before) &&
      ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after) &&
      X509_set_pubkey(x, key);
  if (ok && with_exts) {
    ok = add_ext(x, NID_basic_constraints, "critical,CA:TRUE,pathlen:1") &&
         add_ext(x, NID_key_usage, "critical,keyCertSign,cRLSign") &&
         add_ext(x, NID_subject_key_identifier, "hash") &&
         add_ext(x, NID_subject_alt_name, "DNS:a.example.com") &&
         add_ext(x, NID_ext_key_usage, "serverAuth");
  }
  ok = ok && X509_sign(x, key, EVP_sha256());
  X509_NAME_free(name);
  if (!ok) {
    X509_free(x);
    return NULL;
  }
  return x;
}

static uint8_t *to_der(X509 *x, size_t *out_len) {
  uint8_t *der = NULL;
  const int len = i2d_X509(x, &der);
  if (len <= 0) {
    return NULL;
  }
  *out_len = (size_t)len;
  return der;
}

// same_i2d checks |cbs| against an i2d result and frees it.
static int same_i2d(const CBS *cbs, uint8_t *der, int len) {
  const int same = len > 0 && CBS_mem_equal(cbs, der, (size_t)len);
  OPENSSL_free(der);
  return same;
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

static const int64_t kNotBefore = INT64_C(1700000000);  // 2023-11-14
static const int64_t kNotAfter = INT64_C(2556143999);   // 2050-12-31

TEST(fields_match_boringssl) {
  X509 *x = make_cert(X509_VERSION_3, 1, kNotBefore, kNotAfter);
  size_t len = 0;
  uint8_t *der = x != NULL ? to_der(x, &len) : NULL;
  CHECK(der != NULL);
  if (der == NULL) {
    X509_free(x);
    return;
  }
  // Re-read so that BoringSSL's view comes from the same bytes.
  const uint8_t *p = der;
  X509 *parsed = d2i_X509(NULL, &p, (long)len);
  CHECK(parsed != NULL);
  ca_x509 cert;
  CHECK(ca_x509_parse(&cert, der, len));
  uint8_t *buf = NULL;
  int buf_len = i2d_re_X509_tbs(parsed, &buf);
  CHECK(same_i2d(&cert.tbs, buf, buf_len));
  buf = NULL;
  buf_len = i2d_X509_NAME(X509_get_issuer_name(parsed), &buf);
  CHECK(same_i2d(&cert.issuer, buf, buf_len));
  buf = NULL;
  buf_len = i2d_X509_NAME(X509_get_subject_name(parsed), &buf);
  CHECK(same_i2d(&cert.subject, buf, buf_len));
  buf = NULL;
  buf_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(parsed), &buf);
  CHECK(same_i2d(&cert.spki, buf, buf_len));
  const ASN1_BIT_STRING *sig;
  const X509_ALGOR *alg;
  X509_get0_signature(&sig, &alg, parsed);
  buf = NULL;
  buf_len = i2d_X509_ALGOR((X509_ALGOR *)alg, &buf);  // i2d is not const
  CHECK(same_i2d(&cert.signature_algorithm, buf, buf_len));
  CHECK(CBS_mem_equal(&cert.signature, ASN1_STRING_get0_data(sig),
                      (size_t)ASN1_STRING_length(sig)));
  // Serial 0x1234567: INTEGER contents 01 23 45 67.
  CHECK(CBS_mem_equal(&cert.serial, (const uint8_t *)"\x01\x23\x45\x67", 4));
  // Times: notAfter in 2050 is a GeneralizedTime.
  CHECK_EQ_INT(ASN1_STRING_type(X509_get0_notAfter(parsed)),
               V_ASN1_GENERALIZEDTIME);
  CHECK_EQ_INT(cert.not_before, kNotBefore);
  CHECK_EQ_INT(cert.not_after, kNotAfter);
  CHECK_EQ_INT(cert.not_before, posix_of(X509_get0_notBefore(parsed)));
  CHECK_EQ_INT(cert.not_after, posix_of(X509_get0_notAfter(parsed)));
  // The extensions field: every extension BoringSSL sees is found, with its
  // criticality and value, whatever its position.
  const STACK_OF(X509_EXTENSION) *exts = X509_get0_extensions(parsed);
  CHECK_EQ_INT(sk_X509_EXTENSION_num(exts), 5);
  for (size_t i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
    X509_EXTENSION *ext = sk_X509_EXTENSION_value(exts, i);
    const ASN1_OBJECT *obj = X509_EXTENSION_get_object(ext);
    const ASN1_OCTET_STRING *value = X509_EXTENSION_get_data(ext);
    CBS found;
    int critical = -1;
    const int ok = ca_x509_find_extension(&cert, OBJ_get0_data(obj),
                                          OBJ_length(obj), &found, &critical);
    if (!ok) {
      fprintf(stderr, "  extension %d (%s) not found\n", (int)i,
              OBJ_nid2sn(OBJ_obj2nid(obj)));
    }
    CHECK(ok);
    CHECK_EQ_INT(critical, X509_EXTENSION_get_critical(ext));
    CHECK(CBS_mem_equal(&found, ASN1_STRING_get0_data(value),
                        (size_t)ASN1_STRING_length(value)));
  }
  // An extension that is not there.
  static const uint8_t kAia[] = {0x2b, 0x06, 0x01, 0x05,
                                 0x05, 0x07, 0x01, 0x01};
  CBS found;
  int critical = 7;
  CHECK(!ca_x509_find_extension(&cert, kAia, sizeof(kAia), &found, &critical));
  CHECK_EQ_INT(critical, 7);
  X509_free(parsed);
  X509_free(x);
  OPENSSL_free(der);
}

TEST(key_id_is_rfc5280_method_1) {
  // BoringSSL's "hash" subject key identifier and a SHA-1 of the key bits
  // taken through BoringSSL's accessor are both RFC 5280 4.2.1.2 (1).
  X509 *x = make_cert(X509_VERSION_3, 1, kNotBefore, kNotAfter);
  size_t len = 0;
  uint8_t *der = to_der(x, &len);
  ca_x509 cert;
  CHECK(der != NULL && ca_x509_parse(&cert, der, len));
  uint8_t id[CA_KEY_ID_LEN];
  CHECK(ca_spki_key_id(&cert.spki, id));
  const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(x);
  CHECK(skid != NULL && ASN1_STRING_length(skid) == CA_KEY_ID_LEN &&
        memcmp(ASN1_STRING_get0_data(skid), id, CA_KEY_ID_LEN) == 0);
  const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(x);
  uint8_t sha[SHA_DIGEST_LENGTH];
  SHA1(ASN1_STRING_get0_data(bits), (size_t)ASN1_STRING_length(bits), sha);
  CHECK(memcmp(sha, id, CA_KEY_ID_LEN) == 0);
  // Malformed SubjectPublicKeyInfo elements.
  static const uint8_t kUnusedBits[] = {0x30, 0x07, 0x30, 0x00, 0x03,
                                        0x03, 0x01, 0xaa, 0xbb};
  CBS spki;
  CBS_init(&spki, kUnusedBits, sizeof(kUnusedBits));
  CHECK(!ca_spki_key_id(&spki, id));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  static const uint8_t kNoKey[] = {0x30, 0x02, 0x30, 0x00};
  CBS_init(&spki, kNoKey, sizeof(kNoKey));
  CHECK(!ca_spki_key_id(&spki, id));
  static const uint8_t kOctets[] = {0x30, 0x06, 0x30, 0x00,
                                    0x04, 0x02, 0x00, 0xaa};
  CBS_init(&spki, kOctets, sizeof(kOctets));
  CHECK(!ca_spki_key_id(&spki, id));
  // A minimal good one: SHA-1 of the octets after the unused-bits octet.
  static const uint8_t kGood[] = {0x30, 0x07, 0x30, 0x00, 0x03,
                                  0x03, 0x00, 'a',  'b'};
  CBS_init(&spki, kGood, sizeof(kGood));
  CHECK(ca_spki_key_id(&spki, id));
  SHA1((const uint8_t *)"ab", 2, sha);
  CHECK(memcmp(sha, id, CA_KEY_ID_LEN) == 0);
  X509_free(x);
  OPENSSL_free(der);
}

TEST(versions) {
  // v3 without extensions: parsed, no extensions.
  X509 *v3 = make_cert(X509_VERSION_3, 0, kNotBefore, kNotAfter);
  size_t len = 0;
  uint8_t *der = to_der(v3, &len);
  ca_x509 cert;
  CHECK(der != NULL && ca_x509_parse(&cert, der, len));
  CHECK_EQ_INT(CBS_len(&cert.extensions), 0);
  CBS found;
  int critical;
  static const uint8_t kBc[] = {0x55, 0x1d, 0x13};
  CHECK(!ca_x509_find_extension(&cert, kBc, sizeof(kBc), &found, &critical));
  OPENSSL_free(der);
  // v1 (no version field) and v2 are refused.
  static const long kOld[] = {X509_VERSION_1, X509_VERSION_2};
  for (size_t i = 0; i < 2; i++) {
    X509 *old = make_cert(kOld[i], 0, kNotBefore, kNotAfter);
    der = old != NULL ? to_der(old, &len) : NULL;
    CHECK(der != NULL);
    ca_err_clear();
    CHECK(der != NULL && !ca_x509_parse(&cert, der, len));
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
    OPENSSL_free(der);
    X509_free(old);
  }
  X509_free(v3);
}

// --- reassembling certificates field by field ---

enum {
  F_VERSION,
  F_SERIAL,
  F_ALG,
  F_ISSUER,
  F_VALIDITY,
  F_SUBJECT,
  F_SPKI,
  F_EXTS,
  F_SIG_ALG,
  F_SIG,
  F_COUNT
};

typedef struct fields {
  CBS f[F_COUNT];
} fields;

static int split(const uint8_t *der, size_t len, fields *out) {
  CBS in, cert, tbs;
  CBS_init(&in, der, len);
  return CBS_get_asn1(&in, &cert, CBS_ASN1_SEQUENCE) &&
         CBS_get_asn1(&cert, &tbs, CBS_ASN1_SEQUENCE) &&
         CBS_get_any_asn1_element(&tbs, &out->f[F_VERSION], NULL, NULL) &&
         CBS_get_any_asn1_element(&tbs, &out->f[F_SERIAL], NULL, NULL) &&
         CBS_get_any_asn1_element(&tbs, &out->f[F_ALG], NULL, NULL) &&
         CBS_get_any_asn1_element(&tbs, &out->f[F_ISSUER], NULL, NULL) &&
         CBS_get_any_asn1_element(&tbs, &out->f[F_VALIDITY], NULL, NULL) &&
         CBS_get_any_asn1_element(&tbs, &out->f[F_SUBJECT], NULL, NULL) &&
         CBS_get_any_asn1_element(&tbs, &out->f[F_SPKI], NULL, NULL) &&
         CBS_get_any_asn1_element(&tbs, &out->f[F_EXTS], NULL, NULL) &&
         CBS_len(&tbs) == 0 &&
         CBS_get_any_asn1_element(&cert, &out->f[F_SIG_ALG], NULL, NULL) &&
         CBS_get_any_asn1_element(&cert, &out->f[F_SIG], NULL, NULL) &&
         CBS_len(&cert) == 0;
}

// join reassembles |in|, with |extra| inserted before the extensions.
static int join(const fields *in, const uint8_t *extra, size_t extra_len,
                CBB *out) {
  CBB cert, tbs;
  if (!CBB_init(out, 1024) || !CBB_add_asn1(out, &cert, CBS_ASN1_SEQUENCE) ||
      !CBB_add_asn1(&cert, &tbs, CBS_ASN1_SEQUENCE)) {
    return 0;
  }
  for (int i = F_VERSION; i <= F_EXTS; i++) {
    if (i == F_EXTS && !CBB_add_bytes(&tbs, extra, extra_len)) {
      return 0;
    }
    if (!CBB_add_bytes(&tbs, CBS_data(&in->f[i]), CBS_len(&in->f[i]))) {
      return 0;
    }
  }
  return CBB_flush(&cert) &&
         CBB_add_bytes(&cert, CBS_data(&in->f[F_SIG_ALG]),
                       CBS_len(&in->f[F_SIG_ALG])) &&
         CBB_add_bytes(&cert, CBS_data(&in->f[F_SIG]),
                       CBS_len(&in->f[F_SIG])) &&
         CBB_flush(out);
}

static int parse_cbb(const CBB *cbb, ca_x509 *out) {
  ca_err_clear();
  return ca_x509_parse(out, CBB_data(cbb), CBB_len(cbb));
}

TEST(reassembled_variants) {
  X509 *x = make_cert(X509_VERSION_3, 1, kNotBefore, kNotAfter);
  size_t len = 0;
  uint8_t *der = to_der(x, &len);
  fields f;
  CHECK(der != NULL && split(der, len, &f));
  CBB out;
  ca_x509 cert;
  // Reassembled unchanged: the same bytes, parsed.
  CHECK(join(&f, NULL, 0, &out));
  CHECK(CBB_len(&out) == len && memcmp(CBB_data(&out), der, len) == 0);
  CHECK(parse_cbb(&out, &cert));
  CBB_cleanup(&out);
  // Obsolete unique identifiers are skipped, extensions still read.
  static const uint8_t kUids[] = {0x81, 0x02, 0x00, 0xaa,
                                  0x82, 0x02, 0x00, 0xbb};
  CHECK(join(&f, kUids, sizeof(kUids), &out));
  CHECK(parse_cbb(&out, &cert));
  CBS found;
  int critical = 0;
  static const uint8_t kBc[] = {0x55, 0x1d, 0x13};
  static const uint8_t kSan[] = {0x55, 0x1d, 0x11};
  CHECK(ca_x509_find_extension(&cert, kBc, sizeof(kBc), &found, &critical));
  CHECK_EQ_INT(critical, 1);
  CHECK(ca_x509_find_extension(&cert, kSan, sizeof(kSan), &found, &critical));
  CHECK_EQ_INT(critical, 0);
  CBB_cleanup(&out);
  // Something else where the unique identifiers may be.
  static const uint8_t kJunk[] = {0x05, 0x00};
  CHECK(join(&f, kJunk, sizeof(kJunk), &out));
  CHECK(!parse_cbb(&out, &cert));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  CBB_cleanup(&out);
  // Validity variants.
  const CBS validity = f.f[F_VALIDITY];
  static const char kBadZone[] =
      "\x30\x1e\x17\x0d"
      "231114221320z"
      "\x17\x0d"
      "491231235959Z";
  static const char kThree[] =
      "\x30\x2d\x17\x0d"
      "231114221320Z"
      "\x17\x0d"
      "491231235959Z"
      "\x17\x0d"
      "491231235959Z";
  static const char kOne[] =
      "\x30\x0f\x17\x0d"
      "231114221320Z";
  static const char kGood[] =
      "\x30\x1e\x17\x0d"
      "231114221320Z"
      "\x17\x0d"
      "491231235959Z";
  const struct {
    const char *der;
    size_t len;
    int ok;
  } kValidities[] = {
      {kBadZone, sizeof(kBadZone) - 1, 0},
      {kThree, sizeof(kThree) - 1, 0},
      {kOne, sizeof(kOne) - 1, 0},
      {kGood, sizeof(kGood) - 1, 1},
  };
  for (size_t i = 0; i < sizeof(kValidities) / sizeof(kValidities[0]); i++) {
    CBS_init(&f.f[F_VALIDITY], (const uint8_t *)kValidities[i].der,
             kValidities[i].len);
    CHECK(join(&f, NULL, 0, &out));
    CHECK_EQ_INT(parse_cbb(&out, &cert), kValidities[i].ok);
    if (kValidities[i].ok) {
      CHECK_EQ_INT(cert.not_before, INT64_C(1700000000));
      CHECK_EQ_INT(cert.not_after, INT64_C(2524607999));
    } else {
      CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
    }
    CBB_cleanup(&out);
  }
  f.f[F_VALIDITY] = validity;
  // Extensions [3] holding something after its SEQUENCE, or not a SEQUENCE.
  static const uint8_t kExtsTrailing[] = {0xa3, 0x04, 0x30, 0x00, 0x05, 0x00};
  static const uint8_t kExtsSet[] = {0xa3, 0x02, 0x31, 0x00};
  const CBS exts = f.f[F_EXTS];
  CBS_init(&f.f[F_EXTS], kExtsTrailing, sizeof(kExtsTrailing));
  CHECK(join(&f, NULL, 0, &out));
  CHECK(!parse_cbb(&out, &cert));
  CBB_cleanup(&out);
  CBS_init(&f.f[F_EXTS], kExtsSet, sizeof(kExtsSet));
  CHECK(join(&f, NULL, 0, &out));
  CHECK(!parse_cbb(&out, &cert));
  CBB_cleanup(&out);
  // An empty extension list is read as no extensions.
  static const uint8_t kExtsEmpty[] = {0xa3, 0x02, 0x30, 0x00};
  CBS_init(&f.f[F_EXTS], kExtsEmpty, sizeof(kExtsEmpty));
  CHECK(join(&f, NULL, 0, &out));
  CHECK(parse_cbb(&out, &cert));
  CHECK_EQ_INT(CBS_len(&cert.extensions), 0);
  CBB_cleanup(&out);
  // Strict DER (ca/x509/der.h): a broken extension list, a critical
  // BOOLEAN that is not DER (0x01 for TRUE), an encoded critical FALSE (a
  // DEFAULT value), and an extnValue that is not DER are refused when the
  // certificate is parsed, not left to each reader of an extension.
  static const uint8_t kExtsBroken[] = {0xa3, 0x06, 0x30, 0x04,
                                        0x30, 0x02, 0x05, 0x00};
  static const uint8_t kExtsBadBool[] = {0xa3, 0x10, 0x30, 0x0e, 0x30, 0x0c,
                                         0x06, 0x03, 0x55, 0x1d, 0x13, 0x01,
                                         0x01, 0x01, 0x04, 0x02, 0x30, 0x00};
  static const uint8_t kExtsFalse[] = {0xa3, 0x10, 0x30, 0x0e, 0x30, 0x0c,
                                       0x06, 0x03, 0x55, 0x1d, 0x13, 0x01,
                                       0x01, 0x00, 0x04, 0x02, 0x30, 0x00};
  static const uint8_t kExtsValueNotDer[] = {0xa3, 0x0e, 0x30, 0x0c, 0x30, 0x0a,
                                             0x06, 0x03, 0x55, 0x1d, 0x13, 0x04,
                                             0x03, 0x30, 0x81, 0x00};
  // The same extension, DER: accepted and found.
  static const uint8_t kExtsTrue[] = {0xa3, 0x10, 0x30, 0x0e, 0x30, 0x0c,
                                      0x06, 0x03, 0x55, 0x1d, 0x13, 0x01,
                                      0x01, 0xff, 0x04, 0x02, 0x30, 0x00};
  const struct {
    const uint8_t *der;
    size_t len;
  } kBadExts[] = {
      {kExtsBroken, sizeof(kExtsBroken)},
      {kExtsBadBool, sizeof(kExtsBadBool)},
      {kExtsFalse, sizeof(kExtsFalse)},
      {kExtsValueNotDer, sizeof(kExtsValueNotDer)},
  };
  for (size_t i = 0; i < sizeof(kBadExts) / sizeof(kBadExts[0]); i++) {
    CBS_init(&f.f[F_EXTS], kBadExts[i].der, kBadExts[i].len);
    CHECK(join(&f, NULL, 0, &out));
    CHECK(!parse_cbb(&out, &cert));
    CBB_cleanup(&out);
  }
  CBS_init(&f.f[F_EXTS], kExtsTrue, sizeof(kExtsTrue));
  CHECK(join(&f, NULL, 0, &out));
  CHECK(parse_cbb(&out, &cert));
  CHECK(ca_x509_find_extension(&cert, kBc, sizeof(kBc), &found, &critical));
  CHECK_EQ_INT(critical, 1);
  CBB_cleanup(&out);
  f.f[F_EXTS] = exts;
  // Signature BIT STRING with unused bits.
  const CBS sig = f.f[F_SIG];
  uint8_t *sig_copy = OPENSSL_memdup(CBS_data(&sig), CBS_len(&sig));
  CBS sig_view, sig_bits;
  size_t header = 0;
  CBS_init(&sig_view, sig_copy, CBS_len(&sig));
  CHECK(CBS_get_any_asn1_element(&sig_view, &sig_bits, NULL, &header));
  sig_copy[header] = 1;
  CBS_init(&f.f[F_SIG], sig_copy, CBS_len(&sig));
  CHECK(join(&f, NULL, 0, &out));
  CHECK(!parse_cbb(&out, &cert));
  CBB_cleanup(&out);
  OPENSSL_free(sig_copy);
  f.f[F_SIG] = sig;
  X509_free(x);
  OPENSSL_free(der);
}

TEST(truncations_and_trailing_bytes) {
  X509 *x = make_cert(X509_VERSION_3, 1, kNotBefore, kNotAfter);
  size_t len = 0;
  uint8_t *der = to_der(x, &len);
  CHECK(der != NULL);
  int accepted = 0;
  for (size_t n = 0; der != NULL && n < len; n++) {
    ca_x509 cert;
    accepted += ca_x509_parse(&cert, der, n);
  }
  CHECK_EQ_INT(accepted, 0);
  uint8_t *longer = OPENSSL_malloc(len + 1);
  memcpy(longer, der, len);
  longer[len] = 0;
  ca_x509 cert;
  CHECK(!ca_x509_parse(&cert, longer, len + 1));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  CHECK(ca_x509_parse(&cert, longer, len));
  OPENSSL_free(longer);
  X509_free(x);
  OPENSSL_free(der);
}

int main(void) {
  key = new_ec_key();
  if (key == NULL) {
    return 1;
  }
  RUN(fields_match_boringssl);
  RUN(key_id_is_rfc5280_method_1);
  RUN(versions);
  RUN(reassembled_variants);
  RUN(truncations_and_trailing_bytes);
  EVP_PKEY_free(key);
  return test_summary();
}
