// pkictl identity (add, list, get, replace, remove): registered identities,
// certificates pki did not issue (README.md, "Registered identities").
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/cli/pkictl.h"
#include "api/cli/pkictl_json.h"
#include "ca/limits.h"
#include "ca/x509/asn1_time.h"
#include "proto/pki.pb-c.h"

typedef struct identity_flags {
  const char *node, *purpose, *cluster, *description, *format, *out;
  const char *positional[3];
  int n_positional;
} identity_flags;

static int parse(int argc, char **argv, identity_flags *f) {
  static const pkictl_flag kFlags[] = {
      PKICTL_STRING_FLAG("--node", identity_flags, node),
      PKICTL_STRING_FLAG("--purpose", identity_flags, purpose),
      PKICTL_STRING_FLAG("--cluster", identity_flags, cluster),
      PKICTL_STRING_FLAG("--description", identity_flags, description),
      PKICTL_STRING_FLAG("--format", identity_flags, format),
      PKICTL_STRING_FLAG("--out", identity_flags, out),
  };
  static const pkictl_flag_spec kSpec = {
      kFlags, PKICTL_COUNT(kFlags), sizeof(identity_flags), 3, NULL,
  };
  return pkictl_parse_flags(&kSpec, argc, argv, f, f->positional,
                            &f->n_positional);
}

// print_identity writes one line: id, cluster, node, purpose, notAfter,
// chain verdict, fingerprint, subject, then the verdict's detail, the
// description and, last, pki's revocation check.
static void print_identity(const Pki__V1__Identity *e) {
  char na[21];
  pkictl_format_time(e->not_after, na);
  printf("%-6lld %-12s %-28s %-17s %-20s %-10s %s %s  (%s)", (long long)e->id,
         e->cluster[0] != '\0' ? e->cluster : "-", e->node, e->purpose, na,
         e->verified ? "verified" : "unverified", e->fingerprint, e->subject,
         e->verify_detail);
  if (e->description[0] != '\0') {
    printf("  [%s]", e->description);
  }
  printf("  %s\n",
         e->revocation_status[0] != '\0' ? e->revocation_status : "unchecked");
}

static void print_header(void) {
  printf("%-6s %-12s %-28s %-17s %-20s %-10s %-64s %s\n", "ID", "CLUSTER",
         "NODE", "PURPOSE", "NOT_AFTER", "CHAIN", "FINGERPRINT",
         "SUBJECT  (CHAIN_DETAIL)  [DESCRIPTION]  REVOCATION");
}

// send_registration sends |file| with the flags as a RegisterIdentityRequest
// by |method| to |path| and prints the identity answered.
static int send_registration(pki_client *client, const identity_flags *f,
                             const char *method, const char *path,
                             const char *file) {
  size_t cert_len;
  uint8_t *cert =
      pkictl_read_file(file, CA_LIMIT_TRUST_UPLOAD_BYTES, &cert_len);
  if (cert == NULL) {
    return 1;
  }
  Pki__V1__RegisterIdentityRequest req =
      PKI__V1__REGISTER_IDENTITY_REQUEST__INIT;
  req.node = (char *)(f->node != NULL ? f->node : "");
  req.purpose = (char *)(f->purpose != NULL ? f->purpose : "");
  req.cluster = (char *)(f->cluster != NULL ? f->cluster : "");
  req.description = (char *)(f->description != NULL ? f->description : "");
  req.certificate.data = cert;
  req.certificate.len = cert_len;
  const size_t len = pki__v1__register_identity_request__get_packed_size(&req);
  uint8_t *body = malloc(len + 1);
  if (body == NULL) {
    free(cert);
    fprintf(stderr, "pkictl: out of memory\n");
    return 1;
  }
  pki__v1__register_identity_request__pack(&req, body);
  free(cert);
  Pki__V1__IdentityResponse *resp =
      (Pki__V1__IdentityResponse *)pkictl_call_message(
          client, method, path, "application/x-protobuf", body, len,
          &pki__v1__identity_response__descriptor);
  free(body);
  if (resp == NULL) {
    return 1;
  }
  if (resp->identity == NULL) {
    pki__v1__identity_response__free_unpacked(resp, NULL);
    fprintf(stderr, "pkictl: unreadable reply\n");
    return 1;
  }
  if (resp->previous_fingerprint[0] != '\0') {
    printf("replaced %s\n", resp->previous_fingerprint);
  }
  print_header();
  print_identity(resp->identity);
  pki__v1__identity_response__free_unpacked(resp, NULL);
  return 0;
}

static int identity_add(pki_client *client, const identity_flags *f) {
  if (f->node == NULL || f->purpose == NULL) {
    fprintf(stderr, "pkictl identity add: --node and --purpose are required\n");
    return 2;
  }
  return send_registration(client, f, "POST", "/v1/identities",
                           f->positional[1]);
}

static int identity_replace(pki_client *client, const identity_flags *f) {
  char path[128];
  snprintf(path, sizeof(path), "/v1/identities/%.24s", f->positional[1]);
  return send_registration(client, f, "PUT", path, f->positional[2]);
}

static int identity_list(pki_client *client, const identity_flags *f) {
  char path[1024] = "/v1/identities";
  pkictl_add_query(path, sizeof(path), "node", f->node);
  pkictl_add_query(path, sizeof(path), "purpose", f->purpose);
  pkictl_add_query(path, sizeof(path), "cluster", f->cluster);
  Pki__V1__ListIdentitiesResponse *resp =
      (Pki__V1__ListIdentitiesResponse *)pkictl_get_message(
          client, path, &pki__v1__list_identities_response__descriptor);
  if (resp == NULL) {
    return 1;
  }
  print_header();
  for (size_t i = 0; i < resp->n_identities; i++) {
    print_identity(resp->identities[i]);
  }
  pki__v1__list_identities_response__free_unpacked(resp, NULL);
  return 0;
}

static int identity_get(pki_client *client, const identity_flags *f) {
  char path[256];
  snprintf(path, sizeof(path), "/v1/identities/%.24s", f->positional[1]);
  pkictl_add_query(path, sizeof(path), "format",
                   f->format != NULL ? f->format : "pem");
  return pkictl_download(client, path, f->out);
}

static int identity_remove(pki_client *client, const identity_flags *f) {
  char path[128];
  snprintf(path, sizeof(path), "/v1/identities/%.24s", f->positional[1]);
  pki_reply reply;
  if (!pki_client_call(client, "DELETE", path, NULL, NULL, 0, &reply)) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
    return 1;
  }
  const int rc = reply.status == 200 ? 0 : pkictl_report(&reply);
  if (rc == 0) {
    printf("removed identity %s\n", f->positional[1]);
    pkictl_json_string("removed", f->positional[1]);
  }
  pki_reply_cleanup(&reply);
  return rc;
}

int pkictl_identity(pki_client *client, int argc, char **argv) {
  identity_flags f;
  if (!parse(argc, argv, &f) || f.n_positional == 0) {
    fprintf(stderr,
            "pkictl: usage: pkictl identity add|list|get|replace|remove ...\n");
    return 2;
  }
  const char *verb = f.positional[0];
  if (strcmp(verb, "add") == 0 && f.n_positional == 2) {
    return identity_add(client, &f);
  }
  if (strcmp(verb, "list") == 0 && f.n_positional == 1) {
    return identity_list(client, &f);
  }
  if (strcmp(verb, "get") == 0 && f.n_positional == 2) {
    return identity_get(client, &f);
  }
  if (strcmp(verb, "replace") == 0 && f.n_positional == 3) {
    return identity_replace(client, &f);
  }
  if (strcmp(verb, "remove") == 0 && f.n_positional == 2) {
    return identity_remove(client, &f);
  }
  fprintf(stderr,
          "pkictl: usage: pkictl identity add --node N --purpose P"
          " [--cluster C] [--description TEXT] FILE | list [--node N]"
          " [--purpose P] [--cluster C] | get ID [--format F] [--out FILE]"
          " | replace ID FILE [--description TEXT] | remove ID\n");
  return 2;
}
