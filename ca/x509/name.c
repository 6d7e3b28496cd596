#include "ca/x509/name.h"

#include <openssl/mem.h>
#include <stdio.h>
#include <string.h>

#include "ca/limits.h"
#include "ca/oid.h"

static int is_string_tag(unsigned tag) {
  switch (tag) {
    case CBS_ASN1_UTF8STRING:
    case CBS_ASN1_PRINTABLESTRING:
    case CBS_ASN1_T61STRING:
    case CBS_ASN1_IA5STRING:
    case CBS_ASN1_BMPSTRING:
    case CBS_ASN1_UNIVERSALSTRING:
      return 1;
    default:
      return 0;
  }
}

// valid_utf8 checks RFC 3629 well-formedness (no overlongs, no surrogates).
static int valid_utf8(const CBS *s) {
  const uint8_t *p = CBS_data(s);
  const size_t n = CBS_len(s);
  size_t i = 0;
  while (i < n) {
    const uint8_t c = p[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return 0;
    }
    if (n - i < len) {
      return 0;
    }
    for (size_t k = 1; k < len; k++) {
      if ((p[i + k] & 0xc0) != 0x80) {
        return 0;
      }
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return 0;
    }
    i += len;
  }
  return 1;
}

// is_control returns 1 for a C0 control character (NUL, CR, LF, TAB, ESC,
// ...) or DEL. A subject is printed into logs, audit rows, text tables and
// the RFC 4514 text the database keeps: a line break there forges lines,
// and a NUL cuts what C reads of it.
static int is_control(uint32_t c) {
  return c < 0x20 || c == 0x7f;
}

// has_control_char returns 1 when |value|, read as |width|-octet
// big-endian characters, holds a control character (is_control). In UTF-8
// every octet of a multi-byte character is 0x80 or above, so reading it
// octet by octet finds exactly its control characters.
static int has_control_char(const CBS *value, size_t width) {
  const uint8_t *p = CBS_data(value);
  for (size_t i = 0; i + width <= CBS_len(value); i += width) {
    uint32_t c = 0;
    for (size_t k = 0; k < width; k++) {
      c = c << 8 | p[i + k];
    }
    if (is_control(c)) {
      return 1;
    }
  }
  return 0;
}

static int check_value(unsigned tag, const CBS *value) {
  if (!is_string_tag(tag)) {
    return 0;
  }
  // Control characters, NUL included, are has_control_char's: in
  // BMPString and UniversalString (UCS-2, UCS-4) every ASCII character has
  // zero octets, so they are found by character, not by octet.
  switch (tag) {
    case CBS_ASN1_BMPSTRING:
      return CBS_len(value) % 2 == 0;
    case CBS_ASN1_UNIVERSALSTRING:
      return CBS_len(value) % 4 == 0;
    case CBS_ASN1_UTF8STRING:
      return valid_utf8(value);
    case CBS_ASN1_PRINTABLESTRING:
    case CBS_ASN1_IA5STRING:
      for (size_t i = 0; i < CBS_len(value); i++) {
        if (CBS_data(value)[i] >= 0x80) {
          return 0;
        }
      }
      return 1;
    default:
      return 1;
  }
}

// value_width is the octets of one character of the string type |tag|.
static size_t value_width(unsigned tag) {
  return tag == CBS_ASN1_BMPSTRING         ? 2
         : tag == CBS_ASN1_UNIVERSALSTRING ? 4
                                           : 1;
}

// valid_oid checks the contents of an OBJECT IDENTIFIER: base-128
// subidentifiers, each minimally encoded and terminated (X.690 8.19.2), and
// each within 64 bits. ca_name_format prints attribute types it does not
// know with CBS_asn1_oid_to_text, which refuses anything else; a Name that
// passed this check must not fail there, after its certificate was signed.
static int valid_oid(const CBS *oid) {
  CBS in = *oid;
  if (CBS_len(&in) == 0) {
    return 0;
  }
  while (CBS_len(&in) > 0) {
    uint64_t v = 0;
    uint8_t b;
    // X.690 8.19.2: "the leading octet of the subidentifier shall not have
    // the value 0x80".
    if (CBS_data(&in)[0] == 0x80) {
      return 0;
    }
    do {
      if (!CBS_get_u8(&in, &b) || (v >> (64 - 7)) != 0) {
        return 0;
      }
      v = (v << 7) | (b & 0x7f);
    } while (b & 0x80);
  }
  return 1;
}

int ca_name_check(const CBS *name, CBS *out_cn) {
  CBS in = *name, rdns;
  CA_ENSURE_RETURN(
      CBS_get_asn1(&in, &rdns, CBS_ASN1_SEQUENCE) && CBS_len(&in) == 0,
      CA_ERR_SUBJECT_INVALID, "subject is not a Name");
  size_t attributes = 0;
  size_t cn_count = 0;
  CBS cn_value;
  unsigned cn_tag = 0;
  CBS_init(&cn_value, NULL, 0);
  while (CBS_len(&rdns) > 0) {
    CBS rdn;
    CA_ENSURE_RETURN(
        CBS_get_asn1(&rdns, &rdn, CBS_ASN1_SET) && CBS_len(&rdn) > 0,
        CA_ERR_SUBJECT_INVALID, "subject: bad RelativeDistinguishedName");
    while (CBS_len(&rdn) > 0) {
      CBS ava, oid, value;
      unsigned tag;
      CA_ENSURE_RETURN(
          ++attributes <= CA_LIMIT_NAME_ATTRIBUTES, CA_ERR_SUBJECT_INVALID,
          "subject: more than %d attributes", CA_LIMIT_NAME_ATTRIBUTES);
      CA_ENSURE_RETURN(
          CBS_get_asn1(&rdn, &ava, CBS_ASN1_SEQUENCE) &&
              CBS_get_asn1(&ava, &oid, CBS_ASN1_OBJECT) && valid_oid(&oid) &&
              CBS_get_any_asn1(&ava, &value, &tag) && CBS_len(&ava) == 0,
          CA_ERR_SUBJECT_INVALID, "subject: bad attribute");
      CA_ENSURE_RETURN(check_value(tag, &value), CA_ERR_SUBJECT_INVALID,
                       "subject: attribute value is not a valid string");
      CA_ENSURE_RETURN(
          !has_control_char(&value, value_width(tag)), CA_ERR_SUBJECT_INVALID,
          "subject: attribute value holds a control character (NUL, "
          "CR, LF, another C0 character or DEL)");
      if (CBS_mem_equal(&oid, kOidCommonName, sizeof(kOidCommonName))) {
        cn_count++;
        cn_value = value;
        cn_tag = tag;
      }
    }
  }
  if (out_cn != NULL) {
    CA_ENSURE_RETURN(cn_count > 0, CA_ERR_SUBJECT_CN_MISSING,
                     "subject has no common name (CN)");
    CA_ENSURE_RETURN(cn_count == 1, CA_ERR_SUBJECT_INVALID,
                     "subject has more than one common name (CN)");
    CA_ENSURE_RETURN(
        cn_tag == CBS_ASN1_UTF8STRING || cn_tag == CBS_ASN1_PRINTABLESTRING ||
            cn_tag == CBS_ASN1_IA5STRING,
        CA_ERR_SUBJECT_INVALID,
        "subject CN must be a UTF8String, PrintableString or IA5String");
    CA_ENSURE_RETURN(
        CBS_len(&cn_value) > 0 && CBS_len(&cn_value) <= CA_LIMIT_CN_LEN,
        CA_ERR_SUBJECT_INVALID, "subject CN must be 1 to %d bytes",
        CA_LIMIT_CN_LEN);
    *out_cn = cn_value;
  }
  return 1;
}

// is_ou returns 1 when the AttributeTypeAndValue element |ava| is an OU.
static int is_ou(const CBS *ava_element) {
  CBS in = *ava_element, ava, oid;
  return CBS_get_asn1(&in, &ava, CBS_ASN1_SEQUENCE) &&
         CBS_get_asn1(&ava, &oid, CBS_ASN1_OBJECT) &&
         CBS_mem_equal(&oid, kOidOrganizationalUnitName,
                       sizeof(kOidOrganizationalUnitName));
}

// rdn_keeps_something returns 1 when the RDN |rdn| (SET contents) holds an
// attribute other than OU. An RDN left empty is skipped whole rather than
// opened and discarded (this BoringSSL's CBB_discard_child leaves the tag).
static int rdn_keeps_something(const CBS *rdn) {
  CBS in = *rdn, ava;
  while (CBS_len(&in) > 0) {
    if (!CBS_get_asn1_element(&in, &ava, CBS_ASN1_SEQUENCE)) {
      return 0;
    }
    if (!is_ou(&ava)) {
      return 1;
    }
  }
  return 0;
}

int ca_name_add_leaf_subject(CBB *out, const CBS *name, int keep_ou) {
  if (keep_ou) {
    CA_GUARD_CRYPTO_RETURN(CBB_add_bytes(out, CBS_data(name), CBS_len(name)));
    return 1;
  }
  CBS in = *name, rdns;
  CBB seq;
  CA_ENSURE_RETURN(CBS_get_asn1(&in, &rdns, CBS_ASN1_SEQUENCE),
                   CA_ERR_SUBJECT_INVALID, "subject is not a Name");
  CA_GUARD_CRYPTO_RETURN(CBB_add_asn1(out, &seq, CBS_ASN1_SEQUENCE));
  while (CBS_len(&rdns) > 0) {
    CBS rdn;
    CA_ENSURE_RETURN(CBS_get_asn1(&rdns, &rdn, CBS_ASN1_SET),
                     CA_ERR_SUBJECT_INVALID, "subject: bad RDN");
    if (!rdn_keeps_something(&rdn)) {
      continue;
    }
    CBB set;
    CA_GUARD_CRYPTO_RETURN(CBB_add_asn1(&seq, &set, CBS_ASN1_SET));
    while (CBS_len(&rdn) > 0) {
      CBS ava;
      CA_ENSURE_RETURN(CBS_get_asn1_element(&rdn, &ava, CBS_ASN1_SEQUENCE),
                       CA_ERR_SUBJECT_INVALID, "subject: bad attribute");
      if (!is_ou(&ava)) {
        CA_GUARD_CRYPTO_RETURN(
            CBB_add_bytes(&set, CBS_data(&ava), CBS_len(&ava)));
      }
    }
    // Close |set| while it is alive: |seq| keeps a pointer to it, and the
    // next iteration's CBB_add_asn1 would otherwise flush a dead object
    // (seen as garbage in -O2 builds).
    CA_GUARD_CRYPTO_RETURN(CBB_flush(&seq));
  }
  CA_GUARD_CRYPTO_RETURN(CBB_flush(out));
  return 1;
}

static const char *short_name(const CBS *oid) {
  static const struct {
    const uint8_t *oid;
    size_t len;
    const char *name;
  } kNames[] = {
#define CA_NAME_ENTRY(o, n) {o, sizeof(o), n}
      CA_NAME_ENTRY(kOidCommonName, "CN"),
      CA_NAME_ENTRY(kOidSurname, "SN"),
      CA_NAME_ENTRY(kOidSerialNumber, "serialNumber"),
      CA_NAME_ENTRY(kOidCountryName, "C"),
      CA_NAME_ENTRY(kOidLocalityName, "L"),
      CA_NAME_ENTRY(kOidStateOrProvinceName, "ST"),
      CA_NAME_ENTRY(kOidStreetAddress, "STREET"),
      CA_NAME_ENTRY(kOidOrganizationName, "O"),
      CA_NAME_ENTRY(kOidOrganizationalUnitName, "OU"),
      CA_NAME_ENTRY(kOidTitle, "title"),
      CA_NAME_ENTRY(kOidGivenName, "GN"),
      CA_NAME_ENTRY(kOidDomainComponent, "DC"),
      CA_NAME_ENTRY(kOidUserId, "UID"),
      CA_NAME_ENTRY(kOidEmailAddress, "emailAddress"),
#undef CA_NAME_ENTRY
  };
  for (size_t i = 0; i < sizeof(kNames) / sizeof(kNames[0]); i++) {
    if (CBS_mem_equal(oid, kNames[i].oid, kNames[i].len)) {
      return kNames[i].name;
    }
  }
  return NULL;
}

static int add_utf8(CBB *out, uint32_t cp) {
  if (cp < 0x80) {
    return CBB_add_u8(out, (uint8_t)cp);
  }
  if (cp < 0x800) {
    return CBB_add_u8(out, (uint8_t)(0xc0 | (cp >> 6))) &&
           CBB_add_u8(out, (uint8_t)(0x80 | (cp & 0x3f)));
  }
  if (cp >= 0xd800 && cp <= 0xdfff) {
    cp = 0xfffd;
  }
  if (cp < 0x10000) {
    return CBB_add_u8(out, (uint8_t)(0xe0 | (cp >> 12))) &&
           CBB_add_u8(out, (uint8_t)(0x80 | ((cp >> 6) & 0x3f))) &&
           CBB_add_u8(out, (uint8_t)(0x80 | (cp & 0x3f)));
  }
  if (cp > 0x10ffff) {
    cp = 0xfffd;
    return add_utf8(out, cp);
  }
  return CBB_add_u8(out, (uint8_t)(0xf0 | (cp >> 18))) &&
         CBB_add_u8(out, (uint8_t)(0x80 | ((cp >> 12) & 0x3f))) &&
         CBB_add_u8(out, (uint8_t)(0x80 | ((cp >> 6) & 0x3f))) &&
         CBB_add_u8(out, (uint8_t)(0x80 | (cp & 0x3f)));
}

// decode_value converts a string value to UTF-8.
static int decode_value(CBB *out, unsigned tag, const CBS *value) {
  const uint8_t *p = CBS_data(value);
  const size_t n = CBS_len(value);
  switch (tag) {
    case CBS_ASN1_BMPSTRING:
      for (size_t i = 0; i + 1 < n; i += 2) {
        if (!add_utf8(out, (uint32_t)p[i] << 8 | p[i + 1])) {
          return 0;
        }
      }
      return 1;
    case CBS_ASN1_UNIVERSALSTRING:
      for (size_t i = 0; i + 3 < n; i += 4) {
        uint32_t cp = (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 |
                      (uint32_t)p[i + 2] << 8 | p[i + 3];
        if (!add_utf8(out, cp)) {
          return 0;
        }
      }
      return 1;
    case CBS_ASN1_T61STRING:
      // In practice T61String holds Latin-1.
      for (size_t i = 0; i < n; i++) {
        if (!add_utf8(out, p[i])) {
          return 0;
        }
      }
      return 1;
    default:
      return CBB_add_bytes(out, p, n);
  }
}

// add_escaped appends |utf8| with the escaping of RFC 4514 section 2.4.
static int add_escaped(CBB *out, const uint8_t *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const uint8_t c = s[i];
    int escape = c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' ||
                 c == '>' || c == ';' || (c == '#' && i == 0) ||
                 (c == ' ' && (i == 0 || i + 1 == n));
    if (c < 0x20 || c == 0x7f) {
      char hex[4];
      snprintf(hex, sizeof(hex), "\\%02X", c);
      if (!CBB_add_bytes(out, (const uint8_t *)hex, 3)) {
        return 0;
      }
      continue;
    }
    if ((escape && !CBB_add_u8(out, '\\')) || !CBB_add_u8(out, c)) {
      return 0;
    }
  }
  return 1;
}

static int add_attribute(CBB *out, const CBS *oid, unsigned tag,
                         const CBS *value) {
  int ok = 0;
  char *dotted = NULL;
  CBB text;
  CBB_zero(&text);
  const char *name = short_name(oid);
  if (name == NULL) {
    dotted = CBS_asn1_oid_to_text(oid);
    if (dotted == NULL) {
      goto done;
    }
    name = dotted;
  }
  if (!CBB_add_bytes(out, (const uint8_t *)name, strlen(name)) ||
      !CBB_add_u8(out, '=') || !CBB_init(&text, CBS_len(value) * 2 + 1) ||
      !decode_value(&text, tag, value) ||
      !add_escaped(out, CBB_data(&text), CBB_len(&text))) {
    goto done;
  }
  ok = 1;
done:
  OPENSSL_free(dotted);
  CBB_cleanup(&text);
  return ok;
}

int ca_name_format(const CBS *name, char **out) {
  CBB text;
  CBB_zero(&text);
  CBS in = *name, rdns;
  CA_ENSURE(CBS_get_asn1(&in, &rdns, CBS_ASN1_SEQUENCE), CA_ERR_SUBJECT_INVALID,
            "subject is not a Name");
  // Collect the RDNs to write them most significant last.
  CBS rdn_list[CA_LIMIT_NAME_ATTRIBUTES];
  size_t count = 0;
  while (CBS_len(&rdns) > 0) {
    CA_ENSURE(count < CA_LIMIT_NAME_ATTRIBUTES &&
                  CBS_get_asn1(&rdns, &rdn_list[count], CBS_ASN1_SET),
              CA_ERR_SUBJECT_INVALID, "subject: bad RDN");
    count++;
  }
  CA_GUARD_CRYPTO(CBB_init(&text, 128));
  for (size_t i = count; i-- > 0;) {
    if (i + 1 != count) {
      CA_GUARD_CRYPTO(CBB_add_u8(&text, ','));
    }
    CBS rdn = rdn_list[i];
    int first = 1;
    while (CBS_len(&rdn) > 0) {
      CBS ava, oid, value;
      unsigned tag;
      CA_ENSURE(CBS_get_asn1(&rdn, &ava, CBS_ASN1_SEQUENCE) &&
                    CBS_get_asn1(&ava, &oid, CBS_ASN1_OBJECT) &&
                    CBS_get_any_asn1(&ava, &value, &tag),
                CA_ERR_SUBJECT_INVALID, "subject: bad attribute");
      if (!first) {
        CA_GUARD_CRYPTO(CBB_add_u8(&text, '+'));
      }
      first = 0;
      CA_ENSURE(add_attribute(&text, &oid, tag, &value), CA_ERR_NO_MEMORY,
                "out of memory formatting subject");
    }
    CA_ENSURE(CBB_len(&text) <= CA_LIMIT_SUBJECT_TEXT_LEN,
              CA_ERR_SUBJECT_INVALID, "subject longer than %d characters",
              CA_LIMIT_SUBJECT_TEXT_LEN);
  }
  CA_GUARD_CRYPTO(CBB_add_u8(&text, '\0'));
  size_t len;
  CA_GUARD_CRYPTO(CBB_finish(&text, (uint8_t **)out, &len));
  return 1;
err:
  CBB_cleanup(&text);
  return 0;
}

static int add_ava(CBB *seq, const uint8_t *oid, size_t oid_len, unsigned tag,
                   const char *value) {
  CBB set, ava, obj, str;
  return CBB_add_asn1(seq, &set, CBS_ASN1_SET) &&
         CBB_add_asn1(&set, &ava, CBS_ASN1_SEQUENCE) &&
         CBB_add_asn1(&ava, &obj, CBS_ASN1_OBJECT) &&
         CBB_add_bytes(&obj, oid, oid_len) && CBB_add_asn1(&ava, &str, tag) &&
         CBB_add_bytes(&str, (const uint8_t *)value, strlen(value)) &&
         CBB_flush(seq);
}

// field_ok checks a value a client gave for a Name field.
static int field_ok(const char *value, size_t max, int printable) {
  const size_t n = strlen(value);
  CBS cbs;
  CBS_init(&cbs, (const uint8_t *)value, n);
  if (n == 0 || n > max || !valid_utf8(&cbs)) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    const unsigned char c = (unsigned char)value[i];
    if (is_control(c) || (printable && c >= 0x80)) {
      return 0;
    }
  }
  return 1;
}

int ca_name_add_fields(CBB *out, const ca_name_fields *f) {
  CBB seq;
  // Most significant first, as X.500 orders them: C, ST, L, O, OU, CN.
  const struct {
    const char *value;
    const uint8_t *oid;
    size_t oid_len;
    const char *label;
  } kFields[] = {
      {f->country, kOidCountryName, sizeof(kOidCountryName), "country"},
      {f->state, kOidStateOrProvinceName, sizeof(kOidStateOrProvinceName),
       "state"},
      {f->locality, kOidLocalityName, sizeof(kOidLocalityName), "locality"},
      {f->organization, kOidOrganizationName, sizeof(kOidOrganizationName),
       "organization"},
      {f->organizational_unit, kOidOrganizationalUnitName,
       sizeof(kOidOrganizationalUnitName), "organizational unit"},
      {f->common_name, kOidCommonName, sizeof(kOidCommonName), "common name"},
  };
  CA_ENSURE_RETURN(f->common_name != NULL && f->common_name[0] != '\0',
                   CA_ERR_SUBJECT_CN_MISSING, "a subject needs a common name");
  CA_GUARD_CRYPTO_RETURN(CBB_add_asn1(out, &seq, CBS_ASN1_SEQUENCE));
  for (size_t i = 0; i < sizeof(kFields) / sizeof(kFields[0]); i++) {
    const char *v = kFields[i].value;
    if (v == NULL || v[0] == '\0') {
      continue;
    }
    const int is_country = kFields[i].oid == kOidCountryName;
    // X.520: countryName is two letters (ISO 3166) in a PrintableString.
    CA_ENSURE_RETURN(
        is_country ? strlen(v) == 2 && field_ok(v, 2, 1)
                   : field_ok(v, CA_LIMIT_CN_LEN, 0),
        CA_ERR_SUBJECT_INVALID, "subject %s must be %s", kFields[i].label,
        is_country ? "two letters" : "1 to 64 printable characters of UTF-8");
    CA_GUARD_CRYPTO_RETURN(add_ava(
        &seq, kFields[i].oid, kFields[i].oid_len,
        is_country ? CBS_ASN1_PRINTABLESTRING : CBS_ASN1_UTF8STRING, v));
  }
  CA_GUARD_CRYPTO_RETURN(CBB_flush(out));
  return 1;
}

int ca_name_add_simple(CBB *out, const char *country, const char *organization,
                       const char *common_name) {
  const ca_name_fields fields = {.country = country,
                                 .organization = organization,
                                 .common_name = common_name};
  return ca_name_add_fields(out, &fields);
}
