#include "ca/revocation/revoke_group.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/x509/serial.h"

// One caller waiting for its revocation, on its own stack.
typedef struct waiter {
  const ca_revocation *request;
  char serial[CA_SERIAL_HEX_LEN];  // normalized: duplicates compare equal
  ca_revocation_result *out;
  int done;    // |out| or |err| is final
  int failed;  // the transaction failed: |err| says why
  ca_err err;
  struct waiter *next;
} waiter;

struct ca_revoke_group {
  const ca_authority *authority;
  ca_store *store;
  size_t max_items;
  pthread_mutex_t mu;
  pthread_cond_t cv;       // a transaction finished: answers are ready
  pthread_cond_t arrived;  // a caller queued, while the leader gathers
  waiter *head, *tail;
  size_t queued;
  size_t target;   // the callers a leader gathers (see gather)
  int gathering;   // the leader waits for callers (see gather)
  int leading;     // a caller is committing a transaction
  waiter **group;  // the leader's: |max_items| waiters taken
};

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
  const int cv = pthread_cond_init(&g->cv, NULL) == 0;
  if (!cv || pthread_cond_init(&g->arrived, NULL) != 0) {
    if (cv) {
      pthread_cond_destroy(&g->cv);
    }
    pthread_mutex_destroy(&g->mu);
    free(g->group);
    free(g);
    CA_SET_ERROR(CA_ERR_INTERNAL, "pthread_cond_init failed");
    return 0;
  }
  *out = g;
  return 1;
}

void ca_revoke_group_free(ca_revoke_group *g) {
  if (g == NULL) {
    return;
  }
  pthread_cond_destroy(&g->cv);
  pthread_cond_destroy(&g->arrived);
  pthread_mutex_destroy(&g->mu);
  free(g->group);
  free(g);
}

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

// The longest a leader waits for more callers, in microseconds: less than
// a commit's fdatasync (milliseconds), which the callers it gathers would
// otherwise each wait for in a transaction of their own.
#define GATHER_US 2000

// gather waits (under |g->mu|), at most GATHER_US, until |g->target|
// callers are queued. Clients answered together come back together, a
// little apart: a leader that left at once would commit the first alone
// and the others in the next transaction, and the groups would stay split.
// The target follows the largest recent transaction: it rises at once to
// a larger one and falls by one per smaller one, so that with one caller
// at a time (a target of 1) no leader waits.
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
  g->gathering = 1;
  while (g->queued < g->target &&
         pthread_cond_timedwait(&g->arrived, &g->mu, &until) == 0) {
  }
  g->gathering = 0;
}

// lead commits one transaction of queued revocations; called and returns
// with |g->mu| held. Only one leader at a time: |g->group| is its own.
static void lead(ca_revoke_group *g) {
  g->leading = 1;
  gather(g);
  const size_t n = take(g, g->group);
  g->target = n >= g->target ? n : g->target - 1;
  pthread_mutex_unlock(&g->mu);
  if (n > 0) {
    commit(g, g->group, n);
  }
  pthread_mutex_lock(&g->mu);
  for (size_t i = 0; i < n; i++) {
    g->group[i]->done = 1;
  }
  g->leading = 0;
  pthread_cond_broadcast(&g->cv);
}

int ca_revoke_grouped(ca_revoke_group *g, const ca_revocation *request,
                      ca_revocation_result *out) {
  memset(out, 0, sizeof(*out));
  waiter w;
  memset(&w, 0, sizeof(w));
  w.request = request;
  w.out = out;
  ca_serial serial;
  if (request->serial == NULL) {
    CA_SET_ERROR(CA_ERR_PARAMETER_INVALID, "no serial");
    return 0;
  }
  CA_GUARD_RETURN(
      ca_serial_from_hex(request->serial, strlen(request->serial), &serial));
  ca_serial_to_hex(&serial, w.serial);
  pthread_mutex_lock(&g->mu);
  if (g->tail != NULL) {
    g->tail->next = &w;
  } else {
    g->head = &w;
  }
  g->tail = &w;
  g->queued++;
  if (g->gathering) {
    pthread_cond_signal(&g->arrived);
  }
  while (!w.done) {
    if (!g->leading) {
      lead(g);
    } else {
      pthread_cond_wait(&g->cv, &g->mu);
    }
  }
  pthread_mutex_unlock(&g->mu);
  if (w.failed) {
    ca_err_restore(&w.err);
    return 0;
  }
  if (out->err.code != CA_OK) {
    ca_err_restore(&out->err);
    return 0;
  }
  return 1;
}
