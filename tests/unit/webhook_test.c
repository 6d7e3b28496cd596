// Unit tests of api/server/webhook.c, with the libcurl pkid loads: the redacted
// form of a URL (scheme, host, port, "/…"; never user information, path,
// query or fragment), the check an admin's webhook passes (backslashes,
// zones, ports, link-local and reserved addresses, pkid's own listeners,
// loopback and private addresses without allow_private, in every form
// libcurl reads an address), the check of an address about to be
// connected to, pkid's listeners, the scrubbing of libcurl's messages; and
// api_notify_webhook refusing, at connection time, a loopback address
// reached through a name.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/server/notify.h"
#include "api/server/webhook.h"
#include "ca/limits.h"
#include "ca/policy/monitor.h"
#include "tests/support/test.h"

static const char kMore[] = "\xe2\x80\xa6";  // "…"

static void display_is(const char *url, const char *expected) {
  char out[API_WEBHOOK_DISPLAY_LEN];
  api_webhook_display(url, out);
  if (strcmp(out, expected) != 0) {
    fprintf(stderr, "display of %s: %s, expected %s\n", url, out, expected);
  }
  CHECK_EQ_STR(out, expected);
}

TEST(display) {
  char expected[API_WEBHOOK_DISPLAY_LEN];
#define MORE(prefix) \
  (snprintf(expected, sizeof(expected), "%s%s", prefix, kMore), expected)
  display_is("http://user:pass@host/hooks/TOKEN", MORE("http://host/"));
  display_is("https://hooks.example.com/services/T0/B0/XYZ",
             MORE("https://hooks.example.com/"));
  display_is("https://hooks.example.com/", "https://hooks.example.com/");
  display_is("https://hooks.example.com", "https://hooks.example.com/");
  display_is("http://127.0.0.1:8080/", "http://127.0.0.1:8080/");
  display_is("http://127.0.0.1:8080/hook", MORE("http://127.0.0.1:8080/"));
  display_is("http://[::1]:9000/x?y#z", MORE("http://[::1]:9000/"));
  display_is("http://h/?q=secret", MORE("http://h/"));
  display_is("http://h/#secret", MORE("http://h/"));
  display_is("http://user@h/", MORE("http://h/"));
  display_is("http://user:@h/", MORE("http://h/"));
  display_is("http://u;opt@h/", MORE("http://h/"));
  // The host as libcurl reads it, which is the host called.
  display_is("http://0x7f.1/", "http://127.0.0.1/");
  display_is("http://2130706433:80/", "http://127.0.0.1:80/");
  display_is("http://%31%32%37.0.0.1/", "http://127.0.0.1/");
#undef MORE
  // A long host is cut.
  char url[200], host[100];
  memset(host, 'a', 70);
  host[70] = '\0';
  snprintf(url, sizeof(url), "https://%s.example.com/", host);
  char out[API_WEBHOOK_DISPLAY_LEN];
  api_webhook_display(url, out);
  snprintf(expected, sizeof(expected), "https://%.*s%s/",
           API_WEBHOOK_DISPLAY_HOST - 3, host, kMore);
  CHECK_EQ_STR(out, expected);
  // What cannot be read, or may not be sent, is not shown at all.
  static const char *const kInvalid[] = {
      "",
      "ftp://user:pass@host/",
      "HTTP://host/",
      "http://127.0.0.1:21999\\@127.0.0.2:21998/",
      "http://a@b@c/TOKEN",
      "http://host:99999/",
      "http://exa mple.com/",
      "http://[fe80::1%25eth0]/",
  };
  for (size_t i = 0; i < sizeof(kInvalid) / sizeof(kInvalid[0]); i++) {
    display_is(kInvalid[i], API_WEBHOOK_DISPLAY_INVALID);
  }
  // The thread's error is left as it was.
  CA_SET_ERROR(CA_ERR_STORAGE_UNAVAILABLE, "kept");
  api_webhook_display("gopher://x/", out);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_STORAGE_UNAVAILABLE);
  CHECK_EQ_STR(ca_err_get()->message, "kept");
}

TEST(display_never_holds_a_secret) {
  static const char *const kUrls[] = {
      "http://SECRETUSER:SECRETPASS@hooks.example.com/SECRETPATH",
      "https://hooks.example.com:8443/a/SECRETPATH/b?SECRETQUERY#SECRETFRAG",
      "https://hooks.example.com/?token=SECRETQUERY",
      "http://SECRETUSER@[2001:db8::1]/SECRETPATH",
      "http://SECRETUSER%40x:SECRETPASS%3A@10.0.0.1:81/SECRETPATH",
  };
  for (size_t i = 0; i < sizeof(kUrls) / sizeof(kUrls[0]); i++) {
    char out[API_WEBHOOK_DISPLAY_LEN];
    api_webhook_display(kUrls[i], out);
    CHECK(strstr(out, "SECRET") == NULL);
    CHECK(strcmp(out, API_WEBHOOK_DISPLAY_INVALID) != 0);
    // The display form is never a URL PUT /v1/monitor takes back.
    CHECK(strstr(out, kMore) != NULL);
    CHECK(!ca_monitor_webhook_valid(out));
  }
}

// check returns the code api_webhook_check sets (CA_OK when it accepts)
// and, when |needle| is given, checks that its message holds it.
static int check(const char *url, int allow_private,
                 const api_webhook_self *self, const char *needle) {
  ca_err_clear();
  const int ok = api_webhook_check(3, url, allow_private, self);
  if (!ok && needle != NULL && strstr(ca_err_get()->message, needle) == NULL) {
    fprintf(stderr, "%s: message \"%s\" lacks \"%s\"\n", url,
            ca_err_get()->message, needle);
    CHECK(0);
  }
  if (!ok) {
    // Every refusal names the webhook by position, and fits whole.
    CHECK(strncmp(ca_err_get()->message, "webhook 3", 9) == 0);
    CHECK(strlen(ca_err_get()->message) < CA_ERR_MESSAGE_LEN - 1);
  }
  return ok ? CA_OK : (int)ca_err_get()->code;
}

#define REFUSED(url, allow, self, needle) \
  CHECK_EQ_INT(check(url, allow, self, needle), CA_ERR_DESTINATION_INVALID)
#define ACCEPTED(url, allow, self) \
  CHECK_EQ_INT(check(url, allow, self, NULL), CA_OK)

TEST(urls_as_libcurl_reads_them) {
  // libcurl would call 127.0.0.2 here (user "127.0.0.1", password
  // "21999\"), where other readers see 127.0.0.1.
  REFUSED("http://127.0.0.1:21999\\@127.0.0.2:21998/", 1, NULL, "backslash");
  REFUSED("http://u:p\\w@127.0.0.2/", 1, NULL, "backslash");
  REFUSED("http://u%5C:p@127.0.0.2/", 1, NULL, "backslash");
  REFUSED("http://u:p%5cw@example.com/", 1, NULL, "backslash");
  REFUSED("http://u;o%5C@example.com/", 1, NULL, "backslash");
  REFUSED("ftp://example.com/", 1, NULL, "http:// or https://");
  REFUSED("file:///etc/passwd", 1, NULL, "http:// or https://");
  REFUSED("http://a@b@c/", 1, NULL, "libcurl");
  REFUSED("http://example.com:0/", 1, NULL, "port");
  REFUSED("http://example.com:65536/", 1, NULL, NULL);
  REFUSED("http://[fe80::1%25eth0]:80/", 1, NULL, "zone");
  REFUSED("http://[::1%25lo]:80/", 1, NULL, "zone");
  // Names are not resolved when stored: they are checked at connection.
  ACCEPTED("https://hooks.example.com/services/T0/B0/XYZ", 0, NULL);
  ACCEPTED("http://user:pass@hooks.example.com:8080/x?y=1", 0, NULL);
  ACCEPTED("https://8.8.8.8/hook", 0, NULL);
  ACCEPTED("https://[2606:4700::1111]/hook", 0, NULL);
}

TEST(link_local_and_reserved_addresses) {
  static const char *const kLinkLocal[] = {
      "http://169.254.169.254/latest/meta-data/",
      "http://169.254.1.1:8080/",
      "http://2851995905/",           // 169.254.1.1 as one number
      "http://0xa9.0xfe.0xa9.0xfe/",  // 169.254.169.254 in hex
      "http://169.254.43518/",        // 169.254.169.254 in three parts
      "http://%31%36%39.254.169.254/",
      "http://[fe80::1]/",
      "http://[febf::1]:8080/",
      "http://[::ffff:169.254.169.254]/",
      "http://[::ffff:a9fe:a9fe]/",
      "http://[64:ff9b::a9fe:a9fe]/",
  };
  for (size_t i = 0; i < sizeof(kLinkLocal) / sizeof(kLinkLocal[0]); i++) {
    REFUSED(kLinkLocal[i], 1, NULL, "link-local");
    REFUSED(kLinkLocal[i], 0, NULL, "link-local");
  }
  static const char *const kReserved[] = {
      "http://0.0.0.0/",     "http://0/",          "http://224.0.0.1/",
      "http://239.1.2.3/",   "http://240.0.0.1/",  "http://255.255.255.255/",
      "http://[::]/",        "http://[ff02::1]/",  "http://[::127.0.0.1]/",
      "http://[::0.0.0.0]/", "http://0.1.2.3:80/",
  };
  for (size_t i = 0; i < sizeof(kReserved) / sizeof(kReserved[0]); i++) {
    REFUSED(kReserved[i], 1, NULL, "reserved");
  }
}

TEST(loopback_and_private_need_the_opt_in) {
  static const char *const kPrivate[] = {
      "http://127.0.0.1:8080/hook", "http://127.1/",
      "http://127.0.0.1./",         "http://0x7f000001/",
      "http://2130706433/",         "http://127.255.255.254/",
      "http://localhost:9000/",     "http://LOCALHOST./",
      "http://hooks.localhost/",    "http://10.0.0.1/",
      "http://10.255.255.255/",     "http://172.16.0.1/",
      "http://172.31.255.255/",     "http://192.168.0.1/",
      "http://100.64.0.1/",         "http://[::1]:9000/",
      "http://[0:0:0:0:0:0:0:1]/",  "http://[fc00::1]/",
      "http://[fd12:3456::1]/",     "http://[::ffff:10.1.2.3]/",
      "http://[::ffff:127.0.0.1]/", "http://[64:ff9b::a00:1]/",
  };
  for (size_t i = 0; i < sizeof(kPrivate) / sizeof(kPrivate[0]); i++) {
    REFUSED(kPrivate[i], 0, NULL, "allow_private");
    ACCEPTED(kPrivate[i], 1, NULL);
  }
  // Next to the ranges, public addresses pass without it.
  ACCEPTED("http://172.32.0.1/", 0, NULL);
  ACCEPTED("http://172.15.255.255/", 0, NULL);
  ACCEPTED("http://100.128.0.1/", 0, NULL);
  ACCEPTED("http://192.169.0.1/", 0, NULL);
  ACCEPTED("http://11.0.0.1/", 0, NULL);
  ACCEPTED("http://[fe00::1]/", 0, NULL);
  ACCEPTED("http://notlocalhost/", 0, NULL);
  ACCEPTED("http://localhost.example.com/", 0, NULL);
  // The refusal names the flag and the address libcurl would call.
  CHECK_EQ_INT(check("http://user:pw@0x7f.1:81/TOKEN", 0, NULL, NULL),
               CA_ERR_DESTINATION_INVALID);
  char expected[CA_ERR_MESSAGE_LEN];
  snprintf(expected, sizeof(expected),
           "webhook 3 (http://127.0.0.1:81/%s): 127.0.0.1 is a loopback "
           "address: set allow_private on this webhook to call it (pkictl: "
           "--webhook-allow-private URL)",
           kMore);
  CHECK_EQ_STR(ca_err_get()->message, expected);
  // The longest refusals still fit in a message.
  char url[300], host[100];
  memset(host, 'h', 90);
  host[90] = '\0';
  snprintf(url, sizeof(url), "https://u:p@%s.localhost:65535/x", host);
  REFUSED(url, 0, NULL, "allow_private");
  REFUSED("https://u:p@[fd00:1234:5678:9abc:def0:1234:5678:9abc]:65535/x", 0,
          NULL, "allow_private");
}

TEST(own_listeners) {
  api_webhook_self self;
  memset(&self, 0, sizeof(self));
  CHECK(api_webhook_self_add(&self, "127.0.0.1", 8443));
  CHECK(api_webhook_self_add(&self, "[::1]", 8080));
  CHECK(api_webhook_self_add(&self, "0.0.0.0", 9443));
  CHECK_EQ_INT(self.n, 3);
  CHECK_EQ_INT(self.listeners[0].len, 4);
  CHECK_EQ_INT(self.listeners[1].len, 16);
  CHECK_EQ_INT(self.listeners[2].len, 0);  // every address
  // Refused even with the opt-in, in any form of the address.
  REFUSED("https://127.0.0.1:8443/v1/ca", 1, &self, "listener");
  REFUSED("https://0x7f.1:8443/", 1, &self, "listener");
  REFUSED("https://localhost:8443/", 1, &self, "listener");
  REFUSED("https://[::ffff:127.0.0.1]:8443/", 1, &self, "listener");
  REFUSED("http://[::1]:8080/", 1, &self, "listener");
  REFUSED("http://localhost:8080/", 1, &self, "listener");
  // A listener on every address answers on any loopback address.
  REFUSED("https://127.0.0.5:9443/", 1, &self, "listener");
  REFUSED("https://[::1]:9443/", 1, &self, "listener");
  // Other ports and other addresses are not pkid's.
  ACCEPTED("https://127.0.0.1:8444/", 1, &self);
  ACCEPTED("https://127.0.0.2:8443/", 1, &self);
  ACCEPTED("http://127.0.0.1:8080/", 1, &self);
  ACCEPTED("https://8.8.8.8:8443/", 1, &self);
  ACCEPTED("https://8.8.8.8:9443/", 1, &self);
  // And on each address of the host's interfaces.
  struct ifaddrs *list = NULL;
  CHECK(getifaddrs(&list) == 0);
  for (struct ifaddrs *i = list; i != NULL; i = i->ifa_next) {
    if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET) {
      continue;
    }
    char text[INET_ADDRSTRLEN], url[96];
    const struct sockaddr_in *in = (const struct sockaddr_in *)i->ifa_addr;
    CHECK(inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text)) != NULL);
    snprintf(url, sizeof(url), "https://%s:9443/", text);
    REFUSED(url, 1, &self, "listener");
  }
  freeifaddrs(list);
  // A listener given as "" is on every address.
  api_webhook_self any;
  memset(&any, 0, sizeof(any));
  CHECK(api_webhook_self_add(&any, "", 7000));
  CHECK(any.n >= 1);
  CHECK_EQ_INT(any.listeners[0].len, 0);
  REFUSED("http://127.0.0.1:7000/", 1, &any, "listener");
  ca_err_clear();
  CHECK(!api_webhook_self_add(&any, "no-such-host.invalid", 1));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_CONFIG);
}

// allowed checks |text| port |port| as libcurl would connect to it.
static int allowed(const char *text, unsigned port, int allow_private,
                   const api_webhook_self *self, char *why, size_t len) {
  struct sockaddr_storage ss;
  memset(&ss, 0, sizeof(ss));
  struct sockaddr_in *in = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
  if (inet_pton(AF_INET, text, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
  } else if (inet_pton(AF_INET6, text, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
  } else {
    return -1;
  }
  why[0] = '\0';
  return api_webhook_address_allowed((const struct sockaddr *)&ss,
                                     allow_private, self, why, len);
}

TEST(addresses_at_connection) {
  api_webhook_self self;
  memset(&self, 0, sizeof(self));
  CHECK(api_webhook_self_add(&self, "127.0.0.1", 8443));
  char why[200];
  CHECK_EQ_INT(allowed("93.184.216.34", 443, 0, &self, why, sizeof(why)), 1);
  CHECK_EQ_INT(allowed("2606:2800:220:1::", 443, 0, &self, why, sizeof(why)),
               1);
  CHECK_EQ_INT(allowed("127.0.0.1", 9000, 0, &self, why, sizeof(why)), 0);
  CHECK(strstr(why, "allow_private") != NULL);
  CHECK_EQ_INT(allowed("127.0.0.1", 9000, 1, &self, why, sizeof(why)), 1);
  CHECK_EQ_INT(allowed("::ffff:10.0.0.1", 80, 0, &self, why, sizeof(why)), 0);
  CHECK(strstr(why, "10.0.0.1 is a private address") != NULL);
  CHECK_EQ_INT(allowed("169.254.169.254", 80, 1, &self, why, sizeof(why)), 0);
  CHECK(strstr(why, "link-local") != NULL);
  CHECK_EQ_INT(
      allowed("::ffff:169.254.169.254", 80, 1, &self, why, sizeof(why)), 0);
  CHECK_EQ_INT(allowed("fe80::1", 80, 1, &self, why, sizeof(why)), 0);
  CHECK_EQ_INT(allowed("0.0.0.0", 8443, 1, &self, why, sizeof(why)), 0);
  CHECK_EQ_INT(allowed("127.0.0.1", 8443, 1, &self, why, sizeof(why)), 0);
  CHECK(strstr(why, "listener") != NULL);
  CHECK_EQ_INT(allowed("::ffff:127.0.0.1", 8443, 1, &self, why, sizeof(why)),
               0);
  // A short buffer gets a cut reason, still NUL-terminated.
  char tiny[8];
  CHECK_EQ_INT(allowed("10.0.0.1", 80, 0, NULL, tiny, sizeof(tiny)), 0);
  CHECK_EQ_INT(strlen(tiny), sizeof(tiny) - 1);
  // Another family is never connected to.
  struct sockaddr other;
  memset(&other, 0, sizeof(other));
  other.sa_family = AF_UNIX;
  CHECK_EQ_INT(api_webhook_address_allowed(&other, 1, NULL, why, sizeof(why)),
               0);
}

TEST(secrets_in_messages) {
  api_webhook_url url;
  CHECK(
      api_webhook_open("http://hookuser:hookpass@hooks.example.com:81/"
                       "hooks/T0K3N%2Fx?key=QU3RY#FR4G",
                       &url));
  CHECK(!api_webhook_mentions_secret(
      &url, "Failed to connect to hooks.example.com port 81 after 3 ms"));
  CHECK(!api_webhook_mentions_secret(&url,
                                     "Could not resolve host: "
                                     "hooks.example.com"));
  CHECK(api_webhook_mentions_secret(&url, "login hookuser denied"));
  CHECK(api_webhook_mentions_secret(&url, "bad hookpass"));
  CHECK(api_webhook_mentions_secret(&url, "path T0K3N%2Fx"));
  CHECK(api_webhook_mentions_secret(&url, "path T0K3N/x"));
  CHECK(api_webhook_mentions_secret(&url, "key=QU3RY"));
  CHECK(api_webhook_mentions_secret(&url, "FR4G"));
  char longest[2 * 256 + 1];
  memset(longest, 'x', sizeof(longest) - 1);
  longest[sizeof(longest) - 1] = '\0';
  CHECK(api_webhook_mentions_secret(&url, longest));
  api_webhook_url_cleanup(&url);
  CHECK(url.handle == NULL);
  ca_err_clear();
  CHECK(!api_webhook_open("http://a\\@b/", &url));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_DESTINATION_INVALID);
  CHECK(url.handle == NULL);
}

// free_loopback_port returns a loopback port nothing listens on.
static unsigned free_loopback_port(void) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in in;
  memset(&in, 0, sizeof(in));
  in.sin_family = AF_INET;
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(in);
  unsigned port = 0;
  if (fd >= 0 && bind(fd, (struct sockaddr *)&in, sizeof(in)) == 0 &&
      getsockname(fd, (struct sockaddr *)&in, &len) == 0) {
    port = ntohs(in.sin_port);
  }
  if (fd >= 0) {
    close(fd);
  }
  return port;
}

TEST(sending_checks_the_address_connected_to) {
  const unsigned port = free_loopback_port();
  CHECK(port != 0);
  char url[128];
  static const uint8_t kBody[] = "{}";
  // A name stored without the opt-in that resolves to loopback: refused
  // when connecting, before any byte leaves.
  snprintf(url, sizeof(url), "http://user:pw@localhost:%u/TOKEN", port);
  ca_err_clear();
  CHECK(!api_notify_webhook(url, 0, NULL, kBody, 2));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_NOTIFY_FAILED);
  CHECK(strstr(ca_err_get()->message, "allow_private") != NULL);
  CHECK(strstr(ca_err_get()->message, "TOKEN") == NULL);
  // pkid's own listener, even with the opt-in.
  api_webhook_self self;
  memset(&self, 0, sizeof(self));
  CHECK(api_webhook_self_add(&self, "127.0.0.1", port));
  snprintf(url, sizeof(url), "http://127.0.0.1:%u/", port);
  ca_err_clear();
  CHECK(!api_notify_webhook(url, 1, &self, kBody, 2));
  CHECK(strstr(ca_err_get()->message, "listener") != NULL);
  // With the opt-in and nothing listening, libcurl itself fails to
  // connect: the check let the address through.
  ca_err_clear();
  CHECK(!api_notify_webhook(url, 1, NULL, kBody, 2));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_NOTIFY_FAILED);
  CHECK(strstr(ca_err_get()->message, "allow_private") == NULL);
  CHECK(strstr(ca_err_get()->message, "listener") == NULL);
  // A URL that may not be sent is not read again differently.
  ca_err_clear();
  CHECK(!api_notify_webhook("http://127.0.0.1:1\\@127.0.0.2:2/", 1, NULL, kBody,
                            2));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_DESTINATION_INVALID);
}

int main(void) {
  RUN(display);
  RUN(display_never_holds_a_secret);
  RUN(urls_as_libcurl_reads_them);
  RUN(link_local_and_reserved_addresses);
  RUN(loopback_and_private_need_the_opt_in);
  RUN(own_listeners);
  RUN(addresses_at_connection);
  RUN(secrets_in_messages);
  RUN(sending_checks_the_address_connected_to);
  return test_summary();
}
