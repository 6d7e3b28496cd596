// Helpers shared by the fuzz targets of tests/fuzz.
//
// Besides crashes, leaks and undefined behaviour, the targets check a few
// properties the headers promise; a broken promise aborts, which libFuzzer
// records as a crash with its input.
#ifndef PKI_TESTS_FUZZ_FUZZ_H
#define PKI_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ca/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                   \
  do {                                                                      \
    if (!(cond)) {                                                          \
      const ca_err *fuzz_err_ = ca_err_get();                               \
      fprintf(stderr,                                                       \
              "%s:%d: FUZZ_ASSERT(%s) failed; last error %s (%s) "          \
              "raised at %s:%d\n",                                          \
              __FILE__, __LINE__, #cond, ca_err_code_name(fuzz_err_->code), \
              fuzz_err_->message,                                           \
              fuzz_err_->file != NULL ? fuzz_err_->file : "?",              \
              fuzz_err_->line);                                             \
      abort();                                                              \
    }                                                                       \
  } while (0)

// FUZZ_ASSERT_REFUSED checks the calling thread's error after a call failed
// on untrusted input: a refusal names what is wrong with the input
// (ARCHITECTURE.md invariant 8), never CA_ERR_INTERNAL or CA_ERR_NO_MEMORY, which
// would mean a server error (HTTP 5xx) for a client's mistake. Allocations
// do not fail under the sanitizers, so NO_MEMORY is always a mislabel here.
#define FUZZ_ASSERT_REFUSED()                          \
  FUZZ_ASSERT(ca_err_get()->code != CA_OK &&           \
              ca_err_get()->code != CA_ERR_INTERNAL && \
              ca_err_get()->code != CA_ERR_NO_MEMORY)

#endif  // PKI_TESTS_FUZZ_FUZZ_H
