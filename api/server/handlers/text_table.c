#include "api/server/handlers/text_table.h"

#include <inttypes.h>
#include <openssl/bytestring.h>
#include <stdint.h>
#include <stdio.h>

#include "api/server/formats.h"
#include "ca/error.h"
#include "ca/policy/trust.h"
#include "ca/x509/asn1_time.h"

static const ca_revcheck_row *check_of(const api_text_table *t,
                                       const uint8_t *row) {
  if (t->checks == NULL) {
    return NULL;
  }
  return ca_revcheck_row_find(t->checks, t->n_checks,
                              row + t->fingerprint_offset);
}

// cell returns the text of column |c| of |row|, in |scratch| or borrowed
// from the row.
static const char *cell(const api_text_table *t, const api_text_column *c,
                        const uint8_t *row, char *scratch, size_t cap) {
  const ca_revcheck_row *k;
  switch (c->kind) {
    case API_CELL_TEXT: {
      const char *s = *(const char *const *)(row + c->offset);
      return s != NULL ? s : "";
    }
    case API_CELL_TIME:
      if (!ca_time_format(*(const int64_t *)(row + c->offset), scratch)) {
        snprintf(scratch, cap, "?");
      }
      return scratch;
    case API_CELL_FINGERPRINT:
      ca_trust_fingerprint_hex(row + c->offset, scratch);
      return scratch;
    case API_CELL_REVOCATION:
      k = check_of(t, row);
      return k != NULL ? k->status : "unchecked";
    case API_CELL_CHECKED:
      k = check_of(t, row);
      if (k == NULL || !ca_time_format(k->checked_at, scratch)) {
        snprintf(scratch, cap, "-");
      }
      return scratch;
    case API_CELL_CUSTOM:
      return c->custom(row, scratch, cap);
  }
  return "";
}

// line writes the header (|row| NULL) or one row. api_cbb_printf ends
// whatever it cuts with a newline, which must not fall inside a row: hence
// the cut at 400 bytes a cell.
static int line(CBB *cbb, const api_text_table *t, const uint8_t *row) {
  for (size_t i = 0; i < t->n_columns; i++) {
    const api_text_column *c = &t->columns[i];
    char scratch[CA_TRUST_FINGERPRINT_HEX_LEN];
    const char *text =
        row == NULL ? c->header : cell(t, c, row, scratch, sizeof(scratch));
    if (!api_cbb_printf(cbb, "%.400s%c", text,
                        i + 1 < t->n_columns ? '\t' : '\n')) {
      return 0;
    }
  }
  return 1;
}

void api_respond_text_table(api_response *resp, const api_text_table *t) {
  CBB cbb;
  CBB_zero(&cbb);
  uint8_t *body;
  size_t len;
  const uint8_t *rows = t->rows;
  CA_GUARD_CRYPTO(CBB_init(&cbb, 160 + t->n_rows * 320));
  CA_GUARD_CRYPTO(line(&cbb, t, NULL));
  for (size_t i = 0; i < t->n_rows; i++) {
    CA_GUARD_CRYPTO(line(&cbb, t, rows + i * t->row_size));
  }
  CA_GUARD_CRYPTO(CBB_finish(&cbb, &body, &len));
  api_respond(resp, 200, "text/plain; charset=utf-8", body, len);
  return;
err:
  CBB_cleanup(&cbb);
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}
