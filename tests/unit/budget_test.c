// Unit tests of api/budget.c: reservations up to the limit and not one
// byte past it, refusals counted and leaving nothing reserved, release,
// the peak, sizes near SIZE_MAX, and eight threads reserving and releasing
// at once without ever passing the limit or losing a byte.
#include <pthread.h>
#include <stdint.h>

#include "api/budget.h"
#include "tests/support/test.h"

TEST(reserve_up_to_the_limit_and_not_past_it) {
  api_budget b;
  api_budget_init(&b, 1000);
  CHECK_EQ_INT(api_budget_reserve(&b, 0), 1);
  CHECK_EQ_INT(api_budget_reserve(&b, 600), 1);
  CHECK_EQ_INT(api_budget_reserve(&b, 401), 0);  // one byte too many
  CHECK_EQ_INT(api_budget_used(&b), 600);        // the refusal took nothing
  CHECK_EQ_INT(api_budget_refused(&b), 1);
  CHECK_EQ_INT(api_budget_reserve(&b, 400), 1);  // exactly the rest
  CHECK_EQ_INT(api_budget_used(&b), 1000);
  CHECK_EQ_INT(api_budget_reserve(&b, 1), 0);
  CHECK_EQ_INT(api_budget_reserve(&b, 0), 1);  // nothing is always there
  CHECK_EQ_INT(api_budget_refused(&b), 2);
  api_budget_release(&b, 600);
  CHECK_EQ_INT(api_budget_used(&b), 400);
  CHECK_EQ_INT(api_budget_reserve(&b, 600), 1);
  api_budget_release(&b, 1000);
  CHECK_EQ_INT(api_budget_used(&b), 0);
  CHECK_EQ_INT(api_budget_peak(&b), 1000);
}

TEST(a_request_larger_than_the_whole_budget) {
  api_budget b;
  api_budget_init(&b, 4096);
  CHECK_EQ_INT(api_budget_reserve(&b, 4097), 0);
  CHECK_EQ_INT(api_budget_reserve(&b, SIZE_MAX), 0);  // no overflow
  CHECK_EQ_INT(api_budget_used(&b), 0);
  CHECK_EQ_INT(api_budget_peak(&b), 0);
  CHECK_EQ_INT(api_budget_reserve(&b, 4096), 1);
  CHECK_EQ_INT(api_budget_reserve(&b, SIZE_MAX), 0);
  CHECK_EQ_INT(api_budget_used(&b), 4096);
}

TEST(the_largest_budget) {
  api_budget b;
  api_budget_init(&b, SIZE_MAX);
  CHECK_EQ_INT(api_budget_reserve(&b, SIZE_MAX - 1), 1);
  CHECK_EQ_INT(api_budget_reserve(&b, 2), 0);
  CHECK_EQ_INT(api_budget_reserve(&b, 1), 1);
  CHECK(api_budget_used(&b) == SIZE_MAX);
}

// --- eight threads at once ---

#define THREADS 8
#define ROUNDS 200000
#define LIMIT 1000

static api_budget g_budget;
static atomic_int g_over;  // a reading above the limit

static void *worker(void *arg) {
  const size_t n = (size_t)(uintptr_t)arg;
  for (int i = 0; i < ROUNDS; i++) {
    if (api_budget_reserve(&g_budget, n)) {
      if (api_budget_used(&g_budget) > LIMIT) {
        atomic_store(&g_over, 1);
      }
      api_budget_release(&g_budget, n);
    }
  }
  return NULL;
}

TEST(threads_never_pass_the_limit_nor_lose_a_byte) {
  api_budget_init(&g_budget, LIMIT);
  atomic_init(&g_over, 0);
  pthread_t threads[THREADS];
  for (int i = 0; i < THREADS; i++) {
    // 300 bytes each: three fit, the others are refused.
    CHECK_EQ_INT(
        pthread_create(&threads[i], NULL, worker, (void *)(uintptr_t)300), 0);
  }
  for (int i = 0; i < THREADS; i++) {
    CHECK_EQ_INT(pthread_join(threads[i], NULL), 0);
  }
  CHECK_EQ_INT(atomic_load(&g_over), 0);
  CHECK_EQ_INT(api_budget_used(&g_budget), 0);
  CHECK(api_budget_peak(&g_budget) <= LIMIT);
  CHECK(api_budget_peak(&g_budget) >= 300);
}

int main(void) {
  RUN(reserve_up_to_the_limit_and_not_past_it);
  RUN(a_request_larger_than_the_whole_budget);
  RUN(the_largest_budget);
  RUN(threads_never_pass_the_limit_nor_lose_a_byte);
  return test_summary();
}
