// Unit tests of api/log_limit.c: the burst per kind and interval, kinds
// counted apart, the summary of a window handed over by the next line of
// its kind or by a flush, the table full of kinds, and eight threads
// logging at once without losing count.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api/log_limit.h"
#include "tests/support/test.h"

#define BURST 5
#define INTERVAL_MS 10000

// admit_n offers |n| lines of |kind| at |now| and returns how many may be
// written; a summary handed over on the way is copied to |*summary|.
static unsigned admit_n(api_log_limit *l, const char *kind, unsigned n,
                        int64_t now, api_log_limit_summary *summary) {
  unsigned written = 0;
  for (unsigned i = 0; i < n; i++) {
    char message[64];
    snprintf(message, sizeof(message), "%s #%u", kind, i);
    api_log_limit_summary s;
    written += (unsigned)api_log_limit_admit(l, kind, message, now, &s);
    if (s.count > 0 && summary != NULL) {
      *summary = s;
    }
  }
  return written;
}

TEST(burst_then_suppressed_then_summary_on_next_line) {
  static api_log_limit l = API_LOG_LIMIT_INIT(BURST, INTERVAL_MS);
  api_log_limit_summary s = {.count = 0};
  // 100 lines within one window: five are written.
  CHECK_EQ_INT(admit_n(&l, "tls", 100, 1000, &s), BURST);
  CHECK_EQ_INT(s.count, 0);
  // Still inside the window (1 ms before its end): suppressed.
  CHECK_EQ_INT(admit_n(&l, "tls", 1, 1000 + INTERVAL_MS - 1, &s), 0);
  CHECK_EQ_INT(s.count, 0);
  // The first line after the window is written, with the summary of the
  // 96 lines suppressed before it, the first of them as the sample.
  CHECK_EQ_INT(admit_n(&l, "tls", 1, 1000 + INTERVAL_MS, &s), 1);
  CHECK_EQ_INT(s.count, 96);
  CHECK_EQ_INT(s.seconds, INTERVAL_MS / 1000);
  CHECK_EQ_STR(s.sample, "tls #5");
  CHECK_EQ_STR(s.kind, "tls");
  // The new window has its own burst.
  CHECK_EQ_INT(admit_n(&l, "tls", 10, 1000 + INTERVAL_MS + 1, NULL), BURST - 1);
}

TEST(kinds_are_counted_apart) {
  static api_log_limit l = API_LOG_LIMIT_INIT(BURST, INTERVAL_MS);
  CHECK_EQ_INT(admit_n(&l, "tls", 50, 1000, NULL), BURST);
  CHECK_EQ_INT(admit_n(&l, "timeout", 50, 1000, NULL), BURST);
  CHECK_EQ_INT(admit_n(&l, "storage", 1, 1000, NULL), 1);
}

TEST(flush_writes_summaries_of_windows_over) {
  static api_log_limit l = API_LOG_LIMIT_INIT(BURST, INTERVAL_MS);
  api_log_limit_summary out[4];
  CHECK_EQ_INT(admit_n(&l, "a", 8, 1000, NULL), BURST);
  CHECK_EQ_INT(admit_n(&l, "b", 3, 1000, NULL), 3);  // nothing suppressed
  CHECK_EQ_INT(admit_n(&l, "c", 7, 5000, NULL), BURST);
  // Before any window is over: nothing.
  CHECK_EQ_INT(api_log_limit_flush(&l, 1000 + INTERVAL_MS - 1, 0, out, 4), 0);
  // "a" is over (3 suppressed); "b" is over with none; "c" is not.
  CHECK_EQ_INT(api_log_limit_flush(&l, 1000 + INTERVAL_MS, 0, out, 4), 1);
  CHECK_EQ_STR(out[0].kind, "a");
  CHECK_EQ_INT(out[0].count, 3);
  // Flushed once only; the next "a" opens a new window and is written.
  CHECK_EQ_INT(api_log_limit_flush(&l, 1000 + INTERVAL_MS, 0, out, 4), 0);
  api_log_limit_summary s;
  CHECK_EQ_INT(
      api_log_limit_admit(&l, "a", "a again", 1000 + INTERVAL_MS + 1, &s), 1);
  CHECK_EQ_INT(s.count, 0);
  // At exit every window with suppressed lines is summarized, over or not.
  CHECK_EQ_INT(api_log_limit_flush(&l, 5001, 1, out, 4), 1);
  CHECK_EQ_STR(out[0].kind, "c");
  CHECK_EQ_INT(out[0].count, 2);
  CHECK_EQ_INT(out[0].seconds, 1);
  // |max| bounds what one call returns; the rest stays for the next.
  CHECK_EQ_INT(admit_n(&l, "d", 6, 20000, NULL), BURST);
  CHECK_EQ_INT(admit_n(&l, "e", 6, 20000, NULL), BURST);
  CHECK_EQ_INT(api_log_limit_flush(&l, 40000, 0, out, 1), 1);
  CHECK_EQ_INT(api_log_limit_flush(&l, 40000, 0, out, 1), 1);
  CHECK_EQ_INT(api_log_limit_flush(&l, 40000, 0, out, 1), 0);
}

TEST(more_kinds_than_the_table_share_one_bound) {
  static api_log_limit l = API_LOG_LIMIT_INIT(BURST, INTERVAL_MS);
  for (unsigned i = 0; i < API_LOG_LIMIT_KINDS; i++) {
    char kind[32];
    snprintf(kind, sizeof(kind), "kind-%u", i);
    CHECK_EQ_INT(admit_n(&l, kind, 1, 1000, NULL), 1);
  }
  // A thousand new kinds (a client could make libmicrohttpd format
  // messages in many ways): together they get one burst.
  unsigned written = 0;
  for (unsigned i = 0; i < 1000; i++) {
    char kind[32];
    snprintf(kind, sizeof(kind), "late-%u", i);
    written += admit_n(&l, kind, 1, 1000, NULL);
  }
  CHECK_EQ_INT(written, BURST);
  api_log_limit_summary out[API_LOG_LIMIT_KINDS + 1];
  CHECK_EQ_INT(api_log_limit_flush(&l, 1000 + INTERVAL_MS, 0, out,
                                   API_LOG_LIMIT_KINDS + 1),
               1);
  CHECK_EQ_STR(out[0].kind, "other");
  CHECK_EQ_INT(out[0].count, 1000 - BURST);
}

TEST(long_kinds_and_messages_are_cut_not_overrun) {
  static api_log_limit l = API_LOG_LIMIT_INIT(1, INTERVAL_MS);
  char kind[400], message[400];
  memset(kind, 'k', sizeof(kind) - 1);
  kind[sizeof(kind) - 1] = '\0';
  memset(message, 'm', sizeof(message) - 1);
  message[sizeof(message) - 1] = '\0';
  api_log_limit_summary s;
  CHECK_EQ_INT(api_log_limit_admit(&l, kind, message, 1000, &s), 1);
  CHECK_EQ_INT(api_log_limit_admit(&l, kind, message, 1000, &s), 0);
  api_log_limit_summary out[2];
  CHECK_EQ_INT(api_log_limit_flush(&l, 1000 + INTERVAL_MS, 0, out, 2), 1);
  CHECK_EQ_INT(strlen(out[0].sample), API_LOG_LIMIT_SAMPLE_LEN - 1);
  CHECK_EQ_INT(strlen(out[0].kind), API_LOG_LIMIT_KIND_LEN - 1);
}

// --- eight threads at once ---

#define THREADS 8
#define PER_THREAD 10000

static api_log_limit g_shared = API_LOG_LIMIT_INIT(BURST, INTERVAL_MS);

static void *hammer(void *arg) {
  unsigned *written = arg;
  for (unsigned i = 0; i < PER_THREAD; i++) {
    api_log_limit_summary s;
    *written +=
        (unsigned)api_log_limit_admit(&g_shared, "tls", "failed", 1000, &s);
  }
  return NULL;
}

TEST(threads_share_the_bound_and_lose_no_count) {
  pthread_t threads[THREADS];
  unsigned written[THREADS] = {0};
  for (unsigned i = 0; i < THREADS; i++) {
    CHECK_EQ_INT(pthread_create(&threads[i], NULL, hammer, &written[i]), 0);
  }
  unsigned total = 0;
  for (unsigned i = 0; i < THREADS; i++) {
    CHECK_EQ_INT(pthread_join(threads[i], NULL), 0);
    total += written[i];
  }
  CHECK_EQ_INT(total, BURST);
  api_log_limit_summary out[1];
  CHECK_EQ_INT(api_log_limit_flush(&g_shared, 1000 + INTERVAL_MS, 0, out, 1),
               1);
  CHECK_EQ_INT(out[0].count, THREADS * PER_THREAD - BURST);
}

int main(void) {
  RUN(burst_then_suppressed_then_summary_on_next_line);
  RUN(kinds_are_counted_apart);
  RUN(flush_writes_summaries_of_windows_over);
  RUN(more_kinds_than_the_table_share_one_bound);
  RUN(long_kinds_and_messages_are_cut_not_overrun);
  RUN(threads_share_the_bound_and_lose_no_count);
  return test_summary();
}
