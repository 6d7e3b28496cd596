// Unit tests of the client side of OCSP (ca/x509/ocsp_client_msg.c) and of
// the check built on it (ca/revocation/trust_check.c). The answers are made
// by pki's own responder encoder (ca/x509/ocsp_response.c) for CAs made in
// memory: the issuing CA's certificate is the one checked, the root its
// issuer. A fetcher of the test hands the check those answers, or fails as
// a network does.
#include <openssl/bytestring.h>
#include <openssl/digest.h>
#include <openssl/mem.h>
#include <stdlib.h>
#include <string.h>

#include "ca/issue/authority.h"
#include "ca/revocation/trust_check.h"
#include "ca/x509/ocsp_client_msg.h"
#include "ca/x509/ocsp_request.h"
#include "ca/x509/ocsp_response.h"
#include "tests/support/test.h"

#define NOW INT64_C(1800000000)
#define SKEW 300
#define MAX_AGE 86400

static ca_authority *authority;
static const ca_issuer *root, *issuing, *ec_root;

static const ca_issuer *find(const char *name) {
  for (size_t i = 0; i < authority->count; i++) {
    if (strcmp(authority->issuers[i].name, name) == 0) {
      return &authority->issuers[i];
    }
  }
  abort();
}

// What one answer is made of.
typedef struct spec {
  const ca_issuer *signer;
  ca_ocsp_cert_status status;
  int reason;
  int64_t this_update, next_update;
  int echo_nonce;              // 1: the query's, 0: none
  const ca_ocsp_query *other;  // echo this query's nonce instead
  int other_serial;            // answer about another serial
} spec;

static spec good_spec(void) {
  spec s = {.signer = root,
            .status = CA_OCSP_GOOD,
            .reason = 0,
            .this_update = NOW - 60,
            .next_update = NOW + 3600,
            .echo_nonce = 1};
  return s;
}

// respond builds the answer to |q| as pki's responder would.
static int respond(const ca_ocsp_query *q, const spec *s, uint8_t **out,
                   size_t *out_len) {
  ca_ocsp_request req, other_req;
  const ca_ocsp_query *nonce_from = s->other != NULL ? s->other : q;
  if (!ca_ocsp_request_parse(&req, q->der, q->der_len) ||
      !ca_ocsp_request_parse(&other_req, nonce_from->der,
                             nonce_from->der_len)) {
    return 0;
  }
  ca_ocsp_single single = {.cert_id = req.ids[0].element,
                           .status = s->status,
                           .revoked_at = NOW - 7200,
                           .reason = s->reason,
                           .this_update = s->this_update,
                           .next_update = s->next_update};
  // Another serial: the CertID of a query about the root itself.
  ca_ocsp_query about_root;
  ca_ocsp_request root_req;
  if (s->other_serial) {
    if (!ca_ocsp_query_build(&root->cert, &root->cert, &about_root) ||
        !ca_ocsp_request_parse(&root_req, about_root.der, about_root.der_len)) {
      return 0;
    }
    single.cert_id = root_req.ids[0].element;
  }
  ca_ocsp_signer signer = {.key = s->signer->key,
                           .key_type = s->signer->key_info.type,
                           .digest = EVP_sha256()};
  memcpy(signer.key_hash, s->signer->key_id, CA_KEY_ID_LEN);
  const int ok = ca_ocsp_response_build(&signer, &single, 1,
                                        s->echo_nonce ? &other_req.nonce : NULL,
                                        NOW - 60, out, out_len);
  if (s->other_serial) {
    ca_ocsp_query_cleanup(&about_root);
  }
  return ok;
}

// verify answers |q| per |s| and checks the answer.
static int verify(const ca_ocsp_query *q, const spec *s, ca_ocsp_answer *a) {
  uint8_t *der = NULL;
  size_t len = 0;
  if (!respond(q, s, &der, &len)) {
    OPENSSL_free(der);
    return -1;
  }
  const int ok =
      ca_ocsp_answer_verify(der, len, q, &root->cert, NOW, SKEW, MAX_AGE, a);
  OPENSSL_free(der);
  return ok;
}

TEST(the_request_is_one_sha1_cert_id_and_a_32_octet_nonce) {
  ca_ocsp_query q;
  CHECK(ca_ocsp_query_build(&issuing->cert, &root->cert, &q));
  ca_ocsp_request req;
  CHECK(ca_ocsp_request_parse(&req, q.der, q.der_len));
  CHECK_EQ_INT(req.count, 1);
  CHECK_EQ_INT(req.ids[0].hash, CA_OCSP_HASH_SHA1);
  CHECK_EQ_BYTES(CBS_data(&req.ids[0].key_hash), CBS_len(&req.ids[0].key_hash),
                 root->key_id, CA_KEY_ID_LEN);
  CHECK_EQ_BYTES(CBS_data(&req.ids[0].serial), CBS_len(&req.ids[0].serial),
                 CBS_data(&issuing->cert.serial),
                 CBS_len(&issuing->cert.serial));
  CHECK(req.has_nonce);
  CHECK_EQ_INT(CBS_len(&req.nonce), 2 + CA_OCSP_CLIENT_NONCE_LEN);
  ca_ocsp_query again;
  CHECK(ca_ocsp_query_build(&issuing->cert, &root->cert, &again));
  CHECK(memcmp(q.nonce, again.nonce, sizeof(q.nonce)) != 0);
  ca_ocsp_query_cleanup(&q);
  ca_ocsp_query_cleanup(&again);
}

TEST(good_revoked_and_unknown_are_read) {
  ca_ocsp_query q;
  CHECK(ca_ocsp_query_build(&issuing->cert, &root->cert, &q));
  ca_ocsp_answer a;
  spec s = good_spec();
  CHECK_EQ_INT(verify(&q, &s, &a), 1);
  CHECK_EQ_INT(a.status, CA_OCSP_GOOD);
  CHECK(a.nonce_echoed);
  CHECK(!a.delegated);
  CHECK_EQ_INT(a.next_update, NOW + 3600);
  s.status = CA_OCSP_REVOKED;
  s.reason = 1;
  CHECK_EQ_INT(verify(&q, &s, &a), 1);
  CHECK_EQ_INT(a.status, CA_OCSP_REVOKED);
  CHECK_EQ_INT(a.reason, 1);
  CHECK_EQ_INT(a.revoked_at, NOW - 7200);
  s.status = CA_OCSP_UNKNOWN;
  CHECK_EQ_INT(verify(&q, &s, &a), 1);
  CHECK_EQ_INT(a.status, CA_OCSP_UNKNOWN);
  ca_ocsp_query_cleanup(&q);
}

TEST(a_nonce_is_checked_when_echoed_and_may_be_left_out) {
  ca_ocsp_query q, other;
  CHECK(ca_ocsp_query_build(&issuing->cert, &root->cert, &q));
  CHECK(ca_ocsp_query_build(&issuing->cert, &root->cert, &other));
  ca_ocsp_answer a;
  spec s = good_spec();
  s.echo_nonce = 0;
  CHECK_EQ_INT(verify(&q, &s, &a), 1);
  CHECK(!a.nonce_echoed);
  s.echo_nonce = 1;
  s.other = &other;
  CHECK_EQ_INT(verify(&q, &s, &a), 0);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_OCSP_RESPONSE_INVALID);
  CHECK(strstr(ca_err_get()->message, "nonce") != NULL);
  ca_ocsp_query_cleanup(&q);
  ca_ocsp_query_cleanup(&other);
}

TEST(freshness_is_checked_with_the_skew) {
  ca_ocsp_query q;
  CHECK(ca_ocsp_query_build(&issuing->cert, &root->cert, &q));
  ca_ocsp_answer a;
  spec s = good_spec();
  s.next_update = NOW - SKEW + 1;  // within the skew
  CHECK_EQ_INT(verify(&q, &s, &a), 1);
  s.next_update = NOW - SKEW - 1;
  CHECK_EQ_INT(verify(&q, &s, &a), 0);
  CHECK(strstr(ca_err_get()->message, "stale") != NULL);
  s = good_spec();
  s.this_update = NOW + SKEW + 1;
  s.next_update = NOW + 7200;
  CHECK_EQ_INT(verify(&q, &s, &a), 0);
  CHECK(strstr(ca_err_get()->message, "future") != NULL);
  ca_ocsp_query_cleanup(&q);
}

TEST(an_answer_about_another_certificate_is_refused) {
  ca_ocsp_query q;
  CHECK(ca_ocsp_query_build(&issuing->cert, &root->cert, &q));
  ca_ocsp_answer a;
  spec s = good_spec();
  s.other_serial = 1;
  CHECK_EQ_INT(verify(&q, &s, &a), 0);
  CHECK(strstr(ca_err_get()->message, "CertID") != NULL);
  ca_ocsp_query_cleanup(&q);
}

TEST(a_signer_the_ca_did_not_authorize_is_refused) {
  ca_ocsp_query q;
  CHECK(ca_ocsp_query_build(&issuing->cert, &root->cert, &q));
  ca_ocsp_answer a;
  spec s = good_spec();
  s.signer = ec_root;
  CHECK_EQ_INT(verify(&q, &s, &a), 0);
  CHECK(strstr(ca_err_get()->message, "4.2.2.2") != NULL);
  ca_ocsp_query_cleanup(&q);
}

TEST(error_responses_and_junk_are_refused) {
  ca_ocsp_query q;
  CHECK(ca_ocsp_query_build(&issuing->cert, &root->cert, &q));
  ca_ocsp_answer a;
  uint8_t err[5];
  ca_ocsp_error_response(CA_OCSP_TRY_LATER, err);
  CHECK(!ca_ocsp_answer_verify(err, sizeof(err), &q, &root->cert, NOW, SKEW,
                               MAX_AGE, &a));
  CHECK(strstr(ca_err_get()->message, "tryLater") != NULL);
  static const uint8_t junk[] = {0x30, 0x80, 0x00, 0x00};
  CHECK(!ca_ocsp_answer_verify(junk, sizeof(junk), &q, &root->cert, NOW, SKEW,
                               MAX_AGE, &a));
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_OCSP_RESPONSE_INVALID);
  ca_ocsp_query_cleanup(&q);
}

// --- The check ---

// The test's fetcher: answers every OCSP request per |spec|, or fails.
typedef struct served {
  const spec *spec;  // NULL: the network fails
  int calls;
  char last_url[128];
} served;

static int fetch(void *ctx, const char *url, const uint8_t *body,
                 size_t body_len, const char *content_type, size_t max_bytes,
                 uint8_t **out, size_t *out_len) {
  (void)content_type;
  (void)max_bytes;
  served *s = ctx;
  s->calls++;
  snprintf(s->last_url, sizeof(s->last_url), "%s", url);
  if (s->spec == NULL || body == NULL) {
    CA_SET_ERROR(CA_ERR_REVOCATION_UNREACHABLE, "connection refused");
    return 0;
  }
  // The request pki sent, read as a responder reads it, answered.
  ca_ocsp_query q;
  memset(&q, 0, sizeof(q));
  q.der = (uint8_t *)body;
  q.der_len = body_len;
  uint8_t *der = NULL;
  size_t len = 0;
  if (!respond(&q, s->spec, &der, &len)) {
    return 0;
  }
  *out = der;
  *out_len = len;
  return 1;
}

static ca_revcheck_params params(const char *url) {
  ca_revcheck_params p = {
      .responder_url = url, .now = NOW, .skew = SKEW, .max_age = MAX_AGE};
  return p;
}

TEST(the_check_asks_the_responder_and_reads_its_answer) {
  spec s = good_spec();
  served net = {.spec = &s};
  const ca_revcheck_fetcher f = {fetch, &net};
  const ca_revcheck_params p = params("http://ocsp.example/");
  ca_revcheck_result r;
  CHECK(ca_revcheck_run(issuing->der, issuing->der_len, root->der,
                        root->der_len, &p, &f, &r));
  CHECK_EQ_STR(ca_revstatus_name(r.status), "good");
  CHECK_EQ_STR(r.source, "ocsp");
  CHECK_EQ_STR(r.url, "http://ocsp.example/");
  CHECK(r.nonce_echoed);
  s.status = CA_OCSP_REVOKED;
  s.reason = 4;
  CHECK(ca_revcheck_run(issuing->der, issuing->der_len, root->der,
                        root->der_len, &p, &f, &r));
  CHECK_EQ_STR(ca_revstatus_name(r.status), "revoked");
  CHECK_EQ_INT(r.reason, 4);
  s.status = CA_OCSP_UNKNOWN;
  CHECK(ca_revcheck_run(issuing->der, issuing->der_len, root->der,
                        root->der_len, &p, &f, &r));
  CHECK_EQ_STR(ca_revstatus_name(r.status), "unknown");
  CHECK(strstr(r.message, "does not know") != NULL);
}

TEST(the_check_says_why_it_has_no_status) {
  served net = {.spec = NULL};
  const ca_revcheck_fetcher f = {fetch, &net};
  ca_revcheck_params p = params("http://ocsp.example/");
  ca_revcheck_result r;
  CHECK(ca_revcheck_run(issuing->der, issuing->der_len, root->der,
                        root->der_len, &p, &f, &r));
  CHECK_EQ_STR(ca_revstatus_name(r.status), "unreachable");
  CHECK(strstr(r.message, "connection refused") != NULL);
  // pki's CAs made in memory name no responder and no CRL.
  p.responder_url = NULL;
  CHECK(ca_revcheck_run(issuing->der, issuing->der_len, root->der,
                        root->der_len, &p, &f, &r));
  CHECK_EQ_STR(ca_revstatus_name(r.status), "unknown");
  CHECK(strstr(r.message, "names no OCSP responder") != NULL);
  CHECK(ca_revcheck_run(issuing->der, issuing->der_len, NULL, 0, &p, &f, &r));
  CHECK_EQ_STR(ca_revstatus_name(r.status), "unknown");
  CHECK(strstr(r.message, "issuer unknown") != NULL);
  CHECK(ca_revcheck_run(root->der, root->der_len, NULL, 0, &p, &f, &r));
  CHECK_EQ_STR(ca_revstatus_name(r.status), "anchor");
  // An issuer that did not sign the certificate is the caller's mistake.
  CHECK(!ca_revcheck_run(issuing->der, issuing->der_len, ec_root->der,
                         ec_root->der_len, &p, &f, &r));
  CHECK_EQ_INT(net.calls, 1);
}

TEST(status_names_read_back) {
  for (int i = 0; i < CA_REVSTATUS_COUNT; i++) {
    ca_revstatus s;
    CHECK(ca_revstatus_parse(ca_revstatus_name((ca_revstatus)i), &s));
    CHECK_EQ_INT(s, i);
  }
  ca_revstatus s;
  CHECK(!ca_revstatus_parse("fine", &s));
}

int main(void) {
  ca_authority_config config;
  ca_authority_config_init(&config);
  if (!ca_authority_new_ephemeral(&config, &authority)) {
    return 1;
  }
  root = find("rsa-root");
  issuing = find("rsa-issuing");
  ec_root = find("ec-root");
  RUN(the_request_is_one_sha1_cert_id_and_a_32_octet_nonce);
  RUN(good_revoked_and_unknown_are_read);
  RUN(a_nonce_is_checked_when_echoed_and_may_be_left_out);
  RUN(freshness_is_checked_with_the_skew);
  RUN(an_answer_about_another_certificate_is_refused);
  RUN(a_signer_the_ca_did_not_authorize_is_refused);
  RUN(error_responses_and_junk_are_refused);
  RUN(the_check_asks_the_responder_and_reads_its_answer);
  RUN(the_check_says_why_it_has_no_status);
  RUN(status_names_read_back);
  ca_authority_free(authority);
  return test_summary();
}
