#include "ca/x509/serial.h"

#include <openssl/rand.h>
#include <stdatomic.h>
#include <string.h>

#include "ca/hex.h"

// Normalises |mag| (big-endian magnitude, may have leading zeros) into the
// DER content octets of a positive INTEGER.
static int set_magnitude(ca_serial *out, const uint8_t *mag, size_t len) {
  while (len > 0 && mag[0] == 0) {
    mag++;
    len--;
  }
  if (len == 0 || len > CA_SERIAL_MAX_LEN) {
    return 0;
  }
  size_t off = 0;
  if (mag[0] & 0x80) {
    out->bytes[0] = 0;
    off = 1;
  }
  memcpy(out->bytes + off, mag, len);
  out->len = len + off;
  return 1;
}

static _Atomic(ca_serial_source) test_source;

void ca_serial_set_test_source(ca_serial_source source) {
  atomic_store(&test_source, source);
}

int ca_serial_generate(ca_serial *out) {
  uint8_t random[16];
  // A zero value has probability 2^-128; drawing again keeps the code simple
  // and correct.
  for (int attempt = 0; attempt < 4; attempt++) {
    const ca_serial_source source = atomic_load(&test_source);
    if (source != NULL && source(random)) {
      if (set_magnitude(out, random, sizeof(random))) {
        return 1;
      }
      continue;
    }
    CA_ENSURE_RETURN(RAND_bytes(random, sizeof(random)), CA_ERR_INTERNAL,
                     "random source failed");
    if (set_magnitude(out, random, sizeof(random))) {
      return 1;
    }
  }
  CA_SET_ERROR(CA_ERR_INTERNAL, "random source returned zeros");
  return 0;
}

void ca_serial_to_hex(const ca_serial *serial, char out[CA_SERIAL_HEX_LEN]) {
  static const char kHex[] = "0123456789abcdef";
  size_t i = 0;
  while (i < serial->len && serial->bytes[i] == 0) {
    i++;
  }
  size_t o = 0;
  for (; i < serial->len; i++) {
    out[o++] = kHex[serial->bytes[i] >> 4];
    out[o++] = kHex[serial->bytes[i] & 0xf];
  }
  out[o] = '\0';
}

// from_plain_hex parses |hex| when it is plain hex digits of at most
// CA_SERIAL_MAX_LEN octets, the form ca_serial_to_hex writes and the store
// keeps: every serial of a CRL comes so (a million per CRL), and is read in
// one pass, without the general path's copy of every digit. It returns 0,
// having written nothing valid, for any other text (a prefix, colons, too
// long, zero), which the general path then reads or refuses.
static int from_plain_hex(const char *hex, size_t hex_len, ca_serial *out) {
  uint8_t mag[CA_SERIAL_MAX_LEN];
  if (hex_len == 0 || hex_len > 2 * CA_SERIAL_MAX_LEN) {
    return 0;
  }
  size_t len = 0, i = 0;
  if (hex_len % 2 == 1) {
    const int lo = ca_hex_value(hex[0]);
    if (lo < 0) {
      return 0;
    }
    mag[len++] = (uint8_t)lo;
    i = 1;
  }
  for (; i < hex_len; i += 2) {
    const int hi = ca_hex_value(hex[i]);
    const int lo = ca_hex_value(hex[i + 1]);
    if ((hi | lo) < 0) {
      return 0;
    }
    mag[len++] = (uint8_t)(hi << 4 | lo);
  }
  return set_magnitude(out, mag, len);
}

int ca_serial_from_hex(const char *hex, size_t hex_len, ca_serial *out) {
  if (from_plain_hex(hex, hex_len, out)) {
    return 1;
  }
  uint8_t mag[2 * CA_SERIAL_MAX_LEN];
  size_t digits = 0;
  uint8_t nibbles[4 * CA_SERIAL_MAX_LEN];
  if (hex_len >= 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
    hex += 2;
    hex_len -= 2;
  }
  for (size_t i = 0; i < hex_len; i++) {
    if (hex[i] == ':') {
      continue;
    }
    const int v = ca_hex_value(hex[i]);
    CA_ENSURE_RETURN(v >= 0, CA_ERR_PARAMETER_INVALID,
                     "serial must be hexadecimal");
    CA_ENSURE_RETURN(digits < sizeof(nibbles), CA_ERR_PARAMETER_INVALID,
                     "serial longer than %d octets", CA_SERIAL_MAX_LEN);
    nibbles[digits++] = (uint8_t)v;
  }
  // Right-align: an odd digit count gets an implicit leading zero nibble.
  size_t len = (digits + 1) / 2;
  size_t n = 0;
  for (size_t i = 0; i < len; i++) {
    uint8_t hi = 0, lo;
    if (i == 0 && digits % 2 == 1) {
      lo = nibbles[n++];
    } else {
      hi = nibbles[n++];
      lo = nibbles[n++];
    }
    mag[i] = (uint8_t)(hi << 4 | lo);
  }
  CA_ENSURE_RETURN(set_magnitude(out, mag, len), CA_ERR_PARAMETER_INVALID,
                   "serial is zero or longer than %d octets",
                   CA_SERIAL_MAX_LEN);
  return 1;
}

int ca_serial_from_integer(const CBS *contents, ca_serial *out) {
  int is_negative;
  CA_ENSURE_RETURN(
      CBS_is_valid_asn1_integer(contents, &is_negative) && !is_negative,
      CA_ERR_CERT_MALFORMED, "serial is not a positive DER INTEGER");
  CA_ENSURE_RETURN(
      CBS_len(contents) <= CA_SERIAL_MAX_LEN + 1 &&
          set_magnitude(out, CBS_data(contents), CBS_len(contents)),
      CA_ERR_CERT_MALFORMED, "serial is zero or too long");
  return 1;
}

int ca_serial_add(CBB *cbb, const ca_serial *serial) {
  CBB child;
  CA_GUARD_CRYPTO_RETURN(CBB_add_asn1(cbb, &child, CBS_ASN1_INTEGER));
  CA_GUARD_CRYPTO_RETURN(CBB_add_bytes(&child, serial->bytes, serial->len));
  CA_GUARD_CRYPTO_RETURN(CBB_flush(cbb));
  return 1;
}
