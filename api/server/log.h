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

// api_log_limited is api_log for lines that clients can cause, one per
// connection or request: at most CA_LIMIT_LOG_BURST lines of |kind| (a
// fixed text naming what happened) per CA_LIMIT_LOG_INTERVAL_S seconds,
// then "suppressed K similar messages in the last S s: FIRST" once the
// interval is over (api/server/log_limit.h). Any thread.
void api_log_limited(const char *kind, api_log_level level, const char *fmt,
                     ...) __attribute__((format(printf, 3, 4)));

// api_log_flush_suppressed writes the summaries of the intervals that are
// over (with |all|, of every interval: at exit). pkid calls it every
// second, so that a summary comes even when no further line of its kind
// does.
void api_log_flush_suppressed(int all);

#endif  // PKI_API_LOG_H
