// pkid's limits against a real pkid started with small ones: a body over
// --max-body-bytes (declared and streamed), a batch over --max-batch-items,
// a CSR over --max-csr-bytes, more SANs than --max-sans, a client trickling
// its body or stalling past --request-timeout while others are served,
// headers past --max-header-bytes, connections past
// --max-connections-per-ip, and flag values out of range refused at start;
// and a client whose kept connection pkid closed for --connection-timeout
// sends its next call, large body or none, on a new one.
// Each refusal is checked for its HTTP status and stable error code, and
// each limit also for the value just inside it, so that a limit applied at
// the wrong value fails.
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/client/client.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

// The limits pkid runs with here.
#define MAX_BODY 65536
#define MAX_ITEMS 5
#define MAX_CSR 1024
#define MAX_SANS 4
#define REQUEST_TIMEOUT_S 3
#define MAX_HEADER 8192

static it_db db;
static it_pkid pkid;
static pki_client *client;
static char dir[512];

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

// expect posts |body| to |path| and checks the status and the error code
// of the answer (NULL for none: a success).
static void expect(const char *path, const char *content_type,
                   const uint8_t *body, size_t len, long want_status,
                   const char *want_code) {
  pki_reply reply;
  CHECK(pki_client_call(client, "POST", path, content_type, body, len, &reply));
  if (reply.status != want_status) {
    char text[512];
    pki_reply_error_text(&reply, text, sizeof(text));
    fprintf(stderr, "%s: got %ld (%s), want %ld\n", path, reply.status, text,
            want_status);
  }
  CHECK_EQ_INT(reply.status, want_status);
  if (want_code != NULL) {
    char text[512];
    pki_reply_error_text(&reply, text, sizeof(text));
    if (strncmp(text, want_code, strlen(want_code)) != 0 ||
        text[strlen(want_code)] != ':') {
      fprintf(stderr, "%s: got \"%s\", want %s\n", path, text, want_code);
      CHECK(0);
    }
  }
  pki_reply_cleanup(&reply);
}

// padded_message returns a protobuf message of exactly |len| bytes (at
// least 4) holding one unknown field (15, bytes) and nothing else: a
// BatchIssueRequest without items.
static uint8_t *padded_message(size_t len) {
  uint8_t *m = calloc(1, len);
  CHECK(m != NULL && len >= 4 && len - 4 < (1u << 21));
  const size_t payload = len - 4;  // tag, 3-byte varint length
  m[0] = (15 << 3) | 2;
  m[1] = (uint8_t)(0x80 | (payload & 0x7f));
  m[2] = (uint8_t)(0x80 | ((payload >> 7) & 0x7f));
  m[3] = (uint8_t)(payload >> 14);
  return m;
}

TEST(body_over_max_body_bytes) {
  // At the limit, the body is read and decoded: it holds no items.
  uint8_t *at = padded_message(MAX_BODY);
  expect("/v1/certificates:batchIssue", "application/x-protobuf", at, MAX_BODY,
         400, "BATCH_EMPTY");
  free(at);
  // One byte more is refused from its Content-Length.
  uint8_t *over = padded_message(MAX_BODY + 1);
  expect("/v1/certificates:batchIssue", "application/x-protobuf", over,
         MAX_BODY + 1, 413, "BODY_TOO_LARGE");
  // Calls whose own limit is larger (a bulk import takes 16 MiB) take no
  // more than --max-body-bytes either.
  expect("/v1/bulk/import", "application/x-protobuf", over, MAX_BODY + 1, 413,
         "BODY_TOO_LARGE");
  // Streamed without a length (chunked), it is refused as it arrives.
  char path[600], out[600], cmd[4096];
  snprintf(path, sizeof(path), "%s/over.bin", dir);
  snprintf(out, sizeof(out), "%s/over.out", dir);
  CHECK(it_write_file(path, over, MAX_BODY + 1));
  free(over);
  snprintf(cmd, sizeof(cmd),
           "curl %s -o %s -w '%%{http_code}' -H 'Transfer-Encoding: chunked' "
           "-H 'Content-Type: application/x-protobuf' --data-binary @%s "
           "'%s/v1/certificates:batchIssue' > %s.code",
           pkid.curl, out, path, pkid.server, out);
  CHECK_EQ_INT(it_run(cmd), 0);
  snprintf(cmd, sizeof(cmd),
           "grep -qx 413 %s.code && grep -q BODY_TOO_LARGE %s", out, out);
  CHECK_EQ_INT(it_run(cmd), 0);
  // POST /v1/sign takes twice --max-csr-bytes (a PEM CSR).
  uint8_t *pem = calloc(1, 2 * MAX_CSR + 1);
  memset(pem, 'A', 2 * MAX_CSR + 1);
  expect("/v1/sign?profile=tomcat", "application/pkcs10", pem, 2 * MAX_CSR + 1,
         413, "BODY_TOO_LARGE");
  free(pem);
}

// batch_of posts |n| items made from |specs| (cycled) under |profile| and
// returns the decoded answer, or NULL.
static Pki__V1__BatchIssueResponse *batch_of(const char *profile,
                                             const test_csr_spec *specs,
                                             size_t n_specs, size_t n,
                                             long *out_status) {
  Pki__V1__IssueRequest *items = calloc(n, sizeof(*items));
  Pki__V1__IssueRequest **ptrs = calloc(n, sizeof(*ptrs));
  CHECK(items != NULL && ptrs != NULL);
  for (size_t i = 0; i < n; i++) {
    pki__v1__issue_request__init(&items[i]);
    size_t len;
    items[i].csr.data = test_make_csr(&specs[i % n_specs], &len, NULL);
    items[i].csr.len = len;
    CHECK(items[i].csr.data != NULL);
    ptrs[i] = &items[i];
  }
  Pki__V1__BatchIssueRequest req = PKI__V1__BATCH_ISSUE_REQUEST__INIT;
  req.profile = (char *)profile;
  req.n_items = n;
  req.items = ptrs;
  const size_t len = pki__v1__batch_issue_request__get_packed_size(&req);
  uint8_t *body = malloc(len);
  CHECK(body != NULL);
  pki__v1__batch_issue_request__pack(&req, body);
  pki_reply reply;
  Pki__V1__BatchIssueResponse *resp = NULL;
  *out_status = 0;
  if (pki_client_call(client, "POST", "/v1/certificates:batchIssue",
                      "application/x-protobuf", body, len, &reply)) {
    *out_status = reply.status;
    if (reply.status == 200) {
      resp = pki__v1__batch_issue_response__unpack(NULL, reply.body_len,
                                                   reply.body);
      CHECK(resp != NULL);
    } else {
      char text[512];
      pki_reply_error_text(&reply, text, sizeof(text));
      fprintf(stderr, "batch of %zu: %s\n", n, text);
    }
    pki_reply_cleanup(&reply);
  }
  free(body);
  for (size_t i = 0; i < n; i++) {
    OPENSSL_free(items[i].csr.data);
  }
  free(items);
  free(ptrs);
  return resp;
}

TEST(batch_over_max_batch_items) {
  const test_csr_spec spec = {.key = "EC-P256",
                              .subject = "/CN=batch.example.com"};
  long status;
  Pki__V1__BatchIssueResponse *resp =
      batch_of("tomcat-ECDSA", &spec, 1, MAX_ITEMS, &status);
  CHECK_EQ_INT(status, 200);
  CHECK(resp != NULL && resp->issued == MAX_ITEMS);
  pki__v1__batch_issue_response__free_unpacked(resp, NULL);
  const long long before =
      it_db_int(&db, "SELECT count(*) FROM certificates", NULL);
  // One more item: the whole batch is refused, nothing recorded.
  resp = batch_of("tomcat-ECDSA", &spec, 1, MAX_ITEMS + 1, &status);
  CHECK(resp == NULL);
  CHECK_EQ_INT(status, 413);
  CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM certificates", NULL),
               before);
  // The code, from a body counted before decoding.
  uint8_t body[2 * (MAX_ITEMS + 1)];
  for (size_t i = 0; i < MAX_ITEMS + 1; i++) {
    body[2 * i] = 0x12;  // items, length-delimited, empty
    body[2 * i + 1] = 0x00;
  }
  expect("/v1/certificates:batchIssue", "application/x-protobuf", body,
         sizeof(body), 413, "BATCH_TOO_LARGE");
}

// issue_expect posts one IssueRequest of |csr| and checks the answer.
static void issue_expect(const char *profile, const uint8_t *csr, size_t len,
                         long want_status, const char *want_code) {
  Pki__V1__IssueRequest req = PKI__V1__ISSUE_REQUEST__INIT;
  req.profile = (char *)profile;
  req.csr.data = (uint8_t *)csr;
  req.csr.len = len;
  const size_t body_len = pki__v1__issue_request__get_packed_size(&req);
  uint8_t *body = malloc(body_len);
  CHECK(body != NULL);
  pki__v1__issue_request__pack(&req, body);
  expect("/v1/certificates:issue", "application/x-protobuf", body, body_len,
         want_status, want_code);
  free(body);
}

TEST(csr_over_max_csr_bytes) {
  // An RSA-4096 request is about 1.1 KiB of DER, an RSA-2048 one 0.6 KiB.
  const test_csr_spec big_spec = {.key = "RSA-4096",
                                  .subject = "/CN=big.example.com"};
  const test_csr_spec small_spec = {.key = "RSA-2048",
                                    .subject = "/CN=small.example.com"};
  size_t big_len, small_len;
  uint8_t *big = test_make_csr(&big_spec, &big_len, NULL);
  uint8_t *small = test_make_csr(&small_spec, &small_len, NULL);
  CHECK(big != NULL && small != NULL);
  CHECK(big_len > MAX_CSR && big_len < 2 * MAX_CSR);
  CHECK(small_len <= MAX_CSR);
  issue_expect("tomcat", small, small_len, 200, NULL);
  issue_expect("tomcat", big, big_len, 413, "CSR_TOO_LARGE");
  // The same as PEM on POST /v1/sign, within that call's body limit.
  char *pem = test_pem_csr(big, big_len);
  CHECK(pem != NULL && strlen(pem) <= 2 * MAX_CSR);
  expect("/v1/sign?profile=tomcat", "application/pkcs10", (uint8_t *)pem,
         strlen(pem), 413, "CSR_TOO_LARGE");
  OPENSSL_free(pem);
  // In a batch, the large CSR fails its item only.
  const test_csr_spec mixed[] = {small_spec, big_spec};
  long status;
  Pki__V1__BatchIssueResponse *resp = batch_of("tomcat", mixed, 2, 2, &status);
  CHECK_EQ_INT(status, 200);
  CHECK(resp != NULL && resp->n_results == 2);
  if (resp != NULL && resp->n_results == 2) {
    CHECK(resp->results[0]->certificate != NULL);
    CHECK(resp->results[1]->error != NULL &&
          strcmp(resp->results[1]->error->code, "CSR_TOO_LARGE") == 0);
  }
  pki__v1__batch_issue_response__free_unpacked(resp, NULL);
  OPENSSL_free(big);
  OPENSSL_free(small);
}

TEST(sans_over_max_sans) {
  const test_csr_spec four = {
      .key = "EC-P256",
      .subject = "/CN=s1.example.com",
      .sans =
          "DNS:s1.example.com,DNS:s2.example.com,DNS:s3.example.com,"
          "IP:10.0.0.4"};
  const test_csr_spec five = {
      .key = "EC-P256",
      .subject = "/CN=s1.example.com",
      .sans =
          "DNS:s1.example.com,DNS:s2.example.com,DNS:s3.example.com,"
          "IP:10.0.0.4,DNS:s5.example.com"};
  size_t len4, len5;
  uint8_t *csr4 = test_make_csr(&four, &len4, NULL);
  uint8_t *csr5 = test_make_csr(&five, &len5, NULL);
  CHECK(csr4 != NULL && csr5 != NULL && len5 <= MAX_CSR);
  issue_expect("tomcat-ECDSA", csr4, len4, 200, NULL);
  issue_expect("tomcat-ECDSA", csr5, len5, 400, "SAN_TOO_MANY");
  OPENSSL_free(csr4);
  OPENSSL_free(csr5);
  // A key pki generates takes no more names than a CSR.
  const char *names[] = {"g1.example.com", "g2.example.com", "g3.example.com",
                         "g4.example.com", "g5.example.com"};
  Pki__V1__Subject subject = PKI__V1__SUBJECT__INIT;
  subject.common_name = "g1.example.com";
  Pki__V1__GenerateKeyRequest g = PKI__V1__GENERATE_KEY_REQUEST__INIT;
  g.profile = "tomcat-ECDSA";
  g.key_type = "EC-P256";
  g.subject = &subject;
  g.sans = (char **)names;
  for (size_t n = MAX_SANS; n <= MAX_SANS + 1; n++) {
    g.n_sans = n;
    const size_t len = pki__v1__generate_key_request__get_packed_size(&g);
    uint8_t *body = malloc(len);
    CHECK(body != NULL);
    pki__v1__generate_key_request__pack(&g, body);
    expect("/v1/keys:generate", "application/x-protobuf", body, len,
           n == MAX_SANS ? 200 : 400, n == MAX_SANS ? NULL : "SAN_TOO_MANY");
    free(body);
  }
}

TEST(headers_over_max_header_bytes) {
  // libmicrohttpd answers 431 itself; the request never reaches pkid's code.
  char *cmd = malloc(3 * MAX_HEADER);
  CHECK(cmd != NULL);
  for (int big = 0; big <= 1; big++) {
    const int n = big ? MAX_HEADER + 1024 : MAX_HEADER / 4;
    char *value = malloc((size_t)n + 1);
    CHECK(value != NULL);
    memset(value, 'x', (size_t)n);
    value[n] = '\0';
    snprintf(cmd, 3 * MAX_HEADER,
             "test \"$(curl %s -o /dev/null -w '%%{http_code}' "
             "-H 'X-Padding: %s' '%s/healthz')\" = %s",
             pkid.curl, value, pkid.server, big ? "431" : "200");
    CHECK_EQ_INT(it_run(cmd), 0);
    free(value);
  }
  free(cmd);
}

// healthy checks that pkid answers a request of another client now.
static void healthy(void) {
  pki_client *other = it_client(&pkid);
  CHECK(other != NULL);
  pki_reply reply;
  CHECK(pki_client_call(other, "GET", "/v1/ca", NULL, NULL, 0, &reply));
  CHECK_EQ_INT(reply.status, 200);
  pki_reply_cleanup(&reply);
  pki_client_free(other);
}

// wait_file waits up to |max_s| seconds for |path| to exist and returns
// the seconds waited, or -1.
static double wait_file(const char *path, double max_s) {
  const double start = now_s();
  struct stat st;
  while (now_s() - start < max_s) {
    if (stat(path, &st) == 0 && st.st_size > 0) {
      return now_s() - start;
    }
    usleep(50 * 1000);
  }
  return -1;
}

// slow_curl starts curl in the background on |args| (after pkid.curl),
// writing its HTTP code to NAME.code, its body to NAME.out and its exit
// status to NAME.rc under the test directory.
static void slow_curl(const char *name, const char *args) {
  char cmd[4096];
  snprintf(cmd, sizeof(cmd),
           "(curl %s -o %s/%s.out -w '%%{http_code}' %s > %s/%s.code; "
           "echo $? > %s/%s.rc) </dev/null 2>/dev/null &",
           pkid.curl, dir, name, args, dir, name, dir, name);
  CHECK_EQ_INT(it_run(cmd), 0);
}

// cut_off checks how the slow request |name| ended: 408 REQUEST_TIMEOUT, or
// a connection closed without an answer (what libmicrohttpd 0.9.75 does
// while a body is being read): curl fails, having seen no status or only
// "100 Continue".
static void cut_off(const char *name) {
  char cmd[2048];
  snprintf(cmd, sizeof(cmd),
           "cd %s && { grep -qx 408 %s.code && grep -q REQUEST_TIMEOUT %s.out; "
           "} || { ! grep -qx 0 %s.rc && grep -qxE '000|100' %s.code; }",
           dir, name, name, name, name);
  if (it_run(cmd) != 0) {
    snprintf(cmd, sizeof(cmd), "cd %s && head -c 300 %s.code %s.rc %s.out", dir,
             name, name, name);
    (void)it_run(cmd);
    CHECK(0);
  }
}

TEST(slow_client_is_cut_off_at_request_timeout) {
  // 60,000 bytes at 2,000 bytes/s would take 30 s: within the body limit,
  // far past the request timeout, and never idle long enough for the idle
  // timeout (pkid's default, 60 s) to close it.
  char path[600], rc[600], args[2048];
  snprintf(path, sizeof(path), "%s/slow.bin", dir);
  uint8_t *body = padded_message(60000);
  CHECK(it_write_file(path, body, 60000));
  free(body);
  snprintf(rc, sizeof(rc), "%s/trickle.rc", dir);
  snprintf(args, sizeof(args),
           "--limit-rate 2000 -H 'Content-Type: application/x-protobuf' "
           "--data-binary @%s '%s/v1/certificates:batchIssue'",
           path, pkid.server);
  const double start = now_s();
  slow_curl("trickle", args);
  // Meanwhile other clients are served at once.
  usleep(1000 * 1000);
  const double before = now_s();
  healthy();
  CHECK(now_s() - before < 1.0);
  const double waited = wait_file(rc, 4 * REQUEST_TIMEOUT_S);
  const double took = now_s() - start;
  CHECK(waited >= 0);
  fprintf(stderr, "trickling client ended after %.1f s\n", took);
  // curl learns that the connection was closed when it next sends, after
  // the pause of its --limit-rate: a few seconds after pkid closed it.
  CHECK(took >= REQUEST_TIMEOUT_S - 0.5 && took <= REQUEST_TIMEOUT_S + 5);
  cut_off("trickle");
  healthy();
}

// curl_socket_in checks whether a curl process has a TCP connection to
// pkid's API port in |state| (ss's name: established, close-wait).
static int curl_socket_in(const char *state) {
  char cmd[512];
  snprintf(cmd, sizeof(cmd),
           "ss -Htnp state %s '( dport = :%u )' | grep -q '\"curl\"'", state,
           pkid.port);
  return it_run(cmd) == 0;
}

TEST(stalled_client_is_cut_off_at_request_timeout) {
  // Headers, then no byte of the body: the idle timeout (60 s) would keep
  // the connection; the request timeout closes it. curl streams a FIFO
  // (chunked) whose writer sends nothing and holds it open 8 s. curl, blocked
  // reading the FIFO, only sees the closed connection after that, so the
  // moment pkid closes it is read from curl's socket: CLOSE-WAIT once pkid
  // has closed its end.
  char fifo[600], rc[600], cmd[2048], args[2048];
  snprintf(fifo, sizeof(fifo), "%s/stall.fifo", dir);
  snprintf(rc, sizeof(rc), "%s/stall.rc", dir);
  unlink(fifo);
  CHECK(mkfifo(fifo, 0600) == 0);
  snprintf(args, sizeof(args),
           "-X POST -T %s -H 'Content-Type: application/x-protobuf' "
           "'%s/v1/certificates:batchIssue'",
           fifo, pkid.server);
  const double start = now_s();
  slow_curl("stall", args);
  snprintf(cmd, sizeof(cmd),
           "sh -c 'exec 3>\"$0\"; exec sleep 8' "
           "%s </dev/null >/dev/null 2>&1 &",
           fifo);
  CHECK_EQ_INT(it_run(cmd), 0);
  usleep(1000 * 1000);
  CHECK(curl_socket_in("established"));
  CHECK(!curl_socket_in("close-wait"));
  healthy();
  while (now_s() - start < REQUEST_TIMEOUT_S + 1.5) {
    usleep(100 * 1000);
  }
  CHECK(curl_socket_in("close-wait"));
  CHECK(wait_file(rc, 12) >= 0);
  fprintf(stderr, "stalled client ended after %.1f s\n", now_s() - start);
  cut_off("stall");
  healthy();
}

// two_slow_then_turned_away restarts pkid with |flag| 2: two slow clients
// hold both connections, a third client is turned away, and is served once
// the two are cut off by the request timeout. Past --max-connections-per-ip
// libmicrohttpd accepts and closes the connection at once; past
// --max-connections it stops accepting, so the third waits in the kernel's
// listen queue, unanswered (|queued|).
static void two_slow_then_turned_away(const char *flag, int queued) {
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  const char *extra[] = {flag, "2", "--request-timeout", "4", NULL};
  CHECK(it_pkid_start(&pkid, &db, pkid.data_dir, extra));
  pki_client_free(client);
  client = it_client(&pkid);
  char path[600], args[2048], rc[600];
  snprintf(path, sizeof(path), "%s/slow.bin", dir);
  snprintf(args, sizeof(args),
           "--limit-rate 2000 -H 'Content-Type: application/x-protobuf' "
           "--data-binary @%s '%s/v1/certificates:batchIssue'",
           path, pkid.server);
  slow_curl("hold1", args);
  slow_curl("hold2", args);
  usleep(1500 * 1000);
  if (queued) {
    // Not answered within 2 s: curl gives up (exit 28, timeout).
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "curl %s --max-time 2 -o /dev/null '%s/healthz' 2>/dev/null; "
             "test $? = 28",
             pkid.curl, pkid.server);
    CHECK_EQ_INT(it_run(cmd), 0);
  } else {
    pki_client *third = it_client(&pkid);
    CHECK(third != NULL);
    pki_reply reply;
    const int answered =
        pki_client_call(third, "GET", "/healthz", NULL, NULL, 0, &reply);
    if (answered) {
      fprintf(stderr, "%s 2: a third connection was answered %ld\n", flag,
              reply.status);
      pki_reply_cleanup(&reply);
    }
    CHECK(!answered);
    pki_client_free(third);
  }
  snprintf(rc, sizeof(rc), "%s/hold2.rc", dir);
  CHECK(wait_file(rc, 10) >= 0);
  snprintf(rc, sizeof(rc), "%s/hold1.rc", dir);
  CHECK(wait_file(rc, 10) >= 0);
  healthy();
  snprintf(args, sizeof(args), "rm -f %s/hold1.* %s/hold2.*", dir, dir);
  CHECK_EQ_INT(it_run(args), 0);
}

TEST(connections_over_max_connections_per_ip) {
  two_slow_then_turned_away("--max-connections-per-ip", 0);
}

TEST(connections_over_max_connections) {
  two_slow_then_turned_away("--max-connections", 1);
}

// pkid_refuses runs pkid with one flag and checks it exits 2 with |message|
// on stderr, before touching the database.
static void pkid_refuses(const char *flag, const char *value,
                         const char *message) {
  char cmd[2048], err[600];
  snprintf(err, sizeof(err), "%s/flag.err", dir);
  snprintf(cmd, sizeof(cmd),
           "api/pkid --database postgresql://nowhere.invalid/x %s '%s' "
           "2> %s",
           flag, value, err);
  CHECK_EQ_INT(it_run(cmd), 2);
  snprintf(cmd, sizeof(cmd), "grep -qF -- '%s' %s", message, err);
  if (it_run(cmd) != 0) {
    fprintf(stderr, "%s %s: no \"%s\" in pkid's message\n", flag, value,
            message);
    CHECK(0);
  }
}

TEST(flags_out_of_range_exit_2) {
  pkid_refuses("--max-body-bytes", "4095",
               "--max-body-bytes must be 4096 to 268435456");
  pkid_refuses("--max-body-bytes", "-1",
               "--max-body-bytes must be 4096 to 268435456");
  pkid_refuses("--max-batch-items", "0",
               "--max-batch-items must be 1 to 100000");
  pkid_refuses("--max-batch-items", "100001",
               "--max-batch-items must be 1 to 100000");
  pkid_refuses("--max-csr-bytes", "65537",
               "--max-csr-bytes must be 256 to 65536");
  pkid_refuses("--max-csr-bytes", "255",
               "--max-csr-bytes must be 256 to 65536");
  pkid_refuses("--max-sans", "101", "--max-sans must be 1 to 100");
  pkid_refuses("--max-connections", "0",
               "--max-connections must be 1 to 65536");
  pkid_refuses("--max-connections-per-ip", "65537",
               "--max-connections-per-ip must be 0 to 65536");
  pkid_refuses("--connection-timeout", "3601",
               "--connection-timeout must be 1 to 3600");
  pkid_refuses("--request-timeout", "0", "--request-timeout must be 1 to 3600");
  pkid_refuses("--request-timeout", "10s",
               "--request-timeout must be 1 to 3600");
  pkid_refuses("--max-header-bytes", "1048577",
               "--max-header-bytes must be 4096 to 1048576");
  pkid_refuses("--max-header-bytes", " 8192",
               "--max-header-bytes must be 4096 to 1048576");
  pkid_refuses("--max-buffered-bytes", "65535",
               "--max-buffered-bytes must be 65536 to 17179869184");
  pkid_refuses("--max-buffered-bytes", "17179869185",
               "--max-buffered-bytes must be 65536 to 17179869184");
  // Never below one body of the largest size.
  char cmd[2048], err[600];
  snprintf(err, sizeof(err), "%s/flag.err", dir);
  snprintf(cmd, sizeof(cmd),
           "api/pkid --database postgresql://nowhere.invalid/x "
           "--max-body-bytes 1048576 --max-buffered-bytes 1048575 2> %s; "
           "test $? = 2 && grep -qF -- '--max-buffered-bytes must be at "
           "least --max-body-bytes (1048576)' %s",
           err, err);
  CHECK_EQ_INT(it_run(cmd), 0);
}

// revoke_unknown posts a batch of |n| revocations of serials pkid never
// issued (each refused NOT_FOUND, the batch answered 200): a large body.
static int revoke_unknown(size_t n) {
  Pki__V1__BatchRevokeItem *items = calloc(n, sizeof(*items));
  Pki__V1__BatchRevokeItem **ptrs = calloc(n, sizeof(*ptrs));
  char(*serials)[24] = calloc(n, sizeof(*serials));
  int ok = items != NULL && ptrs != NULL && serials != NULL;
  for (size_t i = 0; ok && i < n; i++) {
    snprintf(serials[i], sizeof(serials[i]), "7e57%016zx", i);
    pki__v1__batch_revoke_item__init(&items[i]);
    items[i].serial = serials[i];
    items[i].reason = 1;
    ptrs[i] = &items[i];
  }
  Pki__V1__BatchRevokeRequest req = PKI__V1__BATCH_REVOKE_REQUEST__INIT;
  req.items = ptrs;
  req.n_items = n;
  uint8_t *body = NULL;
  size_t len = 0;
  if (ok) {
    len = pki__v1__batch_revoke_request__get_packed_size(&req);
    body = malloc(len);
    ok = body != NULL;
  }
  pki_reply reply;
  memset(&reply, 0, sizeof(reply));
  if (ok) {
    pki__v1__batch_revoke_request__pack(&req, body);
    ok = pki_client_call(client, "POST", "/v1/certificates:batchRevoke",
                         "application/x-protobuf", body, len, &reply);
    if (!ok) {
      fprintf(stderr, "batchRevoke: %s\n", ca_err_get()->message);
    }
  }
  ok = ok && reply.status == 200;
  pki_reply_cleanup(&reply);
  free(body);
  free(serials);
  free(ptrs);
  free(items);
  return ok;
}

// A connection pkid closed for being idle (--connection-timeout) is not
// the caller's failure: the client's next call, a small GET or a large
// POST, is sent on a new connection.
TEST(call_after_idle_close_is_sent_on_a_new_connection) {
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  const char *extra[] = {"--connection-timeout", "1", NULL};
  CHECK(it_pkid_start(&pkid, &db, pkid.data_dir, extra));
  pki_client_free(client);
  client = it_client(&pkid);
  for (int round = 0; round < 3; round++) {
    pki_reply reply;
    CHECK(pki_client_call(client, "GET", "/v1/ca", NULL, NULL, 0, &reply));
    CHECK_EQ_INT(reply.status, 200);
    pki_reply_cleanup(&reply);
    usleep(2200 * 1000);  // past the idle timeout: pkid closes
    CHECK(revoke_unknown(5000));
    usleep(2200 * 1000);
  }
}

int main(void) {
  it_db_create(&db);
  it_tmpdir("limits", dir, sizeof(dir));
  char cmd[600];
  snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir -p %s", dir, dir);
  CHECK_EQ_INT(it_run(cmd), 0);
  char data_dir[600];
  snprintf(data_dir, sizeof(data_dir), "%s/var", dir);
  char body[16], items[16], csr[16], sans[16], timeout[16], header[16];
  snprintf(body, sizeof(body), "%d", MAX_BODY);
  snprintf(items, sizeof(items), "%d", MAX_ITEMS);
  snprintf(csr, sizeof(csr), "%d", MAX_CSR);
  snprintf(sans, sizeof(sans), "%d", MAX_SANS);
  snprintf(timeout, sizeof(timeout), "%d", REQUEST_TIMEOUT_S);
  snprintf(header, sizeof(header), "%d", MAX_HEADER);
  const char *extra[] = {"--max-body-bytes",
                         body,
                         "--max-batch-items",
                         items,
                         "--max-csr-bytes",
                         csr,
                         "--max-sans",
                         sans,
                         "--request-timeout",
                         timeout,
                         "--max-header-bytes",
                         header,
                         "--keypool",
                         "none",
                         NULL};
  if (!it_pkid_start(&pkid, &db, data_dir, extra)) {
    it_db_drop(&db);
    return 1;
  }
  client = it_client(&pkid);
  CHECK(client != NULL);
  RUN(body_over_max_body_bytes);
  RUN(batch_over_max_batch_items);
  RUN(csr_over_max_csr_bytes);
  RUN(sans_over_max_sans);
  RUN(headers_over_max_header_bytes);
  RUN(slow_client_is_cut_off_at_request_timeout);
  RUN(stalled_client_is_cut_off_at_request_timeout);
  RUN(flags_out_of_range_exit_2);
  RUN(connections_over_max_connections_per_ip);
  RUN(connections_over_max_connections);
  RUN(call_after_idle_close_is_sent_on_a_new_connection);
  pki_client_free(client);
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  it_db_drop(&db);
  return test_summary();
}
