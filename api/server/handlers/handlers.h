// The route tables of pkid's two listeners and the handlers behind them,
// one file per family of routes (handlers_*.c in this folder).
#ifndef PKI_API_HANDLERS_H
#define PKI_API_HANDLERS_H

#include <stddef.h>

#include "api/server/http.h"
#include "api/server/service.h"

// api_routes returns pkid's route table and its length in |*out_n|.
const api_route *api_routes(size_t *out_n);

// api_ocsp_routes returns the routes of the OCSP listener.
const api_route *api_ocsp_routes(size_t *out_n);

// api_body_types returns the messages the routes' protobuf bodies hold,
// by handler (api_body_type), and their number in |*out_n|.
const api_body_type *api_body_types(size_t *out_n);

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
void api_handle_batch_revoke(api_service *svc, const api_request *req,
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

// Trust stores (api/server/handlers/handlers_trust.c).
void api_handle_trust_list_all(api_service *svc, const api_request *req,
                               api_response *resp);
void api_handle_trust_upload(api_service *svc, const api_request *req,
                             api_response *resp);
void api_handle_trust_get(api_service *svc, const api_request *req,
                          api_response *resp);
// Registered identities (api/server/handlers/handlers_identity.c).
void api_handle_identity_add(api_service *svc, const api_request *req,
                             api_response *resp);
void api_handle_identity_list(api_service *svc, const api_request *req,
                              api_response *resp);
void api_handle_identity_get(api_service *svc, const api_request *req,
                             api_response *resp);
void api_handle_identity_replace(api_service *svc, const api_request *req,
                                 api_response *resp);
void api_handle_identity_remove(api_service *svc, const api_request *req,
                                api_response *resp);
void api_handle_trust_delete(api_service *svc, const api_request *req,
                             api_response *resp);

// Bulk export, consolidate, import (api/server/handlers/handlers_bulk.c).
void api_handle_bulk_export(api_service *svc, const api_request *req,
                            api_response *resp);
void api_handle_bulk_consolidate(api_service *svc, const api_request *req,
                                 api_response *resp);
void api_handle_bulk_import(api_service *svc, const api_request *req,
                            api_response *resp);
// --- Expiry monitor (api/server/handlers/handlers_monitor.c) ---
void api_handle_monitor_get(api_service *svc, const api_request *req,
                            api_response *resp);
void api_handle_monitor_put(api_service *svc, const api_request *req,
                            api_response *resp);
void api_handle_monitor_expiring(api_service *svc, const api_request *req,
                                 api_response *resp);
void api_handle_monitor_check(api_service *svc, const api_request *req,
                              api_response *resp);
// Self-signed identities (api/server/handlers/handlers_self_signed.c).
void api_handle_self_signed(api_service *svc, const api_request *req,
                            api_response *resp);
void api_handle_regenerate(api_service *svc, const api_request *req,
                           api_response *resp);
// Tokens and the admin allowlist (api/server/handlers/handlers_access.c).
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
// The node registry and multi-server certificates
// (api/server/handlers/handlers_node.c).
void api_handle_node_add(api_service *svc, const api_request *req,
                         api_response *resp);
void api_handle_node_list(api_service *svc, const api_request *req,
                          api_response *resp);
void api_handle_node_delete(api_service *svc, const api_request *req,
                            api_response *resp);
void api_handle_node_multi_server(api_service *svc, const api_request *req,
                                  api_response *resp);
// The audit log (api/server/handlers/handlers_audit.c).
void api_handle_audit_list(api_service *svc, const api_request *req,
                           api_response *resp);
// Certificate statistics (api/server/handlers/handlers_stats.c).
void api_handle_stats_get(api_service *svc, const api_request *req,
                          api_response *resp);
void api_handle_stats_refresh(api_service *svc, const api_request *req,
                              api_response *resp);

// api_self_signed_drain refuses new self-signed requests (SHUTTING_DOWN)
// and waits until every running one has completed; pkid calls it at
// shutdown while its HTTP server still answers.
void api_self_signed_drain(void);

#endif  // PKI_API_HANDLERS_H
