// GET /v1/bulk/export, POST /v1/bulk/consolidate and POST /v1/bulk/import:
// EMCC-style exchange of the clusters' certificates (ca/exchange/bulk.h).
#include <inttypes.h>
#include <openssl/mem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/server/bundle.h"
#include "api/server/formats.h"
#include "api/server/handlers/handlers.h"
#include "api/server/service.h"
#include "ca/exchange/bulk.h"
#include "ca/exchange/issued_import.h"
#include "ca/limits.h"
#include "ca/store/store_bulk.h"
#include "ca/store/store_node.h"
#include "proto/pki.pb-c.h"

// fill_from_row makes the bundle entry of a stored certificate held by a
// node of |cluster|; the strings stay |row|'s.
static void fill_from_row(const ca_cert_row *row, const char *cluster,
                          Pki__V1__BundleEntry *out) {
  const ca_bundle_entry e = {
      .cluster = cluster,
      .node = row->common_name,
      .purpose = row->profile,
      .der = row->der,
      .der_len = row->der_len,
      .issuer = row->issuer,
      .serial = row->serial,
      .revoked = strcmp(row->status, "revoked") == 0,
      .revoked_at = row->revoked_at,
      .revocation_reason = row->revocation_reason,
      .external = row->external,
  };
  api_bundle_entry_fill(&e, out);
}

static void actor_of(const api_request *req, char *out, size_t len) {
  snprintf(out, len, "%s", req->principal.name);
}

// --- Export ---

// export_purposes reads ?type= into |out|: one purpose, or every one of
// ca_bulk_all_purposes for "all" or none.
static int export_purposes(const api_request *req, const char **out,
                           size_t *out_n) {
  const char *type;
  CA_GUARD_RETURN(api_query_checked(req, "type", &type));
  if (type == NULL || strcasecmp(type, "all") == 0) {
    for (size_t i = 0; i < CA_BULK_ALL_PURPOSES_COUNT; i++) {
      out[i] = ca_bulk_all_purposes()[i];
    }
    *out_n = CA_BULK_ALL_PURPOSES_COUNT;
    return 1;
  }
  out[0] = ca_bulk_export_purpose(type);
  CA_GUARD_PTR_RETURN(out[0]);
  *out_n = 1;
  return 1;
}

// bundle_entries makes the entries of |rows|, exported for |cluster|: one
// per row, but a shared (multi-server) certificate goes to every
// registered node it names (ca_bulk_share_entries). The caller frees
// |*out|; its pointers borrow from |rows| and |*out_nodes| (also the
// caller's to free).
static int bundle_entries(api_service *svc, const char *cluster,
                          const ca_cert_row *rows, size_t n,
                          ca_bundle_entry **out, size_t *out_n,
                          ca_node **out_nodes) {
  int ret = 0;
  size_t n_nodes = 0;
  ca_bundle_entry *plain = calloc(n + 1, sizeof(*plain));
  int64_t *not_before = calloc(n + 1, sizeof(*not_before));
  *out = NULL;
  *out_nodes = NULL;
  CA_ENSURE(plain != NULL && not_before != NULL, CA_ERR_NO_MEMORY,
            "out of memory");
  for (size_t i = 0; i < n; i++) {
    plain[i] = (ca_bundle_entry){
        .cluster = cluster,
        .node = rows[i].common_name,
        .purpose = rows[i].profile,
        .der = rows[i].der,
        .der_len = rows[i].der_len,
        .issuer = rows[i].issuer,
        .serial = rows[i].serial,
        .revoked = strcmp(rows[i].status, "revoked") == 0,
        .revoked_at = rows[i].revoked_at,
        .revocation_reason = rows[i].revocation_reason,
        .external = rows[i].external,
    };
    not_before[i] = rows[i].not_before;
  }
  CA_GUARD(ca_store_node_list(svc->store, cluster, out_nodes, &n_nodes));
  if (n_nodes == 0) {
    *out = plain;
    *out_n = n;
    plain = NULL;
  } else {
    CA_GUARD(ca_bulk_share_entries(plain, not_before, n, *out_nodes, n_nodes,
                                   out, out_n));
  }
  ret = 1;
err:
  free(plain);
  free(not_before);
  return ret;
}

static void respond_bundle(api_response *resp, const char *cluster,
                           const ca_bundle_entry *in, size_t n) {
  Pki__V1__BundleEntry *entries = calloc(n + 1, sizeof(*entries));
  Pki__V1__BundleEntry **ptrs = calloc(n + 1, sizeof(*ptrs));
  if (entries == NULL || ptrs == NULL) {
    api_respond_err_code(resp, API_FORMAT_PROTOBUF, CA_ERR_NO_MEMORY,
                         "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    api_bundle_entry_fill(&in[i], &entries[i]);
    ptrs[i] = &entries[i];
  }
  Pki__V1__Bundle out = PKI__V1__BUNDLE__INIT;
  out.version = 1;
  out.cluster = (char *)cluster;
  out.created_at = (int64_t)time(NULL);
  out.n_entries = n;
  out.entries = ptrs;
  api_respond_message(resp, &out.base);
done:
  free(entries);
  free(ptrs);
}

// --- Export of the issued certificates (--issued) ---

// query_count reads the decimal ?|name|= into |*out| (left as is when
// absent): digits only, at most |max|.
static int query_count(const api_request *req, const char *name, uint64_t max,
                       uint64_t *out) {
  const char *text;
  CA_GUARD_RETURN(api_query_checked(req, name, &text));
  if (text == NULL) {
    return 1;
  }
  uint64_t v = 0;
  size_t i = 0;
  for (; text[i] >= '0' && text[i] <= '9' && i < 19; i++) {
    v = v * 10 + (uint64_t)(text[i] - '0');
  }
  CA_ENSURE_RETURN(i > 0 && text[i] == '\0' && v <= max,
                   CA_ERR_PARAMETER_INVALID,
                   "?%s= must be a number of at most %" PRIu64, name, max);
  *out = v;
  return 1;
}

// respond_issued answers one page of issued certificates as a Bundle with
// |issued| set, the CA certificates of this pki and the cursor of the next
// page (empty on the last).
static void respond_issued(api_service *svc, api_response *resp,
                           const ca_cert_row *rows, size_t n, int more,
                           const uint64_t *crl_numbers) {
  const ca_authority *a = svc->authority;
  Pki__V1__BundleEntry *entries = calloc(n + 1, sizeof(*entries));
  Pki__V1__BundleEntry **ptrs = calloc(n + 1, sizeof(*ptrs));
  ProtobufCBinaryData cas[CA_AUTHORITY_MAX_ISSUERS];
  Pki__V1__CrlNumber numbers[CA_AUTHORITY_MAX_ISSUERS];
  Pki__V1__CrlNumber *number_ptrs[CA_AUTHORITY_MAX_ISSUERS];
  size_t n_numbers = 0;
  char next[24] = "";
  if (entries == NULL || ptrs == NULL) {
    api_respond_err_code(resp, API_FORMAT_PROTOBUF, CA_ERR_NO_MEMORY,
                         "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    const ca_cert_row *r = &rows[i];
    fill_from_row(r, r->cluster, &entries[i]);
    entries[i].requester = r->requester;
    entries[i].key_generated = r->key_generated != 0;
    ptrs[i] = &entries[i];
  }
  for (size_t i = 0; i < a->count; i++) {
    cas[i].data = a->issuers[i].der;
    cas[i].len = a->issuers[i].der_len;
    if (crl_numbers[i] > 0) {
      pki__v1__crl_number__init(&numbers[n_numbers]);
      numbers[n_numbers].ca = a->issuers[i].name;
      numbers[n_numbers].number = crl_numbers[i];
      number_ptrs[n_numbers] = &numbers[n_numbers];
      n_numbers++;
    }
  }
  if (more && n > 0) {
    snprintf(next, sizeof(next), "%" PRId64, rows[n - 1].id);
  }
  Pki__V1__Bundle out = PKI__V1__BUNDLE__INIT;
  out.version = 1;
  out.cluster = (char *)(svc->cluster != NULL ? svc->cluster : "");
  out.created_at = (int64_t)time(NULL);
  out.n_entries = n;
  out.entries = ptrs;
  out.issued = 1;
  out.n_ca_certificates = a->count;
  out.ca_certificates = cas;
  out.next_after = next;
  out.n_crl_numbers = n_numbers;
  out.crl_numbers = number_ptrs;
  api_respond_message(resp, &out.base);
done:
  free(entries);
  free(ptrs);
}

// export_issued answers GET /v1/bulk/export?issued=true[&after=ID]
// [&limit=N]: one page of every certificate this pki issued or self-signed.
static void export_issued(api_service *svc, const api_request *req,
                          api_response *resp) {
  ca_cert_row *rows = NULL;
  size_t n = 0;
  int more = 0;
  uint64_t after = 0, limit = CA_LIMIT_ISSUED_PAGE;
  const char *format;
  CA_GUARD(api_query_checked(req, "format", &format));
  CA_ENSURE(format == NULL || strcasecmp(format, "protobuf") == 0,
            CA_ERR_FORMAT_UNKNOWN,
            "an --issued export is a protobuf bundle (pki.v1.Bundle)");
  CA_GUARD(query_count(req, "after", INT64_MAX, &after));
  CA_GUARD(query_count(req, "limit", CA_LIMIT_ISSUED_PAGE, &limit));
  CA_ENSURE(limit >= 1, CA_ERR_PARAMETER_INVALID,
            "?limit= is 1 to %d certificates", CA_LIMIT_ISSUED_PAGE);
  CA_GUARD(ca_store_bulk_issued_rows(svc->store, (int64_t)after, (size_t)limit,
                                     &rows, &n, &more));
  // The CRL numbers reached, read after the rows: a CRL made in between
  // only raises them, which the importer then continues above.
  uint64_t crl_numbers[CA_AUTHORITY_MAX_ISSUERS] = {0};
  for (size_t i = 0; i < svc->authority->count; i++) {
    ca_crl_row crl;
    int found;
    memset(&crl, 0, sizeof(crl));
    CA_GUARD(ca_store_get_crl(svc->store, svc->authority->issuers[i].id, &crl,
                              &found));
    crl_numbers[i] = found ? crl.number : 0;
    OPENSSL_free(crl.der);
  }
  char actor[96], detail[160];
  actor_of(req, actor, sizeof(actor));
  snprintf(detail, sizeof(detail),
           "issued entries=%zu after=%" PRIu64 " more=%d", n, after, more);
  CA_GUARD(ca_store_bulk_audit(svc->store, actor, "bulk-export", "issued",
                               req->remote, detail));
  respond_issued(svc, resp, rows, n, more, crl_numbers);
  ca_cert_rows_free(rows, n);
  return;
err:
  ca_cert_rows_free(rows, n);
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
}

void api_handle_bulk_export(api_service *svc, const api_request *req,
                            api_response *resp) {
  ca_cert_row *rows = NULL;
  size_t n = 0, n_entries = 0;
  ca_bundle_entry *entries = NULL;
  ca_node *nodes = NULL;
  const char *issued;
  CA_GUARD(api_query_checked(req, "issued", &issued));
  if (issued != NULL && strcmp(issued, "true") == 0) {
    export_issued(svc, req, resp);
    return;
  }
  CA_ENSURE(issued == NULL || strcmp(issued, "false") == 0,
            CA_ERR_PARAMETER_INVALID, "?issued= is true or false");
  const char *purposes[CA_BULK_ALL_PURPOSES_COUNT];
  size_t n_purposes;
  const char *cluster, *format;
  CA_GUARD(api_query_checked(req, "cluster", &cluster));
  if (cluster == NULL || cluster[0] == '\0') {
    cluster = svc->cluster;
  }
  CA_ENSURE(cluster != NULL, CA_ERR_PARAMETER_INVALID,
            "name the cluster: ?cluster=NAME (pkid has no --cluster)");
  CA_GUARD(ca_bulk_cluster_check(cluster));
  CA_GUARD(export_purposes(req, purposes, &n_purposes));
  CA_GUARD(api_query_checked(req, "format", &format));
  const int p7b = format != NULL && strcasecmp(format, "p7b") == 0;
  CA_ENSURE(format == NULL || p7b || strcasecmp(format, "protobuf") == 0,
            CA_ERR_FORMAT_UNKNOWN, "format must be protobuf or p7b");
  CA_GUARD(ca_store_bulk_export_rows(svc->store, cluster, purposes, n_purposes,
                                     (int64_t)time(NULL), &rows, &n));
  char actor[96], detail[160];
  actor_of(req, actor, sizeof(actor));
  snprintf(detail, sizeof(detail), "entries=%zu type=%s format=%s", n,
           n_purposes == 1 ? purposes[0] : "all", p7b ? "p7b" : "protobuf");
  CA_GUARD(ca_store_bulk_audit(svc->store, actor, "bulk-export", cluster,
                               req->remote, detail));
  if (p7b) {
    // A certificates-only PKCS#7 (RFC 2315 degenerate SignedData) for tools
    // that know nothing of pki's bundles: the certificates alone.
    const uint8_t **ders = calloc(n + 1, sizeof(*ders));
    size_t *lens = calloc(n + 1, sizeof(*lens));
    if (ders == NULL || lens == NULL) {
      free(ders);
      free(lens);
      CA_RAISE(CA_ERR_NO_MEMORY, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
      ders[i] = rows[i].der;
      lens[i] = rows[i].der_len;
    }
    api_respond_certs(resp, API_CERT_P7B, ders, lens, n);
    free(ders);
    free(lens);
  } else {
    CA_GUARD(
        bundle_entries(svc, cluster, rows, n, &entries, &n_entries, &nodes));
    respond_bundle(resp, cluster, entries, n_entries);
  }
  goto done;
err:
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
done:
  free(entries);
  free(nodes);
  ca_cert_rows_free(rows, n);
}

// --- Consolidate ---

// fill_conflict points |out| at |c|; |fps| holds its fingerprints' hex.
static int fill_conflict(const ca_bulk_conflict *c, Pki__V1__Conflict *out,
                         char **clusters, char **fps,
                         char (*hex)[CA_TRUST_FINGERPRINT_HEX_LEN]) {
  pki__v1__conflict__init(out);
  out->node = (char *)c->node;
  out->purpose = (char *)c->purpose;
  for (size_t i = 0; i < c->n_entries; i++) {
    uint8_t fp[CA_TRUST_FINGERPRINT_LEN];
    SHA256(c->entries[i].der, c->entries[i].der_len, fp);
    ca_trust_fingerprint_hex(fp, hex[i]);
    clusters[i] = (char *)c->entries[i].cluster;
    fps[i] = hex[i];
  }
  out->n_clusters = c->n_entries;
  out->clusters = clusters;
  out->n_fingerprints = c->n_entries;
  out->fingerprints = fps;
  return 1;
}

static void respond_merge(api_response *resp, const ca_bulk_merge *m) {
  const size_t n = m->n_entries;
  size_t conflict_entries = 0;
  for (size_t i = 0; i < m->n_conflicts; i++) {
    conflict_entries += m->conflicts[i].n_entries;
  }
  Pki__V1__BundleEntry *entries = calloc(n + 1, sizeof(*entries));
  Pki__V1__BundleEntry **ptrs = calloc(n + 1, sizeof(*ptrs));
  Pki__V1__Conflict *conflicts = calloc(m->n_conflicts + 1, sizeof(*conflicts));
  Pki__V1__Conflict **cptrs = calloc(m->n_conflicts + 1, sizeof(*cptrs));
  char **cclusters = calloc(conflict_entries + 1, sizeof(*cclusters));
  char **cfps = calloc(conflict_entries + 1, sizeof(*cfps));
  char(*hex)[CA_TRUST_FINGERPRINT_HEX_LEN] =
      calloc(conflict_entries + 1, sizeof(*hex));
  if (entries == NULL || ptrs == NULL || conflicts == NULL || cptrs == NULL ||
      cclusters == NULL || cfps == NULL || hex == NULL) {
    api_respond_err_code(resp, API_FORMAT_PROTOBUF, CA_ERR_NO_MEMORY,
                         "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    api_bundle_entry_fill(&m->entries[i], &entries[i]);
    ptrs[i] = &entries[i];
  }
  size_t at = 0;
  for (size_t i = 0; i < m->n_conflicts; i++) {
    fill_conflict(&m->conflicts[i], &conflicts[i], &cclusters[at], &cfps[at],
                  &hex[at]);
    at += m->conflicts[i].n_entries;
    cptrs[i] = &conflicts[i];
  }
  Pki__V1__Bundle bundle = PKI__V1__BUNDLE__INIT;
  bundle.version = 1;
  bundle.cluster = "";
  bundle.n_clusters = m->n_clusters;
  bundle.clusters = (char **)m->clusters;
  bundle.created_at = (int64_t)time(NULL);
  bundle.n_entries = n;
  bundle.entries = ptrs;
  Pki__V1__ConsolidateResponse out = PKI__V1__CONSOLIDATE_RESPONSE__INIT;
  out.bundle = &bundle;
  out.n_conflicts = m->n_conflicts;
  out.conflicts = cptrs;
  out.duplicates = (uint32_t)m->duplicates;
  api_respond_message(resp, &out.base);
done:
  free(entries);
  free(ptrs);
  free(conflicts);
  free(cptrs);
  free(cclusters);
  free(cfps);
  free(hex);
}

void api_handle_bulk_consolidate(api_service *svc, const api_request *req,
                                 api_response *resp) {
  Pki__V1__ConsolidateRequest *msg = NULL;
  ca_bundle *bundles = NULL;
  ca_bundle_entry **views = NULL;
  size_t n_views = 0;
  ca_bulk_merge merge;
  memset(&merge, 0, sizeof(merge));
  msg = api_consolidate_request_unpack(req->body, req->body_len);
  CA_GUARD_PTR(msg);
  bundles = calloc(msg->n_bundles + 1, sizeof(*bundles));
  views = calloc(msg->n_bundles + 1, sizeof(*views));
  CA_ENSURE(bundles != NULL && views != NULL, CA_ERR_NO_MEMORY,
            "out of memory");
  for (; n_views < msg->n_bundles; n_views++) {
    const Pki__V1__Bundle *b = msg->bundles[n_views];
    CA_ENSURE(!b->issued, CA_ERR_BUNDLE_MALFORMED,
              "bundle %zu is an --issued bundle: those go to another pki, "
              "not into a consolidation",
              n_views);
    CA_GUARD(api_bundle_view(b, &views[n_views], &bundles[n_views]));
  }
  CA_GUARD(ca_bulk_consolidate(bundles, n_views, &merge));
  char actor[96], detail[160];
  actor_of(req, actor, sizeof(actor));
  snprintf(detail, sizeof(detail),
           "bundles=%zu clusters=%zu entries=%zu duplicates=%zu conflicts=%zu",
           n_views, merge.n_clusters, merge.n_entries, merge.duplicates,
           merge.n_conflicts);
  CA_GUARD(ca_store_bulk_audit(svc->store, actor, "bulk-consolidate", "bundles",
                               req->remote, detail));
  respond_merge(resp, &merge);
  goto done;
err:
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
done:
  ca_bulk_merge_cleanup(&merge);
  for (size_t i = 0; i < n_views; i++) {
    OPENSSL_free(views[i]);
  }
  free(views);
  free(bundles);
  pki__v1__consolidate_request__free_unpacked(msg, NULL);
}

// --- Import ---

static const char *result_outcome(const ca_bulk_import_result *r) {
  switch (r->outcome) {
    case CA_BULK_SKIPPED_OWN:
      return "skipped_own";
    case CA_BULK_SKIPPED_PURPOSE:
      return "skipped_purpose";
    case CA_BULK_PUT:
      break;
  }
  return ca_trust_outcome_name(r->put);
}

static void respond_import(api_response *resp, const ca_bundle_entry *entries,
                           const ca_bulk_import_summary *s) {
  const size_t n = s->n_results;
  Pki__V1__ImportResult *results = calloc(n + 1, sizeof(*results));
  Pki__V1__ImportResult **ptrs = calloc(n + 1, sizeof(*ptrs));
  char(*hex)[CA_TRUST_FINGERPRINT_HEX_LEN] = calloc(n + 1, sizeof(*hex));
  if (results == NULL || ptrs == NULL || hex == NULL) {
    api_respond_err_code(resp, API_FORMAT_PROTOBUF, CA_ERR_NO_MEMORY,
                         "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    const ca_bulk_import_result *r = &s->results[i];
    const ca_bundle_entry *e = &entries[r->entry];
    pki__v1__import_result__init(&results[i]);
    results[i].cluster = (char *)e->cluster;
    results[i].node = (char *)e->node;
    results[i].purpose = (char *)e->purpose;
    results[i].store = (char *)(r->store != NULL ? r->store : "");
    results[i].outcome = (char *)result_outcome(r);
    ca_trust_fingerprint_hex(r->fingerprint, hex[i]);
    results[i].fingerprint = hex[i];
    ptrs[i] = &results[i];
  }
  Pki__V1__ImportResponse out = PKI__V1__IMPORT_RESPONSE__INIT;
  out.added = (uint32_t)s->added;
  out.replaced = (uint32_t)s->replaced;
  out.unchanged = (uint32_t)s->unchanged;
  out.kept = (uint32_t)s->kept;
  out.skipped_own = (uint32_t)s->skipped_own;
  out.skipped_purpose = (uint32_t)s->skipped_purpose;
  out.n_results = n;
  out.results = ptrs;
  api_respond_message(resp, &out.base);
done:
  free(results);
  free(ptrs);
  free(hex);
}

// pkcs12_entries reads the PKCS#12 of |msg| into |*out_entries|, each of
// the request's purpose and source cluster, its node the certificate's
// common name. |*out_certs| owns what the entries point to.
static int pkcs12_entries(const Pki__V1__ImportRequest *msg,
                          ca_trust_cert **out_certs, size_t *out_n,
                          ca_bundle_entry **out_entries) {
  ca_trust_cert *certs = NULL;
  size_t n = 0;
  CA_ENSURE(msg->bundle == NULL, CA_ERR_PARAMETER_INVALID,
            "send a bundle or a PKCS#12 file, not both");
  CA_ENSURE(msg->purpose[0] != '\0', CA_ERR_PARAMETER_INVALID,
            "a PKCS#12 import names the purpose of its certificates");
  CA_ENSURE(msg->source_cluster[0] != '\0', CA_ERR_PARAMETER_INVALID,
            "a PKCS#12 import names the cluster it came from");
  CA_GUARD(ca_bulk_cluster_check(msg->source_cluster));
  CA_ENSURE(strlen(msg->password) <= CA_LIMIT_PKCS12_PASSWORD_LEN,
            CA_ERR_PKCS12_PASSWORD, "a password over %d bytes",
            CA_LIMIT_PKCS12_PASSWORD_LEN);
  CA_GUARD(ca_bulk_pkcs12_certificates(msg->pkcs12.data, msg->pkcs12.len,
                                       msg->password, &certs, &n));
  // OPENSSL_malloc, as api_bundle_view's array: the caller frees either
  // with OPENSSL_free. |n| is bounded by the PKCS#12 reader.
  const size_t size = (n + 1) * sizeof(ca_bundle_entry);
  ca_bundle_entry *entries = OPENSSL_malloc(size);
  CA_ENSURE_ALLOC(entries);
  memset(entries, 0, size);
  for (size_t i = 0; i < n; i++) {
    entries[i] = (ca_bundle_entry){
        .cluster = msg->source_cluster,
        .node = certs[i].common_name[0] != '\0' ? certs[i].common_name
                                                : certs[i].subject,
        .purpose = msg->purpose,
        .der = certs[i].der,
        .der_len = certs[i].der_len,
        .issuer = certs[i].issuer,
        .serial = certs[i].serial,
    };
  }
  *out_certs = certs;
  *out_n = n;
  *out_entries = entries;
  return 1;
err:
  ca_trust_certs_free(certs, n);
  return 0;
}

// import_issued answers POST /v1/bulk/import with an --issued bundle: the
// certificates another pki issued, under CAs this one adopted.
static void import_issued(api_service *svc, const api_request *req,
                          api_response *resp, const Pki__V1__Bundle *b) {
  ca_issued_entry *entries = NULL;
  const uint8_t **ders = NULL;
  size_t *lens = NULL;
  const char **crl_cas = NULL;
  uint64_t *crl_numbers = NULL;
  ca_issued_import_summary summary;
  CA_ENSURE(b->version <= 1, CA_ERR_BUNDLE_MALFORMED,
            "bundle version %u is not known here", b->version);
  CA_ENSURE(b->n_ca_certificates <= CA_AUTHORITY_MAX_ISSUERS * 2,
            CA_ERR_BUNDLE_MALFORMED, "more CA certificates than a pki has");
  entries = calloc(b->n_entries + 1, sizeof(*entries));
  ders = calloc(b->n_ca_certificates + 1, sizeof(*ders));
  lens = calloc(b->n_ca_certificates + 1, sizeof(*lens));
  crl_cas = calloc(b->n_crl_numbers + 1, sizeof(*crl_cas));
  crl_numbers = calloc(b->n_crl_numbers + 1, sizeof(*crl_numbers));
  CA_ENSURE(entries != NULL && ders != NULL && lens != NULL &&
                crl_cas != NULL && crl_numbers != NULL,
            CA_ERR_NO_MEMORY, "out of memory");
  for (size_t i = 0; i < b->n_crl_numbers; i++) {
    crl_cas[i] = b->crl_numbers[i]->ca;
    crl_numbers[i] = b->crl_numbers[i]->number;
  }
  for (size_t i = 0; i < b->n_ca_certificates; i++) {
    ders[i] = b->ca_certificates[i].data;
    lens[i] = b->ca_certificates[i].len;
  }
  for (size_t i = 0; i < b->n_entries; i++) {
    const Pki__V1__BundleEntry *e = b->entries[i];
    const int revoked = strcmp(e->status, "revoked") == 0;
    CA_ENSURE(revoked || strcmp(e->status, "good") == 0 || e->status[0] == '\0',
              CA_ERR_BUNDLE_MALFORMED, "entry %zu: status %.16s", i, e->status);
    entries[i] = (ca_issued_entry){
        .der = e->certificate.data,
        .der_len = e->certificate.len,
        .issuer = e->issuer,
        .serial = e->serial,
        .profile = e->purpose,
        .cluster = e->cluster,
        .requester = e->requester,
        .key_generated = e->key_generated,
        .revoked = revoked,
        .revoked_at = e->revoked_at,
        .reason = e->revocation_reason,
    };
  }
  char actor[96];
  actor_of(req, actor, sizeof(actor));
  const ca_issued_import_request r = {
      .entries = entries,
      .n_entries = b->n_entries,
      .ca_ders = ders,
      .ca_lens = lens,
      .n_cas = b->n_ca_certificates,
      .crl_cas = crl_cas,
      .crl_numbers = crl_numbers,
      .n_crl_numbers = b->n_crl_numbers,
      .actor = actor,
      .source = req->remote,
      .crl_validity_s = svc->crl_validity_s,
  };
  CA_GUARD(ca_issued_import(svc->authority, svc->store, &r, &summary));
  Pki__V1__ImportResponse out = PKI__V1__IMPORT_RESPONSE__INIT;
  out.added = (uint32_t)summary.added;
  out.replaced = (uint32_t)summary.updated;
  out.unchanged = (uint32_t)summary.unchanged;
  api_respond_message(resp, &out.base);
  goto done;
err:
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
done:
  free(entries);
  free(ders);
  free(lens);
  free(crl_cas);
  free(crl_numbers);
}

void api_handle_bulk_import(api_service *svc, const api_request *req,
                            api_response *resp) {
  Pki__V1__ImportRequest *msg = NULL;
  ca_bundle_entry *entries = NULL;
  ca_trust_cert *certs = NULL;
  size_t n_certs = 0;
  ca_bulk_import_summary summary;
  memset(&summary, 0, sizeof(summary));
  msg = api_import_request_unpack(req->body, req->body_len);
  CA_GUARD_PTR(msg);
  const char *cluster = msg->cluster[0] != '\0' ? msg->cluster : svc->cluster;
  CA_GUARD(cluster == NULL || ca_bulk_cluster_check(cluster));
  char actor[96];
  actor_of(req, actor, sizeof(actor));
  ca_bulk_import_request r = {
      .cluster = cluster,
      .actor = actor,
      .source = req->remote,
  };
  if (msg->pkcs12.len > 0) {
    CA_GUARD(pkcs12_entries(msg, &certs, &n_certs, &entries));
    r.entries = entries;
    r.n_entries = n_certs;
    r.what = "pkcs12";
    r.revocation_unknown = 1;
  } else {
    CA_ENSURE(msg->bundle != NULL, CA_ERR_PARAMETER_INVALID,
              "send a bundle or a PKCS#12 file");
    if (msg->bundle->issued) {
      import_issued(svc, req, resp, msg->bundle);
      goto done;
    }
    ca_bundle view;
    CA_GUARD(api_bundle_view(msg->bundle, &entries, &view));
    r.entries = entries;
    r.n_entries = view.n_entries;
    r.what = "bundle";
  }
  CA_GUARD(ca_bulk_import(svc->store, &r, &summary));
  respond_import(resp, entries, &summary);
  goto done;
err:
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
done:
  ca_bulk_import_summary_cleanup(&summary);
  OPENSSL_free(entries);  // from pkcs12_entries or api_bundle_view
  ca_trust_certs_free(certs, n_certs);
  pki__v1__import_request__free_unpacked(msg, NULL);
}
