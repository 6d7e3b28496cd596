// Expiry notices: the webhook JSON and the e-mail text, and sending them
// with libcurl (SMTP, HTTP POST), loaded on first use (api/curl_lib.h).
#ifndef PKI_API_NOTIFY_H
#define PKI_API_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "api/webhook.h"
#include "ca/error.h"
#include "ca/monitor.h"
#include "ca/store_monitor.h"

// Seconds a destination has to accept a connection, and to take the whole
// message. A check waits for each destination in turn.
#define API_NOTIFY_CONNECT_TIMEOUT_S 10
#define API_NOTIFY_TIMEOUT_S 30

// api_notify_json writes the webhook body for the rows of |rows| whose
// |mask| entry is set (all when |mask| is NULL) into a new buffer |*out|
// (OPENSSL_free). The schema is in README.md ("Expiry monitor"). It returns
// 0 only when out of memory.
int api_notify_json(const ca_expiring *rows, size_t n, const uint8_t *mask,
                    uint64_t window, uint32_t start_days, int64_t now,
                    uint8_t **out, size_t *out_len) CA_MUST_CHECK;

// api_notify_mail writes the RFC 5322 message (Date, From, To, Message-ID,
// Subject headers; a plain-text table, CRLF line ends) for |to| listing the
// rows selected by |mask|, into a new buffer |*out| (OPENSSL_free). Control
// characters of certificate fields become '?', so no field can add a header
// or a line. It returns 0 only when out of memory.
int api_notify_mail(const ca_monitor_config *config, const char *to,
                    const ca_expiring *rows, size_t n, const uint8_t *mask,
                    int64_t now, uint8_t **out, size_t *out_len) CA_MUST_CHECK;

// api_notify_webhook POSTs |body| (application/json) to |url| (the whole
// URL: its user information goes as HTTP Basic credentials), redirects not
// followed, through no proxy. The URL is read as api_webhook_open reads
// it, and every address libcurl is about to connect to must pass
// api_webhook_address_allowed for |allow_private| and |self| (pkid's
// listeners). It returns 1 on a 2xx answer, else 0 with
// CA_ERR_NOTIFY_FAILED or CA_ERR_DESTINATION_INVALID, the reason in the
// message, which never quotes a secret part of the URL.
int api_notify_webhook(const char *url, int allow_private,
                       const api_webhook_self *self, const uint8_t *body,
                       size_t len) CA_MUST_CHECK;

// api_notify_send_mail sends |message| to |to| through the SMTP server of
// |config| (STARTTLS when the server offers it). It returns 1 when the
// server accepted it, else 0 with CA_ERR_NOTIFY_FAILED.
int api_notify_send_mail(const ca_monitor_config *config, const char *to,
                         const uint8_t *message, size_t len) CA_MUST_CHECK;

#endif  // PKI_API_NOTIFY_H
