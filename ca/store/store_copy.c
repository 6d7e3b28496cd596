// Certificates written with COPY ... FROM STDIN (FORMAT binary): no SQL text
// to parse and no parameters to convert, the cheapest way to hand PostgreSQL
// many rows (bench/store_bench measures it against multi-row INSERT).
//
// The binary format (PostgreSQL manual, "COPY", File Formats): a signature,
// flags and a header extension length; per row a 16-bit field count, then
// per field a 32-bit length (-1 for NULL) and the value in the type's binary
// send format; a trailer of -1. All integers are big-endian.
#include <openssl/bytestring.h>
#include <string.h>

#include "ca/store/store.h"
#include "ca/store/store_internal.h"

#define COPY_COLUMNS 16

// Seconds from the Unix epoch to PostgreSQL's (2000-01-01T00:00:00Z).
#define PG_EPOCH_OFFSET INT64_C(946684800)

// The OID of the type text, for the element type of text[].
#define TEXT_OID 25

static const char kCopySql[] =
    "COPY certificates (issuer_id, serial, profile, subject, common_name,"
    " sans, key_type, key_bits, not_before, not_after, der, requester,"
    " csr_sha256, key_generated, cluster, crl_shard) FROM STDIN"
    " (FORMAT binary)";

static int add_field(CBB *row, const void *data, size_t len) {
  return CBB_add_u32(row, (uint32_t)len) &&
         CBB_add_bytes(row, (const uint8_t *)data, len);
}

static int add_text(CBB *row, const char *s) {
  return add_field(row, s, strlen(s));
}

static int add_int8(CBB *row, int64_t v) {
  return CBB_add_u32(row, 8) && CBB_add_u64(row, (uint64_t)v);
}

// add_timestamptz writes Unix seconds as microseconds since 2000-01-01.
static int add_timestamptz(CBB *row, int64_t unix_seconds) {
  return add_int8(row, (unix_seconds - PG_EPOCH_OFFSET) * 1000000);
}

// add_text_array writes a one-dimensional text[] (array_send format),
// preceded by its length.
static int add_text_array(CBB *row, const char *const *items, size_t n) {
  // Dimensions, NULL flag and element type; then size and lower bound.
  size_t len = 12 + (n > 0 ? 8 : 0);
  for (size_t i = 0; i < n; i++) {
    len += 4 + strlen(items[i]);
  }
  if (!CBB_add_u32(row, (uint32_t)len) ||
      !CBB_add_u32(row, n > 0 ? 1 : 0) ||  // dimensions
      !CBB_add_u32(row, 0) ||              // no NULL elements
      !CBB_add_u32(row, TEXT_OID)) {
    return 0;
  }
  if (n > 0 && (!CBB_add_u32(row, (uint32_t)n) ||
                !CBB_add_u32(row, 1))) {  // lower bound
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    if (!add_text(row, items[i])) {
      return 0;
    }
  }
  return 1;
}

static int add_row(CBB *out, const ca_new_cert_row *r) {
  if (!CBB_add_u16(out, COPY_COLUMNS) || !add_int8(out, r->issuer_id) ||
      !add_text(out, r->serial) || !add_text(out, r->profile) ||
      !add_text(out, r->subject) || !add_text(out, r->common_name) ||
      !add_text_array(out, r->sans, r->san_count) ||
      !add_text(out, ca_key_type_name(r->key_type)) || !CBB_add_u32(out, 4) ||
      !CBB_add_u32(out, r->key_bits) || !add_timestamptz(out, r->not_before) ||
      !add_timestamptz(out, r->not_after) ||
      !add_field(out, r->der, r->der_len) || !add_text(out, r->requester)) {
    return 0;
  }
  if (r->csr_sha256 == NULL ? !CBB_add_u32(out, 0xffffffff)  // NULL
                            : !add_field(out, r->csr_sha256, 32)) {
    return 0;
  }
  // boolean: one byte.
  if (!CBB_add_u32(out, 1) || !CBB_add_u8(out, r->key_generated ? 1 : 0)) {
    return 0;
  }
  if (r->cluster == NULL ? !CBB_add_u32(out, 0xffffffff)  // NULL
                         : !add_text(out, r->cluster)) {
    return 0;
  }
  // smallint: two bytes.
  return r->crl_shard == 0
             ? CBB_add_u32(out, 0xffffffff)  // NULL
             : CBB_add_u32(out, 2) && CBB_add_u16(out, (uint16_t)r->crl_shard);
}

// Rows are sent in pieces of this size, so the buffer stays small whatever
// the number of rows.
#define COPY_CHUNK (1024 * 1024)

// The bytes of a row besides its values: field lengths, the field count,
// the array header, the fixed-size values.
#define COPY_ROW_OVERHEAD 160

// row_size estimates the bytes of |r| in the COPY stream (CBB grows past it
// when it is short).
static size_t row_size(const ca_new_cert_row *r) {
  size_t len = COPY_ROW_OVERHEAD + r->der_len + strlen(r->serial) +
               strlen(r->profile) + strlen(r->subject) +
               strlen(r->common_name) + strlen(r->requester) +
               (r->cluster != NULL ? strlen(r->cluster) : 0);
  for (size_t i = 0; i < r->san_count; i++) {
    len += 4 + strlen(r->sans[i]);
  }
  return len;
}

// chunk_size is the buffer for the rows |records[from..n)|: what they take,
// up to a chunk. The buffer is sized to its rows, not to a whole chunk,
// because OPENSSL_free wipes every byte of it and a fresh megabyte costs a
// page fault per page: for a group commit of a few certificates, a
// chunk-sized buffer cost more CPU than signing them.
static size_t chunk_size(const ca_new_cert_row *records, size_t from,
                         size_t n) {
  size_t len = 64;  // signature, flags, header extension, trailer
  for (size_t i = from; i < n && len < COPY_CHUNK; i++) {
    len += row_size(&records[i]);
  }
  return len < COPY_CHUNK ? len : COPY_CHUNK + 4096;
}

static int send_chunk(ca_store_tx *tx, CBB *buf) {
  if (PQputCopyData(tx->conn, (const char *)CBB_data(buf), (int)CBB_len(buf)) !=
      1) {
    ca_store_raise_conn(tx->conn, "COPY");
    return 0;
  }
  return 1;
}

int ca_store_tx_copy_certificates(ca_store_tx *tx,
                                  const ca_new_cert_row *records, size_t n) {
  CBB buf;
  CBB_zero(&buf);
  int copying = 0;
  CA_ENSURE(!tx->failed, CA_ERR_STORAGE_UNAVAILABLE,
            "transaction failed earlier");
  for (size_t i = 0; i < n; i++) {
    // The COPY carries an issuer_id always; self-signed rows need NULL.
    CA_ENSURE(!records[i].self_signed && records[i].replaces_id == 0,
              CA_ERR_INTERNAL, "self-signed rows are inserted, not copied");
  }
  PGresult *res = ca_store_check_result(tx->conn, PQexec(tx->conn, kCopySql),
                                        PGRES_COPY_IN, "COPY");
  CA_GUARD(res != NULL);
  PQclear(res);
  copying = 1;
  CA_GUARD_CRYPTO(CBB_init(&buf, chunk_size(records, 0, n)));
  static const uint8_t kSignature[11] = {'P',  'G',  'C',  'O',  'P', 'Y',
                                         '\n', 0xff, '\r', '\n', 0};
  CA_GUARD_CRYPTO(CBB_add_bytes(&buf, kSignature, sizeof(kSignature)));
  CA_GUARD_CRYPTO(CBB_add_u32(&buf, 0));  // flags
  CA_GUARD_CRYPTO(CBB_add_u32(&buf, 0));  // header extension length
  for (size_t i = 0; i < n; i++) {
    CA_GUARD_CRYPTO(add_row(&buf, &records[i]));
    if (CBB_len(&buf) >= COPY_CHUNK) {
      CA_GUARD(send_chunk(tx, &buf));
      CBB_cleanup(&buf);
      CA_GUARD_CRYPTO(CBB_init(&buf, chunk_size(records, i + 1, n)));
    }
  }
  CA_GUARD_CRYPTO(CBB_add_u16(&buf, 0xffff));  // trailer
  CA_GUARD(send_chunk(tx, &buf));
  copying = 0;
  CA_ENSURE(PQputCopyEnd(tx->conn, NULL) == 1, CA_ERR_STORAGE_UNAVAILABLE,
            "COPY could not be finished");
  res = ca_store_check_result(tx->conn, PQgetResult(tx->conn), PGRES_COMMAND_OK,
                              "COPY certificates");
  // Drain to the end of the command, whatever its outcome.
  for (PGresult *extra; (extra = PQgetResult(tx->conn)) != NULL;) {
    PQclear(extra);
  }
  CA_GUARD(res != NULL);
  PQclear(res);
  CBB_cleanup(&buf);
  return 1;
err:
  if (copying) {
    ca_err saved;
    ca_err_copy(&saved);
    // Abandon the COPY so that the connection can roll back.
    (void)PQputCopyEnd(tx->conn, "pki: abandoned");
    for (PGresult *extra; (extra = PQgetResult(tx->conn)) != NULL;) {
      PQclear(extra);
    }
    ca_err_restore(&saved);
  }
  tx->failed = 1;
  CBB_cleanup(&buf);
  return 0;
}
