#include "ca/revocation/revoke.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/x509/serial.h"

// find_issuer returns the loaded CA of id |id|, or NULL.
static const ca_issuer *find_issuer(const ca_authority *authority, int64_t id) {
  for (size_t i = 0; i < authority->count; i++) {
    if (authority->issuers[i].id == id) {
      return &authority->issuers[i];
    }
  }
  return NULL;
}

// --- Batches (and single revocations, a batch of one) ---

// One batch in flight: the certificates its serials match, sorted by serial
// so that each item finds its own, and which of them the batch changes.
typedef struct batch_state {
  ca_cert_match *matches;
  size_t n_matches;
  uint8_t *changed;  // per match: an earlier item of the batch changed it
  uint8_t *held;     // per match: it was on hold when read (its row is
                     // replaced rather than made)
} batch_state;

static int cmp_by_serial(const void *a, const void *b) {
  const ca_cert_match *x = a, *y = b;
  const int c = strcmp(x->serial, y->serial);
  // Ties by id: the lowest id first, as ca_store_tx_lock_certificate.
  return c != 0 ? c : (x->state.id > y->state.id) - (x->state.id < y->state.id);
}

static int index_matches(batch_state *b) {
  b->changed = calloc(b->n_matches + 1, 1);
  b->held = calloc(b->n_matches + 1, 1);
  CA_ENSURE_RETURN(b->changed != NULL && b->held != NULL, CA_ERR_NO_MEMORY,
                   "out of memory");
  if (b->n_matches > 0) {
    qsort(b->matches, b->n_matches, sizeof(*b->matches), cmp_by_serial);
  }
  return 1;
}

// first_match returns the index in |b->matches| of the first match of
// |serial|, or |b->n_matches| when none.
static size_t first_match(const batch_state *b, const char *serial) {
  size_t lo = 0, hi = b->n_matches;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (strcmp(b->matches[mid].serial, serial) < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// decide checks item |r| (its serial already normalized into |out->serial|,
// its CA |issuer| when named) against the locked rows and fills |out| with
// the change to make; |*out_match| is the index of the row in |b->matches|.
// It returns 0 with the item's error.
static int decide(const ca_authority *authority, batch_state *b,
                  const ca_revocation_item *r, const ca_issuer *issuer,
                  int64_t now, ca_revocation_result *out, size_t *out_match) {
  CA_ENSURE_RETURN(ca_reason_valid(r->reason), CA_ERR_PARAMETER_INVALID,
                   "revocation reason %d is not accepted", r->reason);
  size_t matches = 0, found = 0;
  for (size_t m = first_match(b, out->serial);
       m < b->n_matches && strcmp(b->matches[m].serial, out->serial) == 0;
       m++) {
    if (issuer == NULL || b->matches[m].state.issuer_id == issuer->id) {
      if (matches++ == 0) {
        found = m;
      }
    }
  }
  CA_ENSURE_RETURN(matches > 0, CA_ERR_NOT_FOUND,
                   "no certificate with serial %s", out->serial);
  CA_ENSURE_RETURN(matches == 1, CA_ERR_AMBIGUOUS,
                   "serial %s exists under several CAs: name the issuer",
                   out->serial);
  const ca_cert_state *state = &b->matches[found].state;
  // A self-signed identity (no issuer: migration 0005) has no CA that could
  // publish its revocation: no CRL lists it and no OCSP responder answers
  // for it, so a "revoked" status here would mislead. Its relying parties
  // stop trusting it by removing it from their trust stores.
  CA_ENSURE_RETURN(
      state->issuer_id != 0, CA_ERR_CONFLICT,
      "serial %s is a self-signed identity: no CRL or OCSP covers it; "
      "regenerate it and remove the old one from the trust stores",
      out->serial);
  issuer = find_issuer(authority, state->issuer_id);
  CA_ENSURE_RETURN(issuer != NULL && issuer->key != NULL,
                   CA_ERR_ISSUER_UNAVAILABLE,
                   "the CA of serial %s is not loaded", out->serial);
  const int on_hold =
      state->revoked && state->reason == CA_REASON_CERTIFICATE_HOLD;
  // RFC 5280 5.3.1: certificateHold is the only reason that can be lifted;
  // a certificate on hold may still be revoked for good.
  CA_ENSURE_RETURN(
      !state->revoked || (on_hold && r->reason != CA_REASON_CERTIFICATE_HOLD),
      CA_ERR_ALREADY_REVOKED, "serial %s is already revoked (%s)", out->serial,
      ca_reason_name(state->reason));
  // A certificate put on hold by an earlier item: one change per
  // certificate and transaction.
  CA_ENSURE_RETURN(!b->changed[found], CA_ERR_PARAMETER_INVALID,
                   "serial %s appears earlier in this batch", out->serial);
  int64_t when = now;
  if (r->when != 0) {
    // A later time than now would be a promise; an earlier one than the
    // certificate's start, nonsense.
    CA_ENSURE_RETURN(r->when <= now + 300 && r->when >= state->not_before,
                     CA_ERR_PARAMETER_INVALID,
                     "revocation time must lie between the certificate's "
                     "notBefore and now");
    when = r->when;
  }
  // Later items of the batch see it revoked.
  b->changed[found] = 1;
  b->held[found] = (uint8_t)on_hold;
  b->matches[found].state.revoked = 1;
  b->matches[found].state.reason = r->reason;
  out->issuer = issuer;
  out->revoked = 1;
  out->revoked_at = when;
  out->reason = r->reason;
  *out_match = found;
  return 1;
}

// What the transaction writes for the items that pass.
typedef struct batch_writes {
  ca_revocation_row *rows;
  const char **actors;  // borrowed from the items or the batch
  const char **sources;
  const char **objects;  // serials, borrowed from the results
  const char **details;
  const char **payloads;
  char (*detail_buf)[48];
  char (*payload_buf)[64];
  int64_t *issuers;  // distinct CAs touched
  size_t n, n_issuers;
} batch_writes;

static void writes_free(batch_writes *w) {
  free(w->rows);
  free(w->actors);
  free(w->sources);
  free(w->objects);
  free(w->details);
  free(w->payloads);
  free(w->detail_buf);
  free(w->payload_buf);
  free(w->issuers);
}

static int writes_alloc(batch_writes *w, size_t n) {
  memset(w, 0, sizeof(*w));
  const size_t k = n > 0 ? n : 1;
  w->rows = calloc(k, sizeof(*w->rows));
  w->actors = calloc(k, sizeof(*w->actors));
  w->sources = calloc(k, sizeof(*w->sources));
  w->objects = calloc(k, sizeof(*w->objects));
  w->details = calloc(k, sizeof(*w->details));
  w->payloads = calloc(k, sizeof(*w->payloads));
  w->detail_buf = calloc(k, sizeof(*w->detail_buf));
  w->payload_buf = calloc(k, sizeof(*w->payload_buf));
  w->issuers = calloc(k, sizeof(*w->issuers));
  CA_ENSURE_RETURN(w->rows != NULL && w->actors != NULL && w->sources != NULL &&
                       w->objects != NULL && w->details != NULL &&
                       w->payloads != NULL && w->detail_buf != NULL &&
                       w->payload_buf != NULL && w->issuers != NULL,
                   CA_ERR_NO_MEMORY, "out of memory");
  return 1;
}

static void add_write(batch_writes *w, const ca_revocation_batch *batch,
                      const ca_revocation_item *item,
                      const ca_revocation_result *r, int64_t cert_id,
                      int held) {
  const size_t i = w->n++;
  w->rows[i] = (ca_revocation_row){cert_id, r->revoked_at, r->reason, held};
  w->actors[i] = item->actor != NULL ? item->actor : batch->actor;
  w->sources[i] = item->source != NULL ? item->source : batch->source;
  w->objects[i] = r->serial;
  snprintf(w->detail_buf[i], sizeof(w->detail_buf[i]), "reason=%s",
           ca_reason_name(r->reason));
  w->details[i] = w->detail_buf[i];
  snprintf(w->payload_buf[i], sizeof(w->payload_buf[i]), "%" PRId64 ":%s",
           r->issuer->id, r->serial);
  w->payloads[i] = w->payload_buf[i];
  for (size_t k = 0; k < w->n_issuers; k++) {
    if (w->issuers[k] == r->issuer->id) {
      return;
    }
  }
  w->issuers[w->n_issuers++] = r->issuer->id;
}

// commit_writes records |w| in |tx| and commits; |*raced| as
// ca_revocation_writes.raced.
static int commit_writes(ca_store_tx **tx, const batch_writes *w, int *raced) {
  const ca_revocation_writes writes = {
      .rows = w->rows,
      .actors = w->actors,
      .sources = w->sources,
      .objects = w->objects,
      .details = w->details,
      .payloads = w->payloads,
      .n = w->n,
      .issuers = w->issuers,
      .n_issuers = w->n_issuers,
      .action = "revoke",
      .channel = CA_REVOCATION_CHANNEL,
      .raced = raced,
  };
  return ca_store_commit_revocations(tx, &writes);
}

// prepare normalizes each item's serial and CA into its result; an item
// that fails there gets its error and no lookup.
static int prepare(const ca_authority *authority,
                   const ca_revocation_batch *batch,
                   ca_revocation_result *results, const ca_issuer **named,
                   const char **serials, size_t *out_n) {
  size_t n = 0;
  for (size_t i = 0; i < batch->n; i++) {
    const ca_revocation_item *r = &batch->items[i];
    ca_revocation_result *out = &results[i];
    ca_serial serial;
    named[i] = NULL;
    if (r->serial == NULL ||
        !ca_serial_from_hex(r->serial, strlen(r->serial), &serial)) {
      if (r->serial == NULL) {
        CA_SET_ERROR(CA_ERR_PARAMETER_INVALID, "no serial");
      }
      ca_err_copy(&out->err);
      continue;
    }
    ca_serial_to_hex(&serial, out->serial);
    if (r->issuer != NULL && r->issuer[0] != '\0') {
      named[i] = ca_authority_find(authority, r->issuer);
      if (named[i] == NULL) {
        ca_err_copy(&out->err);
        continue;
      }
    }
    serials[n++] = out->serial;
  }
  *out_n = n;
  return 1;
}

// revoke_once is one attempt of ca_revoke_batch; |*raced| tells that it
// failed because a concurrent change of one of its certificates came
// between the read and the write.
static int revoke_once(const ca_authority *authority, ca_store *store,
                       const ca_revocation_batch *batch,
                       ca_revocation_result *results, size_t *out_revoked,
                       int *raced) {
  int ret = 0;
  ca_store_tx *tx = NULL;
  batch_state b;
  batch_writes w;
  memset(&b, 0, sizeof(b));
  memset(&w, 0, sizeof(w));
  const ca_issuer **named = calloc(batch->n + 1, sizeof(*named));
  const char **serials = calloc(batch->n + 1, sizeof(*serials));
  size_t n_serials = 0;
  const int64_t now = (int64_t)time(NULL);
  *out_revoked = 0;
  memset(results, 0, batch->n * sizeof(*results));
  CA_ENSURE(named != NULL && serials != NULL, CA_ERR_NO_MEMORY,
            "out of memory");
  CA_GUARD(writes_alloc(&w, batch->n));
  CA_GUARD(prepare(authority, batch, results, named, serials, &n_serials));
  if (n_serials > 0) {
    CA_GUARD(ca_store_begin_revocations(store, serials, n_serials, &tx,
                                        &b.matches, &b.n_matches));
  }
  CA_GUARD(index_matches(&b));
  for (size_t i = 0; i < batch->n; i++) {
    ca_revocation_result *out = &results[i];
    size_t m;
    if (out->err.code != CA_OK) {
      continue;
    }
    if (!decide(authority, &b, &batch->items[i], named[i], now, out, &m)) {
      ca_err_copy(&out->err);
      continue;
    }
    add_write(&w, batch, &batch->items[i], out, b.matches[m].state.id,
              b.held[m]);
  }
  // Every item refused before any lookup: no transaction.
  if (tx != NULL) {
    CA_GUARD(commit_writes(&tx, &w, raced));
  }
  // From after the commit: the queued rows are older than that, which is
  // what ca_crl_current measures from.
  const int64_t due_at =
      ca_crl_due_at((int64_t)time(NULL), batch->crl_interval_s);
  for (size_t i = 0; i < batch->n; i++) {
    if (results[i].err.code == CA_OK) {
      results[i].crl_due_at = due_at;
    }
  }
  *out_revoked = w.n;
  ret = 1;
err:
  if (!ret) {
    // Nothing was written: no item is revoked, whatever it was found to be.
    for (size_t i = 0; i < batch->n; i++) {
      results[i].revoked = 0;
    }
  }
  ca_store_rollback(tx);
  writes_free(&w);
  free(b.matches);
  free(b.changed);
  free(b.held);
  free(named);
  free(serials);
  return ret;
}

// A batch whose certificates another revocation changed meanwhile is
// decided again on what that one committed (an item it revoked is then
// already revoked). Each attempt after the first follows a commit of a
// change to one of the batch's certificates, so a few always suffice in
// practice; past them the batch fails with CA_ERR_CONFLICT.
#define REVOKE_ATTEMPTS 8

int ca_revoke_batch(const ca_authority *authority, ca_store *store,
                    const ca_revocation_batch *batch,
                    ca_revocation_result *results, size_t *out_revoked) {
  for (int attempt = 0; attempt < REVOKE_ATTEMPTS; attempt++) {
    int raced = 0;
    if (revoke_once(authority, store, batch, results, out_revoked, &raced)) {
      return 1;
    }
    if (!raced) {
      return 0;
    }
  }
  CA_SET_ERROR(CA_ERR_CONFLICT,
               "the certificates' revocation state kept changing "
               "concurrently: try again");
  return 0;
}

int ca_revoke(const ca_authority *authority, ca_store *store,
              const ca_revocation *r, ca_revocation_result *out) {
  const ca_revocation_item item = {r->serial, r->issuer, r->reason,
                                   r->when,   NULL,      NULL};
  const ca_revocation_batch batch = {&item, 1, r->actor, r->source,
                                     r->crl_interval_s};
  size_t revoked;
  CA_GUARD_RETURN(ca_revoke_batch(authority, store, &batch, out, &revoked));
  if (out->err.code != CA_OK) {
    ca_err_restore(&out->err);
    return 0;
  }
  return 1;
}

// --- Releasing a hold ---

int ca_unhold(const ca_authority *authority, ca_store *store,
              const ca_revocation *r, ca_revocation_result *out) {
  ca_store_tx *tx = NULL;
  ca_serial serial;
  const ca_issuer *issuer = NULL;
  memset(out, 0, sizeof(*out));
  CA_GUARD(ca_serial_from_hex(r->serial, strlen(r->serial), &serial));
  ca_serial_to_hex(&serial, out->serial);
  if (r->issuer != NULL && r->issuer[0] != '\0') {
    issuer = ca_authority_find(authority, r->issuer);
    CA_GUARD_PTR(issuer);
  }
  CA_GUARD(ca_store_begin(store, &tx));
  ca_cert_state state;
  size_t matches;
  CA_GUARD(ca_store_tx_lock_certificate(
      tx, out->serial, issuer != NULL ? issuer->id : 0, &state, &matches));
  CA_ENSURE(matches > 0, CA_ERR_NOT_FOUND, "no certificate with serial %s",
            out->serial);
  CA_ENSURE(matches == 1, CA_ERR_AMBIGUOUS,
            "serial %s exists under several CAs: name the issuer", out->serial);
  CA_ENSURE(state.issuer_id != 0, CA_ERR_CONFLICT,
            "serial %s is a self-signed identity: no CRL or OCSP covers it",
            out->serial);
  issuer = find_issuer(authority, state.issuer_id);
  CA_ENSURE(issuer != NULL && issuer->key != NULL, CA_ERR_ISSUER_UNAVAILABLE,
            "the CA of serial %s is not loaded", out->serial);
  const int on_hold =
      state.revoked && state.reason == CA_REASON_CERTIFICATE_HOLD;
  CA_ENSURE(on_hold, CA_ERR_NOT_ON_HOLD,
            "serial %s is not on hold (certificateHold): %s", out->serial,
            state.revoked ? "its revocation is final" : "it is good");
  // Only while still on hold: a batch, which does not lock, may have
  // revoked it for good since it was read.
  CA_GUARD(ca_store_tx_set_revocation(tx, state.id, 0, 0,
                                      CA_REASON_CERTIFICATE_HOLD));
  CA_GUARD(ca_store_tx_audit(tx, r->actor, "unhold", out->serial, r->source,
                             "ok", "released from hold"));
  char payload[64];
  snprintf(payload, sizeof(payload), "%" PRId64 ":%s", issuer->id, out->serial);
  CA_GUARD(ca_store_tx_notify(tx, CA_REVOCATION_CHANNEL, payload));
  CA_GUARD(ca_store_tx_queue_crl(tx, issuer->id));
  CA_GUARD(ca_store_commit(&tx));
  out->issuer = issuer;
  out->crl_due_at = ca_crl_due_at((int64_t)time(NULL), r->crl_interval_s);
  return 1;
err:
  ca_store_rollback(tx);
  return 0;
}
