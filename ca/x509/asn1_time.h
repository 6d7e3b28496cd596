// RFC 5280 Time values (UTCTime and GeneralizedTime) as Unix seconds.
#ifndef PKI_CA_ASN1_TIME_H
#define PKI_CA_ASN1_TIME_H

#include <openssl/bytestring.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"

// The range a Time can express: 1950-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
#define CA_TIME_MIN INT64_C(-631152000)
#define CA_TIME_MAX INT64_C(253402300799)

// ca_time_add appends |t| to |cbb| as a Time: "CAs conforming to this profile
// MUST always encode certificate validity dates through the year 2049 as
// UTCTime; certificate validity dates in 2050 or later MUST be encoded as
// GeneralizedTime" (RFC 5280 4.1.2.5), in Zulu with seconds and no fraction.
// It returns 0 with CA_ERR_INTERNAL when |t| is out of range or |cbb| fails.
int ca_time_add(CBB *cbb, int64_t t) CA_MUST_CHECK;

// The most octets of a Time's DER encoding: a GeneralizedTime's tag,
// length and 15 characters.
#define CA_TIME_DER_MAX 17

// ca_time_encode writes |t| into |out| as the DER of the Time ca_time_add
// appends (tag, length, contents), without a CBB: a CRL writes one per
// entry. It returns the octets written, or 0 when |t| is out of range.
size_t ca_time_encode(int64_t t, uint8_t out[CA_TIME_DER_MAX]);

// ca_time_parse reads one Time element from |cbs| into |*out|. Only the forms
// RFC 5280 allows are accepted (YYMMDDHHMMSSZ, YYYYMMDDHHMMSSZ). It returns 0
// with CA_ERR_CERT_MALFORMED otherwise.
int ca_time_parse(CBS *cbs, int64_t *out) CA_MUST_CHECK;

// ca_time_format writes |t| as "YYYY-MM-DDTHH:MM:SSZ" into |out|, which must
// hold 21 bytes. It returns 0 if |t| is out of range.
int ca_time_format(int64_t t, char out[21]) CA_MUST_CHECK;

// ca_time_from_civil converts a UTC calendar time to Unix seconds. It does no
// range checking beyond the arithmetic; callers validate fields.
int64_t ca_time_from_civil(int year, int month, int day, int hour, int minute,
                           int second);

#endif  // PKI_CA_ASN1_TIME_H
