// pki's own certificate authorities: for each key family (RSA and EC) a
// self-signed root and an issuing CA under it. Leaves are signed by the
// issuing CA of their profile's key type.
#ifndef PKI_CA_AUTHORITY_H
#define PKI_CA_AUTHORITY_H

#include <openssl/base.h>
#include <stddef.h>
#include <stdint.h>

#include "ca/error.h"
#include "ca/policy/issue_limits.h"
#include "ca/policy/profile.h"
#include "ca/store/store.h"
#include "ca/x509/csr.h"
#include "ca/x509/key.h"
#include "ca/x509/x509.h"

#define CA_AUTHORITY_MAX_ISSUERS 8
#define CA_CHAIN_MAX 4

typedef struct ca_issuer {
  int64_t id;  // issuers.id; 0 for an authority without a database
  char *name;  // "rsa-root", "rsa-issuing", "ec-root", "ec-issuing"
  char *role;  // "root" or "issuing"
  char *algorithm;
  char *subject;  // RFC 4514
  char *serial;
  uint8_t *der;
  size_t der_len;
  ca_x509 cert;  // views into |der|
  uint8_t key_id[CA_KEY_ID_LEN];
  ca_key_info key_info;
  EVP_PKEY *key;
  const struct ca_issuer *parent;  // NULL for a root
  // This CA and those above it, up to and including the root.
  const struct ca_issuer *chain[CA_CHAIN_MAX];
  size_t chain_len;
  char *crl_url;  // where its CRL is published; "" when not configured
  // Where its own certificate is published (AIA caIssuers of what it
  // issues); "" when not configured.
  char *ca_issuers_url;
} ca_issuer;

typedef struct ca_authority_config {
  const char *data_dir;      // CA keys live in |data_dir|/keys
  ca_key_spec rsa;           // key of the RSA root and issuing CA
  ca_key_spec ec;            // key of the EC root and issuing CA
  const char *organization;  // O= of the CA names
  const char *country;       // C= of the CA names (two letters); NULL: none
  const char *ocsp_url;      // AIA OCSP URI of issued certificates; may be ""
  // CRL distribution point of issued certificates; "{ca}" stands for the
  // issuing CA's name. "" for none.
  const char *crl_url;
  // AIA caIssuers URI of issued certificates, "{ca}" as in |crl_url|. ""
  // for none.
  const char *ca_issuers_url;
  // The number of CRLs each CA's certificates are spread over (pkid
  // --crl-shards): 0 or 1 for one, the CA-wide CRL; else each certificate
  // names its shard's CRL, |crl_url| "/" k (ca/x509/crl_dp.h).
  unsigned crl_shards;
  ca_profile_table profiles;
  // A PEM file of CA certificates whose keys are in |data_dir|/keys: on a
  // database without CAs they are adopted (ca/issue/adopt.h) instead of new
  // ones made; on one with CAs, those must be these. NULL: make new CAs.
  const char *adopt_cas;
  // The passphrase of the CA key files (ca/x509/key.h): keys written are
  // encrypted with it, keys read may be. NULL: keys are written unencrypted
  // and an encrypted key file is refused. Not owned.
  const char *key_passphrase;
  // --- Limits ---
  // What every issuance of the authority accepts (pkid --max-csr-bytes,
  // --max-sans); ca_authority_config_init sets the ceilings.
  ca_issue_limits limits;
} ca_authority_config;

typedef struct ca_authority {
  ca_issuer issuers[CA_AUTHORITY_MAX_ISSUERS];
  size_t count;
  ca_profile_table profiles;
  char *ocsp_url;
  char *crl_url;           // the pattern, "{ca}" not yet replaced
  char *ca_issuers_url;    // the same
  unsigned crl_shards;     // as in ca_authority_config
  ca_issue_limits limits;  // from the configuration
} ca_authority;

// ca_authority_config_init sets the defaults: RSA-2048 and EC-P256 CAs,
// organization "pki", no OCSP URL, the built-in profiles, the limits at
// their ceilings.
void ca_authority_config_init(ca_authority_config *config);

// ca_authority_open loads the CAs recorded in |store|, creating them on the
// first start of an installation (keys written 0600 into
// |config->data_dir|/keys, certificates into the database). Each CA key file
// must match its certificate. On success the caller frees |*out| with
// ca_authority_free.
int ca_authority_open(ca_store *store, const ca_authority_config *config,
                      ca_authority **out) CA_MUST_CHECK;

// ca_authority_new_ephemeral creates CAs in memory only (no database, no
// files): for the in-process benchmark and unit tests.
int ca_authority_new_ephemeral(const ca_authority_config *config,
                               ca_authority **out) CA_MUST_CHECK;

// ca_authority_set_ocsp_url replaces the AIA OCSP URI written into issued
// certificates; pkid calls it once it knows the port its OCSP listener got.
// It is not synchronised with issuance: call it before anything is signed.
// It returns 0 when out of memory (the old URI stays).
int ca_authority_set_ocsp_url(ca_authority *authority, const char *url);

// ca_authority_free frees |authority| and cleanses its keys. Accepts NULL.
void ca_authority_free(ca_authority *authority);

// ca_authority_find returns the CA named |name|, or NULL with
// CA_ERR_NOT_FOUND. The pointer borrows from |authority|.
const ca_issuer *ca_authority_find(const ca_authority *authority,
                                   const char *name);

// ca_authority_issuer_for returns the issuing CA for leaves of key type
// |type|, or NULL with CA_ERR_ISSUER_UNAVAILABLE.
const ca_issuer *ca_authority_issuer_for(const ca_authority *authority,
                                         ca_key_type type);

#endif  // PKI_CA_AUTHORITY_H
