// Publishing CRLs: one writer per CA across every node sharing the database.
//
// A revocation commits without a CRL (revoke.h) and queues its CA in
// crl_pending. Each pkid runs a writer thread that, for every CA whose key
// it holds, takes the CA's CRL lock (ca_store_tx_lock_crl: an advisory lock
// of the transaction, so a node killed while holding it loses it with its
// connection) without waiting; the node that gets it makes ONE new CRL
// covering every change queued so far, when
//   - changes are queued and the stored CRL's thisUpdate is at least the
//     interval (pkid --crl-interval) old: CRLs of a CA are at least that
//     far apart, however many revocations arrive; or
//   - there is no CRL yet, or half of its validity has passed, or its
//     nextUpdate has come.
// A node that does not get the lock leaves the CA to the node that has it.
// The thread is woken by the node's own revocations and by the NOTIFY of
// other nodes' (ca_crl_writer_wake), and checks every interval anyway, so
// that no node is needed in particular. CRL numbers come from the stored
// CRL under the same lock, so they strictly increase (RFC 5280 5.2.3), also
// for a CA's first CRL and across --issued imports.
//
// With pkid --crl-shards N a CA has N shard CRLs besides its CA-wide one
// (ca/x509/crl_dp.h), each with its own CRL numbers, thisUpdate and queue
// of changes (crl_pending_shards, filled by a trigger of the revocations
// table), published by the same pass under the same lock. A change is due
// at the interval in the CRL its certificate names: its shard's, or for a
// certificate without a shard (crl_shard NULL: issued before sharding, or
// imported) the CA-wide CRL. The CA-wide CRL also lists every change of
// the CA's shards, but those make it due only at the wide interval (pkid
// --crl-wide-interval, at least the interval): its size grows with the
// whole CA, and rebuilding it every interval would cost as much as all the
// shards together. Other shards are made new only when half their
// validity has passed.
#ifndef PKI_CA_CRL_WRITER_H
#define PKI_CA_CRL_WRITER_H

#include <stdint.h>

#include "ca/error.h"
#include "ca/issue/authority.h"
#include "ca/store/store.h"

// How long a CRL is valid, and when a fresh one is made without a change:
// once half of that has passed (readers get a CRL with plenty of time left).
#define CA_CRL_DEFAULT_VALIDITY_SECONDS (7 * 86400)

// The least time between two CRLs of a CA (pkid --crl-interval).
#define CA_CRL_DEFAULT_INTERVAL_SECONDS 1

// With shards, the least time between two CA-wide CRLs for changes that
// the shards' CRLs carry (pkid --crl-wide-interval).
#define CA_CRL_DEFAULT_WIDE_INTERVAL_SECONDS 60

// What a revocation's |crl_due_at| adds to the interval: the writer's own
// latency (a wake-up, reading the revoked rows, signing, storing).
#define CA_CRL_WRITER_SLACK_SECONDS 2

// ca_crl_due_at returns when a change committed at |now| is in the CRL its
// certificate names (its shard's, or the CA-wide one without a shard), for
// the interval |interval_s| (0: the default).
int64_t ca_crl_due_at(int64_t now, int64_t interval_s);

// ca_crl_publish_tx makes and stores, in |tx|, a new CRL of |issuer| with
// the next CRL number, or |min_number| when that is higher (the number
// another pki reached for the same CA: an --issued import), listing its
// revoked certificates as |tx| sees them, and clears the CA's queued
// changes that CRL covers. It waits for the CA's CRL lock. |out| may be
// NULL; else it receives the CRL's number and times (|out->der| is NULL:
// the CRL is streamed into the store, never held). It returns 0 with the
// store's or the signer's error.
int ca_crl_publish_tx(const ca_issuer *issuer, ca_store_tx *tx, int64_t now,
                      int64_t validity_s, uint64_t min_number,
                      ca_crl_row *out) CA_MUST_CHECK;

// ca_crl_current returns the current CRL of |issuer| (|out->der|, free with
// OPENSSL_free). It publishes one first when there is none, when the
// stored one is past half its validity, or when a change has waited longer
// than |interval_s| plus CA_CRL_WRITER_SLACK_SECONDS (no writer got to it:
// the answer always lists every change older than that). With the
// authority's crl_shards above 1, it is ca_crl_current_shard for shard 0
// with the default wide interval.
int ca_crl_current(const ca_authority *authority, ca_store *store,
                   const ca_issuer *issuer, int64_t validity_s,
                   int64_t interval_s, ca_crl_row *out) CA_MUST_CHECK;

// ca_crl_current_shard is ca_crl_current for the CRL of |shard| (0: the
// CA-wide CRL), which the writer publishes as it does the CA-wide one. A
// shard above the authority's crl_shards that never had a CRL is
// CA_ERR_NOT_FOUND. With shards, the CA-wide CRL is published first when a
// change of a certificate without a shard has waited longer than
// |interval_s|, or any change longer than |wide_interval_s| (0: the
// default), each plus CA_CRL_WRITER_SLACK_SECONDS: the rule of the writer,
// so that a reader under a stream of revocations never rebuilds it sooner.
int ca_crl_current_shard(const ca_authority *authority, ca_store *store,
                         const ca_issuer *issuer, unsigned shard,
                         int64_t validity_s, int64_t interval_s,
                         int64_t wide_interval_s,
                         ca_crl_row *out) CA_MUST_CHECK;

// What one pass of a writer did for a CA.
typedef struct ca_crl_pass {
  int busy;                   // another transaction held the CA's CRL lock
  uint64_t published;         // the number of the CA-wide CRL made; 0 when none
  unsigned shards_published;  // how many shard CRLs it made
  int64_t retry_at;           // when this CA may need a CRL next (Unix seconds)
  int64_t open_at;            // when a change queued now could be published
} ca_crl_pass;

// ca_crl_refresh is one pass of the writer for |issuer| at time |now|, in
// a transaction of its own, for its CA-wide CRL and the shards that have a
// CRL already; see the top of this file. It knows of no --crl-shards: every
// change makes the CA-wide CRL due at |interval_s|.
int ca_crl_refresh(ca_store *store, const ca_issuer *issuer, int64_t validity_s,
                   int64_t interval_s, int64_t now,
                   ca_crl_pass *out) CA_MUST_CHECK;

typedef struct ca_crl_writer ca_crl_writer;

typedef struct ca_crl_writer_config {
  int64_t validity_s;  // 0: CA_CRL_DEFAULT_VALIDITY_SECONDS
  int64_t interval_s;  // 0: CA_CRL_DEFAULT_INTERVAL_SECONDS
  // With shards, for the CA-wide CRL (see the top of this file); 0:
  // CA_CRL_DEFAULT_WIDE_INTERVAL_SECONDS; never less than |interval_s|.
  int64_t wide_interval_s;
  // Called from the writer's thread after each CRL it publishes, and after
  // each failed pass (|error| set, |number| 0); may be NULL.
  void (*on_event)(void *arg, const ca_issuer *issuer, uint64_t number,
                   const ca_err *error);
  void *arg;
} ca_crl_writer_config;

// ca_crl_writer_start starts the writer thread for the CAs of |authority|
// whose keys are loaded. |authority| and |store| must outlive it. It
// returns 0 with CA_ERR_INTERNAL or CA_ERR_NO_MEMORY.
int ca_crl_writer_start(const ca_authority *authority, ca_store *store,
                        const ca_crl_writer_config *config,
                        ca_crl_writer **out) CA_MUST_CHECK;

// ca_crl_writer_wake tells the writer that a change was committed (here or,
// heard by NOTIFY, on another node). Cheap; any thread; accepts NULL.
void ca_crl_writer_wake(ca_crl_writer *writer);

// ca_crl_writer_stop stops and frees the writer. Accepts NULL.
void ca_crl_writer_stop(ca_crl_writer *writer);

#endif  // PKI_CA_CRL_WRITER_H
