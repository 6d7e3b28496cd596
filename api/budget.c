#include "api/budget.h"

void api_budget_init(api_budget *budget, size_t limit) {
  budget->limit = limit;
  atomic_init(&budget->used, 0);
  atomic_init(&budget->peak, 0);
  atomic_init(&budget->refused, 0);
}

int api_budget_reserve(api_budget *budget, size_t n) {
  size_t used = atomic_load(&budget->used);
  size_t now;
  do {
    // Written so that nothing overflows: used <= limit always holds.
    if (n > budget->limit - used) {
      atomic_fetch_add(&budget->refused, 1);
      return 0;
    }
    now = used + n;
  } while (!atomic_compare_exchange_weak(&budget->used, &used, now));
  size_t peak = atomic_load(&budget->peak);
  while (now > peak &&
         !atomic_compare_exchange_weak(&budget->peak, &peak, now)) {
  }
  return 1;
}

void api_budget_release(api_budget *budget, size_t n) {
  atomic_fetch_sub(&budget->used, n);
}

size_t api_budget_used(api_budget *budget) {
  return atomic_load(&budget->used);
}

size_t api_budget_peak(api_budget *budget) {
  return atomic_load(&budget->peak);
}

uint64_t api_budget_refused(api_budget *budget) {
  return (uint64_t)atomic_load(&budget->refused);
}
