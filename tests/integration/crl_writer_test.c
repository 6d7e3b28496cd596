// The CRL writer across two pkid nodes sharing one PostgreSQL: while a CA
// has a CRL too large to build in an instant (100,000 revoked rows), node A
// is killed with SIGKILL while it holds the CA's CRL lock, i.e. while it
// writes a CRL; node B keeps publishing: the stored CRL number never goes
// down and grows after the kill, and every revocation made on B after it is
// listed by GET /v1/crl (polled; how long it took is printed, not
// asserted), and at its crl_due_at at the latest.
#include <openssl/bn.h>
#include <openssl/mem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/client/client.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

#define CERTS 60
#define CLONES "100000"

static it_db db;
static it_pkid node_a, node_b;
static pki_client *api_a, *api_b;
static char serials[CERTS][64];

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// issue_all issues CERTS tomcat-ECDSA certificates (ec-issuing) in one
// batch on node A.
static int issue_all(void) {
  EVP_PKEY *key = NULL;
  Pki__V1__IssueRequest items[CERTS];
  Pki__V1__IssueRequest *ptrs[CERTS];
  uint8_t *csrs[CERTS] = {0};
  int ok = 1;
  for (int i = 0; i < CERTS && ok; i++) {
    char subject[96];
    snprintf(subject, sizeof(subject), "/CN=crl-writer-%d.example.com", i);
    const test_csr_spec spec = {
        .key = "EC-P256", .subject = subject, .reuse_key = key};
    size_t len;
    csrs[i] = test_make_csr(&spec, &len, key == NULL ? &key : NULL);
    ok = csrs[i] != NULL;
    pki__v1__issue_request__init(&items[i]);
    items[i].csr.data = csrs[i];
    items[i].csr.len = len;
    ptrs[i] = &items[i];
  }
  Pki__V1__BatchIssueRequest req = PKI__V1__BATCH_ISSUE_REQUEST__INIT;
  req.profile = "tomcat-ECDSA";
  req.items = ptrs;
  req.n_items = CERTS;
  uint8_t *body = NULL;
  pki_reply reply;
  memset(&reply, 0, sizeof(reply));
  Pki__V1__BatchIssueResponse *resp = NULL;
  if (ok) {
    const size_t len = pki__v1__batch_issue_request__get_packed_size(&req);
    body = malloc(len);
    pki__v1__batch_issue_request__pack(&req, body);
    ok = pki_client_call(api_a, "POST", "/v1/certificates:batchIssue",
                         "application/x-protobuf", body, len, &reply) &&
         reply.status == 200;
  }
  if (ok) {
    resp =
        pki__v1__batch_issue_response__unpack(NULL, reply.body_len, reply.body);
    ok = resp != NULL && resp->issued == CERTS;
  }
  for (int i = 0; ok && i < CERTS; i++) {
    snprintf(serials[i], sizeof(serials[i]), "%s",
             resp->results[i]->certificate->serial);
  }
  pki__v1__batch_issue_response__free_unpacked(resp, NULL);
  pki_reply_cleanup(&reply);
  free(body);
  for (int i = 0; i < CERTS; i++) {
    OPENSSL_free(csrs[i]);
  }
  EVP_PKEY_free(key);
  return ok;
}

// revoke_one revokes |serial| on |client| and returns its crl_due_at, or 0.
static int64_t revoke_one(pki_client *client, const char *serial) {
  Pki__V1__RevokeRequest req = PKI__V1__REVOKE_REQUEST__INIT;
  req.reason = 1;
  uint8_t body[64];
  const size_t len = pki__v1__revoke_request__pack(&req, body);
  char path[160];
  snprintf(path, sizeof(path), "/v1/certificates/%s:revoke", serial);
  pki_reply reply;
  if (!pki_client_call(client, "POST", path, "application/x-protobuf", body,
                       len, &reply)) {
    return 0;
  }
  int64_t due = 0;
  if (reply.status == 200) {
    Pki__V1__RevocationResponse *r =
        pki__v1__revocation_response__unpack(NULL, reply.body_len, reply.body);
    due = r != NULL ? r->crl_due_at : 0;
    pki__v1__revocation_response__free_unpacked(r, NULL);
  }
  pki_reply_cleanup(&reply);
  return due;
}

// listed tells whether the CRL of ec-issuing that |client| serves lists
// |serial|; |*number| is its cRLNumber. -1 when the CRL cannot be read.
static int listed(pki_client *client, const char *serial, long long *number) {
  pki_reply reply;
  if (!pki_client_call(client, "GET", "/v1/crl/ec-issuing", NULL, NULL, 0,
                       &reply) ||
      reply.status != 200) {
    return -1;
  }
  const uint8_t *p = reply.body;
  X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)reply.body_len);
  pki_reply_cleanup(&reply);
  if (crl == NULL) {
    return -1;
  }
  ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
  *number = n != NULL ? (long long)ASN1_INTEGER_get(n) : -1;
  ASN1_INTEGER_free(n);
  BIGNUM *bn = NULL;
  ASN1_INTEGER *want = NULL;
  X509_REVOKED *entry = NULL;
  const int found = BN_hex2bn(&bn, serial) > 0 &&
                    (want = BN_to_ASN1_INTEGER(bn, NULL)) != NULL &&
                    X509_CRL_get0_by_serial(crl, &entry, want) == 1;
  ASN1_INTEGER_free(want);
  BN_free(bn);
  X509_CRL_free(crl);
  return found;
}

static long long stored_number(void) {
  return it_db_int(&db,
                   "SELECT coalesce(max(c.crl_number), 0) FROM crls c"
                   " JOIN issuers i ON i.id = c.issuer_id WHERE i.name = $1",
                   "ec-issuing");
}

// lock_holder returns 'a' or 'b' for the node whose session holds the CRL
// lock of ec-issuing now (ca_store_tx_lock_crl: key "pkiC", issuer id),
// or 0.
static char lock_holder(void) {
  PGresult *res = it_db_query(
      &db,
      "SELECT a.application_name FROM pg_locks l"
      " JOIN pg_stat_activity a ON a.pid = l.pid"
      " JOIN issuers i ON i.name = $1"
      " WHERE l.locktype = 'advisory' AND l.granted"
      " AND l.classid = 1886087491 AND l.objid = i.id AND l.objsubid = 2",
      "ec-issuing", NULL);
  char who = 0;
  if (res != NULL && PQntuples(res) > 0) {
    const char *name = PQgetvalue(res, 0, 0);
    who = strcmp(name, "pki-crl-a") == 0   ? 'a'
          : strcmp(name, "pki-crl-b") == 0 ? 'b'
                                           : '?';
  }
  PQclear(res);
  return who;
}

static int start_node(it_pkid *node, const char *app, const char *dir) {
  it_db with_name = db;
  snprintf(with_name.url, sizeof(with_name.url), "%s%capplication_name=%s",
           db.url, strchr(db.url, '?') != NULL ? '&' : '?', app);
  const char *extra[] = {"--crl-interval", "1", NULL};
  return it_pkid_start(node, &with_name, dir, extra);
}

TEST(a_node_killed_while_writing_a_crl_does_not_stop_crls) {
  CHECK(issue_all());
  // A CRL too large to build in an instant: rows cloned from one revoked
  // certificate (a CRL reads only their serials and revocations).
  CHECK(revoke_one(api_a, serials[0]) > 0);
  CHECK_EQ_INT(
      it_db_int(&db,
                "WITH ins AS (INSERT INTO certificates (serial, issuer_id,"
                " profile, subject, common_name, sans, key_type, key_bits,"
                " not_before, not_after, der, requester)"
                " SELECT '7' || substr(md5(g::text), 1, 31), c.issuer_id,"
                " c.profile, c.subject, c.common_name, c.sans, c.key_type,"
                " c.key_bits, c.not_before, c.not_after, c.der,"
                " c.requester FROM certificates c,"
                " generate_series(1, " CLONES ") g WHERE c.serial = $1"
                " RETURNING id, issuer_id, serial, crl_shard, not_after),"
                " rev AS (INSERT INTO revocations SELECT issuer_id, serial,"
                " id, crl_shard, not_after, now(), 1 FROM ins RETURNING 1)"
                " SELECT count(*) FROM rev",
                serials[0]),
      atoll(CLONES));
  // Revocations on A keep both writers busy until A holds the lock.
  int next = 1, killed = 0;
  long long at_kill = 0;
  const int64_t give_up = now_ms() + 120 * 1000;
  int64_t last_revoke = 0;
  while (!killed && now_ms() < give_up && next < CERTS / 2) {
    if (now_ms() - last_revoke > 300) {
      CHECK(revoke_one(api_a, serials[next++]) > 0);
      last_revoke = now_ms();
    }
    if (lock_holder() == 'a') {
      at_kill = stored_number();
      it_pkid_kill(&node_a);
      killed = 1;
    }
    usleep(2 * 1000);
  }
  CHECK(killed);
  if (!killed) {
    return;
  }
  printf("node A killed holding the CRL lock; stored CRL number %lld\n",
         at_kill);
  // B alone: revocations keep coming, each listed in time; the stored
  // number never goes down.
  long long last = stored_number();
  CHECK(last >= at_kill);
  for (int i = CERTS / 2; i < CERTS / 2 + 5; i++) {
    const int64_t due = revoke_one(api_b, serials[i]);
    CHECK(due > 0);
    const int64_t start = now_ms();
    long long number = 0;
    int found = 0;
    while (!found && now_ms() - start < 60 * 1000) {
      const long long stored = stored_number();
      CHECK(stored >= last);
      last = stored;
      const int64_t asked_at = (int64_t)time(NULL);
      found = listed(api_b, serials[i], &number) == 1;
      if (!found) {
        // From its due time on, the CRL served lists it (GET publishes
        // itself when no writer did).
        CHECK(asked_at < due);
        usleep(200 * 1000);
      }
    }
    CHECK(found);
    printf("revocation %d listed by CRL %lld after %lld ms (due in %lld s)\n",
           i, number, (long long)(now_ms() - start),
           (long long)(due - time(NULL)));
    CHECK(number > at_kill);
  }
  // Every revocation made on A before it died is listed too.
  long long number;
  for (int i = 0; i < next; i++) {
    CHECK_EQ_INT(listed(api_b, serials[i], &number), 1);
  }
  CHECK(stored_number() > at_kill);
  // And nothing is left waiting for a CRL.
  long long waiting = -1;
  for (int i = 0; i < 100 && waiting != 0; i++) {
    waiting = it_db_int(&db, "SELECT count(*) FROM crl_pending", NULL);
    usleep(100 * 1000);
  }
  CHECK_EQ_INT(waiting, 0);
}

int main(void) {
  it_db_create(&db);
  char dir_a[512];
  it_tmpdir("crl-writer-a", dir_a, sizeof(dir_a));
  it_tmpdir("crl-writer-b", node_b.data_dir, sizeof(node_b.data_dir));
  if (!start_node(&node_a, "pki-crl-a", dir_a)) {
    it_db_drop(&db);
    return 1;
  }
  char cmd[2400];
  snprintf(cmd, sizeof(cmd),
           "mkdir -p '%s/keys' && chmod 0700 '%s' '%s/keys' && "
           "cp -p '%s'/keys/rsa-*.key '%s'/keys/ec-*.key '%s/keys/'",
           node_b.data_dir, node_b.data_dir, node_b.data_dir, dir_a, dir_a,
           node_b.data_dir);
  api_a = it_client(&node_a);
  if (it_run(cmd) == 0 && start_node(&node_b, "pki-crl-b", node_b.data_dir)) {
    api_b = it_client(&node_b);
    RUN(a_node_killed_while_writing_a_crl_does_not_stop_crls);
    CHECK_EQ_INT(it_pkid_stop(&node_b), 0);
  } else {
    CHECK(0);  // node B did not start
  }
  pki_client_free(api_a);
  pki_client_free(api_b);
  if (node_a.pid > 0) {
    (void)it_pkid_stop(&node_a);
  }
  it_db_drop(&db);
  return test_summary();
}
