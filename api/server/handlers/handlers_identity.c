// Registered identities, certificates pki did not issue: POST
// /v1/identities (register), GET /v1/identities (list), GET, PUT (replace)
// and DELETE (remove) /v1/identities/{id}.
#include <inttypes.h>
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/server/formats.h"
#include "api/server/handlers/handlers.h"
#include "api/server/handlers/text_table.h"
#include "api/server/log.h"
#include "api/server/pb_scan.h"
#include "api/server/revcheck.h"
#include "api/server/service.h"
#include "ca/limits.h"
#include "ca/policy/identity.h"
#include "ca/policy/trust.h"
#include "ca/store/store_identity.h"
#include "ca/store/store_revcheck.h"
#include "ca/x509/asn1_time.h"
#include "proto/pki.pb-c.h"

// --- Answers ---

// One identity as protobuf, borrowing the row's strings; |fp| holds the
// fingerprint's hex and |chain| the views of the chain's certificates.
typedef struct identity_slot {
  char fp[CA_TRUST_FINGERPRINT_HEX_LEN];
  ProtobufCBinaryData chain[CA_LIMIT_IDENTITY_CERTS];
} identity_slot;

// The revocation statuses of the identities listed (store_revcheck.h).
typedef struct rev_view {
  ca_revcheck_row *rows;
  size_t n;
} rev_view;

static const ca_revcheck_row *check_of(const rev_view *rev,
                                       const ca_identity_row *row) {
  return rev != NULL ? ca_revcheck_row_find(rev->rows, rev->n, row->fingerprint)
                     : NULL;
}

// read_checks sets |rev| to the stored statuses of every identity's
// certificate; free with ca_revcheck_rows_free.
static int read_checks(api_service *svc, rev_view *rev) {
  rev->rows = NULL;
  rev->n = 0;
  return ca_store_revcheck_list_identities(svc->store, &rev->rows, &rev->n);
}

static void fill_identity(const ca_identity_row *row, const rev_view *rev,
                          identity_slot *slot, Pki__V1__Identity *e) {
  pki__v1__identity__init(e);
  const ca_revcheck_row *k = check_of(rev, row);
  if (k != NULL) {
    e->revocation_status = k->status;
    e->revocation_checked_at = k->checked_at;
    e->revocation_source = k->source;
    e->revocation_url = k->responder_url;
    e->revocation_error = k->error;
    e->revocation_revoked_at = k->revoked_at;
  }
  ca_trust_fingerprint_hex(row->fingerprint, slot->fp);
  e->id = row->id;
  e->node = row->node;
  e->purpose = row->purpose;
  e->cluster = row->cluster;
  e->fingerprint = slot->fp;
  e->subject = row->subject;
  e->issuer = row->issuer;
  e->serial = row->serial;
  e->common_name = row->common_name;
  e->key_type = row->key_type;
  e->key_bits = row->key_bits;
  e->not_before = row->not_before;
  e->not_after = row->not_after;
  e->verified = row->verified != 0;
  e->verify_detail = row->verify_detail;
  e->description = row->description;
  e->added_by = row->added_by;
  e->created_at = row->created_at;
  e->updated_at = row->updated_at;
  if (row->der != NULL) {
    e->certificate.data = row->der;
    e->certificate.len = row->der_len;
  }
  // The chain column holds DER certificates back to back, as stored.
  CBS chain;
  CBS_init(&chain, row->chain, row->chain != NULL ? row->chain_len : 0);
  size_t n = 0;
  while (CBS_len(&chain) > 0 && n < CA_LIMIT_IDENTITY_CERTS) {
    CBS cert;
    const uint8_t *start = CBS_data(&chain);
    if (!CBS_get_asn1(&chain, &cert, CBS_ASN1_SEQUENCE)) {
      break;
    }
    slot->chain[n].data = (uint8_t *)start;
    slot->chain[n].len = (size_t)(CBS_data(&chain) - start);
    n++;
  }
  e->n_chain = n;
  e->chain = slot->chain;
}

static void respond_one(api_response *resp, const ca_identity_row *row,
                        const rev_view *rev, const char *previous) {
  identity_slot *slot = calloc(1, sizeof(*slot));
  if (slot == NULL) {
    api_respond_err_code(resp, API_FORMAT_PROTOBUF, CA_ERR_NO_MEMORY,
                         "out of memory");
    return;
  }
  Pki__V1__Identity e;
  fill_identity(row, rev, slot, &e);
  Pki__V1__IdentityResponse out = PKI__V1__IDENTITY_RESPONSE__INIT;
  out.identity = &e;
  out.previous_fingerprint = (char *)(previous != NULL ? previous : "");
  api_respond_message(resp, &out.base);
  free(slot);
}

// The columns of the text listing, in order: a new column is one more line
// here, at the end (scripts read the first ones by position).
static const char *cell_id(const void *row, char *s, size_t cap) {
  snprintf(s, cap, "%" PRId64, ((const ca_identity_row *)row)->id);
  return s;
}
static const char *cell_verified(const void *row, char *s, size_t cap) {
  (void)s, (void)cap;
  return ((const ca_identity_row *)row)->verified ? "verified" : "unverified";
}

static const api_text_column kColumns[] = {
    API_COLUMN_CUSTOM("ID", cell_id),
    API_COLUMN_TEXT("CLUSTER", ca_identity_row, cluster),
    API_COLUMN_TEXT("NODE", ca_identity_row, node),
    API_COLUMN_TEXT("PURPOSE", ca_identity_row, purpose),
    API_COLUMN_TIME("NOT_AFTER", ca_identity_row, not_after),
    API_COLUMN_CUSTOM("CHAIN", cell_verified),
    API_COLUMN_FINGERPRINT("FINGERPRINT", ca_identity_row, fingerprint),
    API_COLUMN_TEXT("SUBJECT", ca_identity_row, subject),
    API_COLUMN_TEXT("ISSUER", ca_identity_row, issuer),
    API_COLUMN_TEXT("CHAIN_DETAIL", ca_identity_row, verify_detail),
    API_COLUMN_TEXT("DESCRIPTION", ca_identity_row, description),
    API_COLUMN_REVOCATION("REVOCATION"),
    API_COLUMN_CHECKED("CHECKED"),
};

static void respond_table(api_response *resp, const ca_identity_row *rows,
                          size_t n, const rev_view *rev) {
  const api_text_table table = {
      .columns = kColumns,
      .n_columns = sizeof(kColumns) / sizeof(kColumns[0]),
      .rows = rows,
      .row_size = sizeof(*rows),
      .n_rows = n,
      .fingerprint_offset = offsetof(ca_identity_row, fingerprint),
      .checks = rev != NULL ? rev->rows : NULL,
      .n_checks = rev != NULL ? rev->n : 0,
  };
  api_respond_text_table(resp, &table);
}

static void respond_list(api_response *resp, const ca_identity_row *rows,
                         size_t n, const rev_view *rev) {
  Pki__V1__Identity *entries = calloc(n > 0 ? n : 1, sizeof(*entries));
  Pki__V1__Identity **ptrs = calloc(n > 0 ? n : 1, sizeof(*ptrs));
  identity_slot *slots = calloc(n > 0 ? n : 1, sizeof(*slots));
  if (entries == NULL || ptrs == NULL || slots == NULL) {
    api_respond_err_code(resp, API_FORMAT_PROTOBUF, CA_ERR_NO_MEMORY,
                         "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    fill_identity(&rows[i], rev, &slots[i], &entries[i]);
    ptrs[i] = &entries[i];
  }
  Pki__V1__ListIdentitiesResponse out = PKI__V1__LIST_IDENTITIES_RESPONSE__INIT;
  out.n_identities = n;
  out.identities = ptrs;
  api_respond_message(resp, &out.base);
done:
  free(entries);
  free(ptrs);
  free(slots);
}

// --- Reading a registration ---

// parse_id reads the {id} of the path: decimal digits, at least 1.
static int parse_id(const char *param, int64_t *out) {
  int64_t v = 0;
  size_t i = 0;
  for (; param[i] >= '0' && param[i] <= '9' && i < 18; i++) {
    v = v * 10 + (param[i] - '0');
  }
  CA_ENSURE_RETURN(i > 0 && param[i] == '\0' && v > 0, CA_ERR_NOT_FOUND,
                   "an identity is named by its id: /v1/identities/{id}");
  *out = v;
  return 1;
}

// A registration decoded and judged: what ca_identity_put borrows.
typedef struct registration {
  Pki__V1__RegisterIdentityRequest *req;
  ca_identity_upload upload;
  uint8_t *chain;
  size_t chain_len;
  ca_identity_verdict verdict;
  // pki's revocation check of the leaf, made before the transaction (it
  // goes to the network) and recorded after it; never a refusal.
  ca_revcheck_result rev;
  int checked;
  char node[254];
  const char *purpose;
  const char *cluster;
} registration;

static void registration_cleanup(registration *r) {
  pki__v1__register_identity_request__free_unpacked(r->req, NULL);
  ca_identity_upload_cleanup(&r->upload);
  OPENSSL_free(r->chain);
  memset(r, 0, sizeof(*r));
}

// verify_upload judges the chain of |r| against the trust entries of the
// stores of its purpose and pki's own CA certificates.
static int verify_upload(api_service *svc, registration *r) {
  const char *stores[2];
  const size_t n_stores = ca_trust_purpose_stores(r->purpose, stores);
  ca_trust_row *rows[2] = {NULL, NULL};
  size_t n_rows[2] = {0, 0}, total = svc->authority->count;
  const uint8_t **anchors = NULL;
  size_t *lens = NULL;
  int ok = 0;
  for (size_t s = 0; s < n_stores; s++) {
    CA_GUARD(ca_store_list_trust(svc->store, stores[s], NULL, 1, &rows[s],
                                 &n_rows[s]));
    total += n_rows[s];
  }
  anchors = calloc(total + 1, sizeof(*anchors));
  lens = calloc(total + 1, sizeof(*lens));
  CA_ENSURE(anchors != NULL && lens != NULL, CA_ERR_NO_MEMORY, "out of memory");
  size_t n = 0;
  for (size_t i = 0; i < svc->authority->count; i++, n++) {
    anchors[n] = svc->authority->issuers[i].der;
    lens[n] = svc->authority->issuers[i].der_len;
  }
  for (size_t s = 0; s < n_stores; s++) {
    for (size_t i = 0; i < n_rows[s]; i++, n++) {
      anchors[n] = rows[s][i].der;
      lens[n] = rows[s][i].der_len;
    }
  }
  CA_GUARD(ca_identity_verify(&r->upload, anchors, lens, n, (int64_t)time(NULL),
                              &r->verdict));
  ok = 1;
err:
  free(anchors);
  free(lens);
  ca_trust_rows_free(rows[0], n_rows[0]);
  ca_trust_rows_free(rows[1], n_rows[1]);
  return ok;
}

// read_registration decodes, checks and verifies the body of a POST or PUT.
// For a PUT, |existing| is the identity replaced: the node, purpose and
// cluster of the body must be empty or its own.
static int read_registration(api_service *svc, const api_request *req,
                             const ca_identity_row *existing, registration *r) {
  memset(r, 0, sizeof(*r));
  CA_GUARD_RETURN(api_require_protobuf(req));
  CA_GUARD_RETURN(
      api_pb_check_strings(&pki__v1__register_identity_request__descriptor,
                           req->body, req->body_len));
  r->req = pki__v1__register_identity_request__unpack(NULL, req->body_len,
                                                      req->body);
  CA_ENSURE_RETURN(r->req != NULL, CA_ERR_REQUEST_MALFORMED,
                   "body is not a pki.v1.RegisterIdentityRequest");
  const Pki__V1__RegisterIdentityRequest *m = r->req;
  CA_GUARD_RETURN(ca_trust_description_check(m->description));
  if (existing != NULL) {
    CA_ENSURE_RETURN(
        (m->node[0] == '\0' || strcasecmp(m->node, existing->node) == 0) &&
            (m->purpose[0] == '\0' ||
             strcasecmp(m->purpose, existing->purpose) == 0) &&
            (m->cluster[0] == '\0' ||
             strcmp(m->cluster, existing->cluster) == 0),
        CA_ERR_PARAMETER_INVALID,
        "a replacement keeps the node, purpose and cluster of identity "
        "%" PRId64 ": leave them empty",
        existing->id);
    snprintf(r->node, sizeof(r->node), "%s", existing->node);
    r->purpose = ca_identity_purpose_find(existing->purpose);
    r->cluster = existing->cluster;
  } else {
    CA_GUARD_RETURN(ca_identity_node_check(m->node));
    // Host names compare without regard to case: one spelling is kept.
    for (size_t i = 0; m->node[i] != '\0' && i + 1 < sizeof(r->node); i++) {
      const char c = m->node[i];
      r->node[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    r->purpose = ca_identity_purpose_find(m->purpose);
    r->cluster = m->cluster[0] != '\0'  ? m->cluster
                 : svc->cluster != NULL ? svc->cluster
                                        : "";
    CA_GUARD_RETURN(ca_identity_cluster_check(r->cluster));
  }
  CA_GUARD_PTR_RETURN(r->purpose);
  CA_ENSURE_RETURN(m->certificate.len > 0, CA_ERR_CERT_MALFORMED,
                   "no certificate: give the leaf, PEM, DER or PKCS#7");
  CA_GUARD_RETURN(
      ca_identity_parse(&r->upload, m->certificate.data, m->certificate.len));
  CA_GUARD_RETURN(ca_identity_chain_der(&r->upload, &r->chain, &r->chain_len));
  CA_GUARD_RETURN(verify_upload(svc, r));
  if (svc->revcheck != NULL) {
    const ca_trust_cert *leaf = &r->upload.certs[r->upload.leaf];
    api_revcheck_check_identity(svc->revcheck, r->purpose, leaf->der,
                                leaf->der_len, r->chain, r->chain_len, &r->rev);
    r->checked = 1;
  }
  return 1;
}

// record_check stores the status found at registration. The identity is
// registered whatever happens here: a failure leaves it unchecked until the
// background check reaches it.
static void record_check(api_service *svc, const registration *r) {
  if (!r->checked) {
    return;
  }
  const ca_trust_cert *leaf = &r->upload.certs[r->upload.leaf];
  if (!api_revcheck_record(svc->revcheck, leaf->fingerprint, &r->rev)) {
    api_log(API_LOG_WARN, "revocation check of an identity not recorded: %s",
            ca_err_get()->message);
  }
  if (r->rev.status == CA_REV_REVOKED) {
    api_log(API_LOG_WARN,
            "the identity registered for %s (%s) is revoked (%s %s)", r->node,
            r->purpose, r->rev.source, r->rev.url);
  }
}

// respond_checked answers |row| with its stored revocation status.
static void respond_checked(api_service *svc, api_response *resp,
                            const ca_identity_row *row, const char *previous) {
  rev_view rev;
  if (!read_checks(svc, &rev)) {
    api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
    return;
  }
  respond_one(resp, row, &rev, previous);
  ca_revcheck_rows_free(rev.rows, rev.n);
}

static ca_identity_put put_of(const registration *r, const char *actor) {
  return (ca_identity_put){
      .cluster = r->cluster,
      .node = r->node,
      .purpose = r->purpose,
      .leaf = &r->upload.certs[r->upload.leaf],
      .chain = r->chain,
      .chain_len = r->chain_len,
      .verified = r->verdict.verified,
      .verify_detail = r->verdict.detail,
      .description = r->req->description,
      .added_by = actor,
  };
}

// audit writes who changed identity |id|, with the fingerprints before and
// after ("-" for none) and the chain's verdict.
static int audit(ca_store_tx *tx, const api_request *req, const char *action,
                 int64_t id, const char *cluster, const char *node,
                 const char *purpose, const char *old_fp, const char *new_fp,
                 const char *verdict) {
  char object[64], detail[640];
  snprintf(object, sizeof(object), "identity:%" PRId64, id);
  snprintf(detail, sizeof(detail), "%.64s/%.253s/%s old=%s new=%s %.200s",
           cluster[0] != '\0' ? cluster : "-", node, purpose, old_fp, new_fp,
           verdict);
  return ca_store_tx_audit(tx, req->principal.name, action, object, req->remote,
                           "ok", detail);
}

// read_one fetches identity |id| (with its certificate and chain) into
// |*rows|; NOT_FOUND when there is none.
static int read_one(api_service *svc, int64_t id, ca_identity_row **rows,
                    size_t *n) {
  const ca_identity_filter f = {.id = id, .with_der = 1};
  CA_GUARD_RETURN(ca_store_list_identities(svc->store, &f, rows, n));
  CA_ENSURE_RETURN(*n == 1, CA_ERR_NOT_FOUND, "no identity %" PRId64, id);
  return 1;
}

// --- Handlers ---

void api_handle_identity_add(api_service *svc, const api_request *req,
                             api_response *resp) {
  registration r;
  ca_store_tx *tx = NULL;
  ca_identity_row *rows = NULL;
  size_t n = 0;
  CA_GUARD(read_registration(svc, req, NULL, &r));
  const ca_identity_put put = put_of(&r, req->principal.name);
  int64_t id;
  char fp[CA_TRUST_FINGERPRINT_HEX_LEN], verdict[220];
  ca_trust_fingerprint_hex(put.leaf->fingerprint, fp);
  snprintf(verdict, sizeof(verdict), "%s: %s",
           r.verdict.verified ? "verified" : "unverified", r.verdict.detail);
  CA_GUARD(ca_store_begin(svc->store, &tx));
  CA_GUARD(ca_store_tx_identity_insert(tx, &put, &id));
  CA_GUARD(audit(tx, req, "identity-add", id, r.cluster, r.node, r.purpose, "-",
                 fp, verdict));
  CA_GUARD(ca_store_commit(&tx));
  record_check(svc, &r);
  CA_GUARD(read_one(svc, id, &rows, &n));
  respond_checked(svc, resp, &rows[0], NULL);
  goto done;
err:
  ca_store_rollback(tx);
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
done:
  ca_identity_rows_free(rows, n);
  registration_cleanup(&r);
}

void api_handle_identity_list(api_service *svc, const api_request *req,
                              api_response *resp) {
  ca_identity_row *rows = NULL;
  size_t n = 0;
  const char *format;
  ca_identity_filter f = {0};
  rev_view rev = {NULL, 0};
  CA_GUARD(api_query_checked(req, "format", &format));
  CA_GUARD(api_query_checked(req, "node", &f.node));
  CA_GUARD(api_query_checked(req, "purpose", &f.purpose));
  CA_GUARD(api_query_checked(req, "cluster", &f.cluster));
  if (f.purpose != NULL) {
    f.purpose = ca_identity_purpose_find(f.purpose);
    CA_GUARD_PTR(f.purpose);
  }
  const int text = format != NULL && strcmp(format, "text") == 0;
  CA_ENSURE(format == NULL || format[0] == '\0' || text ||
                strcmp(format, "protobuf") == 0,
            CA_ERR_FORMAT_UNKNOWN, "format must be protobuf or text");
  CA_GUARD(ca_store_list_identities(svc->store, &f, &rows, &n));
  CA_GUARD(read_checks(svc, &rev));
  if (text) {
    respond_table(resp, rows, n, &rev);
  } else {
    respond_list(resp, rows, n, &rev);
  }
  ca_identity_rows_free(rows, n);
  ca_revcheck_rows_free(rev.rows, rev.n);
  return;
err:
  ca_identity_rows_free(rows, n);
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}

void api_handle_identity_get(api_service *svc, const api_request *req,
                             api_response *resp) {
  ca_identity_row *rows = NULL;
  size_t n = 0;
  const uint8_t *certs[CA_LIMIT_IDENTITY_CERTS];
  size_t lens[CA_LIMIT_IDENTITY_CERTS];
  int64_t id;
  const char *format;
  CA_GUARD(parse_id(req->param, &id));
  CA_GUARD(api_query_checked(req, "format", &format));
  CA_GUARD(read_one(svc, id, &rows, &n));
  if (format == NULL || format[0] == '\0' || strcmp(format, "protobuf") == 0) {
    respond_checked(svc, resp, &rows[0], NULL);
    ca_identity_rows_free(rows, n);
    return;
  }
  // The certificate and its chain as a file: pem, p7b, p7b-pem; der is the
  // leaf alone.
  api_cert_format cert_format;
  CA_GUARD(api_cert_format_parse(&cert_format, format, API_CERT_PEM));
  identity_slot *slot = calloc(1, sizeof(*slot));
  CA_ENSURE(slot != NULL, CA_ERR_NO_MEMORY, "out of memory");
  Pki__V1__Identity e;
  fill_identity(&rows[0], NULL, slot, &e);
  certs[0] = rows[0].der;
  lens[0] = rows[0].der_len;
  size_t count = 1;
  for (size_t i = 0; i < e.n_chain && count < CA_LIMIT_IDENTITY_CERTS; i++) {
    certs[count] = e.chain[i].data;
    lens[count++] = e.chain[i].len;
  }
  api_respond_certs(resp, cert_format, certs, lens, count);
  free(slot);
  ca_identity_rows_free(rows, n);
  return;
err:
  ca_identity_rows_free(rows, n);
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}

void api_handle_identity_replace(api_service *svc, const api_request *req,
                                 api_response *resp) {
  registration r;
  memset(&r, 0, sizeof(r));
  ca_store_tx *tx = NULL;
  ca_identity_row *rows = NULL, *after = NULL;
  size_t n = 0, n_after = 0;
  int64_t id;
  CA_GUARD(parse_id(req->param, &id));
  CA_GUARD(read_one(svc, id, &rows, &n));
  CA_GUARD(read_registration(svc, req, &rows[0], &r));
  const ca_identity_put put = put_of(&r, req->principal.name);
  uint8_t old[CA_TRUST_FINGERPRINT_LEN];
  char old_fp[CA_TRUST_FINGERPRINT_HEX_LEN],
      new_fp[CA_TRUST_FINGERPRINT_HEX_LEN], verdict[220];
  ca_trust_fingerprint_hex(put.leaf->fingerprint, new_fp);
  snprintf(verdict, sizeof(verdict), "%s: %s",
           r.verdict.verified ? "verified" : "unverified", r.verdict.detail);
  CA_GUARD(ca_store_begin(svc->store, &tx));
  // The fingerprint replaced is the one locked in this transaction, not
  // the one read above: a concurrent replace is then recorded in order.
  CA_GUARD(ca_store_tx_identity_replace(tx, id, &put, old));
  ca_trust_fingerprint_hex(old, old_fp);
  CA_GUARD(audit(tx, req, "identity-replace", id, r.cluster, r.node, r.purpose,
                 old_fp, new_fp, verdict));
  CA_GUARD(ca_store_commit(&tx));
  record_check(svc, &r);
  CA_GUARD(read_one(svc, id, &after, &n_after));
  respond_checked(svc, resp, &after[0], old_fp);
  goto done;
err:
  ca_store_rollback(tx);
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
done:
  ca_identity_rows_free(rows, n);
  ca_identity_rows_free(after, n_after);
  registration_cleanup(&r);
}

void api_handle_identity_remove(api_service *svc, const api_request *req,
                                api_response *resp) {
  ca_store_tx *tx = NULL;
  ca_identity_row *rows = NULL;
  size_t n = 0;
  int64_t id;
  int found = 0;
  CA_GUARD(parse_id(req->param, &id));
  CA_GUARD(read_one(svc, id, &rows, &n));
  char fp[CA_TRUST_FINGERPRINT_HEX_LEN];
  ca_trust_fingerprint_hex(rows[0].fingerprint, fp);
  CA_GUARD(ca_store_begin(svc->store, &tx));
  CA_GUARD(ca_store_tx_identity_delete(tx, id, &found));
  CA_ENSURE(found, CA_ERR_NOT_FOUND, "no identity %" PRId64, id);
  CA_GUARD(audit(tx, req, "identity-remove", id, rows[0].cluster, rows[0].node,
                 rows[0].purpose, fp, "-", "removed"));
  CA_GUARD(ca_store_commit(&tx));
  // The answer is the identity as it was, certificate included: a record
  // of what was removed.
  respond_checked(svc, resp, &rows[0], NULL);
  ca_identity_rows_free(rows, n);
  return;
err:
  ca_store_rollback(tx);
  ca_identity_rows_free(rows, n);
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}
