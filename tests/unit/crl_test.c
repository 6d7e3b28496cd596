// Unit tests of ca/revocation/crl.c: revocation reasons by name and number, and
// CRLs of pki's in-memory CAs read back by BoringSSL (d2i_X509_CRL): version,
// issuer, times, extensions, entries and their reason codes, and the
// signature under the issuer's public key.
#include <limits.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "ca/issue/authority.h"
#include "ca/revocation/crl.h"
#include "ca/x509/asn1_time.h"
#include "ca/x509/serial.h"
#include "tests/support/test.h"

static ca_authority *authority;

// Every reason pki accepts, with its RFC 5280 name.
static const struct {
  int code;
  const char *name;
} kReasons[] = {
    {CA_REASON_UNSPECIFIED, "unspecified"},
    {CA_REASON_KEY_COMPROMISE, "keyCompromise"},
    {CA_REASON_CA_COMPROMISE, "cACompromise"},
    {CA_REASON_AFFILIATION_CHANGED, "affiliationChanged"},
    {CA_REASON_SUPERSEDED, "superseded"},
    {CA_REASON_CESSATION_OF_OPERATION, "cessationOfOperation"},
    {CA_REASON_CERTIFICATE_HOLD, "certificateHold"},
    {CA_REASON_PRIVILEGE_WITHDRAWN, "privilegeWithdrawn"},
    {CA_REASON_AA_COMPROMISE, "aACompromise"},
};
#define REASON_COUNT (sizeof(kReasons) / sizeof(kReasons[0]))

TEST(reason_parse_accepts) {
  static const struct {
    const char *text;
    ca_reason want;
  } kCases[] = {
      {"unspecified", CA_REASON_UNSPECIFIED},
      {"UNSPECIFIED", CA_REASON_UNSPECIFIED},
      {"keyCompromise", CA_REASON_KEY_COMPROMISE},
      {"keycompromise", CA_REASON_KEY_COMPROMISE},
      {"KEYCOMPROMISE", CA_REASON_KEY_COMPROMISE},
      {"key-compromise", CA_REASON_KEY_COMPROMISE},
      {"Key-Compromise", CA_REASON_KEY_COMPROMISE},
      {"cACompromise", CA_REASON_CA_COMPROMISE},
      {"CACompromise", CA_REASON_CA_COMPROMISE},
      {"ca-compromise", CA_REASON_CA_COMPROMISE},
      {"affiliationChanged", CA_REASON_AFFILIATION_CHANGED},
      {"affiliation-changed", CA_REASON_AFFILIATION_CHANGED},
      {"superseded", CA_REASON_SUPERSEDED},
      {"Superseded", CA_REASON_SUPERSEDED},
      {"cessationOfOperation", CA_REASON_CESSATION_OF_OPERATION},
      {"cessation-of-operation", CA_REASON_CESSATION_OF_OPERATION},
      {"certificateHold", CA_REASON_CERTIFICATE_HOLD},
      {"CERTIFICATE-HOLD", CA_REASON_CERTIFICATE_HOLD},
      {"privilegeWithdrawn", CA_REASON_PRIVILEGE_WITHDRAWN},
      {"privilege-withdrawn", CA_REASON_PRIVILEGE_WITHDRAWN},
      {"aACompromise", CA_REASON_AA_COMPROMISE},
      {"aa-compromise", CA_REASON_AA_COMPROMISE},
      {"0", CA_REASON_UNSPECIFIED},
      {"1", CA_REASON_KEY_COMPROMISE},
      {"2", CA_REASON_CA_COMPROMISE},
      {"3", CA_REASON_AFFILIATION_CHANGED},
      {"4", CA_REASON_SUPERSEDED},
      {"5", CA_REASON_CESSATION_OF_OPERATION},
      {"6", CA_REASON_CERTIFICATE_HOLD},
      {"9", CA_REASON_PRIVILEGE_WITHDRAWN},
      {"10", CA_REASON_AA_COMPROMISE},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    ca_reason got = (ca_reason)-1;
    const int ok = ca_reason_parse(&got, kCases[i].text);
    if (!ok || got != kCases[i].want) {
      fprintf(stderr, "  \"%s\": ok %d, reason %d\n", kCases[i].text, ok,
              (int)got);
    }
    CHECK(ok);
    CHECK_EQ_INT(got, kCases[i].want);
  }
}

TEST(reason_parse_refuses) {
  // 7 is unassigned; removeFromCRL (8) belongs to delta CRLs only.
  static const char *const kBad[] = {
      "7",
      "8",
      "removeFromCRL",
      "remove-from-crl",
      "11",
      "-1",
      "",
      "garbage",
      "1x",
      "x1",
      "0x1",
      "1.0",
      "key compromise",
      "key_compromise",
      "keyCompromise ",
      "keyCompromised",
      "99999999999999999999",
      // Values that wrap to valid codes when narrowed to int, and forms
      // strtol would take.
      "4294967297",
      "4294967296",
      "4294967306",
      " 1",
      "+1",
  };
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    ca_reason got;
    ca_err_clear();
    const int ok = ca_reason_parse(&got, kBad[i]);
    if (ok) {
      fprintf(stderr, "  \"%s\" accepted as %d\n", kBad[i], (int)got);
    }
    CHECK(!ok);
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  }
}

TEST(reason_names_and_validity) {
  for (size_t i = 0; i < REASON_COUNT; i++) {
    CHECK(ca_reason_valid(kReasons[i].code));
    CHECK_EQ_STR(ca_reason_name(kReasons[i].code), kReasons[i].name);
    // A name and a number read back as the code they stand for.
    ca_reason got = (ca_reason)-1;
    CHECK(ca_reason_parse(&got, ca_reason_name(kReasons[i].code)));
    CHECK_EQ_INT(got, kReasons[i].code);
    char number[8];
    snprintf(number, sizeof(number), "%d", kReasons[i].code);
    got = (ca_reason)-1;
    CHECK(ca_reason_parse(&got, number));
    CHECK_EQ_INT(got, kReasons[i].code);
  }
  static const int kInvalid[] = {7, 8, -1, 11, 255, INT_MAX, INT_MIN};
  for (size_t i = 0; i < sizeof(kInvalid) / sizeof(kInvalid[0]); i++) {
    CHECK(!ca_reason_valid(kInvalid[i]));
    CHECK_EQ_STR(ca_reason_name(kInvalid[i]), "unknown");
  }
  // Exactly the nine reasons of kReasons between -1 and 11.
  int valid = 0;
  for (int code = -1; code <= 11; code++) {
    valid += ca_reason_valid(code);
  }
  CHECK_EQ_INT(valid, REASON_COUNT);
}

static X509 *parse_cert(const ca_issuer *issuer) {
  const uint8_t *p = issuer->der;
  X509 *x = d2i_X509(NULL, &p, (long)issuer->der_len);
  CHECK(x != NULL && p == issuer->der + issuer->der_len);
  return x;
}

static X509_CRL *parse_crl(const uint8_t *der, size_t len) {
  const uint8_t *p = der;
  X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
  CHECK(crl != NULL && p == der + len);
  return crl;
}

static int64_t posix_of(const ASN1_TIME *t) {
  ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
  int days = 0, secs = 0;
  if (t == NULL || epoch == NULL || !ASN1_TIME_diff(&days, &secs, epoch, t)) {
    days = secs = -1;
  }
  ASN1_TIME_free(epoch);
  return (int64_t)days * 86400 + secs;
}

// revoked_list_present reads the TBSCertList with CBS and reports whether
// revokedCertificates is there (1) or not (0); -1 when unreadable.
static int revoked_list_present(const uint8_t *der, size_t len) {
  CBS in, crl, tbs, skipped;
  CBS_init(&in, der, len);
  uint64_t version;
  // TBSCertList ::= SEQUENCE { version, signature, issuer, thisUpdate,
  //   nextUpdate, revokedCertificates SEQUENCE OF ... OPTIONAL,
  //   crlExtensions [0] EXPLICIT }
  if (!CBS_get_asn1(&in, &crl, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&crl, &tbs, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1_uint64(&tbs, &version) ||
      !CBS_get_asn1(&tbs, &skipped, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&tbs, &skipped, CBS_ASN1_SEQUENCE) ||
      !CBS_get_any_asn1(&tbs, &skipped, NULL) ||
      !CBS_get_any_asn1(&tbs, &skipped, NULL)) {
    return -1;
  }
  return CBS_peek_asn1_tag(&tbs, CBS_ASN1_SEQUENCE);
}

static ASN1_INTEGER *asn1_serial(const ca_serial *serial) {
  BIGNUM *bn = BN_bin2bn(serial->bytes, serial->len, NULL);
  ASN1_INTEGER *ai = bn != NULL ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
  BN_free(bn);
  return ai;
}

// check_crl_common checks what every CRL of |issuer| holds whatever its
// entries, and returns the CRL for more checks (NULL on failure).
static X509_CRL *check_crl_common(const ca_issuer *issuer, const uint8_t *der,
                                  size_t len, uint64_t number,
                                  int64_t this_update, int64_t next_update) {
  X509_CRL *crl = parse_crl(der, len);
  X509 *cert = parse_cert(issuer);
  if (crl == NULL || cert == NULL) {
    X509_CRL_free(crl);
    X509_free(cert);
    return NULL;
  }
  // v2: "MUST be present" with extensions (RFC 5280 5.1.2.1).
  CHECK_EQ_INT(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
  // Signed by the issuer's key, with the hash its certificate uses.
  EVP_PKEY *pub = X509_get_pubkey(cert);
  CHECK(pub != NULL && X509_CRL_verify(crl, pub) == 1);
  EVP_PKEY_free(pub);
  CHECK_EQ_INT(X509_CRL_get_signature_nid(crl),
               issuer->key_info.type == CA_KEY_RSA ? NID_sha256WithRSAEncryption
                                                   : NID_ecdsa_with_SHA256);
  // The issuer is the CA's subject, byte for byte (RFC 5280 5.1.2.3).
  CHECK_EQ_INT(
      X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(cert)), 0);
  uint8_t *name = NULL;
  const int name_len = i2d_X509_NAME(X509_CRL_get_issuer(crl), &name);
  CHECK(name_len > 0 &&
        CBS_mem_equal(&issuer->cert.subject, name, (size_t)name_len));
  OPENSSL_free(name);
  CHECK_EQ_INT(posix_of(X509_CRL_get0_lastUpdate(crl)), this_update);
  CHECK_EQ_INT(posix_of(X509_CRL_get0_nextUpdate(crl)), next_update);
  // Two extensions, neither critical: the authority key identifier, equal
  // to the CA certificate's subject key identifier, and the CRL number.
  CHECK_EQ_INT(X509_CRL_get_ext_count(crl), 2);
  int critical = -1;
  AUTHORITY_KEYID *aki =
      X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &critical, NULL);
  CHECK(aki != NULL && critical == 0);
  const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(cert);
  CHECK(ski != NULL);
  if (aki != NULL && ski != NULL) {
    CHECK(aki->keyid != NULL && ASN1_OCTET_STRING_cmp(aki->keyid, ski) == 0);
    CHECK(aki->keyid != NULL &&
          ASN1_STRING_length(aki->keyid) == CA_KEY_ID_LEN &&
          memcmp(ASN1_STRING_get0_data(aki->keyid), issuer->key_id,
                 CA_KEY_ID_LEN) == 0);
    CHECK(aki->issuer == NULL && aki->serial == NULL);
  }
  AUTHORITY_KEYID_free(aki);
  critical = -1;
  ASN1_INTEGER *crl_number =
      X509_CRL_get_ext_d2i(crl, NID_crl_number, &critical, NULL);
  CHECK(crl_number != NULL && critical == 0);
  uint64_t got_number = 0;
  CHECK(crl_number != NULL && ASN1_INTEGER_get_uint64(&got_number, crl_number));
  CHECK(got_number == number);
  ASN1_INTEGER_free(crl_number);
  X509_free(cert);
  return crl;
}

TEST(empty_crl) {
  const int64_t this_update = ca_time_from_civil(2024, 3, 1, 12, 0, 0);
  const int64_t next_update = this_update + 7 * 86400;
  for (size_t i = 0; i < authority->count; i++) {
    const ca_issuer *issuer = &authority->issuers[i];
    uint8_t *der = NULL;
    size_t len = 0;
    ca_err_clear();
    CHECK(ca_crl_build(issuer, issuer->key, 1, this_update, next_update, NULL,
                       0, &der, &len));
    CHECK_EQ_INT(ca_err_get()->code, CA_OK);
    if (der == NULL) {
      continue;
    }
    X509_CRL *crl =
        check_crl_common(issuer, der, len, 1, this_update, next_update);
    if (crl != NULL) {
      // "When there are no revoked certificates, the revoked certificates
      // list MUST be absent" (RFC 5280 5.1.2.6).
      const STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl);
      CHECK(revoked == NULL || sk_X509_REVOKED_num(revoked) == 0);
      CHECK_EQ_INT(revoked_list_present(der, len), 0);
      ca_serial serial;
      CHECK(ca_serial_generate(&serial));
      ASN1_INTEGER *ai = asn1_serial(&serial);
      X509_REVOKED *entry = NULL;
      CHECK(ai != NULL && X509_CRL_get0_by_serial(crl, &entry, ai) == 0);
      ASN1_INTEGER_free(ai);
    }
    X509_CRL_free(crl);
    OPENSSL_free(der);
  }
}

TEST(crl_with_entries) {
  const ca_issuer *issuers[] = {
      ca_authority_find(authority, "rsa-issuing"),
      ca_authority_find(authority, "ec-issuing"),
  };
  // One entry per reason, and serials with the high bit set (a sign octet
  // in DER) and of the 20-octet maximum.
  ca_crl_entry entries[REASON_COUNT + 2];
  const size_t n = sizeof(entries) / sizeof(entries[0]);
  memset(entries, 0, sizeof(entries));
  const int64_t base = ca_time_from_civil(2024, 1, 15, 8, 30, 0);
  for (size_t i = 0; i < n; i++) {
    CHECK(ca_serial_generate(&entries[i].serial));
    entries[i].revoked_at = base + (int64_t)i * 3600;
    entries[i].reason = kReasons[i % REASON_COUNT].code;
  }
  static const char kHighBit[] = "80f1e2d3c4b5a69788796a5b4c3d2e1f";
  static const char kLongest[] = "7fffffffffffffffffffffffffffffffffffff01";
  CHECK(ca_serial_from_hex(kHighBit, strlen(kHighBit),
                           &entries[REASON_COUNT].serial));
  CHECK(ca_serial_from_hex(kLongest, strlen(kLongest),
                           &entries[REASON_COUNT + 1].serial));
  CHECK_EQ_INT(entries[REASON_COUNT + 1].serial.len, CA_SERIAL_MAX_LEN);
  const int64_t this_update = ca_time_from_civil(2024, 3, 1, 12, 0, 0);
  // After 2049 the time is a GeneralizedTime (RFC 5280 5.1.2.5).
  const int64_t next_update = ca_time_from_civil(2050, 1, 1, 0, 0, 0);
  const uint64_t number = UINT64_C(0x123456789a);
  for (size_t k = 0; k < sizeof(issuers) / sizeof(issuers[0]); k++) {
    const ca_issuer *issuer = issuers[k];
    CHECK(issuer != NULL);
    if (issuer == NULL) {
      continue;
    }
    uint8_t *der = NULL;
    size_t len = 0;
    CHECK(ca_crl_build(issuer, issuer->key, number, this_update, next_update,
                       entries, n, &der, &len));
    if (der == NULL) {
      continue;
    }
    CHECK_EQ_INT(revoked_list_present(der, len), 1);
    X509_CRL *crl =
        check_crl_common(issuer, der, len, number, this_update, next_update);
    if (crl == NULL) {
      OPENSSL_free(der);
      continue;
    }
    CHECK_EQ_INT(ASN1_STRING_type(X509_CRL_get0_lastUpdate(crl)),
                 V_ASN1_UTCTIME);
    CHECK_EQ_INT(ASN1_STRING_type(X509_CRL_get0_nextUpdate(crl)),
                 V_ASN1_GENERALIZEDTIME);
    const STACK_OF(X509_REVOKED) *revoked = X509_CRL_get_REVOKED(crl);
    CHECK(revoked != NULL && (size_t)sk_X509_REVOKED_num(revoked) == n);
    for (size_t i = 0; i < n; i++) {
      ASN1_INTEGER *ai = asn1_serial(&entries[i].serial);
      X509_REVOKED *entry = NULL;
      CHECK(ai != NULL && X509_CRL_get0_by_serial(crl, &entry, ai) == 1);
      ASN1_INTEGER_free(ai);
      if (entry == NULL) {
        continue;
      }
      CHECK_EQ_INT(posix_of(X509_REVOKED_get0_revocationDate(entry)),
                   entries[i].revoked_at);
      // reasonCode: absent for unspecified ("SHOULD be absent", RFC 5280
      // 5.3.1), present and not critical otherwise.
      int critical = 0;
      ASN1_ENUMERATED *reason =
          X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, &critical, NULL);
      if (entries[i].reason == CA_REASON_UNSPECIFIED) {
        CHECK(reason == NULL);
        CHECK_EQ_INT(critical, -1);
        CHECK_EQ_INT(X509_REVOKED_get_ext_count(entry), 0);
      } else {
        CHECK(reason != NULL);
        CHECK_EQ_INT(critical, 0);
        CHECK(reason != NULL &&
              ASN1_ENUMERATED_get(reason) == entries[i].reason);
        CHECK_EQ_INT(X509_REVOKED_get_ext_count(entry), 1);
      }
      ASN1_ENUMERATED_free(reason);
    }
    // A serial not in the list is not found.
    ca_serial other;
    CHECK(ca_serial_generate(&other));
    ASN1_INTEGER *ai = asn1_serial(&other);
    X509_REVOKED *entry = NULL;
    CHECK(ai != NULL && X509_CRL_get0_by_serial(crl, &entry, ai) == 0);
    ASN1_INTEGER_free(ai);
    // Under the other family's key the signature does not verify.
    const ca_issuer *other_issuer = issuers[1 - k];
    X509 *other_cert = other_issuer != NULL ? parse_cert(other_issuer) : NULL;
    EVP_PKEY *other_pub =
        other_cert != NULL ? X509_get_pubkey(other_cert) : NULL;
    CHECK(other_pub != NULL && X509_CRL_verify(crl, other_pub) != 1);
    ERR_clear_error();
    EVP_PKEY_free(other_pub);
    X509_free(other_cert);
    X509_CRL_free(crl);
    OPENSSL_free(der);
  }
}

// Entries are encoded by hand, the last time's encoding kept: runs of
// entries sharing a second, alternating with others (a GeneralizedTime
// from 2050 among them), each must carry its own date.
TEST(entries_sharing_and_alternating_times) {
  const ca_issuer *issuer = ca_authority_find(authority, "ec-issuing");
  CHECK(issuer != NULL);
  if (issuer == NULL) {
    return;
  }
  const int64_t kTimes[] = {ca_time_from_civil(2024, 5, 6, 7, 8, 9),
                            ca_time_from_civil(2051, 1, 2, 3, 4, 5),
                            ca_time_from_civil(1999, 12, 31, 23, 59, 59)};
  ca_crl_entry entries[40];
  const size_t n = sizeof(entries) / sizeof(entries[0]);
  memset(entries, 0, sizeof(entries));
  for (size_t i = 0; i < n; i++) {
    CHECK(ca_serial_generate(&entries[i].serial));
    entries[i].revoked_at = kTimes[(i / 3 + i % 2) % 3];
    entries[i].reason =
        (int)(i % 3 == 0 ? CA_REASON_UNSPECIFIED : CA_REASON_KEY_COMPROMISE);
  }
  uint8_t *der = NULL;
  size_t len = 0;
  CHECK(ca_crl_build(
      issuer, issuer->key, 3, ca_time_from_civil(2024, 6, 1, 0, 0, 0),
      ca_time_from_civil(2024, 6, 8, 0, 0, 0), entries, n, &der, &len));
  X509_CRL *crl = der != NULL ? parse_crl(der, len) : NULL;
  CHECK(crl != NULL);
  for (size_t i = 0; crl != NULL && i < n; i++) {
    ASN1_INTEGER *ai = asn1_serial(&entries[i].serial);
    X509_REVOKED *entry = NULL;
    CHECK(ai != NULL && X509_CRL_get0_by_serial(crl, &entry, ai) == 1);
    ASN1_INTEGER_free(ai);
    if (entry != NULL) {
      const ASN1_TIME *at = X509_REVOKED_get0_revocationDate(entry);
      CHECK_EQ_INT(posix_of(at), entries[i].revoked_at);
      CHECK_EQ_INT(ASN1_STRING_type(at), entries[i].revoked_at == kTimes[1]
                                             ? V_ASN1_GENERALIZEDTIME
                                             : V_ASN1_UTCTIME);
      CHECK_EQ_INT(X509_REVOKED_get_ext_count(entry),
                   entries[i].reason == CA_REASON_UNSPECIFIED ? 0 : 1);
    }
  }
  X509_CRL_free(crl);
  OPENSSL_free(der);
}

// A source read to its end (as the CRL writer's first attempt leaves its
// cursor when the entries differ from what PostgreSQL measured) and
// measured by a pass: the CRL still lists every entry.
typedef struct {
  const ca_crl_entry *entries;
  size_t n, next;
} test_source;

static int test_next(void *arg, ca_crl_entry *out, size_t cap, size_t *out_n) {
  test_source *t = arg;
  size_t n = t->n - t->next < cap ? t->n - t->next : cap;
  memcpy(out, t->entries + t->next, n * sizeof(*out));
  t->next += n;
  *out_n = n;
  return 1;
}

static int test_rewind(void *arg) {
  ((test_source *)arg)->next = 0;
  return 1;
}

static int test_begin(void *arg, size_t der_len) {
  return CBB_init(arg, der_len);
}

static int test_write(void *arg, const uint8_t *data, size_t len) {
  return CBB_add_bytes(arg, data, len);
}

TEST(source_read_to_its_end_is_measured_from_the_start) {
  const ca_issuer *issuer = ca_authority_find(authority, "ec-issuing");
  CHECK(issuer != NULL);
  if (issuer == NULL) {
    return;
  }
  ca_crl_entry entries[5000];
  const size_t n = sizeof(entries) / sizeof(entries[0]);
  memset(entries, 0, sizeof(entries));
  for (size_t i = 0; i < n; i++) {
    CHECK(ca_serial_generate(&entries[i].serial));
    entries[i].revoked_at = ca_time_from_civil(2024, 5, 6, 7, 8, 9);
    entries[i].reason = CA_REASON_KEY_COMPROMISE;
  }
  test_source at_end = {entries, n, n};
  const ca_crl_source source = {test_next, test_rewind, &at_end, NULL};
  CBB cbb;
  CBB_zero(&cbb);
  const ca_crl_sink sink = {test_begin, test_write, &cbb};
  const ca_crl_info info = {
      .number = 9,
      .this_update = ca_time_from_civil(2024, 6, 1, 0, 0, 0),
      .next_update = ca_time_from_civil(2024, 6, 8, 0, 0, 0)};
  size_t listed = 0;
  CHECK(ca_crl_stream(issuer, issuer->key, &info, &source, &sink, &listed));
  CHECK_EQ_INT(listed, n);
  X509_CRL *crl = parse_crl(CBB_data(&cbb), CBB_len(&cbb));
  CHECK(crl != NULL);
  if (crl != NULL) {
    CHECK_EQ_INT(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), n);
  }
  X509_CRL_free(crl);
  CBB_cleanup(&cbb);
}

TEST(tampered_crl_fails_verification) {
  const ca_issuer *issuer = ca_authority_find(authority, "ec-issuing");
  CHECK(issuer != NULL);
  if (issuer == NULL) {
    return;
  }
  ca_crl_entry entry;
  memset(&entry, 0, sizeof(entry));
  CHECK(ca_serial_generate(&entry.serial));
  entry.revoked_at = ca_time_from_civil(2024, 2, 1, 0, 0, 0);
  entry.reason = CA_REASON_SUPERSEDED;
  uint8_t *der = NULL;
  size_t len = 0;
  CHECK(ca_crl_build(
      issuer, issuer->key, 7, ca_time_from_civil(2024, 2, 2, 0, 0, 0),
      ca_time_from_civil(2024, 2, 9, 0, 0, 0), &entry, 1, &der, &len));
  if (der == NULL) {
    return;
  }
  X509 *cert = parse_cert(issuer);
  EVP_PKEY *pub = cert != NULL ? X509_get_pubkey(cert) : NULL;
  CHECK(pub != NULL);
  // Change one octet of the revoked serial: still a CRL, no longer the one
  // that was signed.
  uint8_t *serial_at = memmem(der, len, entry.serial.bytes, entry.serial.len);
  CHECK(serial_at != NULL);
  X509_CRL *crl = parse_crl(der, len);
  CHECK(crl != NULL && pub != NULL && X509_CRL_verify(crl, pub) == 1);
  X509_CRL_free(crl);
  if (serial_at != NULL && pub != NULL) {
    serial_at[entry.serial.len - 1] ^= 0x01;
    crl = parse_crl(der, len);
    CHECK(crl != NULL && X509_CRL_verify(crl, pub) != 1);
    ERR_clear_error();
    X509_CRL_free(crl);
  }
  EVP_PKEY_free(pub);
  X509_free(cert);
  OPENSSL_free(der);
}

TEST(crl_numbers) {
  const ca_issuer *issuer = ca_authority_find(authority, "ec-issuing");
  CHECK(issuer != NULL);
  if (issuer == NULL) {
    return;
  }
  // cRLNumber is a non-negative INTEGER (RFC 5280 5.2.3): values whose top
  // bit is set need a leading zero octet.
  static const uint64_t kNumbers[] = {0, 1, 127, 128, 255, 256, UINT64_MAX};
  const int64_t this_update = ca_time_from_civil(2024, 3, 1, 0, 0, 0);
  for (size_t i = 0; i < sizeof(kNumbers) / sizeof(kNumbers[0]); i++) {
    uint8_t *der = NULL;
    size_t len = 0;
    CHECK(ca_crl_build(issuer, issuer->key, kNumbers[i], this_update,
                       this_update + 86400, NULL, 0, &der, &len));
    if (der == NULL) {
      continue;
    }
    X509_CRL *crl = check_crl_common(issuer, der, len, kNumbers[i], this_update,
                                     this_update + 86400);
    X509_CRL_free(crl);
    OPENSSL_free(der);
  }
}

TEST(unencodable_times_fail) {
  const ca_issuer *issuer = ca_authority_find(authority, "rsa-issuing");
  CHECK(issuer != NULL);
  if (issuer == NULL) {
    return;
  }
  const int64_t now = ca_time_from_civil(2024, 3, 1, 0, 0, 0);
  uint8_t *der = NULL;
  size_t len = 0;
  ca_err_clear();
  CHECK(!ca_crl_build(issuer, issuer->key, 1, now, CA_TIME_MAX + 1, NULL, 0,
                      &der, &len));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_INTERNAL);
  CHECK(der == NULL);
  ca_crl_entry entry;
  memset(&entry, 0, sizeof(entry));
  CHECK(ca_serial_generate(&entry.serial));
  entry.revoked_at = CA_TIME_MIN - 1;
  entry.reason = CA_REASON_KEY_COMPROMISE;
  ca_err_clear();
  CHECK(!ca_crl_build(issuer, issuer->key, 1, now, now + 86400, &entry, 1, &der,
                      &len));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_INTERNAL);
  CHECK(der == NULL);
}

int main(void) {
  ca_authority_config config;
  ca_authority_config_init(&config);
  if (!ca_authority_new_ephemeral(&config, &authority)) {
    fprintf(stderr, "cannot create authority: %s\n", ca_err_get()->message);
    return 1;
  }
  RUN(reason_parse_accepts);
  RUN(reason_parse_refuses);
  RUN(reason_names_and_validity);
  RUN(empty_crl);
  RUN(crl_with_entries);
  RUN(entries_sharing_and_alternating_times);
  RUN(source_read_to_its_end_is_measured_from_the_start);
  RUN(tampered_crl_fails_verification);
  RUN(crl_numbers);
  RUN(unencodable_times_fail);
  ca_authority_free(authority);
  return test_summary();
}
