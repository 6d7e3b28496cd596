// What every handler of pkid shares: the CAs, the store, the metrics.
#ifndef PKI_API_SERVICE_H
#define PKI_API_SERVICE_H

#include "api/server/http.h"
#include "api/server/metrics.h"
#include "ca/issue/authority.h"
#include "ca/issue/engine.h"
#include "ca/revocation/responder.h"
#include "ca/store/store.h"

struct api_service {
  ca_authority *authority;  // read-only once serving
  ca_store *store;          // thread-safe pool
  ca_engine *engine;        // signs and records issuances
  ca_keypool *keypool;      // keys ready for POST /v1/keys:generate
  ca_responder *responder;  // the OCSP responder
  int64_t crl_validity_s;   // nextUpdate - thisUpdate of the CRLs
  api_metrics metrics;      // atomic counters
  // pkid --cluster: the cluster of certificates issued without one, and
  // the default of bulk export and import; NULL when not said.
  const char *cluster;
  // --- Expiry monitor ---
  struct api_monitor
      *monitor;  // checks and their counters (api/server/monitor.h)
  // --- Certificate statistics ---
  struct api_stats *stats;  // the snapshot's job (api/server/stats.h)
  // --- Revocation checks of trusted certificates ---
  struct api_revcheck *revcheck;  // api/server/revcheck.h
  // --- Access ---
  struct api_auth *auth;  // token cache and allowlist (api/server/auth.h)
  const char *data_dir;   // where the first admin token is written
  // --- Limits ---
  // Items of one batch at most (pkid --max-batch-items); 0:
  // CA_LIMIT_BATCH_ITEMS.
  size_t max_batch_items;
  // The request bodies each listener holds (--max-buffered-bytes), given
  // to the servers and read by /metrics.
  api_budget api_bodies;
  api_budget ocsp_bodies;
  // --- CRLs ---
  // --crl-interval: the least time between two CRLs of a CA.
  int64_t crl_interval_s;
  // --crl-wide-interval: with shards, the least time between two CA-wide
  // CRLs for changes the shards' CRLs carry.
  int64_t crl_wide_interval_s;
  // Publishes the CRLs (ca/revocation/crl_writer.h).
  struct ca_crl_writer *crl_writer;
  // Commits concurrent single revocations together
  // (ca/revocation/revoke_group.h); every :revoke goes through it.
  struct ca_revoke_group *revoke_group;
};

#endif  // PKI_API_SERVICE_H
