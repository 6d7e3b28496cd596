// A bounded FIFO of pointers between the threads of a pkictl command
// (pkictl batch: CSR chunks to send and answers to write; pkictl revoke:
// batches to send and emptied ones to fill again).
#ifndef PKI_API_CLI_PKICTL_QUEUE_H
#define PKI_API_CLI_PKICTL_QUEUE_H

#include <pthread.h>
#include <stddef.h>

typedef struct pkictl_queue {
  pthread_mutex_t mu;
  pthread_cond_t not_empty, not_full;
  void **ring;  // |cap| slots, the oldest item at |head|
  size_t head, n, cap;
  int closed;
} pkictl_queue;

// pkictl_queue_init makes |q| hold at most |cap| (at least 1) items; it
// returns 0 when out of memory.
int pkictl_queue_init(pkictl_queue *q, size_t cap);

// pkictl_queue_destroy frees what |q| allocated, not the items left in it.
void pkictl_queue_destroy(pkictl_queue *q);

// pkictl_queue_push waits for room and appends |item|; the queue holds it
// for whoever pops it.
void pkictl_queue_push(pkictl_queue *q, void *item);

// pkictl_queue_pop waits for an item and returns it (the caller's now), or
// NULL once the queue is closed and empty.
void *pkictl_queue_pop(pkictl_queue *q);

// pkictl_queue_close wakes every waiter of pkictl_queue_pop: what is left
// is popped, then NULL.
void pkictl_queue_close(pkictl_queue *q);

#endif  // PKI_API_CLI_PKICTL_QUEUE_H
