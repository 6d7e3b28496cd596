// Unit tests of api/server/notify.c's message bodies: the webhook JSON,
// read back with jansson, carries every certificate field byte for byte
// (quotes, backslashes, control characters escaped; UTF-8 as it is), only
// the rows of the mask, and the count; the e-mail replaces control
// characters with '?', so that no field adds a line or a header.
#include <jansson.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/server/notify.h"
#include "tests/support/test.h"

// Every byte from 0x01 to 0x7f and some UTF-8 ("é", "…").
static char awkward[160];

static void make_awkward(void) {
  size_t k = 0;
  for (int c = 1; c < 0x80; c++) {
    awkward[k++] = (char)c;
  }
  memcpy(awkward + k, "\xc3\xa9\xe2\x80\xa6", 5);
  awkward[k + 5] = '\0';
}

static ca_expiring row(int64_t id, char *subject) {
  ca_expiring r;
  memset(&r, 0, sizeof(r));
  r.id = id;
  r.serial = "0a1b";
  r.issuer = "ec-issuing";
  r.profile = "tomcat";
  r.store = "";
  r.common_name = "cucm-pub.example.com";
  r.subject = subject;
  r.cluster = "";
  r.not_after = 1800000000;
  return r;
}

TEST(webhook_json_carries_every_field_as_it_is) {
  make_awkward();
  ca_expiring rows[3] = {row(1, "CN=plain"), row(2, awkward),
                         row(3, "CN=left out")};
  const uint8_t mask[3] = {1, 1, 0};
  uint8_t *body = NULL;
  size_t len = 0;
  CHECK(api_notify_json(rows, 3, mask, 7, 30, 1799000000, &body, &len));
  json_error_t error;
  json_t *doc = json_loadb((const char *)body, len, 0, &error);
  CHECK(doc != NULL);
  if (doc == NULL) {
    fprintf(stderr, "%s\n", error.text);
    OPENSSL_free(body);
    return;
  }
  CHECK_EQ_INT(json_integer_value(json_object_get(doc, "count")), 2);
  json_t *certs = json_object_get(doc, "certificates");
  CHECK_EQ_INT(json_array_size(certs), 2);
  json_t *second = json_array_get(certs, 1);
  CHECK_EQ_STR(json_string_value(json_object_get(second, "subject")), awkward);
  CHECK_EQ_STR(json_string_value(json_object_get(second, "common_name")),
               "cucm-pub.example.com");
  CHECK(json_is_null(json_object_get(second, "cluster")));
  CHECK_EQ_STR(
      json_string_value(json_object_get(json_array_get(certs, 0), "subject")),
      "CN=plain");
  json_decref(doc);
  OPENSSL_free(body);
}

TEST(mail_replaces_control_characters) {
  make_awkward();
  ca_expiring rows[1] = {row(1, awkward)};
  ca_monitor_config config;
  memset(&config, 0, sizeof(config));
  config.smtp_from = "pki@example.com";
  config.start_days = 30;
  uint8_t *body = NULL;
  size_t len = 0;
  CHECK(api_notify_mail(&config, "ops@example.com", rows, 1, NULL, 1799000000,
                        &body, &len));
  // The subject with its control characters (0x01 to 0x1f, DEL) as '?'.
  char want[sizeof(awkward)];
  for (size_t i = 0; i <= strlen(awkward); i++) {
    const unsigned char c = (unsigned char)awkward[i];
    want[i] = (c != 0 && (c < 0x20 || c == 0x7f)) ? '?' : (char)c;
  }
  CHECK(memmem(body, len, want, strlen(want)) != NULL);
  // No bare line feed or carriage return beyond the CRLF line ends.
  for (size_t i = 0; i < len; i++) {
    if (body[i] == '\n') {
      CHECK(i > 0 && body[i - 1] == '\r');
    }
    if (body[i] == '\r') {
      CHECK(i + 1 < len && body[i + 1] == '\n');
    }
  }
  OPENSSL_free(body);
}

int main(void) {
  RUN(webhook_json_carries_every_field_as_it_is);
  RUN(mail_replaces_control_characters);
  return test_summary();
}
