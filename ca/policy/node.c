#include "ca/policy/node.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca/x509/san.h"

static const struct {
  const char *name;
  const char *alias;  // also accepted on input
} kProducts[CA_PRODUCT_COUNT] = {
    [CA_PRODUCT_CUCM] = {"CUCM", "CallManager"},
    [CA_PRODUCT_IMP] = {"IM&P", "IMP"},
    [CA_PRODUCT_UCCX] = {"UCCX", NULL},
    [CA_PRODUCT_MEDIASENSE] = {"MediaSense", NULL},
    [CA_PRODUCT_SOCIALMINER] = {"SocialMiner", NULL},
    [CA_PRODUCT_FINESSE] = {"Finesse", NULL},
    [CA_PRODUCT_UCCE] = {"UCCE", NULL},
    [CA_PRODUCT_CUC] = {"CUC", "UnityConnection"},
    [CA_PRODUCT_CER] = {"CER", NULL},
};

#define PRODUCT_NAMES \
  "CUCM, IM&P, UCCX, MediaSense, SocialMiner, Finesse, UCCE, CUC, CER"

const char *ca_product_name(ca_product product) {
  return product < CA_PRODUCT_COUNT ? kProducts[product].name : "";
}

int ca_product_parse(const char *name, ca_product *out) {
  for (size_t i = 0; name != NULL && i < CA_PRODUCT_COUNT; i++) {
    if (strcasecmp(name, kProducts[i].name) == 0 ||
        (kProducts[i].alias != NULL &&
         strcasecmp(name, kProducts[i].alias) == 0)) {
      *out = (ca_product)i;
      return 1;
    }
  }
  CA_SET_ERROR(CA_ERR_PARAMETER_INVALID,
               "unknown product \"%.32s\" (known: %s)",
               name != NULL ? name : "", PRODUCT_NAMES);
  return 0;
}

// The roles a product's rules distinguish; NULL-terminated, empty for
// products without roles.
static const char *const *roles_of(ca_product product) {
  static const char *const kPublisher[] = {"publisher", "subscriber", NULL};
  static const char *const kUccx[] = {"1", "2", NULL};
  static const char *const kFinesse[] = {"primary", "secondary", NULL};
  static const char *const kNone[] = {NULL};
  switch (product) {
    case CA_PRODUCT_CUCM:
    case CA_PRODUCT_IMP:
    case CA_PRODUCT_CUC:
    case CA_PRODUCT_CER:
      return kPublisher;
    case CA_PRODUCT_UCCX:
      return kUccx;
    case CA_PRODUCT_FINESSE:
      return kFinesse;
    default:
      return kNone;
  }
}

// The rule of ca_bulk_cluster_check (cluster names become file names).
static int cluster_ok(const char *name) {
  const size_t len = strnlen(name, CA_LIMIT_CLUSTER_LEN + 1);
  if (len == 0 || len > CA_LIMIT_CLUSTER_LEN || strcmp(name, ".") == 0 ||
      strcmp(name, "..") == 0) {
    return 0;
  }
  return strspn(name,
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                "0123456789-_.") == len;
}

static void lower(char *s) {
  for (; *s != '\0'; s++) {
    if (*s >= 'A' && *s <= 'Z') {
      *s = (char)(*s - 'A' + 'a');
    }
  }
}

static int check_fqdn(const char *fqdn, ca_node *out) {
  const size_t len = strnlen(fqdn, CA_LIMIT_DNS_NAME_LEN + 1);
  CA_ENSURE_RETURN(len > 0 && len <= CA_LIMIT_DNS_NAME_LEN,
                   CA_ERR_PARAMETER_INVALID, "fqdn: 1 to %d characters",
                   CA_LIMIT_DNS_NAME_LEN);
  CA_ENSURE_RETURN(ca_dns_name_check((const uint8_t *)fqdn, len) &&
                       strchr(fqdn, '.') != NULL,
                   CA_ERR_PARAMETER_INVALID,
                   "fqdn: \"%.64s\" is not a fully qualified host name (LDH "
                   "labels, at least two, no wildcard, no trailing dot)",
                   fqdn);
  memcpy(out->fqdn, fqdn, len + 1);
  lower(out->fqdn);
  return 1;
}

static int check_short_name(const char *short_name, ca_node *out) {
  if (short_name == NULL || short_name[0] == '\0') {
    const size_t first = strcspn(out->fqdn, ".");
    memcpy(out->short_name, out->fqdn, first);
    out->short_name[first] = '\0';
    return 1;
  }
  const size_t len = strnlen(short_name, CA_NODE_LABEL_LEN + 1);
  CA_ENSURE_RETURN(len <= CA_NODE_LABEL_LEN &&
                       strchr(short_name, '.') == NULL &&
                       ca_dns_name_check((const uint8_t *)short_name, len),
                   CA_ERR_PARAMETER_INVALID,
                   "short name: one host-name label of 1 to %d letters, "
                   "digits and '-'",
                   CA_NODE_LABEL_LEN);
  memcpy(out->short_name, short_name, len + 1);
  lower(out->short_name);
  return 1;
}

static int check_role(const char *role, ca_node *out) {
  const char *const *roles = roles_of(out->product);
  const char *given = role != NULL ? role : "";
  if (roles[0] == NULL) {
    CA_ENSURE_RETURN(given[0] == '\0', CA_ERR_PARAMETER_INVALID,
                     "role: %s nodes have none", ca_product_name(out->product));
    out->role[0] = '\0';
    return 1;
  }
  for (size_t i = 0; roles[i] != NULL; i++) {
    if (strcasecmp(given, roles[i]) == 0) {
      snprintf(out->role, sizeof(out->role), "%s", roles[i]);
      return 1;
    }
  }
  CA_SET_ERROR(CA_ERR_PARAMETER_INVALID, "role: a %s node is %s or %s",
               ca_product_name(out->product), roles[0], roles[1]);
  return 0;
}

static int check_addresses(const char *const *addresses, size_t n,
                           ca_node *out) {
  CA_ENSURE_RETURN(n <= CA_NODE_MAX_ADDRESSES, CA_ERR_PARAMETER_INVALID,
                   "addresses: %d at most", CA_NODE_MAX_ADDRESSES);
  for (size_t i = 0; i < n; i++) {
    uint8_t bin[16];
    const char *a = addresses[i];
    const int v4 = a != NULL && inet_pton(AF_INET, a, bin) == 1;
    const int v6 = !v4 && a != NULL && inet_pton(AF_INET6, a, bin) == 1;
    CA_ENSURE_RETURN(v4 || v6, CA_ERR_PARAMETER_INVALID,
                     "address \"%.64s\" is not an IPv4 or IPv6 address",
                     a != NULL ? a : "");
    CA_ENSURE_RETURN(inet_ntop(v4 ? AF_INET : AF_INET6, bin, out->addresses[i],
                               sizeof(out->addresses[i])) != NULL,
                     CA_ERR_INTERNAL, "cannot format an address");
    for (size_t k = 0; k < i; k++) {
      CA_ENSURE_RETURN(strcmp(out->addresses[k], out->addresses[i]) != 0,
                       CA_ERR_PARAMETER_INVALID, "address %s given twice",
                       out->addresses[i]);
    }
  }
  out->n_addresses = n;
  return 1;
}

int ca_node_make(const char *cluster, const char *fqdn, const char *short_name,
                 const char *product, const char *role,
                 const char *const *addresses, size_t n_addresses,
                 ca_node *out) {
  memset(out, 0, sizeof(*out));
  CA_ENSURE_RETURN(cluster != NULL && cluster_ok(cluster),
                   CA_ERR_PARAMETER_INVALID,
                   "cluster: 1 to %d letters, digits, '-', '_' or '.'",
                   CA_LIMIT_CLUSTER_LEN);
  memcpy(out->cluster, cluster, strlen(cluster) + 1);
  CA_ENSURE_RETURN(fqdn != NULL, CA_ERR_PARAMETER_INVALID, "fqdn: required");
  CA_GUARD_RETURN(check_fqdn(fqdn, out));
  CA_GUARD_RETURN(check_short_name(short_name, out));
  CA_GUARD_RETURN(ca_product_parse(product, &out->product));
  CA_GUARD_RETURN(check_role(role, out));
  CA_GUARD_RETURN(check_addresses(addresses, n_addresses, out));
  return 1;
}

// --- Multi-server certificates ---

// covers says whether a multi-server |profile| requested for |product|
// names |node| (rule_allows has accepted the pair).
static int covers(const char *profile, ca_product product,
                  const ca_node *node) {
  const int tomcat = strcasecmp(profile, "tomcat") == 0 ||
                     strcasecmp(profile, "tomcat-ECDSA") == 0;
  if (!tomcat) {  // CallManager, CallManager-ECDSA
    return product == CA_PRODUCT_CUCM && node->product == CA_PRODUCT_CUCM;
  }
  switch (product) {
    case CA_PRODUCT_CUCM:
    case CA_PRODUCT_IMP:
      return node->product == CA_PRODUCT_CUCM ||
             node->product == CA_PRODUCT_IMP;
    case CA_PRODUCT_UCCX:
      return node->product == CA_PRODUCT_UCCX &&
             (strcmp(node->role, "1") == 0 || strcmp(node->role, "2") == 0);
    case CA_PRODUCT_FINESSE:
      return node->product == CA_PRODUCT_FINESSE;
    default:
      return 0;
  }
}

// rule_allows refuses the requests no product rule allows.
static int rule_allows(const char *profile, ca_product product) {
  const int tomcat = strcasecmp(profile, "tomcat") == 0 ||
                     strcasecmp(profile, "tomcat-ECDSA") == 0;
  const int callmanager = strcasecmp(profile, "CallManager") == 0 ||
                          strcasecmp(profile, "CallManager-ECDSA") == 0;
  CA_ENSURE_RETURN(tomcat || callmanager, CA_ERR_PARAMETER_INVALID,
                   "a multi-server certificate is tomcat, tomcat-ECDSA, "
                   "CallManager or CallManager-ECDSA, not %.32s",
                   profile);
  if (callmanager) {
    CA_ENSURE_RETURN(product == CA_PRODUCT_CUCM, CA_ERR_PARAMETER_INVALID,
                     "a multi-server %s certificate is CUCM's alone, not %s's",
                     profile, ca_product_name(product));
    return 1;
  }
  CA_ENSURE_RETURN(
      product == CA_PRODUCT_CUCM || product == CA_PRODUCT_IMP ||
          product == CA_PRODUCT_UCCX || product == CA_PRODUCT_FINESSE,
      CA_ERR_PARAMETER_INVALID,
      "%s takes no multi-server certificate: request one certificate per node",
      ca_product_name(product));
  return 1;
}

// The node whose name the CN takes: the one the requesting product calls
// first (its publisher, UCCX node 1, the Finesse primary).
static int is_first(const ca_node *node, ca_product product) {
  return node->product == product &&
         (strcmp(node->role, "publisher") == 0 ||
          strcmp(node->role, "1") == 0 || strcmp(node->role, "primary") == 0);
}

// sort_nodes orders |idx| (into |nodes|): the first node, then by FQDN.
// Insertion sort: at most CA_NODE_MAX_SHARED nodes, and qsort has no
// argument for |nodes|.
static void sort_nodes(const ca_node *nodes, ca_product product, size_t *idx,
                       size_t n) {
  for (size_t i = 1; i < n; i++) {
    const size_t v = idx[i];
    size_t j = i;
    while (j > 0) {
      const ca_node *x = &nodes[idx[j - 1]], *y = &nodes[v];
      int c = is_first(y, product) - is_first(x, product);
      if (c == 0) {
        c = strcmp(x->fqdn, y->fqdn);
      }
      if (c <= 0) {
        break;
      }
      idx[j] = idx[j - 1];
      j--;
    }
    idx[j] = v;
  }
}

int ca_multi_server_plan(const ca_node *nodes, size_t n, const char *profile,
                         ca_product product, ca_multi_server *out) {
  memset(out, 0, sizeof(*out));
  CA_GUARD_RETURN(rule_allows(profile, product));
  for (size_t i = 0; i < n; i++) {
    if (!covers(profile, product, &nodes[i])) {
      continue;
    }
    CA_ENSURE_RETURN(
        out->n_nodes < CA_NODE_MAX_SHARED, CA_ERR_PARAMETER_INVALID,
        "more than %d nodes for one certificate", CA_NODE_MAX_SHARED);
    out->nodes[out->n_nodes++] = i;
  }
  CA_ENSURE_RETURN(out->n_nodes >= 2, CA_ERR_PARAMETER_INVALID,
                   "the registry holds %zu node(s) a multi-server %s "
                   "certificate for %s covers: two at least",
                   out->n_nodes, profile, ca_product_name(product));
  sort_nodes(nodes, product, out->nodes, out->n_nodes);
  const ca_node *first = &nodes[out->nodes[0]];
  const char *domain = strchr(first->fqdn, '.');
  const int len = snprintf(out->common_name, sizeof(out->common_name),
                           "%s-ms%s", first->short_name, domain);
  CA_ENSURE_RETURN(
      len > 0 && (size_t)len <= CA_LIMIT_DNS_NAME_LEN &&
          ca_dns_name_check((const uint8_t *)out->common_name, (size_t)len),
      CA_ERR_PARAMETER_INVALID,
      "the multi-server name %.64s... is not a valid host name",
      out->common_name);
  snprintf(out->sans[0], sizeof(out->sans[0]), "%s", out->common_name);
  out->n_sans = 1;
  for (size_t i = 0; i < out->n_nodes; i++) {
    snprintf(out->sans[out->n_sans++], sizeof(out->sans[0]), "%s",
             nodes[out->nodes[i]].fqdn);
  }
  return 1;
}
