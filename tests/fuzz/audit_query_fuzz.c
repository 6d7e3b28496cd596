// Fuzz target: the query of GET /v1/audit (ca_audit_filter_parse). The
// input is NUL-separated fields, taken in turn as actor, action, object,
// outcome, since, until, limit and cursor. What is accepted is within its
// bounds, and an accepted cursor is read back from its own text.
#include <string.h>

#include "ca/policy/audit_query.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  FUZZ_ASSERT(text != NULL);
  memcpy(text, data, size);
  text[size] = '\0';
  const char *fields[8] = {0};
  size_t n = 0;
  for (size_t at = 0; at <= size && n < 8; n++) {
    fields[n] = text + at;
    at += strlen(text + at) + 1;
  }
  const ca_audit_query q = {fields[0], fields[1], fields[2], fields[3],
                            fields[4], fields[5], fields[6], fields[7]};
  char prefix[CA_AUDIT_FILTER_MAX + 1];
  ca_audit_filter f;
  if (ca_audit_filter_parse(&q, prefix, &f)) {
    FUZZ_ASSERT(f.limit >= 1 && f.limit <= CA_AUDIT_PAGE_MAX);
    FUZZ_ASSERT(f.since == 0 || f.until == 0 || f.since < f.until);
    FUZZ_ASSERT(f.action == NULL || strlen(f.action) <= CA_AUDIT_FILTER_MAX);
    FUZZ_ASSERT(f.action == NULL || strchr(f.action, '*') == NULL);
    if (f.after.set) {
      char again[CA_AUDIT_CURSOR_LEN];
      ca_audit_cursor back;
      ca_audit_cursor_format(&f.after, again);
      FUZZ_ASSERT(ca_audit_cursor_parse(again, &back));
      FUZZ_ASSERT(back.at_us == f.after.at_us && back.id == f.after.id);
    }
  } else {
    FUZZ_ASSERT_REFUSED();
  }
  ca_err_clear();
  free(text);
  return 0;
}
