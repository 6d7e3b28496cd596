// Reading the audit log (table audit_log, migration 0001; its indexes,
// migration 0013): bounded pages, newest first, with the filters of
// ca/policy/audit_query.h and a keyset cursor on (at, id), for GET
// /v1/audit. The rows are written by the changes themselves
// (ca_store_tx_audit); nothing here writes.
#ifndef PKI_CA_STORE_AUDIT_H
#define PKI_CA_STORE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/policy/audit_query.h"
#include "ca/store/store.h"

// One row of audit_log. Strings are owned (ca_audit_rows_free).
typedef struct ca_audit_row {
  int64_t id;
  int64_t at;     // Unix seconds
  int64_t at_us;  // microseconds since 1970: the cursor's precision
  char *actor;
  char *action;
  char *object;
  char *source;  // the client's address, or the node for pkid's own work
  char *outcome;
  char *detail;
} ca_audit_row;

// ca_audit_rows_free frees |n| rows and the array. Accepts NULL.
void ca_audit_rows_free(ca_audit_row *rows, size_t n);

// ca_audit_row_cursor returns the cursor that reads the rows after |row|.
ca_audit_cursor ca_audit_row_cursor(const ca_audit_row *row);

// ca_store_list_audit returns the rows |f| (checked by
// ca_audit_filter_parse) selects, newest first ((at, id) descending), at
// most |f->limit|, in |*out| (the caller frees it with ca_audit_rows_free)
// and their number in |*out_n|. |*out_more| says whether older rows match
// too: then the cursor of the last row reads the next page. Each page is a
// walk down one index of migration 0013 from the cursor, so its cost does
// not grow with the table or the depth of the page. It returns 0 with
// CA_ERR_AUDIT_LIMIT_INVALID for a limit out of range and
// CA_ERR_STORAGE_UNAVAILABLE when the database fails.
int ca_store_list_audit(ca_store *store, const ca_audit_filter *f,
                        ca_audit_row **out, size_t *out_n,
                        int *out_more) CA_MUST_CHECK;

#endif  // PKI_CA_STORE_AUDIT_H
