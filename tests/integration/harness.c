#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *maintenance_url(void) {
  const char *url = getenv("PKI_TEST_DATABASE_URL");
  if (url == NULL || url[0] == '\0') {
    fprintf(stderr,
            "PKI_TEST_DATABASE_URL is not set: integration tests need a real "
            "PostgreSQL (run them through bazel/pki test)\n");
    exit(1);
  }
  return url;
}

static PGconn *connect_url(const char *url) {
  if (!ca_pq_load()) {
    fprintf(stderr, "%s\n", ca_err_get()->message);
    exit(1);
  }
  PGconn *conn = PQconnectdb(url);
  if (conn == NULL || PQstatus(conn) != CONNECTION_OK) {
    fprintf(stderr, "cannot connect to %s: %s\n", url,
            conn != NULL ? PQerrorMessage(conn) : "out of memory");
    exit(1);
  }
  return conn;
}

// url_with_db replaces the database of a postgresql:// URL.
static void url_with_db(const char *url, const char *db, char *out,
                        size_t out_len) {
  const char *scheme = strstr(url, "://");
  const char *path = scheme != NULL ? strchr(scheme + 3, '/') : NULL;
  if (path == NULL) {
    fprintf(stderr, "PKI_TEST_DATABASE_URL must be a postgresql:// URL\n");
    exit(1);
  }
  const char *query = strchr(path, '?');
  snprintf(out, out_len, "%.*s/%s%s", (int)(path - url), url, db,
           query != NULL ? query : "");
}

static int admin_on(const char *url, const char *sql);

int it_db_admin(const char *sql) {
  return admin_on(maintenance_url(), sql);
}

static int admin_on(const char *url, const char *sql) {
  PGconn *conn = connect_url(url);
  PGresult *res = PQexec(conn, sql);
  const ExecStatusType st = PQresultStatus(res);
  const int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  if (!ok) {
    fprintf(stderr, "admin SQL failed: %s: %s", sql, PQerrorMessage(conn));
  }
  PQclear(res);
  PQfinish(conn);
  return ok;
}

void it_db_create_on(const char *maintenance, it_db *db) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  snprintf(db->name, sizeof(db->name), "pki_it_%ld_%ld", (long)getpid(),
           (long)(ts.tv_nsec % 1000000));
  snprintf(db->maintenance, sizeof(db->maintenance), "%s", maintenance);
  char sql[128];
  snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db->name);
  if (!admin_on(maintenance, sql)) {
    exit(1);
  }
  url_with_db(maintenance, db->name, db->url, sizeof(db->url));
}

void it_db_create(it_db *db) {
  it_db_create_on(maintenance_url(), db);
}

void it_db_drop(const it_db *db) {
  char sql[128];
  snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
           db->name);
  (void)admin_on(db->maintenance, sql);
}

PGresult *it_db_query(const it_db *db, const char *sql, const char *p1,
                      const char *p2) {
  PGconn *conn = connect_url(db->url);
  const char *params[2] = {p1, p2};
  const int n = p2 != NULL ? 2 : p1 != NULL ? 1 : 0;
  PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(res) != PGRES_TUPLES_OK &&
      PQresultStatus(res) != PGRES_COMMAND_OK) {
    fprintf(stderr, "query failed: %s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
    res = NULL;
  }
  PQfinish(conn);
  return res;
}

long long it_db_int(const it_db *db, const char *sql, const char *param) {
  PGresult *res = it_db_query(db, sql, param, NULL);
  long long v = -1;
  if (res != NULL && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
    v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
  }
  PQclear(res);
  return v;
}

void it_tmpdir(const char *name, char *out, size_t out_len) {
  const char *tmp = getenv("TEST_TMPDIR");
  snprintf(out, out_len, "%s/%s", tmp != NULL ? tmp : "/tmp", name);
}

int it_write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    return 0;
  }
  const int ok = fwrite(data, 1, len, f) == len;
  return fclose(f) == 0 && ok;
}

int it_run(const char *command) {
  fflush(stdout);
  fflush(stderr);
  const int status = system(command);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void print_log(const it_pkid *pkid) {
  FILE *f = fopen(pkid->log, "r");
  if (f == NULL) {
    return;
  }
  char line[1024];
  fprintf(stderr, "--- pkid log %s ---\n", pkid->log);
  while (fgets(line, sizeof(line), f) != NULL) {
    fputs(line, stderr);
  }
  fclose(f);
}

// read_token reads the first line of |path| into |out|; 1 when it holds a
// token.
static int read_token(const char *path, char *out, size_t len) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    return 0;
  }
  const int got = fgets(out, (int)len, f) != NULL;
  fclose(f);
  out[strcspn(out, "\r\n")] = '\0';
  return got && out[0] != '\0';
}

// harness_tls_files makes, once, a self-signed certificate for localhost
// and 127.0.0.1 and its key (mode 0600) for pkid's --tls-cert/--tls-key.
static int harness_tls_files(const char *cert, const char *key) {
  if (access(cert, R_OK) == 0 && access(key, R_OK) == 0) {
    return 1;
  }
  char cmd[2000];
  snprintf(cmd, sizeof(cmd),
           "umask 077 && openssl req -x509 -newkey ec -pkeyopt"
           " ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=localhost"
           " -addext subjectAltName=DNS:localhost,IP:127.0.0.1"
           " -keyout '%s' -out '%s' 2>/dev/null && chmod 600 '%s'",
           key, cert, key);
  if (it_run(cmd) != 0) {
    fprintf(stderr, "harness: openssl cannot make a TLS certificate\n");
    return 0;
  }
  return 1;
}

// credentials gives |pkid| an admin token and the CA file of its API:
// |own_cert| when the harness brought it, else DATA_DIR/tls/ca.pem.
static int credentials(it_pkid *pkid, const it_db *db, int plain,
                       const char *own_cert) {
  char path[700];
  snprintf(path, sizeof(path), "%s/admin.token", pkid->data_dir);
  if (!read_token(path, pkid->token, sizeof(pkid->token))) {
    // A node joining a database whose first admin token another node
    // wrote: make one the way an operator would.
    char tmp[700], cmd[2400];
    snprintf(tmp, sizeof(tmp), "%s.harness-token", pkid->data_dir);
    snprintf(cmd, sizeof(cmd),
             "api/pkid token create --role admin --name harness"
             " --database '%s' > '%s' 2>> '%s'",
             db->url, tmp, pkid->log);
    if (it_run(cmd) != 0 ||
        !read_token(tmp, pkid->token, sizeof(pkid->token))) {
      fprintf(stderr, "harness: cannot make an admin token\n");
      return 0;
    }
  }
  pkid->cacert[0] = '\0';
  if (!plain && own_cert != NULL) {
    snprintf(pkid->cacert, sizeof(pkid->cacert), "%s", own_cert);
  } else if (!plain) {
    snprintf(pkid->cacert, sizeof(pkid->cacert), "%s/tls/ca.pem",
             pkid->data_dir);
  }
  snprintf(pkid->ctl, sizeof(pkid->ctl), "--server %s --token %s%s%s",
           pkid->server, pkid->token, plain ? "" : " --cacert ", pkid->cacert);
  snprintf(pkid->curl, sizeof(pkid->curl),
           "-sS -H 'Authorization: Bearer %s'%s%s", pkid->token,
           plain ? "" : " --cacert ", pkid->cacert);
  return 1;
}

int it_pkid_start(it_pkid *pkid, const it_db *db, const char *data_dir,
                  const char *const *extra) {
  char ready[600];
  // |data_dir| may be pkid->data_dir itself (a restart): copy through a
  // local buffer.
  char dir[sizeof(pkid->data_dir)];
  snprintf(dir, sizeof(dir), "%s", data_dir);
  memcpy(pkid->data_dir, dir, sizeof(dir));
  data_dir = pkid->data_dir;
  snprintf(ready, sizeof(ready), "%s.ready", data_dir);
  snprintf(pkid->log, sizeof(pkid->log), "%s.log", data_dir);
  unlink(ready);
  const char *argv[40] = {
      "api/pkid",   "--data-dir",     data_dir,      "--database",
      db->url,      "--listen",       "127.0.0.1:0", "--ready-file",
      ready,        "--http-threads", "4",           "--ocsp-listen",
      "127.0.0.1:0"};
  size_t argc = 13;
  int plain = 0, own = 0;
  for (size_t k = 0; extra != NULL && extra[k] != NULL; k++) {
    plain |= strcmp(extra[k], "--insecure-http") == 0;
    own |= strcmp(extra[k], "--tls-cert") == 0;
  }
  char tls_cert[620], tls_key[620];
  snprintf(tls_cert, sizeof(tls_cert), "%s.tls.pem", data_dir);
  snprintf(tls_key, sizeof(tls_key), "%s.tls.key", data_dir);
  if (!plain && !own && !pkid->self_issued_tls) {
    if (!harness_tls_files(tls_cert, tls_key)) {
      return 0;
    }
    argv[argc++] = "--tls-cert";
    argv[argc++] = tls_cert;
    argv[argc++] = "--tls-key";
    argv[argc++] = tls_key;
  }
  for (size_t i = 0; extra != NULL && extra[i] != NULL && argc < 39; i++) {
    argv[argc++] = extra[i];
  }
  argv[argc] = NULL;
  fflush(stdout);
  fflush(stderr);
  pkid->pid = fork();
  if (pkid->pid == 0) {
    const int fd = open(pkid->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  for (int i = 0; i < 600; i++) {
    FILE *f = fopen(ready, "r");
    if (f != NULL) {
      unsigned port = 0, ocsp_port = 0;
      const int got =
          fscanf(f, "api=127.0.0.1:%u ocsp=127.0.0.1:%u", &port, &ocsp_port);
      fclose(f);
      if (got == 2 && port > 0 && ocsp_port > 0) {
        pkid->port = port;
        pkid->ocsp_port = ocsp_port;
        snprintf(pkid->server, sizeof(pkid->server), "%s://127.0.0.1:%u",
                 plain ? "http" : "https", port);
        snprintf(pkid->ocsp, sizeof(pkid->ocsp), "http://127.0.0.1:%u",
                 ocsp_port);
        if (!credentials(pkid, db, plain,
                         !own && !pkid->self_issued_tls ? tls_cert : NULL)) {
          print_log(pkid);
          it_pkid_kill(pkid);
          return 0;
        }
        return 1;
      }
    }
    int status;
    if (waitpid(pkid->pid, &status, WNOHANG) == pkid->pid) {
      fprintf(stderr, "pkid exited during start (status %d)\n", status);
      print_log(pkid);
      pkid->pid = 0;
      return 0;
    }
    usleep(50 * 1000);
  }
  fprintf(stderr, "pkid did not become ready in 30 s\n");
  print_log(pkid);
  it_pkid_kill(pkid);
  return 0;
}

void it_pkid_external(it_pkid *pkid, const char *server) {
  const char *token = getenv("PKI_TOKEN");
  const char *cacert = getenv("PKI_CACERT");
  snprintf(pkid->server, sizeof(pkid->server), "%s", server);
  snprintf(pkid->token, sizeof(pkid->token), "%s", token != NULL ? token : "");
  snprintf(pkid->cacert, sizeof(pkid->cacert), "%s",
           cacert != NULL ? cacert : "");
  snprintf(pkid->ctl, sizeof(pkid->ctl), "--server %s --token %s%s%s", server,
           pkid->token, pkid->cacert[0] != '\0' ? " --cacert " : "",
           pkid->cacert);
}

int it_pkid_stop(it_pkid *pkid) {
  if (pkid->pid <= 0) {
    return -1;
  }
  kill(pkid->pid, SIGTERM);
  int status = 0;
  while (waitpid(pkid->pid, &status, 0) < 0 && errno == EINTR) {
  }
  pkid->pid = 0;
  const int rc =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  // A node that did not stop cleanly says why in its log, which the test's
  // temporary directory would otherwise take with it.
  if (rc != 0) {
    fprintf(stderr, "pkid exited with %d\n", rc);
    print_log(pkid);
  }
  return rc;
}

void it_pkid_kill(it_pkid *pkid) {
  if (pkid->pid <= 0) {
    return;
  }
  kill(pkid->pid, SIGKILL);
  while (waitpid(pkid->pid, NULL, 0) < 0 && errno == EINTR) {
  }
  pkid->pid = 0;
}

pki_client *it_client(const it_pkid *pkid) {
  pki_client *client = pki_client_new(pkid->server);
  if (client != NULL &&
      !pki_client_set_auth(client, pkid->token,
                           pkid->cacert[0] != '\0' ? pkid->cacert : NULL)) {
    pki_client_free(client);
    return NULL;
  }
  return client;
}

unsigned it_free_port(void) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(sa);
  unsigned port = 0;
  if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
      getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
    port = ntohs(sa.sin_port);
  }
  if (fd >= 0) {
    close(fd);
  }
  return port;
}
