#include "ca/revocation/trust_check.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/limits.h"
#include "ca/x509/crl_check.h"
#include "ca/x509/ocsp_client_msg.h"
#include "ca/x509/revocation_locations.h"
#include "ca/x509/x509.h"
#include "ca/x509/x509_verify.h"

static const char *const kNames[CA_REVSTATUS_COUNT] = {
    "good", "revoked", "unknown", "unreachable", "anchor"};

const char *ca_revstatus_name(ca_revstatus status) {
  return (unsigned)status < CA_REVSTATUS_COUNT ? kNames[status] : "unknown";
}

int ca_revstatus_parse(const char *name, ca_revstatus *out) {
  for (int i = 0; i < CA_REVSTATUS_COUNT; i++) {
    if (strcmp(name, kNames[i]) == 0) {
      *out = (ca_revstatus)i;
      return 1;
    }
  }
  CA_SET_ERROR(CA_ERR_PARAMETER_INVALID,
               "revocation status must be good, revoked, unknown, unreachable "
               "or anchor");
  return 0;
}

static int signed_by(const ca_x509 *cert, const ca_x509 *issuer) {
  CBS spki = issuer->spki;
  EVP_PKEY *key = EVP_parse_public_key(&spki);
  if (key == NULL) {
    ERR_clear_error();
    return 0;
  }
  const int ok = ca_x509_verify_signed_by(cert, key);
  EVP_PKEY_free(key);
  return ok;
}

int ca_revcheck_is_self_signed(const uint8_t *der, size_t der_len) {
  ca_x509 cert;
  if (!ca_x509_parse(&cert, der, der_len)) {
    return 0;
  }
  return CBS_len(&cert.subject) == CBS_len(&cert.issuer) &&
         memcmp(CBS_data(&cert.subject), CBS_data(&cert.issuer),
                CBS_len(&cert.subject)) == 0 &&
         signed_by(&cert, &cert);
}

// What the attempts so far came to, for the status when none answered.
typedef struct attempts {
  int answered;  // some responder or point answered, unusably
  int tried;
  char message[CA_REVCHECK_MESSAGE_LEN];
} attempts;

static void note(attempts *a, int answered, const char *what, const char *url) {
  a->tried = 1;
  a->answered |= answered;
  // The first failure is the one shown: the preferred source's.
  if (a->message[0] == '\0') {
    snprintf(a->message, sizeof(a->message), "%s: %s (%s)", what,
             ca_err_get()->message, url);
  }
}

static void set_source(ca_revcheck_result *out, const char *source,
                       const char *url) {
  snprintf(out->source, sizeof(out->source), "%s", source);
  snprintf(out->url, sizeof(out->url), "%s", url);
}

// try_ocsp asks |url|; 1 when the answer settled the status (good or
// revoked), 0 otherwise (|a| says why; an "unknown" answer is noted).
static int try_ocsp(const char *url, const ca_x509 *cert, const ca_x509 *issuer,
                    const ca_revcheck_params *p, const ca_revcheck_fetcher *f,
                    ca_revcheck_result *out, attempts *a) {
  ca_ocsp_query q;
  uint8_t *body = NULL;
  size_t len = 0;
  ca_ocsp_answer answer;
  int settled = 0;
  if (!ca_ocsp_query_build(cert, issuer, &q)) {
    note(a, 0, "OCSP", url);
    return 0;
  }
  if (!f->fetch(f->ctx, url, q.der, q.der_len, "application/ocsp-request",
                CA_LIMIT_OCSP_RESPONSE_BYTES, &body, &len)) {
    note(a, 0, "OCSP", url);
    goto done;
  }
  if (!ca_ocsp_answer_verify(body, len, &q, issuer, p->now, p->skew, p->max_age,
                             &answer)) {
    note(a, 1, "OCSP", url);
    goto done;
  }
  if (answer.status == CA_OCSP_UNKNOWN) {
    CA_SET_ERROR(CA_ERR_REVOCATION_UNKNOWN,
                 "the responder does not know the certificate");
    note(a, 1, "OCSP", url);
    goto done;
  }
  out->status = answer.status == CA_OCSP_REVOKED ? CA_REV_REVOKED : CA_REV_GOOD;
  out->revoked_at = answer.revoked_at;
  out->reason = answer.reason;
  out->next_update = answer.next_update;
  out->nonce_echoed = answer.nonce_echoed;
  set_source(out, "ocsp", url);
  settled = 1;
done:
  OPENSSL_free(body);
  ca_ocsp_query_cleanup(&q);
  return settled;
}

static int try_crl(const char *url, const ca_x509 *cert, const ca_x509 *issuer,
                   const ca_revcheck_params *p, const ca_revcheck_fetcher *f,
                   ca_revcheck_result *out, attempts *a) {
  uint8_t *body = NULL;
  size_t len = 0;
  ca_crl_answer answer;
  if (!f->fetch(f->ctx, url, NULL, 0, NULL, CA_LIMIT_REVCHECK_CRL_BYTES, &body,
                &len)) {
    note(a, 0, "CRL", url);
    return 0;
  }
  const int ok =
      ca_crl_check(body, len, cert, issuer, p->now, p->skew, &answer);
  OPENSSL_free(body);
  if (!ok) {
    note(a, 1, "CRL", url);
    return 0;
  }
  out->status = answer.revoked ? CA_REV_REVOKED : CA_REV_GOOD;
  out->revoked_at = answer.revoked_at;
  out->reason = answer.reason;
  out->next_update = answer.next_update;
  set_source(out, "crl", url);
  return 1;
}

static void finish_unsettled(const attempts *a, ca_revcheck_result *out) {
  if (!a->tried) {
    out->status = CA_REV_UNKNOWN;
    snprintf(out->message, sizeof(out->message),
             "the certificate names no OCSP responder or CRL distribution "
             "point, and its store has no responder configured");
    return;
  }
  out->status = a->answered ? CA_REV_UNKNOWN : CA_REV_UNREACHABLE;
  snprintf(out->message, sizeof(out->message), "%s", a->message);
}

int ca_revcheck_run(const uint8_t *cert_der, size_t cert_len,
                    const uint8_t *issuer_der, size_t issuer_len,
                    const ca_revcheck_params *p, const ca_revcheck_fetcher *f,
                    ca_revcheck_result *out) {
  memset(out, 0, sizeof(*out));
  out->reason = -1;
  ca_x509 cert, issuer;
  CA_GUARD_RETURN(ca_x509_parse(&cert, cert_der, cert_len));
  if (ca_revcheck_is_self_signed(cert_der, cert_len)) {
    out->status = CA_REV_ANCHOR;
    snprintf(out->message, sizeof(out->message),
             "self-signed: a trust anchor, not checked for revocation");
    return 1;
  }
  if (issuer_der == NULL) {
    out->status = CA_REV_UNKNOWN;
    snprintf(out->message, sizeof(out->message),
             "issuer unknown: neither the store nor pki's CAs hold the "
             "certificate's issuer");
    return 1;
  }
  CA_GUARD_RETURN(ca_x509_parse(&issuer, issuer_der, issuer_len));
  CA_ENSURE_RETURN(signed_by(&cert, &issuer), CA_ERR_CERT_MALFORMED,
                   "the certificate was not signed by the issuer given");
  ca_revocation_urls urls;
  ca_revocation_urls_read(&cert, &urls);
  attempts a;
  memset(&a, 0, sizeof(a));
  if (p->responder_url != NULL && p->responder_url[0] != '\0') {
    if (try_ocsp(p->responder_url, &cert, &issuer, p, f, out, &a)) {
      return 1;
    }
  } else {
    for (size_t i = 0; i < urls.n_ocsp; i++) {
      if (try_ocsp(urls.ocsp[i], &cert, &issuer, p, f, out, &a)) {
        return 1;
      }
    }
  }
  for (size_t i = 0; i < urls.n_crl; i++) {
    if (try_crl(urls.crl[i], &cert, &issuer, p, f, out, &a)) {
      return 1;
    }
  }
  finish_unsettled(&a, out);
  return 1;
}
