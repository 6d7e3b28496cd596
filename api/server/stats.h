// The certificate statistics job of pkid (README.md, "Certificate
// statistics"): a background thread that, every --stats-interval seconds and
// once at start, computes the snapshot of ca/store/store_stats.h when it is
// due and no other node is computing it. Every node reads the one snapshot
// from the database (GET /v1/stats, /metrics).
#ifndef PKI_API_STATS_H
#define PKI_API_STATS_H

#include <stdint.h>

#include "ca/error.h"
#include "ca/store/store.h"

typedef struct api_stats api_stats;

// api_stats_new returns the job on |store| for the node |node| (recorded as
// the snapshot's computed_by), every |interval_s| seconds (0: only on
// POST /v1/stats:refresh), with no thread yet; NULL when out of memory. Free
// it with api_stats_free.
api_stats *api_stats_new(ca_store *store, const char *node,
                         unsigned interval_s);

// api_stats_start starts the thread when the interval is not 0; its first
// attempt is at once. It returns 0 with CA_ERR_INTERNAL when the thread
// cannot start.
int api_stats_start(api_stats *stats) CA_MUST_CHECK;

// api_stats_refresh computes the snapshot now if it is due (or always, with
// |force|) and no other node is computing it, and sets |*out_computed| to
// whether this call computed it. With |force| and another node computing it
// returns 0 with CA_ERR_CONFLICT; a database failure is
// CA_ERR_STORAGE_UNAVAILABLE.
int api_stats_refresh(api_stats *stats, int force,
                      int *out_computed) CA_MUST_CHECK;

// api_stats_free stops the thread, waiting for a computation in progress to
// end, and frees |stats|. It accepts NULL.
void api_stats_free(api_stats *stats);

#endif  // PKI_API_STATS_H
