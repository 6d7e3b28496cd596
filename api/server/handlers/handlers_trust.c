// Trust stores: POST /v1/trust/{store} (upload), GET /v1/trust[/{store}]
// (list), GET /v1/trust/{store}/{fingerprint} (download) and DELETE
// /v1/trust/{store}/{fingerprint}.
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/server/formats.h"
#include "api/server/handlers/handlers.h"
#include "api/server/handlers/text_table.h"
#include "api/server/revcheck.h"
#include "api/server/service.h"
#include "ca/limits.h"
#include "ca/policy/trust.h"
#include "ca/store/store_revcheck.h"
#include "ca/x509/asn1_time.h"
#include "proto/pki.pb-c.h"

// The entry of a row, borrowing its strings; |fp| holds the fingerprint.
// The revocation statuses of the entries listed (store_revcheck.h), set
// around a listing.
typedef struct rev_view {
  ca_revcheck_row *rows;
  size_t n;
} rev_view;

static void fill_revocation(const rev_view *rev, const ca_trust_row *row,
                            Pki__V1__TrustEntry *e) {
  const ca_revcheck_row *r =
      rev != NULL ? ca_revcheck_row_find(rev->rows, rev->n, row->fingerprint)
                  : NULL;
  if (r == NULL) {
    return;
  }
  e->revocation_status = r->status;
  e->revocation_checked_at = r->checked_at;
  e->revocation_source = r->source;
  e->revocation_url = r->responder_url;
  e->revocation_error = r->error;
  e->revocation_revoked_at = r->revoked_at;
}

static void fill_entry(const ca_trust_row *row,
                       char fp[CA_TRUST_FINGERPRINT_HEX_LEN],
                       Pki__V1__TrustEntry *e) {
  pki__v1__trust_entry__init(e);
  ca_trust_fingerprint_hex(row->fingerprint, fp);
  e->store = row->store;
  e->fingerprint = fp;
  e->subject = row->subject;
  e->issuer = row->issuer;
  e->serial = row->serial;
  e->common_name = row->common_name;
  e->key_type = row->key_type;
  e->key_bits = row->key_bits;
  e->is_ca = row->is_ca != 0;
  e->not_before = row->not_before;
  e->not_after = row->not_after;
  e->source = row->source;
  e->cluster = row->cluster;
  e->node = row->node;
  e->purpose = row->purpose;
  e->revoked_at = row->revoked_at;
  e->revocation_reason = row->revocation_reason;
  e->added_by = row->added_by;
  e->created_at = row->created_at;
  e->description = row->description;
  e->leaf = row->is_ca == 0;
  if (row->der != NULL) {
    e->certificate.data = row->der;
    e->certificate.len = row->der_len;
  }
}

// The columns of the text listing, in order: a new column is one more line
// here, at the end (scripts read the first ones by position).
static const char *cell_status(const void *row, char *s, size_t cap) {
  (void)s, (void)cap;
  return ((const ca_trust_row *)row)->revoked_at != 0 ? "revoked" : "good";
}
static const char *cell_kind(const void *row, char *s, size_t cap) {
  (void)s, (void)cap;
  return ((const ca_trust_row *)row)->is_ca ? "ca" : "leaf";
}

static const api_text_column kColumns[] = {
    API_COLUMN_TEXT("STORE", ca_trust_row, store),
    API_COLUMN_FINGERPRINT("FINGERPRINT", ca_trust_row, fingerprint),
    API_COLUMN_TIME("NOT_AFTER", ca_trust_row, not_after),
    API_COLUMN_TEXT("SOURCE", ca_trust_row, source),
    API_COLUMN_CUSTOM("STATUS", cell_status),
    API_COLUMN_TEXT("SUBJECT", ca_trust_row, subject),
    API_COLUMN_CUSTOM("KIND", cell_kind),
    API_COLUMN_TEXT("DESCRIPTION", ca_trust_row, description),
    API_COLUMN_REVOCATION("REVOCATION"),
    API_COLUMN_CHECKED("CHECKED"),
};

static void respond_table(api_response *resp, const ca_trust_row *rows,
                          size_t n, const rev_view *rev) {
  const api_text_table table = {
      .columns = kColumns,
      .n_columns = sizeof(kColumns) / sizeof(kColumns[0]),
      .rows = rows,
      .row_size = sizeof(*rows),
      .n_rows = n,
      .fingerprint_offset = offsetof(ca_trust_row, fingerprint),
      .checks = rev->rows,
      .n_checks = rev->n,
  };
  api_respond_text_table(resp, &table);
}

static void respond_list(api_response *resp, const ca_trust_row *rows, size_t n,
                         const rev_view *rev) {
  Pki__V1__TrustEntry *entries = calloc(n > 0 ? n : 1, sizeof(*entries));
  Pki__V1__TrustEntry **ptrs = calloc(n > 0 ? n : 1, sizeof(*ptrs));
  char(*fps)[CA_TRUST_FINGERPRINT_HEX_LEN] =
      calloc(n > 0 ? n : 1, sizeof(*fps));
  CA_ENSURE(entries != NULL && ptrs != NULL && fps != NULL, CA_ERR_NO_MEMORY,
            "out of memory");
  for (size_t i = 0; i < n; i++) {
    fill_entry(&rows[i], fps[i], &entries[i]);
    fill_revocation(rev, &rows[i], &entries[i]);
    ptrs[i] = &entries[i];
  }
  Pki__V1__ListTrustResponse out = PKI__V1__LIST_TRUST_RESPONSE__INIT;
  out.n_entries = n;
  out.entries = ptrs;
  api_respond_message(resp, &out.base);
  goto done;
err:
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
done:
  free(entries);
  free(ptrs);
  free(fps);
}

// respond_rows answers a listing in the format asked: protobuf (default),
// a text table, or the certificates themselves (pem, p7b, p7b-pem), so that
// `curl .../v1/trust/tomcat-trust?format=pem > bundle.pem` makes a CA file.
static void respond_certs(api_response *resp, const char *format,
                          const ca_trust_row *rows, size_t n);

// keep_revocation keeps the rows whose revocation status is |status|
// ("unchecked" for none yet) and returns their number.
static size_t keep_revocation(ca_trust_row *rows, size_t n, const rev_view *rev,
                              const char *status) {
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    const ca_revcheck_row *r =
        ca_revcheck_row_find(rev->rows, rev->n, rows[i].fingerprint);
    const char *have = r != NULL ? r->status : "unchecked";
    if (strcmp(have, status) == 0) {
      ca_trust_row tmp = rows[kept];
      rows[kept++] = rows[i];
      rows[i] = tmp;
    }
  }
  return kept;
}

static void respond_rows(api_response *resp, const api_request *req,
                         api_service *svc, const char *format,
                         ca_trust_row *rows, size_t n) {
  rev_view rev = {NULL, 0};
  const char *revocation;
  ca_revstatus wanted;
  CA_GUARD(api_query_checked(req, "revocation", &revocation));
  CA_GUARD(ca_store_revcheck_list(svc->store, &rev.rows, &rev.n));
  size_t shown = n;
  if (revocation != NULL && revocation[0] != '\0') {
    CA_ENSURE(strcmp(revocation, "unchecked") == 0 ||
                  ca_revstatus_parse(revocation, &wanted),
              CA_ERR_PARAMETER_INVALID,
              "revocation must be good, revoked, unknown, unreachable, "
              "anchor or unchecked");
    shown = keep_revocation(rows, n, &rev, revocation);
  }
  if (format == NULL || format[0] == '\0' || strcmp(format, "protobuf") == 0) {
    respond_list(resp, rows, shown, &rev);
  } else if (strcmp(format, "text") == 0) {
    respond_table(resp, rows, shown, &rev);
  } else {
    respond_certs(resp, format, rows, shown);
  }
  ca_revcheck_rows_free(rev.rows, rev.n);
  return;
err:
  ca_revcheck_rows_free(rev.rows, rev.n);
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}

// respond_certs answers the certificates themselves (pem, p7b, p7b-pem).
static void respond_certs(api_response *resp, const char *format,
                          const ca_trust_row *rows, size_t n) {
  api_cert_format cert_format;
  const uint8_t **certs = NULL;
  size_t *lens = NULL;
  CA_GUARD(api_cert_format_parse(&cert_format, format, API_CERT_PEM));
  CA_ENSURE(cert_format != API_CERT_DER || n == 1, CA_ERR_FORMAT_UNKNOWN,
            "der holds one certificate: use pem, p7b or p7b-pem for a store");
  certs = calloc(n > 0 ? n : 1, sizeof(*certs));
  lens = calloc(n > 0 ? n : 1, sizeof(*lens));
  CA_ENSURE(certs != NULL && lens != NULL, CA_ERR_NO_MEMORY, "out of memory");
  for (size_t i = 0; i < n; i++) {
    certs[i] = rows[i].der;
    lens[i] = rows[i].der_len;
  }
  api_respond_certs(resp, cert_format, certs, lens, n);
  free(certs);
  free(lens);
  return;
err:
  free(certs);
  free(lens);
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}

// split_param reads "{store}" or "{store}/{fingerprint}" of the path.
static int split_param(const char *param, const char **out_store,
                       uint8_t fp[CA_TRUST_FINGERPRINT_LEN], int *out_has_fp) {
  char name[64];
  const char *slash = strchr(param, '/');
  const size_t len = slash != NULL ? (size_t)(slash - param) : strlen(param);
  CA_ENSURE_RETURN(len > 0 && len < sizeof(name), CA_ERR_NOT_FOUND,
                   "no such trust store");
  memcpy(name, param, len);
  name[len] = '\0';
  *out_store = ca_trust_store_find(name);
  CA_GUARD_PTR_RETURN(*out_store);
  *out_has_fp = slash != NULL;
  if (slash != NULL) {
    CA_ENSURE_RETURN(strchr(slash + 1, '/') == NULL, CA_ERR_NOT_FOUND,
                     "no such resource");
    CA_GUARD_RETURN(ca_trust_fingerprint_parse(fp, slash + 1));
  }
  return 1;
}

void api_handle_trust_list_all(api_service *svc, const api_request *req,
                               api_response *resp) {
  ca_trust_row *rows = NULL;
  size_t n = 0;
  const char *format;
  CA_GUARD(api_query_checked(req, "format", &format));
  const int with_der = format != NULL && format[0] != '\0' &&
                       strcmp(format, "text") != 0 &&
                       strcmp(format, "protobuf") != 0;
  CA_GUARD(ca_store_list_trust(svc->store, NULL, NULL, with_der, &rows, &n));
  respond_rows(resp, req, svc, format, rows, n);
  ca_trust_rows_free(rows, n);
  return;
err:
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}

void api_handle_trust_get(api_service *svc, const api_request *req,
                          api_response *resp) {
  ca_trust_row *rows = NULL;
  size_t n = 0;
  const char *store, *format;
  uint8_t fp[CA_TRUST_FINGERPRINT_LEN];
  int has_fp;
  CA_GUARD(api_query_checked(req, "format", &format));
  CA_GUARD(split_param(req->param, &store, fp, &has_fp));
  if (!has_fp) {
    const int with_der = format != NULL && format[0] != '\0' &&
                         strcmp(format, "text") != 0 &&
                         strcmp(format, "protobuf") != 0;
    CA_GUARD(ca_store_list_trust(svc->store, store, NULL, with_der, &rows, &n));
    respond_rows(resp, req, svc, format, rows, n);
    ca_trust_rows_free(rows, n);
    return;
  }
  CA_GUARD(ca_store_list_trust(svc->store, store, fp, 1, &rows, &n));
  CA_ENSURE(n == 1, CA_ERR_NOT_FOUND, "%s holds no certificate %s", store,
            strchr(req->param, '/') + 1);
  // One certificate: PEM by default, like GET /v1/certificates/{serial};
  // ?format=protobuf gives the entry.
  respond_rows(resp, req, svc,
               format != NULL && format[0] != '\0' ? format : "pem", rows, n);
  ca_trust_rows_free(rows, n);
  return;
err:
  ca_trust_rows_free(rows, n);
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}

static int audit_change(ca_store_tx *tx, const api_request *req,
                        const char *actor, const char *action,
                        const char *store, const char *fp, const char *subject,
                        const char *outcome) {
  char object[160], detail[512];
  snprintf(object, sizeof(object), "trust:%s/%s", store, fp);
  snprintf(detail, sizeof(detail), "%s %.400s", outcome, subject);
  return ca_store_tx_audit(tx, actor, action, object, req->remote, "ok",
                           detail);
}

static int upload_table(api_response *resp,
                        const Pki__V1__TrustUploadResult *results, size_t n) {
  CBB cbb;
  uint8_t *body;
  size_t len;
  if (!CBB_init(&cbb, 128 + n * 160) ||
      !api_cbb_printf(&cbb,
                      "OUTCOME\tSTORE\tFINGERPRINT\tSUBJECT\t"
                      "REVOCATION\tWARNING\n")) {
    CBB_cleanup(&cbb);
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (!api_cbb_printf(
            &cbb, "%s\t%s\t%s\t%s\t%s\t%s\n", results[i].outcome,
            results[i].store, results[i].fingerprint, results[i].subject,
            results[i].revocation_status[0] != '\0'
                ? results[i].revocation_status
                : "-",
            results[i].warning[0] != '\0' ? results[i].warning : "-")) {
      CBB_cleanup(&cbb);
      return 0;
    }
  }
  if (!CBB_finish(&cbb, &body, &len)) {
    CBB_cleanup(&cbb);
    return 0;
  }
  api_respond(resp, 200, "text/plain; charset=utf-8", body, len);
  return 1;
}

static int pack_upload(api_response *resp, Pki__V1__TrustUploadResult *results,
                       size_t n) {
  Pki__V1__TrustUploadResult **ptrs = calloc(n > 0 ? n : 1, sizeof(*ptrs));
  if (ptrs == NULL) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    ptrs[i] = &results[i];
  }
  Pki__V1__TrustUploadResponse out = PKI__V1__TRUST_UPLOAD_RESPONSE__INIT;
  out.n_results = n;
  out.results = ptrs;
  api_respond_message(resp, &out.base);
  free(ptrs);
  return 1;
}

// One result slot per (certificate, store) and the text it points to.
typedef struct upload_slot {
  char fp[CA_TRUST_FINGERPRINT_HEX_LEN];
  char other[CA_TRUST_FINGERPRINT_HEX_LEN];
} upload_slot;

// The revocation check of one certificate of an upload.
typedef struct upload_check {
  ca_revcheck_result result;
  int checked;
  char warning[400];
} upload_check;

// check_revocation checks every CA certificate of the upload (outside any
// transaction: it goes to the network) and applies |store|'s policy. A
// refusal refuses the whole upload, as an expired certificate does.
static int check_revocation(api_service *svc, const char *store,
                            const ca_trust_cert *certs, size_t n,
                            upload_check *checks) {
  if (svc->revcheck == NULL) {
    return 1;
  }
  for (size_t i = 0; i < n; i++) {
    if (!certs[i].is_ca) {
      continue;
    }
    const ca_revcheck_result *r = &checks[i].result;
    api_revcheck_check(svc->revcheck, store, &certs[i], certs, n,
                       &checks[i].result);
    checks[i].checked = 1;
    const int admitted =
        api_revcheck_admit(svc->revcheck, store, certs[i].subject, r,
                           checks[i].warning, sizeof(checks[i].warning));
    // A definite answer (good, revoked) is a fact about the certificate,
    // recorded even when the upload is refused: an entry of it in another
    // store then shows it. An undetermined one is recorded only with the
    // entry it belongs to: a refused upload, whose issuer or responder may
    // be particular to its store, leaves the status there unchanged.
    if (admitted || r->status == CA_REV_GOOD || r->status == CA_REV_REVOKED) {
      CA_GUARD_RETURN(
          api_revcheck_record(svc->revcheck, certs[i].fingerprint, r));
    }
    if (!admitted) {
      // The refusal again: recording it may have replaced the error.
      CA_ENSURE_RETURN(
          !api_revcheck_admit(svc->revcheck, store, certs[i].subject, r,
                              checks[i].warning, sizeof(checks[i].warning)),
          CA_ERR_INTERNAL, "revocation policy changed its mind");
      return 0;
    }
  }
  return 1;
}

void api_handle_trust_upload(api_service *svc, const api_request *req,
                             api_response *resp) {
  ca_trust_cert *certs = NULL;
  size_t n = 0;
  ca_store_tx *tx = NULL;
  Pki__V1__TrustUploadResult *results = NULL;
  upload_slot *slots = NULL;
  upload_check *checks = NULL;
  size_t n_results = 0;
  const char *force_text, *format, *description;
  const char *store = ca_trust_store_find(req->param);
  CA_GUARD_PTR(store);
  CA_GUARD(api_query_checked(req, "force", &force_text));
  CA_GUARD(api_query_checked(req, "format", &format));
  CA_GUARD(api_query_checked(req, "description", &description));
  CA_GUARD(ca_trust_description_check(description));
  const int text = format != NULL && strcmp(format, "text") == 0;
  CA_ENSURE(format == NULL || format[0] == '\0' || text ||
                strcmp(format, "protobuf") == 0,
            CA_ERR_FORMAT_UNKNOWN, "format must be protobuf or text");
  const int force = force_text != NULL && (strcmp(force_text, "true") == 0 ||
                                           strcmp(force_text, "1") == 0);
  CA_ENSURE(force_text == NULL || force || strcmp(force_text, "false") == 0 ||
                strcmp(force_text, "0") == 0,
            CA_ERR_PARAMETER_INVALID, "force must be true or false");
  CA_GUARD(ca_trust_parse_upload(&certs, &n, req->body, req->body_len));

  // Every certificate of the upload is stored, CA or leaf (a peer's
  // self-signed tomcat certificate, a third-party server's), except a leaf
  // that comes with the CA that issued it: that is a chain uploaded for its
  // CAs, and the leaf is reported as skipped. An expired certificate to be
  // stored (unless forced) refuses the upload whole.
  const int64_t now = (int64_t)time(NULL);
  for (size_t i = 0; i < n; i++) {
    if (!ca_trust_chain_leaf(certs, n, i)) {
      CA_GUARD(ca_trust_check_upload(&certs[i], now, force));
    }
  }

  checks = calloc(n, sizeof(*checks));
  CA_ENSURE(checks != NULL, CA_ERR_NO_MEMORY, "out of memory");
  CA_GUARD(check_revocation(svc, store, certs, n, checks));

  const char *targets[2];
  const size_t n_targets = ca_trust_upload_stores(store, targets);
  results = calloc(n * n_targets, sizeof(*results));
  slots = calloc(n * n_targets, sizeof(*slots));
  CA_ENSURE(results != NULL && slots != NULL, CA_ERR_NO_MEMORY,
            "out of memory");
  char actor[96];
  snprintf(actor, sizeof(actor), "%s", req->principal.name);
  CA_GUARD(ca_store_begin(svc->store, &tx));
  for (size_t i = 0; i < n; i++) {
    const int skip = ca_trust_chain_leaf(certs, n, i);
    for (size_t t = 0; t < (skip ? 1 : n_targets); t++) {
      Pki__V1__TrustUploadResult *r = &results[n_results];
      upload_slot *slot = &slots[n_results++];
      pki__v1__trust_upload_result__init(r);
      ca_trust_fingerprint_hex(certs[i].fingerprint, slot->fp);
      r->store = (char *)targets[t];
      r->fingerprint = slot->fp;
      r->subject = certs[i].subject;
      r->other_fingerprint = slot->other;
      r->revocation_status =
          checks[i].checked ? (char *)ca_revstatus_name(checks[i].result.status)
                            : "";
      r->warning = checks[i].warning;
      if (skip) {
        r->outcome = "skipped";
        continue;
      }
      ca_trust_put put = {
          .store = targets[t],
          .cert = &certs[i],
          .source = "upload",
          .added_by = actor,
          .description = description,
      };
      ca_trust_outcome outcome;
      uint8_t other[CA_TRUST_FINGERPRINT_LEN];
      CA_GUARD(ca_store_tx_put_trust(tx, &put, &outcome, other));
      r->outcome = (char *)ca_trust_outcome_name(outcome);
      if (outcome == CA_TRUST_REPLACED || outcome == CA_TRUST_KEPT) {
        ca_trust_fingerprint_hex(other, slot->other);
      }
      // Only changes are audited; a repeated upload changes nothing.
      if (outcome == CA_TRUST_ADDED || outcome == CA_TRUST_REPLACED) {
        CA_GUARD(audit_change(tx, req, actor, "trust-add", targets[t], slot->fp,
                              certs[i].subject, r->outcome));
      }
    }
  }
  CA_GUARD(ca_store_commit(&tx));
  CA_ENSURE(text ? upload_table(resp, results, n_results)
                 : pack_upload(resp, results, n_results),
            CA_ERR_NO_MEMORY, "out of memory");
  goto done;
err:
  ca_store_rollback(tx);
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
done:
  free(results);
  free(slots);
  free(checks);
  ca_trust_certs_free(certs, n);
}

// dependents_of sets |*out| to the entries of |store| that name |target| as
// their issuer, other than itself: what chains to it. The caller frees the
// list with ca_trust_certs_free.
static int dependents_of(api_service *svc, const char *store,
                         const ca_trust_row *target, ca_trust_cert **out,
                         size_t *out_n) {
  ca_trust_row *rows = NULL;
  size_t n = 0, found = 0;
  ca_trust_cert parent, *list = NULL;
  *out = NULL;
  *out_n = 0;
  CA_GUARD_RETURN(ca_trust_cert_read(target->der, target->der_len, &parent));
  CA_GUARD(ca_store_list_trust(svc->store, store, NULL, 1, &rows, &n));
  list = calloc(n > 0 ? n : 1, sizeof(*list));
  CA_ENSURE(list != NULL, CA_ERR_NO_MEMORY, "out of memory");
  for (size_t i = 0; i < n; i++) {
    ca_trust_cert child;
    // An entry that no longer parses cannot chain to anything.
    if (!ca_trust_cert_read(rows[i].der, rows[i].der_len, &child)) {
      ca_err_clear();
      continue;
    }
    if (ca_trust_issued_by(&child, &parent)) {
      list[found++] = child;
    } else {
      ca_trust_cert_cleanup(&child);
    }
  }
  ca_trust_rows_free(rows, n);
  ca_trust_cert_cleanup(&parent);
  *out = list;
  *out_n = found;
  return 1;
err:
  ca_trust_rows_free(rows, n);
  ca_trust_cert_cleanup(&parent);
  free(list);
  return 0;
}

// respond_dependents refuses a delete with the stable code and, after its
// line, one line per entry that chains to the one named: store,
// fingerprint, subject (tab-separated).
static void respond_dependents(api_response *resp, const char *store,
                               const ca_trust_row *target,
                               const ca_trust_cert *deps, size_t n) {
  CBB cbb;
  uint8_t *body;
  size_t len;
  const ca_err_code code = CA_ERR_TRUST_HAS_DEPENDENTS;
  if (!CBB_init(&cbb, 256 + n * 160) ||
      !api_cbb_printf(&cbb,
                      "%s: %.200s is the issuer of %zu other entr%s of %s;"
                      " delete with force=true to remove it anyway\n",
                      ca_err_code_name(code), target->subject, n,
                      n == 1 ? "y" : "ies", store)) {
    goto err;
  }
  for (size_t i = 0; i < n; i++) {
    char fp[CA_TRUST_FINGERPRINT_HEX_LEN];
    ca_trust_fingerprint_hex(deps[i].fingerprint, fp);
    if (!api_cbb_printf(&cbb, "%s\t%s\t%s\n", store, fp, deps[i].subject)) {
      goto err;
    }
  }
  if (!CBB_finish(&cbb, &body, &len)) {
    goto err;
  }
  api_respond(resp, api_status_for(code), "text/plain; charset=utf-8", body,
              len);
  return;
err:
  CBB_cleanup(&cbb);
  CA_SET_ERROR(CA_ERR_NO_MEMORY, "out of memory");
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}

void api_handle_trust_delete(api_service *svc, const api_request *req,
                             api_response *resp) {
  ca_trust_row *rows = NULL;
  size_t n = 0, n_deps = 0;
  ca_trust_cert *deps = NULL;
  ca_store_tx *tx = NULL;
  const char *store, *force_text;
  uint8_t fp[CA_TRUST_FINGERPRINT_LEN];
  int has_fp, found = 0;
  CA_GUARD(split_param(req->param, &store, fp, &has_fp));
  CA_ENSURE(has_fp, CA_ERR_METHOD_NOT_ALLOWED,
            "DELETE names one entry: /v1/trust/{store}/{fingerprint}");
  CA_GUARD(api_query_checked(req, "force", &force_text));
  const int force = force_text != NULL && (strcmp(force_text, "true") == 0 ||
                                           strcmp(force_text, "1") == 0);
  CA_ENSURE(force_text == NULL || force || strcmp(force_text, "false") == 0 ||
                strcmp(force_text, "0") == 0,
            CA_ERR_PARAMETER_INVALID, "force must be true or false");
  CA_GUARD(ca_store_list_trust(svc->store, store, fp, 1, &rows, &n));
  char hex[CA_TRUST_FINGERPRINT_HEX_LEN];
  ca_trust_fingerprint_hex(fp, hex);
  if (n == 0) {
    // pki's own identity certificates are revoked, never deleted: say so
    // rather than a bare 404 when the fingerprint is one of them.
    int identity = 0;
    CA_GUARD(ca_store_identity_fingerprint(svc->store, fp, &identity));
    CA_ENSURE(!identity, CA_ERR_IDENTITY_NOT_DELETABLE,
              "%s is a certificate pki issued, not a trust entry: revoke it "
              "(POST /v1/certificates/{serial}:revoke)",
              hex);
    CA_RAISE(CA_ERR_NOT_FOUND, "%s holds no certificate %s", store, hex);
  }
  // Entries issued by this one would be left without their issuer in the
  // store: the operator says so explicitly (force) or deletes them first.
  // Read before the transaction: an entry added meanwhile is not counted.
  CA_GUARD(dependents_of(svc, store, &rows[0], &deps, &n_deps));
  if (n_deps > 0 && !force) {
    respond_dependents(resp, store, &rows[0], deps, n_deps);
    goto done;
  }
  char actor[96], outcome[48];
  snprintf(actor, sizeof(actor), "%s", req->principal.name);
  snprintf(outcome, sizeof(outcome),
           n_deps > 0 ? "deleted (forced, %zu dependents)" : "deleted", n_deps);
  CA_GUARD(ca_store_begin(svc->store, &tx));
  CA_GUARD(ca_store_tx_delete_trust(tx, store, fp, &found));
  CA_ENSURE(found, CA_ERR_NOT_FOUND, "%s holds no certificate %s", store, hex);
  CA_GUARD(audit_change(tx, req, actor, "trust-delete", store, hex,
                        rows[0].subject, outcome));
  CA_GUARD(ca_store_commit(&tx));
  // The answer is the entry as it was, certificate included: a record of
  // what was removed.
  respond_list(resp, rows, n, NULL);
  goto done;
err:
  ca_store_rollback(tx);
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
done:
  ca_trust_certs_free(deps, n_deps);
  ca_trust_rows_free(rows, n);
}
