#include "ca/policy/access.h"

#include <arpa/inet.h>
#include <openssl/base64.h>
#include <openssl/mem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ca/oid.h"

static const char *const kRoleNames[] = {"none", "issuer", "revoker", "admin"};

int ca_role_parse(ca_role *out, const char *name) {
  for (size_t i = CA_ROLE_ISSUER; i <= CA_ROLE_ADMIN; i++) {
    if (name != NULL && strcmp(name, kRoleNames[i]) == 0) {
      *out = (ca_role)i;
      return 1;
    }
  }
  CA_SET_ERROR(CA_ERR_PARAMETER_INVALID,
               "unknown role \"%.32s\" (issuer, revoker or admin)",
               name != NULL ? name : "");
  return 0;
}

const char *ca_role_name(ca_role role) {
  return (unsigned)role <= CA_ROLE_ADMIN ? kRoleNames[role] : "none";
}

int ca_token_generate(char out[CA_TOKEN_LEN + 1]) {
  uint8_t random[CA_TOKEN_RANDOM_BYTES];
  uint8_t b64[48];
  CA_ENSURE_RETURN(RAND_bytes(random, sizeof(random)) == 1, CA_ERR_INTERNAL,
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
}

static int is_b64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int ca_token_hash(const char *token, size_t len, uint8_t out[32]) {
  CA_ENSURE_RETURN(
      len == CA_TOKEN_LEN && memcmp(token, CA_TOKEN_PREFIX, 4) == 0,
      CA_ERR_UNAUTHENTICATED, "not a pki token");
  for (size_t i = 4; i < len; i++) {
    CA_ENSURE_RETURN(is_b64url(token[i]), CA_ERR_UNAUTHENTICATED,
                     "not a pki token");
  }
  SHA256((const uint8_t *)token, len, out);
  return 1;
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

int ca_profiles_parse(ca_principal *p, const char *list) {
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

// The longest role OU: the prefix, "issuer:", and every profile a token may
// name, each with its separator; and the NUL.
#define ROLE_TEXT_MAX                              \
  (sizeof(CA_ROLE_OU_PREFIX) + sizeof("issuer:") + \
   CA_LIMIT_TOKEN_PROFILES * (CA_LIMIT_PROFILE_NAME_LEN + 1) + 1)

// A character of a decoded OU that no role OU may hold: one outside
// printable ASCII, NUL included, so that "pki-role:admin\0..." can never
// read as "pki-role:admin".
#define NOT_ASCII '\x80'

// ou_text decodes the OU value |value| of ASN.1 type |tag| into |out| (NUL
// terminated), each character outside printable ASCII as NOT_ASCII, at most
// |cap| - 1 characters; |*len| is their number and |*more| says whether
// characters were left out. It returns 0 when |tag| is not a string type.
static int ou_text(unsigned tag, const CBS *value, char *out, size_t cap,
                   size_t *len, int *more) {
  size_t width;
  switch (tag) {
    case CBS_ASN1_UTF8STRING:  // a multi-byte character is all NOT_ASCII
    case CBS_ASN1_PRINTABLESTRING:
    case CBS_ASN1_T61STRING:
    case CBS_ASN1_IA5STRING:
    case CBS_ASN1_VISIBLESTRING:
      width = 1;
      break;
    case CBS_ASN1_BMPSTRING:
      width = 2;
      break;
    case CBS_ASN1_UNIVERSALSTRING:
      width = 4;
      break;
    default:
      return 0;
  }
  const uint8_t *p = CBS_data(value);
  const size_t chars = CBS_len(value) / width;
  size_t n = 0;
  for (; n < chars && n + 1 < cap; n++) {
    uint32_t c = 0;
    for (size_t k = 0; k < width; k++) {
      c = c << 8 | p[n * width + k];
    }
    out[n] = c >= 0x20 && c < 0x7f ? (char)c : NOT_ASCII;
  }
  out[n] = '\0';
  *len = n;
  // A BMPString or UniversalString of a partial character is no string.
  *more = n < chars || CBS_len(value) % width != 0;
  return 1;
}

static int is_role_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == ':';
}

// parse_role_text reads the one role OU |text| (ou_text's; |more| when it
// was cut) into |out|. |text| is overwritten.
static int parse_role_text(char *text, int more,
                           const ca_profile_table *profiles,
                           ca_principal *out) {
  static const size_t kPrefix = sizeof(CA_ROLE_OU_PREFIX) - 1;
  CA_ENSURE_RETURN(!more, CA_ERR_SUBJECT_INVALID,
                   "subject: the role OU (pki-role:...) is longer than %zu "
                   "characters",
                   ROLE_TEXT_MAX - 1);
  CA_ENSURE_RETURN(
      strncmp(text, CA_ROLE_OU_PREFIX, kPrefix) == 0, CA_ERR_SUBJECT_INVALID,
      "subject: a role OU is pki-role:ROLE[:PROFILE...], in lower case");
  char *role_text = text + kPrefix;
  for (const char *c = role_text; *c != '\0'; c++) {
    CA_ENSURE_RETURN(
        is_role_char(*c), CA_ERR_SUBJECT_INVALID,
        "subject: the role OU (pki-role:...) holds a character other "
        "than letters, digits, '-' and ':'");
  }
  char *colon = strchr(role_text, ':');
  if (colon != NULL) {
    *colon = '\0';
  }
  ca_role role;
  CA_ENSURE_RETURN(
      ca_role_parse(&role, role_text), CA_ERR_SUBJECT_INVALID,
      "subject: the role OU names an unknown role \"pki-role:%.16s\" "
      "(issuer, revoker or admin)",
      role_text);
  ca_principal scope;
  memset(&scope, 0, sizeof(scope));
  if (colon != NULL) {
    CA_ENSURE_RETURN(
        role == CA_ROLE_ISSUER, CA_ERR_SUBJECT_INVALID,
        "subject: only an issuer's role OU (pki-role:issuer:...) names "
        "profiles");
    char *list = colon + 1;
    // ca_profiles_parse takes "" for every profile: here it is a mistake.
    CA_ENSURE_RETURN(list[0] != '\0', CA_ERR_SUBJECT_INVALID,
                     "subject: the role OU (pki-role:issuer:...) ends in ':' "
                     "without a profile");
    for (char *c = list; *c != '\0'; c++) {
      if (*c == ':') {
        *c = ',';
      }
    }
    CA_ENSURE_RETURN(
        ca_profiles_parse(&scope, list), CA_ERR_SUBJECT_INVALID,
        "subject: the role OU (pki-role:issuer:...) has an empty or "
        "overlong profile name, or more than %d profiles",
        CA_LIMIT_TOKEN_PROFILES);
    for (size_t i = 0; i < scope.profile_count; i++) {
      const ca_profile *p = ca_profile_find(profiles, scope.profiles[i]);
      CA_ENSURE_RETURN(
          p != NULL, CA_ERR_SUBJECT_INVALID,
          "subject: the role OU (pki-role:issuer:...) names an unknown "
          "profile \"%.32s\"",
          scope.profiles[i]);
      // The profile's own spelling, as tokens store theirs.
      snprintf(scope.profiles[i], sizeof(scope.profiles[i]), "%s", p->name);
    }
  }
  out->role = role;
  out->profile_count = scope.profile_count;
  memcpy(out->profiles, scope.profiles, sizeof(out->profiles));
  return 1;
}

int ca_role_ou_parse(ca_principal *out, const CBS *name,
                     const ca_profile_table *profiles) {
  char text[ROLE_TEXT_MAX], role[ROLE_TEXT_MAX];
  int role_more = 0;
  size_t roles = 0;
  CBS in = *name, rdns;
  CA_ENSURE_RETURN(
      CBS_get_asn1(&in, &rdns, CBS_ASN1_SEQUENCE) && CBS_len(&in) == 0,
      CA_ERR_SUBJECT_INVALID, "subject is not a Name");
  while (CBS_len(&rdns) > 0) {
    CBS rdn;
    CA_ENSURE_RETURN(CBS_get_asn1(&rdns, &rdn, CBS_ASN1_SET),
                     CA_ERR_SUBJECT_INVALID,
                     "subject: bad RelativeDistinguishedName");
    while (CBS_len(&rdn) > 0) {
      CBS ava, oid, value;
      unsigned tag;
      CA_ENSURE_RETURN(CBS_get_asn1(&rdn, &ava, CBS_ASN1_SEQUENCE) &&
                           CBS_get_asn1(&ava, &oid, CBS_ASN1_OBJECT) &&
                           CBS_get_any_asn1(&ava, &value, &tag) &&
                           CBS_len(&ava) == 0,
                       CA_ERR_SUBJECT_INVALID, "subject: bad attribute");
      if (!CBS_mem_equal(&oid, kOidOrganizationalUnitName,
                         sizeof(kOidOrganizationalUnitName))) {
        continue;
      }
      size_t len;
      int more;
      CA_ENSURE_RETURN(ou_text(tag, &value, text, sizeof(text), &len, &more),
                       CA_ERR_SUBJECT_INVALID,
                       "subject: an OU is not a string");
      // Every spelling of the prefix counts, so that no look-alike of a
      // second role OU passes as an ordinary OU.
      if (len < 8 || strncasecmp(text, "pki-role", 8) != 0) {
        continue;
      }
      CA_ENSURE_RETURN(++roles == 1, CA_ERR_SUBJECT_INVALID,
                       "subject: more than one role OU (pki-role:...); a "
                       "certificate names one role");
      memcpy(role, text, len + 1);
      role_more = more;
    }
  }
  CA_ENSURE_RETURN(roles == 1, CA_ERR_SUBJECT_INVALID,
                   "subject: no role OU (OU=pki-role:ROLE)");
  return parse_role_text(role, role_more, profiles, out);
}

// parse_address reads an IPv4 or IPv6 address; an IPv4-mapped IPv6 address
// becomes its IPv4 address, and |*mapped| (when not NULL) says so.
static int parse_address(const char *text, int *v6, uint8_t addr[16],
                         int *mapped) {
  memset(addr, 0, 16);
  if (mapped != NULL) {
    *mapped = 0;
  }
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
    if (mapped != NULL) {
      *mapped = 1;
    }
    return 1;
  }
  *v6 = 1;
  return 1;
}

int ca_network_parse(ca_network *out, const char *text) {
  char host[64];
  int mapped;
  memset(out, 0, sizeof(*out));
  const char *slash = strchr(text, '/');
  const size_t n = slash != NULL ? (size_t)(slash - text) : strlen(text);
  CA_ENSURE_RETURN(n > 0 && n < sizeof(host), CA_ERR_PARAMETER_INVALID,
                   "bad network \"%.64s\" (ADDRESS or ADDRESS/PREFIX)", text);
  memcpy(host, text, n);
  host[n] = '\0';
  CA_ENSURE_RETURN(parse_address(host, &out->v6, out->addr, &mapped),
                   CA_ERR_PARAMETER_INVALID,
                   "bad network \"%.64s\" (ADDRESS or ADDRESS/PREFIX)", text);
  // A mapped network is written with an IPv6 prefix: 128 is one address.
  const unsigned max = out->v6 || mapped ? 128 : 32;
  out->prefix = max;
  if (slash != NULL) {
    const char *p = slash + 1;
    unsigned v = 0;
    size_t digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 4; p++, digits++) {
      v = v * 10 + (unsigned)(*p - '0');
    }
    CA_ENSURE_RETURN(digits > 0 && *p == '\0' && v <= max,
                     CA_ERR_PARAMETER_INVALID,
                     "bad prefix length in \"%.64s\" (0 to %u)", text, max);
    out->prefix = v;
  }
  if (mapped) {
    // Its first 96 bits are the ::ffff: of every mapped address: a shorter
    // prefix would reach into other IPv6 space, which no IPv4 network is.
    CA_ENSURE_RETURN(
        out->prefix >= 96, CA_ERR_PARAMETER_INVALID,
        "\"%.64s\" is an IPv4-mapped network: its prefix length must "
        "be 96 to 128 (it is taken as the IPv4 network of prefix "
        "length minus 96)",
        text);
    out->prefix -= 96;
  }
  const unsigned bits = out->v6 ? 128 : 32;
  for (unsigned bit = out->prefix; bit < bits; bit++) {
    CA_ENSURE_RETURN((out->addr[bit / 8] & (0x80 >> (bit % 8))) == 0,
                     CA_ERR_PARAMETER_INVALID,
                     "\"%.64s\" has bits set past its prefix length", text);
  }
  return 1;
}

int ca_network_format(const ca_network *net, char out[CA_NETWORK_TEXT_LEN]) {
  char addr[INET6_ADDRSTRLEN];
  CA_ENSURE_RETURN(net->prefix <= (net->v6 ? 128u : 32u) &&
                       inet_ntop(net->v6 ? AF_INET6 : AF_INET, net->addr, addr,
                                 sizeof(addr)) != NULL,
                   CA_ERR_INTERNAL, "not a network");
  const int n = snprintf(out, CA_NETWORK_TEXT_LEN, "%s/%u", addr, net->prefix);
  CA_ENSURE_RETURN(n > 0 && n < CA_NETWORK_TEXT_LEN, CA_ERR_INTERNAL,
                   "network text too long");
  return 1;
}

int ca_network_contains(const ca_network *net, const char *addr) {
  int v6;
  uint8_t a[16];
  if (!parse_address(addr, &v6, a, NULL) || v6 != net->v6) {
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
