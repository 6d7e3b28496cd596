// Unit tests of ca/x509/serial.c: hex round trips with hand-worked DER contents
// (leading zero octets, the 0x80 sign bit, odd digit counts, the 20-octet
// bound), DER INTEGER reading, and the encoder compared with BoringSSL's
// ASN1_INTEGER encoder on random magnitudes. Also the statistics of
// ca_serial_generate (ARCHITECTURE.md invariant 2).
#include <ctype.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "ca/x509/serial.h"
#include "tests/support/test.h"

static int from_hex(const char *hex, ca_serial *out) {
  ca_err_clear();
  return ca_serial_from_hex(hex, strlen(hex), out);
}

static int serial_is(const ca_serial *s, const char *bytes, size_t len) {
  return s->len == len && memcmp(s->bytes, bytes, len) == 0;
}

TEST(hex_known_answers) {
  static const struct {
    const char *hex;
    const char *bytes;  // DER INTEGER contents
    size_t len;
    const char *canonical;  // ca_serial_to_hex
  } kCases[] = {
      {"01", "\x01", 1, "01"},
      {"1", "\x01", 1, "01"},
      {"7f", "\x7f", 1, "7f"},
      {"7F", "\x7f", 1, "7f"},
      // The top bit set needs a zero sign octet to stay positive.
      {"80", "\x00\x80", 2, "80"},
      {"ff", "\x00\xff", 2, "ff"},
      {"8000", "\x00\x80\x00", 3, "8000"},
      // Leading zero octets are not part of the value.
      {"0080", "\x00\x80", 2, "80"},
      {"000001", "\x01", 1, "01"},
      {"00:00:7f", "\x7f", 1, "7f"},
      // openssl's colon form, and a 0x prefix.
      {"3f:a2:00", "\x3f\xa2\x00", 3, "3fa200"},
      {"0x80", "\x00\x80", 2, "80"},
      {"0XaBcD", "\x00\xab\xcd", 3, "abcd"},
      // An odd digit count is right-aligned: "abc" is 0x0abc.
      {"abc", "\x0a\xbc", 2, "0abc"},
      {"0abc", "\x0a\xbc", 2, "0abc"},
      {"100", "\x01\x00", 2, "0100"},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    ca_serial s;
    CHECK(from_hex(kCases[i].hex, &s));
    CHECK(serial_is(&s, kCases[i].bytes, kCases[i].len));
    char hex[CA_SERIAL_HEX_LEN];
    ca_serial_to_hex(&s, hex);
    CHECK_EQ_STR(hex, kCases[i].canonical);
    // What to_hex writes reads back to the same serial.
    ca_serial back;
    CHECK(from_hex(hex, &back));
    CHECK(serial_is(&back, kCases[i].bytes, kCases[i].len));
  }
}

TEST(hex_length_bounds) {
  char hex[200];
  ca_serial s;
  // 20 octets of 0xff: 21 content octets with the sign octet; 40 digits of
  // text, which CA_SERIAL_HEX_LEN holds with its NUL.
  memset(hex, 'f', 40);
  hex[40] = '\0';
  CHECK(from_hex(hex, &s));
  CHECK_EQ_INT(s.len, 21);
  CHECK_EQ_INT(s.bytes[0], 0);
  char out[CA_SERIAL_HEX_LEN];
  ca_serial_to_hex(&s, out);
  CHECK_EQ_STR(out, hex);
  // 21 octets: too long.
  memset(hex, '1', 42);
  hex[42] = '\0';
  CHECK(!from_hex(hex, &s));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  // But 21 octets whose first is zero are 20.
  memset(hex, '1', 42);
  hex[0] = hex[1] = '0';
  CHECK(from_hex(hex, &s));
  CHECK_EQ_INT(s.len, 20);
  // Leading zeros up to the digit buffer: 79 zeros and a 1 is 1.
  memset(hex, '0', 79);
  hex[79] = '1';
  hex[80] = '\0';
  CHECK(from_hex(hex, &s));
  CHECK(serial_is(&s, "\x01", 1));
  // One more digit is refused rather than overflowing.
  memset(hex, '0', 80);
  hex[80] = '1';
  hex[81] = '\0';
  CHECK(!from_hex(hex, &s));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  // Colons do not count as digits.
  size_t n = 0;
  for (int i = 0; i < 20; i++) {
    hex[n++] = 'a';
    hex[n++] = 'b';
    hex[n++] = ':';
  }
  hex[n - 1] = '\0';
  CHECK(from_hex(hex, &s));
  CHECK_EQ_INT(s.len, 21);
}

TEST(hex_refusals) {
  static const char *const kBad[] = {
      "",   "0",  "00", "00:00", "0x",  "0x0", "g1",  "-1", " 1",
      "1 ", "+1", "1g", "0x-1",  "1.0", "0y1", "\t1", "x1", "1x",
      "１",  // a full-width digit (UTF-8)
  };
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    ca_serial s;
    const int ok = from_hex(kBad[i], &s);
    if (ok) {
      fprintf(stderr, "  accepted \"%s\"\n", kBad[i]);
    }
    CHECK(!ok);
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  }
  // The length given is honoured: "12" read as one digit.
  ca_serial s;
  CHECK(ca_serial_from_hex("12", 1, &s));
  CHECK(serial_is(&s, "\x01", 1));
}

// Plain hex, as the store keeps it, takes a path of its own (one pass,
// for the million serials of a CRL): it must read every serial as the
// general path reads its colon-separated form, in either case.
TEST(lower_case_hex_reads_as_other_forms) {
  for (int round = 0; round < 2000; round++) {
    uint8_t mag[CA_SERIAL_MAX_LEN];
    const size_t len = 1 + (size_t)round % CA_SERIAL_MAX_LEN;
    RAND_bytes(mag, sizeof(mag));
    if (round % 7 == 0) {
      mag[0] = 0;  // a leading zero octet
    }
    if (round % 5 == 0) {
      mag[0] &= 0x0f;  // an odd number of digits once its zero is gone
    }
    char lower[2 * CA_SERIAL_MAX_LEN + 1], upper[sizeof(lower)];
    char colons[3 * CA_SERIAL_MAX_LEN + 1];
    size_t c = 0;
    for (size_t k = 0; k < len; k++) {
      static const char kHex[] = "0123456789abcdef";
      lower[2 * k] = kHex[mag[k] >> 4];
      lower[2 * k + 1] = kHex[mag[k] & 0xf];
      colons[c++] = lower[2 * k];
      colons[c++] = lower[2 * k + 1];
      colons[c++] = ':';
    }
    lower[2 * len] = '\0';
    colons[c - 1] = '\0';
    for (size_t k = 0; k <= 2 * len; k++) {
      upper[k] = (char)toupper((unsigned char)lower[k]);
    }
    // Without its leading zero digit, as ca_serial_to_hex may write it.
    const char *trimmed =
        lower[0] == '0' && lower[1] != '\0' ? lower + 1 : lower;
    ca_serial a, b, d, e;
    const int zero = strspn(lower, "0") == 2 * len;
    const int ok = from_hex(lower, &a);
    CHECK_EQ_INT(ok, !zero);
    CHECK_EQ_INT(from_hex(upper, &b), !zero);
    CHECK_EQ_INT(from_hex(colons, &d), !zero);
    CHECK_EQ_INT(from_hex(trimmed, &e), !zero);
    if (ok && !zero) {
      CHECK(serial_is(&b, (const char *)a.bytes, a.len));
      CHECK(serial_is(&d, (const char *)a.bytes, a.len));
      CHECK(serial_is(&e, (const char *)a.bytes, a.len));
      char back[CA_SERIAL_HEX_LEN];
      ca_serial_to_hex(&a, back);
      CHECK(from_hex(back, &b) && serial_is(&b, (const char *)a.bytes, a.len));
    }
  }
}

static int from_integer(const char *bytes, size_t len, ca_serial *out) {
  CBS cbs;
  CBS_init(&cbs, (const uint8_t *)bytes, len);
  ca_err_clear();
  return ca_serial_from_integer(&cbs, out);
}

TEST(integer_contents) {
  ca_serial s;
  CHECK(from_integer("\x01", 1, &s));
  CHECK(serial_is(&s, "\x01", 1));
  CHECK(from_integer("\x00\x80", 2, &s));
  CHECK(serial_is(&s, "\x00\x80", 2));
  // Negative: the top bit without a sign octet.
  CHECK(!from_integer("\x80", 1, &s));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  CHECK(!from_integer("\xff\x01", 2, &s));
  // Non-minimal encodings.
  CHECK(!from_integer("\x00\x7f", 2, &s));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  CHECK(!from_integer("\x00\x00\x80", 3, &s));
  // Zero and empty.
  CHECK(!from_integer("\x00", 1, &s));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CERT_MALFORMED);
  CHECK(!from_integer("", 0, &s));
  // 20 octets of magnitude with a sign octet is the most.
  char buf[22];
  buf[0] = 0;
  memset(buf + 1, 0xff, 20);
  CHECK(from_integer(buf, 21, &s));
  CHECK_EQ_INT(s.len, 21);
  char hex[CA_SERIAL_HEX_LEN];
  ca_serial_to_hex(&s, hex);
  CHECK_EQ_INT(strlen(hex), 40);
  memset(buf, 0x7f, 21);
  CHECK(!from_integer(buf, 21, &s));  // 21 octets of magnitude
  buf[0] = 0;
  memset(buf + 1, 0xff, 21);
  CHECK(!from_integer(buf, 22, &s));
}

// boringssl_integer encodes the magnitude |mag| with BoringSSL's BIGNUM and
// ASN1_INTEGER code.
static uint8_t *boringssl_integer(const uint8_t *mag, size_t len,
                                  int *out_len) {
  BIGNUM *bn = BN_bin2bn(mag, len, NULL);
  ASN1_INTEGER *ai = bn != NULL ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
  uint8_t *der = NULL;
  *out_len = ai != NULL ? i2d_ASN1_INTEGER(ai, &der) : -1;
  ASN1_INTEGER_free(ai);
  BN_free(bn);
  return der;
}

TEST(encoding_agrees_with_boringssl) {
  // Known answers first.
  ca_serial s;
  uint8_t der[32];
  CBB cbb;
  size_t len = 0;
  CHECK(from_hex("80", &s));
  CHECK(CBB_init_fixed(&cbb, der, sizeof(der)) && ca_serial_add(&cbb, &s) &&
        CBB_finish(&cbb, NULL, &len));
  CHECK_EQ_BYTES(der, len, "\x02\x02\x00\x80", 4);
  CHECK(from_hex("01", &s));
  CHECK(CBB_init_fixed(&cbb, der, sizeof(der)) && ca_serial_add(&cbb, &s) &&
        CBB_finish(&cbb, NULL, &len));
  CHECK_EQ_BYTES(der, len, "\x02\x01\x01", 3);
  // Random magnitudes of 1 to 20 octets, some with leading zero octets and
  // some with the top bit set, through hex and through DER.
  for (int i = 0; i < 2000; i++) {
    uint8_t mag[20];
    uint8_t r[3];
    RAND_bytes(r, sizeof(r));
    const size_t mag_len = 1 + r[0] % 20;
    RAND_bytes(mag, mag_len);
    if (r[1] % 4 == 0) {
      mag[0] = 0;  // a leading zero octet
    } else if (r[1] % 4 == 1) {
      mag[0] |= 0x80;
    }
    if (r[2] % 8 == 0) {
      mag[mag_len - 1] |= 1;  // never all zero below
    }
    int all_zero = 1;
    for (size_t k = 0; k < mag_len; k++) {
      all_zero &= mag[k] == 0;
    }
    if (all_zero) {
      continue;
    }
    char hex[2 * 20 + 1];
    for (size_t k = 0; k < mag_len; k++) {
      snprintf(hex + 2 * k, 3, "%02X", mag[k]);
    }
    CHECK(from_hex(hex, &s));
    CHECK(CBB_init_fixed(&cbb, der, sizeof(der)) && ca_serial_add(&cbb, &s) &&
          CBB_finish(&cbb, NULL, &len));
    int ref_len;
    uint8_t *ref = boringssl_integer(mag, mag_len, &ref_len);
    const int same =
        ref != NULL && (size_t)ref_len == len && memcmp(ref, der, len) == 0;
    CHECK(same);
    if (!same) {
      fprintf(stderr, "  %s\n", hex);
    }
    // The DER contents read back to the same serial.
    ca_serial back;
    CBS contents;
    CBS_init(&contents, der + 2, len >= 2 ? len - 2 : 0);
    CHECK(ca_serial_from_integer(&contents, &back));
    CHECK(serial_is(&back, (const char *)s.bytes, s.len));
    // to_hex equals BoringSSL's BN_bn2hex, ignoring case.
    BIGNUM *bn = BN_bin2bn(mag, mag_len, NULL);
    char *bn_hex = BN_bn2hex(bn);
    char ours[CA_SERIAL_HEX_LEN];
    ca_serial_to_hex(&s, ours);
    for (char *p = bn_hex; p != NULL && *p != '\0'; p++) {
      *p = (char)tolower((unsigned char)*p);
    }
    CHECK_EQ_STR(ours, bn_hex);
    OPENSSL_free(bn_hex);
    BN_free(bn);
    OPENSSL_free(ref);
  }
}

static int compare_strings(const void *a, const void *b) {
  return strcmp(a, b);
}

TEST(generated_serials) {
  // 128 random bits: positive, DER-minimal, at most 17 content octets, and
  // with the top bit of the 128 set about half the time (a generator using
  // fewer bits would never set it).
  enum { kCount = 2000 };
  static char seen[kCount][CA_SERIAL_HEX_LEN];
  int with_sign_octet = 0;
  for (int i = 0; i < kCount; i++) {
    ca_serial s;
    CHECK(ca_serial_generate(&s));
    CHECK(s.len >= 1 && s.len <= 17);
    CBS contents;
    int negative = 1;
    CBS_init(&contents, s.bytes, s.len);
    CHECK(CBS_is_valid_asn1_integer(&contents, &negative) && !negative);
    if (s.len == 17) {
      CHECK(s.bytes[0] == 0 && (s.bytes[1] & 0x80) != 0);
      with_sign_octet++;
    }
    ca_serial_to_hex(&s, seen[i]);
    CHECK(strlen(seen[i]) <= 32);
  }
  // Binomial(2000, 1/2): 1000 +- 22; outside 850..1150 is vanishingly rare.
  CHECK(with_sign_octet > 850 && with_sign_octet < 1150);
  qsort(seen, kCount, sizeof(seen[0]), compare_strings);
  int dup = 0;
  for (int i = 1; i < kCount; i++) {
    dup += strcmp(seen[i - 1], seen[i]) == 0;
  }
  CHECK_EQ_INT(dup, 0);
}

int main(void) {
  RUN(hex_known_answers);
  RUN(hex_length_bounds);
  RUN(hex_refusals);
  RUN(lower_case_hex_reads_as_other_forms);
  RUN(integer_contents);
  RUN(encoding_agrees_with_boringssl);
  RUN(generated_serials);
  return test_summary();
}
