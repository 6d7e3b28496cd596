#include "tests/support/csr_maker.h"

#include <openssl/bytestring.h>
#include <openssl/digest.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <openssl/obj.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "ca/x509/key.h"
#include "ca/x509/pem.h"

static int add_subject(X509_NAME *name, const char *subject) {
  char *copy = strdup(subject);
  if (copy == NULL) {
    return 0;
  }
  int ok = 1;
  char *save = NULL;
  for (char *part = strtok_r(copy, "/", &save); part != NULL && ok;
       part = strtok_r(NULL, "/", &save)) {
    char *eq = strchr(part, '=');
    if (eq == NULL) {
      ok = 0;
      break;
    }
    *eq = '\0';
    ok = X509_NAME_add_entry_by_txt(name, part, MBSTRING_UTF8,
                                    (const uint8_t *)(eq + 1), -1, -1, 0);
  }
  free(copy);
  return ok;
}

// add_general_name appends one "TYPE:value" entry (DNS, IP, email, URI).
static int add_general_name(GENERAL_NAMES *gens, const char *entry) {
  GENERAL_NAME *gen = GENERAL_NAME_new();
  if (gen == NULL) {
    return 0;
  }
  const char *value = strchr(entry, ':');
  int ok = 0;
  if (value == NULL) {
    goto done;
  }
  value++;
  if (strncmp(entry, "IP:", 3) == 0) {
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(value);
    if (ip == NULL) {
      goto done;
    }
    GENERAL_NAME_set0_value(gen, GEN_IPADD, ip);
  } else {
    int type = GEN_DNS;
    if (strncmp(entry, "email:", 6) == 0) {
      type = GEN_EMAIL;
    } else if (strncmp(entry, "URI:", 4) == 0) {
      type = GEN_URI;
    } else if (strncmp(entry, "DNS:", 4) != 0) {
      goto done;
    }
    ASN1_IA5STRING *str = ASN1_IA5STRING_new();
    if (str == NULL || !ASN1_STRING_set(str, value, (int)strlen(value))) {
      ASN1_IA5STRING_free(str);
      goto done;
    }
    GENERAL_NAME_set0_value(gen, type, str);
  }
  ok = sk_GENERAL_NAME_push(gens, gen) != 0;
done:
  if (!ok) {
    GENERAL_NAME_free(gen);
  }
  return ok;
}

static int add_sans(X509_REQ *req, const char *sans) {
  GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
  char *copy = strdup(sans);
  int ok = gens != NULL && copy != NULL;
  char *save = NULL;
  for (char *entry = ok ? strtok_r(copy, ",", &save) : NULL;
       entry != NULL && ok; entry = strtok_r(NULL, ",", &save)) {
    ok = add_general_name(gens, entry);
  }
  X509_EXTENSION *ext =
      ok ? X509V3_EXT_i2d(NID_subject_alt_name, 0, gens) : NULL;
  STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
  ok = ext != NULL && exts != NULL && sk_X509_EXTENSION_push(exts, ext);
  if (ok) {
    ext = NULL;
    ok = X509_REQ_add_extensions(req, exts);
  }
  X509_EXTENSION_free(ext);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  GENERAL_NAMES_free(gens);
  free(copy);
  return ok;
}

uint8_t *test_make_csr(const test_csr_spec *spec, size_t *out_len,
                       EVP_PKEY **out_key) {
  ca_key_spec key_spec;
  EVP_PKEY *key = spec->reuse_key;
  X509_REQ *req = X509_REQ_new();
  uint8_t *der = NULL;
  if (req == NULL) {
    return NULL;
  }
  if (key == NULL) {
    if (!ca_key_spec_parse(&key_spec, spec->key) ||
        (key = ca_key_generate(&key_spec)) == NULL) {
      goto done;
    }
  } else {
    EVP_PKEY_up_ref(key);
  }
  const EVP_MD *md = EVP_sha256();
  if (spec->digest != NULL) {
    md = EVP_get_digestbyname(spec->digest);
  }
  if (md == NULL || !X509_REQ_set_version(req, 0) ||
      !add_subject(X509_REQ_get_subject_name(req), spec->subject) ||
      !X509_REQ_set_pubkey(req, key) ||
      (spec->sans != NULL && !add_sans(req, spec->sans)) ||
      !X509_REQ_sign(req, key, md)) {
    goto done;
  }
  int len = i2d_X509_REQ(req, &der);
  if (len <= 0) {
    der = NULL;
    goto done;
  }
  if (spec->corrupt_signature) {
    der[len - 5] ^= 0x01;
  }
  *out_len = (size_t)len;
  if (out_key != NULL) {
    *out_key = key;
    key = NULL;
  }
done:
  EVP_PKEY_free(key);
  X509_REQ_free(req);
  return der;
}

char *test_pem_csr(const uint8_t *der, size_t len) {
  CBB cbb;
  uint8_t *out;
  size_t out_len;
  if (!CBB_init(&cbb, len * 2) ||
      !ca_pem_add(&cbb, "CERTIFICATE REQUEST", der, len) ||
      !CBB_add_u8(&cbb, 0) || !CBB_finish(&cbb, &out, &out_len)) {
    CBB_cleanup(&cbb);
    return NULL;
  }
  return (char *)out;
}
