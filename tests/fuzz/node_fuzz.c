// Fuzz target: what an operator registers as a node (ca_node_make: FQDN,
// short name, product, role, addresses) and the multi-server plan made of
// the nodes accepted. The input is NUL-separated fields, taken in turn as
// cluster, fqdn, short name, product, role, the number of addresses (a
// digit) and the addresses; several nodes follow one
// another.
#include <string.h>

#include "ca/policy/node.h"
#include "tests/fuzz/fuzz.h"

#define MAX_NODES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  FUZZ_ASSERT(text != NULL);
  memcpy(text, data, size);
  text[size] = '\0';
  const char *fields[6 + CA_NODE_MAX_ADDRESSES] = {0};
  size_t n_fields = 0, n_nodes = 0;
  ca_node *nodes = calloc(MAX_NODES, sizeof(*nodes));
  FUZZ_ASSERT(nodes != NULL);
  for (size_t at = 0; at <= size && n_nodes < MAX_NODES;) {
    fields[n_fields++] = text + at;
    at += strlen(text + at) + 1;
    if (n_fields < 6 && at <= size) {
      continue;
    }
    while (n_fields < 6) {
      fields[n_fields++] = "";
    }
    // The field after the role says how many addresses follow: its first
    // byte, a digit or else taken modulo 10.
    const unsigned char c = (unsigned char)fields[5][0];
    const size_t want = c >= '0' && c <= '9' ? (size_t)(c - '0') : c % 10u;
    size_t n_addresses = 0;
    while (n_fields == 6 && at <= size && n_addresses < want) {
      const char *a = text + at;
      at += strlen(a) + 1;
      if (n_addresses < CA_NODE_MAX_ADDRESSES) {
        fields[6 + n_addresses] = a;
      }
      n_addresses++;
    }
    const size_t given = n_addresses < CA_NODE_MAX_ADDRESSES
                             ? n_addresses
                             : CA_NODE_MAX_ADDRESSES;
    ca_node *n = &nodes[n_nodes];
    if (ca_node_make(fields[0], fields[1], fields[2], fields[3], fields[4],
                     &fields[6], given, n)) {
      // What was accepted is canonical: accepting it again changes nothing.
      ca_node again;
      const char *addresses[CA_NODE_MAX_ADDRESSES];
      for (size_t i = 0; i < n->n_addresses; i++) {
        addresses[i] = n->addresses[i];
      }
      FUZZ_ASSERT(ca_node_make(n->cluster, n->fqdn, n->short_name,
                               ca_product_name(n->product), n->role, addresses,
                               n->n_addresses, &again));
      FUZZ_ASSERT(memcmp(&again, n, sizeof(again)) == 0);
      n_nodes++;
    } else {
      FUZZ_ASSERT_REFUSED();
    }
    ca_err_clear();
    n_fields = 0;
    memset(fields, 0, sizeof(fields));
  }
  static const char *const kProfiles[] = {"tomcat", "CallManager-ECDSA",
                                          "ipsec"};
  ca_multi_server *plan = malloc(sizeof(*plan));
  FUZZ_ASSERT(plan != NULL);
  for (size_t p = 0; p < CA_PRODUCT_COUNT; p++) {
    for (size_t k = 0; k < sizeof(kProfiles) / sizeof(kProfiles[0]); k++) {
      if (ca_multi_server_plan(nodes, n_nodes, kProfiles[k], (ca_product)p,
                               plan)) {
        FUZZ_ASSERT(plan->n_nodes >= 2 && plan->n_sans == plan->n_nodes + 1);
        FUZZ_ASSERT(strcmp(plan->sans[0], plan->common_name) == 0);
      } else {
        FUZZ_ASSERT_REFUSED();
      }
      ca_err_clear();
    }
  }
  free(plan);
  free(nodes);
  free(text);
  return 0;
}
