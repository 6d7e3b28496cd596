// Group commit of single revocations.
//
// A revocation is durable when its transaction commits, and a commit waits
// for the disk (fdatasync of the WAL, milliseconds): one transaction per
// revocation caps a node at a few hundred revocations a second whatever the
// CPU. Callers submit their revocation and are called back: the group's
// committer thread commits every queued revocation in ONE transaction with
// ca_revoke_batch, while the next ones queue behind it. The transaction
// holds each certificate's row, one audit row per revocation (its own actor
// and source), one NOTIFY per revocation and a crl_pending row per CA
// touched, as ca_revoke. Each revocation gets its own result: an unknown,
// ambiguous or already revoked serial fails alone, the others commit. A
// storage failure fails every revocation of that transaction (none of them
// is written).
//
// The committer is a thread of its own so that no caller waits for the
// disk: an HTTP thread that led or waited for a commit could serve none of
// its other connections meanwhile, and revocations sent on the connections
// one thread served were committed one at a time. When recent transactions
// carried several revocations, the committer waits up to 2 ms for as many
// to queue before it commits (revoke_group.c, gather); a lone revocation
// is committed at once.
#ifndef PKI_CA_REVOKE_GROUP_H
#define PKI_CA_REVOKE_GROUP_H

#include <stddef.h>

#include "ca/error.h"
#include "ca/revocation/revoke.h"

// Revocations in one transaction at most, when max_items is 0.
#define CA_REVOKE_GROUP_DEFAULT_ITEMS 256

typedef struct ca_revoke_group ca_revoke_group;

// ca_revoke_done is called once for each submitted revocation, on the
// committer thread, once the transaction carrying it committed (|committed|
// 1: the result is final, and its err.code says whether this revocation
// was refused) or failed (0: |err| says why; nothing of it was written).
// It must not block: the next transaction waits for it.
typedef void (*ca_revoke_done)(void *arg, int committed, const ca_err *err);

// ca_revoke_group_new makes a group committer over |authority| and |store|
// (borrowed: they outlive it) and starts its thread. |max_items| bounds the
// revocations of one transaction (0: CA_REVOKE_GROUP_DEFAULT_ITEMS). The
// caller frees |*out| with ca_revoke_group_free. It returns 0 with
// CA_ERR_NO_MEMORY or CA_ERR_INTERNAL.
int ca_revoke_group_new(const ca_authority *authority, ca_store *store,
                        size_t max_items, ca_revoke_group **out) CA_MUST_CHECK;

// ca_revoke_group_submit queues |request| (ca_revoke's arguments, results
// and errors: revoke.h) for the next transaction; |done|(|arg|, ...) is
// called when it is decided, with |*out| filled. |request|, the strings it
// points to and |out| must stay valid until then. Two revocations naming
// the same serial are never in one transaction: the second sees what the
// first did, as if they had come one after the other. It returns 0, and
// |done| is never called, with CA_ERR_PARAMETER_INVALID (no serial),
// ca_serial_from_hex's error, CA_ERR_NO_MEMORY or CA_ERR_SHUTTING_DOWN
// (ca_revoke_group_stop was called).
int ca_revoke_group_submit(ca_revoke_group *g, const ca_revocation *request,
                           ca_revocation_result *out, ca_revoke_done done,
                           void *arg) CA_MUST_CHECK;

// ca_revoke_group_stop refuses new submissions, commits every one queued,
// calls each back, and stops the thread. Calling it again does nothing.
void ca_revoke_group_stop(ca_revoke_group *g);

// ca_revoke_group_free stops |g| (ca_revoke_group_stop) and frees it
// (NULL: nothing).
void ca_revoke_group_free(ca_revoke_group *g);

#endif  // PKI_CA_REVOKE_GROUP_H
