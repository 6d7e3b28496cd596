// A bounded FIFO of pointers between threads (pkictl_queue.h).
#include "api/cli/pkictl_queue.h"

#include <stdlib.h>
#include <string.h>

int pkictl_queue_init(pkictl_queue *q, size_t cap) {
  memset(q, 0, sizeof(*q));
  q->cap = cap > 0 ? cap : 1;
  q->ring = calloc(q->cap, sizeof(q->ring[0]));
  if (q->ring == NULL) {
    return 0;
  }
  if (pthread_mutex_init(&q->mu, NULL) != 0) {
    free(q->ring);
    return 0;
  }
  if (pthread_cond_init(&q->not_empty, NULL) != 0) {
    pthread_mutex_destroy(&q->mu);
    free(q->ring);
    return 0;
  }
  if (pthread_cond_init(&q->not_full, NULL) != 0) {
    pthread_cond_destroy(&q->not_empty);
    pthread_mutex_destroy(&q->mu);
    free(q->ring);
    return 0;
  }
  return 1;
}

void pkictl_queue_destroy(pkictl_queue *q) {
  pthread_cond_destroy(&q->not_full);
  pthread_cond_destroy(&q->not_empty);
  pthread_mutex_destroy(&q->mu);
  free(q->ring);
  q->ring = NULL;
}

void pkictl_queue_push(pkictl_queue *q, void *item) {
  pthread_mutex_lock(&q->mu);
  while (q->n >= q->cap) {
    pthread_cond_wait(&q->not_full, &q->mu);
  }
  q->ring[(q->head + q->n) % q->cap] = item;
  q->n++;
  pthread_cond_signal(&q->not_empty);
  pthread_mutex_unlock(&q->mu);
}

void *pkictl_queue_pop(pkictl_queue *q) {
  pthread_mutex_lock(&q->mu);
  while (q->n == 0 && !q->closed) {
    pthread_cond_wait(&q->not_empty, &q->mu);
  }
  void *item = NULL;
  if (q->n > 0) {
    item = q->ring[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    pthread_cond_signal(&q->not_full);
  }
  pthread_mutex_unlock(&q->mu);
  return item;
}

void pkictl_queue_close(pkictl_queue *q) {
  pthread_mutex_lock(&q->mu);
  q->closed = 1;
  pthread_cond_broadcast(&q->not_empty);
  pthread_mutex_unlock(&q->mu);
}
