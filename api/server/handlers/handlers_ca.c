// GET /v1/ca and GET /v1/ca/{name}/chain.
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/server/formats.h"
#include "api/server/handlers/handlers.h"
#include "api/server/service.h"
#include "ca/x509/asn1_time.h"
#include "proto/pki.pb-c.h"

static void respond_text_list(api_service *svc, api_response *resp) {
  CBB cbb;
  uint8_t *body;
  size_t len;
  CA_GUARD_CRYPTO(CBB_init(&cbb, 1024));
  const char header[] = "NAME\tROLE\tALGORITHM\tNOT_AFTER\tSUBJECT\n";
  CA_GUARD_CRYPTO(
      CBB_add_bytes(&cbb, (const uint8_t *)header, sizeof(header) - 1));
  for (size_t i = 0; i < svc->authority->count; i++) {
    const ca_issuer *ca = &svc->authority->issuers[i];
    char na[21], line[512];
    CA_ENSURE(ca_time_format(ca->cert.not_after, na), CA_ERR_INTERNAL,
              "bad time");
    const int n = snprintf(line, sizeof(line), "%s\t%s\t%s\t%s\t%s\n", ca->name,
                           ca->role, ca->algorithm, na, ca->subject);
    CA_GUARD_CRYPTO(n > 0 && (size_t)n < sizeof(line) &&
                    CBB_add_bytes(&cbb, (const uint8_t *)line, (size_t)n));
  }
  CA_GUARD_CRYPTO(CBB_finish(&cbb, &body, &len));
  api_respond(resp, 200, "text/plain; charset=utf-8", body, len);
  return;
err:
  CBB_cleanup(&cbb);
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}

void api_handle_ca_list(api_service *svc, const api_request *req,
                        api_response *resp) {
  const char *format = api_query(req, "format");
  if (format != NULL && strcmp(format, "text") == 0) {
    respond_text_list(svc, resp);
    return;
  }
  const size_t n = svc->authority->count;
  Pki__V1__CaInfo infos[CA_AUTHORITY_MAX_ISSUERS];
  Pki__V1__CaInfo *ptrs[CA_AUTHORITY_MAX_ISSUERS];
  for (size_t i = 0; i < n; i++) {
    const ca_issuer *ca = &svc->authority->issuers[i];
    pki__v1__ca_info__init(&infos[i]);
    infos[i].name = ca->name;
    infos[i].role = ca->role;
    infos[i].algorithm = ca->algorithm;
    infos[i].subject = ca->subject;
    infos[i].serial = ca->serial;
    infos[i].not_before = ca->cert.not_before;
    infos[i].not_after = ca->cert.not_after;
    infos[i].parent = ca->parent != NULL ? ca->parent->name : "";
    infos[i].certificate.data = ca->der;
    infos[i].certificate.len = ca->der_len;
    ptrs[i] = &infos[i];
  }
  Pki__V1__ListCasResponse out = PKI__V1__LIST_CAS_RESPONSE__INIT;
  out.n_cas = n;
  out.cas = ptrs;
  api_respond_message(resp, &out.base);
}

void api_handle_ca_chain(api_service *svc, const api_request *req,
                         api_response *resp) {
  api_cert_format format;
  const char *format_text;
  CA_GUARD(api_query_checked(req, "format", &format_text));
  CA_GUARD(api_cert_format_parse(&format, format_text, API_CERT_PEM));
  const ca_issuer *ca = ca_authority_find(svc->authority, req->param);
  CA_GUARD_PTR(ca);
  // The CA itself, then those above it up to the root; DER is the CA alone.
  const uint8_t *certs[CA_CHAIN_MAX];
  size_t lens[CA_CHAIN_MAX];
  for (size_t i = 0; i < ca->chain_len; i++) {
    certs[i] = ca->chain[i]->der;
    lens[i] = ca->chain[i]->der_len;
  }
  api_respond_certs(resp, format, certs, lens, ca->chain_len);
  return;
err:
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}
