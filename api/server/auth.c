#include "api/server/auth.h"

#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <openssl/mem.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/server/service.h"
#include "ca/issue/authority.h"
#include "ca/limits.h"
#include "ca/policy/access.h"
#include "ca/store/store_access.h"
#include "ca/x509/x509.h"
#include "ca/x509/x509_verify.h"

typedef struct cached_token {
  uint8_t hash[32];
  ca_principal principal;
  int64_t expires;      // 0: empty slot
  uint64_t generation;  // api_auth's when filled; any other: dropped
  // Of a client certificate's principal: api_auth's cert_generation when
  // filled; any other: dropped. 0 for a token's.
  int from_cert;
  uint64_t cert_generation;
} cached_token;

struct api_auth {
  ca_store *store;
  pthread_mutex_t mu;
  // Grows with every invalidation, which drops every entry filled before
  // it without touching the 1,024 entries (under this lock, which every
  // authenticated request takes). A lookup that began before one does not
  // fill the cache, or a token revoked while it was read from the database
  // would be cached as live.
  uint64_t generation;
  // Grows with every certificate revocation, which drops the principals of
  // client certificates only: a token's principal, the allowlist and the
  // cache's other entries do not depend on any certificate's state, and
  // dropping them too made every request after a revocation read its token
  // from the database again, one round trip more per revocation under
  // load (README, "Revocation").
  uint64_t cert_generation;
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
  a->allow_expires = 0;
  a->generation++;
  pthread_mutex_unlock(&a->mu);
}

void api_auth_forget_certificates(api_auth *a) {
  pthread_mutex_lock(&a->mu);
  a->cert_generation++;
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

static int verify_client_cert(api_service *svc, const uint8_t *der,
                              size_t der_len, ca_principal *out);

// lookup_cached finds the principal of the token (|der| NULL) or client
// certificate |der| whose SHA-256 is |hash|, from the cache or the store.
static int lookup_cached(api_service *svc, const uint8_t hash[32],
                         const uint8_t *der, size_t der_len,
                         ca_principal *out) {
  api_auth *a = svc->auth;
  // The hash is uniformly random: its first bytes index the cache.
  const size_t slot = ((size_t)hash[0] << 8 | hash[1]) % CA_LIMIT_TOKEN_CACHE;
  const int64_t now = now_s();
  pthread_mutex_lock(&a->mu);
  cached_token *c = &a->tokens[slot];
  if (c->expires > now && c->generation == a->generation &&
      (!c->from_cert || c->cert_generation == a->cert_generation) &&
      memcmp(c->hash, hash, 32) == 0) {
    *out = c->principal;
    pthread_mutex_unlock(&a->mu);
    return 1;
  }
  const uint64_t generation = a->generation;
  const uint64_t cert_generation = a->cert_generation;
  pthread_mutex_unlock(&a->mu);
  if (der != NULL) {
    CA_GUARD_RETURN(verify_client_cert(svc, der, der_len, out));
  } else {
    int found = 0;
    CA_GUARD_RETURN(ca_store_token_find(a->store, hash, out, &found));
    // Unknown tokens are not cached: a revoked token must not linger, and
    // caching misses would let random tokens evict real ones.
    CA_ENSURE_RETURN(found, CA_ERR_UNAUTHENTICATED, "unknown or revoked token");
  }
  pthread_mutex_lock(&a->mu);
  // A certificate revoked while it was checked must not be cached as live.
  if (a->generation == generation &&
      (der == NULL || a->cert_generation == cert_generation)) {
    memcpy(c->hash, hash, 32);
    c->principal = *out;
    c->expires = now + CA_LIMIT_TOKEN_CACHE_SECONDS;
    c->generation = generation;
    c->from_cert = der != NULL;
    c->cert_generation = cert_generation;
  }
  pthread_mutex_unlock(&a->mu);
  return 1;
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
    CA_ENSURE_RETURN(ok, CA_ERR_ADDRESS_NOT_ALLOWED,
                     "%.64s is not on the admin allowlist", addr);
    return 1;
  }
  const uint64_t generation = a->generation;
  pthread_mutex_unlock(&a->mu);
  CA_GUARD_RETURN(ca_store_allowlist_list(a->store, &rows, &n));
  ca_network nets[CA_LIMIT_ALLOWLIST];
  size_t n_nets = 0;
  for (size_t i = 0; i < n && n_nets < CA_LIMIT_ALLOWLIST; i++) {
    if (ca_network_parse(&nets[n_nets], rows[i].network)) {
      n_nets++;
    }
  }
  free(rows);
  pthread_mutex_lock(&a->mu);
  if (a->generation == generation) {
    // Cached only if no change was announced while it was read.
    memcpy(a->allow, nets, n_nets * sizeof(nets[0]));
    a->n_allow = n_nets;
    a->allow_expires = now + CA_LIMIT_TOKEN_CACHE_SECONDS;
  }
  pthread_mutex_unlock(&a->mu);
  const int ok = api_allowlist_admits(nets, n_nets, addr);
  CA_ENSURE_RETURN(ok, CA_ERR_ADDRESS_NOT_ALLOWED,
                   "%.64s is not on the admin allowlist", addr);
  return 1;
}

// role_of_subject reads the role of an api-client certificate from the one
// OU "pki-role:ROLE[:PROFILE...]" of its subject (ca_role_ou_parse, the
// parser issuance uses). Only the api-client profile keeps an OU
// (ca/policy/profile.h) and only admins issue under it, so an OU of this shape
// in a certificate of pki's CA was put there by an admin; a certificate naming
// several roles, or a malformed one, gets none (issued before issuance
// refused them, or not by pki).
static int role_of_subject(const ca_authority *authority, const CBS *subject,
                           ca_principal *out) {
  if (!ca_role_ou_parse(out, subject, &authority->profiles)) {
    ca_err why;
    ca_err_copy(&why);
    CA_SET_ERROR(CA_ERR_FORBIDDEN,
                 "the client certificate names no usable role: %s",
                 why.message);
    return 0;
  }
  return 1;
}

// verify_client_cert authenticates the certificate |der| a client
// presented in its TLS handshake (GnuTLS proved it holds the key): issued
// by one of pki's CAs, valid now, recorded and not revoked.
static int verify_client_cert(api_service *svc, const uint8_t *der,
                              size_t der_len, ca_principal *out) {
  ca_x509 cert;
  CA_ENSURE_RETURN(ca_x509_parse(&cert, der, der_len), CA_ERR_UNAUTHENTICATED,
                   "the client certificate is malformed");
  const ca_issuer *issuer = NULL;
  for (size_t i = 0; i < svc->authority->count && issuer == NULL; i++) {
    const ca_issuer *ca = &svc->authority->issuers[i];
    if (ca->key != NULL &&
        CBS_len(&ca->cert.subject) == CBS_len(&cert.issuer) &&
        memcmp(CBS_data(&ca->cert.subject), CBS_data(&cert.issuer),
               CBS_len(&cert.issuer)) == 0 &&
        ca_x509_verify_signed_by(&cert, ca->key)) {
      issuer = ca;
    }
    ca_err_clear();
  }
  CA_ENSURE_RETURN(issuer != NULL, CA_ERR_UNAUTHENTICATED,
                   "the client certificate is not from pki's CAs");
  const int64_t now = (int64_t)time(NULL);
  CA_ENSURE_RETURN(cert.not_before <= now && now < cert.not_after,
                   CA_ERR_UNAUTHENTICATED,
                   "the client certificate is not valid now");
  char serial[2 * CA_SERIAL_MAX_LEN + 3];
  static const char kHex[] = "0123456789abcdef";
  CBS s = cert.serial;
  while (CBS_len(&s) > 1 && CBS_data(&s)[0] == 0) {
    CBS_skip(&s, 1);
  }
  CA_ENSURE_RETURN(CBS_len(&s) * 2 < sizeof(serial), CA_ERR_UNAUTHENTICATED,
                   "the client certificate's serial is too long");
  for (size_t i = 0; i < CBS_len(&s); i++) {
    serial[2 * i] = kHex[CBS_data(&s)[i] >> 4];
    serial[2 * i + 1] = kHex[CBS_data(&s)[i] & 15];
  }
  serial[2 * CBS_len(&s)] = '\0';
  ca_cert_state state;
  int found = 0;
  CA_GUARD_RETURN(ca_store_certificate_state(svc->store, issuer->id, serial,
                                             &state, &found));
  CA_ENSURE_RETURN(found && !state.revoked, CA_ERR_UNAUTHENTICATED,
                   "the client certificate is %s",
                   found ? "revoked" : "unknown");
  CA_GUARD_RETURN(role_of_subject(svc->authority, &cert.subject, out));
  snprintf(out->name, sizeof(out->name), "cert:%s", serial);
  return 1;
}

// client_cert_principal authenticates the request's connection by its
// client certificate, through the cache keyed by the certificate's hash.
// It returns 0 without an error set when the client presented none.
static int client_cert_principal(api_service *svc, const api_request *req,
                                 ca_principal *out, int *presented) {
  *presented = 0;
  const union MHD_ConnectionInfo *info =
      req->conn != NULL ? MHD_get_connection_info(
                              req->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION)
                        : NULL;
  if (info == NULL || info->tls_session == NULL) {
    return 0;
  }
  unsigned n = 0;
  const gnutls_datum_t *peers =
      gnutls_certificate_get_peers((gnutls_session_t)info->tls_session, &n);
  if (peers == NULL || n == 0) {
    return 0;
  }
  *presented = 1;
  uint8_t hash[32];
  SHA256(peers[0].data, peers[0].size, hash);
  return lookup_cached(svc, hash, peers[0].data, peers[0].size, out);
}

// bearer_token finds the token of an "Authorization: Bearer TOKEN" header
// (RFC 6750 2.1; the scheme is case-insensitive).
static int bearer_token(const api_request *req, const char **token,
                        size_t *len) {
  const char *h = NULL;
  size_t h_len = 0;
  CA_ENSURE_RETURN(
      MHD_lookup_connection_value_n(
          req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION,
          strlen(MHD_HTTP_HEADER_AUTHORIZATION), &h, &h_len) == MHD_YES &&
          h != NULL,
      CA_ERR_UNAUTHENTICATED,
      "this call needs a credential: Authorization: Bearer TOKEN");
  // Read as a C string, "Bearer TOKEN\0junk" would pass as TOKEN. The
  // libmicrohttpd of Debian 12 (0.9.75) already ends a header value at its
  // first NUL and drops the rest of the line, reporting the cut length;
  // this refuses wherever the bytes past the NUL are reported.
  CA_ENSURE_RETURN(strlen(h) == h_len, CA_ERR_REQUEST_MALFORMED,
                   "the Authorization header holds a NUL byte");
  CA_ENSURE_RETURN(strncasecmp(h, "Bearer ", 7) == 0, CA_ERR_UNAUTHENTICATED,
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
}

int api_authorize(api_service *svc, const api_route *route, api_request *req) {
  if (route->access == API_ACCESS_PUBLIC) {
    return 1;
  }
  const char *token;
  size_t len;
  uint8_t hash[32];
  if (api_header(req, MHD_HTTP_HEADER_AUTHORIZATION) == NULL) {
    // No token: the TLS client certificate, if one was presented.
    int presented;
    if (!client_cert_principal(svc, req, &req->principal, &presented)) {
      CA_ENSURE_RETURN(
          presented, CA_ERR_UNAUTHENTICATED,
          "this call needs a credential: Authorization: Bearer TOKEN "
          "or a client certificate");
      return 0;
    }
  } else {
    CA_GUARD_RETURN(bearer_token(req, &token, &len));
    CA_GUARD_RETURN(ca_token_hash(token, len, hash));
    CA_GUARD_RETURN(lookup_cached(svc, hash, NULL, 0, &req->principal));
  }
  const ca_role role = req->principal.role;
  switch (route->access) {
    case API_ACCESS_READ:
      break;
    case API_ACCESS_ISSUE:
      CA_ENSURE_RETURN(role == CA_ROLE_ISSUER || role == CA_ROLE_ADMIN,
                       CA_ERR_FORBIDDEN, "role %s may not issue",
                       ca_role_name(role));
      break;
    case API_ACCESS_REVOKE:
      CA_ENSURE_RETURN(role == CA_ROLE_REVOKER || role == CA_ROLE_ADMIN,
                       CA_ERR_FORBIDDEN, "role %s may not revoke",
                       ca_role_name(role));
      CA_GUARD_RETURN(check_allowlist(svc->auth, req->remote));
      break;
    case API_ACCESS_ADMIN:
    default:
      CA_ENSURE_RETURN(role == CA_ROLE_ADMIN, CA_ERR_FORBIDDEN,
                       "this call is for admins; role %s", ca_role_name(role));
      CA_GUARD_RETURN(check_allowlist(svc->auth, req->remote));
      break;
  }
  return 1;
}

int api_require_profile(const api_request *req, const char *profile) {
  CA_ENSURE_RETURN(ca_principal_may_issue(&req->principal, profile),
                   CA_ERR_FORBIDDEN, "%.96s may not issue under profile %.32s",
                   req->principal.name, profile);
  return 1;
}
