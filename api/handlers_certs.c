// GET /v1/certificates (list) and GET /v1/certificates/{serial} (download).
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/formats.h"
#include "api/service.h"
#include "ca/asn1_time.h"
#include "ca/limits.h"
#include "ca/profile.h"
#include "ca/serial.h"
#include "proto/pki.pb-c.h"

// parse_filter reads ?profile=&cn=&status=&issuer=&limit=&after=.
static int parse_filter(api_service *svc, const api_request *req,
                        ca_cert_filter *f) {
  memset(f, 0, sizeof(*f));
  const char *profile, *limit, *after;
  CA_GUARD(api_query_checked(req, "profile", &profile));
  CA_GUARD(api_query_checked(req, "cn", &f->cn));
  CA_GUARD(api_query_checked(req, "status", &f->status));
  CA_GUARD(api_query_checked(req, "issuer", &f->issuer));
  CA_GUARD(api_query_checked(req, "limit", &limit));
  CA_GUARD(api_query_checked(req, "after", &after));
  if (profile != NULL && profile[0] != '\0') {
    // Canonical spelling, so "callmanager" finds CallManager rows.
    const ca_profile *p = ca_profile_find(&svc->authority->profiles, profile);
    CA_GUARD(p != NULL);
    f->profile = p->name;
  }
  if (f->cn != NULL && f->cn[0] == '\0') {
    f->cn = NULL;
  }
  if (f->issuer != NULL && f->issuer[0] == '\0') {
    f->issuer = NULL;
  }
  if (f->status != NULL && f->status[0] == '\0') {
    f->status = NULL;
  }
  CA_ENSURE(f->status == NULL || strcmp(f->status, "good") == 0 ||
                strcmp(f->status, "revoked") == 0,
            CA_ERR_PARAMETER_INVALID, "status must be good or revoked");
  f->limit = CA_LIMIT_LIST_DEFAULT;
  if (limit != NULL && limit[0] != '\0') {
    char *end;
    const unsigned long v = strtoul(limit, &end, 10);
    CA_ENSURE(*end == '\0' && v >= 1 && v <= CA_LIMIT_LIST_PAGE,
              CA_ERR_PARAMETER_INVALID, "limit must be 1 to %d",
              CA_LIMIT_LIST_PAGE);
    f->limit = v;
  }
  if (after != NULL && after[0] != '\0') {
    char *end;
    const long long v = strtoll(after, &end, 10);
    CA_ENSURE(*end == '\0' && v >= 0, CA_ERR_PARAMETER_INVALID,
              "after must be the next_after value of the previous page");
    f->after_id = v;
  }
  return 1;
err:
  return 0;
}

static void fill_info(const ca_cert_row *row, Pki__V1__CertificateInfo *info) {
  pki__v1__certificate_info__init(info);
  info->serial = row->serial;
  info->issuer = row->issuer;
  info->profile = row->profile;
  info->subject = row->subject;
  info->common_name = row->common_name;
  info->n_sans = row->san_count;
  info->sans = row->sans;
  info->not_before = row->not_before;
  info->not_after = row->not_after;
  info->status = row->status;
  info->requester = row->requester;
  info->created_at = row->created_at;
  info->key_type = row->key_type;
  info->key_bits = row->key_bits;
  info->key_generated = row->key_generated != 0;
  info->revoked_at = row->revoked_at;
  info->revocation_reason = row->revocation_reason;
}

static int add_text_rows(CBB *cbb, const ca_cert_row *rows, size_t n) {
  const char header[] =
      "SERIAL\tPROFILE\tSTATUS\tNOT_AFTER\tISSUER\tCOMMON_NAME\n";
  if (!CBB_add_bytes(cbb, (const uint8_t *)header, sizeof(header) - 1)) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    char na[21], line[1024];
    if (!ca_time_format(rows[i].not_after, na)) {
      return 0;
    }
    const int len = snprintf(line, sizeof(line), "%s\t%s\t%s\t%s\t%s\t%s\n",
                             rows[i].serial, rows[i].profile, rows[i].status,
                             na, rows[i].issuer, rows[i].common_name);
    if (len <= 0 || (size_t)len >= sizeof(line) ||
        !CBB_add_bytes(cbb, (const uint8_t *)line, (size_t)len)) {
      return 0;
    }
  }
  return 1;
}

void api_handle_cert_list(api_service *svc, const api_request *req,
                          api_response *resp) {
  ca_cert_row *rows = NULL;
  size_t n = 0;
  Pki__V1__CertificateInfo *infos = NULL;
  Pki__V1__CertificateInfo **ptrs = NULL;
  CBB cbb;
  CBB_zero(&cbb);
  const char *format = api_query(req, "format");
  const int text = format != NULL && strcmp(format, "text") == 0;
  const api_format errors = text ? API_FORMAT_TEXT : API_FORMAT_PROTOBUF;
  ca_cert_filter filter;
  CA_GUARD(parse_filter(svc, req, &filter));
  CA_GUARD(ca_store_list_certificates(svc->store, &filter, &rows, &n));
  // A full page may have a successor; a short one is the last.
  char next[24] = "";
  if (n == filter.limit) {
    snprintf(next, sizeof(next), "%lld", (long long)rows[n - 1].id);
  }
  uint8_t *body;
  size_t len;
  if (text) {
    CA_GUARD_CRYPTO(CBB_init(&cbb, 256 + n * 128));
    CA_ENSURE(add_text_rows(&cbb, rows, n), CA_ERR_NO_MEMORY, "out of memory");
    if (next[0] != '\0') {
      char line[64];
      const int l =
          snprintf(line, sizeof(line), "# next page: after=%s\n", next);
      CA_GUARD_CRYPTO(CBB_add_bytes(&cbb, (const uint8_t *)line, (size_t)l));
    }
    CA_GUARD_CRYPTO(CBB_finish(&cbb, &body, &len));
    api_respond(resp, 200, "text/plain; charset=utf-8", body, len);
    goto done;
  }
  infos = calloc(n > 0 ? n : 1, sizeof(*infos));
  ptrs = calloc(n > 0 ? n : 1, sizeof(*ptrs));
  CA_ENSURE(infos != NULL && ptrs != NULL, CA_ERR_NO_MEMORY, "out of memory");
  for (size_t i = 0; i < n; i++) {
    fill_info(&rows[i], &infos[i]);
    ptrs[i] = &infos[i];
  }
  Pki__V1__ListCertificatesResponse out =
      PKI__V1__LIST_CERTIFICATES_RESPONSE__INIT;
  out.n_certificates = n;
  out.certificates = ptrs;
  out.next_after = next;
  len = pki__v1__list_certificates_response__get_packed_size(&out);
  body = OPENSSL_malloc(len > 0 ? len : 1);
  CA_ENSURE_ALLOC(body);
  pki__v1__list_certificates_response__pack(&out, body);
  api_respond(resp, 200, "application/x-protobuf", body, len);
  goto done;
err:
  CBB_cleanup(&cbb);
  api_respond_error(resp, errors, ca_err_get());
done:
  free(infos);
  free(ptrs);
  ca_cert_rows_free(rows, n);
}

void api_handle_cert_get(api_service *svc, const api_request *req,
                         api_response *resp) {
  ca_cert_row *rows = NULL;
  size_t n = 0;
  ca_serial serial;
  char serial_hex[CA_SERIAL_HEX_LEN];
  api_cert_format format;
  const char *format_text, *issuer;
  CA_GUARD(api_query_checked(req, "format", &format_text));
  CA_GUARD(api_query_checked(req, "issuer", &issuer));
  CA_GUARD(api_cert_format_parse(format_text, API_CERT_PEM, &format));
  CA_GUARD(ca_serial_from_hex(req->param, strlen(req->param), &serial));
  ca_serial_to_hex(&serial, serial_hex);
  ca_cert_filter filter;
  memset(&filter, 0, sizeof(filter));
  filter.serial = serial_hex;
  filter.issuer = issuer != NULL && issuer[0] != '\0' ? issuer : NULL;
  filter.limit = 2;
  filter.with_der = 1;
  CA_GUARD(ca_store_list_certificates(svc->store, &filter, &rows, &n));
  CA_ENSURE(n > 0, CA_ERR_NOT_FOUND, "no certificate with serial %s",
            serial_hex);
  // Serials are unique per issuer; across issuers a clash is possible in
  // principle, and then the client must say which issuer it means.
  CA_ENSURE(n == 1, CA_ERR_AMBIGUOUS,
            "serial %s exists under several CAs: add ?issuer=NAME", serial_hex);
  // The certificate alone in PEM and DER; the chain above it in PKCS#7.
  const uint8_t *certs[1 + CA_CHAIN_MAX];
  size_t lens[1 + CA_CHAIN_MAX];
  size_t count = 1;
  certs[0] = rows[0].der;
  lens[0] = rows[0].der_len;
  // A self-signed certificate (issuer "") is its own chain.
  if ((format == API_CERT_P7B || format == API_CERT_P7B_PEM) &&
      rows[0].issuer[0] != '\0') {
    const ca_issuer *ca = ca_authority_find(svc->authority, rows[0].issuer);
    CA_GUARD(ca != NULL);
    for (size_t i = 0; i < ca->chain_len; i++) {
      certs[count] = ca->chain[i]->der;
      lens[count++] = ca->chain[i]->der_len;
    }
  }
  api_respond_certs(resp, format, certs, lens, count);
  ca_cert_rows_free(rows, n);
  return;
err:
  ca_cert_rows_free(rows, n);
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}
