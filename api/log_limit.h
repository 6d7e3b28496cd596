// Rate limiting of repeated log lines: at most |burst| lines of one kind
// per interval; the others are counted, and once the interval is over one
// summary says how many were suppressed. Lines that any client can cause
// (a failed TLS handshake, a request cut off) go through it, so that a
// client cannot fill pkid's log.
//
// DESIGN: each kind has a fixed window that starts with its first line;
// kinds live in a small fixed table (a kind past it shares one slot with
// the other latecomers, still bounded). The time is passed in, so the
// decisions are testable without waiting; a mutex makes every call safe
// from any thread (libmicrohttpd logs from its thread pool).
#ifndef PKI_API_LOG_LIMIT_H
#define PKI_API_LOG_LIMIT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define API_LOG_LIMIT_KINDS 32
#define API_LOG_LIMIT_KIND_LEN 96
#define API_LOG_LIMIT_SAMPLE_LEN 160

typedef struct api_log_limit_slot {
  char kind[API_LOG_LIMIT_KIND_LEN];      // "" while the slot is free
  int64_t window_start_ms;                // 0: no window open
  unsigned written;                       // lines written in the window
  uint64_t suppressed;                    // lines suppressed in the window
  char sample[API_LOG_LIMIT_SAMPLE_LEN];  // the first line suppressed
} api_log_limit_slot;

typedef struct api_log_limit {
  pthread_mutex_t mu;
  unsigned burst;
  int64_t interval_ms;
  api_log_limit_slot slots[API_LOG_LIMIT_KINDS];
  api_log_limit_slot overflow;  // the kinds the table has no room for
} api_log_limit;

// A static initializer: API_LOG_LIMIT_INIT(5, 10000).
#define API_LOG_LIMIT_INIT(burst_, interval_ms_)        \
  {                                                     \
    .mu = PTHREAD_MUTEX_INITIALIZER, .burst = (burst_), \
    .interval_ms = (interval_ms_)                       \
  }

// What a window that ended suppressed: |count| lines of |kind| over
// |seconds|, the first of them |sample|.
typedef struct api_log_limit_summary {
  char kind[API_LOG_LIMIT_KIND_LEN];
  char sample[API_LOG_LIMIT_SAMPLE_LEN];
  uint64_t count;
  int64_t seconds;
} api_log_limit_summary;

// api_log_limit_admit decides whether the line |message| of |kind| (a
// fixed text naming what happened, e.g. libmicrohttpd's format string) is
// written at |now_ms| (a monotonic clock, > 0): 1 to write it, 0 when it
// is suppressed. When it opens a new window of |kind| and the previous one
// suppressed lines, |*summary| describes them (count > 0) and the caller
// writes the summary before the line; otherwise summary->count is 0.
int api_log_limit_admit(api_log_limit *limit, const char *kind,
                        const char *message, int64_t now_ms,
                        api_log_limit_summary *summary);

// api_log_limit_flush closes every window over at |now_ms| (with |all|,
// every open window: at exit) and writes the summaries of those that
// suppressed lines into |out| (at most |max|); it returns how many. A
// window it closes is reset, so the next line of its kind is written and
// opens a new one.
size_t api_log_limit_flush(api_log_limit *limit, int64_t now_ms, int all,
                           api_log_limit_summary *out, size_t max);

#endif  // PKI_API_LOG_LIMIT_H
