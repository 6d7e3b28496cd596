// Certificate downloads: PEM, DER and PKCS#7, as a response body.
#ifndef PKI_API_FORMATS_H
#define PKI_API_FORMATS_H

#include <openssl/base.h>
#include <stddef.h>
#include <stdint.h>

#include "api/server/http.h"

typedef enum api_cert_format {
  API_CERT_PEM,      // every certificate, PEM, one after the other
  API_CERT_DER,      // the first certificate only, DER
  API_CERT_P7B,      // PKCS#7 certificates-only, DER
  API_CERT_P7B_PEM,  // the same, PEM-armoured ("PKCS7")
} api_cert_format;

// api_cert_format_parse maps ?format= (NULL for the default |dflt|) to a
// format. It returns 0 with CA_ERR_FORMAT_UNKNOWN.
int api_cert_format_parse(api_cert_format *out, const char *text,
                          api_cert_format dflt) CA_MUST_CHECK;

// api_respond_certs answers 200 with |n| certificates in |format|.
void api_respond_certs(api_response *resp, api_cert_format format,
                       const uint8_t *const *certs, const size_t *lens,
                       size_t n);

// api_cbb_printf appends a formatted line of text (a table row) to |cbb|;
// a line longer than 1 KiB is cut and ends with its newline. It returns 0
// when |cbb| cannot grow.
int api_cbb_printf(CBB *cbb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif  // PKI_API_FORMATS_H
