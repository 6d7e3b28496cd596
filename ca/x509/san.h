// Subject Alternative Names (RFC 5280 4.2.1.6) under pki's rules: only
// dNSName and iPAddress, no wildcards, and the subject CN among them
// (ARCHITECTURE.md invariant 4).
#ifndef PKI_CA_SAN_H
#define PKI_CA_SAN_H

#include <openssl/bytestring.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/limits.h"

// GeneralName choices pki accepts, by their context tag number.
#define CA_SAN_DNS 2
#define CA_SAN_IP 7

typedef struct ca_san {
  uint8_t type;  // CA_SAN_DNS or CA_SAN_IP
  CBS value;     // IA5String text, or 4 or 16 address bytes
} ca_san;

typedef struct ca_san_list {
  ca_san items[CA_LIMIT_SAN_COUNT];
  size_t count;
} ca_san_list;

// ca_san_parse parses the GeneralNames SEQUENCE element |general_names| (the
// contents of a subjectAltName extnValue) into |out|, whose views point into
// the same buffer. Each name must be a dNSName that is a valid host name
// without wildcards, or an IPv4/IPv6 iPAddress. It returns 0 with
// CA_ERR_SAN_TYPE_UNSUPPORTED, CA_ERR_SAN_WILDCARD, CA_ERR_SAN_INVALID or
// CA_ERR_SAN_TOO_MANY.
int ca_san_parse(ca_san_list *out, const CBS *general_names) CA_MUST_CHECK;

// ca_san_parse_max is ca_san_parse refusing more than |max| names (the
// operator's --max-sans) with CA_ERR_SAN_TOO_MANY. A |max| of 0 or above
// CA_LIMIT_SAN_COUNT means CA_LIMIT_SAN_COUNT, the size of |out|.
int ca_san_parse_max(ca_san_list *out, const CBS *general_names,
                     size_t max) CA_MUST_CHECK;

// ca_san_require_cn succeeds when the common name |cn| is one of |sans|: a
// dNSName equal to it ignoring ASCII case, or an iPAddress whose text form
// it is. It returns 0 with CA_ERR_CN_NOT_IN_SAN otherwise.
int ca_san_require_cn(const ca_san_list *sans, const CBS *cn) CA_MUST_CHECK;

// ca_san_require_single_host succeeds when |sans| name one host only, for
// the profiles that may not carry multi-server SANs (CAPF, ipsec): every
// dNSName is the CN, the CN's first label (the short host name) or the CN's
// parent domain, and there is at most one IPv4 and one IPv6 address. When
// the CN is an address, no dNSName is allowed. It returns 0 with
// CA_ERR_SAN_MULTI_HOST otherwise.
int ca_san_require_single_host(const ca_san_list *sans,
                               const CBS *cn) CA_MUST_CHECK;

// ca_san_add_from_cn appends a GeneralNames SEQUENCE holding |cn| alone: an
// iPAddress when |cn| is an address literal, else a dNSName. |cn| must be a
// valid host name or address: it returns 0 with CA_ERR_SAN_WILDCARD or
// CA_ERR_SAN_INVALID otherwise. It also fills |out| with the one entry, its
// value a view into |scratch| (16 bytes) for addresses or into |cn|.
int ca_san_add_from_cn(CBB *out_general_names, const CBS *cn, ca_san_list *out,
                       uint8_t scratch[16]) CA_MUST_CHECK;

// ca_san_add_from_strings appends a GeneralNames SEQUENCE of the |n| names
// |names|, each "DNS:host", "IP:address", or a bare host name or address
// (an address literal becomes an iPAddress). Every name must pass the rules
// of ca_san_parse. It returns 0 with CA_ERR_SAN_WILDCARD, CA_ERR_SAN_INVALID,
// CA_ERR_SAN_TYPE_UNSUPPORTED or CA_ERR_SAN_TOO_MANY.
int ca_san_add_from_strings(CBB *out, const char *const *names,
                            size_t n) CA_MUST_CHECK;

// ca_san_format writes "DNS:name" or "IP:address" for |san| into |out| of
// |out_len| bytes, NUL-terminated. It returns 0 if |out| is too small.
int ca_san_format(const ca_san *san, char *out, size_t out_len) CA_MUST_CHECK;

// ca_dns_name_check validates a host name: LDH labels of 1 to 63 octets,
// at most 253 octets in all, no leading or trailing hyphen, no trailing dot.
// It returns 0 with CA_ERR_SAN_WILDCARD when the name contains '*', else
// CA_ERR_SAN_INVALID.
int ca_dns_name_check(const uint8_t *name, size_t len) CA_MUST_CHECK;

#endif  // PKI_CA_SAN_H
