// Who may call pki's API: roles, bearer tokens and source-address networks.
//
// A token is "pki_" followed by 43 base64url characters: 256 random bits.
// Only its SHA-256 is stored (ca/store/store_access.h); a request's token is
// checked for that exact shape before it is hashed, so nothing else of
// what a client sends in its Authorization header reaches the database.
#ifndef PKI_CA_ACCESS_H
#define PKI_CA_ACCESS_H

#include <openssl/bytestring.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/limits.h"
#include "ca/policy/profile.h"

typedef enum ca_role {
  CA_ROLE_NONE = 0,
  // Issues under the profiles of its token (all when it names none), and
  // reads.
  CA_ROLE_ISSUER,
  // Revokes and lifts holds, and reads.
  CA_ROLE_REVOKER,
  // Everything, including the admin routes.
  CA_ROLE_ADMIN,
} ca_role;

// ca_role_parse sets |*out| from "issuer", "revoker" or "admin"; 0 with
// CA_ERR_PARAMETER_INVALID otherwise.
int ca_role_parse(ca_role *out, const char *name) CA_MUST_CHECK;

// ca_role_name returns the name of |role| ("none" for CA_ROLE_NONE).
const char *ca_role_name(ca_role role);

#define CA_TOKEN_PREFIX "pki_"
#define CA_TOKEN_RANDOM_BYTES 32
// "pki_" and base64url of 32 bytes without padding.
#define CA_TOKEN_LEN (4 + 43)

// ca_token_generate writes a new token, NUL-terminated, into |out|. It
// returns 0 with CA_ERR_INTERNAL when the random source fails.
int ca_token_generate(char out[CA_TOKEN_LEN + 1]) CA_MUST_CHECK;

// ca_token_hash checks that the |len| bytes of |token| have the shape of a
// token and writes their SHA-256 into |out|. It returns 0 with
// CA_ERR_UNAUTHENTICATED for anything else.
int ca_token_hash(const char *token, size_t len, uint8_t out[32]) CA_MUST_CHECK;

// A caller once authenticated: its role, the profiles an issuer may use,
// and the name the audit log records.
typedef struct ca_principal {
  ca_role role;
  char name[CA_LIMIT_PRINCIPAL_NAME_LEN + 1];  // "token:ID:NAME", "cert:CN"
  size_t profile_count;                        // 0: every profile
  char profiles[CA_LIMIT_TOKEN_PROFILES][CA_LIMIT_PROFILE_NAME_LEN + 1];
} ca_principal;

// ca_principal_may_issue returns 1 when |p| may issue under |profile|:
// admins always, issuers when the profile is theirs (names compare without
// case, as profiles do) and is not api-client, which only admins issue.
int ca_principal_may_issue(const ca_principal *p, const char *profile);

// ca_profiles_parse splits |list| ("tomcat,ipsec"; "all" or "" for every
// profile) into |p|'s profiles. It returns 0 with CA_ERR_PARAMETER_INVALID
// for an empty name, a name too long or too many names. Whether the names
// are real profiles is the caller's check.
int ca_profiles_parse(ca_principal *p, const char *list) CA_MUST_CHECK;

// The OU of an api-client certificate that names its holder's role:
// "pki-role:ROLE", or "pki-role:issuer:PROFILE[:PROFILE...]" for an issuer
// limited to profiles.
#define CA_ROLE_OU_PREFIX "pki-role:"

// ca_role_ou_parse reads the role that the Name element |name| (tag
// included) names, for issuance under api-client and for authentication by
// a client certificate alike. The organizationalUnitName attributes are
// read from the RDN sequence itself, every string type decoded: an OU whose
// value begins with "pki-role" in any case is a role OU. There must be
// exactly one, of the shape above: ROLE one of issuer, revoker, admin;
// profiles only for an issuer, each a profile of |profiles| (stored in
// |out| under the profile's own spelling), letters, digits and '-';
// "pki-role:issuer" alone, or "pki-role:issuer:all", for every profile. On
// success it sets |out|'s role and profiles and leaves its name alone. It
// returns 0 with CA_ERR_SUBJECT_INVALID when the Name does not parse or
// names no role, several roles or a malformed one (the message says which).
// Pure: no I/O.
int ca_role_ou_parse(ca_principal *out, const CBS *name,
                     const ca_profile_table *profiles) CA_MUST_CHECK;

// A network of the admin allowlist: an IPv4 or IPv6 prefix.
typedef struct ca_network {
  int v6;
  uint8_t addr[16];
  unsigned prefix;  // bits
} ca_network;

// ca_network_parse reads "ADDR" or "ADDR/PREFIX" (IPv4 or IPv6). Host bits
// past the prefix must be zero, as PostgreSQL's cidr wants them. An
// IPv4-mapped IPv6 network (::ffff:a.b.c.d/P) is its IPv4 network, prefix
// P - 96: P must then be 96 to 128. It returns 0 with
// CA_ERR_PARAMETER_INVALID otherwise.
int ca_network_parse(ca_network *out, const char *text) CA_MUST_CHECK;

// Room for any network's text and its NUL ("ffff:...:ffff/128" is 44 bytes),
// as much as ca_allow_entry keeps.
#define CA_NETWORK_TEXT_LEN 64

// ca_network_format writes |net| (from ca_network_parse) as PostgreSQL
// prints a cidr, "10.0.0.0/8" or "2001:db8::/32", into |out|: the one
// spelling under which the allowlist stores it. It returns 0 with
// CA_ERR_INTERNAL for a network that ca_network_parse cannot have made.
int ca_network_format(const ca_network *net,
                      char out[CA_NETWORK_TEXT_LEN]) CA_MUST_CHECK;

// ca_network_contains returns 1 when the textual address |addr| lies in
// |net|. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts as its IPv4
// address. Unparseable addresses are outside every network.
int ca_network_contains(const ca_network *net, const char *addr);

#endif  // PKI_CA_ACCESS_H
