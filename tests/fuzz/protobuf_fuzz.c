// Fuzz target: protobuf request bodies, the way
// api/server/handlers/handlers_issue.c reads them: api_pb_count_field first
// (the bound on what protobuf-c may allocate), then protobuf-c's unpacking into
// the messages the API takes, and api_pb_check_strings, which refuses a NUL
// byte in a string field (never anything protobuf-c itself packs).
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "api/server/pb_scan.h"
#include "ca/limits.h"
#include "proto/pki.pb-c.h"
#include "tests/fuzz/fuzz.h"

// BatchIssueRequest.items, as counted by api_handle_batch_issue.
#define BATCH_ITEMS_FIELD 2

// check_strings runs api_pb_check_strings on |data| as |desc|: a refusal
// is REQUEST_MALFORMED, and when protobuf-c unpacks the body, what it
// packs again (strings by strlen, so without NUL) always passes.
static void check_strings(const ProtobufCMessageDescriptor *desc,
                          const uint8_t *data, size_t size) {
  ca_err_clear();
  if (!api_pb_check_strings(desc, data, size)) {
    FUZZ_ASSERT(ca_err_get()->code == CA_ERR_REQUEST_MALFORMED);
  }
  ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, size, data);
  if (m == NULL) {
    return;
  }
  const size_t len = protobuf_c_message_get_packed_size(m);
  uint8_t *again = malloc(len > 0 ? len : 1);
  FUZZ_ASSERT(again != NULL);
  FUZZ_ASSERT(protobuf_c_message_pack(m, again) == len);
  ca_err_clear();
  FUZZ_ASSERT(api_pb_check_strings(desc, again, len));
  free(again);
  protobuf_c_message_free_unpacked(m, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t count = 0;
  if (!api_pb_count_field(data, size, BATCH_ITEMS_FIELD, CA_LIMIT_BATCH_ITEMS,
                          &count)) {
    const ca_err_code code = ca_err_get()->code;
    FUZZ_ASSERT(code == CA_ERR_REQUEST_MALFORMED ||
                code == CA_ERR_BATCH_TOO_LARGE);
    return 0;
  }
  FUZZ_ASSERT(count <= CA_LIMIT_BATCH_ITEMS);

  Pki__V1__BatchIssueRequest *batch =
      pki__v1__batch_issue_request__unpack(NULL, size, data);
  if (batch != NULL) {
    // The count is what makes the limit hold: protobuf-c must not find
    // more items than the scan did.
    FUZZ_ASSERT(batch->n_items <= count);
    for (size_t i = 0; i < batch->n_items; i++) {
      FUZZ_ASSERT(batch->items[i] != NULL);
      FUZZ_ASSERT(batch->items[i]->profile != NULL);
      FUZZ_ASSERT(batch->items[i]->csr.len == 0 ||
                  batch->items[i]->csr.data != NULL);
    }
    FUZZ_ASSERT(batch->profile != NULL);
    pki__v1__batch_issue_request__free_unpacked(batch, NULL);
  }

  Pki__V1__IssueRequest *issue =
      pki__v1__issue_request__unpack(NULL, size, data);
  if (issue != NULL) {
    FUZZ_ASSERT(issue->profile != NULL);
    pki__v1__issue_request__free_unpacked(issue, NULL);
  }

  check_strings(&pki__v1__batch_issue_request__descriptor, data, size);
  check_strings(&pki__v1__monitor_config__descriptor, data, size);
  check_strings(&pki__v1__generate_key_request__descriptor, data, size);
  return 0;
}
