#include "ca/revocation/revoke.h"

#include <inttypes.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/x509/serial.h"

static int64_t validity_of(int64_t requested) {
  return requested > 0 ? requested : CA_CRL_DEFAULT_VALIDITY_SECONDS;
}

// publish_crl makes and stores a new CRL of |issuer| in |tx|, with the next
// CRL number.
static int publish_crl(const ca_issuer *issuer, ca_store_tx *tx, int64_t now,
                       int64_t validity_s, uint64_t min_number,
                       ca_crl_row *out) {
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

// change applies a revocation (|revoke| 1) or a release (0) in one
// transaction, with its audit row, CRL and notification.
static int change(const ca_authority *authority, ca_store *store,
                  const ca_revocation *r, int revoke,
                  ca_revocation_result *out) {
  ca_store_tx *tx = NULL;
  ca_serial serial;
  const ca_issuer *issuer = NULL;
  const int64_t now = (int64_t)time(NULL);
  memset(out, 0, sizeof(*out));
  CA_GUARD(ca_serial_from_hex(r->serial, strlen(r->serial), &serial));
  ca_serial_to_hex(&serial, out->serial);
  if (r->issuer != NULL && r->issuer[0] != '\0') {
    issuer = ca_authority_find(authority, r->issuer);
    CA_GUARD_PTR(issuer);
  }
  if (revoke) {
    CA_ENSURE(ca_reason_valid(r->reason), CA_ERR_PARAMETER_INVALID,
              "revocation reason %d is not accepted", r->reason);
  }
  CA_GUARD(ca_store_begin_large(store, &tx));
  ca_cert_state state;
  size_t matches;
  CA_GUARD(ca_store_tx_lock_certificate(
      tx, out->serial, issuer != NULL ? issuer->id : 0, &state, &matches));
  CA_ENSURE(matches > 0, CA_ERR_NOT_FOUND, "no certificate with serial %s",
            out->serial);
  CA_ENSURE(matches == 1, CA_ERR_AMBIGUOUS,
            "serial %s exists under several CAs: name the issuer", out->serial);
  // A self-signed identity (no issuer: migration 0005) has no CA that could
  // publish its revocation: no CRL lists it and no OCSP responder answers
  // for it, so a "revoked" status here would mislead. Its relying parties
  // stop trusting it by removing it from their trust stores.
  CA_ENSURE(state.issuer_id != 0, CA_ERR_CONFLICT,
            "serial %s is a self-signed identity: no CRL or OCSP covers it; "
            "regenerate it and remove the old one from the trust stores",
            out->serial);
  for (size_t i = 0; issuer == NULL && i < authority->count; i++) {
    if (authority->issuers[i].id == state.issuer_id) {
      issuer = &authority->issuers[i];
    }
  }
  CA_ENSURE(issuer != NULL && issuer->key != NULL, CA_ERR_ISSUER_UNAVAILABLE,
            "the CA of serial %s is not loaded", out->serial);
  const int on_hold =
      state.revoked && state.reason == CA_REASON_CERTIFICATE_HOLD;
  int64_t when = now;
  char detail[96];
  if (revoke) {
    // RFC 5280 5.3.1: certificateHold is the only reason that can be lifted;
    // a certificate on hold may still be revoked for good.
    CA_ENSURE(
        !state.revoked || (on_hold && r->reason != CA_REASON_CERTIFICATE_HOLD),
        CA_ERR_ALREADY_REVOKED, "serial %s is already revoked (%s)",
        out->serial, ca_reason_name(state.reason));
    if (r->when != 0) {
      // A later time than now would be a promise; an earlier one than the
      // certificate's start, nonsense.
      CA_ENSURE(r->when <= now + 300 && r->when >= state.not_before,
                CA_ERR_PARAMETER_INVALID,
                "revocation time must lie between the certificate's "
                "notBefore and now");
      when = r->when;
    }
    CA_GUARD(ca_store_tx_set_revocation(tx, state.id, 1, when, r->reason));
    snprintf(detail, sizeof(detail), "reason=%s", ca_reason_name(r->reason));
  } else {
    CA_ENSURE(on_hold, CA_ERR_NOT_ON_HOLD,
              "serial %s is not on hold (certificateHold): %s", out->serial,
              state.revoked ? "its revocation is final" : "it is good");
    CA_GUARD(ca_store_tx_set_revocation(tx, state.id, 0, 0, 0));
    snprintf(detail, sizeof(detail), "released from hold");
  }
  CA_GUARD(ca_store_tx_audit(tx, r->actor, revoke ? "revoke" : "unhold",
                             out->serial, r->source, "ok", detail));
  ca_crl_row crl;
  memset(&crl, 0, sizeof(crl));
  CA_GUARD(
      publish_crl(issuer, tx, now, validity_of(r->crl_validity_s), 0, &crl));
  OPENSSL_free(crl.der);
  char payload[64];
  snprintf(payload, sizeof(payload), "%" PRId64 ":%s", issuer->id, out->serial);
  CA_GUARD(ca_store_tx_notify(tx, CA_REVOCATION_CHANNEL, payload));
  CA_GUARD(ca_store_commit(&tx));
  out->issuer = issuer;
  out->revoked = revoke;
  out->revoked_at = revoke ? when : 0;
  out->reason = revoke ? r->reason : 0;
  out->crl_number = crl.number;
  return 1;
err:
  ca_store_rollback(tx);
  return 0;
}

int ca_crl_publish_tx(const ca_issuer *issuer, ca_store_tx *tx, int64_t now,
                      int64_t validity_s, uint64_t min_number,
                      ca_crl_row *out) {
  return publish_crl(issuer, tx, now, validity_of(validity_s), min_number, out);
}

int ca_revoke(const ca_authority *authority, ca_store *store,
              const ca_revocation *request, ca_revocation_result *out) {
  return change(authority, store, request, 1, out);
}

int ca_unhold(const ca_authority *authority, ca_store *store,
              const ca_revocation *request, ca_revocation_result *out) {
  return change(authority, store, request, 0, out);
}

int ca_crl_current(const ca_authority *authority, ca_store *store,
                   const ca_issuer *issuer, int64_t validity_s,
                   ca_crl_row *out) {
  (void)authority;
  ca_store_tx *tx = NULL;
  int found;
  const int64_t now = (int64_t)time(NULL);
  const int64_t validity = validity_of(validity_s);
  CA_GUARD(ca_store_get_crl(store, issuer->id, out, &found));
  if (found && now < out->this_update + validity / 2 &&
      now < out->next_update) {
    return 1;
  }
  OPENSSL_free(out->der);
  memset(out, 0, sizeof(*out));
  CA_ENSURE(issuer->key != NULL, CA_ERR_ISSUER_UNAVAILABLE,
            "the key of CA %s is not loaded", issuer->name);
  CA_GUARD(ca_store_begin_large(store, &tx));
  CA_GUARD(publish_crl(issuer, tx, now, validity, 0, out));
  CA_GUARD(ca_store_commit(&tx));
  return 1;
err:
  ca_store_rollback(tx);
  OPENSSL_free(out->der);
  memset(out, 0, sizeof(*out));
  return 0;
}
