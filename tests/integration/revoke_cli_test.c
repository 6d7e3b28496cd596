// pkictl revoke against a real pkid and PostgreSQL: --serials-file (one
// serial a line, an optional issuer column, comments; batches of
// --batch-items; a bad line stops it before anything is sent) and --select
// with find's filters (--cluster, --issued-after) and --dry-run; both print
// their summary (revoked, already revoked, refused by reason), and what the
// database holds afterwards is checked; a file of many serials, some twice,
// revokes each once with one audit row, also with batches in flight at
// once (--parallel).
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "api/client/client.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

static it_db db;
static it_pkid pkid;
static pki_client *api;

// issue issues |n| tomcat-ECDSA certificates of |cluster| in one batch and
// writes their serials to |out|.
static int issue(const char *cluster, size_t n, char (*out)[64]) {
  EVP_PKEY *key = NULL;
  Pki__V1__IssueRequest items[8];
  Pki__V1__IssueRequest *ptrs[8];
  uint8_t *csrs[8] = {0};
  int ok = n <= 8;
  for (size_t i = 0; i < n && ok; i++) {
    char subject[96];
    snprintf(subject, sizeof(subject), "/CN=%s-%zu.example.com", cluster, i);
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
  req.cluster = (char *)cluster;
  req.items = ptrs;
  req.n_items = n;
  uint8_t *body = NULL;
  pki_reply reply;
  memset(&reply, 0, sizeof(reply));
  Pki__V1__BatchIssueResponse *resp = NULL;
  if (ok) {
    const size_t len = pki__v1__batch_issue_request__get_packed_size(&req);
    body = malloc(len);
    pki__v1__batch_issue_request__pack(&req, body);
    ok = pki_client_call(api, "POST", "/v1/certificates:batchIssue",
                         "application/x-protobuf", body, len, &reply) &&
         reply.status == 200;
  }
  if (ok) {
    resp =
        pki__v1__batch_issue_response__unpack(NULL, reply.body_len, reply.body);
    ok = resp != NULL && resp->issued == n;
  }
  for (size_t i = 0; ok && i < n; i++) {
    snprintf(out[i], 64, "%s", resp->results[i]->certificate->serial);
  }
  pki__v1__batch_issue_response__free_unpacked(resp, NULL);
  pki_reply_cleanup(&reply);
  free(body);
  for (size_t i = 0; i < n; i++) {
    OPENSSL_free(csrs[i]);
  }
  EVP_PKEY_free(key);
  return ok;
}

// ctl runs "pkictl ARGS" and returns its exit status, its stdout in |out|.
static int ctl(const char *args, char *out, size_t len) {
  char cmd[4096];
  snprintf(cmd, sizeof(cmd), "api/pkictl %s %s", pkid.ctl, args);
  out[0] = '\0';
  fflush(stdout);
  FILE *p = popen(cmd, "r");
  if (p == NULL) {
    return -1;
  }
  const size_t n = fread(out, 1, len - 1, p);
  out[n] = '\0';
  const int status = pclose(p);
  printf("$ pkictl %s\n%s", args, out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// issue_many issues |n| certificates of |cluster|, 8 a batch.
static int issue_many(const char *cluster, int n, char (*out)[64]) {
  int ok = 1;
  for (int i = 0; ok && i < n; i += 8) {
    ok = issue(cluster, (size_t)(n - i < 8 ? n - i : 8), out + i);
  }
  return ok;
}

// revoked_in counts the certificates of |cluster| revoked keyCompromise.
static long long revoked_in(const char *cluster) {
  return it_db_int(&db,
                   "SELECT count(*) FROM certificates c JOIN revocations"
                   " r ON r.certificate_id = c.id WHERE c.cluster = $1"
                   " AND r.reason = 1",
                   cluster);
}

// revoke_audits counts the successful revoke audit rows of the
// certificates of |cluster|, or the certificates they name (|distinct|).
static long long revoke_audits(const char *cluster, int distinct) {
  return it_db_int(&db,
                   distinct ? "SELECT count(DISTINCT a.object) FROM audit_log a"
                              " JOIN certificates c ON c.serial = a.object"
                              " WHERE c.cluster = $1 AND a.action = 'revoke'"
                              " AND a.outcome = 'ok'"
                            : "SELECT count(*) FROM audit_log a"
                              " JOIN certificates c ON c.serial = a.object"
                              " WHERE c.cluster = $1 AND a.action = 'revoke'"
                              " AND a.outcome = 'ok'",
                   cluster);
}

// revokes_each_once runs "pkictl revoke --serials-file PATH --reason
// keyCompromise FLAGS", which must succeed with |summary|, and checks that
// each of the |n| certificates of |cluster| was revoked once, with one
// audit row.
static void revokes_each_once(const char *path, const char *flags,
                              const char *summary, const char *cluster,
                              long long n) {
  char args[1024], out[8192];
  snprintf(args, sizeof(args),
           "revoke --serials-file %s --reason keyCompromise %s", path, flags);
  CHECK_EQ_INT(ctl(args, out, sizeof(out)), 0);
  CHECK(strstr(out, summary) != NULL);
  CHECK_EQ_INT(revoked_in(cluster), n);
  CHECK_EQ_INT(revoke_audits(cluster, 0), n);
  CHECK_EQ_INT(revoke_audits(cluster, 1), n);
}

// serials_file writes s[lines[0]], s[lines[1]], ... one a line to the
// test's file |name|, whose path it puts in |path| (600 bytes).
static int serials_file(const char *name, char (*s)[64], const int *lines,
                        size_t n, char *path) {
  it_tmpdir(name, path, 600);
  const size_t cap = n * 66 + 1;
  char *text = malloc(cap);
  if (text == NULL) {
    return 0;
  }
  size_t off = 0;
  for (size_t i = 0; i < n; i++) {
    off += (size_t)snprintf(text + off, cap - off, "%s\n", s[lines[i]]);
  }
  const int ok = it_write_file(path, text, off);
  free(text);
  return ok;
}

static long long revoked(const char *serial) {
  return it_db_int(&db,
                   "SELECT count(*) FROM certificate_status WHERE serial = $1"
                   " AND status = 'revoked'",
                   serial);
}

TEST(serials_file_revokes_in_batches_and_sums_up) {
  char s[5][64];
  CHECK(issue("alpha", 5, s));
  char out[8192], args[2048], path[600];
  // One revoked before.
  snprintf(args, sizeof(args), "revoke %s --reason superseded", s[2]);
  CHECK_EQ_INT(ctl(args, out, sizeof(out)), 0);
  CHECK(strstr(out, "revoked") != NULL);

  it_tmpdir("serials.txt", path, sizeof(path));
  char text[1024];
  snprintf(text, sizeof(text),
           "# serials to revoke\n"
           "%s\n"
           "\n"
           "%s ec-issuing\n"
           "%s\n"
           "0123456789abcdef\n"
           "%s,rsa-issuing\n",
           s[0], s[1], s[2], s[3]);
  CHECK(it_write_file(path, text, strlen(text)));
  snprintf(args, sizeof(args),
           "revoke --serials-file %s --reason keyCompromise --batch-items 2",
           path);
  // Refused items: exit status 1, after the others were revoked.
  CHECK_EQ_INT(ctl(args, out, sizeof(out)), 1);
  CHECK(strstr(out, "revoked 2, already revoked 1, refused 2") != NULL);
  CHECK(strstr(out, "NOT_FOUND: 2") != NULL);
  CHECK_EQ_INT(revoked(s[0]), 1);
  CHECK_EQ_INT(revoked(s[1]), 1);
  CHECK_EQ_INT(revoked(s[3]), 0);
  CHECK_EQ_INT(revoked(s[4]), 0);
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM audit_log WHERE action ="
                         " 'revoke' AND object = $1",
                         s[0]),
               1);

  // --dry-run counts; a bad line stops everything before anything is sent.
  snprintf(text, sizeof(text), "%s\n", s[4]);
  CHECK(it_write_file(path, text, strlen(text)));
  snprintf(args, sizeof(args),
           "revoke --serials-file %s --reason keyCompromise --dry-run", path);
  CHECK_EQ_INT(ctl(args, out, sizeof(out)), 0);
  CHECK(strstr(out, "would revoke 1 certificates") != NULL);
  CHECK_EQ_INT(revoked(s[4]), 0);
  snprintf(text, sizeof(text), "%s\nnot-a-serial\n", s[4]);
  CHECK(it_write_file(path, text, strlen(text)));
  snprintf(args, sizeof(args),
           "revoke --serials-file %s --reason keyCompromise", path);
  CHECK_EQ_INT(ctl(args, out, sizeof(out)), 2);
  CHECK_EQ_INT(revoked(s[4]), 0);
}

// A file of many serials, some twice: each certificate revoked once, with
// one audit row, whatever batch its lines fall in.
TEST(serials_file_of_many_revokes_each_once_with_its_audit_row) {
  enum { kCerts = 40 };
  char s[kCerts][64], path[600];
  CHECK(issue_many("gamma", kCerts, s));
  // Three serials again: one in the same batch of 16, two in later ones.
  int lines[kCerts + 3];
  for (int i = 0; i < kCerts; i++) {
    lines[i] = i;
  }
  lines[kCerts] = 39;
  lines[kCerts + 1] = 0;
  lines[kCerts + 2] = 17;
  CHECK(serials_file("many-serials.txt", s, lines, kCerts + 3, path));
  revokes_each_once(path, "--batch-items 16",
                    "revoked 40, already revoked 3, refused 0", "gamma",
                    kCerts);
}

// Batches in flight at once (--parallel 4, batches of 3), every serial
// twice, the second time in a later batch that may run beside the first:
// each certificate revoked once, with one audit row; each repeat counted
// already revoked, never refused.
TEST(parallel_batches_revoke_each_once) {
  enum { kCerts = 24 };
  char s[kCerts][64], path[600], args[1024], out[8192];
  CHECK(issue_many("delta", kCerts, s));
  int lines[2 * kCerts];
  for (int i = 0; i < 2 * kCerts; i++) {
    lines[i] = i < kCerts ? i : 2 * kCerts - 1 - i;
  }
  CHECK(serials_file("parallel-serials.txt", s, lines, 2 * kCerts, path));
  revokes_each_once(path, "--batch-items 3 --parallel 4",
                    "revoked 24, already revoked 24, refused 0", "delta",
                    kCerts);
  // Out of range: refused before anything is sent.
  snprintf(args, sizeof(args),
           "revoke --serials-file %s --reason keyCompromise --parallel 17",
           path);
  CHECK_EQ_INT(ctl(args, out, sizeof(out)), 2);
  snprintf(args, sizeof(args),
           "revoke --serials-file %s --reason keyCompromise --parallel 0",
           path);
  CHECK_EQ_INT(ctl(args, out, sizeof(out)), 2);
}

TEST(select_with_dry_run_counts_then_revokes_what_the_filters_find) {
  char s[3][64], other[2][64];
  CHECK(issue("beta", 3, s));
  CHECK(issue("gamma", 2, other));
  char out[8192];
  CHECK_EQ_INT(ctl("revoke --select --cluster beta --reason superseded"
                   " --dry-run",
                   out, sizeof(out)),
               0);
  CHECK(strstr(out, "would revoke 3 certificates") != NULL);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ_INT(revoked(s[i]), 0);
  }
  // Issued after tomorrow: none.
  char args[512];
  snprintf(args, sizeof(args),
           "revoke --select --cluster beta --reason superseded --dry-run"
           " --issued-after %lld",
           (long long)time(NULL) + 86400);
  CHECK_EQ_INT(ctl(args, out, sizeof(out)), 0);
  CHECK(strstr(out, "would revoke 0 certificates") != NULL);
  // No filter at all is refused.
  CHECK_EQ_INT(ctl("revoke --select --reason superseded", out, sizeof(out)), 2);

  CHECK_EQ_INT(ctl("revoke --select --cluster beta --reason superseded"
                   " --batch-items 2",
                   out, sizeof(out)),
               0);
  CHECK(strstr(out, "revoked 3, already revoked 0, refused 0") != NULL);
  for (int i = 0; i < 3; i++) {
    CHECK_EQ_INT(revoked(s[i]), 1);
  }
  CHECK_EQ_INT(revoked(other[0]), 0);
  CHECK_EQ_INT(revoked(other[1]), 0);
  CHECK_EQ_INT(ctl("revoke --select --cluster beta --reason superseded"
                   " --dry-run",
                   out, sizeof(out)),
               0);
  CHECK(strstr(out, "would revoke 0 certificates") != NULL);
}

int main(void) {
  it_db_create(&db);
  char dir[512];
  it_tmpdir("revoke-cli", dir, sizeof(dir));
  if (!it_pkid_start(&pkid, &db, dir, NULL)) {
    it_db_drop(&db);
    return 1;
  }
  api = it_client(&pkid);
  RUN(serials_file_revokes_in_batches_and_sums_up);
  RUN(serials_file_of_many_revokes_each_once_with_its_audit_row);
  RUN(parallel_batches_revoke_each_once);
  RUN(select_with_dry_run_counts_then_revokes_what_the_filters_find);
  pki_client_free(api);
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  it_db_drop(&db);
  return test_summary();
}
