// pkid: the pki daemon.
//
// DESIGN: the main thread starts everything, then waits for SIGINT or
// SIGTERM with sigtimedwait; those signals are blocked in every thread (the
// mask is set before any thread starts and inherited), so no handler runs
// asynchronously. The wait times out every second for the summaries of
// rate-limited log lines (api/server/log.h); every hour the main thread also
// renews the delegated OCSP responder certificates that need it. On a signal
// both HTTP listeners stop accepting, the engine drains (everything queued is
// signed, recorded and answered: a batch is either committed and answered or
// answered with an error), the answers go out, and then everything is freed.
//
// The other threads: libmicrohttpd's for the API and for OCSP (decode,
// answer), the engine's signing workers and its writer (ca/issue/engine.h), the
// key pool's filler (ca/issue/keypool.h), and the database listener that tells
// this node's OCSP responder what other nodes revoked or issued
// (ca/store/listener.h). The expiry monitor's thread (api/server/monitor.h)
// checks the certificates' expiry on its schedule unless --monitor off.
// The statistics job (api/server/stats.h) computes the certificate counts
// every --stats-interval, one node of the database at a time.
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <openssl/mem.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/server/auth.h"
#include "api/server/config.h"
#include "api/server/files.h"
#include "api/server/handlers/handlers.h"
#include "api/server/handlers/limits.h"
#include "api/server/http.h"
#include "api/server/log.h"
#include "api/server/monitor.h"
#include "api/server/revcheck.h"
#include "api/server/service.h"
#include "api/server/stats.h"
#include "api/server/tls.h"
#include "api/server/tls_identity.h"
#include "ca/limits.h"
#include "ca/revocation/ocsp_delegate.h"
#include "ca/revocation/presign.h"
#include "ca/revocation/revoke.h"
#include "ca/revocation/revoke_group.h"
#include "ca/store/listener.h"
#include "ca/store/store_access.h"
#include "ca/x509/key.h"
#include "ca/x509/pem.h"

// How often the main thread looks after the delegated responders.
#define MAINTENANCE_INTERVAL_S 3600

static int64_t monotonic_s(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
    return 0;
  }
  return (int64_t)ts.tv_sec;
}

static void host_of(const char *listen, char *out, size_t len) {
  const char *colon = strrchr(listen, ':');
  size_t n = colon != NULL ? (size_t)(colon - listen) : strlen(listen);
  if (n >= len) {
    n = len - 1;
  }
  memcpy(out, listen, n);
  out[n] = '\0';
}

static int write_ready_file(const pkid_config *config, unsigned api_port,
                            unsigned ocsp_port) {
  char api_host[256], ocsp_host[256], tmp[4096];
  host_of(config->listen, api_host, sizeof(api_host));
  host_of(config->ocsp_listen, ocsp_host, sizeof(ocsp_host));
  snprintf(tmp, sizeof(tmp), "%s.tmp", config->ready_file);
  FILE *f = fopen(tmp, "w");
  if (f == NULL) {
    return 0;
  }
  fprintf(f, "api=%s:%u\nocsp=%s:%u\n", api_host, api_port, ocsp_host,
          ocsp_port);
  // Renamed into place so a reader never sees a half-written file.
  return fclose(f) == 0 && rename(tmp, config->ready_file) == 0;
}

// --- What other nodes tell us (ca/store/listener.h) ---

// The revocations heard in one drain of the listener (listener thread
// only): a batch revocation sends one NOTIFY per certificate, and the
// cached client-certificate principals are dropped once at the start of a
// drain and once at its end rather than once per notification.
static size_t revocations_heard;

static void on_notify(void *arg, const char *channel, const char *payload) {
  api_service *svc = arg;
  if (strcmp(channel, CA_ACCESS_CHANNEL) == 0) {
    // A token was revoked or the allowlist changed on some node.
    api_auth_invalidate(svc->auth);
  } else if (strcmp(channel, CA_REVOCATION_CHANNEL) == 0) {
    // A revoked client certificate must stop working at once: the cached
    // principals of client certificates are dropped at the first
    // revocation of a drain and again once the drain is over (on_drained),
    // not once per notification. Cached tokens stay (auth.h).
    if (revocations_heard++ == 0) {
      api_auth_forget_certificates(svc->auth);
    }
    // "ISSUER_ID:SERIAL": the responder drops that certificate's answers
    // (one bucket of its cache).
    const char *colon = strchr(payload, ':');
    if (colon != NULL) {
      ca_responder_forget(svc->responder, strtoll(payload, NULL, 10),
                          colon + 1);
    }
  } else if (strcmp(channel, CA_ISSUED_CHANNEL) == 0) {
    ca_responder_forget_unknown(svc->responder);
  }
}

// on_drained finishes what on_notify started for the notifications that
// arrived together.
static void on_drained(void *arg) {
  api_service *svc = arg;
  if (revocations_heard == 0) {
    return;
  }
  if (revocations_heard > 1) {
    api_auth_forget_certificates(svc->auth);
  }
  revocations_heard = 0;
  // Whichever node holds a CA's CRL lock publishes the changes.
  ca_crl_writer_wake(svc->crl_writer);
}

// on_crl logs the CRL writer's failures (ca/revocation/crl_writer.h); a
// published CRL is no news.
static void on_crl(void *arg, const ca_issuer *issuer, uint64_t number,
                   const ca_err *error) {
  (void)arg;
  (void)number;
  if (error != NULL) {
    api_log_limited("CRL writer", API_LOG_ERROR, "publishing the CRL of %s: %s",
                    issuer->name, error->message);
  }
}

static void on_state(void *arg, int listening) {
  // Called by the listener thread only (and once before it starts).
  static int lost;
  if (!listening) {
    api_log(API_LOG_WARN,
            "lost the database notifications: OCSP answers are read from "
            "the database until they are back");
  } else if (lost) {
    api_log(API_LOG_INFO, "database notifications are back");
  }
  lost = !listening;
  ca_responder_set_listening(((api_service *)arg)->responder, listening);
}

// on_store_state logs the database becoming unreachable and reachable
// again, once each (ca/store/store.h: called in order, under the pool's lock).
static void on_store_state(void *arg, int up, const char *detail) {
  (void)arg;
  static time_t down_at;
  if (!up) {
    down_at = time(NULL);
    api_log(API_LOG_ERROR,
            "database unreachable: %s; requests fail with STORAGE_UNAVAILABLE "
            "(503) while pkid reconnects, waiting %d ms doubling to %d ms",
            detail, CA_LIMIT_DB_RETRY_MIN_MS, CA_LIMIT_DB_RETRY_MAX_MS);
  } else {
    api_log(API_LOG_INFO, "database reachable again after %lld s; serving",
            (long long)(time(NULL) - down_at));
  }
}

// ensure_delegates gives every CA configured for delegated OCSP signing a
// fresh responder certificate of this node.
static int ensure_delegates(const pkid_config *config, api_service *svc) {
  int ok = 1;
  for (size_t i = 0; i < svc->authority->count; i++) {
    const ca_issuer *ca = &svc->authority->issuers[i];
    if (!pkid_config_delegates(config, ca->name)) {
      continue;
    }
    ca_ocsp_delegate d;
    if (!ca_ocsp_delegate_ensure(svc->authority, svc->store, ca,
                                 config->data_dir, config->node,
                                 config->ocsp_responder_days,
                                 config->authority.key_passphrase, &d)) {
      api_log(API_LOG_ERROR, "OCSP responder for %s: %s", ca->name,
              ca_err_get()->message);
      ok = 0;
      continue;
    }
    if (d.issued) {
      api_log(API_LOG_INFO, "issued a delegated OCSP responder for %s",
              ca->name);
    }
    // The responder takes the key; the certificate is copied.
    EVP_PKEY *key = d.key;
    d.key = NULL;
    if (!ca_responder_set_delegate(svc->responder, ca, key, d.cert,
                                   d.cert_len)) {
      api_log(API_LOG_ERROR, "OCSP responder for %s: %s", ca->name,
              ca_err_get()->message);
      ok = 0;
    }
    ca_ocsp_delegate_cleanup(&d);
  }
  return ok;
}

// load_key_passphrase reads the CA key passphrase from
// --key-passphrase-file or, without the flag, the environment variable
// PKI_KEY_PASSPHRASE into |*out| (NULL when neither is given; freed with
// ca_key_passphrase_free). The variable is removed from the environment
// once copied, so that no child process inherits it. An empty passphrase is
// refused with CA_ERR_CONFIG: it would encrypt nothing.
static int load_key_passphrase(const pkid_config *config, char **out) {
  *out = NULL;
  if (config->key_passphrase_file != NULL) {
    return ca_key_passphrase_read_file(config->key_passphrase_file, out);
  }
  const char *env = getenv("PKI_KEY_PASSPHRASE");
  if (env == NULL) {
    return 1;
  }
  const size_t len = strlen(env);
  CA_ENSURE_RETURN(len > 0, CA_ERR_CONFIG, "PKI_KEY_PASSPHRASE is empty");
  CA_ENSURE_RETURN(len <= CA_LIMIT_KEY_PASSPHRASE_BYTES, CA_ERR_CONFIG,
                   "PKI_KEY_PASSPHRASE is longer than %d bytes",
                   CA_LIMIT_KEY_PASSPHRASE_BYTES);
  *out = OPENSSL_strdup(env);
  CA_ENSURE_ALLOC_RETURN(*out);
  OPENSSL_cleanse((char *)env, len);
  unsetenv("PKI_KEY_PASSPHRASE");
  return 1;
}

// tls_names fills the names of the self-issued API certificate: the host
// name (its CN, when it is a plain DNS name), localhost and 127.0.0.1.
static void tls_names(api_tls_identity_config *c, char host[256]) {
  c->n_names = 0;
  if (gethostname(host, 255) != 0) {
    host[0] = '\0';
  }
  host[255] = '\0';
  size_t n = strlen(host);
  int plain = n > 0 && n <= 63 && strcmp(host, "localhost") != 0;
  for (size_t i = 0; plain && i < n; i++) {
    const char ch = host[i];
    plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || ch == '-' || ch == '.';
  }
  if (plain) {
    c->names[c->n_names++] = host;
  }
  c->names[c->n_names++] = "localhost";
  c->names[c->n_names++] = "127.0.0.1";
}

// ensure_tls serves the API's certificate: --tls-cert/--tls-key, or the
// one pki issues to itself (made or renewed now when needed).
static int ensure_tls(const pkid_config *config, api_service *svc) {
  if (config->tls_cert != NULL) {
    return api_tls_identity_load_files(config->tls_cert, config->tls_key,
                                       config->authority.key_passphrase);
  }
  char host[256];
  api_tls_identity_config c = {
      .data_dir = config->data_dir,
      .node = config->node,
      .organization = config->authority.organization,
      .days = config->tls_days,
      .passphrase = config->authority.key_passphrase,
  };
  tls_names(&c, host);
  int issued = 0;
  CA_GUARD_RETURN(api_tls_identity_ensure(svc->engine, &c, &issued));
  if (issued) {
    api_log(API_LOG_INFO,
            "issued the API's TLS certificate (%u days); clients trust "
            "%s/tls/ca.pem",
            config->tls_days, config->data_dir);
  }
  return 1;
}

// client_cas returns the PEM of every CA of |authority|, the names a TLS
// client is offered to pick its certificate by (OPENSSL_free), or NULL.
static char *client_cas(const ca_authority *authority) {
  CBB cbb;
  uint8_t *pem = NULL;
  size_t len;
  if (!CBB_init(&cbb, 8192)) {
    return NULL;
  }
  for (size_t i = 0; i < authority->count; i++) {
    if (!ca_pem_add(&cbb, "CERTIFICATE", authority->issuers[i].der,
                    authority->issuers[i].der_len)) {
      CBB_cleanup(&cbb);
      return NULL;
    }
  }
  if (!CBB_add_u8(&cbb, 0) || !CBB_finish(&cbb, &pem, &len)) {
    CBB_cleanup(&cbb);
    return NULL;
  }
  return (char *)pem;
}

// first_admin_token makes the first admin token when the database has
// never had one and writes it to DATA_DIR/admin.token (0600), so that the
// operator who started pkid can call it. stdout names that file; the token
// itself is printed only when stdout is a terminal: a file or a pipe (a
// service's journal, a redirect) keeps it for whoever reads it later,
// without the file's mode.
static int first_admin_token(const pkid_config *config, api_service *svc) {
  char token[CA_TOKEN_LEN + 1], path[4096], line[CA_TOKEN_LEN + 2], actor[96];
  char shown[PATH_MAX];
  int created = 0;
  snprintf(actor, sizeof(actor), "pkid@%s", config->node);
  CA_GUARD_RETURN(ca_store_token_first_admin(svc->store, "initial-admin", actor,
                                             token, &created));
  if (!created) {
    return 1;
  }
  snprintf(path, sizeof(path), "%s/admin.token", config->data_dir);
  snprintf(line, sizeof(line), "%s\n", token);
  const int written = api_write_file_atomic(path, line, strlen(line), 0600);
  OPENSSL_cleanse(line, sizeof(line));
  const int terminal = isatty(STDOUT_FILENO);
  if (!written) {
    // The database holds the token now, so no later start makes another:
    // a terminal still gets it; otherwise `pkid token create` is the way.
    if (terminal) {
      printf("pkid: first start: admin token %s (%s could not be written)\n",
             token, path);
      (void)fflush(stdout);
    }
    OPENSSL_cleanse(token, sizeof(token));
    api_log(API_LOG_ERROR,
            "the first admin token could not be written to %s; make one with "
            "pkid token create --role admin",
            path);
    return 0;
  }
  // The absolute path, so that it can be used from any directory.
  if (realpath(path, shown) == NULL) {
    snprintf(shown, sizeof(shown), "%s", path);
  }
  if (terminal) {
    printf("pkid: first start: admin token %s (also in %s, mode 0600)\n", token,
           shown);
  } else {
    printf("pkid: first start: admin token written to %s (mode 0600)\n", shown);
  }
  OPENSSL_cleanse(token, sizeof(token));
  if (fflush(stdout) != 0) {
    api_log(API_LOG_WARN, "cannot write to stdout: %s", strerror(errno));
  }
  api_log(API_LOG_INFO,
          "first start: an admin token was made and written to %s (mode "
          "0600)%s; make others with pkictl token create",
          shown,
          terminal ? ", and printed above"
                   : "; not printed, since stdout is not a terminal");
  return 1;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "token") == 0) {
    return pkid_token_main(argc - 1, argv + 1);
  }
  // glibc raises its mmap threshold each time a large block is freed, after
  // which blocks of CRL and result size come from the heaps of the HTTP
  // threads and stay there when freed: a fixed threshold keeps every block
  // over 64 KiB mapped on its own and returned when freed, so that pkid's
  // memory follows what it holds, not the largest CRL it once built.
  (void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  pkid_config config;
  const int parsed = pkid_config_parse(&config, argc, argv);
  if (parsed <= 0) {
    return parsed == 0 ? 0 : 2;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, NULL);
  signal(SIGPIPE, SIG_IGN);

  api_service svc;
  memset(&svc, 0, sizeof(svc));
  svc.crl_validity_s = (int64_t)config.crl_validity_days * 86400;
  svc.crl_interval_s = config.crl_interval_s;
  svc.crl_wide_interval_s = config.crl_wide_interval_s;
  svc.cluster = config.cluster;
  svc.data_dir = config.data_dir;
  api_server *server = NULL, *ocsp_server = NULL;
  ca_listener *listener = NULL;
  ca_presigner *presigner = NULL;
  char *tls_cas = NULL;
  svc.max_batch_items = config.limits.max_batch_items;
  api_budget_init(&svc.api_bodies, config.limits.max_buffered_bytes);
  api_budget_init(&svc.ocsp_bodies, config.limits.max_buffered_bytes);
  api_route *limited_routes = NULL;  // the route table with --max-* applied
  int rc = 1;
  // The key passphrase stays in memory for pkid's life: the hourly renewal
  // of delegated OCSP responders writes new encrypted keys. It is cleansed
  // on exit.
  char *passphrase = NULL;
  if (!load_key_passphrase(&config, &passphrase)) {
    api_log(API_LOG_ERROR, "%s", ca_err_get()->message);
    goto done;
  }
  config.authority.key_passphrase = passphrase;
  if (!ca_store_open(config.database, config.db_connections, &svc.store) ||
      !ca_store_migrate(svc.store)) {
    api_log(API_LOG_ERROR, "%s", ca_err_get()->message);
    goto done;
  }
  ca_store_set_state_callback(svc.store, on_store_state, NULL);
  if (!ca_authority_open(svc.store, &config.authority, &svc.authority)) {
    api_log(API_LOG_ERROR, "cannot load the CAs: %s", ca_err_get()->message);
    goto done;
  }
  for (size_t i = 0; i < svc.authority->count; i++) {
    const ca_issuer *ca = &svc.authority->issuers[i];
    api_log(API_LOG_INFO, "CA %s (%s, %s): %s", ca->name, ca->role,
            ca->algorithm, ca->subject);
  }
  if (!ca_keypool_start(&config.keypool, &svc.keypool)) {
    api_log(API_LOG_ERROR, "cannot start the key pool: %s",
            ca_err_get()->message);
    goto done;
  }
  config.engine.keypool = svc.keypool;
  if (!ca_engine_start(svc.authority, svc.store, &config.engine, &svc.engine)) {
    api_log(API_LOG_ERROR, "cannot start the signing engine: %s",
            ca_err_get()->message);
    goto done;
  }
  if (!ca_responder_new(svc.authority, svc.store, &config.responder,
                        &svc.responder) ||
      !ensure_delegates(&config, &svc)) {
    api_log(API_LOG_ERROR, "cannot start the OCSP responder: %s",
            ca_err_get()->message);
    goto done;
  }
  svc.auth = api_auth_new(svc.store);
  if (svc.auth == NULL) {
    api_log(API_LOG_ERROR, "out of memory");
    goto done;
  }
  if (!first_admin_token(&config, &svc)) {
    api_log(API_LOG_ERROR, "cannot make the first admin token: %s",
            ca_err_get()->message);
    goto done;
  }
  if (config.insecure_http) {
    api_log(API_LOG_WARN,
            "--insecure-http: the API speaks plain HTTP; tokens and keys "
            "cross the network in the clear. For a lab only");
  } else if (!ensure_tls(&config, &svc)) {
    api_log(API_LOG_ERROR, "cannot serve TLS: %s", ca_err_get()->message);
    goto done;
  }
  svc.monitor = api_monitor_new(svc.store, config.node);
  if (svc.monitor == NULL) {
    api_log(API_LOG_ERROR, "out of memory");
    goto done;
  }
  if (!config.monitor_off &&
      !api_monitor_start(svc.monitor, config.monitor_first_check_s)) {
    api_log(API_LOG_ERROR, "%s", ca_err_get()->message);
    goto done;
  }
  svc.stats = api_stats_new(svc.store, config.node, config.stats_interval_s);
  if (svc.stats == NULL || !api_stats_start(svc.stats)) {
    api_log(API_LOG_ERROR, "cannot start the statistics job");
    goto done;
  }
  svc.revcheck = api_revcheck_new(svc.store, svc.authority, &config.revcheck);
  if (svc.revcheck == NULL || !api_revcheck_start(svc.revcheck)) {
    api_log(API_LOG_ERROR, "cannot start the revocation checks");
    goto done;
  }
  static const char *const kChannels[] = {
      CA_REVOCATION_CHANNEL, CA_ISSUED_CHANNEL, CA_ACCESS_CHANNEL, NULL};
  const ca_listener_config listen_config = {
      .conninfo = config.database,
      .channels = kChannels,
      .on_notify = on_notify,
      .on_state = on_state,
      .on_drained = on_drained,
      .arg = &svc,
  };
  if (!ca_listener_start(&listen_config, &listener)) {
    api_log(API_LOG_ERROR, "%s", ca_err_get()->message);
    goto done;
  }
  ca_presign_config presign_config;
  ca_presign_config_init(&presign_config);
  if (!ca_presigner_start(svc.responder, svc.store, &presign_config,
                          &presigner)) {
    api_log(API_LOG_ERROR, "%s", ca_err_get()->message);
    goto done;
  }
  const ca_crl_writer_config crl_config = {
      .validity_s = svc.crl_validity_s,
      .interval_s = svc.crl_interval_s,
      .wide_interval_s = svc.crl_wide_interval_s,
      .on_event = on_crl,
  };
  if (!ca_crl_writer_start(svc.authority, svc.store, &crl_config,
                           &svc.crl_writer) ||
      !ca_revoke_group_new(svc.authority, svc.store, 0, &svc.revoke_group)) {
    api_log(API_LOG_ERROR, "%s", ca_err_get()->message);
    goto done;
  }
  tls_cas = config.insecure_http ? NULL : client_cas(svc.authority);
  if (!config.insecure_http && tls_cas == NULL) {
    api_log(API_LOG_ERROR, "out of memory");
    goto done;
  }
  size_t route_count, ocsp_route_count;
  const api_route *routes = api_routes(&route_count);
  const api_route *ocsp_routes = api_ocsp_routes(&ocsp_route_count);
  size_t body_type_count;
  const api_body_type *body_types = api_body_types(&body_type_count);
  // --- Limits ---
  const pkid_limits *limits = &config.limits;
  limited_routes = api_routes_limited(
      routes, route_count, limits->max_body_bytes, limits->max_csr_bytes);
  if (limited_routes == NULL) {
    api_log(API_LOG_ERROR, "out of memory");
    goto done;
  }
  const unsigned ocsp_timeout_s =
      limits->connection_timeout_s < CA_LIMIT_OCSP_CONNECTION_TIMEOUT_S
          ? (unsigned)limits->connection_timeout_s
          : CA_LIMIT_OCSP_CONNECTION_TIMEOUT_S;
  const api_server_config server_config = {
      .listen = config.listen,
      .threads = config.http_threads,
      .connection_limit = (unsigned)limits->max_connections,
      .connection_timeout_s = (unsigned)limits->connection_timeout_s,
      .routes = limited_routes,
      .route_count = route_count,
      .body_types = body_types,
      .body_type_count = body_type_count,
      .svc = &svc,
      .authorize = api_authorize,
      .tls = !config.insecure_http,
      .tls_client_cas = tls_cas,
      .connection_limit_per_ip = (unsigned)limits->max_connections_per_ip,
      .request_timeout_s = (unsigned)limits->request_timeout_s,
      .memory_limit = limits->max_header_bytes,
      .budget = &svc.api_bodies,
  };
  const api_server_config ocsp_config = {
      .listen = config.ocsp_listen,
      .threads = config.http_threads,
      .connection_limit = (unsigned)limits->max_connections,
      .connection_timeout_s = ocsp_timeout_s,
      .routes = ocsp_routes,
      .route_count = ocsp_route_count,
      .svc = &svc,
      .connection_limit_per_ip = (unsigned)limits->max_connections_per_ip,
      .request_timeout_s = (unsigned)limits->request_timeout_s,
      .memory_limit = limits->max_header_bytes,
      .budget = &svc.ocsp_bodies,
  };
  // The OCSP listener binds first: with port 0 the URI that issued
  // certificates carry is only known once it has.
  ocsp_server = api_server_start(&ocsp_config);
  if (ocsp_server == NULL) {
    api_log(API_LOG_ERROR, "%s", ca_err_get()->message);
    goto done;
  }
  char api_host[256], ocsp_host[256];
  host_of(config.listen, api_host, sizeof(api_host));
  host_of(config.ocsp_listen, ocsp_host, sizeof(ocsp_host));
  if (config.ocsp_url == config.ocsp_url_buf) {
    snprintf(config.ocsp_url_buf, sizeof(config.ocsp_url_buf), "http://%s:%u/",
             ocsp_host, api_server_port(ocsp_server));
    if (!ca_authority_set_ocsp_url(svc.authority, config.ocsp_url)) {
      api_log(API_LOG_ERROR, "out of memory");
      goto done;
    }
  }
  server = api_server_start(&server_config);
  if (server == NULL) {
    api_log(API_LOG_ERROR, "%s", ca_err_get()->message);
    goto done;
  }
  // No webhook may call pkid's own listeners (api/server/webhook.h).
  if (!api_monitor_add_listener(svc.monitor, api_host,
                                api_server_port(server)) ||
      !api_monitor_add_listener(svc.monitor, ocsp_host,
                                api_server_port(ocsp_server))) {
    api_log(API_LOG_ERROR, "%s", ca_err_get()->message);
    goto done;
  }
  api_log(API_LOG_INFO,
          "API listening on %s://%s:%u, OCSP on http://%s:%u (OCSP URL in "
          "certificates: %s)",
          config.insecure_http ? "http" : "https", api_host,
          api_server_port(server), ocsp_host, api_server_port(ocsp_server),
          config.ocsp_url[0] != '\0' ? config.ocsp_url : "none");
  if (config.ready_file != NULL &&
      !write_ready_file(&config, api_server_port(server),
                        api_server_port(ocsp_server))) {
    api_log(API_LOG_ERROR, "cannot write %s: %s", config.ready_file,
            strerror(errno));
    goto done;
  }
  int64_t next_maintenance_s = monotonic_s() + MAINTENANCE_INTERVAL_S;
  for (;;) {
    // A tick every second writes the summaries of suppressed log lines
    // (api/server/log.h) soon after their interval is over, even when no
    // further line of their kind comes.
    const struct timespec tick = {1, 0};
    const int sig = sigtimedwait(&signals, NULL, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
      api_log(API_LOG_INFO, "signal %d: stopping", sig);
      break;
    }
    api_log_flush_suppressed(0);
    if (monotonic_s() >= next_maintenance_s) {
      next_maintenance_s = monotonic_s() + MAINTENANCE_INTERVAL_S;
      (void)ensure_delegates(&config, &svc);
      if (!config.insecure_http && config.tls_cert == NULL &&
          !ensure_tls(&config, &svc)) {
        // The certificate served stays until a later hour succeeds.
        api_log(API_LOG_ERROR, "renewing the API's TLS certificate: %s",
                ca_err_get()->message);
      }
    }
  }
  rc = 0;
done:
  // Stop taking connections, let the engine sign and record what it holds
  // and the revocation committer commit what is queued, waking every
  // waiting request, then let those answers go out.
  api_server_quiesce(server);
  api_server_quiesce(ocsp_server);
  ca_engine_stop(svc.engine);
  ca_revoke_group_stop(svc.revoke_group);
  api_self_signed_drain();
  api_server_stop(server, 30);
  api_server_stop(ocsp_server, 5);
  OPENSSL_free(limited_routes);  // after the server that used it
  // After the servers: no POST /v1/monitor:check is running any more.
  api_monitor_free(svc.monitor);
  api_stats_free(svc.stats);
  api_revcheck_free(svc.revcheck);
  ca_listener_stop(listener);
  // After the listener, which wakes it, and the servers.
  ca_crl_writer_stop(svc.crl_writer);
  ca_revoke_group_free(svc.revoke_group);  // after the servers
  // After the OCSP listener: what it signed last is stored.
  ca_presigner_stop(presigner);
  api_tls_shutdown();
  OPENSSL_free(tls_cas);
  api_auth_free(svc.auth);
  ca_responder_free(svc.responder);
  ca_keypool_stop(svc.keypool);
  ca_authority_free(svc.authority);
  ca_store_free(svc.store);
  ca_key_passphrase_free(passphrase);
  api_log_flush_suppressed(1);
  if (rc == 0) {
    api_log(API_LOG_INFO, "stopped");
  }
  return rc;
}
