// GET /ui/...: the web console's files, from the binary
// (api/server/ui/ui_files.h). Public like /healthz: the files hold no data;
// every call they make to /v1/ carries the user's own credential.
#include <string.h>

#include "api/server/handlers/handlers_ui.h"
#include "api/server/ui/ui_files.h"

static const char *ends_with(const char *s, const char *suffix) {
  const size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0 ? s + n - m : NULL;
}

static const char *content_type_of(const char *name) {
  if (ends_with(name, ".html")) {
    return "text/html; charset=utf-8";
  }
  if (ends_with(name, ".js")) {
    return "text/javascript; charset=utf-8";
  }
  if (ends_with(name, ".css")) {
    return "text/css; charset=utf-8";
  }
  if (ends_with(name, ".svg")) {
    return "image/svg+xml";
  }
  return "application/octet-stream";
}

static const api_ui_file *find_file(const char *name) {
  size_t n;
  const api_ui_file *files = api_ui_files(&n);
  for (size_t i = 0; i < n; i++) {
    if (strcmp(files[i].name, name) == 0) {
      return &files[i];
    }
  }
  return NULL;
}

// add_security_headers sets what every /ui/ answer carries, 404s included.
static void add_security_headers(api_response *resp) {
  api_add_header(resp, "Content-Security-Policy", API_UI_CSP);
  api_add_header(resp, "Referrer-Policy", "no-referrer");
  api_add_header(resp, "X-Frame-Options", "DENY");
  api_add_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
}

// etag_matches reports whether If-None-Match lists |etag| (or is "*").
static int etag_matches(const char *header, const char *etag) {
  if (header == NULL) {
    return 0;
  }
  if (strcmp(header, "*") == 0) {
    return 1;
  }
  const char *hit = strstr(header, etag);
  return hit != NULL;
}

void api_handle_ui(api_service *svc, const api_request *req,
                   api_response *resp) {
  (void)svc;
  add_security_headers(resp);
  if (strcmp(req->path, "/ui") == 0) {
    api_add_header(resp, "Location", "/ui/");
    api_respond_copy(resp, 301, "text/plain", "/ui/\n", 5);
    return;
  }
  const char *name = req->param[0] == '\0' ? "index.html" : req->param;
  const api_ui_file *file = find_file(name);
  if (file == NULL) {
    api_respond_err_code(resp, API_FORMAT_TEXT, CA_ERR_NOT_FOUND,
                         "no such page of the console");
    return;
  }
  // The files change only with the binary: the browser keeps them and
  // asks again (no-cache) each time, answered 304 while the ETag holds.
  resp->cacheable = 1;
  api_add_header(resp, "Cache-Control", "no-cache");
  api_add_header(resp, "ETag", file->etag);
  if (etag_matches(api_header(req, "If-None-Match"), file->etag)) {
    api_respond(resp, 304, NULL, NULL, 0);
    return;
  }
  api_respond_copy(resp, 200, content_type_of(file->name), file->data,
                   file->len);
}
