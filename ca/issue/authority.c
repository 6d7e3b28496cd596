#include "ca/issue/authority.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ca/issue/adopt.h"
#include "ca/limits.h"
#include "ca/oid.h"
#include "ca/x509/certificate.h"
#include "ca/x509/name.h"
#include "ca/x509/serial.h"
#include "ca/x509/signer.h"

// CA lifetimes: the root outlives every issuing CA it signs, and an issuing
// CA outlives the two-year leaves it signs for most of its life.
#define ROOT_YEARS 20
#define ISSUING_YEARS 10
// Started an hour early so that peers with slow clocks accept a new CA.
#define CA_BACKDATE_SECONDS 3600

void ca_authority_config_init(ca_authority_config *config) {
  memset(config, 0, sizeof(*config));
  config->data_dir = "./var";
  config->rsa.type = CA_KEY_RSA;
  config->rsa.rsa_bits = 2048;
  config->ec.type = CA_KEY_EC;
  config->ec.curve_nid = NID_X9_62_prime256v1;
  config->organization = "pki";
  config->ocsp_url = "";
  config->crl_url = "";
  config->ca_issuers_url = "";
  ca_profile_table_init(&config->profiles);
  ca_issue_limits_init(&config->limits);
}

static void issuer_cleanup(ca_issuer *issuer) {
  OPENSSL_free(issuer->name);
  OPENSSL_free(issuer->role);
  OPENSSL_free(issuer->algorithm);
  OPENSSL_free(issuer->subject);
  OPENSSL_free(issuer->serial);
  OPENSSL_free(issuer->der);
  OPENSSL_free(issuer->crl_url);
  OPENSSL_free(issuer->ca_issuers_url);
  // EVP_PKEY_free cleanses the key material as it frees it.
  EVP_PKEY_free(issuer->key);
  memset(issuer, 0, sizeof(*issuer));
}

void ca_authority_free(ca_authority *authority) {
  if (authority == NULL) {
    return;
  }
  for (size_t i = 0; i < authority->count; i++) {
    issuer_cleanup(&authority->issuers[i]);
  }
  OPENSSL_free(authority->ocsp_url);
  OPENSSL_free(authority->crl_url);
  OPENSSL_free(authority->ca_issuers_url);
  free(authority);
}

const ca_issuer *ca_authority_find(const ca_authority *authority,
                                   const char *name) {
  for (size_t i = 0; i < authority->count; i++) {
    if (strcmp(authority->issuers[i].name, name) == 0) {
      return &authority->issuers[i];
    }
  }
  CA_SET_ERROR(CA_ERR_NOT_FOUND, "no CA named \"%.64s\"", name);
  return NULL;
}

const ca_issuer *ca_authority_issuer_for(const ca_authority *authority,
                                         ca_key_type type) {
  const char *name = type == CA_KEY_RSA ? "rsa-issuing" : "ec-issuing";
  for (size_t i = 0; i < authority->count; i++) {
    const ca_issuer *issuer = &authority->issuers[i];
    if (strcmp(issuer->name, name) == 0 && issuer->key != NULL) {
      return issuer;
    }
  }
  CA_SET_ERROR(CA_ERR_ISSUER_UNAVAILABLE, "no %s issuing CA is loaded",
               ca_key_type_name(type));
  return NULL;
}

// --- Creating the CAs of a new installation ---

// One CA being made: its record for the database and its key.
typedef struct made_ca {
  ca_issuer_row record;
  EVP_PKEY *key;
  uint8_t key_id[CA_KEY_ID_LEN];
} made_ca;

static int make_ca(const ca_authority_config *config, const ca_key_spec *spec,
                   const char *family, int is_root, const made_ca *parent,
                   int64_t now, made_ca *out) {
  int ret = 0;
  CBB name, spki;
  CBB_zero(&name);
  CBB_zero(&spki);
  char cn[160], algorithm[16];
  ca_serial serial;
  ca_key_info key_info, parent_info;
  memset(out, 0, sizeof(*out));

  out->key = ca_key_generate(spec);
  CA_GUARD_PTR(out->key);
  CA_GUARD(ca_key_info_from_pkey(out->key, &key_info));
  CA_GUARD(ca_serial_generate(&serial));
  const int cn_len =
      snprintf(cn, sizeof(cn), "%s %s %s CA", config->organization,
               strcmp(family, "rsa") == 0 ? "RSA" : "ECDSA",
               is_root ? "Root" : "Issuing");
  // RFC 5280 ub-common-name: a longer CN would be refused by pki's own
  // name checks and by strict peers.
  CA_ENSURE(cn_len > 0 && cn_len <= CA_LIMIT_CN_LEN, CA_ERR_CONFIG,
            "CA name \"%s\" longer than %d characters: shorten --ca-org", cn,
            CA_LIMIT_CN_LEN);
  CA_GUARD_CRYPTO(CBB_init(&name, 128));
  CA_GUARD(
      ca_name_add_simple(&name, config->country, config->organization, cn));
  CA_GUARD_CRYPTO(CBB_init(&spki, 600));
  CA_GUARD_CRYPTO(EVP_marshal_public_key(&spki, out->key));

  ca_cert_template t;
  memset(&t, 0, sizeof(t));
  t.serial = &serial;
  CBS_init(&t.subject_name, CBB_data(&name), CBB_len(&name));
  t.issuer_name = t.subject_name;
  CBS_init(&t.spki, CBB_data(&spki), CBB_len(&spki));
  t.not_before = now - CA_BACKDATE_SECONDS;
  t.not_after =
      now + (int64_t)(is_root ? ROOT_YEARS : ISSUING_YEARS) * 365 * 86400;
  t.is_ca = 1;
  // The issuing CA signs CAPF certificates, which are CAs themselves
  // (pathlen 0): it needs a path length of 1. The root is unconstrained.
  t.path_len = is_root ? -1 : 1;
  t.key_usage = CA_KU_KEY_CERT_SIGN | CA_KU_CRL_SIGN | CA_KU_DIGITAL_SIGNATURE;
  EVP_PKEY *signer = out->key;
  ca_key_info *signer_info = &key_info;
  if (!is_root) {
    ca_x509 parent_cert;
    CA_GUARD(ca_x509_parse(&parent_cert, parent->record.der,
                           parent->record.der_len));
    t.issuer_name = parent_cert.subject;
    t.authority_key_id = parent->key_id;
    if (t.not_after > parent_cert.not_after) {
      t.not_after = parent_cert.not_after;
    }
    signer = parent->key;
    CA_GUARD(ca_key_info_from_pkey(parent->key, &parent_info));
    signer_info = &parent_info;
  }
  CA_GUARD(ca_certificate_build(&t, signer, signer_info->type,
                                ca_signature_digest(signer_info, &key_info),
                                &out->record.der, &out->record.der_len,
                                out->key_id));

  ca_key_spec_name(spec, algorithm, sizeof(algorithm));
  char ca_name[32], key_file[48], serial_hex[CA_SERIAL_HEX_LEN];
  snprintf(ca_name, sizeof(ca_name), "%s-%s", family,
           is_root ? "root" : "issuing");
  snprintf(key_file, sizeof(key_file), "%s.key", ca_name);
  ca_serial_to_hex(&serial, serial_hex);
  out->record.name = OPENSSL_strdup(ca_name);
  out->record.role = OPENSSL_strdup(is_root ? "root" : "issuing");
  out->record.algorithm = OPENSSL_strdup(algorithm);
  out->record.parent = is_root ? NULL : OPENSSL_strdup(parent->record.name);
  out->record.serial = OPENSSL_strdup(serial_hex);
  out->record.key_file = OPENSSL_strdup(key_file);
  out->record.not_before = t.not_before;
  out->record.not_after = t.not_after;
  CA_GUARD(ca_name_format(&t.subject_name, &out->record.subject));
  CA_ENSURE(out->record.name && out->record.role && out->record.algorithm &&
                (is_root || out->record.parent) && out->record.serial &&
                out->record.key_file,
            CA_ERR_NO_MEMORY, "out of memory");
  ret = 1;
err:
  // What |out| holds, even on failure, is the caller's (made_cas_free).
  CBB_cleanup(&name);
  CBB_cleanup(&spki);
  return ret;
}

static void made_cas_free(made_ca *cas, size_t n) {
  for (size_t i = 0; i < n; i++) {
    ca_issuer_row_cleanup(&cas[i].record);
    EVP_PKEY_free(cas[i].key);
  }
  // Zeroed entries make a second call harmless.
  memset(cas, 0, n * sizeof(made_ca));
}

#define MADE_COUNT 4

// make_all creates the four CAs: RSA root and issuing, EC root and issuing.
static int make_all(const ca_authority_config *config,
                    made_ca out[MADE_COUNT]) {
  memset(out, 0, MADE_COUNT * sizeof(made_ca));
  const int64_t now = (int64_t)time(NULL);
  CA_GUARD(make_ca(config, &config->rsa, "rsa", 1, NULL, now, &out[0]));
  CA_GUARD(make_ca(config, &config->rsa, "rsa", 0, &out[0], now, &out[1]));
  CA_GUARD(make_ca(config, &config->ec, "ec", 1, NULL, now, &out[2]));
  CA_GUARD(make_ca(config, &config->ec, "ec", 0, &out[2], now, &out[3]));
  return 1;
err:
  made_cas_free(out, MADE_COUNT);
  return 0;
}

static int key_path(const char *data_dir, const char *file, char *out,
                    size_t out_len) {
  CA_ENSURE_RETURN(strchr(file, '/') == NULL && file[0] != '.', CA_ERR_KEY_FILE,
                   "bad key file name \"%.64s\"", file);
  int n = snprintf(out, out_len, "%s/keys/%s", data_dir, file);
  CA_ENSURE_RETURN(n > 0 && (size_t)n < out_len, CA_ERR_KEY_FILE,
                   "key path too long");
  return 1;
}

static int ensure_key_dir(const char *data_dir) {
  char dir[4096];
  int n = snprintf(dir, sizeof(dir), "%s/keys", data_dir);
  CA_ENSURE_RETURN(n > 0 && (size_t)n < sizeof(dir), CA_ERR_KEY_FILE,
                   "data directory path too long");
  if (mkdir(data_dir, 0700) != 0 && errno != EEXIST) {
    CA_SET_ERROR(CA_ERR_KEY_FILE, "cannot create %s: %s", data_dir,
                 strerror(errno));
    return 0;
  }
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    CA_SET_ERROR(CA_ERR_KEY_FILE, "cannot create %s: %s", dir, strerror(errno));
    return 0;
  }
  CA_ENSURE_RETURN(chmod(dir, 0700) == 0, CA_ERR_KEY_FILE,
                   "cannot chmod %s: %s", dir, strerror(errno));
  return 1;
}

typedef struct generate_arg {
  const ca_authority_config *config;
} generate_arg;

// generate_for_store is the ca_issuer_generator of a new installation: it
// makes the CAs and writes their keys. If a key file is already there, the
// data directory belongs to another installation (or an earlier one whose
// database was lost): refuse rather than overwrite or mismatch.
static int generate_for_store(void *varg, ca_issuer_row **out, size_t *out_n) {
  const generate_arg *arg = varg;
  made_ca made[MADE_COUNT];
  ca_issuer_row *records = NULL;
  size_t written = 0;
  char path[4096];
  memset(made, 0, sizeof(made));
  CA_GUARD(ensure_key_dir(arg->config->data_dir));
  CA_GUARD(make_all(arg->config, made));
  for (size_t i = 0; i < MADE_COUNT; i++) {
    CA_GUARD(key_path(arg->config->data_dir, made[i].record.key_file, path,
                      sizeof(path)));
    CA_GUARD(ca_key_write_file(path, made[i].key, arg->config->key_passphrase));
    written++;
  }
  records = calloc(MADE_COUNT, sizeof(*records));
  CA_ENSURE_ALLOC(records);
  for (size_t i = 0; i < MADE_COUNT; i++) {
    records[i] = made[i].record;
    memset(&made[i].record, 0, sizeof(made[i].record));
    EVP_PKEY_free(made[i].key);
    made[i].key = NULL;
  }
  *out = records;
  *out_n = MADE_COUNT;
  return 1;
err:
  // Keys of CAs that will not be recorded must not linger.
  for (size_t i = 0; i < written; i++) {
    if (key_path(arg->config->data_dir, made[i].record.key_file, path,
                 sizeof(path))) {
      unlink(path);
    }
  }
  made_cas_free(made, MADE_COUNT);
  return 0;
}

// --- Loading ---

// crl_url_for replaces "{ca}" in |pattern| with |name| (OPENSSL_malloc): the
// CRL and caIssuers URLs of a CA.
static char *crl_url_for(const char *pattern, const char *name) {
  const char *mark = strstr(pattern, "{ca}");
  if (mark == NULL) {
    return OPENSSL_strdup(pattern);
  }
  const size_t len = strlen(pattern) - 4 + strlen(name) + 1;
  char *url = OPENSSL_malloc(len);
  if (url != NULL) {
    snprintf(url, len, "%.*s%s%s", (int)(mark - pattern), pattern, name,
             mark + 4);
  }
  return url;
}

static int load_issuer(ca_authority *authority, const ca_issuer_row *r,
                       EVP_PKEY *key, ca_issuer *out) {
  memset(out, 0, sizeof(*out));
  out->id = r->id;
  out->name = OPENSSL_strdup(r->name);
  out->role = OPENSSL_strdup(r->role);
  out->algorithm = OPENSSL_strdup(r->algorithm);
  out->subject = OPENSSL_strdup(r->subject);
  out->serial = OPENSSL_strdup(r->serial);
  out->der = OPENSSL_memdup(r->der, r->der_len);
  out->der_len = r->der_len;
  out->key = key;
  CA_ENSURE(out->name && out->role && out->algorithm && out->subject &&
                out->serial && out->der,
            CA_ERR_NO_MEMORY, "out of memory");
  CA_GUARD(ca_x509_parse(&out->cert, out->der, out->der_len));
  CBS ski;
  int critical;
  if (ca_x509_find_extension(&out->cert, kOidSubjectKeyIdentifier,
                             sizeof(kOidSubjectKeyIdentifier), &ski,
                             &critical)) {
    CBS id;
    CA_ENSURE(CBS_get_asn1(&ski, &id, CBS_ASN1_OCTETSTRING) &&
                  CBS_len(&id) == CA_KEY_ID_LEN,
              CA_ERR_CERT_MALFORMED, "CA %s: unexpected key identifier",
              r->name);
    memcpy(out->key_id, CBS_data(&id), CA_KEY_ID_LEN);
  } else {
    CA_GUARD(ca_spki_key_id(&out->cert.spki, out->key_id));
  }
  CA_ENSURE(ca_key_matches(key, &out->cert.spki), CA_ERR_KEY_FILE,
            "the key of CA %s does not match its certificate", r->name);
  CA_GUARD(ca_key_info_from_pkey(key, &out->key_info));
  if (r->parent != NULL) {
    out->parent = ca_authority_find(authority, r->parent);
    CA_GUARD_PTR(out->parent);
  }
  out->crl_url = crl_url_for(authority->crl_url, out->name);
  CA_ENSURE_ALLOC(out->crl_url);
  out->ca_issuers_url = crl_url_for(authority->ca_issuers_url, out->name);
  CA_ENSURE_ALLOC(out->ca_issuers_url);
  out->chain[0] = out;
  out->chain_len = 1;
  for (const ca_issuer *p = out->parent; p != NULL; p = p->parent) {
    CA_ENSURE(out->chain_len < CA_CHAIN_MAX, CA_ERR_INTERNAL,
              "CA chain too long");
    out->chain[out->chain_len++] = p;
  }
  return 1;
err:
  out->key = NULL;  // still the caller's on failure
  issuer_cleanup(out);
  return 0;
}

static ca_authority *authority_new(const ca_authority_config *config) {
  ca_authority *authority = calloc(1, sizeof(*authority));
  if (authority == NULL) {
    return NULL;
  }
  authority->profiles = config->profiles;
  authority->limits = config->limits;
  authority->crl_shards = config->crl_shards;
  authority->ocsp_url =
      OPENSSL_strdup(config->ocsp_url != NULL ? config->ocsp_url : "");
  authority->crl_url =
      OPENSSL_strdup(config->crl_url != NULL ? config->crl_url : "");
  authority->ca_issuers_url = OPENSSL_strdup(
      config->ca_issuers_url != NULL ? config->ca_issuers_url : "");
  if (authority->ocsp_url == NULL || authority->crl_url == NULL ||
      authority->ca_issuers_url == NULL) {
    OPENSSL_free(authority->ocsp_url);
    OPENSSL_free(authority->crl_url);
    OPENSSL_free(authority->ca_issuers_url);
    free(authority);
    return NULL;
  }
  return authority;
}

int ca_authority_set_ocsp_url(ca_authority *authority, const char *url) {
  char *copy = OPENSSL_strdup(url);
  if (copy == NULL) {
    return 0;
  }
  OPENSSL_free(authority->ocsp_url);
  authority->ocsp_url = copy;
  return 1;
}

// The adopted CAs' certificates (pkid --adopt-cas), read before the
// bootstrap transaction so that a bad file fails before it starts.
typedef struct adopt_arg {
  const char *data_dir;
  const uint8_t *pem;
  size_t pem_len;
  const char *passphrase;
} adopt_arg;

static int adopt_for_store(void *varg, ca_issuer_row **out, size_t *out_n) {
  const adopt_arg *arg = varg;
  return ca_adopt_records(arg->data_dir, arg->pem, arg->pem_len,
                          arg->passphrase, out, out_n);
}

// check_adopted refuses to serve with --adopt-cas when the database already
// holds CAs other than the adopted ones: adopting is for an empty
// database, and restarting with the same flag must keep working.
static int check_adopted(const adopt_arg *arg, const ca_issuer_row *records,
                         size_t n) {
  ca_issuer_row *want = NULL;
  size_t n_want = 0;
  CA_GUARD_RETURN(ca_adopt_records(arg->data_dir, arg->pem, arg->pem_len,
                                   arg->passphrase, &want, &n_want));
  int same = n_want == n;
  for (size_t i = 0; same && i < n_want; i++) {
    int found = 0;
    for (size_t k = 0; k < n && !found; k++) {
      found = strcmp(records[k].name, want[i].name) == 0 &&
              records[k].der_len == want[i].der_len &&
              memcmp(records[k].der, want[i].der, want[i].der_len) == 0;
    }
    same = found;
  }
  ca_issuer_rows_free(want, n_want);
  CA_ENSURE_RETURN(
      same, CA_ERR_CONFIG,
      "--adopt-cas: the database already holds other CAs; adopt into "
      "an empty database");
  return 1;
}

int ca_authority_open(ca_store *store, const ca_authority_config *config,
                      ca_authority **out) {
  ca_authority *authority = NULL;
  ca_issuer_row *records = NULL;
  size_t n = 0;
  generate_arg arg = {config};
  adopt_arg adopt = {config->data_dir, NULL, 0, config->key_passphrase};
  uint8_t *pem = NULL;
  char path[4096];
  if (config->adopt_cas != NULL) {
    CA_GUARD(ca_adopt_read_file(config->adopt_cas, &pem, &adopt.pem_len));
    adopt.pem = pem;
    CA_GUARD(ca_store_bootstrap_issuers(store, adopt_for_store, &adopt,
                                        &records, &n));
    CA_GUARD(check_adopted(&adopt, records, n));
  } else {
    CA_GUARD(ca_store_bootstrap_issuers(store, generate_for_store, &arg,
                                        &records, &n));
  }
  CA_ENSURE(n <= CA_AUTHORITY_MAX_ISSUERS, CA_ERR_CONFIG,
            "more CAs in the database than pki supports");
  authority = authority_new(config);
  CA_ENSURE_ALLOC(authority);
  for (size_t i = 0; i < n; i++) {
    CA_GUARD(
        key_path(config->data_dir, records[i].key_file, path, sizeof(path)));
    EVP_PKEY *key = ca_key_read_file(path, config->key_passphrase);
    CA_GUARD_PTR(key);
    if (!load_issuer(authority, &records[i], key,
                     &authority->issuers[authority->count])) {
      EVP_PKEY_free(key);
      goto err;
    }
    authority->count++;
  }
  ca_issuer_rows_free(records, n);
  OPENSSL_free(pem);
  *out = authority;
  return 1;
err:
  ca_issuer_rows_free(records, n);
  ca_authority_free(authority);
  OPENSSL_free(pem);
  return 0;
}

int ca_authority_new_ephemeral(const ca_authority_config *config,
                               ca_authority **out) {
  int ret = 0;
  made_ca made[MADE_COUNT];
  ca_authority *authority = NULL;
  CA_GUARD(make_all(config, made));
  authority = authority_new(config);
  CA_ENSURE_ALLOC(authority);
  for (size_t i = 0; i < MADE_COUNT; i++) {
    CA_GUARD(load_issuer(authority, &made[i].record, made[i].key,
                         &authority->issuers[authority->count]));
    made[i].key = NULL;  // owned by the issuer now
    authority->count++;
  }
  *out = authority;
  authority = NULL;  // the caller's now
  ret = 1;
err:
  made_cas_free(made, MADE_COUNT);
  ca_authority_free(authority);
  return ret;
}
