// pkid's run-time limits applied to its HTTP routes.
#ifndef PKI_API_LIMITS_H
#define PKI_API_LIMITS_H

#include <stddef.h>

#include "api/server/http.h"

// api_routes_limited returns a copy of the |n| routes |routes| whose body
// limits follow pkid's flags: the batch call (POST
// /v1/certificates:batchIssue) takes |max_body| bytes; the calls of one CSR
// take twice |max_csr| (its PEM form) — POST /v1/sign exactly that,
// POST /v1/certificates:issue 1 KiB more for its other fields; and no call
// takes more than |max_body|. The routes are matched by their handlers, so
// the order of the table does not matter. It returns NULL when out of
// memory; the caller frees the copy with OPENSSL_free after the server
// stopped.
api_route *api_routes_limited(const api_route *routes, size_t n,
                              size_t max_body, size_t max_csr);

#endif  // PKI_API_LIMITS_H
