// The expiry monitor's webhook destinations (README.md, "Expiry monitor"):
// how a URL is read, checked, shown and called.
//
// DESIGN: a URL is read with libcurl's URL API (api/curl_lib.h), the
// parser that reads it when the notice is sent, so that the host checked is
// the host called; on top of that, backslashes are refused anywhere (other
// parsers end the authority at one, libcurl does not). Two checks share
// one rule:
// - api_webhook_check, when an admin stores a webhook (PUT /v1/monitor):
//   http or https, a port other than 0, no IPv6 zone; a host that is an
//   address (in any form libcurl accepts: 0x7f.1 is 127.0.0.1) or
//   "localhost" must be an address pkid may call. Other host names are
//   not resolved then: what they resolve to changes.
// - api_webhook_address_allowed, for every address pkid is about to
//   connect to when it sends (api/notify.c, through libcurl's
//   open-socket callback): the address actually used, whatever DNS said
//   at any other moment, so that a name resolved or rebound to a refused
//   address is never called.
// The rule: link-local and reserved addresses are refused; so are pkid's
// own API and OCSP listeners (api_webhook_self); loopback and private
// addresses only with the admin's per-webhook opt-in (allow_private).
// A URL may hold secrets (user information, a token in its path or
// query): it is stored and sent whole, and shown and logged only as
// api_webhook_display writes it.
#ifndef PKI_API_WEBHOOK_H
#define PKI_API_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ca/error.h"

// The display form's host is cut to API_WEBHOOK_DISPLAY_HOST bytes, so
// that "https://" + "[" + host + "]" + ":65535" + "/…" and the NUL fit
// here and the form fits whole in an error message.
#define API_WEBHOOK_DISPLAY_HOST 64
#define API_WEBHOOK_DISPLAY_LEN 96

// What api_webhook_display writes for a URL it cannot read.
#define API_WEBHOOK_DISPLAY_INVALID "(invalid webhook URL)"

// The API and OCSP listeners of this pkid: every address each one is bound
// to, and its port.
#define API_WEBHOOK_SELF_MAX 8
typedef struct api_webhook_self {
  struct {
    uint8_t addr[16];  // network order
    size_t len;        // 4 or 16; 0: the listener is on every address
    uint16_t port;
  } listeners[API_WEBHOOK_SELF_MAX];
  size_t n;
} api_webhook_self;

// api_webhook_self_add records a listener on |host| ("127.0.0.1",
// "[::1]", "0.0.0.0", "" for every address, or a name, as in pkid
// --listen) and |port|. It returns 0 with CA_ERR_CONFIG when |host| does
// not resolve or |self| is full.
int api_webhook_self_add(api_webhook_self *self, const char *host,
                         unsigned port) CA_MUST_CHECK;

// api_webhook_display writes |url| redacted into |out|: the scheme, the
// host as libcurl reads it (an IPv6 address in brackets; a host over
// API_WEBHOOK_DISPLAY_HOST bytes cut and ended with "…"), ":PORT" when the
// URL names one, then "/" — followed by "…" (U+2026) when the URL holds
// anything more: user information, a path other than "/", a query or a
// fragment. So "http://user:pass@host/hooks/TOKEN" is shown
// "http://host/…". A URL it cannot read is shown
// API_WEBHOOK_DISPLAY_INVALID. It is the only form in which pkid shows or
// logs a webhook; it leaves the calling thread's error (ca_err_get) as it
// was.
void api_webhook_display(const char *url, char out[API_WEBHOOK_DISPLAY_LEN]);

// api_webhook_check is the check of a webhook an admin stores, the
// |position|th of the list (1, 2, ...): see the top of this file. It
// returns 1, or 0 with CA_ERR_DESTINATION_INVALID and a message that names
// the webhook by its position and display form; a loopback or private
// address without |allow_private| gets a message naming allow_private.
int api_webhook_check(size_t position, const char *url, int allow_private,
                      const api_webhook_self *self) CA_MUST_CHECK;

// api_webhook_address_allowed returns 1 when pkid may connect to |addr|
// (AF_INET or AF_INET6, with its port) for a webhook with or without
// |allow_private|; else 0, with the reason in |why| (NUL-terminated,
// |why_len| bytes at most). It sets no thread error: libcurl calls it.
int api_webhook_address_allowed(const struct sockaddr *addr, int allow_private,
                                const api_webhook_self *self, char *why,
                                size_t why_len);

// A webhook URL read for sending.
struct Curl_URL;
typedef struct api_webhook_url {
  struct Curl_URL *handle;  // owned: api_webhook_url_cleanup; CURLOPT_CURLU
} api_webhook_url;

// api_webhook_open reads |url| as api_webhook_check does, without the
// address checks (those are made when connecting). It returns 1 with
// |out| to clean up with api_webhook_url_cleanup, or 0 with
// CA_ERR_DESTINATION_INVALID (a message without the URL) or
// CA_ERR_NOTIFY_FAILED (libcurl cannot be loaded).
int api_webhook_open(const char *url, api_webhook_url *out) CA_MUST_CHECK;

void api_webhook_url_cleanup(api_webhook_url *url);

// api_webhook_mentions_secret returns 1 when |message| holds a part of
// |url| that may be secret, outside the host's name: its user name,
// password, login options, query, fragment or a segment of its path
// (encoded or decoded). A libcurl error message that does is not shown.
// A message of 2 * CURL_ERROR_SIZE bytes or more counts as holding one
// (libcurl's messages are shorter).
int api_webhook_mentions_secret(const api_webhook_url *url,
                                const char *message);

#endif  // PKI_API_WEBHOOK_H
