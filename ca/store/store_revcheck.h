// Revocation status of trusted certificates in PostgreSQL (table
// revocation_checks, migration 0015), keyed by the SHA-256 fingerprint of
// the checked certificate: trust entries use it, and so can any other kind
// of certificate pki relies on.
#ifndef PKI_CA_STORE_REVCHECK_H
#define PKI_CA_STORE_REVCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/policy/trust.h"
#include "ca/store/store.h"

// One stored status. Owned strings (OPENSSL_malloc); free the array with
// ca_revcheck_rows_free.
typedef struct ca_revcheck_row {
  uint8_t fingerprint[CA_TRUST_FINGERPRINT_LEN];
  char *status;  // good, revoked, unknown, unreachable, anchor
  char *source;  // ocsp, crl or ""
  char *responder_url;
  char *error;
  int64_t revoked_at;  // 0 unless revoked
  int reason;          // -1 when none
  int64_t checked_at;
  int64_t next_check_at;
} ca_revcheck_row;

void ca_revcheck_rows_free(ca_revcheck_row *rows, size_t n);

// ca_store_revcheck_put records |row| (its strings borrowed), replacing the
// status of the same fingerprint.
int ca_store_revcheck_put(ca_store *store,
                          const ca_revcheck_row *row) CA_MUST_CHECK;

// ca_store_revcheck_list returns the statuses of the certificates in trust
// stores, in fingerprint order (at most CA_LIMIT_TRUST_LIST). The caller
// frees |*out| with ca_revcheck_rows_free.
int ca_store_revcheck_list(ca_store *store, ca_revcheck_row **out,
                           size_t *out_n) CA_MUST_CHECK;

// ca_store_revcheck_list_identities is ca_store_revcheck_list for the
// certificates of registered identities (at most CA_LIMIT_IDENTITY_LIST).
int ca_store_revcheck_list_identities(ca_store *store, ca_revcheck_row **out,
                                      size_t *out_n) CA_MUST_CHECK;

// ca_revcheck_row_find returns the row of |fp| in |rows| (sorted as
// ca_store_revcheck_list returns them), or NULL.
const ca_revcheck_row *ca_revcheck_row_find(
    const ca_revcheck_row *rows, size_t n,
    const uint8_t fp[CA_TRUST_FINGERPRINT_LEN]);

// A trust entry or registered identity due for a check. Owned
// (OPENSSL_malloc); free with ca_revcheck_due_free.
typedef struct ca_revcheck_due {
  char *store;    // the first store holding it; "" for an identity
  char *purpose;  // an identity's purpose; "" for a trust entry
  uint8_t fingerprint[CA_TRUST_FINGERPRINT_LEN];
  uint8_t *der;
  size_t der_len;
  // An identity's uploaded chain (DER certificates back to back); empty
  // for a trust entry.
  uint8_t *chain;
  size_t chain_len;
} ca_revcheck_due;

void ca_revcheck_due_free(ca_revcheck_due *rows, size_t n);

// ca_store_revcheck_claim takes, under an advisory lock held for one short
// transaction, up to |limit| trust entries and registered identities (a
// certificate held by both comes as its trust entry) never checked or whose
// next_check_at has passed at |now|, and moves their next_check_at to |now|
// + |lease_s|: another node claims other entries, and an entry whose
// checker died is claimed again after the lease. |*out_n| is 0 when another
// node holds the lock. The caller frees |*out| with ca_revcheck_due_free.
int ca_store_revcheck_claim(ca_store *store, int64_t now, int64_t lease_s,
                            size_t limit, ca_revcheck_due **out,
                            size_t *out_n) CA_MUST_CHECK;

// ca_store_trust_issuer looks in |trust_store| for the certificate whose
// subject is the Name |name| (DER) and sets |*out| (OPENSSL_free) to its
// DER, or |*out| to NULL when the store has none.
int ca_store_trust_issuer(ca_store *store, const char *trust_store,
                          const uint8_t *name, size_t name_len, uint8_t **out,
                          size_t *out_len) CA_MUST_CHECK;

// ca_store_revcheck_counts sets |counts| to the number of trust-store
// certificates (|identities| 0) or registered identities' certificates
// (|identities| 1) of each status (index of |names|, |n| of them) and
// |*unchecked| to those not checked yet.
int ca_store_revcheck_counts(ca_store *store, int identities,
                             const char *const *names, size_t n,
                             int64_t *counts, int64_t *unchecked) CA_MUST_CHECK;

#endif  // PKI_CA_STORE_REVCHECK_H
