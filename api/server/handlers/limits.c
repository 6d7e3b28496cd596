#include "api/server/handlers/limits.h"
#include "api/server/handlers/handlers.h"

#include <openssl/mem.h>
#include <stdlib.h>
#include <string.h>

#include "api/server/service.h"

// The other fields of an IssueRequest (profile, validity, cluster) beside
// its CSR, as in the static route table.
#define ISSUE_FIELDS_BYTES 1024

api_route *api_routes_limited(const api_route *routes, size_t n,
                              size_t max_body, size_t max_csr) {
  // Handed to the caller, so OPENSSL_malloc; route tables are a few dozen
  // entries, so the size cannot wrap.
  api_route *out = OPENSSL_malloc((n > 0 ? n : 1) * sizeof(*out));
  if (out == NULL) {
    return NULL;
  }
  memcpy(out, routes, n * sizeof(*out));
  for (size_t i = 0; i < n; i++) {
    api_route *r = &out[i];
    if (r->handler == api_handle_batch_issue) {
      r->max_body = max_body;
    } else if (r->handler == api_handle_sign) {
      r->max_body = 2 * max_csr;
    } else if (r->handler == api_handle_issue) {
      r->max_body = 2 * max_csr + ISSUE_FIELDS_BYTES;
    }
    if (r->max_body > max_body) {
      r->max_body = max_body;
    }
  }
  return out;
}
