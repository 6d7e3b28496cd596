// The expiry monitor of pkid (api/server/monitor.h).
//
// DESIGN: one thread per node, started by pkid unless --monitor off. It
// sleeps on a condition variable until its next check (the first one
// --monitor-first-check seconds after start; then daily, or every
// frequency when that is shorter, and hourly once a certificate due a
// notice expires within a day or has expired), until a configuration
// change wakes it (PUT /v1/monitor on this node), or until
// api_monitor_free asks it to stop. A check runs on the thread that asks
// for it: this thread, or an HTTP thread for POST /v1/monitor:check, so
// two checks may run at once on one node, and on several nodes. They
// never send a notice twice: each notice (certificate, window,
// destination) is claimed in PostgreSQL with INSERT ... ON CONFLICT before
// it is sent, and only the claimant sends it. Ordering: claim, send, then
// record 'sent' or 'failed'; a node that dies between claim and record
// leaves a claim that another check takes over after ten minutes (the
// notice may then go out twice, never zero times). Destinations are served
// one after the other, each bounded by the timeouts of api/server/notify.h, so
// a stop waits at most for the destination being served. A webhook URL is the
// key of its notices in the database, whole; in the log and in the answer of a
// check it is shown as api_webhook_display writes it.
#include "api/server/monitor.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/mem.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/server/log.h"
#include "api/server/notify.h"
#include "ca/store/store_monitor.h"

// After a check the database refused, the thread tries again this soon.
#define RETRY_AFTER_FAILURE_S 300

struct api_monitor {
  ca_store *store;
  char node[64];
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int stopping;  // under mu
  int woken;     // under mu
  int started;
  pthread_t thread;
  unsigned first_delay_s;
  api_webhook_self self;  // under mu: this node's listeners
  atomic_uint_fast64_t checks;
  atomic_uint_fast64_t notices_sent;
  atomic_uint_fast64_t notices_failed;
  atomic_uint_fast64_t messages_sent;
  atomic_uint_fast64_t messages_failed;
};

api_monitor *api_monitor_new(ca_store *store, const char *node) {
  api_monitor *m = calloc(1, sizeof(*m));
  if (m == NULL) {
    return NULL;
  }
  m->store = store;
  snprintf(m->node, sizeof(m->node), "%s", node);
  pthread_mutex_init(&m->mu, NULL);
  // CLOCK_MONOTONIC: a clock step must not make the thread sleep for days.
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&m->cv, &attr);
  pthread_condattr_destroy(&attr);
  return m;
}

int api_monitor_add_listener(api_monitor *m, const char *host, unsigned port) {
  api_webhook_self self;
  pthread_mutex_lock(&m->mu);
  self = m->self;
  pthread_mutex_unlock(&m->mu);
  // Resolved outside the lock; pkid adds its listeners one at a time.
  CA_GUARD_RETURN(api_webhook_self_add(&self, host, port));
  pthread_mutex_lock(&m->mu);
  m->self = self;
  pthread_mutex_unlock(&m->mu);
  return 1;
}

// self_of copies the listeners known to |m| (none when |m| is NULL).
static void self_of(api_monitor *m, api_webhook_self *out) {
  memset(out, 0, sizeof(*out));
  if (m != NULL) {
    pthread_mutex_lock(&m->mu);
    *out = m->self;
    pthread_mutex_unlock(&m->mu);
  }
}

int api_monitor_check_webhooks(api_monitor *m,
                               const ca_monitor_config *config) {
  api_webhook_self self;
  self_of(m, &self);
  for (size_t i = 0; i < config->n_webhooks; i++) {
    CA_GUARD_RETURN(api_webhook_check(i + 1, config->webhooks[i],
                                      config->webhook_allow_private[i], &self));
  }
  return 1;
}

static void add_error(api_monitor_report *out, const char *destination,
                      const char *why) {
  if (out->n_errors < sizeof(out->errors) / sizeof(out->errors[0])) {
    // "NOTIFICATION_FAILED: DESTINATION: reason"
    snprintf(out->errors[out->n_errors++], sizeof(out->errors[0]), "%s: %s: %s",
             ca_err_code_name(CA_ERR_NOTIFY_FAILED), destination, why);
  }
}

// serve sends the notices of |rows| not yet sent to one destination in
// this window: |email| is the address, or NULL and |url| the webhook, with
// its opt-in |allow_private|.
static int serve(api_monitor *m, const ca_monitor_config *config,
                 const ca_expiring *rows, size_t n, int64_t now,
                 const char *email, const char *url, int allow_private,
                 uint8_t *claimed, api_monitor_report *out) {
  // |destination| keys the notices; |shown| is what the log and the
  // answer say.
  char destination[CA_MONITOR_DESTINATION_LEN + 8];
  char shown[CA_LIMIT_EMAIL_LEN + API_WEBHOOK_DISPLAY_LEN + 8];
  if (email != NULL) {
    snprintf(destination, sizeof(destination), "mailto:%s", email);
    snprintf(shown, sizeof(shown), "%s", destination);
  } else {
    snprintf(destination, sizeof(destination), "%s", url);
    api_webhook_display(url, shown);
  }
  int64_t claim;
  if (!ca_store_monitor_claim(m->store, rows, n, out->window, destination,
                              m->node, claimed, &claim)) {
    return 0;
  }
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    count += claimed[i];
  }
  out->already_notified += (uint32_t)(n - count);
  if (count == 0) {
    return 1;
  }
  uint8_t *body = NULL;
  size_t len = 0;
  int sent;
  if (email != NULL) {
    sent = api_notify_mail(config, email, rows, n, claimed, now, &body, &len) &&
           api_notify_send_mail(config, email, body, len);
  } else {
    api_webhook_self self;
    self_of(m, &self);
    sent = api_notify_json(rows, n, claimed, out->window, config->start_days,
                           now, &body, &len) &&
           api_notify_webhook(url, allow_private, &self, body, len);
  }
  OPENSSL_free(body);
  const char *why = sent ? NULL : ca_err_get()->message;
  char why_copy[CA_ERR_MESSAGE_LEN] = "";
  if (!sent) {
    snprintf(why_copy, sizeof(why_copy), "%s", why);
    api_log(API_LOG_WARN, "expiry notice to %s failed: %s", shown, why_copy);
    add_error(out, shown, why_copy);
    out->failed += (uint32_t)count;
    out->messages_failed++;
    atomic_fetch_add(&m->notices_failed, count);
    atomic_fetch_add(&m->messages_failed, 1);
  } else {
    out->notified += (uint32_t)count;
    out->messages_sent++;
    atomic_fetch_add(&m->notices_sent, count);
    atomic_fetch_add(&m->messages_sent, 1);
  }
  return ca_store_monitor_finish(m->store, claim, sent, why_copy);
}

int api_monitor_check(api_monitor *m, int64_t now, api_monitor_report *out) {
  ca_monitor_config config;
  ca_expiring *rows = NULL;
  size_t n = 0;
  uint8_t *claimed = NULL;
  memset(out, 0, sizeof(*out));
  memset(&config, 0, sizeof(config));
  atomic_fetch_add(&m->checks, 1);
  CA_GUARD(ca_store_monitor_get_config(m->store, &config));
  out->enabled = config.enabled;
  out->window = ca_monitor_window(now, config.frequency_s);
  CA_GUARD(ca_store_monitor_expiring(
      m->store, now, (int64_t)config.start_days * 86400, &rows, &n));
  out->due = (uint32_t)n;
  out->next_check_s = ca_monitor_next_check(now, config.frequency_s, n > 0,
                                            n > 0 ? rows[0].not_after : 0);
  if (config.enabled) {
    CA_GUARD(ca_store_monitor_prune(m->store));
  }
  if (config.enabled && n > 0) {
    claimed = malloc(n);
    CA_ENSURE_ALLOC(claimed);
    for (size_t i = 0; i < config.n_emails; i++) {
      CA_GUARD(serve(m, &config, rows, n, now, config.emails[i], NULL, 0,
                     claimed, out));
    }
    for (size_t i = 0; i < config.n_webhooks; i++) {
      CA_GUARD(serve(m, &config, rows, n, now, NULL, config.webhooks[i],
                     config.webhook_allow_private[i], claimed, out));
    }
  }
  free(claimed);
  ca_expiring_free(rows, n);
  ca_monitor_config_cleanup(&config);
  return 1;
err:
  free(claimed);
  ca_expiring_free(rows, n);
  ca_monitor_config_cleanup(&config);
  return 0;
}

// wait_for sleeps |seconds| or until woken or stopping; it returns 0 when
// stopping.
static int wait_for(api_monitor *m, uint32_t seconds) {
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += seconds;
  pthread_mutex_lock(&m->mu);
  while (!m->stopping && !m->woken) {
    if (pthread_cond_timedwait(&m->cv, &m->mu, &until) == ETIMEDOUT) {
      break;
    }
  }
  m->woken = 0;
  const int go_on = !m->stopping;
  pthread_mutex_unlock(&m->mu);
  return go_on;
}

static void *run(void *arg) {
  api_monitor *m = arg;
  uint32_t delay = m->first_delay_s;
  while (wait_for(m, delay)) {
    api_monitor_report report;
    if (!api_monitor_check(m, (int64_t)time(NULL), &report)) {
      api_log(API_LOG_WARN, "expiry check failed: %s", ca_err_get()->message);
      delay = RETRY_AFTER_FAILURE_S;
      continue;
    }
    if (report.notified > 0 || report.failed > 0) {
      api_log(API_LOG_INFO,
              "expiry check: %u due, %u notices sent, %u failed, next in %us",
              report.due, report.notified, report.failed, report.next_check_s);
    }
    delay = report.next_check_s;
  }
  return NULL;
}

int api_monitor_start(api_monitor *m, unsigned first_delay_s) {
  m->first_delay_s = first_delay_s;
  CA_ENSURE_RETURN(pthread_create(&m->thread, NULL, run, m) == 0,
                   CA_ERR_INTERNAL, "cannot start the expiry monitor thread");
  m->started = 1;
  return 1;
}

void api_monitor_wake(api_monitor *m) {
  if (m == NULL) {
    return;
  }
  pthread_mutex_lock(&m->mu);
  m->woken = 1;
  pthread_cond_signal(&m->cv);
  pthread_mutex_unlock(&m->mu);
}

void api_monitor_free(api_monitor *m) {
  if (m == NULL) {
    return;
  }
  if (m->started) {
    pthread_mutex_lock(&m->mu);
    m->stopping = 1;
    pthread_cond_signal(&m->cv);
    pthread_mutex_unlock(&m->mu);
    pthread_join(m->thread, NULL);
  }
  pthread_cond_destroy(&m->cv);
  pthread_mutex_destroy(&m->mu);
  free(m);
}

static int add_line(CBB *cbb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int add_line(CBB *cbb, const char *fmt, ...) {
  char line[512];
  va_list ap;
  va_start(ap, fmt);
  const int n = vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  return n > 0 && (size_t)n < sizeof(line) &&
         CBB_add_bytes(cbb, (const uint8_t *)line, (size_t)n);
}

int api_monitor_add_metrics(api_monitor *m, ca_store *store, CBB *cbb) {
  ca_expiry_counts c;
  int ok = 1;
  // pkid's /metrics passes no store: the counts come from the statistics
  // snapshot (api_metrics_add_stats).
  if (store != NULL &&
      ca_store_monitor_counts(store, (int64_t)time(NULL), &c)) {
    ok = add_line(cbb,
                  "# HELP pki_certificates_expiring Good issued certificates, "
                  "trust-store entries and registered identities expiring "
                  "within the period, not expired yet.\n"
                  "# TYPE pki_certificates_expiring gauge\n"
                  "pki_certificates_expiring{within=\"1d\"} %" PRIu64
                  "\n"
                  "pki_certificates_expiring{within=\"7d\"} %" PRIu64
                  "\n"
                  "pki_certificates_expiring{within=\"30d\"} %" PRIu64 "\n",
                  c.within_1d, c.within_7d, c.within_30d) &&
         add_line(cbb,
                  "# HELP pki_certificates_expired Good issued certificates, "
                  "trust-store entries and registered identities expired in "
                  "the last %d days.\n"
                  "# TYPE pki_certificates_expired gauge\n"
                  "pki_certificates_expired %" PRIu64 "\n",
                  CA_LIMIT_MONITOR_EXPIRED_DAYS, c.expired) &&
         add_line(cbb,
                  "# HELP pki_external_certificates_expiring Registered "
                  "identities (certificates pki did not issue) expiring "
                  "within the period, not expired yet.\n"
                  "# TYPE pki_external_certificates_expiring gauge\n"
                  "pki_external_certificates_expiring{within=\"1d\"} %" PRIu64
                  "\n"
                  "pki_external_certificates_expiring{within=\"7d\"} %" PRIu64
                  "\n"
                  "pki_external_certificates_expiring{within=\"30d\"} %" PRIu64
                  "\n",
                  c.external_within_1d, c.external_within_7d,
                  c.external_within_30d) &&
         add_line(cbb,
                  "# HELP pki_external_certificates_expired Registered "
                  "identities expired in the last %d days.\n"
                  "# TYPE pki_external_certificates_expired gauge\n"
                  "pki_external_certificates_expired %" PRIu64 "\n",
                  CA_LIMIT_MONITOR_EXPIRED_DAYS, c.external_expired);
  }
  if (!ok || m == NULL) {
    return ok;
  }
  return add_line(cbb,
                  "# HELP pki_monitor_checks_total Expiry checks run by this "
                  "node.\n# TYPE pki_monitor_checks_total counter\n"
                  "pki_monitor_checks_total %" PRIuFAST64 "\n",
                  atomic_load(&m->checks)) &&
         add_line(cbb,
                  "# HELP pki_monitor_notices_total Expiry notices (one "
                  "certificate to one destination) by outcome.\n"
                  "# TYPE pki_monitor_notices_total counter\n"
                  "pki_monitor_notices_total{outcome=\"sent\"} %" PRIuFAST64
                  "\npki_monitor_notices_total{outcome=\"failed\"} "
                  "%" PRIuFAST64 "\n",
                  atomic_load(&m->notices_sent),
                  atomic_load(&m->notices_failed)) &&
         add_line(cbb,
                  "# HELP pki_monitor_messages_total Expiry e-mails and "
                  "webhook calls by outcome.\n"
                  "# TYPE pki_monitor_messages_total counter\n"
                  "pki_monitor_messages_total{outcome=\"sent\"} %" PRIuFAST64
                  "\npki_monitor_messages_total{outcome=\"failed\"} "
                  "%" PRIuFAST64 "\n",
                  atomic_load(&m->messages_sent),
                  atomic_load(&m->messages_failed));
}
