// POST /v1/certificates/{serial}:revoke, POST /v1/certificates/{serial}:unhold
// and GET /v1/crl/{ca}.
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/server/handlers/handlers.h"
#include "api/server/pb_scan.h"
#include "ca/revocation/revoke.h"
#include "ca/x509/pem.h"
#include "proto/pki.pb-c.h"

static void respond_state(api_response *resp,
                          const ca_revocation_result *result) {
  Pki__V1__RevocationResponse out = PKI__V1__REVOCATION_RESPONSE__INIT;
  out.serial = (char *)result->serial;
  out.issuer = result->issuer->name;
  out.status = result->revoked ? "revoked" : "good";
  out.revoked_at = result->revoked_at;
  out.reason = result->reason;
  out.crl_number = result->crl_number;
  api_respond_message(resp, &out.base);
}

// change revokes (|revoke| 1) or releases the certificate of the path.
static void change(api_service *svc, const api_request *req, int revoke,
                   api_response *resp) {
  Pki__V1__RevokeRequest *revoke_msg = NULL;
  Pki__V1__UnholdRequest *unhold_msg = NULL;
  char actor[96];
  snprintf(actor, sizeof(actor), "%s", req->principal.name);
  ca_revocation r = {
      .serial = req->param,
      .actor = actor,
      .source = req->remote,
      .crl_validity_s = svc->crl_validity_s,
  };
  // The body is optional for :unhold and carries the reason for :revoke.
  if (revoke) {
    revoke_msg =
        pki__v1__revoke_request__unpack(NULL, req->body_len, req->body);
    CA_ENSURE(revoke_msg != NULL, CA_ERR_REQUEST_MALFORMED,
              "body is not a pki.v1.RevokeRequest");
    CA_GUARD(api_pb_check_strings(&pki__v1__revoke_request__descriptor,
                                  req->body, req->body_len));
    r.reason = revoke_msg->reason;
    r.when = revoke_msg->revocation_time;
    r.issuer = revoke_msg->issuer;
  } else if (req->body_len > 0) {
    unhold_msg =
        pki__v1__unhold_request__unpack(NULL, req->body_len, req->body);
    CA_ENSURE(unhold_msg != NULL, CA_ERR_REQUEST_MALFORMED,
              "body is not a pki.v1.UnholdRequest");
    CA_GUARD(api_pb_check_strings(&pki__v1__unhold_request__descriptor,
                                  req->body, req->body_len));
    r.issuer = unhold_msg->issuer;
  }
  ca_revocation_result result;
  const int ok = revoke ? ca_revoke(svc->authority, svc->store, &r, &result)
                        : ca_unhold(svc->authority, svc->store, &r, &result);
  CA_GUARD(ok);
  // Invariant 6: seen by this node's OCSP responder at once; the others
  // hear the NOTIFY sent with the change.
  if (svc->responder != NULL) {
    ca_responder_forget(svc->responder, result.issuer->id, result.serial);
  }
  respond_state(resp, &result);
  goto done;
err:
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
done:
  pki__v1__revoke_request__free_unpacked(revoke_msg, NULL);
  pki__v1__unhold_request__free_unpacked(unhold_msg, NULL);
}

void api_handle_revoke(api_service *svc, const api_request *req,
                       api_response *resp) {
  change(svc, req, 1, resp);
}

void api_handle_unhold(api_service *svc, const api_request *req,
                       api_response *resp) {
  change(svc, req, 0, resp);
}

void api_handle_crl(api_service *svc, const api_request *req,
                    api_response *resp) {
  ca_crl_row crl;
  memset(&crl, 0, sizeof(crl));
  CBB pem;
  CBB_zero(&pem);
  const char *format;
  CA_GUARD(api_query_checked(req, "format", &format));
  const int as_pem = format != NULL && strcasecmp(format, "pem") == 0;
  CA_ENSURE(format == NULL || as_pem || strcasecmp(format, "der") == 0,
            CA_ERR_FORMAT_UNKNOWN, "format must be der or pem");
  const ca_issuer *ca = ca_authority_find(svc->authority, req->param);
  CA_GUARD_PTR(ca);
  CA_GUARD(ca_crl_current(svc->authority, svc->store, ca, svc->crl_validity_s,
                          &crl));
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
