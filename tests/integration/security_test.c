// Access to the API against real pkid processes and PostgreSQL, through
// real clients (curl, openssl s_client, pkictl): TLS only, 401 without a
// credential, 403 for the wrong role, profile or address, tokens and client
// certificates revoked at once, the admin allowlist changed at run time,
// the audit rows of every change, and the certificate pkid issues itself
// and renews.
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

static it_db db;
static it_pkid pkid;
static char work[512];

// run_capture runs |cmd| and returns the first line of its output in |out|
// (and its exit status).
static int run_capture(const char *cmd, char *out, size_t len) {
  out[0] = '\0';
  fflush(stdout);
  FILE *p = popen(cmd, "r");
  if (p == NULL) {
    return -1;
  }
  if (fgets(out, (int)len, p) == NULL) {
    out[0] = '\0';
  }
  out[strcspn(out, "\r\n")] = '\0';
  char rest[256];
  while (fgets(rest, sizeof(rest), p) != NULL) {
  }
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

// call sends one request with curl: |auth| is curl's credential arguments
// ("" for none), |method| and |path| on pkid's API, |data| a file to POST
// (NULL for none). It returns the HTTP status (0 when the transport failed)
// and leaves the body in WORK/body.
static long call(const char *auth, const char *method, const char *path,
                 const char *data) {
  char cmd[4096], out[64];
  snprintf(cmd, sizeof(cmd),
           "curl -q -s -o '%s/body' -w '%%{http_code}' --cacert '%s' %s -X %s"
           " %s%s%s '%s%s'",
           work, pkid.cacert, auth, method,
           data != NULL ? "--data-binary @'" : "", data != NULL ? data : "",
           data != NULL ? "'" : "", pkid.server, path);
  if (run_capture(cmd, out, sizeof(out)) != 0) {
    return 0;
  }
  return strtol(out, NULL, 10);
}

// body_starts_with returns 1 when WORK/body starts with |prefix|.
static int body_starts_with(const char *prefix) {
  char path[600], text[512] = "";
  snprintf(path, sizeof(path), "%s/body", work);
  FILE *f = fopen(path, "r");
  if (f != NULL) {
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
  }
  if (strncmp(text, prefix, strlen(prefix)) != 0) {
    fprintf(stderr, "body: %.300s\n", text);
    return 0;
  }
  return 1;
}

static void bearer(const char *token, char *out, size_t len) {
  snprintf(out, len, "-H 'Authorization: Bearer %s'", token);
}

// make_token makes a token with pkictl (as the admin) and returns it in
// |out|; |args| are the create flags.
static int make_token(const char *args, char *out, size_t len) {
  char cmd[2048];
  snprintf(cmd, sizeof(cmd), "api/pkictl %s token create %s", pkid.ctl, args);
  return run_capture(cmd, out, len) == 0 && strncmp(out, "pki_", 4) == 0;
}

// write_csr writes a PEM request of |key| for |cn| to WORK/NAME.csr.
static void write_csr(const char *key, const char *cn, const char *name) {
  char subject[128], path[600];
  snprintf(subject, sizeof(subject), "/CN=%s/O=Example", cn);
  const test_csr_spec spec = {.key = key, .subject = subject};
  size_t len;
  uint8_t *der = test_make_csr(&spec, &len, NULL);
  char *pem = der != NULL ? test_pem_csr(der, len) : NULL;
  snprintf(path, sizeof(path), "%s/%s.csr", work, name);
  CHECK(pem != NULL && it_write_file(path, pem, strlen(pem)));
  OPENSSL_free(pem);
  OPENSSL_free(der);
}

static long long certificates(void) {
  return it_db_int(&db, "SELECT count(*) FROM certificates", NULL);
}

TEST(plain_http_and_old_tls_are_refused) {
  char cmd[1024], out[256];
  // Plain HTTP to the TLS port: no HTTP answer at all.
  snprintf(cmd, sizeof(cmd),
           "curl -q -sS -o /dev/null http://127.0.0.1:%u/healthz 2>&1",
           pkid.port);
  CHECK(run_capture(cmd, out, sizeof(out)) != 0);
  // TLS 1.1 is refused by the server (the client's own floor lowered).
  snprintf(cmd, sizeof(cmd),
           "openssl s_client -connect 127.0.0.1:%u -tls1_1 -cipher "
           "DEFAULT@SECLEVEL=0 < /dev/null > /dev/null 2>&1",
           pkid.port);
  CHECK(it_run(cmd) != 0);
  snprintf(cmd, sizeof(cmd),
           "openssl s_client -connect 127.0.0.1:%u -tls1_2 -CAfile '%s'"
           " -verify_return_error < /dev/null > /dev/null 2>&1",
           pkid.port, pkid.cacert);
  CHECK_EQ_INT(it_run(cmd), 0);
}

TEST(public_routes_need_no_credential_and_the_rest_401) {
  CHECK_EQ_INT(call("", "GET", "/healthz", NULL), 200);
  CHECK_EQ_INT(call("", "GET", "/metrics", NULL), 200);
  CHECK_EQ_INT(call("", "GET", "/v1/ca/rsa-root/chain", NULL), 200);
  static const char *const kClosed[][2] = {
      {"GET", "/v1/certificates?format=text"},
      {"GET", "/v1/ca"},
      {"GET", "/v1/tokens"},
      {"POST", "/v1/sign?profile=tomcat"},
      {"GET", "/v1/trust"},
      {"GET", "/v1/identities"},
      {"POST", "/v1/identities"},
      {"GET", "/v1/bulk/export"},
      {"POST", "/v1/certificates/01:revoke"},
      {"POST", "/v1/certificates:batchRevoke"},
      {"GET", "/v1/allowlist"},
  };
  for (size_t i = 0; i < sizeof(kClosed) / sizeof(kClosed[0]); i++) {
    const long status = call("", kClosed[i][0], kClosed[i][1], NULL);
    CHECK_EQ_INT(status, 401);
    if (status != 401) {
      fprintf(stderr, "%s %s\n", kClosed[i][0], kClosed[i][1]);
    }
  }
  CHECK(call("", "GET", "/v1/tokens", NULL) == 401 &&
        body_starts_with("UNAUTHENTICATED: "));
  // RFC 6750 3: the 401 names the scheme.
  char cmd[2048], out[256];
  snprintf(
      cmd, sizeof(cmd),
      "curl -q -s -D - -o /dev/null --cacert '%s' '%s/v1/tokens' | grep -i "
      "'^WWW-Authenticate: Bearer'",
      pkid.cacert, pkid.server);
  CHECK_EQ_INT(run_capture(cmd, out, sizeof(out)), 0);
  // Not a token, another scheme, a token never made.
  CHECK_EQ_INT(
      call("-H 'Authorization: Bearer nonsense'", "GET", "/v1/ca", NULL), 401);
  CHECK_EQ_INT(
      call("-H 'Authorization: Basic YWRtaW46YWRtaW4='", "GET", "/v1/ca", NULL),
      401);
  CHECK_EQ_INT(call("-H 'Authorization: Bearer "
                    "pki_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'",
                    "GET", "/v1/ca", NULL),
               401);
}

TEST(roles_and_profiles_are_enforced) {
  char issuer[128], revoker[128], auth[256], path[700];
  CHECK(make_token("--role issuer --profiles tomcat --name cucm-pub", issuer,
                   sizeof(issuer)));
  CHECK(make_token("--role revoker --name ops", revoker, sizeof(revoker)));
  write_csr("RSA-2048", "sec1.example.com", "rsa");
  write_csr("EC-P256", "sec2.example.com", "ec");
  const long long before = certificates();
  bearer(issuer, auth, sizeof(auth));
  snprintf(path, sizeof(path), "%s/rsa.csr", work);
  CHECK_EQ_INT(call(auth, "POST", "/v1/sign?profile=tomcat", path), 200);
  snprintf(path, sizeof(path), "%s/ec.csr", work);
  CHECK_EQ_INT(call(auth, "POST", "/v1/sign?profile=tomcat-ECDSA", path), 403);
  CHECK(body_starts_with("FORBIDDEN: "));
  CHECK_EQ_INT(certificates(), before + 1);
  // Reading is for every role; revoking and administering are not issuing.
  CHECK_EQ_INT(call(auth, "GET", "/v1/certificates?format=text", NULL), 200);
  CHECK_EQ_INT(call(auth, "POST", "/v1/certificates/01:revoke", NULL), 403);
  CHECK_EQ_INT(call(auth, "POST", "/v1/certificates:batchRevoke", NULL), 403);
  CHECK_EQ_INT(call(auth, "GET", "/v1/tokens", NULL), 403);
  CHECK_EQ_INT(call(auth, "DELETE", "/v1/trust/tomcat-trust/00", NULL), 403);
  // Registered identities: read by every role, changed by admins only.
  CHECK_EQ_INT(call(auth, "GET", "/v1/identities?format=text", NULL), 200);
  CHECK_EQ_INT(call(auth, "POST", "/v1/identities", NULL), 403);
  CHECK_EQ_INT(call(auth, "PUT", "/v1/identities/1", NULL), 403);
  CHECK_EQ_INT(call(auth, "DELETE", "/v1/identities/1", NULL), 403);
  // An issuer for every profile still may not make API client
  // certificates: one could name itself an admin.
  char all[128], cmd[2048];
  CHECK(make_token("--role issuer --profiles all", all, sizeof(all)));
  snprintf(cmd, sizeof(cmd),
           "api/pkictl --server %s --cacert %s --token %s keygen --profile"
           " api-client --cn mallory --ou pki-role:admin --out-dir %s 2>&1 |"
           " grep -q FORBIDDEN",
           pkid.server, pkid.cacert, all, work);
  CHECK_EQ_INT(it_run(cmd), 0);
  // The revoker revokes what the issuer made, and may not issue.
  char serial[128];
  CHECK(it_db_int(&db,
                  "SELECT count(*) FROM certificates WHERE"
                  " common_name = 'sec1.example.com'",
                  NULL) == 1);
  PGresult *res =
      it_db_query(&db, "SELECT serial FROM certificates WHERE common_name = $1",
                  "sec1.example.com", NULL);
  snprintf(serial, sizeof(serial), "%s",
           res != NULL && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "");
  PQclear(res);
  snprintf(cmd, sizeof(cmd),
           "api/pkictl --server %s --cacert %s --token %s revoke %s --reason"
           " superseded > /dev/null",
           pkid.server, pkid.cacert, revoker, serial);
  CHECK_EQ_INT(it_run(cmd), 0);
  bearer(revoker, auth, sizeof(auth));
  snprintf(path, sizeof(path), "%s/rsa.csr", work);
  CHECK_EQ_INT(call(auth, "POST", "/v1/sign?profile=tomcat", path), 403);
  // The batch form is the revoker's too: a body without its Content-Type
  // gets past the access check (an issuer got 403 for it above) and is
  // refused as a request (415 UNSUPPORTED_MEDIA_TYPE).
  CHECK_EQ_INT(call(auth, "POST", "/v1/certificates:batchRevoke", NULL), 415);
  // Who did what: the token's name in the records and the audit log.
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM certificates WHERE serial = $1"
                         " AND requester LIKE 'token:%:cucm-pub'",
                         serial),
               1);
  CHECK_EQ_INT(
      it_db_int(&db,
                "SELECT count(*) FROM audit_log WHERE action = 'revoke'"
                " AND object LIKE '%' || $1 || '%' AND actor LIKE"
                " 'token:%:ops' AND source = '127.0.0.1'",
                serial),
      1);
}

TEST(a_revoked_token_stops_at_once) {
  char token[128], auth[256], list[4096], id[32];
  CHECK(make_token("--role revoker --name short-lived", token, sizeof(token)));
  bearer(token, auth, sizeof(auth));
  CHECK_EQ_INT(call(auth, "GET", "/v1/ca", NULL), 200);
  PGresult *res = it_db_query(&db, "SELECT id FROM api_tokens WHERE name = $1",
                              "short-lived", NULL);
  snprintf(id, sizeof(id), "%s",
           res != NULL && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "0");
  PQclear(res);
  char cmd[2048];
  snprintf(cmd, sizeof(cmd), "api/pkictl %s token revoke %s > /dev/null",
           pkid.ctl, id);
  CHECK_EQ_INT(it_run(cmd), 0);
  CHECK_EQ_INT(call(auth, "GET", "/v1/ca", NULL), 401);
  // Only the hash is stored, and the change is audited.
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM api_tokens WHERE"
                         " length(token_hash) = 32 AND revoked_at IS NOT NULL"
                         " AND name = $1",
                         "short-lived"),
               1);
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM audit_log WHERE action ="
                         " 'token.revoke' AND object = 'token:' || $1 AND"
                         " actor LIKE 'token:%' AND source = '127.0.0.1'",
                         id),
               1);
  snprintf(cmd, sizeof(cmd), "api/pkictl %s token list", pkid.ctl);
  CHECK_EQ_INT(run_capture(cmd, list, sizeof(list)), 0);
  CHECK(strstr(list, "ID\tNAME\tROLE") == list);
}

TEST(client_certificates_carry_their_role) {
  char cmd[4096], auth[1024];
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s keygen --profile api-client --cn ops-cert --ou"
           " pki-role:revoker --out-dir %s > /dev/null && api/pkictl %s keygen"
           " --profile tomcat --cn plain.example.com --ou pki-role:admin"
           " --out-dir %s > /dev/null",
           pkid.ctl, work, pkid.ctl, work);
  CHECK_EQ_INT(it_run(cmd), 0);
  snprintf(auth, sizeof(auth),
           "--cert '%s/ops-cert.pem' --key '%s/ops-cert.key'", work, work);
  CHECK_EQ_INT(call(auth, "GET", "/v1/certificates?format=text", NULL), 200);
  CHECK_EQ_INT(call(auth, "GET", "/v1/tokens", NULL), 403);
  // A tomcat certificate keeps no OU: it names no role.
  char other[1024];
  snprintf(other, sizeof(other),
           "--cert '%s/plain.example.com.pem' --key '%s/plain.example.com.key'",
           work, work);
  CHECK_EQ_INT(call(other, "GET", "/v1/ca", NULL), 403);
  // A certificate from elsewhere (the harness's own) is no credential.
  char foreign[1400];
  snprintf(foreign, sizeof(foreign), "--cert '%s' --key '%s.tls.key'",
           pkid.cacert, pkid.data_dir);
  CHECK_EQ_INT(call(foreign, "GET", "/v1/ca", NULL), 401);
  // Revoked, it stops working at once (the revocation's notification
  // clears the cache of every node).
  PGresult *res =
      it_db_query(&db, "SELECT serial FROM certificates WHERE common_name = $1",
                  "ops-cert", NULL);
  char serial[128];
  snprintf(serial, sizeof(serial), "%s",
           res != NULL && PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) : "");
  PQclear(res);
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s revoke %s --reason keyCompromise > /dev/null",
           pkid.ctl, serial);
  CHECK_EQ_INT(it_run(cmd), 0);
  long status = 0;
  for (int i = 0; i < 20 && status != 401; i++) {
    status = call(auth, "GET", "/v1/ca", NULL);
    if (status != 401) {
      usleep(100 * 1000);
    }
  }
  CHECK_EQ_INT(status, 401);
}

TEST(the_allowlist_changes_at_run_time) {
  char cmd[2048], out[512];
  // A list that would shut the caller out is refused unless forced.
  snprintf(cmd, sizeof(cmd), "api/pkictl %s allowlist add 10.0.0.0/8 2>&1",
           pkid.ctl);
  CHECK(run_capture(cmd, out, sizeof(out)) != 0 && strstr(out, "CONFLICT"));
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s allowlist add 127.0.0.1 > /dev/null &&"
           " api/pkictl %s allowlist add 10.0.0.0/8 > /dev/null",
           pkid.ctl, pkid.ctl);
  CHECK_EQ_INT(it_run(cmd), 0);
  char auth[256];
  bearer(pkid.token, auth, sizeof(auth));
  CHECK_EQ_INT(call(auth, "GET", "/v1/tokens", NULL), 200);
  snprintf(cmd, sizeof(cmd), "api/pkictl %s allowlist delete 127.0.0.1/32 2>&1",
           pkid.ctl);
  CHECK(run_capture(cmd, out, sizeof(out)) != 0 && strstr(out, "CONFLICT"));
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s allowlist delete 127.0.0.1/32 --force > /dev/null",
           pkid.ctl);
  CHECK_EQ_INT(it_run(cmd), 0);
  // Admin and revocation routes are closed to 127.0.0.1 now, at once;
  // reading and issuing are not admin routes.
  CHECK_EQ_INT(call(auth, "GET", "/v1/tokens", NULL), 403);
  CHECK(body_starts_with("ADDRESS_NOT_ALLOWED: "));
  CHECK_EQ_INT(call(auth, "POST", "/v1/certificates/01:revoke", NULL), 403);
  CHECK_EQ_INT(call(auth, "POST", "/v1/certificates:batchRevoke", NULL), 403);
  CHECK_EQ_INT(call(auth, "GET", "/v1/certificates?format=text", NULL), 200);
  char path[600];
  write_csr("RSA-2048", "allow.example.com", "allow");
  snprintf(path, sizeof(path), "%s/allow.csr", work);
  CHECK_EQ_INT(call(auth, "POST", "/v1/sign?profile=tomcat", path), 200);
  // The way back when every admin is shut out: the table, and a
  // notification to every node.
  PGresult *done = it_db_query(&db, "DELETE FROM admin_allowlist", NULL, NULL);
  CHECK(done != NULL);
  PQclear(done);
  done = it_db_query(&db, "NOTIFY pki_access, 'allowlist'", NULL, NULL);
  CHECK(done != NULL);
  PQclear(done);
  long status = 0;
  for (int i = 0; i < 20 && status != 200; i++) {
    status = call(auth, "GET", "/v1/tokens", NULL);
    if (status != 200) {
      usleep(100 * 1000);
    }
  }
  CHECK_EQ_INT(status, 200);
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM audit_log WHERE action IN"
                         " ('allowlist.add', 'allowlist.delete') AND actor LIKE"
                         " 'token:%' AND source = '127.0.0.1'",
                         NULL),
               3);
}

TEST(the_first_admin_token_and_pkid_token_create) {
  char path[700], cmd[2048], out[256];
  snprintf(path, sizeof(path), "%s/admin.token", pkid.data_dir);
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
  // pkid's output goes to a file here, not a terminal: it names the file
  // once and never holds the token itself.
  snprintf(cmd, sizeof(cmd),
           "grep -c 'first start: admin token written to .*/admin.token "
           "(mode 0600)$' '%s'",
           pkid.log);
  CHECK(run_capture(cmd, out, sizeof(out)) == 0 && strcmp(out, "1") == 0);
  snprintf(cmd, sizeof(cmd), "grep -c -F '%s' '%s'", pkid.token, pkid.log);
  CHECK(run_capture(cmd, out, sizeof(out)) == 1 && strcmp(out, "0") == 0);
  snprintf(cmd, sizeof(cmd),
           "api/pkid token create --role issuer --database '%s' 2>/dev/null",
           db.url);
  CHECK_EQ_INT(it_run(cmd), 2);
  // An empty list is no list: it would make a token for every profile.
  snprintf(cmd, sizeof(cmd),
           "api/pkid token create --role issuer --profiles '' --database '%s'"
           " 2>/dev/null",
           db.url);
  CHECK_EQ_INT(it_run(cmd), 2);
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s token create --role issuer --profiles '' 2>&1 |"
           " grep -q PARAMETER_INVALID",
           pkid.ctl);
  CHECK_EQ_INT(it_run(cmd), 0);
  snprintf(cmd, sizeof(cmd),
           "api/pkid token create --role admin --profiles tomcat --database"
           " '%s' 2>/dev/null",
           db.url);
  CHECK_EQ_INT(it_run(cmd), 2);
  snprintf(cmd, sizeof(cmd),
           "api/pkid token create --role issuer --profiles ipsec,tomcat --name"
           " cli --database '%s' 2>/dev/null",
           db.url);
  char token[128], auth[256];
  CHECK(run_capture(cmd, token, sizeof(token)) == 0 && strlen(token) == 47);
  bearer(token, auth, sizeof(auth));
  CHECK_EQ_INT(call(auth, "GET", "/v1/ca", NULL), 200);
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM api_tokens WHERE name = 'cli'"
                         " AND role = 'issuer' AND profiles = '{ipsec,tomcat}'",
                         NULL),
               1);
}

// served_serial returns the serial of the certificate pkid's API presents,
// checked against |cafile| alone, or "" when the check fails.
static void served_serial(const it_pkid *p, const char *cafile, char *out,
                          size_t len) {
  char cmd[2048];
  snprintf(cmd, sizeof(cmd),
           "openssl s_client -connect 127.0.0.1:%u -CAfile '%s'"
           " -verify_return_error -verify_ip 127.0.0.1 < /dev/null 2>/dev/null"
           " | openssl x509 -noout -serial | sed 's/serial=//' | tr A-F a-f",
           p->port, cafile);
  if (run_capture(cmd, out, len) != 0) {
    out[0] = '\0';
  }
}

TEST(pkid_issues_its_own_certificate_and_renews_it) {
  it_db own_db;
  it_db_create(&own_db);
  it_pkid own = {0};
  memset(&own, 0, sizeof(own));
  own.self_issued_tls = 1;
  char dir[512], cmd[2048], first[128], again[128], renewed[128], out[256];
  it_tmpdir("self-issued", dir, sizeof(dir));
  const char *short_days[] = {"--tls-days", "3", NULL};
  CHECK(it_pkid_start(&own, &own_db, dir, short_days));
  served_serial(&own, own.cacert, first, sizeof(first));
  CHECK(first[0] != '\0');
  // Recorded like every issuance: tomcat, by pkid itself, with its names.
  CHECK_EQ_INT(it_db_int(&own_db,
                         "SELECT count(*) FROM certificates WHERE serial = $1"
                         " AND profile = 'tomcat' AND requester LIKE 'pkid@%'"
                         " AND 'DNS:localhost' = ANY (sans) AND 'IP:127.0.0.1'"
                         " = ANY (sans)",
                         first),
               1);
  snprintf(
      cmd, sizeof(cmd),
      "openssl s_client -connect 127.0.0.1:%u -CAfile '%s' -verify_hostname"
      " localhost -verify_return_error < /dev/null > /dev/null 2>&1",
      own.port, own.cacert);
  CHECK_EQ_INT(it_run(cmd), 0);
  snprintf(cmd, sizeof(cmd),
           "openssl s_client -connect 127.0.0.1:%u < /dev/null 2>/dev/null |"
           " openssl x509 -noout -ext extendedKeyUsage | grep -c"
           " 'TLS Web Server Authentication'",
           own.port);
  CHECK(run_capture(cmd, out, sizeof(out)) == 0 && strcmp(out, "1") == 0);
  // A restart serves the same certificate while it is fresh...
  CHECK_EQ_INT(it_pkid_stop(&own), 0);
  CHECK(it_pkid_start(&own, &own_db, own.data_dir, short_days));
  served_serial(&own, own.cacert, again, sizeof(again));
  CHECK_EQ_STR(again, first);
  // ...and a new one once less than a third of its validity is left: 3
  // days of 30.
  CHECK_EQ_INT(it_pkid_stop(&own), 0);
  const char *long_days[] = {"--tls-days", "30", NULL};
  CHECK(it_pkid_start(&own, &own_db, own.data_dir, long_days));
  served_serial(&own, own.cacert, renewed, sizeof(renewed));
  CHECK(renewed[0] != '\0' && strcmp(renewed, first) != 0);
  snprintf(cmd, sizeof(cmd), "ls '%s/tls' | grep -c '^api-'", own.data_dir);
  CHECK(run_capture(cmd, out, sizeof(out)) == 0 && strcmp(out, "2") == 0);
  CHECK_EQ_INT(it_db_int(&own_db,
                         "SELECT count(*) FROM certificates WHERE profile ="
                         " 'tomcat' AND requester LIKE 'pkid@%'",
                         NULL),
               2);
  CHECK_EQ_INT(it_pkid_stop(&own), 0);
  // --insecure-http: plain HTTP, and a warning.
  const char *plain[] = {"--insecure-http", NULL};
  CHECK(it_pkid_start(&own, &own_db, own.data_dir, plain));
  CHECK(strncmp(own.server, "http://", 7) == 0);
  pki_client *client = it_client(&own);
  pki_reply reply;
  CHECK(client != NULL &&
        pki_client_call(client, "GET", "/v1/ca?format=text", NULL, NULL, 0,
                        &reply) &&
        reply.status == 200);
  pki_reply_cleanup(&reply);
  pki_client_free(client);
  snprintf(cmd, sizeof(cmd), "grep -c 'insecure-http' '%s'", own.log);
  CHECK(run_capture(cmd, out, sizeof(out)) == 0 && atoi(out) >= 1);
  CHECK_EQ_INT(it_pkid_stop(&own), 0);
  it_db_drop(&own_db);
}

int main(void) {
  it_db_create(&db);
  it_tmpdir("security", work, sizeof(work));
  char dir[600];
  snprintf(dir, sizeof(dir), "%s/pkid", work);
  mkdir(work, 0700);
  if (!it_pkid_start(&pkid, &db, dir, NULL)) {
    it_db_drop(&db);
    return 1;
  }
  RUN(plain_http_and_old_tls_are_refused);
  RUN(public_routes_need_no_credential_and_the_rest_401);
  RUN(roles_and_profiles_are_enforced);
  RUN(a_revoked_token_stops_at_once);
  RUN(client_certificates_carry_their_role);
  RUN(the_allowlist_changes_at_run_time);
  RUN(the_first_admin_token_and_pkid_token_create);
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  RUN(pkid_issues_its_own_certificate_and_renews_it);
  it_db_drop(&db);
  return test_summary();
}
