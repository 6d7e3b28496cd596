// GET and PUT /v1/monitor, GET /v1/monitor/expiring and
// POST /v1/monitor:check: the expiry monitor (api/server/monitor.h).
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/server/handlers/handlers.h"
#include "api/server/monitor.h"
#include "api/server/pb_scan.h"
#include "api/server/webhook.h"
#include "ca/store/store_monitor.h"
#include "ca/x509/asn1_time.h"
#include "proto/pki.pb-c.h"

static int wants_text(const api_request *req) {
  const char *format = api_query(req, "format");
  return format != NULL && strcmp(format, "text") == 0;
}

static int add_text(CBB *cbb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int add_text(CBB *cbb, const char *fmt, ...) {
  char line[CA_LIMIT_WEBHOOK_URL_LEN + 64];
  va_list ap;
  va_start(ap, fmt);
  const int n = vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  return n >= 0 && (size_t)n < sizeof(line) &&
         CBB_add_bytes(cbb, (const uint8_t *)line, (size_t)n);
}

// respond_config answers |c|: its destinations (addresses, and webhooks
// as api_webhook_display shows them) only when |destinations|, else the
// settings alone with destinations_hidden set.
static void respond_config(api_response *resp, const ca_monitor_config *c,
                           int text, int destinations) {
  char frequency[16];
  ca_monitor_format_frequency(c->frequency_s, frequency);
  const size_t n_webhooks = destinations ? c->n_webhooks : 0;
  // Each webhook as shown: never the stored URL, whose user information,
  // path and query may be secrets.
  char shown[CA_LIMIT_MONITOR_DESTINATIONS][API_WEBHOOK_DISPLAY_LEN];
  for (size_t i = 0; i < n_webhooks; i++) {
    api_webhook_display(c->webhooks[i], shown[i]);
  }
  if (text) {
    CBB cbb;
    uint8_t *body;
    size_t len;
    char at[21] = "";
    int ok =
        CBB_init(&cbb, 512) && ca_time_format(c->updated_at, at) &&
        add_text(&cbb,
                 "enabled\t%s\nstart_days\t%u\nfrequency\t%s\n"
                 "smtp\t%s:%u from %s\nupdated\t%s by %s\n",
                 c->enabled ? "true" : "false", (unsigned)c->start_days,
                 frequency, c->smtp_host, (unsigned)c->smtp_port, c->smtp_from,
                 at, c->updated_by[0] != '\0' ? c->updated_by : "-");
    if (ok && !destinations) {
      ok = add_text(&cbb, "destinations\thidden (admins only)\n");
    }
    for (size_t i = 0; ok && destinations && i < c->n_emails; i++) {
      ok = add_text(&cbb, "email\t%s\n", c->emails[i]);
    }
    for (size_t i = 0; ok && i < n_webhooks; i++) {
      ok = add_text(&cbb, "webhook\t%s%s\n", shown[i],
                    c->webhook_allow_private[i] ? "\tallow_private" : "");
    }
    if (!ok || !CBB_finish(&cbb, &body, &len)) {
      CBB_cleanup(&cbb);
      api_respond_err_code(resp, API_FORMAT_TEXT, CA_ERR_NO_MEMORY,
                           "out of memory");
      return;
    }
    api_respond(resp, 200, "text/plain; charset=utf-8", body, len);
    return;
  }
  char *urls[CA_LIMIT_MONITOR_DESTINATIONS];
  Pki__V1__WebhookDestination items[CA_LIMIT_MONITOR_DESTINATIONS];
  Pki__V1__WebhookDestination *item_ptrs[CA_LIMIT_MONITOR_DESTINATIONS];
  for (size_t i = 0; i < n_webhooks; i++) {
    urls[i] = shown[i];
    pki__v1__webhook_destination__init(&items[i]);
    items[i].url = shown[i];
    items[i].allow_private = c->webhook_allow_private[i] != 0;
    item_ptrs[i] = &items[i];
  }
  Pki__V1__MonitorConfig out = PKI__V1__MONITOR_CONFIG__INIT;
  out.enabled = c->enabled != 0;
  out.start_days = c->start_days;
  out.frequency = frequency;
  out.n_emails = destinations ? c->n_emails : 0;
  out.emails = (char **)c->emails;
  out.n_webhooks = n_webhooks;
  out.webhooks = urls;
  out.n_webhook_destinations = n_webhooks;
  out.webhook_destinations = item_ptrs;
  out.destinations_hidden = !destinations;
  out.smtp_host = c->smtp_host;
  out.smtp_port = c->smtp_port;
  out.smtp_from = c->smtp_from;
  out.updated_at = c->updated_at;
  out.updated_by = c->updated_by;
  api_respond_message(resp, &out.base);
}

// Only admins read the destinations: a webhook URL may carry credentials,
// and the addresses say who is paged. Other roles read the settings.
static int reads_destinations(const api_request *req) {
  return req->principal.role == CA_ROLE_ADMIN;
}

void api_handle_monitor_get(api_service *svc, const api_request *req,
                            api_response *resp) {
  const int text = wants_text(req);
  ca_monitor_config config;
  if (!ca_store_monitor_get_config(svc->store, &config)) {
    api_respond_error(resp, text ? API_FORMAT_TEXT : API_FORMAT_PROTOBUF,
                      ca_err_get());
    return;
  }
  respond_config(resp, &config, text, reads_destinations(req));
  ca_monitor_config_cleanup(&config);
}

// from_message fills |out| with pointers into |msg| (nothing to free):
// the webhooks of |msg->webhooks| (without the opt-in), then those of
// |msg->webhook_destinations|, or none with keep_webhooks.
static int from_message(const Pki__V1__MonitorConfig *msg,
                        ca_monitor_config *out) {
  memset(out, 0, sizeof(*out));
  out->keep_webhooks = msg->keep_webhooks;
  const size_t n_webhooks =
      out->keep_webhooks ? 0 : msg->n_webhooks + msg->n_webhook_destinations;
  CA_ENSURE_RETURN(
      msg->n_emails <= CA_LIMIT_MONITOR_DESTINATIONS &&
          n_webhooks <= CA_LIMIT_MONITOR_DESTINATIONS,
      CA_ERR_DESTINATION_INVALID, "at most %d e-mail addresses and %d webhooks",
      CA_LIMIT_MONITOR_DESTINATIONS, CA_LIMIT_MONITOR_DESTINATIONS);
  CA_GUARD_RETURN(
      ca_monitor_parse_frequency(&out->frequency_s, msg->frequency));
  out->enabled = msg->enabled;
  out->start_days = msg->start_days;
  out->n_emails = msg->n_emails;
  for (size_t i = 0; i < msg->n_emails; i++) {
    out->emails[i] = msg->emails[i];
  }
  for (size_t i = 0; !out->keep_webhooks && i < msg->n_webhooks; i++) {
    out->webhooks[out->n_webhooks++] = msg->webhooks[i];
  }
  for (size_t i = 0; !out->keep_webhooks && i < msg->n_webhook_destinations;
       i++) {
    const Pki__V1__WebhookDestination *d = msg->webhook_destinations[i];
    out->webhook_allow_private[out->n_webhooks] = d->allow_private;
    out->webhooks[out->n_webhooks++] = d->url;
  }
  // Empty: a local relay, as on most hosts.
  out->smtp_host = msg->smtp_host[0] != '\0' ? msg->smtp_host : "localhost";
  out->smtp_port = msg->smtp_port != 0 ? msg->smtp_port : 25;
  out->smtp_from = msg->smtp_from[0] != '\0' ? msg->smtp_from : "pki@localhost";
  return ca_monitor_config_check(out);
}

void api_handle_monitor_put(api_service *svc, const api_request *req,
                            api_response *resp) {
  Pki__V1__MonitorConfig *msg =
      pki__v1__monitor_config__unpack(NULL, req->body_len, req->body);
  ca_monitor_config config, stored;
  memset(&stored, 0, sizeof(stored));
  char actor[96];
  snprintf(actor, sizeof(actor), "%s", req->principal.name);
  CA_ENSURE(msg != NULL, CA_ERR_REQUEST_MALFORMED,
            "body is not a pki.v1.MonitorConfig");
  CA_GUARD(api_pb_check_strings(&pki__v1__monitor_config__descriptor, req->body,
                                req->body_len));
  CA_GUARD(from_message(msg, &config));
  // What each URL's host is, read as libcurl reads it, against this node's
  // listeners (api/server/webhook.h); kept webhooks were checked when stored.
  CA_GUARD(api_monitor_check_webhooks(svc->monitor, &config));
  CA_GUARD(
      ca_store_monitor_put_config(svc->store, &config, actor, req->remote));
  // This node looks at the new configuration at once; the others at their
  // next check.
  api_monitor_wake(svc->monitor);
  CA_GUARD(ca_store_monitor_get_config(svc->store, &stored));
  respond_config(resp, &stored, 0, reads_destinations(req));
  ca_monitor_config_cleanup(&stored);
  pki__v1__monitor_config__free_unpacked(msg, NULL);
  return;
err:
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
  pki__v1__monitor_config__free_unpacked(msg, NULL);
}

static int add_expiring_text(CBB *cbb, const ca_expiring *rows, size_t n,
                             int64_t now) {
  if (!add_text(cbb,
                "KIND\tNOT_AFTER\tDAYS_LEFT\tPROFILE_OR_STORE\tSERIAL\t"
                "ISSUER\tCOMMON_NAME\n")) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    const ca_expiring *r = &rows[i];
    char na[21];
    if (!ca_time_format(r->not_after, na) ||
        !add_text(cbb, "%s\t%s\t%lld\t%s\t%s\t%s\t%.200s\n",
                  ca_expiring_kind(r), na,
                  (long long)ca_monitor_days_left(now, r->not_after),
                  r->trust ? r->store : r->profile, r->serial,
                  r->issuer[0] != '\0' ? r->issuer : "(self-signed)",
                  r->common_name)) {
      return 0;
    }
  }
  return 1;
}

void api_handle_monitor_expiring(api_service *svc, const api_request *req,
                                 api_response *resp) {
  const int text = wants_text(req);
  ca_expiring *rows = NULL;
  size_t n = 0;
  Pki__V1__ExpiringCertificate *items = NULL;
  Pki__V1__ExpiringCertificate **ptrs = NULL;
  CBB cbb;
  CBB_zero(&cbb);
  const char *days_text;
  unsigned long days = 30;
  CA_GUARD(api_query_checked(req, "days", &days_text));
  if (days_text != NULL) {
    char *end;
    days = strtoul(days_text, &end, 10);
    CA_ENSURE(days_text[0] >= '0' && days_text[0] <= '9' && *end == '\0' &&
                  days <= 3650,
              CA_ERR_PARAMETER_INVALID, "days must be 0 to 3650");
  }
  const int64_t now = (int64_t)time(NULL);
  CA_GUARD(ca_store_monitor_expiring(svc->store, now, (int64_t)days * 86400,
                                     &rows, &n));
  uint8_t *body;
  size_t len;
  if (text) {
    CA_GUARD_CRYPTO(CBB_init(&cbb, 256 + n * 160));
    CA_ENSURE(add_expiring_text(&cbb, rows, n, now), CA_ERR_NO_MEMORY,
              "out of memory");
    CA_GUARD_CRYPTO(CBB_finish(&cbb, &body, &len));
    api_respond(resp, 200, "text/plain; charset=utf-8", body, len);
    goto done;
  }
  items = calloc(n > 0 ? n : 1, sizeof(*items));
  ptrs = calloc(n > 0 ? n : 1, sizeof(*ptrs));
  CA_ENSURE(items != NULL && ptrs != NULL, CA_ERR_NO_MEMORY, "out of memory");
  for (size_t i = 0; i < n; i++) {
    Pki__V1__ExpiringCertificate *e = &items[i];
    pki__v1__expiring_certificate__init(e);
    e->kind = (char *)ca_expiring_kind(&rows[i]);
    e->id = rows[i].id;
    e->serial = rows[i].serial;
    e->issuer = rows[i].issuer;
    e->profile = rows[i].profile;
    e->store = rows[i].store;
    e->common_name = rows[i].common_name;
    e->subject = rows[i].subject;
    e->not_after = rows[i].not_after;
    e->days_left = ca_monitor_days_left(now, rows[i].not_after);
    e->cluster = rows[i].cluster;
    ptrs[i] = e;
  }
  Pki__V1__ExpiringResponse out = PKI__V1__EXPIRING_RESPONSE__INIT;
  out.n_certificates = n;
  out.certificates = ptrs;
  out.days = (uint32_t)days;
  out.checked_at = now;
  api_respond_message(resp, &out.base);
  goto done;
err:
  CBB_cleanup(&cbb);
  api_respond_error(resp, text ? API_FORMAT_TEXT : API_FORMAT_PROTOBUF,
                    ca_err_get());
done:
  free(items);
  free(ptrs);
  ca_expiring_free(rows, n);
}

void api_handle_monitor_check(api_service *svc, const api_request *req,
                              api_response *resp) {
  (void)req;
  api_monitor_report *report = calloc(1, sizeof(*report));
  char *errors[sizeof(report->errors) / sizeof(report->errors[0])];
  CA_ENSURE_ALLOC(report);
  CA_ENSURE(svc->monitor != NULL, CA_ERR_INTERNAL, "no expiry monitor");
  CA_GUARD(api_monitor_check(svc->monitor, (int64_t)time(NULL), report));
  for (size_t i = 0; i < report->n_errors; i++) {
    errors[i] = report->errors[i];
  }
  Pki__V1__MonitorCheckResponse out = PKI__V1__MONITOR_CHECK_RESPONSE__INIT;
  out.enabled = report->enabled != 0;
  out.window = report->window;
  out.due = report->due;
  out.notified = report->notified;
  out.already_notified = report->already_notified;
  out.failed = report->failed;
  out.messages_sent = report->messages_sent;
  out.messages_failed = report->messages_failed;
  out.n_errors = report->n_errors;
  out.errors = errors;
  api_respond_message(resp, &out.base);
  free(report);
  return;
err:
  free(report);
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
}
