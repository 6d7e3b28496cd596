// Registered identities in PostgreSQL (table identities, migration 0014):
// certificates pki did not issue, one per (cluster, node, purpose). What
// is registered is read and judged by ca/policy/identity.h.
#ifndef PKI_CA_STORE_IDENTITY_H
#define PKI_CA_STORE_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/policy/trust.h"
#include "ca/store/store.h"

// A registration to write. Borrowed pointers.
typedef struct ca_identity_put {
  const char *cluster;  // "" for none
  const char *node;
  const char *purpose;  // canonical (ca_identity_purpose_find)
  const ca_trust_cert *leaf;
  const uint8_t *chain;  // DER certificates back to back; NULL for none
  size_t chain_len;
  int verified;
  const char *verify_detail;
  const char *description;  // "" for none
  const char *added_by;
} ca_identity_put;

// A registered identity as stored. Owned strings and buffers
// (OPENSSL_malloc); free an array with ca_identity_rows_free.
typedef struct ca_identity_row {
  int64_t id;
  char *cluster;
  char *node;
  char *purpose;
  uint8_t fingerprint[CA_TRUST_FINGERPRINT_LEN];  // SHA-256 of |der|
  char *subject;
  char *issuer;
  char *serial;  // hex of the INTEGER contents, as trust entries
  char *common_name;
  char *key_type;
  unsigned key_bits;
  int64_t not_before;
  int64_t not_after;
  int verified;
  char *verify_detail;
  char *description;
  char *added_by;
  int64_t created_at;
  int64_t updated_at;
  uint8_t *der;  // NULL unless asked for
  size_t der_len;
  uint8_t *chain;  // NULL unless asked for (or none was given)
  size_t chain_len;
} ca_identity_row;

void ca_identity_rows_free(ca_identity_row *rows, size_t n);

// Which identities a listing returns; NULL or 0 fields do not filter.
typedef struct ca_identity_filter {
  int64_t id;
  const char *cluster;
  const char *node;  // without regard to case
  const char *purpose;
  int with_der;  // fetch the certificate and its chain too
} ca_identity_filter;

// ca_store_list_identities returns the identities matching |f|, by
// cluster, node and purpose, at most CA_LIMIT_IDENTITY_LIST of them. The
// caller frees |*out| with ca_identity_rows_free.
int ca_store_list_identities(ca_store *store, const ca_identity_filter *f,
                             ca_identity_row **out,
                             size_t *out_n) CA_MUST_CHECK;

// ca_store_tx_identity_insert registers |put| and sets |*out_id|. It
// returns 0 with CA_ERR_IDENTITY_EXISTS when the node already has an
// identity of that purpose in that cluster (replace it instead).
int ca_store_tx_identity_insert(ca_store_tx *tx, const ca_identity_put *put,
                                int64_t *out_id) CA_MUST_CHECK;

// ca_store_tx_identity_replace puts |put|'s certificate, chain, verdict,
// description and author in identity |id| (its cluster, node and purpose
// stay), after locking the row, and sets |old_fp| to the fingerprint it
// replaced. It returns 0 with CA_ERR_NOT_FOUND when there is no such
// identity.
int ca_store_tx_identity_replace(
    ca_store_tx *tx, int64_t id, const ca_identity_put *put,
    uint8_t old_fp[CA_TRUST_FINGERPRINT_LEN]) CA_MUST_CHECK;

// ca_store_tx_identity_delete removes identity |id| and sets |*out_found|
// to whether there was one.
int ca_store_tx_identity_delete(ca_store_tx *tx, int64_t id,
                                int *out_found) CA_MUST_CHECK;

// ca_store_identity_export_merge adds to the |*n| rows |*rows| of a bulk
// export of |cluster| (ca_store_bulk_export_rows: purposes |purposes_array|,
// a PostgreSQL array literal, not expired at |now_text|, Unix seconds) the
// registered identities of those purposes: an identity replaces pki's row
// of the same node and purpose unless pki's certificate has the later
// notBefore, and then it is left out. Their rows have |external| set,
// |common_name| is the node, |issuer| the issuer's DN and |status| "good".
// The rows stay ordered by node and purpose; at most
// CA_LIMIT_BUNDLE_ENTRIES (CA_ERR_OBJECT_TOO_LARGE). Whatever it returns,
// |*rows| and |*n| describe rows the caller frees with ca_cert_rows_free.
int ca_store_identity_export_merge(ca_store *store, const char *cluster,
                                   const char *purposes_array,
                                   const char *now_text, ca_cert_row **rows,
                                   size_t *n) CA_MUST_CHECK;

#endif  // PKI_CA_STORE_IDENTITY_H
