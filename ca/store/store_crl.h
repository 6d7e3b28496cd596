// The CRLs of ca/store/store.h by shard (pkid --crl-shards), and the
// streams that read a CRL's revoked certificates and write a CRL without
// ever holding either whole: pkid's memory and libpq's buffers stay the
// same size whatever the number of entries (ARCHITECTURE.md, "CRLs").
//
// Shard 0 is a CA's CA-wide CRL, listing all its revoked certificates;
// shard k >= 1 lists those whose certificates.crl_shard is k. The
// functions of store.h without a shard argument are those of shard 0.
#ifndef PKI_CA_STORE_CRL_H
#define PKI_CA_STORE_CRL_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/store/store.h"

// ca_store_tx_shard_crl_state is ca_store_tx_crl_state for |shard|: its
// pending changes are those queued for the shard (crl_pending_shards) for
// k >= 1, and for 0 every change of the CA (crl_pending, and
// crl_pending_shards' shard 0: see ca_crl_wide_pending).
int ca_store_tx_shard_crl_state(ca_store_tx *tx, int64_t issuer_id,
                                unsigned shard,
                                ca_crl_state *out) CA_MUST_CHECK;

// What waits for a CA's CA-wide CRL (shard 0), told apart by the CRL each
// change's certificate names: every change of the CA is queued in
// crl_pending (by the revocation's own statements), and one of a
// certificate without a shard (crl_shard NULL), which only the CA-wide CRL
// carries, also in crl_pending_shards as shard 0 (migration 0021's trigger).
// Times in Unix seconds.
typedef struct ca_crl_wide_pending {
  int any;            // some change waits (either queue)
  int64_t any_since;  // when the oldest was queued
  int own;            // a change of a certificate without a shard waits
  int64_t own_since;  // when the oldest of those was queued
} ca_crl_wide_pending;

// ca_store_tx_wide_crl_state is ca_store_tx_shard_crl_state for shard 0,
// with what waits for it told apart in |*pending|.
int ca_store_tx_wide_crl_state(ca_store_tx *tx, int64_t issuer_id,
                               ca_crl_state *out,
                               ca_crl_wide_pending *pending) CA_MUST_CHECK;

// ca_store_wide_pending is ca_store_tx_wide_crl_state's |*pending| read
// without a transaction, on any connection of the pool.
int ca_store_wide_pending(ca_store *store, int64_t issuer_id,
                          ca_crl_wide_pending *out) CA_MUST_CHECK;

// ca_store_tx_take_shard_pending is ca_store_tx_take_pending for |shard|;
// for 0 it takes both queues of the CA-wide CRL.
int ca_store_tx_take_shard_pending(ca_store_tx *tx, int64_t issuer_id,
                                   unsigned shard) CA_MUST_CHECK;

// ca_store_shard_pending_since reads, without a transaction, when the
// oldest change waiting for |issuer_id|'s CRL of |shard| (1 or more; the
// CA-wide CRL's: ca_store_wide_pending) was queued; |*out_found| is 0 when
// none waits.
int ca_store_shard_pending_since(ca_store *store, int64_t issuer_id,
                                 unsigned shard, int64_t *out_since,
                                 int *out_found) CA_MUST_CHECK;

// ca_store_tx_next_shard_crl_number is ca_store_tx_next_crl_number for
// |shard|: CRL numbers increase per (CA, shard).
int ca_store_tx_next_shard_crl_number(ca_store_tx *tx, int64_t issuer_id,
                                      unsigned shard,
                                      uint64_t *out) CA_MUST_CHECK;

// ca_store_tx_crl_top_shard sets |*out| to the highest shard of
// |issuer_id| that has a CRL or a change queued (0 when none): a shard
// keeps its CRL after pkid restarts with fewer shards, since certificates
// name it.
int ca_store_tx_crl_top_shard(ca_store_tx *tx, int64_t issuer_id,
                              unsigned *out) CA_MUST_CHECK;

// ca_store_get_shard_crl is ca_store_get_crl for |shard|, on any
// connection of the pool. The CRL is read in slices of CA_STORE_CRL_SLICE
// bytes; |out->der| is the whole CRL (OPENSSL_free).
int ca_store_get_shard_crl(ca_store *store, int64_t issuer_id, unsigned shard,
                           ca_crl_row *out, int *out_found) CA_MUST_CHECK;

// A slice fits in libpq's input buffer as a connection starts with it (16
// KiB), so that it never grows: libpq never shrinks it, and every pooled
// connection that once served a CRL would keep a larger one for good (the
// soak showed pkid's RSS rising a slice's size per connection).
#define CA_STORE_CRL_SLICE (12 * 1024)

// --- Reading the revoked certificates of a CRL ---

// One revoked certificate, for a CRL. |serial| is the lower-case hex of
// certificates.serial.
typedef struct ca_revoked_entry {
  char serial[CA_SERIAL_HEX_LEN];
  int64_t revoked_at;
  int reason;
} ca_revoked_entry;

// The revoked certificates are fetched this many at a time.
#define CA_STORE_CRL_FETCH 4096

typedef struct ca_revoked_stream ca_revoked_stream;

// ca_store_tx_revoked_open opens, in |tx|, a cursor over the revoked
// certificates of |issuer_id| in |shard| (every one for 0) that have not
// expired by |now| (RFC 5280 5.1.2.6 lets a CRL drop them). The cursor sees
// the rows as they were when it was opened, on every pass: the two passes
// of a CRL (ca/revocation/crl.h) read the same entries. In the order the
// revocations table stores them (no sort: X.509 lists revokedCertificates
// in no particular order). Free with ca_revoked_stream_close
// before |tx| ends. The next rows are read ahead while the caller handles
// the last ones; any other statement of |tx| made through the store's
// transaction functions first waits for the rows in flight, which stay
// held for the stream.
int ca_store_tx_revoked_open(ca_store_tx *tx, int64_t issuer_id, unsigned shard,
                             int64_t now,
                             ca_revoked_stream **out) CA_MUST_CHECK;

// ca_revoked_stream_next reads up to |cap| entries into |out|; |*out_n| is
// 0 at the end.
int ca_revoked_stream_next(ca_revoked_stream *s, ca_revoked_entry *out,
                           size_t cap, size_t *out_n) CA_MUST_CHECK;

// ca_revoked_stream_measure sets |*out_n| to the number of entries the
// stream lists and |*out_len| to the octets of their DER encodings in a CRL
// (SEQUENCE { serialNumber, revocationDate, [reasonCode unless 0] }, as
// ca/revocation/crl.c writes them), computed by PostgreSQL without sending
// them. It reads its own snapshot, not the cursor's: a change committed
// between the two makes them differ, which the CRL's writer detects.
int ca_revoked_stream_measure(ca_revoked_stream *s, size_t *out_n,
                              size_t *out_len) CA_MUST_CHECK;

// ca_revoked_stream_rewind starts the entries again from the first.
int ca_revoked_stream_rewind(ca_revoked_stream *s) CA_MUST_CHECK;

// ca_revoked_stream_close closes the cursor and frees |s|. Accepts NULL.
void ca_revoked_stream_close(ca_revoked_stream *s);

// --- Writing a CRL ---

typedef struct ca_crl_put ca_crl_put;

// ca_store_tx_crl_put_begin starts replacing, in |tx|, the CRL of
// |issuer_id|'s |shard| by one of |der_len| bytes, which follow with
// ca_crl_put_write in pieces of any size (each is sent at once and stored
// as it is, a part of the CRL: nothing of the CRL is held in memory or
// copied, and other statements of |tx|, such as the cursor's FETCH, may
// run between them). The caller holds the CA's CRL
// lock and got |number| from ca_store_tx_next_shard_crl_number.
int ca_store_tx_crl_put_begin(ca_store_tx *tx, int64_t issuer_id,
                              unsigned shard, uint64_t number,
                              int64_t this_update, int64_t next_update,
                              size_t der_len, ca_crl_put **out) CA_MUST_CHECK;

// ca_crl_put_write sends the next |len| bytes of the CRL.
int ca_crl_put_write(ca_crl_put *p, const uint8_t *data,
                     size_t len) CA_MUST_CHECK;

// ca_crl_put_finish checks that every byte announced was sent, stores the
// CRL's head, deletes the parts of the CRL it replaces and frees |p|,
// whatever the outcome. With |abandon| set it only
// frees |p| and returns 0 (the caller rolls back).
int ca_crl_put_finish(ca_crl_put *p, int abandon) CA_MUST_CHECK;

#endif  // PKI_CA_STORE_CRL_H
