// ca/revocation/revoke.c against a real PostgreSQL: ca_revoke and
// ca_unhold change the certificate's row, write an audit row, publish a
// CRL of its CA with the next CRL number that lists exactly what is
// revoked, and NOTIFY the other nodes, all in one transaction; only
// certificateHold can be lifted (RFC 5280 5.3.1); a refused change changes
// nothing.
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
      " FROM certificates WHERE serial = $1",
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
  if (ca_crl_current(f->ca.authority, f->ca.store, issuer, 0, &record)) {
    (void)parse_crl(issuer, record.der, record.der_len, crl);
    *number = record.number;
  }
  OPENSSL_free(record.der);
}

TEST(revoke_lists_the_serial_in_a_crl_with_the_next_number) {
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
  CHECK_EQ_INT(result.crl_number, before + 1);
  CHECK_EQ_INT(stored_crl_number(&f, f.issuer), before + 1);
  // The other CA's CRL is not touched.
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
  CHECK_EQ_INT(number, result.crl_number);
  CHECK_EQ_INT(crl.number, (long)result.crl_number);
  CHECK_EQ_INT(crl_reason(&crl, serial), CA_REASON_KEY_COMPROMISE);
  CHECK_EQ_INT(crl_reason(&crl, f.certs[1].serial_hex), -1);
  CHECK_EQ_INT(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl.crl)), 1);
  X509_CRL_free(crl.crl);

  // A second revocation: the next number, both listed.
  request = revocation(f.certs[1].serial_hex, CA_REASON_SUPERSEDED);
  CHECK(ca_revoke(f.ca.authority, f.ca.store, &request, &result));
  CHECK_EQ_INT(result.crl_number, before + 2);
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
  CHECK_EQ_INT(stored_crl_number(&f, f.issuer), before + 2);
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
  CHECK_EQ_INT(result.crl_number, before + 1);
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
  CHECK_EQ_INT(result.crl_number, before + 2);
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
  const long long published = stored_crl_number(&f, f.issuer);
  CHECK(!ca_unhold(f.ca.authority, f.ca.store, &other, &result));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_NOT_ON_HOLD);
  CHECK_EQ_INT(stored_crl_number(&f, f.issuer), published);
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

int main(void) {
  RUN(revoke_lists_the_serial_in_a_crl_with_the_next_number);
  RUN(certificate_hold_is_the_only_revocation_that_can_be_lifted);
  RUN(a_refused_change_changes_nothing);
  return test_summary();
}
