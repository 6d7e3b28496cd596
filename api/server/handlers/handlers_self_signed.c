// POST /v1/self-signed and POST /v1/certificates/{serial}:regenerate:
// self-signed identities with keys pki generates (ca/issue/self_signed.h).
//
// DESIGN: a key generation may take seconds (RSA-4096, or any kind the pool
// has run out of), so neither runs on an HTTP thread. Each request gets a
// short-lived thread of its own, which generates, signs and records, then
// completes the deferred request (api_defer); the connection meanwhile holds
// no HTTP thread. At most CA_LIMIT_SELF_SIGNED_JOBS run at once; past that
// the request is refused with QUEUE_FULL and Retry-After, as the engine
// does. api_self_signed_drain (called by pkid at shutdown, before the HTTP
// server stops) refuses new requests and waits for every running one, so
// each is answered and none outlives the service.
#include <openssl/mem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/server/auth.h"
#include "api/server/handlers/handlers.h"
#include "api/server/pb_scan.h"
#include "api/server/service.h"
#include "ca/exchange/bulk.h"
#include "ca/issue/self_signed.h"
#include "ca/limits.h"
#include "proto/pki.pb-c.h"

static struct {
  pthread_mutex_t mu;
  pthread_cond_t idle;
  size_t running;
  int draining;
} g_jobs = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

typedef struct self_signed_call {
  api_service *svc;
  api_pending *pending;
  Pki__V1__SelfSignedRequest *create;      // POST /v1/self-signed
  Pki__V1__RegenerateRequest *regenerate;  // :regenerate (may be NULL)
  ca_name_fields subject;                  // points into |create|
  char serial[API_PARAM_MAX];              // :regenerate's path serial
  char replaced[CA_SERIAL_HEX_LEN];
  char requester[96];
  char source[64];
  int ok;
  ca_issued issued;
} self_signed_call;

static void call_free(self_signed_call *call) {
  if (call == NULL) {
    return;
  }
  ca_issued_cleanup(&call->issued);
  pki__v1__self_signed_request__free_unpacked(call->create, NULL);
  pki__v1__regenerate_request__free_unpacked(call->regenerate, NULL);
  free(call);
}

static self_signed_call *call_new(api_service *svc, const api_request *req) {
  self_signed_call *call = calloc(1, sizeof(*call));
  if (call == NULL) {
    return NULL;
  }
  call->svc = svc;
  call->pending = req->pending;
  snprintf(call->requester, sizeof(call->requester), "%s", req->principal.name);
  snprintf(call->source, sizeof(call->source), "%s", req->remote);
  return call;
}

// run does the work of a call on its own thread.
static void *run(void *arg) {
  self_signed_call *call = arg;
  api_service *svc = call->svc;
  ca_err_clear();
  if (call->create != NULL) {
    const Pki__V1__SelfSignedRequest *c = call->create;
    const ca_self_signed_request request = {
        .profile = c->profile,
        .subject = &call->subject,
        .sans = (const char *const *)c->sans,
        .san_count = c->n_sans,
        .key_type = c->key_type,
        .validity_years = c->validity_years,
        // pkid --cluster labels what a request leaves unlabelled, as for
        // issuance.
        .cluster = c->cluster[0] != '\0' ? c->cluster : svc->cluster,
    };
    call->ok = ca_self_signed_create(svc->authority, svc->store, svc->keypool,
                                     &request, call->requester, call->source,
                                     &call->issued);
  } else {
    call->ok = ca_self_signed_regenerate(
        svc->authority, svc->store, svc->keypool, call->serial,
        call->regenerate != NULL ? call->regenerate->validity_years : 0,
        call->regenerate != NULL ? call->regenerate->key_type : NULL,
        call->requester, call->source, &call->issued, call->replaced);
  }
  // From here on |call| belongs to the HTTP side.
  api_complete(call->pending);
  pthread_mutex_lock(&g_jobs.mu);
  if (--g_jobs.running == 0) {
    pthread_cond_broadcast(&g_jobs.idle);
  }
  pthread_mutex_unlock(&g_jobs.mu);
  return NULL;
}

// finish answers a call on an HTTP thread once its work is done.
static void finish(void *arg, api_response *resp) {
  self_signed_call *call = arg;
  const ca_issued *r = &call->issued;
  if (!call->ok) {
    api_metrics_refused(&call->svc->metrics, r->err.code);
    api_respond_error(resp, API_FORMAT_PROTOBUF, &r->err);
    call_free(call);
    return;
  }
  atomic_fetch_add(&call->svc->metrics.issued, 1);
  Pki__V1__IssuedCertificate cert = PKI__V1__ISSUED_CERTIFICATE__INIT;
  cert.certificate.data = r->der;
  cert.certificate.len = r->der_len;
  cert.serial = (char *)r->serial_hex;
  cert.issuer = "";
  cert.profile = (char *)r->profile->name;
  cert.not_before = r->not_before;
  cert.not_after = r->not_after;
  Pki__V1__SelfSignedResponse out = PKI__V1__SELF_SIGNED_RESPONSE__INIT;
  out.private_key.data = r->private_key;
  out.private_key.len = r->private_key_len;
  out.certificate = &cert;
  out.key_from_pool = r->key_from_pool != 0;
  out.replaces = call->create == NULL ? call->replaced : "";
  // The response buffer holds the key until libmicrohttpd has sent it
  // (OPENSSL_free cleanses it then); the call's copy is cleansed when the
  // call is freed.
  api_respond_message(resp, &out.base);
  call_free(call);
}

// start runs |call| on a thread of its own and defers the answer. On a
// refusal it answers at once and frees the call.
static void start(self_signed_call *call, const api_request *req,
                  api_response *resp) {
  pthread_mutex_lock(&g_jobs.mu);
  const int draining = g_jobs.draining;
  const int full = g_jobs.running >= CA_LIMIT_SELF_SIGNED_JOBS;
  if (!draining && !full) {
    g_jobs.running++;
  }
  pthread_mutex_unlock(&g_jobs.mu);
  if (draining || full) {
    const ca_err_code code =
        draining ? CA_ERR_SHUTTING_DOWN : CA_ERR_QUEUE_FULL;
    api_metrics_refused(&call->svc->metrics, code);
    api_respond_err_code(resp, API_FORMAT_PROTOBUF, code,
                         draining ? "pkid is shutting down"
                                  : "too many key generations at once: retry");
    resp->retry_after = full ? 1 : 0;
    call_free(call);
    return;
  }
  pthread_attr_t attr;
  pthread_t thread;
  int started = pthread_attr_init(&attr) == 0;
  if (started) {
    started =
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
        pthread_create(&thread, &attr, run, call) == 0;
    pthread_attr_destroy(&attr);
  }
  if (!started) {
    pthread_mutex_lock(&g_jobs.mu);
    if (--g_jobs.running == 0) {
      pthread_cond_broadcast(&g_jobs.idle);
    }
    pthread_mutex_unlock(&g_jobs.mu);
    api_respond_err_code(resp, API_FORMAT_PROTOBUF, CA_ERR_INTERNAL,
                         "cannot start a thread");
    call_free(call);
    return;
  }
  api_defer(req, finish, call, resp);
}

void api_self_signed_drain(void) {
  pthread_mutex_lock(&g_jobs.mu);
  g_jobs.draining = 1;
  while (g_jobs.running > 0) {
    pthread_cond_wait(&g_jobs.idle, &g_jobs.mu);
  }
  pthread_mutex_unlock(&g_jobs.mu);
}

void api_handle_self_signed(api_service *svc, const api_request *req,
                            api_response *resp) {
  self_signed_call *call = NULL;
  size_t sans = 0;
  CA_GUARD(api_require_protobuf(req));
  // Count before decoding: see api/server/pb_scan.h.
  CA_GUARD(api_pb_count_field(req->body, req->body_len,
                              /*SelfSignedRequest.sans=*/3, CA_LIMIT_SAN_COUNT,
                              &sans));
  call = call_new(svc, req);
  CA_ENSURE_ALLOC(call);
  call->create =
      pki__v1__self_signed_request__unpack(NULL, req->body_len, req->body);
  CA_ENSURE(call->create != NULL, CA_ERR_REQUEST_MALFORMED,
            "body is not a pki.v1.SelfSignedRequest");
  CA_GUARD(api_pb_check_strings(&pki__v1__self_signed_request__descriptor,
                                req->body, req->body_len));
  const Pki__V1__SelfSignedRequest *c = call->create;
  CA_ENSURE(c->subject != NULL && c->subject->common_name[0] != '\0',
            CA_ERR_SUBJECT_CN_MISSING, "the subject needs a common name");
  call->subject = (ca_name_fields){
      .country = c->subject->country,
      .state = c->subject->state,
      .locality = c->subject->locality,
      .organization = c->subject->organization,
      .organizational_unit = c->subject->organizational_unit,
      .common_name = c->subject->common_name,
  };
  // The same names as issuance takes (ca/exchange/bulk.h); empty: none.
  CA_GUARD(c->cluster[0] == '\0' || ca_bulk_cluster_check(c->cluster));
  CA_GUARD(api_require_profile(req, c->profile));
  start(call, req, resp);
  return;
err:
  call_free(call);
  api_metrics_refused(&svc->metrics, ca_err_get()->code);
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
}

void api_handle_regenerate(api_service *svc, const api_request *req,
                           api_response *resp) {
  self_signed_call *call = NULL;
  // The identity's profile is only known once it is read: an issuer token
  // limited to some profiles may not regenerate.
  CA_ENSURE(
      req->principal.role == CA_ROLE_ADMIN || req->principal.profile_count == 0,
      CA_ERR_FORBIDDEN,
      "regenerating needs an admin token or an issuer token for every "
      "profile");
  call = call_new(svc, req);
  CA_ENSURE_ALLOC(call);
  // The body is optional.
  if (req->body_len > 0) {
    call->regenerate =
        pki__v1__regenerate_request__unpack(NULL, req->body_len, req->body);
    CA_ENSURE(call->regenerate != NULL, CA_ERR_REQUEST_MALFORMED,
              "body is not a pki.v1.RegenerateRequest");
    CA_GUARD(api_pb_check_strings(&pki__v1__regenerate_request__descriptor,
                                  req->body, req->body_len));
  }
  snprintf(call->serial, sizeof(call->serial), "%s", req->param);
  start(call, req, resp);
  return;
err:
  call_free(call);
  api_metrics_refused(&svc->metrics, ca_err_get()->code);
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
}
