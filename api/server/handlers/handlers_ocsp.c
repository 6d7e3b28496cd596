// The OCSP listener (RFC 6960 appendix A): POST with an
// application/ocsp-request body, or GET with the request in base64 in the
// path. Every answer is an application/ocsp-response; cacheable ones
// (pre-signed, no nonce) carry the RFC 5019 caching headers on GET.
#include <openssl/base64.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/server/handlers/handlers.h"
#include "api/server/service.h"
#include "ca/hex.h"
#include "ca/limits.h"
#include "ca/x509/ocsp_response.h"

static const char kOcspType[] = "application/ocsp-response";

static void http_date(int64_t t, char *out, size_t len) {
  const time_t tt = (time_t)t;
  struct tm tm;
  // RFC 7231 IMF-fixdate; the C locale (never changed) gives English names.
  if (gmtime_r(&tt, &tm) == NULL ||
      strftime(out, len, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0) {
    out[0] = '\0';
  }
}

static void answer(api_service *svc, const uint8_t *der, size_t len, int get,
                   api_response *resp) {
  ca_ocsp_answer a;
  if (!ca_responder_answer(svc->responder, der, len, &a)) {
    api_respond_err_code(resp, API_FORMAT_TEXT, CA_ERR_NO_MEMORY,
                         "out of memory");
    return;
  }
  atomic_fetch_add(&svc->metrics.ocsp_requests, 1);
  api_respond(resp, 200, kOcspType, a.der, a.der_len);
  if (get && a.cacheable) {
    // RFC 5019 6.2: max-age no later than nextUpdate, plus Last-Modified,
    // Expires and ETag so that HTTP caches can serve the response.
    const int64_t now = (int64_t)time(NULL);
    const int64_t max_age = a.next_update > now ? a.next_update - now : 0;
    char value[96];
    snprintf(value, sizeof(value),
             "max-age=%lld, public, no-transform, must-revalidate",
             (long long)max_age);
    api_add_header(resp, "Cache-Control", value);
    http_date(a.produced_at, value, sizeof(value));
    api_add_header(resp, "Last-Modified", value);
    http_date(a.next_update, value, sizeof(value));
    api_add_header(resp, "Expires", value);
    api_add_header(resp, "ETag", a.etag);
    resp->cacheable = 1;
  }
}

static void malformed(api_response *resp) {
  uint8_t *der = OPENSSL_malloc(5);
  if (der == NULL) {
    api_respond_err_code(resp, API_FORMAT_TEXT, CA_ERR_NO_MEMORY,
                         "out of memory");
    return;
  }
  ca_ocsp_error_response(CA_OCSP_MALFORMED_REQUEST, der);
  api_respond(resp, 200, kOcspType, der, 5);
}

// The OCSP listener's /healthz does not ask the database: the responder
// answers from its cache while PostgreSQL is away (tryLater only for what
// it has not cached), so a load balancer should keep sending it traffic.
void api_handle_ocsp_healthz(api_service *svc, const api_request *req,
                             api_response *resp) {
  (void)svc;
  (void)req;
  api_respond_copy(resp, 200, "text/plain", "ok\n", 3);
}

void api_handle_ocsp_post(api_service *svc, const api_request *req,
                          api_response *resp) {
  answer(svc, req->body, req->body_len, 0, resp);
}

void api_handle_ocsp_get(api_service *svc, const api_request *req,
                         api_response *resp) {
  // The path after the listener's root: base64 of the DER request, which
  // clients URL-encode ('/', '+' and '=' as %2F, %2B, %3D) or not.
  char b64[API_PARAM_MAX];
  size_t n = 0;
  for (const char *p = req->param; *p != '\0' && n + 1 < sizeof(b64); p++) {
    if (*p == '%' && ca_hex_value(p[1]) >= 0 && ca_hex_value(p[2]) >= 0) {
      b64[n++] = (char)(ca_hex_value(p[1]) << 4 | ca_hex_value(p[2]));
      p += 2;
    } else {
      b64[n++] = *p;
    }
  }
  uint8_t der[API_PARAM_MAX];
  size_t der_len, max;
  if (n == 0 || !EVP_DecodedLength(&max, n) || max > sizeof(der) ||
      !EVP_DecodeBase64(der, &der_len, sizeof(der), (const uint8_t *)b64, n)) {
    atomic_fetch_add(&svc->metrics.ocsp_requests, 1);
    malformed(resp);
    return;
  }
  answer(svc, der, der_len, 1, resp);
}
