#include "ca/policy/monitor.h"

#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ca_monitor_config_cleanup(ca_monitor_config *config) {
  for (size_t i = 0; i < config->n_emails; i++) {
    OPENSSL_free(config->emails[i]);
  }
  for (size_t i = 0; i < config->n_webhooks; i++) {
    OPENSSL_free(config->webhooks[i]);
  }
  OPENSSL_free(config->smtp_host);
  OPENSSL_free(config->smtp_from);
  OPENSSL_free(config->updated_by);
  memset(config, 0, sizeof(*config));
}

static int is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

// host_name_valid checks |len| bytes as a DNS name: labels of 1 to 63
// letters, digits and inner hyphens, 253 bytes in all.
static int host_name_valid(const char *name, size_t len) {
  if (len == 0 || len > 253) {
    return 0;
  }
  size_t label = 0;
  for (size_t i = 0; i < len; i++) {
    const char c = name[i];
    if (c == '.') {
      if (label == 0 || name[i - 1] == '-') {
        return 0;
      }
      label = 0;
      continue;
    }
    if (!is_alnum(c) && !(c == '-' && label > 0)) {
      return 0;
    }
    if (++label > 63) {
      return 0;
    }
  }
  return label > 0 && name[len - 1] != '-';
}

int ca_monitor_host_valid(const char *host) {
  const size_t len = strlen(host);
  if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
    // An IPv6 literal: hex digits, ':' and '.' (an embedded IPv4 address);
    // libcurl parses it and refuses what is not an address.
    if (len > 2 + 45) {
      return 0;
    }
    for (size_t i = 1; i + 1 < len; i++) {
      const char c = host[i];
      if (!is_alnum(c) && c != ':' && c != '.') {
        return 0;
      }
    }
    return len > 2;
  }
  // Host names and dotted IPv4 addresses share the character set.
  return host_name_valid(host, len);
}

int ca_monitor_email_valid(const char *address) {
  // RFC 5322 3.2.3 atext, without the quoted-string form of local parts.
  static const char kAtext[] = "!#$%&'*+/=?^_`{|}~-";
  const size_t len = strlen(address);
  const char *at = strrchr(address, '@');
  if (len == 0 || len > CA_LIMIT_EMAIL_LEN || at == NULL || at == address) {
    return 0;
  }
  const size_t local = (size_t)(at - address);
  // RFC 5321 4.5.3.1.1: a local part is at most 64 octets.
  if (local > 64 || address[0] == '.' || address[local - 1] == '.') {
    return 0;
  }
  for (size_t i = 0; i < local; i++) {
    const char c = address[i];
    if (c == '.') {
      if (address[i + 1] == '.') {
        return 0;
      }
      continue;
    }
    if (!is_alnum(c) && strchr(kAtext, c) == NULL) {
      return 0;
    }
  }
  return host_name_valid(at + 1, len - local - 1);
}

int ca_monitor_webhook_valid(const char *url) {
  const size_t len = strlen(url);
  size_t scheme;
  if (strncmp(url, "http://", 7) == 0) {
    scheme = 7;
  } else if (strncmp(url, "https://", 8) == 0) {
    scheme = 8;
  } else {
    return 0;
  }
  if (len > CA_LIMIT_WEBHOOK_URL_LEN || len == scheme) {
    return 0;
  }
  for (size_t i = scheme; i < len; i++) {
    // Printable ASCII without spaces: nothing that could split the request
    // line or a header. No backslash: parsers disagree on where it ends
    // the authority (ca/policy/monitor.h).
    if (url[i] <= ' ' || url[i] >= 0x7f || url[i] == '\\') {
      return 0;
    }
  }
  // The authority ends at '/', '?' or '#'; it names a host (a user part
  // before '@' is allowed, as libcurl allows it).
  const size_t authority = strcspn(url + scheme, "/?#");
  const char *host = url + scheme;
  const char *at = memchr(host, '@', authority);
  const size_t skip = at != NULL ? (size_t)(at - host) + 1 : 0;
  return authority > skip && host[skip] != ':';
}

static int contains(char *const *list, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++) {
    if (strcmp(list[i], s) == 0) {
      return 1;
    }
  }
  return 0;
}

int ca_monitor_config_check(const ca_monitor_config *config) {
  CA_ENSURE_RETURN(config->start_days >= CA_MONITOR_START_DAYS_MIN &&
                       config->start_days <= CA_MONITOR_START_DAYS_MAX,
                   CA_ERR_PARAMETER_INVALID, "start days must be %d to %d",
                   CA_MONITOR_START_DAYS_MIN, CA_MONITOR_START_DAYS_MAX);
  CA_ENSURE_RETURN(config->frequency_s >= CA_MONITOR_FREQUENCY_MIN_S &&
                       config->frequency_s <= CA_MONITOR_FREQUENCY_MAX_S,
                   CA_ERR_PARAMETER_INVALID, "frequency must be 1h to 30d");
  CA_ENSURE_RETURN(
      config->n_emails <= CA_LIMIT_MONITOR_DESTINATIONS &&
          config->n_webhooks <= CA_LIMIT_MONITOR_DESTINATIONS,
      CA_ERR_DESTINATION_INVALID, "at most %d e-mail addresses and %d webhooks",
      CA_LIMIT_MONITOR_DESTINATIONS, CA_LIMIT_MONITOR_DESTINATIONS);
  for (size_t i = 0; i < config->n_emails; i++) {
    CA_ENSURE_RETURN(ca_monitor_email_valid(config->emails[i]),
                     CA_ERR_DESTINATION_INVALID, "not an e-mail address: %.80s",
                     config->emails[i]);
    CA_ENSURE_RETURN(!contains(config->emails, i, config->emails[i]),
                     CA_ERR_DESTINATION_INVALID, "%.80s is listed twice",
                     config->emails[i]);
  }
  // Webhooks are named by position: their text may hold a secret.
  for (size_t i = 0; !config->keep_webhooks && i < config->n_webhooks; i++) {
    CA_ENSURE_RETURN(
        strchr(config->webhooks[i], '\\') == NULL, CA_ERR_DESTINATION_INVALID,
        "webhook %zu: a backslash is not allowed in a webhook URL "
        "(libcurl would read what precedes an '@' as user information)",
        i + 1);
    CA_ENSURE_RETURN(
        ca_monitor_webhook_valid(config->webhooks[i]),
        CA_ERR_DESTINATION_INVALID,
        "webhook %zu: a webhook must be an http:// or https:// URL of "
        "printable ASCII, at most %d bytes",
        i + 1, CA_LIMIT_WEBHOOK_URL_LEN);
    CA_ENSURE_RETURN(!contains(config->webhooks, i, config->webhooks[i]),
                     CA_ERR_DESTINATION_INVALID, "webhook %zu is listed twice",
                     i + 1);
  }
  CA_ENSURE_RETURN(
      config->smtp_host != NULL && ca_monitor_host_valid(config->smtp_host),
      CA_ERR_DESTINATION_INVALID, "bad SMTP host");
  CA_ENSURE_RETURN(config->smtp_port >= 1 && config->smtp_port <= 65535,
                   CA_ERR_DESTINATION_INVALID, "SMTP port must be 1 to 65535");
  CA_ENSURE_RETURN(
      config->smtp_from != NULL && ca_monitor_email_valid(config->smtp_from),
      CA_ERR_DESTINATION_INVALID, "the SMTP sender must be an e-mail address");
  return 1;
}

int ca_monitor_parse_frequency(uint32_t *out_s, const char *text) {
  const size_t len = text != NULL ? strlen(text) : 0;
  uint64_t n = 0;
  CA_ENSURE_RETURN(len >= 2 && len <= 6, CA_ERR_PARAMETER_INVALID,
                   "frequency must be hours or days: 12h, 1d, 7d");
  for (size_t i = 0; i + 1 < len; i++) {
    CA_ENSURE_RETURN(text[i] >= '0' && text[i] <= '9', CA_ERR_PARAMETER_INVALID,
                     "frequency must be hours or days: 12h, 1d, 7d");
    n = n * 10 + (uint64_t)(text[i] - '0');
  }
  const char unit = text[len - 1];
  CA_ENSURE_RETURN(unit == 'h' || unit == 'd', CA_ERR_PARAMETER_INVALID,
                   "frequency must be hours or days: 12h, 1d, 7d");
  n *= unit == 'h' ? 3600 : 86400;
  CA_ENSURE_RETURN(
      n >= CA_MONITOR_FREQUENCY_MIN_S && n <= CA_MONITOR_FREQUENCY_MAX_S,
      CA_ERR_PARAMETER_INVALID, "frequency must be 1h to 30d");
  *out_s = (uint32_t)n;
  return 1;
}

void ca_monitor_format_frequency(uint32_t seconds, char out[16]) {
  if (seconds % 86400 == 0 && seconds > 0) {
    snprintf(out, 16, "%ud", (unsigned)(seconds / 86400));
  } else {
    snprintf(out, 16, "%uh", (unsigned)(seconds / 3600));
  }
}

// in_prefix returns 1 when the first |bits| bits of |addr| are those of
// |prefix|.
static int in_prefix(const uint8_t *addr, const uint8_t *prefix,
                     unsigned bits) {
  const unsigned whole = bits / 8, rest = bits % 8;
  if (memcmp(addr, prefix, whole) != 0) {
    return 0;
  }
  if (rest == 0) {
    return 1;
  }
  const uint8_t mask = (uint8_t)(0xff << (8 - rest));
  return (addr[whole] & mask) == (prefix[whole] & mask);
}

static ca_address_class ipv4_class(const uint8_t a[4]) {
  static const struct {
    uint8_t prefix[4];
    unsigned bits;
    ca_address_class c;
  } kRanges[] = {
      {{0, 0, 0, 0}, 8, CA_ADDRESS_RESERVED},  // "this network"
      {{127, 0, 0, 0}, 8, CA_ADDRESS_LOOPBACK},
      {{10, 0, 0, 0}, 8, CA_ADDRESS_PRIVATE},
      {{172, 16, 0, 0}, 12, CA_ADDRESS_PRIVATE},
      {{192, 168, 0, 0}, 16, CA_ADDRESS_PRIVATE},
      {{100, 64, 0, 0}, 10, CA_ADDRESS_PRIVATE},  // RFC 6598 shared space
      {{169, 254, 0, 0}, 16, CA_ADDRESS_LINK_LOCAL},
      {{224, 0, 0, 0}, 4, CA_ADDRESS_RESERVED},  // multicast
      {{240, 0, 0, 0}, 4, CA_ADDRESS_RESERVED},  // reserved, broadcast
  };
  for (size_t i = 0; i < sizeof(kRanges) / sizeof(kRanges[0]); i++) {
    if (in_prefix(a, kRanges[i].prefix, kRanges[i].bits)) {
      return kRanges[i].c;
    }
  }
  return CA_ADDRESS_PUBLIC;
}

ca_address_class ca_monitor_address_class(const uint8_t *addr, size_t len) {
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b};
  static const uint8_t kZero[16] = {0};
  static const uint8_t kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                        0, 0, 0, 0, 0, 0, 0, 1};
  static const uint8_t kUniqueLocal[1] = {0xfc};
  static const uint8_t kLinkLocal[2] = {0xfe, 0x80};
  static const uint8_t kSiteLocal[2] = {0xfe, 0xc0};
  static const uint8_t kMulticast[1] = {0xff};
  if (len == 4) {
    return ipv4_class(addr);
  }
  if (len != 16) {
    return CA_ADDRESS_RESERVED;
  }
  // The IPv4 address an IPv6 one carries is the one reached.
  if (memcmp(addr, kMapped, 12) == 0 || memcmp(addr, kNat64, 12) == 0) {
    return ipv4_class(addr + 12);
  }
  if (memcmp(addr, kLoopback, 16) == 0) {
    return CA_ADDRESS_LOOPBACK;
  }
  // ::, and the deprecated IPv4-compatible addresses ::a.b.c.d.
  if (memcmp(addr, kZero, 12) == 0) {
    return CA_ADDRESS_RESERVED;
  }
  if (in_prefix(addr, kLinkLocal, 10)) {
    return CA_ADDRESS_LINK_LOCAL;
  }
  if (in_prefix(addr, kUniqueLocal, 7) || in_prefix(addr, kSiteLocal, 10)) {
    return CA_ADDRESS_PRIVATE;
  }
  if (in_prefix(addr, kMulticast, 8)) {
    return CA_ADDRESS_RESERVED;
  }
  return CA_ADDRESS_PUBLIC;
}

const char *ca_monitor_address_class_name(ca_address_class c) {
  switch (c) {
    case CA_ADDRESS_PUBLIC:
      return "public";
    case CA_ADDRESS_LOOPBACK:
      return "loopback";
    case CA_ADDRESS_PRIVATE:
      return "private";
    case CA_ADDRESS_LINK_LOCAL:
      return "link-local";
    case CA_ADDRESS_RESERVED:
      break;
  }
  return "reserved";
}

// floor_div divides rounding toward minus infinity.
static int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

uint64_t ca_monitor_window(int64_t now, uint32_t frequency_s) {
  if (frequency_s == 0 || now < 0) {
    return 0;
  }
  return (uint64_t)now / frequency_s;
}

uint32_t ca_monitor_next_check(int64_t now, uint32_t frequency_s,
                               int have_soonest, int64_t soonest_not_after) {
  uint32_t next = CA_MONITOR_DAILY_S;
  if (frequency_s > 0 && frequency_s < next) {
    next = frequency_s;
  }
  if (have_soonest && soonest_not_after - now <= CA_MONITOR_DAILY_S) {
    next = CA_MONITOR_HOURLY_S;
  }
  return next < CA_MONITOR_HOURLY_S ? CA_MONITOR_HOURLY_S : next;
}

int64_t ca_monitor_days_left(int64_t now, int64_t not_after) {
  return floor_div(not_after - now, 86400);
}
