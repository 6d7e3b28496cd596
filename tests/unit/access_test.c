// Unit tests of ca/policy/access.c: token shape and hash, role names, profile
// lists, who may issue what, the role OU of api-client subjects (Names built
// by hand, exact DER), and the networks of the admin allowlist (prefixes,
// host bits, IPv4-mapped IPv6 networks and clients, their one spelling).
#include <openssl/bytestring.h>
#include <openssl/sha.h>
#include <stdlib.h>
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
  CHECK(ca_role_parse(&role, "issuer") && role == CA_ROLE_ISSUER);
  CHECK(ca_role_parse(&role, "revoker") && role == CA_ROLE_REVOKER);
  CHECK(ca_role_parse(&role, "admin") && role == CA_ROLE_ADMIN);
  CHECK(!ca_role_parse(&role, "Admin"));
  CHECK(!ca_role_parse(&role, "none"));
  CHECK(!ca_role_parse(&role, NULL));
  CHECK_EQ_STR(ca_role_name(CA_ROLE_REVOKER), "revoker");

  ca_principal p;
  memset(&p, 0, sizeof(p));
  CHECK(ca_profiles_parse(&p, "tomcat,ipsec") && p.profile_count == 2);
  p.role = CA_ROLE_ISSUER;
  CHECK(ca_principal_may_issue(&p, "tomcat"));
  CHECK(ca_principal_may_issue(&p, "TOMCAT"));
  CHECK(ca_principal_may_issue(&p, "ipsec"));
  CHECK(!ca_principal_may_issue(&p, "tomcat-ECDSA"));
  CHECK(!ca_principal_may_issue(&p, "CAPF"));
  // Every profile but the API's client certificates.
  CHECK(ca_profiles_parse(&p, "all") && p.profile_count == 0);
  CHECK(ca_principal_may_issue(&p, "CAPF"));
  CHECK(!ca_principal_may_issue(&p, "api-client"));
  CHECK(!ca_principal_may_issue(&p, "API-CLIENT"));
  p.role = CA_ROLE_REVOKER;
  CHECK(!ca_principal_may_issue(&p, "tomcat"));
  p.role = CA_ROLE_ADMIN;
  CHECK(ca_principal_may_issue(&p, "api-client"));
  // Malformed lists are refused whole.
  CHECK(!ca_profiles_parse(&p, "tomcat,,ipsec") && p.profile_count == 0);
  CHECK(!ca_profiles_parse(&p, ","));
  CHECK(!ca_profiles_parse(&p, "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q"));
  CHECK(!ca_profiles_parse(&p, "abcdefghijklmnopqrstuvwxyz0123456"));
}

// --- The role OU ---

typedef struct ava {
  const char *oid;  // contents of the OBJECT IDENTIFIER
  size_t oid_len;
  unsigned tag;
  const char *value;
  size_t value_len;
  int same_rdn;  // 1: goes into the previous RDN (multi-valued)
} ava;

#define O_CN "\x55\x04\x03", 3
#define O_OU "\x55\x04\x0b", 3
#define O_O "\x55\x04\x0a", 3
#define STR(s) s, sizeof(s) - 1
#define UTF8 CBS_ASN1_UTF8STRING

// role_of builds the Name of |avas| and reads its role into |p| (whose name
// it sets first, to see that it is left alone). It returns the error code.
static int role_of(const ava *avas, size_t n, ca_principal *p) {
  static uint8_t der[8192];
  CBB cbb, seq, set, one, obj, str;
  size_t len = 0;
  memset(p, 0, sizeof(*p));
  snprintf(p->name, sizeof(p->name), "cert:01");
  CHECK(CBB_init_fixed(&cbb, der, sizeof(der)) &&
        CBB_add_asn1(&cbb, &seq, CBS_ASN1_SEQUENCE));
  for (size_t i = 0; i < n; i++) {
    if (i == 0 || !avas[i].same_rdn) {
      CHECK((i == 0 || CBB_flush(&seq)) &&
            CBB_add_asn1(&seq, &set, CBS_ASN1_SET));
    }
    CHECK(CBB_add_asn1(&set, &one, CBS_ASN1_SEQUENCE) &&
          CBB_add_asn1(&one, &obj, CBS_ASN1_OBJECT) &&
          CBB_add_bytes(&obj, (const uint8_t *)avas[i].oid, avas[i].oid_len) &&
          CBB_add_asn1(&one, &str, avas[i].tag) &&
          CBB_add_bytes(&str, (const uint8_t *)avas[i].value,
                        avas[i].value_len) &&
          CBB_flush(&set));
  }
  CHECK(CBB_finish(&cbb, NULL, &len));
  ca_profile_table table;
  ca_profile_table_init(&table);
  CBS name;
  CBS_init(&name, der, len);
  ca_err_clear();
  const int code =
      ca_role_ou_parse(p, &name, &table) ? CA_OK : ca_err_get()->code;
  CHECK_EQ_STR(p->name, "cert:01");
  return code;
}

// one_ou reads the role of "CN=host, OU=|value|" (UTF8String).
static int one_ou(const char *value, size_t len, ca_principal *p) {
  const ava a[] = {{O_CN, UTF8, STR("host"), 0}, {O_OU, UTF8, value, len, 0}};
  return role_of(a, 2, p);
}

TEST(role_ou_accepts_one_well_formed_role) {
  ca_principal p;
  CHECK_EQ_INT(one_ou(STR("pki-role:admin"), &p), CA_OK);
  CHECK_EQ_INT(p.role, CA_ROLE_ADMIN);
  CHECK_EQ_INT(p.profile_count, 0);
  CHECK_EQ_INT(one_ou(STR("pki-role:revoker"), &p), CA_OK);
  CHECK_EQ_INT(p.role, CA_ROLE_REVOKER);
  // An issuer for every profile, said two ways.
  CHECK_EQ_INT(one_ou(STR("pki-role:issuer"), &p), CA_OK);
  CHECK(p.role == CA_ROLE_ISSUER && p.profile_count == 0);
  CHECK_EQ_INT(one_ou(STR("pki-role:issuer:all"), &p), CA_OK);
  CHECK(p.role == CA_ROLE_ISSUER && p.profile_count == 0);
  // Profiles in any case, kept under their own spelling.
  CHECK_EQ_INT(
      one_ou(STR("pki-role:issuer:tomcat:IPSEC:callmanager-ecdsa"), &p), CA_OK);
  CHECK_EQ_INT(p.profile_count, 3);
  CHECK_EQ_STR(p.profiles[0], "tomcat");
  CHECK_EQ_STR(p.profiles[1], "ipsec");
  CHECK_EQ_STR(p.profiles[2], "CallManager-ECDSA");
  CHECK(ca_principal_may_issue(&p, "ipsec"));
  CHECK(!ca_principal_may_issue(&p, "CAPF"));
  // Other OUs beside it, before or after, and a multi-valued RDN.
  const ava others[] = {{O_OU, UTF8, STR("Operations"), 0},
                        {O_CN, UTF8, STR("host"), 0},
                        {O_OU, UTF8, STR("pki-role:revoker"), 1},
                        {O_OU, UTF8, STR("pki-roster"), 0},
                        {O_O, UTF8, STR("pki-role:admin"), 0}};
  CHECK_EQ_INT(role_of(others, 5, &p), CA_OK);
  CHECK_EQ_INT(p.role, CA_ROLE_REVOKER);
  // Every string type is read.
  static const unsigned kTags[] = {CBS_ASN1_PRINTABLESTRING, CBS_ASN1_IA5STRING,
                                   CBS_ASN1_T61STRING, CBS_ASN1_VISIBLESTRING};
  for (size_t i = 0; i < sizeof(kTags) / sizeof(kTags[0]); i++) {
    const ava a[] = {{O_OU, kTags[i], STR("pki-role:admin"), 0}};
    CHECK_EQ_INT(role_of(a, 1, &p), CA_OK);
    CHECK_EQ_INT(p.role, CA_ROLE_ADMIN);
  }
  static const char kBmp[] = "\0p\0k\0i\0-\0r\0o\0l\0e\0:\0a\0d\0m\0i\0n";
  const ava bmp[] = {{O_OU, CBS_ASN1_BMPSTRING, kBmp, sizeof(kBmp) - 1, 0}};
  CHECK_EQ_INT(role_of(bmp, 1, &p), CA_OK);
  CHECK_EQ_INT(p.role, CA_ROLE_ADMIN);
  char ucs4[4 * 16];
  static const char kText[] = "pki-role:revoker";
  for (size_t i = 0; i < 16; i++) {
    ucs4[4 * i] = ucs4[4 * i + 1] = ucs4[4 * i + 2] = 0;
    ucs4[4 * i + 3] = kText[i];
  }
  const ava wide[] = {{O_OU, CBS_ASN1_UNIVERSALSTRING, ucs4, sizeof(ucs4), 0}};
  CHECK_EQ_INT(role_of(wide, 1, &p), CA_OK);
  CHECK_EQ_INT(p.role, CA_ROLE_REVOKER);
}

TEST(role_ou_refuses_several_roles) {
  ca_principal p;
  const ava two[] = {{O_CN, UTF8, STR("host"), 0},
                     {O_OU, UTF8, STR("pki-role:revoker"), 0},
                     {O_OU, UTF8, STR("pki-role:admin"), 0}};
  CHECK_EQ_INT(role_of(two, 3, &p), CA_ERR_SUBJECT_INVALID);
  CHECK(strstr(ca_err_get()->message, "more than one role") != NULL);
  CHECK_EQ_INT(p.role, CA_ROLE_NONE);
  const ava reversed[] = {{O_CN, UTF8, STR("host"), 0},
                          {O_OU, UTF8, STR("pki-role:admin"), 0},
                          {O_OU, UTF8, STR("pki-role:revoker"), 0}};
  CHECK_EQ_INT(role_of(reversed, 3, &p), CA_ERR_SUBJECT_INVALID);
  const ava same[] = {{O_OU, UTF8, STR("pki-role:admin"), 0},
                      {O_OU, UTF8, STR("pki-role:admin"), 0}};
  CHECK_EQ_INT(role_of(same, 2, &p), CA_ERR_SUBJECT_INVALID);
  const ava one_rdn[] = {{O_CN, UTF8, STR("host"), 0},
                         {O_OU, UTF8, STR("pki-role:admin"), 1},
                         {O_OU, UTF8, STR("pki-role:revoker"), 1}};
  CHECK_EQ_INT(role_of(one_rdn, 3, &p), CA_ERR_SUBJECT_INVALID);
  // A second one in another spelling or string type counts as well.
  const ava upper[] = {{O_OU, UTF8, STR("pki-role:revoker"), 0},
                       {O_OU, UTF8, STR("PKI-Role:admin"), 0}};
  CHECK_EQ_INT(role_of(upper, 2, &p), CA_ERR_SUBJECT_INVALID);
  static const char kBmp[] = "\0p\0k\0i\0-\0r\0o\0l\0e\0:\0a\0d\0m\0i\0n";
  const ava mixed[] = {{O_OU, UTF8, STR("pki-role:revoker"), 0},
                       {O_OU, CBS_ASN1_BMPSTRING, kBmp, sizeof(kBmp) - 1, 0}};
  CHECK_EQ_INT(role_of(mixed, 2, &p), CA_ERR_SUBJECT_INVALID);
}

TEST(role_ou_refuses_malformed_roles) {
  ca_principal p;
  static const struct {
    const char *value;
    size_t len;
  } kBad[] = {
      {STR("pki-role:")},                     // empty
      {STR("pki-role")},                      // no colon
      {STR("pki-role:root")},                 // unknown role
      {STR("pki-role:Admin")},                // roles are lower case
      {STR("PKI-ROLE:admin")},                // so is the prefix
      {STR("pki-roles:admin")},               // a look-alike
      {STR("pki-role-admin")},                //
      {STR("pki-role:admin ")},               // trailing space
      {STR("pki-role:admin\n")},              // control characters
      {STR("pki-role:admin\0")},              // NUL: never "pki-role:admin"
      {STR("pki-role:admin\0:revoker")},      //
      {STR("pki-role:adm\xc3\xafn")},         // not ASCII
      {STR("pki-role:revoker:tomcat")},       // profiles of a non-issuer
      {STR("pki-role:admin:all")},            //
      {STR("pki-role:issuer:")},              // empty list: not "all"
      {STR("pki-role:issuer::tomcat")},       // empty name
      {STR("pki-role:issuer:tomcat:")},       //
      {STR("pki-role:issuer:tomcat,ipsec")},  // commas are not separators
      {STR("pki-role:issuer:no-such")},       // unknown profile
      {STR("pki-role:issuer:all:tomcat")},    // "all" alone only
      {STR("pki-role:issuer:tomcat:tomcat:tomcat:tomcat:tomcat:tomcat:tomcat:"
           "tomcat:tomcat:tomcat:tomcat:tomcat:tomcat:tomcat:tomcat:tomcat:"
           "tomcat")},  // 17 profiles
  };
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    const int code = one_ou(kBad[i].value, kBad[i].len, &p);
    if (code != CA_ERR_SUBJECT_INVALID) {
      fprintf(stderr, "  case %zu (%s) accepted\n", i, kBad[i].value);
    }
    CHECK_EQ_INT(code, CA_ERR_SUBJECT_INVALID);
    CHECK(strstr(ca_err_get()->message, "role") != NULL);
    CHECK_EQ_INT(p.role, CA_ROLE_NONE);
  }
  // Longer than any role OU can be.
  char *big = malloc(2000);
  CHECK(big != NULL);
  if (big != NULL) {
    memcpy(big, "pki-role:issuer:", 16);
    memset(big + 16, 'a', 2000 - 16);
    CHECK_EQ_INT(one_ou(big, 2000, &p), CA_ERR_SUBJECT_INVALID);
    free(big);
  }
  // No role OU at all.
  const ava none[] = {{O_CN, UTF8, STR("host"), 0},
                      {O_OU, UTF8, STR("Operations"), 0}};
  CHECK_EQ_INT(role_of(none, 2, &p), CA_ERR_SUBJECT_INVALID);
  CHECK(strstr(ca_err_get()->message, "no role OU") != NULL);
  CHECK_EQ_INT(role_of(NULL, 0, &p), CA_ERR_SUBJECT_INVALID);
  // An OU that is no string; an odd BMPString.
  const ava integer[] = {{O_OU, CBS_ASN1_INTEGER, "\x01", 1, 0}};
  CHECK_EQ_INT(role_of(integer, 1, &p), CA_ERR_SUBJECT_INVALID);
  static const char kOdd[] = "\0p\0k\0i\0-\0r\0o\0l\0e\0:\0a\0d\0m\0i\0n\0";
  const ava odd[] = {{O_OU, CBS_ASN1_BMPSTRING, kOdd, sizeof(kOdd) - 1, 0}};
  CHECK_EQ_INT(role_of(odd, 1, &p), CA_ERR_SUBJECT_INVALID);
  // Bytes that are no Name.
  static const uint8_t kNotNames[][4] = {
      {0x31, 0x00}, {0x30, 0x02, 0x31, 0x00}, {0x30, 0x03, 0x31, 0x01}};
  static const size_t kLens[] = {2, 4, 4};
  ca_profile_table table;
  ca_profile_table_init(&table);
  for (size_t i = 0; i < 3; i++) {
    CBS name;
    CBS_init(&name, kNotNames[i], kLens[i]);
    ca_err_clear();
    CHECK(!ca_role_ou_parse(&p, &name, &table));
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_SUBJECT_INVALID);
  }
}

// --- Networks ---

TEST(networks) {
  ca_network n;
  CHECK(ca_network_parse(&n, "10.0.0.0/8") && !n.v6 && n.prefix == 8);
  CHECK(ca_network_contains(&n, "10.255.1.2"));
  CHECK(!ca_network_contains(&n, "11.0.0.1"));
  // A client on an IPv6 listener arrives as an IPv4-mapped address.
  CHECK(ca_network_contains(&n, "::ffff:10.1.2.3"));
  CHECK(!ca_network_contains(&n, "not an address"));
  CHECK(!ca_network_contains(&n, "2001:db8::1"));
  CHECK(ca_network_parse(&n, "127.0.0.1") && n.prefix == 32);
  CHECK(ca_network_contains(&n, "127.0.0.1"));
  CHECK(!ca_network_contains(&n, "127.0.0.2"));
  CHECK(ca_network_parse(&n, "192.168.1.128/25"));
  CHECK(ca_network_contains(&n, "192.168.1.200"));
  CHECK(!ca_network_contains(&n, "192.168.1.100"));
  CHECK(ca_network_parse(&n, "2001:db8::/32") && n.v6 && n.prefix == 32);
  CHECK(ca_network_contains(&n, "2001:db8:1::5"));
  CHECK(!ca_network_contains(&n, "2001:db9::5"));
  CHECK(ca_network_parse(&n, "0.0.0.0/0"));
  CHECK(ca_network_contains(&n, "203.0.113.9"));
  static const char *const kBad[] = {
      "10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/8x", "/8", "10.0.0",
      "2001:db8::1/32", "::/129", "host/24",
      // IPv4-mapped: a prefix under 96 reaches past the mapped space, host
      // bits past the prefix, or more than 128 bits.
      "::ffff:10.0.0.0/95", "::ffff:0.0.0.0/0", "::ffff:10.0.0.1/104",
      "::ffff:10.0.0.0/129"};
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    ca_err_clear();
    CHECK(!ca_network_parse(&n, kBad[i]));
    CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  }
}

TEST(mapped_networks_are_ipv4_networks) {
  static const struct {
    const char *text;
    const char *canonical;
    const char *inside;
    const char *outside;
  } kCases[] = {
      {"::ffff:127.0.0.1/128", "127.0.0.1/32", "127.0.0.1", "127.0.0.2"},
      {"::ffff:127.0.0.1", "127.0.0.1/32", "::ffff:127.0.0.1", "::1"},
      {"::FFFF:7f00:1/128", "127.0.0.1/32", "127.0.0.1", "126.0.0.1"},
      {"::ffff:10.0.0.0/104", "10.0.0.0/8", "10.200.0.1", "11.0.0.1"},
      {"::ffff:192.168.1.128/121", "192.168.1.128/25", "::ffff:192.168.1.200",
       "192.168.1.100"},
      {"::ffff:0.0.0.0/96", "0.0.0.0/0", "203.0.113.9", "2001:db8::1"},
      // Not mapped: as they are.
      {"10.0.0.0/8", "10.0.0.0/8", "10.0.0.1", "11.0.0.1"},
      {"2001:DB8::/32", "2001:db8::/32", "2001:db8::1", "2001:db9::1"},
      {"::1", "::1/128", "::1", "127.0.0.1"},
      {"::/0", "::/0", "2001:db8::1", "10.0.0.1"},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    ca_network n, again;
    char text[CA_NETWORK_TEXT_LEN], text2[CA_NETWORK_TEXT_LEN];
    ca_err_clear();
    CHECK(ca_network_parse(&n, kCases[i].text));
    CHECK(ca_network_format(&n, text));
    CHECK_EQ_STR(text, kCases[i].canonical);
    CHECK(ca_network_contains(&n, kCases[i].inside));
    CHECK(!ca_network_contains(&n, kCases[i].outside));
    // The one spelling reads back as the same network.
    CHECK(ca_network_parse(&again, text) && ca_network_format(&again, text2));
    CHECK_EQ_STR(text2, text);
    CHECK(again.v6 == n.v6 && again.prefix == n.prefix &&
          memcmp(again.addr, n.addr, 16) == 0);
  }
  ca_network n;
  ca_err_clear();
  CHECK(!ca_network_parse(&n, "::ffff:127.0.0.0/88"));
  CHECK(strstr(ca_err_get()->message, "96 to 128") != NULL);
}

int main(void) {
  RUN(tokens_have_one_shape);
  RUN(roles_and_profiles);
  RUN(role_ou_accepts_one_well_formed_role);
  RUN(role_ou_refuses_several_roles);
  RUN(role_ou_refuses_malformed_roles);
  RUN(networks);
  RUN(mapped_networks_are_ipv4_networks);
  return test_summary();
}
