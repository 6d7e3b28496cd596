#include "ca/issue/issuer_keys.h"

#include "ca/x509/key.h"

#include <openssl/bytestring.h>
#include <openssl/evp.h>
#include <openssl/mem.h>
#include <string.h>

static EVP_PKEY *copy_key(const EVP_PKEY *key) {
  CBB cbb;
  EVP_PKEY *copy = NULL;
  if (!CBB_init(&cbb, 2048) || !EVP_marshal_private_key(&cbb, key)) {
    CBB_cleanup(&cbb);
    return NULL;
  }
  CBS der;
  CBS_init(&der, CBB_data(&cbb), CBB_len(&cbb));
  copy = EVP_parse_private_key(&der);
  ca_cbb_cleanse_cleanup(&cbb);
  return copy;
}

int ca_issuer_keys_init(ca_issuer_keys *out, const ca_authority *authority) {
  memset(out, 0, sizeof(*out));
  for (size_t i = 0; i < authority->count; i++) {
    if (authority->issuers[i].key == NULL) {
      continue;
    }
    out->keys[i] = copy_key(authority->issuers[i].key);
    CA_ENSURE(out->keys[i] != NULL, CA_ERR_INTERNAL,
              "cannot copy the key of CA %s", authority->issuers[i].name);
  }
  return 1;
err:
  ca_issuer_keys_cleanup(out);
  return 0;
}

void ca_issuer_keys_cleanup(ca_issuer_keys *keys) {
  for (size_t i = 0; i < CA_AUTHORITY_MAX_ISSUERS; i++) {
    EVP_PKEY_free(keys->keys[i]);
  }
  memset(keys, 0, sizeof(*keys));
}

EVP_PKEY *ca_issuer_keys_get(const ca_issuer_keys *keys,
                             const ca_authority *authority,
                             const ca_issuer *issuer) {
  if (keys == NULL) {
    return issuer->key;
  }
  const size_t index = (size_t)(issuer - authority->issuers);
  return index < CA_AUTHORITY_MAX_ISSUERS ? keys->keys[index] : NULL;
}
