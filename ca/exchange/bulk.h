// EMCC-style bulk exchange of certificates between clusters (README.md,
// "Bulk export, consolidate, import"): what a bundle holds, how the bundles
// of several clusters are consolidated into one, and how a cluster imports
// the others' certificates into its trust stores.
//
// The wire format (pki.v1.Bundle) is api/'s business; here a bundle is a
// plain array of entries whose strings and bytes are borrowed from whatever
// decoded it.
#ifndef PKI_CA_BULK_H
#define PKI_CA_BULK_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/policy/export.h"
#include "ca/policy/node.h"
#include "ca/policy/trust.h"
#include "ca/store/store.h"

// ca_bulk_cluster_check returns 1 when |name| is a valid cluster name: 1 to
// CA_LIMIT_CLUSTER_LEN letters, digits, '-', '_' or '.'; else 0 with
// CA_ERR_PARAMETER_INVALID. Cluster names become file names
// (DIR/<cluster>.bundle), hence the narrow alphabet.
int ca_bulk_cluster_check(const char *name) CA_MUST_CHECK;

// One certificate of a bundle. Borrowed pointers.
typedef struct ca_bundle_entry {
  const char *cluster;
  const char *node;
  const char *purpose;
  const uint8_t *der;
  size_t der_len;
  const char *issuer;
  const char *serial;
  int revoked;
  int64_t revoked_at;  // when |revoked|
  int revocation_reason;
  int external;  // a registered identity: pki did not issue it
} ca_bundle_entry;

// ca_bundle_entry_check checks what a bundle from elsewhere says of one
// entry: a valid cluster name, a node and purpose of at most
// CA_LIMIT_BUNDLE_TEXT_LEN bytes, a certificate of at most
// CA_LIMIT_TRUST_CERT_BYTES, and a revocation time when revoked. It returns
// 0 with CA_ERR_BUNDLE_MALFORMED naming the entry |index|.
int ca_bundle_entry_check(const ca_bundle_entry *entry,
                          size_t index) CA_MUST_CHECK;

// One bundle: the exporting cluster ("" for a consolidated one) and its
// entries. Borrowed.
typedef struct ca_bundle {
  const char *cluster;
  const ca_bundle_entry *entries;
  size_t n_entries;
} ca_bundle;

// Two or more entries for one (node, purpose) with different certificates.
// Entries are copies whose pointers borrow from the input bundles, with the
// cluster filled in.
typedef struct ca_bulk_conflict {
  const char *node;  // borrowed from the first entry
  const char *purpose;
  ca_bundle_entry *entries;  // the differing entries (malloc'd)
  size_t n_entries;
} ca_bulk_conflict;

// The consolidated bundle: copies of the input entries (malloc'd array;
// the pointers in them borrow from the input bundles), cluster filled in.
typedef struct ca_bulk_merge {
  ca_bundle_entry *entries;
  size_t n_entries;
  const char **clusters;  // the distinct clusters merged, sorted
  size_t n_clusters;
  ca_bulk_conflict *conflicts;
  size_t n_conflicts;
  size_t duplicates;  // entries dropped as copies of another
} ca_bulk_merge;

// ca_bulk_consolidate merges |n| bundles into |out|. An entry's cluster is
// its own, else its bundle's. The bundles must come from at least two
// distinct clusters (else CA_ERR_BUNDLES_TOO_FEW): consolidating one
// cluster's bundle with itself is a mistake, as EMCC on CUCM also refuses.
// The same certificate for the same (cluster, node, purpose) is kept once
// (if the copies disagree about revocation, the revoked one is kept: a
// revocation is never lost in a merge). Entries of one (node, purpose) —
// nodes compared without regard to case — with different certificates are
// a conflict: all of them are left out and reported, never one guessed. The
// output is sorted by cluster, node and purpose. Each entry must pass
// ca_bundle_entry_check (else CA_ERR_BUNDLE_MALFORMED). On success the
// caller frees |out| with ca_bulk_merge_cleanup; |out| borrows from
// |bundles|.
int ca_bulk_consolidate(const ca_bundle *bundles, size_t n,
                        ca_bulk_merge *out) CA_MUST_CHECK;

// ca_bulk_merge_cleanup frees what |merge| owns and zeroes it.
void ca_bulk_merge_cleanup(ca_bulk_merge *merge);

// What happened to one entry of an import, in one store.
typedef enum ca_bulk_outcome {
  CA_BULK_PUT,              // put in |store|: see |put|
  CA_BULK_SKIPPED_OWN,      // the importing cluster's own certificate
  CA_BULK_SKIPPED_PURPOSE,  // a purpose no trust store takes
} ca_bulk_outcome;

typedef struct ca_bulk_import_result {
  size_t entry;  // index into the request's entries
  ca_bulk_outcome outcome;
  const char *store;  // static; NULL unless CA_BULK_PUT
  ca_trust_outcome put;
  uint8_t fingerprint[CA_TRUST_FINGERPRINT_LEN];
} ca_bulk_import_result;

typedef struct ca_bulk_import_request {
  const ca_bundle_entry *entries;
  size_t n_entries;
  const char *cluster;  // the importing cluster; NULL or "" skips nothing
  const char *actor;    // for the trust entries and the audit log
  const char *source;   // client address, for the audit log
  const char *what;     // audit object: "bundle" or "pkcs12"
  // The entries say nothing of revocation (a PKCS#12 file): entries already
  // in a store keep their revocation state.
  int revocation_unknown;
} ca_bulk_import_request;

typedef struct ca_bulk_import_summary {
  ca_bulk_import_result *results;  // malloc'd, |n_results|
  size_t n_results;
  size_t added, replaced, unchanged, kept;  // store placements
  size_t skipped_own, skipped_purpose;      // entries
} ca_bulk_import_summary;

// ca_bulk_import puts every entry of |req| whose cluster is not the
// importing one into each trust store of its purpose
// (ca_trust_purpose_stores), with its revocation state, by
// ca_store_tx_put_trust — so importing the same bundle twice changes
// nothing the second time. All of it is one transaction with one audit row
// (action "bulk-import"): an import is stored whole or not at all. Every
// entry is checked (ca_bundle_entry_check, ca_trust_cert_read) before the
// transaction starts; a bad one fails the import with
// CA_ERR_BUNDLE_MALFORMED. On success the caller frees |out| with
// ca_bulk_import_summary_cleanup.
int ca_bulk_import(ca_store *store, const ca_bulk_import_request *req,
                   ca_bulk_import_summary *out) CA_MUST_CHECK;

// ca_bulk_import_summary_cleanup frees what |summary| owns and zeroes it.
void ca_bulk_import_summary_cleanup(ca_bulk_import_summary *summary);

// ca_bulk_pkcs12_certificates reads the certificates of the PKCS#12 file
// |in| (a private key in it is ignored and never kept), decrypting with
// |password|. It returns 0 with CA_ERR_PKCS12_PASSWORD
// (PKCS12_PASSWORD_INVALID) when the password does not open it,
// CA_ERR_BUNDLE_MALFORMED when it is not PKCS#12 or holds no certificate,
// CA_ERR_OBJECT_TOO_LARGE past CA_LIMIT_PKCS12_BYTES or
// CA_LIMIT_TRUST_UPLOAD_CERTS certificates. On success |*out| holds |*out_n|
// certificates the caller frees with ca_trust_certs_free.
int ca_bulk_pkcs12_certificates(const uint8_t *in, size_t in_len,
                                const char *password, ca_trust_cert **out,
                                size_t *out_n) CA_MUST_CHECK;

// ca_bulk_share_entries hands each shared (multi-server) certificate of
// |in| to every node that holds it: an entry whose certificate's dNSName
// SANs name two or more of the |n_nodes| registered nodes |nodes| (FQDNs
// compared without regard to case) becomes one entry per such node, its
// node the node's FQDN; other entries stay as they are. |not_before[i]| is
// the notBefore of entry i: when a node then has two entries of one
// purpose (its own certificate and a shared one), the later notBefore is
// kept, as the export keeps each node's current certificate. On success
// |*out| (malloc'd; the caller frees it) holds |*out_n| entries whose
// pointers borrow from |in| and |nodes|, sorted by node and purpose. It
// returns 0 with CA_ERR_CERT_MALFORMED for a certificate it cannot read,
// or CA_ERR_OBJECT_TOO_LARGE past CA_LIMIT_BUNDLE_ENTRIES entries.
int ca_bulk_share_entries(const ca_bundle_entry *in, const int64_t *not_before,
                          size_t n, const ca_node *nodes, size_t n_nodes,
                          ca_bundle_entry **out, size_t *out_n) CA_MUST_CHECK;

#endif  // PKI_CA_BULK_H
