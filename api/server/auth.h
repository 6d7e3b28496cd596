// Who may call what: the credential of each API request (a bearer token,
// DESIGN in ca/policy/access.h) checked against its route's access class, and
// the admin allowlist.
//
// Token lookups are cached per node (CA_LIMIT_TOKEN_CACHE entries for
// CA_LIMIT_TOKEN_CACHE_SECONDS), and so is the allowlist; both are dropped
// at once when any node changes them (NOTIFY on CA_ACCESS_CHANNEL, see
// api_auth_invalidate), so a revoked token stops working on every node
// within a notification's delay, or the cache lifetime if notifications
// are down.
#ifndef PKI_API_AUTH_H
#define PKI_API_AUTH_H

#include "api/server/http.h"
#include "ca/policy/access.h"
#include "ca/store/store.h"

typedef struct api_auth api_auth;

// api_auth_new returns the access state of a node over |store|
// (borrowed), or NULL when out of memory. Free it with api_auth_free.
api_auth *api_auth_new(ca_store *store);

void api_auth_free(api_auth *access);

// api_auth_invalidate drops the cached tokens and allowlist, in constant
// time (a token's revocation calls it before its answer); any thread.
void api_auth_invalidate(api_auth *access);

// api_auth_forget_certificates drops the cached principals of client
// certificates, in constant time, and keeps the tokens' and the allowlist:
// what a certificate's revocation changes (called before the revocation
// is answered, and by the listener when another node revokes); any thread.
void api_auth_forget_certificates(api_auth *access);

// api_authorize is the server's authorize hook (api_server_config): it
// sets |req->principal| from the request's credential and returns 1 when
// |route| may be called by it from |req->remote|, else 0 with
// CA_ERR_UNAUTHENTICATED (no or unknown credential), CA_ERR_FORBIDDEN (the
// wrong role), CA_ERR_ADDRESS_NOT_ALLOWED (an admin route from off the
// allowlist) or CA_ERR_STORAGE_UNAVAILABLE.
int api_authorize(api_service *svc, const api_route *route,
                  api_request *req) CA_MUST_CHECK;

// api_require_profile returns 1 when the caller of |req| may issue under
// |profile|, else 0 with CA_ERR_FORBIDDEN.
int api_require_profile(const api_request *req,
                        const char *profile) CA_MUST_CHECK;

// api_allowlist_admits returns 1 when |addr| is admitted by the allowlist
// |nets| of |n| networks (every address when |n| is 0).
int api_allowlist_admits(const ca_network *nets, size_t n, const char *addr);

#endif  // PKI_API_AUTH_H
