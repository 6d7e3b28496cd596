// The expiry monitor against real pkid processes, a real PostgreSQL, a real
// SMTP server (aiosmtpd) and a real webhook receiver
// (monitor_receivers.py): bad configurations refused with their codes;
// GET /v1/monitor/expiring and /metrics over issued and trust-store
// certificates (revoked, renewed and long-expired ones left out); exactly
// one notice per certificate, window and destination — a second check, a
// second node on the same database and a restart send nothing again, a new
// window sends again; the e-mails and the webhook JSON list the right
// certificates; a webhook or an SMTP server that is down is counted and
// retried by the next check; and the background thread sends on its own and
// stops on SIGTERM. The receiver listens on loopback: its webhook is stored
// with the allow_private opt-in, shown redacted and kept whole when pkictl
// changes other settings.
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/mem.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/client/client.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

static it_db db;
static it_pkid node_a, node_b;
static pki_client *api_a;
static char recv_dir[512];
static pid_t receivers;
static unsigned smtp_port, hook_port;
// hook_url: the receiver's URL, on loopback (so stored with the
// allow_private opt-in); hook_shown: as pkid shows it (api_webhook_display).
static char hook_url[128], hook_shown[128], down_url_file[600];

// --- Receivers ---

static int start_receivers(void) {
  it_tmpdir("monitor-receivers", recv_dir, sizeof(recv_dir));
  char cmd[700], ready[600];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", recv_dir);
  CHECK_EQ_INT(it_run(cmd), 0);
  CHECK_EQ_INT(mkdir(recv_dir, 0700), 0);
  snprintf(ready, sizeof(ready), "%s/ready", recv_dir);
  snprintf(down_url_file, sizeof(down_url_file), "%s/down", recv_dir);
  fflush(stdout);
  fflush(stderr);
  receivers = fork();
  if (receivers == 0) {
    // Debian's interpreter: python3-aiosmtpd is installed for it.
    execl("/usr/bin/python3", "python3",
          "tests/integration/monitor_receivers.py", recv_dir, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 200; i++) {
    FILE *f = fopen(ready, "r");
    if (f != NULL) {
      const int got = fscanf(f, "smtp=%u webhook=%u", &smtp_port, &hook_port);
      fclose(f);
      if (got == 2) {
        snprintf(hook_url, sizeof(hook_url), "http://127.0.0.1:%u/hook",
                 hook_port);
        snprintf(hook_shown, sizeof(hook_shown),
                 "http://127.0.0.1:%u/\xe2\x80\xa6", hook_port);
        return 1;
      }
    }
    usleep(50 * 1000);
  }
  fprintf(stderr, "the receivers did not start\n");
  return 0;
}

static void stop_receivers(void) {
  if (receivers > 0) {
    kill(receivers, SIGTERM);
    waitpid(receivers, NULL, 0);
  }
}

// count_files counts the messages kept in |sub| (mail or hooks).
static int count_files(const char *sub) {
  char path[700];
  snprintf(path, sizeof(path), "%s/%s", recv_dir, sub);
  DIR *d = opendir(path);
  if (d == NULL) {
    return -1;
  }
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    const size_t len = strlen(e->d_name);
    n += len > 4 && (strcmp(e->d_name + len - 4, ".eml") == 0 ||
                     strcmp(e->d_name + len - 5, ".json") == 0);
  }
  closedir(d);
  return n;
}

// newest_file reads the file of |sub| with the highest number into a new
// string (free), or NULL.
static char *newest_file(const char *sub) {
  char path[800];
  snprintf(path, sizeof(path), "%s/%s", recv_dir, sub);
  DIR *d = opendir(path);
  if (d == NULL) {
    return NULL;
  }
  long best = 0;
  char name[256] = "";
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    const long n = strtol(e->d_name, NULL, 10);
    if (n > best && strstr(e->d_name, ".tmp") == NULL) {
      best = n;
      snprintf(name, sizeof(name), "%s", e->d_name);
    }
  }
  closedir(d);
  if (best == 0) {
    return NULL;
  }
  snprintf(path, sizeof(path), "%s/%s/%s", recv_dir, sub, name);
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return NULL;
  }
  char *text = calloc(1, 1 << 20);
  const size_t got = fread(text, 1, (1 << 20) - 1, f);
  text[got] = '\0';
  fclose(f);
  return text;
}

// mail_for reads the newest message delivered to |to| into a new string
// (free), or NULL.
static char *mail_for(const char *to) {
  char path[800], needle[128];
  snprintf(needle, sizeof(needle), "X-Envelope-To: %s\r\n", to);
  snprintf(path, sizeof(path), "%s/mail", recv_dir);
  DIR *d = opendir(path);
  if (d == NULL) {
    return NULL;
  }
  long best = 0;
  char *found = NULL;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    const long n = strtol(e->d_name, NULL, 10);
    if (n <= best || strstr(e->d_name, ".eml") == NULL) {
      continue;
    }
    snprintf(path, sizeof(path), "%s/mail/%s", recv_dir, e->d_name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
      continue;
    }
    char *text = calloc(1, 1 << 20);
    const size_t got = fread(text, 1, (1 << 20) - 1, f);
    text[got] = '\0';
    fclose(f);
    if (strstr(text, needle) != NULL) {
      free(found);
      found = text;
      best = n;
    } else {
      free(text);
    }
  }
  closedir(d);
  return found;
}

// --- The API ---

// issue issues a tomcat certificate for |cn| valid |days| days; its serial
// goes to |serial|.
static int issue(const char *cn, unsigned days, char serial[64]) {
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
  req.profile = "tomcat-ECDSA";
  req.csr.data = csr;
  req.csr.len = csr_len;
  req.validity_days = days;
  const size_t len = pki__v1__issue_request__get_packed_size(&req);
  uint8_t *body = malloc(len);
  pki__v1__issue_request__pack(&req, body);
  pki_reply reply;
  int ok = pki_client_call(api_a, "POST", "/v1/certificates:issue",
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
  const int ok = pki_client_call(api_a, "POST", path, "application/x-protobuf",
                                 body, len, &reply) &&
                 reply.status == 200;
  pki_reply_cleanup(&reply);
  return ok;
}

// trust_entry inserts a trust-store entry for |cn| expiring |days| days
// from now (negative: expired), revoked when |revoked|.
static int trust_entry(const char *cn, int days, int revoked) {
  char sql[1200], d[16];
  snprintf(d, sizeof(d), "%d", days);
  snprintf(sql, sizeof(sql),
           "INSERT INTO trust_entries (store, fingerprint, subject,"
           " subject_der, issuer, serial, common_name, key_type, key_bits,"
           " is_ca, not_before, not_after, der, source, cluster, node,"
           " purpose, revoked_at, revocation_reason, added_by)"
           " VALUES ('tomcat-trust', sha256(convert_to($1, 'UTF8')),"
           " 'CN=' || $1, convert_to($1, 'UTF8'), 'CN=Other Cluster CA',"
           " '0a0b', $1, 'RSA', 2048, false, now() - interval '400 days',"
           " now() + make_interval(days => $2::integer), '\\x3000'::bytea,"
           " 'bulk', 'cluster-2', $1, 'tomcat', %s, %s, 'test')",
           revoked ? "now()" : "NULL", revoked ? "1" : "NULL");
  PGresult *res = it_db_query(&db, sql, cn, d);
  CHECK(res != NULL);
  PQclear(res);
  return res != NULL;
}

// error_code reads the pki.v1.Error of a refused protobuf call.
static void error_code(const pki_reply *reply, char *out, size_t len) {
  out[0] = '\0';
  Pki__V1__Error *e =
      pki__v1__error__unpack(NULL, reply->body_len, reply->body);
  if (e != NULL) {
    snprintf(out, len, "%s", e->code);
  }
  pki__v1__error__free_unpacked(e, NULL);
}

// put_config sends |c| to |client| and returns the HTTP status; the error
// code goes to |code|.
static long put_config(pki_client *client, const Pki__V1__MonitorConfig *c,
                       char code[64]) {
  const size_t len = pki__v1__monitor_config__get_packed_size(c);
  uint8_t *body = malloc(len + 1);
  pki__v1__monitor_config__pack(c, body);
  pki_reply reply;
  long status = 0;
  code[0] = '\0';
  if (pki_client_call(client, "PUT", "/v1/monitor", "application/x-protobuf",
                      body, len, &reply)) {
    status = reply.status;
    if (status != 200) {
      error_code(&reply, code, 64);
    }
    pki_reply_cleanup(&reply);
  }
  free(body);
  return status;
}

static Pki__V1__MonitorConfig *get_config(pki_client *client) {
  pki_reply reply;
  Pki__V1__MonitorConfig *c = NULL;
  if (pki_client_call(client, "GET", "/v1/monitor", NULL, NULL, 0, &reply) &&
      reply.status == 200) {
    c = pki__v1__monitor_config__unpack(NULL, reply.body_len, reply.body);
  }
  pki_reply_cleanup(&reply);
  CHECK(c != NULL);
  return c;
}

typedef struct check_result {
  long http;
  int enabled;
  unsigned due, notified, already, failed, sent_messages, failed_messages;
  char errors[1024];
} check_result;

static check_result run_check(pki_client *client) {
  check_result out;
  memset(&out, 0, sizeof(out));
  pki_reply reply;
  CHECK(pki_client_call(client, "POST", "/v1/monitor:check", NULL, NULL, 0,
                        &reply));
  out.http = reply.status;
  Pki__V1__MonitorCheckResponse *r =
      reply.status == 200 ? pki__v1__monitor_check_response__unpack(
                                NULL, reply.body_len, reply.body)
                          : NULL;
  if (r != NULL) {
    out.enabled = r->enabled;
    out.due = r->due;
    out.notified = r->notified;
    out.already = r->already_notified;
    out.failed = r->failed;
    out.sent_messages = r->messages_sent;
    out.failed_messages = r->messages_failed;
    for (size_t i = 0; i < r->n_errors; i++) {
      strncat(out.errors, r->errors[i],
              sizeof(out.errors) - strlen(out.errors) - 1);
    }
  }
  CHECK(r != NULL);
  pki__v1__monitor_check_response__free_unpacked(r, NULL);
  pki_reply_cleanup(&reply);
  return out;
}

static int64_t floor_days(int64_t seconds) {
  return seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
}

// expiring lists the common names GET /v1/monitor/expiring?days=N answers,
// in order, joined by ','; the HTTP status is returned.
static long expiring(const char *days, char *names, size_t len) {
  char path[128];
  snprintf(path, sizeof(path), "/v1/monitor/expiring?days=%s", days);
  pki_reply reply;
  names[0] = '\0';
  CHECK(pki_client_call(api_a, "GET", path, NULL, NULL, 0, &reply));
  const long status = reply.status;
  Pki__V1__ExpiringResponse *r =
      status == 200
          ? pki__v1__expiring_response__unpack(NULL, reply.body_len, reply.body)
          : NULL;
  for (size_t i = 0; r != NULL && i < r->n_certificates; i++) {
    const Pki__V1__ExpiringCertificate *c = r->certificates[i];
    // Each row is internally consistent.
    CHECK(strcmp(c->kind, "identity") == 0 || strcmp(c->kind, "trust") == 0);
    CHECK(strcmp(c->kind, "trust") == 0
              ? strcmp(c->store, "tomcat-trust") == 0
              : strcmp(c->profile, "tomcat-ECDSA") == 0);
    // Whole days, rounded down; the server looked a moment earlier.
    const int64_t left = c->not_after - (int64_t)time(NULL);
    CHECK(c->days_left == floor_days(left) ||
          c->days_left == floor_days(left + 2));
    if (i > 0) {
      CHECK(r->certificates[i - 1]->not_after <= c->not_after);
      strncat(names, ",", len - strlen(names) - 1);
    }
    strncat(names, c->common_name, len - strlen(names) - 1);
  }
  pki__v1__expiring_response__free_unpacked(r, NULL);
  pki_reply_cleanup(&reply);
  return status;
}

// metric reads one value of /metrics (-1 when absent).
static long long metric(pki_client *client, const char *name) {
  pki_reply reply;
  long long v = -1;
  CHECK(pki_client_call(client, "GET", "/metrics", NULL, NULL, 0, &reply));
  char *text = malloc(reply.body_len + 1);
  memcpy(text, reply.body, reply.body_len);
  text[reply.body_len] = '\0';
  char needle[160];
  snprintf(needle, sizeof(needle), "\n%s ", name);
  const char *p = strstr(text, needle);
  if (p != NULL) {
    v = strtoll(p + strlen(needle), NULL, 10);
  }
  free(text);
  pki_reply_cleanup(&reply);
  return v;
}

// json_lists runs Python's json module over the newest webhook body and
// checks that its certificates are exactly |names| (comma-separated, in
// order) and each entry carries the documented fields.
static int json_lists(const char *names) {
  char *body = newest_file("hooks");
  if (body == NULL) {
    return 0;
  }
  // First line: the Content-Type the receiver saw.
  const int typed = strncmp(body, "application/json\n", 17) == 0;
  char path[700];
  snprintf(path, sizeof(path), "%s/last.json", recv_dir);
  const char *json = strchr(body, '\n');
  const int written =
      json != NULL && it_write_file(path, json + 1, strlen(json + 1));
  free(body);
  char cmd[3000];
  snprintf(cmd, sizeof(cmd),
           "/usr/bin/python3 -c 'import json, sys\n"
           "d = json.load(open(sys.argv[1]))\n"
           "c = d[\"certificates\"]\n"
           "assert d[\"event\"] == \"certificates_expiring\"\n"
           "assert d[\"count\"] == len(c)\n"
           "for e in c:\n"
           "  assert set(e) == {\"kind\", \"serial\", \"issuer\", \"profile\","
           " \"store\", \"common_name\", \"subject\", \"cluster\","
           " \"not_after\", \"days_left\", \"expired\"}, e\n"
           "  assert (e[\"kind\"] == \"trust\") == (e[\"store\"] is not None)\n"
           "  assert e[\"expired\"] == (e[\"days_left\"] < 0)\n"
           "  assert e[\"not_after\"].endswith(\"Z\")\n"
           "got = \",\".join(e[\"common_name\"] for e in c)\n"
           "assert got == sys.argv[2], (got, sys.argv[2])\n"
           "' '%s' '%s'",
           path, names);
  return typed && written && it_run(cmd) == 0;
}

// --- The tests ---

// What the fixtures below make, and what counts at start_days 30:
// today (1 day), soon (2), week (6), trust-10 (10 days), month (25);
// trust-expired (expired 3 days ago). Not counted: far (200 days),
// revoked, renew (renewed by a later one of the same name, which is
// itself far), trust-old (expired 40 days ago), trust-revoked.
static const char kDue[] =
    "trust-expired,today.example.com,soon.example.com,week.example.com,"
    "trust-10,month.example.com";
#define DUE_COUNT 6

TEST(fixtures) {
  char serial[64];
  CHECK(issue("today.example.com", 1, serial));
  CHECK(issue("soon.example.com", 2, serial));
  CHECK(issue("week.example.com", 6, serial));
  CHECK(issue("month.example.com", 25, serial));
  CHECK(issue("far.example.com", 200, serial));
  CHECK(issue("revoked.example.com", 3, serial));
  CHECK(revoke_cert(serial));
  CHECK(issue("renew.example.com", 4, serial));
  CHECK(issue("renew.example.com", 300, serial));
  CHECK(trust_entry("trust-expired", -3, 0));
  CHECK(trust_entry("trust-10", 10, 0));
  CHECK(trust_entry("trust-old", -40, 0));
  CHECK(trust_entry("trust-revoked", 5, 1));
  CHECK(trust_entry("trust-far", 100, 0));
}

TEST(bad_configurations_are_refused_with_codes) {
  char code[64];
  Pki__V1__MonitorConfig c = PKI__V1__MONITOR_CONFIG__INIT;
  char *emails[17], *hooks[1];
  c.enabled = 1;
  c.start_days = 30;
  c.frequency = "1d";
  c.frequency = "45d";
  CHECK_EQ_INT(put_config(api_a, &c, code), 400);
  CHECK_EQ_STR(code, "PARAMETER_INVALID");
  c.frequency = "30m";
  CHECK_EQ_INT(put_config(api_a, &c, code), 400);
  CHECK_EQ_STR(code, "PARAMETER_INVALID");
  c.frequency = "1d";
  c.start_days = 0;
  CHECK_EQ_INT(put_config(api_a, &c, code), 400);
  CHECK_EQ_STR(code, "PARAMETER_INVALID");
  c.start_days = 400;
  CHECK_EQ_INT(put_config(api_a, &c, code), 400);
  CHECK_EQ_STR(code, "PARAMETER_INVALID");
  c.start_days = 30;
  emails[0] = "not an address";
  c.emails = emails;
  c.n_emails = 1;
  CHECK_EQ_INT(put_config(api_a, &c, code), 400);
  CHECK_EQ_STR(code, "DESTINATION_INVALID");
  emails[0] = "ops@example.com\r\nRCPT TO:<x@example.com>";
  CHECK_EQ_INT(put_config(api_a, &c, code), 400);
  CHECK_EQ_STR(code, "DESTINATION_INVALID");
  for (int i = 0; i < 17; i++) {
    static char storage[17][32];
    snprintf(storage[i], sizeof(storage[i]), "ops%d@example.com", i);
    emails[i] = storage[i];
  }
  c.n_emails = 17;
  CHECK_EQ_INT(put_config(api_a, &c, code), 400);
  CHECK_EQ_STR(code, "DESTINATION_INVALID");
  c.n_emails = 0;
  hooks[0] = "ftp://127.0.0.1/hook";
  c.webhooks = hooks;
  c.n_webhooks = 1;
  CHECK_EQ_INT(put_config(api_a, &c, code), 400);
  CHECK_EQ_STR(code, "DESTINATION_INVALID");
  // The receiver's own URL, on loopback, without the opt-in.
  hooks[0] = hook_url;
  CHECK_EQ_INT(put_config(api_a, &c, code), 400);
  CHECK_EQ_STR(code, "DESTINATION_INVALID");
  // libcurl would call 127.0.0.2: refused even with the opt-in.
  Pki__V1__WebhookDestination d = PKI__V1__WEBHOOK_DESTINATION__INIT;
  Pki__V1__WebhookDestination *ds[1] = {&d};
  d.url = "http://127.0.0.1:1\\@127.0.0.2:2/";
  d.allow_private = 1;
  c.n_webhooks = 0;
  c.webhook_destinations = ds;
  c.n_webhook_destinations = 1;
  CHECK_EQ_INT(put_config(api_a, &c, code), 400);
  CHECK_EQ_STR(code, "DESTINATION_INVALID");
  d.url = "http://169.254.169.254/";
  CHECK_EQ_INT(put_config(api_a, &c, code), 400);
  CHECK_EQ_STR(code, "DESTINATION_INVALID");
  c.n_webhook_destinations = 0;
  c.smtp_port = 70000;
  CHECK_EQ_INT(put_config(api_a, &c, code), 400);
  CHECK_EQ_STR(code, "DESTINATION_INVALID");
  pki_reply reply;
  CHECK(pki_client_call(api_a, "PUT", "/v1/monitor", "application/x-protobuf",
                        (const uint8_t *)"\xff\xff\xff", 3, &reply));
  CHECK_EQ_INT(reply.status, 400);
  error_code(&reply, code, sizeof(code));
  CHECK_EQ_STR(code, "REQUEST_MALFORMED");
  pki_reply_cleanup(&reply);
  // Nothing of the refused ones was stored: still the defaults.
  Pki__V1__MonitorConfig *now = get_config(api_a);
  if (now != NULL) {
    CHECK(!now->enabled);
    CHECK_EQ_INT(now->start_days, 30);
    CHECK_EQ_STR(now->frequency, "1d");
    CHECK_EQ_INT(now->n_emails, 0);
    CHECK_EQ_STR(now->smtp_host, "localhost");
  }
  pki__v1__monitor_config__free_unpacked(now, NULL);
  // pkictl refuses the same way, with a non-zero status.
  char cmd[3000];
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s monitor set --webhook ftp://x 2>&1 | grep "
           "-q DESTINATION_INVALID && ! api/pkictl %s monitor set "
           "--frequency 31d",
           node_a.ctl, node_a.ctl);
  CHECK_EQ_INT(it_run(cmd), 0);
}

TEST(expiring_lists_issued_and_trust_certificates_by_expiry) {
  char names[2048];
  CHECK_EQ_INT(expiring("30", names, sizeof(names)), 200);
  CHECK_EQ_STR(names, kDue);
  CHECK_EQ_INT(expiring("7", names, sizeof(names)), 200);
  CHECK_EQ_STR(names,
               "trust-expired,today.example.com,soon.example.com,"
               "week.example.com");
  CHECK_EQ_INT(expiring("0", names, sizeof(names)), 200);
  CHECK_EQ_STR(names, "trust-expired");
  CHECK_EQ_INT(expiring("365", names, sizeof(names)), 200);
  CHECK_EQ_STR(names,
               "trust-expired,today.example.com,soon.example.com,"
               "week.example.com,trust-10,month.example.com,trust-far,"
               "far.example.com,renew.example.com");
  CHECK_EQ_INT(expiring("abc", names, sizeof(names)), 400);
  CHECK_EQ_INT(expiring("-1", names, sizeof(names)), 400);
  CHECK_EQ_INT(expiring("3651", names, sizeof(names)), 400);
  // The table of pkictl monitor expiring.
  char cmd[3000];
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s monitor expiring --days 7 > '%s/table' && "
           "test $(grep -c -e today.example.com -e soon.example.com -e "
           "week.example.com -e trust-expired '%s/table') = 4 && "
           "! grep -q month.example.com '%s/table'",
           node_a.ctl, recv_dir, recv_dir, recv_dir);
  CHECK_EQ_INT(it_run(cmd), 0);
}

TEST(metrics_count_expiring_certificates) {
  // /metrics serves the counts of the statistics snapshot: computed now.
  pki_reply reply;
  CHECK(pki_client_call(api_a, "POST", "/v1/stats:refresh", NULL, NULL, 0,
                        &reply));
  CHECK_EQ_INT(reply.status, 200);
  pki_reply_cleanup(&reply);
  CHECK_EQ_INT(metric(api_a, "pki_certificates_expiring{within=\"1d\"}"), 1);
  CHECK_EQ_INT(metric(api_a, "pki_certificates_expiring{within=\"7d\"}"), 3);
  CHECK_EQ_INT(metric(api_a, "pki_certificates_expiring{within=\"30d\"}"), 5);
  CHECK_EQ_INT(metric(api_a, "pki_certificates_expired"), 1);
}

TEST(a_disabled_monitor_sends_nothing) {
  const check_result r = run_check(api_a);
  CHECK_EQ_INT(r.http, 200);
  CHECK(!r.enabled);
  CHECK_EQ_INT(r.due, DUE_COUNT);
  CHECK_EQ_INT(r.notified, 0);
  CHECK_EQ_INT(count_files("mail") + count_files("hooks"), 0);
}

TEST(one_notice_per_certificate_window_and_destination) {
  // Configured with pkictl, read back over the API.
  char cmd[3000];
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s monitor set --enabled true --start-days 30 "
           "--frequency 1d --email ops@example.com --email "
           "oncall@example.com --webhook-allow-private %s --smtp-host "
           "127.0.0.1 "
           "--smtp-port %u --smtp-from pki@ca.example.com > /dev/null",
           node_a.ctl, hook_url, smtp_port);
  CHECK_EQ_INT(it_run(cmd), 0);
  Pki__V1__MonitorConfig *c = get_config(api_a);
  if (c != NULL) {
    CHECK(c->enabled);
    CHECK_EQ_INT(c->n_emails, 2);
    CHECK_EQ_INT(c->n_webhooks, 1);
    CHECK_EQ_INT(c->n_webhook_destinations, 1);
    if (c->n_webhooks == 1 && c->n_webhook_destinations == 1) {
      // Shown redacted, with its opt-in; stored whole.
      CHECK_EQ_STR(c->webhooks[0], hook_shown);
      CHECK_EQ_STR(c->webhook_destinations[0]->url, hook_shown);
      CHECK(c->webhook_destinations[0]->allow_private);
    }
    CHECK(!c->destinations_hidden);
    CHECK_EQ_INT(c->smtp_port, smtp_port);
    CHECK(strncmp(c->updated_by, "token:", 6) == 0);
  }
  pki__v1__monitor_config__free_unpacked(c, NULL);
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM monitor_destinations"
                         " WHERE kind = 'webhook' AND allow_private"
                         " AND address = $1",
                         hook_url),
               1);
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM audit_log WHERE action ="
                         " 'monitor.set'",
                         NULL),
               1);

  check_result r = run_check(api_a);
  CHECK(r.enabled);
  CHECK_EQ_INT(r.due, DUE_COUNT);
  CHECK_EQ_INT(r.notified, 3 * DUE_COUNT);
  CHECK_EQ_INT(r.already, 0);
  CHECK_EQ_INT(r.failed, 0);
  CHECK_EQ_INT(r.sent_messages, 3);
  CHECK_EQ_INT(count_files("mail"), 2);
  CHECK_EQ_INT(count_files("hooks"), 1);
  CHECK(json_lists(kDue));
  // Each address got its own message, listing the due certificates only.
  static const char *const kTo[] = {"ops@example.com", "oncall@example.com"};
  for (size_t i = 0; i < 2; i++) {
    char *mail = mail_for(kTo[i]);
    CHECK(mail != NULL);
    if (mail == NULL) {
      continue;
    }
    char to[96];
    snprintf(to, sizeof(to), "\r\nTo: %s\r\n", kTo[i]);
    CHECK(strstr(mail, to) != NULL);
    CHECK(strstr(mail, "\r\nFrom: pki@ca.example.com\r\n") != NULL);
    CHECK(strstr(mail, "\r\nDate: ") != NULL);
    CHECK(strstr(mail, "\r\nMessage-ID: <") != NULL);
    CHECK(strstr(mail,
                 "\r\nSubject: [pki] 6 certificates expire within 30 days or "
                 "have expired (1 expired)\r\n") != NULL);
    static const char *const kIn[] = {
        "today.example.com", "soon.example.com", "week.example.com",
        "month.example.com", "trust-10",         "- trust-expired: EXPIRED"};
    for (size_t j = 0; j < sizeof(kIn) / sizeof(kIn[0]); j++) {
      CHECK(strstr(mail, kIn[j]) != NULL);
    }
    static const char *const kOut[] = {"far.example.com", "revoked.example",
                                       "renew.example",   "trust-old",
                                       "trust-revoked",   "trust-far"};
    for (size_t j = 0; j < sizeof(kOut) / sizeof(kOut[0]); j++) {
      CHECK(strstr(mail, kOut[j]) == NULL);
    }
    free(mail);
  }
  // The same window again: nothing is sent.
  r = run_check(api_a);
  CHECK_EQ_INT(r.due, DUE_COUNT);
  CHECK_EQ_INT(r.notified, 0);
  CHECK_EQ_INT(r.already, 3 * DUE_COUNT);
  CHECK_EQ_INT(r.sent_messages, 0);
  CHECK_EQ_INT(count_files("mail"), 2);
  CHECK_EQ_INT(count_files("hooks"), 1);
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM monitor_notices"
                         " WHERE state = 'sent'",
                         NULL),
               3 * DUE_COUNT);
  CHECK_EQ_INT(metric(api_a, "pki_monitor_notices_total{outcome=\"sent\"}"),
               3 * DUE_COUNT);
  CHECK_EQ_INT(metric(api_a, "pki_monitor_messages_total{outcome=\"sent\"}"),
               3);
}

// copy_ca_keys gives node B the CA keys of node A.
static int copy_ca_keys(const char *from, const char *to) {
  char cmd[2400];
  snprintf(cmd, sizeof(cmd),
           "mkdir -p '%s/keys' && chmod 0700 '%s' '%s/keys' && "
           "cp -p '%s'/keys/rsa-*.key '%s'/keys/ec-*.key '%s/keys/'",
           to, to, to, from, from, to);
  return it_run(cmd) == 0;
}

TEST(a_second_node_and_a_restart_send_nothing_again) {
  const char *extra[] = {"--monitor", "off", "--node", "node-b", NULL};
  CHECK(copy_ca_keys(node_a.data_dir, node_b.data_dir));
  CHECK(it_pkid_start(&node_b, &db, node_b.data_dir, extra));
  pki_client *api_b = it_client(&node_b);
  check_result r = run_check(api_b);
  CHECK_EQ_INT(r.due, DUE_COUNT);
  CHECK_EQ_INT(r.notified, 0);
  CHECK_EQ_INT(r.already, 3 * DUE_COUNT);
  pki_client_free(api_b);
  CHECK_EQ_INT(it_pkid_stop(&node_b), 0);

  CHECK_EQ_INT(it_pkid_stop(&node_a), 0);
  const char *extra_a[] = {"--monitor", "off", NULL};
  CHECK(it_pkid_start(&node_a, &db, node_a.data_dir, extra_a));
  pki_client_free(api_a);
  api_a = it_client(&node_a);
  r = run_check(api_a);
  CHECK_EQ_INT(r.notified, 0);
  CHECK_EQ_INT(r.already, 3 * DUE_COUNT);
  CHECK_EQ_INT(count_files("mail"), 2);
  CHECK_EQ_INT(count_files("hooks"), 1);
}

TEST(a_new_certificate_is_announced_alone) {
  char serial[64];
  CHECK(issue("new.example.com", 12, serial));
  const check_result r = run_check(api_a);
  CHECK_EQ_INT(r.due, DUE_COUNT + 1);
  CHECK_EQ_INT(r.notified, 3);
  CHECK_EQ_INT(r.already, 3 * DUE_COUNT);
  CHECK(json_lists("new.example.com"));
  char *mail = mail_for("ops@example.com");
  CHECK(mail != NULL && strstr(mail,
                               "[pki] 1 certificate expires within 30 "
                               "days or has expired (0 expired)") != NULL);
  CHECK(mail != NULL && strstr(mail, "soon.example.com") == NULL);
  free(mail);
}

TEST(a_new_window_announces_again) {
  // What the previous window sent does not count in this one: pretend
  // everything so far was sent one window ago.
  PGresult *res = it_db_query(
      &db, "UPDATE monitor_notices SET window_no = window_no - 1", NULL, NULL);
  CHECK(res != NULL);
  PQclear(res);
  // A notice of 100 days ago is pruned by the check.
  res = it_db_query(&db,
                    "INSERT INTO monitor_notices (kind, cert_id, window_no,"
                    " destination, state, node, claimed_at) VALUES ('trust',"
                    " 999999, 1, 'mailto:old@example.com', 'sent', 'x',"
                    " now() - interval '100 days')",
                    NULL, NULL);
  CHECK(res != NULL);
  PQclear(res);
  const int mails = count_files("mail");
  const check_result r = run_check(api_a);
  CHECK_EQ_INT(r.notified, 3 * (DUE_COUNT + 1));
  CHECK_EQ_INT(count_files("mail"), mails + 2);
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM monitor_notices"
                         " WHERE cert_id = 999999",
                         NULL),
               0);
}

TEST(a_destination_that_is_down_fails_and_is_retried) {
  char serial[64];
  CHECK(issue("retry.example.com", 14, serial));
  CHECK(it_write_file(down_url_file, "", 0));
  const long long failed_before =
      metric(api_a, "pki_monitor_notices_total{outcome=\"failed\"}");
  const int hooks = count_files("hooks");
  check_result r = run_check(api_a);
  CHECK_EQ_INT(r.notified, 2);  // the two addresses
  CHECK_EQ_INT(r.failed, 1);    // the webhook
  CHECK_EQ_INT(r.failed_messages, 1);
  CHECK(strstr(r.errors, "NOTIFICATION_FAILED: ") == r.errors);
  CHECK(strstr(r.errors, hook_shown) != NULL &&
        strstr(r.errors, "503") != NULL);
  CHECK(strstr(r.errors, hook_url) == NULL);
  CHECK_EQ_INT(metric(api_a, "pki_monitor_notices_total{outcome=\"failed\"}"),
               failed_before + 1);
  CHECK_EQ_INT(metric(api_a, "pki_monitor_messages_total{outcome=\"failed\"}"),
               1);
  CHECK_EQ_INT(it_db_int(&db,
                         "SELECT count(*) FROM monitor_notices"
                         " WHERE state = 'failed' AND error LIKE '%503%'",
                         NULL),
               1);
  // pkictl monitor check says so with its exit status.
  char cmd[3000];
  snprintf(cmd, sizeof(cmd), "! api/pkictl %s monitor check", node_a.ctl);
  CHECK_EQ_INT(it_run(cmd), 0);
  // Back up: the next check sends the failed notice, and only it.
  CHECK_EQ_INT(unlink(down_url_file), 0);
  r = run_check(api_a);
  CHECK_EQ_INT(r.notified, 1);
  CHECK_EQ_INT(r.failed, 0);
  CHECK_EQ_INT(count_files("hooks"), hooks + 1);
  CHECK(json_lists("retry.example.com"));
  r = run_check(api_a);
  CHECK_EQ_INT(r.notified, 0);
}

static int set_smtp_port(unsigned port) {
  char cmd[3000];
  snprintf(cmd, sizeof(cmd),
           "api/pkictl %s monitor set --smtp-port %u > /dev/null", node_a.ctl,
           port);
  return it_run(cmd) == 0;
}

TEST(an_smtp_server_that_is_down_fails_and_is_retried) {
  char serial[64];
  CHECK(issue("mail-down.example.com", 16, serial));
  const unsigned dead = it_free_port();
  CHECK(dead != 0);
  CHECK(set_smtp_port(dead));
  const int mails = count_files("mail");
  check_result r = run_check(api_a);
  CHECK_EQ_INT(r.notified, 1);  // the webhook
  CHECK_EQ_INT(r.failed, 2);    // the two addresses
  CHECK_EQ_INT(r.failed_messages, 2);
  CHECK(strstr(r.errors, "NOTIFICATION_FAILED: mailto:ops@example.com: ") !=
        NULL);
  CHECK(strstr(r.errors, "NOTIFICATION_FAILED: mailto:oncall@example.com: ") !=
        NULL);
  CHECK(json_lists("mail-down.example.com"));
  CHECK_EQ_INT(count_files("mail"), mails);
  // The server is back: both addresses get the notice, and only it.
  CHECK(set_smtp_port(smtp_port));
  r = run_check(api_a);
  CHECK_EQ_INT(r.notified, 2);
  CHECK_EQ_INT(r.failed, 0);
  CHECK_EQ_INT(count_files("mail"), mails + 2);
  char *mail = mail_for("oncall@example.com");
  CHECK(mail != NULL && strstr(mail, "mail-down.example.com") != NULL);
  CHECK(mail != NULL && strstr(mail, "retry.example.com") == NULL);
  free(mail);
}

TEST(the_background_thread_checks_on_its_own_and_stops_on_sigterm) {
  char serial[64];
  CHECK(issue("thread.example.com", 15, serial));
  const int hooks = count_files("hooks");
  it_pkid node_c;
  memset(&node_c, 0, sizeof(node_c));
  it_tmpdir("monitor-c", node_c.data_dir, sizeof(node_c.data_dir));
  CHECK(copy_ca_keys(node_a.data_dir, node_c.data_dir));
  const char *extra[] = {"--monitor", "on",     "--monitor-first-check",
                         "1",         "--node", "node-c",
                         NULL};
  CHECK(it_pkid_start(&node_c, &db, node_c.data_dir, extra));
  int sent = 0;
  for (int i = 0; i < 200 && !sent; i++) {
    sent = count_files("hooks") > hooks;
    usleep(50 * 1000);
  }
  CHECK(sent);
  CHECK(json_lists("thread.example.com"));
  // The receiver keeps the body before it answers; the notice is recorded
  // sent after the answer.
  long long recorded = 0;
  for (int i = 0; i < 100 && recorded != 3; i++) {
    recorded = it_db_int(&db,
                         "SELECT count(*) FROM monitor_notices"
                         " WHERE node = 'node-c' AND state = 'sent'",
                         NULL);
    usleep(50 * 1000);
  }
  CHECK_EQ_INT(recorded, 3);
  CHECK_EQ_INT(it_pkid_stop(&node_c), 0);
}

int main(void) {
  it_db_create(&db);
  it_tmpdir("monitor-a", node_a.data_dir, sizeof(node_a.data_dir));
  it_tmpdir("monitor-b", node_b.data_dir, sizeof(node_b.data_dir));
  const char *extra[] = {"--monitor", "off", NULL};
  if (!start_receivers() ||
      !it_pkid_start(&node_a, &db, node_a.data_dir, extra)) {
    stop_receivers();
    it_db_drop(&db);
    return 1;
  }
  api_a = it_client(&node_a);
  RUN(fixtures);
  RUN(bad_configurations_are_refused_with_codes);
  RUN(expiring_lists_issued_and_trust_certificates_by_expiry);
  RUN(metrics_count_expiring_certificates);
  RUN(a_disabled_monitor_sends_nothing);
  RUN(one_notice_per_certificate_window_and_destination);
  RUN(a_second_node_and_a_restart_send_nothing_again);
  RUN(a_new_certificate_is_announced_alone);
  RUN(a_new_window_announces_again);
  RUN(a_destination_that_is_down_fails_and_is_retried);
  RUN(an_smtp_server_that_is_down_fails_and_is_retried);
  RUN(the_background_thread_checks_on_its_own_and_stops_on_sigterm);
  pki_client_free(api_a);
  CHECK_EQ_INT(it_pkid_stop(&node_a), 0);
  stop_receivers();
  it_db_drop(&db);
  return test_summary();
}
