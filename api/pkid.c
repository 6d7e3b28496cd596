// pkid: the pki daemon.
//
// DESIGN: the main thread starts everything, then waits for SIGINT or
// SIGTERM with sigwait; those signals are blocked in every thread (the
// mask is set before any thread starts and inherited), so no handler runs
// asynchronously. On a signal the HTTP listener stops accepting, the engine
// drains (everything queued is signed, recorded and answered: a batch is
// either committed and answered or answered with an error), the answers go
// out, and then the CAs and the database pool are freed.
//
// In between, three kinds of threads run: libmicrohttpd's (decode, answer),
// the engine's signing workers and its writer (ca/engine.h).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/config.h"
#include "api/http.h"
#include "api/log.h"
#include "api/service.h"

static int write_ready_file(const char *path, const char *listen,
                            unsigned port) {
  char host[256];
  const char *colon = strrchr(listen, ':');
  size_t n = colon != NULL ? (size_t)(colon - listen) : strlen(listen);
  if (n >= sizeof(host)) {
    n = sizeof(host) - 1;
  }
  memcpy(host, listen, n);
  host[n] = '\0';
  char tmp[4096];
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (f == NULL) {
    return 0;
  }
  fprintf(f, "api=%s:%u\n", host, port);
  // Renamed into place so a reader never sees a half-written file.
  return fclose(f) == 0 && rename(tmp, path) == 0;
}

int main(int argc, char **argv) {
  pkid_config config;
  const int parsed = pkid_config_parse(argc, argv, &config);
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
  api_server *server = NULL;
  int rc = 1;
  if (!ca_store_open(config.database, config.db_connections, &svc.store) ||
      !ca_store_migrate(svc.store)) {
    api_log(API_LOG_ERROR, "%s", ca_err_get()->message);
    goto done;
  }
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
  size_t route_count;
  const api_route *routes = api_routes(&route_count);
  api_server_config server_config = {
      .listen = config.listen,
      .threads = config.http_threads,
      .connection_limit = 1024,
      .connection_timeout_s = 60,
      .routes = routes,
      .route_count = route_count,
      .svc = &svc,
  };
  server = api_server_start(&server_config);
  if (server == NULL) {
    api_log(API_LOG_ERROR, "%s", ca_err_get()->message);
    goto done;
  }
  api_log(API_LOG_INFO,
          "API listening on http://%.*s:%u (OCSP URL in "
          "certificates: %s)",
          (int)(strrchr(config.listen, ':') - config.listen), config.listen,
          api_server_port(server),
          config.ocsp_url[0] != '\0' ? config.ocsp_url : "none");
  if (config.ready_file != NULL &&
      !write_ready_file(config.ready_file, config.listen,
                        api_server_port(server))) {
    api_log(API_LOG_ERROR, "cannot write %s: %s", config.ready_file,
            strerror(errno));
    goto done;
  }
  int sig = 0;
  while (sigwait(&signals, &sig) != 0) {
  }
  api_log(API_LOG_INFO, "signal %d: stopping", sig);
  rc = 0;
done:
  // Stop taking connections, let the engine sign and record what it holds
  // and wake every waiting request, then let those answers go out.
  api_server_quiesce(server);
  ca_engine_stop(svc.engine);
  api_server_stop(server, 30);
  ca_keypool_stop(svc.keypool);
  ca_authority_free(svc.authority);
  ca_store_free(svc.store);
  if (rc == 0) {
    api_log(API_LOG_INFO, "stopped");
  }
  return rc;
}
