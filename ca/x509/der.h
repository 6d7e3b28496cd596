// Strict DER (X.690 section 10) for untrusted input: the one rule of pki.
//
// Every element pki reads from a client (CSRs and the extensions they ask
// for, OCSP requests, uploaded certificates) must be DER: definite, minimal
// lengths; tags in their shortest form; BOOLEAN 0x00 or 0xFF; INTEGER and
// ENUMERATED in their fewest octets; BIT STRING with its unused bits zero;
// primitive encodings of the primitive universal types (no constructed
// OCTET STRING); and a field with a DEFAULT value left out when it has that
// value (X.690 11.5). BoringSSL's CBS_get_asn1 and CBS_get_any_asn1_element
// enforce the first two; ca_der_check the rest for a whole tree, and
// ca_der_get_extension the DEFAULT of Extension.critical. The order of the
// elements of a SET OF (X.690 11.6) is not checked: CBS does not either, and
// pki reads no SET OF whose order matters.
#ifndef PKI_CA_DER_H
#define PKI_CA_DER_H

#include <openssl/bytestring.h>

#include "ca/error.h"

// The deepest nesting ca_der_check walks; deeper input is refused (a
// certificate nests about 10 levels).
#define CA_DER_MAX_DEPTH 24

// ca_der_check returns 1 when |in| holds zero or more whole DER elements,
// each strict as above down to its leaves (constructed elements are
// walked; the contents of OCTET STRINGs and BIT STRINGs are not). It sets
// no error: the caller names what was malformed with its own code.
int ca_der_check(const CBS *in);

// ca_der_get_extension reads one Extension (RFC 5280 4.1: SEQUENCE {
// extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE, extnValue
// OCTET STRING }) from |exts|: the OID into |*out_oid|, the contents of
// extnValue into |*out_value|, 1 or 0 into |*out_critical|. An encoded
// critical FALSE is refused (a DEFAULT value must be absent), and so is an
// extnValue whose contents are not strict DER (they are a DER encoding, RFC
// 5280 4.1.2.9). It returns 0 without setting an error.
int ca_der_get_extension(CBS *exts, CBS *out_oid, int *out_critical,
                         CBS *out_value);

#endif  // PKI_CA_DER_H
