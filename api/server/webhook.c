#include "api/server/webhook.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/server/curl_lib.h"
#include "ca/policy/monitor.h"

// --- Reading a URL ---

// A URL as libcurl reads it.
typedef struct parsed_url {
  CURLU *handle;
  char scheme[8];  // "http" or "https"
  char host[256];  // a name, or an address without brackets
  int bracketed;   // an IPv6 address
  unsigned port;   // the one given, else the scheme's
  int port_given;
  // User information, a path other than "/", a query or a fragment: what
  // the display leaves out.
  int more;
} parsed_url;

static void parsed_cleanup(parsed_url *p) {
  if (p->handle != NULL) {
    api_curl.curl_url_cleanup(p->handle);
    p->handle = NULL;
  }
}

// get_part returns a copy of |part| (curl_free), or NULL when the URL has
// none.
static char *get_part(CURLU *h, CURLUPart part, unsigned flags) {
  char *value = NULL;
  if (api_curl.curl_url_get(h, part, &value, flags) != CURLUE_OK) {
    return NULL;
  }
  return value;
}

static int has_part(CURLU *h, CURLUPart part) {
  char *value = get_part(h, part, 0);
  const int has = value != NULL && value[0] != '\0';
  api_curl.curl_free(value);
  return has;
}

// host_chars_valid accepts what a host name or an address literal is made
// of. libcurl decodes percent-encoded hosts; anything it let through that
// no resolver takes is refused here rather than shown.
static int host_chars_valid(const char *host, int bracketed) {
  if (host[0] == '\0') {
    return 0;
  }
  for (const char *c = host; *c != '\0'; c++) {
    const int ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                   (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' ||
                   *c == '_' || (bracketed && *c == ':');
    if (!ok) {
      return 0;
    }
  }
  return 1;
}

// parse reads |url| for the |position|th webhook (0: not in a list, as
// when sending) into |out| (parsed_cleanup it). It returns 0 with
// CA_ERR_DESTINATION_INVALID and a message that never quotes the URL, or
// CA_ERR_NOTIFY_FAILED when libcurl cannot be loaded.
static int parse(const char *url, size_t position, parsed_url *out) {
  char *part = NULL;
  char which[32] = "webhook";
  if (position > 0) {
    snprintf(which, sizeof(which), "webhook %zu", position);
  }
  memset(out, 0, sizeof(*out));
  CA_ENSURE(strchr(url, '\\') == NULL, CA_ERR_DESTINATION_INVALID,
            "%s: a backslash is not allowed in a webhook URL (libcurl would "
            "read what precedes an '@' as user information)",
            which);
  CA_ENSURE(ca_monitor_webhook_valid(url), CA_ERR_DESTINATION_INVALID,
            "%s: a webhook must be an http:// or https:// URL of printable "
            "ASCII",
            which);
  CA_GUARD(api_curl_load());
  out->handle = api_curl.curl_url();
  CA_ENSURE_ALLOC(out->handle);
  // Without CURLU_NON_SUPPORT_SCHEME: only schemes libcurl speaks parse.
  CA_ENSURE(
      api_curl.curl_url_set(out->handle, CURLUPART_URL, url, 0) == CURLUE_OK,
      CA_ERR_DESTINATION_INVALID, "%s: libcurl does not read it as a URL",
      which);
  part = get_part(out->handle, CURLUPART_SCHEME, 0);
  CA_ENSURE(
      part != NULL && (strcmp(part, "http") == 0 || strcmp(part, "https") == 0),
      CA_ERR_DESTINATION_INVALID,
      "%s: a webhook must be an http:// or https:// URL", which);
  snprintf(out->scheme, sizeof(out->scheme), "%s", part);
  api_curl.curl_free(part);
  // libcurl decodes the user information it sends (HTTP Basic): an
  // encoded backslash is refused as a written one is.
  static const CURLUPart kUserParts[] = {CURLUPART_USER, CURLUPART_PASSWORD,
                                         CURLUPART_OPTIONS};
  for (size_t i = 0; i < sizeof(kUserParts) / sizeof(kUserParts[0]); i++) {
    part = get_part(out->handle, kUserParts[i], CURLU_URLDECODE);
    CA_ENSURE(part == NULL || strchr(part, '\\') == NULL,
              CA_ERR_DESTINATION_INVALID,
              "%s: a backslash is not allowed in a webhook's user "
              "information",
              which);
    out->more |= part != NULL;
    api_curl.curl_free(part);
    part = NULL;
  }
  CA_ENSURE(!has_part(out->handle, CURLUPART_ZONEID),
            CA_ERR_DESTINATION_INVALID,
            "%s: an IPv6 zone is not allowed (zones scope link-local "
            "addresses)",
            which);
  part = get_part(out->handle, CURLUPART_HOST, 0);
  CA_ENSURE(part != NULL, CA_ERR_DESTINATION_INVALID, "%s: no host", which);
  const size_t host_len = strlen(part);
  out->bracketed = host_len >= 2 && part[0] == '[' && part[host_len - 1] == ']';
  const char *host = out->bracketed ? part + 1 : part;
  const size_t len = out->bracketed ? host_len - 2 : host_len;
  CA_ENSURE(len < sizeof(out->host), CA_ERR_DESTINATION_INVALID,
            "%s: the host is too long", which);
  memcpy(out->host, host, len);
  out->host[len] = '\0';
  api_curl.curl_free(part);
  part = NULL;
  CA_ENSURE(host_chars_valid(out->host, out->bracketed),
            CA_ERR_DESTINATION_INVALID,
            "%s: the host is not a host name or an address", which);
  part = get_part(out->handle, CURLUPART_PORT, 0);
  out->port_given = part != NULL;
  api_curl.curl_free(part);
  part = get_part(out->handle, CURLUPART_PORT, CURLU_DEFAULT_PORT);
  char *end = NULL;
  const unsigned long port = part != NULL ? strtoul(part, &end, 10) : 0;
  CA_ENSURE(
      part != NULL && end != part && *end == '\0' && port >= 1 && port <= 65535,
      CA_ERR_DESTINATION_INVALID, "%s: the port must be 1 to 65535", which);
  out->port = (unsigned)port;
  api_curl.curl_free(part);
  part = get_part(out->handle, CURLUPART_PATH, 0);
  out->more |= part != NULL && strcmp(part, "/") != 0 && part[0] != '\0';
  api_curl.curl_free(part);
  part = NULL;
  out->more |= has_part(out->handle, CURLUPART_QUERY) ||
               has_part(out->handle, CURLUPART_FRAGMENT);
  return 1;
err:
  // |part| is set only once libcurl is loaded.
  if (part != NULL) {
    api_curl.curl_free(part);
  }
  parsed_cleanup(out);
  return 0;
}

// --- Addresses ---

// normalize fills |out| with the 4 or 16 bytes of |sa|, an IPv4-mapped
// IPv6 address as its IPv4 address (what it reaches), and |port|. It
// returns the length, 0 for another family.
static size_t normalize(const struct sockaddr *sa, uint8_t out[16],
                        uint16_t *port) {
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (sa->sa_family == AF_INET) {
    struct sockaddr_in in;
    memcpy(&in, sa, sizeof(in));
    memcpy(out, &in.sin_addr, 4);
    *port = ntohs(in.sin_port);
    return 4;
  }
  if (sa->sa_family == AF_INET6) {
    struct sockaddr_in6 in6;
    memcpy(&in6, sa, sizeof(in6));
    *port = ntohs(in6.sin6_port);
    if (memcmp(in6.sin6_addr.s6_addr, kMapped, 12) == 0) {
      memcpy(out, in6.sin6_addr.s6_addr + 12, 4);
      return 4;
    }
    memcpy(out, in6.sin6_addr.s6_addr, 16);
    return 16;
  }
  return 0;
}

static void format_address(const uint8_t *addr, size_t len, char *out,
                           size_t out_len) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (inet_ntop(len == 4 ? AF_INET : AF_INET6, addr, text, sizeof(text)) ==
      NULL) {
    snprintf(text, sizeof(text), "?");
  }
  snprintf(out, out_len, "%s", text);
}

// is_local_address returns 1 when |addr| is an address of one of this
// host's interfaces, and when the interfaces cannot be listed (an unknown
// answer must not let a webhook reach a listener on every address).
static int is_local_address(const uint8_t *addr, size_t len) {
  struct ifaddrs *list = NULL;
  if (getifaddrs(&list) != 0) {
    return 1;
  }
  int found = 0;
  for (struct ifaddrs *i = list; i != NULL && !found; i = i->ifa_next) {
    uint8_t a[16];
    uint16_t port;
    if (i->ifa_addr != NULL &&
        (i->ifa_addr->sa_family == AF_INET ||
         i->ifa_addr->sa_family == AF_INET6) &&
        normalize(i->ifa_addr, a, &port) == len) {
      found = memcmp(a, addr, len) == 0;
    }
  }
  freeifaddrs(list);
  return found;
}

// is_self returns 1 when |addr| port |port| reaches one of |self|'s
// listeners.
static int is_self(const uint8_t *addr, size_t len, uint16_t port,
                   ca_address_class c, const api_webhook_self *self) {
  for (size_t i = 0; self != NULL && i < self->n; i++) {
    if (self->listeners[i].port != port) {
      continue;
    }
    if (self->listeners[i].len == 0) {
      // A listener on every address answers on loopback and on each
      // address of the host.
      if (c == CA_ADDRESS_LOOPBACK || is_local_address(addr, len)) {
        return 1;
      }
    } else if (self->listeners[i].len == len &&
               memcmp(self->listeners[i].addr, addr, len) == 0) {
      return 1;
    }
  }
  return 0;
}

// address_allowed is the rule (api/server/webhook.h) for |len| bytes of |addr|
// (IPv4-mapped addresses already made IPv4) and |port|.
static int address_allowed(const uint8_t *addr, size_t len, uint16_t port,
                           int allow_private, const api_webhook_self *self,
                           char *why, size_t why_len) {
  char text[INET6_ADDRSTRLEN];
  format_address(addr, len, text, sizeof(text));
  const ca_address_class c = ca_monitor_address_class(addr, len);
  if (c == CA_ADDRESS_LINK_LOCAL) {
    snprintf(why, why_len, "%s is a link-local address, never a webhook's",
             text);
    return 0;
  }
  if (c == CA_ADDRESS_RESERVED) {
    snprintf(why, why_len,
             "%s is an unspecified, multicast or reserved address", text);
    return 0;
  }
  if (is_self(addr, len, port, c, self)) {
    snprintf(why, why_len,
             "%s port %u is pkid's own API or OCSP listener, never a "
             "webhook",
             text, (unsigned)port);
    return 0;
  }
  if ((c == CA_ADDRESS_LOOPBACK || c == CA_ADDRESS_PRIVATE) && !allow_private) {
    snprintf(why, why_len,
             "%s is a %s address: set allow_private on this webhook to "
             "call it (pkictl: --webhook-allow-private URL)",
             text, ca_monitor_address_class_name(c));
    return 0;
  }
  return 1;
}

int api_webhook_address_allowed(const struct sockaddr *addr, int allow_private,
                                const api_webhook_self *self, char *why,
                                size_t why_len) {
  uint8_t a[16];
  uint16_t port = 0;
  const size_t len = normalize(addr, a, &port);
  if (len == 0) {
    snprintf(why, why_len, "not an IPv4 or IPv6 address");
    return 0;
  }
  return address_allowed(a, len, port, allow_private, self, why, why_len);
}

int api_webhook_self_add(api_webhook_self *self, const char *host,
                         unsigned port) {
  char name[256];
  const size_t len = strlen(host);
  struct addrinfo hints, *res = NULL;
  // pkid --listen writes IPv6 addresses in brackets.
  if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
    snprintf(name, sizeof(name), "%.*s", (int)(len - 2), host + 1);
  } else {
    snprintf(name, sizeof(name), "%s", host);
  }
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  CA_ENSURE(port <= 65535, CA_ERR_CONFIG, "bad listener port %u", port);
  CA_ENSURE(getaddrinfo(name[0] != '\0' ? name : NULL, "0", &hints, &res) == 0,
            CA_ERR_CONFIG, "cannot resolve the listener address %.64s", host);
  for (struct addrinfo *r = res; r != NULL; r = r->ai_next) {
    uint8_t a[16];
    uint16_t ignored;
    const size_t n = normalize(r->ai_addr, a, &ignored);
    if (n == 0) {
      continue;
    }
    CA_ENSURE(self->n < API_WEBHOOK_SELF_MAX, CA_ERR_CONFIG,
              "more than %d listener addresses", API_WEBHOOK_SELF_MAX);
    static const uint8_t kAny[16] = {0};
    self->listeners[self->n].len = memcmp(a, kAny, n) == 0 ? 0 : n;
    memcpy(self->listeners[self->n].addr, a, n);
    self->listeners[self->n].port = (uint16_t)port;
    self->n++;
  }
  freeaddrinfo(res);
  return 1;
err:
  if (res != NULL) {
    freeaddrinfo(res);
  }
  return 0;
}

// --- Showing a URL ---

void api_webhook_display(const char *url, char out[API_WEBHOOK_DISPLAY_LEN]) {
  ca_err saved;
  ca_err_copy(&saved);
  parsed_url p;
  if (!parse(url, 0, &p)) {
    snprintf(out, API_WEBHOOK_DISPLAY_LEN, "%s", API_WEBHOOK_DISPLAY_INVALID);
    ca_err_restore(&saved);
    return;
  }
  // "\xe2\x80\xa6" is "…" in UTF-8: not printable ASCII, so a display
  // that left something out is never accepted back as a webhook.
  static const char kMore[] = "\xe2\x80\xa6";
  char port[8] = "", host[API_WEBHOOK_DISPLAY_HOST + 1];
  if (p.port_given) {
    snprintf(port, sizeof(port), ":%u", p.port);
  }
  if (strlen(p.host) > API_WEBHOOK_DISPLAY_HOST) {
    snprintf(host, sizeof(host), "%.*s%s",
             (int)(API_WEBHOOK_DISPLAY_HOST - (sizeof(kMore) - 1)), p.host,
             kMore);
  } else {
    snprintf(host, sizeof(host), "%s", p.host);
  }
  snprintf(out, API_WEBHOOK_DISPLAY_LEN, "%s://%s%s%s%s/%s", p.scheme,
           p.bracketed ? "[" : "", host, p.bracketed ? "]" : "", port,
           p.more ? kMore : "");
  parsed_cleanup(&p);
  ca_err_restore(&saved);
}

// --- Checking a URL ---

// is_localhost returns 1 for "localhost" and names under it, which
// resolve to loopback (RFC 6761 6.3; libcurl does not ask DNS for them).
static int is_localhost(const char *host) {
  size_t len = strlen(host);
  if (len > 0 && host[len - 1] == '.') {
    len--;
  }
  static const char kName[] = "localhost";
  const size_t name_len = sizeof(kName) - 1;
  return len >= name_len &&
         strncasecmp(host + len - name_len, kName, name_len) == 0 &&
         (len == name_len || host[len - name_len - 1] == '.');
}

// ipv4_literal reads |host| as an IPv4 address in every form a resolver
// takes (127.1, 0x7f.0.0.1, with a final dot): libcurl writes most of
// them dotted, and one it left alone is read here as the resolver will.
static int ipv4_literal(const char *host, struct in_addr *out) {
  char copy[256];
  snprintf(copy, sizeof(copy), "%s", host);
  const size_t len = strlen(copy);
  if (len > 1 && copy[len - 1] == '.') {
    copy[len - 1] = '\0';
  }
  return inet_aton(copy, out) != 0;
}

int api_webhook_check(size_t position, const char *url, int allow_private,
                      const api_webhook_self *self) {
  int ret = 0;
  parsed_url p;
  char display[API_WEBHOOK_DISPLAY_LEN], why[200];
  CA_GUARD(parse(url, position, &p));
  api_webhook_display(url, display);
  uint8_t addrs[2][16];
  size_t lens[2], n = 0;
  struct in_addr v4;
  if (p.bracketed) {
    CA_ENSURE(inet_pton(AF_INET6, p.host, addrs[0]) == 1,
              CA_ERR_DESTINATION_INVALID,
              "webhook %zu (%s): not an IPv6 address", position, display);
    struct sockaddr_in6 in6;
    memset(&in6, 0, sizeof(in6));
    in6.sin6_family = AF_INET6;
    memcpy(&in6.sin6_addr, addrs[0], 16);
    uint16_t ignored;
    lens[0] = normalize((const struct sockaddr *)&in6, addrs[0], &ignored);
    n = 1;
  } else if (ipv4_literal(p.host, &v4)) {
    memcpy(addrs[0], &v4, 4);
    lens[0] = 4;
    n = 1;
  } else if (is_localhost(p.host)) {
    static const uint8_t kLoop4[4] = {127, 0, 0, 1};
    static const uint8_t kLoop6[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                       0, 0, 0, 0, 0, 0, 0, 1};
    memcpy(addrs[0], kLoop4, 4);
    lens[0] = 4;
    memcpy(addrs[1], kLoop6, 16);
    lens[1] = 16;
    n = 2;
  }
  // Other names: checked at each connection (api_webhook_address_allowed).
  for (size_t i = 0; i < n; i++) {
    CA_ENSURE(address_allowed(addrs[i], lens[i], (uint16_t)p.port,
                              allow_private, self, why, sizeof(why)),
              CA_ERR_DESTINATION_INVALID, "webhook %zu (%s): %s", position,
              display, why);
  }
  ret = 1;
err:
  parsed_cleanup(&p);
  return ret;
}

// --- Sending ---

int api_webhook_open(const char *url, api_webhook_url *out) {
  parsed_url p;
  out->handle = NULL;
  CA_GUARD_RETURN(parse(url, 0, &p));
  // The handle, as read and checked, is what libcurl sends with.
  out->handle = p.handle;
  return 1;
}

void api_webhook_url_cleanup(api_webhook_url *url) {
  if (url->handle != NULL) {
    api_curl.curl_url_cleanup(url->handle);
    url->handle = NULL;
  }
}

static int mentions(const char *text, const char *part) {
  return part != NULL && part[0] != '\0' && strstr(text, part) != NULL;
}

int api_webhook_mentions_secret(const api_webhook_url *url,
                                const char *message) {
  static const CURLUPart kParts[] = {CURLUPART_USER,     CURLUPART_PASSWORD,
                                     CURLUPART_OPTIONS,  CURLUPART_QUERY,
                                     CURLUPART_FRAGMENT, CURLUPART_PATH};
  // The host is no secret, and libcurl names it: blanked first, so that a
  // path segment "hooks" is not found in "hooks.example.com".
  char text[CURL_ERROR_SIZE * 2];
  if (strlen(message) >= sizeof(text)) {
    return 1;  // not looked at whole: not shown
  }
  snprintf(text, sizeof(text), "%s", message);
  char *host = get_part(url->handle, CURLUPART_HOST, 0);
  const size_t host_len = host != NULL ? strlen(host) : 0;
  for (char *at = host_len > 0 ? strstr(text, host) : NULL; at != NULL;
       at = strstr(at + host_len, host)) {
    memset(at, ' ', host_len);
  }
  if (host != NULL) {
    api_curl.curl_free(host);
  }
  int found = 0;
  for (size_t i = 0; !found && i < sizeof(kParts) / sizeof(kParts[0]); i++) {
    for (unsigned decode = 0; decode < 2 && !found; decode++) {
      char *part =
          get_part(url->handle, kParts[i], decode != 0 ? CURLU_URLDECODE : 0);
      if (part == NULL) {
        continue;
      }
      if (kParts[i] != CURLUPART_PATH) {
        found = mentions(text, part);
      } else {
        // Each segment of the path: a token is often one of them.
        for (char *save = NULL, *seg = strtok_r(part, "/", &save);
             seg != NULL && !found; seg = strtok_r(NULL, "/", &save)) {
          found = mentions(text, seg);
        }
      }
      api_curl.curl_free(part);
    }
  }
  return found;
}
