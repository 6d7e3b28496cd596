// Fuzz target: protobuf request bodies, the way
// api/server/handlers/handlers_issue.c reads them: api_pb_count_field first
// (the bound on what protobuf-c may allocate), then protobuf-c's unpacking into
// the messages the API takes.
#include <stddef.h>
#include <stdint.h>

#include "api/server/pb_scan.h"
#include "ca/limits.h"
#include "proto/pki.pb-c.h"
#include "tests/fuzz/fuzz.h"

// BatchIssueRequest.items, as counted by api_handle_batch_issue.
#define BATCH_ITEMS_FIELD 2

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
  return 0;
}
