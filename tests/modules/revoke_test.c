// ca/revocation/revoke.c and crl_writer.c against a real PostgreSQL:
// ca_revoke, ca_revoke_batch and ca_unhold change the certificates' rows,
// write an audit row per certificate, NOTIFY the other nodes and queue
// their CA for a CRL, all in one transaction, without making a CRL; the
// CRL published next (ca_crl_publish_tx, the writer's ca_crl_refresh)
// carries the next CRL number and lists exactly what is revoked, and the
// writer publishes only when a change waits and the interval has passed;
// only certificateHold can be lifted (RFC 5280 5.3.1); a refused change
// changes nothing.
//
// The CRLs are read with BoringSSL's X509_CRL, not with pki's own code.
#include <inttypes.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/mem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/revocation/revoke.h"
#include "ca/x509/reason.h"
#include "tests/modules/fixture.h"
#include "tests/support/test.h"

#define CERTS 4

typedef struct fixture {
  mod_ca ca;
  ca_issued certs[CERTS];  // EC leaves, all of ec-issuing
  ca_issued rsa;           // a leaf of rsa-issuing
  const ca_issuer *issuer;
} fixture;

static int setup(fixture *f, const char *name) {
  memset(f, 0, sizeof(*f));
  int ok = mod_ca_open(&f->ca, name, 4) && mod_ca_start_engine(&f->ca, 1);
  for (int i = 0; ok && i < CERTS; i++) {
    char cn[64];
    snprintf(cn, sizeof(cn), "revoke%d.example.com", i);
    ok = mod_issue(&f->ca, "tomcat-ECDSA", "EC-P256", cn, &f->certs[i]);
  }
  ok =
      ok && mod_issue(&f->ca, "tomcat", "RSA-2048", "rsa.example.com", &f->rsa);
  if (ok) {
    f->issuer = f->certs[0].issuer;
    ok = strcmp(f->issuer->name, "ec-issuing") == 0 &&
         strcmp(f->rsa.issuer->name, "rsa-issuing") == 0;
  }
  return ok;
}

static void teardown(fixture *f) {
  for (int i = 0; i < CERTS; i++) {
    ca_issued_cleanup(&f->certs[i]);
  }
  ca_issued_cleanup(&f->rsa);
  mod_ca_close(&f->ca);
}

static ca_revocation revocation(const char *serial, int reason) {
  return (ca_revocation){.serial = serial,
                         .issuer = NULL,
                         .reason = reason,
                         .when = 0,
                         .actor = "module-test",
                         .source = "127.0.0.1"};
}

// stored_crl_number returns the number of |issuer|'s stored CRL, 0 when
// it has none.
static long long stored_crl_number(fixture *f, const ca_issuer *issuer) {
  char id[32];
  snprintf(id, sizeof(id), "%" PRId64, issuer->id);
  return mod_db_int(&f->ca.db,
                    "SELECT coalesce(max(crl_number), 0) FROM crls"
                    " WHERE issuer_id = $1",
                    id, NULL);
}

// pending returns how many changes of |issuer| wait for a CRL.
static long long pending(fixture *f, const ca_issuer *issuer) {
  char id[32];
  snprintf(id, sizeof(id), "%" PRId64, issuer->id);
  return mod_db_int(&f->ca.db,
                    "SELECT count(*) FROM crl_pending WHERE issuer_id = $1", id,
                    NULL);
}

// publish_now publishes a CRL of |issuer| as a writer does, without
// waiting for the interval, and returns its number (0 on failure).
static uint64_t publish_now(fixture *f, const ca_issuer *issuer) {
  ca_store_tx *tx = NULL;
  ca_crl_row row;
  memset(&row, 0, sizeof(row));
  if (!ca_store_begin_large(f->ca.store, &tx) ||
      !ca_crl_publish_tx(issuer, tx, (int64_t)time(NULL), 0, 0, &row) ||
      !ca_store_commit(&tx)) {
    ca_store_rollback(tx);
    OPENSSL_free(row.der);
    return 0;
  }
  OPENSSL_free(row.der);
  return row.number;
}

static long long audits(fixture *f, const char *action, const char *serial) {
  return mod_db_int(&f->ca.db,
                    "SELECT count(*) FROM audit_log WHERE action = $1"
                    " AND object = $2",
                    action, serial);
}

// row_state reads "status reason revoked_at" of |serial| into |out|.
static int row_state(fixture *f, const char *serial, char *out, size_t len) {
  return mod_db_text(
      &f->ca.db,
      "SELECT status || ' ' || coalesce(revocation_reason::text, '-') || ' ' ||"
      " coalesce(extract(epoch FROM revoked_at)::bigint::text, '-')"
      " FROM certificate_status WHERE serial = $1",
      serial, NULL, out, len);
}

// A CRL as BoringSSL reads it.
typedef struct parsed_crl {
  X509_CRL *crl;
  long number;
  int signature_ok;
} parsed_crl;

static int parse_crl(const ca_issuer *issuer, const uint8_t *der, size_t len,
                     parsed_crl *out) {
  memset(out, 0, sizeof(*out));
  out->number = -1;
  const uint8_t *p = der;
  out->crl = d2i_X509_CRL(NULL, &p, (long)len);
  if (out->crl == NULL || p != der + len) {
    return 0;
  }
  X509 *ca = mod_issuer_x509(issuer);
  EVP_PKEY *key = ca != NULL ? X509_get_pubkey(ca) : NULL;
  out->signature_ok = key != NULL && X509_CRL_verify(out->crl, key) == 1;
  EVP_PKEY_free(key);
  X509_free(ca);
  ASN1_INTEGER *number =
      X509_CRL_get_ext_d2i(out->crl, NID_crl_number, NULL, NULL);
  if (number != NULL) {
    out->number = ASN1_INTEGER_get(number);
    ASN1_INTEGER_free(number);
  }
  return 1;
}

// crl_reason returns the CRLReason of |serial_hex| in |crl|: -1 when it is
// not listed, 0 (unspecified, RFC 5280 5.3.1) when listed without reason.
static int crl_reason(const parsed_crl *crl, const char *serial_hex) {
  BIGNUM *bn = NULL;
  if (!BN_hex2bn(&bn, serial_hex)) {
    return -2;
  }
  ASN1_INTEGER *serial = BN_to_ASN1_INTEGER(bn, NULL);
  BN_free(bn);
  X509_REVOKED *entry = NULL;
  const int found =
      serial != NULL && X509_CRL_get0_by_serial(crl->crl, &entry, serial) == 1;
  ASN1_INTEGER_free(serial);
  if (!found) {
    return -1;
  }
  ASN1_ENUMERATED *reason =
      X509_REVOKED_get_ext_d2i(entry, NID_crl_reason, NULL, NULL);
  const int code = reason != NULL ? (int)ASN1_ENUMERATED_get(reason) : 0;
  ASN1_ENUMERATED_free(reason);
  return code;
}

// current_crl reads |issuer|'s current CRL through ca_crl_current and
// parses it; crl->crl is NULL when either fails.
static void current_crl(fixture *f, const ca_issuer *issuer, parsed_crl *crl,
                        uint64_t *number) {
  ca_crl_row record;
  memset(&record, 0, sizeof(record));
  memset(crl, 0, sizeof(*crl));
  if (ca_crl_current(f->ca.authority, f->ca.store, issuer, 0, 0, &record)) {
    (void)parse_crl(issuer, record.der, record.der_len, crl);
    *number = record.number;
  }
  OPENSSL_free(record.der);
}

TEST(revoke_queues_a_crl_that_lists_the_serial_with_the_next_number) {
  fixture f;
  CHECK(setup(&f, "revoke-crl"));
  const char *serial = f.certs[0].serial_hex;
  const long long before = stored_crl_number(&f, f.issuer);
  const long long rsa_before = stored_crl_number(&f, f.rsa.issuer);

  // Another node's listener, to hear the NOTIFY.
  PGconn *listener = mod_db_connect(&f.ca.db);
  PGresult *res = PQexec(listener, "LISTEN " CA_REVOCATION_CHANNEL);
  CHECK(PQresultStatus(res) == PGRES_COMMAND_OK);
  PQclear(res);

  ca_revocation request = revocation(serial, CA_REASON_KEY_COMPROMISE);
  ca_revocation_result result;
  const int64_t now = (int64_t)time(NULL);
  CHECK(ca_revoke(f.ca.authority, f.ca.store, &request, &result));
  CHECK_EQ_STR(result.serial, serial);
  CHECK(result.issuer == f.issuer);
  CHECK_EQ_INT(result.revoked, 1);
  CHECK_EQ_INT(result.reason, CA_REASON_KEY_COMPROMISE);
  CHECK(result.revoked_at >= now - 1 && result.revoked_at <= now + 5);
  // No CRL is made with the change: its number is not known yet, and the
  // CRL is due after the writer's interval.
  CHECK_EQ_INT(result.crl_number, 0);
  CHECK(result.crl_due_at >= now + CA_CRL_DEFAULT_INTERVAL_SECONDS &&
        result.crl_due_at <= ca_crl_due_at((int64_t)time(NULL), 0));
  CHECK_EQ_INT(stored_crl_number(&f, f.issuer), before);
  CHECK_EQ_INT(pending(&f, f.issuer), 1);
  // The other CA is not queued.
  CHECK_EQ_INT(pending(&f, f.rsa.issuer), 0);
  CHECK_EQ_INT(publish_now(&f, f.issuer), before + 1);
  CHECK_EQ_INT(pending(&f, f.issuer), 0);
  CHECK_EQ_INT(stored_crl_number(&f, f.rsa.issuer), rsa_before);

  char state[96], want[96];
  snprintf(want, sizeof(want), "revoked 1 %" PRId64, result.revoked_at);
  CHECK(row_state(&f, serial, state, sizeof(state)));
  CHECK_EQ_STR(state, want);
  CHECK_EQ_INT(mod_db_int(&f.ca.db,
                          "SELECT count(*) FROM audit_log WHERE action ="
                          " 'revoke' AND object = $1 AND actor ="
                          " 'module-test' AND source = '127.0.0.1' AND"
                          " outcome = 'ok' AND detail = $2",
                          serial, "reason=keyCompromise"),
               1);

  // The NOTIFY came with the commit: "ISSUER_ID:SERIAL".
  char payload[96], heard[96] = "";
  snprintf(payload, sizeof(payload), "%" PRId64 ":%s", f.issuer->id, serial);
  CHECK_EQ_INT(mod_wait_notices(listener, CA_REVOCATION_CHANNEL, 1, 1000, heard,
                                sizeof(heard)),
               1);
  CHECK_EQ_STR(heard, payload);
  PQfinish(listener);

  parsed_crl crl;
  uint64_t number = 0;
  current_crl(&f, f.issuer, &crl, &number);
  CHECK(crl.crl != NULL);
  CHECK(crl.signature_ok);
  CHECK_EQ_INT(number, before + 1);
  CHECK_EQ_INT(crl.number, before + 1);
  CHECK_EQ_INT(crl_reason(&crl, serial), CA_REASON_KEY_COMPROMISE);
  CHECK_EQ_INT(crl_reason(&crl, f.certs[1].serial_hex), -1);
  CHECK_EQ_INT(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl.crl)), 1);
  X509_CRL_free(crl.crl);

  // A second revocation: the next number, both listed.
  request = revocation(f.certs[1].serial_hex, CA_REASON_SUPERSEDED);
  CHECK(ca_revoke(f.ca.authority, f.ca.store, &request, &result));
  CHECK_EQ_INT(result.crl_number, 0);
  CHECK_EQ_INT(publish_now(&f, f.issuer), before + 2);
  current_crl(&f, f.issuer, &crl, &number);
  CHECK(crl.crl != NULL && crl.signature_ok);
  CHECK_EQ_INT(crl.number, before + 2);
  CHECK_EQ_INT(crl_reason(&crl, serial), CA_REASON_KEY_COMPROMISE);
  CHECK_EQ_INT(crl_reason(&crl, f.certs[1].serial_hex), CA_REASON_SUPERSEDED);
  X509_CRL_free(crl.crl);

  // Revoking again is refused and publishes nothing.
  request = revocation(serial, CA_REASON_CESSATION_OF_OPERATION);
  CHECK(!ca_revoke(f.ca.authority, f.ca.store, &request, &result));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_ALREADY_REVOKED);
  CHECK_EQ_INT(pending(&f, f.issuer), 0);
  CHECK_EQ_INT(audits(&f, "revoke", serial), 1);
  CHECK(row_state(&f, serial, state, sizeof(state)));
  CHECK(strncmp(state, "revoked 1 ", 10) == 0);
  teardown(&f);
}

TEST(certificate_hold_is_the_only_revocation_that_can_be_lifted) {
  fixture f;
  CHECK(setup(&f, "revoke-hold"));
  const char *held = f.certs[2].serial_hex;
  const char *final = f.certs[3].serial_hex;
  const long long before = stored_crl_number(&f, f.issuer);
  ca_revocation request = revocation(held, CA_REASON_CERTIFICATE_HOLD);
  ca_revocation_result result;
  char state[96];

  CHECK(ca_revoke(f.ca.authority, f.ca.store, &request, &result));
  CHECK_EQ_INT(result.reason, CA_REASON_CERTIFICATE_HOLD);
  CHECK_EQ_INT(publish_now(&f, f.issuer), before + 1);
  parsed_crl crl;
  uint64_t number;
  current_crl(&f, f.issuer, &crl, &number);
  CHECK(crl.crl != NULL);
  CHECK_EQ_INT(crl_reason(&crl, held), CA_REASON_CERTIFICATE_HOLD);
  X509_CRL_free(crl.crl);
  // On hold twice is no change.
  CHECK(!ca_revoke(f.ca.authority, f.ca.store, &request, &result));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_ALREADY_REVOKED);

  // Released: good again, off the next CRL.
  CHECK(ca_unhold(f.ca.authority, f.ca.store, &request, &result));
  CHECK_EQ_INT(result.revoked, 0);
  CHECK_EQ_INT(result.crl_number, 0);
  CHECK(result.crl_due_at > 0);
  CHECK_EQ_INT(pending(&f, f.issuer), 1);
  CHECK_EQ_INT(publish_now(&f, f.issuer), before + 2);
  CHECK(row_state(&f, held, state, sizeof(state)));
  CHECK_EQ_STR(state, "good - -");
  CHECK_EQ_INT(mod_db_int(&f.ca.db,
                          "SELECT count(*) FROM audit_log WHERE action ="
                          " 'unhold' AND object = $1 AND detail = $2",
                          held, "released from hold"),
               1);
  current_crl(&f, f.issuer, &crl, &number);
  CHECK(crl.crl != NULL && crl.signature_ok);
  CHECK_EQ_INT(crl.number, before + 2);
  CHECK_EQ_INT(crl_reason(&crl, held), -1);
  X509_CRL_free(crl.crl);
  // A good certificate is not on hold.
  CHECK(!ca_unhold(f.ca.authority, f.ca.store, &request, &result));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_NOT_ON_HOLD);

  // On hold, then revoked for good: that is final.
  CHECK(ca_revoke(f.ca.authority, f.ca.store, &request, &result));
  ca_revocation for_good = revocation(held, CA_REASON_KEY_COMPROMISE);
  CHECK(ca_revoke(f.ca.authority, f.ca.store, &for_good, &result));
  CHECK_EQ_INT(result.reason, CA_REASON_KEY_COMPROMISE);
  CHECK(!ca_unhold(f.ca.authority, f.ca.store, &for_good, &result));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_NOT_ON_HOLD);
  CHECK(row_state(&f, held, state, sizeof(state)));
  CHECK(strncmp(state, "revoked 1 ", 10) == 0);

  // Any other reason is final from the start.
  ca_revocation other = revocation(final, CA_REASON_AFFILIATION_CHANGED);
  CHECK(ca_revoke(f.ca.authority, f.ca.store, &other, &result));
  const long long queued = pending(&f, f.issuer);
  CHECK(!ca_unhold(f.ca.authority, f.ca.store, &other, &result));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_NOT_ON_HOLD);
  CHECK_EQ_INT(pending(&f, f.issuer), queued);
  CHECK_EQ_INT(audits(&f, "unhold", final), 0);
  teardown(&f);
}

TEST(a_refused_change_changes_nothing) {
  fixture f;
  CHECK(setup(&f, "revoke-refused"));
  const char *serial = f.certs[0].serial_hex;
  const long long before = stored_crl_number(&f, f.issuer);
  ca_revocation_result result;

  ca_revocation request = revocation("abcdef0123456789", 1);
  CHECK(!ca_revoke(f.ca.authority, f.ca.store, &request, &result));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_NOT_FOUND);
  // 7 is unused in RFC 5280's CRLReason.
  request = revocation(serial, 7);
  CHECK(!ca_revoke(f.ca.authority, f.ca.store, &request, &result));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  // A time in the future is a promise, not a revocation.
  request = revocation(serial, CA_REASON_KEY_COMPROMISE);
  request.when = (int64_t)time(NULL) + 3600;
  CHECK(!ca_revoke(f.ca.authority, f.ca.store, &request, &result));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  // ... and one before the certificate existed, nonsense.
  request.when = f.certs[0].not_before - 86400;
  CHECK(!ca_revoke(f.ca.authority, f.ca.store, &request, &result));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
  // The serial under another CA is not this certificate.
  request = revocation(serial, CA_REASON_KEY_COMPROMISE);
  request.issuer = "rsa-issuing";
  CHECK(!ca_revoke(f.ca.authority, f.ca.store, &request, &result));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_NOT_FOUND);

  char state[96];
  CHECK(row_state(&f, serial, state, sizeof(state)));
  CHECK_EQ_STR(state, "good - -");
  CHECK_EQ_INT(stored_crl_number(&f, f.issuer), before);
  CHECK_EQ_INT(pending(&f, f.issuer), 0);
  CHECK_EQ_INT(mod_db_int(&f.ca.db,
                          "SELECT count(*) FROM audit_log WHERE action IN"
                          " ('revoke', 'unhold')",
                          NULL, NULL),
               0);

  // A time in the past within the certificate's life is kept, and the
  // issuer named matches.
  request = revocation(serial, CA_REASON_KEY_COMPROMISE);
  request.issuer = "ec-issuing";
  request.when = f.certs[0].not_before + 1;
  CHECK(ca_revoke(f.ca.authority, f.ca.store, &request, &result));
  CHECK_EQ_INT(result.revoked_at, f.certs[0].not_before + 1);
  char want[96];
  snprintf(want, sizeof(want), "revoked 1 %" PRId64, f.certs[0].not_before + 1);
  CHECK(row_state(&f, serial, state, sizeof(state)));
  CHECK_EQ_STR(state, want);
  teardown(&f);
}

TEST(a_batch_commits_its_good_items_and_refuses_each_bad_one) {
  fixture f;
  CHECK(setup(&f, "revoke-batch"));
  const long long before = stored_crl_number(&f, f.issuer);
  // Held first, so that the batch may revoke it for good.
  ca_revocation hold =
      revocation(f.certs[3].serial_hex, CA_REASON_CERTIFICATE_HOLD);
  ca_revocation_result held;
  CHECK(ca_revoke(f.ca.authority, f.ca.store, &hold, &held));
  char upper[CA_SERIAL_HEX_LEN + 2];
  snprintf(upper, sizeof(upper), "0x%s", f.certs[1].serial_hex);
  for (char *c = upper + 2; *c != '\0'; c++) {
    *c = (char)(*c >= 'a' && *c <= 'f' ? *c - 'a' + 'A' : *c);
  }
  const ca_revocation_item items[] = {
      {f.certs[0].serial_hex, NULL, CA_REASON_KEY_COMPROMISE, 0, NULL, NULL},
      {"abcdef0123456789", NULL, CA_REASON_KEY_COMPROMISE, 0, NULL,
       NULL},  // unknown
      {upper, "ec-issuing", CA_REASON_SUPERSEDED, 0, NULL,
       NULL},  // written otherwise
      {f.certs[0].serial_hex, NULL, CA_REASON_SUPERSEDED, 0, NULL,
       NULL},                                           // again
      {f.certs[2].serial_hex, NULL, 7, 0, NULL, NULL},  // no reason 7
      {f.certs[2].serial_hex, "no-such-ca", 1, 0, NULL, NULL},
      {"zz", NULL, 1, 0, NULL, NULL},                      // not hex
      {f.rsa.serial_hex, "ec-issuing", 1, 0, NULL, NULL},  // other CA
      {f.certs[3].serial_hex, NULL, CA_REASON_KEY_COMPROMISE, 0, NULL,
       NULL},  // held
      {f.rsa.serial_hex, NULL, CA_REASON_AFFILIATION_CHANGED, 0, NULL, NULL},
  };
  const size_t n = sizeof(items) / sizeof(items[0]);
  const ca_revocation_batch batch = {items, n, "module-test", "127.0.0.1", 0};
  ca_revocation_result results[sizeof(items) / sizeof(items[0])];
  size_t revoked = 0;
  const int64_t now = (int64_t)time(NULL);
  CHECK(ca_revoke_batch(f.ca.authority, f.ca.store, &batch, results, &revoked));
  CHECK_EQ_INT(revoked, 4);
  const ca_err_code want[] = {
      CA_OK,
      CA_ERR_NOT_FOUND,
      CA_OK,
      CA_ERR_ALREADY_REVOKED,
      CA_ERR_PARAMETER_INVALID,
      CA_ERR_NOT_FOUND,
      CA_ERR_PARAMETER_INVALID,
      CA_ERR_NOT_FOUND,
      CA_OK,
      CA_OK,
  };
  for (size_t i = 0; i < n; i++) {
    CHECK_EQ_INT(results[i].err.code, want[i]);
    CHECK_EQ_INT(results[i].revoked, want[i] == CA_OK);
    if (want[i] == CA_OK) {
      CHECK(results[i].crl_due_at >= now + CA_CRL_DEFAULT_INTERVAL_SECONDS);
      CHECK_EQ_INT(results[i].crl_number, 0);
    } else {
      CHECK(results[i].err.message[0] != '\0');
    }
  }
  CHECK_EQ_STR(results[2].serial, f.certs[1].serial_hex);
  CHECK(results[9].issuer == f.rsa.issuer);
  char state[96];
  CHECK(row_state(&f, f.certs[2].serial_hex, state, sizeof(state)));
  CHECK_EQ_STR(state, "good - -");
  CHECK(row_state(&f, f.certs[3].serial_hex, state, sizeof(state)));
  CHECK(strncmp(state, "revoked 1 ", 10) == 0);
  CHECK(row_state(&f, f.rsa.serial_hex, state, sizeof(state)));
  CHECK(strncmp(state, "revoked 3 ", 10) == 0);
  // One audit row per revoked certificate, none for a refused item.
  CHECK_EQ_INT(audits(&f, "revoke", f.certs[0].serial_hex), 1);
  CHECK_EQ_INT(audits(&f, "revoke", f.certs[1].serial_hex), 1);
  CHECK_EQ_INT(audits(&f, "revoke", f.certs[2].serial_hex), 0);
  CHECK_EQ_INT(audits(&f, "revoke", f.certs[3].serial_hex), 2);
  CHECK_EQ_INT(audits(&f, "revoke", f.rsa.serial_hex), 1);
  // One queued CRL per CA touched; the next CRL of each lists its own.
  CHECK_EQ_INT(pending(&f, f.issuer), 2);  // the hold, then the batch
  CHECK_EQ_INT(pending(&f, f.rsa.issuer), 1);
  CHECK_EQ_INT(publish_now(&f, f.issuer), before + 1);
  parsed_crl crl;
  uint64_t number;
  current_crl(&f, f.issuer, &crl, &number);
  CHECK(crl.crl != NULL && crl.signature_ok);
  CHECK_EQ_INT(crl_reason(&crl, f.certs[0].serial_hex),
               CA_REASON_KEY_COMPROMISE);
  CHECK_EQ_INT(crl_reason(&crl, f.certs[1].serial_hex), CA_REASON_SUPERSEDED);
  CHECK_EQ_INT(crl_reason(&crl, f.certs[2].serial_hex), -1);
  CHECK_EQ_INT(crl_reason(&crl, f.certs[3].serial_hex),
               CA_REASON_KEY_COMPROMISE);
  X509_CRL_free(crl.crl);
  teardown(&f);
}

TEST(a_batch_that_cannot_commit_writes_nothing) {
  fixture f;
  CHECK(setup(&f, "revoke-batch-down"));
  const ca_revocation_item items[] = {
      {f.certs[0].serial_hex, NULL, CA_REASON_KEY_COMPROMISE, 0, NULL, NULL},
      {f.certs[1].serial_hex, NULL, CA_REASON_KEY_COMPROMISE, 0, NULL, NULL},
  };
  // The audit log refuses rows (a storage failure in the middle of the
  // transaction, after the certificates' rows were changed).
  CHECK(mod_db_exec(&f.ca.db,
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql"
                    " AS $$BEGIN RAISE EXCEPTION 'refused'; END$$"));
  CHECK(mod_db_exec(&f.ca.db,
                    "CREATE TRIGGER refuse BEFORE INSERT ON audit_log"
                    " FOR EACH STATEMENT EXECUTE FUNCTION refuse()"));
  const ca_revocation_batch batch = {items, 2, "module-test", "127.0.0.1", 0};
  ca_revocation_result results[2];
  size_t revoked = 7;
  CHECK(
      !ca_revoke_batch(f.ca.authority, f.ca.store, &batch, results, &revoked));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_STORAGE_UNAVAILABLE);
  CHECK_EQ_INT(revoked, 0);
  CHECK_EQ_INT(results[0].revoked, 0);
  char state[96];
  CHECK(row_state(&f, f.certs[0].serial_hex, state, sizeof(state)));
  CHECK_EQ_STR(state, "good - -");
  CHECK_EQ_INT(pending(&f, f.issuer), 0);
  CHECK(mod_db_exec(&f.ca.db, "DROP TRIGGER refuse ON audit_log"));
  teardown(&f);
}

TEST(the_writer_publishes_queued_changes_once_the_interval_has_passed) {
  fixture f;
  CHECK(setup(&f, "revoke-writer"));
  const int64_t t0 = (int64_t)time(NULL);
  const int64_t interval = 10;
  ca_crl_pass pass;
  // No CRL yet: the first is due at once.
  CHECK(ca_crl_refresh(f.ca.store, f.issuer, 0, interval, t0, &pass));
  CHECK(pass.published > 0);
  const uint64_t first = pass.published;
  // Nothing queued: nothing to do until half the validity has passed.
  CHECK(
      ca_crl_refresh(f.ca.store, f.issuer, 0, interval, t0 + interval, &pass));
  CHECK_EQ_INT(pass.published, 0);
  CHECK_EQ_INT(pass.retry_at, t0 + CA_CRL_DEFAULT_VALIDITY_SECONDS / 2);
  CHECK_EQ_INT(pass.open_at, t0 + interval);
  // A change: not before the interval has passed since thisUpdate ...
  ca_revocation request =
      revocation(f.certs[0].serial_hex, CA_REASON_KEY_COMPROMISE);
  ca_revocation_result result;
  CHECK(ca_revoke(f.ca.authority, f.ca.store, &request, &result));
  CHECK(ca_crl_refresh(f.ca.store, f.issuer, 0, interval, t0 + interval - 1,
                       &pass));
  CHECK_EQ_INT(pass.published, 0);
  CHECK_EQ_INT(pass.retry_at, t0 + interval);
  CHECK_EQ_INT(pending(&f, f.issuer), 1);
  // ... then one CRL for every change queued.
  request = revocation(f.certs[1].serial_hex, CA_REASON_SUPERSEDED);
  CHECK(ca_revoke(f.ca.authority, f.ca.store, &request, &result));
  CHECK(
      ca_crl_refresh(f.ca.store, f.issuer, 0, interval, t0 + interval, &pass));
  CHECK_EQ_INT(pass.published, first + 1);
  CHECK_EQ_INT(pending(&f, f.issuer), 0);
  CHECK_EQ_INT(stored_crl_number(&f, f.issuer), first + 1);
  // Half the validity: remade without a change.
  CHECK(ca_crl_refresh(f.ca.store, f.issuer, 0, interval,
                       t0 + interval + CA_CRL_DEFAULT_VALIDITY_SECONDS / 2,
                       &pass));
  CHECK_EQ_INT(pass.published, first + 2);

  // While another transaction holds the CA's CRL lock, a writer leaves the
  // CA alone.
  ca_store_tx *tx = NULL;
  int locked = 0;
  CHECK(ca_store_begin(f.ca.store, &tx));
  CHECK(ca_store_tx_lock_crl(tx, f.issuer->id, 0, &locked));
  CHECK_EQ_INT(locked, 1);
  request = revocation(f.certs[2].serial_hex, CA_REASON_SUPERSEDED);
  CHECK(ca_revoke(f.ca.authority, f.ca.store, &request, &result));
  CHECK(ca_crl_refresh(f.ca.store, f.issuer, 0, interval, t0 + 100 * 86400,
                       &pass));
  CHECK_EQ_INT(pass.busy, 1);
  CHECK_EQ_INT(pass.published, 0);
  ca_store_rollback(tx);
  CHECK(ca_crl_refresh(f.ca.store, f.issuer, 0, interval, t0 + 100 * 86400,
                       &pass));
  CHECK_EQ_INT(pass.published, first + 3);
  teardown(&f);
}

TEST(get_crl_publishes_a_change_no_writer_got_to) {
  fixture f;
  CHECK(setup(&f, "revoke-late"));
  const uint64_t first = publish_now(&f, f.issuer);
  CHECK(first > 0);
  ca_revocation request =
      revocation(f.certs[0].serial_hex, CA_REASON_KEY_COMPROMISE);
  ca_revocation_result result;
  CHECK(ca_revoke(f.ca.authority, f.ca.store, &request, &result));
  // Within the interval and the slack, the stored CRL is current.
  parsed_crl crl;
  uint64_t number = 0;
  current_crl(&f, f.issuer, &crl, &number);
  CHECK_EQ_INT(number, first);
  X509_CRL_free(crl.crl);
  // Once the change is older than that, the reader publishes it.
  CHECK(mod_db_exec(
      &f.ca.db, "UPDATE crl_pending SET queued_at = now() - interval '1h'"));
  CHECK(mod_db_exec(
      &f.ca.db, "UPDATE crls SET this_update = this_update - interval '1h'"));
  current_crl(&f, f.issuer, &crl, &number);
  CHECK_EQ_INT(number, first + 1);
  CHECK(crl.crl != NULL && crl.signature_ok);
  CHECK_EQ_INT(crl_reason(&crl, f.certs[0].serial_hex),
               CA_REASON_KEY_COMPROMISE);
  X509_CRL_free(crl.crl);
  CHECK_EQ_INT(pending(&f, f.issuer), 0);
  teardown(&f);
}

int main(void) {
  RUN(revoke_queues_a_crl_that_lists_the_serial_with_the_next_number);
  RUN(certificate_hold_is_the_only_revocation_that_can_be_lifted);
  RUN(a_refused_change_changes_nothing);
  RUN(a_batch_commits_its_good_items_and_refuses_each_bad_one);
  RUN(a_batch_that_cannot_commit_writes_nothing);
  RUN(the_writer_publishes_queued_changes_once_the_interval_has_passed);
  RUN(get_crl_publishes_a_change_no_writer_got_to);
  return test_summary();
}
