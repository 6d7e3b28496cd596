// A small test harness: TEST(name) functions registered by hand in main via
// RUN(name), CHECK macros that report file and line and keep going, and a
// summary line. A test binary exits non-zero when any check failed.
#ifndef PKI_TESTS_SUPPORT_TEST_H
#define PKI_TESTS_SUPPORT_TEST_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

extern int test_failures;
extern int test_checks;
extern const char *test_current;

#define TEST(name) static void name(void)

#define RUN(name)                                                         \
  do {                                                                    \
    int before_ = test_failures;                                          \
    test_current = #name;                                                 \
    name();                                                               \
    printf("%s %s\n", test_failures == before_ ? "PASS" : "FAIL", #name); \
    fflush(stdout);                                                       \
  } while (0)

#define CHECK(cond)                                                        \
  do {                                                                     \
    test_checks++;                                                         \
    if (!(cond)) {                                                         \
      test_failures++;                                                     \
      fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__, \
              test_current, #cond);                                        \
    }                                                                      \
  } while (0)

#define CHECK_EQ_INT(a, b)                                            \
  do {                                                                \
    long long a_ = (long long)(a), b_ = (long long)(b);               \
    test_checks++;                                                    \
    if (a_ != b_) {                                                   \
      test_failures++;                                                \
      fprintf(stderr, "%s:%d: %s: %s == %lld, expected %s == %lld\n", \
              __FILE__, __LINE__, test_current, #a, a_, #b, b_);      \
    }                                                                 \
  } while (0)

#define CHECK_EQ_STR(a, b)                                                 \
  do {                                                                     \
    const char *a_ = (a), *b_ = (b);                                       \
    test_checks++;                                                         \
    if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                 \
      test_failures++;                                                     \
      fprintf(stderr, "%s:%d: %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
              test_current, a_ ? a_ : "(null)", b_ ? b_ : "(null)");       \
    }                                                                      \
  } while (0)

// CHECK_EQ_BYTES compares two byte strings; when they differ it prints both
// lengths, the offset of the first difference and the bytes around it.
#define CHECK_EQ_BYTES(a, a_len, b, b_len)                                 \
  test_check_bytes(__FILE__, __LINE__, #a, (const void *)(a), (a_len), #b, \
                   (const void *)(b), (b_len))

// test_check_bytes is CHECK_EQ_BYTES. It returns 1 when the bytes match.
int test_check_bytes(const char *file, int line, const char *a_expr,
                     const void *a, size_t a_len, const char *b_expr,
                     const void *b, size_t b_len);

// test_summary prints the totals and returns the process exit code.
int test_summary(void);

#endif  // PKI_TESTS_SUPPORT_TEST_H
