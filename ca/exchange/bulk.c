#include "ca/exchange/bulk.h"

#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/pkcs8.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca/limits.h"
#include "ca/oid.h"
#include "ca/x509/san.h"
#include "ca/x509/x509.h"

static int cluster_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

int ca_bulk_cluster_check(const char *name) {
  size_t len = 0;
  for (; name[len] != '\0' && len <= CA_LIMIT_CLUSTER_LEN; len++) {
    CA_ENSURE_RETURN(cluster_char(name[len]), CA_ERR_PARAMETER_INVALID,
                     "cluster names are letters, digits, '-', '_' and '.'");
  }
  CA_ENSURE_RETURN(
      len >= 1 && len <= CA_LIMIT_CLUSTER_LEN, CA_ERR_PARAMETER_INVALID,
      "a cluster name is 1 to %d characters", CA_LIMIT_CLUSTER_LEN);
  // "." and ".." would name directories, not files.
  CA_ENSURE_RETURN(strcmp(name, ".") != 0 && strcmp(name, "..") != 0,
                   CA_ERR_PARAMETER_INVALID, "a cluster name is not . or ..");
  return 1;
}

static int text_ok(const char *text, int required) {
  return text != NULL && (!required || text[0] != '\0') &&
         strnlen(text, CA_LIMIT_BUNDLE_TEXT_LEN + 1) <=
             CA_LIMIT_BUNDLE_TEXT_LEN;
}

int ca_bundle_entry_check(const ca_bundle_entry *e, size_t index) {
  CA_ENSURE_RETURN(e->cluster != NULL && ca_bulk_cluster_check(e->cluster),
                   CA_ERR_BUNDLE_MALFORMED, "entry %zu: no valid cluster name",
                   index);
  CA_ENSURE_RETURN(text_ok(e->node, 1) && text_ok(e->purpose, 1),
                   CA_ERR_BUNDLE_MALFORMED,
                   "entry %zu: node and purpose are 1 to %d bytes", index,
                   CA_LIMIT_BUNDLE_TEXT_LEN);
  CA_ENSURE_RETURN(text_ok(e->issuer, 0) && text_ok(e->serial, 0),
                   CA_ERR_BUNDLE_MALFORMED,
                   "entry %zu: issuer and serial are at most %d bytes", index,
                   CA_LIMIT_BUNDLE_TEXT_LEN);
  CA_ENSURE_RETURN(e->der_len > 0 && e->der_len <= CA_LIMIT_TRUST_CERT_BYTES,
                   CA_ERR_BUNDLE_MALFORMED,
                   "entry %zu: a certificate of 1 to %d bytes is required",
                   index, CA_LIMIT_TRUST_CERT_BYTES);
  // RFC 5280 5.3.1: reason codes 0-10 without 7.
  CA_ENSURE_RETURN(
      !e->revoked || (e->revoked_at > 0 && e->revocation_reason >= 0 &&
                      e->revocation_reason <= 10 && e->revocation_reason != 7),
      CA_ERR_BUNDLE_MALFORMED,
      "entry %zu: a revoked entry needs its time and an RFC 5280 reason",
      index);
  return 1;
}

// --- Consolidation ---

// One entry of the merge: a copy with its cluster filled in and the
// SHA-256 of its certificate.
typedef struct merge_item {
  ca_bundle_entry entry;
  uint8_t fp[CA_TRUST_FINGERPRINT_LEN];
} merge_item;

// Groups: one (node, purpose); within a group, one (cluster, certificate).
static int compare_group(const merge_item *a, const merge_item *b) {
  int c = strcasecmp(a->entry.node, b->entry.node);
  if (c == 0) {
    c = strcasecmp(a->entry.purpose, b->entry.purpose);
  }
  return c;
}

static int compare_items(const void *pa, const void *pb) {
  const merge_item *a = pa, *b = pb;
  int c = compare_group(a, b);
  if (c == 0) {
    c = strcmp(a->entry.cluster, b->entry.cluster);
  }
  if (c == 0) {
    c = memcmp(a->fp, b->fp, CA_TRUST_FINGERPRINT_LEN);
  }
  return c;
}

static int compare_output(const void *pa, const void *pb) {
  const ca_bundle_entry *a = pa, *b = pb;
  int c = strcmp(a->cluster, b->cluster);
  if (c == 0) {
    c = strcasecmp(a->node, b->node);
  }
  if (c == 0) {
    c = strcasecmp(a->purpose, b->purpose);
  }
  return c;
}

static int compare_strings(const void *pa, const void *pb) {
  return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

// distinct_clusters collects the clusters named by |bundles| (their own
// and their entries') into |out|, sorted and distinct.
static int distinct_clusters(const ca_bundle *bundles, size_t n,
                             const merge_item *items, size_t n_items,
                             const char ***out, size_t *out_n) {
  const char **names = malloc((n + n_items + 1) * sizeof(*names));
  size_t k = 0;
  CA_ENSURE_ALLOC_RETURN(names);
  for (size_t i = 0; i < n; i++) {
    if (bundles[i].cluster != NULL && bundles[i].cluster[0] != '\0') {
      names[k++] = bundles[i].cluster;
    }
  }
  for (size_t i = 0; i < n_items; i++) {
    names[k++] = items[i].entry.cluster;
  }
  qsort(names, k, sizeof(*names), compare_strings);
  size_t distinct = 0;
  for (size_t i = 0; i < k; i++) {
    if (distinct == 0 || strcmp(names[distinct - 1], names[i]) != 0) {
      names[distinct++] = names[i];
    }
  }
  *out = names;
  *out_n = distinct;
  return 1;
}

// add_conflict records the group |items[0..n)| (distinct certificates).
static int add_conflict(ca_bulk_merge *m, const merge_item *items, size_t n) {
  ca_bundle_entry *entries = malloc(n * sizeof(*entries));
  CA_ENSURE_ALLOC_RETURN(entries);
  for (size_t i = 0; i < n; i++) {
    entries[i] = items[i].entry;
  }
  ca_bulk_conflict *c = &m->conflicts[m->n_conflicts++];
  c->node = items[0].entry.node;
  c->purpose = items[0].entry.purpose;
  c->entries = entries;
  c->n_entries = n;
  return 1;
}

int ca_bulk_consolidate(const ca_bundle *bundles, size_t n,
                        ca_bulk_merge *out) {
  int ret = 0;
  memset(out, 0, sizeof(*out));
  merge_item *items = NULL;
  size_t total = 0;
  for (size_t b = 0; b < n; b++) {
    CA_ENSURE(bundles[b].n_entries <= CA_LIMIT_BUNDLE_ENTRIES &&
                  total + bundles[b].n_entries <= CA_LIMIT_BUNDLE_ENTRIES,
              CA_ERR_OBJECT_TOO_LARGE, "more than %d entries in all",
              CA_LIMIT_BUNDLE_ENTRIES);
    total += bundles[b].n_entries;
  }
  items = calloc(total + 1, sizeof(*items));
  CA_ENSURE_ALLOC(items);
  size_t k = 0;
  for (size_t b = 0; b < n; b++) {
    const char *cluster = bundles[b].cluster;
    CA_ENSURE(
        cluster == NULL || cluster[0] == '\0' || ca_bulk_cluster_check(cluster),
        CA_ERR_BUNDLE_MALFORMED, "bundle %zu: bad cluster name", b);
    for (size_t i = 0; i < bundles[b].n_entries; i++, k++) {
      items[k].entry = bundles[b].entries[i];
      if (items[k].entry.cluster == NULL || items[k].entry.cluster[0] == '\0') {
        items[k].entry.cluster = cluster;
      }
      CA_GUARD(ca_bundle_entry_check(&items[k].entry, k));
      SHA256(items[k].entry.der, items[k].entry.der_len, items[k].fp);
    }
  }
  CA_GUARD(distinct_clusters(bundles, n, items, total, &out->clusters,
                             &out->n_clusters));
  CA_ENSURE(out->n_clusters >= 2, CA_ERR_BUNDLES_TOO_FEW,
            "consolidation needs bundles of at least two clusters; found %zu",
            out->n_clusters);
  qsort(items, total, sizeof(*items), compare_items);
  out->entries = calloc(total + 1, sizeof(*out->entries));
  out->conflicts = calloc(total + 1, sizeof(*out->conflicts));
  CA_ENSURE(out->entries != NULL && out->conflicts != NULL, CA_ERR_NO_MEMORY,
            "out of memory");
  for (size_t start = 0; start < total;) {
    size_t end = start + 1;
    while (end < total && compare_group(&items[start], &items[end]) == 0) {
      end++;
    }
    // Within the group, copies of one (cluster, certificate) are adjacent:
    // keep the first, revoked if any copy is.
    size_t distinct = start;
    for (size_t i = start; i < end; i++) {
      if (i > start &&
          strcmp(items[i].entry.cluster, items[distinct - 1].entry.cluster) ==
              0 &&
          memcmp(items[i].fp, items[distinct - 1].fp,
                 CA_TRUST_FINGERPRINT_LEN) == 0) {
        out->duplicates++;
        ca_bundle_entry *kept = &items[distinct - 1].entry;
        if (items[i].entry.revoked && !kept->revoked) {
          *kept = items[i].entry;
        }
        continue;
      }
      items[distinct++] = items[i];
    }
    if (distinct - start == 1) {
      out->entries[out->n_entries++] = items[start].entry;
    } else {
      // Two clusters claim the node's certificate of this purpose, or one
      // cluster's bundles disagree (an old export beside a new one): only
      // the operator knows which is right.
      CA_GUARD(add_conflict(out, &items[start], distinct - start));
    }
    start = end;
  }
  qsort(out->entries, out->n_entries, sizeof(*out->entries), compare_output);
  ret = 1;
err:
  free(items);
  if (!ret) {
    ca_bulk_merge_cleanup(out);
  }
  return ret;
}

void ca_bulk_merge_cleanup(ca_bulk_merge *merge) {
  if (merge == NULL) {
    return;
  }
  for (size_t i = 0; i < merge->n_conflicts; i++) {
    free(merge->conflicts[i].entries);
  }
  free(merge->conflicts);
  free(merge->entries);
  free(merge->clusters);
  memset(merge, 0, sizeof(*merge));
}

// --- Import ---

void ca_bulk_import_summary_cleanup(ca_bulk_import_summary *summary) {
  if (summary == NULL) {
    return;
  }
  free(summary->results);
  memset(summary, 0, sizeof(*summary));
}

static void count_put(ca_bulk_import_summary *s, ca_trust_outcome outcome) {
  switch (outcome) {
    case CA_TRUST_ADDED:
      s->added++;
      break;
    case CA_TRUST_REPLACED:
      s->replaced++;
      break;
    case CA_TRUST_UNCHANGED:
      s->unchanged++;
      break;
    case CA_TRUST_KEPT:
      s->kept++;
      break;
  }
}

int ca_bulk_import(ca_store *store, const ca_bulk_import_request *req,
                   ca_bulk_import_summary *out) {
  int ret = 0;
  memset(out, 0, sizeof(*out));
  ca_trust_cert *certs = NULL;
  ca_store_tx *tx = NULL;
  const size_t n = req->n_entries;
  CA_ENSURE(n <= CA_LIMIT_BUNDLE_ENTRIES, CA_ERR_OBJECT_TOO_LARGE,
            "more than %d entries", CA_LIMIT_BUNDLE_ENTRIES);
  certs = calloc(n + 1, sizeof(*certs));
  // Each entry lands in at most two stores.
  out->results = calloc(2 * n + 1, sizeof(*out->results));
  CA_ENSURE(certs != NULL && out->results != NULL, CA_ERR_NO_MEMORY,
            "out of memory");
  // Everything is checked before anything is written (invariant 8).
  for (size_t i = 0; i < n; i++) {
    CA_GUARD(ca_bundle_entry_check(&req->entries[i], i));
    if (!ca_trust_cert_read(req->entries[i].der, req->entries[i].der_len,
                            &certs[i])) {
      CA_RAISE(CA_ERR_BUNDLE_MALFORMED, "entry %zu (%s %s): %s", i,
               req->entries[i].node, req->entries[i].purpose,
               ca_err_get()->message);
    }
  }
  const int skip_own = req->cluster != NULL && req->cluster[0] != '\0';
  CA_GUARD(ca_store_begin(store, &tx));
  for (size_t i = 0; i < n; i++) {
    const ca_bundle_entry *e = &req->entries[i];
    ca_bulk_import_result *r = &out->results[out->n_results];
    r->entry = i;
    memcpy(r->fingerprint, certs[i].fingerprint, CA_TRUST_FINGERPRINT_LEN);
    if (skip_own && strcmp(e->cluster, req->cluster) == 0) {
      r->outcome = CA_BULK_SKIPPED_OWN;
      out->n_results++;
      out->skipped_own++;
      continue;
    }
    const char *stores[2];
    const size_t n_stores = ca_trust_purpose_stores(e->purpose, stores);
    if (n_stores == 0) {
      r->outcome = CA_BULK_SKIPPED_PURPOSE;
      out->n_results++;
      out->skipped_purpose++;
      continue;
    }
    for (size_t s = 0; s < n_stores; s++) {
      r = &out->results[out->n_results++];
      r->entry = i;
      memcpy(r->fingerprint, certs[i].fingerprint, CA_TRUST_FINGERPRINT_LEN);
      r->outcome = CA_BULK_PUT;
      r->store = stores[s];
      const ca_trust_put put = {
          .store = stores[s],
          .cert = &certs[i],
          .source = "bulk",
          .cluster = e->cluster,
          .node = e->node,
          .purpose = e->purpose,
          .revoked_at = e->revoked ? e->revoked_at : 0,
          .revocation_reason = e->revoked ? e->revocation_reason : 0,
          .revocation_unknown = req->revocation_unknown,
          .added_by = req->actor,
      };
      CA_GUARD(ca_store_tx_put_trust(tx, &put, &r->put, NULL));
      count_put(out, r->put);
    }
  }
  char detail[256];
  snprintf(detail, sizeof(detail),
           "entries=%zu added=%zu replaced=%zu unchanged=%zu kept=%zu "
           "skipped_own=%zu skipped_purpose=%zu",
           n, out->added, out->replaced, out->unchanged, out->kept,
           out->skipped_own, out->skipped_purpose);
  CA_GUARD(ca_store_tx_audit(tx, req->actor, "bulk-import",
                             req->what != NULL ? req->what : "bundle",
                             req->source, "ok", detail));
  CA_GUARD(ca_store_commit(&tx));
  ret = 1;
err:
  ca_store_rollback(tx);  // NULL after a commit
  ca_trust_certs_free(certs, n);
  if (!ret) {
    ca_bulk_import_summary_cleanup(out);
  }
  return ret;
}

// --- PKCS#12 ---

// Results of pkcs12_walk.
#define WALK_OK 1
#define WALK_MALFORMED 0
#define WALK_TOO_COSTLY (-1)

// pkcs12_walk reads the DER elements of |in| and adds to |*total| every
// INTEGER that follows an OCTET STRING in the same SEQUENCE: the
// iterations of MacData (RFC 7292 4), of pkcs-12PbeParams (RFC 7292
// appendix C) and of PBKDF2-params (RFC 8018 A.2) all come right after
// their salt. It descends into constructed elements and into OCTET STRINGs
// whose contents are DER (the AuthenticatedSafe, SafeContents, bag values);
// contents that are not (ciphertext) are opaque. A constructed OCTET STRING
// is refused: its pieces would hide what BoringSSL joins.
static int pkcs12_walk(CBS *in, int depth, uint64_t *total) {
  int after_octets = 0;
  while (CBS_len(in) > 0) {
    CBS element, body;
    unsigned tag;
    size_t header;
    if (!CBS_get_any_asn1_element(in, &element, &tag, &header) ||
        tag == (CBS_ASN1_OCTETSTRING | CBS_ASN1_CONSTRUCTED)) {
      return WALK_MALFORMED;
    }
    body = element;
    CBS_skip(&body, header);
    if (tag == CBS_ASN1_INTEGER && after_octets) {
      uint64_t v;
      if (!CBS_get_asn1_uint64(&element, &v) ||
          v > CA_LIMIT_PKCS12_ITERATIONS - *total) {
        return WALK_TOO_COSTLY;
      }
      *total += v;
    }
    if ((tag & CBS_ASN1_CONSTRUCTED) != 0) {
      if (depth >= CA_LIMIT_PKCS12_DEPTH) {
        return WALK_MALFORMED;
      }
      const int r = pkcs12_walk(&body, depth + 1, total);
      if (r != WALK_OK) {
        return r;
      }
    } else if (tag == CBS_ASN1_OCTETSTRING && depth < CA_LIMIT_PKCS12_DEPTH) {
      uint64_t inner = *total;
      const int r = pkcs12_walk(&body, depth + 1, &inner);
      if (r == WALK_TOO_COSTLY) {
        return r;
      }
      if (r == WALK_OK) {
        *total = inner;
      }
    }
    after_octets = tag == CBS_ASN1_OCTETSTRING;
  }
  return WALK_OK;
}

int ca_bulk_pkcs12_certificates(const uint8_t *in, size_t in_len,
                                const char *password, ca_trust_cert **out,
                                size_t *out_n) {
  int ret = 0;
  STACK_OF(X509) *stack = sk_X509_new_null();
  EVP_PKEY *key = NULL;
  ca_trust_cert *certs = NULL;
  size_t n = 0;
  CA_ENSURE_ALLOC(stack);
  CA_ENSURE(in_len <= CA_LIMIT_PKCS12_BYTES, CA_ERR_OBJECT_TOO_LARGE,
            "a PKCS#12 file over %d bytes", CA_LIMIT_PKCS12_BYTES);
  CBS cbs;
  CBS_init(&cbs, in, in_len);
  // Bound the key derivations before BoringSSL runs them; the file must be
  // DER for the count to see what BoringSSL will.
  uint64_t iterations = 0;
  const int walked = pkcs12_walk(&cbs, 0, &iterations);
  CA_ENSURE(walked != WALK_TOO_COSTLY, CA_ERR_BUNDLE_MALFORMED,
            "the PKCS#12 file asks for more than %d key-derivation "
            "iterations in all",
            CA_LIMIT_PKCS12_ITERATIONS);
  CA_ENSURE(walked == WALK_OK, CA_ERR_BUNDLE_MALFORMED,
            "not a DER PKCS#12 file");
  CBS_init(&cbs, in, in_len);
  ERR_clear_error();
  if (!PKCS12_get_key_and_certs(&key, stack, &cbs, password)) {
    const uint32_t e = ERR_peek_last_error();
    // BoringSSL checks the MAC (or, without one, the decryption) with the
    // password first: a wrong one says so.
    if (ERR_GET_LIB(e) == ERR_LIB_PKCS8 &&
        ERR_GET_REASON(e) == PKCS8_R_INCORRECT_PASSWORD) {
      CA_RAISE(CA_ERR_PKCS12_PASSWORD,
               "the password does not open the PKCS#12 file");
    }
    CA_RAISE(CA_ERR_BUNDLE_MALFORMED,
             "not a PKCS#12 file this CA can read (PKCS#12 with "
             "PBES2/AES or PBE-SHA1-3DES/RC2 and an HMAC-SHA MAC)");
  }
  // A key in the file is not wanted here and is dropped at once.
  EVP_PKEY_free(key);
  key = NULL;
  const size_t count = sk_X509_num(stack);
  CA_ENSURE(count > 0, CA_ERR_BUNDLE_MALFORMED,
            "the PKCS#12 file holds no certificate");
  CA_ENSURE(count <= CA_LIMIT_TRUST_UPLOAD_CERTS, CA_ERR_OBJECT_TOO_LARGE,
            "more than %d certificates in the PKCS#12 file",
            CA_LIMIT_TRUST_UPLOAD_CERTS);
  certs = calloc(count, sizeof(*certs));
  CA_ENSURE_ALLOC(certs);
  for (size_t i = 0; i < count; i++) {
    uint8_t *der = NULL;
    const int len = i2d_X509(sk_X509_value(stack, i), &der);
    CA_ENSURE(len > 0, CA_ERR_BUNDLE_MALFORMED,
              "certificate %zu of the PKCS#12 file", i);
    const int ok = ca_trust_cert_read(der, (size_t)len, &certs[n]);
    OPENSSL_free(der);
    CA_GUARD(ok);
    n++;
  }
  *out = certs;
  *out_n = n;
  certs = NULL;  // the caller's now
  n = 0;
  ret = 1;
err:
  EVP_PKEY_free(key);
  sk_X509_pop_free(stack, X509_free);
  ca_trust_certs_free(certs, n);
  return ret;
}

// --- Shared (multi-server) certificates ---

// named_nodes marks in |named| the registered nodes that the dNSName SANs
// of |der| name, and returns how many (or -1 when |der| is unreadable).
static int named_nodes(const uint8_t *der, size_t der_len, const ca_node *nodes,
                       size_t n_nodes, uint8_t *named) {
  ca_x509 cert;
  CBS ext;
  int critical, count = 0;
  ca_san_list *sans = malloc(sizeof(*sans));
  memset(named, 0, n_nodes);
  if (sans == NULL || !ca_x509_parse(&cert, der, der_len)) {
    free(sans);
    return -1;
  }
  if (!ca_x509_find_extension(&cert, kOidSubjectAltName,
                              sizeof(kOidSubjectAltName), &ext, &critical) ||
      !ca_san_parse(sans, &ext)) {
    // No SANs pki reads: a node's own certificate, named by its CN.
    ca_err_clear();
    free(sans);
    return 0;
  }
  for (size_t i = 0; i < sans->count; i++) {
    const ca_san *san = &sans->items[i];
    for (size_t k = 0; san->type == CA_SAN_DNS && k < n_nodes; k++) {
      if (!named[k] && CBS_len(&san->value) == strlen(nodes[k].fqdn) &&
          strncasecmp((const char *)CBS_data(&san->value), nodes[k].fqdn,
                      CBS_len(&san->value)) == 0) {
        named[k] = 1;
        count++;
      }
    }
  }
  free(sans);
  return count;
}

typedef struct shared_item {
  ca_bundle_entry entry;
  int64_t not_before;
} shared_item;

static int compare_shared(const void *pa, const void *pb) {
  const shared_item *a = pa, *b = pb;
  int c = strcasecmp(a->entry.node, b->entry.node);
  if (c == 0) {
    c = strcasecmp(a->entry.purpose, b->entry.purpose);
  }
  if (c == 0) {  // the current one first
    c = (a->not_before < b->not_before) - (a->not_before > b->not_before);
  }
  return c;
}

int ca_bulk_share_entries(const ca_bundle_entry *in, const int64_t *not_before,
                          size_t n, const ca_node *nodes, size_t n_nodes,
                          ca_bundle_entry **out, size_t *out_n) {
  int ret = 0;
  size_t k = 0, cap = n + 1;
  shared_item *items = malloc(cap * sizeof(*items));
  uint8_t *named = malloc(n_nodes + 1);
  *out = NULL;
  *out_n = 0;
  CA_ENSURE(items != NULL && named != NULL, CA_ERR_NO_MEMORY, "out of memory");
  for (size_t i = 0; i < n; i++) {
    const int count =
        named_nodes(in[i].der, in[i].der_len, nodes, n_nodes, named);
    CA_ENSURE(count >= 0, CA_ERR_CERT_MALFORMED,
              "entry %zu: the certificate cannot be read", i);
    const size_t copies = count >= 2 ? (size_t)count : 1;
    CA_ENSURE(k + copies <= CA_LIMIT_BUNDLE_ENTRIES, CA_ERR_OBJECT_TOO_LARGE,
              "more than %d entries", CA_LIMIT_BUNDLE_ENTRIES);
    if (k + copies > cap) {
      cap = (k + copies) * 2;
      shared_item *grown = realloc(items, cap * sizeof(*items));
      CA_ENSURE_ALLOC(grown);
      items = grown;
    }
    for (size_t m = 0; m < n_nodes && count >= 2; m++) {
      if (named[m]) {
        items[k] = (shared_item){in[i], not_before[i]};
        items[k++].entry.node = nodes[m].fqdn;
      }
    }
    if (count < 2) {
      items[k++] = (shared_item){in[i], not_before[i]};
    }
  }
  qsort(items, k, sizeof(*items), compare_shared);
  ca_bundle_entry *entries = malloc((k + 1) * sizeof(*entries));
  CA_ENSURE_ALLOC(entries);
  size_t kept = 0;
  for (size_t i = 0; i < k; i++) {
    // Sorted current-first within a (node, purpose): keep the first.
    if (kept > 0 &&
        strcasecmp(entries[kept - 1].node, items[i].entry.node) == 0 &&
        strcasecmp(entries[kept - 1].purpose, items[i].entry.purpose) == 0) {
      continue;
    }
    entries[kept++] = items[i].entry;
  }
  *out = entries;
  *out_n = kept;
  ret = 1;
err:
  free(items);
  free(named);
  return ret;
}
