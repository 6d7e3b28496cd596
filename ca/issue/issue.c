#include "ca/issue/issue.h"

#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ca/policy/access.h"
#include "ca/policy/profile.h"
#include "ca/x509/asn1_time.h"
#include "ca/x509/certificate.h"
#include "ca/x509/crl_dp.h"
#include "ca/x509/csr.h"
#include "ca/x509/csr_build.h"
#include "ca/x509/name.h"
#include "ca/x509/san.h"
#include "ca/x509/signer.h"

// Leaves start a few minutes in the past, so that a peer whose clock lags
// slightly does not reject a certificate it has just received.
#define LEAF_BACKDATE_SECONDS 300

void ca_issued_cleanup(ca_issued *issued) {
  if (issued->private_key != NULL) {
    OPENSSL_cleanse(issued->private_key, issued->private_key_len);
    OPENSSL_free(issued->private_key);
  }
  OPENSSL_free(issued->der);
  OPENSSL_free(issued->subject);
  OPENSSL_free(issued->san_text);
  memset(issued, 0, sizeof(*issued));
}

void ca_issued_fail(ca_issued *issued, const ca_err *err) {
  ca_issued_cleanup(issued);
  issued->err = *err;
}

// record_sans keeps the text form ("DNS:...", "IP:...") of every SAN.
static int record_sans(const ca_san_list *sans, ca_issued *out) {
  // "DNS:" plus a name of at most 253 bytes, or "IP:" plus an address.
  const size_t per_name = CA_LIMIT_DNS_NAME_LEN + 8;
  out->san_text = OPENSSL_malloc(sans->count * per_name + 1);
  CA_ENSURE_ALLOC_RETURN(out->san_text);
  char *p = out->san_text;
  for (size_t i = 0; i < sans->count; i++) {
    CA_ENSURE_RETURN(ca_san_format(&sans->items[i], p, per_name),
                     CA_ERR_INTERNAL, "cannot format a SAN");
    out->sans[i] = p;
    p += strlen(p) + 1;
  }
  out->san_count = sans->count;
  return 1;
}

// validity computes notBefore and notAfter: "never past the issuer's
// notAfter" (README.md, "Profiles").
static int validity(const ca_profile *profile, const ca_issuer *issuer,
                    uint32_t requested_days, int64_t now, int64_t *out_nb,
                    int64_t *out_na) {
  const uint32_t days = ca_profile_validity_days(profile, requested_days);
  CA_GUARD_RETURN(days != 0);
  CA_ENSURE_RETURN(days <= CA_LIMIT_VALIDITY_DAYS, CA_ERR_VALIDITY_TOO_LONG,
                   "validity of %u days is too long", days);
  CA_ENSURE_RETURN(
      now >= issuer->cert.not_before && now < issuer->cert.not_after,
      CA_ERR_ISSUER_UNAVAILABLE, "issuing CA %s is not valid now",
      issuer->name);
  int64_t nb = now - LEAF_BACKDATE_SECONDS;
  if (nb < issuer->cert.not_before) {
    nb = issuer->cert.not_before;
  }
  int64_t na = now + (int64_t)days * 86400;
  if (na > issuer->cert.not_after) {
    na = issuer->cert.not_after;
  }
  *out_nb = nb;
  *out_na = na;
  return 1;
}

// self_signed_validity computes the validity of a self-signed identity:
// |years| calendar years from now, as a node's own certificate has (5, 10
// or 20 years: the choices the seed products offer). There is no issuer to
// stay within.
static int self_signed_validity(const ca_profile *profile, uint32_t years,
                                int64_t now, int64_t *out_nb, int64_t *out_na) {
  CA_ENSURE_RETURN(
      ca_self_signed_years_allowed(profile, years), CA_ERR_VALIDITY_UNSUPPORTED,
      "a self-signed %s identity is valid %s years, not %u", profile->name,
      profile->self_signed_only ? "5, 10, 15 or 20" : "5, 10 or 20", years);
  const time_t t = (time_t)now;
  struct tm tm;
  CA_ENSURE_RETURN(gmtime_r(&t, &tm) != NULL, CA_ERR_INTERNAL,
                   "clock out of range");
  const int year = tm.tm_year + 1900 + (int)years;
  int day = tm.tm_mday;
  // 29 February of a leap year ends on 28 February of a common one.
  const int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (tm.tm_mon == 1 && day == 29 && !leap) {
    day = 28;
  }
  *out_nb = now - LEAF_BACKDATE_SECONDS;
  *out_na = ca_time_from_civil(year, tm.tm_mon + 1, day, tm.tm_hour, tm.tm_min,
                               tm.tm_sec);
  return 1;
}

// check_key applies the profile's key rules. A self-signed identity may
// also have an RSA-1024 key (labs with legacy phones): nothing of pki
// vouches for it, so the CA's stricter rule does not apply.
static int check_key(const ca_profile *profile, const ca_key_info *key,
                     int self_signed) {
  ca_profile relaxed = *profile;
  if (self_signed && profile->key_type == CA_KEY_RSA) {
    relaxed.keys |= CA_RSA_1024;
  }
  return ca_profile_check_key(&relaxed, key);
}

// What issue_sign derives from a request before it builds the certificate.
// Everything here is owned by issue_sign and freed by sign_state_cleanup.
typedef struct sign_state {
  const ca_profile *profile;
  const ca_issuer *issuer;  // NULL when the request signs itself
  ca_csr csr;
  const uint8_t *der;  // the CSR's DER, in the request or in |pem_der|
  size_t der_len;
  uint8_t *pem_der;  // the decoded PEM, when the request was PEM
  CBS cn;            // the subject's CN, borrowed from |csr|
  CBB subject;       // the certificate's subject name
  ca_san_list *sans;
  CBS san_der;        // the subjectAltName value: the CSR's or |generated|
  CBB generated_san;  // the SAN made from the CN when the CSR has none
  uint8_t ip_scratch[16];
} sign_state;

static void sign_state_init(sign_state *st) {
  memset(st, 0, sizeof(*st));
  CBB_zero(&st->subject);
  CBB_zero(&st->generated_san);
}

static void sign_state_cleanup(sign_state *st) {
  free(st->sans);
  CBB_cleanup(&st->subject);
  CBB_cleanup(&st->generated_san);
  ca_csr_cleanup(&st->csr);
  OPENSSL_free(st->pem_der);
}

// read_request finds the profile and the issuer and parses the CSR, whose
// key the profile must accept. |max_csr| bounds the request.
static int read_request(const ca_authority *authority,
                        const ca_issue_request *request, int self_signed,
                        size_t max_csr, sign_state *st) {
  st->profile = ca_profile_find(&authority->profiles, request->profile);
  CA_GUARD_PTR_RETURN(st->profile);
  CA_GUARD_RETURN(ca_profile_check_issuer(st->profile, self_signed));
  CA_GUARD_RETURN(ca_csr_decode_max(request->csr, request->csr_len, max_csr,
                                    &st->der, &st->der_len, &st->pem_der));
  CA_GUARD_RETURN(ca_csr_parse(&st->csr, st->der, st->der_len));
  CA_GUARD_RETURN(check_key(st->profile, &st->csr.key, self_signed));
  if (!self_signed) {
    st->issuer = ca_authority_issuer_for(authority, st->profile->key_type);
    CA_GUARD_PTR_RETURN(st->issuer);
  }
  return 1;
}

// build_subject checks the request's subject (an api-client certificate's
// role OU too) and writes the certificate's: the same, OU dropped unless
// the profile keeps it. A self-signed identity
// keeps the OU it was given: it is the node's own name for itself, and no
// CA policy stands between.
static int build_subject(const ca_authority *authority, sign_state *st,
                         int self_signed) {
  CA_GUARD_RETURN(ca_name_check(&st->csr.subject, &st->cn));
  if (strcmp(st->profile->name, CA_PROFILE_API_CLIENT) == 0) {
    // Its OU is its holder's role (api/server/auth.c reads it with the same
    // parser): exactly one, well formed, or the certificate would mean
    // what its reader makes of it.
    ca_principal role;
    memset(&role, 0, sizeof(role));
    CA_GUARD_RETURN(
        ca_role_ou_parse(&role, &st->csr.subject, &authority->profiles));
  }
  CA_GUARD_CRYPTO_RETURN(CBB_init(&st->subject, CBS_len(&st->csr.subject)));
  CA_GUARD_RETURN(ca_name_add_leaf_subject(
      &st->subject, &st->csr.subject, st->profile->keep_ou || self_signed));
  return 1;
}

// build_sans applies invariant 4: the CSR's SANs copied exactly, the CN
// among them; otherwise the CN alone. A single-host profile's SANs must all
// name the CN's host. The host is the CN without the profile's cn_prefix
// (ITLRecovery's CN is ITLRECOVERY_<host>, not a DNS name).
static int build_sans(const ca_authority *authority, sign_state *st) {
  CBS host = st->cn;
  ca_profile_cn_host(st->profile, &host);
  st->sans = malloc(sizeof(*st->sans));
  CA_ENSURE_ALLOC_RETURN(st->sans);
  if (st->csr.has_san) {
    CA_GUARD_RETURN(ca_san_parse_max(
        st->sans, &st->csr.san, ca_issue_limits_san_count(&authority->limits)));
    CA_GUARD_RETURN(ca_san_require_cn(st->sans, &host));
    st->san_der = st->csr.san;
  } else {
    CA_GUARD_CRYPTO_RETURN(CBB_init(&st->generated_san, 64));
    CA_GUARD_RETURN(ca_san_add_from_cn(&st->generated_san, &host, st->sans,
                                       st->ip_scratch));
    CBS_init(&st->san_der, CBB_data(&st->generated_san),
             CBB_len(&st->generated_san));
  }
  if (!st->profile->multi_host) {
    CA_GUARD_RETURN(ca_san_require_single_host(st->sans, &host));
  }
  return 1;
}

// sign_certificate builds the certificate of |out|'s serial and validity and
// signs it: with the issuer's key, or with |self_key| as its own issuer.
static int sign_certificate(const ca_authority *authority,
                            const ca_issuer_keys *keys, EVP_PKEY *self_key,
                            const sign_state *st, ca_issued *out) {
  const ca_profile *profile = st->profile;
  ca_cert_template t;
  memset(&t, 0, sizeof(t));
  t.serial = &out->serial;
  CBS_init(&t.subject_name, CBB_data(&st->subject), CBB_len(&st->subject));
  t.spki = st->csr.spki;
  t.not_before = out->not_before;
  t.not_after = out->not_after;
  t.key_usage = profile->key_usage;
  t.ext_key_usage = profile->ext_key_usage;
  t.is_ca = profile->is_ca;
  t.path_len = profile->path_len;
  t.san = st->san_der;
  if (self_key == NULL) {
    const ca_issuer *issuer = st->issuer;
    t.issuer_name = issuer->cert.subject;
    t.authority_key_id = issuer->key_id;
    t.ocsp_url = authority->ocsp_url;
    t.ca_issuers_url = issuer->ca_issuers_url;
    // A shard is named only where its CRL can be found.
    char shard_url[CA_CRL_URL_MAX];
    if (authority->crl_shards > 1 && issuer->crl_url[0] != '\0') {
      out->crl_shard = ca_crl_shard_of(&out->serial, authority->crl_shards);
      CA_GUARD_RETURN(ca_crl_shard_url(issuer->crl_url, out->crl_shard,
                                       shard_url, sizeof(shard_url)));
      t.crl_url = shard_url;
    } else {
      t.crl_url = issuer->crl_url;
    }
    return ca_certificate_build(
        &t, ca_issuer_keys_get(keys, authority, issuer), issuer->key_info.type,
        ca_signature_digest(&issuer->key_info, &st->csr.key), &out->der,
        &out->der_len, NULL);
  }
  // Its own issuer: the issuer name is the subject, the authority key
  // identifier its own key identifier ("MAY be omitted" in a self-signed
  // certificate, RFC 5280 4.2.1.1, but clients match on it when present in
  // the certificates that it would sign). "If the keyCertSign bit is
  // asserted, then the cA bit in the basic constraints extension MUST also
  // be asserted" (RFC 5280 4.2.1.3): OpenSSL treats a certificate as
  // self-signed, hence as a trust anchor of its own, only when its Key Usage
  // includes keyCertSign, so both are set; pathLenConstraint 0 keeps it from
  // vouching for any CA below it. No CRL or OCSP speaks for it: pki is not
  // its issuer.
  uint8_t own_key_id[CA_KEY_ID_LEN];
  if (!ca_spki_key_id(&st->csr.spki, own_key_id)) {
    return 0;
  }
  t.issuer_name = t.subject_name;
  t.authority_key_id = own_key_id;
  t.key_usage |= CA_KU_KEY_CERT_SIGN;
  t.is_ca = 1;
  t.path_len = 0;
  return ca_certificate_build(&t, self_key, st->csr.key.type,
                              ca_signature_digest(&st->csr.key, &st->csr.key),
                              &out->der, &out->der_len, NULL);
}

// describe_issued fills in what the database records of the certificate.
static int describe_issued(const sign_state *st, ca_issued *out) {
  CBS subject;
  CBS_init(&subject, CBB_data(&st->subject), CBB_len(&st->subject));
  if (!ca_name_format(&subject, &out->subject) || !record_sans(st->sans, out)) {
    return 0;
  }
  memcpy(out->common_name, CBS_data(&st->cn), CBS_len(&st->cn));
  out->common_name[CBS_len(&st->cn)] = '\0';
  ca_serial_to_hex(&out->serial, out->serial_hex);
  out->profile = st->profile;
  out->issuer = st->issuer;
  out->key = st->csr.key;
  SHA256(st->der, st->der_len, out->csr_sha256);
  return 1;
}

// issue_sign is ca_issue_sign; with |self_key| (the private key of the
// request) the certificate is self-signed by it. |max_csr| bounds the
// request: the operator's limit for a client's CSR, the ceiling for one pki
// made itself (the client sent names, not a CSR). The checks run cheapest
// first; proof of possession (invariant 3), the costly one, runs last.
// |pki_made| marks a request pki made itself for a key it holds
// (ca_csr_build_unsigned): there is nothing to prove, and no signature.
static int issue_sign(const ca_authority *authority, const ca_issuer_keys *keys,
                      const ca_issue_request *request, EVP_PKEY *self_key,
                      size_t max_csr, int pki_made, int64_t now,
                      ca_issued *out) {
  int ret = 0;
  const int self_signed = self_key != NULL;
  sign_state st;
  sign_state_init(&st);
  memset(out, 0, sizeof(*out));
  CA_GUARD(read_request(authority, request, self_signed, max_csr, &st));
  CA_GUARD(build_subject(authority, &st, self_signed));
  CA_GUARD(build_sans(authority, &st));
  if (self_signed) {
    CA_GUARD(self_signed_validity(st.profile, request->self_signed_years, now,
                                  &out->not_before, &out->not_after));
  } else {
    CA_GUARD(validity(st.profile, st.issuer, request->validity_days, now,
                      &out->not_before, &out->not_after));
  }
  if (!pki_made) {
    CA_GUARD(ca_csr_verify(&st.csr));
  }
  CA_GUARD(ca_serial_generate(&out->serial));
  CA_GUARD(sign_certificate(authority, keys, self_key, &st, out));
  CA_GUARD(describe_issued(&st, out));
  ret = 1;
err:
  if (!ret) {
    ca_err saved;
    ca_err_copy(&saved);
    ca_issued_cleanup(out);
    out->err = saved;
  }
  sign_state_cleanup(&st);
  return ret;
}

int ca_issue_sign(const ca_authority *authority, const ca_issuer_keys *keys,
                  const ca_issue_request *request, int64_t now,
                  ca_issued *out) {
  if (request->self_signed_years != 0) {
    // Only the holder of the private key can self-sign: that is
    // ca_issue_generate.
    memset(out, 0, sizeof(*out));
    CA_SET_ERROR(CA_ERR_INTERNAL,
                 "a self-signed certificate needs its private key");
    ca_err_copy(&out->err);
    return 0;
  }
  return issue_sign(authority, keys, request, NULL,
                    ca_issue_limits_csr_bytes(&authority->limits), 0, now, out);
}

int ca_issue_generate(const ca_authority *authority, const ca_issuer_keys *keys,
                      ca_keypool *pool, const ca_issue_request *request,
                      int64_t now, ca_issued *out) {
  EVP_PKEY *key = NULL;
  uint8_t *csr = NULL;
  size_t csr_len = 0;
  CBB pkcs8;
  CBB_zero(&pkcs8);
  int from_pool = 0;
  memset(out, 0, sizeof(*out));
  // The profile is checked before a key is spent on the request.
  const ca_profile *profile =
      ca_profile_find(&authority->profiles, request->profile);
  CA_GUARD_PTR(profile);
  ca_key_info want = {
      request->generate->type,
      request->generate->type == CA_KEY_RSA ? request->generate->rsa_bits : 0,
      request->generate->curve_nid};
  if (want.type == CA_KEY_EC) {
    want.bits = request->generate->curve_nid == NID_secp384r1 ? 384 : 256;
  }
  const int self_signed = request->self_signed_years != 0;
  CA_GUARD(ca_profile_check_issuer(profile, self_signed));
  CA_GUARD(check_key(profile, &want, self_signed));
  // The SAN limit is checked again on the request made below; checking it
  // here first spends no key on a request that will be refused.
  const size_t max_sans = ca_issue_limits_san_count(&authority->limits);
  CA_ENSURE(request->san_count <= max_sans, CA_ERR_SAN_TOO_MANY,
            "more than %zu subject alternative names", max_sans);
  key = ca_keypool_take(pool, request->generate, &from_pool);
  CA_GUARD_PTR(key);
  const ca_csr_template tmpl = {.subject = request->subject,
                                .sans = request->sans,
                                .san_count = request->san_count};
  // pki holds the key: signing the request with it (a private-key
  // operation, for an RSA key as costly as the certificate's own signature)
  // and verifying that would prove nothing.
  CA_GUARD(ca_csr_build_unsigned(&tmpl, key, &csr, &csr_len));
  ca_issue_request own_request = *request;
  own_request.csr = csr;
  own_request.csr_len = csr_len;
  own_request.generate = NULL;
  if (!issue_sign(authority, keys, &own_request, self_signed ? key : NULL,
                  CA_LIMIT_CSR_BYTES, 1, now, out)) {
    goto err;
  }
  CA_GUARD_CRYPTO(CBB_init(&pkcs8, 2048));
  CA_GUARD_CRYPTO(EVP_marshal_private_key(&pkcs8, key));
  CA_GUARD_CRYPTO(CBB_finish(&pkcs8, &out->private_key, &out->private_key_len));
  out->key_from_pool = from_pool;
  OPENSSL_free(csr);
  EVP_PKEY_free(key);
  return 1;
err : {
  ca_err saved;
  ca_err_copy(&saved);
  ca_cbb_cleanse_cleanup(&pkcs8);
  OPENSSL_free(csr);
  // EVP_PKEY_free cleanses the key: a key drawn for a refused request is
  // never used for anything else.
  EVP_PKEY_free(key);
  ca_issued_cleanup(out);
  out->err = saved;
  ca_err_restore(&saved);
}
  return 0;
}
