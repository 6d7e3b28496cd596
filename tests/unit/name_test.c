// Unit tests of ca/x509/name.c: Names are built by hand (exact DER, including
// invalid ones BoringSSL would not produce) or with BoringSSL's X509_NAME.
// The RFC 4514 text is checked against strings worked out by hand, and for
// plain ASCII names also against BoringSSL's RFC 2253 printer.
#include <openssl/bio.h>
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/obj.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "ca/limits.h"
#include "ca/x509/name.h"
#include "tests/support/test.h"

// --- A hand-made Name builder ---

typedef struct ava {
  const char *oid;  // contents of the OBJECT IDENTIFIER
  size_t oid_len;
  unsigned tag;
  const char *value;
  size_t value_len;
  int same_rdn;  // 1: goes into the previous RDN (multi-valued)
} ava;

#define OID(s) s, sizeof(s) - 1
#define STR(s) s, sizeof(s) - 1
#define O_CN "\x55\x04\x03"
#define O_SN "\x55\x04\x04"
#define O_SERIAL "\x55\x04\x05"
#define O_C "\x55\x04\x06"
#define O_L "\x55\x04\x07"
#define O_ST "\x55\x04\x08"
#define O_STREET "\x55\x04\x09"
#define O_O "\x55\x04\x0a"
#define O_OU "\x55\x04\x0b"
#define O_TITLE "\x55\x04\x0c"
#define O_GN "\x55\x04\x2a"
#define O_DC "\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x19"
#define O_UID "\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x01"
#define O_EMAIL "\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01"
#define O_UNKNOWN "\x2a\x03\x04"  // 1.2.3.4

#define UTF8 CBS_ASN1_UTF8STRING
#define PRINTABLE CBS_ASN1_PRINTABLESTRING
#define IA5 CBS_ASN1_IA5STRING
#define BMP CBS_ASN1_BMPSTRING
#define UNIVERSAL CBS_ASN1_UNIVERSALSTRING
#define T61 CBS_ASN1_T61STRING

// build_name writes the Name of |n| attributes into |out| (4096 bytes).
static size_t build_name(const ava *avas, size_t n, uint8_t *out, size_t cap) {
  CBB cbb, seq, set, one, obj, str;
  size_t len = 0;
  if (!CBB_init_fixed(&cbb, out, cap) ||
      !CBB_add_asn1(&cbb, &seq, CBS_ASN1_SEQUENCE)) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (!avas[i].same_rdn || i == 0) {
      if ((i > 0 && !CBB_flush(&seq)) ||
          !CBB_add_asn1(&seq, &set, CBS_ASN1_SET)) {
        return 0;
      }
    }
    if (!CBB_add_asn1(&set, &one, CBS_ASN1_SEQUENCE) ||
        !CBB_add_asn1(&one, &obj, CBS_ASN1_OBJECT) ||
        !CBB_add_bytes(&obj, (const uint8_t *)avas[i].oid, avas[i].oid_len) ||
        !CBB_add_asn1(&one, &str, avas[i].tag) ||
        !CBB_add_bytes(&str, (const uint8_t *)avas[i].value,
                       avas[i].value_len) ||
        !CBB_flush(&set)) {
      return 0;
    }
  }
  if (!CBB_finish(&cbb, NULL, &len)) {
    return 0;
  }
  return len;
}

// format_avas formats a hand-built Name; NULL on failure.
static char *format_avas(const ava *avas, size_t n) {
  static uint8_t der[16384];
  const size_t len = build_name(avas, n, der, sizeof(der));
  CHECK(len > 0);
  CBS name;
  CBS_init(&name, der, len);
  char *text = NULL;
  if (!ca_name_format(&name, &text)) {
    return NULL;
  }
  return text;
}

// check_cn_text checks the text of a Name holding only CN = |value|.
static void check_cn_text(const char *value, size_t value_len, unsigned tag,
                          const char *want) {
  const ava a[] = {{OID(O_CN), tag, value, value_len, 0}};
  char *text = format_avas(a, 1);
  CHECK_EQ_STR(text, want);
  OPENSSL_free(text);
}

TEST(rfc4514_escaping) {
  static const struct {
    const char *value;
    const char *want;
  } kCases[] = {
      {"host.example.com", "CN=host.example.com"},
      {"a,b", "CN=a\\,b"},
      {"a+b", "CN=a\\+b"},
      {"a\"b", "CN=a\\\"b"},
      {"a\\b", "CN=a\\\\b"},
      {"a<b>c", "CN=a\\<b\\>c"},
      {"a;b", "CN=a\\;b"},
      {",+\"\\<>;", "CN=\\,\\+\\\"\\\\\\<\\>\\;"},
      // '#' only at the start (it would announce a hex BER value).
      {"#a", "CN=\\#a"},
      {"a#", "CN=a#"},
      {"#", "CN=\\#"},
      // Space only at either end.
      {" a", "CN=\\ a"},
      {"a ", "CN=a\\ "},
      {"a b", "CN=a b"},
      {" ", "CN=\\ "},
      {"  ", "CN=\\ \\ "},
      {"   ", "CN=\\  \\ "},
      {"# ", "CN=\\#\\ "},
      // '=' needs no escape in a value.
      {"a=b", "CN=a=b"},
      // Control characters as \XX hex pairs.
      {"a\x01"
       "b",
       "CN=a\\01b"},
      {"\x1f", "CN=\\1F"},
      {"\x7f", "CN=\\7F"},
      {"tab\there", "CN=tab\\09here"},
      // Non-ASCII UTF-8 passes through as UTF-8.
      {"caf\xc3\xa9", "CN=caf\xc3\xa9"},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    check_cn_text(kCases[i].value, strlen(kCases[i].value), UTF8,
                  kCases[i].want);
  }
}

TEST(order_and_attribute_names) {
  // Most significant RDN first in DER, last in text.
  const ava a[] = {
      {OID(O_C), PRINTABLE, STR("US"), 0},
      {OID(O_ST), UTF8, STR("California"), 0},
      {OID(O_L), UTF8, STR("San Jose"), 0},
      {OID(O_O), UTF8, STR("Example"), 0},
      {OID(O_OU), UTF8, STR("Voice"), 0},
      {OID(O_CN), UTF8, STR("host"), 0},
  };
  char *text = format_avas(a, sizeof(a) / sizeof(a[0]));
  CHECK_EQ_STR(text,
               "CN=host,OU=Voice,O=Example,L=San Jose,ST=California,C=US");
  OPENSSL_free(text);
  const ava b[] = {
      {OID(O_DC), IA5, STR("com"), 0},
      {OID(O_DC), IA5, STR("example"), 0},
      {OID(O_UID), UTF8, STR("jdoe"), 0},
      {OID(O_EMAIL), IA5, STR("j@example.com"), 0},
      {OID(O_SN), UTF8, STR("Doe"), 0},
      {OID(O_GN), UTF8, STR("John"), 0},
      {OID(O_TITLE), UTF8, STR("Eng"), 0},
      {OID(O_SERIAL), PRINTABLE, STR("1234"), 0},
      {OID(O_STREET), UTF8, STR("1 Main St"), 0},
      {OID(O_UNKNOWN), UTF8, STR("other"), 0},
  };
  text = format_avas(b, sizeof(b) / sizeof(b[0]));
  CHECK_EQ_STR(text,
               "1.2.3.4=other,STREET=1 Main St,serialNumber=1234,title=Eng,"
               "GN=John,SN=Doe,emailAddress=j@example.com,UID=jdoe,"
               "DC=example,DC=com");
  OPENSSL_free(text);
  // A multi-valued RDN joins its attributes with '+', in DER order.
  const ava c[] = {
      {OID(O_O), UTF8, STR("Example"), 0},
      {OID(O_CN), UTF8, STR("a"), 0},
      {OID(O_OU), UTF8, STR("b+c"), 1},
  };
  text = format_avas(c, 3);
  CHECK_EQ_STR(text, "CN=a+OU=b\\+c,O=Example");
  OPENSSL_free(text);
  // The empty Name is the empty string.
  text = format_avas(NULL, 0);
  CHECK_EQ_STR(text, "");
  OPENSSL_free(text);
}

TEST(string_types_are_decoded_to_utf8) {
  // BMPString (UCS-2): U+00E9 U+0041.
  check_cn_text("\x00\xe9\x00\x41", 4, BMP,
                "CN=\xc3\xa9"
                "A");
  // A BMPString comma is escaped like any other: decode, then escape.
  check_cn_text("\x00,\x00x", 4, BMP, "CN=\\,x");
  // A lone surrogate cannot be encoded in UTF-8: U+FFFD instead.
  check_cn_text("\xd8\x00", 2, BMP, "CN=\xef\xbf\xbd");
  // UniversalString (UCS-4): U+1F600, four UTF-8 octets.
  check_cn_text("\x00\x01\xf6\x00", 4, UNIVERSAL, "CN=\xf0\x9f\x98\x80");
  // Beyond U+10FFFF: U+FFFD.
  check_cn_text("\x00\x11\x00\x00", 4, UNIVERSAL, "CN=\xef\xbf\xbd");
  // U+0800, the first three-octet character.
  check_cn_text("\x00\x00\x08\x00", 4, UNIVERSAL, "CN=\xe0\xa0\x80");
  // T61String read as Latin-1.
  check_cn_text("caf\xe9", 4, T61, "CN=caf\xc3\xa9");
  check_cn_text("abc", 3, IA5, "CN=abc");
  check_cn_text("abc", 3, PRINTABLE, "CN=abc");
}

// boringssl_rfc2253 prints |der| with BoringSSL's RFC 2253 printer.
static char *boringssl_rfc2253(const uint8_t *der, size_t len) {
  const uint8_t *p = der;
  X509_NAME *name = d2i_X509_NAME(NULL, &p, (long)len);
  BIO *bio = BIO_new(BIO_s_mem());
  char *out = NULL;
  if (name != NULL && bio != NULL &&
      X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
    const uint8_t *data;
    size_t data_len;
    if (BIO_mem_contents(bio, &data, &data_len)) {
      out = OPENSSL_strndup((const char *)data, data_len);
    }
  }
  BIO_free(bio);
  X509_NAME_free(name);
  return out;
}

// Single-valued RDNs only: BoringSSL's XN_FLAG_DN_REV also reverses the
// members of a multi-valued RDN, whose order RFC 4514 leaves open.
TEST(ascii_names_agree_with_boringssl) {
  static const char *const kValues[] = {
      "host.example.com",
      "a,b",
      "a+b",
      "a\"b",
      "a\\b",
      "<x>",
      "a;b",
      "#hash",
      " lead",
      "trail ",
      "in side",
      "a=b",
      "x#y",
  };
  for (size_t i = 0; i < sizeof(kValues) / sizeof(kValues[0]); i++) {
    const ava a[] = {
        {OID(O_C), PRINTABLE, STR("US"), 0},
        {OID(O_O), UTF8, kValues[i], strlen(kValues[i]), 0},
        {OID(O_OU), UTF8, STR("Voice"), 0},
        {OID(O_CN), UTF8, kValues[i], strlen(kValues[i]), 0},
        {OID(O_EMAIL), IA5, STR("x@example.com"), 0},
    };
    uint8_t der[1024];
    const size_t len = build_name(a, 5, der, sizeof(der));
    CBS name;
    CBS_init(&name, der, len);
    char *ours = NULL;
    CHECK(ca_name_format(&name, &ours));
    char *theirs = boringssl_rfc2253(der, len);
    CHECK(theirs != NULL);
    CHECK_EQ_STR(ours, theirs);
    OPENSSL_free(ours);
    OPENSSL_free(theirs);
  }
}

// --- ca_name_check ---

static int check_code(const ava *avas, size_t n, int want_cn, CBS *out_cn) {
  static uint8_t der[16384];
  const size_t len = build_name(avas, n, der, sizeof(der));
  CBS name, cn;
  CBS_init(&name, der, len);
  ca_err_clear();
  if (!ca_name_check(&name, want_cn ? &cn : NULL)) {
    return ca_err_get()->code;
  }
  if (out_cn != NULL && want_cn) {
    *out_cn = cn;
  }
  return CA_OK;
}

TEST(check_accepts_good_subjects) {
  const ava a[] = {
      {OID(O_C), PRINTABLE, STR("US"), 0},
      {OID(O_O), UTF8, STR("Example"), 0},
      {OID(O_OU), T61, STR("Voice"), 0},
      {OID(O_L), BMP, "\x00\x41", 2, 0},
      {OID(O_CN), UTF8, STR("cucm1.example.com"), 0},
  };
  CBS cn;
  CHECK_EQ_INT(check_code(a, 5, 1, &cn), CA_OK);
  CHECK(CBS_mem_equal(&cn, (const uint8_t *)"cucm1.example.com", 17));
  // CN as PrintableString or IA5String.
  const ava p[] = {{OID(O_CN), PRINTABLE, STR("host"), 0}};
  CHECK_EQ_INT(check_code(p, 1, 1, &cn), CA_OK);
  const ava i5[] = {{OID(O_CN), IA5, STR("host"), 0}};
  CHECK_EQ_INT(check_code(i5, 1, 1, &cn), CA_OK);
  // A CN inside a multi-valued RDN counts.
  const ava m[] = {{OID(O_OU), UTF8, STR("x"), 0},
                   {OID(O_CN), UTF8, STR("host"), 1}};
  CHECK_EQ_INT(check_code(m, 2, 1, &cn), CA_OK);
  CHECK(CBS_mem_equal(&cn, (const uint8_t *)"host", 4));
  // UCS-2 and UCS-4 text has zero octets that are not NUL characters.
  const ava wide[] = {{OID(O_O), BMP, "\x00\x45\x00\x78", 4, 0},
                      {OID(O_OU), UNIVERSAL, "\x00\x00\x00\x41", 4, 0},
                      {OID(O_CN), UTF8, STR("h"), 0}};
  CHECK_EQ_INT(check_code(wide, 3, 1, &cn), CA_OK);
  // Valid UTF-8 of every length: 2, 3 and 4 octets.
  const ava u[] = {
      {OID(O_CN), UTF8, STR("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), 0}};
  CHECK_EQ_INT(check_code(u, 1, 1, &cn), CA_OK);
  // Without |out_cn| no CN is needed.
  const ava no_cn[] = {{OID(O_O), UTF8, STR("Example"), 0}};
  CHECK_EQ_INT(check_code(no_cn, 1, 0, NULL), CA_OK);
  CHECK_EQ_INT(check_code(NULL, 0, 0, NULL), CA_OK);
}

TEST(check_cn_rules) {
  const ava none[] = {{OID(O_O), UTF8, STR("Example"), 0}};
  CHECK_EQ_INT(check_code(none, 1, 1, NULL), CA_ERR_SUBJECT_CN_MISSING);
  CHECK_EQ_INT(check_code(NULL, 0, 1, NULL), CA_ERR_SUBJECT_CN_MISSING);
  const ava two[] = {{OID(O_CN), UTF8, STR("a"), 0},
                     {OID(O_CN), UTF8, STR("b"), 0}};
  CHECK_EQ_INT(check_code(two, 2, 1, NULL), CA_ERR_SUBJECT_INVALID);
  CHECK_EQ_INT(check_code(two, 2, 0, NULL), CA_OK);
  const ava bmp[] = {{OID(O_CN), BMP, "\x00\x41", 2, 0}};
  CHECK_EQ_INT(check_code(bmp, 1, 1, NULL), CA_ERR_SUBJECT_INVALID);
  const ava t61[] = {{OID(O_CN), T61, STR("a"), 0}};
  CHECK_EQ_INT(check_code(t61, 1, 1, NULL), CA_ERR_SUBJECT_INVALID);
  const ava empty[] = {{OID(O_CN), UTF8, "", 0, 0}};
  CHECK_EQ_INT(check_code(empty, 1, 1, NULL), CA_ERR_SUBJECT_INVALID);
  // ub-common-name is 64.
  char long_cn[CA_LIMIT_CN_LEN + 1];
  memset(long_cn, 'a', sizeof(long_cn));
  const ava at_limit[] = {{OID(O_CN), UTF8, long_cn, CA_LIMIT_CN_LEN, 0}};
  CHECK_EQ_INT(check_code(at_limit, 1, 1, NULL), CA_OK);
  const ava over[] = {{OID(O_CN), UTF8, long_cn, CA_LIMIT_CN_LEN + 1, 0}};
  CHECK_EQ_INT(check_code(over, 1, 1, NULL), CA_ERR_SUBJECT_INVALID);
}

TEST(check_rejects_bad_values) {
  static const struct {
    unsigned tag;
    const char *value;
    size_t len;
  } kBad[] = {
      {UTF8, "a\0b", 3},                   // NUL
      {UTF8, "\xc0\x80", 2},               // overlong NUL
      {UTF8, "\xe0\x80\xaf", 3},           // overlong '/'
      {UTF8, "\xed\xa0\x80", 3},           // surrogate U+D800
      {UTF8, "\xf4\x90\x80\x80", 4},       // U+110000
      {UTF8, "\xe2\x82", 2},               // truncated
      {UTF8, "\x80", 1},                   // lone continuation
      {UTF8, "\xff", 1},                   // never valid
      {UTF8, "\xc3\x28", 2},               // bad continuation
      {PRINTABLE, "caf\xe9", 4},           // 8-bit in PrintableString
      {IA5, "caf\xe9", 4},                 // 8-bit in IA5String
      {BMP, "\x00\x41\x00", 3},            // odd BMPString
      {BMP, "\x00\x41\x00\x00", 4},        // NUL character in BMPString
      {UNIVERSAL, "\x00\x00\x00\x00", 4},  // NUL character in UCS-4
      {UNIVERSAL, "\x00\x00\x00\x41\x00", 5},
      {CBS_ASN1_INTEGER, "\x01", 1},  // not a string
      {CBS_ASN1_OCTETSTRING, "abc", 3},
  };
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); i++) {
    const ava a[] = {{OID(O_O), kBad[i].tag, kBad[i].value, kBad[i].len, 0}};
    const int code = check_code(a, 1, 0, NULL);
    if (code != CA_ERR_SUBJECT_INVALID) {
      fprintf(stderr, "  case %zu accepted\n", i);
    }
    CHECK_EQ_INT(code, CA_ERR_SUBJECT_INVALID);
  }
}

TEST(check_rejects_control_characters) {
  // Every C0 character and DEL, in every string type and in every
  // attribute a CSR may carry: a subject is printed into logs and the text
  // the database keeps, where CR and LF would forge lines.
  static const uint8_t kOids[][10] = {
      {O_CN}, {O_O}, {O_OU}, {O_L}, {O_ST}, {O_STREET}, {O_SERIAL}, {O_EMAIL},
  };
  static const size_t kOidLens[] = {3, 3, 3, 3, 3, 3, 3, 9};
  static const unsigned kTags[] = {UTF8, PRINTABLE, IA5, T61};
  for (unsigned c = 0; c <= 0x7f; c++) {
    if (c >= 0x20 && c < 0x7f) {
      continue;
    }
    char one[3] = {'a', (char)c, 'b'};
    for (size_t o = 0; o < sizeof(kOidLens) / sizeof(kOidLens[0]); o++) {
      for (size_t t = 0; t < sizeof(kTags) / sizeof(kTags[0]); t++) {
        const ava a[] = {{(const char *)kOids[o], kOidLens[o], kTags[t], one,
                          sizeof(one), 0}};
        const int code = check_code(a, 1, 0, NULL);
        if (code != CA_ERR_SUBJECT_INVALID) {
          fprintf(stderr, "  0x%02x in attribute %zu, tag %u accepted\n", c, o,
                  kTags[t]);
        }
        CHECK_EQ_INT(code, CA_ERR_SUBJECT_INVALID);
      }
    }
    // UCS-2 and UCS-4: the character, not an octet, is the control one.
    const char bmp[4] = {0, 'a', 0, (char)c};
    const ava b[] = {{OID(O_O), BMP, bmp, sizeof(bmp), 0}};
    CHECK_EQ_INT(check_code(b, 1, 0, NULL), CA_ERR_SUBJECT_INVALID);
    const char ucs4[8] = {0, 0, 0, 'a', 0, 0, 0, (char)c};
    const ava u[] = {{OID(O_O), UNIVERSAL, ucs4, sizeof(ucs4), 0}};
    CHECK_EQ_INT(check_code(u, 1, 0, NULL), CA_ERR_SUBJECT_INVALID);
  }
  // In a second attribute of a multi-valued RDN, and in the CN with
  // |out_cn| asked: the same.
  const ava multi[] = {{OID(O_CN), UTF8, STR("host"), 0},
                       {OID(O_OU), UTF8, STR("Voice\r\nAdmin"), 1}};
  CHECK_EQ_INT(check_code(multi, 2, 1, NULL), CA_ERR_SUBJECT_INVALID);
  const ava cn[] = {{OID(O_CN), UTF8, STR("host\n.example.com"), 0}};
  CHECK_EQ_INT(check_code(cn, 1, 1, NULL), CA_ERR_SUBJECT_INVALID);
  CHECK(strstr(ca_err_get()->message, "control character") != NULL);
  // What is not a control character stays accepted: space, '~', and
  // characters above DEL whose octets (UTF-8, UCS-2, UCS-4) hold 0x0a or
  // 0x7f but which are not themselves control characters.
  const ava fine[] = {
      {OID(O_O), UTF8, STR("a b~"), 0},
      {OID(O_OU), UTF8, STR("\xc4\x8a\xe1\xbf\xbf"), 0},  // U+010A U+1FFF
      {OID(O_L), BMP, "\x0a\x0a\x01\x7f", 4, 0},          // U+0A0A U+017F
      {OID(O_ST), UNIVERSAL, "\x00\x01\x00\x0a", 4, 0},   // U+1000A
      {OID(O_CN), UTF8, STR("host"), 0},
  };
  CHECK_EQ_INT(check_code(fine, 5, 1, NULL), CA_OK);
}

static int check_raw(const uint8_t *der, size_t len) {
  CBS name;
  CBS_init(&name, der, len);
  ca_err_clear();
  return ca_name_check(&name, NULL) ? CA_OK : ca_err_get()->code;
}

TEST(check_rejects_bad_structure) {
  // An empty RDN SET.
  static const uint8_t kEmptySet[] = {0x30, 0x02, 0x31, 0x00};
  CHECK_EQ_INT(check_raw(kEmptySet, sizeof(kEmptySet)), CA_ERR_SUBJECT_INVALID);
  // Trailing bytes after the Name.
  static const uint8_t kTrailing[] = {0x30, 0x00, 0x00};
  CHECK_EQ_INT(check_raw(kTrailing, sizeof(kTrailing)), CA_ERR_SUBJECT_INVALID);
  // Not a SEQUENCE.
  static const uint8_t kSet[] = {0x31, 0x00};
  CHECK_EQ_INT(check_raw(kSet, sizeof(kSet)), CA_ERR_SUBJECT_INVALID);
  // An AttributeTypeAndValue with an empty OID, with a third element, or
  // without a value.
  static const uint8_t kEmptyOid[] = {0x30, 0x09, 0x31, 0x07, 0x30, 0x05,
                                      0x06, 0x00, 0x0c, 0x01, 'a'};
  CHECK_EQ_INT(check_raw(kEmptyOid, sizeof(kEmptyOid)), CA_ERR_SUBJECT_INVALID);
  static const uint8_t kThree[] = {0x30, 0x0e, 0x31, 0x0c, 0x30, 0x0a,
                                   0x06, 0x03, 0x55, 0x04, 0x03, 0x0c,
                                   0x01, 'a',  0x05, 0x00};
  CHECK_EQ_INT(check_raw(kThree, sizeof(kThree)), CA_ERR_SUBJECT_INVALID);
  static const uint8_t kNoValue[] = {0x30, 0x09, 0x31, 0x07, 0x30, 0x05,
                                     0x06, 0x03, 0x55, 0x04, 0x03};
  CHECK_EQ_INT(check_raw(kNoValue, sizeof(kNoValue)), CA_ERR_SUBJECT_INVALID);
  // Attribute types that are not valid OID encodings: a subidentifier with
  // a leading 0x80 octet (not minimal), or one left unterminated. An
  // unknown type is printed in dotted form, which needs a valid encoding.
  const ava padded[] = {{OID("\x2a\x80\x01"), UTF8, STR("x"), 0}};
  CHECK_EQ_INT(check_code(padded, 1, 0, NULL), CA_ERR_SUBJECT_INVALID);
  const ava open_arc[] = {{OID("\x2a\x83"), UTF8, STR("x"), 0}};
  CHECK_EQ_INT(check_code(open_arc, 1, 0, NULL), CA_ERR_SUBJECT_INVALID);
  const ava big_arc[] = {{OID("\x2a\x83\x00"), UTF8, STR("x"), 0}};
  CHECK_EQ_INT(check_code(big_arc, 1, 0, NULL), CA_OK);
  char *text = format_avas(big_arc, 1);
  CHECK_EQ_STR(text, "1.2.384=x");
  OPENSSL_free(text);
  // The same Name well-formed, as a control.
  static const uint8_t kGood[] = {0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06,
                                  0x03, 0x55, 0x04, 0x03, 0x0c, 0x01, 'a'};
  CHECK_EQ_INT(check_raw(kGood, sizeof(kGood)), CA_OK);
  // Every truncation of it fails.
  for (size_t n = 0; n < sizeof(kGood); n++) {
    CHECK_EQ_INT(check_raw(kGood, n), CA_ERR_SUBJECT_INVALID);
  }
  // At most 32 attributes, counted across RDNs.
  ava many[CA_LIMIT_NAME_ATTRIBUTES + 1];
  for (size_t i = 0; i < CA_LIMIT_NAME_ATTRIBUTES + 1; i++) {
    many[i] = (ava){OID(O_OU), UTF8, STR("x"), (int)(i % 2)};
  }
  CHECK_EQ_INT(check_code(many, CA_LIMIT_NAME_ATTRIBUTES, 0, NULL), CA_OK);
  CHECK_EQ_INT(check_code(many, CA_LIMIT_NAME_ATTRIBUTES + 1, 0, NULL),
               CA_ERR_SUBJECT_INVALID);
}

// --- ca_name_add_leaf_subject ---

// leaf_subject runs ca_name_add_leaf_subject on a hand-built Name.
static int leaf_subject(const ava *avas, size_t n, int keep_ou, CBB *out) {
  uint8_t der[4096];
  const size_t len = build_name(avas, n, der, sizeof(der));
  CBS name;
  CBS_init(&name, der, len);
  return CBB_init(out, 256) && ca_name_add_leaf_subject(out, &name, keep_ou);
}

static int cbb_equals(const CBB *cbb, const uint8_t *der, size_t len) {
  return CBB_len(cbb) == len && memcmp(CBB_data(cbb), der, len) == 0;
}

TEST(leaf_subject_drops_ou) {
  const ava with_ou[] = {
      {OID(O_C), PRINTABLE, STR("US"), 0}, {OID(O_O), UTF8, STR("Example"), 0},
      {OID(O_OU), UTF8, STR("Voice"), 0},  {OID(O_OU), UTF8, STR("Lab"), 0},
      {OID(O_CN), UTF8, STR("host"), 0},
  };
  const ava without_ou[] = {
      {OID(O_C), PRINTABLE, STR("US"), 0},
      {OID(O_O), UTF8, STR("Example"), 0},
      {OID(O_CN), UTF8, STR("host"), 0},
  };
  uint8_t want[512], orig[512];
  const size_t want_len = build_name(without_ou, 3, want, sizeof(want));
  const size_t orig_len = build_name(with_ou, 5, orig, sizeof(orig));
  CBB out;
  CHECK(leaf_subject(with_ou, 5, 0, &out));
  CHECK(cbb_equals(&out, want, want_len));
  CBB_cleanup(&out);
  // keep_ou copies the Name byte for byte.
  CHECK(leaf_subject(with_ou, 5, 1, &out));
  CHECK(cbb_equals(&out, orig, orig_len));
  CBB_cleanup(&out);
  // A multi-valued RDN keeps its other members; one left with only OUs
  // disappears whole rather than becoming an empty SET.
  const ava multi[] = {
      {OID(O_O), UTF8, STR("Example"), 0}, {OID(O_OU), UTF8, STR("a"), 0},
      {OID(O_OU), UTF8, STR("b"), 1},      {OID(O_OU), UTF8, STR("c"), 0},
      {OID(O_CN), UTF8, STR("host"), 1},   {OID(O_OU), UTF8, STR("d"), 1},
  };
  const ava multi_want[] = {
      {OID(O_O), UTF8, STR("Example"), 0},
      {OID(O_CN), UTF8, STR("host"), 0},
  };
  const size_t multi_len = build_name(multi_want, 2, want, sizeof(want));
  CHECK(leaf_subject(multi, 6, 0, &out));
  CHECK(cbb_equals(&out, want, multi_len));
  CBB_cleanup(&out);
  // Only OUs: the empty Name.
  const ava only_ou[] = {{OID(O_OU), UTF8, STR("a"), 0}};
  CHECK(leaf_subject(only_ou, 1, 0, &out));
  CHECK(cbb_equals(&out, (const uint8_t *)"\x30\x00", 2));
  CBB_cleanup(&out);
}

TEST(leaf_subject_matches_boringssl_encoding) {
  // The expected subject is encoded by BoringSSL's X509_NAME, not by the
  // builder above.
  X509_NAME *in = X509_NAME_new();
  X509_NAME *want = X509_NAME_new();
  static const struct {
    const char *field;
    const char *value;
  } kFields[] = {{"C", "US"},     {"ST", "CA"},  {"O", "Example"},
                 {"OU", "Voice"}, {"OU", "Ops"}, {"CN", "cucm1"}};
  for (size_t i = 0; i < sizeof(kFields) / sizeof(kFields[0]); i++) {
    CHECK(X509_NAME_add_entry_by_txt(in, kFields[i].field, MBSTRING_UTF8,
                                     (const uint8_t *)kFields[i].value, -1, -1,
                                     0));
    if (strcmp(kFields[i].field, "OU") != 0) {
      CHECK(X509_NAME_add_entry_by_txt(want, kFields[i].field, MBSTRING_UTF8,
                                       (const uint8_t *)kFields[i].value, -1,
                                       -1, 0));
    }
  }
  uint8_t *in_der = NULL, *want_der = NULL;
  const int in_len = i2d_X509_NAME(in, &in_der);
  const int want_len = i2d_X509_NAME(want, &want_der);
  CHECK(in_len > 0 && want_len > 0);
  CBS name;
  CBS_init(&name, in_der, (size_t)in_len);
  CBB out;
  CHECK(CBB_init(&out, 256) && ca_name_add_leaf_subject(&out, &name, 0));
  CHECK(cbb_equals(&out, want_der, (size_t)want_len));
  CBB_cleanup(&out);
  OPENSSL_free(in_der);
  OPENSSL_free(want_der);
  X509_NAME_free(in);
  X509_NAME_free(want);
}

// --- ca_name_format limits ---

TEST(format_length_limit) {
  // 32 attributes of 100 octets make 3327 characters, under the 4096 limit;
  // 32 of 200 octets make 6495, over it.
  static char big[200];
  memset(big, 'x', sizeof(big));
  ava a[CA_LIMIT_NAME_ATTRIBUTES];
  for (size_t i = 0; i < CA_LIMIT_NAME_ATTRIBUTES; i++) {
    a[i] = (ava){OID(O_OU), UTF8, big, 100, 0};
  }
  // 32 x ("OU=" + 100) + 31 commas = 3327 characters: accepted.
  char *text = format_avas(a, CA_LIMIT_NAME_ATTRIBUTES);
  CHECK(text != NULL);
  CHECK_EQ_INT(text != NULL ? strlen(text) : 0, 32 * 103 + 31);
  OPENSSL_free(text);
  for (size_t i = 0; i < CA_LIMIT_NAME_ATTRIBUTES; i++) {
    a[i].value_len = 200;
  }
  ca_err_clear();
  text = format_avas(a, CA_LIMIT_NAME_ATTRIBUTES);
  CHECK(text == NULL);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_SUBJECT_INVALID);
  // Escaping counts: 32 x 40 commas become 32 x 80 characters.
  static char commas[40];
  memset(commas, ',', sizeof(commas));
  for (size_t i = 0; i < CA_LIMIT_NAME_ATTRIBUTES; i++) {
    a[i] = (ava){OID(O_OU), UTF8, commas, sizeof(commas), 0};
  }
  text = format_avas(a, CA_LIMIT_NAME_ATTRIBUTES);
  CHECK(text != NULL);
  CHECK_EQ_INT(text != NULL ? strlen(text) : 0, 32 * 83 + 31);
  OPENSSL_free(text);
  // More RDNs than attributes allowed: refused, not overrun.
  ava more[CA_LIMIT_NAME_ATTRIBUTES + 1];
  for (size_t i = 0; i < CA_LIMIT_NAME_ATTRIBUTES + 1; i++) {
    more[i] = (ava){OID(O_OU), UTF8, STR("x"), 0};
  }
  text = format_avas(more, CA_LIMIT_NAME_ATTRIBUTES + 1);
  CHECK(text == NULL);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_SUBJECT_INVALID);
}

// --- ca_name_add_simple ---

TEST(simple_names_match_boringssl) {
  X509_NAME *want = X509_NAME_new();
  CHECK(X509_NAME_add_entry_by_NID(want, NID_countryName,
                                   V_ASN1_PRINTABLESTRING,
                                   (const uint8_t *)"US", -1, -1, 0));
  CHECK(X509_NAME_add_entry_by_NID(want, NID_organizationName,
                                   V_ASN1_UTF8STRING,
                                   (const uint8_t *)"Example Corp", -1, -1, 0));
  CHECK(X509_NAME_add_entry_by_NID(want, NID_commonName, V_ASN1_UTF8STRING,
                                   (const uint8_t *)"Example Root CA", -1, -1,
                                   0));
  uint8_t *want_der = NULL;
  const int want_len = i2d_X509_NAME(want, &want_der);
  CBB out;
  CHECK(CBB_init(&out, 128) &&
        ca_name_add_simple(&out, "US", "Example Corp", "Example Root CA"));
  CHECK(want_len > 0 && cbb_equals(&out, want_der, (size_t)want_len));
  CBB_cleanup(&out);
  OPENSSL_free(want_der);
  X509_NAME_free(want);
  // Country and organization may be left out (NULL or empty).
  static const uint8_t kCnOnly[] = {0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b,
                                    0x06, 0x03, 0x55, 0x04, 0x03, 0x0c,
                                    0x04, 'R',  'o',  'o',  't'};
  CHECK(CBB_init(&out, 128) && ca_name_add_simple(&out, NULL, "", "Root"));
  CHECK(cbb_equals(&out, kCnOnly, sizeof(kCnOnly)));
  CBB_cleanup(&out);
  CHECK(CBB_init(&out, 128) && ca_name_add_simple(&out, "", NULL, "Root"));
  CHECK(cbb_equals(&out, kCnOnly, sizeof(kCnOnly)));
  // What it writes passes ca_name_check and formats as expected.
  CBS name;
  char *text = NULL;
  CBS_init(&name, CBB_data(&out), CBB_len(&out));
  CHECK(ca_name_check(&name, NULL));
  CHECK(ca_name_format(&name, &text));
  CHECK_EQ_STR(text, "CN=Root");
  OPENSSL_free(text);
  CBB_cleanup(&out);
}

int main(void) {
  RUN(rfc4514_escaping);
  RUN(order_and_attribute_names);
  RUN(string_types_are_decoded_to_utf8);
  RUN(ascii_names_agree_with_boringssl);
  RUN(check_accepts_good_subjects);
  RUN(check_cn_rules);
  RUN(check_rejects_bad_values);
  RUN(check_rejects_control_characters);
  RUN(check_rejects_bad_structure);
  RUN(leaf_subject_drops_ou);
  RUN(leaf_subject_matches_boringssl_encoding);
  RUN(format_length_limit);
  RUN(simple_names_match_boringssl);
  return test_summary();
}
