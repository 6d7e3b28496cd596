// Counters exported on GET /metrics in the Prometheus text format.
#ifndef PKI_API_METRICS_H
#define PKI_API_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/bytestring.h>

#include "api/server/budget.h"
#include "ca/error.h"
#include "ca/issue/engine.h"
#include "ca/issue/keypool.h"
#include "ca/revocation/responder.h"
#include "ca/store/store_stats.h"

typedef struct api_metrics {
  atomic_uint_fast64_t issued;  // certificates returned to clients
  atomic_uint_fast64_t refused[CA_ERR_COUNT];  // refusals by error code
  atomic_uint_fast64_t batches;                // issuance requests processed
  atomic_uint_fast64_t storage_failures;       // batches lost to the database
  atomic_uint_fast64_t ocsp_requests;          // OCSP requests answered
} api_metrics;

// api_metrics_refused counts one refusal of |code|.
void api_metrics_refused(api_metrics *m, ca_err_code code);

// api_metrics_render writes the metrics, with the engine's counters
// |engine| (may be NULL), in the text format into a new buffer |*out|
// (OPENSSL_free). It returns 0 when out of memory.
int api_metrics_render(api_metrics *m, const ca_engine_stats *engine,
                       const ca_keypool_stats *keypool, int database_up,
                       uint8_t **out, size_t *out_len);

// api_metrics_add_budgets appends the request bodies the API listener
// (|api|) and the OCSP listener (|ocsp|) hold, at most and in all, their
// limit and the requests they refused (503 BUFFERS_FULL). It returns 0
// when out of memory.
int api_metrics_add_budgets(CBB *cbb, api_budget *api, api_budget *ocsp);

// api_metrics_add_ocsp appends the OCSP responder's answers by where they
// came from (its cache, the shared pre-signed answers, a signature) and the
// entries cached. It returns 0 when out of memory.
int api_metrics_add_ocsp(CBB *cbb, const ca_responder_stats *stats);

// api_metrics_add_stats appends the gauges served from the statistics
// snapshot |stats| (ca/store/store_stats.h), never from the certificates:
// the expiry counts (pki_certificates_expiring, pki_certificates_expired and
// their pki_external_ twins, as the expiry monitor counts them), the counts
// by kind, CA, profile and status (pki_stats_certificates), the snapshot's
// age and how long its computation took. Without a snapshot yet, only
// pki_stats_computed 0. It returns 0 when out of memory.
int api_metrics_add_stats(CBB *cbb, const ca_stats *stats);

#endif  // PKI_API_METRICS_H
