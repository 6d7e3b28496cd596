// The certificate statistics snapshot against real pkid processes and a
// real PostgreSQL: certificates issued, revoked and expired are counted
// exactly by CA, profile, status and expiry after POST /v1/stats:refresh,
// in protobuf and in JSON (curl); the snapshot does not move until the next
// refresh (nothing reads the certificates on a GET or a scrape); /metrics
// serves the same figures; a refresh needs an admin; and two pkid on one
// database with a one-second --stats-interval compute it one at a time, at
// most once per interval (the stats_refreshes history and their logs).
#include <jansson.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

static it_db db;
static it_pkid node_a, node_b, node_c;
static pki_client *api;
static char ec_issuer[64];  // the name of the CA that signs the -ECDSA profiles

// issue issues a certificate of |profile| for |cn| valid |days| days; its
// serial goes to |serial|.
static int issue(const char *profile, const char *cn, unsigned days,
                 char serial[64]) {
  char subject[160];
  snprintf(subject, sizeof(subject), "/CN=%s/O=Example", cn);
  const test_csr_spec spec = {.key = "EC-P256", .subject = subject};
  size_t csr_len;
  uint8_t *csr = test_make_csr(&spec, &csr_len, NULL);
  CHECK(csr != NULL);
  if (csr == NULL) {
    return 0;
  }
  Pki__V1__IssueRequest req = PKI__V1__ISSUE_REQUEST__INIT;
  req.profile = (char *)profile;
  req.csr.data = csr;
  req.csr.len = csr_len;
  req.validity_days = days;
  const size_t len = pki__v1__issue_request__get_packed_size(&req);
  uint8_t *body = malloc(len);
  pki__v1__issue_request__pack(&req, body);
  pki_reply reply;
  int ok = pki_client_call(api, "POST", "/v1/certificates:issue",
                           "application/x-protobuf", body, len, &reply);
  free(body);
  OPENSSL_free(csr);
  CHECK(ok);
  if (!ok) {
    return 0;
  }
  CHECK_EQ_INT(reply.status, 200);
  Pki__V1__IssueResponse *resp =
      reply.status == 200
          ? pki__v1__issue_response__unpack(NULL, reply.body_len, reply.body)
          : NULL;
  ok = resp != NULL && resp->certificate != NULL;
  CHECK(ok);
  if (ok) {
    snprintf(serial, 64, "%s", resp->certificate->serial);
    snprintf(ec_issuer, sizeof(ec_issuer), "%s", resp->certificate->issuer);
  }
  pki__v1__issue_response__free_unpacked(resp, NULL);
  pki_reply_cleanup(&reply);
  return ok;
}

static int revoke_cert(const char *serial) {
  Pki__V1__RevokeRequest req = PKI__V1__REVOKE_REQUEST__INIT;
  req.reason = 4;
  uint8_t body[64];
  const size_t len = pki__v1__revoke_request__pack(&req, body);
  char path[160];
  snprintf(path, sizeof(path), "/v1/certificates/%s:revoke", serial);
  pki_reply reply;
  const int ok = pki_client_call(api, "POST", path, "application/x-protobuf",
                                 body, len, &reply) &&
                 reply.status == 200;
  pki_reply_cleanup(&reply);
  return ok;
}

// call_stats runs |method| |path| and returns the StatsResponse (NULL unless
// 200); |*status| gets the HTTP status.
static Pki__V1__StatsResponse *call_stats(pki_client *client,
                                          const char *method, const char *path,
                                          int *status) {
  pki_reply reply;
  if (!pki_client_call(client, method, path, NULL, NULL, 0, &reply)) {
    *status = 0;
    return NULL;
  }
  *status = reply.status;
  if (reply.status != 200) {
    fprintf(stderr, "%s %s: %d %.*s\n", method, path, (int)reply.status,
            (int)reply.body_len, (const char *)reply.body);
  }
  Pki__V1__StatsResponse *r =
      reply.status == 200
          ? pki__v1__stats_response__unpack(NULL, reply.body_len, reply.body)
          : NULL;
  pki_reply_cleanup(&reply);
  return r;
}

static Pki__V1__StatsResponse *refresh(void) {
  int status;
  Pki__V1__StatsResponse *r =
      call_stats(api, "POST", "/v1/stats:refresh", &status);
  CHECK_EQ_INT(status, 200);
  if (status != 200) {
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "tail -5 '%s' >&2", node_a.log);
    (void)it_run(cmd);
  }
  CHECK(r != NULL && r->refreshed && r->computed);
  return r;
}

static Pki__V1__StatsResponse *get_stats(void) {
  int status;
  Pki__V1__StatsResponse *r = call_stats(api, "GET", "/v1/stats", &status);
  CHECK_EQ_INT(status, 200);
  CHECK(r != NULL);
  return r;
}

// group finds the group (kind issued, the EC CA) of |profile| and |status|.
static const Pki__V1__StatsCount *group(const Pki__V1__StatsResponse *r,
                                        const char *profile,
                                        const char *status) {
  for (size_t i = 0; r != NULL && i < r->n_counts; i++) {
    const Pki__V1__StatsCount *c = r->counts[i];
    if (strcmp(c->kind, "issued") == 0 && strcmp(c->issuer, ec_issuer) == 0 &&
        strcmp(c->profile, profile) == 0 && strcmp(c->status, status) == 0) {
      return c;
    }
  }
  return NULL;
}

static long long count_of(const Pki__V1__StatsResponse *r, const char *profile,
                          const char *status) {
  const Pki__V1__StatsCount *c = group(r, profile, status);
  return c != NULL ? (long long)c->count : 0;
}

// metrics_text returns GET /metrics (free), or NULL.
static char *metrics_text(void) {
  pki_reply reply;
  CHECK(pki_client_call(api, "GET", "/metrics", NULL, NULL, 0, &reply));
  char *text = malloc(reply.body_len + 2);
  text[0] = '\n';
  memcpy(text + 1, reply.body, reply.body_len);
  text[reply.body_len + 1] = '\0';
  pki_reply_cleanup(&reply);
  return text;
}

// metric reads the sample |name| (with its labels) of |text|; -1 if absent.
static long long metric(const char *text, const char *name) {
  char needle[400];
  snprintf(needle, sizeof(needle), "\n%s ", name);
  const char *p = strstr(text, needle);
  return p != NULL ? strtoll(p + strlen(needle), NULL, 10) : -1;
}

// --- Fixtures: on the EC CA, tomcat-ECDSA: one expiring within 1 day, one
// within 7 days, one within 30, one far, one revoked, one expired;
// CallManager-ECDSA: two far. ---

TEST(fixtures) {
  char serial[64];
  CHECK(issue("tomcat-ECDSA", "day.example.com", 1, serial));
  CHECK(issue("tomcat-ECDSA", "week.example.com", 5, serial));
  CHECK(issue("tomcat-ECDSA", "month.example.com", 20, serial));
  CHECK(issue("tomcat-ECDSA", "far.example.com", 300, serial));
  CHECK(issue("tomcat-ECDSA", "revoked.example.com", 300, serial));
  CHECK(revoke_cert(serial));
  CHECK(issue("tomcat-ECDSA", "expired.example.com", 300, serial));
  // Expired two days ago (reported as expired by the monitor for 30 days).
  PGresult *res = it_db_query(
      &db,
      "UPDATE certificates SET not_before = now() - interval '40 days',"
      " not_after = now() - interval '2 days' WHERE serial = $1",
      serial, NULL);
  CHECK(res != NULL);
  PQclear(res);
  CHECK(issue("CallManager-ECDSA", "cm1.example.com", 300, serial));
  CHECK(issue("CallManager-ECDSA", "cm2.example.com", 300, serial));
}

TEST(a_refresh_counts_by_ca_profile_status_and_expiry) {
  Pki__V1__StatsResponse *r = refresh();
  CHECK(r != NULL && r->computed_at > 0 && r->age_seconds >= 0);
  CHECK(r != NULL && strcmp(r->computed_by, "node-a") == 0);
  CHECK_EQ_INT(count_of(r, "tomcat-ECDSA", "good"), 4);
  CHECK_EQ_INT(count_of(r, "tomcat-ECDSA", "revoked"), 1);
  CHECK_EQ_INT(count_of(r, "tomcat-ECDSA", "expired"), 1);
  CHECK_EQ_INT(count_of(r, "CallManager-ECDSA", "good"), 2);
  CHECK_EQ_INT(count_of(r, "CallManager-ECDSA", "revoked"), 0);
  const Pki__V1__StatsCount *good = group(r, "tomcat-ECDSA", "good");
  CHECK(good != NULL);
  if (good != NULL) {
    CHECK_EQ_INT(good->expiring_within_1d, 1);
    CHECK_EQ_INT(good->expiring_within_7d, 2);
    CHECK_EQ_INT(good->expiring_within_30d, 3);
  }
  // The expiry monitor's counts (the harness's own TLS certificate is not
  // in the database).
  if (r != NULL) {
    CHECK_EQ_INT(r->expiring_within_1d, 1);
    CHECK_EQ_INT(r->expiring_within_7d, 2);
    CHECK_EQ_INT(r->expiring_within_30d, 3);
    CHECK_EQ_INT(r->expired, 1);
    CHECK_EQ_INT(r->external_expiring_within_30d, 0);
  }
  pki__v1__stats_response__free_unpacked(r, NULL);
}

TEST(the_snapshot_stays_until_the_next_refresh) {
  Pki__V1__StatsResponse *before = get_stats();
  char serial[64];
  CHECK(issue("CallManager-ECDSA", "cm3.example.com", 300, serial));
  // Read from the snapshot: the new certificate is not counted yet, in
  // GET /v1/stats or in /metrics.
  Pki__V1__StatsResponse *same = get_stats();
  CHECK_EQ_INT(count_of(same, "CallManager-ECDSA", "good"), 2);
  CHECK(before != NULL && same != NULL &&
        before->computed_at == same->computed_at &&
        before->refreshes == same->refreshes);
  char *m = metrics_text();
  char name[300];
  snprintf(name, sizeof(name),
           "pki_stats_certificates{kind=\"issued\",issuer=\"%s\","
           "profile=\"CallManager-ECDSA\",status=\"good\"}",
           ec_issuer);
  CHECK_EQ_INT(metric(m, name), 2);
  free(m);
  Pki__V1__StatsResponse *after = refresh();
  CHECK_EQ_INT(count_of(after, "CallManager-ECDSA", "good"), 3);
  CHECK(before != NULL && after != NULL &&
        after->refreshes == before->refreshes + 1);
  pki__v1__stats_response__free_unpacked(before, NULL);
  pki__v1__stats_response__free_unpacked(same, NULL);
  pki__v1__stats_response__free_unpacked(after, NULL);
}

TEST(metrics_serve_the_snapshot) {
  Pki__V1__StatsResponse *r = get_stats();
  char *m = metrics_text();
  CHECK(r != NULL);
  if (r != NULL) {
    CHECK_EQ_INT(metric(m, "pki_stats_computed"), 1);
    CHECK_EQ_INT(metric(m, "pki_certificates_expiring{within=\"1d\"}"),
                 r->expiring_within_1d);
    CHECK_EQ_INT(metric(m, "pki_certificates_expiring{within=\"7d\"}"),
                 r->expiring_within_7d);
    CHECK_EQ_INT(metric(m, "pki_certificates_expiring{within=\"30d\"}"),
                 r->expiring_within_30d);
    CHECK_EQ_INT(metric(m, "pki_certificates_expired"), r->expired);
    CHECK_EQ_INT(
        metric(m, "pki_external_certificates_expiring{within=\"30d\"}"),
        r->external_expiring_within_30d);
    CHECK(metric(m, "pki_stats_age_seconds") >= 0);
    CHECK(strstr(m, "\npki_stats_refresh_duration_seconds ") != NULL);
    for (size_t i = 0; i < r->n_counts; i++) {
      const Pki__V1__StatsCount *c = r->counts[i];
      char name[400];
      snprintf(name, sizeof(name),
               "pki_stats_certificates{kind=\"%s\",issuer=\"%s\","
               "profile=\"%s\",status=\"%s\"}",
               c->kind, c->issuer, c->profile, c->status);
      CHECK_EQ_INT(metric(m, name), (long long)c->count);
    }
  }
  free(m);
  pki__v1__stats_response__free_unpacked(r, NULL);
}

// json_stats runs GET /v1/stats with curl, Accept: application/json.
static json_t *json_stats(void) {
  char cmd[2000];
  snprintf(cmd, sizeof(cmd),
           "curl %s -H 'Accept: application/json' '%s/v1/stats'", node_a.curl,
           node_a.server);
  FILE *p = popen(cmd, "r");
  CHECK(p != NULL);
  if (p == NULL) {
    return NULL;
  }
  json_error_t err;
  json_t *j = json_loadf(p, 0, &err);
  CHECK_EQ_INT(pclose(p), 0);
  CHECK(j != NULL);
  return j;
}

static long long json_number(json_t *v) {
  // proto3 JSON writes 64-bit integers as strings.
  return json_is_string(v) ? strtoll(json_string_value(v), NULL, 10)
                           : json_integer_value(v);
}

TEST(json_answers_the_same_snapshot) {
  Pki__V1__StatsResponse *r = get_stats();
  json_t *j = json_stats();
  CHECK(r != NULL && j != NULL);
  if (r != NULL && j != NULL) {
    CHECK_EQ_INT(json_number(json_object_get(j, "computedAt")), r->computed_at);
    CHECK_EQ_INT(json_number(json_object_get(j, "expiringWithin30d")),
                 r->expiring_within_30d);
    json_t *counts = json_object_get(j, "counts");
    CHECK_EQ_INT(json_array_size(counts), r->n_counts);
    for (size_t i = 0; i < json_array_size(counts); i++) {
      json_t *c = json_array_get(counts, i);
      CHECK_EQ_STR(json_string_value(json_object_get(c, "profile")),
                   r->counts[i]->profile);
      CHECK_EQ_STR(json_string_value(json_object_get(c, "status")),
                   r->counts[i]->status);
      CHECK_EQ_INT(json_number(json_object_get(c, "count")),
                   r->counts[i]->count);
    }
  }
  json_decref(j);
  pki__v1__stats_response__free_unpacked(r, NULL);
}

TEST(pkictl_stats_prints_the_counts) {
  char cmd[2000];
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s stats | grep -E '^%s +CallManager-ECDSA +good +3 '",
           node_a.ctl, ec_issuer);
  CHECK_EQ_INT(it_run(cmd), 0);
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s stats --json | grep -q '\"computedAt\"'", node_a.ctl);
  CHECK_EQ_INT(it_run(cmd), 0);
}

TEST(a_refresh_needs_an_admin) {
  // A token of the issuer role may read the snapshot, not refresh it.
  char cmd[2400], token_file[600];
  it_tmpdir("stats-issuer.token", token_file, sizeof(token_file));
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s token create --name stats-issuer --role issuer "
           "--profiles all "
           "| grep -o 'pki_[A-Za-z0-9_-]*' | head -1 > '%s'",
           node_a.ctl, token_file);
  CHECK_EQ_INT(it_run(cmd), 0);
  char token[128] = "";
  FILE *f = fopen(token_file, "r");
  CHECK(f != NULL);
  if (f != NULL) {
    CHECK(fscanf(f, "%127s", token) == 1);
    fclose(f);
  }
  snprintf(cmd, sizeof(cmd),
           "test \"$(curl -sS --cacert '%s' -H 'Authorization: Bearer %s' "
           "-o /dev/null -w '%%{http_code}' '%s/v1/stats')\" = 200 && "
           "test \"$(curl -sS --cacert '%s' -H 'Authorization: Bearer %s' "
           "-X POST -o /dev/null -w '%%{http_code}' "
           "'%s/v1/stats:refresh')\" = 403",
           node_a.cacert, token, node_a.server, node_a.cacert, token,
           node_a.server);
  CHECK_EQ_INT(it_run(cmd), 0);
}

// copy_ca_keys gives another node the CA keys of node A.
static int copy_ca_keys(const char *from, const char *to) {
  char cmd[2400];
  snprintf(cmd, sizeof(cmd),
           "mkdir -p '%s/keys' && chmod 0700 '%s' '%s/keys' && "
           "cp -p '%s'/keys/rsa-*.key '%s'/keys/ec-*.key '%s/keys/'",
           to, to, to, from, from, to);
  return it_run(cmd) == 0;
}

// Two nodes, --stats-interval 1: they run until the history holds six new
// computations (at most a minute), then stop. Every computation began at
// least an interval after the one before, whichever node made each.
TEST(two_nodes_compute_one_at_a_time_once_per_interval) {
  const long long first =
      it_db_int(&db, "SELECT coalesce(max(id), 0) FROM stats_refreshes", NULL);
  const char *extra_b[] = {"--monitor",        "off", "--node", "node-b",
                           "--stats-interval", "1",   NULL};
  const char *extra_c[] = {"--monitor",        "off", "--node", "node-c",
                           "--stats-interval", "1",   NULL};
  CHECK(copy_ca_keys(node_a.data_dir, node_b.data_dir));
  CHECK(copy_ca_keys(node_a.data_dir, node_c.data_dir));
  CHECK(it_pkid_start(&node_b, &db, node_b.data_dir, extra_b));
  CHECK(it_pkid_start(&node_c, &db, node_c.data_dir, extra_c));
  char id[24];
  snprintf(id, sizeof(id), "%lld", first);
  long long made = 0;
  for (int i = 0; i < 600 && made < 6; i++) {
    usleep(100 * 1000);
    made = it_db_int(&db, "SELECT count(*) FROM stats_refreshes WHERE id > $1",
                     id);
  }
  CHECK_EQ_INT(it_pkid_stop(&node_b), 0);
  CHECK_EQ_INT(it_pkid_stop(&node_c), 0);
  CHECK(made >= 6);
  CHECK_EQ_INT(
      it_db_int(&db,
                "SELECT count(*) FROM (SELECT computed_at - lag(computed_at)"
                " OVER (ORDER BY id) AS gap FROM stats_refreshes"
                " WHERE id >= $1) x WHERE gap < interval '1 second'",
                id),
      0);
  // Only the two nodes computed them, and the history matches the
  // snapshot's counter and the nodes' logs.
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM stats_refreshes WHERE id > $1"
                         " AND computed_by NOT IN ('node-b', 'node-c')",
                         id),
               0);
  CHECK_EQ_INT(it_db_int(&db, "SELECT refreshes FROM stats_snapshot", NULL),
               it_db_int(&db, "SELECT count(*) FROM stats_refreshes", NULL));
  char cmd[1600];
  snprintf(
      cmd, sizeof(cmd),
      "test \"$(cat '%s' '%s' | grep -c 'statistics snapshot computed')\""
      " = \"$(echo %lld)\"",
      node_b.log, node_c.log,
      it_db_int(&db, "SELECT count(*) FROM stats_refreshes WHERE id > $1", id));
  CHECK_EQ_INT(it_run(cmd), 0);
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM stats_snapshot"
                         " WHERE claimed_by IS NOT NULL",
                         NULL),
               0);
}

int main(void) {
  it_db_create(&db);
  it_tmpdir("stats-a", node_a.data_dir, sizeof(node_a.data_dir));
  it_tmpdir("stats-b", node_b.data_dir, sizeof(node_b.data_dir));
  it_tmpdir("stats-c", node_c.data_dir, sizeof(node_c.data_dir));
  // Node A computes only when asked: the counts are the test's.
  const char *extra[] = {"--monitor",        "off", "--node", "node-a",
                         "--stats-interval", "0",   NULL};
  if (!it_pkid_start(&node_a, &db, node_a.data_dir, extra)) {
    it_db_drop(&db);
    return 1;
  }
  api = it_client(&node_a);
  RUN(fixtures);
  RUN(a_refresh_counts_by_ca_profile_status_and_expiry);
  RUN(the_snapshot_stays_until_the_next_refresh);
  RUN(metrics_serve_the_snapshot);
  RUN(json_answers_the_same_snapshot);
  RUN(pkictl_stats_prints_the_counts);
  RUN(a_refresh_needs_an_admin);
  RUN(two_nodes_compute_one_at_a_time_once_per_interval);
  pki_client_free(api);
  CHECK_EQ_INT(it_pkid_stop(&node_a), 0);
  it_db_drop(&db);
  return test_summary();
}
