// The HTTP layer of pkid over libmicrohttpd: a request is read whole
// (bounded by its route's limit, checked against Content-Length before any
// byte of the body is read), handed to the route's handler, and its response
// sent.
//
// DESIGN: libmicrohttpd runs an epoll listener thread and a pool of worker
// threads (--http-threads); each request is handled start to finish on one
// pool thread. Handlers are called concurrently and must only share state
// that is thread-safe (the store's pool, the read-only authority, atomic
// metrics).
#ifndef PKI_API_HTTP_H
#define PKI_API_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "api/server/budget.h"
#include "ca/error.h"
#include "ca/policy/access.h"

struct MHD_Connection;
struct ProtobufCMessage;
typedef struct ProtobufCMessage ProtobufCMessage;
struct ProtobufCMessageDescriptor;
typedef struct ProtobufCMessageDescriptor ProtobufCMessageDescriptor;
struct MHD_Daemon;
typedef struct api_service api_service;

// How a route answers errors: a pki.v1.Error protobuf, or "CODE: message"
// text.
typedef enum api_format {
  API_FORMAT_PROTOBUF,
  API_FORMAT_TEXT,
} api_format;

// Long enough for an OCSP GET request (RFC 5019 keeps them under 255
// bytes of base64, URL-encoded).
#define API_PARAM_MAX 2048

typedef struct api_pending api_pending;

typedef struct api_request {
  const char *method;
  const char *path;
  char param[API_PARAM_MAX];  // the {param} path segment, if the route has one
  const uint8_t *body;
  size_t body_len;
  char remote[64];  // client address, for the audit log
  // Who calls (api_authorize): its role and the name the audit log
  // records; "anonymous" with CA_ROLE_NONE on public routes.
  ca_principal principal;
  struct MHD_Connection *conn;
  api_pending *pending;  // see api_defer
  // The client sent JSON, which the server turned into the protobuf bytes
  // of the route's |request| message before the handler: |body| is
  // protobuf either way.
  int body_from_json;
} api_request;

typedef struct api_response {
  unsigned status;
  const char *content_type;  // static string
  uint8_t *body;             // OPENSSL_malloc'd, owned; sent without a copy
  size_t body_len;
  unsigned retry_after;  // seconds; 0 for no Retry-After header
  // Further headers (the caching headers of OCSP GET, the console's
  // Content-Security-Policy). Unless |cacheable|, every response says
  // Cache-Control: no-store.
  struct {
    char name[32];
    char value[192];
  } headers[8];
  size_t n_headers;
  int cacheable;
  // Set by the server before the handler runs: the client asked for JSON
  // (Accept, else a JSON Content-Type), so api_respond_message and the
  // protobuf errors of api_respond_error answer in JSON.
  int json;
} api_response;

// api_add_header adds a header to |resp| (ignored past eight).
void api_add_header(api_response *resp, const char *name, const char *value);

typedef void (*api_handler)(api_service *svc, const api_request *req,
                            api_response *resp);

// Deferred answers. A handler that hands its work to another thread (the
// signing engine) passes req->pending to that work, then calls api_defer.
// When the work is done, its thread calls api_complete(pending) exactly
// once; the server then calls |finish| on one of its own threads to build
// the response. Until then the connection is suspended and holds no thread.
// If the work completed before api_defer was called, api_defer calls
// |finish| at once. The request body stays valid until |finish| returns.
typedef void (*api_finish)(void *arg, api_response *resp);

// api_defer arranges for |finish|(|arg|, response) to answer the request
// once api_complete is called.
void api_defer(const api_request *req, api_finish finish, void *arg,
               api_response *resp);

// api_complete marks the deferred work of a request done; any thread.
void api_complete(api_pending *pending);

// Who may call a route. The zero value is the strictest, so that a route
// declared without one is an admin route.
typedef enum api_access {
  API_ACCESS_ADMIN = 0,  // admins, from an address on the admin allowlist
  API_ACCESS_REVOKE,     // revokers and admins, on the allowlist too
  API_ACCESS_ISSUE,      // issuers (profiles: api_require_profile), admins
  API_ACCESS_READ,       // any role
  API_ACCESS_PUBLIC,     // anyone, without a credential
} api_access;

typedef struct api_route {
  const char *method;
  // A path, where "*" stands for one segment captured in |param|:
  // "/v1/ca/*/chain".
  const char *pattern;
  api_handler handler;
  api_format errors;
  size_t max_body;  // 0: no body accepted
  api_access access;
} api_route;

// The message a route's protobuf body holds, named by the route's handler.
// Naming it is all a route needs to take JSON as well (application/json,
// read by api/json/json_codec.h); a route without one refuses a JSON
// body with UNSUPPORTED_MEDIA_TYPE. Answers follow Accept on every route
// whose errors are API_FORMAT_PROTOBUF either way. A table beside the
// route table rather than a field of api_route, so that route entries keep
// their shape.
typedef struct api_body_type {
  api_handler handler;
  const ProtobufCMessageDescriptor *request;
} api_body_type;

// api_query returns the query-string argument |name|, or NULL when it is
// absent. Values longer than CA_LIMIT_QUERY_VALUE_LEN are treated as absent
// by callers through api_query_checked.
const char *api_query(const api_request *req, const char *name);

// api_query_checked is api_query that refuses (returns 0 with
// CA_ERR_PARAMETER_INVALID) a value over CA_LIMIT_QUERY_VALUE_LEN bytes or
// holding a NUL byte (sent as %00).
// |*out| is NULL when the argument is absent.
int api_query_checked(const api_request *req, const char *name,
                      const char **out) CA_MUST_CHECK;

// api_header returns the request header |name| or NULL.
const char *api_header(const api_request *req, const char *name);

// api_respond sets |resp| to |status| with |body| (OPENSSL_malloc'd; owned
// by |resp| from now on, even on failure).
void api_respond(api_response *resp, unsigned status, const char *content_type,
                 uint8_t *body, size_t body_len);

// api_respond_copy is api_respond with a copy of |data|.
void api_respond_copy(api_response *resp, unsigned status,
                      const char *content_type, const void *data, size_t len);

// api_require_protobuf returns 1 when the request says its body is
// protobuf (Content-Type application/x-protobuf or application/protobuf)
// or it came as JSON and the server turned it into protobuf
// (|body_from_json|), else 0 with CA_ERR_UNSUPPORTED_MEDIA_TYPE: a form
// body sent by mistake would otherwise decode as garbage.
int api_require_protobuf(const api_request *req) CA_MUST_CHECK;

// api_respond_message answers 200 with the protobuf message |msg|
// (borrowed), in JSON when |resp->json|, or 500 NO_MEMORY.
void api_respond_message(api_response *resp, const ProtobufCMessage *msg);

// api_respond_error answers the error |err| in the route's error format,
// with the HTTP status of its code and the message
// api_error_client_message gives.
void api_respond_error(api_response *resp, api_format format,
                       const ca_err *err);

// What a client is told of a database failure, whatever the database said.
#define API_STORAGE_ERROR_MESSAGE \
  "the database could not complete the request (details in pkid's log)"

// api_error_client_message returns the message a client may be sent for
// |err|: its own, or API_STORAGE_ERROR_MESSAGE (a static string) for
// STORAGE_UNAVAILABLE and any message holding the database's text, which
// may name tables, constraints, values, hosts and ports; that text then
// goes to pkid's log as one line (rate-limited, api/server/log.h). The pointer
// is |err|'s message or static.
const char *api_error_client_message(const ca_err *err);

// api_respond_err_code is api_respond_error for a code and message.
void api_respond_err_code(api_response *resp, api_format format,
                          ca_err_code code, const char *message);

// api_status_for returns the HTTP status of an error code.
unsigned api_status_for(ca_err_code code);

typedef struct api_server_config {
  const char *listen;  // "HOST:PORT"; port 0 picks a free port
  unsigned threads;
  unsigned connection_limit;
  unsigned connection_timeout_s;
  const api_route *routes;
  size_t route_count;
  // The messages of the routes' protobuf bodies, for JSON requests; may
  // be NULL (no route takes a JSON body).
  const api_body_type *body_types;
  size_t body_type_count;
  api_service *svc;
  // Called before a request's body is read; NULL lets every request in
  // (the OCSP listener). On 0 the request is refused with the error set.
  int (*authorize)(api_service *svc, const api_route *route, api_request *req);
  // Serve TLS with the identity of api/server/tls.h instead of plain HTTP.
  int tls;
  // With |tls|: the CA certificates (PEM) whose names clients are sent when
  // asked for a certificate; clients may then present one (optional; the
  // authorize hook checks it). NULL asks for none.
  const char *tls_client_cas;
  // --- Limits ---
  unsigned connection_limit_per_ip;  // 0: no per-address limit
  // Seconds from a request's headers to the end of its body; past it the
  // request is answered 408 REQUEST_TIMEOUT, or its connection closed. 0:
  // only the idle timeout applies.
  unsigned request_timeout_s;
  // Memory of one connection for its request line, headers and read
  // buffer; headers that do not fit are answered 431 by libmicrohttpd. 0:
  // CA_LIMIT_HEADER_BYTES.
  size_t memory_limit;
  // The request bodies this listener may hold at once (borrowed; it must
  // outlive the server); a request whose body does not fit is answered 503
  // BUFFERS_FULL. NULL: no bound beyond connections x route limits.
  api_budget *budget;
} api_server_config;

typedef struct api_server api_server;

// api_server_start binds and starts serving. It returns NULL with
// CA_ERR_CONFIG when the address is bad or taken. The caller stops it with
// api_server_stop.
api_server *api_server_start(const api_server_config *config);

// api_server_port returns the bound port.
unsigned api_server_port(const api_server *server);

// api_server_quiesce stops taking new connections (each is closed as soon
// as it is accepted); requests in flight, and connections already open, go
// on.
void api_server_quiesce(api_server *server);

// api_server_stop waits up to |wait_s| seconds for the requests in flight to
// be answered, then stops the server and frees it. It accepts NULL.
void api_server_stop(api_server *server, unsigned wait_s);

#endif  // PKI_API_HTTP_H
