// A PostgreSQL LISTEN loop on a thread of its own: how a node learns what
// other nodes changed (ARCHITECTURE.md invariant 6: a revocation is seen by the
// OCSP responder of every node within one second).
//
// DESIGN: one thread, one connection of its own. It waits on the socket
// (at most 250 ms at a time, so that it stops promptly) and calls
// |on_notify| for every notification, in the order PostgreSQL delivers
// them. |on_state| says whether notifications are being heard: 1 once
// subscribed (from ca_listener_start, before it returns, and after every
// reconnection), 0 as soon as the connection fails — from then on
// notifications may be missed, and whoever relies on them must not trust
// what it cached. It reconnects with a backoff of 0.25 s doubling to 4 s.
#ifndef PKI_CA_LISTENER_H
#define PKI_CA_LISTENER_H

#include "ca/error.h"

typedef struct ca_listener ca_listener;

typedef struct ca_listener_config {
  const char *conninfo;
  const char *const *channels;  // NULL-terminated
  void (*on_notify)(void *arg, const char *channel, const char *payload);
  void (*on_state)(void *arg, int listening);
  // Optional: called after the notifications that arrived together were
  // all passed to |on_notify|, so that a receiver of many (a batch
  // revocation sends one per certificate) can do once what is the same
  // for all of them.
  void (*on_drained)(void *arg);
  void *arg;
} ca_listener_config;

// ca_listener_start connects, subscribes, calls |on_state|(1) and starts
// the thread. It returns 0 with CA_ERR_STORAGE_UNAVAILABLE when the first
// connection fails. The strings of |config| are copied.
int ca_listener_start(const ca_listener_config *config,
                      ca_listener **out) CA_MUST_CHECK;

// ca_listener_stop stops the thread and closes the connection. Accepts
// NULL.
void ca_listener_stop(ca_listener *listener);

#endif  // PKI_CA_LISTENER_H
