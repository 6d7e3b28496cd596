#include "ca/revocation/revoke_group.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/x509/serial.h"

// One submitted revocation, until its caller is called back.
typedef struct waiter {
  const ca_revocation *request;
  char serial[CA_SERIAL_HEX_LEN];  // normalized: duplicates compare equal
  ca_revocation_result *out;
  ca_revoke_done done;
  void *done_arg;
  int failed;  // the transaction failed: |err| says why
  ca_err err;
  struct waiter *next;
} waiter;

struct ca_revoke_group {
  const ca_authority *authority;
  ca_store *store;
  size_t max_items;
  pthread_mutex_t mu;
  pthread_cond_t arrived;  // a revocation was queued, or stop was asked
  waiter *head, *tail;
  size_t queued;
  size_t target;  // the revocations the committer gathers (see gather)
  int stopping;   // no submission is taken any more
  int running;    // |thread| is started and not joined
  pthread_t thread;
  waiter **group;  // the committer's: up to |max_items| waiters taken
};

// taken reports whether |serial| is among the |n| waiters of |group|.
static int taken(waiter *const *group, size_t n, const char *serial) {
  for (size_t i = 0; i < n; i++) {
    if (strcmp(group[i]->serial, serial) == 0) {
      return 1;
    }
  }
  return 0;
}

// take unlinks from the queue, in order, up to |g->max_items| waiters with
// distinct serials into |group| (under |g->mu|). A serial already taken
// waits for the next transaction: in one transaction, a second change of a
// certificate is refused (revoke.h), which two separate callers must not
// see.
static size_t take(ca_revoke_group *g, waiter **group) {
  size_t n = 0;
  waiter **link = &g->head, *last = NULL;
  while (*link != NULL && n < g->max_items) {
    waiter *w = *link;
    if (taken(group, n, w->serial)) {
      last = w;
      link = &w->next;
      continue;
    }
    *link = w->next;
    w->next = NULL;
    group[n++] = w;
    g->queued--;
  }
  // The tail is the last waiter left, wherever the walk stopped.
  if (*link == NULL) {
    g->tail = last;
  }
  return n;
}

// commit revokes the |n| waiters' certificates in one transaction and
// fills each waiter's answer (outside |g->mu|).
static void commit(ca_revoke_group *g, waiter **group, size_t n) {
  ca_revocation_item *items = calloc(n, sizeof(*items));
  ca_revocation_result *results = calloc(n, sizeof(*results));
  int ok = 0;
  size_t revoked;
  if (items == NULL || results == NULL) {
    CA_SET_ERROR(CA_ERR_NO_MEMORY, "out of memory");
  } else {
    for (size_t i = 0; i < n; i++) {
      const ca_revocation *r = group[i]->request;
      items[i] = (ca_revocation_item){r->serial, r->issuer, r->reason,
                                      r->when,   r->actor,  r->source};
    }
    // Every caller of a node passes the node's interval.
    const ca_revocation_batch batch = {items, n, NULL, NULL,
                                       group[0]->request->crl_interval_s};
    ok = ca_revoke_batch(g->authority, g->store, &batch, results, &revoked);
  }
  for (size_t i = 0; i < n; i++) {
    if (ok) {
      *group[i]->out = results[i];
    } else {
      group[i]->failed = 1;
      ca_err_copy(&group[i]->err);
    }
  }
  free(items);
  free(results);
}

// The longest the committer waits for more revocations, in microseconds:
// less than a commit's fdatasync (milliseconds), which the revocations it
// gathers would otherwise each wait for in a transaction of their own.
#define GATHER_US 2000

// gather waits (under |g->mu|), at most GATHER_US, until |g->target|
// revocations are queued. Clients answered together come back together, a
// little apart: a committer that left at once would commit the first alone
// and the others in the next transaction, and the groups would stay split.
// The target follows the largest recent transaction: it rises at once to
// a larger one and falls by one per smaller one, so that with one
// revocation at a time (a target of 1) the committer never waits.
static void gather(ca_revoke_group *g) {
  if (g->queued >= g->target || g->queued >= g->max_items) {
    return;
  }
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_nsec += GATHER_US * 1000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  while (g->queued < g->target && !g->stopping &&
         pthread_cond_timedwait(&g->arrived, &g->mu, &until) == 0) {
  }
}

// committer_main commits queued revocations, one transaction at a time,
// until it is stopped and nothing is queued.
static void *committer_main(void *arg) {
  ca_revoke_group *g = arg;
  pthread_mutex_lock(&g->mu);
  for (;;) {
    while (g->head == NULL && !g->stopping) {
      pthread_cond_wait(&g->arrived, &g->mu);
    }
    if (g->head == NULL) {
      break;
    }
    gather(g);
    const size_t n = take(g, g->group);
    g->target = n >= g->target ? n : g->target - 1;
    pthread_mutex_unlock(&g->mu);
    commit(g, g->group, n);
    for (size_t i = 0; i < n; i++) {
      waiter *w = g->group[i];
      w->done(w->done_arg, !w->failed, &w->err);
      free(w);
    }
    pthread_mutex_lock(&g->mu);
  }
  pthread_mutex_unlock(&g->mu);
  return NULL;
}

int ca_revoke_group_new(const ca_authority *authority, ca_store *store,
                        size_t max_items, ca_revoke_group **out) {
  *out = NULL;
  ca_revoke_group *g = calloc(1, sizeof(*g));
  CA_ENSURE_ALLOC_RETURN(g);
  g->authority = authority;
  g->store = store;
  g->max_items = max_items > 0 ? max_items : CA_REVOKE_GROUP_DEFAULT_ITEMS;
  g->group = calloc(g->max_items, sizeof(*g->group));
  if (g->group == NULL) {
    free(g);
    CA_SET_ERROR(CA_ERR_NO_MEMORY, "out of memory");
    return 0;
  }
  if (pthread_mutex_init(&g->mu, NULL) != 0) {
    free(g->group);
    free(g);
    CA_SET_ERROR(CA_ERR_INTERNAL, "pthread_mutex_init failed");
    return 0;
  }
  if (pthread_cond_init(&g->arrived, NULL) != 0) {
    pthread_mutex_destroy(&g->mu);
    free(g->group);
    free(g);
    CA_SET_ERROR(CA_ERR_INTERNAL, "pthread_cond_init failed");
    return 0;
  }
  if (pthread_create(&g->thread, NULL, committer_main, g) != 0) {
    pthread_cond_destroy(&g->arrived);
    pthread_mutex_destroy(&g->mu);
    free(g->group);
    free(g);
    CA_SET_ERROR(CA_ERR_INTERNAL, "the revocation committer did not start");
    return 0;
  }
  g->running = 1;
  *out = g;
  return 1;
}

int ca_revoke_group_submit(ca_revoke_group *g, const ca_revocation *request,
                           ca_revocation_result *out, ca_revoke_done done,
                           void *arg) {
  memset(out, 0, sizeof(*out));
  CA_ENSURE_RETURN(request->serial != NULL, CA_ERR_PARAMETER_INVALID,
                   "no serial");
  ca_serial serial;
  CA_GUARD_RETURN(
      ca_serial_from_hex(request->serial, strlen(request->serial), &serial));
  waiter *w = calloc(1, sizeof(*w));
  CA_ENSURE_ALLOC_RETURN(w);
  w->request = request;
  w->out = out;
  w->done = done;
  w->done_arg = arg;
  ca_serial_to_hex(&serial, w->serial);
  pthread_mutex_lock(&g->mu);
  if (g->stopping) {
    pthread_mutex_unlock(&g->mu);
    free(w);
    CA_SET_ERROR(CA_ERR_SHUTTING_DOWN, "the service is shutting down");
    return 0;
  }
  if (g->tail != NULL) {
    g->tail->next = w;
  } else {
    g->head = w;
  }
  g->tail = w;
  g->queued++;
  pthread_cond_signal(&g->arrived);
  pthread_mutex_unlock(&g->mu);
  return 1;
}

void ca_revoke_group_stop(ca_revoke_group *g) {
  if (g == NULL) {
    return;
  }
  pthread_mutex_lock(&g->mu);
  g->stopping = 1;
  const int running = g->running;
  g->running = 0;
  pthread_cond_signal(&g->arrived);
  pthread_mutex_unlock(&g->mu);
  if (running) {
    pthread_join(g->thread, NULL);
  }
}

void ca_revoke_group_free(ca_revoke_group *g) {
  if (g == NULL) {
    return;
  }
  ca_revoke_group_stop(g);
  pthread_cond_destroy(&g->arrived);
  pthread_mutex_destroy(&g->mu);
  free(g->group);
  free(g);
}
