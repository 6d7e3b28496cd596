#include "bench/proc_stat.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long long proc_cpu_ticks(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    return -1;
  }
  const size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  // After the parenthesised command name: state is field 3, utime field
  // 14, stime field 15 (proc(5)).
  const char *p = strrchr(buf, ')');
  long long utime = 0, stime = 0;
  if (p == NULL ||
      sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld",
             &utime, &stime) != 2) {
    return -1;
  }
  return utime + stime;
}

long proc_status_kb(pid_t pid, const char *name) {
  char path[64], line[256];
  snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
  FILE *f = fopen(path, "r");
  long kb = -1;
  const size_t n = strlen(name);
  while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, name, n) == 0 && line[n] == ':') {
      kb = strtol(line + n + 1, NULL, 10);
      break;
    }
  }
  if (f != NULL) {
    fclose(f);
  }
  return kb;
}

static int remove_entry(const char *path, const struct stat *st, int type,
                        struct FTW *ftw) {
  (void)st;
  (void)type;
  (void)ftw;
  return remove(path) == 0 ? 0 : -1;
}

void proc_remove_tree(const char *prog, const char *dir) {
  // Depth first, so that a directory is empty when its turn comes, and
  // without following links out of |dir|.
  if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
    fprintf(stderr, "%s: cannot remove %s: %s\n", prog, dir, strerror(errno));
  }
}
