// The expiry monitor's decisions, with no I/O: its configuration and how it
// is checked, which window a moment belongs to, when to check next, and how
// many days a certificate has left. The queries are in
// ca/store/store_monitor.h; sending (SMTP, webhooks) is api/'s, since ca/ has
// no network code.
#ifndef PKI_CA_MONITOR_H
#define PKI_CA_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/limits.h"

// Bounds of the configuration (README.md, "Expiry monitor").
#define CA_MONITOR_START_DAYS_MIN 1
#define CA_MONITOR_START_DAYS_MAX 365
#define CA_MONITOR_FREQUENCY_MIN_S 3600          // 1h
#define CA_MONITOR_FREQUENCY_MAX_S (30 * 86400)  // 30d

// The scheduler checks daily, and hourly once a certificate due a notice
// expires within a day or has expired.
#define CA_MONITOR_DAILY_S 86400
#define CA_MONITOR_HOURLY_S 3600

// "mailto:" + an address, or a webhook URL; NUL included.
#define CA_MONITOR_DESTINATION_LEN (CA_LIMIT_WEBHOOK_URL_LEN + 1)

// The monitor's configuration. Every string is owned (OPENSSL_malloc);
// free with ca_monitor_config_cleanup.
typedef struct ca_monitor_config {
  int enabled;
  uint32_t start_days;
  uint32_t frequency_s;
  char *emails[CA_LIMIT_MONITOR_DESTINATIONS];
  size_t n_emails;
  // Webhook URLs, whole (user information, path and query included: the
  // receiver needs them). Shown and logged only through
  // api_webhook_display, which leaves the secrets out.
  char *webhooks[CA_LIMIT_MONITOR_DESTINATIONS];
  // The admin's opt-in, per webhook, to a loopback or private address.
  uint8_t webhook_allow_private[CA_LIMIT_MONITOR_DESTINATIONS];
  size_t n_webhooks;
  // When storing: keep the stored webhooks (and their opt-ins) instead of
  // replacing them with |webhooks|, which is then ignored. A client that
  // read the configuration saw the URLs redacted and cannot send them back.
  int keep_webhooks;
  char *smtp_host;
  uint32_t smtp_port;
  char *smtp_from;
  int64_t updated_at;  // read only: set by the store
  char *updated_by;    // read only
} ca_monitor_config;

// ca_monitor_config_cleanup frees what |config| owns and zeroes it.
void ca_monitor_config_cleanup(ca_monitor_config *config);

// ca_monitor_config_check verifies |config| before it is stored: start days
// 1 to 365 and frequency 1h to 30d (else CA_ERR_PARAMETER_INVALID); at most
// CA_LIMIT_MONITOR_DESTINATIONS addresses and URLs of each kind, each
// address valid (ca_monitor_email_valid), each URL valid
// (ca_monitor_webhook_valid; not looked at with |keep_webhooks|), no
// duplicate, and the SMTP host, port and sender valid (else
// CA_ERR_DESTINATION_INVALID). A refused webhook is named by its position
// (1, 2, ...), never by its text, which may hold a secret. It returns 1 or
// 0. What a URL's host is (loopback, private, pkid's own listener, ...) is
// api_webhook_check's: that needs libcurl's reading of the URL.
int ca_monitor_config_check(const ca_monitor_config *config) CA_MUST_CHECK;

// ca_monitor_parse_frequency reads "12h", "1d", "7d" (a positive number of
// hours or days) into seconds. It returns 0 with CA_ERR_PARAMETER_INVALID
// for anything else or a value outside 1h to 30d.
int ca_monitor_parse_frequency(uint32_t *out_s, const char *text) CA_MUST_CHECK;

// ca_monitor_format_frequency writes |seconds| as "Nd" when a whole number
// of days, else "Nh" (rounded down), into |out|.
void ca_monitor_format_frequency(uint32_t seconds, char out[16]);

// ca_monitor_email_valid returns 1 when |address| is a plain address
// "local@domain": RFC 5322 dot-atom characters on the left (no quoted
// strings, no leading, trailing or doubled dot), a host name on the right,
// at most CA_LIMIT_EMAIL_LEN bytes. Nothing that could break an SMTP
// command or a header line (spaces, CR, LF, '<', '>', ',') passes.
int ca_monitor_email_valid(const char *address);

// ca_monitor_webhook_valid returns 1 when |url| is "http://" or "https://"
// followed by a host, of printable ASCII without spaces or backslashes, at
// most CA_LIMIT_WEBHOOK_URL_LEN bytes. Backslashes are refused anywhere:
// libcurl reads http://a\@b/ as user "a\" at host b, where other
// readers see host a, so a URL checked as calling one host would call
// another.
int ca_monitor_webhook_valid(const char *url);

// What an address is, for the webhook checks (README.md, "Expiry
// monitor"). IPv4-mapped (::ffff:0:0/96) and NAT64 (64:ff9b::/96) IPv6
// addresses are what the IPv4 address they carry is.
typedef enum ca_address_class {
  CA_ADDRESS_PUBLIC = 0,
  // 127.0.0.0/8, ::1: allowed with the admin's opt-in (allow_private).
  CA_ADDRESS_LOOPBACK,
  // 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10 (shared
  // address space), fc00::/7 (unique local), fec0::/10 (site-local):
  // allowed with the opt-in.
  CA_ADDRESS_PRIVATE,
  // 169.254.0.0/16, fe80::/10: never (cloud metadata services live there).
  CA_ADDRESS_LINK_LOCAL,
  // 0.0.0.0/8, 224.0.0.0/4, 240.0.0.0/4 (255.255.255.255 included), ::,
  // IPv4-compatible ::/96, ff00::/8: never a host to call.
  CA_ADDRESS_RESERVED,
} ca_address_class;

// ca_monitor_address_class classifies the |len| bytes of |addr| in
// network order: 4 (IPv4) or 16 (IPv6); any other length is
// CA_ADDRESS_RESERVED.
ca_address_class ca_monitor_address_class(const uint8_t *addr, size_t len);

// ca_monitor_address_class_name returns "public", "loopback", "private",
// "link-local" or "reserved" (a static string).
const char *ca_monitor_address_class_name(ca_address_class c);

// ca_monitor_host_valid returns 1 when |host| is a host name (letters,
// digits, '-', '.'), an IPv4 address, or an IPv6 address in brackets.
int ca_monitor_host_valid(const char *host);

// ca_monitor_window returns the number of the window |now| belongs to:
// floor(now / frequency) counted from the Unix epoch, so that every node
// computes the same number without talking to the others.
uint64_t ca_monitor_window(int64_t now, uint32_t frequency_s);

// ca_monitor_next_check returns the seconds from |now| to the next check:
// the frequency, at most a day; at most an hour when |have_soonest| and the
// soonest certificate due a notice (|soonest_not_after|) expires within a
// day or has expired. Never less than CA_MONITOR_HOURLY_S.
uint32_t ca_monitor_next_check(int64_t now, uint32_t frequency_s,
                               int have_soonest, int64_t soonest_not_after);

// ca_monitor_days_left returns the whole days from |now| to |not_after|,
// rounded down: 0 within the last day, negative once expired (-1 during the
// first day after).
int64_t ca_monitor_days_left(int64_t now, int64_t not_after);

#endif  // PKI_CA_MONITOR_H
