// Unit test of api/server/handlers/routes.c: every route that takes a
// protobuf body names its message in kBodyTypes, so that it takes JSON too
// (ARCHITECTURE.md, "JSON beside protobuf"). A route added with a body and
// without its kBodyTypes line fails here, unless its body is not protobuf
// (then it belongs to kOtherBodies below, with the reason).
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "api/server/handlers/handlers.h"
#include "tests/support/test.h"

// Routes whose body is not a protobuf message.
static const struct {
  const char *method;
  const char *pattern;
} kOtherBodies[] = {
    {"POST", "/v1/sign"},     // a PEM or DER CSR, for curl
    {"POST", "/v1/trust/*"},  // certificate files: PEM, DER, PKCS#7
};

static int other_body(const api_route *r) {
  for (size_t i = 0; i < sizeof(kOtherBodies) / sizeof(kOtherBodies[0]); i++) {
    if (strcmp(r->method, kOtherBodies[i].method) == 0 &&
        strcmp(r->pattern, kOtherBodies[i].pattern) == 0) {
      return 1;
    }
  }
  return 0;
}

static const api_body_type *body_type_of(api_handler handler) {
  size_t n = 0;
  const api_body_type *types = api_body_types(&n);
  for (size_t i = 0; i < n; i++) {
    if (types[i].handler == handler) {
      return &types[i];
    }
  }
  return NULL;
}

TEST(every_route_with_a_body_has_its_message) {
  size_t n = 0;
  const api_route *routes = api_routes(&n);
  CHECK(n > 0);
  for (size_t i = 0; i < n; i++) {
    const api_route *r = &routes[i];
    const api_body_type *t = body_type_of(r->handler);
    if (r->max_body == 0) {
      // No body read: a kBodyTypes line would be dead.
      CHECK(t == NULL);
      continue;
    }
    if (other_body(r)) {
      CHECK(t == NULL);
      continue;
    }
    if (t == NULL || t->request == NULL) {
      fprintf(stderr, "%s %s takes a body but has no kBodyTypes line\n",
              r->method, r->pattern);
    }
    CHECK(t != NULL && t->request != NULL);
  }
}

TEST(every_body_type_is_a_route) {
  size_t n_types = 0, n_routes = 0;
  const api_body_type *types = api_body_types(&n_types);
  const api_route *routes = api_routes(&n_routes);
  for (size_t i = 0; i < n_types; i++) {
    int found = 0;
    for (size_t k = 0; k < n_routes; k++) {
      found |= routes[k].handler == types[i].handler && routes[k].max_body > 0;
    }
    CHECK(found);
  }
}

TEST(the_new_routes_have_their_messages) {
  size_t n = 0;
  const api_route *routes = api_routes(&n);
  static const struct {
    const char *method, *pattern, *message;
  } kExpected[] = {
      {"POST", "/v1/identities", "pki.v1.RegisterIdentityRequest"},
      {"PUT", "/v1/identities/*", "pki.v1.RegisterIdentityRequest"},
      {"POST", "/v1/nodes", "pki.v1.Node"},
      {"POST", "/v1/nodes:multiServer", "pki.v1.MultiServerRequest"},
      {"POST", "/v1/certificates/*:regenerate", "pki.v1.RegenerateRequest"},
  };
  for (size_t e = 0; e < sizeof(kExpected) / sizeof(kExpected[0]); e++) {
    const api_body_type *t = NULL;
    for (size_t i = 0; i < n; i++) {
      if (strcmp(routes[i].method, kExpected[e].method) == 0 &&
          strcmp(routes[i].pattern, kExpected[e].pattern) == 0) {
        t = body_type_of(routes[i].handler);
      }
    }
    CHECK(t != NULL && t->request != NULL);
    if (t != NULL && t->request != NULL) {
      CHECK_EQ_STR(t->request->name, kExpected[e].message);
    }
  }
}

// GET /v1/audit: admins only (it names tokens and client addresses), no
// body and so no kBodyTypes line, errors as pki.v1.Error (JSON when asked).
TEST(the_audit_route_is_for_admins_without_a_body) {
  size_t n = 0;
  const api_route *routes = api_routes(&n);
  const api_route *audit = NULL;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(routes[i].method, "GET") == 0 &&
        strcmp(routes[i].pattern, "/v1/audit") == 0) {
      audit = &routes[i];
    }
  }
  CHECK(audit != NULL);
  if (audit == NULL) {
    return;
  }
  CHECK(audit->handler == api_handle_audit_list);
  CHECK_EQ_INT(audit->access, API_ACCESS_ADMIN);
  CHECK_EQ_INT(audit->max_body, 0);
  CHECK_EQ_INT(audit->errors, API_FORMAT_PROTOBUF);
  CHECK(body_type_of(audit->handler) == NULL);
}

// The statistics snapshot: read by any role, refreshed by an admin, no
// body either way.
TEST(the_stats_routes_read_for_readers_and_refresh_for_admins) {
  size_t n = 0;
  const api_route *routes = api_routes(&n);
  int get = 0, refresh = 0;
  for (size_t i = 0; i < n; i++) {
    const api_route *r = &routes[i];
    if (strcmp(r->pattern, "/v1/stats") == 0 && strcmp(r->method, "GET") == 0) {
      get = 1;
      CHECK(r->access == API_ACCESS_READ);
      CHECK(r->max_body == 0);
      CHECK(r->errors == API_FORMAT_PROTOBUF);
    }
    if (strcmp(r->pattern, "/v1/stats:refresh") == 0 &&
        strcmp(r->method, "POST") == 0) {
      refresh = 1;
      CHECK(r->access == API_ACCESS_ADMIN);
      CHECK(r->max_body == 0);
    }
  }
  CHECK(get && refresh);
}

int main(void) {
  RUN(every_route_with_a_body_has_its_message);
  RUN(every_body_type_is_a_route);
  RUN(the_new_routes_have_their_messages);
  RUN(the_audit_route_is_for_admins_without_a_body);
  RUN(the_stats_routes_read_for_readers_and_refresh_for_admins);
  return test_summary();
}
