#include "ca/revocation/crl_writer.h"

#include <errno.h>
#include <openssl/mem.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/revocation/crl.h"
#include "ca/x509/serial.h"

static int64_t validity_of(int64_t requested) {
  return requested > 0 ? requested : CA_CRL_DEFAULT_VALIDITY_SECONDS;
}

static int64_t interval_of(int64_t requested) {
  return requested > 0 ? requested : CA_CRL_DEFAULT_INTERVAL_SECONDS;
}

int64_t ca_crl_due_at(int64_t now, int64_t interval_s) {
  return now + interval_of(interval_s) + CA_CRL_WRITER_SLACK_SECONDS;
}

// publish makes and stores a new CRL of |issuer| in |tx|, with the next CRL
// number (at least |min_number|).
static int publish(const ca_issuer *issuer, ca_store_tx *tx, int64_t now,
                   int64_t validity_s, uint64_t min_number, ca_crl_row *out) {
  int ret = 0;
  ca_revoked_entry *rows = NULL;
  ca_crl_entry *entries = NULL;
  size_t n = 0;
  uint64_t number;
  uint8_t *der = NULL;
  size_t der_len;
  CA_GUARD(ca_store_tx_next_crl_number(tx, issuer->id, &number));
  if (number < min_number) {
    number = min_number;
  }
  // Before the read: see ca_store_tx_take_pending.
  CA_GUARD(ca_store_tx_take_pending(tx, issuer->id));
  CA_GUARD(ca_store_tx_revoked(tx, issuer->id, now, &rows, &n));
  entries = calloc(n > 0 ? n : 1, sizeof(*entries));
  CA_ENSURE_ALLOC(entries);
  for (size_t i = 0; i < n; i++) {
    CA_GUARD(ca_serial_from_hex(rows[i].serial, strlen(rows[i].serial),
                                &entries[i].serial));
    entries[i].revoked_at = rows[i].revoked_at;
    entries[i].reason = rows[i].reason;
  }
  int64_t next_update = now + validity_s;
  // A CRL never claims to be valid past its issuer.
  if (next_update > issuer->cert.not_after) {
    next_update = issuer->cert.not_after;
  }
  CA_GUARD(ca_crl_build(issuer, issuer->key, number, now, next_update, entries,
                        n, &der, &der_len));
  CA_GUARD(ca_store_tx_put_crl(tx, issuer->id, number, now, next_update, der,
                               der_len));
  if (out != NULL) {
    out->number = number;
    out->this_update = now;
    out->next_update = next_update;
    out->der = der;
    out->der_len = der_len;
    der = NULL;
  }
  ret = 1;
err:
  OPENSSL_free(der);
  free(rows);
  free(entries);
  return ret;
}

int ca_crl_publish_tx(const ca_issuer *issuer, ca_store_tx *tx, int64_t now,
                      int64_t validity_s, uint64_t min_number,
                      ca_crl_row *out) {
  return publish(issuer, tx, now, validity_of(validity_s), min_number, out);
}

// due returns when |state|'s CA needs a new CRL: at once without one; once
// half the validity has passed or nextUpdate has come; and, with changes
// queued, once the interval has passed since thisUpdate.
static int64_t due(const ca_crl_state *state, int64_t validity_s,
                   int64_t interval_s) {
  if (!state->found) {
    return 0;
  }
  int64_t at = state->this_update + validity_s / 2;
  if (state->next_update < at) {
    at = state->next_update;
  }
  if (state->pending && state->this_update + interval_s < at) {
    at = state->this_update + interval_s;
  }
  return at;
}

// refresh publishes a CRL of |issuer| when |due|, under its CRL lock, which
// it waits for when |wait| is 1. |out->der| is set only when it published
// (OPENSSL_free).
static int refresh(ca_store *store, const ca_issuer *issuer, int64_t validity_s,
                   int64_t interval_s, int64_t now, int wait, ca_crl_pass *pass,
                   ca_crl_row *out) {
  ca_store_tx *tx = NULL;
  int locked;
  ca_crl_state state;
  memset(pass, 0, sizeof(*pass));
  memset(out, 0, sizeof(*out));
  CA_ENSURE(issuer->key != NULL, CA_ERR_ISSUER_UNAVAILABLE,
            "the key of CA %s is not loaded", issuer->name);
  CA_GUARD(ca_store_begin_large(store, &tx));
  CA_GUARD(ca_store_tx_lock_crl(tx, issuer->id, wait, &locked));
  if (!locked) {
    pass->busy = 1;
    pass->retry_at = now + interval_s;
    pass->open_at = now;
    ca_store_rollback(tx);
    return 1;
  }
  CA_GUARD(ca_store_tx_crl_state(tx, issuer->id, &state));
  const int64_t at = due(&state, validity_s, interval_s);
  pass->open_at = state.found ? state.this_update + interval_s : now;
  if (now < at) {
    pass->retry_at = at;
    ca_store_rollback(tx);
    return 1;
  }
  CA_GUARD(publish(issuer, tx, now, validity_s, 0, out));
  CA_GUARD(ca_store_commit(&tx));
  pass->published = out->number;
  pass->retry_at = now + interval_s;
  pass->open_at = now + interval_s;
  return 1;
err:
  ca_store_rollback(tx);
  OPENSSL_free(out->der);
  memset(out, 0, sizeof(*out));
  return 0;
}

int ca_crl_refresh(ca_store *store, const ca_issuer *issuer, int64_t validity_s,
                   int64_t interval_s, int64_t now, ca_crl_pass *out) {
  ca_crl_row row;
  CA_GUARD_RETURN(refresh(store, issuer, validity_of(validity_s),
                          interval_of(interval_s), now, 0, out, &row));
  OPENSSL_free(row.der);
  return 1;
}

int ca_crl_current(const ca_authority *authority, ca_store *store,
                   const ca_issuer *issuer, int64_t validity_s,
                   int64_t interval_s, ca_crl_row *out) {
  (void)authority;
  int found, pending;
  int64_t since;
  const int64_t now = (int64_t)time(NULL);
  const int64_t validity = validity_of(validity_s);
  const int64_t interval = interval_of(interval_s);
  CA_GUARD(ca_store_get_crl(store, issuer->id, out, &found));
  if (found && now < out->this_update + validity / 2 &&
      now < out->next_update) {
    // Measured from the oldest change alone: a CRL made after it may not
    // list it (committed after that CRL's read), and its due time was
    // promised from its commit.
    CA_GUARD(ca_store_crl_pending_since(store, issuer->id, &since, &pending));
    if (!pending || now < since + interval + CA_CRL_WRITER_SLACK_SECONDS) {
      return 1;
    }
  }
  // No writer got to it: this request is one, waiting for the lock. It
  // publishes only what a writer would; else the stored CRL is current.
  OPENSSL_free(out->der);
  memset(out, 0, sizeof(*out));
  ca_crl_pass pass;
  CA_GUARD(refresh(store, issuer, validity, interval, now, 1, &pass, out));
  if (pass.published == 0) {
    CA_GUARD(ca_store_get_crl(store, issuer->id, out, &found));
    CA_ENSURE(found, CA_ERR_INTERNAL, "CA %s has no CRL", issuer->name);
  }
  return 1;
err:
  OPENSSL_free(out->der);
  memset(out, 0, sizeof(*out));
  return 0;
}

// --- The writer thread ---

struct ca_crl_writer {
  const ca_authority *authority;
  ca_store *store;
  ca_crl_writer_config config;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int woken;     // under |mu|
  int stopping;  // under |mu|
  pthread_t thread;
};

static int64_t realtime_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// The least time between two passes: a burst of wake-ups costs a few
// passes, not one per revocation.
#define MIN_PASS_GAP_MS 50

// pass runs ca_crl_refresh for every CA the writer serves and returns when
// the next periodic pass is due; |*out_earliest| is when a wake-up can lead
// to a new CRL (the soonest thisUpdate + interval).
static int64_t pass(ca_crl_writer *w, int64_t *out_earliest) {
  const int64_t interval = interval_of(w->config.interval_s);
  const int64_t validity = validity_of(w->config.validity_s);
  const int64_t start = realtime_ms();
  int64_t next = start + interval * 1000, earliest = next;
  for (size_t i = 0; i < w->authority->count; i++) {
    const ca_issuer *issuer = &w->authority->issuers[i];
    const int64_t now = (int64_t)time(NULL);
    if (issuer->key == NULL || issuer->cert.not_after <= now) {
      continue;  // another node holds its key, or it signs no more
    }
    ca_crl_pass p;
    if (!ca_crl_refresh(w->store, issuer, validity, interval, now, &p)) {
      if (w->config.on_event != NULL) {
        w->config.on_event(w->config.arg, issuer, 0, ca_err_get());
      }
      continue;
    }
    if (p.published != 0 && w->config.on_event != NULL) {
      w->config.on_event(w->config.arg, issuer, p.published, NULL);
    }
    if (p.retry_at * 1000 < next) {
      next = p.retry_at * 1000;
    }
    // A busy lock: whoever holds it may miss what was committed meanwhile,
    // so a wake-up tries again soon.
    const int64_t soonest = p.busy ? start : p.open_at * 1000;
    if (soonest < earliest) {
      earliest = soonest;
    }
  }
  const int64_t floor = realtime_ms() + MIN_PASS_GAP_MS;
  *out_earliest = earliest > floor ? earliest : floor;
  return next > floor ? next : floor;
}

static void *writer_main(void *arg) {
  ca_crl_writer *w = arg;
  int64_t next = 0, earliest = 0;
  pthread_mutex_lock(&w->mu);
  while (!w->stopping) {
    const int64_t at = w->woken && earliest < next ? earliest : next;
    const int64_t now = realtime_ms();
    if (now < at) {
      struct timespec until = {(time_t)(at / 1000),
                               (long)(at % 1000) * 1000000};
      (void)pthread_cond_timedwait(&w->cv, &w->mu, &until);
      continue;
    }
    w->woken = 0;
    pthread_mutex_unlock(&w->mu);
    next = pass(w, &earliest);
    pthread_mutex_lock(&w->mu);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

int ca_crl_writer_start(const ca_authority *authority, ca_store *store,
                        const ca_crl_writer_config *config,
                        ca_crl_writer **out) {
  ca_crl_writer *w = calloc(1, sizeof(*w));
  CA_ENSURE_ALLOC_RETURN(w);
  w->authority = authority;
  w->store = store;
  w->config = *config;
  if (pthread_mutex_init(&w->mu, NULL) != 0) {
    free(w);
    CA_SET_ERROR(CA_ERR_INTERNAL, "cannot make the CRL writer's mutex");
    return 0;
  }
  if (pthread_cond_init(&w->cv, NULL) != 0) {
    pthread_mutex_destroy(&w->mu);
    free(w);
    CA_SET_ERROR(CA_ERR_INTERNAL, "cannot make the CRL writer's condition");
    return 0;
  }
  if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
    CA_SET_ERROR(CA_ERR_INTERNAL, "cannot start the CRL writer thread");
    return 0;
  }
  *out = w;
  return 1;
}

void ca_crl_writer_wake(ca_crl_writer *w) {
  if (w == NULL) {
    return;
  }
  pthread_mutex_lock(&w->mu);
  w->woken = 1;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

void ca_crl_writer_stop(ca_crl_writer *w) {
  if (w == NULL) {
    return;
  }
  pthread_mutex_lock(&w->mu);
  w->stopping = 1;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->thread, NULL);
  pthread_cond_destroy(&w->cv);
  pthread_mutex_destroy(&w->mu);
  free(w);
}
