// Bulk export, consolidate and import (EMCC-style) against two real pkid
// processes, each with its own PostgreSQL database, CAs and --cluster: they
// stand in for two clusters. Cluster labels on every way of issuing; export
// content and type filter; the PKCS#7 read by openssl; consolidation (two
// clusters needed, duplicates kept once, conflicts reported and left out);
// import into the trust stores of each purpose, own cluster skipped,
// idempotent, revocations carried, all or nothing; PKCS#12 files made by
// openssl; and the pkictl commands over a shared directory.
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/client/client.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

static it_db db_a, db_b;
static it_pkid pkid_a, pkid_b;
static pki_client *api_a, *api_b;

// --- Calls ---

// error_code copies the pki.v1.Error code of |reply| into |out|.
static void error_code(const pki_reply *reply, char *out, size_t len) {
  out[0] = '\0';
  Pki__V1__Error *e =
      pki__v1__error__unpack(NULL, reply->body_len, reply->body);
  if (e != NULL) {
    snprintf(out, len, "%s", e->code);
  } else if (reply->body_len > 0) {
    // A text error: "CODE: message".
    snprintf(out, len, "%.*s", (int)reply->body_len, (const char *)reply->body);
    char *colon = strchr(out, ':');
    if (colon != NULL) {
      *colon = '\0';
    }
  }
  pki__v1__error__free_unpacked(e, NULL);
}

static int post(pki_client *client, const char *path,
                const ProtobufCMessage *msg, pki_reply *reply) {
  const size_t len = protobuf_c_message_get_packed_size(msg);
  uint8_t *body = malloc(len + 1);
  protobuf_c_message_pack(msg, body);
  const int ok = pki_client_call(client, "POST", path, "application/x-protobuf",
                                 body, len, reply);
  free(body);
  CHECK(ok);
  return ok;
}

static uint8_t *make_csr(const char *cn, const char *key, size_t *len) {
  char subject[160];
  snprintf(subject, sizeof(subject), "/CN=%s/O=Example", cn);
  const test_csr_spec spec = {.key = key, .subject = subject};
  uint8_t *csr = test_make_csr(&spec, len, NULL);
  CHECK(csr != NULL);
  return csr;
}

// issue issues |profile| for |cn| on |client| with |cluster| ("" for the
// default) and writes the serial into |serial|. It returns the HTTP status.
static long issue(pki_client *client, const char *profile, const char *cn,
                  const char *cluster, char serial[64]) {
  const int ec = strstr(profile, "ECDSA") != NULL;
  size_t csr_len;
  uint8_t *csr = make_csr(cn, ec ? "EC-P256" : "RSA-2048", &csr_len);
  Pki__V1__IssueRequest req = PKI__V1__ISSUE_REQUEST__INIT;
  req.profile = (char *)profile;
  req.csr.data = csr;
  req.csr.len = csr_len;
  req.cluster = (char *)cluster;
  pki_reply reply;
  long status = 0;
  if (post(client, "/v1/certificates:issue", &req.base, &reply)) {
    status = reply.status;
    Pki__V1__IssueResponse *resp =
        reply.status == 200
            ? pki__v1__issue_response__unpack(NULL, reply.body_len, reply.body)
            : NULL;
    if (resp != NULL && serial != NULL) {
      snprintf(serial, 64, "%s", resp->certificate->serial);
    }
    pki__v1__issue_response__free_unpacked(resp, NULL);
    pki_reply_cleanup(&reply);
  }
  OPENSSL_free(csr);
  return status;
}

static int revoke(pki_client *client, const char *serial, int reason) {
  Pki__V1__RevokeRequest req = PKI__V1__REVOKE_REQUEST__INIT;
  req.reason = reason;
  char path[160];
  snprintf(path, sizeof(path), "/v1/certificates/%s:revoke", serial);
  pki_reply reply;
  if (!post(client, path, &req.base, &reply)) {
    return 0;
  }
  CHECK_EQ_INT(reply.status, 200);
  const int ok = reply.status == 200;
  pki_reply_cleanup(&reply);
  return ok;
}

// cluster_of reads the cluster recorded with |serial| on |db| into |out|
// ("(null)" when NULL).
static void cluster_of(const it_db *db, const char *serial, char *out,
                       size_t len) {
  PGresult *res = it_db_query(
      db,
      "SELECT coalesce(cluster, '(null)') FROM certificates WHERE serial = $1",
      serial, NULL);
  snprintf(out, len, "%s",
           res != NULL && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "?");
  PQclear(res);
}

// export_bundle GETs /v1/bulk/export?|query| from |client|; on 200 it
// returns the decoded bundle and its bytes in |raw| (free()).
static Pki__V1__Bundle *export_bundle(pki_client *client, const char *query,
                                      long *status, uint8_t **raw,
                                      size_t *raw_len) {
  char path[256];
  snprintf(path, sizeof(path), "/v1/bulk/export%s%s", query[0] ? "?" : "",
           query);
  pki_reply reply;
  CHECK(pki_client_call(client, "GET", path, NULL, NULL, 0, &reply));
  *status = reply.status;
  Pki__V1__Bundle *b = NULL;
  if (reply.status == 200) {
    b = pki__v1__bundle__unpack(NULL, reply.body_len, reply.body);
    CHECK(b != NULL);
    if (raw != NULL) {
      *raw = malloc(reply.body_len + 1);
      memcpy(*raw, reply.body, reply.body_len);
      *raw_len = reply.body_len;
    }
  }
  pki_reply_cleanup(&reply);
  return b;
}

static const Pki__V1__BundleEntry *find_entry(const Pki__V1__Bundle *b,
                                              const char *node,
                                              const char *purpose) {
  for (size_t i = 0; b != NULL && i < b->n_entries; i++) {
    if (strcmp(b->entries[i]->node, node) == 0 &&
        strcmp(b->entries[i]->purpose, purpose) == 0) {
      return b->entries[i];
    }
  }
  return NULL;
}

// consolidate posts |n| bundles; it returns the response (or NULL) and the
// status and error code.
static Pki__V1__ConsolidateResponse *consolidate(Pki__V1__Bundle **bundles,
                                                 size_t n, long *status,
                                                 char code[64]) {
  Pki__V1__ConsolidateRequest req = PKI__V1__CONSOLIDATE_REQUEST__INIT;
  req.n_bundles = n;
  req.bundles = bundles;
  pki_reply reply;
  Pki__V1__ConsolidateResponse *resp = NULL;
  code[0] = '\0';
  *status = 0;
  if (post(api_a, "/v1/bulk/consolidate", &req.base, &reply)) {
    *status = reply.status;
    if (reply.status == 200) {
      resp = pki__v1__consolidate_response__unpack(NULL, reply.body_len,
                                                   reply.body);
      CHECK(resp != NULL);
    } else {
      error_code(&reply, code, 64);
    }
    pki_reply_cleanup(&reply);
  }
  return resp;
}

static Pki__V1__ImportResponse *import(pki_client *client,
                                       Pki__V1__ImportRequest *req,
                                       long *status, char code[64]) {
  pki_reply reply;
  Pki__V1__ImportResponse *resp = NULL;
  code[0] = '\0';
  *status = 0;
  if (post(client, "/v1/bulk/import", &req->base, &reply)) {
    *status = reply.status;
    if (reply.status == 200) {
      resp = pki__v1__import_response__unpack(NULL, reply.body_len, reply.body);
      CHECK(resp != NULL);
    } else {
      error_code(&reply, code, 64);
    }
    pki_reply_cleanup(&reply);
  }
  return resp;
}

static long long trust_count(const it_db *db, const char *store,
                             const char *node) {
  PGresult *res =
      it_db_query(db,
                  "SELECT count(*) FROM trust_entries WHERE store = $1 AND"
                  " ($2 = '' OR node = $2) AND source = 'bulk'",
                  store, node);
  long long n = res != NULL ? atoll(PQgetvalue(res, 0, 0)) : -1;
  PQclear(res);
  return n;
}

// --- Tests ---

static char a1_tomcat[64], a1_callmanager[64], a2_capf[64], a2_ecdsa[64];

TEST(every_way_of_issuing_records_the_cluster) {
  char serial[64], cluster[80];
  // Unsaid: pkid's --cluster.
  CHECK_EQ_INT(issue(api_a, "tomcat", "x1.alpha.example.com", "", serial), 200);
  cluster_of(&db_a, serial, cluster, sizeof(cluster));
  CHECK_EQ_STR(cluster, "alpha");
  CHECK_EQ_INT(
      issue(api_a, "tomcat", "x2.alpha.example.com", "lab-2.east", serial),
      200);
  cluster_of(&db_a, serial, cluster, sizeof(cluster));
  CHECK_EQ_STR(cluster, "lab-2.east");
  // Bad names change nothing.
  CHECK_EQ_INT(issue(api_a, "tomcat", "x3.alpha.example.com", "a/b", NULL),
               400);
  CHECK_EQ_INT(issue(api_a, "tomcat", "x3.alpha.example.com",
                     "0123456789012345678901234567890123456789012345678901234"
                     "5678901234",
                     NULL),
               400);
  CHECK_EQ_INT(it_db_int(&db_a,
                         "SELECT count(*) FROM certificates WHERE"
                         " common_name = 'x3.alpha.example.com'",
                         NULL),
               0);

  // A batch: its cluster for items without one.
  size_t l1, l2;
  uint8_t *c1 = make_csr("b1.alpha.example.com", "RSA-2048", &l1);
  uint8_t *c2 = make_csr("b2.alpha.example.com", "RSA-2048", &l2);
  Pki__V1__IssueRequest items[2] = {PKI__V1__ISSUE_REQUEST__INIT,
                                    PKI__V1__ISSUE_REQUEST__INIT};
  Pki__V1__IssueRequest *ptrs[2] = {&items[0], &items[1]};
  items[0].csr.data = c1;
  items[0].csr.len = l1;
  items[1].csr.data = c2;
  items[1].csr.len = l2;
  items[1].cluster = "gamma";
  Pki__V1__BatchIssueRequest batch = PKI__V1__BATCH_ISSUE_REQUEST__INIT;
  batch.profile = "CallManager";
  batch.cluster = "delta";
  batch.n_items = 2;
  batch.items = ptrs;
  pki_reply reply;
  if (post(api_a, "/v1/certificates:batchIssue", &batch.base, &reply)) {
    CHECK_EQ_INT(reply.status, 200);
    Pki__V1__BatchIssueResponse *r =
        pki__v1__batch_issue_response__unpack(NULL, reply.body_len, reply.body);
    CHECK(r != NULL && r->issued == 2);
    if (r != NULL && r->issued == 2) {
      cluster_of(&db_a, r->results[0]->certificate->serial, cluster,
                 sizeof(cluster));
      CHECK_EQ_STR(cluster, "delta");
      cluster_of(&db_a, r->results[1]->certificate->serial, cluster,
                 sizeof(cluster));
      CHECK_EQ_STR(cluster, "gamma");
    }
    pki__v1__batch_issue_response__free_unpacked(r, NULL);
    pki_reply_cleanup(&reply);
  }
  OPENSSL_free(c1);
  OPENSSL_free(c2);

  // Server-side keys.
  Pki__V1__Subject subject = PKI__V1__SUBJECT__INIT;
  subject.common_name = "k1.alpha.example.com";
  Pki__V1__GenerateKeyRequest g = PKI__V1__GENERATE_KEY_REQUEST__INIT;
  g.profile = "tomcat-ECDSA";
  g.subject = &subject;
  g.cluster = "epsilon";
  if (post(api_a, "/v1/keys:generate", &g.base, &reply)) {
    CHECK_EQ_INT(reply.status, 200);
    Pki__V1__GenerateKeyResponse *r = pki__v1__generate_key_response__unpack(
        NULL, reply.body_len, reply.body);
    CHECK(r != NULL);
    if (r != NULL) {
      cluster_of(&db_a, r->certificate->serial, cluster, sizeof(cluster));
      CHECK_EQ_STR(cluster, "epsilon");
    }
    pki__v1__generate_key_response__free_unpacked(r, NULL);
    pki_reply_cleanup(&reply);
  }

  // POST /v1/sign?cluster=.
  size_t l3;
  uint8_t *c3 = make_csr("s1.alpha.example.com", "RSA-2048", &l3);
  CHECK(pki_client_call(api_a, "POST", "/v1/sign?profile=tomcat&cluster=zeta",
                        "application/pkcs10", c3, l3, &reply));
  CHECK_EQ_INT(reply.status, 200);
  pki_reply_cleanup(&reply);
  CHECK(pki_client_call(api_a, "POST", "/v1/sign?profile=tomcat&cluster=a%20b",
                        "application/pkcs10", c3, l3, &reply));
  CHECK_EQ_INT(reply.status, 400);
  char code[64];
  error_code(&reply, code, sizeof(code));
  CHECK_EQ_STR(code, "PARAMETER_INVALID");
  pki_reply_cleanup(&reply);
  OPENSSL_free(c3);
  CHECK_EQ_INT(it_db_int(&db_a,
                         "SELECT count(*) FROM certificates WHERE"
                         " common_name = 's1.alpha.example.com' AND"
                         " cluster = 'zeta'",
                         NULL),
               1);
}

TEST(export_holds_each_nodes_current_certificate_with_its_state) {
  char old[64];
  // Cluster alpha: a1 has an older and a newer tomcat certificate.
  CHECK_EQ_INT(issue(api_a, "tomcat", "a1.alpha.example.com", "", old), 200);
  CHECK_EQ_INT(issue(api_a, "tomcat", "a1.alpha.example.com", "", a1_tomcat),
               200);
  CHECK_EQ_INT(
      issue(api_a, "CallManager", "a1.alpha.example.com", "", a1_callmanager),
      200);
  CHECK_EQ_INT(issue(api_a, "CAPF", "a2.alpha.example.com", "", a2_capf), 200);
  CHECK_EQ_INT(
      issue(api_a, "tomcat-ECDSA", "a2.alpha.example.com", "", a2_ecdsa), 200);
  CHECK_EQ_INT(issue(api_a, "ipsec", "a2.alpha.example.com", "", NULL), 200);
  CHECK(revoke(api_a, a2_capf, 1));
  // Cluster beta.
  CHECK_EQ_INT(issue(api_b, "tomcat", "b1.beta.example.com", "", NULL), 200);
  CHECK_EQ_INT(issue(api_b, "CallManager", "b1.beta.example.com", "", NULL),
               200);

  long status;
  Pki__V1__Bundle *b = export_bundle(api_a, "cluster=alpha", &status, NULL, 0);
  CHECK_EQ_INT(status, 200);
  CHECK(b != NULL);
  if (b == NULL) {
    return;
  }
  CHECK_EQ_INT(b->version, 1);
  CHECK_EQ_STR(b->cluster, "alpha");
  // ipsec is not among the exported purposes; x1 (tomcat, alpha) from the
  // first test is.
  CHECK_EQ_INT(b->n_entries, 5);
  const Pki__V1__BundleEntry *e =
      find_entry(b, "a1.alpha.example.com", "tomcat");
  CHECK(e != NULL);
  if (e != NULL) {
    CHECK_EQ_STR(e->serial, a1_tomcat);  // the newer one
    CHECK_EQ_STR(e->issuer, "rsa-issuing");
    CHECK_EQ_STR(e->status, "good");
    CHECK_EQ_STR(e->cluster, "alpha");
    CHECK(e->certificate.len > 100);
  }
  e = find_entry(b, "a2.alpha.example.com", "CAPF");
  CHECK(e != NULL);
  if (e != NULL) {
    CHECK_EQ_STR(e->status, "revoked");
    CHECK_EQ_INT(e->revocation_reason, 1);
    CHECK(e->revoked_at > 0);
  }
  e = find_entry(b, "a2.alpha.example.com", "tomcat-ECDSA");
  CHECK(e != NULL && strcmp(e->issuer, "ec-issuing") == 0);
  CHECK(find_entry(b, "a1.alpha.example.com", "CallManager") != NULL);
  CHECK(find_entry(b, "a2.alpha.example.com", "ipsec") == NULL);
  pki__v1__bundle__free_unpacked(b, NULL);

  // The default cluster is pkid's; the type filters.
  b = export_bundle(api_a, "type=CAPF", &status, NULL, 0);
  CHECK_EQ_INT(status, 200);
  CHECK(b != NULL && b->n_entries == 1 &&
        strcmp(b->entries[0]->purpose, "CAPF") == 0);
  pki__v1__bundle__free_unpacked(b, NULL);
  b = export_bundle(api_a, "type=ipsec", &status, NULL, 0);
  CHECK_EQ_INT(status, 400);
  b = export_bundle(api_a, "cluster=..", &status, NULL, 0);
  CHECK_EQ_INT(status, 400);
  b = export_bundle(api_a, "cluster=nowhere", &status, NULL, 0);
  CHECK_EQ_INT(status, 200);
  CHECK(b != NULL && b->n_entries == 0);
  pki__v1__bundle__free_unpacked(b, NULL);
  CHECK(it_db_int(&db_a,
                  "SELECT count(*) FROM audit_log WHERE action = 'bulk-export'"
                  " AND object = 'alpha' AND detail LIKE 'entries=5 %'",
                  NULL) == 1);

  // ?format=p7b: a certificates-only PKCS#7 that openssl reads.
  pki_reply reply;
  CHECK(pki_client_call(api_a, "GET", "/v1/bulk/export?format=p7b", NULL, NULL,
                        0, &reply));
  CHECK_EQ_INT(reply.status, 200);
  char dir[512], path[700], cmd[1600];
  it_tmpdir("bulk-p7b", dir, sizeof(dir));
  mkdir(dir, 0755);
  snprintf(path, sizeof(path), "%s/alpha.p7b", dir);
  CHECK(it_write_file(path, reply.body, reply.body_len));
  pki_reply_cleanup(&reply);
  snprintf(cmd, sizeof(cmd),
           "test $(openssl pkcs7 -inform der -in %s -print_certs"
           " | grep -c 'BEGIN CERTIFICATE') -eq 5",
           path);
  CHECK_EQ_INT(it_run(cmd), 0);
}

// The bundles of the two clusters as exported now.
static Pki__V1__Bundle *alpha, *beta;

TEST(consolidation_needs_two_clusters_dedupes_and_reports_conflicts) {
  long status;
  alpha = export_bundle(api_a, "", &status, NULL, 0);
  beta = export_bundle(api_b, "", &status, NULL, 0);
  CHECK(alpha != NULL && beta != NULL);
  if (alpha == NULL || beta == NULL) {
    return;
  }
  CHECK_EQ_INT(beta->n_entries, 2);
  char code[64];
  // One cluster, even twice, is not a consolidation.
  Pki__V1__Bundle *one[2] = {alpha, alpha};
  Pki__V1__ConsolidateResponse *r = consolidate(one, 2, &status, code);
  CHECK_EQ_INT(status, 400);
  CHECK_EQ_STR(code, "BUNDLES_TOO_FEW");
  CHECK(r == NULL);

  // alpha twice and beta: alpha's entries are kept once.
  Pki__V1__Bundle *three[3] = {alpha, beta, alpha};
  r = consolidate(three, 3, &status, code);
  CHECK_EQ_INT(status, 200);
  CHECK(r != NULL);
  if (r != NULL) {
    CHECK_EQ_INT(r->bundle->n_entries, 7);
    CHECK_EQ_INT(r->duplicates, 5);
    CHECK_EQ_INT(r->n_conflicts, 0);
    CHECK_EQ_INT(r->bundle->n_clusters, 2);
    CHECK_EQ_STR(r->bundle->cluster, "");
    const Pki__V1__BundleEntry *e =
        find_entry(r->bundle, "a2.alpha.example.com", "CAPF");
    CHECK(e != NULL && strcmp(e->status, "revoked") == 0 &&
          strcmp(e->cluster, "alpha") == 0);
  }
  pki__v1__consolidate_response__free_unpacked(r, NULL);

  // beta claims a1's tomcat certificate with another certificate: a
  // conflict, and neither is kept.
  char *saved = beta->entries[0]->node;
  char *saved_purpose = beta->entries[0]->purpose;
  beta->entries[0]->node = "A1.alpha.example.com";
  beta->entries[0]->purpose = "tomcat";
  Pki__V1__Bundle *two[2] = {alpha, beta};
  r = consolidate(two, 2, &status, code);
  beta->entries[0]->node = saved;
  beta->entries[0]->purpose = saved_purpose;
  CHECK_EQ_INT(status, 200);
  CHECK(r != NULL);
  if (r != NULL) {
    CHECK_EQ_INT(r->n_conflicts, 1);
    if (r->n_conflicts == 1) {
      const Pki__V1__Conflict *c = r->conflicts[0];
      CHECK_EQ_STR(c->purpose, "tomcat");
      CHECK_EQ_INT(c->n_clusters, 2);
      CHECK_EQ_INT(c->n_fingerprints, 2);
      CHECK(c->n_clusters == 2 && strcmp(c->clusters[0], "alpha") == 0 &&
            strcmp(c->clusters[1], "beta") == 0);
      CHECK(c->n_fingerprints == 2 &&
            strcmp(c->fingerprints[0], c->fingerprints[1]) != 0);
    }
    CHECK_EQ_INT(r->bundle->n_entries, 5);
    CHECK(find_entry(r->bundle, "a1.alpha.example.com", "tomcat") == NULL);
  }
  pki__v1__consolidate_response__free_unpacked(r, NULL);
  CHECK(it_db_int(&db_a,
                  "SELECT count(*) FROM audit_log WHERE"
                  " action = 'bulk-consolidate'",
                  NULL) == 2);
}

static Pki__V1__ImportResponse *import_consolidated(pki_client *client,
                                                    const char *cluster,
                                                    long *status,
                                                    char code[64]) {
  Pki__V1__Bundle *two[2] = {alpha, beta};
  char ccode[64];
  long cstatus;
  Pki__V1__ConsolidateResponse *c = consolidate(two, 2, &cstatus, ccode);
  CHECK_EQ_INT(cstatus, 200);
  if (c == NULL) {
    return NULL;
  }
  Pki__V1__ImportRequest req = PKI__V1__IMPORT_REQUEST__INIT;
  req.bundle = c->bundle;
  req.cluster = (char *)cluster;
  Pki__V1__ImportResponse *r = import(client, &req, status, code);
  pki__v1__consolidate_response__free_unpacked(c, NULL);
  return r;
}

TEST(import_fills_the_stores_of_each_purpose_once_and_skips_its_own) {
  long status;
  char code[64];
  if (alpha == NULL || beta == NULL) {
    CHECK(0);
    return;
  }
  // Cluster beta imports (its own cluster from pkid's --cluster).
  Pki__V1__ImportResponse *r = import_consolidated(api_b, "", &status, code);
  CHECK_EQ_INT(status, 200);
  CHECK(r != NULL);
  if (r != NULL) {
    // alpha: x1 tomcat, a1 tomcat, a2 tomcat-ECDSA -> tomcat-trust (3);
    // a1 CallManager -> CallManager-trust and Phone-SAST-trust (2);
    // a2 CAPF -> CallManager-trust (1).
    CHECK_EQ_INT(r->added, 6);
    CHECK_EQ_INT(r->skipped_own, 2);
    CHECK_EQ_INT(r->unchanged + r->replaced + r->kept, 0);
  }
  pki__v1__import_response__free_unpacked(r, NULL);
  CHECK_EQ_INT(trust_count(&db_b, "tomcat-trust", ""), 3);
  CHECK_EQ_INT(trust_count(&db_b, "CallManager-trust", ""), 2);
  CHECK_EQ_INT(trust_count(&db_b, "Phone-SAST-trust", ""), 1);
  CHECK_EQ_INT(trust_count(&db_b, "CAPF-trust", ""), 0);
  CHECK_EQ_INT(trust_count(&db_b, "tomcat-trust", "b1.beta.example.com"), 0);
  // The revoked CAPF certificate carries its revocation.
  CHECK_EQ_INT(it_db_int(&db_b,
                         "SELECT count(*) FROM trust_entries WHERE"
                         " purpose = 'CAPF' AND cluster = 'alpha' AND"
                         " revocation_reason = 1 AND revoked_at IS NOT NULL",
                         NULL),
               1);

  // Again: nothing changes.
  r = import_consolidated(api_b, "beta", &status, code);
  CHECK_EQ_INT(status, 200);
  CHECK(r != NULL && r->added == 0 && r->unchanged == 6 && r->skipped_own == 2);
  pki__v1__import_response__free_unpacked(r, NULL);
  CHECK_EQ_INT(it_db_int(&db_b, "SELECT count(*) FROM trust_entries", NULL), 6);
  CHECK_EQ_INT(it_db_int(&db_b,
                         "SELECT count(*) FROM audit_log WHERE"
                         " action = 'bulk-import' AND detail LIKE"
                         " '%unchanged=6%'",
                         NULL),
               1);
}

TEST(a_later_revocation_reaches_the_other_cluster) {
  long status;
  char code[64];
  CHECK(revoke(api_a, a1_tomcat, 4));
  pki__v1__bundle__free_unpacked(alpha, NULL);
  alpha = export_bundle(api_a, "", &status, NULL, 0);
  Pki__V1__ImportResponse *r = import_consolidated(api_b, "", &status, code);
  CHECK_EQ_INT(status, 200);
  CHECK(r != NULL && r->unchanged == 6 && r->added == 0);
  pki__v1__import_response__free_unpacked(r, NULL);
  CHECK_EQ_INT(it_db_int(&db_b,
                         "SELECT count(*) FROM trust_entries WHERE"
                         " node = 'a1.alpha.example.com' AND purpose = "
                         "'tomcat' AND revocation_reason = 4",
                         NULL),
               1);
}

TEST(a_bad_entry_fails_the_whole_import) {
  long status;
  char code[64];
  if (alpha == NULL) {
    CHECK(0);
    return;
  }
  const long long before =
      it_db_int(&db_a, "SELECT count(*) FROM trust_entries", NULL);
  // Cluster alpha imports beta's bundle with one garbage certificate last.
  Pki__V1__BundleEntry bad = PKI__V1__BUNDLE_ENTRY__INIT;
  bad.cluster = "beta";
  bad.node = "b9.beta.example.com";
  bad.purpose = "tomcat";
  uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
  bad.certificate.data = junk;
  bad.certificate.len = sizeof(junk);
  Pki__V1__BundleEntry **entries =
      calloc(beta->n_entries + 1, sizeof(*entries));
  memcpy(entries, beta->entries, beta->n_entries * sizeof(*entries));
  entries[beta->n_entries] = &bad;
  Pki__V1__Bundle bundle = *beta;
  bundle.entries = entries;
  bundle.n_entries = beta->n_entries + 1;
  Pki__V1__ImportRequest req = PKI__V1__IMPORT_REQUEST__INIT;
  req.bundle = &bundle;
  Pki__V1__ImportResponse *r = import(api_a, &req, &status, code);
  CHECK_EQ_INT(status, 400);
  CHECK_EQ_STR(code, "BUNDLE_MALFORMED");
  CHECK(r == NULL);
  CHECK_EQ_INT(it_db_int(&db_a, "SELECT count(*) FROM trust_entries", NULL),
               before);
  // The database fails on the second store of the first entry: the first
  // store's row goes too (one transaction).
  bundle.n_entries = beta->n_entries;
  PGresult *res = it_db_query(
      &db_a,
      "CREATE FUNCTION refuse_sast() RETURNS trigger LANGUAGE plpgsql AS"
      " $$BEGIN RAISE EXCEPTION 'refused'; END$$",
      NULL, NULL);
  CHECK(res != NULL);
  PQclear(res);
  res = it_db_query(&db_a,
                    "CREATE TRIGGER refuse_sast BEFORE INSERT ON trust_entries"
                    " FOR EACH ROW WHEN (NEW.store = 'Phone-SAST-trust')"
                    " EXECUTE FUNCTION refuse_sast()",
                    NULL, NULL);
  CHECK(res != NULL);
  PQclear(res);
  r = import(api_a, &req, &status, code);
  CHECK_EQ_INT(status, 503);
  CHECK_EQ_STR(code, "STORAGE_UNAVAILABLE");
  CHECK(r == NULL);
  CHECK_EQ_INT(it_db_int(&db_a, "SELECT count(*) FROM trust_entries", NULL),
               before);
  res = it_db_query(&db_a, "DROP TRIGGER refuse_sast ON trust_entries", NULL,
                    NULL);
  CHECK(res != NULL);
  PQclear(res);
  // Without the bad entry and the failing database, it goes in.
  r = import(api_a, &req, &status, code);
  CHECK_EQ_INT(status, 200);
  CHECK(r != NULL && r->added == 3);
  pki__v1__import_response__free_unpacked(r, NULL);
  free(entries);
  // A revoked entry without a time is malformed; bytes that are no bundle
  // are refused.
  pki_reply reply;
  const uint8_t garbage[] = {0x0a, 0x05, 0xff, 0xff, 0xff};
  CHECK(pki_client_call(api_a, "POST", "/v1/bulk/import",
                        "application/x-protobuf", garbage, sizeof(garbage),
                        &reply));
  CHECK_EQ_INT(reply.status, 400);
  pki_reply_cleanup(&reply);
}

// write_pem_of_bundle writes the certificates of |b| as PEM to |path|.
static int write_pem_of_bundle(const Pki__V1__Bundle *b, const char *path) {
  if (!it_write_file(path, "", 0)) {
    return 0;
  }
  for (size_t i = 0; i < b->n_entries; i++) {
    char der_path[600], cmd[1400];
    snprintf(der_path, sizeof(der_path), "%s.%zu.der", path, i);
    if (!it_write_file(der_path, b->entries[i]->certificate.data,
                       b->entries[i]->certificate.len)) {
      return 0;
    }
    snprintf(cmd, sizeof(cmd), "openssl x509 -inform der -in %s >> %s",
             der_path, path);
    if (it_run(cmd) != 0) {
      return 0;
    }
  }
  return 1;
}

static Pki__V1__ImportResponse *import_p12(const char *file,
                                           const char *password, long *status,
                                           char code[64]) {
  FILE *f = fopen(file, "rb");
  CHECK(f != NULL);
  if (f == NULL) {
    return NULL;
  }
  static uint8_t buf[1 << 20];
  const size_t len = fread(buf, 1, sizeof(buf), f);
  fclose(f);
  Pki__V1__ImportRequest req = PKI__V1__IMPORT_REQUEST__INIT;
  req.pkcs12.data = buf;
  req.pkcs12.len = len;
  req.password = (char *)password;
  req.purpose = "tomcat";
  req.source_cluster = "cucm-west";
  return import(api_b, &req, status, code);
}

TEST(pkcs12_files_made_by_openssl_are_imported) {
  char dir[512], pem[700], p12[700], legacy[700], cmd[2400];
  it_tmpdir("bulk-p12", dir, sizeof(dir));
  mkdir(dir, 0755);
  snprintf(pem, sizeof(pem), "%s/west.pem", dir);
  snprintf(p12, sizeof(p12), "%s/west.p12", dir);
  snprintf(legacy, sizeof(legacy), "%s/west-legacy.p12", dir);
  // Certificates of a third cluster: two tomcat certificates of pkid A,
  // relabelled.
  long status;
  Pki__V1__Bundle *west = export_bundle(api_a, "type=tomcat", &status, NULL, 0);
  CHECK(west != NULL && west->n_entries == 2);
  if (west == NULL || !write_pem_of_bundle(west, pem)) {
    CHECK(0);
    pki__v1__bundle__free_unpacked(west, NULL);
    return;
  }
  pki__v1__bundle__free_unpacked(west, NULL);
  // OpenSSL 3's default (PBES2, AES-256-CBC, HMAC-SHA256 MAC) and the
  // legacy 3DES one that older tools write.
  snprintf(cmd, sizeof(cmd),
           "openssl pkcs12 -export -nokeys -in %s -out %s -passout pass:secret"
           " && openssl pkcs12 -export -nokeys -in %s -out %s"
           " -passout pass:secret -certpbe PBE-SHA1-3DES -macalg sha1",
           pem, p12, pem, legacy);
  CHECK_EQ_INT(it_run(cmd), 0);
  char code[64];
  Pki__V1__ImportResponse *r = import_p12(p12, "wrong", &status, code);
  CHECK_EQ_INT(status, 400);
  CHECK_EQ_STR(code, "PKCS12_PASSWORD_INVALID");
  CHECK(r == NULL);
  r = import_p12(p12, "secret", &status, code);
  CHECK_EQ_INT(status, 200);
  CHECK(r != NULL);
  if (r != NULL) {
    // The same subjects as alpha's a1 and x1, already in tomcat-trust from
    // the bundle import: unchanged, with the new origin.
    CHECK_EQ_INT(r->n_results, 2);
    CHECK_EQ_INT(r->added + r->unchanged + r->replaced + r->kept, 2);
    CHECK(r->n_results == 2 &&
          strcmp(r->results[0]->store, "tomcat-trust") == 0);
  }
  pki__v1__import_response__free_unpacked(r, NULL);
  CHECK_EQ_INT(it_db_int(&db_b,
                         "SELECT count(*) FROM trust_entries WHERE"
                         " cluster = 'cucm-west' AND store = 'tomcat-trust'",
                         NULL),
               2);
  r = import_p12(legacy, "secret", &status, code);
  CHECK_EQ_INT(status, 200);
  CHECK(r != NULL && r->unchanged == 2);
  pki__v1__import_response__free_unpacked(r, NULL);
  // openssl pkcs12 -legacy: 40-bit RC2 for the certificates, as old CUCM
  // releases and Windows write.
  snprintf(cmd, sizeof(cmd),
           "openssl pkcs12 -export -nokeys -in %s -out %s.rc2"
           " -passout pass:secret -legacy",
           pem, legacy);
  CHECK_EQ_INT(it_run(cmd), 0);
  char rc2[800];
  snprintf(rc2, sizeof(rc2), "%s.rc2", legacy);
  r = import_p12(rc2, "secret", &status, code);
  CHECK_EQ_INT(status, 200);
  CHECK(r != NULL && r->unchanged == 2);
  pki__v1__import_response__free_unpacked(r, NULL);
  // Two million PBKDF2 iterations: refused before any is run.
  snprintf(cmd, sizeof(cmd),
           "openssl pkcs12 -export -nokeys -in %s -out %s.slow"
           " -passout pass:secret -iter 2000000",
           pem, legacy);
  CHECK_EQ_INT(it_run(cmd), 0);
  snprintf(rc2, sizeof(rc2), "%s.slow", legacy);
  r = import_p12(rc2, "secret", &status, code);
  CHECK_EQ_INT(status, 400);
  CHECK_EQ_STR(code, "BUNDLE_MALFORMED");
  // Not PKCS#12 at all.
  r = import_p12(pem, "secret", &status, code);
  CHECK_EQ_INT(status, 400);
  CHECK_EQ_STR(code, "BUNDLE_MALFORMED");
}

TEST(pkictl_exports_consolidates_and_imports_through_a_shared_directory) {
  char dir[512], cmd[2400], path[700];
  it_tmpdir("bulk-share", dir, sizeof(dir));
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s bulk export --dir %s --format p7b &&"
           " api/pkictl %s bulk export --dir %s --cluster beta",
           pkid_a.ctl, dir, pkid_b.ctl, dir);
  CHECK_EQ_INT(it_run(cmd), 0);
  struct stat st;
  snprintf(path, sizeof(path), "%s/alpha.bundle", dir);
  CHECK(stat(path, &st) == 0);
  snprintf(path, sizeof(path), "%s/alpha.p7b", dir);
  CHECK(stat(path, &st) == 0);
  snprintf(path, sizeof(path), "%s/beta.bundle", dir);
  CHECK(stat(path, &st) == 0);
  // One cluster alone is refused.
  char lone[512];
  it_tmpdir("bulk-lone", lone, sizeof(lone));
  snprintf(cmd, sizeof(cmd),
           "mkdir -p %s && cp %s/alpha.bundle %s/ &&"
           " api/pkictl %s bulk consolidate --dir %s",
           lone, dir, lone, pkid_a.ctl, lone);
  CHECK_EQ_INT(it_run(cmd), 1);
  snprintf(cmd, sizeof(cmd), "api/pkictl %s bulk consolidate --dir %s",
           pkid_a.ctl, dir);
  CHECK_EQ_INT(it_run(cmd), 0);
  snprintf(path, sizeof(path), "%s/consolidated.bundle", dir);
  CHECK(stat(path, &st) == 0);
  // Run twice: the consolidated bundle is not read as a third cluster.
  CHECK_EQ_INT(it_run(cmd), 0);
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s bulk import --dir %s --cluster alpha", pkid_a.ctl,
           dir);
  CHECK_EQ_INT(it_run(cmd), 0);
  // alpha now holds beta's tomcat (tomcat-trust) and CallManager
  // (CallManager-trust, Phone-SAST-trust); none of its own.
  CHECK_EQ_INT(it_db_int(&db_a,
                         "SELECT count(*) FROM trust_entries WHERE"
                         " cluster = 'alpha'",
                         NULL),
               0);
  CHECK_EQ_INT(it_db_int(&db_a,
                         "SELECT count(*) FROM trust_entries WHERE"
                         " cluster = 'beta'",
                         NULL),
               3);
  // The same, through the trust-store API: beta's CallManager certificate
  // in Phone-SAST-trust, with its origin.
  pki_reply reply;
  CHECK(pki_client_call(api_a, "GET", "/v1/trust/Phone-SAST-trust", NULL, NULL,
                        0, &reply));
  CHECK_EQ_INT(reply.status, 200);
  Pki__V1__ListTrustResponse *list = reply.status == 200
                                         ? pki__v1__list_trust_response__unpack(
                                               NULL, reply.body_len, reply.body)
                                         : NULL;
  CHECK(list != NULL && list->n_entries == 1);
  if (list != NULL && list->n_entries == 1) {
    CHECK_EQ_STR(list->entries[0]->source, "bulk");
    CHECK_EQ_STR(list->entries[0]->cluster, "beta");
    CHECK_EQ_STR(list->entries[0]->node, "b1.beta.example.com");
    CHECK_EQ_STR(list->entries[0]->purpose, "CallManager");
  }
  pki__v1__list_trust_response__free_unpacked(list, NULL);
  pki_reply_cleanup(&reply);
}

int main(void) {
  it_db_create(&db_a);
  it_db_create(&db_b);
  char dir_a[512], dir_b[512];
  it_tmpdir("bulk-a", dir_a, sizeof(dir_a));
  it_tmpdir("bulk-b", dir_b, sizeof(dir_b));
  const char *extra_a[] = {"--cluster", "alpha", "--keypool", "EC-P256=1",
                           NULL};
  const char *extra_b[] = {"--cluster", "beta", "--keypool", "none", NULL};
  if (!it_pkid_start(&pkid_a, &db_a, dir_a, extra_a)) {
    it_db_drop(&db_a);
    it_db_drop(&db_b);
    return 1;
  }
  if (!it_pkid_start(&pkid_b, &db_b, dir_b, extra_b)) {
    it_pkid_stop(&pkid_a);
    it_db_drop(&db_a);
    it_db_drop(&db_b);
    return 1;
  }
  api_a = it_client(&pkid_a);
  api_b = it_client(&pkid_b);
  RUN(every_way_of_issuing_records_the_cluster);
  RUN(export_holds_each_nodes_current_certificate_with_its_state);
  RUN(consolidation_needs_two_clusters_dedupes_and_reports_conflicts);
  RUN(import_fills_the_stores_of_each_purpose_once_and_skips_its_own);
  RUN(a_later_revocation_reaches_the_other_cluster);
  RUN(a_bad_entry_fails_the_whole_import);
  RUN(pkcs12_files_made_by_openssl_are_imported);
  RUN(pkictl_exports_consolidates_and_imports_through_a_shared_directory);
  pki__v1__bundle__free_unpacked(alpha, NULL);
  pki__v1__bundle__free_unpacked(beta, NULL);
  pki_client_free(api_a);
  pki_client_free(api_b);
  CHECK_EQ_INT(it_pkid_stop(&pkid_a), 0);
  CHECK_EQ_INT(it_pkid_stop(&pkid_b), 0);
  it_db_drop(&db_a);
  it_db_drop(&db_b);
  return test_summary();
}
