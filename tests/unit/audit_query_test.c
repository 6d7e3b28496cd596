// Unit tests of ca/policy/audit_query.c: the filters of GET /v1/audit read
// from the query's text, and each bad one refused with its code.
#include <stdint.h>
#include <string.h>

#include "ca/error.h"
#include "ca/policy/audit_query.h"
#include "tests/support/test.h"

static char prefix[CA_AUDIT_FILTER_MAX + 1];

// refused parses |q| and checks it is refused with |code|.
static void refused(const ca_audit_query *q, ca_err_code code) {
  ca_audit_filter f;
  CHECK(!ca_audit_filter_parse(q, prefix, &f));
  CHECK_EQ_STR(ca_err_code_name(ca_err_get()->code), ca_err_code_name(code));
  ca_err_clear();
}

TEST(nothing_given_is_the_first_page_of_everything) {
  const ca_audit_query q = {0};
  ca_audit_filter f;
  CHECK(ca_audit_filter_parse(&q, prefix, &f));
  CHECK(f.actor == NULL && f.action == NULL && f.object == NULL &&
        f.outcome == NULL);
  CHECK_EQ_INT(f.since, 0);
  CHECK_EQ_INT(f.until, 0);
  CHECK_EQ_INT(f.limit, CA_AUDIT_PAGE_DEFAULT);
  CHECK_EQ_INT(f.after.set, 0);
  // Empty values are no filter either.
  const ca_audit_query empty = {"", "", "", "", "", "", "", ""};
  CHECK(ca_audit_filter_parse(&empty, prefix, &f));
  CHECK(f.actor == NULL && f.action == NULL);
  CHECK_EQ_INT(f.limit, CA_AUDIT_PAGE_DEFAULT);
}

TEST(action_exact_prefix_or_all) {
  ca_audit_filter f;
  ca_audit_query q = {.action = "token.create"};
  CHECK(ca_audit_filter_parse(&q, prefix, &f));
  CHECK_EQ_STR(f.action, "token.create");
  CHECK_EQ_INT(f.action_prefix, 0);
  q.action = "token.*";
  CHECK(ca_audit_filter_parse(&q, prefix, &f));
  CHECK_EQ_STR(f.action, "token.");
  CHECK_EQ_INT(f.action_prefix, 1);
  q.action = "*";
  CHECK(ca_audit_filter_parse(&q, prefix, &f));
  CHECK(f.action == NULL);
  q.action = "to*ken";
  refused(&q, CA_ERR_AUDIT_FILTER_INVALID);
  q.action = "**";
  refused(&q, CA_ERR_AUDIT_FILTER_INVALID);
}

TEST(times_in_three_spellings) {
  int64_t t = 0;
  CHECK(ca_audit_time_parse("since", "1765000000", &t));
  CHECK_EQ_INT(t, 1765000000);
  CHECK(ca_audit_time_parse("since", "2026-12-06", &t));
  CHECK_EQ_INT(t, 1796515200);
  CHECK(ca_audit_time_parse("since", "2026-12-06T08:30:05Z", &t));
  CHECK_EQ_INT(t, 1796515200 + 8 * 3600 + 30 * 60 + 5);
  CHECK(ca_audit_time_parse("until", "2024-02-29", &t));
  static const char *const kBad[] = {"",
                                     "yesterday",
                                     "0",
                                     "-5",
                                     " 1765000000",
                                     "+17650",
                                     "253402300800",
                                     "2026-13-01",
                                     "2026-02-30",
                                     "2023-02-29",
                                     "2026-12-06T24:00:00Z",
                                     "2026-12-06T08:30:05",
                                     "2026-12-06 08:30:05Z",
                                     "1969-12-31",
                                     "2026-1-6",
                                     "99999999999999999999"};
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    CHECK(!ca_audit_time_parse("since", kBad[i], &t));
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_AUDIT_TIME_INVALID);
    CHECK(strstr(ca_err_get()->message, "since") != NULL);
    ca_err_clear();
  }
  ca_audit_query q = {.since = "2026-12-06", .until = "2026-12-06"};
  refused(&q, CA_ERR_AUDIT_TIME_INVALID);
  q.until = "2026-12-07";
  ca_audit_filter f;
  CHECK(ca_audit_filter_parse(&q, prefix, &f));
  CHECK_EQ_INT(f.until - f.since, 86400);
}

TEST(limits_from_1_to_1000) {
  ca_audit_filter f;
  ca_audit_query q = {.limit = "1"};
  CHECK(ca_audit_filter_parse(&q, prefix, &f));
  CHECK_EQ_INT(f.limit, 1);
  q.limit = "1000";
  CHECK(ca_audit_filter_parse(&q, prefix, &f));
  CHECK_EQ_INT(f.limit, 1000);
  static const char *const kBad[] = {
      "0", "1001", "-1", "ten", "10 ", "1e3", "99999999999999999999999"};
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    q.limit = kBad[i];
    refused(&q, CA_ERR_AUDIT_LIMIT_INVALID);
  }
}

TEST(a_cursor_reads_back_what_was_written) {
  const ca_audit_cursor c = {.set = 1, .at_us = 1765000000123456, .id = 42};
  char text[CA_AUDIT_CURSOR_LEN];
  ca_audit_cursor_format(&c, text);
  CHECK_EQ_STR(text, "1765000000123456.42");
  ca_audit_cursor back;
  CHECK(ca_audit_cursor_parse(text, &back));
  CHECK_EQ_INT(back.at_us, c.at_us);
  CHECK_EQ_INT(back.id, c.id);
  CHECK_EQ_INT(back.set, 1);
  static const char *const kBad[] = {
      "", "1765000000123456", "1765000000123456.", ".42", "a.b", "1.2.3",
      "-1.5", "1. 5", "1.5x",
      // After 9999-12-31T23:59:59.999999Z.
      "253402300800000000.1", "1234567890123456789.1"};
  ca_audit_query q = {0};
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    q.cursor = kBad[i];
    if (kBad[i][0] == '\0') {
      continue;  // empty: no cursor
    }
    refused(&q, CA_ERR_AUDIT_CURSOR_INVALID);
  }
}

TEST(long_strings_are_refused) {
  static char big[CA_AUDIT_FILTER_MAX + 2];
  memset(big, 'a', CA_AUDIT_FILTER_MAX + 1);
  ca_audit_query q = {.actor = big};
  refused(&q, CA_ERR_AUDIT_FILTER_INVALID);
  ca_audit_query r = {.object = big};
  refused(&r, CA_ERR_AUDIT_FILTER_INVALID);
  big[CA_AUDIT_FILTER_MAX] = '\0';
  ca_audit_filter f;
  CHECK(ca_audit_filter_parse(&q, prefix, &f));
}

int main(void) {
  RUN(nothing_given_is_the_first_page_of_everything);
  RUN(action_exact_prefix_or_all);
  RUN(times_in_three_spellings);
  RUN(limits_from_1_to_1000);
  RUN(a_cursor_reads_back_what_was_written);
  RUN(long_strings_are_refused);
  return test_summary();
}
