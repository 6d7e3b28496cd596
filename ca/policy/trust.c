#include "ca/policy/trust.h"

#include <openssl/bytestring.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca/hex.h"
#include "ca/limits.h"
#include "ca/oid.h"
#include "ca/x509/name.h"
#include "ca/x509/pem.h"
#include "ca/x509/pkcs7.h"
#include "ca/x509/x509.h"

static const char *const kStores[CA_TRUST_STORE_COUNT] = {
    "tomcat-trust", "CallManager-trust", "Phone-SAST-trust",
    "CAPF-trust",   "ipsec-trust",       "TVS-trust",
};

const char *const *ca_trust_store_names(void) {
  return kStores;
}

const char *ca_trust_store_find(const char *name) {
  for (size_t i = 0; i < CA_TRUST_STORE_COUNT; i++) {
    if (strcasecmp(name, kStores[i]) == 0) {
      return kStores[i];
    }
  }
  CA_SET_ERROR(CA_ERR_TRUST_STORE_UNKNOWN,
               "no trust store %.64s: tomcat-trust, CallManager-trust, "
               "Phone-SAST-trust, CAPF-trust, ipsec-trust or TVS-trust",
               name);
  return NULL;
}

size_t ca_trust_upload_stores(const char *store, const char *out[2]) {
  out[0] = store;
  if (strcmp(store, "CAPF-trust") == 0) {
    out[1] = "CallManager-trust";
    return 2;
  }
  return 1;
}

// The stores of a peer cluster's certificates, by purpose (the issue's
// mapping for bulk imports; ARCHITECTURE.md, "Trust stores and what lands in
// them").
static const struct {
  const char *purpose;
  const char *stores[2];
  size_t n;
} kPurposeStores[] = {
    {"tomcat", {"tomcat-trust", NULL}, 1},
    {"tomcat-ECDSA", {"tomcat-trust", NULL}, 1},
    {"CallManager", {"CallManager-trust", "Phone-SAST-trust"}, 2},
    {"CallManager-ECDSA", {"CallManager-trust", "Phone-SAST-trust"}, 2},
    {"CAPF", {"CallManager-trust", NULL}, 1},
    {"ITLRecovery", {"Phone-SAST-trust", "CallManager-trust"}, 2},
    {"ipsec", {"ipsec-trust", NULL}, 1},
    {"TVS", {"TVS-trust", NULL}, 1},
};

size_t ca_trust_purpose_stores(const char *purpose, const char *out[2]) {
  for (size_t i = 0; i < sizeof(kPurposeStores) / sizeof(kPurposeStores[0]);
       i++) {
    if (strcasecmp(purpose, kPurposeStores[i].purpose) == 0) {
      out[0] = kPurposeStores[i].stores[0];
      out[1] = kPurposeStores[i].stores[1];
      return kPurposeStores[i].n;
    }
  }
  return 0;
}

void ca_trust_cert_cleanup(ca_trust_cert *cert) {
  if (cert == NULL) {
    return;
  }
  OPENSSL_free(cert->subject);
  OPENSSL_free(cert->subject_der);
  OPENSSL_free(cert->issuer);
  OPENSSL_free(cert->issuer_der);
  OPENSSL_free(cert->common_name);
  OPENSSL_free(cert->der);
  memset(cert, 0, sizeof(*cert));
}

void ca_trust_certs_free(ca_trust_cert *certs, size_t n) {
  if (certs == NULL) {
    return;
  }
  for (size_t i = 0; i < n; i++) {
    ca_trust_cert_cleanup(&certs[i]);
  }
  free(certs);
}

// common_name returns a copy of the first CN of |name| whatever its string
// type: certificates from other CAs are read, not judged, here. Non-printable
// bytes become '?', so the value is safe to show and to store as text.
static char *common_name(const CBS *name) {
  CBS in = *name, rdns;
  if (!CBS_get_asn1(&in, &rdns, CBS_ASN1_SEQUENCE)) {
    return NULL;
  }
  while (CBS_len(&rdns) > 0) {
    CBS rdn;
    if (!CBS_get_asn1(&rdns, &rdn, CBS_ASN1_SET)) {
      return NULL;
    }
    while (CBS_len(&rdn) > 0) {
      CBS ava, oid, value;
      unsigned tag;
      if (!CBS_get_asn1(&rdn, &ava, CBS_ASN1_SEQUENCE) ||
          !CBS_get_asn1(&ava, &oid, CBS_ASN1_OBJECT) ||
          !CBS_get_any_asn1(&ava, &value, &tag)) {
        return NULL;
      }
      if (CBS_mem_equal(&oid, kOidCommonName, sizeof(kOidCommonName))) {
        const size_t len = CBS_len(&value) < CA_LIMIT_CN_TEXT_LEN
                               ? CBS_len(&value)
                               : CA_LIMIT_CN_TEXT_LEN;
        char *out = OPENSSL_malloc(len + 1);
        if (out == NULL) {
          return NULL;
        }
        for (size_t i = 0; i < len; i++) {
          const uint8_t c = CBS_data(&value)[i];
          out[i] = c >= 0x20 && c != 0x7f ? (char)c : '?';
        }
        out[len] = '\0';
        return out;
      }
    }
  }
  return OPENSSL_strdup("");
}

// basic_constraints_ca reports whether |cert| says cA TRUE.
static int basic_constraints_ca(const ca_x509 *cert, int *out_ca) {
  CBS value, seq;
  int critical;
  *out_ca = 0;
  if (!ca_x509_find_extension(cert, kOidBasicConstraints,
                              sizeof(kOidBasicConstraints), &value,
                              &critical)) {
    return 1;
  }
  // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE,
  //                                  pathLenConstraint INTEGER OPTIONAL }
  if (!CBS_get_asn1(&value, &seq, CBS_ASN1_SEQUENCE) || CBS_len(&value) != 0) {
    return 0;
  }
  if (CBS_peek_asn1_tag(&seq, CBS_ASN1_BOOLEAN)) {
    int ca;
    // Present, cA must be TRUE: DER leaves the DEFAULT FALSE out.
    if (!CBS_get_asn1_bool(&seq, &ca) || !ca) {
      return 0;
    }
    *out_ca = ca;
  }
  return 1;
}

static int key_info(const CBS *spki, ca_trust_cert *out) {
  CBS in = *spki;
  EVP_PKEY *key = EVP_parse_public_key(&in);
  if (key == NULL) {
    // A key BoringSSL does not know (DSA, Ed448, ...): still a certificate.
    memcpy(out->key_type, "other", 6);
    out->key_bits = 0;
    return 1;
  }
  switch (EVP_PKEY_id(key)) {
    case EVP_PKEY_RSA:
      memcpy(out->key_type, "RSA", 4);
      break;
    case EVP_PKEY_EC:
      memcpy(out->key_type, "EC", 3);
      break;
    default:
      memcpy(out->key_type, "other", 6);
      break;
  }
  out->key_bits = (unsigned)EVP_PKEY_bits(key);
  EVP_PKEY_free(key);
  return 1;
}

int ca_trust_cert_read(const uint8_t *der, size_t der_len, ca_trust_cert *out) {
  memset(out, 0, sizeof(*out));
  ca_x509 x;
  CA_ENSURE(der_len <= CA_LIMIT_TRUST_CERT_BYTES, CA_ERR_OBJECT_TOO_LARGE,
            "a certificate over %d bytes", CA_LIMIT_TRUST_CERT_BYTES);
  CA_GUARD(ca_x509_parse(&x, der, der_len));
  // The serial as written, hex of the INTEGER contents (sign octet too):
  // other CAs' serials need not be pki's positive, minimal 128 bits.
  CA_ENSURE(
      CBS_len(&x.serial) >= 1 && CBS_len(&x.serial) <= CA_SERIAL_MAX_LEN + 1,
      CA_ERR_CERT_MALFORMED, "certificate: serial of %zu octets",
      CBS_len(&x.serial));
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < CBS_len(&x.serial); i++) {
    out->serial[2 * i] = kHex[CBS_data(&x.serial)[i] >> 4];
    out->serial[2 * i + 1] = kHex[CBS_data(&x.serial)[i] & 0xf];
  }
  out->serial[2 * CBS_len(&x.serial)] = '\0';
  if (!ca_name_format(&x.subject, &out->subject) ||
      !ca_name_format(&x.issuer, &out->issuer)) {
    CA_RAISE(CA_ERR_CERT_MALFORMED, "certificate: unreadable name");
  }
  out->common_name = common_name(&x.subject);
  CA_ENSURE(out->common_name != NULL, CA_ERR_CERT_MALFORMED,
            "certificate: unreadable subject");
  out->subject_der = OPENSSL_memdup(CBS_data(&x.subject), CBS_len(&x.subject));
  CA_ENSURE_ALLOC(out->subject_der);
  out->subject_der_len = CBS_len(&x.subject);
  out->issuer_der = OPENSSL_memdup(CBS_data(&x.issuer), CBS_len(&x.issuer));
  CA_ENSURE_ALLOC(out->issuer_der);
  out->issuer_der_len = CBS_len(&x.issuer);
  out->self_signed = CBS_len(&x.subject) == CBS_len(&x.issuer) &&
                     memcmp(CBS_data(&x.subject), CBS_data(&x.issuer),
                            CBS_len(&x.subject)) == 0;
  CA_ENSURE(basic_constraints_ca(&x, &out->is_ca), CA_ERR_CERT_MALFORMED,
            "certificate: bad basicConstraints");
  CA_GUARD(key_info(&x.spki, out));
  out->not_before = x.not_before;
  out->not_after = x.not_after;
  SHA256(der, der_len, out->fingerprint);
  out->der = OPENSSL_memdup(der, der_len);
  CA_ENSURE_ALLOC(out->der);
  out->der_len = der_len;
  return 1;
err:
  ca_trust_cert_cleanup(out);
  return 0;
}

// upload_list collects certificates, dropping repeats.
typedef struct upload_list {
  ca_trust_cert *certs;
  size_t n;
} upload_list;

static int add_cert(upload_list *list, const uint8_t *der, size_t len) {
  ca_trust_cert cert;
  CA_GUARD_RETURN(ca_trust_cert_read(der, len, &cert));
  for (size_t i = 0; i < list->n; i++) {
    if (memcmp(list->certs[i].fingerprint, cert.fingerprint,
               CA_TRUST_FINGERPRINT_LEN) == 0) {
      ca_trust_cert_cleanup(&cert);
      return 1;
    }
  }
  if (list->n == CA_LIMIT_TRUST_UPLOAD_CERTS) {
    ca_trust_cert_cleanup(&cert);
    CA_SET_ERROR(CA_ERR_OBJECT_TOO_LARGE,
                 "more than %d certificates in one upload",
                 CA_LIMIT_TRUST_UPLOAD_CERTS);
    return 0;
  }
  list->certs[list->n++] = cert;
  return 1;
}

static int add_pkcs7(upload_list *list, const uint8_t *der, size_t len) {
  CBS in, certs[CA_LIMIT_TRUST_UPLOAD_CERTS];
  size_t n;
  CBS_init(&in, der, len);
  CA_GUARD_RETURN(
      ca_pkcs7_get_certificates(&in, certs, CA_LIMIT_TRUST_UPLOAD_CERTS, &n));
  CA_ENSURE_RETURN(CBS_len(&in) == 0, CA_ERR_CERT_MALFORMED,
                   "bytes after the PKCS#7 structure");
  for (size_t i = 0; i < n; i++) {
    CA_GUARD_RETURN(add_cert(list, CBS_data(&certs[i]), CBS_len(&certs[i])));
  }
  return 1;
}

// add_pem reads every block of a PEM upload. Other labels (a private key
// pasted by mistake, say) are refused rather than skipped: the operator
// should know that part of the file was not what they thought.
static int add_pem(upload_list *list, const uint8_t *in, size_t in_len) {
  CBS text, label;
  CBS_init(&text, in, in_len);
  uint8_t *der = NULL;
  size_t der_len;
  for (;;) {
    if (!ca_pem_next(&text, &label, &der, &der_len,
                     CA_LIMIT_TRUST_UPLOAD_BYTES)) {
      if (ca_err_get()->code == CA_ERR_NOT_FOUND) {
        break;
      }
      goto err;
    }
    if (ca_pem_label_is(&label, "CERTIFICATE") ||
        ca_pem_label_is(&label, "X509 CERTIFICATE") ||
        ca_pem_label_is(&label, "TRUSTED CERTIFICATE")) {
      CA_GUARD(add_cert(list, der, der_len));
    } else if (ca_pem_label_is(&label, "PKCS7")) {
      CA_GUARD(add_pkcs7(list, der, der_len));
    } else {
      CA_RAISE(CA_ERR_PEM_MALFORMED,
               "a PEM block that is neither CERTIFICATE nor PKCS7: %.*s",
               (int)(CBS_len(&label) < 40 ? CBS_len(&label) : 40),
               (const char *)CBS_data(&label));
    }
    OPENSSL_free(der);
    der = NULL;
  }
  return 1;
err:
  OPENSSL_free(der);
  return 0;
}

int ca_trust_parse_upload(ca_trust_cert **out, size_t *out_n, const uint8_t *in,
                          size_t in_len) {
  upload_list list = {NULL, 0};
  CA_ENSURE(in_len <= CA_LIMIT_TRUST_UPLOAD_BYTES, CA_ERR_OBJECT_TOO_LARGE,
            "an upload over %d bytes", CA_LIMIT_TRUST_UPLOAD_BYTES);
  list.certs = calloc(CA_LIMIT_TRUST_UPLOAD_CERTS, sizeof(*list.certs));
  CA_ENSURE_ALLOC(list.certs);
  // DER always starts with a SEQUENCE; anything else is read as PEM, which
  // may have text before its blocks (certtool and `openssl x509 -text`
  // write the certificate's description first).
  if (in_len == 0 || in[0] != 0x30) {  // SEQUENCE, constructed
    CA_GUARD(add_pem(&list, in, in_len));
  } else {
    // DER: a Certificate or a ContentInfo. Both are SEQUENCEs; a
    // ContentInfo's first element is an OID, a Certificate's a SEQUENCE.
    CBS cbs, seq;
    CBS_init(&cbs, in, in_len);
    CA_ENSURE(CBS_get_asn1(&cbs, &seq, CBS_ASN1_SEQUENCE) && CBS_len(&cbs) == 0,
              CA_ERR_CERT_MALFORMED,
              "neither a PEM, DER certificate nor PKCS#7 upload");
    if (CBS_peek_asn1_tag(&seq, CBS_ASN1_OBJECT)) {
      CA_GUARD(add_pkcs7(&list, in, in_len));
    } else {
      CA_GUARD(add_cert(&list, in, in_len));
    }
  }
  CA_ENSURE(list.n > 0, CA_ERR_CERT_MALFORMED, "no certificate in the upload");
  *out = list.certs;
  *out_n = list.n;
  return 1;
err:
  ca_trust_certs_free(list.certs, list.n);
  return 0;
}

int ca_trust_check_upload(const ca_trust_cert *cert, int64_t now, int force) {
  // Leaves are accepted: CUCM's stores hold peers' self-signed tomcat
  // certificates and third-party servers' certificates, trusted as they are.
  CA_ENSURE_RETURN(force || cert->not_after > now, CA_ERR_CERT_EXPIRED,
                   "%.200s expired; upload it with force to store it anyway",
                   cert->subject);
  return 1;
}

int ca_trust_issued_by(const ca_trust_cert *child,
                       const ca_trust_cert *parent) {
  if (memcmp(child->fingerprint, parent->fingerprint,
             CA_TRUST_FINGERPRINT_LEN) == 0) {
    return 0;
  }
  return child->issuer_der_len == parent->subject_der_len &&
         memcmp(child->issuer_der, parent->subject_der,
                parent->subject_der_len) == 0;
}

int ca_trust_chain_leaf(const ca_trust_cert *certs, size_t n, size_t i) {
  if (certs[i].is_ca || certs[i].self_signed) {
    return 0;
  }
  for (size_t k = 0; k < n; k++) {
    if (certs[k].is_ca && ca_trust_issued_by(&certs[i], &certs[k])) {
      return 1;
    }
  }
  return 0;
}

// utf8_char_len returns the length of the UTF-8 sequence at |p| (at most
// |left| bytes), or 0 when it is not a well-formed, shortest-form one.
static size_t utf8_char_len(const uint8_t *p, size_t left) {
  if (p[0] < 0x80) {
    return 1;
  }
  size_t len;
  uint32_t min;
  if ((p[0] & 0xe0) == 0xc0) {
    len = 2, min = 0x80;
  } else if ((p[0] & 0xf0) == 0xe0) {
    len = 3, min = 0x800;
  } else if ((p[0] & 0xf8) == 0xf0) {
    len = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (left < len) {
    return 0;
  }
  uint32_t cp = p[0] & (0x7f >> len);
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xc0) != 0x80) {
      return 0;
    }
    cp = cp << 6 | (p[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return len;
}

int ca_trust_description_check(const char *text) {
  if (text == NULL) {
    return 1;
  }
  const size_t len = strlen(text);
  CA_ENSURE_RETURN(len <= CA_LIMIT_DESCRIPTION_LEN, CA_ERR_PARAMETER_INVALID,
                   "a description is at most %d bytes",
                   CA_LIMIT_DESCRIPTION_LEN);
  const uint8_t *p = (const uint8_t *)text;
  for (size_t i = 0; i < len;) {
    const size_t n = utf8_char_len(p + i, len - i);
    CA_ENSURE_RETURN(n > 0, CA_ERR_PARAMETER_INVALID,
                     "a description is UTF-8 text");
    CA_ENSURE_RETURN(n > 1 || (p[i] >= 0x20 && p[i] != 0x7f),
                     CA_ERR_PARAMETER_INVALID,
                     "a description holds no control characters");
    i += n;
  }
  return 1;
}

void ca_trust_fingerprint_hex(const uint8_t fp[CA_TRUST_FINGERPRINT_LEN],
                              char out[CA_TRUST_FINGERPRINT_HEX_LEN]) {
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < CA_TRUST_FINGERPRINT_LEN; i++) {
    out[2 * i] = kHex[fp[i] >> 4];
    out[2 * i + 1] = kHex[fp[i] & 0xf];
  }
  out[2 * CA_TRUST_FINGERPRINT_LEN] = '\0';
}

int ca_trust_fingerprint_parse(uint8_t out[CA_TRUST_FINGERPRINT_LEN],
                               const char *text) {
  size_t n = 0;
  const char *p = text;
  while (n < CA_TRUST_FINGERPRINT_LEN) {
    const int hi = ca_hex_value(p[0]);
    const int lo = hi < 0 ? -1 : ca_hex_value(p[1]);
    CA_ENSURE_RETURN(lo >= 0, CA_ERR_PARAMETER_INVALID,
                     "a fingerprint is 64 hex digits (SHA-256)");
    out[n++] = (uint8_t)(hi << 4 | lo);
    p += 2;
    if (*p == ':' && n < CA_TRUST_FINGERPRINT_LEN) {
      p++;
    }
  }
  CA_ENSURE_RETURN(*p == '\0', CA_ERR_PARAMETER_INVALID,
                   "a fingerprint is 64 hex digits (SHA-256)");
  return 1;
}
