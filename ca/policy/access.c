#include "ca/policy/access.h"

#include <arpa/inet.h>
#include <openssl/base64.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const kRoleNames[] = {"none", "issuer", "revoker", "admin"};

int ca_role_parse(const char *name, ca_role *out) {
  for (size_t i = CA_ROLE_ISSUER; i <= CA_ROLE_ADMIN; i++) {
    if (name != NULL && strcmp(name, kRoleNames[i]) == 0) {
      *out = (ca_role)i;
      return 1;
    }
  }
  CA_RAISE(CA_ERR_PARAMETER_INVALID,
           "unknown role \"%.32s\" (issuer, revoker or admin)",
           name != NULL ? name : "");
err:
  return 0;
}

const char *ca_role_name(ca_role role) {
  return (unsigned)role <= CA_ROLE_ADMIN ? kRoleNames[role] : "none";
}

int ca_token_generate(char out[CA_TOKEN_LEN + 1]) {
  uint8_t random[CA_TOKEN_RANDOM_BYTES];
  uint8_t b64[48];
  CA_ENSURE(RAND_bytes(random, sizeof(random)) == 1, CA_ERR_INTERNAL,
            "no randomness for a token");
  const size_t n = EVP_EncodeBlock(b64, random, sizeof(random));
  OPENSSL_cleanse(random, sizeof(random));
  // Standard base64 of 32 bytes is 43 characters and one '='; the URL-safe
  // alphabet keeps the token a single word in headers, shells and files.
  memcpy(out, CA_TOKEN_PREFIX, 4);
  for (size_t i = 0; i < 43 && i < n; i++) {
    const char c = (char)b64[i];
    out[4 + i] = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  out[CA_TOKEN_LEN] = '\0';
  OPENSSL_cleanse(b64, sizeof(b64));
  return 1;
err:
  return 0;
}

static int is_b64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int ca_token_hash(const char *token, size_t len, uint8_t out[32]) {
  CA_ENSURE(len == CA_TOKEN_LEN && memcmp(token, CA_TOKEN_PREFIX, 4) == 0,
            CA_ERR_UNAUTHENTICATED, "not a pki token");
  for (size_t i = 4; i < len; i++) {
    CA_ENSURE(is_b64url(token[i]), CA_ERR_UNAUTHENTICATED, "not a pki token");
  }
  SHA256((const uint8_t *)token, len, out);
  return 1;
err:
  return 0;
}

int ca_principal_may_issue(const ca_principal *p, const char *profile) {
  if (p->role == CA_ROLE_ADMIN) {
    return 1;
  }
  // A client certificate of the API carries a role: an issuer making one
  // could make itself an admin.
  if (p->role != CA_ROLE_ISSUER ||
      strcasecmp(profile, CA_PROFILE_API_CLIENT) == 0) {
    return 0;
  }
  if (p->profile_count == 0) {
    return 1;
  }
  for (size_t i = 0; i < p->profile_count; i++) {
    if (strcasecmp(p->profiles[i], profile) == 0) {
      return 1;
    }
  }
  return 0;
}

int ca_profiles_parse(const char *list, ca_principal *p) {
  p->profile_count = 0;
  if (list == NULL || list[0] == '\0' || strcmp(list, "all") == 0) {
    return 1;
  }
  const char *s = list;
  for (;;) {
    const char *comma = strchr(s, ',');
    const size_t n = comma != NULL ? (size_t)(comma - s) : strlen(s);
    CA_ENSURE(n > 0 && n <= CA_LIMIT_PROFILE_NAME_LEN, CA_ERR_PARAMETER_INVALID,
              "bad profile name in \"%.64s\"", list);
    CA_ENSURE(p->profile_count < CA_LIMIT_TOKEN_PROFILES,
              CA_ERR_PARAMETER_INVALID, "more than %d profiles",
              CA_LIMIT_TOKEN_PROFILES);
    memcpy(p->profiles[p->profile_count], s, n);
    p->profiles[p->profile_count][n] = '\0';
    p->profile_count++;
    if (comma == NULL) {
      return 1;
    }
    s = comma + 1;
  }
err:
  p->profile_count = 0;
  return 0;
}

// parse_address reads an IPv4 or IPv6 address; an IPv4-mapped IPv6 address
// becomes its IPv4 address.
static int parse_address(const char *text, int *v6, uint8_t addr[16]) {
  memset(addr, 0, 16);
  if (inet_pton(AF_INET, text, addr) == 1) {
    *v6 = 0;
    return 1;
  }
  if (inet_pton(AF_INET6, text, addr) != 1) {
    return 0;
  }
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (memcmp(addr, kMapped, sizeof(kMapped)) == 0) {
    memmove(addr, addr + 12, 4);
    memset(addr + 4, 0, 12);
    *v6 = 0;
    return 1;
  }
  *v6 = 1;
  return 1;
}

int ca_network_parse(const char *text, ca_network *out) {
  char host[64];
  memset(out, 0, sizeof(*out));
  const char *slash = strchr(text, '/');
  const size_t n = slash != NULL ? (size_t)(slash - text) : strlen(text);
  CA_ENSURE(n > 0 && n < sizeof(host), CA_ERR_PARAMETER_INVALID,
            "bad network \"%.64s\" (ADDRESS or ADDRESS/PREFIX)", text);
  memcpy(host, text, n);
  host[n] = '\0';
  CA_ENSURE(parse_address(host, &out->v6, out->addr), CA_ERR_PARAMETER_INVALID,
            "bad network \"%.64s\" (ADDRESS or ADDRESS/PREFIX)", text);
  const unsigned max = out->v6 ? 128 : 32;
  out->prefix = max;
  if (slash != NULL) {
    const char *p = slash + 1;
    unsigned v = 0;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 4; p++, digits++) {
      v = v * 10 + (unsigned)(*p - '0');
    }
    CA_ENSURE(digits > 0 && *p == '\0' && v <= max, CA_ERR_PARAMETER_INVALID,
              "bad prefix length in \"%.64s\" (0 to %u)", text, max);
    out->prefix = v;
  }
  for (unsigned bit = out->prefix; bit < max; bit++) {
    CA_ENSURE((out->addr[bit / 8] & (0x80 >> (bit % 8))) == 0,
              CA_ERR_PARAMETER_INVALID,
              "\"%.64s\" has bits set past its prefix length", text);
  }
  return 1;
err:
  return 0;
}

int ca_network_contains(const ca_network *net, const char *addr) {
  int v6;
  uint8_t a[16];
  if (!parse_address(addr, &v6, a) || v6 != net->v6) {
    return 0;
  }
  const unsigned full = net->prefix / 8, rest = net->prefix % 8;
  if (memcmp(a, net->addr, full) != 0) {
    return 0;
  }
  if (rest == 0) {
    return 1;
  }
  const uint8_t mask = (uint8_t)(0xff << (8 - rest));
  return (a[full] & mask) == (net->addr[full] & mask);
}
