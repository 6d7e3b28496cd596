// The filters of a read of the audit log (ca/policy/audit_query.h).
#include "ca/policy/audit_query.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ca/x509/asn1_time.h"

// The last microsecond of 9999-12-31T23:59:59Z: no row is later, and a
// cursor within it keeps what reaches PostgreSQL in range.
#define AUDIT_MAX_US ((int64_t)CA_TIME_MAX * 1000000 + 999999)

void ca_audit_cursor_format(const ca_audit_cursor *c,
                            char out[CA_AUDIT_CURSOR_LEN]) {
  snprintf(out, CA_AUDIT_CURSOR_LEN, "%" PRId64 ".%" PRId64, c->at_us, c->id);
}

// parse_decimal reads 1 to 18 decimal digits at |*p| (no sign, no blank:
// strtoll would take both) and moves |*p| past them. Eighteen digits hold
// any microsecond up to 9999 and any id bigserial gives before 10^18.
static int parse_decimal(const char **p, int64_t *out) {
  int64_t v = 0;
  int digits = 0;
  while (**p >= '0' && **p <= '9' && digits < 18) {
    v = v * 10 + (**p - '0');
    (*p)++;
    digits++;
  }
  *out = v;
  return digits > 0 && !(**p >= '0' && **p <= '9');
}

int ca_audit_cursor_parse(const char *text, ca_audit_cursor *out) {
  const char *p = text;
  int64_t at_us = 0, id = 0;
  const int ok = parse_decimal(&p, &at_us) && *p++ == '.' &&
                 parse_decimal(&p, &id) && *p == '\0' && at_us <= AUDIT_MAX_US;
  CA_ENSURE_RETURN(ok, CA_ERR_AUDIT_CURSOR_INVALID,
                   "cursor must be the nextCursor of a previous page");
  out->set = 1;
  out->at_us = at_us;
  out->id = id;
  return 1;
}

// civil_ok checks the fields of a date and time; the day is checked
// against its month by converting back.
static int civil_ok(int y, int mo, int d, int h, int mi, int s) {
  if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 ||
      h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59) {
    return 0;
  }
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[mo - 1] && (mo != 2 || d <= 28 + leap);
}

// digits_at says whether |text| holds exactly |n| digits from |at| on.
static int digits_at(const char *text, size_t at, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (text[at + i] < '0' || text[at + i] > '9') {
      return 0;
    }
  }
  return 1;
}

// field reads the |n| digits of |text| at |at| (checked by digits_at).
static int field(const char *text, size_t at, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    v = v * 10 + (text[at + i] - '0');
  }
  return v;
}

int ca_audit_time_parse(const char *name, const char *text, int64_t *out) {
  const size_t len = strlen(text);
  const char *p = text;
  int64_t secs = 0;
  if (len <= 12 && parse_decimal(&p, &secs) && *p == '\0') {
    CA_ENSURE_RETURN(
        secs >= 1 && secs <= CA_TIME_MAX, CA_ERR_AUDIT_TIME_INVALID,
        "%s must be Unix seconds from 1 to %" PRId64 " (9999-12-31T23:59:59Z)",
        name, (int64_t)CA_TIME_MAX);
    *out = secs;
    return 1;
  }
  // YYYY-MM-DD, then optionally THH:MM:SSZ: fixed widths, no sscanf (which
  // would take blanks and signs).
  const int date = (len == 10 || len == 20) && digits_at(text, 0, 4) &&
                   text[4] == '-' && digits_at(text, 5, 2) && text[7] == '-' &&
                   digits_at(text, 8, 2);
  const int time = len == 20 && text[10] == 'T' && digits_at(text, 11, 2) &&
                   text[13] == ':' && digits_at(text, 14, 2) &&
                   text[16] == ':' && digits_at(text, 17, 2) && text[19] == 'Z';
  const int y = date ? field(text, 0, 4) : 0, mo = date ? field(text, 5, 2) : 0,
            d = date ? field(text, 8, 2) : 0;
  const int h = time ? field(text, 11, 2) : 0,
            mi = time ? field(text, 14, 2) : 0,
            s = time ? field(text, 17, 2) : 0;
  CA_ENSURE_RETURN(date && (len == 10 || time) && civil_ok(y, mo, d, h, mi, s),
                   CA_ERR_AUDIT_TIME_INVALID,
                   "%s must be a date: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or "
                   "Unix seconds",
                   name);
  *out = ca_time_from_civil(y, mo, d, h, mi, s);
  return 1;
}

// text_of turns "" into NULL (no filter) and refuses a string over
// CA_AUDIT_FILTER_MAX bytes.
static int text_of(const char *name, const char *v, const char **out) {
  *out = v != NULL && v[0] != '\0' ? v : NULL;
  CA_ENSURE_RETURN(*out == NULL || strlen(*out) <= CA_AUDIT_FILTER_MAX,
                   CA_ERR_AUDIT_FILTER_INVALID, "%s: at most %d bytes", name,
                   CA_AUDIT_FILTER_MAX);
  return 1;
}

// parse_action reads the action filter into |f|: exact, a prefix ending in
// '*' (copied without it to |prefix|), or "*" alone for none.
static int parse_action(const char *action, char *prefix, ca_audit_filter *f) {
  if (action == NULL || strcmp(action, "*") == 0) {
    return 1;
  }
  const size_t len = strlen(action);
  const char *star = strchr(action, '*');
  CA_ENSURE_RETURN(star == NULL || star == action + len - 1,
                   CA_ERR_AUDIT_FILTER_INVALID,
                   "action: a '*' may only end a prefix (token.*)");
  if (star == NULL) {
    f->action = action;
    return 1;
  }
  memcpy(prefix, action, len - 1);
  prefix[len - 1] = '\0';
  f->action = prefix;
  f->action_prefix = 1;
  return 1;
}

static int parse_limit(const char *text, size_t *out) {
  const char *p = text;
  int64_t v = 0;
  CA_ENSURE_RETURN(
      parse_decimal(&p, &v) && *p == '\0' && v >= 1 && v <= CA_AUDIT_PAGE_MAX,
      CA_ERR_AUDIT_LIMIT_INVALID, "limit must be 1 to %d", CA_AUDIT_PAGE_MAX);
  *out = (size_t)v;
  return 1;
}

int ca_audit_filter_parse(const ca_audit_query *q, char *prefix,
                          ca_audit_filter *f) {
  memset(f, 0, sizeof(*f));
  const char *action, *since, *until, *limit, *cursor;
  CA_GUARD_RETURN(text_of("actor", q->actor, &f->actor) &&
                  text_of("action", q->action, &action) &&
                  text_of("object", q->object, &f->object) &&
                  text_of("outcome", q->outcome, &f->outcome) &&
                  text_of("since", q->since, &since) &&
                  text_of("until", q->until, &until) &&
                  text_of("limit", q->limit, &limit) &&
                  text_of("cursor", q->cursor, &cursor));
  CA_GUARD_RETURN(parse_action(action, prefix, f));
  if (since != NULL) {
    CA_GUARD_RETURN(ca_audit_time_parse("since", since, &f->since));
  }
  if (until != NULL) {
    CA_GUARD_RETURN(ca_audit_time_parse("until", until, &f->until));
  }
  CA_ENSURE_RETURN(f->since == 0 || f->until == 0 || f->since < f->until,
                   CA_ERR_AUDIT_TIME_INVALID, "since must be before until");
  f->limit = CA_AUDIT_PAGE_DEFAULT;
  if (limit != NULL) {
    CA_GUARD_RETURN(parse_limit(limit, &f->limit));
  }
  if (cursor != NULL) {
    CA_GUARD_RETURN(ca_audit_cursor_parse(cursor, &f->after));
  }
  return 1;
}
