#include "api/log_limit.h"

#include <stdio.h>
#include <string.h>

// slot_for returns the slot of |kind|, taking a free one for a new kind,
// or the shared overflow slot when the table is full. Under |limit->mu|.
static api_log_limit_slot *slot_for(api_log_limit *limit, const char *kind) {
  for (size_t i = 0; i < API_LOG_LIMIT_KINDS; i++) {
    api_log_limit_slot *s = &limit->slots[i];
    if (s->kind[0] == '\0') {
      snprintf(s->kind, sizeof(s->kind), "%s", kind[0] != '\0' ? kind : "-");
      return s;
    }
    if (strncmp(s->kind, kind, sizeof(s->kind) - 1) == 0) {
      return s;
    }
  }
  if (limit->overflow.kind[0] == '\0') {
    snprintf(limit->overflow.kind, sizeof(limit->overflow.kind), "other");
  }
  return &limit->overflow;
}

// summarize moves what |slot|'s window suppressed into |out| and closes
// the window.
static void summarize(const api_log_limit_slot *slot, int64_t now_ms,
                      api_log_limit_summary *out) {
  snprintf(out->kind, sizeof(out->kind), "%s", slot->kind);
  snprintf(out->sample, sizeof(out->sample), "%s", slot->sample);
  out->count = slot->suppressed;
  const int64_t ms = now_ms - slot->window_start_ms;
  out->seconds = ms > 0 ? (ms + 999) / 1000 : 0;
}

static void reset(api_log_limit_slot *slot) {
  slot->window_start_ms = 0;
  slot->written = 0;
  slot->suppressed = 0;
  slot->sample[0] = '\0';
}

int api_log_limit_admit(api_log_limit *limit, const char *kind,
                        const char *message, int64_t now_ms,
                        api_log_limit_summary *summary) {
  summary->count = 0;
  if (pthread_mutex_lock(&limit->mu) != 0) {
    return 1;  // cannot happen with a default mutex; never lose the line
  }
  api_log_limit_slot *s = slot_for(limit, kind);
  if (s->window_start_ms != 0 &&
      now_ms - s->window_start_ms >= limit->interval_ms) {
    if (s->suppressed > 0) {
      summarize(s, now_ms, summary);
    }
    reset(s);
  }
  if (s->window_start_ms == 0) {
    s->window_start_ms = now_ms;
  }
  int write = 0;
  if (s->written < limit->burst) {
    s->written++;
    write = 1;
  } else {
    if (s->suppressed == 0) {
      snprintf(s->sample, sizeof(s->sample), "%s", message);
    }
    s->suppressed++;
  }
  (void)pthread_mutex_unlock(&limit->mu);
  return write;
}

size_t api_log_limit_flush(api_log_limit *limit, int64_t now_ms, int all,
                           api_log_limit_summary *out, size_t max) {
  size_t n = 0;
  if (pthread_mutex_lock(&limit->mu) != 0) {
    return 0;
  }
  for (size_t i = 0; i <= API_LOG_LIMIT_KINDS && n < max; i++) {
    api_log_limit_slot *s =
        i < API_LOG_LIMIT_KINDS ? &limit->slots[i] : &limit->overflow;
    if (s->window_start_ms == 0 ||
        (!all && now_ms - s->window_start_ms < limit->interval_ms)) {
      continue;
    }
    if (s->suppressed > 0) {
      summarize(s, now_ms, &out[n++]);
    }
    reset(s);
  }
  (void)pthread_mutex_unlock(&limit->mu);
  return n;
}
