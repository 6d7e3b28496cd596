#include "ca/exchange/issued_import.h"

#include <inttypes.h>
#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/issue/engine.h"
#include "ca/limits.h"
#include "ca/oid.h"
#include "ca/policy/trust.h"
#include "ca/revocation/crl.h"
#include "ca/revocation/revoke.h"
#include "ca/x509/san.h"
#include "ca/x509/serial.h"
#include "ca/x509/x509.h"
#include "ca/x509/x509_verify.h"

// What one entry becomes: the row to insert, read from its DER.
typedef struct parsed_entry {
  ca_trust_cert cert;  // subject, common name, key, validity
  ca_x509 x509;        // views into |cert.der|
  char serial[CA_SERIAL_HEX_LEN];
  ca_san_list sans;
  char san_text[CA_LIMIT_SAN_COUNT][300];
  const char *san_ptrs[CA_LIMIT_SAN_COUNT];
  const ca_issuer *issuer;  // NULL for a self-signed one
} parsed_entry;

static int same_bytes(const uint8_t *a, size_t a_len, const uint8_t *b,
                      size_t b_len) {
  return a_len == b_len && memcmp(a, b, a_len) == 0;
}

// held_by_exporter returns 1 when |issuer|'s certificate is among the
// exporter's CA certificates: the entry names a CA by name, and the name
// alone would match the CA of another installation.
static int held_by_exporter(const ca_issuer *issuer,
                            const ca_issued_import_request *req) {
  for (size_t i = 0; i < req->n_cas; i++) {
    if (same_bytes(req->ca_ders[i], req->ca_lens[i], issuer->der,
                   issuer->der_len)) {
      return 1;
    }
  }
  return 0;
}

// verify_self_signed checks a self-signed certificate with its own key.
static int verify_self_signed(const ca_x509 *x509) {
  CBS spki = x509->spki;
  EVP_PKEY *key = EVP_parse_public_key(&spki);
  if (key == NULL) {
    ERR_clear_error();
    CA_SET_ERROR(CA_ERR_CERT_MALFORMED, "its public key is unreadable");
    return 0;
  }
  const int ok = CBS_mem_equal(&x509->issuer, CBS_data(&x509->subject),
                               CBS_len(&x509->subject)) &&
                 ca_x509_verify_signed_by(x509, key);
  EVP_PKEY_free(key);
  CA_ENSURE_RETURN(ok, CA_ERR_CERT_MALFORMED, "not self-signed");
  return 1;
}

// parse_entry reads entry |index| and finds its CA.
static int parse_entry(const ca_authority *authority,
                       const ca_issued_import_request *req, size_t index,
                       parsed_entry *out) {
  const ca_issued_entry *e = &req->entries[index];
  char why[256];
  CA_ENSURE(e->der_len > 0 && e->der_len <= CA_LIMIT_TRUST_CERT_BYTES,
            CA_ERR_BUNDLE_MALFORMED,
            "entry %zu: no certificate or over %d bytes", index,
            CA_LIMIT_TRUST_CERT_BYTES);
  CA_ENSURE(
      e->profile != NULL && e->profile[0] != '\0' &&
          strlen(e->profile) <= CA_LIMIT_BUNDLE_TEXT_LEN && e->issuer != NULL &&
          strlen(e->issuer) <= 64 && e->cluster != NULL &&
          strlen(e->cluster) <= CA_LIMIT_CLUSTER_LEN && e->requester != NULL &&
          strlen(e->requester) <= CA_LIMIT_BUNDLE_TEXT_LEN,
      CA_ERR_BUNDLE_MALFORMED,
      "entry %zu: a profile of 1 to %d bytes, an issuer, a cluster and "
      "a requester of bounded length",
      index, CA_LIMIT_BUNDLE_TEXT_LEN);
  if (e->revoked) {
    CA_ENSURE(e->revoked_at > 0 && ca_reason_valid(e->reason),
              CA_ERR_BUNDLE_MALFORMED,
              "entry %zu: revoked without a time or with reason %d", index,
              e->reason);
  }
  if (!ca_trust_cert_read(e->der, e->der_len, &out->cert)) {
    snprintf(why, sizeof(why), "%s", ca_err_get()->message);
    CA_RAISE(CA_ERR_BUNDLE_MALFORMED, "entry %zu: %s", index, why);
  }
  CA_ENSURE(strcmp(out->cert.key_type, "RSA") == 0 ||
                strcmp(out->cert.key_type, "EC") == 0,
            CA_ERR_BUNDLE_MALFORMED, "entry %zu: a key pki does not issue for",
            index);
  CA_ENSURE(out->cert.not_before < out->cert.not_after, CA_ERR_BUNDLE_MALFORMED,
            "entry %zu: bad validity", index);
  CA_GUARD(ca_x509_parse(&out->x509, out->cert.der, out->cert.der_len));
  ca_serial serial;
  CA_GUARD(ca_serial_from_integer(&out->x509.serial, &serial));
  ca_serial_to_hex(&serial, out->serial);
  ca_serial claimed;
  CA_ENSURE(e->serial != NULL &&
                ca_serial_from_hex(e->serial, strlen(e->serial), &claimed) &&
                claimed.len == serial.len &&
                memcmp(claimed.bytes, serial.bytes, serial.len) == 0,
            CA_ERR_BUNDLE_MALFORMED,
            "entry %zu: serial %.64s is not its certificate's (%s)", index,
            e->serial != NULL ? e->serial : "", out->serial);
  // SANs as issuance records them ("DNS:...", "IP:...").
  CBS san_value;
  int critical;
  out->sans.count = 0;
  if (ca_x509_find_extension(&out->x509, kOidSubjectAltName,
                             sizeof(kOidSubjectAltName), &san_value,
                             &critical)) {
    if (!ca_san_parse(&out->sans, &san_value)) {
      snprintf(why, sizeof(why), "%s", ca_err_get()->message);
      CA_RAISE(CA_ERR_BUNDLE_MALFORMED, "entry %zu: %s", index, why);
    }
  }
  for (size_t i = 0; i < out->sans.count; i++) {
    CA_ENSURE(ca_san_format(&out->sans.items[i], out->san_text[i],
                            sizeof(out->san_text[i])),
              CA_ERR_INTERNAL, "SAN too long");
    out->san_ptrs[i] = out->san_text[i];
  }
  if (e->issuer[0] == '\0') {
    out->issuer = NULL;
    CA_ENSURE(!e->revoked, CA_ERR_BUNDLE_MALFORMED,
              "entry %zu: a self-signed certificate cannot be revoked", index);
    if (!verify_self_signed(&out->x509)) {
      snprintf(why, sizeof(why), "%s", ca_err_get()->message);
      CA_RAISE(CA_ERR_BUNDLE_MALFORMED, "entry %zu (serial %s): %s", index,
               out->serial, why);
    }
    return 1;
  }
  // The CA: the one of that name here, if it is the exporter's too.
  out->issuer = NULL;
  for (size_t i = 0; i < authority->count; i++) {
    if (strcmp(authority->issuers[i].name, e->issuer) == 0) {
      out->issuer = &authority->issuers[i];
    }
  }
  CA_ENSURE(out->issuer != NULL && out->issuer->key != NULL &&
                held_by_exporter(out->issuer, req),
            CA_ERR_ISSUER_UNAVAILABLE,
            "entry %zu (serial %s): this pki does not hold the CA %.64s that "
            "issued it (start it with --adopt-cas and that CA's key)",
            index, out->serial, e->issuer);
  CA_ENSURE(
      CBS_mem_equal(&out->x509.issuer, CBS_data(&out->issuer->cert.subject),
                    CBS_len(&out->issuer->cert.subject)),
      CA_ERR_BUNDLE_MALFORMED,
      "entry %zu (serial %s): not issued by the CA %s it names", index,
      out->serial, e->issuer);
  if (!ca_x509_verify_signed_by(&out->x509, out->issuer->key)) {
    snprintf(why, sizeof(why), "%s", ca_err_get()->message);
    CA_RAISE(CA_ERR_BUNDLE_MALFORMED, "entry %zu (serial %s) under CA %s: %s",
             index, out->serial, e->issuer, why);
  }
  return 1;
err:
  ca_trust_cert_cleanup(&out->cert);
  return 0;
}

// What happens to a stored certificate's state.
enum { KEEP, APPLY };

// next_state decides, for a certificate stored with state |have|, what
// the entry |e| does to it. A final revocation never changes (RFC 5280
// 5.3.1: only certificateHold may be undone); a hold follows the exporter,
// whose state is the later one.
static int next_state(const ca_cert_state *have, const ca_issued_entry *e) {
  if (!have->revoked) {
    return e->revoked ? APPLY : KEEP;
  }
  if (have->reason != CA_REASON_CERTIFICATE_HOLD) {
    return KEEP;
  }
  if (!e->revoked) {
    return APPLY;  // released from hold
  }
  return e->reason != have->reason || e->revoked_at != have->revoked_at ? APPLY
                                                                        : KEEP;
}

// import_entry stores one parsed entry in |tx|; |*changed| is set when a
// stored certificate's state changed, |*added| when it was inserted.
static int import_entry(ca_store_tx *tx, const ca_issued_entry *e,
                        const parsed_entry *p, size_t index, int *added,
                        int *changed) {
  int ret = 0;
  ca_cert_state have;
  uint8_t *der = NULL;
  size_t der_len = 0;
  int found;
  const int64_t issuer_id = p->issuer != NULL ? p->issuer->id : 0;
  *added = *changed = 0;
  CA_GUARD(ca_store_tx_find_issued(tx, issuer_id, p->serial, &found, &have,
                                   &der, &der_len));
  if (found) {
    CA_ENSURE(same_bytes(der, der_len, e->der, e->der_len), CA_ERR_CONFLICT,
              "entry %zu: serial %s of CA %s is stored with another "
              "certificate",
              index, p->serial, p->issuer != NULL ? p->issuer->name : "(self)");
    if (next_state(&have, e) == APPLY) {
      // A release (good again) deletes whatever revocation is stored: the
      // row is locked, and next_state saw it on hold.
      CA_GUARD(ca_store_tx_set_revocation(
          tx, have.id, e->revoked, e->revoked_at, e->revoked ? e->reason : 0));
      *changed = 1;
    }
    OPENSSL_free(der);
    return 1;
  }
  const ca_new_cert_row r = {
      .issuer_id = issuer_id,
      .serial = p->serial,
      .profile = e->profile,
      .subject = p->cert.subject,
      .common_name = p->cert.common_name,
      .sans = p->san_ptrs,
      .san_count = p->sans.count,
      .key_type = strcmp(p->cert.key_type, "RSA") == 0 ? CA_KEY_RSA : CA_KEY_EC,
      .key_bits = p->cert.key_bits,
      .not_before = p->cert.not_before,
      .not_after = p->cert.not_after,
      .der = e->der,
      .der_len = e->der_len,
      .requester = e->requester[0] != '\0' ? e->requester : "bulk-import",
      .key_generated = e->key_generated,
      .cluster = e->cluster[0] != '\0' ? e->cluster : NULL,
      .self_signed = p->issuer == NULL,
  };
  uint8_t collided = 0;
  CA_GUARD(ca_store_tx_insert_certificates(tx, &r, 1, &collided));
  CA_ENSURE(!collided, CA_ERR_CONFLICT, "entry %zu: serial %s collided", index,
            p->serial);
  if (e->revoked) {
    CA_GUARD(ca_store_tx_find_issued(tx, issuer_id, p->serial, &found, &have,
                                     &der, &der_len));
    CA_ENSURE(found, CA_ERR_INTERNAL, "an inserted row is gone");
    CA_GUARD(
        ca_store_tx_set_revocation(tx, have.id, 1, e->revoked_at, e->reason));
  }
  *added = 1;
  ret = 1;
err:
  OPENSSL_free(der);
  return ret;
}

// crl_floor sets |*out| to the number the next CRL of |ca| must have to
// continue the exporter's numbering, or 0 when the number here is already
// above it (or the exporter's CA is not this one).
static int crl_floor(const ca_issuer *ca, ca_store_tx *tx,
                     const ca_issued_import_request *req, uint64_t *out) {
  *out = 0;
  if (ca->key == NULL || !held_by_exporter(ca, req)) {
    return 1;
  }
  for (size_t k = 0; k < req->n_crl_numbers; k++) {
    if (strcmp(req->crl_cas[k], ca->name) != 0) {
      continue;
    }
    CA_ENSURE_RETURN(req->crl_numbers[k] < INT64_MAX, CA_ERR_BUNDLE_MALFORMED,
                     "CRL number of %s out of range", ca->name);
    uint64_t next;
    CA_GUARD_RETURN(ca_store_tx_next_crl_number(tx, ca->id, &next));
    if (next <= req->crl_numbers[k]) {
      *out = req->crl_numbers[k] + 1;
    }
  }
  return 1;
}

int ca_issued_import(const ca_authority *authority, ca_store *store,
                     const ca_issued_import_request *req,
                     ca_issued_import_summary *out) {
  int ret = 0;
  ca_store_tx *tx = NULL;
  parsed_entry *p = NULL;
  int touched[CA_AUTHORITY_MAX_ISSUERS] = {0};
  const int64_t now = (int64_t)time(NULL);
  memset(out, 0, sizeof(*out));
  CA_ENSURE(req->n_entries <= CA_LIMIT_BUNDLE_ENTRIES, CA_ERR_OBJECT_TOO_LARGE,
            "more than %d entries", CA_LIMIT_BUNDLE_ENTRIES);
  p = calloc(1, sizeof(*p));
  CA_ENSURE_ALLOC(p);
  CA_GUARD(ca_store_begin(store, &tx));
  for (size_t i = 0; i < req->n_entries; i++) {
    memset(p, 0, sizeof(*p));
    CA_GUARD(parse_entry(authority, req, i, p));
    int added, changed;
    const int ok = import_entry(tx, &req->entries[i], p, i, &added, &changed);
    if (ok && p->issuer != NULL && (added || changed)) {
      touched[p->issuer - authority->issuers] = 1;
    }
    if (ok && changed) {
      char payload[64];
      snprintf(payload, sizeof(payload), "%" PRId64 ":%s", p->issuer->id,
               p->serial);
      if (!ca_store_tx_notify(tx, CA_REVOCATION_CHANNEL, payload)) {
        ca_trust_cert_cleanup(&p->cert);
        goto err;
      }
    }
    ca_trust_cert_cleanup(&p->cert);
    CA_GUARD(ok);
    out->added += (size_t)added;
    out->updated += (size_t)changed;
    out->unchanged += (size_t)(!added && !changed);
  }
  for (size_t i = 0; i < authority->count; i++) {
    const ca_issuer *ca = &authority->issuers[i];
    uint64_t min_number = 0;
    CA_GUARD(crl_floor(ca, tx, req, &min_number));
    if (touched[i] || min_number > 0) {
      CA_GUARD(ca_crl_publish_tx(ca, tx, now, req->crl_validity_s, min_number,
                                 NULL));
      out->crls++;
    }
  }
  if (out->added > 0) {
    // Serials answered `unknown` until now are known: every node drops its
    // cached `unknown` answers, as after an issuance.
    CA_GUARD(ca_store_tx_notify(tx, CA_ISSUED_CHANNEL, ""));
  }
  char detail[160];
  snprintf(detail, sizeof(detail),
           "issued entries=%zu added=%zu updated=%zu unchanged=%zu crls=%zu",
           req->n_entries, out->added, out->updated, out->unchanged, out->crls);
  CA_GUARD(ca_store_tx_audit(tx, req->actor, "bulk-import", "issued",
                             req->source, "ok", detail));
  CA_GUARD(ca_store_commit(&tx));
  ret = 1;
err:
  ca_store_rollback(tx);  // NULL after a commit
  free(p);
  if (!ret) {
    memset(out, 0, sizeof(*out));
  }
  return ret;
}
