#include "ca/revocation/crl_writer.h"

#include <errno.h>
#include <openssl/mem.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/revocation/crl.h"
#include "ca/store/store_crl.h"
#include "ca/x509/crl_dp.h"
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

// The revoked certificates of a CRL, from the store's cursor.
typedef struct store_source {
  ca_revoked_stream *stream;
  ca_revoked_entry *rows;  // CA_STORE_CRL_FETCH
} store_source;

static int source_next(void *arg, ca_crl_entry *out, size_t cap,
                       size_t *out_n) {
  store_source *s = arg;
  size_t n;
  if (cap > CA_STORE_CRL_FETCH) {
    cap = CA_STORE_CRL_FETCH;
  }
  CA_GUARD_RETURN(ca_revoked_stream_next(s->stream, s->rows, cap, &n));
  for (size_t i = 0; i < n; i++) {
    const ca_revoked_entry *r = &s->rows[i];
    CA_GUARD_RETURN(
        ca_serial_from_hex(r->serial, strlen(r->serial), &out[i].serial));
    out[i].revoked_at = r->revoked_at;
    out[i].reason = r->reason;
  }
  *out_n = n;
  return 1;
}

static int source_rewind(void *arg) {
  store_source *s = arg;
  return ca_revoked_stream_rewind(s->stream);
}

// PostgreSQL counts the entries and sums their encodings' lengths: one
// aggregate instead of a first pass of every entry through the connection.
static int source_measure(void *arg, size_t *out_n, size_t *out_len) {
  store_source *s = arg;
  return ca_revoked_stream_measure(s->stream, out_n, out_len);
}

// Where the CRL goes: crls, through ca_store_tx_crl_put_*.
typedef struct store_sink {
  ca_store_tx *tx;
  int64_t issuer_id;
  unsigned shard;
  const ca_crl_info *info;
  ca_crl_put *put;
} store_sink;

static int sink_begin(void *arg, size_t der_len) {
  store_sink *s = arg;
  return ca_store_tx_crl_put_begin(s->tx, s->issuer_id, s->shard,
                                   s->info->number, s->info->this_update,
                                   s->info->next_update, der_len, &s->put);
}

static int sink_write(void *arg, const uint8_t *data, size_t len) {
  store_sink *s = arg;
  return ca_crl_put_write(s->put, data, len);
}

// publish makes and stores a new CRL of |issuer|'s |shard| in |tx|, with
// the next CRL number of that shard (at least |min_number|). Neither the
// entries nor the CRL are ever whole in memory (crl.h).
static int publish(const ca_issuer *issuer, ca_store_tx *tx, unsigned shard,
                   int64_t now, int64_t validity_s, uint64_t min_number,
                   ca_crl_row *out) {
  int ret = 0;
  char idp_url[CA_CRL_URL_MAX];
  store_source source = {0};
  store_sink sink = {.tx = tx, .issuer_id = issuer->id, .shard = shard};
  ca_crl_info info = {.this_update = now, .next_update = now + validity_s};
  // A CRL never claims to be valid past its issuer.
  if (info.next_update > issuer->cert.not_after) {
    info.next_update = issuer->cert.not_after;
  }
  if (shard > 0) {
    // The URL its certificates name (ca/issue/issue.c).
    CA_ENSURE(issuer->crl_url[0] != '\0', CA_ERR_CONFIG,
              "CA %s has CRL shards but no CRL URL (pkid --crl-url)",
              issuer->name);
    CA_GUARD(
        ca_crl_shard_url(issuer->crl_url, shard, idp_url, sizeof(idp_url)));
    info.idp_url = idp_url;
  }
  CA_GUARD(
      ca_store_tx_next_shard_crl_number(tx, issuer->id, shard, &info.number));
  if (info.number < min_number) {
    info.number = min_number;
  }
  // Before the read: see ca_store_tx_take_pending.
  CA_GUARD(ca_store_tx_take_shard_pending(tx, issuer->id, shard));
  source.rows = malloc(CA_STORE_CRL_FETCH * sizeof(*source.rows));
  CA_ENSURE_ALLOC(source.rows);
  CA_GUARD(
      ca_store_tx_revoked_open(tx, issuer->id, shard, now, &source.stream));
  sink.info = &info;
  const ca_crl_source src = {source_next, source_rewind, &source,
                             source_measure};
  const ca_crl_sink dst = {sink_begin, sink_write, &sink};
  int made = ca_crl_stream(issuer, issuer->key, &info, &src, &dst, NULL);
  if (!made) {
    // The aggregate reads a snapshot of its own: a revocation committed
    // between it and the cursor's makes the entries differ from what it
    // measured. Once more on the same cursor, measured by a first pass
    // through it, whose snapshot both passes share.
    ca_err first;
    ca_err_copy(&first);
    if (sink.put != NULL) {
      (void)ca_crl_put_finish(sink.put, 1);
      sink.put = NULL;
    }
    const ca_crl_source twice = {source_next, source_rewind, &source, NULL};
    made = ca_crl_stream(issuer, issuer->key, &info, &twice, &dst, NULL);
    if (!made) {
      ca_err_restore(&first);
    }
  }
  if (sink.put != NULL) {
    const int stored = ca_crl_put_finish(sink.put, !made);
    CA_GUARD(made && stored);
  }
  CA_GUARD(made);
  if (out != NULL) {
    memset(out, 0, sizeof(*out));
    out->number = info.number;
    out->this_update = info.this_update;
    out->next_update = info.next_update;
  }
  ret = 1;
err:
  ca_revoked_stream_close(source.stream);
  free(source.rows);
  return ret;
}

int ca_crl_publish_tx(const ca_issuer *issuer, ca_store_tx *tx, int64_t now,
                      int64_t validity_s, uint64_t min_number,
                      ca_crl_row *out) {
  return publish(issuer, tx, 0, now, validity_of(validity_s), min_number, out);
}

// due returns when |state|'s CRL needs a new one: at once without one; once
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

// refresh_shard publishes the CRL of |issuer|'s |shard| in |tx| when it is
// due, and folds when it is due next into |pass|.
static int refresh_shard(ca_store_tx *tx, const ca_issuer *issuer,
                         unsigned shard, int64_t validity_s, int64_t interval_s,
                         int64_t now, ca_crl_pass *pass) {
  ca_crl_state state;
  CA_GUARD_RETURN(ca_store_tx_shard_crl_state(tx, issuer->id, shard, &state));
  const int64_t at = due(&state, validity_s, interval_s);
  if (shard == 0) {
    pass->open_at = state.found ? state.this_update + interval_s : now;
  }
  if (now < at) {
    if (pass->retry_at == 0 || at < pass->retry_at) {
      pass->retry_at = at;
    }
    return 1;
  }
  ca_crl_row row;
  CA_GUARD_RETURN(publish(issuer, tx, shard, now, validity_s, 0, &row));
  if (shard == 0) {
    pass->published = row.number;
    pass->open_at = now + interval_s;
  }
  pass->shards_published += shard > 0;
  if (pass->retry_at == 0 || now + interval_s < pass->retry_at) {
    pass->retry_at = now + interval_s;
  }
  return 1;
}

// shards_of returns how many shard CRLs |issuer| has with pkid
// --crl-shards |shards|: none unless it signs certificates that name one
// (an issuing CA with a CRL URL: issue.c).
static unsigned shards_of(const ca_issuer *issuer, unsigned shards) {
  return shards > 1 && issuer->crl_url[0] != '\0' &&
                 strcmp(issuer->role, "issuing") == 0
             ? shards
             : 0;
}

// refresh publishes the CRLs of |issuer| that are due, under its CRL lock,
// which it waits for when |wait| is 1: the CA-wide CRL and shards 1 to
// |shards|, or to the highest shard that has a CRL already.
static int refresh(ca_store *store, const ca_issuer *issuer, unsigned shards,
                   int64_t validity_s, int64_t interval_s, int64_t now,
                   int wait, ca_crl_pass *pass) {
  ca_store_tx *tx = NULL;
  int locked;
  unsigned top;
  memset(pass, 0, sizeof(*pass));
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
  CA_GUARD(ca_store_tx_crl_top_shard(tx, issuer->id, &top));
  if (top < shards_of(issuer, shards)) {
    top = shards_of(issuer, shards);
  }
  for (unsigned shard = 0; shard <= top; shard++) {
    CA_GUARD(
        refresh_shard(tx, issuer, shard, validity_s, interval_s, now, pass));
  }
  if (pass->published == 0 && pass->shards_published == 0) {
    ca_store_rollback(tx);
    return 1;
  }
  CA_GUARD(ca_store_commit(&tx));
  return 1;
err:
  ca_store_rollback(tx);
  memset(pass, 0, sizeof(*pass));
  return 0;
}

int ca_crl_refresh(ca_store *store, const ca_issuer *issuer, int64_t validity_s,
                   int64_t interval_s, int64_t now, ca_crl_pass *out) {
  return refresh(store, issuer, 0, validity_of(validity_s),
                 interval_of(interval_s), now, 0, out);
}

int ca_crl_current_shard(const ca_authority *authority, ca_store *store,
                         const ca_issuer *issuer, unsigned shard,
                         int64_t validity_s, int64_t interval_s,
                         ca_crl_row *out) {
  int found, pending;
  int64_t since;
  const int64_t now = (int64_t)time(NULL);
  const int64_t validity = validity_of(validity_s);
  const int64_t interval = interval_of(interval_s);
  const unsigned shards = shards_of(issuer, authority->crl_shards);
  CA_GUARD(ca_store_get_shard_crl(store, issuer->id, shard, out, &found));
  CA_ENSURE(found || shard <= shards, CA_ERR_NOT_FOUND,
            "CA %s has no CRL shard %u", issuer->name, shard);
  if (found && now < out->this_update + validity / 2 &&
      now < out->next_update) {
    // Measured from the oldest change alone: a CRL made after it may not
    // list it (committed after that CRL's read), and its due time was
    // promised from its commit.
    CA_GUARD(ca_store_shard_pending_since(store, issuer->id, shard, &since,
                                          &pending));
    if (!pending || now < since + interval + CA_CRL_WRITER_SLACK_SECONDS) {
      return 1;
    }
  }
  // No writer got to it: this request is one, waiting for the lock. It
  // publishes only what a writer would; then the stored CRL is current.
  OPENSSL_free(out->der);
  memset(out, 0, sizeof(*out));
  ca_crl_pass pass;
  CA_GUARD(refresh(store, issuer, shards, validity, interval, now, 1, &pass));
  CA_GUARD(ca_store_get_shard_crl(store, issuer->id, shard, out, &found));
  CA_ENSURE(found, CA_ERR_INTERNAL, "CA %s has no CRL", issuer->name);
  return 1;
err:
  OPENSSL_free(out->der);
  memset(out, 0, sizeof(*out));
  return 0;
}

int ca_crl_current(const ca_authority *authority, ca_store *store,
                   const ca_issuer *issuer, int64_t validity_s,
                   int64_t interval_s, ca_crl_row *out) {
  return ca_crl_current_shard(authority, store, issuer, 0, validity_s,
                              interval_s, out);
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
    if (!refresh(w->store, issuer, w->authority->crl_shards, validity, interval,
                 now, 0, &p)) {
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
