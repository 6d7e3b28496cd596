// Unit tests of ca/x509/reason.c: the CRLReason codes of RFC 5280 section
// 5.3.1 by name, alias and number, and what is refused (7 is unused,
// removeFromCRL (8) belongs to delta CRLs, and no loose number parsing).
#include <string.h>

#include "ca/x509/reason.h"
#include "tests/support/test.h"

static int parse(const char *text, ca_reason *out) {
  ca_err_clear();
  return ca_reason_parse(out, text);
}

TEST(every_reason_by_name_alias_and_number) {
  static const struct {
    int code;
    const char *name;
    const char *alias;
    const char *number;
  } kWant[] = {
      {0, "unspecified", "UNSPECIFIED", "0"},
      {1, "keyCompromise", "key-compromise", "1"},
      {2, "cACompromise", "ca-compromise", "2"},
      {3, "affiliationChanged", "affiliation-changed", "3"},
      {4, "superseded", "Superseded", "4"},
      {5, "cessationOfOperation", "cessation-of-operation", "5"},
      {6, "certificateHold", "certificate-hold", "6"},
      {9, "privilegeWithdrawn", "privilege-withdrawn", "9"},
      {10, "aACompromise", "aa-compromise", "10"},
  };
  for (size_t i = 0; i < sizeof(kWant) / sizeof(kWant[0]); i++) {
    ca_reason r = CA_REASON_UNSPECIFIED;
    CHECK(parse(kWant[i].name, &r) && (int)r == kWant[i].code);
    CHECK(parse(kWant[i].alias, &r) && (int)r == kWant[i].code);
    CHECK(parse(kWant[i].number, &r) && (int)r == kWant[i].code);
    CHECK(ca_reason_valid(kWant[i].code));
    CHECK_EQ_STR(ca_reason_name(kWant[i].code), kWant[i].name);
  }
}

TEST(refusals) {
  const char *refused[] = {"7",
                           "8",
                           "11",
                           "-1",
                           "+1",
                           " 1",
                           "1 ",
                           "01x",
                           "100",
                           "",
                           "removeFromCRL",
                           "hold",
                           "0x1"};
  for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
    ca_reason r = CA_REASON_UNSPECIFIED;
    CHECK(!parse(refused[i], &r));
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  }
  CHECK(!ca_reason_valid(7));
  CHECK(!ca_reason_valid(8));
  CHECK_EQ_STR(ca_reason_name(7), "unknown");
}

int main(void) {
  RUN(every_reason_by_name_alias_and_number);
  RUN(refusals);
  return test_summary();
}
