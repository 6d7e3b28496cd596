#include "api/server/http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <openssl/mem.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/json/json_codec.h"
#include "api/server/log.h"
#include "api/server/media.h"
#include "api/server/tls.h"
#include "ca/limits.h"
#include "proto/pki.pb-c.h"

struct api_server {
  struct MHD_Daemon *daemon;
  api_server_config config;
  unsigned port;
  atomic_int in_flight;  // requests begun and not yet completed
  atomic_int quiesced;   // api_server_quiesce was called: refuse connections
};

// The deferred state of a request (api_defer). |mu| orders api_defer
// against api_complete, which may run first on another thread.
struct api_pending {
  pthread_mutex_t mu;
  struct MHD_Connection *conn;
  int done;       // api_complete was called
  int suspended;  // the connection is suspended, waiting for |done|
  api_finish finish;
  void *finish_arg;
};

// Per-request state, from the first call of the access handler to the
// completion notification.
typedef struct request_state {
  const api_route *route;
  char param[API_PARAM_MAX];
  uint8_t *body;
  size_t body_len;
  size_t body_cap;
  size_t reserved;     // bytes of the listener's budget this request holds
  ca_err early_error;  // a refusal decided before the body was read
  int has_early_error;
  ca_principal principal;  // who calls, once authorized
  api_pending pending;
  int deferred;     // a finish callback will answer
  int json_answer;  // answer in JSON (negotiate_json)
  // --- Limits ---
  struct timespec started;  // headers read: the start of --request-timeout
  unsigned idle_timeout_s;  // the connection's idle timeout we set; 0: ours
} request_state;

const char *api_query(const api_request *req, const char *name) {
  return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

int api_query_checked(const api_request *req, const char *name,
                      const char **out) {
  const char *v = NULL;
  size_t len = 0;
  if (MHD_lookup_connection_value_n(req->conn, MHD_GET_ARGUMENT_KIND, name,
                                    strlen(name), &v, &len) != MHD_YES) {
    v = NULL;
  }
  CA_ENSURE_RETURN(
      v == NULL || len <= CA_LIMIT_QUERY_VALUE_LEN, CA_ERR_PARAMETER_INVALID,
      "parameter %s longer than %d bytes", name, CA_LIMIT_QUERY_VALUE_LEN);
  // "%00" decodes to a NUL byte, which would cut the value C reads short.
  CA_ENSURE_RETURN(v == NULL || strlen(v) == len, CA_ERR_PARAMETER_INVALID,
                   "parameter %s holds a NUL byte", name);
  *out = v;
  return 1;
}

const char *api_header(const api_request *req, const char *name) {
  return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void api_respond(api_response *resp, unsigned status, const char *content_type,
                 uint8_t *body, size_t body_len) {
  OPENSSL_free(resp->body);
  resp->status = status;
  resp->content_type = content_type;
  resp->body = body;
  resp->body_len = body_len;
}

void api_add_header(api_response *resp, const char *name, const char *value) {
  const size_t max = sizeof(resp->headers) / sizeof(resp->headers[0]);
  if (resp->n_headers < max) {
    snprintf(resp->headers[resp->n_headers].name, sizeof(resp->headers[0].name),
             "%s", name);
    snprintf(resp->headers[resp->n_headers].value,
             sizeof(resp->headers[0].value), "%s", value);
    resp->n_headers++;
  }
}

void api_respond_copy(api_response *resp, unsigned status,
                      const char *content_type, const void *data, size_t len) {
  uint8_t *copy = OPENSSL_memdup(data, len > 0 ? len : 1);
  if (copy == NULL) {
    api_respond(resp, 500, "text/plain", NULL, 0);
    return;
  }
  api_respond(resp, status, content_type, copy, len);
}

unsigned api_status_for(ca_err_code code) {
  switch (code) {
    case CA_OK:
      return 200;
    case CA_ERR_BODY_TOO_LARGE:
    case CA_ERR_BATCH_TOO_LARGE:
    case CA_ERR_CSR_TOO_LARGE:
    case CA_ERR_OBJECT_TOO_LARGE:
      return 413;
    case CA_ERR_NOT_FOUND:
    case CA_ERR_TRUST_STORE_UNKNOWN:
      return 404;
    case CA_ERR_AMBIGUOUS:
    case CA_ERR_CONFLICT:
    case CA_ERR_ALREADY_REVOKED:
    case CA_ERR_NOT_ON_HOLD:
    case CA_ERR_IDENTITY_NOT_DELETABLE:
    case CA_ERR_NOT_SELF_SIGNED:
    case CA_ERR_TRUST_HAS_DEPENDENTS:
    case CA_ERR_IDENTITY_EXISTS:
      return 409;
    case CA_ERR_NOTIFY_FAILED:
    case CA_ERR_REVOCATION_UNREACHABLE:
      return 502;
    case CA_ERR_UNAUTHENTICATED:
      return 401;
    case CA_ERR_FORBIDDEN:
    case CA_ERR_ADDRESS_NOT_ALLOWED:
      return 403;
    case CA_ERR_REQUEST_TIMEOUT:
      return 408;
    case CA_ERR_METHOD_NOT_ALLOWED:
      return 405;
    case CA_ERR_UNSUPPORTED_MEDIA_TYPE:
      return 415;
    case CA_ERR_STORAGE_UNAVAILABLE:
    case CA_ERR_ISSUER_UNAVAILABLE:
    case CA_ERR_QUEUE_FULL:
    case CA_ERR_SHUTTING_DOWN:
    case CA_ERR_BUFFERS_FULL:
      return 503;
    case CA_ERR_INTERNAL:
    case CA_ERR_NO_MEMORY:
    case CA_ERR_SERIAL_EXHAUSTED:
    case CA_ERR_KEY_FILE:
    case CA_ERR_CONFIG:
    case CA_ERR_COUNT:
      return 500;
    default:
      return 400;
  }
}

int api_require_protobuf(const api_request *req) {
  if (req->body_from_json) {
    return 1;
  }
  const char *type = api_header(req, "Content-Type");
  static const char *const kTypes[] = {"application/x-protobuf",
                                       "application/protobuf"};
  for (size_t i = 0; type != NULL && i < 2; i++) {
    const size_t n = strlen(kTypes[i]);
    if (strncasecmp(type, kTypes[i], n) == 0 &&
        (type[n] == '\0' || type[n] == ';')) {
      return 1;
    }
  }
  CA_SET_ERROR(CA_ERR_UNSUPPORTED_MEDIA_TYPE,
               "send Content-Type: application/x-protobuf or "
               "application/json");
  return 0;
}

void api_respond_message(api_response *resp, const ProtobufCMessage *msg) {
  if (resp->json) {
    uint8_t *text = NULL;
    size_t text_len = 0;
    if (!api_json_encode(msg, &text, &text_len)) {
      api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
      return;
    }
    api_respond(resp, 200, "application/json", text, text_len);
    return;
  }
  const size_t len = protobuf_c_message_get_packed_size(msg);
  uint8_t *buf = OPENSSL_malloc(len > 0 ? len : 1);
  if (buf == NULL) {
    api_respond_err_code(resp, API_FORMAT_PROTOBUF, CA_ERR_NO_MEMORY,
                         "out of memory");
    return;
  }
  (void)protobuf_c_message_pack(msg, buf);
  api_respond(resp, 200, "application/x-protobuf", buf, len);
}

const char *api_error_client_message(const ca_err *err) {
  // Only the store formats the server's text, always with "(SQLSTATE ...)"
  // (ca_store_check_result); every STORAGE_UNAVAILABLE message may hold
  // libpq's text too (host, port, server messages).
  if (err->code != CA_ERR_STORAGE_UNAVAILABLE &&
      strstr(err->message, "(SQLSTATE ") == NULL) {
    return err->message;
  }
  // One line: libpq's messages may hold line ends and tabs.
  char detail[CA_ERR_MESSAGE_LEN];
  size_t n = 0;
  for (const char *p = err->message; *p != '\0' && n + 1 < sizeof(detail);
       p++) {
    const char c = (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p;
    if (c == ' ' && (n == 0 || detail[n - 1] == ' ')) {
      continue;
    }
    detail[n++] = c;
  }
  while (n > 0 && detail[n - 1] == ' ') {
    n--;
  }
  detail[n] = '\0';
  // During an outage every request fails this way: rate-limited.
  api_log_limited("storage-error", API_LOG_ERROR,
                  "answered %s without the database's text: %s (%s:%d)",
                  ca_err_code_name(err->code), detail,
                  err->file != NULL ? err->file : "?", err->line);
  return API_STORAGE_ERROR_MESSAGE;
}

void api_respond_error(api_response *resp, api_format format,
                       const ca_err *err) {
  const unsigned status = api_status_for(err->code);
  const char *name = ca_err_code_name(err->code);
  const char *message = api_error_client_message(err);
  if ((err->code == CA_ERR_STORAGE_UNAVAILABLE ||
       err->code == CA_ERR_BUFFERS_FULL) &&
      resp->retry_after == 0) {
    // The database is down or failed this request: the store reconnects
    // with a backoff of at most CA_LIMIT_DB_RETRY_MAX_MS, so a retry soon
    // may succeed. Buffers are given back as the requests holding them are
    // answered, in about the time one takes.
    resp->retry_after = 1;
  }
  if (format == API_FORMAT_PROTOBUF) {
    Pki__V1__Error msg = PKI__V1__ERROR__INIT;
    msg.code = (char *)name;
    msg.message = (char *)message;
    uint8_t *text = NULL;
    size_t text_len = 0;
    if (resp->json && api_json_encode(&msg.base, &text, &text_len)) {
      api_respond(resp, status, "application/json", text, text_len);
      return;
    }
    const size_t len = pki__v1__error__get_packed_size(&msg);
    uint8_t *buf = OPENSSL_malloc(len > 0 ? len : 1);
    if (buf != NULL) {
      pki__v1__error__pack(&msg, buf);
      api_respond(resp, status, "application/x-protobuf", buf, len);
      return;
    }
  }
  char text[CA_ERR_MESSAGE_LEN + 64];
  int n = snprintf(text, sizeof(text), "%s: %s\n", name, message);
  if (n < 0) {
    n = 0;
  }
  api_respond_copy(resp, status, "text/plain; charset=utf-8", text,
                   (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

void api_respond_err_code(api_response *resp, api_format format,
                          ca_err_code code, const char *message) {
  ca_err err;
  memset(&err, 0, sizeof(err));
  err.code = code;
  snprintf(err.message, sizeof(err.message), "%s", message);
  api_respond_error(resp, format, &err);
}

// match_route matches |path| against |pattern|. "*" captures one segment
// (up to '/'), less the literal text that follows it in the pattern up to
// the next '/' ("/v1/certificates/*:revoke"); "**" at the end captures the
// rest of the path, slashes included (OCSP GET requests in base64).
static int match_route(const char *pattern, const char *path,
                       char param[API_PARAM_MAX]) {
  param[0] = '\0';
  while (*pattern != '\0') {
    if (pattern[0] == '*' && pattern[1] == '*') {
      const size_t n = strlen(path);
      if (n >= API_PARAM_MAX) {
        return 0;
      }
      memcpy(param, path, n + 1);
      return pattern[2] == '\0';
    }
    if (*pattern == '*') {
      size_t segment = 0;
      while (path[segment] != '\0' && path[segment] != '/') {
        segment++;
      }
      size_t suffix = 0;
      while (pattern[1 + suffix] != '\0' && pattern[1 + suffix] != '/') {
        suffix++;
      }
      if (segment <= suffix || segment - suffix >= API_PARAM_MAX ||
          memcmp(path + segment - suffix, pattern + 1, suffix) != 0) {
        return 0;
      }
      memcpy(param, path, segment - suffix);
      param[segment - suffix] = '\0';
      path += segment;
      pattern += 1 + suffix;
      continue;
    }
    if (*pattern != *path) {
      return 0;
    }
    pattern++;
    path++;
  }
  return *path == '\0';
}

static void set_early_error(request_state *state, ca_err_code code,
                            const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_early_error(request_state *state, ca_err_code code,
                            const char *fmt, ...) {
  state->has_early_error = 1;
  state->early_error.code = code;
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(state->early_error.message,
                  sizeof(state->early_error.message), fmt, ap);
  va_end(ap);
}

// route_for finds the route of |method| |url|, or sets an early error.
static void route_for(const api_server *server, const char *method,
                      const char *url, request_state *state) {
  int path_known = 0;
  for (size_t i = 0; i < server->config.route_count; i++) {
    const api_route *r = &server->config.routes[i];
    char param[API_PARAM_MAX];
    if (!match_route(r->pattern, url, param)) {
      continue;
    }
    path_known = 1;
    if (strcmp(r->method, method) == 0 ||
        (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)) {
      state->route = r;
      memcpy(state->param, param, sizeof(param));
      return;
    }
  }
  if (path_known) {
    set_early_error(state, CA_ERR_METHOD_NOT_ALLOWED,
                    "method %s is not allowed here", method);
  } else {
    set_early_error(state, CA_ERR_NOT_FOUND, "no such resource: %.200s", url);
  }
}

// --- Framing (RFC 9112 6.3) ---

typedef struct framing_count {
  unsigned content_length;     // Content-Length fields
  unsigned transfer_encoding;  // Transfer-Encoding fields
  int not_chunked;             // a Transfer-Encoding other than "chunked"
} framing_count;

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind,
                                     const char *key, const char *value) {
  (void)kind;
  framing_count *c = cls;
  if (key == NULL) {
    return MHD_YES;
  }
  if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
    c->content_length++;
  } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
    c->transfer_encoding++;
    if (value == NULL || strcasecmp(value, "chunked") != 0) {
      c->not_chunked = 1;
    }
  }
  return MHD_YES;
}

// framing_error returns why the length of the request's body is not
// certain, or NULL when it is. libmicrohttpd 0.9.75 takes the first of two
// Content-Length fields and lets Transfer-Encoding win over Content-Length;
// a proxy in front of pkid may choose otherwise, and the bytes one of them
// takes for a body the other takes for the next request (request
// smuggling). RFC 9112 6.3 makes such a request an error to answer 400
// before closing the connection. Two equal Content-Length fields are
// refused too: RFC 9112 allows taking them as one, but no client sends
// them, and refusing leaves nothing for an intermediary to read otherwise.
// A transfer coding other than chunked is refused as well: pkid decodes
// none, and without chunked the body would have no end.
static const char *framing_error(struct MHD_Connection *conn) {
  framing_count c = {0, 0, 0};
  if (MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &c) < 0) {
    return "its headers cannot be read";
  }
  if (c.content_length > 1) {
    return "more than one Content-Length field";
  }
  if (c.transfer_encoding > 1) {
    return "more than one Transfer-Encoding field";
  }
  if (c.transfer_encoding > 0 && c.content_length > 0) {
    return "both Content-Length and Transfer-Encoding";
  }
  if (c.not_chunked) {
    return "a Transfer-Encoding other than chunked";
  }
  return NULL;
}

static void free_body(void *p) {
  OPENSSL_free(p);
}

static enum MHD_Result send_response(struct MHD_Connection *conn,
                                     api_response *resp) {
  struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(
      resp->body_len, resp->body, free_body);
  if (r == NULL) {
    OPENSSL_free(resp->body);
    return MHD_NO;
  }
  resp->body = NULL;  // owned by |r| now
  if (resp->content_type != NULL) {
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                  resp->content_type);
  }
  for (size_t i = 0; i < resp->n_headers; i++) {
    (void)MHD_add_response_header(r, resp->headers[i].name,
                                  resp->headers[i].value);
  }
  if (resp->retry_after > 0) {
    char secs[16];
    snprintf(secs, sizeof(secs), "%u", resp->retry_after);
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
  }
  (void)MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
  if (resp->status == 401) {
    // RFC 6750 3: a 401 names the scheme the client should use.
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                  "Bearer realm=\"pki\"");
  }
  if (!resp->cacheable) {
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  }
  const enum MHD_Result ret = MHD_queue_response(conn, resp->status, r);
  MHD_destroy_response(r);
  return ret;
}

static void client_address(struct MHD_Connection *conn, char *out,
                           size_t out_len) {
  snprintf(out, out_len, "unknown");
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (info == NULL || info->client_addr == NULL) {
    return;
  }
  const struct sockaddr *sa = info->client_addr;
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
              (socklen_t)out_len);
  } else if (sa->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
              (socklen_t)out_len);
  }
}

// --- The budget of buffered bodies ---

// reserve takes |n| more bytes of the listener's budget for |state|.
static int reserve(const api_server *server, request_state *state, size_t n) {
  if (server->config.budget != NULL &&
      !api_budget_reserve(server->config.budget, n)) {
    return 0;
  }
  state->reserved += n;
  return 1;
}

// release_body frees the request's body (cleansed) and gives its
// reservation back.
static void release_body(const api_server *server, request_state *state) {
  OPENSSL_free(state->body);
  state->body = NULL;
  state->body_len = 0;
  state->body_cap = 0;
  if (server->config.budget != NULL) {
    api_budget_release(server->config.budget, state->reserved);
  }
  state->reserved = 0;
}

static void refuse_buffers_full(const api_server *server,
                                request_state *state) {
  set_early_error(
      state, CA_ERR_BUFFERS_FULL,
      "pkid holds as many request bodies as it may "
      "(--max-buffered-bytes %zu); retry later",
      server->config.budget != NULL ? server->config.budget->limit : (size_t)0);
}

// append_body adds an upload chunk, never past the route's limit nor the
// listener's budget. A refused body is freed at once; the rest of it is
// read and dropped.
static void append_body(const api_server *server, request_state *state,
                        const char *data, size_t len) {
  const size_t max = state->route->max_body;
  if (len > max - state->body_len) {
    set_early_error(state, CA_ERR_BODY_TOO_LARGE,
                    "request body larger than the limit of this call (%zu "
                    "bytes)",
                    max);
    release_body(server, state);
    return;
  }
  if (state->body_len + len > state->body_cap) {
    // Grow geometrically, capped by the limit: the size is what has arrived,
    // not what the client declared. Small to start with: most bodies (OCSP
    // requests, single CSRs) fit in 1 KiB to 4 KiB, and the buffer is
    // cleansed when freed.
    size_t cap = state->body_cap > 0 ? state->body_cap * 2 : 1024;
    while (cap < state->body_len + len) {
      cap *= 2;
    }
    // A declared length was reserved whole before the body came: one
    // buffer of that size, never reallocated.
    if (cap < state->reserved) {
      cap = state->reserved;
    }
    if (cap > max) {
      cap = max;
    }
    // A body without a length (chunked) reserves as its buffer grows.
    if (cap > state->reserved &&
        !reserve(server, state, cap - state->reserved)) {
      refuse_buffers_full(server, state);
      release_body(server, state);
      return;
    }
    uint8_t *grown = OPENSSL_realloc(state->body, cap);
    if (grown == NULL) {
      set_early_error(state, CA_ERR_NO_MEMORY, "out of memory");
      return;
    }
    state->body = grown;
    state->body_cap = cap;
  }
  memcpy(state->body + state->body_len, data, len);
  state->body_len += len;
}

// authorize runs the server's authorize hook for a routed request, before
// any of its body is read: a caller without the right credential never
// makes pkid store a body.
static void authorize(const api_server *server, struct MHD_Connection *conn,
                      request_state *state) {
  snprintf(state->principal.name, sizeof(state->principal.name), "anonymous");
  if (state->route == NULL || state->has_early_error ||
      server->config.authorize == NULL) {
    return;
  }
  api_request req;
  memset(&req, 0, sizeof(req));
  req.conn = conn;
  client_address(conn, req.remote, sizeof(req.remote));
  req.principal = state->principal;
  ca_err_clear();
  if (!server->config.authorize(server->config.svc, state->route, &req)) {
    const ca_err *err = ca_err_get();
    set_early_error(state, err->code, "%s", err->message);
    return;
  }
  state->principal = req.principal;
}

// request_overdue returns 1 when the request has been read for longer than
// --request-timeout. Otherwise it shortens the connection's idle timeout to
// the time left, so that a client that stops sending altogether is closed
// by libmicrohttpd at the deadline too: the idle timeout alone restarts with
// every byte, and a client trickling its body would hold the connection and
// its buffer for ever.
static int request_overdue(const api_server *server, request_state *state,
                           struct MHD_Connection *conn) {
  const unsigned timeout_s = server->config.request_timeout_s;
  if (timeout_s == 0) {
    return 0;
  }
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  const int64_t elapsed_ms =
      (int64_t)(now.tv_sec - state->started.tv_sec) * 1000 +
      (now.tv_nsec - state->started.tv_nsec) / 1000000;
  const int64_t left_ms = (int64_t)timeout_s * 1000 - elapsed_ms;
  if (left_ms <= 0) {
    return 1;
  }
  const unsigned left_s = (unsigned)((left_ms + 999) / 1000);
  const unsigned idle_s = server->config.connection_timeout_s;
  const unsigned current_s =
      state->idle_timeout_s != 0 ? state->idle_timeout_s : idle_s;
  if (left_s < current_s) {
    (void)MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
                                    left_s);
    state->idle_timeout_s = left_s;
  }
  return 0;
}

// request_read_whole gives the connection its own idle timeout back once
// the request is read: the deadline was for reading, not for signing or
// for the next request on the connection.
static void request_read_whole(const api_server *server, request_state *state,
                               struct MHD_Connection *conn) {
  if (state->idle_timeout_s != 0) {
    (void)MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
                                    server->config.connection_timeout_s);
    state->idle_timeout_s = 0;
  }
}

// request_state_new starts the state of a request whose headers have just
// arrived, or returns NULL when out of memory.
static request_state *request_state_new(api_server *server,
                                        struct MHD_Connection *conn) {
  request_state *state = calloc(1, sizeof(*state));
  if (state == NULL || pthread_mutex_init(&state->pending.mu, NULL) != 0) {
    free(state);
    return NULL;
  }
  state->pending.conn = conn;
  atomic_fetch_add(&server->in_flight, 1);
  clock_gettime(CLOCK_MONOTONIC, &state->started);
  return state;
}

// send_early_error answers the refusal decided for |state|, closing the
// connection when |close|.
static enum MHD_Result send_early_error(struct MHD_Connection *conn,
                                        request_state *state, int close) {
  api_response resp = {0};
  resp.json = state->json_answer;
  api_respond_error(
      &resp, state->route != NULL ? state->route->errors : API_FORMAT_TEXT,
      &state->early_error);
  if (close) {
    api_add_header(&resp, MHD_HTTP_HEADER_CONNECTION, "close");
  }
  return send_response(conn, &resp);
}

// declared_length reads Content-Length: |*out_present| says whether there
// is one, and the return value whether it is a number.
static int declared_length(struct MHD_Connection *conn, unsigned long long *out,
                           int *out_present) {
  const char *length = MHD_lookup_connection_value(
      conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  *out = 0;
  *out_present = length != NULL;
  if (length == NULL) {
    return 1;
  }
  char *end;
  *out = strtoull(length, &end, 10);
  return *end == '\0';
}

static int negotiate_json(struct MHD_Connection *conn);

// on_headers decides what can be decided from the request line and the
// headers alone, before any of the body is read: framing, route,
// credential, size and the listener's body budget.
static enum MHD_Result on_headers(api_server *server, request_state *state,
                                  struct MHD_Connection *conn,
                                  const char *method, const char *url) {
  // From now on the connection may stay idle only until the deadline: a
  // client that sends its headers and then nothing is closed there too.
  (void)request_overdue(server, state, conn);
  const char *framing = framing_error(conn);
  if (framing != NULL) {
    // Answered before anything else (no route, no credential looked up),
    // and the connection closed: where this request ends, hence where the
    // next one starts, is unknown.
    set_early_error(state, CA_ERR_FRAMING_INVALID,
                    "the request's body length is ambiguous: %s", framing);
    request_read_whole(server, state, conn);
    return send_early_error(conn, state, 1);
  }
  route_for(server, method, url, state);
  state->json_answer = state->route != NULL &&
                       state->route->errors == API_FORMAT_PROTOBUF &&
                       negotiate_json(conn);
  authorize(server, conn, state);
  unsigned long long declared;
  int present;
  const int length_ok = declared_length(conn, &declared, &present);
  // Refuse an oversized body before storing any of it.
  if (state->route != NULL &&
      (!length_ok || declared > state->route->max_body)) {
    set_early_error(state, CA_ERR_BODY_TOO_LARGE,
                    "request body larger than the limit of this call "
                    "(%zu bytes)",
                    state->route->max_body);
  }
  // The declared body is reserved whole before any of it is read, so that
  // the listener never holds more than its budget however many clients
  // send at once.
  if (!state->has_early_error && state->route != NULL && present &&
      declared > 0 && !reserve(server, state, (size_t)declared)) {
    refuse_buffers_full(server, state);
  }
  if (!state->has_early_error) {
    return MHD_YES;
  }
  // A refused request whose body is on its way is read to the end and
  // dropped before the answer, up to a bound: answering and closing while
  // the client still sends makes the kernel reset the connection, and the
  // client may lose the answer in the reset. A larger body is cut off at
  // once.
  if (length_ok && declared > 0 &&
      declared <= CA_LIMIT_REFUSED_BODY_DRAIN_BYTES) {
    return MHD_YES;
  }
  request_read_whole(server, state, conn);
  return send_early_error(conn, state, 0);
}

// on_body takes one piece of the body, unless the request was refused or
// its deadline has passed.
static enum MHD_Result on_body(api_server *server, request_state *state,
                               struct MHD_Connection *conn, const char *data,
                               size_t *size) {
  if (!request_overdue(server, state, conn)) {
    if (!state->has_early_error) {
      append_body(server, state, data, *size);
    }
    *size = 0;
    return MHD_YES;
  }
  // Answer 408 when libmicrohttpd can still send it, and close the
  // connection, whose body is left unread. libmicrohttpd 0.9.75 queues no
  // answer while a body is being read: send_response then returns MHD_NO
  // and the connection is closed at once, without one.
  *size = 0;
  char remote[64];
  client_address(conn, remote, sizeof(remote));
  api_log_limited("request-timeout", API_LOG_WARN,
                  "request from %s not received within %u seconds: cut off",
                  remote, server->config.request_timeout_s);
  set_early_error(state, CA_ERR_REQUEST_TIMEOUT,
                  "request not received within %u seconds",
                  server->config.request_timeout_s);
  return send_early_error(conn, state, 1);
}

// --- JSON beside protobuf (api/json/json_codec.h) ---

static api_media content_media(struct MHD_Connection *conn) {
  return api_media_of(MHD_lookup_connection_value(
      conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE));
}

// negotiate_json decides whether a protobuf route answers in JSON
// (api/server/media.h).
static int negotiate_json(struct MHD_Connection *conn) {
  return api_media_answer_json(
      MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                  MHD_HTTP_HEADER_ACCEPT),
      content_media(conn));
}

// body_type returns the message of the route's protobuf body, or NULL.
static const ProtobufCMessageDescriptor *body_type(const api_server *server,
                                                   const api_route *route) {
  for (size_t i = 0; i < server->config.body_type_count; i++) {
    if (server->config.body_types[i].handler == route->handler) {
      return server->config.body_types[i].request;
    }
  }
  return NULL;
}

// transcode_json_body turns a JSON body into the protobuf bytes of the
// route's message, in place of the JSON: every handler then reads
// protobuf, and the checks made on wire bytes (api/server/pb_scan.h: item
// counts, NUL bytes) hold for JSON requests too. The protobuf form is no
// larger than the JSON of pki's messages, so the body's reservation in the
// listener's budget still covers it. Returns 0 with the error set.
static int transcode_json_body(const api_server *server, request_state *state,
                               struct MHD_Connection *conn, int *from_json) {
  *from_json = 0;
  if (state->route->errors != API_FORMAT_PROTOBUF) {
    return 1;
  }
  const api_media m = content_media(conn);
  CA_ENSURE_RETURN(m != API_MEDIA_JSON_BAD, CA_ERR_UNSUPPORTED_MEDIA_TYPE,
                   "JSON is read in UTF-8 only (charset=utf-8)");
  if (m != API_MEDIA_JSON) {
    return 1;
  }
  *from_json = 1;
  if (state->body_len == 0) {
    return 1;  // no body, as with protobuf: the message's defaults
  }
  const ProtobufCMessageDescriptor *desc = body_type(server, state->route);
  CA_ENSURE_RETURN(desc != NULL, CA_ERR_UNSUPPORTED_MEDIA_TYPE,
                   "this call takes no JSON body; send "
                   "Content-Type: application/x-protobuf");
  uint8_t *pb = NULL;
  size_t pb_len = 0;
  CA_GUARD_RETURN(
      api_json_to_protobuf(desc, state->body, state->body_len, &pb, &pb_len));
  OPENSSL_free(state->body);
  state->body = pb;
  state->body_len = pb_len;
  state->body_cap = pb_len;
  return 1;
}

// dispatch hands the whole request to its route's handler. A handler that
// deferred its answer (api_defer) has suspended the connection; it is
// answered when resumed.
static enum MHD_Result dispatch(api_server *server, request_state *state,
                                struct MHD_Connection *conn, const char *method,
                                const char *url) {
  api_request req;
  memset(&req, 0, sizeof(req));
  req.method = method;
  req.path = url;
  memcpy(req.param, state->param, sizeof(req.param));
  req.conn = conn;
  req.pending = &state->pending;
  req.principal = state->principal;
  client_address(conn, req.remote, sizeof(req.remote));
  ca_err_clear();
  api_response resp = {0};
  resp.json = state->json_answer;
  if (!transcode_json_body(server, state, conn, &req.body_from_json)) {
    api_respond_error(&resp, state->route->errors, ca_err_get());
    return send_response(conn, &resp);
  }
  req.body = state->body;
  req.body_len = state->body_len;
  state->route->handler(server->config.svc, &req, &resp);
  pthread_mutex_lock(&state->pending.mu);
  const int suspended = state->pending.suspended;
  pthread_mutex_unlock(&state->pending.mu);
  if (suspended) {
    state->deferred = 1;
    return MHD_YES;
  }
  if (resp.status == 0) {
    api_respond_err_code(&resp, state->route->errors, CA_ERR_INTERNAL,
                         "handler produced no response");
  }
  return send_response(conn, &resp);
}

// on_request is libmicrohttpd's access handler. It is called once when the
// headers are in, once per piece of the body, once when the body is
// complete, and once more after a deferred answer's api_complete.
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls) {
  (void)version;
  api_server *server = cls;
  request_state *state = *con_cls;
  if (state == NULL) {
    state = request_state_new(server, conn);
    if (state == NULL) {
      return MHD_NO;
    }
    *con_cls = state;
    return on_headers(server, state, conn, method, url);
  }
  if (*upload_data_size > 0) {
    return on_body(server, state, conn, upload_data, upload_data_size);
  }
  request_read_whole(server, state, conn);
  if (state->has_early_error) {
    return send_early_error(conn, state, 0);
  }
  if (state->deferred) {
    // Resumed after api_complete: the work is done, answer it.
    api_response resp = {0};
    resp.json = state->json_answer;
    state->pending.finish(state->pending.finish_arg, &resp);
    state->deferred = 0;
    return send_response(conn, &resp);
  }
  return dispatch(server, state, conn, method, url);
}

// on_connection enables session resumption on each new TLS connection,
// before its handshake (libmicrohttpd made the GnuTLS session already).
// Should that fail, the connection still works, with full handshakes.
static void on_connection(void *cls, struct MHD_Connection *conn,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode toe) {
  const api_server *server = cls;
  (void)socket_context;
  if (toe != MHD_CONNECTION_NOTIFY_STARTED || !server->config.tls) {
    return;
  }
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  if (info == NULL || info->tls_session == NULL ||
      !api_tls_enable_resumption(info->tls_session)) {
    ca_err_clear();
  }
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)conn;
  (void)toe;
  request_state *state = *con_cls;
  if (state != NULL) {
    api_server *server = cls;
    release_body(server, state);
    pthread_mutex_destroy(&state->pending.mu);
    free(state);
    *con_cls = NULL;
    atomic_fetch_sub(&server->in_flight, 1);
  }
}

// libmicrohttpd hands us its own format strings. Most of its messages are
// about one connection (a failed TLS handshake, a client gone mid-request),
// so any client can cause them: they are rate-limited per format string,
// the kind of event.
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
  (void)cls;
  char message[512];
  (void)vsnprintf(message, sizeof(message), fmt, ap);
  size_t len = strlen(message);
  while (len > 0 && message[len - 1] == '\n') {
    message[--len] = '\0';
  }
  api_log_limited(fmt, API_LOG_WARN, "http: %s", message);
}

// parse_listen resolves "HOST:PORT" or "[V6]:PORT" numerically or by name.
static int parse_listen(const char *listen, struct sockaddr_storage *out,
                        socklen_t *out_len) {
  char host[256];
  const char *port;
  if (listen[0] == '[') {
    const char *close = strchr(listen, ']');
    CA_ENSURE_RETURN(close != NULL && close[1] == ':' &&
                         (size_t)(close - listen - 1) < sizeof(host),
                     CA_ERR_CONFIG, "bad listen address \"%.64s\"", listen);
    memcpy(host, listen + 1, (size_t)(close - listen - 1));
    host[close - listen - 1] = '\0';
    port = close + 2;
  } else {
    const char *colon = strrchr(listen, ':');
    CA_ENSURE_RETURN(colon != NULL && (size_t)(colon - listen) < sizeof(host),
                     CA_ERR_CONFIG, "bad listen address \"%.64s\" (HOST:PORT)",
                     listen);
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    port = colon + 1;
  }
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  CA_ENSURE_RETURN(
      getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res) == 0 &&
          res != NULL,
      CA_ERR_CONFIG, "cannot resolve listen address \"%.64s\"", listen);
  memcpy(out, res->ai_addr, res->ai_addrlen);
  *out_len = res->ai_addrlen;
  freeaddrinfo(res);
  return 1;
}

// on_accept is libmicrohttpd's accept policy: every connection is taken
// until api_server_quiesce, none after (closed at once).
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr,
                                 socklen_t addrlen) {
  (void)addr;
  (void)addrlen;
  const api_server *server = cls;
  return atomic_load(&server->quiesced) ? MHD_NO : MHD_YES;
}

api_server *api_server_start(const api_server_config *config) {
  api_server *server = calloc(1, sizeof(*server));
  struct sockaddr_storage addr;
  socklen_t addr_len;
  CA_ENSURE_ALLOC(server);
  server->config = *config;
  CA_GUARD(parse_listen(config->listen, &addr, &addr_len));
  // Suspend/resume lets a request wait for the signing engine without
  // holding an HTTP thread (api_defer).
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                   MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
  if (addr.ss_family == AF_INET6) {
    // [::] takes IPv4 clients too (libmicrohttpd would make it IPv6-only):
    // they arrive as ::ffff:a.b.c.d, which the admin allowlist matches
    // against its IPv4 networks (ca_network_contains).
    const struct in6_addr *a6 =
        &((const struct sockaddr_in6 *)&addr)->sin6_addr;
    flags |= IN6_IS_ADDR_UNSPECIFIED(a6) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
  }
  // TLS: the certificate comes from api/server/tls.h at each handshake, so that
  // a renewed one is served without a restart.
  struct MHD_OptionItem tls_options[4] = {{MHD_OPTION_END, 0, NULL}};
  if (config->tls) {
    CA_ENSURE(api_tls_ready(), CA_ERR_CONFIG, "no TLS certificate to serve");
    CA_GUARD(api_tls_resumption_init());
    flags |= MHD_USE_TLS;
    tls_options[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK, 0,
                                             api_tls_retrieve_function()};
    tls_options[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                             (void *)API_TLS_PRIORITIES};
    size_t k = 2;
    if (config->tls_client_cas != NULL) {
      // Makes libmicrohttpd ask for an optional client certificate.
      tls_options[k++] = (struct MHD_OptionItem){
          MHD_OPTION_HTTPS_MEM_TRUST, 0, (void *)config->tls_client_cas};
    }
    tls_options[k] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
  }
  // The logger goes first so that it receives every message of the start.
  server->daemon = MHD_start_daemon(
      flags, 0, on_accept, server, on_request, server,
      MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
      (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
      (unsigned)config->threads, MHD_OPTION_CONNECTION_LIMIT,
      (unsigned)config->connection_limit, MHD_OPTION_CONNECTION_TIMEOUT,
      (unsigned)config->connection_timeout_s, MHD_OPTION_NOTIFY_COMPLETED,
      on_completed, server, MHD_OPTION_NOTIFY_CONNECTION, on_connection, server,
      // --- Limits --- (0 leaves libmicrohttpd's default: no per-address
      // limit, 32 KiB per connection)
      MHD_OPTION_PER_IP_CONNECTION_LIMIT,
      (unsigned)config->connection_limit_per_ip,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      (size_t)(config->memory_limit != 0 ? config->memory_limit
                                         : CA_LIMIT_HEADER_BYTES),
      MHD_OPTION_ARRAY, tls_options, MHD_OPTION_END);
  CA_ENSURE(server->daemon != NULL, CA_ERR_CONFIG,
            "cannot listen on %.64s (address in use or not permitted)",
            config->listen);
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_BIND_PORT);
  server->port = info != NULL ? info->port : 0;
  return server;
err:
  free(server);
  return NULL;
}

unsigned api_server_port(const api_server *server) {
  return server->port;
}

// Not MHD_quiesce_daemon: with a thread pool on epoll, libmicrohttpd's
// quiesce takes the listening socket out of each worker's epoll set while
// a worker that sees the daemon quiesced may take it out itself; the
// second removal fails, and libmicrohttpd then aborts the process. Once, in
// engine_test, pkid ended on SIGABRT early in a shutdown, before its engine
// had finished; this race is the likely cause. The accept policy
// (on_accept) refuses new connections instead, sharing only a flag.
void api_server_quiesce(api_server *server) {
  if (server != NULL) {
    atomic_store(&server->quiesced, 1);
  }
}

void api_server_stop(api_server *server, unsigned wait_s) {
  if (server == NULL) {
    return;
  }
  // Let answered requests reach their clients before the connections close.
  for (unsigned i = 0; i < wait_s * 20 && atomic_load(&server->in_flight) > 0;
       i++) {
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  MHD_stop_daemon(server->daemon);
  free(server);
}

void api_defer(const api_request *req, api_finish finish, void *arg,
               api_response *resp) {
  api_pending *p = req->pending;
  pthread_mutex_lock(&p->mu);
  p->finish = finish;
  p->finish_arg = arg;
  if (p->done) {
    // The work finished before we got here: answer now.
    pthread_mutex_unlock(&p->mu);
    finish(arg, resp);
    return;
  }
  MHD_suspend_connection(p->conn);
  p->suspended = 1;
  pthread_mutex_unlock(&p->mu);
}

void api_complete(api_pending *p) {
  pthread_mutex_lock(&p->mu);
  p->done = 1;
  const int suspended = p->suspended;
  struct MHD_Connection *conn = p->conn;
  pthread_mutex_unlock(&p->mu);
  // Once resumed, the request may be answered and |p| freed on an HTTP
  // thread at any moment: |p| must not be touched after this call.
  if (suspended) {
    MHD_resume_connection(conn);
  }
}
