// pki.v1.Bundle on the wire: the bounded decoding of bundles and import
// requests from elsewhere (another cluster's export, a shared SFTP
// directory), and their view as ca/exchange/bulk.h entries.
#ifndef PKI_API_BUNDLE_H
#define PKI_API_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/exchange/bulk.h"
#include "proto/pki.pb-c.h"

// api_bundle_count counts, before protobuf-c allocates anything, the
// bundles and entries of |buf|: a pki.v1.Bundle when |bundle_field| is 0,
// else a message holding Bundles in field |bundle_field| (ImportRequest:
// 1, ConsolidateRequest: 1). It returns 0 with CA_ERR_BUNDLE_MALFORMED for
// bad wire format, or CA_ERR_OBJECT_TOO_LARGE past CA_LIMIT_BUNDLES bundles
// or CA_LIMIT_BUNDLE_ENTRIES entries in all.
int api_bundle_count(const uint8_t *buf, size_t len, uint32_t bundle_field,
                     size_t *out_bundles, size_t *out_entries) CA_MUST_CHECK;

// api_bundle_view sets |*out| to a new array of the |bundle|'s
// entries as ca_bundle_entry (borrowing |bundle|'s strings and bytes; an
// entry without a cluster takes the bundle's) and fills |view|. It checks
// the version (1, or 0 when absent) and each entry (ca_bundle_entry_check);
// it returns 0 with CA_ERR_BUNDLE_MALFORMED. The caller frees |*out| with
// OPENSSL_free.
int api_bundle_view(const Pki__V1__Bundle *bundle, ca_bundle_entry **out,
                    ca_bundle *view) CA_MUST_CHECK;

// api_bundle_unpack counts (api_bundle_count) and then decodes a Bundle of
// |len| bytes. It returns NULL with CA_ERR_BUNDLE_MALFORMED or
// CA_ERR_OBJECT_TOO_LARGE. The caller frees it with
// pki__v1__bundle__free_unpacked.
Pki__V1__Bundle *api_bundle_unpack(const uint8_t *buf, size_t len);

// api_import_request_unpack decodes an ImportRequest in the same bounded
// way; a body that protobuf-c refuses is CA_ERR_REQUEST_MALFORMED. The
// caller frees it with pki__v1__import_request__free_unpacked.
Pki__V1__ImportRequest *api_import_request_unpack(const uint8_t *buf,
                                                  size_t len);

// api_consolidate_request_unpack decodes a ConsolidateRequest in the same
// bounded way. The caller frees it with
// pki__v1__consolidate_request__free_unpacked.
Pki__V1__ConsolidateRequest *api_consolidate_request_unpack(const uint8_t *buf,
                                                            size_t len);

// api_bundle_entry_fill points |out| at |e| (no copies; |status| must be
// the static "good" or "revoked" of |e|).
void api_bundle_entry_fill(const ca_bundle_entry *e, Pki__V1__BundleEntry *out);

#endif  // PKI_API_BUNDLE_H
