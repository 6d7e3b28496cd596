// The filters of a read of the audit log (GET /v1/audit, pkictl audit),
// checked without I/O: the query's text in, a bounded filter out, or a
// stable error code naming the bad parameter. The store reads the rows
// (ca/store/store_audit.h).
#ifndef PKI_CA_POLICY_AUDIT_QUERY_H
#define PKI_CA_POLICY_AUDIT_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"

// Rows of one page: CA_AUDIT_PAGE_DEFAULT unless asked, at most
// CA_AUDIT_PAGE_MAX.
#define CA_AUDIT_PAGE_DEFAULT 100
#define CA_AUDIT_PAGE_MAX 1000

// A filter string is at most this many bytes, whoever calls (the HTTP API
// already bounds query values to CA_LIMIT_QUERY_VALUE_LEN): the actors,
// actions and objects pki writes are shorter.
#define CA_AUDIT_FILTER_MAX 512

// Where a page ends: the (at, id) of its last row. |at_us| is the row's
// time in microseconds since 1970 (PostgreSQL's own precision), so that
// rows of one second are neither skipped nor repeated.
typedef struct ca_audit_cursor {
  int set;
  int64_t at_us;
  int64_t id;
} ca_audit_cursor;

// The text of a cursor, "AT_US.ID" (two decimal numbers), fits in this.
#define CA_AUDIT_CURSOR_LEN 48

// ca_audit_cursor_format writes the cursor |c| as text into |out|.
void ca_audit_cursor_format(const ca_audit_cursor *c,
                            char out[CA_AUDIT_CURSOR_LEN]);

// ca_audit_cursor_parse reads a cursor written by ca_audit_cursor_format.
// It returns 0 with CA_ERR_AUDIT_CURSOR_INVALID for anything else
// (including a time after 9999-12-31T23:59:59.999999Z).
int ca_audit_cursor_parse(const char *text, ca_audit_cursor *out) CA_MUST_CHECK;

// ca_audit_time_parse reads a time of a filter: Unix seconds (1 to
// CA_TIME_MAX), "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ",
// from 1970 to 9999. It returns 0 with CA_ERR_AUDIT_TIME_INVALID naming
// |name| otherwise.
int ca_audit_time_parse(const char *name, const char *text,
                        int64_t *out) CA_MUST_CHECK;

// What to read. Strings are borrowed; NULL means no filter.
typedef struct ca_audit_filter {
  const char *actor;      // exact
  const char *action;     // exact, or with |action_prefix| a prefix
  int action_prefix;      // |action| is what "token.*" had before its '*'
  const char *object;     // exact
  const char *outcome;    // exact
  int64_t since;          // Unix seconds, at >= since; 0: none
  int64_t until;          // Unix seconds, at < until; 0: none
  size_t limit;           // 1 to CA_AUDIT_PAGE_MAX
  ca_audit_cursor after;  // rows strictly older than this (at, id)
} ca_audit_filter;

// The query's text, as the client sent it: NULL or "" for a parameter
// not given.
typedef struct ca_audit_query {
  const char *actor, *action, *object, *outcome, *since, *until, *limit,
      *cursor;
} ca_audit_query;

// ca_audit_filter_parse checks |q| and fills |f|, whose strings then point
// into |q|'s or into |prefix| (CA_AUDIT_FILTER_MAX + 1 bytes, the
// caller's, holding an action prefix without its '*'). "*" alone is no
// action filter. It returns 0 with:
//   CA_ERR_AUDIT_FILTER_INVALID  a string over CA_AUDIT_FILTER_MAX bytes,
//                                or a '*' in action other than at its end;
//   CA_ERR_AUDIT_TIME_INVALID    since or until unreadable or out of
//                                range, or since not before until;
//   CA_ERR_AUDIT_LIMIT_INVALID   limit not a number from 1 to
//                                CA_AUDIT_PAGE_MAX;
//   CA_ERR_AUDIT_CURSOR_INVALID  a cursor no page gave.
int ca_audit_filter_parse(const ca_audit_query *q, char *prefix,
                          ca_audit_filter *f) CA_MUST_CHECK;

#endif  // PKI_CA_POLICY_AUDIT_QUERY_H
