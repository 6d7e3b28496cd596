#include "tests/support/test.h"

int test_failures;
int test_checks;
const char *test_current = "";

int test_summary(void) {
  printf("%d checks, %d failed\n", test_checks, test_failures);
  return test_failures == 0 ? 0 : 1;
}

// print_window prints the bytes of |p| (|len| of them) from |from| to |to|
// in hex, the first differing byte in brackets.
static void print_window(const char *label, const unsigned char *p, size_t len,
                         size_t from, size_t to, size_t at) {
  fprintf(stderr, "    %s @%zu:", label, from);
  for (size_t i = from; i < to && i < len; i++) {
    fprintf(stderr, i == at ? " [%02x]" : " %02x", p[i]);
  }
  fprintf(stderr, to < len ? " ...\n" : " (end)\n");
}

int test_check_bytes(const char *file, int line, const char *a_expr,
                     const void *a, size_t a_len, const char *b_expr,
                     const void *b, size_t b_len) {
  test_checks++;
  const unsigned char *x = a, *y = b;
  if (x == NULL || y == NULL) {
    test_failures++;
    fprintf(stderr, "%s:%d: %s: %s or %s is NULL\n", file, line, test_current,
            a_expr, b_expr);
    return 0;
  }
  const size_t common = a_len < b_len ? a_len : b_len;
  size_t at = 0;
  while (at < common && x[at] == y[at]) {
    at++;
  }
  if (at == common && a_len == b_len) {
    return 1;
  }
  test_failures++;
  fprintf(stderr,
          "%s:%d: %s: %s (%zu bytes) != %s (%zu bytes): first difference at "
          "offset %zu\n",
          file, line, test_current, a_expr, a_len, b_expr, b_len, at);
  const size_t from = at > 8 ? at - 8 : 0;
  print_window(a_expr, x, a_len, from, at + 8, at);
  print_window(b_expr, y, b_len, from, at + 8, at);
  return 0;
}
