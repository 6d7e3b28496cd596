// POST /v1/certificates:issue, POST /v1/certificates:batchIssue and
// POST /v1/sign: the three ways to have certificates issued.
//
// Each handler decodes its request, submits one job to the signing engine
// and defers its answer (api_defer): the HTTP thread is free at once, the
// engine's workers sign, its writer records, and the answer is built on an
// HTTP thread once the job's transaction committed or failed.
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/server/auth.h"
#include "api/server/handlers/handlers.h"
#include "api/server/pb_scan.h"
#include "api/server/service.h"
#include "ca/exchange/bulk.h"
#include "ca/issue/engine.h"
#include "ca/limits.h"
#include "ca/x509/pem.h"
#include "proto/pki.pb-c.h"

typedef enum issue_kind {
  ISSUE_SINGLE,
  ISSUE_BATCH,
  ISSUE_SIGN_PEM,
  ISSUE_GENERATE,
} issue_kind;

// Everything one issuance request holds while the engine works on it.
typedef struct issue_call {
  api_service *svc;
  issue_kind kind;
  api_pending *pending;
  ca_job job;
  ca_issue_request *requests;
  ca_issued *results;
  size_t n;
  int committed;
  Pki__V1__IssueRequest *single;
  Pki__V1__BatchIssueRequest *batch;
  Pki__V1__GenerateKeyRequest *generate;
  ca_key_spec key_spec;    // what |generate| asks for
  ca_name_fields subject;  // points into |generate|
  char requester[96];
  char source[64];
} issue_call;

static void call_free(issue_call *call) {
  if (call == NULL) {
    return;
  }
  if (call->results != NULL) {
    for (size_t i = 0; i < call->n; i++) {
      ca_issued_cleanup(&call->results[i]);
    }
  }
  free(call->requests);
  free(call->results);
  pki__v1__issue_request__free_unpacked(call->single, NULL);
  pki__v1__batch_issue_request__free_unpacked(call->batch, NULL);
  pki__v1__generate_key_request__free_unpacked(call->generate, NULL);
  free(call);
}

// call_new allocates a call of |n| items for |req|.
static issue_call *call_new(api_service *svc, const api_request *req,
                            issue_kind kind, size_t n) {
  issue_call *call = calloc(1, sizeof(*call));
  if (call == NULL) {
    return NULL;
  }
  call->svc = svc;
  call->kind = kind;
  call->pending = req->pending;
  call->n = n;
  call->requests = calloc(n, sizeof(*call->requests));
  call->results = calloc(n, sizeof(*call->results));
  if (call->requests == NULL || call->results == NULL) {
    call_free(call);
    return NULL;
  }
  snprintf(call->requester, sizeof(call->requester), "%s", req->principal.name);
  snprintf(call->source, sizeof(call->source), "%s", req->remote);
  return call;
}

// on_job_done runs on the engine's writer thread: record the outcome and
// wake the request.
static void on_job_done(void *arg, int committed) {
  issue_call *call = arg;
  call->committed = committed;
  api_complete(call->pending);
}

static void count_results(api_service *svc, const issue_call *call) {
  atomic_fetch_add(&svc->metrics.batches, 1);
  if (!call->committed) {
    atomic_fetch_add(&svc->metrics.storage_failures, 1);
    return;
  }
  for (size_t i = 0; i < call->n; i++) {
    if (call->results[i].err.code == CA_OK) {
      atomic_fetch_add(&svc->metrics.issued, 1);
    } else {
      api_metrics_refused(&svc->metrics, call->results[i].err.code);
    }
  }
}

// fill_issued points |out| at |issued| (no copies: packing reads them).
static void fill_issued(const ca_issued *issued,
                        Pki__V1__IssuedCertificate *out,
                        ProtobufCBinaryData *chain) {
  pki__v1__issued_certificate__init(out);
  out->certificate.data = issued->der;
  out->certificate.len = issued->der_len;
  const ca_issuer *issuer = issued->issuer;
  for (size_t i = 0; i < issuer->chain_len; i++) {
    chain[i].data = issuer->chain[i]->der;
    chain[i].len = issuer->chain[i]->der_len;
  }
  out->n_chain = issuer->chain_len;
  out->chain = chain;
  out->serial = (char *)issued->serial_hex;
  out->issuer = issuer->name;
  out->profile = (char *)issued->profile->name;
  out->not_before = issued->not_before;
  out->not_after = issued->not_after;
}

static void answer_single(issue_call *call, api_response *resp) {
  const ca_issued *result = &call->results[0];
  if (result->err.code != CA_OK) {
    api_respond_error(resp, API_FORMAT_PROTOBUF, &result->err);
    return;
  }
  Pki__V1__IssuedCertificate cert;
  ProtobufCBinaryData chain[CA_CHAIN_MAX];
  fill_issued(result, &cert, chain);
  Pki__V1__IssueResponse out = PKI__V1__ISSUE_RESPONSE__INIT;
  out.certificate = &cert;
  api_respond_message(resp, &out.base);
}

static void answer_batch(issue_call *call, api_response *resp) {
  const size_t n = call->n;
  Pki__V1__IssueResult *items = calloc(n, sizeof(*items));
  Pki__V1__IssueResult **ptrs = calloc(n, sizeof(*ptrs));
  Pki__V1__IssuedCertificate *certs = calloc(n, sizeof(*certs));
  Pki__V1__Error *errors = calloc(n, sizeof(*errors));
  ProtobufCBinaryData *chains = calloc(n * CA_CHAIN_MAX, sizeof(*chains));
  if (items == NULL || ptrs == NULL || certs == NULL || errors == NULL ||
      chains == NULL) {
    api_respond_err_code(resp, API_FORMAT_PROTOBUF, CA_ERR_NO_MEMORY,
                         "out of memory");
    goto done;
  }
  Pki__V1__BatchIssueResponse out = PKI__V1__BATCH_ISSUE_RESPONSE__INIT;
  for (size_t i = 0; i < n; i++) {
    const ca_issued *r = &call->results[i];
    pki__v1__issue_result__init(&items[i]);
    if (r->err.code == CA_OK) {
      fill_issued(r, &certs[i], &chains[i * CA_CHAIN_MAX]);
      items[i].certificate = &certs[i];
      out.issued++;
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
  free(certs);
  free(errors);
  free(chains);
}

static void answer_generated(issue_call *call, api_response *resp) {
  const ca_issued *result = &call->results[0];
  if (result->err.code != CA_OK) {
    api_respond_error(resp, API_FORMAT_PROTOBUF, &result->err);
    return;
  }
  Pki__V1__IssuedCertificate cert;
  ProtobufCBinaryData chain[CA_CHAIN_MAX];
  fill_issued(result, &cert, chain);
  Pki__V1__GenerateKeyResponse out = PKI__V1__GENERATE_KEY_RESPONSE__INIT;
  out.private_key.data = result->private_key;
  out.private_key.len = result->private_key_len;
  out.certificate = &cert;
  out.key_from_pool = result->key_from_pool != 0;
  api_respond_message(resp, &out.base);
  // The response buffer holds the key until libmicrohttpd has sent it; the
  // call's copy is cleansed when the call is freed.
}

static void answer_pem(issue_call *call, api_response *resp) {
  const ca_issued *result = &call->results[0];
  CBB cbb;
  CBB_zero(&cbb);
  uint8_t *body;
  size_t body_len;
  if (result->err.code != CA_OK) {
    api_respond_error(resp, API_FORMAT_TEXT, &result->err);
    return;
  }
  // The leaf, then the issuing CA, then the root.
  CA_GUARD_CRYPTO(CBB_init(&cbb, 8192));
  CA_GUARD(ca_pem_add(&cbb, "CERTIFICATE", result->der, result->der_len));
  for (size_t i = 0; i < result->issuer->chain_len; i++) {
    CA_GUARD(ca_pem_add(&cbb, "CERTIFICATE", result->issuer->chain[i]->der,
                        result->issuer->chain[i]->der_len));
  }
  CA_GUARD_CRYPTO(CBB_finish(&cbb, &body, &body_len));
  api_respond(resp, 200, "application/x-pem-file", body, body_len);
  return;
err:
  CBB_cleanup(&cbb);
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}

// finish_call answers a call on an HTTP thread once its job is done.
static void finish_call(void *arg, api_response *resp) {
  issue_call *call = arg;
  count_results(call->svc, call);
  const api_format format =
      call->kind == ISSUE_SIGN_PEM ? API_FORMAT_TEXT : API_FORMAT_PROTOBUF;
  if (!call->committed) {
    // Nothing was recorded, so nothing is returned (invariant 1); every
    // item carries the same error.
    api_respond_error(resp, format, &call->job.failure);
  } else if (call->kind == ISSUE_SINGLE) {
    answer_single(call, resp);
  } else if (call->kind == ISSUE_BATCH) {
    answer_batch(call, resp);
  } else if (call->kind == ISSUE_GENERATE) {
    answer_generated(call, resp);
  } else {
    answer_pem(call, resp);
  }
  call_free(call);
}

// refuse answers the calling thread's error and counts it.
static void refuse(api_service *svc, api_response *resp, api_format format) {
  api_metrics_refused(&svc->metrics, ca_err_get()->code);
  api_respond_error(resp, format, ca_err_get());
}

// submit hands |call| to the engine and defers the answer. On a refusal
// (full queue, shutting down) it answers at once and frees the call.
static void submit(issue_call *call, const api_request *req,
                   api_response *resp) {
  ca_job *job = &call->job;
  job->requests = call->requests;
  job->results = call->results;
  job->n = call->n;
  job->requester = call->requester;
  job->source = call->source;
  job->done = on_job_done;
  job->done_arg = call;
  // Every item's profile must be the caller's, or nothing is queued: a
  // batch is refused whole, never issued in part.
  int allowed = 1;
  for (size_t i = 0; allowed && i < call->n; i++) {
    allowed = api_require_profile(req, call->requests[i].profile);
  }
  if (!allowed || !ca_engine_submit(call->svc->engine, job)) {
    const ca_err *err = ca_err_get();
    api_metrics_refused(&call->svc->metrics, err->code);
    api_respond_error(
        resp,
        call->kind == ISSUE_SIGN_PEM ? API_FORMAT_TEXT : API_FORMAT_PROTOBUF,
        err);
    if (err->code == CA_ERR_QUEUE_FULL) {
      resp->retry_after = 1;
    }
    call_free(call);
    return;
  }
  api_defer(req, finish_call, call, resp);
}

// pick_cluster sets |*out| to the cluster a certificate is recorded with:
// the first non-empty of |asked| and |fallback|, else pkid's --cluster,
// else none (NULL). A name asked for must be valid.
static int pick_cluster(const api_service *svc, const char *asked,
                        const char *fallback, const char **out) {
  const char *name = asked != NULL && asked[0] != '\0'         ? asked
                     : fallback != NULL && fallback[0] != '\0' ? fallback
                                                               : svc->cluster;
  if (name != NULL && !ca_bulk_cluster_check(name)) {
    return 0;
  }
  *out = name;
  return 1;
}

void api_handle_issue(api_service *svc, const api_request *req,
                      api_response *resp) {
  issue_call *call = NULL;
  CA_GUARD(api_require_protobuf(req));
  call = call_new(svc, req, ISSUE_SINGLE, 1);
  CA_ENSURE_ALLOC(call);
  call->single = pki__v1__issue_request__unpack(NULL, req->body_len, req->body);
  CA_ENSURE(call->single != NULL, CA_ERR_REQUEST_MALFORMED,
            "body is not a pki.v1.IssueRequest");
  CA_GUARD(api_pb_check_strings(&pki__v1__issue_request__descriptor, req->body,
                                req->body_len));
  call->requests[0].profile = call->single->profile;
  call->requests[0].csr = call->single->csr.data;
  call->requests[0].csr_len = call->single->csr.len;
  call->requests[0].validity_days = call->single->validity_days;
  CA_GUARD(pick_cluster(svc, call->single->cluster, NULL,
                        &call->requests[0].cluster));
  submit(call, req, resp);
  return;
err:
  call_free(call);
  refuse(svc, resp, API_FORMAT_PROTOBUF);
}

void api_handle_batch_issue(api_service *svc, const api_request *req,
                            api_response *resp) {
  issue_call *call = NULL;
  size_t n = 0;
  CA_GUARD(api_require_protobuf(req));
  // Count before decoding: see api/server/pb_scan.h.
  const size_t max_items =
      svc->max_batch_items != 0 ? svc->max_batch_items : CA_LIMIT_BATCH_ITEMS;
  CA_GUARD(api_pb_count_field(req->body, req->body_len,
                              /*BatchIssueRequest.items=*/2, max_items, &n));
  CA_ENSURE(n > 0, CA_ERR_BATCH_EMPTY, "the batch holds no items");
  call = call_new(svc, req, ISSUE_BATCH, n);
  CA_ENSURE_ALLOC(call);
  call->batch =
      pki__v1__batch_issue_request__unpack(NULL, req->body_len, req->body);
  CA_ENSURE(call->batch != NULL && call->batch->n_items == n,
            CA_ERR_REQUEST_MALFORMED, "body is not a pki.v1.BatchIssueRequest");
  CA_GUARD(api_pb_check_strings(&pki__v1__batch_issue_request__descriptor,
                                req->body, req->body_len));
  for (size_t i = 0; i < n; i++) {
    const Pki__V1__IssueRequest *item = call->batch->items[i];
    call->requests[i].profile =
        item->profile[0] != '\0' ? item->profile : call->batch->profile;
    call->requests[i].csr = item->csr.data;
    call->requests[i].csr_len = item->csr.len;
    call->requests[i].validity_days = item->validity_days;
    CA_GUARD(pick_cluster(svc, item->cluster, call->batch->cluster,
                          &call->requests[i].cluster));
  }
  submit(call, req, resp);
  return;
err:
  call_free(call);
  refuse(svc, resp, API_FORMAT_PROTOBUF);
}

void api_handle_sign(api_service *svc, const api_request *req,
                     api_response *resp) {
  issue_call *call = NULL;
  const char *profile;
  CA_GUARD(api_query_checked(req, "profile", &profile));
  CA_ENSURE(profile != NULL && profile[0] != '\0', CA_ERR_PROFILE_UNKNOWN,
            "name a profile: /v1/sign?profile=tomcat");
  CA_ENSURE(req->body_len > 0, CA_ERR_CSR_MALFORMED,
            "send the CSR (PEM or DER) as the request body");
  call = call_new(svc, req, ISSUE_SIGN_PEM, 1);
  CA_ENSURE_ALLOC(call);
  // The query string and the body live until the answer is sent.
  call->requests[0].profile = profile;
  call->requests[0].csr = req->body;
  call->requests[0].csr_len = req->body_len;
  const char *days;
  CA_GUARD(api_query_checked(req, "days", &days));
  if (days != NULL) {
    char *end;
    const unsigned long d = strtoul(days, &end, 10);
    CA_ENSURE(*end == '\0' && d > 0 && d <= CA_LIMIT_VALIDITY_DAYS,
              CA_ERR_PARAMETER_INVALID, "days must be a positive number");
    call->requests[0].validity_days = (uint32_t)d;
  }
  const char *cluster;
  CA_GUARD(api_query_checked(req, "cluster", &cluster));
  CA_GUARD(pick_cluster(svc, cluster, NULL, &call->requests[0].cluster));
  submit(call, req, resp);
  return;
err:
  call_free(call);
  refuse(svc, resp, API_FORMAT_TEXT);
}

// default_key_type names the key of a profile's family when the request
// leaves it out.
static const char *default_key_type(const ca_profile *profile) {
  return profile->key_type == CA_KEY_EC ? "EC-P256" : "RSA-2048";
}

void api_handle_generate_key(api_service *svc, const api_request *req,
                             api_response *resp) {
  issue_call *call = NULL;
  size_t sans = 0;
  CA_GUARD(api_require_protobuf(req));
  CA_GUARD(api_pb_count_field(req->body, req->body_len,
                              /*GenerateKeyRequest.sans=*/3, CA_LIMIT_SAN_COUNT,
                              &sans));
  call = call_new(svc, req, ISSUE_GENERATE, 1);
  CA_ENSURE_ALLOC(call);
  call->generate =
      pki__v1__generate_key_request__unpack(NULL, req->body_len, req->body);
  CA_ENSURE(call->generate != NULL, CA_ERR_REQUEST_MALFORMED,
            "body is not a pki.v1.GenerateKeyRequest");
  CA_GUARD(api_pb_check_strings(&pki__v1__generate_key_request__descriptor,
                                req->body, req->body_len));
  const Pki__V1__GenerateKeyRequest *g = call->generate;
  const ca_profile *profile =
      ca_profile_find(&svc->authority->profiles, g->profile);
  CA_GUARD_PTR(profile);
  CA_GUARD(ca_key_spec_parse(&call->key_spec, g->key_type[0] != '\0'
                                                  ? g->key_type
                                                  : default_key_type(profile)));
  CA_ENSURE(g->subject != NULL && g->subject->common_name[0] != '\0',
            CA_ERR_SUBJECT_CN_MISSING, "the subject needs a common name");
  call->subject = (ca_name_fields){
      .country = g->subject->country,
      .state = g->subject->state,
      .locality = g->subject->locality,
      .organization = g->subject->organization,
      .organizational_unit = g->subject->organizational_unit,
      .common_name = g->subject->common_name,
  };
  ca_issue_request *r = &call->requests[0];
  r->profile = g->profile;
  r->validity_days = g->validity_days;
  r->generate = &call->key_spec;
  r->subject = &call->subject;
  r->sans = (const char *const *)g->sans;
  r->san_count = g->n_sans;
  CA_GUARD(pick_cluster(svc, g->cluster, NULL, &r->cluster));
  submit(call, req, resp);
  return;
err:
  call_free(call);
  refuse(svc, resp, API_FORMAT_PROTOBUF);
}
