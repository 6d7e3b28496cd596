// GET /v1/certificates (list) and GET /v1/certificates/{serial} (download,
// or ?format=info: its CertificateInfo).
#include <errno.h>
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/server/formats.h"
#include "api/server/handlers/handlers.h"
#include "api/server/service.h"
#include "ca/limits.h"
#include "ca/policy/profile.h"
#include "ca/policy/trust.h"
#include "ca/revocation/trust_check.h"
#include "ca/x509/asn1_time.h"
#include "ca/x509/serial.h"
#include "proto/pki.pb-c.h"

// parse_time reads a date of a filter: Unix seconds, "YYYY-MM-DD" (midnight
// UTC) or "YYYY-MM-DDTHH:MM:SSZ", from 1970 to CA_TIME_MAX
// (9999-12-31T23:59:59Z, the last instant a certificate's Time can say).
// The bound keeps what reaches PostgreSQL's to_timestamp within its range:
// beyond, the query would fail and the client get a 503 for its typo.
static int parse_time(const char *name, const char *text, int64_t *out) {
  int y, mo, d, h = 0, mi = 0, sec = 0, used = 0;
  char *end;
  errno = 0;
  const long long v = strtoll(text, &end, 10);
  if (end != text && *end == '\0' && v > 0) {
    CA_ENSURE_RETURN(errno != ERANGE && v <= CA_TIME_MAX,
                     CA_ERR_PARAMETER_INVALID,
                     "%s must be at most %lld (9999-12-31T23:59:59Z)", name,
                     (long long)CA_TIME_MAX);
    *out = v;
    return 1;
  }
  const int date = sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &used) == 3 &&
                   text[used] == '\0';
  const int datetime = !date &&
                       sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d,
                              &h, &mi, &sec, &used) == 6 &&
                       text[used] == '\0';
  CA_ENSURE_RETURN(
      (date || datetime) && y >= 1970 && y <= 9999 && mo >= 1 && mo <= 12 &&
          d >= 1 && d <= 31 && h <= 23 && mi <= 59 && sec <= 59 && h >= 0 &&
          mi >= 0 && sec >= 0,
      CA_ERR_PARAMETER_INVALID,
      "%s must be a date (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or Unix "
      "seconds)",
      name);
  *out = ca_time_from_civil(y, mo, d, h, mi, sec);
  return 1;
}

// empty_null turns an empty query value into NULL (no filter).
static const char *empty_null(const char *v) {
  return v != NULL && v[0] != '\0' ? v : NULL;
}

// parse_filter reads the filters of GET /v1/certificates: profile, cn,
// status, issuer, key_type, key_bits, usage, store, cluster,
// expires_before, expires_after, revocation, limit and the cursor after.
static int parse_filter(api_service *svc, const api_request *req,
                        ca_cert_filter *f) {
  memset(f, 0, sizeof(*f));
  const char *profile, *limit, *after, *usage, *bits, *before, *since, *store;
  CA_GUARD_RETURN(api_query_checked(req, "profile", &profile));
  CA_GUARD_RETURN(api_query_checked(req, "cn", &f->cn));
  CA_GUARD_RETURN(api_query_checked(req, "status", &f->status));
  CA_GUARD_RETURN(api_query_checked(req, "issuer", &f->issuer));
  CA_GUARD_RETURN(api_query_checked(req, "key_type", &f->key_type));
  CA_GUARD_RETURN(api_query_checked(req, "key_bits", &bits));
  CA_GUARD_RETURN(api_query_checked(req, "usage", &usage));
  CA_GUARD_RETURN(api_query_checked(req, "store", &store));
  CA_GUARD_RETURN(api_query_checked(req, "cluster", &f->cluster));
  CA_GUARD_RETURN(api_query_checked(req, "expires_before", &before));
  CA_GUARD_RETURN(api_query_checked(req, "expires_after", &since));
  CA_GUARD_RETURN(api_query_checked(req, "limit", &limit));
  CA_GUARD_RETURN(api_query_checked(req, "after", &after));
  CA_GUARD_RETURN(api_query_checked(req, "revocation", &f->revocation));
  f->revocation = empty_null(f->revocation);
  ca_revstatus wanted;
  CA_ENSURE_RETURN(f->revocation == NULL ||
                       strcmp(f->revocation, "unchecked") == 0 ||
                       ca_revstatus_parse(f->revocation, &wanted),
                   CA_ERR_PARAMETER_INVALID,
                   "revocation must be good, revoked, unknown, unreachable, "
                   "anchor or unchecked");
  if (empty_null(profile) != NULL) {
    // Canonical spelling, so "callmanager" finds CallManager rows. A
    // purpose without a profile (ITLRecovery) is taken as written: it can
    // name trust entries of bulk imports.
    const ca_profile *p = ca_profile_find(&svc->authority->profiles, profile);
    f->profile = p != NULL ? p->name : profile;
    ca_err_clear();
  }
  f->cn = empty_null(f->cn);
  f->issuer = empty_null(f->issuer);
  f->status = empty_null(f->status);
  f->cluster = empty_null(f->cluster);
  f->key_type = empty_null(f->key_type);
  CA_ENSURE_RETURN(f->status == NULL || strcmp(f->status, "good") == 0 ||
                       strcmp(f->status, "revoked") == 0,
                   CA_ERR_PARAMETER_INVALID, "status must be good or revoked");
  if (f->key_type != NULL) {
    CA_ENSURE_RETURN(strcasecmp(f->key_type, "RSA") == 0 ||
                         strcasecmp(f->key_type, "EC") == 0,
                     CA_ERR_PARAMETER_INVALID, "key_type must be RSA or EC");
    f->key_type = strcasecmp(f->key_type, "RSA") == 0 ? "RSA" : "EC";
  }
  if (empty_null(bits) != NULL) {
    char *end;
    const unsigned long v = strtoul(bits, &end, 10);
    CA_ENSURE_RETURN(*end == '\0' && v >= 128 && v <= 16384,
                     CA_ERR_PARAMETER_INVALID,
                     "key_bits must be a key size in bits");
    f->key_bits = (unsigned)v;
  }
  if (empty_null(usage) != NULL) {
    CA_ENSURE_RETURN(
        strcmp(usage, "identity") == 0 || strcmp(usage, "trust") == 0 ||
            strcmp(usage, "external") == 0 || strcmp(usage, "all") == 0,
        CA_ERR_PARAMETER_INVALID,
        "usage must be identity, trust, external or all");
    f->usage = strcmp(usage, "identity") == 0   ? CA_USAGE_IDENTITY
               : strcmp(usage, "trust") == 0    ? CA_USAGE_TRUST
               : strcmp(usage, "external") == 0 ? CA_USAGE_EXTERNAL
                                                : CA_USAGE_ALL;
  }
  if (empty_null(store) != NULL) {
    f->store = ca_trust_store_find(store);
    CA_ENSURE_RETURN(f->store != NULL, CA_ERR_PARAMETER_INVALID,
                     "store must be tomcat-trust, CallManager-trust, "
                     "Phone-SAST-trust, CAPF-trust, ipsec-trust or TVS-trust");
  }
  if (empty_null(before) != NULL) {
    CA_GUARD_RETURN(parse_time("expires_before", before, &f->expires_before));
  }
  if (empty_null(since) != NULL) {
    CA_GUARD_RETURN(parse_time("expires_after", since, &f->expires_after));
  }
  f->limit = CA_LIMIT_LIST_DEFAULT;
  if (empty_null(limit) != NULL) {
    char *end;
    const unsigned long v = strtoul(limit, &end, 10);
    CA_ENSURE_RETURN(*end == '\0' && v >= 1 && v <= CA_LIMIT_LIST_PAGE,
                     CA_ERR_PARAMETER_INVALID, "limit must be 1 to %d",
                     CA_LIMIT_LIST_PAGE);
    f->limit = v;
  }
  if (empty_null(after) != NULL) {
    CA_GUARD_RETURN(ca_cert_cursor_parse(&f->after, after));
    // A cursor holds a notAfter, which a certificate's Time bounds; any
    // other value is made up, and PostgreSQL would fail on it.
    CA_ENSURE_RETURN(
        f->after.not_after >= CA_TIME_MIN && f->after.not_after <= CA_TIME_MAX,
        CA_ERR_PARAMETER_INVALID,
        "after must be the next_after value of the previous page");
  }
  return 1;
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
  info->usage = (char *)ca_cert_row_usage(row);
  info->node = row->node != NULL ? row->node : "";
  info->store = row->store;
  info->fingerprint = (char *)row->fingerprint;
  info->self_signed = row->self_signed != 0;
  info->cluster = row->cluster;
  info->revocation_status = row->revocation != NULL ? row->revocation : "";
}

static int add_text_rows(CBB *cbb, const ca_cert_row *rows, size_t n) {
  const char header[] =
      "USAGE\tSERIAL\tPROFILE\tSTATUS\tNOT_AFTER\tISSUER\tCOMMON_NAME\t"
      "REVOCATION\n";
  if (!CBB_add_bytes(cbb, (const uint8_t *)header, sizeof(header) - 1)) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    char na[21], line[1024];
    if (!ca_time_format(rows[i].not_after, na)) {
      return 0;
    }
    // A trust entry names its store where an identity names its profile.
    const int len = snprintf(
        line, sizeof(line), "%s\t%s\t%s\t%s\t%s\t%.200s\t%.200s\t%s\n",
        ca_cert_row_usage(&rows[i]), rows[i].serial,
        rows[i].trust ? rows[i].store : rows[i].profile, rows[i].status, na,
        rows[i].self_signed ? "(self-signed)" : rows[i].issuer,
        rows[i].common_name,
        rows[i].revocation != NULL ? rows[i].revocation : "-");
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
  char next[64] = "";
  if (n == filter.limit) {
    ca_cert_cursor_format(&rows[n - 1], next);
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
  api_respond_message(resp, &out.base);
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
  // ?format=info: the CertificateInfo of the list, for this one
  // certificate (proto/pki.proto); errors stay text, as for the downloads.
  const int info = format_text != NULL && strcmp(format_text, "info") == 0;
  CA_GUARD(
      api_cert_format_parse(&format, info ? NULL : format_text, API_CERT_PEM));
  CA_GUARD(ca_serial_from_hex(req->param, strlen(req->param), &serial));
  ca_serial_to_hex(&serial, serial_hex);
  ca_cert_filter filter;
  memset(&filter, 0, sizeof(filter));
  filter.usage = CA_USAGE_IDENTITY;
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
  if (info) {
    Pki__V1__CertificateInfo out;
    fill_info(&rows[0], &out);
    api_respond_message(resp, &out.base);
    ca_cert_rows_free(rows, n);
    return;
  }
  // The certificate alone in PEM and DER; the chain above it in PKCS#7.
  const uint8_t *certs[1 + CA_CHAIN_MAX];
  size_t lens[1 + CA_CHAIN_MAX];
  size_t count = 1;
  certs[0] = rows[0].der;
  lens[0] = rows[0].der_len;
  // A self-signed certificate has no chain above it.
  if ((format == API_CERT_P7B || format == API_CERT_P7B_PEM) &&
      !rows[0].self_signed) {
    const ca_issuer *ca = ca_authority_find(svc->authority, rows[0].issuer);
    CA_GUARD_PTR(ca);
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
