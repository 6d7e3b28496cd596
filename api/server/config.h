// pkid's command line.
#ifndef PKI_API_CONFIG_H
#define PKI_API_CONFIG_H

#include "api/server/revcheck.h"
#include "ca/issue/authority.h"
#include "ca/issue/engine.h"
#include "ca/issue/keypool.h"
#include "ca/revocation/responder.h"

#define PKID_RSA1024_MAX 8

// --- Limits --- (ca/limits.h gives each default, range and reason)
typedef struct pkid_limits {
  size_t max_body_bytes;          // --max-body-bytes
  size_t max_batch_items;         // --max-batch-items
  size_t max_csr_bytes;           // --max-csr-bytes
  size_t max_sans;                // --max-sans
  size_t max_connections;         // --max-connections, per listener
  size_t max_connections_per_ip;  // --max-connections-per-ip; 0: none
  size_t connection_timeout_s;    // --connection-timeout (idle)
  size_t request_timeout_s;       // --request-timeout (whole request)
  size_t max_header_bytes;        // --max-header-bytes
  size_t max_buffered_bytes;      // --max-buffered-bytes, per listener
} pkid_limits;

typedef struct pkid_config {
  const char *data_dir;
  const char *database;
  const char *listen;
  const char *ocsp_listen;
  const char *ocsp_url;  // NULL: derived from ocsp_listen
  const char *ready_file;
  unsigned http_threads;
  unsigned db_connections;
  ca_engine_config engine;
  ca_keypool_config keypool;
  ca_responder_config responder;
  unsigned crl_validity_days;
  unsigned crl_interval_s;       // --crl-interval
  unsigned crl_wide_interval_s;  // --crl-wide-interval, >= crl_interval_s
  unsigned ocsp_responder_days;
  const char *ocsp_signer;  // "ca", "delegated" or "NAME=MODE,..."
  char node[64];
  const char *cluster;  // --cluster; NULL when not said
  ca_authority_config authority;
  char ocsp_url_buf[300];
  // --- Expiry monitor ---
  int monitor_off;                 // --monitor off
  unsigned monitor_first_check_s;  // --monitor-first-check
  // --- Certificate statistics ---
  unsigned stats_interval_s;  // --stats-interval; 0: on request only
  // --- Revocation checks of trusted certificates ---
  api_revcheck_config revcheck;  // --revcheck-*
  // --- Encrypted CA keys ---
  const char *key_passphrase_file;  // --key-passphrase-file; NULL if absent
  // --- TLS of the API listener ---
  const char *tls_cert;  // --tls-cert; NULL: self-issued
  const char *tls_key;   // --tls-key
  unsigned tls_days;     // --tls-days
  int insecure_http;     // --insecure-http
  // --- Limits ---
  pkid_limits limits;
} pkid_config;

// pkid_config_delegates returns 1 when the CA named |ca| signs its OCSP
// responses through a delegated responder (--ocsp-signer).
int pkid_config_delegates(const pkid_config *config, const char *ca);

// pkid_config_parse fills |config| from |argv|. It returns 1 to run, 0 after
// printing help or version (exit 0), or -1 after printing an error (exit 2).
int pkid_config_parse(pkid_config *config, int argc, char **argv);

// pkid_token_main runs "pkid token create ..." (|argv|[0] is "token") and
// returns the exit status: 0, 1 when the database refused, 2 for usage.
int pkid_token_main(int argc, char **argv);

#endif  // PKI_API_CONFIG_H
