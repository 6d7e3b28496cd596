#include "ca/x509/der.h"

// oid_ok checks the contents of an OBJECT IDENTIFIER: at least one octet,
// each subidentifier in its fewest octets (no leading 0x80) and the last
// one complete.
static int oid_ok(const CBS *contents) {
  const uint8_t *p = CBS_data(contents);
  const size_t len = CBS_len(contents);
  if (len == 0 || (p[len - 1] & 0x80) != 0) {
    return 0;
  }
  int start = 1;
  for (size_t i = 0; i < len; i++) {
    if (start && p[i] == 0x80) {
      return 0;
    }
    start = (p[i] & 0x80) == 0;
  }
  return 1;
}

// primitive_ok checks the contents of one primitive element of |tag|.
static int primitive_ok(unsigned tag, const CBS *contents) {
  switch (tag) {
    case CBS_ASN1_BOOLEAN:
      return CBS_len(contents) == 1 &&
             (CBS_data(contents)[0] == 0x00 || CBS_data(contents)[0] == 0xff);
    case CBS_ASN1_INTEGER:
    case CBS_ASN1_ENUMERATED: {
      int negative;
      return CBS_is_valid_asn1_integer(contents, &negative);
    }
    case CBS_ASN1_BITSTRING:
      return CBS_is_valid_asn1_bitstring(contents);
    case CBS_ASN1_NULL:
      return CBS_len(contents) == 0;
    case CBS_ASN1_OBJECT:
      return oid_ok(contents);
    default:
      return 1;
  }
}

static int check_at(CBS in, int depth) {
  if (depth > CA_DER_MAX_DEPTH) {
    return 0;
  }
  while (CBS_len(&in) > 0) {
    CBS contents;
    unsigned tag;
    size_t header_len;
    // Refuses indefinite and non-minimal lengths and long-form tags of
    // numbers below 31.
    if (!CBS_get_any_asn1_element(&in, &contents, &tag, &header_len) ||
        !CBS_skip(&contents, header_len)) {
      return 0;
    }
    const int universal = (tag & CBS_ASN1_CLASS_MASK) == CBS_ASN1_UNIVERSAL;
    if ((tag & CBS_ASN1_CONSTRUCTED) == 0) {
      if (universal && !primitive_ok(tag, &contents)) {
        return 0;
      }
      continue;
    }
    // The only constructed universal types are SEQUENCE and SET: a
    // constructed string is BER.
    if (universal && tag != CBS_ASN1_SEQUENCE && tag != CBS_ASN1_SET) {
      return 0;
    }
    if (!check_at(contents, depth + 1)) {
      return 0;
    }
  }
  return 1;
}

int ca_der_check(const CBS *in) {
  return check_at(*in, 0);
}

int ca_der_get_extension(CBS *exts, CBS *out_oid, int *out_critical,
                         CBS *out_value) {
  CBS ext;
  *out_critical = 0;
  if (!CBS_get_asn1(exts, &ext, CBS_ASN1_SEQUENCE) ||
      !CBS_get_asn1(&ext, out_oid, CBS_ASN1_OBJECT) || !oid_ok(out_oid)) {
    return 0;
  }
  // critical BOOLEAN DEFAULT FALSE is a plain BOOLEAN, not an explicitly
  // tagged one (which CBS_get_optional_asn1_bool reads). Present, it must
  // be TRUE: DER leaves a DEFAULT value out.
  if (CBS_peek_asn1_tag(&ext, CBS_ASN1_BOOLEAN) &&
      (!CBS_get_asn1_bool(&ext, out_critical) || !*out_critical)) {
    return 0;
  }
  return CBS_get_asn1(&ext, out_value, CBS_ASN1_OCTETSTRING) &&
         CBS_len(&ext) == 0 && ca_der_check(out_value);
}
