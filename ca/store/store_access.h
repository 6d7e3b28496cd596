// The API's tokens and admin allowlist in PostgreSQL (migration 0007).
//
// Every change is one transaction with its audit row, and sends a NOTIFY on
// CA_ACCESS_CHANNEL so that every node drops what it cached at once.
#ifndef PKI_CA_STORE_ACCESS_H
#define PKI_CA_STORE_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/policy/access.h"
#include "ca/store/store.h"

#define CA_ACCESS_CHANNEL "pki_access"

// ca_store_token_create makes a token named |name| with |role| (and, for
// an issuer, the profiles of |scope|; NULL for every profile), records its
// hash and an audit row by |actor| from |source|, and writes the token into
// |token_out| and its id into |*id_out|. The token is never stored.
int ca_store_token_create(ca_store *store, const char *name, ca_role role,
                          const ca_principal *scope, const char *actor,
                          const char *source, char token_out[CA_TOKEN_LEN + 1],
                          int64_t *id_out) CA_MUST_CHECK;

// ca_store_token_first_admin makes the first admin token, named |name|,
// when no token was ever made, under an advisory lock so that nodes
// starting together make one. |*created| says whether it did (then
// |token_out| holds it).
int ca_store_token_first_admin(ca_store *store, const char *name,
                               const char *actor,
                               char token_out[CA_TOKEN_LEN + 1],
                               int *created) CA_MUST_CHECK;

// ca_store_token_find looks up the live token whose SHA-256 is |hash| and
// sets |*found|; when found, |out| is its principal.
int ca_store_token_find(ca_store *store, const uint8_t hash[32],
                        ca_principal *out, int *found) CA_MUST_CHECK;

typedef struct ca_token_row {
  int64_t id;
  char name[CA_LIMIT_TOKEN_NAME_LEN + 1];
  ca_role role;
  char profiles[CA_LIMIT_TOKEN_PROFILES * (CA_LIMIT_PROFILE_NAME_LEN + 1) + 1];
  int64_t created_at;
  char created_by[CA_LIMIT_PRINCIPAL_NAME_LEN + 1];
  int64_t revoked_at;  // 0 while live
} ca_token_row;

// ca_store_token_list returns every token (live and revoked), oldest first,
// in |*out| (free) and their number in |*n|.
int ca_store_token_list(ca_store *store, ca_token_row **out,
                        size_t *n) CA_MUST_CHECK;

// ca_store_token_revoke revokes token |id|, with its audit row. It returns
// 0 with CA_ERR_NOT_FOUND when no live token has that id.
int ca_store_token_revoke(ca_store *store, int64_t id, const char *actor,
                          const char *source) CA_MUST_CHECK;

typedef struct ca_allow_entry {
  char network[64];  // as PostgreSQL prints a cidr: "10.0.0.0/8"
  char added_by[CA_LIMIT_PRINCIPAL_NAME_LEN + 1];
  int64_t added_at;
} ca_allow_entry;

// ca_store_allowlist_list returns the allowlist, in |*out| (free) and its
// length in |*n|.
int ca_store_allowlist_list(ca_store *store, ca_allow_entry **out,
                            size_t *n) CA_MUST_CHECK;

// ca_store_allowlist_change adds (|add| = 1) or removes |network| (checked
// by ca_network_parse and stored as ca_network_format writes it: an
// IPv4-mapped network as its IPv4 network), with its audit row. Adding a
// network already there and removing one that is not are CA_ERR_CONFLICT and
// CA_ERR_NOT_FOUND; more than CA_LIMIT_ALLOWLIST networks is
// CA_ERR_PARAMETER_INVALID.
int ca_store_allowlist_change(ca_store *store, int add, const char *network,
                              const char *actor,
                              const char *source) CA_MUST_CHECK;

#endif  // PKI_CA_STORE_ACCESS_H
