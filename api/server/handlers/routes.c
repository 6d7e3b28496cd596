// pkid's routes (ARCHITECTURE.md, "Wire formats").
#include "api/server/handlers/handlers.h"
#include "api/server/handlers/handlers_ui.h"
#include "api/server/service.h"
#include "ca/limits.h"
#include "proto/pki.pb-c.h"

// A single request carries one CSR, in DER or PEM, plus a few fields.
#define ISSUE_BODY_MAX (2 * CA_LIMIT_CSR_BYTES + 1024)

static const api_route kRoutes[] = {
    {"GET", "/healthz", api_handle_healthz, API_FORMAT_TEXT, 0,
     API_ACCESS_PUBLIC},
    {"GET", "/metrics", api_handle_metrics, API_FORMAT_TEXT, 0,
     API_ACCESS_PUBLIC},
    // The web console's files (api/server/handlers/handlers_ui.c).
    {"GET", "/ui", api_handle_ui, API_FORMAT_TEXT, 0, API_ACCESS_PUBLIC},
    {"GET", "/ui/**", api_handle_ui, API_FORMAT_TEXT, 0, API_ACCESS_PUBLIC},
    {"GET", "/v1/ca", api_handle_ca_list, API_FORMAT_PROTOBUF, 0,
     API_ACCESS_READ},
    {"GET", "/v1/ca/*/chain", api_handle_ca_chain, API_FORMAT_TEXT, 0,
     API_ACCESS_PUBLIC},
    {"POST", "/v1/certificates:issue", api_handle_issue, API_FORMAT_PROTOBUF,
     ISSUE_BODY_MAX, API_ACCESS_ISSUE},
    {"POST", "/v1/certificates:batchIssue", api_handle_batch_issue,
     API_FORMAT_PROTOBUF, CA_LIMIT_BODY_BYTES, API_ACCESS_ISSUE},
    {"POST", "/v1/sign", api_handle_sign, API_FORMAT_TEXT,
     CA_LIMIT_PEM_BODY_BYTES, API_ACCESS_ISSUE},
    // A subject and up to 100 names of at most 260 bytes fit in 64 KiB.
    {"POST", "/v1/keys:generate", api_handle_generate_key, API_FORMAT_PROTOBUF,
     64 * 1024, API_ACCESS_ISSUE},
    {"GET", "/v1/certificates", api_handle_cert_list, API_FORMAT_PROTOBUF, 0,
     API_ACCESS_READ},
    {"GET", "/v1/certificates/*", api_handle_cert_get, API_FORMAT_TEXT, 0,
     API_ACCESS_READ},
    {"POST", "/v1/certificates/*:revoke", api_handle_revoke,
     API_FORMAT_PROTOBUF, 4096, API_ACCESS_REVOKE},
    {"POST", "/v1/certificates:batchRevoke", api_handle_batch_revoke,
     API_FORMAT_PROTOBUF, CA_LIMIT_BODY_BYTES, API_ACCESS_REVOKE},
    {"POST", "/v1/certificates/*:unhold", api_handle_unhold,
     API_FORMAT_PROTOBUF, 4096, API_ACCESS_REVOKE},
    // /v1/crl/{ca} and a shard's /v1/crl/{ca}/{k}.
    {"GET", "/v1/crl/**", api_handle_crl, API_FORMAT_TEXT, 0,
     API_ACCESS_PUBLIC},
    // Trust stores.
    {"GET", "/v1/trust", api_handle_trust_list_all, API_FORMAT_TEXT, 0,
     API_ACCESS_READ},
    {"POST", "/v1/trust/*", api_handle_trust_upload, API_FORMAT_TEXT,
     CA_LIMIT_TRUST_UPLOAD_BYTES, API_ACCESS_ADMIN},
    {"GET", "/v1/trust/**", api_handle_trust_get, API_FORMAT_TEXT, 0,
     API_ACCESS_READ},
    {"DELETE", "/v1/trust/**", api_handle_trust_delete, API_FORMAT_TEXT, 0,
     API_ACCESS_ADMIN},
    // Registered identities: a certificate file of at most 1 MiB and a few
    // short fields.
    {"POST", "/v1/identities", api_handle_identity_add, API_FORMAT_PROTOBUF,
     CA_LIMIT_TRUST_UPLOAD_BYTES + 4096, API_ACCESS_ADMIN},
    {"GET", "/v1/identities", api_handle_identity_list, API_FORMAT_TEXT, 0,
     API_ACCESS_READ},
    {"GET", "/v1/identities/*", api_handle_identity_get, API_FORMAT_TEXT, 0,
     API_ACCESS_READ},
    {"PUT", "/v1/identities/*", api_handle_identity_replace,
     API_FORMAT_PROTOBUF, CA_LIMIT_TRUST_UPLOAD_BYTES + 4096, API_ACCESS_ADMIN},
    {"DELETE", "/v1/identities/*", api_handle_identity_remove, API_FORMAT_TEXT,
     0, API_ACCESS_ADMIN},
    // Bulk export, consolidate, import: bundles of up to 16 MiB.
    {"GET", "/v1/bulk/export", api_handle_bulk_export, API_FORMAT_PROTOBUF, 0,
     API_ACCESS_ADMIN},
    {"POST", "/v1/bulk/consolidate", api_handle_bulk_consolidate,
     API_FORMAT_PROTOBUF, CA_LIMIT_BUNDLE_BYTES, API_ACCESS_ADMIN},
    {"POST", "/v1/bulk/import", api_handle_bulk_import, API_FORMAT_PROTOBUF,
     CA_LIMIT_BUNDLE_BYTES, API_ACCESS_ADMIN},
    // --- Node registry and multi-server certificates ---
    {"POST", "/v1/nodes", api_handle_node_add, API_FORMAT_PROTOBUF, 16 * 1024,
     API_ACCESS_ADMIN},
    {"GET", "/v1/nodes", api_handle_node_list, API_FORMAT_PROTOBUF, 0,
     API_ACCESS_READ},
    {"DELETE", "/v1/nodes/*", api_handle_node_delete, API_FORMAT_TEXT, 0,
     API_ACCESS_ADMIN},
    {"POST", "/v1/nodes:multiServer", api_handle_node_multi_server,
     API_FORMAT_PROTOBUF, 16 * 1024, API_ACCESS_ISSUE},
    // --- Expiry monitor ---
    {"GET", "/v1/monitor", api_handle_monitor_get, API_FORMAT_PROTOBUF, 0,
     API_ACCESS_READ},
    // Sixteen addresses and sixteen URLs of at most 2 KiB, and the rest.
    {"PUT", "/v1/monitor", api_handle_monitor_put, API_FORMAT_PROTOBUF,
     64 * 1024, API_ACCESS_ADMIN},
    {"GET", "/v1/monitor/expiring", api_handle_monitor_expiring,
     API_FORMAT_PROTOBUF, 0, API_ACCESS_READ},
    {"POST", "/v1/monitor:check", api_handle_monitor_check, API_FORMAT_PROTOBUF,
     0, API_ACCESS_ADMIN},
    // Self-signed identities: a subject and up to 100 names, as for
    // keys:generate.
    {"POST", "/v1/self-signed", api_handle_self_signed, API_FORMAT_PROTOBUF,
     64 * 1024, API_ACCESS_ISSUE},
    {"POST", "/v1/certificates/*:regenerate", api_handle_regenerate,
     API_FORMAT_PROTOBUF, 4096, API_ACCESS_ISSUE},
    // --- Certificate statistics (api/server/handlers/handlers_stats.c) ---
    {"GET", "/v1/stats", api_handle_stats_get, API_FORMAT_PROTOBUF, 0,
     API_ACCESS_READ},
    {"POST", "/v1/stats:refresh", api_handle_stats_refresh, API_FORMAT_PROTOBUF,
     0, API_ACCESS_ADMIN},
    // --- Access: tokens and the admin allowlist
    // (api/server/handlers/handlers_access.c) ---
    {"POST", "/v1/tokens", api_handle_token_create, API_FORMAT_TEXT, 0,
     API_ACCESS_ADMIN},
    {"GET", "/v1/tokens", api_handle_token_list, API_FORMAT_TEXT, 0,
     API_ACCESS_ADMIN},
    {"DELETE", "/v1/tokens/*", api_handle_token_revoke, API_FORMAT_TEXT, 0,
     API_ACCESS_ADMIN},
    {"GET", "/v1/allowlist", api_handle_allowlist_list, API_FORMAT_TEXT, 0,
     API_ACCESS_ADMIN},
    {"POST", "/v1/allowlist", api_handle_allowlist_add, API_FORMAT_TEXT, 0,
     API_ACCESS_ADMIN},
    {"DELETE", "/v1/allowlist", api_handle_allowlist_delete, API_FORMAT_TEXT, 0,
     API_ACCESS_ADMIN},
    // --- The audit log (api/server/handlers/handlers_audit.c): admins, as
    // it names tokens and client addresses; no body, so no kBodyTypes
    // line ---
    {"GET", "/v1/audit", api_handle_audit_list, API_FORMAT_PROTOBUF, 0,
     API_ACCESS_ADMIN},
};

// The message of each protobuf body, for JSON requests (api_body_type in
// api/server/http.h): one line here is all a new route's body needs to be
// accepted as JSON too, whatever the message; answers need nothing.
static const api_body_type kBodyTypes[] = {
    {api_handle_issue, &pki__v1__issue_request__descriptor},
    {api_handle_batch_issue, &pki__v1__batch_issue_request__descriptor},
    {api_handle_generate_key, &pki__v1__generate_key_request__descriptor},
    {api_handle_revoke, &pki__v1__revoke_request__descriptor},
    {api_handle_batch_revoke, &pki__v1__batch_revoke_request__descriptor},
    {api_handle_unhold, &pki__v1__unhold_request__descriptor},
    {api_handle_bulk_consolidate, &pki__v1__consolidate_request__descriptor},
    {api_handle_bulk_import, &pki__v1__import_request__descriptor},
    {api_handle_monitor_put, &pki__v1__monitor_config__descriptor},
    {api_handle_self_signed, &pki__v1__self_signed_request__descriptor},
    {api_handle_regenerate, &pki__v1__regenerate_request__descriptor},
    {api_handle_identity_add, &pki__v1__register_identity_request__descriptor},
    {api_handle_identity_replace,
     &pki__v1__register_identity_request__descriptor},
    {api_handle_node_add, &pki__v1__node__descriptor},
    {api_handle_node_multi_server, &pki__v1__multi_server_request__descriptor},
};

const api_body_type *api_body_types(size_t *out_n) {
  *out_n = sizeof(kBodyTypes) / sizeof(kBodyTypes[0]);
  return kBodyTypes;
}

// The OCSP listener answers at any path: clients are configured with the
// URL in the certificates' AIA, whatever its path. /healthz comes first; it
// cannot be a GET request (base64 of DER is a multiple of 4 characters).
static const api_route kOcspRoutes[] = {
    {"GET", "/healthz", api_handle_ocsp_healthz, API_FORMAT_TEXT, 0,
     API_ACCESS_PUBLIC},
    {"POST", "/**", api_handle_ocsp_post, API_FORMAT_TEXT,
     CA_LIMIT_OCSP_REQUEST_BYTES, API_ACCESS_PUBLIC},
    {"GET", "/**", api_handle_ocsp_get, API_FORMAT_TEXT, 0, API_ACCESS_PUBLIC},
};

const api_route *api_ocsp_routes(size_t *out_n) {
  *out_n = sizeof(kOcspRoutes) / sizeof(kOcspRoutes[0]);
  return kOcspRoutes;
}

const api_route *api_routes(size_t *out_n) {
  *out_n = sizeof(kRoutes) / sizeof(kRoutes[0]);
  return kRoutes;
}
