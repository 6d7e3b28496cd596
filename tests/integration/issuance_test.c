// Issuance against a real pkid and PostgreSQL, over the protobuf API: every
// profile, its extensions read back and compared with README.md's profile
// table, its row in the database; a batch of good and bad requests; the batch
// limits; a restart that keeps every issuance; and no certificate when the
// database is unreachable (ARCHITECTURE.md invariants 1 and 8).
#include <openssl/mem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/client/client.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"
#include "tests/support/profile_check.h"
#include "tests/support/test.h"

static it_db db;
static it_pkid pkid;
static pki_client *client;

static int post(const char *path, const ProtobufCMessage *msg,
                pki_reply *reply) {
  const size_t len = protobuf_c_message_get_packed_size(msg);
  uint8_t *body = malloc(len + 1);
  CHECK(body != NULL);
  protobuf_c_message_pack(msg, body);
  const int ok = pki_client_call(client, "POST", path, "application/x-protobuf",
                                 body, len, reply);
  free(body);
  CHECK(ok);
  return ok;
}

// issue_one posts one IssueRequest and returns the decoded response, or NULL
// with |*out_status| and |out_code| describing the refusal.
static Pki__V1__IssueResponse *issue_one(const char *profile,
                                         const uint8_t *csr, size_t csr_len,
                                         long *out_status, char *out_code,
                                         size_t code_len) {
  Pki__V1__IssueRequest req = PKI__V1__ISSUE_REQUEST__INIT;
  req.profile = (char *)profile;
  req.csr.data = (uint8_t *)csr;
  req.csr.len = csr_len;
  pki_reply reply;
  out_code[0] = '\0';
  if (!post("/v1/certificates:issue", &req.base, &reply)) {
    *out_status = 0;
    return NULL;
  }
  *out_status = reply.status;
  Pki__V1__IssueResponse *resp = NULL;
  if (reply.status == 200) {
    resp = pki__v1__issue_response__unpack(NULL, reply.body_len, reply.body);
    CHECK(resp != NULL && resp->certificate != NULL);
  } else {
    Pki__V1__Error *e =
        pki__v1__error__unpack(NULL, reply.body_len, reply.body);
    CHECK(e != NULL);
    if (e != NULL) {
      snprintf(out_code, code_len, "%s", e->code);
      pki__v1__error__free_unpacked(e, NULL);
    }
  }
  pki_reply_cleanup(&reply);
  return resp;
}

static X509 *parse_der(const uint8_t *der, size_t len) {
  const uint8_t *p = der;
  return d2i_X509(NULL, &p, (long)len);
}

// verify_chain checks that |cert| is signed by chain[0] and chain[0] by
// chain[1], the self-signed root.
static void verify_chain(const Pki__V1__IssuedCertificate *c) {
  CHECK_EQ_INT(c->n_chain, 2);
  if (c->n_chain != 2) {
    return;
  }
  X509 *leaf = parse_der(c->certificate.data, c->certificate.len);
  X509 *issuing = parse_der(c->chain[0].data, c->chain[0].len);
  X509 *root = parse_der(c->chain[1].data, c->chain[1].len);
  CHECK(leaf != NULL && issuing != NULL && root != NULL);
  if (leaf != NULL && issuing != NULL && root != NULL) {
    EVP_PKEY *issuing_key = X509_get_pubkey(issuing);
    EVP_PKEY *root_key = X509_get_pubkey(root);
    CHECK(X509_verify(leaf, issuing_key) == 1);
    CHECK(X509_verify(issuing, root_key) == 1);
    CHECK(X509_verify(root, root_key) == 1);
    CHECK(X509_NAME_cmp(X509_get_issuer_name(leaf),
                        X509_get_subject_name(issuing)) == 0);
    EVP_PKEY_free(issuing_key);
    EVP_PKEY_free(root_key);
  }
  X509_free(leaf);
  X509_free(issuing);
  X509_free(root);
}

// check_row compares the database row of |c| with what was returned.
static void check_row(const Pki__V1__IssuedCertificate *c, const char *cn) {
  PGresult *res = it_db_query(
      &db,
      "SELECT c.profile, c.common_name, (SELECT s.status FROM"
      " certificate_status s WHERE s.id = c.id), encode(c.der, 'hex'),"
      " i.name, extract(epoch FROM c.not_before)::bigint,"
      " extract(epoch FROM c.not_after)::bigint, c.requester"
      " FROM certificates c JOIN issuers i ON i.id = c.issuer_id"
      " WHERE c.serial = $1",
      c->serial, NULL);
  CHECK(res != NULL && PQntuples(res) == 1);
  if (res == NULL || PQntuples(res) != 1) {
    PQclear(res);
    return;
  }
  CHECK_EQ_STR(PQgetvalue(res, 0, 0), c->profile);
  CHECK_EQ_STR(PQgetvalue(res, 0, 1), cn);
  CHECK_EQ_STR(PQgetvalue(res, 0, 2), "good");
  CHECK_EQ_STR(PQgetvalue(res, 0, 4), c->issuer);
  CHECK_EQ_INT(strtoll(PQgetvalue(res, 0, 5), NULL, 10), c->not_before);
  CHECK_EQ_INT(strtoll(PQgetvalue(res, 0, 6), NULL, 10), c->not_after);
  CHECK(strlen(PQgetvalue(res, 0, 7)) > 0);
  // The stored DER is exactly what the client received.
  const char *hex = PQgetvalue(res, 0, 3);
  CHECK_EQ_INT(strlen(hex), 2 * c->certificate.len);
  int same = strlen(hex) == 2 * c->certificate.len;
  for (size_t i = 0; same && i < c->certificate.len; i++) {
    unsigned byte;
    same = sscanf(hex + 2 * i, "%2x", &byte) == 1 &&
           byte == c->certificate.data[i];
  }
  CHECK(same);
  PQclear(res);
}

TEST(every_profile_is_issued_recorded_and_verifiable) {
  size_t n;
  const test_profile *profiles = test_profiles(&n);
  for (size_t i = 0; i < n; i++) {
    char cn[64];
    snprintf(cn, sizeof(cn), "node%zu.example.com", i);
    char subject[128];
    snprintf(subject, sizeof(subject), "/CN=%s/O=Example/OU=Voice", cn);
    test_csr_spec spec = {.key = profiles[i].key, .subject = subject};
    size_t len;
    uint8_t *csr = test_make_csr(&spec, &len, NULL);
    CHECK(csr != NULL);
    long status;
    char code[64];
    Pki__V1__IssueResponse *resp =
        issue_one(profiles[i].profile, csr, len, &status, code, sizeof(code));
    CHECK_EQ_INT(status, 200);
    if (resp != NULL && resp->certificate != NULL) {
      const Pki__V1__IssuedCertificate *c = resp->certificate;
      CHECK_EQ_STR(c->profile, profiles[i].profile);
      CHECK_EQ_STR(c->issuer, profiles[i].issuer);
      X509 *x = test_check_profile(c->certificate.data, c->certificate.len,
                                   &profiles[i]);
      X509_free(x);
      verify_chain(c);
      check_row(c, cn);
    }
    pki__v1__issue_response__free_unpacked(resp, NULL);
    OPENSSL_free(csr);
  }
}

TEST(single_refusals_answer_a_stable_code_and_store_nothing) {
  const long long before =
      it_db_int(&db, "SELECT count(*) FROM certificates", NULL);
  struct {
    const char *profile;
    test_csr_spec spec;
    const char *code;
  } cases[] = {
      {"nosuch",
       {.key = "RSA-2048", .subject = "/CN=a.example.com"},
       "PROFILE_UNKNOWN"},
      {"tomcat",
       {.key = "EC-P256", .subject = "/CN=a.example.com"},
       "KEY_TYPE_MISMATCH"},
      {"tomcat",
       {.key = "RSA-2048",
        .subject = "/CN=a.example.com",
        .corrupt_signature = 1},
       "CSR_SIGNATURE_INVALID"},
      {"tomcat",
       {.key = "RSA-2048",
        .subject = "/CN=a.example.com",
        .sans = "DNS:b.example.com"},
       "CN_NOT_IN_SAN"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    size_t len;
    uint8_t *csr = test_make_csr(&cases[i].spec, &len, NULL);
    long status;
    char code[64];
    Pki__V1__IssueResponse *resp =
        issue_one(cases[i].profile, csr, len, &status, code, sizeof(code));
    CHECK(resp == NULL);
    CHECK_EQ_INT(status, 400);
    CHECK_EQ_STR(code, cases[i].code);
    pki__v1__issue_response__free_unpacked(resp, NULL);
    OPENSSL_free(csr);
  }
  CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM certificates", NULL),
               before);
}

// batch_request builds a BatchIssueRequest of |n| CSR buffers.
static Pki__V1__BatchIssueResponse *post_batch(const char *profile,
                                               uint8_t **csrs, size_t *lens,
                                               size_t n, long *out_status) {
  Pki__V1__IssueRequest *items = calloc(n, sizeof(*items));
  Pki__V1__IssueRequest **ptrs = calloc(n, sizeof(*ptrs));
  for (size_t i = 0; i < n; i++) {
    pki__v1__issue_request__init(&items[i]);
    items[i].csr.data = csrs[i];
    items[i].csr.len = lens[i];
    ptrs[i] = &items[i];
  }
  Pki__V1__BatchIssueRequest req = PKI__V1__BATCH_ISSUE_REQUEST__INIT;
  req.profile = (char *)profile;
  req.n_items = n;
  req.items = ptrs;
  pki_reply reply;
  Pki__V1__BatchIssueResponse *resp = NULL;
  *out_status = 0;
  if (post("/v1/certificates:batchIssue", &req.base, &reply)) {
    *out_status = reply.status;
    if (reply.status == 200) {
      resp = pki__v1__batch_issue_response__unpack(NULL, reply.body_len,
                                                   reply.body);
    }
    pki_reply_cleanup(&reply);
  }
  free(items);
  free(ptrs);
  return resp;
}

TEST(a_batch_fails_only_its_bad_items) {
  // good, garbage, good, wrong key type, good, wildcard, broken signature.
  const test_csr_spec specs[] = {
      {.key = "RSA-2048", .subject = "/CN=b0.example.com"},
      {.key = NULL},
      {.key = "RSA-2048",
       .subject = "/CN=b2.example.com",
       .sans = "DNS:b2.example.com,DNS:b2,IP:10.9.8.7"},
      {.key = "EC-P256", .subject = "/CN=b3.example.com"},
      {.key = "RSA-3072", .subject = "/CN=b4.example.com"},
      {.key = "RSA-2048", .subject = "/CN=*.example.com"},
      {.key = "RSA-2048",
       .subject = "/CN=b6.example.com",
       .corrupt_signature = 1},
  };
  const char *const codes[] = {
      NULL,           "CSR_MALFORMED",        NULL, "KEY_TYPE_MISMATCH", NULL,
      "SAN_WILDCARD", "CSR_SIGNATURE_INVALID"};
  const size_t n = sizeof(specs) / sizeof(specs[0]);
  uint8_t *csrs[7];
  size_t lens[7];
  for (size_t i = 0; i < n; i++) {
    if (specs[i].key == NULL) {
      csrs[i] = (uint8_t *)OPENSSL_strdup("not a certificate request");
      lens[i] = strlen((char *)csrs[i]);
    } else {
      csrs[i] = test_make_csr(&specs[i], &lens[i], NULL);
    }
  }
  const long long before =
      it_db_int(&db, "SELECT count(*) FROM certificates", NULL);
  long status;
  Pki__V1__BatchIssueResponse *resp =
      post_batch("tomcat", csrs, lens, n, &status);
  CHECK_EQ_INT(status, 200);
  CHECK(resp != NULL && resp->n_results == n);
  if (resp != NULL && resp->n_results == n) {
    CHECK_EQ_INT(resp->issued, 3);
    CHECK_EQ_INT(resp->failed, 4);
    for (size_t i = 0; i < n; i++) {
      const Pki__V1__IssueResult *r = resp->results[i];
      if (codes[i] == NULL) {
        CHECK(r->certificate != NULL && r->error == NULL);
        if (r->certificate != NULL) {
          char cn[32];
          snprintf(cn, sizeof(cn), "b%zu.example.com", i);
          check_row(r->certificate, cn);
          verify_chain(r->certificate);
        }
      } else {
        CHECK(r->certificate == NULL && r->error != NULL);
        if (r->error != NULL) {
          CHECK_EQ_STR(r->error->code, codes[i]);
          CHECK(strlen(r->error->message) > 0);
        }
      }
    }
  }
  CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM certificates", NULL),
               before + 3);
  // One audit row for the batch.
  CHECK(it_db_int(&db,
                  "SELECT count(*) FROM audit_log WHERE action = 'issue' AND"
                  " detail = 'issued=3 refused=4'",
                  NULL) == 1);
  pki__v1__batch_issue_response__free_unpacked(resp, NULL);
  for (size_t i = 0; i < n; i++) {
    OPENSSL_free(csrs[i]);
  }
}

static void expect_error(const char *path, const char *content_type,
                         const uint8_t *body, size_t len, long want_status,
                         const char *want_code) {
  pki_reply reply;
  CHECK(pki_client_call(client, "POST", path, content_type, body, len, &reply));
  CHECK_EQ_INT(reply.status, want_status);
  char text[512];
  pki_reply_error_text(&reply, text, sizeof(text));
  if (strncmp(text, want_code, strlen(want_code)) != 0) {
    fprintf(stderr, "got \"%s\", want %s\n", text, want_code);
    CHECK(0);
  }
  pki_reply_cleanup(&reply);
}

TEST(batch_limits_and_malformed_bodies) {
  // 10,001 empty items: refused before decoding.
  const size_t n = 10001;
  uint8_t *body = malloc(2 * n);
  for (size_t i = 0; i < n; i++) {
    body[2 * i] = 0x12;  // field 2, length-delimited
    body[2 * i + 1] = 0x00;
  }
  expect_error("/v1/certificates:batchIssue", "application/x-protobuf", body,
               2 * n, 413, "BATCH_TOO_LARGE");
  free(body);
  expect_error("/v1/certificates:batchIssue", "application/x-protobuf",
               (const uint8_t *)"", 0, 400, "BATCH_EMPTY");
  expect_error("/v1/certificates:batchIssue", "application/x-protobuf",
               (const uint8_t *)"\x12\x7f", 2, 400, "REQUEST_MALFORMED");
  // JSON is read too (tests/integration/json_test.c); a form is not.
  expect_error("/v1/certificates:issue", "application/x-www-form-urlencoded",
               (const uint8_t *)"a=b", 3, 415, "UNSUPPORTED_MEDIA_TYPE");
  expect_error("/v1/certificates:issue", "application/x-protobuf",
               (const uint8_t *)"\xff\xff\xff", 3, 400, "REQUEST_MALFORMED");
  // Over the body limit of a single request: refused from Content-Length.
  const size_t big = 256 * 1024;
  uint8_t *large = calloc(1, big);
  expect_error("/v1/certificates:issue", "application/x-protobuf", large, big,
               413, "BODY_TOO_LARGE");
  free(large);
}

TEST(list_filters_and_pages) {
  pki_reply reply;
  CHECK(pki_client_call(client, "GET",
                        "/v1/certificates?profile=callmanager-ecdsa", NULL,
                        NULL, 0, &reply));
  CHECK_EQ_INT(reply.status, 200);
  Pki__V1__ListCertificatesResponse *list =
      pki__v1__list_certificates_response__unpack(NULL, reply.body_len,
                                                  reply.body);
  CHECK(list != NULL && list->n_certificates == 1);
  if (list != NULL && list->n_certificates == 1) {
    CHECK_EQ_STR(list->certificates[0]->profile, "CallManager-ECDSA");
    CHECK_EQ_STR(list->certificates[0]->key_type, "EC");
    CHECK_EQ_INT(list->certificates[0]->key_bits, 384);
  }
  pki__v1__list_certificates_response__free_unpacked(list, NULL);
  pki_reply_cleanup(&reply);

  // Page through everything two at a time: each row once, in order.
  const long long total =
      it_db_int(&db, "SELECT count(*) FROM certificates", NULL);
  long long seen = 0;
  char path[128] = "/v1/certificates?limit=2";
  for (int guard = 0; guard < 100; guard++) {
    CHECK(pki_client_call(client, "GET", path, NULL, NULL, 0, &reply));
    list = pki__v1__list_certificates_response__unpack(NULL, reply.body_len,
                                                       reply.body);
    pki_reply_cleanup(&reply);
    CHECK(list != NULL);
    if (list == NULL) {
      break;
    }
    seen += (long long)list->n_certificates;
    const int more = list->next_after[0] != '\0';
    snprintf(path, sizeof(path), "/v1/certificates?limit=2&after=%s",
             list->next_after);
    pki__v1__list_certificates_response__free_unpacked(list, NULL);
    if (!more) {
      break;
    }
  }
  CHECK_EQ_INT(seen, total);

  CHECK(pki_client_call(client, "GET", "/v1/certificates?cn=B2.EXAMPLE", NULL,
                        NULL, 0, &reply));
  list = pki__v1__list_certificates_response__unpack(NULL, reply.body_len,
                                                     reply.body);
  CHECK(list != NULL && list->n_certificates == 1);
  if (list != NULL && list->n_certificates == 1) {
    CHECK_EQ_INT(list->certificates[0]->n_sans, 3);
    CHECK_EQ_STR(list->certificates[0]->sans[2], "IP:10.9.8.7");
  }
  pki__v1__list_certificates_response__free_unpacked(list, NULL);
  pki_reply_cleanup(&reply);

  CHECK(pki_client_call(client, "GET", "/v1/certificates?status=bogus", NULL,
                        NULL, 0, &reply));
  CHECK_EQ_INT(reply.status, 400);
  pki_reply_cleanup(&reply);
  CHECK(pki_client_call(client, "GET", "/v1/certificates/00ff00", NULL, NULL, 0,
                        &reply));
  CHECK_EQ_INT(reply.status, 404);
  pki_reply_cleanup(&reply);
  CHECK(pki_client_call(client, "GET", "/v1/certificates/xyz", NULL, NULL, 0,
                        &reply));
  CHECK_EQ_INT(reply.status, 400);
  pki_reply_cleanup(&reply);
}

// ca_serials returns the CAs' serials joined, to compare across restarts.
static void ca_serials(char *out, size_t out_len) {
  pki_reply reply;
  out[0] = '\0';
  CHECK(pki_client_call(client, "GET", "/v1/ca", NULL, NULL, 0, &reply));
  Pki__V1__ListCasResponse *cas =
      pki__v1__list_cas_response__unpack(NULL, reply.body_len, reply.body);
  CHECK(cas != NULL && cas->n_cas == 4);
  for (size_t i = 0; cas != NULL && i < cas->n_cas; i++) {
    const size_t used = strlen(out);
    snprintf(out + used, out_len - used, "%s=%s;", cas->cas[i]->name,
             cas->cas[i]->serial);
  }
  pki__v1__list_cas_response__free_unpacked(cas, NULL);
  pki_reply_cleanup(&reply);
}

TEST(a_restart_keeps_every_issuance_and_the_same_cas) {
  char before_cas[512], after_cas[512];
  ca_serials(before_cas, sizeof(before_cas));
  const long long before =
      it_db_int(&db, "SELECT count(*) FROM certificates", NULL);
  CHECK(before > 0);
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  CHECK(it_pkid_start(&pkid, &db, pkid.data_dir, NULL));
  pki_client_free(client);
  client = it_client(&pkid);
  ca_serials(after_cas, sizeof(after_cas));
  CHECK_EQ_STR(after_cas, before_cas);
  // Every certificate is still there and downloadable.
  PGresult *res =
      it_db_query(&db, "SELECT serial FROM certificates", NULL, NULL);
  CHECK(res != NULL && PQntuples(res) == before);
  for (int i = 0; res != NULL && i < PQntuples(res); i++) {
    char path[128];
    snprintf(path, sizeof(path), "/v1/certificates/%s?format=der",
             PQgetvalue(res, i, 0));
    pki_reply reply;
    CHECK(pki_client_call(client, "GET", path, NULL, NULL, 0, &reply));
    CHECK_EQ_INT(reply.status, 200);
    pki_reply_cleanup(&reply);
  }
  PQclear(res);
  // Key files are still private.
  char key[700];
  snprintf(key, sizeof(key), "%s/keys/rsa-issuing.key", pkid.data_dir);
  struct stat st;
  CHECK(stat(key, &st) == 0 && (st.st_mode & 0777) == 0600);
  // And issuance goes on.
  test_csr_spec spec = {.key = "EC-P256", .subject = "/CN=after.example.com"};
  size_t len;
  uint8_t *csr = test_make_csr(&spec, &len, NULL);
  long status;
  char code[64];
  Pki__V1__IssueResponse *resp =
      issue_one("tomcat-ECDSA", csr, len, &status, code, sizeof(code));
  CHECK_EQ_INT(status, 200);
  pki__v1__issue_response__free_unpacked(resp, NULL);
  OPENSSL_free(csr);
  CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM certificates", NULL),
               before + 1);
}

TEST(no_certificate_leaves_when_the_database_is_unreachable) {
  char sql[256];
  const long long before =
      it_db_int(&db, "SELECT count(*) FROM certificates", NULL);
  // Cut pkid off: refuse new connections and end the ones it holds.
  snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS false",
           db.name);
  CHECK(it_db_admin(sql));
  snprintf(sql, sizeof(sql),
           "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
           " WHERE datname = '%s'",
           db.name);
  CHECK(it_db_admin(sql));

  test_csr_spec spec = {.key = "RSA-2048", .subject = "/CN=lost.example.com"};
  size_t len;
  uint8_t *csr = test_make_csr(&spec, &len, NULL);
  for (int attempt = 0; attempt < 3; attempt++) {
    long status;
    char code[64];
    Pki__V1__IssueResponse *resp =
        issue_one("tomcat", csr, len, &status, code, sizeof(code));
    CHECK(resp == NULL);
    CHECK_EQ_INT(status, 503);
    CHECK_EQ_STR(code, "STORAGE_UNAVAILABLE");
    pki__v1__issue_response__free_unpacked(resp, NULL);
  }
  uint8_t *one[1] = {csr};
  size_t lens[1] = {len};
  long status;
  Pki__V1__BatchIssueResponse *batch =
      post_batch("tomcat", one, lens, 1, &status);
  CHECK(batch == NULL);
  CHECK_EQ_INT(status, 503);
  pki_reply reply;
  CHECK(pki_client_call(client, "GET", "/healthz", NULL, NULL, 0, &reply));
  CHECK_EQ_INT(reply.status, 503);
  pki_reply_cleanup(&reply);

  // The database comes back: pkid reconnects without a restart, at its
  // next attempt (its backoff waits at most 5 s between attempts); until
  // then it answers 503 and stores nothing.
  snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS true",
           db.name);
  CHECK(it_db_admin(sql));
  char code[64];
  Pki__V1__IssueResponse *resp = NULL;
  for (int waited_ms = 0; resp == NULL && waited_ms < 10000; waited_ms += 100) {
    resp = issue_one("tomcat", csr, len, &status, code, sizeof(code));
    if (resp == NULL) {
      CHECK_EQ_INT(status, 503);
      usleep(100 * 1000);
    }
  }
  CHECK_EQ_INT(status, 200);
  CHECK(pki_client_call(client, "GET", "/healthz", NULL, NULL, 0, &reply));
  CHECK_EQ_INT(reply.status, 200);
  pki_reply_cleanup(&reply);
  CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM certificates", NULL),
               before + 1);
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM certificates"
                         " WHERE common_name = 'lost.example.com'",
                         NULL),
               1);
  pki__v1__issue_response__free_unpacked(resp, NULL);
  OPENSSL_free(csr);
}

int main(void) {
  it_db_create(&db);
  char data_dir[512];
  it_tmpdir("issuance", data_dir, sizeof(data_dir));
  if (!it_pkid_start(&pkid, &db, data_dir, NULL)) {
    it_db_drop(&db);
    return 1;
  }
  client = it_client(&pkid);
  RUN(every_profile_is_issued_recorded_and_verifiable);
  RUN(single_refusals_answer_a_stable_code_and_store_nothing);
  RUN(a_batch_fails_only_its_bad_items);
  RUN(batch_limits_and_malformed_bodies);
  RUN(list_filters_and_pages);
  RUN(a_restart_keeps_every_issuance_and_the_same_cas);
  RUN(no_certificate_leaves_when_the_database_is_unreachable);
  pki_client_free(client);
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  it_db_drop(&db);
  return test_summary();
}
