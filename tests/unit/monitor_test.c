// Unit tests of ca/policy/monitor.c: the frequency syntax and its bounds, the
// address and URL checks (nothing that could split an SMTP command or an
// HTTP request passes, no backslash), the classes of IP addresses the
// webhook checks rest on, the configuration check and its error codes (a
// refused webhook named by position, never quoted), the window number,
// the schedule (daily, at most the frequency, hourly near or past expiry)
// and the days left around the expiry instant.
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ca/policy/monitor.h"
#include "tests/support/test.h"

static int frequency(const char *text, uint32_t *out) {
  ca_err_clear();
  return ca_monitor_parse_frequency(out, text);
}

TEST(frequencies) {
  uint32_t s = 0;
  CHECK(frequency("1h", &s));
  CHECK_EQ_INT(s, 3600);
  CHECK(frequency("12h", &s));
  CHECK_EQ_INT(s, 43200);
  CHECK(frequency("1d", &s));
  CHECK_EQ_INT(s, 86400);
  CHECK(frequency("7d", &s));
  CHECK_EQ_INT(s, 7 * 86400);
  CHECK(frequency("30d", &s));
  CHECK_EQ_INT(s, 30 * 86400);
  CHECK(frequency("720h", &s));
  CHECK_EQ_INT(s, 30 * 86400);
  static const char *const kBad[] = {
      "",  "h",   "d",    "0h",  "0d",  "31d", "721h",     "1w",
      "1", "-1d", "1.5d", " 1d", "1d ", "1D",  "1000000d", "99999999999999999h",
  };
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    s = 7;
    CHECK(!frequency(kBad[i], &s));
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
    CHECK_EQ_INT(s, 7);
  }
  CHECK(!frequency(NULL, &s));
  char text[16];
  ca_monitor_format_frequency(86400, text);
  CHECK_EQ_STR(text, "1d");
  ca_monitor_format_frequency(7 * 86400, text);
  CHECK_EQ_STR(text, "7d");
  ca_monitor_format_frequency(43200, text);
  CHECK_EQ_STR(text, "12h");
  ca_monitor_format_frequency(36 * 3600, text);
  CHECK_EQ_STR(text, "36h");
}

TEST(email_addresses) {
  static const char *const kGood[] = {
      "ops@example.com",
      "a@b",
      "first.last+pki@mail.example.co.uk",
      "o'brien@example.com",
      "x_y-z@sub-domain.example",
      "user@127.0.0.1",
  };
  for (size_t i = 0; i < sizeof(kGood) / sizeof(kGood[0]); i++) {
    if (!ca_monitor_email_valid(kGood[i])) {
      fprintf(stderr, "refused %s\n", kGood[i]);
    }
    CHECK(ca_monitor_email_valid(kGood[i]));
  }
  static const char *const kBad[] = {
      "",
      "ops",
      "@example.com",
      "ops@",
      "ops@@example.com",
      "a b@example.com",
      "ops@exa mple.com",
      "ops@example.com\r\nRCPT TO:<x@y>",
      "ops@example.com>",
      "<ops@example.com>",
      "a,b@example.com",
      ".ops@example.com",
      "ops.@example.com",
      "o..ps@example.com",
      "\"quoted\"@example.com",
      "ops@-example.com",
      "ops@example-.com",
      "ops@example..com",
      "ops@example.com.",
      "ops@exa_mple.com",
  };
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    if (ca_monitor_email_valid(kBad[i])) {
      fprintf(stderr, "accepted %s\n", kBad[i]);
    }
    CHECK(!ca_monitor_email_valid(kBad[i]));
  }
  // RFC 5321: a local part of 64 octets, an address of 254.
  char local[80], address[300];
  memset(local, 'a', 64);
  local[64] = '\0';
  snprintf(address, sizeof(address), "%s@example.com", local);
  CHECK(ca_monitor_email_valid(address));
  memset(local, 'a', 65);
  local[65] = '\0';
  snprintf(address, sizeof(address), "%s@example.com", local);
  CHECK(!ca_monitor_email_valid(address));
  // 60-byte labels: 64 + 1 + 189 = 254 passes, one more does not.
  char domain[200];
  memset(domain, 'b', sizeof(domain));
  for (size_t i = 60; i < 189; i += 61) {
    domain[i] = '.';
  }
  domain[189] = '\0';
  memset(local, 'a', 64);
  local[64] = '\0';
  snprintf(address, sizeof(address), "%s@%s", local, domain);
  CHECK_EQ_INT(strlen(address), 254);
  CHECK(ca_monitor_email_valid(address));
  snprintf(address, sizeof(address), "%s@%sb", local, domain);
  CHECK(!ca_monitor_email_valid(address));
}

TEST(webhook_urls) {
  static const char *const kGood[] = {
      "http://127.0.0.1:8080/hook",
      "https://hooks.example.com/services/T0/B0/XYZ?x=1&y=2",
      "http://user@example.com/",
      "https://[::1]:8443/hook",
      "http://example.com",
  };
  for (size_t i = 0; i < sizeof(kGood) / sizeof(kGood[0]); i++) {
    CHECK(ca_monitor_webhook_valid(kGood[i]));
  }
  static const char *const kBad[] = {
      "",
      "ftp://example.com/",
      "file:///etc/passwd",
      "smtp://example.com/",
      "gopher://example.com/",
      "HTTP://example.com/",
      "http://",
      "https://",
      "http:///path",
      "http://:80/",
      "http://exa mple.com/",
      "http://example.com/a b",
      "http://example.com/\r\nX-Injected: 1",
      "http://example.com/\x7f",
      "example.com/hook",
      // libcurl reads the host after '@' (127.0.0.2), others before '\'.
      "http://127.0.0.1:21999\\@127.0.0.2:21998/",
      "http://u:p\\w@example.com/",
      "http://example.com/a\\b",
      // What api_webhook_display writes when it left something out.
      "http://example.com/\xe2\x80\xa6",
  };
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    if (ca_monitor_webhook_valid(kBad[i])) {
      fprintf(stderr, "accepted %s\n", kBad[i]);
    }
    CHECK(!ca_monitor_webhook_valid(kBad[i]));
  }
  char *longest = malloc(CA_LIMIT_WEBHOOK_URL_LEN + 2);
  memcpy(longest, "http://e/", 9);
  memset(longest + 9, 'a', CA_LIMIT_WEBHOOK_URL_LEN - 9);
  longest[CA_LIMIT_WEBHOOK_URL_LEN] = '\0';
  CHECK(ca_monitor_webhook_valid(longest));
  longest[CA_LIMIT_WEBHOOK_URL_LEN] = 'a';
  longest[CA_LIMIT_WEBHOOK_URL_LEN + 1] = '\0';
  CHECK(!ca_monitor_webhook_valid(longest));
  free(longest);
}

TEST(hosts) {
  CHECK(ca_monitor_host_valid("localhost"));
  CHECK(ca_monitor_host_valid("smtp.example.com"));
  CHECK(ca_monitor_host_valid("127.0.0.1"));
  CHECK(ca_monitor_host_valid("[::1]"));
  CHECK(!ca_monitor_host_valid(""));
  CHECK(!ca_monitor_host_valid("[]"));
  CHECK(!ca_monitor_host_valid("::1"));
  CHECK(!ca_monitor_host_valid("smtp.example.com:25"));
  CHECK(!ca_monitor_host_valid("smtp.example.com/x"));
  CHECK(!ca_monitor_host_valid("smtp@example.com"));
}

// address_class classifies the IPv4 or IPv6 address |text|.
static int address_class(const char *text) {
  uint8_t a[16];
  if (inet_pton(AF_INET, text, a) == 1) {
    return (int)ca_monitor_address_class(a, 4);
  }
  if (inet_pton(AF_INET6, text, a) == 1) {
    return (int)ca_monitor_address_class(a, 16);
  }
  return -1;
}

TEST(address_classes) {
  static const struct {
    const char *address;
    ca_address_class c;
  } kCases[] = {
      {"8.8.8.8", CA_ADDRESS_PUBLIC},
      {"172.32.0.1", CA_ADDRESS_PUBLIC},
      {"172.15.255.255", CA_ADDRESS_PUBLIC},
      {"100.128.0.1", CA_ADDRESS_PUBLIC},
      {"169.253.255.255", CA_ADDRESS_PUBLIC},
      {"223.255.255.255", CA_ADDRESS_PUBLIC},
      {"127.0.0.1", CA_ADDRESS_LOOPBACK},
      {"127.255.255.254", CA_ADDRESS_LOOPBACK},
      {"10.0.0.1", CA_ADDRESS_PRIVATE},
      {"172.16.0.1", CA_ADDRESS_PRIVATE},
      {"172.31.255.255", CA_ADDRESS_PRIVATE},
      {"192.168.1.1", CA_ADDRESS_PRIVATE},
      {"100.64.0.1", CA_ADDRESS_PRIVATE},
      {"169.254.169.254", CA_ADDRESS_LINK_LOCAL},
      {"169.254.0.0", CA_ADDRESS_LINK_LOCAL},
      {"0.0.0.0", CA_ADDRESS_RESERVED},
      {"0.1.2.3", CA_ADDRESS_RESERVED},
      {"224.0.0.1", CA_ADDRESS_RESERVED},
      {"239.255.255.250", CA_ADDRESS_RESERVED},
      {"240.0.0.1", CA_ADDRESS_RESERVED},
      {"255.255.255.255", CA_ADDRESS_RESERVED},
      {"2001:db8::1", CA_ADDRESS_PUBLIC},
      {"2606:4700::1111", CA_ADDRESS_PUBLIC},
      {"::1", CA_ADDRESS_LOOPBACK},
      {"fc00::1", CA_ADDRESS_PRIVATE},
      {"fdff:ffff::1", CA_ADDRESS_PRIVATE},
      {"fec0::1", CA_ADDRESS_PRIVATE},
      {"fe80::1", CA_ADDRESS_LINK_LOCAL},
      {"febf:ffff::1", CA_ADDRESS_LINK_LOCAL},
      {"::", CA_ADDRESS_RESERVED},
      {"::127.0.0.1", CA_ADDRESS_RESERVED},
      {"ff02::1", CA_ADDRESS_RESERVED},
      // An IPv6 address that carries an IPv4 one reaches that one.
      {"::ffff:127.0.0.1", CA_ADDRESS_LOOPBACK},
      {"::ffff:169.254.169.254", CA_ADDRESS_LINK_LOCAL},
      {"::ffff:10.1.2.3", CA_ADDRESS_PRIVATE},
      {"::ffff:8.8.8.8", CA_ADDRESS_PUBLIC},
      {"64:ff9b::a9fe:a9fe", CA_ADDRESS_LINK_LOCAL},
      {"64:ff9b::808:808", CA_ADDRESS_PUBLIC},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    const int got = address_class(kCases[i].address);
    if (got != (int)kCases[i].c) {
      fprintf(stderr, "%s: class %d, expected %d\n", kCases[i].address, got,
              (int)kCases[i].c);
    }
    CHECK_EQ_INT(got, kCases[i].c);
  }
  static const uint8_t kOdd[5] = {127, 0, 0, 1, 0};
  CHECK_EQ_INT(ca_monitor_address_class(kOdd, 5), CA_ADDRESS_RESERVED);
  CHECK_EQ_STR(ca_monitor_address_class_name(CA_ADDRESS_PUBLIC), "public");
  CHECK_EQ_STR(ca_monitor_address_class_name(CA_ADDRESS_LOOPBACK), "loopback");
  CHECK_EQ_STR(ca_monitor_address_class_name(CA_ADDRESS_PRIVATE), "private");
  CHECK_EQ_STR(ca_monitor_address_class_name(CA_ADDRESS_LINK_LOCAL),
               "link-local");
  CHECK_EQ_STR(ca_monitor_address_class_name(CA_ADDRESS_RESERVED), "reserved");
}

// good_config fills a valid configuration with borrowed strings (never
// cleaned up).
static void good_config(ca_monitor_config *c) {
  memset(c, 0, sizeof(*c));
  c->enabled = 1;
  c->start_days = 30;
  c->frequency_s = 86400;
  c->emails[0] = "ops@example.com";
  c->n_emails = 1;
  c->webhooks[0] = "https://hooks.example.com/x";
  c->n_webhooks = 1;
  c->smtp_host = "localhost";
  c->smtp_port = 25;
  c->smtp_from = "pki@example.com";
}

static int check_code(const ca_monitor_config *c) {
  ca_err_clear();
  return ca_monitor_config_check(c) ? CA_OK : (int)ca_err_get()->code;
}

TEST(configuration_check) {
  ca_monitor_config c;
  good_config(&c);
  CHECK_EQ_INT(check_code(&c), CA_OK);
  c.start_days = 0;
  CHECK_EQ_INT(check_code(&c), CA_ERR_PARAMETER_INVALID);
  c.start_days = 366;
  CHECK_EQ_INT(check_code(&c), CA_ERR_PARAMETER_INVALID);
  c.start_days = 365;
  CHECK_EQ_INT(check_code(&c), CA_OK);
  c.frequency_s = 3599;
  CHECK_EQ_INT(check_code(&c), CA_ERR_PARAMETER_INVALID);
  c.frequency_s = 30 * 86400 + 1;
  CHECK_EQ_INT(check_code(&c), CA_ERR_PARAMETER_INVALID);
  good_config(&c);
  c.emails[1] = "bad address@example.com";
  c.n_emails = 2;
  CHECK_EQ_INT(check_code(&c), CA_ERR_DESTINATION_INVALID);
  c.emails[1] = "ops@example.com";
  CHECK_EQ_INT(check_code(&c), CA_ERR_DESTINATION_INVALID);  // twice
  good_config(&c);
  c.webhooks[0] = "ftp://example.com/";
  CHECK_EQ_INT(check_code(&c), CA_ERR_DESTINATION_INVALID);
  // A refused webhook is named by position: its text may hold a secret.
  good_config(&c);
  c.webhooks[1] = "http://user:s3cret@127.0.0.1:1\\@127.0.0.2:2/TOKEN";
  c.n_webhooks = 2;
  CHECK_EQ_INT(check_code(&c), CA_ERR_DESTINATION_INVALID);
  CHECK(strstr(ca_err_get()->message, "webhook 2: a backslash") != NULL);
  CHECK(strstr(ca_err_get()->message, "s3cret") == NULL);
  c.webhooks[1] = "gopher://user:s3cret@example.com/TOKEN";
  CHECK_EQ_INT(check_code(&c), CA_ERR_DESTINATION_INVALID);
  CHECK(strstr(ca_err_get()->message, "webhook 2:") != NULL);
  CHECK(strstr(ca_err_get()->message, "s3cret") == NULL);
  c.webhooks[1] = "https://hooks.example.com/x";
  CHECK_EQ_INT(check_code(&c), CA_ERR_DESTINATION_INVALID);  // twice
  CHECK_EQ_STR(ca_err_get()->message, "webhook 2 is listed twice");
  // Kept webhooks are the stored ones: what was sent is not looked at.
  c.keep_webhooks = 1;
  CHECK_EQ_INT(check_code(&c), CA_OK);
  good_config(&c);
  c.n_emails = CA_LIMIT_MONITOR_DESTINATIONS + 1;
  CHECK_EQ_INT(check_code(&c), CA_ERR_DESTINATION_INVALID);
  good_config(&c);
  c.smtp_host = "mail.example.com\r\n";
  CHECK_EQ_INT(check_code(&c), CA_ERR_DESTINATION_INVALID);
  good_config(&c);
  c.smtp_port = 0;
  CHECK_EQ_INT(check_code(&c), CA_ERR_DESTINATION_INVALID);
  c.smtp_port = 65536;
  CHECK_EQ_INT(check_code(&c), CA_ERR_DESTINATION_INVALID);
  good_config(&c);
  c.smtp_from = "pki";
  CHECK_EQ_INT(check_code(&c), CA_ERR_DESTINATION_INVALID);
  // No destination at all is a valid (silent) configuration.
  good_config(&c);
  c.n_emails = 0;
  c.n_webhooks = 0;
  CHECK_EQ_INT(check_code(&c), CA_OK);
}

TEST(windows) {
  // Every node computes the same number for the same moment.
  CHECK_EQ_INT(ca_monitor_window(0, 86400), 0);
  CHECK_EQ_INT(ca_monitor_window(86399, 86400), 0);
  CHECK_EQ_INT(ca_monitor_window(86400, 86400), 1);
  const int64_t t = 1795582353;  // 2026-11-25T04:52:33Z
  CHECK_EQ_INT(ca_monitor_window(t, 86400), 20782);
  CHECK_EQ_INT(ca_monitor_window(t, 3600), t / 3600);
  CHECK(ca_monitor_window(t, 43200) == ca_monitor_window(t + 1, 43200));
  CHECK(ca_monitor_window(20783LL * 86400 - 1, 86400) !=
        ca_monitor_window(20783LL * 86400, 86400));
  CHECK_EQ_INT(ca_monitor_window(t, 0), 0);
  CHECK_EQ_INT(ca_monitor_window(-5, 3600), 0);
}

TEST(schedule) {
  const int64_t now = 1795582353;
  // Daily with nothing due, or nothing due soon.
  CHECK_EQ_INT(ca_monitor_next_check(now, 86400, 0, 0), 86400);
  CHECK_EQ_INT(ca_monitor_next_check(now, 7 * 86400, 1, now + 20 * 86400),
               86400);
  // A frequency under a day: every frequency, so no window is skipped.
  CHECK_EQ_INT(ca_monitor_next_check(now, 43200, 1, now + 20 * 86400), 43200);
  CHECK_EQ_INT(ca_monitor_next_check(now, 3600, 0, 0), 3600);
  // Hourly once something expires within a day, or has expired.
  CHECK_EQ_INT(ca_monitor_next_check(now, 86400, 1, now + 86400), 3600);
  CHECK_EQ_INT(ca_monitor_next_check(now, 86400, 1, now + 86401), 86400);
  CHECK_EQ_INT(ca_monitor_next_check(now, 86400, 1, now + 60), 3600);
  CHECK_EQ_INT(ca_monitor_next_check(now, 86400, 1, now - 5 * 86400), 3600);
  CHECK_EQ_INT(ca_monitor_next_check(now, 7 * 86400, 1, now - 1), 3600);
  // Never more often than hourly, whatever the configuration says.
  CHECK_EQ_INT(ca_monitor_next_check(now, 60, 0, 0), 3600);
}

TEST(days_left) {
  const int64_t now = 1795582353;
  CHECK_EQ_INT(ca_monitor_days_left(now, now + 30 * 86400), 30);
  CHECK_EQ_INT(ca_monitor_days_left(now, now + 30 * 86400 - 1), 29);
  CHECK_EQ_INT(ca_monitor_days_left(now, now + 1), 0);
  CHECK_EQ_INT(ca_monitor_days_left(now, now), 0);
  CHECK_EQ_INT(ca_monitor_days_left(now, now - 1), -1);
  CHECK_EQ_INT(ca_monitor_days_left(now, now - 86400), -1);
  CHECK_EQ_INT(ca_monitor_days_left(now, now - 86401), -2);
}

int main(void) {
  RUN(frequencies);
  RUN(email_addresses);
  RUN(webhook_urls);
  RUN(hosts);
  RUN(address_classes);
  RUN(configuration_check);
  RUN(windows);
  RUN(schedule);
  RUN(days_left);
  return test_summary();
}
