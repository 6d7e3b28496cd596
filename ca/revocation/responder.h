// The OCSP responder (RFC 6960, with the RFC 5019 lightweight profile):
// from request bytes to signed response bytes.
//
// DESIGN
//
// Answers: a CertID is matched against every CA pki holds, by SHA-1 or
// SHA-256 of the CA's name and key. A CertID of another issuer makes the
// whole response `unauthorized`; so does a request mixing CAs (one response
// has one signer). For pki's CAs: `revoked` (time and reason) or `good` for
// what the database holds, `unknown` for a serial the CA never issued —
// never `good` for it, and never `unknown` for one it did (Common Criteria
// peers fail on both revoked and unknown).
//
// Cache: a request for one certificate without a nonce is answered from a
// response signed earlier (RFC 5019), kept until half its validity has
// passed. A revocation drops the certificate's entry on the node that took
// it at once (ca_responder_forget), and on every other node when its
// listener hears the NOTIFY (ca/store/listener.h). Cached `unknown` answers are
// dropped whenever any node issues (ca_responder_forget_unknown), so a
// serial issued a moment ago is never still `unknown`. A request with a
// nonce is signed live and never cached.
//
// Deafness: the cache is only as good as the notifications that prune it.
// While the listener cannot hear them (ca_responder_set_listening(0), the
// state a new responder starts in), every answer is read from the database
// afresh; only when the database cannot be read either does a cached
// answer stand in for tryLater — no node can revoke without the database,
// and RFC 5019 responders serve pre-signed answers for that very case.
// Hearing again empties the cache, since what was missed is unknown.
//
// Shared answers: the cache above is this process's. Behind it, every
// cacheable answer a node signs is also kept in PostgreSQL
// (ca/store/store_ocsp.h), where every node reads it with the status on a
// miss: a node that starts, or whose cache was emptied, serves what was
// signed before instead of signing every answer again. A stored answer is
// served only while the certificate's row states what it states (the read
// compares them; a trigger deletes the answers of a row that changes), and
// only until half its validity, like a cached one. Signed answers are
// handed to the store, and stored ones renewed before they go stale, by a
// background task (ca/revocation/presign.h).
//
// Threads: ca_responder_answer is called from many HTTP threads at once;
// the cache takes a read-write lock, the signing happens outside it.
#ifndef PKI_CA_RESPONDER_H
#define PKI_CA_RESPONDER_H

#include <openssl/base.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/issue/authority.h"
#include "ca/store/store.h"
#include "ca/store/store_ocsp.h"

// The validity of a response (nextUpdate - thisUpdate): the CA/Browser
// Forum baseline (4.9.10) asks for at least 8 hours and at most 10 days.
#define CA_OCSP_MIN_VALIDITY_S (8 * 3600)
#define CA_OCSP_MAX_VALIDITY_S (10 * 86400)
#define CA_OCSP_DEFAULT_VALIDITY_S 86400

typedef struct ca_responder ca_responder;

typedef struct ca_responder_config {
  int64_t validity_s;    // nextUpdate - thisUpdate
  size_t cache_entries;  // responses kept at most (known statuses)
} ca_responder_config;

void ca_responder_config_init(ca_responder_config *config);

// ca_responder_new makes a responder for the CAs of |authority|, reading
// statuses from |store|; both are borrowed. Every CA signs its own
// responses until ca_responder_set_delegate says otherwise.
int ca_responder_new(const ca_authority *authority, ca_store *store,
                     const ca_responder_config *config,
                     ca_responder **out) CA_MUST_CHECK;

void ca_responder_free(ca_responder *responder);

// ca_responder_set_delegate makes |issuer| answer through a delegated
// responder: |key| (taken: freed by the responder) and its certificate
// |cert| (copied), issued by |issuer| with id-kp-OCSPSigning. A NULL |key|
// goes back to the CA signing. Cached responses of that CA are dropped.
int ca_responder_set_delegate(ca_responder *responder, const ca_issuer *issuer,
                              EVP_PKEY *key, const uint8_t *cert,
                              size_t cert_len) CA_MUST_CHECK;

typedef struct ca_ocsp_answer {
  uint8_t *der;  // OPENSSL_malloc'd; the caller frees it
  size_t der_len;
  int cacheable;  // a pre-signed (or now cached) response without nonce
  int64_t produced_at;
  int64_t next_update;
  char etag[20];  // "\"16 hex digits\"" of the response, when cacheable
} ca_ocsp_answer;

// ca_responder_answer answers the DER OCSPRequest |req|. Every outcome is an
// OCSP response (malformedRequest, unauthorized, tryLater when the database
// cannot be read); it returns 0 only when out of memory.
int ca_responder_answer(ca_responder *responder, const uint8_t *req,
                        size_t req_len, ca_ocsp_answer *out) CA_MUST_CHECK;

// ca_responder_set_listening records whether the notifications of other
// nodes are being heard (ca/store/listener.h on_state). Turning it on empties
// the cache.
void ca_responder_set_listening(ca_responder *responder, int listening);

// ca_responder_forget drops what is cached of the certificate |serial_hex|
// of the CA whose database id is |issuer_id| (a revocation or release).
void ca_responder_forget(ca_responder *responder, int64_t issuer_id,
                         const char *serial_hex);

// ca_responder_forget_unknown drops every cached `unknown` answer.
void ca_responder_forget_unknown(ca_responder *responder);

// ca_responder_forget_all empties the cache (after missed notifications).
void ca_responder_forget_all(ca_responder *responder);

typedef struct ca_responder_stats {
  uint64_t hits;
  uint64_t misses;
  uint64_t live;    // signed for a nonce or several CertIDs
  uint64_t shared;  // misses answered by a stored (pre-signed) answer
  size_t cached;
} ca_responder_stats;

void ca_responder_get_stats(ca_responder *responder, ca_responder_stats *out);

// --- Pre-signed answers shared by the nodes (ca/store/store_ocsp.h) ---

// ca_responder_take_signed hands over the cacheable answers this responder
// signed since the last call, for the shared store, and sets |*out| to them
// (free with ca_responder_signed_free). It returns their number.
size_t ca_responder_take_signed(ca_responder *responder, ca_ocsp_stored **out);

void ca_responder_signed_free(ca_ocsp_stored *answers, size_t n);

// ca_responder_renew signs again, for the statuses the certificates have
// now, up to |max| stored answers per CA that this responder's signers made
// and that are past 40% of their validity (readers stop taking them at
// half), and sets |*out_renewed| to how many it wrote.
int ca_responder_renew(ca_responder *responder, int64_t now, size_t max,
                       size_t *out_renewed) CA_MUST_CHECK;

#endif  // PKI_CA_RESPONDER_H
