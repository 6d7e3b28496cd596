// Tokens and the admin allowlist: POST/GET /v1/tokens, DELETE
// /v1/tokens/{id}, GET/POST/DELETE /v1/allowlist. Text in and out: these
// are an operator's calls (pkictl token, pkictl allowlist, curl).
#include <inttypes.h>
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/server/auth.h"
#include "api/server/formats.h"
#include "api/server/handlers/handlers.h"
#include "api/server/service.h"
#include "ca/limits.h"
#include "ca/policy/profile.h"
#include "ca/store/store_access.h"
#include "ca/x509/asn1_time.h"

// respond_text answers 200 with the text of |cbb| (finished here).
static void respond_text(api_response *resp, CBB *cbb) {
  uint8_t *body;
  size_t len;
  if (!CBB_finish(cbb, &body, &len)) {
    CBB_cleanup(cbb);
    api_respond_err_code(resp, API_FORMAT_TEXT, CA_ERR_NO_MEMORY,
                         "out of memory");
    return;
  }
  api_respond(resp, 200, "text/plain; charset=utf-8", body, len);
}

static void time_text(int64_t t, char out[21]) {
  if (t == 0 || !ca_time_format(t, out)) {
    snprintf(out, 21, "-");
  }
}

void api_handle_token_create(api_service *svc, const api_request *req,
                             api_response *resp) {
  const char *role_text, *profiles, *name;
  ca_role role;
  ca_principal scope;
  char token[CA_TOKEN_LEN + 1], body[CA_TOKEN_LEN + 2];
  int64_t id;
  memset(&scope, 0, sizeof(scope));
  CA_GUARD(api_query_checked(req, "role", &role_text));
  CA_GUARD(api_query_checked(req, "profiles", &profiles));
  CA_GUARD(api_query_checked(req, "name", &name));
  CA_GUARD(ca_role_parse(&role, role_text));
  // An issuer's reach is said explicitly, "all" included, so that a token
  // is never broader than its maker meant by leaving a flag out.
  CA_ENSURE(role != CA_ROLE_ISSUER || (profiles != NULL && profiles[0] != '\0'),
            CA_ERR_PARAMETER_INVALID,
            "an issuer token needs profiles=NAME,... (or profiles=all)");
  CA_ENSURE(role == CA_ROLE_ISSUER || profiles == NULL,
            CA_ERR_PARAMETER_INVALID, "only issuer tokens have profiles");
  if (profiles != NULL) {
    CA_GUARD(ca_profiles_parse(&scope, profiles));
    for (size_t i = 0; i < scope.profile_count; i++) {
      const ca_profile *p =
          ca_profile_find(&svc->authority->profiles, scope.profiles[i]);
      CA_ENSURE(p != NULL, CA_ERR_PROFILE_UNKNOWN, "unknown profile %s",
                scope.profiles[i]);
      // Stored under the profile's own spelling.
      snprintf(scope.profiles[i], sizeof(scope.profiles[i]), "%s", p->name);
    }
  }
  char dflt[32];
  snprintf(dflt, sizeof(dflt), "%s", ca_role_name(role));
  CA_GUARD(ca_store_token_create(svc->store, name != NULL ? name : dflt, role,
                                 &scope, req->principal.name, req->remote,
                                 token, &id));
  const int n = snprintf(body, sizeof(body), "%s\n", token);
  api_respond_copy(resp, 200, "text/plain; charset=utf-8", body, (size_t)n);
  OPENSSL_cleanse(token, sizeof(token));
  OPENSSL_cleanse(body, sizeof(body));
  return;
err:
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}

void api_handle_token_list(api_service *svc, const api_request *req,
                           api_response *resp) {
  (void)req;
  ca_token_row *rows = NULL;
  size_t n = 0;
  CBB cbb;
  CBB_zero(&cbb);
  CA_GUARD(ca_store_token_list(svc->store, &rows, &n));
  CA_GUARD_CRYPTO(CBB_init(&cbb, 128 + n * 160));
  CA_GUARD_CRYPTO(api_cbb_printf(
      &cbb, "ID\tNAME\tROLE\tPROFILES\tCREATED\tCREATED_BY\tREVOKED\n"));
  for (size_t i = 0; i < n; i++) {
    char created[21], revoked[21];
    time_text(rows[i].created_at, created);
    time_text(rows[i].revoked_at, revoked);
    CA_GUARD_CRYPTO(
        api_cbb_printf(&cbb, "%" PRId64 "\t%s\t%s\t%s\t%s\t%s\t%s\n",
                       rows[i].id, rows[i].name, ca_role_name(rows[i].role),
                       rows[i].role != CA_ROLE_ISSUER ? "-"
                       : rows[i].profiles[0] != '\0'  ? rows[i].profiles
                                                      : "all",
                       created, rows[i].created_by, revoked));
  }
  free(rows);
  respond_text(resp, &cbb);
  return;
err:
  free(rows);
  CBB_cleanup(&cbb);
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}

void api_handle_token_revoke(api_service *svc, const api_request *req,
                             api_response *resp) {
  char *end;
  const long long id = strtoll(req->param, &end, 10);
  CA_ENSURE(req->param[0] != '\0' && *end == '\0' && id > 0,
            CA_ERR_PARAMETER_INVALID, "a token id is a positive number");
  CA_GUARD(ca_store_token_revoke(svc->store, (int64_t)id, req->principal.name,
                                 req->remote));
  api_auth_invalidate(svc->auth);
  api_respond_copy(resp, 200, "text/plain; charset=utf-8", "revoked\n", 8);
  return;
err:
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}

void api_handle_allowlist_list(api_service *svc, const api_request *req,
                               api_response *resp) {
  (void)req;
  ca_allow_entry *rows = NULL;
  size_t n = 0;
  CBB cbb;
  CBB_zero(&cbb);
  CA_GUARD(ca_store_allowlist_list(svc->store, &rows, &n));
  CA_GUARD_CRYPTO(CBB_init(&cbb, 64 + n * 128));
  CA_GUARD_CRYPTO(api_cbb_printf(&cbb, "NETWORK\tADDED\tADDED_BY\n"));
  for (size_t i = 0; i < n; i++) {
    char added[21];
    time_text(rows[i].added_at, added);
    CA_GUARD_CRYPTO(api_cbb_printf(&cbb, "%s\t%s\t%s\n", rows[i].network, added,
                                   rows[i].added_by));
  }
  free(rows);
  respond_text(resp, &cbb);
  return;
err:
  free(rows);
  CBB_cleanup(&cbb);
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}

// change_allowlist adds or removes ?network=, refusing (CONFLICT) a change
// after which the caller's own address would be off the list, unless
// ?force=true: the list guards the admin routes, this call included, and
// a mistake would lock every admin out until someone edits the table.
static void change_allowlist(api_service *svc, const api_request *req,
                             api_response *resp, int add) {
  const char *network, *force;
  ca_allow_entry *rows = NULL;
  size_t n = 0;
  ca_network target;
  CA_GUARD(api_query_checked(req, "network", &network));
  CA_GUARD(api_query_checked(req, "force", &force));
  CA_ENSURE(network != NULL, CA_ERR_PARAMETER_INVALID,
            "say which network: network=ADDRESS[/PREFIX]");
  CA_GUARD(ca_network_parse(&target, network));
  if (force == NULL || strcmp(force, "true") != 0) {
    CA_GUARD(ca_store_allowlist_list(svc->store, &rows, &n));
    ca_network *after = calloc(n + 1, sizeof(*after));
    CA_ENSURE_ALLOC(after);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
      ca_network net;
      if (!ca_network_parse(&net, rows[i].network)) {
        ca_err_clear();
        continue;
      }
      const int same = net.v6 == target.v6 && net.prefix == target.prefix &&
                       memcmp(net.addr, target.addr, 16) == 0;
      if (add || !same) {
        after[m++] = net;
      }
    }
    if (add) {
      after[m++] = target;
    }
    const int admitted = api_allowlist_admits(after, m, req->remote);
    free(after);
    CA_ENSURE(admitted, CA_ERR_CONFLICT,
              "after this change your own address %.64s would be off the "
              "allowlist; add it first, or pass force=true",
              req->remote);
  }
  CA_GUARD(ca_store_allowlist_change(svc->store, add, network,
                                     req->principal.name, req->remote));
  api_auth_invalidate(svc->auth);
  free(rows);
  api_respond_copy(resp, 200, "text/plain; charset=utf-8",
                   add ? "added\n" : "deleted\n", add ? 6 : 8);
  return;
err:
  free(rows);
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}

void api_handle_allowlist_add(api_service *svc, const api_request *req,
                              api_response *resp) {
  change_allowlist(svc, req, resp, 1);
}

void api_handle_allowlist_delete(api_service *svc, const api_request *req,
                                 api_response *resp) {
  change_allowlist(svc, req, resp, 0);
}
