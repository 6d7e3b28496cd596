#include "api/auth.h"

#include <microhttpd.h>
#include <openssl/mem.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/service.h"
#include "ca/limits.h"
#include "ca/store_access.h"

typedef struct cached_token {
  uint8_t hash[32];
  ca_principal principal;
  int64_t expires;  // 0: empty slot
} cached_token;

struct api_auth {
  ca_store *store;
  pthread_mutex_t mu;
  cached_token tokens[CA_LIMIT_TOKEN_CACHE];
  ca_network allow[CA_LIMIT_ALLOWLIST];
  size_t n_allow;
  int64_t allow_expires;  // 0: not loaded
};

static int64_t now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec;
}

api_auth *api_auth_new(ca_store *store) {
  api_auth *a = calloc(1, sizeof(*a));
  if (a == NULL) {
    return NULL;
  }
  if (pthread_mutex_init(&a->mu, NULL) != 0) {
    free(a);
    return NULL;
  }
  a->store = store;
  return a;
}

void api_auth_free(api_auth *a) {
  if (a == NULL) {
    return;
  }
  pthread_mutex_destroy(&a->mu);
  OPENSSL_cleanse(a->tokens, sizeof(a->tokens));
  free(a);
}

void api_auth_invalidate(api_auth *a) {
  pthread_mutex_lock(&a->mu);
  memset(a->tokens, 0, sizeof(a->tokens));
  a->allow_expires = 0;
  pthread_mutex_unlock(&a->mu);
}

int api_allowlist_admits(const ca_network *nets, size_t n, const char *addr) {
  if (n == 0) {
    return 1;
  }
  for (size_t i = 0; i < n; i++) {
    if (ca_network_contains(&nets[i], addr)) {
      return 1;
    }
  }
  return 0;
}

// lookup_token finds the principal of the token whose hash is |hash|,
// from the cache or the store.
static int lookup_token(api_auth *a, const uint8_t hash[32],
                        ca_principal *out) {
  // The hash is uniformly random: its first bytes index the cache.
  const size_t slot = ((size_t)hash[0] << 8 | hash[1]) % CA_LIMIT_TOKEN_CACHE;
  const int64_t now = now_s();
  pthread_mutex_lock(&a->mu);
  cached_token *c = &a->tokens[slot];
  if (c->expires > now && memcmp(c->hash, hash, 32) == 0) {
    *out = c->principal;
    pthread_mutex_unlock(&a->mu);
    return 1;
  }
  pthread_mutex_unlock(&a->mu);
  int found = 0;
  CA_GUARD(ca_store_token_find(a->store, hash, out, &found));
  // Unknown tokens are not cached: a revoked token must not linger, and
  // caching misses would let random tokens evict real ones.
  CA_ENSURE(found, CA_ERR_UNAUTHENTICATED, "unknown or revoked token");
  pthread_mutex_lock(&a->mu);
  memcpy(c->hash, hash, 32);
  c->principal = *out;
  c->expires = now + CA_LIMIT_TOKEN_CACHE_SECONDS;
  pthread_mutex_unlock(&a->mu);
  return 1;
err:
  return 0;
}

// check_allowlist admits |addr| to the admin routes, reloading the list
// when it is not cached. A list that cannot be read refuses (fail closed).
static int check_allowlist(api_auth *a, const char *addr) {
  ca_allow_entry *rows = NULL;
  size_t n = 0;
  const int64_t now = now_s();
  pthread_mutex_lock(&a->mu);
  if (a->allow_expires > now) {
    const int ok = api_allowlist_admits(a->allow, a->n_allow, addr);
    pthread_mutex_unlock(&a->mu);
    CA_ENSURE(ok, CA_ERR_ADDRESS_NOT_ALLOWED,
              "%.64s is not on the admin allowlist", addr);
    return 1;
  }
  pthread_mutex_unlock(&a->mu);
  CA_GUARD(ca_store_allowlist_list(a->store, &rows, &n));
  ca_network nets[CA_LIMIT_ALLOWLIST];
  size_t n_nets = 0;
  for (size_t i = 0; i < n && n_nets < CA_LIMIT_ALLOWLIST; i++) {
    if (ca_network_parse(rows[i].network, &nets[n_nets])) {
      n_nets++;
    }
  }
  free(rows);
  pthread_mutex_lock(&a->mu);
  memcpy(a->allow, nets, n_nets * sizeof(nets[0]));
  a->n_allow = n_nets;
  a->allow_expires = now + CA_LIMIT_TOKEN_CACHE_SECONDS;
  const int ok = api_allowlist_admits(a->allow, a->n_allow, addr);
  pthread_mutex_unlock(&a->mu);
  CA_ENSURE(ok, CA_ERR_ADDRESS_NOT_ALLOWED,
            "%.64s is not on the admin allowlist", addr);
  return 1;
err:
  return 0;
}

// bearer_token finds the token of an "Authorization: Bearer TOKEN" header
// (RFC 6750 2.1; the scheme is case-insensitive).
static int bearer_token(const api_request *req, const char **token,
                        size_t *len) {
  const char *h = api_header(req, MHD_HTTP_HEADER_AUTHORIZATION);
  CA_ENSURE(h != NULL, CA_ERR_UNAUTHENTICATED,
            "this call needs a credential: Authorization: Bearer TOKEN");
  CA_ENSURE(strncasecmp(h, "Bearer ", 7) == 0, CA_ERR_UNAUTHENTICATED,
            "only Bearer tokens are accepted");
  h += 7;
  while (*h == ' ') {
    h++;
  }
  size_t n = strlen(h);
  while (n > 0 && h[n - 1] == ' ') {
    n--;
  }
  *token = h;
  *len = n;
  return 1;
err:
  return 0;
}

int api_authorize(api_service *svc, const api_route *route, api_request *req) {
  if (route->access == API_ACCESS_PUBLIC) {
    return 1;
  }
  const char *token;
  size_t len;
  uint8_t hash[32];
  CA_GUARD(bearer_token(req, &token, &len));
  CA_GUARD(ca_token_hash(token, len, hash));
  CA_GUARD(lookup_token(svc->auth, hash, &req->principal));
  const ca_role role = req->principal.role;
  switch (route->access) {
    case API_ACCESS_READ:
      break;
    case API_ACCESS_ISSUE:
      CA_ENSURE(role == CA_ROLE_ISSUER || role == CA_ROLE_ADMIN,
                CA_ERR_FORBIDDEN, "role %s may not issue", ca_role_name(role));
      break;
    case API_ACCESS_REVOKE:
      CA_ENSURE(role == CA_ROLE_REVOKER || role == CA_ROLE_ADMIN,
                CA_ERR_FORBIDDEN, "role %s may not revoke", ca_role_name(role));
      CA_GUARD(check_allowlist(svc->auth, req->remote));
      break;
    case API_ACCESS_ADMIN:
    default:
      CA_ENSURE(role == CA_ROLE_ADMIN, CA_ERR_FORBIDDEN,
                "this call is for admins; role %s", ca_role_name(role));
      CA_GUARD(check_allowlist(svc->auth, req->remote));
      break;
  }
  return 1;
err:
  return 0;
}

int api_require_profile(const api_request *req, const char *profile) {
  CA_ENSURE(ca_principal_may_issue(&req->principal, profile), CA_ERR_FORBIDDEN,
            "%.96s may not issue under profile %.32s", req->principal.name,
            profile);
  return 1;
err:
  return 0;
}
