// POST /v1/certificates:issue, POST /v1/certificates:batchIssue and
// POST /v1/sign: the three ways to have certificates issued.
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/pb_scan.h"
#include "api/service.h"
#include "ca/issue.h"
#include "ca/limits.h"
#include "ca/pem.h"
#include "proto/pki.pb-c.h"

// require_protobuf refuses a body that does not say it is protobuf: a JSON
// or form body sent here by mistake would otherwise decode as garbage.
static int require_protobuf(const api_request *req) {
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
  ca_err_set_at(__FILE__, __LINE__, CA_ERR_UNSUPPORTED_MEDIA_TYPE,
                "send Content-Type: application/x-protobuf");
  return 0;
}

// requester names who asked; authentication comes with tokens, until then
// the client address is what is known.
static void requester_of(const api_request *req, char *out, size_t out_len) {
  snprintf(out, out_len, "anonymous@%s", req->remote);
}

static void count_results(api_service *svc, const ca_issued *results,
                          size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (results[i].err.code == CA_OK) {
      atomic_fetch_add(&svc->metrics.issued, 1);
    } else {
      api_metrics_refused(&svc->metrics, results[i].err.code);
    }
  }
}

// run_batch issues |n| requests; on a storage failure it answers the error
// itself and returns 0.
static int run_batch(api_service *svc, const api_request *req,
                     const ca_issue_request *requests, size_t n,
                     ca_issued *results, api_format format,
                     api_response *resp) {
  char requester[96];
  requester_of(req, requester, sizeof(requester));
  atomic_fetch_add(&svc->metrics.batches, 1);
  if (!ca_issue_batch(svc->authority, svc->store, requests, n, requester,
                      req->remote, results)) {
    atomic_fetch_add(&svc->metrics.storage_failures, 1);
    api_respond_error(resp, format, ca_err_get());
    return 0;
  }
  count_results(svc, results, n);
  return 1;
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

static void respond_packed(api_response *resp, const ProtobufCMessage *msg) {
  const size_t len = protobuf_c_message_get_packed_size(msg);
  uint8_t *buf = OPENSSL_malloc(len > 0 ? len : 1);
  if (buf == NULL) {
    api_respond_err_code(resp, API_FORMAT_PROTOBUF, CA_ERR_NO_MEMORY,
                         "out of memory");
    return;
  }
  protobuf_c_message_pack(msg, buf);
  api_respond(resp, 200, "application/x-protobuf", buf, len);
}

void api_handle_issue(api_service *svc, const api_request *req,
                      api_response *resp) {
  Pki__V1__IssueRequest *msg = NULL;
  ca_issued result;
  memset(&result, 0, sizeof(result));
  CA_GUARD(require_protobuf(req));
  msg = pki__v1__issue_request__unpack(NULL, req->body_len, req->body);
  CA_ENSURE(msg != NULL, CA_ERR_REQUEST_MALFORMED,
            "body is not a pki.v1.IssueRequest");
  ca_issue_request request = {msg->profile, msg->csr.data, msg->csr.len,
                              msg->validity_days};
  if (!run_batch(svc, req, &request, 1, &result, API_FORMAT_PROTOBUF, resp)) {
    goto done;
  }
  if (result.err.code != CA_OK) {
    api_respond_error(resp, API_FORMAT_PROTOBUF, &result.err);
    goto done;
  }
  Pki__V1__IssuedCertificate cert;
  ProtobufCBinaryData chain[CA_CHAIN_MAX];
  fill_issued(&result, &cert, chain);
  Pki__V1__IssueResponse out = PKI__V1__ISSUE_RESPONSE__INIT;
  out.certificate = &cert;
  respond_packed(resp, &out.base);
  goto done;
err:
  api_metrics_refused(&svc->metrics, ca_err_get()->code);
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
done:
  ca_issued_cleanup(&result);
  pki__v1__issue_request__free_unpacked(msg, NULL);
}

void api_handle_batch_issue(api_service *svc, const api_request *req,
                            api_response *resp) {
  Pki__V1__BatchIssueRequest *msg = NULL;
  ca_issue_request *requests = NULL;
  ca_issued *results = NULL;
  Pki__V1__IssueResult *items = NULL;
  Pki__V1__IssueResult **item_ptrs = NULL;
  Pki__V1__IssuedCertificate *certs = NULL;
  Pki__V1__Error *errors = NULL;
  ProtobufCBinaryData *chains = NULL;
  size_t n = 0;
  CA_GUARD(require_protobuf(req));
  // Count before decoding: see api/pb_scan.h.
  CA_GUARD(api_pb_count_field(req->body, req->body_len,
                              /*BatchIssueRequest.items=*/2,
                              CA_LIMIT_BATCH_ITEMS, &n));
  CA_ENSURE(n > 0, CA_ERR_BATCH_EMPTY, "the batch holds no items");
  msg = pki__v1__batch_issue_request__unpack(NULL, req->body_len, req->body);
  CA_ENSURE(msg != NULL && msg->n_items == n, CA_ERR_REQUEST_MALFORMED,
            "body is not a pki.v1.BatchIssueRequest");
  requests = calloc(n, sizeof(*requests));
  results = calloc(n, sizeof(*results));
  items = calloc(n, sizeof(*items));
  item_ptrs = calloc(n, sizeof(*item_ptrs));
  certs = calloc(n, sizeof(*certs));
  errors = calloc(n, sizeof(*errors));
  chains = calloc(n * CA_CHAIN_MAX, sizeof(*chains));
  CA_ENSURE(
      requests && results && items && item_ptrs && certs && errors && chains,
      CA_ERR_NO_MEMORY, "out of memory");
  for (size_t i = 0; i < n; i++) {
    const Pki__V1__IssueRequest *item = msg->items[i];
    requests[i].profile =
        item->profile[0] != '\0' ? item->profile : msg->profile;
    requests[i].csr = item->csr.data;
    requests[i].csr_len = item->csr.len;
    requests[i].validity_days = item->validity_days;
  }
  if (!run_batch(svc, req, requests, n, results, API_FORMAT_PROTOBUF, resp)) {
    goto done;
  }
  Pki__V1__BatchIssueResponse out = PKI__V1__BATCH_ISSUE_RESPONSE__INIT;
  for (size_t i = 0; i < n; i++) {
    pki__v1__issue_result__init(&items[i]);
    if (results[i].err.code == CA_OK) {
      fill_issued(&results[i], &certs[i], &chains[i * CA_CHAIN_MAX]);
      items[i].certificate = &certs[i];
      out.issued++;
    } else {
      pki__v1__error__init(&errors[i]);
      errors[i].code = (char *)ca_err_code_name(results[i].err.code);
      errors[i].message = results[i].err.message;
      items[i].error = &errors[i];
      out.failed++;
    }
    item_ptrs[i] = &items[i];
  }
  out.n_results = n;
  out.results = item_ptrs;
  respond_packed(resp, &out.base);
  goto done;
err:
  api_metrics_refused(&svc->metrics, ca_err_get()->code);
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
done:
  if (results != NULL) {
    for (size_t i = 0; i < n; i++) {
      ca_issued_cleanup(&results[i]);
    }
  }
  free(requests);
  free(results);
  free(items);
  free(item_ptrs);
  free(certs);
  free(errors);
  free(chains);
  pki__v1__batch_issue_request__free_unpacked(msg, NULL);
}

void api_handle_sign(api_service *svc, const api_request *req,
                     api_response *resp) {
  ca_issued result;
  memset(&result, 0, sizeof(result));
  CBB cbb;
  CBB_zero(&cbb);
  const char *profile;
  CA_GUARD(api_query_checked(req, "profile", &profile));
  CA_ENSURE(profile != NULL && profile[0] != '\0', CA_ERR_PROFILE_UNKNOWN,
            "name a profile: /v1/sign?profile=tomcat");
  CA_ENSURE(req->body_len > 0, CA_ERR_CSR_MALFORMED,
            "send the CSR (PEM or DER) as the request body");
  ca_issue_request request = {profile, req->body, req->body_len, 0};
  const char *days = api_query(req, "days");
  if (days != NULL) {
    char *end;
    const unsigned long d = strtoul(days, &end, 10);
    CA_ENSURE(*end == '\0' && d > 0 && d <= CA_LIMIT_VALIDITY_DAYS,
              CA_ERR_PARAMETER_INVALID, "days must be a positive number");
    request.validity_days = (uint32_t)d;
  }
  if (!run_batch(svc, req, &request, 1, &result, API_FORMAT_TEXT, resp)) {
    goto done;
  }
  if (result.err.code != CA_OK) {
    api_respond_error(resp, API_FORMAT_TEXT, &result.err);
    goto done;
  }
  // The leaf, then the issuing CA, then the root.
  CA_GUARD_CRYPTO(CBB_init(&cbb, 8192));
  CA_GUARD(ca_pem_add(&cbb, "CERTIFICATE", result.der, result.der_len));
  for (size_t i = 0; i < result.issuer->chain_len; i++) {
    CA_GUARD(ca_pem_add(&cbb, "CERTIFICATE", result.issuer->chain[i]->der,
                        result.issuer->chain[i]->der_len));
  }
  uint8_t *body;
  size_t body_len;
  CA_GUARD_CRYPTO(CBB_finish(&cbb, &body, &body_len));
  api_respond(resp, 200, "application/x-pem-file", body, body_len);
  goto done;
err:
  CBB_cleanup(&cbb);
  api_metrics_refused(&svc->metrics, ca_err_get()->code);
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
done:
  ca_issued_cleanup(&result);
}
