// pkictl audit: the audit log, newest first, a page at a time or every page
// (--all), as a table or, with --json, the API's answer (README.md, "Audit
// log"). An admin call: GET /v1/audit.
#include <stdio.h>
#include <string.h>

#include "api/cli/pkictl.h"
#include "api/cli/pkictl_json.h"
#include "ca/x509/asn1_time.h"
#include "proto/pki.pb-c.h"

static const char kUsage[] =
    "usage: pkictl audit [--actor A] [--action X|PREFIX*] [--object O]\n"
    "                    [--outcome R] [--since T] [--until T] [--limit N]\n"
    "                    [--cursor C] [--all] [--json]\n"
    "  T: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or Unix seconds\n";

typedef struct audit_flags {
  const char *actor, *action, *object, *outcome, *since, *until, *limit,
      *cursor;
  int all, json;
} audit_flags;

static int parse(int argc, char **argv, audit_flags *f) {
  static const pkictl_flag kFlags[] = {
      PKICTL_STRING_FLAG("--actor", audit_flags, actor),
      PKICTL_STRING_FLAG("--action", audit_flags, action),
      PKICTL_STRING_FLAG("--object", audit_flags, object),
      PKICTL_STRING_FLAG("--outcome", audit_flags, outcome),
      PKICTL_STRING_FLAG("--since", audit_flags, since),
      PKICTL_STRING_FLAG("--until", audit_flags, until),
      PKICTL_STRING_FLAG("--limit", audit_flags, limit),
      PKICTL_STRING_FLAG("--cursor", audit_flags, cursor),
      PKICTL_BOOL_FLAG("--all", audit_flags, all),
      PKICTL_BOOL_FLAG("--json", audit_flags, json),
  };
  static const pkictl_flag_spec kSpec = {
      kFlags, PKICTL_COUNT(kFlags), sizeof(audit_flags), 0, NULL,
  };
  const char *positional[1];
  int n_positional = 0;
  return pkictl_parse_flags(&kSpec, argc, argv, f, positional, &n_positional);
}

// print_event writes one row of the table; the detail comes last, as it is
// free text.
static void print_event(const Pki__V1__AuditEvent *e) {
  char at[21];
  pkictl_format_time(e->at, at);
  printf("%-20s %-28s %-20s %-40s %-24s %-8s %s\n", at, e->actor, e->action,
         e->object, e->source, e->outcome, e->detail);
}

// get_page reads the page after |cursor| ("" for the first) and prints it;
// |cursor| becomes the next page's, "" after the last. It returns 0 after
// printing why it failed.
static int get_page(pki_client *client, const audit_flags *f, char *cursor,
                    size_t cursor_len) {
  char path[4096] = "/v1/audit";
  pkictl_add_query(path, sizeof(path), "actor", f->actor);
  pkictl_add_query(path, sizeof(path), "action", f->action);
  pkictl_add_query(path, sizeof(path), "object", f->object);
  pkictl_add_query(path, sizeof(path), "outcome", f->outcome);
  pkictl_add_query(path, sizeof(path), "since", f->since);
  pkictl_add_query(path, sizeof(path), "until", f->until);
  pkictl_add_query(path, sizeof(path), "limit", f->limit);
  pkictl_add_query(path, sizeof(path), "cursor",
                   cursor[0] != '\0' ? cursor : NULL);
  Pki__V1__ListAuditEventsResponse *resp =
      (Pki__V1__ListAuditEventsResponse *)pkictl_get_message(
          client, path, &pki__v1__list_audit_events_response__descriptor);
  if (resp == NULL) {
    return 0;
  }
  for (size_t i = 0; i < resp->n_events; i++) {
    print_event(resp->events[i]);
  }
  snprintf(cursor, cursor_len, "%s", resp->next_cursor);
  pki__v1__list_audit_events_response__free_unpacked(resp, NULL);
  return 1;
}

int pkictl_audit(pki_client *client, int argc, char **argv) {
  if (argc == 1 && strcmp(argv[0], "--help") == 0) {
    fputs(kUsage, stdout);
    return 0;
  }
  audit_flags f;
  if (!parse(argc, argv, &f)) {
    fputs(kUsage, stderr);
    return 2;
  }
  // "pkictl audit --json" as "pkictl --json audit": main prints the object.
  if (f.json && !pkictl_json_on() && !pkictl_json_begin()) {
    return 1;
  }
  char cursor[256] = "";
  if (f.cursor != NULL) {
    snprintf(cursor, sizeof(cursor), "%s", f.cursor);
  }
  printf("%-20s %-28s %-20s %-40s %-24s %-8s %s\n", "AT", "ACTOR", "ACTION",
         "OBJECT", "SOURCE", "OUTCOME", "DETAIL");
  for (;;) {
    if (!get_page(client, &f, cursor, sizeof(cursor))) {
      return 1;
    }
    if (cursor[0] == '\0') {
      return 0;
    }
    if (!f.all) {
      fprintf(stderr, "more: add --cursor %s (or --all)\n", cursor);
      return 0;
    }
  }
}
