// POST /v1/certificates/{serial}:revoke, POST /v1/certificates/{serial}:unhold,
// POST /v1/certificates:batchRevoke and GET /v1/crl/{ca}.
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/server/auth.h"
#include "api/server/handlers/handlers.h"
#include "api/server/pb_scan.h"
#include "ca/limits.h"
#include "ca/revocation/crl_writer.h"
#include "ca/revocation/revoke.h"
#include "ca/revocation/revoke_group.h"
#include "ca/x509/crl_dp.h"
#include "ca/x509/pem.h"
#include "proto/pki.pb-c.h"

static void fill_state(Pki__V1__RevocationResponse *out,
                       const ca_revocation_result *result) {
  pki__v1__revocation_response__init(out);
  out->serial = (char *)result->serial;
  out->issuer = result->issuer->name;
  out->status = result->revoked ? "revoked" : "good";
  out->revoked_at = result->revoked_at;
  out->reason = result->reason;
  out->crl_number = result->crl_number;
  out->crl_due_at = result->crl_due_at;
}

static void respond_state(api_response *resp,
                          const ca_revocation_result *result) {
  Pki__V1__RevocationResponse out;
  fill_state(&out, result);
  api_respond_message(resp, &out.base);
}

// changed tells this node's OCSP responder and CRL writer of a committed
// change. Invariant 6: the responder forgets at once; other nodes hear the
// NOTIFY sent with the change.
static void changed(api_service *svc, const ca_revocation_result *result) {
  if (svc->responder != NULL) {
    ca_responder_forget(svc->responder, result->issuer->id, result->serial);
  }
}

// forget_principals drops this node's cached client-certificate principals
// after revocations committed, before the answer: a client certificate
// revoked here is refused from the next request on, as a token revoked
// here is (handlers_access.c). Cached tokens stay: no certificate's state
// changes them. The NOTIFY drops the certificates' principals again when
// this node's listener hears it, and on the other nodes.
static void forget_principals(api_service *svc) {
  if (svc->auth != NULL) {
    api_auth_forget_certificates(svc->auth);
  }
}

// after_change is what a committed change sets off on this node, before
// its answer: the OCSP responder forgets the certificate's answers, a
// revocation drops the cached client-certificate principals, and the CRL
// writer is woken.
static void after_change(api_service *svc, const ca_revocation_result *result,
                         int revoke) {
  changed(svc, result);
  if (revoke) {
    forget_principals(svc);
  }
  ca_crl_writer_wake(svc->crl_writer);
}

// One :revoke while the group's transaction that carries it commits
// (api_defer): the request's strings are copied, since the request is gone
// once the handler returns.
typedef struct revoke_call {
  api_service *svc;
  api_pending *pending;
  Pki__V1__RevokeRequest *msg;  // the body, which |r.issuer| points into
  char serial[API_PARAM_MAX];
  char actor[96];
  char source[64];
  ca_revocation r;
  ca_revocation_result result;
  int committed;
  ca_err err;  // why the transaction failed, when it did
} revoke_call;

static void revoke_call_free(revoke_call *call) {
  pki__v1__revoke_request__free_unpacked(call->msg, NULL);
  free(call);
}

// on_revoke_done runs on the group's committer thread once the transaction
// carrying |arg|'s revocation committed or failed.
static void on_revoke_done(void *arg, int committed, const ca_err *err) {
  revoke_call *call = arg;
  call->committed = committed;
  if (!committed) {
    call->err = *err;
  } else if (call->result.err.code == CA_OK) {
    after_change(call->svc, &call->result, 1);
  }
  api_complete(call->pending);
}

// finish_revoke answers a deferred :revoke on an HTTP thread.
static void finish_revoke(void *arg, api_response *resp) {
  revoke_call *call = arg;
  if (!call->committed) {
    api_respond_error(resp, API_FORMAT_PROTOBUF, &call->err);
  } else if (call->result.err.code != CA_OK) {
    api_respond_error(resp, API_FORMAT_PROTOBUF, &call->result.err);
  } else {
    respond_state(resp, &call->result);
  }
  revoke_call_free(call);
}

// parse_revoke reads the optional body of :revoke into |r| (its issuer
// points into |*msg|, which the caller frees).
static int parse_revoke(const api_request *req, ca_revocation *r,
                        Pki__V1__RevokeRequest **msg) {
  *msg = pki__v1__revoke_request__unpack(NULL, req->body_len, req->body);
  CA_ENSURE_RETURN(*msg != NULL, CA_ERR_REQUEST_MALFORMED,
                   "body is not a pki.v1.RevokeRequest");
  CA_GUARD_RETURN(api_pb_check_strings(&pki__v1__revoke_request__descriptor,
                                       req->body, req->body_len));
  r->reason = (*msg)->reason;
  r->when = (*msg)->revocation_time;
  r->issuer = (*msg)->issuer;
  return 1;
}

void api_handle_revoke(api_service *svc, const api_request *req,
                       api_response *resp) {
  // Handed to the group committer (ca/revocation/revoke_group.h), which
  // commits concurrent revocations together; the answer is deferred, so
  // the HTTP thread serves its other connections while the transaction
  // commits.
  revoke_call *call = calloc(1, sizeof(*call));
  if (call == NULL) {
    CA_SET_ERROR(CA_ERR_NO_MEMORY, "out of memory");
    api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
    return;
  }
  call->svc = svc;
  call->pending = req->pending;
  snprintf(call->serial, sizeof(call->serial), "%s", req->param);
  snprintf(call->actor, sizeof(call->actor), "%s", req->principal.name);
  snprintf(call->source, sizeof(call->source), "%s", req->remote);
  call->r = (ca_revocation){
      .serial = call->serial,
      .actor = call->actor,
      .source = call->source,
      .crl_interval_s = svc->crl_interval_s,
  };
  if (!parse_revoke(req, &call->r, &call->msg) ||
      !ca_revoke_group_submit(svc->revoke_group, &call->r, &call->result,
                              on_revoke_done, call)) {
    api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
    if (ca_err_get()->code == CA_ERR_SHUTTING_DOWN) {
      resp->retry_after = 1;
    }
    revoke_call_free(call);
    return;
  }
  api_defer(req, finish_revoke, call, resp);
}

// :unhold is rare and commits alone, on the calling thread; its body is
// optional.
void api_handle_unhold(api_service *svc, const api_request *req,
                       api_response *resp) {
  Pki__V1__UnholdRequest *unhold_msg = NULL;
  char actor[96];
  snprintf(actor, sizeof(actor), "%s", req->principal.name);
  ca_revocation r = {
      .serial = req->param,
      .actor = actor,
      .source = req->remote,
      .crl_interval_s = svc->crl_interval_s,
  };
  if (req->body_len > 0) {
    unhold_msg =
        pki__v1__unhold_request__unpack(NULL, req->body_len, req->body);
    CA_ENSURE(unhold_msg != NULL, CA_ERR_REQUEST_MALFORMED,
              "body is not a pki.v1.UnholdRequest");
    CA_GUARD(api_pb_check_strings(&pki__v1__unhold_request__descriptor,
                                  req->body, req->body_len));
    r.issuer = unhold_msg->issuer;
  }
  ca_revocation_result result;
  CA_GUARD(ca_unhold(svc->authority, svc->store, &r, &result));
  after_change(svc, &result, 0);
  respond_state(resp, &result);
  goto done;
err:
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
done:
  pki__v1__unhold_request__free_unpacked(unhold_msg, NULL);
}

// The revoked certificates of a batch forgotten one by one by this node's
// OCSP responder; past that, its cache is emptied once.
#define FORGET_ONE_BY_ONE 64

// respond_batch answers one result per item, as api_handle_batch_issue.
static void respond_batch(api_response *resp,
                          const ca_revocation_result *results, size_t n) {
  Pki__V1__RevokeResult *items = calloc(n, sizeof(*items));
  Pki__V1__RevokeResult **ptrs = calloc(n, sizeof(*ptrs));
  Pki__V1__RevocationResponse *states = calloc(n, sizeof(*states));
  Pki__V1__Error *errors = calloc(n, sizeof(*errors));
  if (items == NULL || ptrs == NULL || states == NULL || errors == NULL) {
    api_respond_err_code(resp, API_FORMAT_PROTOBUF, CA_ERR_NO_MEMORY,
                         "out of memory");
    goto done;
  }
  Pki__V1__BatchRevokeResponse out = PKI__V1__BATCH_REVOKE_RESPONSE__INIT;
  for (size_t i = 0; i < n; i++) {
    const ca_revocation_result *r = &results[i];
    pki__v1__revoke_result__init(&items[i]);
    if (r->err.code == CA_OK) {
      fill_state(&states[i], r);
      items[i].state = &states[i];
      out.revoked++;
    } else {
      pki__v1__error__init(&errors[i]);
      errors[i].code = (char *)ca_err_code_name(r->err.code);
      errors[i].message = (char *)api_error_client_message(&r->err);
      items[i].error = &errors[i];
      out.failed++;
    }
    ptrs[i] = &items[i];
  }
  out.n_results = n;
  out.results = ptrs;
  api_respond_message(resp, &out.base);
done:
  free(items);
  free(ptrs);
  free(states);
  free(errors);
}

void api_handle_batch_revoke(api_service *svc, const api_request *req,
                             api_response *resp) {
  Pki__V1__BatchRevokeRequest *msg = NULL;
  ca_revocation_item *items = NULL;
  ca_revocation_result *results = NULL;
  size_t n = 0, revoked;
  char actor[96];
  snprintf(actor, sizeof(actor), "%s", req->principal.name);
  CA_GUARD(api_require_protobuf(req));
  // Count before decoding: see api/server/pb_scan.h.
  const size_t max_items =
      svc->max_batch_items != 0 ? svc->max_batch_items : CA_LIMIT_BATCH_ITEMS;
  CA_GUARD(api_pb_count_field(req->body, req->body_len,
                              /*BatchRevokeRequest.items=*/1, max_items, &n));
  CA_ENSURE(n > 0, CA_ERR_BATCH_EMPTY, "the batch holds no items");
  msg = pki__v1__batch_revoke_request__unpack(NULL, req->body_len, req->body);
  CA_ENSURE(msg != NULL && msg->n_items == n, CA_ERR_REQUEST_MALFORMED,
            "body is not a pki.v1.BatchRevokeRequest");
  CA_GUARD(api_pb_check_strings(&pki__v1__batch_revoke_request__descriptor,
                                req->body, req->body_len));
  items = calloc(n, sizeof(*items));
  results = calloc(n, sizeof(*results));
  CA_ENSURE(items != NULL && results != NULL, CA_ERR_NO_MEMORY,
            "out of memory");
  for (size_t i = 0; i < n; i++) {
    const Pki__V1__BatchRevokeItem *item = msg->items[i];
    items[i] =
        (ca_revocation_item){item->serial,          item->issuer, item->reason,
                             item->revocation_time, NULL,         NULL};
  }
  const ca_revocation_batch batch = {items, n, actor, req->remote,
                                     svc->crl_interval_s};
  CA_GUARD(
      ca_revoke_batch(svc->authority, svc->store, &batch, results, &revoked));
  // Forgetting one certificate costs the responder a pass over its cache:
  // past a few, it is emptied once (it refills as clients ask).
  if (revoked > FORGET_ONE_BY_ONE && svc->responder != NULL) {
    ca_responder_forget_all(svc->responder);
  } else {
    for (size_t i = 0; i < n; i++) {
      if (results[i].err.code == CA_OK) {
        changed(svc, &results[i]);
      }
    }
  }
  if (revoked > 0) {
    forget_principals(svc);
    ca_crl_writer_wake(svc->crl_writer);
  }
  respond_batch(resp, results, n);
  goto done;
err:
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
done:
  free(items);
  free(results);
  pki__v1__batch_revoke_request__free_unpacked(msg, NULL);
}

// crl_path splits the path of GET /v1/crl/{ca}[/{k}] into the CA's name
// (into |name|) and the shard (0 for the CA-wide CRL): k is written as
// certificates name it, in decimal without leading zeros, 1 to
// CA_CRL_MAX_SHARDS.
static int crl_path(const char *param, char *name, size_t cap,
                    unsigned *out_shard) {
  const char *slash = strchr(param, '/');
  const size_t len = slash != NULL ? (size_t)(slash - param) : strlen(param);
  CA_ENSURE_RETURN(len > 0 && len < cap, CA_ERR_NOT_FOUND, "no such CA");
  memcpy(name, param, len);
  name[len] = '\0';
  *out_shard = 0;
  if (slash == NULL) {
    return 1;
  }
  const char *k = slash + 1;
  unsigned long v = 0;
  size_t digits = 0;
  for (; k[digits] >= '0' && k[digits] <= '9' && digits < 5; digits++) {
    v = v * 10 + (unsigned long)(k[digits] - '0');
  }
  CA_ENSURE_RETURN(
      digits > 0 && k[digits] == '\0' && k[0] != '0' && v <= CA_CRL_MAX_SHARDS,
      CA_ERR_NOT_FOUND, "no such CRL shard: %s", k);
  *out_shard = (unsigned)v;
  return 1;
}

void api_handle_crl(api_service *svc, const api_request *req,
                    api_response *resp) {
  ca_crl_row crl;
  memset(&crl, 0, sizeof(crl));
  CBB pem;
  CBB_zero(&pem);
  const char *format;
  char name[sizeof(req->param)];
  unsigned shard;
  CA_GUARD(api_query_checked(req, "format", &format));
  const int as_pem = format != NULL && strcasecmp(format, "pem") == 0;
  CA_ENSURE(format == NULL || as_pem || strcasecmp(format, "der") == 0,
            CA_ERR_FORMAT_UNKNOWN, "format must be der or pem");
  CA_GUARD(crl_path(req->param, name, sizeof(name), &shard));
  const ca_issuer *ca = ca_authority_find(svc->authority, name);
  CA_GUARD_PTR(ca);
  CA_GUARD(ca_crl_current_shard(svc->authority, svc->store, ca, shard,
                                svc->crl_validity_s, svc->crl_interval_s,
                                svc->crl_wide_interval_s, &crl));
  if (as_pem) {
    uint8_t *body;
    size_t len;
    CA_GUARD_CRYPTO(CBB_init(&pem, crl.der_len * 2 + 64));
    CA_GUARD(ca_pem_add(&pem, "X509 CRL", crl.der, crl.der_len));
    CA_GUARD_CRYPTO(CBB_finish(&pem, &body, &len));
    api_respond(resp, 200, "application/x-pem-file", body, len);
    OPENSSL_free(crl.der);
  } else {
    api_respond(resp, 200, "application/pkix-crl", crl.der, crl.der_len);
  }
  return;
err:
  CBB_cleanup(&pem);
  OPENSSL_free(crl.der);
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}
