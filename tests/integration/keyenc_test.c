// CA keys encrypted at rest against a real pkid on its own PostgreSQL
// database: a first start with PKI_KEY_PASSPHRASE writes every CA key and
// delegated OCSP responder key encrypted (PKCS#8 "ENCRYPTED PRIVATE KEY",
// readable by openssl pkey with the passphrase); a restart without the
// passphrase, with a wrong one, or with a passphrase file others may read
// is refused before anything is served; a restart with
// --key-passphrase-file holding the right one loads the same CAs and
// issues.
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/client/client.h"
#include "proto/pki.pb-c.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"
#include "tests/support/test.h"

static it_db db;
static char dir[512];
static const char kPassphrase[] = "tr0ub4dor&3 horse";

// issue_ok issues a tomcat-ECDSA certificate from |pkid| and returns 1 on
// 200.
static int issue_ok(const it_pkid *pkid) {
  const test_csr_spec spec = {.key = "EC-P256",
                              .subject = "/CN=keyenc.example.com/O=Example"};
  size_t csr_len;
  uint8_t *csr = test_make_csr(&spec, &csr_len, NULL);
  CHECK(csr != NULL);
  Pki__V1__IssueRequest req = PKI__V1__ISSUE_REQUEST__INIT;
  req.profile = "tomcat-ECDSA";
  req.csr.data = csr;
  req.csr.len = csr_len;
  const size_t len = protobuf_c_message_get_packed_size(&req.base);
  uint8_t *body = malloc(len + 1);
  protobuf_c_message_pack(&req.base, body);
  pki_client *client = it_client(pkid);
  pki_reply reply;
  int ok = pki_client_call(client, "POST", "/v1/certificates:issue",
                           "application/x-protobuf", body, len, &reply);
  if (ok) {
    ok = reply.status == 200;
    pki_reply_cleanup(&reply);
  }
  pki_client_free(client);
  free(body);
  OPENSSL_free(csr);
  return ok;
}

// log_mentions returns 1 when the log of |pkid| holds |text|.
static int log_mentions(const it_pkid *pkid, const char *text) {
  FILE *f = fopen(pkid->log, "r");
  if (f == NULL) {
    return 0;
  }
  static char buf[1 << 16];
  const size_t len = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[len] = '\0';
  return strstr(buf, text) != NULL;
}

// start starts pkid on |dir| with a fresh log, PKI_KEY_PASSPHRASE set to
// |env| (unset when NULL) and |extra| flags.
static int start(it_pkid *pkid, const char *env, const char *const *extra) {
  char log[600];
  snprintf(log, sizeof(log), "%s.log", dir);
  unlink(log);
  if (env != NULL) {
    setenv("PKI_KEY_PASSPHRASE", env, 1);
  } else {
    unsetenv("PKI_KEY_PASSPHRASE");
  }
  const int ok = it_pkid_start(pkid, &db, dir, extra);
  unsetenv("PKI_KEY_PASSPHRASE");
  return ok;
}

// count_key_files counts the files of keys/ matching |glob| whose first
// line is |first| and returns it; -1 on error.
static int count_key_files(const char *glob, const char *first) {
  char cmd[1400];
  snprintf(cmd, sizeof(cmd),
           "n=0; for f in %s/keys/%s; do [ -f \"$f\" ] || continue;"
           " [ \"$(head -n 1 \"$f\")\" = '%s' ] || exit 100; n=$((n+1));"
           " done; exit $n",
           dir, glob, first);
  return it_run(cmd);
}

static const char kEncrypted[] = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
static const char *const kDelegated[] = {"--keypool", "none", "--ocsp-signer",
                                         "delegated", NULL};

TEST(a_first_start_with_a_passphrase_writes_encrypted_keys) {
  it_pkid pkid = {0};
  CHECK(start(&pkid, kPassphrase, kDelegated));
  CHECK(issue_ok(&pkid));
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  // The four CA keys and the four responder keys, all encrypted.
  CHECK_EQ_INT(count_key_files("*-root.key", kEncrypted), 2);
  CHECK_EQ_INT(count_key_files("*-issuing.key", kEncrypted), 2);
  CHECK_EQ_INT(count_key_files("ocsp-*.key", kEncrypted), 4);
  CHECK(!log_mentions(&pkid, kPassphrase));
  // openssl reads them with the passphrase, and not without.
  char cmd[1400];
  snprintf(cmd, sizeof(cmd),
           "for f in %s/keys/*.key; do openssl pkey -in \"$f\" -noout"
           " -passin env:P || exit 1; done",
           dir);
  setenv("P", kPassphrase, 1);
  CHECK_EQ_INT(it_run(cmd), 0);
  setenv("P", "wrong", 1);
  CHECK(it_run(cmd) != 0);
  unsetenv("P");
}

TEST(a_restart_without_the_right_passphrase_is_refused) {
  it_pkid pkid = {0};
  CHECK_EQ_INT(start(&pkid, NULL, kDelegated), 0);
  CHECK(log_mentions(&pkid, "KEY_FILE") || log_mentions(&pkid, "passphrase"));
  CHECK(log_mentions(&pkid, "needs the key passphrase"));
  CHECK_EQ_INT(start(&pkid, "not the passphrase", kDelegated), 0);
  CHECK(log_mentions(&pkid, "wrong passphrase or damaged key"));
  // An empty passphrase is a configuration error.
  CHECK_EQ_INT(start(&pkid, "", kDelegated), 0);
  CHECK(log_mentions(&pkid, "PKI_KEY_PASSPHRASE is empty"));
  // A passphrase file others may read is refused, right passphrase or not.
  char file[600];
  snprintf(file, sizeof(file), "%s.pass", dir);
  unlink(file);
  char text[64];
  snprintf(text, sizeof(text), "%s\n", kPassphrase);
  CHECK(it_write_file(file, text, strlen(text)));
  CHECK(chmod(file, 0644) == 0);
  const char *extra[] = {"--keypool",
                         "none",
                         "--ocsp-signer",
                         "delegated",
                         "--key-passphrase-file",
                         file,
                         NULL};
  CHECK_EQ_INT(start(&pkid, NULL, extra), 0);
  CHECK(log_mentions(&pkid, "group or others"));
  CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM issuers", NULL), 4);
}

TEST(a_restart_with_the_passphrase_file_loads_the_same_cas) {
  char file[600];
  snprintf(file, sizeof(file), "%s.pass", dir);
  unlink(file);
  char text[64];
  snprintf(text, sizeof(text), "%s\n", kPassphrase);
  CHECK(it_write_file(file, text, strlen(text)));
  CHECK(chmod(file, 0600) == 0);
  const char *extra[] = {"--keypool",
                         "none",
                         "--ocsp-signer",
                         "delegated",
                         "--key-passphrase-file",
                         file,
                         NULL};
  it_pkid pkid = {0};
  // The flag wins over a (wrong) environment variable.
  CHECK(start(&pkid, "not the passphrase", extra));
  CHECK(issue_ok(&pkid));
  CHECK_EQ_INT(it_pkid_stop(&pkid), 0);
  CHECK_EQ_INT(it_db_int(&db, "SELECT count(*) FROM issuers", NULL), 4);
  // The responders' keys were found and used, not made again.
  CHECK_EQ_INT(count_key_files("ocsp-*.key", kEncrypted), 4);
  CHECK_EQ_INT(count_key_files("*.key", kEncrypted), 8);
}

int main(void) {
  it_db_create(&db);
  it_tmpdir("keyenc", dir, sizeof(dir));
  RUN(a_first_start_with_a_passphrase_writes_encrypted_keys);
  RUN(a_restart_without_the_right_passphrase_is_refused);
  RUN(a_restart_with_the_passphrase_file_loads_the_same_cas);
  it_db_drop(&db);
  return test_summary();
}
