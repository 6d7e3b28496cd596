#include "api/log.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "api/log_limit.h"
#include "ca/limits.h"

static void write_line(api_log_level level, const char *message) {
  static const char *const kLevels[] = {"INFO", "WARN", "ERROR"};
  char when[32];
  const time_t now = time(NULL);
  struct tm tm;
  if (gmtime_r(&now, &tm) == NULL ||
      strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    when[0] = '\0';
  }
  // One fprintf call per line keeps lines whole across threads.
  fprintf(stderr, "%s pkid %s %s\n", when, kLevels[level], message);
}

void api_log(api_log_level level, const char *fmt, ...) {
  char message[1024];
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(message, sizeof(message), fmt, ap);
  va_end(ap);
  write_line(level, message);
}

// --- Lines clients can cause ---

static api_log_limit g_limit = API_LOG_LIMIT_INIT(
    CA_LIMIT_LOG_BURST, (int64_t)CA_LIMIT_LOG_INTERVAL_S * 1000);

static int64_t monotonic_ms(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
    return 1;
  }
  // +1: 0 means "no window" to the limiter.
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1;
}

static void write_summary(const api_log_limit_summary *s) {
  api_log(API_LOG_WARN,
          "suppressed %llu similar messages in the last %lld s: %s",
          (unsigned long long)s->count, (long long)s->seconds, s->sample);
}

void api_log_limited(const char *kind, api_log_level level, const char *fmt,
                     ...) {
  char message[1024];
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(message, sizeof(message), fmt, ap);
  va_end(ap);
  const int64_t now = monotonic_ms();
  api_log_limit_summary summary;
  const int write = api_log_limit_admit(&g_limit, kind, message, now, &summary);
  if (summary.count > 0) {
    write_summary(&summary);
  }
  if (write) {
    write_line(level, message);
  }
}

void api_log_flush_suppressed(int all) {
  api_log_limit_summary out[8];
  size_t n;
  // Several rounds when many kinds ended at once.
  do {
    n = api_log_limit_flush(&g_limit, monotonic_ms(), all, out,
                            sizeof(out) / sizeof(out[0]));
    for (size_t i = 0; i < n; i++) {
      write_summary(&out[i]);
    }
  } while (n == sizeof(out) / sizeof(out[0]));
}
