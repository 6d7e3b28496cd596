// The expiry monitor of pkid: one check (which certificates are due, claim
// their notices, send one message per destination, record the outcome) and
// the background thread that runs it on schedule.
#ifndef PKI_API_MONITOR_H
#define PKI_API_MONITOR_H

#include <openssl/bytestring.h>
#include <stddef.h>
#include <stdint.h>

#include "api/server/webhook.h"
#include "ca/error.h"
#include "ca/policy/monitor.h"
#include "ca/store/store.h"

typedef struct api_monitor api_monitor;

// What one check did (MonitorCheckResponse).
typedef struct api_monitor_report {
  int enabled;
  uint64_t window;
  uint32_t due;
  uint32_t notified;
  uint32_t already_notified;
  uint32_t failed;
  uint32_t messages_sent;
  uint32_t messages_failed;
  // "NOTIFICATION_FAILED: DESTINATION: reason", the destination a
  // mailto: address or a webhook as api_webhook_display shows it.
  char errors[2 * CA_LIMIT_MONITOR_DESTINATIONS][400];
  size_t n_errors;
  // When the scheduler should check next, seconds from the check.
  uint32_t next_check_s;
} api_monitor_report;

// api_monitor_new returns a monitor on |store| for the node |node| (named
// in the notices it claims), with no thread yet; NULL when out of memory.
// Free it with api_monitor_free.
api_monitor *api_monitor_new(ca_store *store, const char *node);

// api_monitor_start starts the background thread: first check
// |first_delay_s| seconds from now, then as ca_monitor_next_check says. It
// returns 0 with CA_ERR_INTERNAL when the thread cannot start.
int api_monitor_start(api_monitor *monitor,
                      unsigned first_delay_s) CA_MUST_CHECK;

// api_monitor_add_listener records one of pkid's own listeners (|host| as
// in --listen, and the port it got): no webhook may reach it, whether
// stored (api_monitor_check_webhooks) or called (at each connection). Any
// thread; pkid calls it once each listener is bound. It returns 0 with
// CA_ERR_CONFIG when |host| does not resolve.
int api_monitor_add_listener(api_monitor *monitor, const char *host,
                             unsigned port) CA_MUST_CHECK;

// api_monitor_check_webhooks checks each webhook of |config| as
// api_webhook_check does, against this node's listeners (|monitor| may be
// NULL: none known). It returns 1, or 0 with CA_ERR_DESTINATION_INVALID
// naming the first webhook refused.
int api_monitor_check_webhooks(api_monitor *monitor,
                               const ca_monitor_config *config) CA_MUST_CHECK;

// api_monitor_wake makes the thread (if any) check now: the configuration
// changed.
void api_monitor_wake(api_monitor *monitor);

// api_monitor_free stops the thread, waiting for a check in progress to end
// (at most the send timeouts of api/server/notify.h per destination), and frees
// |monitor|. It accepts NULL.
void api_monitor_free(api_monitor *monitor);

// api_monitor_check runs one check at |now| and fills |out|. A destination
// that fails is reported in |out| and counted; the check goes on with the
// others. It returns 0 only when the database fails
// (CA_ERR_STORAGE_UNAVAILABLE): then nothing was claimed, or what was
// claimed is retried ten minutes later.
int api_monitor_check(api_monitor *monitor, int64_t now,
                      api_monitor_report *out) CA_MUST_CHECK;

// api_monitor_add_metrics appends the monitor's metrics to |cbb|: the
// certificates expiring within 1, 7 and 30 days and those expired (one
// query; left out when the database does not answer, or when |store| is
// NULL: pkid serves them from the statistics snapshot), and this node's
// counters of notices and messages. It returns 0 when out of memory.
int api_monitor_add_metrics(api_monitor *monitor, ca_store *store,
                            CBB *cbb) CA_MUST_CHECK;

#endif  // PKI_API_MONITOR_H
