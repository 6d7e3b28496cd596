// Pre-signed OCSP answers shared by every node (migration 0011): read with
// the certificate's status, written and renewed in the background.
//
// An answer is served only while the certificate's row says what the answer
// says: the read compares them, and a trigger deletes the answers of every
// row that changes. So a stored answer can be stale in time only, never in
// status.
#ifndef PKI_CA_STORE_OCSP_H
#define PKI_CA_STORE_OCSP_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/store/store.h"

// The ResponderID byKey of a signer: SHA-1 of its public key.
#define CA_OCSP_SIGNER_LEN 20
// A CertID element is at most a few dozen bytes more than its hashes and
// serial; longer ones are never stored.
#define CA_OCSP_CERT_ID_MAX 160

// One answer: what it was signed for and the response itself.
typedef struct ca_ocsp_stored {
  int64_t issuer_id;
  char serial[CA_SERIAL_HEX_LEN];
  uint8_t cert_id[CA_OCSP_CERT_ID_MAX];
  size_t cert_id_len;
  uint8_t signer[CA_OCSP_SIGNER_LEN];
  // The status the answer states, as the certificate's row had it.
  int revoked;
  int64_t revoked_at;
  int reason;
  int64_t produced_at;
  int64_t next_update;
  uint8_t *der;  // OPENSSL_malloc'd; see ca_ocsp_stored_clear
  size_t der_len;
} ca_ocsp_stored;

// ca_ocsp_stored_clear frees |s->der| and sets it to NULL.
void ca_ocsp_stored_clear(ca_ocsp_stored *s);

// ca_store_ocsp_lookup reads the state of the certificate |serial| of
// |issuer_id| (|*out_found| says whether it exists) and, in the same
// statement, the answer stored for the CertID |cert_id| signed by |signer|
// that was produced after |produced_after| and states the status the row
// has now. When there is one, |*out_has_answer| is 1 and |out_answer->der|
// holds it (the caller frees it with ca_ocsp_stored_clear).
int ca_store_ocsp_lookup(ca_store *store, int64_t issuer_id, const char *serial,
                         const uint8_t *cert_id, size_t cert_id_len,
                         const uint8_t signer[CA_OCSP_SIGNER_LEN],
                         int64_t produced_after, ca_cert_state *out_state,
                         int *out_found, ca_ocsp_stored *out_answer,
                         int *out_has_answer) CA_MUST_CHECK;

// ca_store_ocsp_put stores the |n| answers of |answers|, each only if its
// certificate's row still has the status it states and it is newer than
// what is stored for its CertID and signer. It is a cache write: committed
// without waiting for the disk (synchronous_commit off), since an answer
// lost in a crash is signed again on request.
int ca_store_ocsp_put(ca_store *store, const ca_ocsp_stored *answers,
                      size_t n) CA_MUST_CHECK;

// ca_store_ocsp_renew_fn signs |answer| again for the certificate's status
// now (given in it) at |now|, replacing |answer->der|, |produced_at| and
// |next_update|. It returns 0 to leave the answer as it is.
typedef int (*ca_store_ocsp_renew_fn)(void *arg, ca_ocsp_stored *answer,
                                      int64_t now);

// ca_store_ocsp_renew renews up to |max| answers of |signer| produced
// before |produced_before| — the oldest first, each with its certificate's
// status now — in one transaction. Rows another node is renewing are
// skipped (FOR UPDATE SKIP LOCKED), so nodes sharing a signer never sign
// the same answer twice. Answers of certificates expired by |now| are
// deleted. |*out_renewed| counts the answers written.
int ca_store_ocsp_renew(ca_store *store,
                        const uint8_t signer[CA_OCSP_SIGNER_LEN],
                        int64_t produced_before, int64_t now, size_t max,
                        ca_store_ocsp_renew_fn renew, void *arg,
                        size_t *out_renewed) CA_MUST_CHECK;

// ca_store_ocsp_count sets |*out| to the number of stored answers.
int ca_store_ocsp_count(ca_store *store, int64_t *out) CA_MUST_CHECK;

#endif  // PKI_CA_STORE_OCSP_H
