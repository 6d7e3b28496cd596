// The node registry in PostgreSQL (migration 0016). Each change is one
// transaction with its audit row ("node.add", "node.delete").
#ifndef PKI_CA_STORE_NODE_H
#define PKI_CA_STORE_NODE_H

#include <stddef.h>

#include "ca/error.h"
#include "ca/policy/node.h"
#include "ca/store/store.h"

// Nodes one listing returns at most (every cluster together).
#define CA_STORE_NODE_LIST_MAX 10000

// ca_store_node_add records |node| (checked by ca_node_make) by |actor| from
// |source|. It returns 0 with CA_ERR_CONFLICT when the cluster already holds
// that FQDN, or the publisher (UCCX node 1 or 2, Finesse primary) of that
// product.
int ca_store_node_add(ca_store *store, const ca_node *node, const char *actor,
                      const char *source) CA_MUST_CHECK;

// ca_store_node_list returns the nodes of |cluster| (NULL: every cluster),
// ordered by cluster and FQDN, in |*out| (the caller frees it with free())
// and their number in |*n|.
int ca_store_node_list(ca_store *store, const char *cluster, ca_node **out,
                       size_t *n) CA_MUST_CHECK;

// ca_store_node_delete removes the node |fqdn| (compared lower-cased) of
// |cluster|. It returns 0 with CA_ERR_NOT_FOUND when there is none. The
// certificates that name it stay as they are.
int ca_store_node_delete(ca_store *store, const char *cluster, const char *fqdn,
                         const char *actor, const char *source) CA_MUST_CHECK;

#endif  // PKI_CA_STORE_NODE_H
