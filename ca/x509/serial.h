// Certificate serial numbers (ARCHITECTURE.md invariant 2): 128 bits from the
// CSPRNG, positive, DER-minimal, unique per issuer by a database constraint.
#ifndef PKI_CA_SERIAL_H
#define PKI_CA_SERIAL_H

#include <openssl/bytestring.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"

// RFC 5280 4.1.2.2: "Certificate users MUST be able to handle serialNumber
// values up to 20 octets." pki reads serials up to that size and writes 17
// at most (16 random octets and a sign octet).
#define CA_SERIAL_MAX_LEN 20
#define CA_SERIAL_HEX_LEN (2 * CA_SERIAL_MAX_LEN + 1)

typedef struct ca_serial {
  // The content octets of the DER INTEGER: minimal, positive.
  uint8_t bytes[CA_SERIAL_MAX_LEN + 1];
  size_t len;
} ca_serial;

// ca_serial_generate draws a fresh 128-bit serial from the CSPRNG.
// It returns 0 with CA_ERR_INTERNAL if the random source fails.
int ca_serial_generate(ca_serial *out) CA_MUST_CHECK;

// A replacement for the random source, for tests only: fills 16 bytes and
// returns 1, or returns 0 to fall back to the CSPRNG.
typedef int (*ca_serial_source)(uint8_t out[16]);

// ca_serial_set_test_source makes ca_serial_generate draw from |source|
// (NULL: the CSPRNG again). It exists so that tests can force serial
// collisions (ARCHITECTURE.md invariant 2); pki itself never calls it.
void ca_serial_set_test_source(ca_serial_source source);

// ca_serial_to_hex writes the serial's magnitude as lower-case hex without
// leading zero octets ("3fa2..."), NUL-terminated, into |out|.
void ca_serial_to_hex(const ca_serial *serial, char out[CA_SERIAL_HEX_LEN]);

// ca_serial_from_hex parses a serial as ca_serial_to_hex writes it. Upper-case
// digits, an optional "0x" prefix, ':' separators (as openssl prints them) and
// leading zero octets are accepted. It returns 0 with CA_ERR_PARAMETER_INVALID
// for anything else or for a value over CA_SERIAL_MAX_LEN octets or zero.
int ca_serial_from_hex(const char *hex, size_t hex_len,
                       ca_serial *out) CA_MUST_CHECK;

// ca_serial_from_integer reads the contents of a DER INTEGER (as in a
// certificate) into |out|. It returns 0 with CA_ERR_CERT_MALFORMED for a
// negative, non-minimal or oversized value.
int ca_serial_from_integer(const CBS *contents, ca_serial *out) CA_MUST_CHECK;

// ca_serial_add appends the serial as a DER INTEGER.
int ca_serial_add(CBB *cbb, const ca_serial *serial) CA_MUST_CHECK;

#endif  // PKI_CA_SERIAL_H
