// The certificate statistics job (api/server/stats.h).
#include "api/server/stats.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "api/server/log.h"
#include "ca/store/store_monitor.h"
#include "ca/store/store_stats.h"

struct api_stats {
  ca_store *store;
  char node[64];
  unsigned interval_s;
  // One computation of this node at a time: a refresh asked over HTTP waits
  // for the thread's.
  pthread_mutex_t run_mu;
  pthread_mutex_t mu;
  pthread_cond_t cv;  // CLOCK_MONOTONIC
  int stopping;       // under |mu|
  int started;
  pthread_t thread;
};

static int64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

api_stats *api_stats_new(ca_store *store, const char *node,
                         unsigned interval_s) {
  api_stats *s = calloc(1, sizeof(*s));
  if (s == NULL) {
    return NULL;
  }
  s->store = store;
  snprintf(s->node, sizeof(s->node), "%s", node);
  s->interval_s = interval_s;
  pthread_mutex_init(&s->run_mu, NULL);
  pthread_mutex_init(&s->mu, NULL);
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&s->cv, &attr);
  pthread_condattr_destroy(&attr);
  return s;
}

// compute runs one computation, the claim being held: the expiry counts,
// then the counts by CA, profile and status written with them.
static int compute(api_stats *s) {
  const int64_t start = monotonic_ms();
  const int64_t now = (int64_t)time(NULL);
  ca_expiry_counts expiry;
  int64_t duration_ms;
  if (!ca_store_monitor_counts(s->store, now, &expiry)) {
    ca_store_stats_release(s->store, s->node);
    return 0;
  }
  const int64_t expiry_ms = monotonic_ms() - start;
  if (!ca_store_stats_save(s->store, s->node, now, &expiry, expiry_ms,
                           &duration_ms)) {
    ca_store_stats_release(s->store, s->node);
    return 0;
  }
  api_log(API_LOG_INFO,
          "statistics snapshot computed in %" PRId64
          " ms (expiry counts %" PRId64 " ms)",
          duration_ms, expiry_ms);
  return 1;
}

// refresh is api_stats_refresh, and sets |*out_wait_s| to the seconds until
// the next computation is due.
static int refresh(api_stats *s, int force, int *out_computed,
                   int64_t *out_wait_s) {
  pthread_mutex_lock(&s->run_mu);
  int claimed = 0;
  int ok = ca_store_stats_claim(s->store, s->node, s->interval_s, force,
                                &claimed, out_wait_s);
  if (ok && claimed) {
    ok = compute(s);
    *out_wait_s = s->interval_s;
  }
  pthread_mutex_unlock(&s->run_mu);
  *out_computed = ok && claimed;
  return ok;
}

int api_stats_refresh(api_stats *s, int force, int *out_computed) {
  int64_t wait_s;
  return refresh(s, force, out_computed, &wait_s);
}

// wait_for sleeps |seconds| or until stopping; it returns 0 when stopping.
static int wait_for(api_stats *s, int64_t seconds) {
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += seconds;
  pthread_mutex_lock(&s->mu);
  while (!s->stopping) {
    if (pthread_cond_timedwait(&s->cv, &s->mu, &until) == ETIMEDOUT) {
      break;
    }
  }
  const int go_on = !s->stopping;
  pthread_mutex_unlock(&s->mu);
  return go_on;
}

static void *run(void *arg) {
  api_stats *s = arg;
  int64_t delay = 0;
  while (wait_for(s, delay)) {
    int computed;
    int64_t wait_s;
    if (!refresh(s, 0, &computed, &wait_s)) {
      api_log(API_LOG_WARN, "statistics snapshot failed: %s",
              ca_err_get()->message);
      wait_s = s->interval_s;
    }
    // 0: another node is computing; the next is due an interval after it
    // ends at the earliest.
    delay = wait_s > 0 ? wait_s : s->interval_s;
  }
  return NULL;
}

int api_stats_start(api_stats *s) {
  if (s->interval_s == 0) {
    return 1;
  }
  CA_ENSURE_RETURN(pthread_create(&s->thread, NULL, run, s) == 0,
                   CA_ERR_INTERNAL, "cannot start the statistics thread");
  s->started = 1;
  return 1;
}

void api_stats_free(api_stats *s) {
  if (s == NULL) {
    return;
  }
  if (s->started) {
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
  }
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
  pthread_mutex_destroy(&s->run_mu);
  free(s);
}
