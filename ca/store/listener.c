#include "ca/store/listener.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/store/pq.h"

#define MAX_CHANNELS 8

struct ca_listener {
  char *conninfo;
  char *channels[MAX_CHANNELS + 1];
  void (*on_notify)(void *arg, const char *channel, const char *payload);
  void (*on_state)(void *arg, int listening);
  void (*on_drained)(void *arg);
  void *arg;
  PGconn *conn;
  pthread_t thread;
  atomic_int stopping;
};

// subscribe connects and LISTENs on every channel. Channel names are ours
// (constants), but are quoted as identifiers all the same.
static PGconn *subscribe(ca_listener *l) {
  // A bounded connect, so that stopping never waits on an unreachable
  // server for long; the name tells operators what this session is.
  const char *const keys[] = {"connect_timeout", "fallback_application_name",
                              "dbname", NULL};
  const char *const values[] = {"5", "pkid listener", l->conninfo, NULL};
  PGconn *conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
    if (conn != NULL) {
      PQfinish(conn);
    }
    return NULL;
  }
  for (size_t i = 0; l->channels[i] != NULL; i++) {
    char sql[128];
    snprintf(sql, sizeof(sql), "LISTEN \"%s\"", l->channels[i]);
    PGresult *res = PQexec(conn, sql);
    const int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
      PQfinish(conn);
      return NULL;
    }
  }
  return conn;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

static void *listen_main(void *arg) {
  ca_listener *l = arg;
  long backoff = 250;
  while (!atomic_load(&l->stopping)) {
    if (l->conn == NULL) {
      l->conn = subscribe(l);
      if (l->conn == NULL) {
        sleep_ms(backoff);
        backoff = backoff < 4000 ? backoff * 2 : 4000;
        continue;
      }
      backoff = 250;
      l->on_state(l->arg, 1);
    }
    struct pollfd pfd = {PQsocket(l->conn), POLLIN, 0};
    const int ready = poll(&pfd, 1, 250);
    if (ready < 0) {
      continue;  // EINTR
    }
    if (ready > 0 && !PQconsumeInput(l->conn)) {
      PQfinish(l->conn);
      l->conn = NULL;
      l->on_state(l->arg, 0);
      continue;
    }
    size_t delivered = 0;
    for (PGnotify *n; (n = PQnotifies(l->conn)) != NULL; delivered++) {
      l->on_notify(l->arg, n->relname, n->extra);
      PQfreemem(n);
    }
    if (delivered > 0 && l->on_drained != NULL) {
      l->on_drained(l->arg);
    }
    if (PQstatus(l->conn) != CONNECTION_OK) {
      PQfinish(l->conn);
      l->conn = NULL;
      l->on_state(l->arg, 0);
    }
  }
  return NULL;
}

static void listener_free(ca_listener *l) {
  if (l->conn != NULL) {
    PQfinish(l->conn);
  }
  free(l->conninfo);
  for (size_t i = 0; i < MAX_CHANNELS; i++) {
    free(l->channels[i]);
  }
  free(l);
}

int ca_listener_start(const ca_listener_config *config, ca_listener **out) {
  ca_listener *l = calloc(1, sizeof(*l));
  CA_ENSURE_ALLOC(l);
  CA_GUARD(ca_pq_load());
  l->conninfo = strdup(config->conninfo);
  CA_ENSURE_ALLOC(l->conninfo);
  for (size_t i = 0; config->channels[i] != NULL; i++) {
    CA_ENSURE(i < MAX_CHANNELS, CA_ERR_INTERNAL, "too many channels");
    l->channels[i] = strdup(config->channels[i]);
    CA_ENSURE_ALLOC(l->channels[i]);
  }
  l->on_notify = config->on_notify;
  l->on_state = config->on_state;
  l->on_drained = config->on_drained;
  l->arg = config->arg;
  l->conn = subscribe(l);
  CA_ENSURE(l->conn != NULL, CA_ERR_STORAGE_UNAVAILABLE,
            "cannot LISTEN on the database");
  l->on_state(l->arg, 1);
  CA_ENSURE(pthread_create(&l->thread, NULL, listen_main, l) == 0,
            CA_ERR_INTERNAL, "cannot start the listener thread");
  *out = l;
  return 1;
err:
  if (l != NULL) {
    listener_free(l);
  }
  return 0;
}

void ca_listener_stop(ca_listener *l) {
  if (l == NULL) {
    return;
  }
  atomic_store(&l->stopping, 1);
  pthread_join(l->thread, NULL);
  listener_free(l);
}
