#include "tests/support/test.h"

int test_failures;
int test_checks;
const char *test_current = "";

int test_summary(void) {
  printf("%d checks, %d failed\n", test_checks, test_failures);
  return test_failures == 0 ? 0 : 1;
}
