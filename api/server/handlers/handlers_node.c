// The node registry (POST, GET /v1/nodes; DELETE /v1/nodes/{fqdn}) and
// multi-server certificates (POST /v1/nodes:multiServer), README.md, "Node
// registry and multi-server certificates".
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/server/handlers/handlers.h"
#include "api/server/pb_scan.h"
#include "api/server/service.h"
#include "ca/policy/node.h"
#include "ca/store/store_node.h"
#include "proto/pki.pb-c.h"

// cluster_of reads ?cluster=, else pkid's --cluster.
static int cluster_of(const api_service *svc, const api_request *req,
                      const char **out) {
  CA_GUARD_RETURN(api_query_checked(req, "cluster", out));
  if (*out == NULL || (*out)[0] == '\0') {
    *out = svc->cluster;
  }
  return 1;
}

// fill_node makes the message of |node|; its strings stay |node|'s, the
// pointer array is |ptrs| (CA_NODE_MAX_ADDRESSES).
static void fill_node(const ca_node *node, char **ptrs, Pki__V1__Node *out) {
  pki__v1__node__init(out);
  out->cluster = (char *)node->cluster;
  out->fqdn = (char *)node->fqdn;
  out->short_name = (char *)node->short_name;
  out->product = (char *)ca_product_name(node->product);
  out->role = (char *)node->role;
  for (size_t i = 0; i < node->n_addresses; i++) {
    ptrs[i] = (char *)node->addresses[i];
  }
  out->addresses = ptrs;
  out->n_addresses = node->n_addresses;
}

void api_handle_node_add(api_service *svc, const api_request *req,
                         api_response *resp) {
  Pki__V1__Node *msg = NULL;
  size_t n_addresses;
  CA_GUARD(api_require_protobuf(req));
  // Counted before protobuf-c allocates them.
  CA_GUARD(api_pb_count_field(req->body, req->body_len,
                              /*Node.addresses=*/6, CA_NODE_MAX_ADDRESSES,
                              &n_addresses));
  msg = pki__v1__node__unpack(NULL, req->body_len, req->body);
  CA_ENSURE(msg != NULL, CA_ERR_REQUEST_MALFORMED, "body is not a pki.v1.Node");
  CA_GUARD(api_pb_check_strings(&pki__v1__node__descriptor, req->body,
                                req->body_len));
  const char *cluster = msg->cluster[0] != '\0' ? msg->cluster : svc->cluster;
  ca_node node;
  CA_GUARD(ca_node_make(cluster, msg->fqdn, msg->short_name, msg->product,
                        msg->role, (const char *const *)msg->addresses,
                        msg->n_addresses, &node));
  CA_GUARD(
      ca_store_node_add(svc->store, &node, req->principal.name, req->remote));
  char *ptrs[CA_NODE_MAX_ADDRESSES];
  Pki__V1__Node out;
  fill_node(&node, ptrs, &out);
  api_respond_message(resp, &out.base);
  pki__v1__node__free_unpacked(msg, NULL);
  return;
err:
  pki__v1__node__free_unpacked(msg, NULL);
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
}

void api_handle_node_list(api_service *svc, const api_request *req,
                          api_response *resp) {
  ca_node *nodes = NULL;
  size_t n = 0;
  Pki__V1__Node *msgs = NULL;
  Pki__V1__Node **ptrs = NULL;
  char **addresses = NULL;
  const char *cluster;
  CA_GUARD(api_query_checked(req, "cluster", &cluster));
  if (cluster != NULL && cluster[0] == '\0') {
    cluster = NULL;
  }
  CA_GUARD(ca_store_node_list(svc->store, cluster, &nodes, &n));
  msgs = calloc(n + 1, sizeof(*msgs));
  ptrs = calloc(n + 1, sizeof(*ptrs));
  addresses = calloc((n + 1) * CA_NODE_MAX_ADDRESSES, sizeof(*addresses));
  CA_ENSURE(msgs != NULL && ptrs != NULL && addresses != NULL, CA_ERR_NO_MEMORY,
            "out of memory");
  for (size_t i = 0; i < n; i++) {
    fill_node(&nodes[i], &addresses[i * CA_NODE_MAX_ADDRESSES], &msgs[i]);
    ptrs[i] = &msgs[i];
  }
  Pki__V1__NodeList out = PKI__V1__NODE_LIST__INIT;
  out.nodes = ptrs;
  out.n_nodes = n;
  api_respond_message(resp, &out.base);
  goto done;
err:
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
done:
  free(nodes);
  free(msgs);
  free(ptrs);
  free(addresses);
}

void api_handle_node_delete(api_service *svc, const api_request *req,
                            api_response *resp) {
  const char *cluster;
  CA_GUARD(cluster_of(svc, req, &cluster));
  CA_ENSURE(cluster != NULL, CA_ERR_PARAMETER_INVALID,
            "name the cluster: ?cluster=NAME (pkid has no --cluster)");
  CA_GUARD(ca_store_node_delete(svc->store, cluster, req->param,
                                req->principal.name, req->remote));
  api_respond_copy(resp, 200, "text/plain", "deleted\n", 8);
  return;
err:
  api_respond_error(resp, API_FORMAT_TEXT, ca_err_get());
}

// plan_request reads a MultiServerRequest and the cluster's registry, and
// writes the GenerateKeyRequest the product rules make of them into
// |*out_body| (malloc'd).
static int plan_request(api_service *svc, const api_request *req,
                        uint8_t **out_body, size_t *out_len) {
  int ret = 0;
  ca_node *nodes = NULL;
  size_t n = 0;
  ca_multi_server *plan = calloc(1, sizeof(*plan));
  Pki__V1__MultiServerRequest *msg =
      pki__v1__multi_server_request__unpack(NULL, req->body_len, req->body);
  CA_ENSURE_ALLOC(plan);
  CA_ENSURE(msg != NULL, CA_ERR_REQUEST_MALFORMED,
            "body is not a pki.v1.MultiServerRequest");
  CA_GUARD(api_pb_check_strings(&pki__v1__multi_server_request__descriptor,
                                req->body, req->body_len));
  const char *cluster = msg->cluster[0] != '\0' ? msg->cluster : svc->cluster;
  CA_ENSURE(cluster != NULL, CA_ERR_PARAMETER_INVALID,
            "name the cluster (pkid has no --cluster)");
  ca_product product;
  CA_GUARD(ca_product_parse(msg->product, &product));
  CA_GUARD(ca_store_node_list(svc->store, cluster, &nodes, &n));
  CA_GUARD(ca_multi_server_plan(nodes, n, msg->profile, product, plan));

  Pki__V1__Subject subject = PKI__V1__SUBJECT__INIT;
  if (msg->subject != NULL) {
    subject = *msg->subject;
  }
  subject.common_name = plan->common_name;
  char *sans[CA_LIMIT_SAN_COUNT];
  for (size_t i = 0; i < plan->n_sans; i++) {
    sans[i] = plan->sans[i];
  }
  Pki__V1__GenerateKeyRequest g = PKI__V1__GENERATE_KEY_REQUEST__INIT;
  g.profile = msg->profile;
  g.subject = &subject;
  g.sans = sans;
  g.n_sans = plan->n_sans;
  g.key_type = msg->key_type;
  g.validity_days = msg->validity_days;
  g.cluster = (char *)cluster;
  *out_len = pki__v1__generate_key_request__get_packed_size(&g);
  *out_body = malloc(*out_len + 1);
  CA_ENSURE_ALLOC(*out_body);
  pki__v1__generate_key_request__pack(&g, *out_body);
  ret = 1;
err:
  pki__v1__multi_server_request__free_unpacked(msg, NULL);
  free(nodes);
  free(plan);
  return ret;
}

void api_handle_node_multi_server(api_service *svc, const api_request *req,
                                  api_response *resp) {
  uint8_t *body = NULL;
  size_t len = 0;
  CA_GUARD(api_require_protobuf(req));
  CA_GUARD(plan_request(svc, req, &body, &len));
  // The issuance is keys:generate's, with the names the rules gave: the
  // same checks (access to the profile, key type, subject), the same
  // engine, the same record and audit. It decodes the body before it
  // returns, so |body| may go then.
  api_request forwarded = *req;
  forwarded.body = body;
  forwarded.body_len = len;
  api_handle_generate_key(svc, &forwarded, resp);
  free(body);
  return;
err:
  api_respond_error(resp, API_FORMAT_PROTOBUF, ca_err_get());
}
