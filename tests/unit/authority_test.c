// Unit tests of ca/issue/authority.c through ca_authority_new_ephemeral (no
// database, no files): the four CAs, their certificates read by BoringSSL,
// their chains validated by BoringSSL's X509_verify_cert, names, validity,
// key identifiers, look-ups, and a leaf built under the issuing CA.
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/bytestring.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ca/issue/authority.h"
#include "ca/x509/certificate.h"
#include "ca/x509/name.h"
#include "ca/x509/serial.h"
#include "ca/x509/signer.h"
#include "tests/support/test.h"

static ca_authority *authority;
static int64_t created_at;

static X509 *parse(const ca_issuer *issuer) {
  const uint8_t *p = issuer->der;
  X509 *x = d2i_X509(NULL, &p, (long)issuer->der_len);
  CHECK(x != NULL && p == issuer->der + issuer->der_len);
  return x;
}

static int64_t posix_of(const ASN1_TIME *t) {
  ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
  int days = 0, secs = 0;
  if (epoch == NULL || !ASN1_TIME_diff(&days, &secs, epoch, t)) {
    days = secs = -1;
  }
  ASN1_TIME_free(epoch);
  return (int64_t)days * 86400 + secs;
}

TEST(four_cas) {
  CHECK_EQ_INT(authority->count, 4);
  static const struct {
    const char *name, *role, *algorithm, *subject, *parent;
    ca_key_type type;
  } kCas[] = {
      {"rsa-root", "root", "RSA-2048", "CN=pki RSA Root CA,O=pki", NULL,
       CA_KEY_RSA},
      {"rsa-issuing", "issuing", "RSA-2048", "CN=pki RSA Issuing CA,O=pki",
       "rsa-root", CA_KEY_RSA},
      {"ec-root", "root", "EC-P256", "CN=pki ECDSA Root CA,O=pki", NULL,
       CA_KEY_EC},
      {"ec-issuing", "issuing", "EC-P256", "CN=pki ECDSA Issuing CA,O=pki",
       "ec-root", CA_KEY_EC},
  };
  for (size_t i = 0; i < 4; i++) {
    ca_err_clear();
    const ca_issuer *ca = ca_authority_find(authority, kCas[i].name);
    CHECK(ca != NULL);
    if (ca == NULL) {
      continue;
    }
    CHECK_EQ_INT(ca_err_get()->code, CA_OK);
    CHECK_EQ_STR(ca->name, kCas[i].name);
    CHECK_EQ_STR(ca->role, kCas[i].role);
    CHECK_EQ_STR(ca->algorithm, kCas[i].algorithm);
    CHECK_EQ_STR(ca->subject, kCas[i].subject);
    CHECK_EQ_INT(ca->id, 0);  // no database
    CHECK_EQ_INT(ca->key_info.type, kCas[i].type);
    CHECK(ca->key != NULL);
    if (kCas[i].parent == NULL) {
      CHECK(ca->parent == NULL);
      CHECK_EQ_INT(ca->chain_len, 1);
    } else {
      CHECK(ca->parent != NULL &&
            strcmp(ca->parent->name, kCas[i].parent) == 0);
      CHECK_EQ_INT(ca->chain_len, 2);
      CHECK(ca->chain[1] == ca->parent);
    }
    CHECK(ca->chain[0] == ca);
    // Its private key belongs to its certificate.
    CHECK(ca_key_matches(ca->key, &ca->cert.spki));
  }
  ca_err_clear();
  CHECK(ca_authority_find(authority, "nosuch") == NULL);
  CHECK_EQ_INT(ca_err_get()->code, CA_ERR_NOT_FOUND);
  CHECK(ca_authority_find(authority, "RSA-ROOT") == NULL);  // exact names
  CHECK(ca_authority_find(authority, "") == NULL);
}

TEST(issuer_for_key_types) {
  const ca_issuer *rsa = ca_authority_issuer_for(authority, CA_KEY_RSA);
  const ca_issuer *ec = ca_authority_issuer_for(authority, CA_KEY_EC);
  CHECK(rsa != NULL && strcmp(rsa->name, "rsa-issuing") == 0);
  CHECK(ec != NULL && strcmp(ec->name, "ec-issuing") == 0);
  CHECK(rsa == ca_authority_find(authority, "rsa-issuing"));
  CHECK(ec == ca_authority_find(authority, "ec-issuing"));
}

TEST(certificates_read_by_boringssl) {
  for (size_t i = 0; i < authority->count; i++) {
    const ca_issuer *ca = &authority->issuers[i];
    X509 *x = parse(ca);
    if (x == NULL) {
      continue;
    }
    const int is_root = ca->parent == NULL;
    // Signed by the parent, or by itself for a root.
    X509 *signer_cert = is_root ? x : parse(ca->parent);
    EVP_PKEY *signer_key = X509_get_pubkey(signer_cert);
    CHECK_EQ_INT(X509_verify(x, signer_key), 1);
    EVP_PKEY_free(signer_key);
    CHECK_EQ_INT(X509_check_issued(signer_cert, x), X509_V_OK);
    // CA:TRUE; pathlen 1 for issuing CAs (CAPF leaves are CAs), none for
    // roots. keyCertSign, cRLSign, digitalSignature; both critical.
    BASIC_CONSTRAINTS *bc =
        X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
    CHECK(bc != NULL && bc->ca);
    if (bc != NULL) {
      if (is_root) {
        CHECK(bc->pathlen == NULL);
      } else {
        CHECK(bc->pathlen != NULL && ASN1_INTEGER_get(bc->pathlen) == 1);
      }
    }
    BASIC_CONSTRAINTS_free(bc);
    CHECK_EQ_INT(X509_get_key_usage(x),
                 KU_KEY_CERT_SIGN | KU_CRL_SIGN | KU_DIGITAL_SIGNATURE);
    CHECK_EQ_INT(X509_check_ca(x), 1);
    // Subject key identifier as BoringSSL computes it; the authority key
    // identifier of an issuing CA is its root's.
    const ASN1_BIT_STRING *bits = X509_get0_pubkey_bitstr(x);
    uint8_t sha[SHA_DIGEST_LENGTH];
    SHA1(ASN1_STRING_get0_data(bits), (size_t)ASN1_STRING_length(bits), sha);
    CHECK(memcmp(ca->key_id, sha, CA_KEY_ID_LEN) == 0);
    const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(x);
    CHECK(skid != NULL &&
          memcmp(ASN1_STRING_get0_data(skid), sha, CA_KEY_ID_LEN) == 0);
    const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(x);
    if (is_root) {
      CHECK(akid == NULL);
    } else {
      CHECK(akid != NULL && ASN1_STRING_length(akid) == CA_KEY_ID_LEN &&
            memcmp(ASN1_STRING_get0_data(akid), ca->parent->key_id,
                   CA_KEY_ID_LEN) == 0);
    }
    // Only keyUsage and basicConstraints are critical.
    for (int k = 0; k < X509_get_ext_count(x); k++) {
      X509_EXTENSION *ext = X509_get_ext(x, k);
      const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
      CHECK_EQ_INT(X509_EXTENSION_get_critical(ext),
                   nid == NID_key_usage || nid == NID_basic_constraints);
    }
    // The serial recorded is the certificate's, positive and 128-bit.
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;
    CHECK(hex != NULL && strcasecmp(hex, ca->serial) == 0);
    CHECK(bn != NULL && !BN_is_negative(bn) && BN_num_bits(bn) <= 128 &&
          BN_num_bits(bn) > 64);
    OPENSSL_free(hex);
    BN_free(bn);
    // pki's own parse of the certificate matches.
    CHECK_EQ_INT(ca->cert.not_before, posix_of(X509_get0_notBefore(x)));
    CHECK_EQ_INT(ca->cert.not_after, posix_of(X509_get0_notAfter(x)));
    // The RFC 4514 subject is the certificate's subject.
    char *subject = NULL;
    CHECK(ca_name_format(&ca->cert.subject, &subject));
    CHECK_EQ_STR(subject, ca->subject);
    OPENSSL_free(subject);
    if (!is_root) {
      X509_free(signer_cert);
    }
    X509_free(x);
  }
}

TEST(validity_periods) {
  const ca_issuer *root = ca_authority_find(authority, "rsa-root");
  const ca_issuer *issuing = ca_authority_find(authority, "rsa-issuing");
  CHECK(root != NULL && issuing != NULL);
  if (root == NULL || issuing == NULL) {
    return;
  }
  // Started an hour early; 20 and 10 years of 365 days.
  CHECK(root->cert.not_before >= created_at - 3600 - 5 &&
        root->cert.not_before <= created_at - 3600 + 5);
  CHECK_EQ_INT(root->cert.not_after - root->cert.not_before,
               INT64_C(20) * 365 * 86400 + 3600);
  CHECK_EQ_INT(issuing->cert.not_after - issuing->cert.not_before,
               INT64_C(10) * 365 * 86400 + 3600);
  // Nothing outlives its issuer.
  for (size_t i = 0; i < authority->count; i++) {
    const ca_issuer *ca = &authority->issuers[i];
    if (ca->parent != NULL) {
      CHECK(ca->cert.not_after <= ca->parent->cert.not_after);
      CHECK(ca->cert.not_before >= ca->parent->cert.not_before);
    }
  }
}

// verify_chain runs BoringSSL's path validation; |expect| only decides
// whether a failure is worth printing.
static int verify_chain(X509 *leaf, X509 *intermediate, X509 *root, int purpose,
                        int expect) {
  X509_STORE *store = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  STACK_OF(X509) *untrusted = sk_X509_new_null();
  int ok = store != NULL && ctx != NULL && untrusted != NULL &&
           X509_STORE_add_cert(store, root) &&
           (intermediate == NULL || sk_X509_push(untrusted, intermediate)) &&
           X509_STORE_CTX_init(ctx, store, leaf, untrusted);
  if (ok) {
    if (purpose != 0) {
      X509_STORE_CTX_set_purpose(ctx, purpose);
    }
    ok = X509_verify_cert(ctx) == 1;
    if (!ok && expect) {
      fprintf(stderr, "  X509_verify_cert: %s\n",
              X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    }
  }
  sk_X509_free(untrusted);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok;
}

TEST(chains_validate_with_boringssl) {
  static const char *const kFamilies[][2] = {{"rsa-issuing", "rsa-root"},
                                             {"ec-issuing", "ec-root"}};
  for (size_t f = 0; f < 2; f++) {
    const ca_issuer *issuing = ca_authority_find(authority, kFamilies[f][0]);
    const ca_issuer *root = ca_authority_find(authority, kFamilies[f][1]);
    CHECK(issuing != NULL && root != NULL);
    if (issuing == NULL || root == NULL) {
      continue;
    }
    X509 *issuing_x = parse(issuing), *root_x = parse(root);
    CHECK(verify_chain(issuing_x, NULL, root_x, 0, 1));
    // A leaf built under the issuing CA, as issue.c does, validates up to
    // the root through the issuing CA, as a TLS server certificate.
    const EVP_PKEY *leaf_key =
        f == 0 ? issuing->key : root->key;  // any key will do as the subject
    CBB spki, subject;
    CBB_zero(&spki);
    CBB_zero(&subject);
    ca_serial serial;
    CHECK(ca_serial_generate(&serial));
    CHECK(CBB_init(&spki, 600) && EVP_marshal_public_key(&spki, leaf_key));
    CHECK(CBB_init(&subject, 64) &&
          ca_name_add_simple(&subject, NULL, NULL, "leaf.example.com"));
    static const uint8_t kSan[] = {0x30, 0x12, 0x82, 0x10, 'l', 'e', 'a',
                                   'f',  '.',  'e',  'x',  'a', 'm', 'p',
                                   'l',  'e',  '.',  'c',  'o', 'm'};
    const int64_t now = (int64_t)time(NULL);
    ca_cert_template t = {
        .serial = &serial,
        .issuer_name = issuing->cert.subject,
        .not_before = now - 300,
        .not_after = now + 730 * 86400,
        .key_usage = CA_KU_DIGITAL_SIGNATURE | CA_KU_KEY_AGREEMENT,
        .ext_key_usage = CA_EKU_SERVER_AUTH | CA_EKU_CLIENT_AUTH,
        .path_len = -1,
        .authority_key_id = issuing->key_id,
        .ocsp_url = authority->ocsp_url,
    };
    CBS_init(&t.subject_name, CBB_data(&subject), CBB_len(&subject));
    CBS_init(&t.spki, CBB_data(&spki), CBB_len(&spki));
    CBS_init(&t.san, kSan, sizeof(kSan));
    uint8_t *der = NULL;
    size_t len = 0;
    CHECK(ca_certificate_build(&t, issuing->key, issuing->key_info.type,
                               ca_signature_digest(&issuing->key_info, NULL),
                               &der, &len, NULL));
    const uint8_t *p = der;
    X509 *leaf = der != NULL ? d2i_X509(NULL, &p, (long)len) : NULL;
    CHECK(leaf != NULL);
    if (leaf != NULL) {
      CHECK(verify_chain(leaf, issuing_x, root_x, X509_PURPOSE_SSL_SERVER, 1));
      CHECK(verify_chain(leaf, issuing_x, root_x, X509_PURPOSE_SSL_CLIENT, 1));
      // Without the issuing CA there is no path.
      CHECK(!verify_chain(leaf, NULL, root_x, 0, 0));
      ERR_clear_error();
    }
    X509_free(leaf);
    OPENSSL_free(der);
    CBB_cleanup(&spki);
    CBB_cleanup(&subject);
    X509_free(issuing_x);
    X509_free(root_x);
  }
}

TEST(configuration_is_honoured) {
  ca_authority_config config;
  ca_authority_config_init(&config);
  // The defaults of authority.h.
  CHECK_EQ_INT(config.rsa.type, CA_KEY_RSA);
  CHECK_EQ_INT(config.rsa.rsa_bits, 2048);
  CHECK_EQ_INT(config.ec.type, CA_KEY_EC);
  CHECK_EQ_INT(config.ec.curve_nid, NID_X9_62_prime256v1);
  CHECK_EQ_STR(config.organization, "pki");
  CHECK_EQ_STR(config.ocsp_url, "");
  CHECK_EQ_STR(config.ca_issuers_url, "");
  CHECK(config.country == NULL);
  CHECK(ca_profile_find(&config.profiles, "CAPF") != NULL);
  // Another organization, P-384 EC CAs, RSA-1024 for CallManager, no OCSP
  // URL at all.
  config.organization = "Example Corp";
  config.country = "US";
  config.ca_issuers_url = "http://pki.example.com/v1/ca/{ca}/chain?format=der";
  CHECK(ca_key_spec_parse(&config.ec, "EC-P384"));
  CHECK(ca_profile_enable_rsa1024(&config.profiles, "CallManager"));
  config.ocsp_url = NULL;
  ca_authority *other = NULL;
  CHECK(ca_authority_new_ephemeral(&config, &other));
  if (other == NULL) {
    return;
  }
  const ca_issuer *ec = ca_authority_find(other, "ec-issuing");
  CHECK(ec != NULL && strcmp(ec->algorithm, "EC-P384") == 0);
  CHECK(ec != NULL &&
        strcmp(ec->subject,
               "CN=Example Corp ECDSA Issuing CA,O=Example Corp,C=US") == 0);
  // Each CA's caIssuers URL, {ca} replaced by its name.
  CHECK(ec != NULL &&
        strcmp(ec->ca_issuers_url,
               "http://pki.example.com/v1/ca/ec-issuing/chain?format=der") ==
            0);
  CHECK(ec != NULL && ec->key_info.curve_nid == NID_secp384r1 &&
        ec->key_info.bits == 384);
  // A P-384 CA signs with SHA-384 (hash at least as strong as the key).
  X509 *x = ec != NULL ? parse(ec) : NULL;
  CHECK(x != NULL && X509_get_signature_nid(x) == NID_ecdsa_with_SHA384);
  X509_free(x);
  const ca_issuer *rsa_root = ca_authority_find(other, "rsa-root");
  CHECK(rsa_root != NULL &&
        strcmp(rsa_root->subject,
               "CN=Example Corp RSA Root CA,O=Example Corp,C=US") == 0);
  x = rsa_root != NULL ? parse(rsa_root) : NULL;
  CHECK(x != NULL && X509_get_signature_nid(x) == NID_sha256WithRSAEncryption);
  X509_free(x);
  // The profile table is the configuration's, copied.
  const ca_profile *cm = ca_profile_find(&other->profiles, "CallManager");
  CHECK(cm != NULL && (cm->keys & CA_RSA_1024));
  CHECK((ca_profile_find(&other->profiles, "tomcat")->keys & CA_RSA_1024) == 0);
  // No URL: the empty string, owned by the authority.
  CHECK_EQ_STR(other->ocsp_url, "");
  ca_authority_free(other);
  // The main authority's URL is a copy of the configuration's.
  CHECK_EQ_STR(authority->ocsp_url, "http://ocsp.example.com/");
}

TEST(bad_configuration_fails_cleanly) {
  ca_authority_config config;
  ca_authority_config_init(&config);
  config.ec.type = CA_KEY_NONE;
  ca_authority *out = (ca_authority *)&config;  // a sentinel
  ca_err_clear();
  CHECK(!ca_authority_new_ephemeral(&config, &out));
  CHECK(ca_err_get()->code != CA_OK);
  CHECK(out == (ca_authority *)&config);  // untouched on failure
  ca_authority_free(NULL);                // accepted
}

int main(void) {
  ca_authority_config config;
  ca_authority_config_init(&config);
  config.ocsp_url = "http://ocsp.example.com/";
  created_at = (int64_t)time(NULL);
  if (!ca_authority_new_ephemeral(&config, &authority)) {
    fprintf(stderr, "cannot create authority: %s\n", ca_err_get()->message);
    return 1;
  }
  RUN(four_cas);
  RUN(issuer_for_key_types);
  RUN(certificates_read_by_boringssl);
  RUN(validity_periods);
  RUN(chains_validate_with_boringssl);
  RUN(configuration_is_honoured);
  RUN(bad_configuration_fails_cleanly);
  ca_authority_free(authority);
  return test_summary();
}
