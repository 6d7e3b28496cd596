// ca/store/store_find.c against a real PostgreSQL: ca_store_list_certificates
// with each filter alone and combined, soonest expiry first, pages that
// follow one another through the cursor without a gap or a repeat, and the
// rows carrying what was issued (the DER only when asked for).
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/revocation/revoke.h"
#include "ca/store/store.h"
#include "ca/x509/reason.h"
#include "tests/modules/fixture.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

#define CERTS 5

// Five certificates, expiring 30, 60, ... 150 days from now, so that the
// order of a listing is known.
static const struct {
  const char *profile, *key, *cn;
} kCerts[CERTS] = {
    {"tomcat-ECDSA", "EC-P256", "alpha.example.com"},
    {"tomcat", "RSA-2048", "beta.example.com"},
    {"tomcat-ECDSA", "EC-P256", "Gamma.example.com"},
    {"tomcat", "RSA-2048", "delta.example.org"},
    {"tomcat-ECDSA", "EC-P256", "epsilon.example.org"},
};

static mod_ca ca;
static ca_issued issued[CERTS];

static int setup(void) {
  if (!mod_ca_open(&ca, "store-find", 2) || !mod_ca_start_engine(&ca, 1)) {
    return 0;
  }
  for (int i = 0; i < CERTS; i++) {
    char subject[128];
    snprintf(subject, sizeof(subject), "/CN=%s", kCerts[i].cn);
    test_csr_spec spec = {.key = kCerts[i].key, .subject = subject};
    size_t len;
    uint8_t *csr = test_make_csr(&spec, &len, NULL);
    const ca_issue_request request = {.profile = kCerts[i].profile,
                                      .csr = csr,
                                      .csr_len = len,
                                      .validity_days = 30 * (i + 1)};
    const int ok =
        csr != NULL && ca_engine_issue(ca.engine, &request, 1, "finder",
                                       "127.0.0.1", &issued[i]);
    OPENSSL_free(csr);
    if (!ok) {
      return 0;
    }
  }
  // The third is revoked.
  ca_revocation r = {.serial = issued[2].serial_hex,
                     .reason = CA_REASON_SUPERSEDED,
                     .actor = "finder",
                     .source = "127.0.0.1"};
  ca_revocation_result result;
  return ca_revoke(ca.authority, ca.store, &r, &result);
}

// list returns how many rows |f| finds, with their indexes in kCerts (-1
// for one that is not ours) in |which|.
static int list(ca_cert_filter *f, int which[CERTS + 1]) {
  ca_cert_row *rows = NULL;
  size_t n = 0;
  if (f->limit == 0) {
    f->limit = 100;
  }
  if (!ca_store_list_certificates(ca.store, f, &rows, &n)) {
    fprintf(stderr, "listing failed: %s\n", ca_err_get()->message);
    return -1;
  }
  for (size_t i = 0; i < n && i <= CERTS; i++) {
    which[i] = -1;
    for (int k = 0; k < CERTS; k++) {
      if (strcmp(rows[i].serial, issued[k].serial_hex) == 0) {
        which[i] = k;
      }
    }
  }
  ca_cert_rows_free(rows, n);
  return (int)n;
}

TEST(each_filter_selects_what_it_names) {
  int w[CERTS + 1];
  ca_cert_filter f = {.usage = CA_USAGE_IDENTITY};
  // Everything, soonest expiry first.
  CHECK_EQ_INT(list(&f, w), CERTS);
  for (int i = 0; i < CERTS; i++) {
    CHECK_EQ_INT(w[i], i);
  }
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY, .profile = "tomcat"};
  CHECK_EQ_INT(list(&f, w), 2);
  CHECK(w[0] == 1 && w[1] == 3);
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY, .key_type = "EC"};
  CHECK_EQ_INT(list(&f, w), 3);
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY, .key_bits = 2048};
  CHECK_EQ_INT(list(&f, w), 2);
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY, .issuer = "rsa-issuing"};
  CHECK_EQ_INT(list(&f, w), 2);
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY, .issuer = "ec-issuing"};
  CHECK_EQ_INT(list(&f, w), 3);
  // The common name matches as a substring, whatever the case.
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY, .cn = "GAMMA"};
  CHECK_EQ_INT(list(&f, w), 1);
  CHECK_EQ_INT(w[0], 2);
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY, .cn = "example.org"};
  CHECK_EQ_INT(list(&f, w), 2);
  CHECK(w[0] == 3 && w[1] == 4);
  // A pattern character is no wildcard.
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY, .cn = "%"};
  CHECK_EQ_INT(list(&f, w), 0);
  // Texts of five characters or more go through the names' 5-grams
  // (migration 0022): the same substring match, whatever the case.
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY, .cn = "A.EXAMPLE.COM"};
  CHECK_EQ_INT(list(&f, w), 3);  // alpha, beta, Gamma
  CHECK(w[0] == 0 && w[1] == 1 && w[2] == 2);
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY, .cn = "mma.e"};
  CHECK_EQ_INT(list(&f, w), 1);
  CHECK_EQ_INT(w[0], 2);
  // Each 5-gram of this text is in some name, but no name holds them all.
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY, .cn = "alpha.example.org"};
  CHECK_EQ_INT(list(&f, w), 0);
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY, .cn = "a%example"};
  CHECK_EQ_INT(list(&f, w), 0);
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY, .cn = "_.example.com"};
  CHECK_EQ_INT(list(&f, w), 0);
  // Five bytes, three characters: too short for 5-grams.
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY, .cn = "\xc3\xa9\xc3\xa9."};
  CHECK_EQ_INT(list(&f, w), 0);
  // The issuer with the key size, in notAfter order (migration 0022's
  // index); an unknown issuer has none.
  f = (ca_cert_filter){
      .usage = CA_USAGE_IDENTITY, .issuer = "rsa-issuing", .key_bits = 2048};
  CHECK_EQ_INT(list(&f, w), 2);
  CHECK(w[0] == 1 && w[1] == 3);
  f = (ca_cert_filter){
      .usage = CA_USAGE_IDENTITY, .issuer = "ec-issuing", .key_bits = 2048};
  CHECK_EQ_INT(list(&f, w), 0);
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY, .issuer = "no-such-ca"};
  CHECK_EQ_INT(list(&f, w), 0);
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY, .status = "revoked"};
  CHECK_EQ_INT(list(&f, w), 1);
  CHECK_EQ_INT(w[0], 2);
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY, .status = "good"};
  CHECK_EQ_INT(list(&f, w), 4);
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY,
                       .serial = issued[3].serial_hex};
  CHECK_EQ_INT(list(&f, w), 1);
  CHECK_EQ_INT(w[0], 3);
  // Expiry bounds: before is exclusive, after inclusive.
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY,
                       .expires_before = issued[2].not_after};
  CHECK_EQ_INT(list(&f, w), 2);
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY,
                       .expires_after = issued[2].not_after};
  CHECK_EQ_INT(list(&f, w), 3);
  CHECK_EQ_INT(w[0], 2);
  // Filters combine.
  f = (ca_cert_filter){
      .usage = CA_USAGE_IDENTITY, .key_type = "EC", .status = "good"};
  CHECK_EQ_INT(list(&f, w), 2);
  CHECK(w[0] == 0 && w[1] == 4);
  f = (ca_cert_filter){
      .usage = CA_USAGE_IDENTITY, .profile = "tomcat", .cn = "alpha"};
  CHECK_EQ_INT(list(&f, w), 0);
  // No trust entries were added.
  f = (ca_cert_filter){.usage = CA_USAGE_TRUST};
  CHECK_EQ_INT(list(&f, w), 0);
}

// lower_copy writes |n| bytes of |text| lower-cased (ASCII) to |out|.
static void lower_copy(const char *text, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) {
    const char c = text[i];
    out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
  }
  out[n] = '\0';
}

TEST(every_substring_finds_the_names_containing_it) {
  // Whatever its length and wherever it starts in a name: one or two
  // characters (PostgreSQL's plan), three or four (the names' trigrams,
  // migration 0026), five or more (their 5-grams). Upper case, so that the
  // match is seen to ignore case.
  for (int k = 0; k < CERTS; k++) {
    const size_t len = strlen(kCerts[k].cn);
    for (size_t start = 0; start < len; start++) {
      for (size_t n = 1; start + n <= len; n++) {
        char text[64], lower[64], name[64];
        lower_copy(kCerts[k].cn + start, n, lower);
        for (size_t i = 0; i <= n; i++) {
          const char c = lower[i];
          text[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
        }
        int expected[CERTS], want = 0;
        for (int i = 0; i < CERTS; i++) {
          lower_copy(kCerts[i].cn, strlen(kCerts[i].cn), name);
          expected[i] = strstr(name, lower) != NULL;
          want += expected[i];
        }
        int w[CERTS + 1];
        ca_cert_filter f = {.usage = CA_USAGE_IDENTITY, .cn = text};
        const int got = list(&f, w);
        if (got != want) {
          fprintf(stderr, "cn=%s: %d found, %d expected\n", text, got, want);
        }
        CHECK_EQ_INT(got, want);
        for (int i = 0; i < got && i < CERTS; i++) {
          CHECK(w[i] >= 0 && expected[w[i]]);
        }
      }
    }
  }
}

TEST(rows_carry_what_was_issued) {
  for (int with_der = 0; with_der <= 1; with_der++) {
    ca_cert_filter f = {.usage = CA_USAGE_IDENTITY,
                        .serial = issued[2].serial_hex,
                        .limit = 10,
                        .with_der = with_der};
    ca_cert_row *rows = NULL;
    size_t n = 0;
    CHECK(ca_store_list_certificates(ca.store, &f, &rows, &n));
    CHECK_EQ_INT(n, 1);
    if (n == 1) {
      const ca_cert_row *r = &rows[0];
      CHECK_EQ_INT(r->trust, 0);
      CHECK_EQ_STR(r->serial, issued[2].serial_hex);
      CHECK_EQ_STR(r->issuer, "ec-issuing");
      CHECK_EQ_STR(r->profile, "tomcat-ECDSA");
      CHECK_EQ_STR(r->common_name, "Gamma.example.com");
      CHECK_EQ_INT(r->san_count, 1);
      if (r->san_count == 1) {
        CHECK_EQ_STR(r->sans[0], issued[2].sans[0]);
      }
      CHECK_EQ_STR(r->key_type, "EC");
      CHECK_EQ_INT(r->key_bits, 256);
      CHECK_EQ_INT(r->not_before, issued[2].not_before);
      CHECK_EQ_INT(r->not_after, issued[2].not_after);
      CHECK_EQ_STR(r->status, "revoked");
      CHECK_EQ_STR(r->revocation, "revoked");
      CHECK_EQ_INT(r->revocation_reason, CA_REASON_SUPERSEDED);
      CHECK(r->revoked_at > 0);
      CHECK_EQ_STR(r->requester, "finder");
      CHECK_EQ_INT(r->self_signed, 0);
      if (with_der) {
        CHECK_EQ_BYTES(r->der, r->der_len, issued[2].der, issued[2].der_len);
      } else {
        CHECK(r->der == NULL);
      }
    }
    ca_cert_rows_free(rows, n);
  }
}

TEST(pages_follow_one_another_through_the_cursor) {
  ca_cert_filter f = {.usage = CA_USAGE_IDENTITY, .limit = 2};
  int seen[CERTS] = {0};
  int order[CERTS + 2], got = 0, pages = 0;
  for (;;) {
    ca_cert_row *rows = NULL;
    size_t n = 0;
    CHECK(ca_store_list_certificates(ca.store, &f, &rows, &n));
    pages++;
    for (size_t i = 0; i < n; i++) {
      for (int k = 0; k < CERTS; k++) {
        if (strcmp(rows[i].serial, issued[k].serial_hex) == 0) {
          seen[k]++;
          if (got < CERTS + 2) {
            order[got] = k;
          }
          got++;
        }
      }
    }
    if (n > 0) {
      // The cursor goes through its text form, as the API hands it out.
      char text[64];
      ca_cert_cursor_format(&rows[n - 1], text);
      CHECK(ca_cert_cursor_parse(&f.after, text));
      CHECK(f.after.set);
    }
    ca_cert_rows_free(rows, n);
    if (n < f.limit || pages > CERTS) {
      break;
    }
  }
  CHECK_EQ_INT(got, CERTS);
  CHECK_EQ_INT(pages, 3);
  for (int k = 0; k < CERTS; k++) {
    CHECK_EQ_INT(seen[k], 1);
    if (k < got) {
      CHECK_EQ_INT(order[k], k);
    }
  }
  ca_cert_cursor cursor;
  CHECK(!ca_cert_cursor_parse(&cursor, "not a cursor"));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_PARAMETER_INVALID);
}

// status=revoked alone reads revocations in notAfter order (its own
// statement): two revoked certificates, one on hold, come in order, page
// by page through the cursor, with their revocation, and other filters
// still apply. The hold is lifted at the end, as the other tests expect.
TEST(revoked_finds_page_through_revocations) {
  ca_revocation hold = {.serial = issued[4].serial_hex,
                        .reason = CA_REASON_CERTIFICATE_HOLD,
                        .actor = "finder",
                        .source = "127.0.0.1"};
  ca_revocation_result result;
  CHECK(ca_revoke(ca.authority, ca.store, &hold, &result));
  ca_cert_filter f = {
      .usage = CA_USAGE_IDENTITY, .status = "revoked", .limit = 1};
  const int want[2] = {2, 4};
  const int reasons[2] = {CA_REASON_SUPERSEDED, CA_REASON_CERTIFICATE_HOLD};
  int got = 0;
  for (int page = 0; page < 4; page++) {
    ca_cert_row *rows = NULL;
    size_t n = 0;
    CHECK(ca_store_list_certificates(ca.store, &f, &rows, &n));
    if (n == 1 && got < 2) {
      CHECK_EQ_STR(rows[0].serial, issued[want[got]].serial_hex);
      CHECK_EQ_STR(rows[0].status, "revoked");
      CHECK_EQ_INT(rows[0].revocation_reason, reasons[got]);
      CHECK(rows[0].revoked_at > 0);
      CHECK_EQ_INT(rows[0].not_after, issued[want[got]].not_after);
      char text[64];
      ca_cert_cursor_format(&rows[0], text);
      CHECK(ca_cert_cursor_parse(&f.after, text));
      got++;
    }
    ca_cert_rows_free(rows, n);
    if (n == 0) {
      break;
    }
  }
  CHECK_EQ_INT(got, 2);
  int w[CERTS + 1];
  f = (ca_cert_filter){
      .usage = CA_USAGE_IDENTITY, .status = "revoked", .profile = "tomcat"};
  CHECK_EQ_INT(list(&f, w), 0);
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY,
                       .status = "revoked",
                       .expires_after = issued[3].not_after};
  CHECK_EQ_INT(list(&f, w), 1);
  CHECK_EQ_INT(w[0], 4);
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY,
                       .status = "revoked",
                       .expires_before = issued[3].not_after};
  CHECK_EQ_INT(list(&f, w), 1);
  CHECK_EQ_INT(w[0], 2);
  CHECK(ca_unhold(ca.authority, ca.store, &hold, &result));
  f = (ca_cert_filter){.usage = CA_USAGE_IDENTITY, .status = "revoked"};
  CHECK_EQ_INT(list(&f, w), 1);
  CHECK_EQ_INT(w[0], 2);
}

TEST(a_name_is_kept_once_and_finds_each_of_its_certificates) {
  // A renewal under the same name in other letters: the names' table
  // (migration 0026) keeps the lower-cased name once, and a find through it
  // lists both certificates, soonest expiry first.
  ca_issued again;
  CHECK(mod_issue(&ca, "tomcat-ECDSA", "EC-P256", "ALPHA.Example.COM", &again));
  CHECK_EQ_INT(mod_db_int(&ca.db,
                          "SELECT count(*) FROM certificate_names"
                          " WHERE name LIKE '%alpha%'",
                          NULL, NULL),
               1);
  const char *const texts[] = {"PHA", "lpha.EXAMPLE"};
  for (size_t t = 0; t < 2; t++) {
    ca_cert_filter f = {
        .usage = CA_USAGE_IDENTITY, .cn = texts[t], .limit = 100};
    ca_cert_row *rows = NULL;
    size_t n = 0;
    CHECK(ca_store_list_certificates(ca.store, &f, &rows, &n));
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
      CHECK_EQ_STR(rows[0].serial, issued[0].serial_hex);
      CHECK_EQ_STR(rows[1].serial, again.serial_hex);
      CHECK_EQ_STR(rows[1].common_name, "ALPHA.Example.COM");
    }
    ca_cert_rows_free(rows, n);
  }
  ca_issued_cleanup(&again);
}

int main(void) {
  if (!setup()) {
    fprintf(stderr, "setup failed\n");
    mod_ca_close(&ca);
    return 1;
  }
  RUN(each_filter_selects_what_it_names);
  RUN(every_substring_finds_the_names_containing_it);
  RUN(rows_carry_what_was_issued);
  RUN(pages_follow_one_another_through_the_cursor);
  RUN(revoked_finds_page_through_revocations);
  RUN(a_name_is_kept_once_and_finds_each_of_its_certificates);
  for (int i = 0; i < CERTS; i++) {
    ca_issued_cleanup(&issued[i]);
  }
  mod_ca_close(&ca);
  return test_summary();
}
