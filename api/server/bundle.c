#include "api/server/bundle.h"

#include <openssl/mem.h>
#include <stdlib.h>
#include <string.h>

#include "api/server/pb_scan.h"
#include "ca/limits.h"

// A view of protobuf wire format: bounded, every read checked.
typedef struct pb_reader {
  const uint8_t *buf;
  size_t len;
  size_t pos;
} pb_reader;

static int read_varint(pb_reader *r, uint64_t *out) {
  uint64_t v = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (r->pos >= r->len) {
      return 0;
    }
    const uint8_t b = r->buf[r->pos++];
    v |= (uint64_t)(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *out = v;
      return 1;
    }
  }
  return 0;
}

// next_field reads one field: its number, and for a length-delimited one
// its contents in |*out_data|/|*out_len| (else |*out_data| is NULL).
static int next_field(pb_reader *r, uint64_t *out_number,
                      const uint8_t **out_data, size_t *out_len) {
  uint64_t key, value;
  *out_data = NULL;
  *out_len = 0;
  CA_ENSURE_RETURN(read_varint(r, &key), CA_ERR_BUNDLE_MALFORMED,
                   "bundle: bad field key");
  *out_number = key >> 3;
  switch (key & 7) {
    case 0:
      CA_ENSURE_RETURN(read_varint(r, &value), CA_ERR_BUNDLE_MALFORMED,
                       "bundle: bad varint");
      break;
    case 1:
      CA_ENSURE_RETURN(r->len - r->pos >= 8, CA_ERR_BUNDLE_MALFORMED,
                       "bundle: truncated");
      r->pos += 8;
      break;
    case 2:
      CA_ENSURE_RETURN(read_varint(r, &value) && value <= r->len - r->pos,
                       CA_ERR_BUNDLE_MALFORMED, "bundle: bad length");
      *out_data = r->buf + r->pos;
      *out_len = (size_t)value;
      r->pos += (size_t)value;
      break;
    case 5:
      CA_ENSURE_RETURN(r->len - r->pos >= 4, CA_ERR_BUNDLE_MALFORMED,
                       "bundle: truncated");
      r->pos += 4;
      break;
    default:
      CA_SET_ERROR(CA_ERR_BUNDLE_MALFORMED, "bundle: unsupported wire type");
      return 0;
  }
  return 1;
}

// count_bundle adds the entries (field 5), repeated strings and bytes
// (clusters, ca_certificates: fields 3, 7) and CRL numbers (field 9) of the
// Bundle |buf| to |*entries|.
static int count_bundle(const uint8_t *buf, size_t len, size_t *entries) {
  pb_reader r = {buf, len, 0};
  while (r.pos < r.len) {
    uint64_t number;
    const uint8_t *data;
    size_t data_len;
    CA_GUARD_RETURN(next_field(&r, &number, &data, &data_len));
    if (number == 5 || number == 3 || number == 7 || number == 9) {
      CA_ENSURE_RETURN(data != NULL, CA_ERR_BUNDLE_MALFORMED,
                       "bundle: entries are messages");
      CA_ENSURE_RETURN(++*entries <= CA_LIMIT_BUNDLE_ENTRIES,
                       CA_ERR_OBJECT_TOO_LARGE, "more than %d entries",
                       CA_LIMIT_BUNDLE_ENTRIES);
    }
  }
  return 1;
}

int api_bundle_count(const uint8_t *buf, size_t len, uint32_t bundle_field,
                     size_t *out_bundles, size_t *out_entries) {
  size_t bundles = 0, entries = 0;
  CA_ENSURE_RETURN(len <= CA_LIMIT_BUNDLE_BYTES, CA_ERR_OBJECT_TOO_LARGE,
                   "a bundle over %d bytes", CA_LIMIT_BUNDLE_BYTES);
  if (bundle_field == 0) {
    CA_GUARD_RETURN(count_bundle(buf, len, &entries));
    bundles = 1;
  } else {
    pb_reader r = {buf, len, 0};
    while (r.pos < r.len) {
      uint64_t number;
      const uint8_t *data;
      size_t data_len;
      CA_GUARD_RETURN(next_field(&r, &number, &data, &data_len));
      if (number != bundle_field) {
        continue;
      }
      CA_ENSURE_RETURN(data != NULL, CA_ERR_BUNDLE_MALFORMED,
                       "bundle: bundles are messages");
      CA_ENSURE_RETURN(++bundles <= CA_LIMIT_BUNDLES, CA_ERR_OBJECT_TOO_LARGE,
                       "more than %d bundles", CA_LIMIT_BUNDLES);
      CA_GUARD_RETURN(count_bundle(data, data_len, &entries));
    }
  }
  *out_bundles = bundles;
  *out_entries = entries;
  return 1;
}

Pki__V1__Bundle *api_bundle_unpack(const uint8_t *buf, size_t len) {
  size_t bundles, entries;
  Pki__V1__Bundle *b = NULL;
  CA_GUARD(api_bundle_count(buf, len, 0, &bundles, &entries));
  b = pki__v1__bundle__unpack(NULL, len, buf);
  CA_ENSURE(b != NULL, CA_ERR_BUNDLE_MALFORMED, "not a pki.v1.Bundle");
  if (!api_pb_check_strings(&pki__v1__bundle__descriptor, buf, len)) {
    ca_err why;
    ca_err_copy(&why);
    CA_RAISE(CA_ERR_BUNDLE_MALFORMED, "%s", why.message);
  }
  return b;
err:
  pki__v1__bundle__free_unpacked(b, NULL);
  return NULL;
}

Pki__V1__ImportRequest *api_import_request_unpack(const uint8_t *buf,
                                                  size_t len) {
  size_t bundles, entries;
  Pki__V1__ImportRequest *r = NULL;
  CA_GUARD(api_bundle_count(buf, len, /*ImportRequest.bundle=*/1, &bundles,
                            &entries));
  r = pki__v1__import_request__unpack(NULL, len, buf);
  CA_ENSURE(r != NULL, CA_ERR_REQUEST_MALFORMED,
            "body is not a pki.v1.ImportRequest");
  CA_GUARD(
      api_pb_check_strings(&pki__v1__import_request__descriptor, buf, len));
  return r;
err:
  pki__v1__import_request__free_unpacked(r, NULL);
  return NULL;
}

Pki__V1__ConsolidateRequest *api_consolidate_request_unpack(const uint8_t *buf,
                                                            size_t len) {
  size_t bundles, entries;
  Pki__V1__ConsolidateRequest *r = NULL;
  CA_GUARD(api_bundle_count(buf, len, /*ConsolidateRequest.bundles=*/1,
                            &bundles, &entries));
  r = pki__v1__consolidate_request__unpack(NULL, len, buf);
  CA_ENSURE(r != NULL, CA_ERR_REQUEST_MALFORMED,
            "body is not a pki.v1.ConsolidateRequest");
  CA_GUARD(api_pb_check_strings(&pki__v1__consolidate_request__descriptor, buf,
                                len));
  return r;
err:
  pki__v1__consolidate_request__free_unpacked(r, NULL);
  return NULL;
}

int api_bundle_view(const Pki__V1__Bundle *bundle, ca_bundle_entry **out,
                    ca_bundle *view) {
  ca_bundle_entry *entries = NULL;
  CA_ENSURE(bundle->version <= 1, CA_ERR_BUNDLE_MALFORMED,
            "bundle version %u; this pki reads version 1", bundle->version);
  CA_ENSURE(bundle->n_entries <= CA_LIMIT_BUNDLE_ENTRIES,
            CA_ERR_OBJECT_TOO_LARGE, "more than %d entries",
            CA_LIMIT_BUNDLE_ENTRIES);
  // Handed to the caller, so OPENSSL_malloc (ARCHITECTURE.md, "Threads and
  // who owns what"); n_entries is bounded above, so the size cannot wrap.
  const size_t size = (bundle->n_entries + 1) * sizeof(*entries);
  entries = OPENSSL_malloc(size);
  CA_ENSURE_ALLOC(entries);
  memset(entries, 0, size);
  for (size_t i = 0; i < bundle->n_entries; i++) {
    const Pki__V1__BundleEntry *e = bundle->entries[i];
    const int revoked = strcmp(e->status, "revoked") == 0;
    CA_ENSURE(revoked || e->status[0] == '\0' || strcmp(e->status, "good") == 0,
              CA_ERR_BUNDLE_MALFORMED,
              "entry %zu: status must be good or revoked", i);
    entries[i] = (ca_bundle_entry){
        .cluster = e->cluster[0] != '\0' ? e->cluster : bundle->cluster,
        .node = e->node,
        .purpose = e->purpose,
        .der = e->certificate.data,
        .der_len = e->certificate.len,
        .issuer = e->issuer,
        .serial = e->serial,
        .revoked = revoked,
        .revoked_at = revoked ? e->revoked_at : 0,
        .revocation_reason = revoked ? e->revocation_reason : 0,
    };
    CA_GUARD(ca_bundle_entry_check(&entries[i], i));
  }
  view->cluster = bundle->cluster;
  view->entries = entries;
  view->n_entries = bundle->n_entries;
  *out = entries;
  return 1;
err:
  OPENSSL_free(entries);
  return 0;
}

void api_bundle_entry_fill(const ca_bundle_entry *e,
                           Pki__V1__BundleEntry *out) {
  pki__v1__bundle_entry__init(out);
  out->cluster = (char *)e->cluster;
  out->node = (char *)e->node;
  out->purpose = (char *)e->purpose;
  out->certificate.data = (uint8_t *)e->der;
  out->certificate.len = e->der_len;
  out->issuer = (char *)(e->issuer != NULL ? e->issuer : "");
  out->serial = (char *)(e->serial != NULL ? e->serial : "");
  out->status = e->revoked ? "revoked" : "good";
  out->revoked_at = e->revoked ? e->revoked_at : 0;
  out->revocation_reason = e->revoked ? e->revocation_reason : 0;
  out->external = e->external != 0;
}
