// Unit tests of ca/policy/export.c: which purposes a bulk export carries,
// spelled as the operator likes, and the order of an export of type "all".
#include <string.h>

#include "ca/policy/export.h"
#include "tests/support/test.h"

TEST(purposes_in_any_case) {
  CHECK_EQ_STR(ca_bulk_export_purpose("callmanager"), "CallManager");
  CHECK_EQ_STR(ca_bulk_export_purpose("TOMCAT-ecdsa"), "tomcat-ECDSA");
  CHECK_EQ_STR(ca_bulk_export_purpose("CAPF"), "CAPF");
  CHECK_EQ_STR(ca_bulk_export_purpose("CallManager-ECDSA"),
               "CallManager-ECDSA");
}

TEST(what_is_not_exported) {
  // ipsec certificates stay on their node; an export names no other
  // purpose, whatever its case or a prefix of a real one.
  const char *refused[] = {"ipsec", "tomcat-", "call", "", "all", "CAPF "};
  for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
    ca_err_clear();
    CHECK(ca_bulk_export_purpose(refused[i]) == NULL);
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  }
}

TEST(all_in_export_order) {
  const char *const *all = ca_bulk_all_purposes();
  const char *want[CA_BULK_ALL_PURPOSES_COUNT] = {
      "tomcat", "tomcat-ECDSA", "CallManager", "CallManager-ECDSA", "CAPF"};
  for (size_t i = 0; i < CA_BULK_ALL_PURPOSES_COUNT; i++) {
    CHECK_EQ_STR(all[i], want[i]);
    // Each is its own canonical spelling.
    CHECK(ca_bulk_export_purpose(all[i]) == all[i]);
  }
}

int main(void) {
  RUN(purposes_in_any_case);
  RUN(what_is_not_exported);
  RUN(all_in_export_order);
  return test_summary();
}
