// The system of record: PostgreSQL holds the CAs, every issued certificate
// and the audit log (ARCHITECTURE.md, "Storage").
//
// A ca_store is a fixed pool of connections shared by all threads. Each call
// borrows a connection for its duration; a transaction (ca_store_tx) holds
// one until it commits or rolls back. Connection failures surface as
// CA_ERR_STORAGE_UNAVAILABLE and the broken connection is re-established on
// its next use.
#ifndef PKI_CA_STORE_H
#define PKI_CA_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/policy/trust.h"
#include "ca/x509/csr.h"
#include "ca/x509/serial.h"

typedef struct ca_store ca_store;
typedef struct ca_store_tx ca_store_tx;

// Row types have one word, "row". A type named ca_*_row is what a read
// returns: its strings are owned and freed with its _free or _cleanup
// function. A type named ca_new_*_row is what a write takes: a row that does
// not exist yet (no id, no creation time), whose pointers are borrowed from
// the caller and never freed by the store. "new" says both at the call
// site, where a bare "record" said neither. ca_issuer_row is read, and
// written once when the CAs of a new installation are made.

// ca_store_open connects |pool_size| connections to |conninfo| (a libpq URL
// or key=value string). It returns 0 with CA_ERR_STORAGE_UNAVAILABLE when the
// database cannot be reached; on success the caller frees |*out| with
// ca_store_free.
int ca_store_open(const char *conninfo, size_t pool_size,
                  ca_store **out) CA_MUST_CHECK;

// ca_store_free closes every connection. It accepts NULL. No call may be in
// progress.
void ca_store_free(ca_store *store);

// ca_store_migrate applies, in order, each migration of migrations/ not yet
// recorded in schema_migrations, under an advisory lock so that several
// nodes may start at once. Each migration runs in its own transaction.
int ca_store_migrate(ca_store *store) CA_MUST_CHECK;

// ca_store_ping returns 1 when the database answers a trivial query.
int ca_store_ping(ca_store *store) CA_MUST_CHECK;

// --- When the database is unreachable ---
//
// A connection found broken is re-established when the pool next lends it.
// When such an attempt fails, the store marks the database unreachable:
// from then on every connection made before is suspect, and a request that
// needs a connection fails at once with CA_ERR_STORAGE_UNAVAILABLE instead
// of trying to connect, except for one attempt at a time, the first after
// CA_LIMIT_DB_RETRY_MIN_MS, then after waits doubling up to
// CA_LIMIT_DB_RETRY_MAX_MS (shared by the whole pool, so a burst of
// requests never makes a burst of connection attempts). The first attempt
// that succeeds marks the database reachable again and resets the wait;
// the other connections are then re-established as they are lent.

// A ca_store_state_fn learns that the database became unreachable (|up| 0,
// |detail| libpq's message) or reachable again (|up| 1, |detail| ""). It
// is called once per change, in order, with the pool's lock held: it must
// return quickly and must not call the store.
typedef void (*ca_store_state_fn)(void *arg, int up, const char *detail);

// ca_store_set_state_callback sets the callback of state changes (NULL for
// none). Call it before the store is shared between threads.
void ca_store_set_state_callback(ca_store *store, ca_store_state_fn fn,
                                 void *arg);

// --- Issuers (pki's own CAs) ---

typedef struct ca_issuer_row {
  int64_t id;
  char *name;
  char *role;       // "root" or "issuing"
  char *algorithm;  // "RSA-2048", "EC-P256", ...
  char *parent;     // name of the signing CA; NULL for a root
  char *subject;
  char *serial;
  int64_t not_before;
  int64_t not_after;
  uint8_t *der;
  size_t der_len;
  char *key_file;
} ca_issuer_row;

// ca_issuer_row_cleanup frees what |row| owns and zeroes it.
void ca_issuer_row_cleanup(ca_issuer_row *row);

// ca_issuer_rows_free frees |n| rows and the array. Accepts NULL.
void ca_issuer_rows_free(ca_issuer_row *rows, size_t n);

// A callback that creates the CAs of a new installation: it sets |*out| to a
// malloc'd array of |*out_n| rows (ids and parent ids unset; parents
// before children) that the store inserts and then frees with
// ca_issuer_rows_free. It returns 1 or 0 (with a ca_err set).
typedef int (*ca_issuer_generator)(void *arg, ca_issuer_row **out,
                                   size_t *out_n);

// ca_store_bootstrap_issuers returns every issuer in |*out| (|*out_n| of
// them, parents first; the caller frees them with ca_issuer_rows_free).
// When there are none, it calls |generate| and stores what it made, all in
// one transaction under an advisory lock: of several nodes starting on an
// empty database exactly one creates the CAs and the others read them.
int ca_store_bootstrap_issuers(ca_store *store, ca_issuer_generator generate,
                               void *arg, ca_issuer_row **out,
                               size_t *out_n) CA_MUST_CHECK;

// --- Certificates ---

// One issued certificate to record. Borrowed pointers; nothing is freed.
typedef struct ca_new_cert_row {
  int64_t issuer_id;
  const char *serial;  // lower-case hex magnitude
  const char *profile;
  const char *subject;
  const char *common_name;
  const char *const *sans;  // "DNS:..." / "IP:..."
  size_t san_count;
  ca_key_type key_type;
  unsigned key_bits;
  int64_t not_before;
  int64_t not_after;
  const uint8_t *der;
  size_t der_len;
  const char *requester;
  const uint8_t *csr_sha256;  // 32 bytes, or NULL
  int key_generated;          // pki made the key (POST /v1/keys:generate)
  const char *cluster;        // the cluster of the node holding it, or NULL
  // A self-signed identity has no pki CA above it: |issuer_id| is 0 and it
  // is inserted with ca_store_tx_insert_certificates only.
  int self_signed;
  int64_t replaces_id;  // the certificate this one replaced (:regenerate), 0
  unsigned crl_shard;   // its CRL shard (ca/x509/crl_dp.h); 0 for none
} ca_new_cert_row;

// ca_store_begin starts a transaction on a connection of the pool, waiting
// for one to be free. The caller ends it with ca_store_commit or
// ca_store_rollback, which free |*out|.
int ca_store_begin(ca_store *store, ca_store_tx **out) CA_MUST_CHECK;

// ca_store_tx_insert_certificates inserts |n| rows. A row whose
// (issuer, serial) already exists is not inserted and its entry of
// |out_collided| is set to 1 (0 for the others): the caller draws a new
// serial and inserts it again in the same transaction. Any other failure
// returns 0 with CA_ERR_STORAGE_UNAVAILABLE and leaves the transaction
// failed (only rollback remains).
int ca_store_tx_insert_certificates(ca_store_tx *tx,
                                    const ca_new_cert_row *records, size_t n,
                                    uint8_t *out_collided) CA_MUST_CHECK;

// ca_store_tx_copy_certificates inserts |n| rows with COPY in the binary
// format: several times cheaper for PostgreSQL than INSERT, but all or
// nothing. When a (serial, issuer) exists already it returns 0 with
// CA_ERR_CONFLICT, and the transaction is failed: roll back and insert with
// ca_store_tx_insert_certificates, which reports collisions row by row. Any
// other failure is CA_ERR_STORAGE_UNAVAILABLE.
int ca_store_tx_copy_certificates(ca_store_tx *tx,
                                  const ca_new_cert_row *records,
                                  size_t n) CA_MUST_CHECK;

// One row of the audit log. Borrowed strings.
typedef struct ca_new_audit_row {
  const char *actor;
  const char *action;
  const char *object;
  const char *source;
  const char *outcome;
  const char *detail;
} ca_new_audit_row;

// ca_store_tx_audit appends one row to the audit log.
int ca_store_tx_audit(ca_store_tx *tx, const char *actor, const char *action,
                      const char *object, const char *source,
                      const char *outcome, const char *detail) CA_MUST_CHECK;

// ca_store_tx_audit_many appends |n| rows in one statement (at most
// CA_LIMIT_INSERT_ROWS per statement).
int ca_store_tx_audit_many(ca_store_tx *tx, const ca_new_audit_row *rows,
                           size_t n) CA_MUST_CHECK;

// ca_store_begin_large is ca_store_begin on the one connection of the pool
// kept for transactions that carry a CRL (revocations, CRL publication).
// Such transactions take turns on it, and the issuance of other requests
// never waits behind a CRL being rebuilt. A CRL travels through it as a
// stream (ca/store/store_crl.h): its buffers stay small.
int ca_store_begin_large(ca_store *store, ca_store_tx **out) CA_MUST_CHECK;

// ca_store_commit commits and frees |*tx|, and sets |*tx| to NULL whether
// or not the commit succeeds, so that the caller's cleanup path may call
// ca_store_rollback on it unconditionally. It returns 1 only when the
// commit is durable; on 0 (CA_ERR_STORAGE_UNAVAILABLE) nothing of the
// transaction was stored.
int ca_store_commit(ca_store_tx **tx) CA_MUST_CHECK;

// ca_store_commit_audited appends |n| audit rows, notifies |channel| with
// |payload| and commits, as ca_store_tx_audit_many, ca_store_tx_notify and
// ca_store_commit would, but in one round trip to the server (libpq's
// pipeline mode): a group commit waits for one answer instead of three. A
// failing statement stops the rest, COMMIT included, and the transaction is
// rolled back. |*tx| is consumed and set to NULL, and the return value
// means what ca_store_commit's does.
int ca_store_commit_audited(ca_store_tx **tx, const ca_new_audit_row *rows,
                            size_t n, const char *channel,
                            const char *payload) CA_MUST_CHECK;

// ca_store_rollback abandons and frees |tx|. It accepts NULL.
void ca_store_rollback(ca_store_tx *tx);

// A certificate as stored: an identity certificate (one pki issued or
// self-signed) or, in listings that ask for them, a trust-store entry.
// Every string is owned; free with ca_cert_rows_free.
typedef struct ca_cert_row {
  int64_t id;
  int trust;  // a trust-store entry (then |id| is its id in trust_entries)
  // A registered identity pki did not issue (then |id| is its id in
  // identities, |profile| its purpose, |issuer| its issuer's DN).
  int external;
  char *serial;
  char *issuer;   // CA name; "" when self-signed; a trust entry's issuer DN
  char *profile;  // a trust entry's purpose ("" unless from a bulk import)
  char *subject;
  char *common_name;
  char **sans;
  size_t san_count;
  char *key_type;
  unsigned key_bits;
  int64_t not_before;
  int64_t not_after;
  char *status;
  char *requester;  // who asked for it, or who added the trust entry
  int64_t created_at;
  int key_generated;
  int self_signed;
  int64_t revoked_at;                              // 0 unless revoked
  int revocation_reason;                           // CRLReason when revoked
  char *store;                                     // a trust entry's store; ""
  char *cluster;                                   // "" when unknown
  char fingerprint[CA_TRUST_FINGERPRINT_HEX_LEN];  // SHA-256 of the DER
  uint8_t *der;
  size_t der_len;
  char *node;  // external: the node it is registered for; trust: a bulk
               // entry's node; else "" (NULL in rows not from a find)
  // Trust entries and registered identities: pki's revocation check (good,
  // revoked, unknown, unreachable, anchor, unchecked); pki's own: |status|.
  // NULL in rows not from a find.
  char *revocation;
} ca_cert_row;

// ca_cert_rows_free frees |n| rows and the array. Accepts NULL.
void ca_cert_rows_free(ca_cert_row *rows, size_t n);

// ca_cert_row_usage returns "identity", "trust" or "external" (static).
const char *ca_cert_row_usage(const ca_cert_row *row);

// Which certificates a listing covers.
typedef enum ca_cert_usage {
  CA_USAGE_ALL = 0,
  CA_USAGE_IDENTITY,  // certificates pki issued or self-signed
  CA_USAGE_TRUST,     // trust-store entries
  CA_USAGE_EXTERNAL,  // registered identities pki did not issue
} ca_cert_usage;

// Where a page of a listing ends: rows sort by (notAfter, kind, id), kind
// 0 for identity certificates, 1 for trust entries and 2 for registered
// identities.
typedef struct ca_cert_cursor {
  int set;
  int64_t not_after;
  int kind;
  int64_t id;
} ca_cert_cursor;

// Filters of a listing; NULL or 0 fields do not filter. They combine.
typedef struct ca_cert_filter {
  ca_cert_usage usage;
  const char *profile;   // exact profile (a trust entry's purpose)
  const char *cn;        // case-insensitive substring of the common name
  const char *status;    // "good" or "revoked"
  const char *serial;    // exact serial (lower-case hex)
  const char *issuer;    // issuing CA name (identity certificates only)
  const char *key_type;  // "RSA" or "EC"
  unsigned key_bits;
  int64_t expires_before;  // notAfter earlier than this (Unix seconds)
  int64_t expires_after;   // notAfter at or after this
  const char *store;       // trust store (trust entries only)
  const char *cluster;
  // Revocation status: pki's check of trust entries and identities, the
  // status of pki's own certificates (only good and revoked match them).
  const char *revocation;
  ca_cert_cursor after;  // the end of the previous page
  size_t limit;          // at most this many rows (required)
  int with_der;          // fetch the DER too
} ca_cert_filter;

// ca_store_list_certificates returns the certificates matching |filter|,
// soonest expiry first. On success the caller frees |*out| with
// ca_cert_rows_free.
int ca_store_list_certificates(ca_store *store, const ca_cert_filter *filter,
                               ca_cert_row **out, size_t *out_n) CA_MUST_CHECK;

// ca_cert_cursor_format writes the cursor that follows |row| as text
// ("NOTAFTER.KIND.ID") into |out|.
void ca_cert_cursor_format(const ca_cert_row *row, char out[64]);

// ca_cert_cursor_parse reads a cursor written by ca_cert_cursor_format. It
// returns 0 with CA_ERR_PARAMETER_INVALID.
int ca_cert_cursor_parse(ca_cert_cursor *out, const char *text) CA_MUST_CHECK;

// --- Revocation ---

// What the revocation and OCSP code need of a certificate's row.
typedef struct ca_cert_state {
  int64_t id;
  int64_t issuer_id;
  int revoked;         // status = 'revoked'
  int64_t revoked_at;  // when revoked
  int reason;          // CRLReason when revoked
  int64_t not_before;
  int64_t not_after;
} ca_cert_state;

// ca_store_tx_lock_certificate finds the certificate |serial| (lower-case
// hex) of the issuer |issuer_id| (0: any issuer) and locks its row until
// the transaction ends. |*out_matches| tells how many rows matched: 0 (it
// returns 1 and |out| is untouched), 1, or 2 and more (a serial under
// several CAs: |out| is the first).
int ca_store_tx_lock_certificate(ca_store_tx *tx, const char *serial,
                                 int64_t issuer_id, ca_cert_state *out,
                                 size_t *out_matches) CA_MUST_CHECK;

// ca_store_tx_set_revocation marks certificate |id| revoked at
// |revoked_at| for |reason| (its row in revocations, migration 0018), or
// good again when |revoked| is 0: then a |reason| other than 0 is the
// reason the certificate must still be revoked for (certificateHold for a
// release), else it fails with CA_ERR_CONFLICT and changes nothing.
int ca_store_tx_set_revocation(ca_store_tx *tx, int64_t id, int revoked,
                               int64_t revoked_at, int reason) CA_MUST_CHECK;

// ca_store_tx_next_crl_number takes the CRL lock of |issuer_id| (waiting
// for it; see ca_store_tx_lock_crl), locks its CRL row and returns the
// number the next CRL must carry (1 for the first). The lock exists before
// the row does, so two nodes making a CA's first CRL at once number them 1
// and 2 (RFC 5280 5.2.3).
int ca_store_tx_next_crl_number(ca_store_tx *tx, int64_t issuer_id,
                                uint64_t *out) CA_MUST_CHECK;

// ca_store_tx_lock_crl takes the CRL lock of |issuer_id|: a PostgreSQL
// advisory lock held until |tx| ends, so that one transaction at a time, on
// any node, makes a CRL of that CA; a node that dies while holding it
// loses its connection, and the lock with it. With |wait| 0 it does not
// wait: |*out_locked| is 0 when another transaction holds it.
int ca_store_tx_lock_crl(ca_store_tx *tx, int64_t issuer_id, int wait,
                         int *out_locked) CA_MUST_CHECK;

// What a CRL writer needs to know of a CA's CRL, read under its CRL lock.
typedef struct ca_crl_state {
  int found;  // a CRL is stored
  uint64_t number;
  int64_t this_update;
  int64_t next_update;
  int pending;            // changes wait for a CRL (crl_pending rows)
  int64_t pending_since;  // when the oldest of them was queued
} ca_crl_state;

// ca_store_tx_crl_state reads the state of |issuer_id|'s CRL.
int ca_store_tx_crl_state(ca_store_tx *tx, int64_t issuer_id,
                          ca_crl_state *out) CA_MUST_CHECK;

// ca_store_tx_queue_crl records, in the transaction of a change of
// revocation state, that |issuer_id| needs a new CRL.
int ca_store_tx_queue_crl(ca_store_tx *tx, int64_t issuer_id) CA_MUST_CHECK;

// ca_store_tx_take_pending deletes the crl_pending rows of |issuer_id| that
// |tx| sees. Called before the revoked certificates are read: every change
// whose row it deletes committed before that read, so the CRL lists it; a
// change committed later keeps its row for the next CRL.
int ca_store_tx_take_pending(ca_store_tx *tx, int64_t issuer_id) CA_MUST_CHECK;

// A certificate found by serial, with that serial (lower-case hex).
typedef struct ca_cert_match {
  char serial[CA_SERIAL_HEX_LEN];
  ca_cert_state state;
} ca_cert_match;

// ca_store_begin_revocations begins a transaction and reads in it the
// state of every certificate whose serial is one of the |n| |serials|
// (lower-case hex, as ca_serial_to_hex writes them), under any issuer, in
// the order of their ids, without locking them (ca_store_commit_revocations
// checks instead): one round trip (store_revoke.c). On success the caller owns
// |*out_tx| (commit it with ca_store_commit_revocations, or ca_store_rollback)
// and frees |*out| with free(); on failure nothing is left open.
int ca_store_begin_revocations(ca_store *store, const char *const *serials,
                               size_t n, ca_store_tx **out_tx,
                               ca_cert_match **out,
                               size_t *out_n) CA_MUST_CHECK;

// One revocation to record.
typedef struct ca_revocation_row {
  int64_t id;  // the certificate's
  int64_t revoked_at;
  int reason;
  int held;  // read on hold (certificateHold): its revocation is replaced
} ca_revocation_row;

// What a batch of revocations writes (every pointer borrowed): per
// revocation its row, its audit row (|action|, each with its own actor,
// source, object and detail, outcome "ok") and a NOTIFY on |channel| with
// its payload; per CA touched a crl_pending row.
typedef struct ca_revocation_writes {
  const ca_revocation_row *rows;
  const char *const *actors;
  const char *const *sources;
  const char *const *objects;
  const char *const *details;
  const char *const *payloads;
  size_t n;
  const int64_t *issuers;
  size_t n_issuers;
  const char *action;
  const char *channel;
  // Set to 1 when the commit failed because a concurrent change made the
  // rows differ from what was read (the batch may be decided again), else
  // 0. May be NULL.
  int *raced;
} ca_revocation_writes;

// ca_store_commit_revocations writes |w| and commits, in one round trip
// (libpq's pipeline mode). A failing statement stops the rest, COMMIT
// included, and the transaction is rolled back. |*tx| is consumed and set
// to NULL, and the return value means what ca_store_commit's does. |*tx|
// must be one ca_store_begin_revocations made (it keeps the certificates
// read); any other is rolled back, with CA_ERR_INTERNAL.
int ca_store_commit_revocations(ca_store_tx **tx,
                                const ca_revocation_writes *w) CA_MUST_CHECK;

// ca_store_tx_put_crl stores the current CRL of |issuer_id|.
int ca_store_tx_put_crl(ca_store_tx *tx, int64_t issuer_id, uint64_t number,
                        int64_t this_update, int64_t next_update,
                        const uint8_t *der, size_t der_len) CA_MUST_CHECK;

// ca_store_tx_notify sends a PostgreSQL NOTIFY on |channel| with |payload|,
// delivered to listeners when the transaction commits.
int ca_store_tx_notify(ca_store_tx *tx, const char *channel,
                       const char *payload) CA_MUST_CHECK;

// A stored CRL. |der| is OPENSSL_malloc'd.
typedef struct ca_crl_row {
  uint64_t number;
  int64_t this_update;
  int64_t next_update;
  uint8_t *der;
  size_t der_len;
} ca_crl_row;

// ca_store_get_crl reads the current CRL of |issuer_id|. It returns 1 with
// |*out_found| 0 when there is none yet.
int ca_store_get_crl(ca_store *store, int64_t issuer_id, ca_crl_row *out,
                     int *out_found) CA_MUST_CHECK;

// ca_store_certificate_state reads the state of |serial| under |issuer_id|
// without locking. |*out_found| is 0 when this issuer never issued it.
int ca_store_certificate_state(ca_store *store, int64_t issuer_id,
                               const char *serial, ca_cert_state *out,
                               int *out_found) CA_MUST_CHECK;

// --- Delegated OCSP responders ---

typedef struct ca_responder_row {
  uint8_t *der;  // the responder certificate (OPENSSL_malloc)
  size_t der_len;
  char *key_file;  // OPENSSL_malloc
  int64_t not_after;
} ca_responder_row;

void ca_responder_rows_free(ca_responder_row *rows, size_t n);

// ca_store_find_responders lists the responder certificates of |issuer_id|
// recorded for |node|, newest first. The caller frees |*out| with
// ca_responder_rows_free.
int ca_store_find_responders(ca_store *store, int64_t issuer_id,
                             const char *node, ca_responder_row **out,
                             size_t *out_n) CA_MUST_CHECK;

// ca_store_tx_add_responder records that the certificate (issuer |issuer_id|,
// serial |serial|, already inserted in |tx|) is |node|'s responder, its key
// in |key_file|.
int ca_store_tx_add_responder(ca_store_tx *tx, int64_t issuer_id,
                              const char *serial, const char *node,
                              const char *key_file) CA_MUST_CHECK;

// --- Trust stores ---

// What ca_store_tx_put_trust did with a certificate.
typedef enum ca_trust_outcome {
  CA_TRUST_ADDED,      // a new entry
  CA_TRUST_REPLACED,   // it replaced the entry of the same subject, whose
                       // notBefore was earlier
  CA_TRUST_UNCHANGED,  // this certificate was there already (its
                       // revocation state and origin are refreshed)
  CA_TRUST_KEPT,       // the store keeps its certificate of the same subject,
                       // whose notBefore is later or equal
} ca_trust_outcome;

// ca_trust_outcome_name returns "added", "replaced", "unchanged" or "kept".
const char *ca_trust_outcome_name(ca_trust_outcome outcome);

// A certificate to put in a store. Borrowed pointers.
typedef struct ca_trust_put {
  const char *store;  // canonical name (ca_trust_store_find)
  const ca_trust_cert *cert;
  const char *source;   // "upload" or "bulk"
  const char *cluster;  // bulk: the cluster, node and purpose; else NULL
  const char *node;
  const char *purpose;
  int64_t revoked_at;  // bulk: the revocation its CA recorded; 0 for none
  int revocation_reason;
  // The source says nothing of revocation (a PKCS#12 file): an entry that
  // is there already keeps the revocation state it has.
  int revocation_unknown;
  const char *added_by;
  // The operator's note (ca_trust_description_check). NULL for none: the
  // same certificate uploaded again then keeps its note; a new entry, or
  // one replacing another of its subject, has none.
  const char *description;
} ca_trust_put;

// ca_store_tx_put_trust stores |put->cert| in |put->store| under the rule of
// ARCHITECTURE.md: one certificate per subject, the later notBefore wins; the
// same certificate twice is one entry. It sets |*out| to what happened and, for
// CA_TRUST_REPLACED and CA_TRUST_KEPT, |out_other| (if not NULL) to the
// fingerprint of the other certificate of that subject.
int ca_store_tx_put_trust(
    ca_store_tx *tx, const ca_trust_put *put, ca_trust_outcome *out,
    uint8_t out_other[CA_TRUST_FINGERPRINT_LEN]) CA_MUST_CHECK;

// A trust-store entry as stored. Owned strings (OPENSSL_malloc); free with
// ca_trust_rows_free.
typedef struct ca_trust_row {
  int64_t id;
  char *store;
  uint8_t fingerprint[CA_TRUST_FINGERPRINT_LEN];
  char *subject;
  char *issuer;
  char *serial;
  char *common_name;
  char *key_type;
  unsigned key_bits;
  int is_ca;
  int64_t not_before;
  int64_t not_after;
  char *source;
  char *cluster;  // "" unless from a bulk import
  char *node;
  char *purpose;
  int64_t revoked_at;  // 0 unless revoked
  int revocation_reason;
  char *added_by;
  int64_t created_at;
  uint8_t *der;  // NULL unless asked for
  size_t der_len;
  char *description;  // "" when none was given
} ca_trust_row;

void ca_trust_rows_free(ca_trust_row *rows, size_t n);

// ca_store_list_trust returns the entries of |store| (NULL: every store),
// restricted to |fingerprint| when not NULL, in store then subject order, at
// most CA_LIMIT_TRUST_LIST of them. The caller frees |*out| with
// ca_trust_rows_free.
int ca_store_list_trust(ca_store *store, const char *trust_store,
                        const uint8_t *fingerprint, int with_der,
                        ca_trust_row **out, size_t *out_n) CA_MUST_CHECK;

// ca_store_tx_delete_trust removes the entry |fingerprint| of |trust_store|
// and sets |*out_found| to whether there was one.
int ca_store_tx_delete_trust(
    ca_store_tx *tx, const char *trust_store,
    const uint8_t fingerprint[CA_TRUST_FINGERPRINT_LEN],
    int *out_found) CA_MUST_CHECK;

// ca_store_identity_fingerprint sets |*out_found| to whether a certificate
// pki issued (or self-signed) has the SHA-256 fingerprint |fingerprint|.
int ca_store_identity_fingerprint(
    ca_store *store, const uint8_t fingerprint[CA_TRUST_FINGERPRINT_LEN],
    int *out_found) CA_MUST_CHECK;
// --- Self-signed identities ---

// What :regenerate needs of a certificate: enough to make its successor.
// Owned strings (OPENSSL_malloc); free with ca_self_signed_row_cleanup.
typedef struct ca_self_signed_row {
  int64_t id;
  int self_signed;  // 0: issued by one of pki's CAs
  char *profile;
  char *key_type;  // "RSA" or "EC"
  unsigned key_bits;
  char *cluster;  // NULL when none was given
  int64_t not_before;
  int64_t not_after;
  uint8_t *der;
  size_t der_len;
  char *replaced_by;  // serial of the certificate that replaced it, or NULL
} ca_self_signed_row;

// ca_self_signed_row_cleanup frees what |row| owns and zeroes it.
void ca_self_signed_row_cleanup(ca_self_signed_row *row);

// ca_store_tx_lock_for_regenerate finds the certificate |serial| (lower-case
// hex), the self-signed one when a CA issued the same serial too, and locks
// its row until the transaction ends, so that two regenerations of one
// certificate are serialised. |*out_found| is 0 when there is none (|out|
// untouched). On success with a row the caller cleans |out| up.
int ca_store_tx_lock_for_regenerate(ca_store_tx *tx, const char *serial,
                                    ca_self_signed_row *out,
                                    int *out_found) CA_MUST_CHECK;

#endif  // PKI_CA_STORE_H
