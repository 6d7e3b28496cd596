// Self-signed identities and node CSRs against a real pkid and PostgreSQL:
// POST /v1/self-signed records a self-signed row (no issuer, key generated,
// cluster, audit) whose certificate openssl and certtool accept as its own
// trust anchor; :regenerate makes a new key of the same kind and a new
// certificate like the old one, records what it replaced, and refuses what
// it cannot regenerate (unknown, issued by a pki CA, already replaced, two
// at once); :revoke refuses a self-signed serial and the CRL and OCSP code
// never see it; GET downloads it; pkictl selfsigned, regenerate and csr
// (whose CSR openssl verifies and pki issues).
#include <openssl/bytestring.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/client/client.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/ocsp_client.h"
#include "tests/support/test.h"

static it_db db;
static it_pkid pkid;
static pki_client *client;
static char work[512];

typedef struct made {
  long status;
  char code[64];
  char message[512];
  char serial[80];
  char replaces[80];
  char issuer[64];
  size_t chain_len;
  int from_pool;
  int64_t not_before, not_after;
  EVP_PKEY *key;  // parsed from the response's PKCS#8
  X509 *cert;
} made;

static void made_free(made *m) {
  EVP_PKEY_free(m->key);
  X509_free(m->cert);
  memset(m, 0, sizeof(*m));
}

// read_made reads a SelfSignedResponse or an Error from |reply|.
static void read_made(pki_reply *reply, made *out) {
  out->status = reply->status;
  if (reply->status != 200) {
    Pki__V1__Error *e =
        pki__v1__error__unpack(NULL, reply->body_len, reply->body);
    CHECK(e != NULL);
    if (e != NULL) {
      snprintf(out->code, sizeof(out->code), "%s", e->code);
      snprintf(out->message, sizeof(out->message), "%s", e->message);
      pki__v1__error__free_unpacked(e, NULL);
    }
    return;
  }
  Pki__V1__SelfSignedResponse *resp =
      pki__v1__self_signed_response__unpack(NULL, reply->body_len, reply->body);
  CHECK(resp != NULL && resp->certificate != NULL);
  if (resp == NULL || resp->certificate == NULL) {
    pki__v1__self_signed_response__free_unpacked(resp, NULL);
    return;
  }
  CBS pkcs8;
  CBS_init(&pkcs8, resp->private_key.data, resp->private_key.len);
  out->key = EVP_parse_private_key(&pkcs8);
  CHECK(out->key != NULL && CBS_len(&pkcs8) == 0);
  const Pki__V1__IssuedCertificate *c = resp->certificate;
  const uint8_t *p = c->certificate.data;
  out->cert = d2i_X509(NULL, &p, (long)c->certificate.len);
  CHECK(out->cert != NULL);
  snprintf(out->serial, sizeof(out->serial), "%s", c->serial);
  snprintf(out->replaces, sizeof(out->replaces), "%s", resp->replaces);
  snprintf(out->issuer, sizeof(out->issuer), "%s", c->issuer);
  out->chain_len = c->n_chain;
  out->from_pool = resp->key_from_pool;
  out->not_before = c->not_before;
  out->not_after = c->not_after;
  pki__v1__self_signed_response__free_unpacked(resp, NULL);
}

static void create(pki_client *with, const char *profile, const char *cn,
                   const char *ou, const char *san, const char *key_type,
                   uint32_t years, const char *cluster, made *out) {
  memset(out, 0, sizeof(*out));
  Pki__V1__Subject subject = PKI__V1__SUBJECT__INIT;
  subject.common_name = (char *)cn;
  subject.organization = "Lab";
  subject.organizational_unit = (char *)(ou != NULL ? ou : "");
  Pki__V1__SelfSignedRequest req = PKI__V1__SELF_SIGNED_REQUEST__INIT;
  req.profile = (char *)profile;
  req.subject = &subject;
  req.key_type = (char *)(key_type != NULL ? key_type : "");
  req.validity_years = years;
  req.cluster = (char *)(cluster != NULL ? cluster : "");
  char *sans[2] = {(char *)cn, (char *)san};
  if (san != NULL) {
    req.n_sans = 2;
    req.sans = sans;
  }
  const size_t len = pki__v1__self_signed_request__get_packed_size(&req);
  uint8_t *body = malloc(len + 1);
  pki__v1__self_signed_request__pack(&req, body);
  pki_reply reply;
  CHECK(pki_client_call(with, "POST", "/v1/self-signed",
                        "application/x-protobuf", body, len, &reply));
  free(body);
  read_made(&reply, out);
  pki_reply_cleanup(&reply);
}

// regenerate posts :regenerate for |serial|; |years| 0 sends no body.
static void regenerate(pki_client *with, const char *serial, uint32_t years,
                       made *out) {
  memset(out, 0, sizeof(*out));
  char path[200];
  snprintf(path, sizeof(path), "/v1/certificates/%s:regenerate", serial);
  Pki__V1__RegenerateRequest req = PKI__V1__REGENERATE_REQUEST__INIT;
  req.validity_years = years;
  uint8_t body[16];
  const size_t len =
      years != 0 ? pki__v1__regenerate_request__pack(&req, body) : 0;
  pki_reply reply;
  CHECK(pki_client_call(with, "POST", path, "application/x-protobuf",
                        len > 0 ? body : NULL, len, &reply));
  read_made(&reply, out);
  pki_reply_cleanup(&reply);
}

static long long count_rows(const char *sql, const char *param) {
  return it_db_int(&db, sql, param);
}

// db_text returns column 0 of the first row of |sql| ($1 = |param|) in
// |out|, "NULL" for SQL NULL.
static void db_text(const char *sql, const char *param, char *out,
                    size_t out_len) {
  PGresult *res = it_db_query(&db, sql, param, NULL);
  snprintf(out, out_len, "%s", "?");
  if (res != NULL && PQntuples(res) > 0) {
    snprintf(out, out_len, "%s",
             PQgetisnull(res, 0, 0) ? "NULL" : PQgetvalue(res, 0, 0));
  }
  PQclear(res);
}

// write_pem writes |x| to |work|/|name| and returns the path in |out|.
static void write_pem(X509 *x, const char *name, char *out, size_t out_len) {
  snprintf(out, out_len, "%s/%s", work, name);
  FILE *f = fopen(out, "w");
  CHECK(f != NULL && x != NULL && PEM_write_X509(f, x) == 1);
  if (f != NULL) {
    fclose(f);
  }
}

// verify_with_real_clients checks that openssl and certtool accept |x| as
// its own trust anchor.
static void verify_with_real_clients(X509 *x, const char *name) {
  char path[700], cmd[2400];
  write_pem(x, name, path, sizeof(path));
  snprintf(cmd, sizeof(cmd), "openssl verify -x509_strict -CAfile %s %s", path,
           path);
  CHECK_EQ_INT(it_run(cmd), 0);
  snprintf(cmd, sizeof(cmd),
           "certtool --verify --load-ca-certificate %s --infile %s", path,
           path);
  CHECK_EQ_INT(it_run(cmd), 0);
}

static char first_serial[80];
static char first_id[24];

TEST(create_records_a_self_signed_row) {
  made m;
  create(client, "tomcat", "cucm1.example.com", "Voice", "cucm1", "RSA-2048",
         10, "StandAloneCluster", &m);
  CHECK_EQ_INT(m.status, 200);
  if (m.status != 200) {
    fprintf(stderr, "%s: %s\n", m.code, m.message);
    return;
  }
  snprintf(first_serial, sizeof(first_serial), "%s", m.serial);
  // Its own trust anchor, no chain, the key returned is its key.
  CHECK_EQ_STR(m.issuer, "");
  CHECK_EQ_INT(m.chain_len, 0);
  EVP_PKEY *pub = X509_get_pubkey(m.cert);
  CHECK(pub != NULL && EVP_PKEY_cmp(m.key, pub) == 1);
  CHECK(EVP_PKEY_bits(pub) == 2048);
  EVP_PKEY_free(pub);
  CHECK(X509_NAME_cmp(X509_get_subject_name(m.cert),
                      X509_get_issuer_name(m.cert)) == 0);
  CHECK(m.not_after - m.not_before >= 10 * 365 * 86400);
  verify_with_real_clients(m.cert, "first.pem");

  // The row: no issuer, self-signed, key generated, cluster, requester.
  char text[256];
  db_text("SELECT id::text FROM certificates WHERE serial = $1", m.serial,
          first_id, sizeof(first_id));
  CHECK_EQ_INT(count_rows("SELECT count(*) FROM certificates WHERE serial = $1"
                          " AND issuer_id IS NULL AND self_signed"
                          " AND key_generated AND NOT EXISTS (SELECT 1"
                          " FROM revocations r WHERE r.certificate_id = id)"
                          " AND replaces_id IS NULL",
                          m.serial),
               1);
  db_text("SELECT cluster FROM certificates WHERE serial = $1", m.serial, text,
          sizeof(text));
  CHECK_EQ_STR(text, "StandAloneCluster");
  db_text("SELECT requester FROM certificates WHERE serial = $1", m.serial,
          text, sizeof(text));
  CHECK(strncmp(text, "token:", 6) == 0);
  db_text(
      "SELECT array_to_string(sans, ',') FROM certificates"
      " WHERE serial = $1",
      m.serial, text, sizeof(text));
  CHECK_EQ_STR(text, "DNS:cucm1.example.com,DNS:cucm1");
  db_text("SELECT subject FROM certificates WHERE serial = $1", m.serial, text,
          sizeof(text));
  CHECK_EQ_STR(text, "CN=cucm1.example.com,OU=Voice,O=Lab");
  // One audit row.
  CHECK_EQ_INT(count_rows("SELECT count(*) FROM audit_log WHERE object = $1"
                          " AND action = 'self-signed' AND outcome = 'ok'",
                          m.serial),
               1);
  made_free(&m);
}

TEST(key_types_and_refusals) {
  made m;
  // RSA-1024 for a lab's legacy phones: only here, generated on demand.
  create(client, "CallManager", "cm1.example.com", NULL, NULL, "RSA-1024", 5,
         NULL, &m);
  CHECK_EQ_INT(m.status, 200);
  if (m.cert != NULL) {
    EVP_PKEY *pub = X509_get_pubkey(m.cert);
    CHECK(pub != NULL && EVP_PKEY_bits(pub) == 1024);
    EVP_PKEY_free(pub);
    verify_with_real_clients(m.cert, "rsa1024.pem");
    CHECK(!m.from_pool);
  }
  made_free(&m);
  create(client, "tomcat-ECDSA", "ec1.example.com", NULL, NULL, "EC-P384", 20,
         "c2", &m);
  CHECK_EQ_INT(m.status, 200);
  if (m.cert != NULL) {
    CHECK_EQ_INT(X509_get_signature_nid(m.cert), NID_ecdsa_with_SHA384);
    verify_with_real_clients(m.cert, "p384.pem");
  }
  made_free(&m);
  // EC-P256 comes from the pool when it has one ready.
  create(client, "CallManager-ECDSA", "ec2.example.com", NULL, NULL, NULL, 0,
         NULL, &m);
  CHECK_EQ_INT(m.status, 200);
  CHECK(m.from_pool);
  made_free(&m);

  const long long before =
      count_rows("SELECT count(*) FROM certificates", NULL);
  static const struct {
    const char *profile, *cn, *key_type;
    uint32_t years;
    long status;
    const char *code;
  } kRefused[] = {
      {"tomcat", "a.example.com", NULL, 7, 400, "VALIDITY_UNSUPPORTED"},
      {"tomcat", "a.example.com", NULL, 1, 400, "VALIDITY_UNSUPPORTED"},
      {"tomcat", "a.example.com", "RSA-8192", 5, 400, "PARAMETER_INVALID"},
      {"tomcat", "a.example.com", "EC-P256", 5, 400, "KEY_TYPE_MISMATCH"},
      {"tomcat", "*.example.com", NULL, 5, 400, "SAN_WILDCARD"},
      {"nosuch", "a.example.com", NULL, 5, 400, "PROFILE_UNKNOWN"},
  };
  for (size_t i = 0; i < sizeof(kRefused) / sizeof(kRefused[0]); i++) {
    create(client, kRefused[i].profile, kRefused[i].cn, NULL, NULL,
           kRefused[i].key_type, kRefused[i].years, NULL, &m);
    CHECK_EQ_INT(m.status, kRefused[i].status);
    CHECK_EQ_STR(m.code, kRefused[i].code);
    made_free(&m);
  }
  // Refusals record nothing.
  CHECK_EQ_INT(count_rows("SELECT count(*) FROM certificates", NULL), before);

  // Neither protobuf nor JSON (tests/integration/json_test.c).
  pki_reply reply;
  CHECK(pki_client_call(client, "POST", "/v1/self-signed",
                        "application/x-www-form-urlencoded",
                        (const uint8_t *)"a=b", 3, &reply));
  CHECK_EQ_INT(reply.status, 415);
  pki_reply_cleanup(&reply);
}

static char second_serial[80];

TEST(regenerate_replaces_with_the_same_kind) {
  made old, m;
  memset(&old, 0, sizeof(old));
  // The old certificate, for comparison.
  char sql_serial[80];
  snprintf(sql_serial, sizeof(sql_serial), "%s", first_serial);
  PGresult *res =
      it_db_query(&db, "SELECT der FROM certificates WHERE serial = $1",
                  first_serial, NULL);
  CHECK(res != NULL && PQntuples(res) == 1);
  if (res != NULL && PQntuples(res) == 1) {
    size_t len;
    unsigned char *der =
        PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 0), &len);
    const uint8_t *p = der;
    old.cert = d2i_X509(NULL, &p, (long)len);
    PQfreemem(der);
  }
  PQclear(res);
  CHECK(old.cert != NULL);

  regenerate(client, first_serial, 0, &m);
  CHECK_EQ_INT(m.status, 200);
  if (m.status != 200 || old.cert == NULL) {
    fprintf(stderr, "%s: %s\n", m.code, m.message);
    made_free(&m);
    made_free(&old);
    return;
  }
  snprintf(second_serial, sizeof(second_serial), "%s", m.serial);
  CHECK_EQ_STR(m.replaces, first_serial);
  CHECK(strcmp(m.serial, first_serial) != 0);
  // Same subject, SANs, key type and length; a new key; same validity.
  CHECK(X509_NAME_cmp(X509_get_subject_name(m.cert),
                      X509_get_subject_name(old.cert)) == 0);
  EVP_PKEY *new_pub = X509_get_pubkey(m.cert);
  EVP_PKEY *old_pub = X509_get_pubkey(old.cert);
  CHECK(new_pub != NULL && old_pub != NULL &&
        EVP_PKEY_id(new_pub) == EVP_PKEY_id(old_pub) &&
        EVP_PKEY_bits(new_pub) == EVP_PKEY_bits(old_pub) &&
        EVP_PKEY_cmp(new_pub, old_pub) != 1);
  CHECK(new_pub != NULL && EVP_PKEY_cmp(m.key, new_pub) == 1);
  EVP_PKEY_free(new_pub);
  EVP_PKEY_free(old_pub);
  CHECK(X509_get_ext_by_NID(m.cert, NID_subject_alt_name, -1) >= 0);
  char text[256], want[256];
  db_text(
      "SELECT array_to_string(sans, ',') || ' ' || cluster || ' ' ||"
      " profile || ' ' || key_type || key_bits FROM certificates"
      " WHERE serial = $1",
      m.serial, text, sizeof(text));
  CHECK_EQ_STR(text,
               "DNS:cucm1.example.com,DNS:cucm1 StandAloneCluster tomcat "
               "RSA2048");
  const int64_t years = (m.not_after - m.not_before) / (365 * 86400);
  CHECK_EQ_INT(years, 10);
  verify_with_real_clients(m.cert, "second.pem");

  // The row says what it replaced; the old one stays as it was.
  db_text("SELECT replaces_id::text FROM certificates WHERE serial = $1",
          m.serial, text, sizeof(text));
  CHECK_EQ_STR(text, first_id);
  CHECK_EQ_INT(count_rows("SELECT count(*) FROM certificates WHERE serial = $1"
                          " AND self_signed AND key_generated",
                          m.serial),
               1);
  db_text("SELECT status FROM certificate_status WHERE serial = $1",
          first_serial, text, sizeof(text));
  CHECK_EQ_STR(text, "good");
  snprintf(want, sizeof(want), "replaces %s", first_serial);
  db_text(
      "SELECT detail FROM audit_log WHERE action = 'regenerate'"
      " AND object = $1",
      m.serial, text, sizeof(text));
  CHECK_EQ_STR(text, want);
  made_free(&m);

  // Once replaced, the old one cannot be regenerated again: the message
  // names its replacement.
  regenerate(client, first_serial, 0, &m);
  CHECK_EQ_INT(m.status, 409);
  CHECK_EQ_STR(m.code, "CONFLICT");
  CHECK(strstr(m.message, second_serial) != NULL);
  made_free(&m);

  // A validity of its own; refused ones change nothing.
  regenerate(client, second_serial, 7, &m);
  CHECK_EQ_INT(m.status, 400);
  CHECK_EQ_STR(m.code, "VALIDITY_UNSUPPORTED");
  made_free(&m);
  regenerate(client, second_serial, 20, &m);
  CHECK_EQ_INT(m.status, 200);
  CHECK_EQ_INT((m.not_after - m.not_before) / (365 * 86400), 20);
  CHECK_EQ_STR(m.replaces, second_serial);
  made_free(&m);
  made_free(&old);
}

TEST(regenerate_refusals) {
  made m;
  // Unknown serial.
  regenerate(client, "0123456789abcdef0123456789abcdef", 0, &m);
  CHECK_EQ_INT(m.status, 404);
  CHECK_EQ_STR(m.code, "NOT_FOUND");
  made_free(&m);
  // Not hexadecimal.
  regenerate(client, "nothex", 0, &m);
  CHECK_EQ_INT(m.status, 400);
  made_free(&m);
  // A certificate issued by pki's CA: issue it again instead.
  pki_reply reply;
  Pki__V1__Subject subject = PKI__V1__SUBJECT__INIT;
  subject.common_name = "issued.example.com";
  Pki__V1__GenerateKeyRequest req = PKI__V1__GENERATE_KEY_REQUEST__INIT;
  req.profile = "tomcat-ECDSA";
  req.subject = &subject;
  uint8_t body[256];
  const size_t len = pki__v1__generate_key_request__pack(&req, body);
  CHECK(pki_client_call(client, "POST", "/v1/keys:generate",
                        "application/x-protobuf", body, len, &reply));
  CHECK_EQ_INT(reply.status, 200);
  Pki__V1__GenerateKeyResponse *g =
      pki__v1__generate_key_response__unpack(NULL, reply.body_len, reply.body);
  CHECK(g != NULL && g->certificate != NULL);
  if (g != NULL && g->certificate != NULL) {
    regenerate(client, g->certificate->serial, 0, &m);
    CHECK_EQ_INT(m.status, 409);
    CHECK_EQ_STR(m.code, "NOT_SELF_SIGNED");
    made_free(&m);
  }
  pki__v1__generate_key_response__free_unpacked(g, NULL);
  pki_reply_cleanup(&reply);
  // A body that is not a RegenerateRequest.
  char path[200];
  snprintf(path, sizeof(path), "/v1/certificates/%s:regenerate", first_serial);
  CHECK(pki_client_call(client, "POST", path, "application/x-protobuf",
                        (const uint8_t *)"\xff\xff\xff", 3, &reply));
  CHECK_EQ_INT(reply.status, 400);
  pki_reply_cleanup(&reply);
}

// Two regenerations of one certificate at once: exactly one wins.
typedef struct racer {
  const char *serial;
  made result;
} racer;

static void *race(void *arg) {
  racer *r = arg;
  pki_client *own = it_client(&pkid);
  regenerate(own, r->serial, 0, &r->result);
  pki_client_free(own);
  return NULL;
}

TEST(concurrent_regenerations_make_one_successor) {
  made base;
  create(client, "tomcat", "race.example.com", NULL, NULL, "RSA-2048", 5, NULL,
         &base);
  CHECK_EQ_INT(base.status, 200);
  enum { N = 3 };
  racer racers[N];
  pthread_t threads[N];
  for (int i = 0; i < N; i++) {
    racers[i].serial = base.serial;
    CHECK(pthread_create(&threads[i], NULL, race, &racers[i]) == 0);
  }
  int won = 0, conflicts = 0;
  for (int i = 0; i < N; i++) {
    pthread_join(threads[i], NULL);
    won += racers[i].result.status == 200;
    conflicts += racers[i].result.status == 409 &&
                 strcmp(racers[i].result.code, "CONFLICT") == 0;
    made_free(&racers[i].result);
  }
  CHECK_EQ_INT(won, 1);
  CHECK_EQ_INT(conflicts, N - 1);
  char id[24];
  db_text("SELECT id::text FROM certificates WHERE serial = $1", base.serial,
          id, sizeof(id));
  CHECK_EQ_INT(count_rows("SELECT count(*) FROM certificates"
                          " WHERE replaces_id = $1::bigint",
                          id),
               1);
  made_free(&base);
}

TEST(revoke_is_refused_and_crl_and_ocsp_never_see_it) {
  // The rsa-issuing CA, from a certificate it issued.
  pki_reply reply;
  CHECK(pki_client_call(client, "GET", "/v1/ca/rsa-issuing/chain", NULL, NULL,
                        0, &reply));
  CHECK_EQ_INT(reply.status, 200);
  BIO *bio = BIO_new_mem_buf(reply.body, (int)reply.body_len);
  X509 *rsa_issuing = PEM_read_bio_X509(bio, NULL, NULL, NULL);
  BIO_free(bio);
  pki_reply_cleanup(&reply);
  CHECK(rsa_issuing != NULL);

  char path[200];
  snprintf(path, sizeof(path), "/v1/certificates/%s:revoke", second_serial);
  Pki__V1__RevokeRequest req = PKI__V1__REVOKE_REQUEST__INIT;
  req.reason = 1;  // keyCompromise
  uint8_t body[64];
  const size_t len = pki__v1__revoke_request__pack(&req, body);
  CHECK(pki_client_call(client, "POST", path, "application/x-protobuf", body,
                        len, &reply));
  CHECK_EQ_INT(reply.status, 409);
  Pki__V1__Error *e = pki__v1__error__unpack(NULL, reply.body_len, reply.body);
  CHECK(e != NULL && strcmp(e->code, "CONFLICT") == 0 &&
        strstr(e->message, "self-signed") != NULL);
  pki__v1__error__free_unpacked(e, NULL);
  pki_reply_cleanup(&reply);
  // Nothing changed: status, audit, CRLs.
  char text[64];
  db_text("SELECT status FROM certificate_status WHERE serial = $1",
          second_serial, text, sizeof(text));
  CHECK_EQ_STR(text, "good");
  CHECK_EQ_INT(count_rows("SELECT count(*) FROM audit_log WHERE object = $1"
                          " AND action = 'revoke'",
                          second_serial),
               0);
  // :unhold is refused the same way.
  snprintf(path, sizeof(path), "/v1/certificates/%s:unhold", second_serial);
  CHECK(pki_client_call(client, "POST", path, "application/x-protobuf", NULL, 0,
                        &reply));
  CHECK_EQ_INT(reply.status, 409);
  pki_reply_cleanup(&reply);

  // The CRL code and the OCSP responder skip rows without an issuer: the
  // CRL is made, and the responder says the serial was never issued by
  // this CA.
  CHECK(pki_client_call(client, "GET", "/v1/crl/rsa-issuing", NULL, NULL, 0,
                        &reply));
  CHECK_EQ_INT(reply.status, 200);
  pki_reply_cleanup(&reply);
  if (rsa_issuing != NULL) {
    const char *serials[] = {second_serial};
    size_t req_len;
    uint8_t *ocsp_req =
        test_ocsp_request(rsa_issuing, serials, 1, 0, NULL, 0, &req_len);
    CHECK(ocsp_req != NULL);
    pki_client *ocsp = pki_client_new(pkid.ocsp);
    CHECK(pki_client_call(ocsp, "POST", "/", "application/ocsp-request",
                          ocsp_req, req_len, &reply));
    CHECK_EQ_INT(reply.status, 200);
    EVP_PKEY *ca_key = X509_get_pubkey(rsa_issuing);
    test_ocsp_response r;
    CHECK(test_ocsp_parse(reply.body, reply.body_len, ca_key, &r));
    CHECK_EQ_INT(r.response_status, 0);
    CHECK(r.count == 1 && r.singles[0].status == TEST_OCSP_UNKNOWN);
    test_ocsp_response_cleanup(&r);
    EVP_PKEY_free(ca_key);
    pki_reply_cleanup(&reply);
    pki_client_free(ocsp);
    OPENSSL_free(ocsp_req);
  }
  X509_free(rsa_issuing);
}

TEST(get_downloads_the_certificate_alone) {
  char path[200], file[700], cmd[2000];
  static const char *const kFormats[] = {"pem", "der", "p7b", "p7b-pem"};
  for (size_t i = 0; i < 4; i++) {
    snprintf(path, sizeof(path), "/v1/certificates/%s?format=%s", second_serial,
             kFormats[i]);
    pki_reply reply;
    CHECK(pki_client_call(client, "GET", path, NULL, NULL, 0, &reply));
    CHECK_EQ_INT(reply.status, 200);
    snprintf(file, sizeof(file), "%s/get.%s", work, kFormats[i]);
    CHECK(it_write_file(file, reply.body, reply.body_len));
    pki_reply_cleanup(&reply);
  }
  // openssl reads each form; the PKCS#7 holds the certificate alone.
  snprintf(cmd, sizeof(cmd),
           "openssl x509 -in %s/get.pem -noout -serial | grep -qi '=%s$' &&"
           " openssl x509 -inform DER -in %s/get.der -noout &&"
           " test \"$(openssl pkcs7 -inform DER -in %s/get.p7b -print_certs"
           " | grep -c 'BEGIN CERTIFICATE')\" = 1 &&"
           " test \"$(openssl pkcs7 -in %s/get.p7b-pem -print_certs"
           " | grep -c 'BEGIN CERTIFICATE')\" = 1",
           work, second_serial, work, work, work);
  CHECK_EQ_INT(it_run(cmd), 0);
}

TEST(pkictl_selfsigned_and_regenerate) {
  char dir[700], dir2[700], cmd[3000];
  snprintf(dir, sizeof(dir), "%s/ss-out", work);
  snprintf(dir2, sizeof(dir2), "%s/ss-out2", work);
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s selfsigned --profile CAPF"
           " --cn capf1.example.com --o Lab --years 20 --cluster lab"
           " --out-dir %s",
           pkid.ctl, dir);
  CHECK_EQ_INT(it_run(cmd), 0);
  char key[800], cert[800];
  snprintf(key, sizeof(key), "%s/capf1.example.com.key", dir);
  snprintf(cert, sizeof(cert), "%s/capf1.example.com.pem", dir);
  struct stat st;
  CHECK(stat(key, &st) == 0 && (st.st_mode & 0777) == 0600);
  snprintf(cmd, sizeof(cmd),
           "bash -c \"cmp -s <(openssl pkey -in %s -pubout)"
           " <(openssl x509 -in %s -pubkey -noout)\" &&"
           " openssl verify -CAfile %s %s &&"
           " certtool --verify --load-ca-certificate %s --infile %s",
           key, cert, cert, cert, cert, cert);
  CHECK_EQ_INT(it_run(cmd), 0);
  // Never over an existing key file.
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s selfsigned --profile CAPF"
           " --cn capf1.example.com --out-dir %s 2>/dev/null",
           pkid.ctl, dir);
  CHECK(it_run(cmd) != 0);
  // Regenerate it by its serial, into another directory.
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s regenerate"
           " $(openssl x509 -in %s -noout -serial | cut -d= -f2)"
           " --out-dir %s",
           pkid.ctl, cert, dir2);
  CHECK_EQ_INT(it_run(cmd), 0);
  char key2[800], cert2[800];
  snprintf(key2, sizeof(key2), "%s/capf1.example.com.key", dir2);
  snprintf(cert2, sizeof(cert2), "%s/capf1.example.com.pem", dir2);
  CHECK(stat(key2, &st) == 0 && (st.st_mode & 0777) == 0600);
  snprintf(cmd, sizeof(cmd),
           "bash -c \"cmp -s <(openssl pkey -in %s -pubout)"
           " <(openssl x509 -in %s -pubkey -noout)\" &&"
           " ! cmp -s %s %s && openssl verify -CAfile %s %s",
           key2, cert2, key, key2, cert2, cert2);
  CHECK_EQ_INT(it_run(cmd), 0);
  CHECK_EQ_INT(count_rows("SELECT count(*) FROM certificates"
                          " WHERE common_name = $1 AND self_signed"
                          " AND cluster = 'lab' AND profile = 'CAPF'",
                          "capf1.example.com"),
               2);
}

TEST(pkictl_csr_is_what_a_node_sends) {
  char cmd[4000], key[700], csr[700], cert[700];
  snprintf(key, sizeof(key), "%s/node.key", work);
  snprintf(csr, sizeof(csr), "%s/node.csr", work);
  snprintf(cert, sizeof(cert), "%s/node.pem", work);
  // Made without the server.
  snprintf(cmd, sizeof(cmd),
           "api/pkictl --server http://127.0.0.1:1 csr --profile tomcat"
           " --cn cucm1.example.com --parent-domain --o Lab --c US"
           " --key-out %s --out %s",
           key, csr);
  CHECK_EQ_INT(it_run(cmd), 0);
  struct stat st;
  CHECK(stat(key, &st) == 0 && (st.st_mode & 0777) == 0600);
  // openssl checks its signature; the ExtensionRequest holds the profile's
  // KU and EKU and the FQDN and its parent domain; no OU.
  snprintf(cmd, sizeof(cmd),
           "openssl req -in %s -verify -noout &&"
           " t=$(openssl req -in %s -noout -text) &&"
           " echo \"$t\" | grep -q 'Subject: C = US, O = Lab, CN = "
           "cucm1.example.com' &&"
           " ! echo \"$t\" | grep -q 'OU' &&"
           " echo \"$t\" | grep -A1 'X509v3 Key Usage: critical' | grep -q"
           " 'Digital Signature, Key Encipherment, Data Encipherment, Key "
           "Agreement' &&"
           " echo \"$t\" | grep -A1 'X509v3 Extended Key Usage' | grep -q"
           " 'TLS Web Server Authentication, TLS Web Client Authentication,"
           " IPSec End System' &&"
           " echo \"$t\" | grep -A1 'Subject Alternative Name' | grep -q"
           " 'DNS:cucm1.example.com, DNS:example.com' &&"
           " echo \"$t\" | grep -q 'rsaEncryption' &&"
           " echo \"$t\" | grep -q '(2048 bit)'",
           csr, csr);
  CHECK_EQ_INT(it_run(cmd), 0);
  // pki issues it under that profile, with those names.
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s issue --profile tomcat --csr %s --out %s &&"
           " openssl x509 -in %s -noout -ext subjectAltName | grep -q"
           " 'DNS:cucm1.example.com, DNS:example.com'",
           pkid.ctl, csr, cert, cert);
  CHECK_EQ_INT(it_run(cmd), 0);
  // Never over an existing key file.
  snprintf(cmd, sizeof(cmd),
           "api/pkictl csr --profile tomcat --cn x.example.com"
           " --key-out %s --out %s/x.csr 2>/dev/null",
           key, work);
  CHECK(it_run(cmd) != 0);

  // CAPF: digitalSignature and keyCertSign, serverAuth; pki issues it.
  snprintf(cmd, sizeof(cmd),
           "api/pkictl csr --profile CAPF --cn capf.example.com --ou Voice"
           " --key-out %s/capf.key --out %s/capf.csr &&"
           " t=$(openssl req -in %s/capf.csr -noout -text) &&"
           " echo \"$t\" | grep -q 'OU = Voice' &&"
           " echo \"$t\" | grep -A1 'X509v3 Key Usage' | grep -q"
           " 'Digital Signature, Certificate Sign' &&"
           " echo \"$t\" | grep -A1 'Extended Key Usage' | grep -qx"
           " ' *TLS Web Server Authentication' &&"
           " api/pkictl %s issue --profile CAPF --csr %s/capf.csr"
           " --out %s/capf.pem",
           work, work, work, pkid.ctl, work, work);
  CHECK_EQ_INT(it_run(cmd), 0);
  // An EC P-384 key: signed with SHA-384, no RSA-only usages.
  snprintf(cmd, sizeof(cmd),
           "api/pkictl csr --profile tomcat-ECDSA --cn ec.example.com"
           " --key-type EC-P384 --key-out %s/ec.key --out %s/ec.csr &&"
           " openssl req -in %s/ec.csr -verify -noout &&"
           " t=$(openssl req -in %s/ec.csr -noout -text) &&"
           " echo \"$t\" | grep -q 'ecdsa-with-SHA384' &&"
           " echo \"$t\" | grep -A1 'X509v3 Key Usage' | grep -q"
           " 'Digital Signature, Key Agreement' &&"
           " ! echo \"$t\" | grep -q 'Key Encipherment' &&"
           " api/pkictl %s issue --profile tomcat-ECDSA"
           " --csr %s/ec.csr --out %s/ec.pem",
           work, work, work, work, pkid.ctl, work, work);
  CHECK_EQ_INT(it_run(cmd), 0);
  // Refusals: a key the profile does not take, a parent domain of a bare
  // host name, a wildcard.
  snprintf(cmd, sizeof(cmd),
           "api/pkictl csr --profile tomcat --cn a.example.com"
           " --key-type EC-P256 --key-out %s/r1.key --out %s/r1.csr"
           " 2>/dev/null",
           work, work);
  CHECK(it_run(cmd) != 0);
  snprintf(cmd, sizeof(cmd),
           "api/pkictl csr --profile tomcat --cn example.com --parent-domain"
           " --key-out %s/r2.key --out %s/r2.csr 2>/dev/null",
           work, work);
  CHECK(it_run(cmd) != 0);
  snprintf(cmd, sizeof(cmd),
           "api/pkictl csr --profile tomcat --cn '*.example.com'"
           " --key-out %s/r3.key --out %s/r3.csr 2>/dev/null;"
           " test $? -ne 0 && test ! -e %s/r3.key",
           work, work, work);
  CHECK_EQ_INT(it_run(cmd), 0);
}

int main(void) {
  it_db_create(&db);
  char dir[512];
  it_tmpdir("selfsigned", dir, sizeof(dir));
  it_tmpdir("selfsigned-work", work, sizeof(work));
  mkdir(work, 0700);
  const char *extra[] = {"--keypool",
                         "EC-P256=2,RSA-2048=1,RSA-3072=0,RSA-4096=0,EC-P384=0",
                         NULL};
  if (!it_pkid_start(&pkid, &db, dir, extra)) {
    it_db_drop(&db);
    return 1;
  }
  client = it_client(&pkid);
  // Let the pool fill before the test that takes from it.
  sleep(1);
  RUN(create_records_a_self_signed_row);
  RUN(key_types_and_refusals);
  RUN(regenerate_replaces_with_the_same_kind);
  RUN(regenerate_refusals);
  RUN(concurrent_regenerations_make_one_successor);
  RUN(revoke_is_refused_and_crl_and_ocsp_never_see_it);
  RUN(get_downloads_the_certificate_alone);
  RUN(pkictl_selfsigned_and_regenerate);
  RUN(pkictl_csr_is_what_a_node_sends);
  pki_client_free(client);
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  it_db_drop(&db);
  return test_summary();
}
