// The web console under /ui/ (api/server/handlers/handlers_ui.c).
#ifndef PKI_API_HANDLERS_UI_H
#define PKI_API_HANDLERS_UI_H

#include "api/server/http.h"
#include "api/server/service.h"

// The console's Content-Security-Policy, sent with every /ui/ answer: its
// own scripts, styles and API only; no inline script or style, no frames,
// no forms posted anywhere.
#define API_UI_CSP                                              \
  "default-src 'none'; script-src 'self'; style-src 'self'; "   \
  "connect-src 'self'; img-src 'self' data:; base-uri 'none'; " \
  "form-action 'none'; frame-ancestors 'none'"

// api_handle_ui answers GET /ui and GET /ui/{path}: a file compiled into
// pkid (api/server/ui/ui_files.h), 304 when If-None-Match names its ETag,
// 404 NOT_FOUND for any other path.
void api_handle_ui(api_service *svc, const api_request *req,
                   api_response *resp);

#endif  // PKI_API_HANDLERS_UI_H
