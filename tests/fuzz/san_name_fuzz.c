// Fuzz target: subject alternative names and subject Names, the parts of a
// request the profiles judge. The first half of the input is a GeneralNames
// element, the second a Name element; the two meet where the CN must be
// among the SANs.
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <string.h>

#include "ca/limits.h"
#include "ca/x509/name.h"
#include "ca/x509/san.h"
#include "tests/fuzz/fuzz.h"

static void check_sans(const ca_san_list *sans) {
  FUZZ_ASSERT(sans->count >= 1 && sans->count <= CA_LIMIT_SAN_COUNT);
  for (size_t i = 0; i < sans->count; i++) {
    const ca_san *san = &sans->items[i];
    // The buffer size ca/issue/issue.c gives each name.
    char text[CA_LIMIT_DNS_NAME_LEN + 8];
    FUZZ_ASSERT(san->type == CA_SAN_DNS || san->type == CA_SAN_IP);
    FUZZ_ASSERT(ca_san_format(san, text, sizeof(text)));
    FUZZ_ASSERT(strlen(text) > 3);
  }
}

// check_leaf_subject writes the subject of a leaf from |name| and checks
// that the result is still a valid Name with the same CN (or none).
static void check_leaf_subject(const CBS *name, int keep_ou, int has_cn,
                               const CBS *cn) {
  CBB cbb;
  FUZZ_ASSERT(CBB_init(&cbb, CBS_len(name)));
  if (!ca_name_add_leaf_subject(&cbb, name, keep_ou)) {
    FUZZ_ASSERT_REFUSED();
    CBB_cleanup(&cbb);
    return;
  }
  CBS leaf, leaf_cn;
  CBS_init(&leaf, CBB_data(&cbb), CBB_len(&cbb));
  if (has_cn) {
    FUZZ_ASSERT(ca_name_check(&leaf, &leaf_cn));
    FUZZ_ASSERT(CBS_mem_equal(&leaf_cn, CBS_data(cn), CBS_len(cn)));
  } else {
    FUZZ_ASSERT(ca_name_check(&leaf, NULL));
  }
  CBB_cleanup(&cbb);
}

static void check_name(const CBS *name, const ca_san_list *sans, int sans_ok) {
  CBS cn;
  if (!ca_name_check(name, NULL)) {
    FUZZ_ASSERT_REFUSED();
    return;
  }
  const int has_cn = ca_name_check(name, &cn);
  if (!has_cn) {
    FUZZ_ASSERT_REFUSED();
  }

  char *text = NULL;
  if (ca_name_format(name, &text)) {
    FUZZ_ASSERT(text != NULL);
    FUZZ_ASSERT(strlen(text) <= CA_LIMIT_SUBJECT_TEXT_LEN);
    OPENSSL_free(text);
  } else {
    // A checked Name fails to format only when its text is too long.
    FUZZ_ASSERT(ca_err_get()->code == CA_ERR_SUBJECT_INVALID);
  }
  check_leaf_subject(name, 0, has_cn, &cn);
  check_leaf_subject(name, 1, has_cn, &cn);
  if (!has_cn) {
    return;
  }

  // What ca_issue_sign does with the CN next.
  if (sans_ok) {
    if (!ca_san_require_cn(sans, &cn)) {
      FUZZ_ASSERT(ca_err_get()->code == CA_ERR_CN_NOT_IN_SAN);
    }
    if (!ca_san_require_single_host(sans, &cn)) {
      FUZZ_ASSERT(ca_err_get()->code == CA_ERR_SAN_MULTI_HOST);
    }
  }
  CBB generated;
  ca_san_list *from_cn = malloc(sizeof(*from_cn));
  FUZZ_ASSERT(from_cn != NULL);
  uint8_t scratch[16];
  FUZZ_ASSERT(CBB_init(&generated, 64));
  if (ca_san_add_from_cn(&generated, &cn, from_cn, scratch)) {
    // The SAN made from a CN reads back as itself and holds the CN.
    CBS der;
    CBS_init(&der, CBB_data(&generated), CBB_len(&generated));
    ca_san_list *again = malloc(sizeof(*again));
    FUZZ_ASSERT(again != NULL);
    FUZZ_ASSERT(ca_san_parse(again, &der));
    FUZZ_ASSERT(again->count == 1);
    check_sans(again);
    FUZZ_ASSERT(ca_san_require_cn(again, &cn));
    FUZZ_ASSERT(ca_san_require_single_host(again, &cn));
    free(again);
  } else {
    const ca_err_code code = ca_err_get()->code;
    FUZZ_ASSERT(code == CA_ERR_SAN_WILDCARD || code == CA_ERR_SAN_INVALID);
  }
  CBB_cleanup(&generated);
  free(from_cn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const size_t half = size / 2;
  CBS general_names, name;
  CBS_init(&general_names, data, half);
  CBS_init(&name, data + half, size - half);

  // ca_san_list is large (CA_LIMIT_SAN_COUNT entries): on the heap, as in
  // ca/issue/issue.c, so that ASan sees its bounds.
  ca_san_list *sans = malloc(sizeof(*sans));
  FUZZ_ASSERT(sans != NULL);
  const int sans_ok = ca_san_parse(sans, &general_names);
  if (sans_ok) {
    check_sans(sans);
  } else {
    FUZZ_ASSERT_REFUSED();
  }
  check_name(&name, sans, sans_ok);
  free(sans);
  return 0;
}
