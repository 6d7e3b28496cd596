#include "api/server/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

void api_log(api_log_level level, const char *fmt, ...) {
  static const char *const kLevels[] = {"INFO", "WARN", "ERROR"};
  char when[32];
  const time_t now = time(NULL);
  struct tm tm;
  if (gmtime_r(&now, &tm) == NULL ||
      strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    when[0] = '\0';
  }
  char message[1024];
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(message, sizeof(message), fmt, ap);
  va_end(ap);
  // One fprintf call per line keeps lines whole across threads.
  fprintf(stderr, "%s pkid %s %s\n", when, kLevels[level], message);
}
