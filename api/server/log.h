// Logging for pkid: one line per event on stderr, with a UTC timestamp.
// Private keys, tokens and request bodies are never logged (ARCHITECTURE.md
// invariant 7).
#ifndef PKI_API_LOG_H
#define PKI_API_LOG_H

typedef enum api_log_level {
  API_LOG_INFO,
  API_LOG_WARN,
  API_LOG_ERROR,
} api_log_level;

// api_log writes one line: "2026-11-25T01:02:03Z pkid LEVEL message".
void api_log(api_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif  // PKI_API_LOG_H
