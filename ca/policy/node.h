// The node registry of a cluster (README.md, "Node registry and multi-server
// certificates"): what a node is (FQDN, short name, addresses, product, its
// role where a product rule needs one), the checks on what an operator
// registers, and the product rules that decide which nodes a multi-server
// (SAN) certificate names.
#ifndef PKI_CA_NODE_H
#define PKI_CA_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/limits.h"

// Addresses per node: a node has one or two interfaces, each with an IPv4
// and an IPv6 address at most; eight leaves room.
#define CA_NODE_MAX_ADDRESSES 8
// "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" and its NUL.
#define CA_NODE_ADDRESS_LEN 46
#define CA_NODE_LABEL_LEN 63
// Nodes one multi-server certificate may name: the CN is one more SAN.
#define CA_NODE_MAX_SHARED (CA_LIMIT_SAN_COUNT - 1)

typedef enum ca_product {
  CA_PRODUCT_CUCM,
  CA_PRODUCT_IMP,  // IM and Presence
  CA_PRODUCT_UCCX,
  CA_PRODUCT_MEDIASENSE,
  CA_PRODUCT_SOCIALMINER,
  CA_PRODUCT_FINESSE,
  CA_PRODUCT_UCCE,
  CA_PRODUCT_CUC,  // Unity Connection
  CA_PRODUCT_CER,  // Emergency Responder
  CA_PRODUCT_COUNT,
} ca_product;

typedef struct ca_node {
  char cluster[CA_LIMIT_CLUSTER_LEN + 1];
  char fqdn[CA_LIMIT_DNS_NAME_LEN + 1];
  char short_name[CA_NODE_LABEL_LEN + 1];
  ca_product product;
  // "publisher" or "subscriber" (CUCM, IM&P, CUC, CER); "1" or "2"
  // (UCCX); "primary" or "secondary" (Finesse); "" for the others.
  char role[16];
  char addresses[CA_NODE_MAX_ADDRESSES][CA_NODE_ADDRESS_LEN];
  size_t n_addresses;
} ca_node;

// ca_product_name returns the canonical name of |product| ("CUCM", "IM&P",
// "UCCX", ...): a static string.
const char *ca_product_name(ca_product product);

// ca_product_parse reads a product name, ASCII case-insensitive ("IMP" and
// "IM&P" both name IM and Presence). It returns 0 with
// CA_ERR_PARAMETER_INVALID listing the known names.
int ca_product_parse(const char *name, ca_product *out) CA_MUST_CHECK;

// ca_node_make checks what an operator registers and writes the canonical
// node into |out|: a valid cluster name; an FQDN of at least two LDH labels
// (lower-cased); a short name that is one LDH label (the FQDN's first label
// when |short_name| is NULL or ""); a product; the role its product rules
// need (lower-cased; none for products without roles); and up to
// CA_NODE_MAX_ADDRESSES IPv4 or IPv6 addresses, each written in its
// canonical text form, none twice. It returns 0 with
// CA_ERR_PARAMETER_INVALID naming the field.
int ca_node_make(const char *cluster, const char *fqdn, const char *short_name,
                 const char *product, const char *role,
                 const char *const *addresses, size_t n_addresses,
                 ca_node *out) CA_MUST_CHECK;

// The names of one multi-server certificate.
typedef struct ca_multi_server {
  char common_name[CA_LIMIT_DNS_NAME_LEN + 1];
  // The CN first, then the FQDN of every node it covers.
  char sans[CA_LIMIT_SAN_COUNT][CA_LIMIT_DNS_NAME_LEN + 1];
  size_t n_sans;
  size_t nodes[CA_NODE_MAX_SHARED];  // indices into the registry given
  size_t n_nodes;
} ca_multi_server;

// ca_multi_server_plan applies the product rules (README.md, "Node registry
// and multi-server certificates") to the |n| registered nodes |nodes| of
// one cluster, for a multi-server certificate of |profile| requested for
// |product|:
//   tomcat, tomcat-ECDSA: CUCM and IM&P -> every CUCM and IM&P node;
//     UCCX -> nodes 1 and 2 only; Finesse -> primary and secondary;
//   CallManager, CallManager-ECDSA: CUCM -> every CUCM node (IM&P runs no
//     CallManager service);
//   MediaSense, SocialMiner, and any other product or profile: none
//     (CA_ERR_PARAMETER_INVALID: one certificate per node).
// The CN is "<short name>-ms.<domain>" of the publisher (UCCX node 1,
// Finesse primary; else the first node by FQDN), as CUCM names its
// multi-server certificates. It returns 0 with CA_ERR_PARAMETER_INVALID when
// the rules refuse, or fewer than two nodes qualify (a single node needs no
// multi-server certificate).
int ca_multi_server_plan(const ca_node *nodes, size_t n, const char *profile,
                         ca_product product,
                         ca_multi_server *out) CA_MUST_CHECK;

#endif  // PKI_CA_NODE_H
