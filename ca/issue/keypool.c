#include "ca/issue/keypool.h"

#include <openssl/evp.h>
#include <openssl/nid.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
  const char *name;
  ca_key_spec spec;
  size_t default_target;
} kKinds[CA_KEYPOOL_KINDS] = {
    {"RSA-2048", {CA_KEY_RSA, 2048, 0}, 8},
    {"RSA-3072", {CA_KEY_RSA, 3072, 0}, 2},
    {"RSA-4096", {CA_KEY_RSA, 4096, 0}, 1},
    {"EC-P256", {CA_KEY_EC, 0, NID_X9_62_prime256v1}, 32},
    {"EC-P384", {CA_KEY_EC, 0, NID_secp384r1}, 16},
};

struct ca_keypool {
  pthread_mutex_t mu;
  pthread_cond_t cv;  // a key was taken, or stopping
  EVP_PKEY **keys[CA_KEYPOOL_KINDS];
  size_t count[CA_KEYPOOL_KINDS];
  size_t target[CA_KEYPOOL_KINDS];
  uint64_t from_pool, on_demand;
  int stopping;
  pthread_t thread;
  int started;
};

const char *ca_keypool_kind_name(ca_keypool_kind kind) {
  return (unsigned)kind < CA_KEYPOOL_KINDS ? kKinds[kind].name : "?";
}

void ca_keypool_config_init(ca_keypool_config *config) {
  for (int i = 0; i < CA_KEYPOOL_KINDS; i++) {
    config->target[i] = kKinds[i].default_target;
  }
}

int ca_keypool_config_parse(ca_keypool_config *config, const char *text) {
  if (strcmp(text, "none") == 0) {
    memset(config, 0, sizeof(*config));
    return 1;
  }
  int ret = 0;
  char *copy = strdup(text);
  CA_ENSURE_ALLOC(copy);
  char *save = NULL;
  for (char *item = strtok_r(copy, ",", &save); item != NULL;
       item = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(item, '=');
    CA_ENSURE(eq != NULL, CA_ERR_PARAMETER_INVALID,
              "key pool: \"%.32s\" is not KIND=COUNT", item);
    *eq = '\0';
    ca_key_spec spec;
    CA_GUARD(ca_key_spec_parse(&spec, item));
    int kind = -1;
    for (int i = 0; i < CA_KEYPOOL_KINDS; i++) {
      if (kKinds[i].spec.type == spec.type &&
          kKinds[i].spec.rsa_bits == spec.rsa_bits &&
          kKinds[i].spec.curve_nid == spec.curve_nid) {
        kind = i;
      }
    }
    CA_ENSURE(kind >= 0, CA_ERR_PARAMETER_INVALID,
              "key pool: no pool for %.32s", item);
    char *end;
    const unsigned long n = strtoul(eq + 1, &end, 10);
    CA_ENSURE(*end == '\0' && eq[1] != '\0' && n <= CA_KEYPOOL_MAX,
              CA_ERR_PARAMETER_INVALID,
              "key pool: the count of %s must be 0 to %d", kKinds[kind].name,
              CA_KEYPOOL_MAX);
    config->target[kind] = n;
  }
  ret = 1;
err:
  free(copy);
  return ret;
}

static int kind_of(const ca_key_spec *spec) {
  for (int i = 0; i < CA_KEYPOOL_KINDS; i++) {
    if (kKinds[i].spec.type == spec->type &&
        kKinds[i].spec.rsa_bits == spec->rsa_bits &&
        kKinds[i].spec.curve_nid == spec->curve_nid) {
      return i;
    }
  }
  return -1;
}

// neediest returns the kind furthest below its target, or -1 when all are
// full. Called with the lock held.
static int neediest(const ca_keypool *pool) {
  int best = -1;
  double best_fill = 1.0;
  for (int i = 0; i < CA_KEYPOOL_KINDS; i++) {
    if (pool->count[i] >= pool->target[i]) {
      continue;
    }
    const double fill = (double)pool->count[i] / (double)pool->target[i];
    if (best < 0 || fill < best_fill) {
      best = i;
      best_fill = fill;
    }
  }
  return best;
}

static void *fill_main(void *arg) {
  ca_keypool *pool = arg;
  // The lowest priority: the pool fills with CPU time signing does not use.
  // (Linux applies the nice value to the calling thread alone.)
  (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
  pthread_mutex_lock(&pool->mu);
  for (;;) {
    int kind;
    while (!pool->stopping && (kind = neediest(pool)) < 0) {
      pthread_cond_wait(&pool->cv, &pool->mu);
    }
    if (pool->stopping) {
      break;
    }
    pthread_mutex_unlock(&pool->mu);
    EVP_PKEY *key = ca_key_generate(&kKinds[kind].spec);
    pthread_mutex_lock(&pool->mu);
    if (key == NULL) {
      // Generation does not fail unless memory is short: try again later
      // rather than spin.
      pthread_mutex_unlock(&pool->mu);
      sleep(1);
      pthread_mutex_lock(&pool->mu);
      continue;
    }
    if (pool->count[kind] < pool->target[kind]) {
      pool->keys[kind][pool->count[kind]++] = key;
    } else {
      EVP_PKEY_free(key);
    }
  }
  pthread_mutex_unlock(&pool->mu);
  return NULL;
}

int ca_keypool_start(const ca_keypool_config *config, ca_keypool **out) {
  ca_keypool *pool = calloc(1, sizeof(*pool));
  CA_ENSURE_ALLOC(pool);
  CA_ENSURE(pthread_mutex_init(&pool->mu, NULL) == 0 &&
                pthread_cond_init(&pool->cv, NULL) == 0,
            CA_ERR_INTERNAL, "cannot create the key pool's locks");
  for (int i = 0; i < CA_KEYPOOL_KINDS; i++) {
    CA_ENSURE(config->target[i] <= CA_KEYPOOL_MAX, CA_ERR_CONFIG,
              "key pool: at most %d keys of a kind", CA_KEYPOOL_MAX);
    pool->target[i] = config->target[i];
    if (pool->target[i] > 0) {
      pool->keys[i] = calloc(pool->target[i], sizeof(EVP_PKEY *));
      CA_ENSURE_ALLOC(pool->keys[i]);
    }
  }
  CA_ENSURE(pthread_create(&pool->thread, NULL, fill_main, pool) == 0,
            CA_ERR_INTERNAL, "cannot start the key pool");
  pool->started = 1;
  *out = pool;
  return 1;
err:
  ca_keypool_stop(pool);
  return 0;
}

EVP_PKEY *ca_keypool_take(ca_keypool *pool, const ca_key_spec *spec,
                          int *out_from_pool) {
  *out_from_pool = 0;
  const int kind = kind_of(spec);
  if (pool != NULL && kind >= 0) {
    pthread_mutex_lock(&pool->mu);
    if (pool->count[kind] > 0) {
      EVP_PKEY *key = pool->keys[kind][--pool->count[kind]];
      pool->keys[kind][pool->count[kind]] = NULL;
      pool->from_pool++;
      pthread_cond_signal(&pool->cv);
      pthread_mutex_unlock(&pool->mu);
      *out_from_pool = 1;
      return key;
    }
    pool->on_demand++;
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
  }
  return ca_key_generate(spec);
}

void ca_keypool_get_stats(ca_keypool *pool, ca_keypool_stats *out) {
  memset(out, 0, sizeof(*out));
  if (pool == NULL) {
    return;
  }
  pthread_mutex_lock(&pool->mu);
  for (int i = 0; i < CA_KEYPOOL_KINDS; i++) {
    out->ready[i] = pool->count[i];
    out->target[i] = pool->target[i];
  }
  out->from_pool = pool->from_pool;
  out->on_demand = pool->on_demand;
  pthread_mutex_unlock(&pool->mu);
}

void ca_keypool_stop(ca_keypool *pool) {
  if (pool == NULL) {
    return;
  }
  if (pool->started) {
    pthread_mutex_lock(&pool->mu);
    pool->stopping = 1;
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    // The thread may be in the middle of an RSA-4096 generation: joining
    // waits for it, at most a few seconds.
    pthread_join(pool->thread, NULL);
  }
  for (int i = 0; i < CA_KEYPOOL_KINDS; i++) {
    for (size_t k = 0; k < pool->count[i]; k++) {
      EVP_PKEY_free(pool->keys[i][k]);
    }
    free(pool->keys[i]);
  }
  pthread_mutex_destroy(&pool->mu);
  pthread_cond_destroy(&pool->cv);
  free(pool);
}
