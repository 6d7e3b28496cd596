#include "api/server/formats.h"

#include <openssl/bytestring.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ca/x509/pem.h"
#include "ca/x509/pkcs7.h"

int api_cert_format_parse(api_cert_format *out, const char *text,
                          api_cert_format dflt) {
  if (text == NULL || text[0] == '\0') {
    *out = dflt;
    return 1;
  }
  static const struct {
    const char *name;
    api_cert_format format;
  } kFormats[] = {
      {"pem", API_CERT_PEM},
      {"der", API_CERT_DER},
      {"p7b", API_CERT_P7B},
      {"p7b-pem", API_CERT_P7B_PEM},
  };
  for (size_t i = 0; i < sizeof(kFormats) / sizeof(kFormats[0]); i++) {
    if (strcmp(text, kFormats[i].name) == 0) {
      *out = kFormats[i].format;
      return 1;
    }
  }
  CA_SET_ERROR(CA_ERR_FORMAT_UNKNOWN,
               "unknown format \"%.32s\" (pem, der, p7b, p7b-pem)", text);
  return 0;
}

void api_respond_certs(api_response *resp, api_cert_format format,
                       const uint8_t *const *certs, const size_t *lens,
                       size_t n) {
  CBB cbb, p7;
  CBB_zero(&cbb);
  CBB_zero(&p7);
  uint8_t *body;
  size_t body_len;
  const char *type = "application/x-pem-file";
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    total += lens[i];
  }
  CA_GUARD_CRYPTO(CBB_init(&cbb, total * 2 + 256));
  switch (format) {
    case API_CERT_PEM:
      for (size_t i = 0; i < n; i++) {
        CA_GUARD(ca_pem_add(&cbb, "CERTIFICATE", certs[i], lens[i]));
      }
      break;
    case API_CERT_DER:
      CA_ENSURE(n > 0, CA_ERR_NOT_FOUND, "no certificate");
      CA_GUARD_CRYPTO(CBB_add_bytes(&cbb, certs[0], lens[0]));
      type = "application/pkix-cert";
      break;
    case API_CERT_P7B:
      CA_GUARD(ca_pkcs7_add_certificates(&cbb, certs, lens, n));
      type = "application/pkcs7-mime";
      break;
    case API_CERT_P7B_PEM:
      CA_GUARD_CRYPTO(CBB_init(&p7, total + 256));
      CA_GUARD(ca_pkcs7_add_certificates(&p7, certs, lens, n));
      CA_GUARD(ca_pem_add(&cbb, "PKCS7", CBB_data(&p7), CBB_len(&p7)));
      break;
  }
  CA_GUARD_CRYPTO(CBB_finish(&cbb, &body, &body_len));
  CBB_cleanup(&p7);
  api_respond(resp, 200, type, body, body_len);
  return;
err:
  CBB_cleanup(&cbb);
  CBB_cleanup(&p7);
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}

int api_cbb_printf(CBB *cbb, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  const int len = vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  if (len < 0) {
    return 0;
  }
  // A longer line (a long subject) is cut, not dropped: it is for people.
  const size_t n = (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1;
  if ((size_t)len >= sizeof(line)) {
    line[n - 1] = '\n';
  }
  return CBB_add_bytes(cbb, (const uint8_t *)line, n);
}
