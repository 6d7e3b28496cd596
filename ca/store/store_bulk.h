// What a bulk export (ca/exchange/bulk.h) reads from PostgreSQL, and the
// audit rows of bulk calls.
#ifndef PKI_CA_STORE_BULK_H
#define PKI_CA_STORE_BULK_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/store/store.h"

// ca_store_bulk_export_rows returns, for |cluster| and the |n_purposes|
// profiles |purposes|, the current certificate of each (node, purpose):
// the one with the latest notBefore among those not expired at |now|,
// revoked or not (peers must learn of revocations). Rows carry id, serial,
// issuer, profile, subject, common_name, validity, status, revocation and
// DER; they are ordered by node and purpose. At most CA_LIMIT_BUNDLE_ENTRIES
// rows (CA_ERR_OBJECT_TOO_LARGE beyond). The caller frees |*out| with
// ca_cert_rows_free.
int ca_store_bulk_export_rows(ca_store *store, const char *cluster,
                              const char *const *purposes, size_t n_purposes,
                              int64_t now, ca_cert_row **out,
                              size_t *out_n) CA_MUST_CHECK;

// ca_store_bulk_issued_rows returns one page of an --issued export: the
// certificates this pki issued or self-signed (every CA, revoked or not,
// expired or not) whose id is above |after|, in id order, at most |limit|
// (1 to CA_LIMIT_ISSUED_PAGE, else CA_ERR_PARAMETER_INVALID). Rows carry
// id, serial, issuer (the CA name, "" when self-signed), profile, subject,
// common_name, validity, status, revocation, DER, requester,
// key_generated, self_signed and cluster ("" when none). |*out_more| is 1
// when certificates follow the last row; the next page starts after its
// id. The caller frees |*out| with ca_cert_rows_free.
int ca_store_bulk_issued_rows(ca_store *store, int64_t after, size_t limit,
                              ca_cert_row **out, size_t *out_n,
                              int *out_more) CA_MUST_CHECK;

// ca_store_bulk_audit appends one audit row of a bulk call (export,
// consolidate) in a transaction of its own.
int ca_store_bulk_audit(ca_store *store, const char *actor, const char *action,
                        const char *object, const char *source,
                        const char *detail) CA_MUST_CHECK;

#endif  // PKI_CA_STORE_BULK_H
