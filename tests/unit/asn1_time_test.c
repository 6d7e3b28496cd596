// Unit tests of ca/x509/asn1_time.c: known-answer DER encodings worked out by
// hand (the RFC 5280 UTCTime/GeneralizedTime switch at 2050, leap years, the
// 1950 and 9999 ends of the range), every rejected form, and a cross-check
// of both directions against BoringSSL's own ASN1_TIME code.
#include <openssl/asn1.h>
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "ca/x509/asn1_time.h"
#include "tests/support/test.h"

// encode appends |t| with ca_time_add and returns the DER in |out|.
static int encode(int64_t t, uint8_t out[32], size_t *out_len) {
  CBB cbb;
  if (!CBB_init_fixed(&cbb, out, 32)) {
    return 0;
  }
  if (!ca_time_add(&cbb, t) || !CBB_finish(&cbb, NULL, out_len)) {
    CBB_cleanup(&cbb);
    return 0;
  }
  return 1;
}

// check_encoding checks that |t| encodes to exactly |want| (|want_len|).
static void check_encoding(int64_t t, const char *want, size_t want_len) {
  uint8_t der[32];
  size_t len = 0;
  CHECK(encode(t, der, &len));
  CHECK_EQ_INT(len, want_len);
  CHECK_EQ_BYTES(der, len, want, want_len);
  if (len != want_len || memcmp(der, want, want_len) != 0) {
    fprintf(stderr, "  time %lld encoded as %.*s\n", (long long)t,
            (int)(len > 2 ? len - 2 : 0), (const char *)der + 2);
  }
}

// parse_all parses one Time from |der| and requires it to use all bytes.
static int parse_all(const void *der, size_t len, int64_t *out) {
  CBS cbs;
  CBS_init(&cbs, der, len);
  return ca_time_parse(&cbs, out) && CBS_len(&cbs) == 0;
}

// A Time element from text: the tag, then the length, then |text|.
static int parse_text(unsigned tag, const char *text, int64_t *out) {
  uint8_t der[64];
  const size_t n = strlen(text);
  der[0] = (uint8_t)tag;
  der[1] = (uint8_t)n;
  memcpy(der + 2, text, n);
  return parse_all(der, n + 2, out);
}

TEST(civil_known_answers) {
  CHECK_EQ_INT(ca_time_from_civil(1970, 1, 1, 0, 0, 0), 0);
  CHECK_EQ_INT(ca_time_from_civil(1969, 12, 31, 23, 59, 59), -1);
  CHECK_EQ_INT(ca_time_from_civil(1950, 1, 1, 0, 0, 0), CA_TIME_MIN);
  CHECK_EQ_INT(ca_time_from_civil(9999, 12, 31, 23, 59, 59), CA_TIME_MAX);
  CHECK_EQ_INT(ca_time_from_civil(2049, 12, 31, 23, 59, 59),
               INT64_C(2524607999));
  CHECK_EQ_INT(ca_time_from_civil(2050, 1, 1, 0, 0, 0), INT64_C(2524608000));
  CHECK_EQ_INT(ca_time_from_civil(2000, 2, 29, 12, 34, 56), INT64_C(951827696));
  CHECK_EQ_INT(ca_time_from_civil(2024, 2, 29, 0, 0, 0), INT64_C(1709164800));
  // 2100 is not a leap year (divisible by 100), 2400 is (by 400).
  CHECK_EQ_INT(ca_time_from_civil(2100, 3, 1, 0, 0, 0), INT64_C(4107542400));
  CHECK_EQ_INT(ca_time_from_civil(2400, 2, 29, 0, 0, 0), INT64_C(13574563200));
  CHECK_EQ_INT(ca_time_from_civil(1900, 3, 1, 0, 0, 0), INT64_C(-2203891200));
  CHECK_EQ_INT(ca_time_from_civil(2038, 1, 19, 3, 14, 8), INT64_C(2147483648));
}

TEST(utctime_through_2049_generalizedtime_from_2050) {
  // RFC 5280 4.1.2.5: dates through 2049 MUST be UTCTime, 2050 and later
  // MUST be GeneralizedTime. Tag 0x17 is UTCTime, 0x18 GeneralizedTime.
  static const char k2049[] =
      "\x17\x0d"
      "491231235959Z";
  static const char k2050[] =
      "\x18\x0f"
      "20500101000000Z";
  check_encoding(INT64_C(2524607999), k2049, sizeof(k2049) - 1);
  check_encoding(INT64_C(2524608000), k2050, sizeof(k2050) - 1);
  static const char kEpoch[] =
      "\x17\x0d"
      "700101000000Z";
  check_encoding(0, kEpoch, sizeof(kEpoch) - 1);
  static const char kBeforeEpoch[] =
      "\x17\x0d"
      "691231235959Z";
  check_encoding(-1, kBeforeEpoch, sizeof(kBeforeEpoch) - 1);
  static const char k1950[] =
      "\x17\x0d"
      "500101000000Z";
  check_encoding(CA_TIME_MIN, k1950, sizeof(k1950) - 1);
  static const char k9999[] =
      "\x18\x0f"
      "99991231235959Z";
  check_encoding(CA_TIME_MAX, k9999, sizeof(k9999) - 1);
  static const char k2000[] =
      "\x17\x0d"
      "000229123456Z";
  check_encoding(INT64_C(951827696), k2000, sizeof(k2000) - 1);
  static const char k2100[] =
      "\x18\x0f"
      "21000301000000Z";
  check_encoding(INT64_C(4107542400), k2100, sizeof(k2100) - 1);
  // One second before 2100-03-01 is 2100-02-28: no 29th in 2100.
  static const char k2100feb[] =
      "\x18\x0f"
      "21000228235959Z";
  check_encoding(INT64_C(4107542399), k2100feb, sizeof(k2100feb) - 1);
  static const char k2038[] =
      "\x17\x0d"
      "380119031408Z";
  check_encoding(INT64_C(2147483648), k2038, sizeof(k2038) - 1);
}

TEST(out_of_range_times_are_refused) {
  uint8_t der[32];
  size_t len;
  CHECK(!encode(CA_TIME_MIN - 1, der, &len));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_INTERNAL);
  CHECK(!encode(CA_TIME_MAX + 1, der, &len));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_INTERNAL);
  CHECK(!encode(INT64_MIN, der, &len));
  CHECK(!encode(INT64_MAX, der, &len));
  char text[21];
  CHECK(!ca_time_format(CA_TIME_MIN - 1, text));
  CHECK(!ca_time_format(CA_TIME_MAX + 1, text));
}

TEST(parse_known_answers) {
  int64_t t = 42;
  CHECK(parse_text(CBS_ASN1_UTCTIME, "491231235959Z", &t));
  CHECK_EQ_INT(t, INT64_C(2524607999));
  // Two-digit years: 50..99 are 19YY, 00..49 are 20YY (RFC 5280 4.1.2.5.1).
  CHECK(parse_text(CBS_ASN1_UTCTIME, "500101000000Z", &t));
  CHECK_EQ_INT(t, CA_TIME_MIN);
  CHECK(parse_text(CBS_ASN1_UTCTIME, "991231235959Z", &t));
  CHECK_EQ_INT(t, INT64_C(946684799));
  CHECK(parse_text(CBS_ASN1_UTCTIME, "000101000000Z", &t));
  CHECK_EQ_INT(t, INT64_C(946684800));
  CHECK(parse_text(CBS_ASN1_GENERALIZEDTIME, "20500101000000Z", &t));
  CHECK_EQ_INT(t, INT64_C(2524608000));
  CHECK(parse_text(CBS_ASN1_GENERALIZEDTIME, "99991231235959Z", &t));
  CHECK_EQ_INT(t, CA_TIME_MAX);
  CHECK(parse_text(CBS_ASN1_UTCTIME, "000229123456Z", &t));
  CHECK_EQ_INT(t, INT64_C(951827696));
  CHECK(parse_text(CBS_ASN1_GENERALIZEDTIME, "24000229000000Z", &t));
  CHECK_EQ_INT(t, INT64_C(13574563200));
  CHECK(parse_text(CBS_ASN1_UTCTIME, "240229000000Z", &t));
  CHECK_EQ_INT(t, INT64_C(1709164800));
}

TEST(parse_rejects_what_rfc5280_forbids) {
  static const struct {
    unsigned tag;
    const char *text;
  } kBad[] = {
      {CBS_ASN1_UTCTIME, "4912312359Z"},              // no seconds
      {CBS_ASN1_UTCTIME, "491231235959"},             // no zone
      {CBS_ASN1_UTCTIME, "491231235959z"},            // lower-case zone
      {CBS_ASN1_UTCTIME, "491231235959+0000"},        // offset
      {CBS_ASN1_UTCTIME, "491231235959.5Z"},          // fraction
      {CBS_ASN1_UTCTIME, "49123123595Z9"},            // zone in the middle
      {CBS_ASN1_UTCTIME, "4912312359590"},            // 13 digits, no Z
      {CBS_ASN1_UTCTIME, "20491231235959Z"},          // 4-digit year in UTCTime
      {CBS_ASN1_UTCTIME, "491331235959Z"},            // month 13
      {CBS_ASN1_UTCTIME, "490031235959Z"},            // month 0
      {CBS_ASN1_UTCTIME, "491200235959Z"},            // day 0
      {CBS_ASN1_UTCTIME, "490431235959Z"},            // April 31
      {CBS_ASN1_UTCTIME, "491231245959Z"},            // hour 24
      {CBS_ASN1_UTCTIME, "491231236059Z"},            // minute 60
      {CBS_ASN1_UTCTIME, "491231235960Z"},            // leap second
      {CBS_ASN1_UTCTIME, "230229000000Z"},            // 2023 is no leap year
      {CBS_ASN1_UTCTIME, "4 1231235959Z"},            // space
      {CBS_ASN1_UTCTIME, "-91231235959Z"},            // sign
      {CBS_ASN1_UTCTIME, ""},                         // empty
      {CBS_ASN1_GENERALIZEDTIME, "21000229000000Z"},  // 2100 no leap year
      {CBS_ASN1_GENERALIZEDTIME, "19000229000000Z"},  // 1900 no leap year
      {CBS_ASN1_GENERALIZEDTIME, "20500101000000.0Z"},  // fraction
      {CBS_ASN1_GENERALIZEDTIME, "20500101000000"},     // no zone
      {CBS_ASN1_GENERALIZEDTIME, "205001010000000"},    // 15 chars, no Z
      {CBS_ASN1_GENERALIZEDTIME, "205001010000Z"},      // no seconds
      {CBS_ASN1_GENERALIZEDTIME, "500101000000Z"},      // 2-digit year
      {CBS_ASN1_GENERALIZEDTIME, "20500101000000+0100"},
      {CBS_ASN1_OCTETSTRING, "491231235959Z"},  // not a Time
      {CBS_ASN1_PRINTABLESTRING, "491231235959Z"},
  };
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    int64_t t;
    ca_err_clear();
    const int ok = parse_text(kBad[i].tag, kBad[i].text, &t);
    if (ok) {
      fprintf(stderr, "  accepted tag 0x%x \"%s\"\n", kBad[i].tag,
              kBad[i].text);
    }
    CHECK(!ok);
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  }
}

TEST(parse_rejects_broken_encodings) {
  int64_t t;
  // A length past the end of the input.
  static const uint8_t kTruncated[] = {0x17, 0x0d, '4', '9', '1', '2'};
  CHECK(!parse_all(kTruncated, sizeof(kTruncated), &t));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  // Every proper prefix of a valid Time fails.
  static const char kFull[] =
      "\x18\x0f"
      "20500101000000Z";
  for (size_t n = 0; n < sizeof(kFull) - 1; n++) {
    CBS cbs;
    CBS_init(&cbs, (const uint8_t *)kFull, n);
    CHECK(!ca_time_parse(&cbs, &t));
  }
  // Constructed (BER) UTCTime is not DER.
  static const uint8_t kConstructed[] = {0x37, 0x0f, 0x04, 0x0d, '4', '9',
                                         '1',  '2',  '3',  '1',  '2', '3',
                                         '5',  '9',  '5',  '9',  'Z'};
  CHECK(!parse_all(kConstructed, sizeof(kConstructed), &t));
  // Non-minimal length octets.
  static const uint8_t kLongLength[] = {0x17, 0x81, 0x0d, '4', '9', '1',
                                        '2',  '3',  '1',  '2', '3', '5',
                                        '9',  '5',  '9',  'Z'};
  CHECK(!parse_all(kLongLength, sizeof(kLongLength), &t));
}

TEST(parse_reads_one_element_and_advances) {
  // A Validity: notBefore then notAfter, back to back.
  static const char kValidity[] =
      "\x17\x0d"
      "491231235959Z"
      "\x18\x0f"
      "20500101000000Z"
      "\x05\x00";
  CBS cbs;
  CBS_init(&cbs, (const uint8_t *)kValidity, sizeof(kValidity) - 1);
  int64_t a = 0, b = 0;
  CHECK(ca_time_parse(&cbs, &a));
  CHECK(ca_time_parse(&cbs, &b));
  CHECK_EQ_INT(a, INT64_C(2524607999));
  CHECK_EQ_INT(b, INT64_C(2524608000));
  CHECK_EQ_INT(CBS_len(&cbs), 2);  // the NULL is left for the caller
}

TEST(format_known_answers) {
  char text[21];
  CHECK(ca_time_format(0, text));
  CHECK_EQ_STR(text, "1970-01-01T00:00:00Z");
  CHECK(ca_time_format(INT64_C(2524607999), text));
  CHECK_EQ_STR(text, "2049-12-31T23:59:59Z");
  CHECK(ca_time_format(INT64_C(951827696), text));
  CHECK_EQ_STR(text, "2000-02-29T12:34:56Z");
  CHECK(ca_time_format(CA_TIME_MIN, text));
  CHECK_EQ_STR(text, "1950-01-01T00:00:00Z");
  CHECK(ca_time_format(CA_TIME_MAX, text));
  CHECK_EQ_STR(text, "9999-12-31T23:59:59Z");
  CHECK(ca_time_format(-1, text));
  CHECK_EQ_STR(text, "1969-12-31T23:59:59Z");
}

// A small deterministic generator: the test must fail the same way twice.
static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);
static uint64_t next_random(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

// boringssl_posix converts a BoringSSL ASN1_TIME to Unix seconds through
// ASN1_TIME_diff from the epoch, so pki's calendar code is not involved.
static int boringssl_posix(const ASN1_TIME *t, int64_t *out) {
  ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
  int days, secs;
  const int ok = epoch != NULL && ASN1_TIME_diff(&days, &secs, epoch, t);
  ASN1_TIME_free(epoch);
  if (ok) {
    *out = (int64_t)days * 86400 + secs;
  }
  return ok;
}

static void cross_check(int64_t t) {
  // pki's encoding must equal BoringSSL's for the same instant.
  ASN1_TIME *ref = ASN1_TIME_set(NULL, (time_t)t);
  uint8_t *ref_der = NULL;
  const int ref_len = ref != NULL ? i2d_ASN1_TIME(ref, &ref_der) : -1;
  uint8_t der[32];
  size_t len = 0;
  CHECK(ref_len > 0);
  CHECK(encode(t, der, &len));
  const int same =
      ref_len > 0 && (size_t)ref_len == len && memcmp(der, ref_der, len) == 0;
  CHECK(same);
  if (!same) {
    fprintf(stderr, "  t=%lld: pki %.*s, BoringSSL %.*s\n", (long long)t,
            (int)len - 2, der + 2, ref_len - 2, ref_der + 2);
  }
  // pki's parser reads BoringSSL's encoding back to |t|.
  int64_t parsed = 0;
  CHECK(ref_len > 0 && parse_all(ref_der, (size_t)ref_len, &parsed));
  CHECK_EQ_INT(parsed, t);
  // BoringSSL's parser reads pki's encoding back to |t|.
  const uint8_t *p = der;
  ASN1_TIME *back = d2i_ASN1_TIME(NULL, &p, (long)len);
  int64_t back_t = 0;
  CHECK(back != NULL && p == der + len && boringssl_posix(back, &back_t));
  CHECK_EQ_INT(back_t, t);
  ASN1_TIME_free(back);
  ASN1_TIME_free(ref);
  OPENSSL_free(ref_der);
}

TEST(agrees_with_boringssl_both_ways) {
  static const int64_t kFixed[] = {
      CA_TIME_MIN,
      CA_TIME_MIN + 1,
      -1,
      0,
      INT64_C(951782400),
      INT64_C(951868799),
      INT64_C(2147483647),
      INT64_C(2147483648),
      INT64_C(2524607999),
      INT64_C(2524608000),
      INT64_C(4107542399),
      INT64_C(13574563200),
      CA_TIME_MAX - 1,
      CA_TIME_MAX,
  };
  for (size_t i = 0; i < sizeof(kFixed) / sizeof(kFixed[0]); i++) {
    cross_check(kFixed[i]);
  }
  const uint64_t span = (uint64_t)(CA_TIME_MAX - CA_TIME_MIN) + 1;
  for (int i = 0; i < 2000; i++) {
    cross_check(CA_TIME_MIN + (int64_t)(next_random() % span));
  }
  // Dense around the 2050 switch, where an off-by-one would hide.
  for (int64_t t = INT64_C(2524608000) - 3 * 86400;
       t < INT64_C(2524608000) + 3 * 86400; t += 3599) {
    cross_check(t);
  }
}

int main(void) {
  RUN(civil_known_answers);
  RUN(utctime_through_2049_generalizedtime_from_2050);
  RUN(out_of_range_times_are_refused);
  RUN(parse_known_answers);
  RUN(parse_rejects_what_rfc5280_forbids);
  RUN(parse_rejects_broken_encodings);
  RUN(parse_reads_one_element_and_advances);
  RUN(format_known_answers);
  RUN(agrees_with_boringssl_both_ways);
  return test_summary();
}
