// The process a benchmark runs, pkid: reading its CPU time and memory
// from /proc, and removing the directory it ran in.
#ifndef PKI_BENCH_PROC_STAT_H
#define PKI_BENCH_PROC_STAT_H

#include <sys/types.h>

// proc_cpu_ticks returns the user+system clock ticks (sysconf(_SC_CLK_TCK)
// per second) process |pid| has used, or -1.
long long proc_cpu_ticks(pid_t pid);

// proc_status_kb returns the value of a "Name:  N kB" line of
// /proc/PID/status (VmRSS, VmHWM, ...), or -1.
long proc_status_kb(pid_t pid, const char *name);

// proc_remove_tree deletes |dir| and everything below it: the directory a
// throwaway pkid ran in, its CA keys included. A failure is printed to
// stderr after |prog| ("bench", "soak"), and not fatal: the run's figures
// stand.
void proc_remove_tree(const char *prog, const char *dir);

#endif  // PKI_BENCH_PROC_STAT_H
