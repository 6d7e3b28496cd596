// The certificate statistics snapshot in PostgreSQL (migration 0017):
// counts by CA, profile and status and the expiry counts of /metrics,
// computed by one node at a time (README.md, "Certificate statistics") and
// read by every node, so that no read of them scans the certificates.
//
// A computation is: ca_store_stats_claim (under an advisory lock: at most
// one node holds the claim, and only when the last snapshot is older than
// the interval), the expiry counts (ca_store_monitor_counts), then
// ca_store_stats_save, which counts by CA, profile and status and writes the
// snapshot in one transaction; ca_store_stats_release drops a claim whose
// computation failed.
#ifndef PKI_CA_STORE_STATS_H
#define PKI_CA_STORE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/store/store.h"
#include "ca/store/store_monitor.h"

// Groups (kind, issuer, profile, status) a snapshot holds at most: CAs x
// profiles x 3 statuses, far below it.
#define CA_STATS_MAX_GROUPS 10000
// The longest issuer and profile names kept (longer ones are cut).
#define CA_STATS_NAME_LEN 128

// One group of the snapshot.
typedef struct ca_stats_count {
  char kind[16];  // "issued" or "external" (registered identities)
  // The issuing CA's name; "" for self-signed certificates and for
  // registered identities.
  char issuer[CA_STATS_NAME_LEN + 1];
  char profile[CA_STATS_NAME_LEN + 1];  // an identity's purpose
  char status[16];                      // "good", "revoked", "expired"
  uint64_t count;
  // Good ones whose notAfter falls within 1, 7, 30 days of computed_at.
  uint64_t within_1d, within_7d, within_30d;
} ca_stats_count;

// A snapshot as read back. |counts| is owned: free it with ca_stats_free.
typedef struct ca_stats {
  int computed;         // 0: no snapshot yet (the rest is zero)
  int64_t computed_at;  // epoch seconds: the counts are as of then
  int64_t age_s;        // the database's clock less computed_at
  int64_t duration_ms;  // how long the computation took
  uint64_t refreshes;   // snapshots computed since the table was made
  char computed_by[64];
  ca_expiry_counts expiry;  // what /metrics serves (store_monitor.h)
  ca_stats_count *counts;   // ordered by kind, issuer, profile, status
  size_t n_counts;
} ca_stats;

// ca_stats_free frees what ca_store_stats_read put in |stats|.
void ca_stats_free(ca_stats *stats);

// ca_store_stats_claim claims the next computation for |node| when no other
// node holds a live claim and, unless |force|, the last snapshot ended at
// least |interval_s| seconds ago (by the database's clock). It sets
// |*out_claimed|, and |*out_wait_s| to the seconds until the next one is
// due when not claimed (0 when another node is computing). Two nodes never
// both hold the claim: it is taken under a transaction-scoped advisory
// lock, as the CRL writer's. With |force| and another node computing it
// returns 0 with CA_ERR_CONFLICT.
int ca_store_stats_claim(ca_store *store, const char *node, int64_t interval_s,
                         int force, int *out_claimed,
                         int64_t *out_wait_s) CA_MUST_CHECK;

// ca_store_stats_save counts the certificates and registered identities by
// kind, issuer, profile and status as of |now| (the one statement that
// reads them), and writes the snapshot with |expiry|, |now| as computed_at
// and |duration_ms| plus the counting's own time, in one transaction, if
// |node| still holds the claim (else CA_ERR_CONFLICT, nothing written). It
// releases the claim and sets |*out_duration_ms| to the whole duration.
int ca_store_stats_save(ca_store *store, const char *node, int64_t now,
                        const ca_expiry_counts *expiry, int64_t duration_ms,
                        int64_t *out_duration_ms) CA_MUST_CHECK;

// ca_store_stats_release drops |node|'s claim (its computation failed).
// Failures are ignored: the claim lapses after ten minutes anyway.
void ca_store_stats_release(ca_store *store, const char *node);

// ca_store_stats_read reads the snapshot, header and counts, in one
// statement (one consistent view). Reads the small snapshot tables only.
int ca_store_stats_read(ca_store *store, ca_stats *out) CA_MUST_CHECK;

#endif  // PKI_CA_STORE_STATS_H
