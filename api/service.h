// What every handler of pkid shares: the CAs, the store, the metrics.
#ifndef PKI_API_SERVICE_H
#define PKI_API_SERVICE_H

#include "api/http.h"
#include "api/metrics.h"
#include "ca/authority.h"
#include "ca/engine.h"
#include "ca/responder.h"
#include "ca/store.h"

struct api_service {
  ca_authority *authority;  // read-only once serving
  ca_store *store;          // thread-safe pool
  ca_engine *engine;        // signs and records issuances
  ca_keypool *keypool;      // keys ready for POST /v1/keys:generate
  ca_responder *responder;  // the OCSP responder
  int64_t crl_validity_s;   // nextUpdate - thisUpdate of the CRLs
  api_metrics metrics;      // atomic counters
  // pkid --cluster: the cluster of certificates issued without one, and
  // the default of bulk export and import; NULL when not said.
  const char *cluster;
  // --- Expiry monitor ---
  struct api_monitor *monitor;  // checks and their counters (api/monitor.h)
  // --- Access ---
  struct api_auth *auth;  // token cache and allowlist (api/auth.h)
  const char *data_dir;   // where the first admin token is written
  // --- Limits ---
  // Items of one batch at most (pkid --max-batch-items); 0:
  // CA_LIMIT_BATCH_ITEMS.
  size_t max_batch_items;
  // The request bodies each listener holds (--max-buffered-bytes), given
  // to the servers and read by /metrics.
  api_budget api_bodies;
  api_budget ocsp_bodies;
};

// api_routes returns pkid's route table and its length in |*out_n|.
const api_route *api_routes(size_t *out_n);

// api_ocsp_routes returns the routes of the OCSP listener.
const api_route *api_ocsp_routes(size_t *out_n);

// The handlers, one file per resource.
void api_handle_healthz(api_service *svc, const api_request *req,
                        api_response *resp);
void api_handle_metrics(api_service *svc, const api_request *req,
                        api_response *resp);
void api_handle_ca_list(api_service *svc, const api_request *req,
                        api_response *resp);
void api_handle_ca_chain(api_service *svc, const api_request *req,
                         api_response *resp);
void api_handle_issue(api_service *svc, const api_request *req,
                      api_response *resp);
void api_handle_batch_issue(api_service *svc, const api_request *req,
                            api_response *resp);
void api_handle_sign(api_service *svc, const api_request *req,
                     api_response *resp);
void api_handle_generate_key(api_service *svc, const api_request *req,
                             api_response *resp);
void api_handle_revoke(api_service *svc, const api_request *req,
                       api_response *resp);
void api_handle_unhold(api_service *svc, const api_request *req,
                       api_response *resp);
void api_handle_crl(api_service *svc, const api_request *req,
                    api_response *resp);
void api_handle_ocsp_healthz(api_service *svc, const api_request *req,
                             api_response *resp);
void api_handle_ocsp_post(api_service *svc, const api_request *req,
                          api_response *resp);
void api_handle_ocsp_get(api_service *svc, const api_request *req,
                         api_response *resp);
void api_handle_cert_list(api_service *svc, const api_request *req,
                          api_response *resp);
void api_handle_cert_get(api_service *svc, const api_request *req,
                         api_response *resp);

// Trust stores (api/handlers_trust.c).
void api_handle_trust_list_all(api_service *svc, const api_request *req,
                               api_response *resp);
void api_handle_trust_upload(api_service *svc, const api_request *req,
                             api_response *resp);
void api_handle_trust_get(api_service *svc, const api_request *req,
                          api_response *resp);
void api_handle_trust_delete(api_service *svc, const api_request *req,
                             api_response *resp);

// Bulk export, consolidate, import (api/handlers_bulk.c).
void api_handle_bulk_export(api_service *svc, const api_request *req,
                            api_response *resp);
void api_handle_bulk_consolidate(api_service *svc, const api_request *req,
                                 api_response *resp);
void api_handle_bulk_import(api_service *svc, const api_request *req,
                            api_response *resp);
// --- Expiry monitor (api/handlers_monitor.c) ---
void api_handle_monitor_get(api_service *svc, const api_request *req,
                            api_response *resp);
void api_handle_monitor_put(api_service *svc, const api_request *req,
                            api_response *resp);
void api_handle_monitor_expiring(api_service *svc, const api_request *req,
                                 api_response *resp);
void api_handle_monitor_check(api_service *svc, const api_request *req,
                              api_response *resp);
// Self-signed identities (api/handlers_self_signed.c).
void api_handle_self_signed(api_service *svc, const api_request *req,
                            api_response *resp);
void api_handle_regenerate(api_service *svc, const api_request *req,
                           api_response *resp);
// Tokens and the admin allowlist (api/handlers_access.c).
void api_handle_token_create(api_service *svc, const api_request *req,
                             api_response *resp);
void api_handle_token_list(api_service *svc, const api_request *req,
                           api_response *resp);
void api_handle_token_revoke(api_service *svc, const api_request *req,
                             api_response *resp);
void api_handle_allowlist_list(api_service *svc, const api_request *req,
                               api_response *resp);
void api_handle_allowlist_add(api_service *svc, const api_request *req,
                              api_response *resp);
void api_handle_allowlist_delete(api_service *svc, const api_request *req,
                                 api_response *resp);
// api_self_signed_drain refuses new self-signed requests (SHUTTING_DOWN)
// and waits until every running one has completed; pkid calls it at
// shutdown while its HTTP server still answers.
void api_self_signed_drain(void);

#endif  // PKI_API_SERVICE_H
