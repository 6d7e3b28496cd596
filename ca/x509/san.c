#include "ca/x509/san.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int ca_dns_name_check(const uint8_t *name, size_t len) {
  CA_ENSURE_RETURN(memchr(name, '*', len) == NULL, CA_ERR_SAN_WILDCARD,
                   "wildcard names are not issued");
  CA_ENSURE_RETURN(len > 0 && len <= CA_LIMIT_DNS_NAME_LEN, CA_ERR_SAN_INVALID,
                   "host name must be 1 to %d characters",
                   CA_LIMIT_DNS_NAME_LEN);
  size_t label_len = 0;
  for (size_t i = 0; i < len; i++) {
    const uint8_t c = name[i];
    if (c == '.') {
      CA_ENSURE_RETURN(label_len > 0 && name[i - 1] != '-', CA_ERR_SAN_INVALID,
                       "host name has an empty label or a label ending in '-'");
      label_len = 0;
      continue;
    }
    const int ldh = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '-';
    CA_ENSURE_RETURN(ldh, CA_ERR_SAN_INVALID,
                     "host name may hold only letters, digits, '-' and '.'");
    CA_ENSURE_RETURN(!(c == '-' && label_len == 0), CA_ERR_SAN_INVALID,
                     "host name label starts with '-'");
    CA_ENSURE_RETURN(++label_len <= CA_LIMIT_DNS_LABEL_LEN, CA_ERR_SAN_INVALID,
                     "host name label longer than %d characters",
                     CA_LIMIT_DNS_LABEL_LEN);
  }
  CA_ENSURE_RETURN(label_len > 0 && name[len - 1] != '-', CA_ERR_SAN_INVALID,
                   "host name ends with '.' or '-'");
  return 1;
}

int ca_san_parse(ca_san_list *out, const CBS *general_names) {
  return ca_san_parse_max(out, general_names, CA_LIMIT_SAN_COUNT);
}

int ca_san_parse_max(ca_san_list *out, const CBS *general_names, size_t max) {
  CBS in = *general_names, seq;
  out->count = 0;
  // |out| holds CA_LIMIT_SAN_COUNT names: no caller may raise that.
  if (max == 0 || max > CA_LIMIT_SAN_COUNT) {
    max = CA_LIMIT_SAN_COUNT;
  }
  // GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName
  CA_ENSURE_RETURN(CBS_get_asn1(&in, &seq, CBS_ASN1_SEQUENCE) &&
                       CBS_len(&in) == 0 && CBS_len(&seq) > 0,
                   CA_ERR_SAN_INVALID, "subjectAltName is not a GeneralNames");
  while (CBS_len(&seq) > 0) {
    CBS value;
    unsigned tag;
    CA_ENSURE_RETURN(CBS_get_any_asn1(&seq, &value, &tag), CA_ERR_SAN_INVALID,
                     "subjectAltName: bad GeneralName");
    CA_ENSURE_RETURN(out->count < max, CA_ERR_SAN_TOO_MANY,
                     "more than %zu subject alternative names", max);
    ca_san *san = &out->items[out->count];
    if (tag == (CBS_ASN1_CONTEXT_SPECIFIC | CA_SAN_DNS)) {
      CA_GUARD_RETURN(ca_dns_name_check(CBS_data(&value), CBS_len(&value)));
      san->type = CA_SAN_DNS;
    } else if (tag == (CBS_ASN1_CONTEXT_SPECIFIC | CA_SAN_IP)) {
      CA_ENSURE_RETURN(CBS_len(&value) == 4 || CBS_len(&value) == 16,
                       CA_ERR_SAN_INVALID,
                       "iPAddress must be 4 (IPv4) or 16 (IPv6) bytes");
      san->type = CA_SAN_IP;
    } else {
      CA_SET_ERROR(CA_ERR_SAN_TYPE_UNSUPPORTED,
                   "only DNS names and IP addresses are accepted as "
                   "subject alternative names (GeneralName tag %u)",
                   tag & 0x1f);
      return 0;
    }
    san->value = value;
    out->count++;
  }
  return 1;
}

// parse_ip reads an address literal into |out| (4 or 16 bytes).
static int parse_ip(const CBS *text, uint8_t out[16], size_t *out_len) {
  char buf[64];
  if (CBS_len(text) == 0 || CBS_len(text) >= sizeof(buf)) {
    return 0;
  }
  memcpy(buf, CBS_data(text), CBS_len(text));
  buf[CBS_len(text)] = '\0';
  if (inet_pton(AF_INET, buf, out) == 1) {
    *out_len = 4;
    return 1;
  }
  if (inet_pton(AF_INET6, buf, out) == 1) {
    *out_len = 16;
    return 1;
  }
  return 0;
}

static int ascii_case_equal(const uint8_t *a, size_t a_len, const uint8_t *b,
                            size_t b_len) {
  if (a_len != b_len) {
    return 0;
  }
  for (size_t i = 0; i < a_len; i++) {
    uint8_t x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') {
      x = (uint8_t)(x + 32);
    }
    if (y >= 'A' && y <= 'Z') {
      y = (uint8_t)(y + 32);
    }
    if (x != y) {
      return 0;
    }
  }
  return 1;
}

int ca_san_require_cn(const ca_san_list *sans, const CBS *cn) {
  uint8_t ip[16];
  size_t ip_len = 0;
  const int cn_is_ip = parse_ip(cn, ip, &ip_len);
  for (size_t i = 0; i < sans->count; i++) {
    const ca_san *san = &sans->items[i];
    if (san->type == CA_SAN_DNS &&
        ascii_case_equal(CBS_data(&san->value), CBS_len(&san->value),
                         CBS_data(cn), CBS_len(cn))) {
      return 1;
    }
    if (san->type == CA_SAN_IP && cn_is_ip &&
        CBS_mem_equal(&san->value, ip, ip_len)) {
      return 1;
    }
  }
  CA_SET_ERROR(CA_ERR_CN_NOT_IN_SAN,
               "the subject CN \"%.*s\" is not one of the request's subject "
               "alternative names",
               (int)CBS_len(cn), (const char *)CBS_data(cn));
  return 0;
}

int ca_san_require_single_host(const ca_san_list *sans, const CBS *cn) {
  const uint8_t *cn_p = CBS_data(cn);
  const size_t cn_len = CBS_len(cn);
  uint8_t cn_ip[16];
  size_t cn_ip_len;
  // A CN that is an address has no short name or parent domain: any DNS
  // name would be another host's as far as pki can tell.
  const int cn_is_ip = parse_ip(cn, cn_ip, &cn_ip_len);
  const uint8_t *dot = memchr(cn_p, '.', cn_len);
  const size_t host_len = dot != NULL ? (size_t)(dot - cn_p) : cn_len;
  size_t v4 = 0, v6 = 0;
  for (size_t i = 0; i < sans->count; i++) {
    const ca_san *san = &sans->items[i];
    if (san->type == CA_SAN_IP) {
      if (CBS_len(&san->value) == 4) {
        v4++;
      } else {
        v6++;
      }
      continue;
    }
    const uint8_t *p = CBS_data(&san->value);
    const size_t n = CBS_len(&san->value);
    CA_ENSURE_RETURN(
        !cn_is_ip, CA_ERR_SAN_MULTI_HOST,
        "this profile names one host: with an address as CN, DNS name "
        "\"%.*s\" cannot be tied to it (use the FQDN as CN)",
        (int)n, (const char *)p);
    const int same = ascii_case_equal(p, n, cn_p, cn_len);
    const int short_name = ascii_case_equal(p, n, cn_p, host_len);
    const int parent =
        dot != NULL && ascii_case_equal(p, n, dot + 1, cn_len - host_len - 1);
    CA_ENSURE_RETURN(same || short_name || parent, CA_ERR_SAN_MULTI_HOST,
                     "this profile names one host: \"%.*s\" is not the CN, its "
                     "short name or its parent domain",
                     (int)n, (const char *)p);
  }
  CA_ENSURE_RETURN(v4 <= 1 && v6 <= 1, CA_ERR_SAN_MULTI_HOST,
                   "this profile names one host: at most one IPv4 and one IPv6 "
                   "address");
  return 1;
}

int ca_san_add_from_cn(CBB *out_general_names, const CBS *cn, ca_san_list *out,
                       uint8_t scratch[16]) {
  size_t ip_len;
  CBB seq, name;
  CA_GUARD_CRYPTO(CBB_add_asn1(out_general_names, &seq, CBS_ASN1_SEQUENCE));
  out->count = 1;
  // A CN that is an address literal becomes an iPAddress: a dNSName holding
  // digits would never match a client that connects by address.
  if (parse_ip(cn, scratch, &ip_len)) {
    CA_GUARD_CRYPTO(
        CBB_add_asn1(&seq, &name, CBS_ASN1_CONTEXT_SPECIFIC | CA_SAN_IP));
    CA_GUARD_CRYPTO(CBB_add_bytes(&name, scratch, ip_len));
    out->items[0].type = CA_SAN_IP;
    CBS_init(&out->items[0].value, scratch, ip_len);
  } else {
    CA_GUARD(ca_dns_name_check(CBS_data(cn), CBS_len(cn)));
    CA_GUARD_CRYPTO(
        CBB_add_asn1(&seq, &name, CBS_ASN1_CONTEXT_SPECIFIC | CA_SAN_DNS));
    CA_GUARD_CRYPTO(CBB_add_bytes(&name, CBS_data(cn), CBS_len(cn)));
    out->items[0].type = CA_SAN_DNS;
    out->items[0].value = *cn;
  }
  CA_GUARD_CRYPTO(CBB_flush(out_general_names));
  return 1;
err:
  out->count = 0;
  return 0;
}

int ca_san_format(const ca_san *san, char *out, size_t out_len) {
  int n;
  if (san->type == CA_SAN_DNS) {
    n = snprintf(out, out_len, "DNS:%.*s", (int)CBS_len(&san->value),
                 (const char *)CBS_data(&san->value));
  } else {
    char addr[INET6_ADDRSTRLEN];
    const int family = CBS_len(&san->value) == 4 ? AF_INET : AF_INET6;
    if (inet_ntop(family, CBS_data(&san->value), addr, sizeof(addr)) == NULL) {
      return 0;
    }
    n = snprintf(out, out_len, "IP:%s", addr);
  }
  return n > 0 && (size_t)n < out_len;
}

int ca_san_add_from_strings(CBB *out, const char *const *names, size_t n) {
  CBB seq;
  CA_ENSURE_RETURN(n > 0 && n <= CA_LIMIT_SAN_COUNT,
                   n == 0 ? CA_ERR_SAN_INVALID : CA_ERR_SAN_TOO_MANY,
                   "1 to %d subject alternative names", CA_LIMIT_SAN_COUNT);
  CA_GUARD_CRYPTO_RETURN(CBB_add_asn1(out, &seq, CBS_ASN1_SEQUENCE));
  for (size_t i = 0; i < n; i++) {
    const char *name = names[i];
    int want_ip = 0, want_dns = 0;
    if (strncmp(name, "DNS:", 4) == 0) {
      name += 4;
      want_dns = 1;
    } else if (strncmp(name, "IP:", 3) == 0) {
      name += 3;
      want_ip = 1;
    }
    CBS text;
    CBS_init(&text, (const uint8_t *)name, strlen(name));
    uint8_t ip[16];
    size_t ip_len;
    CBB gn;
    const int is_ip = !want_dns && parse_ip(&text, ip, &ip_len);
    // A bare name with a colon that is no IPv6 address is another type of
    // name ("email:...", "URI:..."): refused, as in a CSR.
    CA_ENSURE_RETURN(is_ip || want_dns || want_ip || strchr(name, ':') == NULL,
                     CA_ERR_SAN_TYPE_UNSUPPORTED,
                     "only DNS: and IP: names are accepted, not \"%.64s\"",
                     name);
    if (is_ip) {
      CA_GUARD_CRYPTO_RETURN(
          CBB_add_asn1(&seq, &gn, CBS_ASN1_CONTEXT_SPECIFIC | CA_SAN_IP));
      CA_GUARD_CRYPTO_RETURN(CBB_add_bytes(&gn, ip, ip_len));
    } else {
      CA_ENSURE_RETURN(!want_ip, CA_ERR_SAN_INVALID,
                       "\"%.64s\" is not an address", name);
      CA_GUARD_RETURN(ca_dns_name_check((const uint8_t *)name, strlen(name)));
      CA_GUARD_CRYPTO_RETURN(
          CBB_add_asn1(&seq, &gn, CBS_ASN1_CONTEXT_SPECIFIC | CA_SAN_DNS));
      CA_GUARD_CRYPTO_RETURN(
          CBB_add_bytes(&gn, (const uint8_t *)name, strlen(name)));
    }
    CA_GUARD_CRYPTO_RETURN(CBB_flush(&seq));
  }
  CA_GUARD_CRYPTO_RETURN(CBB_flush(out));
  return 1;
}
