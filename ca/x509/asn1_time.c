#include "ca/x509/asn1_time.h"

#include <stdio.h>
#include <string.h>

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil): no libc time zone or locale is involved.
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *out_y, int *out_m, int *out_d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int d = (int)(doy - (153 * mp + 2) / 5 + 1);
  const int m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *out_y = (int)(yoe + era * 400 + (m <= 2));
  *out_m = m;
  *out_d = d;
}

int64_t ca_time_from_civil(int year, int month, int day, int hour, int minute,
                           int second) {
  return days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 +
         second;
}

typedef struct {
  int year, month, day, hour, minute, second;
} civil_time;

static int to_civil(int64_t t, civil_time *out) {
  if (t < CA_TIME_MIN || t > CA_TIME_MAX) {
    return 0;
  }
  int64_t days = t / 86400;
  int64_t secs = t % 86400;
  if (secs < 0) {
    secs += 86400;
    days -= 1;
  }
  civil_from_days(days, &out->year, &out->month, &out->day);
  out->hour = (int)(secs / 3600);
  out->minute = (int)(secs / 60 % 60);
  out->second = (int)(secs % 60);
  return 1;
}

// put2 writes |v| (0..99) as two decimal digits.
static uint8_t *put2(uint8_t *p, int v) {
  p[0] = (uint8_t)('0' + v / 10);
  p[1] = (uint8_t)('0' + v % 10);
  return p + 2;
}

size_t ca_time_encode(int64_t t, uint8_t out[CA_TIME_DER_MAX]) {
  civil_time c;
  if (!to_civil(t, &c)) {
    return 0;
  }
  uint8_t *p = out + 2;
  // Digits written by hand: snprintf's parsing of its format was most of
  // the cost of a CRL entry.
  if (c.year < 2050) {
    out[0] = (uint8_t)CBS_ASN1_UTCTIME;
    p = put2(p, c.year % 100);
  } else {
    out[0] = (uint8_t)CBS_ASN1_GENERALIZEDTIME;
    p = put2(p, c.year / 100);
    p = put2(p, c.year % 100);
  }
  p = put2(p, c.month);
  p = put2(p, c.day);
  p = put2(p, c.hour);
  p = put2(p, c.minute);
  p = put2(p, c.second);
  *p++ = 'Z';
  out[1] = (uint8_t)(p - out - 2);
  return (size_t)(p - out);
}

int ca_time_add(CBB *cbb, int64_t t) {
  uint8_t der[CA_TIME_DER_MAX];
  const size_t n = ca_time_encode(t, der);
  CA_ENSURE_RETURN(n > 0, CA_ERR_INTERNAL, "time %lld out of range",
                   (long long)t);
  CA_GUARD_CRYPTO_RETURN(CBB_add_bytes(cbb, der, n));
  return 1;
}

// read_digits reads |n| decimal digits from |cbs|.
static int read_digits(CBS *cbs, size_t n, int *out) {
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t ch;
    if (!CBS_get_u8(cbs, &ch) || ch < '0' || ch > '9') {
      return 0;
    }
    v = v * 10 + (ch - '0');
  }
  *out = v;
  return 1;
}

static int days_in_month(int year, int month) {
  static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) {
    return 29;
  }
  return kDays[month - 1];
}

int ca_time_parse(CBS *cbs, int64_t *out) {
  CBS body;
  unsigned tag;
  CA_ENSURE_RETURN(CBS_get_any_asn1(cbs, &body, &tag), CA_ERR_CERT_MALFORMED,
                   "time: bad encoding");
  civil_time c;
  if (tag == CBS_ASN1_UTCTIME) {
    CA_ENSURE_RETURN(CBS_len(&body) == 13, CA_ERR_CERT_MALFORMED,
                     "UTCTime must be YYMMDDHHMMSSZ");
    int yy;
    CA_ENSURE_RETURN(read_digits(&body, 2, &yy), CA_ERR_CERT_MALFORMED,
                     "UTCTime: bad year");
    // RFC 5280 4.1.2.5.1: YY >= 50 is 19YY, YY < 50 is 20YY.
    c.year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (tag == CBS_ASN1_GENERALIZEDTIME) {
    CA_ENSURE_RETURN(CBS_len(&body) == 15, CA_ERR_CERT_MALFORMED,
                     "GeneralizedTime must be YYYYMMDDHHMMSSZ");
    CA_ENSURE_RETURN(read_digits(&body, 4, &c.year), CA_ERR_CERT_MALFORMED,
                     "GeneralizedTime: bad year");
  } else {
    CA_SET_ERROR(CA_ERR_CERT_MALFORMED, "time: unexpected tag 0x%x", tag);
    return 0;
  }
  uint8_t zulu;
  CA_ENSURE_RETURN(
      read_digits(&body, 2, &c.month) && read_digits(&body, 2, &c.day) &&
          read_digits(&body, 2, &c.hour) && read_digits(&body, 2, &c.minute) &&
          read_digits(&body, 2, &c.second) && CBS_get_u8(&body, &zulu) &&
          zulu == 'Z' && CBS_len(&body) == 0,
      CA_ERR_CERT_MALFORMED, "time: bad digits or zone");
  CA_ENSURE_RETURN(c.month >= 1 && c.month <= 12 && c.day >= 1 &&
                       c.day <= days_in_month(c.year, c.month) &&
                       c.hour <= 23 && c.minute <= 59 && c.second <= 59,
                   CA_ERR_CERT_MALFORMED, "time: field out of range");
  *out = ca_time_from_civil(c.year, c.month, c.day, c.hour, c.minute, c.second);
  return 1;
}

int ca_time_format(int64_t t, char out[21]) {
  civil_time c;
  if (!to_civil(t, &c) || c.year < 0) {
    return 0;
  }
  int n = snprintf(out, 21, "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month,
                   c.day, c.hour, c.minute, c.second);
  return n == 20;
}
