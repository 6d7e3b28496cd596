// The text form of a listing (GET ... with Accept: text/plain, and pkictl's
// tables): a header line, then one line a row, cells separated by tabs.
// Listings describe their columns as data, so that a listing of trust
// entries and one of registered identities share one writer.
#ifndef PKI_API_SERVER_HANDLERS_TEXT_TABLE_H
#define PKI_API_SERVER_HANDLERS_TEXT_TABLE_H

#include <stddef.h>

#include "api/server/http.h"
#include "ca/store/store_revcheck.h"

typedef enum api_cell_kind {
  API_CELL_TEXT,         // a const char * of the row; NULL shows as ""
  API_CELL_TIME,         // an int64_t of the row, RFC 3339; "?" if unusable
  API_CELL_FINGERPRINT,  // a uint8_t[32] SHA-256 of the row, in hex
  API_CELL_REVOCATION,   // pki's own revocation check: its status
  API_CELL_CHECKED,      // ... and when it was made; "-" if never
  API_CELL_CUSTOM,       // |custom| computes it
} api_cell_kind;

typedef struct api_text_column {
  const char *header;
  api_cell_kind kind;
  size_t offset;  // of the row's field, for TEXT, TIME and FINGERPRINT
  // custom returns the cell of |row|, which may be written into |scratch|
  // (|cap| bytes) or borrowed from the row.
  const char *(*custom)(const void *row, char *scratch, size_t cap);
} api_text_column;

#define API_COLUMN_TEXT(h, type, field) \
  { (h), API_CELL_TEXT, offsetof(type, field), NULL }
#define API_COLUMN_TIME(h, type, field) \
  { (h), API_CELL_TIME, offsetof(type, field), NULL }
#define API_COLUMN_FINGERPRINT(h, type, field) \
  { (h), API_CELL_FINGERPRINT, offsetof(type, field), NULL }
#define API_COLUMN_REVOCATION(h) \
  { (h), API_CELL_REVOCATION, 0, NULL }
#define API_COLUMN_CHECKED(h) \
  { (h), API_CELL_CHECKED, 0, NULL }
#define API_COLUMN_CUSTOM(h, fn) \
  { (h), API_CELL_CUSTOM, 0, (fn) }

typedef struct api_text_table {
  const api_text_column *columns;
  size_t n_columns;
  const void *rows;  // n_rows rows of row_size bytes each
  size_t row_size;
  size_t n_rows;
  // Where a row holds the SHA-256 fingerprint its revocation check is
  // found by, in |checks| (sorted as ca_revcheck_row_find wants).
  size_t fingerprint_offset;
  const ca_revcheck_row *checks;
  size_t n_checks;
} api_text_table;

// api_respond_text_table answers 200 with |table| as text/plain, or the
// error if it cannot be written. A cell is cut at 400 bytes.
void api_respond_text_table(api_response *resp, const api_text_table *table);

#endif  // PKI_API_SERVER_HANDLERS_TEXT_TABLE_H
