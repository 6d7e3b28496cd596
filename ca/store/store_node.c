// The node registry (ca/store/store_node.h).
#include "ca/store/store_node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/store/store_internal.h"

// addresses_param formats |node|'s addresses as an inet[] literal; each is
// the canonical text of ca_node_make, which needs no quoting.
static void addresses_param(const ca_node *node, char *out, size_t len) {
  size_t used = (size_t)snprintf(out, len, "{");
  for (size_t i = 0; i < node->n_addresses && used < len; i++) {
    used += (size_t)snprintf(out + used, len - used, "%s%s", i > 0 ? "," : "",
                             node->addresses[i]);
  }
  if (used < len) {
    snprintf(out + used, len - used, "}");
  }
}

int ca_store_node_add(ca_store *store, const ca_node *node, const char *actor,
                      const char *source) {
  ca_store_tx *tx = NULL;
  char addresses[CA_NODE_MAX_ADDRESSES * CA_NODE_ADDRESS_LEN + 4];
  addresses_param(node, addresses, sizeof(addresses));
  const char *values[7] = {node->cluster,
                           node->fqdn,
                           node->short_name,
                           ca_product_name(node->product),
                           node->role,
                           addresses,
                           actor};
  CA_GUARD(ca_store_begin(store, &tx));
  PGresult *res = ca_store_tx_query(
      tx,
      "INSERT INTO nodes (cluster, fqdn, short_name, product, role, addresses,"
      " created_by) VALUES ($1, $2, $3, $4, $5, $6::inet[], $7)",
      7, values, NULL, NULL, PGRES_COMMAND_OK, "registering a node");
  if (res == NULL && ca_err_get()->code == CA_ERR_CONFLICT) {
    CA_SET_ERROR(CA_ERR_CONFLICT, "cluster %s already holds %s, or a %s %s%s",
                 node->cluster, node->fqdn, ca_product_name(node->product),
                 node->role[0] != '\0' ? "node " : "node", node->role);
  }
  CA_GUARD(res != NULL);
  PQclear(res);
  char object[CA_LIMIT_CLUSTER_LEN + CA_LIMIT_DNS_NAME_LEN + 8], detail[600];
  snprintf(object, sizeof(object), "node:%s/%s", node->cluster, node->fqdn);
  snprintf(detail, sizeof(detail), "short=%s product=%s role=%s addresses=%s",
           node->short_name, ca_product_name(node->product),
           node->role[0] != '\0' ? node->role : "-", addresses);
  CA_GUARD(
      ca_store_tx_audit(tx, actor, "node.add", object, source, "ok", detail));
  CA_GUARD(ca_store_commit(&tx));
  return 1;
err:
  ca_store_rollback(tx);
  return 0;
}

// decode_node reads one row of the listing back into a ca_node: the stored
// values were checked by ca_node_make, and are checked again on the way in
// (a row written by hand must not overflow anything).
static int decode_node(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_node *n = elem;
  const char *addresses[CA_NODE_MAX_ADDRESSES];
  char list[CA_NODE_MAX_ADDRESSES * CA_NODE_ADDRESS_LEN + 4];
  size_t n_addresses = 0;
  snprintf(list, sizeof(list), "%s", PQgetvalue(res, i, 5));
  for (char *save = NULL, *a = strtok_r(list, ",", &save); a != NULL;
       a = strtok_r(NULL, ",", &save)) {
    CA_ENSURE_RETURN(n_addresses < CA_NODE_MAX_ADDRESSES, CA_ERR_INTERNAL,
                     "a stored node has too many addresses");
    addresses[n_addresses++] = a;
  }
  CA_GUARD_RETURN(ca_node_make(
      PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
      PQgetvalue(res, i, 3), PQgetvalue(res, i, 4), addresses, n_addresses, n));
  return 1;
}

static const ca_store_row_type kNodeRows = {sizeof(ca_node), decode_node, NULL};

int ca_store_node_list(ca_store *store, const char *cluster, ca_node **out,
                       size_t *n) {
  *out = NULL;
  *n = 0;
  const char *values[1] = {cluster};
  // host() writes an address without its /32 or /128.
  const ca_store_stmt stmt = {
      .sql =
          "SELECT cluster, fqdn, short_name, product, role,"
          " coalesce((SELECT string_agg(host(a), ',' ORDER BY o)"
          "  FROM unnest(addresses) WITH ORDINALITY AS x(a, o)), '')"
          " FROM nodes WHERE $1::text IS NULL OR cluster = $1"
          " ORDER BY cluster, fqdn",
      .n_params = 1,
      .values = values,
      .what = "listing nodes"};
  ca_store_rows rows;
  CA_GUARD_RETURN(ca_store_read_rows(store, &stmt, &kNodeRows, NULL,
                                     CA_STORE_NODE_LIST_MAX, &rows));
  if (rows.more) {
    free(rows.rows);
    CA_SET_ERROR(CA_ERR_OBJECT_TOO_LARGE, "more than %d nodes: name a cluster",
                 CA_STORE_NODE_LIST_MAX);
    return 0;
  }
  *out = rows.rows;
  *n = rows.n;
  return 1;
}

int ca_store_node_delete(ca_store *store, const char *cluster, const char *fqdn,
                         const char *actor, const char *source) {
  ca_store_tx *tx = NULL;
  const char *values[2] = {cluster, fqdn};
  CA_GUARD(ca_store_begin(store, &tx));
  PGresult *res = ca_store_tx_query(
      tx,
      "DELETE FROM nodes WHERE cluster = $1 AND fqdn = lower($2)"
      " RETURNING fqdn, product",
      2, values, NULL, NULL, PGRES_TUPLES_OK, "removing a node");
  CA_GUARD(res != NULL);
  const int hit = PQntuples(res) == 1;
  char object[CA_LIMIT_CLUSTER_LEN + CA_LIMIT_DNS_NAME_LEN + 8], detail[64];
  snprintf(object, sizeof(object), "node:%.64s/%.253s", cluster,
           hit ? PQgetvalue(res, 0, 0) : fqdn);
  snprintf(detail, sizeof(detail), "product=%.32s",
           hit ? PQgetvalue(res, 0, 1) : "");
  PQclear(res);
  CA_ENSURE(hit, CA_ERR_NOT_FOUND, "cluster %.64s has no node %.253s", cluster,
            fqdn);
  CA_GUARD(ca_store_tx_audit(tx, actor, "node.delete", object, source, "ok",
                             detail));
  CA_GUARD(ca_store_commit(&tx));
  return 1;
err:
  ca_store_rollback(tx);
  return 0;
}
