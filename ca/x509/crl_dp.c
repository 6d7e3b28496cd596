#include "ca/x509/crl_dp.h"

#include <stdio.h>
#include <string.h>

unsigned ca_crl_shard_of(const ca_serial *serial, unsigned shards) {
  if (shards <= 1) {
    return 0;
  }
  uint32_t tail = 0;
  const size_t from = serial->len > 4 ? serial->len - 4 : 0;
  for (size_t i = from; i < serial->len; i++) {
    tail = tail << 8 | serial->bytes[i];
  }
  return 1 + tail % shards;
}

int ca_crl_shard_url(const char *base, unsigned shard, char *out, size_t cap) {
  const int n = shard == 0 ? snprintf(out, cap, "%s", base)
                           : snprintf(out, cap, "%s/%u", base, shard);
  CA_ENSURE_RETURN(n >= 0 && (size_t)n < cap, CA_ERR_CONFIG,
                   "the CRL URL %s is longer than %zu bytes", base, cap - 1);
  return 1;
}

int ca_crl_dp_name_add(CBB *out, const char *url) {
  CBB dp_name, full_name, uri;
  return CBB_add_asn1(out, &dp_name,
                      CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
         CBB_add_asn1(&dp_name, &full_name,
                      CBS_ASN1_CONTEXT_SPECIFIC | CBS_ASN1_CONSTRUCTED | 0) &&
         CBB_add_asn1(&full_name, &uri, CBS_ASN1_CONTEXT_SPECIFIC | 6) &&
         CBB_add_bytes(&uri, (const uint8_t *)url, strlen(url)) &&
         CBB_flush(out);
}
