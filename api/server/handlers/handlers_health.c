// GET /healthz and GET /metrics: open to monitoring, no credentials.
#include <openssl/bytestring.h>
#include <openssl/mem.h>

#include "api/server/handlers/handlers.h"
#include "api/server/monitor.h"
#include "api/server/revcheck.h"
#include "api/server/service.h"
#include "ca/store/store_stats.h"

void api_handle_healthz(api_service *svc, const api_request *req,
                        api_response *resp) {
  (void)req;
  // Healthy means able to issue: the database must answer, since nothing is
  // returned unrecorded.
  if (!ca_store_ping(svc->store)) {
    api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
    return;
  }
  api_respond_copy(resp, 200, "text/plain", "ok\n", 3);
}

void api_handle_metrics(api_service *svc, const api_request *req,
                        api_response *resp) {
  (void)req;
  const int up = ca_store_ping(svc->store);
  ca_engine_stats stats;
  ca_engine_get_stats(svc->engine, &stats);
  ca_keypool_stats pool;
  ca_keypool_get_stats(svc->keypool, &pool);
  uint8_t *body;
  size_t len;
  if (!api_metrics_render(&svc->metrics, &stats, &pool, up, &body, &len)) {
    api_respond_err_code(resp, API_FORMAT_TEXT, CA_ERR_NO_MEMORY,
                         "out of memory");
    return;
  }
  // The buffered request bodies of each listener, the statistics
  // snapshot's gauges (expiry counts included: two small tables read, never
  // the certificates) and the expiry monitor's counters.
  ca_stats snapshot;
  const int have_stats = up && ca_store_stats_read(svc->store, &snapshot);
  ca_responder_stats ocsp;
  ca_responder_get_stats(svc->responder, &ocsp);
  CBB cbb;
  uint8_t *all;
  size_t all_len;
  if (!CBB_init(&cbb, len + 4096) || !CBB_add_bytes(&cbb, body, len) ||
      !api_metrics_add_budgets(&cbb, &svc->api_bodies, &svc->ocsp_bodies) ||
      !api_metrics_add_ocsp(&cbb, &ocsp) ||
      (have_stats && !api_metrics_add_stats(&cbb, &snapshot)) ||
      (up && !api_monitor_add_metrics(svc->monitor, NULL, &cbb)) ||
      (up && !api_revcheck_add_metrics(svc->store, &cbb)) ||
      !CBB_finish(&cbb, &all, &all_len)) {
    CBB_cleanup(&cbb);
    OPENSSL_free(body);
    if (have_stats) {
      ca_stats_free(&snapshot);
    }
    api_respond_err_code(resp, API_FORMAT_TEXT, CA_ERR_NO_MEMORY,
                         "out of memory");
    return;
  }
  OPENSSL_free(body);
  if (have_stats) {
    ca_stats_free(&snapshot);
  }
  api_respond(resp, 200, "text/plain; version=0.0.4", all, all_len);
}
