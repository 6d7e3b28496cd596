// pkictl node (add, list, delete, multi-server): the node registry of a
// cluster and the multi-server certificates made from it (README.md, "Node
// registry and multi-server certificates").
#include <errno.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/cli/pkictl.h"
#include "api/cli/pkictl_json.h"
#include "ca/error.h"
#include "ca/policy/node.h"
#include "proto/pki.pb-c.h"

// The flags of pkictl node; each takes a value but --address (repeated).
typedef struct node_flags {
  const char *cluster, *fqdn, *short_name, *product, *role, *profile, *o, *ou,
      *l, *st, *c, *key_type, *days, *out_dir;
  pkictl_list addresses;
  const char *positional[2];
  int n_positional;
} node_flags;

static int parse(int argc, char **argv, node_flags *f) {
  static const pkictl_flag kFlags[] = {
      PKICTL_STRING_FLAG("--cluster", node_flags, cluster),
      PKICTL_STRING_FLAG("--fqdn", node_flags, fqdn),
      PKICTL_STRING_FLAG("--short-name", node_flags, short_name),
      PKICTL_STRING_FLAG("--product", node_flags, product),
      PKICTL_STRING_FLAG("--role", node_flags, role),
      PKICTL_LIST_FLAG("--address", node_flags, addresses),
      PKICTL_STRING_FLAG("--profile", node_flags, profile),
      PKICTL_STRING_FLAG("--o", node_flags, o),
      PKICTL_STRING_FLAG("--ou", node_flags, ou),
      PKICTL_STRING_FLAG("--l", node_flags, l),
      PKICTL_STRING_FLAG("--st", node_flags, st),
      PKICTL_STRING_FLAG("--c", node_flags, c),
      PKICTL_STRING_FLAG("--key-type", node_flags, key_type),
      PKICTL_STRING_FLAG("--days", node_flags, days),
      PKICTL_STRING_FLAG("--out-dir", node_flags, out_dir),
  };
  static const pkictl_flag_spec kSpec = {
      kFlags, PKICTL_COUNT(kFlags), sizeof(node_flags), 2, NULL,
  };
  return pkictl_parse_flags(&kSpec, argc, argv, f, f->positional,
                            &f->n_positional);
}

static const char *or_empty(const char *s) {
  return s != NULL ? s : "";
}

// post_message POSTs |msg| to |path|; on a 200 reply it returns 1 with
// |reply| holding it (the caller cleans it up), else prints why.
static int post_message(pki_client *client, const char *path,
                        const ProtobufCMessage *msg, pki_reply *reply) {
  const size_t len = protobuf_c_message_get_packed_size(msg);
  uint8_t *body = malloc(len + 1);
  memset(reply, 0, sizeof(*reply));
  if (body == NULL) {
    fprintf(stderr, "pkictl: out of memory\n");
    return 0;
  }
  protobuf_c_message_pack(msg, body);
  const int sent = pki_client_call(client, "POST", path,
                                   "application/x-protobuf", body, len, reply);
  free(body);
  if (!sent) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
    return 0;
  }
  if (reply->status != 200) {
    pkictl_report(reply);
    return 0;
  }
  return 1;
}

static void print_node(const Pki__V1__Node *n) {
  printf("%-16s %-36s %-14s %-11s %-10s", n->cluster, n->fqdn, n->short_name,
         n->product, n->role[0] != '\0' ? n->role : "-");
  for (size_t i = 0; i < n->n_addresses; i++) {
    printf("%s%s", i > 0 ? "," : " ", n->addresses[i]);
  }
  printf("\n");
}

static int cmd_add(pki_client *client, const node_flags *f) {
  if (f->fqdn == NULL || f->product == NULL) {
    fprintf(stderr,
            "pkictl node add: --fqdn and --product are required (and --role "
            "where the product has roles)\n");
    return 2;
  }
  Pki__V1__Node msg = PKI__V1__NODE__INIT;
  msg.cluster = (char *)or_empty(f->cluster);
  msg.fqdn = (char *)f->fqdn;
  msg.short_name = (char *)or_empty(f->short_name);
  msg.product = (char *)f->product;
  msg.role = (char *)or_empty(f->role);
  msg.addresses = (char **)f->addresses.values;
  msg.n_addresses = f->addresses.n;
  pki_reply reply;
  if (!post_message(client, "/v1/nodes", &msg.base, &reply)) {
    pki_reply_cleanup(&reply);
    return 1;
  }
  Pki__V1__Node *added =
      pki__v1__node__unpack(NULL, reply.body_len, reply.body);
  pkictl_json_answer((const ProtobufCMessage *)added);
  int rc = 1;
  if (added != NULL) {
    print_node(added);
    rc = 0;
  } else {
    fprintf(stderr, "pkictl: unreadable reply\n");
  }
  pki__v1__node__free_unpacked(added, NULL);
  pki_reply_cleanup(&reply);
  return rc;
}

static int cmd_list(pki_client *client, const node_flags *f) {
  char path[512] = "/v1/nodes";
  pkictl_add_query(path, sizeof(path), "cluster", f->cluster);
  pki_reply reply;
  memset(&reply, 0, sizeof(reply));
  if (!pkictl_get(client, path, &reply)) {
    pki_reply_cleanup(&reply);
    return 1;
  }
  Pki__V1__NodeList *list =
      pki__v1__node_list__unpack(NULL, reply.body_len, reply.body);
  pkictl_json_answer((const ProtobufCMessage *)list);
  int rc = 1;
  if (list != NULL) {
    printf("%-16s %-36s %-14s %-11s %-10s %s\n", "CLUSTER", "FQDN", "SHORT",
           "PRODUCT", "ROLE", "ADDRESSES");
    for (size_t i = 0; i < list->n_nodes; i++) {
      print_node(list->nodes[i]);
    }
    rc = 0;
  } else {
    fprintf(stderr, "pkictl: unreadable reply\n");
  }
  pki__v1__node_list__free_unpacked(list, NULL);
  pki_reply_cleanup(&reply);
  return rc;
}

static int cmd_delete(pki_client *client, const node_flags *f) {
  if (f->n_positional != 2) {
    fprintf(stderr, "pkictl node delete: FQDN [--cluster C]\n");
    return 2;
  }
  char path[512];
  snprintf(path, sizeof(path), "/v1/nodes/%.253s", f->positional[1]);
  pkictl_add_query(path, sizeof(path), "cluster", f->cluster);
  return pkictl_print_call(client, "DELETE", path);
}

// write_multi_server writes the key and certificate of |resp| as
// DIR/<profile>-ms.key and DIR/<profile>-ms.pem (CUCM's names for a
// multi-server certificate, "tomcat-ms"). The profile is one pki knows:
// safe as a file name.
static int write_multi_server(const node_flags *f,
                              const Pki__V1__GenerateKeyResponse *resp) {
  const Pki__V1__IssuedCertificate *c = resp->certificate;
  size_t pem_len;
  uint8_t *pem = pkictl_issued_pem(c, &pem_len);
  if (pem == NULL || strchr(c->profile, '/') != NULL) {
    OPENSSL_free(pem);
    fprintf(stderr, "pkictl: unreadable reply\n");
    return 0;
  }
  char key_path[4096 + 64], cert_path[4096 + 64];
  snprintf(key_path, sizeof(key_path), "%s/%.32s-ms.key", f->out_dir,
           c->profile);
  snprintf(cert_path, sizeof(cert_path), "%s/%.32s-ms.pem", f->out_dir,
           c->profile);
  const int ok = pkictl_write_key(key_path, resp->private_key.data,
                                  resp->private_key.len) &&
                 pkictl_write_file(cert_path, pem, pem_len);
  OPENSSL_free(pem);
  if (ok) {
    printf("multi-server %s: serial %s, %s\n", c->profile, c->serial,
           cert_path);
  }
  return ok;
}

static int cmd_multi_server(pki_client *client, const node_flags *f) {
  if (f->profile == NULL || f->product == NULL || f->out_dir == NULL) {
    fprintf(stderr,
            "pkictl node multi-server: --profile, --product and --out-dir "
            "are required\n");
    return 2;
  }
  char *end = NULL;
  const unsigned long days = f->days != NULL ? strtoul(f->days, &end, 10) : 0;
  if (f->days != NULL && (end == f->days || *end != '\0' || days > 36500)) {
    fprintf(stderr, "pkictl: --days must be a number of days\n");
    return 2;
  }
  if (mkdir(f->out_dir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "pkictl: %s: %s\n", f->out_dir, strerror(errno));
    return 1;
  }
  Pki__V1__Subject subject = PKI__V1__SUBJECT__INIT;
  subject.organization = (char *)or_empty(f->o);
  subject.organizational_unit = (char *)or_empty(f->ou);
  subject.locality = (char *)or_empty(f->l);
  subject.state = (char *)or_empty(f->st);
  subject.country = (char *)or_empty(f->c);
  Pki__V1__MultiServerRequest msg = PKI__V1__MULTI_SERVER_REQUEST__INIT;
  msg.cluster = (char *)or_empty(f->cluster);
  msg.profile = (char *)f->profile;
  msg.product = (char *)f->product;
  msg.subject = &subject;
  msg.key_type = (char *)or_empty(f->key_type);
  msg.validity_days = (uint32_t)days;
  pki_reply reply;
  Pki__V1__GenerateKeyResponse *resp = NULL;
  int rc = 1;
  if (post_message(client, "/v1/nodes:multiServer", &msg.base, &reply)) {
    resp = pki__v1__generate_key_response__unpack(NULL, reply.body_len,
                                                  reply.body);
    pkictl_json_answer((const ProtobufCMessage *)resp);
    if (resp == NULL || resp->certificate == NULL) {
      fprintf(stderr, "pkictl: unreadable reply\n");
    } else if (write_multi_server(f, resp)) {
      rc = 0;
    }
  }
  // The reply held a private key.
  if (reply.body != NULL) {
    OPENSSL_cleanse(reply.body, reply.body_len);
  }
  if (resp != NULL && resp->private_key.data != NULL) {
    OPENSSL_cleanse(resp->private_key.data, resp->private_key.len);
  }
  pki__v1__generate_key_response__free_unpacked(resp, NULL);
  pki_reply_cleanup(&reply);
  return rc;
}

int pkictl_node(pki_client *client, int argc, char **argv) {
  node_flags parsed;
  if (!parse(argc, argv, &parsed)) {
    return 2;
  }
  const node_flags *f = &parsed;
  const char *sub = f->n_positional > 0 ? f->positional[0] : "";
  if (strcmp(sub, "add") == 0) {
    return cmd_add(client, f);
  }
  if (strcmp(sub, "list") == 0) {
    return cmd_list(client, f);
  }
  if (strcmp(sub, "delete") == 0) {
    return cmd_delete(client, f);
  }
  if (strcmp(sub, "multi-server") == 0) {
    return cmd_multi_server(client, f);
  }
  fprintf(stderr,
          "pkictl: usage: pkictl node add|list|delete|multi-server ...\n");
  return 2;
}
