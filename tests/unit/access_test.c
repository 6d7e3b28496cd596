// Unit tests of ca/policy/access.c: token shape and hash, role names, profile
// lists, who may issue what, and the networks of the admin allowlist
// (prefixes, host bits, IPv4-mapped IPv6 clients).
#include <openssl/sha.h>
#include <string.h>

#include "ca/policy/access.h"
#include "tests/support/test.h"

TEST(tokens_have_one_shape) {
  char a[CA_TOKEN_LEN + 1], b[CA_TOKEN_LEN + 1];
  CHECK(ca_token_generate(a) && ca_token_generate(b));
  CHECK_EQ_INT(strlen(a), CA_TOKEN_LEN);
  CHECK(strncmp(a, "pki_", 4) == 0);
  CHECK(strcmp(a, b) != 0);
  for (size_t i = 4; i < CA_TOKEN_LEN; i++) {
    CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                 "0123456789-_",
                 a[i]) != NULL);
  }
  uint8_t hash[32], want[32];
  CHECK(ca_token_hash(a, strlen(a), hash));
  SHA256((const uint8_t *)a, strlen(a), want);
  CHECK(memcmp(hash, want, 32) == 0);
  // Anything else is refused before hashing, as unauthenticated.
  static const char *const kBad[] = {
      "",
      "pki_",
      "Bearer",
      "pki_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "pki_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "pkx_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "pki_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
      "pki_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+"};
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    ca_err_clear();
    CHECK(!ca_token_hash(kBad[i], strlen(kBad[i]), hash));
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_UNAUTHENTICATED);
  }
}

TEST(roles_and_profiles) {
  ca_role role;
  CHECK(ca_role_parse("issuer", &role) && role == CA_ROLE_ISSUER);
  CHECK(ca_role_parse("revoker", &role) && role == CA_ROLE_REVOKER);
  CHECK(ca_role_parse("admin", &role) && role == CA_ROLE_ADMIN);
  CHECK(!ca_role_parse("Admin", &role));
  CHECK(!ca_role_parse("none", &role));
  CHECK(!ca_role_parse(NULL, &role));
  CHECK_EQ_STR(ca_role_name(CA_ROLE_REVOKER), "revoker");

  ca_principal p;
  memset(&p, 0, sizeof(p));
  CHECK(ca_profiles_parse("tomcat,ipsec", &p) && p.profile_count == 2);
  p.role = CA_ROLE_ISSUER;
  CHECK(ca_principal_may_issue(&p, "tomcat"));
  CHECK(ca_principal_may_issue(&p, "TOMCAT"));
  CHECK(ca_principal_may_issue(&p, "ipsec"));
  CHECK(!ca_principal_may_issue(&p, "tomcat-ECDSA"));
  CHECK(!ca_principal_may_issue(&p, "CAPF"));
  // Every profile but the API's client certificates.
  CHECK(ca_profiles_parse("all", &p) && p.profile_count == 0);
  CHECK(ca_principal_may_issue(&p, "CAPF"));
  CHECK(!ca_principal_may_issue(&p, "api-client"));
  CHECK(!ca_principal_may_issue(&p, "API-CLIENT"));
  p.role = CA_ROLE_REVOKER;
  CHECK(!ca_principal_may_issue(&p, "tomcat"));
  p.role = CA_ROLE_ADMIN;
  CHECK(ca_principal_may_issue(&p, "api-client"));
  // Malformed lists are refused whole.
  CHECK(!ca_profiles_parse("tomcat,,ipsec", &p) && p.profile_count == 0);
  CHECK(!ca_profiles_parse(",", &p));
  CHECK(!ca_profiles_parse("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", &p));
  CHECK(!ca_profiles_parse("abcdefghijklmnopqrstuvwxyz0123456", &p));
}

TEST(networks) {
  ca_network n;
  CHECK(ca_network_parse("10.0.0.0/8", &n) && !n.v6 && n.prefix == 8);
  CHECK(ca_network_contains(&n, "10.255.1.2"));
  CHECK(!ca_network_contains(&n, "11.0.0.1"));
  // A client on an IPv6 listener arrives as an IPv4-mapped address.
  CHECK(ca_network_contains(&n, "::ffff:10.1.2.3"));
  CHECK(!ca_network_contains(&n, "not an address"));
  CHECK(!ca_network_contains(&n, "2001:db8::1"));
  CHECK(ca_network_parse("127.0.0.1", &n) && n.prefix == 32);
  CHECK(ca_network_contains(&n, "127.0.0.1"));
  CHECK(!ca_network_contains(&n, "127.0.0.2"));
  CHECK(ca_network_parse("192.168.1.128/25", &n));
  CHECK(ca_network_contains(&n, "192.168.1.200"));
  CHECK(!ca_network_contains(&n, "192.168.1.100"));
  CHECK(ca_network_parse("2001:db8::/32", &n) && n.v6 && n.prefix == 32);
  CHECK(ca_network_contains(&n, "2001:db8:1::5"));
  CHECK(!ca_network_contains(&n, "2001:db9::5"));
  CHECK(ca_network_parse("0.0.0.0/0", &n));
  CHECK(ca_network_contains(&n, "203.0.113.9"));
  static const char *const kBad[] = {
      "10.0.0.1/8", "10.0.0.0/33",    "10.0.0.0/", "10.0.0.0/8x", "/8",
      "10.0.0",     "2001:db8::1/32", "::/129",    "host/24"};
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    ca_err_clear();
    CHECK(!ca_network_parse(kBad[i], &n));
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  }
}

int main(void) {
  RUN(tokens_have_one_shape);
  RUN(roles_and_profiles);
  RUN(networks);
  return test_summary();
}
