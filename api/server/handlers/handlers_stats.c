// GET /v1/stats and POST /v1/stats:refresh: the certificate statistics
// snapshot (README.md, "Certificate statistics"). Both read the snapshot's
// two small tables, never the certificates; the refresh computes it first.
#include <stdlib.h>

#include "api/server/handlers/handlers.h"
#include "api/server/service.h"
#include "api/server/stats.h"
#include "ca/store/store_stats.h"
#include "proto/pki.pb-c.h"

// answer makes the StatsResponse of |s|; its strings and counts stay |s|'s.
static int answer(const ca_stats *s, int refreshed, api_response *resp) {
  Pki__V1__StatsCount *groups = calloc(s->n_counts + 1, sizeof(*groups));
  Pki__V1__StatsCount **ptrs = calloc(s->n_counts + 1, sizeof(*ptrs));
  if (groups == NULL || ptrs == NULL) {
    free(groups);
    free(ptrs);
    CA_SET_ERROR(CA_ERR_NO_MEMORY, "out of memory");
    return 0;
  }
  for (size_t i = 0; i < s->n_counts; i++) {
    const ca_stats_count *c = &s->counts[i];
    pki__v1__stats_count__init(&groups[i]);
    groups[i].kind = (char *)c->kind;
    groups[i].issuer = (char *)c->issuer;
    groups[i].profile = (char *)c->profile;
    groups[i].status = (char *)c->status;
    groups[i].count = c->count;
    groups[i].expiring_within_1d = c->within_1d;
    groups[i].expiring_within_7d = c->within_7d;
    groups[i].expiring_within_30d = c->within_30d;
    ptrs[i] = &groups[i];
  }
  Pki__V1__StatsResponse out = PKI__V1__STATS_RESPONSE__INIT;
  out.computed = s->computed;
  out.computed_at = s->computed_at;
  out.age_seconds = s->age_s;
  out.computed_by = (char *)s->computed_by;
  out.duration_ms = s->duration_ms;
  out.refreshes = s->refreshes;
  out.counts = ptrs;
  out.n_counts = s->n_counts;
  out.expiring_within_1d = s->expiry.within_1d;
  out.expiring_within_7d = s->expiry.within_7d;
  out.expiring_within_30d = s->expiry.within_30d;
  out.expired = s->expiry.expired;
  out.external_expiring_within_1d = s->expiry.external_within_1d;
  out.external_expiring_within_7d = s->expiry.external_within_7d;
  out.external_expiring_within_30d = s->expiry.external_within_30d;
  out.external_expired = s->expiry.external_expired;
  out.refreshed = refreshed;
  api_respond_message(resp, &out.base);
  free(ptrs);
  free(groups);
  return 1;
}

static void read_and_answer(api_service *svc, int refreshed,
                            api_response *resp) {
  ca_stats s;
  if (!ca_store_stats_read(svc->store, &s)) {
    api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
    return;
  }
  if (!answer(&s, refreshed, resp)) {
    api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
  }
  ca_stats_free(&s);
}

void api_handle_stats_get(api_service *svc, const api_request *req,
                          api_response *resp) {
  (void)req;
  read_and_answer(svc, 0, resp);
}

void api_handle_stats_refresh(api_service *svc, const api_request *req,
                              api_response *resp) {
  (void)req;
  int computed;
  if (!api_stats_refresh(svc->stats, 1, &computed)) {
    api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
    return;
  }
  read_and_answer(svc, computed, resp);
}
