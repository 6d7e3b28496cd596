// Unit tests of ca/x509/der.c: the strict DER rule on hand-built vectors,
// each the smallest element that breaks one part of it, next to its DER
// form.
#include <openssl/bytestring.h>
#include <string.h>

#include "ca/x509/der.h"
#include "tests/support/test.h"

static int check_bytes(const uint8_t *der, size_t len) {
  CBS cbs;
  CBS_init(&cbs, der, len);
  return ca_der_check(&cbs);
}

#define V(...) \
  ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

TEST(accepted) {
  CHECK(check_bytes(NULL, 0));
  CHECK(check_bytes(V(0x01, 0x01, 0xff)));        // BOOLEAN TRUE
  CHECK(check_bytes(V(0x01, 0x01, 0x00)));        // BOOLEAN FALSE
  CHECK(check_bytes(V(0x02, 0x01, 0x00)));        // INTEGER 0
  CHECK(check_bytes(V(0x02, 0x02, 0x00, 0x80)));  // INTEGER 128
  CHECK(check_bytes(V(0x02, 0x01, 0xff)));        // INTEGER -1
  CHECK(check_bytes(V(0x03, 0x02, 0x07, 0x80)));  // BIT STRING, 1 bit
  CHECK(check_bytes(V(0x05, 0x00)));
  CHECK(check_bytes(V(0x06, 0x03, 0x55, 0x1d, 0x0f)));
  CHECK(check_bytes(V(0x06, 0x02, 0x81, 0x00)));  // OID 2.48 (two octets)
  CHECK(check_bytes(V(0x30, 0x04, 0x31, 0x02, 0x05, 0x00)));
  // Context-specific, constructed and primitive; a tag of 31 and above
  // in its long form.
  CHECK(check_bytes(V(0xa0, 0x02, 0x05, 0x00)));
  CHECK(check_bytes(V(0x80, 0x01, 0x41)));
  CHECK(check_bytes(V(0x9f, 0x1f, 0x00)));
  // A length of 128 takes the long form, one octet.
  uint8_t big[3 + 128];
  big[0] = 0x04;
  big[1] = 0x81;
  big[2] = 0x80;
  memset(big + 3, 0, 128);
  CHECK(check_bytes(big, sizeof(big)));
}

TEST(refused) {
  CHECK(!check_bytes(V(0x01, 0x01, 0x01)));        // BOOLEAN 0x01
  CHECK(!check_bytes(V(0x01, 0x02, 0x00, 0x00)));  // BOOLEAN of two octets
  CHECK(!check_bytes(V(0x02, 0x02, 0x00, 0x01)));  // INTEGER, leading 00
  CHECK(!check_bytes(V(0x02, 0x02, 0xff, 0x80)));  // INTEGER, leading ff
  CHECK(!check_bytes(V(0x02, 0x00)));              // INTEGER, empty
  CHECK(!check_bytes(V(0x0a, 0x02, 0x00, 0x01)));  // ENUMERATED, leading 00
  CHECK(!check_bytes(V(0x03, 0x02, 0x07, 0x81)));  // BIT STRING, unused 1
  CHECK(!check_bytes(V(0x03, 0x01, 0x01)));        // unused bits, no octet
  CHECK(!check_bytes(V(0x05, 0x01, 0x00)));        // NULL with contents
  CHECK(!check_bytes(V(0x06, 0x00)));              // OID, empty
  CHECK(!check_bytes(V(0x06, 0x02, 0x80, 0x01)));  // OID, leading 80
  CHECK(!check_bytes(V(0x06, 0x01, 0x81)));        // OID, unfinished
  // Long-form tag for a number below 31 (UTF8String 12 as 1F 0C).
  CHECK(!check_bytes(V(0x1f, 0x0c, 0x01, 0x41)));
  // Long-form length where the short form fits; two length octets where
  // one fits; indefinite length.
  CHECK(!check_bytes(V(0x04, 0x81, 0x01, 0x41)));
  uint8_t big[4 + 128];
  big[0] = 0x04;
  big[1] = 0x82;
  big[2] = 0x00;
  big[3] = 0x80;
  memset(big + 4, 0, 128);
  CHECK(!check_bytes(big, sizeof(big)));
  CHECK(!check_bytes(V(0x30, 0x80, 0x05, 0x00, 0x00, 0x00)));
  // Constructed strings (BER only).
  CHECK(!check_bytes(V(0x24, 0x03, 0x04, 0x01, 0x41)));
  CHECK(!check_bytes(V(0x2c, 0x03, 0x0c, 0x01, 0x41)));
  // The same faults nested inside SEQUENCE, SET and [0].
  CHECK(!check_bytes(V(0x30, 0x03, 0x01, 0x01, 0x01)));
  CHECK(!check_bytes(V(0x31, 0x04, 0x02, 0x02, 0x00, 0x01)));
  CHECK(!check_bytes(V(0xa0, 0x04, 0x1f, 0x0c, 0x00, 0x00)));
  // Truncated, or bytes left after the last element.
  CHECK(!check_bytes(V(0x30, 0x02, 0x05)));
  CHECK(!check_bytes(V(0x05, 0x00, 0x05)));
}

TEST(depth_limit) {
  // CA_DER_MAX_DEPTH nested SEQUENCEs are walked; one more is refused.
  uint8_t nested[2 * (CA_DER_MAX_DEPTH + 1)];
  for (size_t levels = CA_DER_MAX_DEPTH; levels <= CA_DER_MAX_DEPTH + 1;
       levels++) {
    for (size_t i = 0; i < levels; i++) {
      nested[2 * i] = 0x30;
      nested[2 * i + 1] = (uint8_t)(2 * (levels - i - 1));
    }
    CHECK_EQ_INT(check_bytes(nested, 2 * levels), levels == CA_DER_MAX_DEPTH);
  }
}

static int extension(const uint8_t *der, size_t len, int *critical) {
  CBS cbs, oid, value;
  CBS_init(&cbs, der, len);
  return ca_der_get_extension(&cbs, &oid, critical, &value) &&
         CBS_len(&cbs) == 0;
}

TEST(extension_default_critical) {
  int critical = -1;
  // basicConstraints, extnValue 30 00: no critical, TRUE, FALSE (refused:
  // a DEFAULT value encoded), 0x01 (refused: not DER), and a value that is
  // not DER (refused).
  CHECK(extension(
      V(0x30, 0x09, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x04, 0x02, 0x30, 0x00),
      &critical));
  CHECK_EQ_INT(critical, 0);
  CHECK(extension(V(0x30, 0x0c, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff,
                    0x04, 0x02, 0x30, 0x00),
                  &critical));
  CHECK_EQ_INT(critical, 1);
  CHECK(!extension(V(0x30, 0x0c, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0x00,
                     0x04, 0x02, 0x30, 0x00),
                   &critical));
  CHECK(!extension(V(0x30, 0x0c, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0x01,
                     0x04, 0x02, 0x30, 0x00),
                   &critical));
  CHECK(!extension(
      V(0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x04, 0x03, 0x30, 0x81, 0x00),
      &critical));
}

int main(void) {
  RUN(accepted);
  RUN(refused);
  RUN(depth_limit);
  RUN(extension_default_critical);
  return test_summary();
}
