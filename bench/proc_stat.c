#include "bench/proc_stat.h"

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
