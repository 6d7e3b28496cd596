// What every module test shares: a database of its own on the test
// PostgreSQL (PKI_TEST_DATABASE_URL), brought to the state pkid reaches at
// its first start (migrations applied through the store, the CAs created
// through ca/issue/authority), and certificates issued through the real
// engine. Nothing is mocked: a test that cannot reach PostgreSQL fails, it
// never skips.
//
// tests/integration/harness.h has the same database helpers, but that
// library also brings the client library and is visible to the benchmarks
// only; these tests drive ca/ directly and need nothing above it.
#ifndef PKI_TESTS_MODULES_FIXTURE_H
#define PKI_TESTS_MODULES_FIXTURE_H

#include <openssl/base.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/issue/authority.h"
#include "ca/issue/engine.h"
#include "ca/issue/issue.h"
#include "ca/store/pq.h"
#include "ca/store/store.h"

typedef struct mod_db {
  char name[64];
  char url[1024];
  char maintenance[1024];
} mod_db;

// mod_db_create creates an empty database. It exits the test (status 1)
// when PKI_TEST_DATABASE_URL is unset or the server cannot be reached.
void mod_db_create(mod_db *db);

// mod_db_drop drops the database, disconnecting anyone still on it.
void mod_db_drop(const mod_db *db);

// mod_db_query runs |sql| with up to 2 text parameters on a connection of
// its own and returns the result (PQclear it), or NULL after reporting the
// error.
PGresult *mod_db_query(const mod_db *db, const char *sql, const char *p1,
                       const char *p2);

// mod_db_exec runs |sql| (a statement without result rows, or several) and
// returns 1 on success.
int mod_db_exec(const mod_db *db, const char *sql);

// mod_db_int runs a query returning one integer and returns it, or -1 on
// error or NULL.
long long mod_db_int(const mod_db *db, const char *sql, const char *p1,
                     const char *p2);

// mod_db_text copies the one text value a query returns into |out| and
// returns 1, or 0 on error, NULL or no row.
int mod_db_text(const mod_db *db, const char *sql, const char *p1,
                const char *p2, char *out, size_t out_len);

// mod_db_connect opens a connection of the caller's own (PQfinish it), or
// exits the test.
PGconn *mod_db_connect(const mod_db *db);

// mod_wait_notices reads the notifications |conn| (a connection that ran
// LISTEN) received on |channel| until |want| of them arrived or |timeout_ms|
// passed, and returns how many did (-1 when the connection failed). The
// payload of the last one goes to |last| when it is not NULL. A NOTIFY
// reaches a listener after its COMMIT returns, not with it: a test must
// wait for it rather than look once.
int mod_wait_notices(PGconn *conn, const char *channel, int want,
                     int timeout_ms, char *last, size_t last_len);

typedef struct mod_ca {
  mod_db db;
  char data_dir[512];
  ca_store *store;
  ca_authority *authority;
  ca_engine *engine;  // NULL until mod_ca_start_engine
} mod_ca;

// mod_ca_open makes a database for |name| and brings it to pkid's state
// after its first start (api/server/pkid.c): ca_store_open,
// ca_store_migrate, ca_authority_open with the default configuration and
// keys in a data directory of its own. It returns 1, or 0 with what failed
// printed; mod_ca_close cleans up either way.
int mod_ca_open(mod_ca *ca, const char *name, size_t connections);

// mod_ca_start_engine starts the engine with |workers| workers and the
// default queue and group sizes.
int mod_ca_start_engine(mod_ca *ca, size_t workers);

// mod_ca_close stops the engine, frees the authority and the store and
// drops the database. It accepts a half-opened |ca|.
void mod_ca_close(mod_ca *ca);

// mod_issue issues one certificate of |profile| for a new |key_spec| key
// ("EC-P256", "RSA-2048") with subject CN |cn| through the engine, and
// returns 1 when it was committed. |out| is filled either way; free it with
// ca_issued_cleanup.
int mod_issue(mod_ca *ca, const char *profile, const char *key_spec,
              const char *cn, ca_issued *out);

// mod_issuer_x509 returns |issuer|'s certificate as a BoringSSL X509
// (X509_free), or NULL.
X509 *mod_issuer_x509(const ca_issuer *issuer);

#endif  // PKI_TESTS_MODULES_FIXTURE_H
