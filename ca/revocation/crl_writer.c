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

// The times a CA's CRLs keep, in seconds.
typedef struct crl_times {
  int64_t validity;  // nextUpdate - thisUpdate (--crl-validity-days)
  // The least time between two CRLs of a (CA, shard), and the most a change
  // waits for the CRL its certificate names (--crl-interval).
  int64_t interval;
  // The least time between two CA-wide CRLs for changes a shard's CRL
  // carries (--crl-wide-interval): |interval| when the CA has no shards.
  int64_t wide;
} crl_times;

// shards_of returns how many shard CRLs |issuer| has with pkid
// --crl-shards |shards|: none unless it signs certificates that name one
// (an issuing CA with a CRL URL: issue.c).
static unsigned shards_of(const ca_issuer *issuer, unsigned shards) {
  return shards > 1 && issuer->crl_url[0] != '\0' &&
                 strcmp(issuer->role, "issuing") == 0
             ? shards
             : 0;
}

// times_of returns the times of |issuer|'s CRLs with pkid --crl-shards
// |shards|: without shards every change waits for the CA-wide CRL alone,
// which then keeps the interval.
static crl_times times_of(const ca_issuer *issuer, unsigned shards,
                          int64_t validity_s, int64_t interval_s,
                          int64_t wide_interval_s) {
  crl_times t = {validity_of(validity_s), interval_of(interval_s), 0};
  t.wide = wide_interval_s > 0 ? wide_interval_s
                               : CA_CRL_DEFAULT_WIDE_INTERVAL_SECONDS;
  if (shards_of(issuer, shards) == 0 || t.wide < t.interval) {
    t.wide = t.interval;
  }
  return t;
}

// due returns when |state|'s CRL needs a new one: at once without one; once
// half the validity has passed or nextUpdate has come; and, with changes
// queued (|wait_s| >= 0), once |wait_s| has passed since thisUpdate.
static int64_t due(const ca_crl_state *state, int64_t validity_s,
                   int64_t wait_s) {
  if (!state->found) {
    return 0;
  }
  int64_t at = state->this_update + validity_s / 2;
  if (state->next_update < at) {
    at = state->next_update;
  }
  if (wait_s >= 0 && state->this_update + wait_s < at) {
    at = state->this_update + wait_s;
  }
  return at;
}

static void fold_min(int64_t *into, int64_t at) {
  if (*into == 0 || at < *into) {
    *into = at;
  }
}

// read_due reads the state of |issuer|'s |shard| CRL and sets |*out_at| to
// when it is due. The CA-wide CRL (0) carries every change of the CA, but
// it is the CRL a certificate names only for certificates without a shard:
// their changes make it due at the interval, the others at the wide one.
static int read_due(ca_store_tx *tx, const ca_issuer *issuer, unsigned shard,
                    const crl_times *t, ca_crl_state *state, int64_t *out_at) {
  int64_t wait = -1;
  if (shard == 0) {
    ca_crl_wide_pending q;
    CA_GUARD_RETURN(ca_store_tx_wide_crl_state(tx, issuer->id, state, &q));
    wait = q.own ? t->interval : q.any ? t->wide : -1;
  } else {
    CA_GUARD_RETURN(ca_store_tx_shard_crl_state(tx, issuer->id, shard, state));
    wait = state->pending ? t->interval : -1;
  }
  *out_at = due(state, t->validity, wait);
  return 1;
}

// refresh_shard publishes the CRL of |issuer|'s |shard| in |tx| when it is
// due, and folds when it is due next, and when a change queued now could
// go into it, into |pass|.
static int refresh_shard(ca_store_tx *tx, const ca_issuer *issuer,
                         unsigned shard, const crl_times *t, int64_t now,
                         ca_crl_pass *pass) {
  ca_crl_state state;
  int64_t at;
  CA_GUARD_RETURN(read_due(tx, issuer, shard, t, &state, &at));
  if (now < at) {
    fold_min(&pass->retry_at, at);
    fold_min(&pass->open_at,
             state.found ? state.this_update + t->interval : now);
    return 1;
  }
  ca_crl_row row;
  CA_GUARD_RETURN(publish(issuer, tx, shard, now, t->validity, 0, &row));
  if (shard == 0) {
    pass->published = row.number;
  }
  pass->shards_published += shard > 0;
  fold_min(&pass->retry_at, now + t->interval);
  return 1;
}

// refresh publishes the CRLs of |issuer| that are due, under its CRL lock,
// which it waits for when |wait| is 1: the CA-wide CRL and shards 1 to
// |shards|, or to the highest shard that has a CRL already.
static int refresh(ca_store *store, const ca_issuer *issuer, unsigned shards,
                   const crl_times *t, int64_t now, int wait,
                   ca_crl_pass *pass) {
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
    pass->retry_at = now + t->interval;
    pass->open_at = now;
    ca_store_rollback(tx);
    return 1;
  }
  CA_GUARD(ca_store_tx_crl_top_shard(tx, issuer->id, &top));
  if (top < shards_of(issuer, shards)) {
    top = shards_of(issuer, shards);
  }
  for (unsigned shard = 0; shard <= top; shard++) {
    CA_GUARD(refresh_shard(tx, issuer, shard, t, now, pass));
  }
  if (pass->published == 0 && pass->shards_published == 0) {
    ca_store_rollback(tx);
    return 1;
  }
  CA_GUARD(ca_store_commit(&tx));
  // A pass that published waits an interval for the next changes, whichever
  // CRL they go to (every CRL with one waiting was published now, and the
  // periodic pass comes within the interval anyway): under a stream of
  // revocations, one pass per interval, not one per wake-up.
  pass->open_at = now + t->interval;
  return 1;
err:
  ca_store_rollback(tx);
  memset(pass, 0, sizeof(*pass));
  return 0;
}

int ca_crl_refresh(ca_store *store, const ca_issuer *issuer, int64_t validity_s,
                   int64_t interval_s, int64_t now, ca_crl_pass *out) {
  const crl_times t = times_of(issuer, 0, validity_s, interval_s, 0);
  return refresh(store, issuer, 0, &t, now, 0, out);
}

// late tells whether a change has waited for |issuer|'s |shard| CRL longer
// than a writer lets it (its wait and CA_CRL_WRITER_SLACK_SECONDS) at
// |now|. Measured from the oldest change alone: a CRL made after it may
// not list it (committed after that CRL's read), and its due time was
// promised from its commit.
static int late(ca_store *store, const ca_issuer *issuer, unsigned shard,
                const crl_times *t, int64_t now, int *out_late) {
  int64_t since;
  int pending;
  *out_late = 0;
  if (shard > 0) {
    CA_GUARD_RETURN(ca_store_shard_pending_since(store, issuer->id, shard,
                                                 &since, &pending));
    *out_late =
        pending && now >= since + t->interval + CA_CRL_WRITER_SLACK_SECONDS;
    return 1;
  }
  ca_crl_wide_pending q;
  CA_GUARD_RETURN(ca_store_wide_pending(store, issuer->id, &q));
  *out_late =
      (q.own &&
       now >= q.own_since + t->interval + CA_CRL_WRITER_SLACK_SECONDS) ||
      (q.any && now >= q.any_since + t->wide + CA_CRL_WRITER_SLACK_SECONDS);
  return 1;
}

int ca_crl_current_shard(const ca_authority *authority, ca_store *store,
                         const ca_issuer *issuer, unsigned shard,
                         int64_t validity_s, int64_t interval_s,
                         int64_t wide_interval_s, ca_crl_row *out) {
  int found, stale;
  const int64_t now = (int64_t)time(NULL);
  const unsigned shards = shards_of(issuer, authority->crl_shards);
  const crl_times t = times_of(issuer, authority->crl_shards, validity_s,
                               interval_s, wide_interval_s);
  CA_GUARD(ca_store_get_shard_crl(store, issuer->id, shard, out, &found));
  CA_ENSURE(found || shard <= shards, CA_ERR_NOT_FOUND,
            "CA %s has no CRL shard %u", issuer->name, shard);
  if (found && now < out->this_update + t.validity / 2 &&
      now < out->next_update) {
    CA_GUARD(late(store, issuer, shard, &t, now, &stale));
    if (!stale) {
      return 1;
    }
  }
  // No writer got to it: this request is one, waiting for the lock. It
  // publishes only what a writer would; then the stored CRL is current.
  OPENSSL_free(out->der);
  memset(out, 0, sizeof(*out));
  ca_crl_pass pass;
  CA_GUARD(refresh(store, issuer, shards, &t, now, 1, &pass));
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
                              interval_s, 0, out);
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
  const int64_t start = realtime_ms();
  int64_t next = start + interval * 1000, earliest = next;
  for (size_t i = 0; i < w->authority->count; i++) {
    const ca_issuer *issuer = &w->authority->issuers[i];
    const int64_t now = (int64_t)time(NULL);
    if (issuer->key == NULL || issuer->cert.not_after <= now) {
      continue;  // another node holds its key, or it signs no more
    }
    const crl_times t =
        times_of(issuer, w->authority->crl_shards, w->config.validity_s,
                 w->config.interval_s, w->config.wide_interval_s);
    ca_crl_pass p;
    if (!refresh(w->store, issuer, w->authority->crl_shards, &t, now, 0, &p)) {
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
