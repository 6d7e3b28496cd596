// Unit tests of ca/x509/san.c: host name rules (RFC 1035 lengths, LDH, no
// wildcard), GeneralNames parsed from BoringSSL's encoder, the CN-in-SAN
// and single-host rules of README.md, "Profiles", the SAN made from a CN (exact
// DER by hand), and the text form of addresses (RFC 5952 for IPv6).
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "ca/x509/san.h"
#include "tests/support/test.h"

static int dns_code(const char *name) {
  ca_err_clear();
  return ca_dns_name_check((const uint8_t *)name, strlen(name))
             ? CA_OK
             : ca_err_get()->code;
}

// repeat returns |n| copies of |c| (static storage, 300 at most).
static const char *repeat(char c, size_t n) {
  static char buf[4][301];
  static int which;
  char *out = buf[which++ % 4];
  memset(out, c, n);
  out[n] = '\0';
  return out;
}

TEST(dns_names) {
  static const struct {
    const char *name;
    int want;
  } kCases[] = {
      {"a", CA_OK},
      {"cucm1", CA_OK},
      {"cucm1.example.com", CA_OK},
      {"CUCM1.Example.COM", CA_OK},
      {"a-b.example.com", CA_OK},
      {"xn--bcher-kva.example", CA_OK},
      {"123.example.com", CA_OK},
      {"10.0.0.1", CA_OK},  // all-digit labels are LDH
      {"*.example.com", CA_ERR_SAN_WILDCARD},
      {"a*.example.com", CA_ERR_SAN_WILDCARD},
      {"*", CA_ERR_SAN_WILDCARD},
      {"bad_name.example.com", CA_ERR_SAN_INVALID},
      {"_sip._tcp.example.com", CA_ERR_SAN_INVALID},
      {"", CA_ERR_SAN_INVALID},
      {".", CA_ERR_SAN_INVALID},
      {"example.com.", CA_ERR_SAN_INVALID},  // trailing dot
      {".example.com", CA_ERR_SAN_INVALID},
      {"a..b", CA_ERR_SAN_INVALID},
      {"-a.example.com", CA_ERR_SAN_INVALID},
      {"a-.example.com", CA_ERR_SAN_INVALID},
      {"a.-b.example.com", CA_ERR_SAN_INVALID},
      {"a.example.com-", CA_ERR_SAN_INVALID},
      {"a b.example.com", CA_ERR_SAN_INVALID},
      {"a@example.com", CA_ERR_SAN_INVALID},
      {"caf\xc3\xa9.example", CA_ERR_SAN_INVALID},
      {"a/b", CA_ERR_SAN_INVALID},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    const int code = dns_code(kCases[i].name);
    if (code != kCases[i].want) {
      fprintf(stderr, "  \"%s\": got %s\n", kCases[i].name,
              ca_err_code_name((ca_err_code)code));
    }
    CHECK_EQ_INT(code, kCases[i].want);
  }
  // A NUL inside the name.
  CHECK(!ca_dns_name_check((const uint8_t *)"a\0b", 3));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_SAN_INVALID);
}

TEST(dns_length_limits) {
  char name[300];
  // A label of 63 octets is the most; 64 is refused.
  snprintf(name, sizeof(name), "%s.example.com", repeat('a', 63));
  CHECK_EQ_INT(dns_code(name), CA_OK);
  snprintf(name, sizeof(name), "%s.example.com", repeat('a', 64));
  CHECK_EQ_INT(dns_code(name), CA_ERR_SAN_INVALID);
  CHECK_EQ_INT(dns_code(repeat('a', 63)), CA_OK);
  CHECK_EQ_INT(dns_code(repeat('a', 64)), CA_ERR_SAN_INVALID);
  // The last label counts too.
  snprintf(name, sizeof(name), "example.%s", repeat('b', 64));
  CHECK_EQ_INT(dns_code(name), CA_ERR_SAN_INVALID);
  // 253 octets in all: four labels of 63 with three dots is 255; build
  // exactly 253 and 254.
  snprintf(name, sizeof(name), "%s.%s.%s.%s", repeat('a', 63), repeat('b', 63),
           repeat('c', 63), repeat('d', 61));
  CHECK_EQ_INT(strlen(name), 253);
  CHECK_EQ_INT(dns_code(name), CA_OK);
  snprintf(name, sizeof(name), "%s.%s.%s.%s", repeat('a', 63), repeat('b', 63),
           repeat('c', 63), repeat('d', 62));
  CHECK_EQ_INT(strlen(name), 254);
  CHECK_EQ_INT(dns_code(name), CA_ERR_SAN_INVALID);
  // A wildcard is named as such whatever the length.
  snprintf(name, sizeof(name), "*.%s", repeat('a', 260));
  CHECK_EQ_INT(dns_code(name), CA_ERR_SAN_WILDCARD);
}

// --- GeneralNames from BoringSSL ---

// general_names encodes "DNS:a,IP:1.2.3.4,email:x@y,URI:..." with
// BoringSSL's GENERAL_NAMES encoder; the caller frees with OPENSSL_free.
static uint8_t *general_names(const char *spec, size_t *out_len) {
  GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
  char *copy = strdup(spec);
  char *save = NULL;
  uint8_t *der = NULL;
  int ok = gens != NULL && copy != NULL;
  for (char *entry = ok ? strtok_r(copy, ",", &save) : NULL;
       entry != NULL && ok; entry = strtok_r(NULL, ",", &save)) {
    GENERAL_NAME *gen = GENERAL_NAME_new();
    const char *value = strchr(entry, ':') + 1;
    if (strncmp(entry, "IP:", 3) == 0) {
      ASN1_OCTET_STRING *ip = a2i_IPADDRESS(value);
      ok = ip != NULL;
      GENERAL_NAME_set0_value(gen, GEN_IPADD, ip);
    } else {
      int type = GEN_DNS;
      if (strncmp(entry, "email:", 6) == 0) {
        type = GEN_EMAIL;
      } else if (strncmp(entry, "URI:", 4) == 0) {
        type = GEN_URI;
      }
      ASN1_IA5STRING *str = ASN1_IA5STRING_new();
      ok = str != NULL && ASN1_STRING_set(str, value, (int)strlen(value));
      GENERAL_NAME_set0_value(gen, type, str);
    }
    ok = ok && sk_GENERAL_NAME_push(gens, gen);
    if (!ok) {
      GENERAL_NAME_free(gen);
    }
  }
  int len = ok ? i2d_GENERAL_NAMES(gens, &der) : -1;
  if (len <= 0) {
    der = NULL;
  } else {
    *out_len = (size_t)len;
  }
  GENERAL_NAMES_free(gens);
  free(copy);
  return der;
}

static ca_san_list list;

// parse_spec parses |spec| into |list|; |*out_der| keeps the buffer alive.
static int parse_spec(const char *spec, uint8_t **out_der) {
  size_t len = 0;
  *out_der = general_names(spec, &len);
  CHECK(*out_der != NULL);
  CBS cbs;
  CBS_init(&cbs, *out_der, len);
  ca_err_clear();
  return ca_san_parse(&list, &cbs) ? CA_OK : ca_err_get()->code;
}

TEST(parse_dns_and_ip) {
  uint8_t *der;
  CHECK_EQ_INT(parse_spec("DNS:cucm1.example.com,IP:10.0.0.5,DNS:cucm1,"
                          "IP:2001:db8::1",
                          &der),
               CA_OK);
  CHECK_EQ_INT(list.count, 4);
  CHECK_EQ_INT(list.items[0].type, CA_SAN_DNS);
  CHECK(CBS_mem_equal(&list.items[0].value,
                      (const uint8_t *)"cucm1.example.com", 17));
  CHECK_EQ_INT(list.items[1].type, CA_SAN_IP);
  CHECK(CBS_mem_equal(&list.items[1].value, (const uint8_t *)"\x0a\x00\x00\x05",
                      4));
  CHECK_EQ_INT(list.items[2].type, CA_SAN_DNS);
  CHECK_EQ_INT(list.items[3].type, CA_SAN_IP);
  CHECK(CBS_mem_equal(&list.items[3].value,
                      (const uint8_t *)"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0"
                                       "\x01",
                      16));
  OPENSSL_free(der);
}

TEST(parse_refusals) {
  static const struct {
    const char *spec;
    int want;
  } kCases[] = {
      {"DNS:a.example.com,email:x@example.com", CA_ERR_SAN_TYPE_UNSUPPORTED},
      {"URI:https://a.example.com/", CA_ERR_SAN_TYPE_UNSUPPORTED},
      {"DNS:*.example.com", CA_ERR_SAN_WILDCARD},
      {"DNS:a.example.com,DNS:b_c.example.com", CA_ERR_SAN_INVALID},
      {"DNS:a.example.com.", CA_ERR_SAN_INVALID},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    uint8_t *der;
    CHECK_EQ_INT(parse_spec(kCases[i].spec, &der), kCases[i].want);
    OPENSSL_free(der);
  }
}

static int parse_raw(const uint8_t *der, size_t len) {
  CBS cbs;
  CBS_init(&cbs, der, len);
  ca_err_clear();
  return ca_san_parse(&list, &cbs) ? CA_OK : ca_err_get()->code;
}

TEST(parse_raw_encodings) {
  // iPAddress of 5 octets, of 0, and of 16 (good).
  static const uint8_t kIp5[] = {0x30, 0x07, 0x87, 0x05, 1, 2, 3, 4, 5};
  CHECK_EQ_INT(parse_raw(kIp5, sizeof(kIp5)), CA_ERR_SAN_INVALID);
  static const uint8_t kIp0[] = {0x30, 0x02, 0x87, 0x00};
  CHECK_EQ_INT(parse_raw(kIp0, sizeof(kIp0)), CA_ERR_SAN_INVALID);
  // An iPAddress with a netmask (name constraints form) is 8 octets.
  static const uint8_t kIp8[] = {0x30, 0x0a, 0x87, 0x08, 10,  0,
                                 0,    0,    255,  255,  255, 0};
  CHECK_EQ_INT(parse_raw(kIp8, sizeof(kIp8)), CA_ERR_SAN_INVALID);
  // An empty dNSName.
  static const uint8_t kEmptyDns[] = {0x30, 0x02, 0x82, 0x00};
  CHECK_EQ_INT(parse_raw(kEmptyDns, sizeof(kEmptyDns)), CA_ERR_SAN_INVALID);
  // GeneralNames is SIZE (1..MAX).
  static const uint8_t kEmpty[] = {0x30, 0x00};
  CHECK_EQ_INT(parse_raw(kEmpty, sizeof(kEmpty)), CA_ERR_SAN_INVALID);
  // Trailing bytes, a wrong outer tag, a truncated element.
  static const uint8_t kTrailing[] = {0x30, 0x03, 0x82, 0x01, 'a', 0x00};
  CHECK_EQ_INT(parse_raw(kTrailing, sizeof(kTrailing)), CA_ERR_SAN_INVALID);
  static const uint8_t kSet[] = {0x31, 0x03, 0x82, 0x01, 'a'};
  CHECK_EQ_INT(parse_raw(kSet, sizeof(kSet)), CA_ERR_SAN_INVALID);
  static const uint8_t kTruncated[] = {0x30, 0x03, 0x82, 0x02, 'a'};
  CHECK_EQ_INT(parse_raw(kTruncated, sizeof(kTruncated)), CA_ERR_SAN_INVALID);
  // otherName [0], directoryName [4] and registeredID [8].
  static const uint8_t kOther[] = {0x30, 0x04, 0xa0, 0x02, 0x05, 0x00};
  CHECK_EQ_INT(parse_raw(kOther, sizeof(kOther)), CA_ERR_SAN_TYPE_UNSUPPORTED);
  static const uint8_t kDir[] = {0x30, 0x04, 0xa4, 0x02, 0x30, 0x00};
  CHECK_EQ_INT(parse_raw(kDir, sizeof(kDir)), CA_ERR_SAN_TYPE_UNSUPPORTED);
  static const uint8_t kRid[] = {0x30, 0x04, 0x88, 0x02, 0x2a, 0x03};
  CHECK_EQ_INT(parse_raw(kRid, sizeof(kRid)), CA_ERR_SAN_TYPE_UNSUPPORTED);
  // A constructed [2] is not a dNSName.
  static const uint8_t kConstructedDns[] = {0x30, 0x05, 0xa2, 0x03,
                                            0x16, 0x01, 'a'};
  CHECK_EQ_INT(parse_raw(kConstructedDns, sizeof(kConstructedDns)),
               CA_ERR_SAN_TYPE_UNSUPPORTED);
  // The good one, as a control.
  static const uint8_t kGood[] = {0x30, 0x03, 0x82, 0x01, 'a'};
  CHECK_EQ_INT(parse_raw(kGood, sizeof(kGood)), CA_OK);
  CHECK_EQ_INT(list.count, 1);
}

TEST(parse_count_limit) {
  // CA_LIMIT_SAN_COUNT names parse; one more is refused.
  uint8_t der[8 * (CA_LIMIT_SAN_COUNT + 1) + 8];
  CBB cbb, seq, name;
  for (size_t n = CA_LIMIT_SAN_COUNT; n <= CA_LIMIT_SAN_COUNT + 1; n++) {
    size_t len = 0;
    CHECK(CBB_init_fixed(&cbb, der, sizeof(der)) &&
          CBB_add_asn1(&cbb, &seq, CBS_ASN1_SEQUENCE));
    for (size_t i = 0; i < n; i++) {
      CHECK(CBB_add_asn1(&seq, &name, CBS_ASN1_CONTEXT_SPECIFIC | 7) &&
            CBB_add_u32(&name, (uint32_t)(0x0a000000u + i)));
    }
    CHECK(CBB_finish(&cbb, NULL, &len));
    const int code = parse_raw(der, len);
    CHECK_EQ_INT(code, n == CA_LIMIT_SAN_COUNT ? CA_OK : CA_ERR_SAN_TOO_MANY);
    if (code == CA_OK) {
      CHECK_EQ_INT(list.count, CA_LIMIT_SAN_COUNT);
    }
  }
}

// --- CN among the SANs ---

static int require_cn(const char *spec, const char *cn) {
  uint8_t *der;
  int code = parse_spec(spec, &der);
  CHECK_EQ_INT(code, CA_OK);
  CBS cn_cbs;
  CBS_init(&cn_cbs, (const uint8_t *)cn, strlen(cn));
  ca_err_clear();
  code = ca_san_require_cn(&list, &cn_cbs) ? CA_OK : ca_err_get()->code;
  OPENSSL_free(der);
  return code;
}

TEST(cn_must_be_a_san) {
  const char *sans =
      "DNS:cucm1.example.com,DNS:cucm2.example.com,IP:10.0.0.5,"
      "IP:2001:db8::1";
  CHECK_EQ_INT(require_cn(sans, "cucm1.example.com"), CA_OK);
  CHECK_EQ_INT(require_cn(sans, "cucm2.example.com"), CA_OK);
  // DNS names compare without regard to ASCII case, both ways.
  CHECK_EQ_INT(require_cn(sans, "CUCM1.Example.COM"), CA_OK);
  CHECK_EQ_INT(require_cn("DNS:CUCM1.EXAMPLE.COM", "cucm1.example.com"), CA_OK);
  // Addresses compare by value, not by text.
  CHECK_EQ_INT(require_cn(sans, "10.0.0.5"), CA_OK);
  CHECK_EQ_INT(require_cn(sans, "2001:db8::1"), CA_OK);
  CHECK_EQ_INT(require_cn(sans, "2001:DB8:0:0:0:0:0:1"), CA_OK);
  CHECK_EQ_INT(require_cn(sans, "2001:0db8::0001"), CA_OK);
  // Near misses.
  CHECK_EQ_INT(require_cn(sans, "cucm3.example.com"), CA_ERR_CN_NOT_IN_SAN);
  CHECK_EQ_INT(require_cn(sans, "cucm1.example.co"), CA_ERR_CN_NOT_IN_SAN);
  CHECK_EQ_INT(require_cn(sans, "cucm1.example.com."), CA_ERR_CN_NOT_IN_SAN);
  CHECK_EQ_INT(require_cn(sans, "cucm1"), CA_ERR_CN_NOT_IN_SAN);
  CHECK_EQ_INT(require_cn(sans, "10.0.0.6"), CA_ERR_CN_NOT_IN_SAN);
  CHECK_EQ_INT(require_cn(sans, "2001:db8::2"), CA_ERR_CN_NOT_IN_SAN);
  // An address CN is not matched by a DNS SAN holding other digits, nor an
  // IPv4 CN by its IPv4-mapped IPv6 form.
  CHECK_EQ_INT(require_cn("IP:::ffff:10.0.0.5", "10.0.0.5"),
               CA_ERR_CN_NOT_IN_SAN);
  // A DNS SAN spelled like the address does match a CN spelled the same.
  CHECK_EQ_INT(require_cn("DNS:10.0.0.5", "10.0.0.5"), CA_OK);
  // The message names the CN.
  CHECK_EQ_INT(require_cn(sans, "other.example.com"), CA_ERR_CN_NOT_IN_SAN);
  CHECK(strstr(ca_err_get()->message, "other.example.com") != NULL);
}

// --- one host only (CAPF, ipsec) ---

static int single_host(const char *spec, const char *cn) {
  uint8_t *der;
  int code = parse_spec(spec, &der);
  CHECK_EQ_INT(code, CA_OK);
  CBS cn_cbs;
  CBS_init(&cn_cbs, (const uint8_t *)cn, strlen(cn));
  ca_err_clear();
  code =
      ca_san_require_single_host(&list, &cn_cbs) ? CA_OK : ca_err_get()->code;
  OPENSSL_free(der);
  return code;
}

TEST(single_host_rule) {
  const char *cn = "cucm1.example.com";
  // The CN, its short name, its parent domain, one address of each family.
  CHECK_EQ_INT(single_host("DNS:cucm1.example.com,DNS:cucm1,DNS:example.com,"
                           "IP:10.0.0.1,IP:2001:db8::1",
                           cn),
               CA_OK);
  CHECK_EQ_INT(single_host("DNS:cucm1", cn), CA_OK);
  CHECK_EQ_INT(single_host("DNS:CUCM1,DNS:Example.Com", cn), CA_OK);
  // Another host, or any other domain.
  CHECK_EQ_INT(single_host("DNS:cucm1.example.com,DNS:cucm2.example.com", cn),
               CA_ERR_SAN_MULTI_HOST);
  CHECK_EQ_INT(single_host("DNS:cucm2", cn), CA_ERR_SAN_MULTI_HOST);
  CHECK_EQ_INT(single_host("DNS:com", cn), CA_ERR_SAN_MULTI_HOST);
  CHECK_EQ_INT(single_host("DNS:cucm1.example", cn), CA_ERR_SAN_MULTI_HOST);
  CHECK_EQ_INT(single_host("DNS:www.cucm1.example.com", cn),
               CA_ERR_SAN_MULTI_HOST);
  CHECK_EQ_INT(single_host("DNS:cucm", cn), CA_ERR_SAN_MULTI_HOST);
  // Two addresses of one family name two hosts.
  CHECK_EQ_INT(single_host("IP:10.0.0.1,IP:10.0.0.2", cn),
               CA_ERR_SAN_MULTI_HOST);
  CHECK_EQ_INT(single_host("IP:2001:db8::1,IP:2001:db8::2", cn),
               CA_ERR_SAN_MULTI_HOST);
  // A CN without a dot: the CN itself, nothing else.
  CHECK_EQ_INT(single_host("DNS:cucm1", "cucm1"), CA_OK);
  CHECK_EQ_INT(single_host("DNS:cucm1,DNS:example.com", "cucm1"),
               CA_ERR_SAN_MULTI_HOST);
}

// --- SAN from the CN ---

static int from_cn(const char *cn, CBB *out, uint8_t scratch[16]) {
  CBS cn_cbs;
  CBS_init(&cn_cbs, (const uint8_t *)cn, strlen(cn));
  ca_err_clear();
  list.count = 99;
  return CBB_init(out, 64) && ca_san_add_from_cn(out, &cn_cbs, &list, scratch)
             ? CA_OK
             : ca_err_get()->code;
}

static int cbb_is(const CBB *cbb, const char *want, size_t want_len) {
  return CBB_len(cbb) == want_len && memcmp(CBB_data(cbb), want, want_len) == 0;
}

TEST(san_from_cn) {
  CBB out;
  uint8_t scratch[16];
  // dNSName [2] IMPLICIT IA5String.
  CHECK_EQ_INT(from_cn("cucm1.example.com", &out, scratch), CA_OK);
  static const char kDns[] =
      "\x30\x13\x82\x11"
      "cucm1.example.com";
  CHECK(cbb_is(&out, kDns, sizeof(kDns) - 1));
  CHECK_EQ_INT(list.count, 1);
  CHECK_EQ_INT(list.items[0].type, CA_SAN_DNS);
  CHECK(CBS_mem_equal(&list.items[0].value,
                      (const uint8_t *)"cucm1.example.com", 17));
  CBB_cleanup(&out);
  // iPAddress [7] IMPLICIT OCTET STRING, 4 octets.
  CHECK_EQ_INT(from_cn("10.1.2.3", &out, scratch), CA_OK);
  static const char kIp4[] = "\x30\x06\x87\x04\x0a\x01\x02\x03";
  CHECK(cbb_is(&out, kIp4, sizeof(kIp4) - 1));
  CHECK_EQ_INT(list.items[0].type, CA_SAN_IP);
  CHECK(CBS_data(&list.items[0].value) == scratch);
  CBB_cleanup(&out);
  // 16 octets for IPv6.
  CHECK_EQ_INT(from_cn("2001:db8::1", &out, scratch), CA_OK);
  static const char kIp6[] =
      "\x30\x12\x87\x10\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01";
  CHECK(cbb_is(&out, kIp6, sizeof(kIp6) - 1));
  CBB_cleanup(&out);
  // BoringSSL reads the generated SAN as the same name.
  CHECK_EQ_INT(from_cn("Host-1.Example.com", &out, scratch), CA_OK);
  const uint8_t *p = CBB_data(&out);
  GENERAL_NAMES *gens = d2i_GENERAL_NAMES(NULL, &p, (long)CBB_len(&out));
  CHECK(gens != NULL && sk_GENERAL_NAME_num(gens) == 1);
  if (gens != NULL && sk_GENERAL_NAME_num(gens) == 1) {
    const GENERAL_NAME *gen = sk_GENERAL_NAME_value(gens, 0);
    CHECK_EQ_INT(gen->type, GEN_DNS);
    CHECK(ASN1_STRING_length(gen->d.dNSName) == 18 &&
          memcmp(ASN1_STRING_get0_data(gen->d.dNSName), "Host-1.Example.com",
                 18) == 0);
  }
  GENERAL_NAMES_free(gens);
  CBB_cleanup(&out);
  // A CN that is neither an address nor a host name.
  CHECK_EQ_INT(from_cn("*.example.com", &out, scratch), CA_ERR_SAN_WILDCARD);
  CHECK_EQ_INT(list.count, 0);
  CBB_cleanup(&out);
  CHECK_EQ_INT(from_cn("bad_name", &out, scratch), CA_ERR_SAN_INVALID);
  CHECK_EQ_INT(list.count, 0);
  CBB_cleanup(&out);
  CHECK_EQ_INT(from_cn("fe80::1%eth0", &out, scratch), CA_ERR_SAN_INVALID);
  CBB_cleanup(&out);
  CHECK_EQ_INT(from_cn("Example Phone", &out, scratch), CA_ERR_SAN_INVALID);
  CBB_cleanup(&out);
}

// --- text form ---

static void check_format_ip(const char *bytes, size_t len, const char *want) {
  ca_san san = {.type = CA_SAN_IP};
  CBS_init(&san.value, (const uint8_t *)bytes, len);
  char out[64];
  CHECK(ca_san_format(&san, out, sizeof(out)));
  CHECK_EQ_STR(out, want);
}

TEST(format) {
  ca_san san = {.type = CA_SAN_DNS};
  CBS_init(&san.value, (const uint8_t *)"a.example.com", 13);
  char out[64];
  CHECK(ca_san_format(&san, out, sizeof(out)));
  CHECK_EQ_STR(out, "DNS:a.example.com");
  check_format_ip("\x0a\x00\x00\x05", 4, "IP:10.0.0.5");
  check_format_ip("\xff\xff\xff\xff", 4, "IP:255.255.255.255");
  check_format_ip("\0\0\0\0", 4, "IP:0.0.0.0");
  // RFC 5952: lower case, longest run of zero groups compressed (the first
  // of equal runs), a single zero group not compressed, no leading zeros.
  check_format_ip("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16,
                  "IP:2001:db8::1");
  check_format_ip("\x20\x01\x0d\xb8\0\0\0\0\0\x01\0\0\0\0\0\x01", 16,
                  "IP:2001:db8::1:0:0:1");
  check_format_ip("\x20\x01\x0d\xb8\0\0\0\x01\0\0\0\0\0\0\0\x01", 16,
                  "IP:2001:db8:0:1::1");
  check_format_ip("\x20\x01\x0d\xb8\0\0\0\x01\0\x01\0\x01\0\x01\0\x01", 16,
                  "IP:2001:db8:0:1:1:1:1:1");
  check_format_ip("\xfe\x80\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16, "IP:fe80::");
  check_format_ip("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16, "IP:::");
  check_format_ip("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16, "IP:::1");
  check_format_ip("\0\0\0\0\0\0\0\0\0\0\xff\xff\x0a\x00\x00\x05", 16,
                  "IP:::ffff:10.0.0.5");
  check_format_ip("\x20\x01\x0d\xb8\xab\xcd\0\x12\0\0\0\0\0\0\x0a\xbc", 16,
                  "IP:2001:db8:abcd:12::abc");
  // The buffer must hold the text and its NUL.
  ca_san ip = {.type = CA_SAN_IP};
  CBS_init(&ip.value, (const uint8_t *)"\x01\x02\x03\x04", 4);
  char small[11];
  CHECK(ca_san_format(&ip, small, 11));  // "IP:1.2.3.4" is 10 characters
  CHECK_EQ_STR(small, "IP:1.2.3.4");
  CHECK(!ca_san_format(&ip, small, 10));
  CHECK(!ca_san_format(&san, small, 10));
  CHECK(!ca_san_format(&san, small, 0));
}

TEST(format_agrees_with_boringssl_for_parsed_names) {
  // What BoringSSL's encoder wrote, pki parses and prints back as given.
  static const char *const kSpecs[] = {
      "DNS:cucm1.example.com",
      "IP:10.0.0.5",
      "IP:2001:db8::1",
      "IP:fe80::1",
      "IP:::1",
      "DNS:a",
      "IP:192.168.100.200",
      "IP:2001:db8:0:1:1:1:1:1",
  };
  for (size_t i = 0; i < sizeof(kSpecs) / sizeof(kSpecs[0]); i++) {
    uint8_t *der;
    CHECK_EQ_INT(parse_spec(kSpecs[i], &der), CA_OK);
    char out[300];
    CHECK(list.count == 1 && ca_san_format(&list.items[0], out, sizeof(out)));
    CHECK_EQ_STR(out, kSpecs[i]);
    OPENSSL_free(der);
  }
}

int main(void) {
  RUN(dns_names);
  RUN(dns_length_limits);
  RUN(parse_dns_and_ip);
  RUN(parse_refusals);
  RUN(parse_raw_encodings);
  RUN(parse_count_limit);
  RUN(cn_must_be_a_san);
  RUN(single_host_rule);
  RUN(san_from_cn);
  RUN(format);
  RUN(format_agrees_with_boringssl_for_parsed_names);
  return test_summary();
}
