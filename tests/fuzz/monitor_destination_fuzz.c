// Fuzz target: the expiry monitor's checks of operator-supplied strings
// (ca/policy/monitor.h) — e-mail addresses, webhook URLs, SMTP hosts and
// frequencies — and the webhook URL as libcurl reads it (api/server/webhook.h).
// Besides crashes, it checks what the checks promise: nothing accepted can
// split an SMTP command, a header line or an HTTP request; no accepted
// webhook holds a backslash; a webhook allowed without the private opt-in
// is allowed with it; and the display form of any string is either the
// invalid marker or scheme://host[:port]/ with at most "…" after it, so
// that no user information, path, query or fragment is ever shown.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/server/webhook.h"
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

// display_well_formed checks the shape api_webhook_display promises.
static int display_well_formed(const char *shown) {
  if (strcmp(shown, API_WEBHOOK_DISPLAY_INVALID) == 0) {
    return 1;
  }
  const char *rest = strncmp(shown, "http://", 7) == 0    ? shown + 7
                     : strncmp(shown, "https://", 8) == 0 ? shown + 8
                                                          : NULL;
  if (rest == NULL) {
    return 0;
  }
  const char *slash = strchr(rest, '/');
  if (slash == NULL || slash == rest) {
    return 0;
  }
  // The authority: a host (perhaps cut with "…") and a port; no '@'.
  for (const char *c = rest; c < slash; c++) {
    if (*c == '@' || *c == '?' || *c == '#' || *c == '\\') {
      return 0;
    }
  }
  return strcmp(slash, "/") == 0 || strcmp(slash, "/\xe2\x80\xa6") == 0;
}

// The listeners every input is checked against: one on loopback, one on
// every address.
static const api_webhook_self *fuzz_self(void) {
  static api_webhook_self self;
  static int ready;
  if (!ready) {
    FUZZ_ASSERT(api_webhook_self_add(&self, "127.0.0.1", 8443));
    FUZZ_ASSERT(api_webhook_self_add(&self, "0.0.0.0", 8080));
    ready = 1;
  }
  return &self;
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
    FUZZ_ASSERT(strchr(s, '\\') == NULL);
  }
  char shown[API_WEBHOOK_DISPLAY_LEN];
  api_webhook_display(s, shown);
  FUZZ_ASSERT(strlen(shown) < API_WEBHOOK_DISPLAY_LEN);
  FUZZ_ASSERT(display_well_formed(shown));
  // The display form, when it left something out, is never taken back.
  if (strstr(shown, "\xe2\x80\xa6") != NULL) {
    FUZZ_ASSERT(!ca_monitor_webhook_valid(shown));
  }
  const int strict = api_webhook_check(1, s, 0, fuzz_self());
  if (!strict) {
    FUZZ_ASSERT(ca_err_get()->code == CA_ERR_DESTINATION_INVALID);
    // Refusals fit whole in a message (never cut mid-character).
    FUZZ_ASSERT(strlen(ca_err_get()->message) < CA_ERR_MESSAGE_LEN - 1);
  }
  const int opted = api_webhook_check(1, s, 1, fuzz_self());
  FUZZ_ASSERT(opted || !strict);
  if (opted) {
    FUZZ_ASSERT(ca_monitor_webhook_valid(s));
    FUZZ_ASSERT(strcmp(shown, API_WEBHOOK_DISPLAY_INVALID) != 0);
  } else {
    FUZZ_ASSERT(ca_err_get()->code == CA_ERR_DESTINATION_INVALID);
  }
  if (ca_monitor_host_valid(s)) {
    FUZZ_ASSERT(printable_no_space(s));
    FUZZ_ASSERT(strpbrk(s, "/@?#") == NULL);
  }
  uint32_t seconds = 0;
  if (ca_monitor_parse_frequency(&seconds, s)) {
    FUZZ_ASSERT(seconds >= CA_MONITOR_FREQUENCY_MIN_S &&
                seconds <= CA_MONITOR_FREQUENCY_MAX_S);
    char back[16];
    ca_monitor_format_frequency(seconds, back);
    uint32_t again = 0;
    FUZZ_ASSERT(ca_monitor_parse_frequency(&again, back) && again == seconds);
  } else {
    FUZZ_ASSERT(ca_err_get()->code == CA_ERR_PARAMETER_INVALID);
  }
  free(s);
  return 0;
}
