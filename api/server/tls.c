#include "api/server/tls.h"

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

// A chain is the certificate, its issuing CA and the root.
#define MAX_CHAIN 8

typedef struct identity {
  gnutls_pcert_st certs[MAX_CHAIN];
  unsigned n_certs;
  gnutls_privkey_t key;
  struct identity *older;  // replaced identities, freed at shutdown
} identity;

static _Atomic(identity *) g_current;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

// The master key of session tickets: random, made at the first listener's
// start, never written anywhere, wiped at shutdown. GnuTLS derives the key
// that encrypts tickets from it and rotates that key by itself, so a stolen
// ticket opens nothing after its lifetime (API_TLS_TICKET_SECONDS).
static gnutls_datum_t g_ticket_key;
static pthread_once_t g_ticket_once = PTHREAD_ONCE_INIT;
static int g_ticket_ok;

static void ticket_key_make(void) {
  g_ticket_ok = gnutls_session_ticket_key_generate(&g_ticket_key) >= 0;
}

static int retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn,
                    int nreqs, const gnutls_pk_algorithm_t *pk_algos,
                    int pk_algos_length, gnutls_pcert_st **pcert,
                    unsigned int *pcert_length, gnutls_privkey_t *key) {
  (void)session;
  (void)req_ca_dn;
  (void)nreqs;
  (void)pk_algos;
  (void)pk_algos_length;
  identity *id = atomic_load(&g_current);
  if (id == NULL) {
    return -1;  // the handshake fails; no certificate yet
  }
  *pcert = id->certs;
  *pcert_length = id->n_certs;
  *key = id->key;
  return 0;
}

void *api_tls_retrieve_function(void) {
  return (void *)retrieve;
}

static void identity_free(identity *id) {
  for (unsigned i = 0; i < id->n_certs; i++) {
    gnutls_pcert_deinit(&id->certs[i]);
  }
  if (id->key != NULL) {
    gnutls_privkey_deinit(id->key);
  }
  free(id);
}

int api_tls_set(const char *chain_pem, size_t chain_len, const char *key_der,
                size_t key_len) {
  identity *id = calloc(1, sizeof(*id));
  CA_ENSURE_ALLOC(id);
  CA_ENSURE(chain_len <= UINT32_MAX && key_len <= UINT32_MAX, CA_ERR_CONFIG,
            "TLS certificate or key too large");
  const gnutls_datum_t chain = {(unsigned char *)chain_pem,
                                (unsigned)chain_len};
  unsigned n = MAX_CHAIN;
  int rc = gnutls_pcert_list_import_x509_raw(id->certs, &n, &chain,
                                             GNUTLS_X509_FMT_PEM, 0);
  CA_ENSURE(rc >= 0 && n > 0, CA_ERR_CONFIG,
            "cannot read the TLS certificate chain: %s", gnutls_strerror(rc));
  id->n_certs = n;
  CA_ENSURE(gnutls_privkey_init(&id->key) >= 0, CA_ERR_NO_MEMORY,
            "out of memory");
  const gnutls_datum_t key = {(unsigned char *)key_der, (unsigned)key_len};
  rc = gnutls_privkey_import_x509_raw(id->key, &key, GNUTLS_X509_FMT_DER, NULL,
                                      0);
  CA_ENSURE(rc >= 0, CA_ERR_CONFIG, "cannot read the TLS key: %s",
            gnutls_strerror(rc));
  pthread_mutex_lock(&g_mu);
  id->older = atomic_load(&g_current);
  atomic_store(&g_current, id);
  pthread_mutex_unlock(&g_mu);
  return 1;
err:
  if (id != NULL) {
    identity_free(id);
  }
  return 0;
}

int api_tls_resumption_init(void) {
  pthread_once(&g_ticket_once, ticket_key_make);
  CA_ENSURE_RETURN(g_ticket_ok, CA_ERR_CONFIG,
                   "cannot make the TLS session ticket key");
  return 1;
}

int api_tls_enable_resumption(void *session) {
  gnutls_session_t s = session;
  CA_ENSURE_RETURN(g_ticket_ok, CA_ERR_INTERNAL, "no session ticket key");
  const int rc = gnutls_session_ticket_enable_server(s, &g_ticket_key);
  CA_ENSURE_RETURN(rc >= 0, CA_ERR_INTERNAL,
                   "cannot enable session tickets: %s", gnutls_strerror(rc));
  gnutls_db_set_cache_expiration(s, API_TLS_TICKET_SECONDS);
  return 1;
}

int api_tls_ready(void) {
  return atomic_load(&g_current) != NULL;
}

void api_tls_shutdown(void) {
  pthread_mutex_lock(&g_mu);
  identity *id = atomic_exchange(&g_current, NULL);
  pthread_mutex_unlock(&g_mu);
  while (id != NULL) {
    identity *older = id->older;
    identity_free(id);
    id = older;
  }
  if (g_ticket_key.data != NULL) {
    gnutls_memset(g_ticket_key.data, 0, g_ticket_key.size);
    gnutls_free(g_ticket_key.data);
    g_ticket_key.data = NULL;
    g_ticket_key.size = 0;
  }
}
