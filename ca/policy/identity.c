#include "ca/policy/identity.h"

#include <openssl/mem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca/limits.h"

static const char *const kPurposes[] = {
    "tomcat", "tomcat-ECDSA", "CallManager", "CallManager-ECDSA",
    "CAPF",   "ipsec",        "TVS",         "ITLRecovery",
};

const char *ca_identity_purpose_find(const char *name) {
  for (size_t i = 0; i < sizeof(kPurposes) / sizeof(kPurposes[0]); i++) {
    if (strcasecmp(name, kPurposes[i]) == 0) {
      return kPurposes[i];
    }
  }
  CA_SET_ERROR(CA_ERR_PARAMETER_INVALID,
               "purpose %.64s: tomcat, tomcat-ECDSA, CallManager, "
               "CallManager-ECDSA, CAPF, ipsec, TVS or ITLRecovery",
               name);
  return NULL;
}

static int name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

// name_check accepts |min| to |max| bytes of name_char.
static int name_check(const char *what, const char *text, size_t min,
                      size_t max) {
  size_t len = 0;
  for (; text[len] != '\0' && len <= max; len++) {
    CA_ENSURE_RETURN(name_char(text[len]), CA_ERR_PARAMETER_INVALID,
                     "%s names are letters, digits, '.', '-' and '_'", what);
  }
  CA_ENSURE_RETURN(len >= min && len <= max, CA_ERR_PARAMETER_INVALID,
                   "a %s name is %zu to %zu characters", what, min, max);
  CA_ENSURE_RETURN(strcmp(text, ".") != 0 && strcmp(text, "..") != 0,
                   CA_ERR_PARAMETER_INVALID, "a %s name is not . or ..", what);
  return 1;
}

int ca_identity_node_check(const char *node) {
  return name_check("node", node, 1, 253);
}

int ca_identity_cluster_check(const char *cluster) {
  return name_check("cluster", cluster, 0, CA_LIMIT_CLUSTER_LEN);
}

void ca_identity_upload_cleanup(ca_identity_upload *u) {
  if (u == NULL) {
    return;
  }
  ca_trust_certs_free(u->certs, u->n);
  memset(u, 0, sizeof(*u));
}

int ca_identity_parse(ca_identity_upload *out, const uint8_t *in,
                      size_t in_len) {
  memset(out, 0, sizeof(*out));
  CA_GUARD_RETURN(ca_trust_parse_upload(&out->certs, &out->n, in, in_len));
  CA_ENSURE(out->n <= CA_LIMIT_IDENTITY_CERTS, CA_ERR_OBJECT_TOO_LARGE,
            "an identity is a leaf and its chain: at most %d certificates",
            CA_LIMIT_IDENTITY_CERTS);
  // The leaf is the certificate that issued none of the others. Duplicates
  // were dropped by the parser, so a chain has exactly one.
  size_t leaves = 0;
  for (size_t i = 0; i < out->n; i++) {
    int issuer = 0;
    for (size_t k = 0; k < out->n && !issuer; k++) {
      issuer = ca_trust_issued_by(&out->certs[k], &out->certs[i]);
    }
    if (!issuer) {
      out->leaf = i;
      leaves++;
    }
  }
  CA_ENSURE(leaves == 1, CA_ERR_CERT_MALFORMED,
            "give one leaf certificate and, optionally, its chain: %zu of "
            "the %zu certificates issued none of the others",
            leaves, out->n);
  return 1;
err:
  ca_identity_upload_cleanup(out);
  return 0;
}

int ca_identity_chain_der(const ca_identity_upload *u, uint8_t **out,
                          size_t *out_len) {
  size_t total = 0;
  *out = NULL;
  *out_len = 0;
  for (size_t i = 0; i < u->n; i++) {
    total += i == u->leaf ? 0 : u->certs[i].der_len;
  }
  if (total == 0) {
    return 1;
  }
  uint8_t *buf = OPENSSL_malloc(total);
  CA_ENSURE_RETURN(buf != NULL, CA_ERR_NO_MEMORY, "out of memory");
  size_t at = 0;
  for (size_t i = 0; i < u->n; i++) {
    if (i != u->leaf) {
      memcpy(buf + at, u->certs[i].der, u->certs[i].der_len);
      at += u->certs[i].der_len;
    }
  }
  *out = buf;
  *out_len = total;
  return 1;
}

static X509 *parse_x509(const uint8_t *der, size_t len) {
  const uint8_t *p = der;
  X509 *x = d2i_X509(NULL, &p, (long)len);
  if (x != NULL && p != der + len) {
    X509_free(x);
    return NULL;
  }
  return x;
}

// describe_anchor writes "chains to SUBJECT" from the last certificate of
// the verified chain.
static void describe_anchor(X509_STORE_CTX *ctx, ca_identity_verdict *out) {
  STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
  const size_t n = chain != NULL ? sk_X509_num(chain) : 0;
  char subject[160] = "?";
  if (n > 0) {
    X509_NAME_oneline(X509_get_subject_name(sk_X509_value(chain, n - 1)),
                      subject, sizeof(subject));
  }
  snprintf(out->detail, sizeof(out->detail), "chains to %s", subject);
}

int ca_identity_verify(const ca_identity_upload *u,
                       const uint8_t *const *anchors, const size_t *anchor_lens,
                       size_t n_anchors, int64_t now,
                       ca_identity_verdict *out) {
  int ret = 0;
  X509_STORE *store = X509_STORE_new();
  STACK_OF(X509) *untrusted = sk_X509_new_null();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  const ca_trust_cert *leaf_cert = &u->certs[u->leaf];
  X509 *leaf = parse_x509(leaf_cert->der, leaf_cert->der_len);
  memset(out, 0, sizeof(*out));
  CA_ENSURE(store != NULL && untrusted != NULL && ctx != NULL, CA_ERR_NO_MEMORY,
            "out of memory");
  if (leaf == NULL) {
    // ca_trust_cert_read took it; BoringSSL's stricter X.509 parser did not.
    snprintf(out->detail, sizeof(out->detail),
             "the certificate is not one BoringSSL verifies");
    ret = 1;
    goto done;
  }
  for (size_t i = 0; i < n_anchors; i++) {
    X509 *a = parse_x509(anchors[i], anchor_lens[i]);
    if (a == NULL) {
      continue;
    }
    // A duplicate anchor (the same CA in two stores) is not an error.
    (void)X509_STORE_add_cert(store, a);
    X509_free(a);
  }
  for (size_t i = 0; i < u->n; i++) {
    if (i == u->leaf) {
      continue;
    }
    X509 *c = parse_x509(u->certs[i].der, u->certs[i].der_len);
    if (c != NULL && !sk_X509_push(untrusted, c)) {
      X509_free(c);
      CA_RAISE(CA_ERR_NO_MEMORY, "out of memory");
    }
  }
  CA_ENSURE(X509_STORE_CTX_init(ctx, store, leaf, untrusted), CA_ERR_NO_MEMORY,
            "out of memory");
  // Whatever a store holds is an anchor, as in CUCM's trust stores: an
  // issuing CA without its root, or a self-signed leaf itself.
  X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
  X509_STORE_CTX_set_time(ctx, 0, (time_t)now);
  if (X509_verify_cert(ctx) == 1) {
    out->verified = 1;
    describe_anchor(ctx, out);
  } else {
    const int err = X509_STORE_CTX_get_error(ctx);
    snprintf(out->detail, sizeof(out->detail), "%s (depth %d)",
             X509_verify_cert_error_string(err),
             X509_STORE_CTX_get_error_depth(ctx));
  }
  ret = 1;
  goto done;
err:
  ret = 0;
done:
  X509_free(leaf);
  X509_STORE_CTX_free(ctx);
  sk_X509_pop_free(untrusted, X509_free);
  X509_STORE_free(store);
  return ret;
}
