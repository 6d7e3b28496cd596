// Fuzz target: what a caller sends to be let in (ca/policy/access.h) — the
// token of an Authorization header, a network of the admin allowlist, a list of
// profiles, and the client-certificate role an OU carries (a subject Name,
// as a CSR or a client certificate brings it) — with the properties the
// header promises: only tokens of the exact shape are hashed, a network
// accepted has no host bits past its prefix, contains its own address and
// reads back from its one spelling, profiles accepted fit their bounds, and
// a role read from a Name is a real role with real profiles.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca/policy/access.h"
#include "tests/fuzz/fuzz.h"

// check_role_ou reads the role of the Name |der|: either a real role with
// profiles of the table under their own spelling (only for an issuer), or
// a refusal as SUBJECT_INVALID; the principal's name is never touched.
static void check_role_ou(const uint8_t *der, size_t len) {
  static ca_profile_table table;
  static int table_ready;
  if (!table_ready) {
    ca_profile_table_init(&table);
    table_ready = 1;
  }
  ca_principal p;
  memset(&p, 0, sizeof(p));
  memcpy(p.name, "cert:01", 8);
  CBS name;
  CBS_init(&name, der, len);
  ca_err_clear();
  if (ca_role_ou_parse(&p, &name, &table)) {
    FUZZ_ASSERT(p.role == CA_ROLE_ISSUER || p.role == CA_ROLE_REVOKER ||
                p.role == CA_ROLE_ADMIN);
    FUZZ_ASSERT(p.profile_count <= CA_LIMIT_TOKEN_PROFILES);
    FUZZ_ASSERT(p.role == CA_ROLE_ISSUER || p.profile_count == 0);
    for (size_t i = 0; i < p.profile_count; i++) {
      const ca_profile *profile = ca_profile_find(&table, p.profiles[i]);
      FUZZ_ASSERT(profile != NULL && strcmp(profile->name, p.profiles[i]) == 0);
    }
  } else {
    FUZZ_ASSERT(ca_err_get()->code == CA_ERR_SUBJECT_INVALID);
  }
  FUZZ_ASSERT(strcmp(p.name, "cert:01") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // The first byte picks the parser; the rest is the text (strings reach
  // these parsers NUL-terminated, as headers and query values do), or the
  // DER of a Name for the role OU.
  if (size < 1) {
    return 0;
  }
  const uint8_t which = data[0] % 4;
  if (which == 3) {
    check_role_ou(data + 1, size - 1);
    return 0;
  }
  char *s = malloc(size);
  if (s == NULL) {
    return 0;
  }
  memcpy(s, data + 1, size - 1);
  s[size - 1] = '\0';
  const size_t len = strlen(s);
  if (which == 0) {
    uint8_t hash[32];
    ca_err_clear();
    if (ca_token_hash(s, len, hash)) {
      FUZZ_ASSERT(len == CA_TOKEN_LEN && memcmp(s, CA_TOKEN_PREFIX, 4) == 0);
    } else {
      FUZZ_ASSERT(ca_err_get()->code == CA_ERR_UNAUTHENTICATED);
    }
  } else if (which == 1) {
    ca_network net;
    ca_err_clear();
    if (ca_network_parse(&net, s)) {
      FUZZ_ASSERT(net.prefix <= (net.v6 ? 128u : 32u));
      // The network's own address, as text up to the '/', lies in it.
      char host[64];
      const size_t n = strcspn(s, "/");
      FUZZ_ASSERT(n < sizeof(host));
      memcpy(host, s, n);
      host[n] = '\0';
      FUZZ_ASSERT(ca_network_contains(&net, host));
      // Its one spelling (what the allowlist stores) is the same network.
      char text[CA_NETWORK_TEXT_LEN];
      ca_network again;
      FUZZ_ASSERT(ca_network_format(&net, text));
      FUZZ_ASSERT(ca_network_parse(&again, text));
      FUZZ_ASSERT(again.v6 == net.v6 && again.prefix == net.prefix &&
                  memcmp(again.addr, net.addr, 16) == 0);
    } else {
      FUZZ_ASSERT_REFUSED();
    }
    // Any text as a client address: never a crash, and garbage is outside.
    ca_network any;
    if (ca_network_parse(&any, "0.0.0.0/0")) {
      (void)ca_network_contains(&any, s);
    }
  } else {
    ca_principal p;
    memset(&p, 0, sizeof(p));
    ca_err_clear();
    if (ca_profiles_parse(&p, s)) {
      FUZZ_ASSERT(p.profile_count <= CA_LIMIT_TOKEN_PROFILES);
      for (size_t i = 0; i < p.profile_count; i++) {
        const size_t n = strlen(p.profiles[i]);
        FUZZ_ASSERT(n > 0 && n <= CA_LIMIT_PROFILE_NAME_LEN);
      }
      p.role = CA_ROLE_ISSUER;
      // Only admins ever issue API client certificates.
      FUZZ_ASSERT(!ca_principal_may_issue(&p, CA_PROFILE_API_CLIENT));
    } else {
      FUZZ_ASSERT(ca_err_get()->code == CA_ERR_PARAMETER_INVALID);
      FUZZ_ASSERT(p.profile_count == 0);
    }
    ca_role role;
    if (ca_role_parse(&role, s)) {
      FUZZ_ASSERT(role == CA_ROLE_ISSUER || role == CA_ROLE_REVOKER ||
                  role == CA_ROLE_ADMIN);
    }
  }
  free(s);
  return 0;
}
