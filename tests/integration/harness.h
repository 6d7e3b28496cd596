// Integration-test support: a database of its own on the test PostgreSQL
// (PKI_TEST_DATABASE_URL, set by bazel/pki test) and a real pkid process.
// Nothing here mocks anything: a test that cannot reach PostgreSQL fails.
#ifndef PKI_TESTS_INTEGRATION_HARNESS_H
#define PKI_TESTS_INTEGRATION_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "api/client/client.h"
#include "ca/store/pq.h"

typedef struct it_db {
  char name[64];
  char url[1024];
  char maintenance[1024];  // the server's database this one was made from
} it_db;

// it_db_create creates an empty database named after the test and fills
// |db|. It exits the test (status 1) when PKI_TEST_DATABASE_URL is unset or
// the server cannot be reached: integration tests never skip.
void it_db_create(it_db *db);

// it_db_create_on is it_db_create on the server of |maintenance_url| (a
// postgresql:// URL), for the benchmarks.
void it_db_create_on(const char *maintenance_url, it_db *db);

// it_db_drop drops the database, disconnecting anyone still on it.
void it_db_drop(const it_db *db);

// it_db_admin runs |sql| on the maintenance database (e.g. ALTER DATABASE)
// and returns 1 on success.
int it_db_admin(const char *sql);

// it_db_int runs a query returning one integer on |db| and returns it, or
// -1 on error. |param| ($1) may be NULL.
long long it_db_int(const it_db *db, const char *sql, const char *param);

// it_db_query runs |sql| with up to 2 text parameters and returns the
// result (PQclear it), or NULL after reporting the error.
PGresult *it_db_query(const it_db *db, const char *sql, const char *p1,
                      const char *p2);

// An it_pkid starts zeroed (static, "= {0}" or memset): it_pkid_start reads
// self_issued_tls from it, and an uninitialized one on the stack let pkid
// issue its own TLS certificate or not by chance, one certificate more or
// less in a test's or bench's counts.
typedef struct it_pkid {
  // Set before it_pkid_start: serve the certificate pkid issues itself (in
  // DATA_DIR/tls, recorded like any issuance). Otherwise the harness brings
  // its own (--tls-cert/--tls-key, made with openssl beside the data dir),
  // as an operator may, so that a test's certificate counts are its own.
  int self_issued_tls;
  pid_t pid;
  unsigned port;
  unsigned ocsp_port;
  char server[64];  // "https://127.0.0.1:PORT" ("http://" with --insecure-http)
  char ocsp[64];    // its OCSP listener, "http://127.0.0.1:PORT"
  char data_dir[512];
  char log[600];
  // The admin token the harness calls with: DATA_DIR/admin.token written
  // at the database's first start, or one made with `pkid token create`
  // for a node that joins a database.
  char token[128];
  // The CA file clients trust: DATA_DIR/tls/ca.pem ("" for plain HTTP).
  char cacert[600];
  // pkictl's arguments to reach this pkid ("--server URL ..."), for
  // command lines.
  char ctl[1400];
  // curl's arguments to reach this pkid's API (credentials, trust), for
  // command lines: "curl %s URL".
  char curl[1400];
} it_pkid;

// it_client returns a client of |pkid|'s API, with the credentials the
// harness holds for it, or NULL. Free it with pki_client_free.
pki_client *it_client(const it_pkid *pkid);

// it_pkid_start runs api/pkid from the runfiles with |data_dir|, |db|, free
// ports (API and OCSP) and |extra| (NULL-terminated, may be NULL), and waits
// until it serves; then it fills the token and CA file of |pkid| (and
// |ctl|, |curl|). It returns 0 (after printing pkid's log) if it does not
// start.
int it_pkid_start(it_pkid *pkid, const it_db *db, const char *data_dir,
                  const char *const *extra);

// it_pkid_external fills |pkid| to reach a pkid this process did not start
// (the benchmarks' --server): its API at |server|, with the token of
// PKI_TOKEN and the CA file of PKI_CACERT when they are set.
void it_pkid_external(it_pkid *pkid, const char *server);

// it_pkid_stop sends SIGTERM and waits; it returns pkid's exit status (128
// + the signal when a signal ended it), after printing pkid's log when that
// is not 0.
int it_pkid_stop(it_pkid *pkid);

// it_pkid_kill sends SIGKILL and waits.
void it_pkid_kill(it_pkid *pkid);

// it_free_port returns a loopback TCP port nobody listens on now (bound,
// then closed), or 0: for servers a test starts, or to reach nobody.
unsigned it_free_port(void);

// it_tmpdir returns $TEST_TMPDIR (or /tmp) joined with |name| into |out|.
void it_tmpdir(const char *name, char *out, size_t out_len);

// it_run runs a shell command line and returns its exit status; its output
// goes to the test log.
int it_run(const char *command);

// it_write_file writes |len| bytes to |path|; 1 on success.
int it_write_file(const char *path, const void *data, size_t len);

#endif  // PKI_TESTS_INTEGRATION_HARNESS_H
