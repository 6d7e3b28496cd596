// The memory benchmark: a stream of CSRs through `pkictl batch` into a pkid
// this program starts, sampling pkid's resident memory as it goes. pkid
// holds at most the requests it is working on (the engine's bounded queue,
// one HTTP body per connection), so its RSS must stay flat whatever the
// number of certificates issued: run several rounds and compare them.
//
// bazel run -c opt //bench:batch_rss -- [--csrs N] [--rounds R] [--work DIR]
// (the CSR and certificate files go under DIR, /tmp by default)
// One JSON object per round on stdout.
#include <errno.h>
#include <fcntl.h>
#include <openssl/mem.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/proc_stat.h"
#include "tests/integration/harness.h"
#include "tests/support/csr_maker.h"

#define POOL 64

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_csrs(const char *dir, size_t n) {
  char *pem[POOL];
  for (int i = 0; i < POOL; i++) {
    char subject[64];
    snprintf(subject, sizeof(subject), "/CN=node%d.example.com/O=Bench", i);
    test_csr_spec spec = {.key = "EC-P256", .subject = subject};
    size_t len;
    uint8_t *der = test_make_csr(&spec, &len, NULL);
    pem[i] = der != NULL ? test_pem_csr(der, len) : NULL;
    OPENSSL_free(der);
    if (pem[i] == NULL) {
      return 0;
    }
  }
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    return 0;
  }
  int ok = 1;
  for (size_t i = 0; i < n && ok; i++) {
    char path[512];
    snprintf(path, sizeof(path), "%s/node%07zu.csr", dir, i);
    ok = it_write_file(path, pem[i % POOL], strlen(pem[i % POOL]));
  }
  for (int i = 0; i < POOL; i++) {
    OPENSSL_free(pem[i]);
  }
  return ok;
}

static pid_t run_pkictl(const it_pkid *pkid, const char *csr_dir,
                        const char *out_dir) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) {
      dup2(null_fd, 1);
      dup2(null_fd, 2);
    }
    execl("api/pkictl", "api/pkictl", "--server", pkid->server, "--token",
          pkid->token, "--cacert", pkid->cacert, "batch", "--profile",
          "tomcat-ECDSA", "--csr-dir", csr_dir, "--out-dir", out_dir,
          (char *)NULL);
    _exit(127);
  }
  return pid;
}

int main(int argc, char **argv) {
  size_t csrs = 100000;
  int rounds = 2;
  const char *database = getenv("DATABASE_URL");
  const char *work_base = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--csrs") == 0) {
      csrs = strtoul(argv[i + 1], NULL, 10);
    } else if (strcmp(argv[i], "--rounds") == 0) {
      rounds = atoi(argv[i + 1]);
    } else if (strcmp(argv[i], "--database") == 0) {
      database = argv[i + 1];
    } else if (strcmp(argv[i], "--work") == 0) {
      work_base = argv[i + 1];
    }
  }
  if (database == NULL || csrs == 0 || rounds <= 0) {
    fprintf(stderr,
            "usage: batch_rss --database URL [--csrs N] [--rounds R]\n");
    return 2;
  }
  char work[128], csr_dir[256], out_dir[256], data_dir[256], cmd[600];
  snprintf(work, sizeof(work), "%s/pki-rss-%ld", work_base, (long)getpid());
  snprintf(csr_dir, sizeof(csr_dir), "%s/csrs", work);
  snprintf(out_dir, sizeof(out_dir), "%s/out", work);
  snprintf(data_dir, sizeof(data_dir), "%s/data", work);
  if (mkdir(work, 0700) != 0 || !write_csrs(csr_dir, csrs)) {
    fprintf(stderr, "bench: cannot write the CSRs in %s\n", csr_dir);
    return 1;
  }
  it_db db;
  it_pkid pkid = {0};
  it_db_create_on(database, &db);
  const char *extra[] = {"--keypool", "none", NULL};
  if (!it_pkid_start(&pkid, &db, data_dir, extra)) {
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  for (int round = 1; round <= rounds; round++) {
    const long rss_start = proc_status_kb(pkid.pid, "VmRSS");
    const long long cpu_start = proc_cpu_ticks(pkid.pid);
    long rss_max = rss_start;
    const double t0 = now_s();
    const pid_t ctl = run_pkictl(&pkid, csr_dir, out_dir);
    int status = 0;
    while (waitpid(ctl, &status, WNOHANG) == 0) {
      const long rss = proc_status_kb(pkid.pid, "VmRSS");
      if (rss > rss_max) {
        rss_max = rss;
      }
      usleep(100 * 1000);
    }
    const double seconds = now_s() - t0;
    // pkid's own CPU time per certificate: wall-clock speed also depends on
    // pkictl writing files and on PostgreSQL, this does not.
    const double cpu_us = (double)(proc_cpu_ticks(pkid.pid) - cpu_start) * 1e6 /
                          (double)sysconf(_SC_CLK_TCK) / (double)csrs;
    const long long issued =
        it_db_int(&db, "SELECT count(*) FROM certificates", NULL);
    printf(
        "{\"bench\":\"batch_rss\",\"round\":%d,\"csrs\":%zu,"
        "\"pkictl_exit\":%d,\"issued_total\":%lld,\"seconds\":%.1f,"
        "\"certs_per_s\":%.0f,\"pkid_cpu_us_per_cert\":%.0f,"
        "\"rss_start_kb\":%ld,\"rss_max_kb\":%ld,"
        "\"rss_end_kb\":%ld,\"vm_hwm_kb\":%ld}\n",
        round, csrs, WIFEXITED(status) ? WEXITSTATUS(status) : -1, issued,
        seconds, (double)csrs / seconds, cpu_us, rss_start, rss_max,
        proc_status_kb(pkid.pid, "VmRSS"), proc_status_kb(pkid.pid, "VmHWM"));
    fflush(stdout);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", out_dir);
    if (system(cmd) != 0) {
      return 1;
    }
  }
  (void)it_pkid_stop(&pkid);
  it_db_drop(&db);
  snprintf(cmd, sizeof(cmd), "rm -rf %s", work);
  return system(cmd) == 0 ? 0 : 1;
}
