// Group commit of single revocations.
//
// A revocation is durable when its transaction commits, and a commit waits
// for the disk (fdatasync of the WAL, milliseconds): one transaction per
// revocation caps a node at a few hundred revocations a second whatever the
// CPU. Concurrent callers of ca_revoke_grouped are queued, and one of them
// (the leader) commits every queued revocation in ONE transaction with
// ca_revoke_batch, while the next callers queue behind it: the transaction
// holds each certificate's row, one audit row per revocation (its own
// actor and source), one NOTIFY per revocation and a crl_pending row per
// CA touched, as ca_revoke. Each caller returns only after the transaction
// carrying its revocation committed, with its own result: an unknown,
// ambiguous or already revoked serial fails alone, the others commit. A
// storage failure fails every revocation of that transaction (none of them
// is written).
//
// No thread of its own: the first caller to find no transaction in flight
// leads, so a lone revocation costs what ca_revoke costs. When recent
// transactions carried several callers, a leader waits up to 2 ms for as
// many to queue before it commits (revoke_group.c, gather).
#ifndef PKI_CA_REVOKE_GROUP_H
#define PKI_CA_REVOKE_GROUP_H

#include <stddef.h>

#include "ca/error.h"
#include "ca/revocation/revoke.h"

// Revocations in one transaction at most, when max_items is 0.
#define CA_REVOKE_GROUP_DEFAULT_ITEMS 256

typedef struct ca_revoke_group ca_revoke_group;

// ca_revoke_group_new makes a group committer over |authority| and |store|
// (borrowed: they outlive it). |max_items| bounds the revocations of one
// transaction (0: CA_REVOKE_GROUP_DEFAULT_ITEMS). The caller frees |*out|
// with ca_revoke_group_free. It returns 0 with CA_ERR_NO_MEMORY or
// CA_ERR_INTERNAL.
int ca_revoke_group_new(const ca_authority *authority, ca_store *store,
                        size_t max_items, ca_revoke_group **out) CA_MUST_CHECK;

// ca_revoke_group_free frees |g| (NULL: nothing); no caller may be inside
// ca_revoke_grouped.
void ca_revoke_group_free(ca_revoke_group *g);

// ca_revoke_grouped is ca_revoke (revoke.h: same arguments, results and
// errors), committed together with the concurrent callers' revocations.
// Two callers naming the same serial are never in one transaction: the
// second sees what the first did, as if they had come one after the other.
int ca_revoke_grouped(ca_revoke_group *g, const ca_revocation *request,
                      ca_revocation_result *out) CA_MUST_CHECK;

#endif  // PKI_CA_REVOKE_GROUP_H
