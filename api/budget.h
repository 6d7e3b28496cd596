// The memory budget of one listener for the request bodies it holds: a
// request reserves its declared Content-Length before any of its body is
// read (a chunked body, each growth of its buffer), and gives it back when
// its body is freed. A reservation that would pass the limit is refused,
// and the request answered 503 BUFFERS_FULL (api/http.c).
//
// DESIGN: lock-free counters (a compare-and-swap loop), since every HTTP
// thread reserves and releases; no request waits for the budget.
#ifndef PKI_API_BUDGET_H
#define PKI_API_BUDGET_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"

typedef struct api_budget {
  size_t limit;                  // bytes; fixed once serving
  atomic_size_t used;            // bytes reserved now
  atomic_size_t peak;            // the most reserved at once
  atomic_uint_fast64_t refused;  // reservations refused
} api_budget;

// api_budget_init sets |budget| to |limit| bytes, none reserved.
void api_budget_init(api_budget *budget, size_t limit);

// api_budget_reserve takes |n| bytes and returns 1, or returns 0 and
// counts a refusal when fewer than |n| are left. 0 bytes always succeed.
int api_budget_reserve(api_budget *budget, size_t n) CA_MUST_CHECK;

// api_budget_release gives back |n| bytes of a reservation.
void api_budget_release(api_budget *budget, size_t n);

// Readings for /metrics.
size_t api_budget_used(api_budget *budget);
size_t api_budget_peak(api_budget *budget);
uint64_t api_budget_refused(api_budget *budget);

#endif  // PKI_API_BUDGET_H
