// Fuzz target: the expiry monitor's checks of operator-supplied strings
// (ca/policy/monitor.h) — e-mail addresses, webhook URLs, SMTP hosts and
// frequencies. Besides crashes, it checks what the checks promise: nothing
// accepted can split an SMTP command, a header line or an HTTP request.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca/policy/monitor.h"
#include "tests/fuzz/fuzz.h"

static int printable_no_space(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    if (*p <= ' ' || *p >= 0x7f) {
      return 0;
    }
  }
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // Strings arrive NUL-terminated (protobuf-c adds the NUL); a NUL inside
  // ends them, as in C.
  char *s = malloc(size + 1);
  if (s == NULL) {
    return 0;
  }
  memcpy(s, data, size);
  s[size] = '\0';

  if (ca_monitor_email_valid(s)) {
    FUZZ_ASSERT(printable_no_space(s));
    FUZZ_ASSERT(strlen(s) <= CA_LIMIT_EMAIL_LEN);
    FUZZ_ASSERT(strpbrk(s, "<>,;:\"()[]\\") == NULL);
    const char *at = strchr(s, '@');
    FUZZ_ASSERT(at != NULL && at != s && strchr(at + 1, '@') == NULL);
  }
  if (ca_monitor_webhook_valid(s)) {
    FUZZ_ASSERT(printable_no_space(s));
    FUZZ_ASSERT(strlen(s) <= CA_LIMIT_WEBHOOK_URL_LEN);
    FUZZ_ASSERT(strncmp(s, "http://", 7) == 0 ||
                strncmp(s, "https://", 8) == 0);
  }
  if (ca_monitor_host_valid(s)) {
    FUZZ_ASSERT(printable_no_space(s));
    FUZZ_ASSERT(strpbrk(s, "/@?#") == NULL);
  }
  uint32_t seconds = 0;
  if (ca_monitor_parse_frequency(s, &seconds)) {
    FUZZ_ASSERT(seconds >= CA_MONITOR_FREQUENCY_MIN_S &&
                seconds <= CA_MONITOR_FREQUENCY_MAX_S);
    char back[16];
    ca_monitor_format_frequency(seconds, back);
    uint32_t again = 0;
    FUZZ_ASSERT(ca_monitor_parse_frequency(back, &again) && again == seconds);
  } else {
    FUZZ_ASSERT(ca_err_get()->code == CA_ERR_PARAMETER_INVALID);
  }
  free(s);
  return 0;
}
