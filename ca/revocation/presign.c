#include "ca/revocation/presign.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ca_presigner {
  ca_responder *responder;
  ca_store *store;
  ca_presign_config config;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;  // signalled to stop
  int stopping;
};

void ca_presign_config_init(ca_presign_config *config) {
  config->flush_ms = 1000;
  config->renew_s = 60;
  config->renew_batch = 256;
}

int ca_presign_flush(ca_responder *responder, ca_store *store) {
  ca_ocsp_stored *answers;
  const size_t n = ca_responder_take_signed(responder, &answers);
  const int ok = ca_store_ocsp_put(store, answers, n);
  ca_responder_signed_free(answers, n);
  return ok;
}

int ca_presign_renew(ca_responder *responder, int64_t now, size_t batch,
                     size_t *out_renewed) {
  size_t renewed;
  *out_renewed = 0;
  // Rounds of |batch| keep each transaction (and the rows it locks) short;
  // a round that renews less than a full batch per CA found the rest fresh.
  do {
    CA_GUARD_RETURN(ca_responder_renew(responder, now, batch, &renewed));
    *out_renewed += renewed;
  } while (renewed >= batch);
  return 1;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// wait_until sleeps until |deadline| (CLOCK_REALTIME) or a stop; it returns
// 0 on a stop.
static int wait_until(ca_presigner *p, const struct timespec *deadline) {
  pthread_mutex_lock(&p->mu);
  while (!p->stopping &&
         pthread_cond_timedwait(&p->cv, &p->mu, deadline) != ETIMEDOUT) {
  }
  const int go_on = !p->stopping;
  pthread_mutex_unlock(&p->mu);
  return go_on;
}

static void *run(void *arg) {
  ca_presigner *p = arg;
  int64_t next_renewal = now_ms();
  for (;;) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += p->config.flush_ms / 1000;
    deadline.tv_nsec += (p->config.flush_ms % 1000) * 1000000;
    if (deadline.tv_nsec >= 1000000000) {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000;
    }
    const int go_on = wait_until(p, &deadline);
    // A failure costs only signatures later (the answers are signed again
    // on request); the next round tries again.
    if (!ca_presign_flush(p->responder, p->store)) {
      ca_err_clear();
    }
    if (!go_on) {
      return NULL;
    }
    if (now_ms() >= next_renewal) {
      size_t renewed;
      if (!ca_presign_renew(p->responder, (int64_t)time(NULL),
                            p->config.renew_batch, &renewed)) {
        ca_err_clear();
      }
      next_renewal = now_ms() + p->config.renew_s * 1000;
    }
  }
}

int ca_presigner_start(ca_responder *responder, ca_store *store,
                       const ca_presign_config *config, ca_presigner **out) {
  int have_mu = 0, have_cv = 0;
  ca_presigner *p = calloc(1, sizeof(*p));
  CA_ENSURE_ALLOC_RETURN(p);
  p->responder = responder;
  p->store = store;
  p->config = *config;
  have_mu = pthread_mutex_init(&p->mu, NULL) == 0;
  // Deadlines are CLOCK_REALTIME times, the condition variable's default.
  have_cv = have_mu && pthread_cond_init(&p->cv, NULL) == 0;
  CA_ENSURE(have_cv, CA_ERR_INTERNAL, "cannot create the pre-signer's lock");
  CA_ENSURE(pthread_create(&p->thread, NULL, run, p) == 0, CA_ERR_INTERNAL,
            "cannot start the OCSP pre-signer");
  *out = p;
  return 1;
err:
  if (have_cv) {
    pthread_cond_destroy(&p->cv);
  }
  if (have_mu) {
    pthread_mutex_destroy(&p->mu);
  }
  free(p);
  return 0;
}

void ca_presigner_stop(ca_presigner *p) {
  if (p == NULL) {
    return;
  }
  pthread_mutex_lock(&p->mu);
  p->stopping = 1;
  pthread_cond_signal(&p->cv);
  pthread_mutex_unlock(&p->mu);
  pthread_join(p->thread, NULL);
  pthread_cond_destroy(&p->cv);
  pthread_mutex_destroy(&p->mu);
  free(p);
}
