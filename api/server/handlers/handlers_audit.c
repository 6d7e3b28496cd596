// GET /v1/audit: one page of the audit log, newest first, with filters
// (README.md, "Audit log"). Admins only (the route's access): the log says
// who did what from where, token names and client addresses included,
// which only admins may otherwise see (GET /v1/tokens). The read itself
// writes no audit row: it changes nothing, like every other read, and a
// console showing the log would otherwise add to it at each visit.
#include <stdlib.h>
#include <string.h>

#include "api/server/handlers/handlers.h"
#include "api/server/service.h"
#include "ca/policy/audit_query.h"
#include "ca/store/store_audit.h"
#include "proto/pki.pb-c.h"

// read_query reads the query parameters of the call (each bounded by
// api_query_checked) into |q|.
static int read_query(const api_request *req, ca_audit_query *q) {
  memset(q, 0, sizeof(*q));
  return api_query_checked(req, "actor", &q->actor) &&
         api_query_checked(req, "action", &q->action) &&
         api_query_checked(req, "object", &q->object) &&
         api_query_checked(req, "outcome", &q->outcome) &&
         api_query_checked(req, "since", &q->since) &&
         api_query_checked(req, "until", &q->until) &&
         api_query_checked(req, "limit", &q->limit) &&
         api_query_checked(req, "cursor", &q->cursor);
}

// fill_event points |ev| at the strings of |row| (borrowed until the
// answer is packed).
static void fill_event(const ca_audit_row *row, Pki__V1__AuditEvent *ev) {
  pki__v1__audit_event__init(ev);
  ev->id = row->id;
  ev->at = row->at;
  ev->actor = row->actor;
  ev->action = row->action;
  ev->object = row->object;
  ev->source = row->source;
  ev->outcome = row->outcome;
  ev->detail = row->detail;
}

void api_handle_audit_list(api_service *svc, const api_request *req,
                           api_response *resp) {
  ca_audit_row *rows = NULL;
  size_t n = 0;
  int more = 0;
  Pki__V1__AuditEvent *events = NULL;
  Pki__V1__AuditEvent **ptrs = NULL;
  ca_audit_query q;
  ca_audit_filter filter;
  char prefix[CA_AUDIT_FILTER_MAX + 1];
  CA_GUARD(read_query(req, &q));
  CA_GUARD(ca_audit_filter_parse(&q, prefix, &filter));
  CA_GUARD(ca_store_list_audit(svc->store, &filter, &rows, &n, &more));
  char next[CA_AUDIT_CURSOR_LEN] = "";
  if (more && n > 0) {
    const ca_audit_cursor c = ca_audit_row_cursor(&rows[n - 1]);
    ca_audit_cursor_format(&c, next);
  }
  events = calloc(n > 0 ? n : 1, sizeof(*events));
  ptrs = calloc(n > 0 ? n : 1, sizeof(*ptrs));
  CA_ENSURE(events != NULL && ptrs != NULL, CA_ERR_NO_MEMORY, "out of memory");
  for (size_t i = 0; i < n; i++) {
    fill_event(&rows[i], &events[i]);
    ptrs[i] = &events[i];
  }
  Pki__V1__ListAuditEventsResponse out =
      PKI__V1__LIST_AUDIT_EVENTS_RESPONSE__INIT;
  out.n_events = n;
  out.events = ptrs;
  out.next_cursor = next;
  api_respond_message(resp, &out.base);
  goto done;
err:
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
done:
  free(events);
  free(ptrs);
  ca_audit_rows_free(rows, n);
}
