// Unit tests of ca/x509/pem.c: the writer against hand-worked blocks and
// against BoringSSL's PEM_write_bio, the reader on BoringSSL's output, CRLF
// line ends, text around blocks, and every way a block can be broken (RFC
// 7468), including size limits counted on the decoded body.
#include <openssl/bio.h>
#include <openssl/bytestring.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "ca/x509/pem.h"
#include "tests/support/test.h"

// pem_text writes |der| as a PEM block into a NUL-terminated string.
static char *pem_text(const char *label, const uint8_t *der, size_t len) {
  CBB cbb;
  uint8_t *out;
  size_t out_len;
  if (!CBB_init(&cbb, 64) || !ca_pem_add(&cbb, label, der, len) ||
      !CBB_add_u8(&cbb, 0) || !CBB_finish(&cbb, &out, &out_len)) {
    CBB_cleanup(&cbb);
    return NULL;
  }
  return (char *)out;
}

TEST(writer_known_answers) {
  char *text = pem_text("TEST", (const uint8_t *)"\x01\x02\x03", 3);
  CHECK_EQ_STR(text, "-----BEGIN TEST-----\nAQID\n-----END TEST-----\n");
  OPENSSL_free(text);
  text = pem_text("X", NULL, 0);
  CHECK_EQ_STR(text, "-----BEGIN X-----\n-----END X-----\n");
  OPENSSL_free(text);
  // 48 octets fill one 64-column line exactly; 49 start a second.
  uint8_t zeros[49] = {0};
  char want[256];
  snprintf(want, sizeof(want),
           "-----BEGIN CERTIFICATE-----\n%.64s\n-----END CERTIFICATE-----\n",
           "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  text = pem_text("CERTIFICATE", zeros, 48);
  CHECK_EQ_STR(text, want);
  OPENSSL_free(text);
  snprintf(want, sizeof(want),
           "-----BEGIN CERTIFICATE-----\n%.64s\nAA==\n"
           "-----END CERTIFICATE-----\n",
           "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  text = pem_text("CERTIFICATE", zeros, 49);
  CHECK_EQ_STR(text, want);
  OPENSSL_free(text);
  // "Man" is the textbook base64 example.
  text = pem_text("A B", (const uint8_t *)"Man", 3);
  CHECK_EQ_STR(text, "-----BEGIN A B-----\nTWFu\n-----END A B-----\n");
  OPENSSL_free(text);
}

TEST(writer_matches_boringssl) {
  uint8_t data[400];
  RAND_bytes(data, sizeof(data));
  for (size_t len = 1; len <= sizeof(data); len++) {
    BIO *bio = BIO_new(BIO_s_mem());
    const uint8_t *ref = NULL;
    size_t ref_len = 0;
    CHECK(bio != NULL &&
          PEM_write_bio(bio, "CERTIFICATE", "", data, (long)len) > 0 &&
          BIO_mem_contents(bio, &ref, &ref_len));
    char *ours = pem_text("CERTIFICATE", data, len);
    const int same = ours != NULL && strlen(ours) == ref_len &&
                     memcmp(ours, ref, ref_len) == 0;
    CHECK(same);
    if (!same) {
      fprintf(stderr, "  length %zu differs\n", len);
    }
    OPENSSL_free(ours);
    BIO_free(bio);
  }
}

// A private key's block is encoded by BoringSSL (no secret-indexed table),
// a certificate's by the table: the two bodies are the same characters.
TEST(public_and_private_encoders_agree) {
  uint8_t data[200];
  RAND_bytes(data, sizeof(data));
  for (size_t len = 0; len <= sizeof(data); len++) {
    char *pub = pem_text("PUBLIC KEY", data, len);
    char *priv = pem_text("PRIVATE KEY", data, len);
    CHECK(pub != NULL && priv != NULL);
    const char *a = pub != NULL ? strchr(pub, '\n') : NULL;
    const char *b = priv != NULL ? strchr(priv, '\n') : NULL;
    const size_t a_len = a != NULL ? strcspn(a, "-") : 0;
    const size_t b_len = b != NULL ? strcspn(b, "-") : 0;
    const int same =
        a != NULL && b != NULL && a_len == b_len && memcmp(a, b, a_len) == 0;
    CHECK(same);
    if (!same) {
      fprintf(stderr, "  length %zu differs\n", len);
    }
    OPENSSL_free(pub);
    OPENSSL_free(priv);
  }
}

// next reads one block from |text| with a limit of |max|; returns the code.
static int next(CBS *in, CBS *label, uint8_t **der, size_t *der_len,
                size_t max) {
  ca_err_clear();
  *der = NULL;
  return ca_pem_next(in, label, der, der_len, max) ? CA_OK : ca_err_get()->code;
}

static int next_text(const char *text, size_t max) {
  CBS in, label;
  uint8_t *der;
  size_t len;
  CBS_init(&in, (const uint8_t *)text, strlen(text));
  const int code = next(&in, &label, &der, &len, max);
  CHECK(code == CA_OK || der == NULL);
  OPENSSL_free(der);
  return code;
}

TEST(reader_round_trips) {
  uint8_t data[300];
  RAND_bytes(data, sizeof(data));
  for (size_t len = 1; len <= sizeof(data); len += 7) {
    // pki's writer, and BoringSSL's.
    char *ours = pem_text("PKCS7", data, len);
    BIO *bio = BIO_new(BIO_s_mem());
    const uint8_t *ref = NULL;
    size_t ref_len = 0;
    CHECK(PEM_write_bio(bio, "PKCS7", "", data, (long)len) > 0 &&
          BIO_mem_contents(bio, &ref, &ref_len));
    const uint8_t *inputs[2] = {(const uint8_t *)ours, ref};
    const size_t lens[2] = {strlen(ours), ref_len};
    for (int k = 0; k < 2; k++) {
      CBS in, label;
      uint8_t *der;
      size_t der_len;
      CBS_init(&in, inputs[k], lens[k]);
      CHECK_EQ_INT(next(&in, &label, &der, &der_len, len), CA_OK);
      CHECK_EQ_BYTES(der, der_len, data, len);
      CHECK(ca_pem_label_is(&label, "PKCS7"));
      // The label is a view into the input.
      CHECK(CBS_data(&label) == inputs[k] + 11);
      // |in| is left just after the END line's dashes: its newline is
      // text between blocks.
      CHECK(CBS_len(&in) == 1 && CBS_data(&in)[0] == '\n');
      OPENSSL_free(der);
    }
    BIO_free(bio);
    OPENSSL_free(ours);
  }
}

// crlf turns every "\n" of |text| into "\r\n".
static char *crlf(const char *text) {
  char *out = malloc(2 * strlen(text) + 1);
  size_t o = 0;
  for (const char *p = text; *p != '\0'; p++) {
    if (*p == '\n') {
      out[o++] = '\r';
    }
    out[o++] = *p;
  }
  out[o] = '\0';
  return out;
}

TEST(reader_tolerates_crlf_spaces_and_text_around) {
  uint8_t data[100];
  RAND_bytes(data, sizeof(data));
  char *lf = pem_text("CERTIFICATE", data, sizeof(data));
  char *crlf_text = crlf(lf);
  // Explanatory text before and after, as openssl x509 -text writes.
  char *wrapped = malloc(strlen(crlf_text) + 200);
  sprintf(wrapped, "Subject: CN=x\r\nIssuer: CN=y\r\n%s\r\ntrailing words\n",
          crlf_text);
  const char *inputs[] = {crlf_text, wrapped};
  for (size_t k = 0; k < 2; k++) {
    CBS in, label;
    uint8_t *der;
    size_t len;
    CBS_init(&in, (const uint8_t *)inputs[k], strlen(inputs[k]));
    CHECK_EQ_INT(next(&in, &label, &der, &len, 1000), CA_OK);
    CHECK(len == sizeof(data) && memcmp(der, data, len) == 0);
    CHECK(ca_pem_label_is(&label, "CERTIFICATE"));
    OPENSSL_free(der);
    // Nothing more.
    CHECK_EQ_INT(next(&in, &label, &der, &len, 1000), CA_ERR_NOT_FOUND);
  }
  // Whitespace anywhere inside the base64, even mid-quantum.
  static const char kSpaced[] =
      "-----BEGIN X-----\n A Q\tI D \r\n\n-----END X-----";
  CBS in, label;
  uint8_t *der;
  size_t len;
  CBS_init(&in, (const uint8_t *)kSpaced, sizeof(kSpaced) - 1);
  CHECK_EQ_INT(next(&in, &label, &der, &len, 10), CA_OK);
  CHECK_EQ_BYTES(der, len, "\x01\x02\x03", 3);
  OPENSSL_free(der);
  free(wrapped);
  free(crlf_text);
  OPENSSL_free(lf);
}

TEST(reader_walks_several_blocks) {
  static const char kTwo[] =
      "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n"
      "between\n"
      "-----BEGIN PRIVATE KEY-----\nTWFu\n-----END PRIVATE KEY-----\n";
  CBS in, label;
  uint8_t *der;
  size_t len;
  CBS_init(&in, (const uint8_t *)kTwo, sizeof(kTwo) - 1);
  CHECK_EQ_INT(next(&in, &label, &der, &len, 100), CA_OK);
  CHECK(ca_pem_label_is(&label, "CERTIFICATE"));
  CHECK_EQ_BYTES(der, len, "\x01\x02\x03", 3);
  OPENSSL_free(der);
  CHECK_EQ_INT(next(&in, &label, &der, &len, 100), CA_OK);
  CHECK(ca_pem_label_is(&label, "PRIVATE KEY"));
  CHECK_EQ_BYTES(der, len, "Man", 3);
  OPENSSL_free(der);
  CHECK_EQ_INT(next(&in, &label, &der, &len, 100), CA_ERR_NOT_FOUND);
  CHECK(der == NULL);
}

TEST(reader_refuses_broken_blocks) {
  static const struct {
    const char *text;
    int want;
  } kCases[] = {
      {"", CA_ERR_NOT_FOUND},
      {"hello", CA_ERR_NOT_FOUND},
      {"-----BEGIN", CA_ERR_NOT_FOUND},
      {"----BEGIN X-----\nAQID\n-----END X-----\n", CA_ERR_NOT_FOUND},
      // Missing or broken END line.
      {"-----BEGIN X-----\nAQID\n", CA_ERR_PEM_MALFORMED},
      {"-----BEGIN X-----\nAQID\n-----END X", CA_ERR_PEM_MALFORMED},
      {"-----BEGIN X-----\nAQID\n-----END X----\n", CA_ERR_PEM_MALFORMED},
      {"-----BEGIN X-----\nAQID\n-----END X\n-----", CA_ERR_PEM_MALFORMED},
      // END label differs from BEGIN: other, shorter, longer, case.
      {"-----BEGIN CERTIFICATE-----\nAQID\n-----END X509 CRL-----\n",
       CA_ERR_PEM_MALFORMED},
      {"-----BEGIN CERTIFICATE REQUEST-----\nAQID\n-----END CERTIFICATE-----\n",
       CA_ERR_PEM_MALFORMED},
      {"-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE REQUEST-----\n",
       CA_ERR_PEM_MALFORMED},
      {"-----BEGIN CERTIFICATE-----\nAQID\n-----END certificate-----\n",
       CA_ERR_PEM_MALFORMED},
      // A second BEGIN before the first END.
      {"-----BEGIN X-----\nAQID\n-----BEGIN X-----\nAQID\n-----END X-----\n",
       CA_ERR_PEM_MALFORMED},
      // BEGIN line without its closing dashes, or with an empty label.
      {"-----BEGIN X\nAQID\n-----END X-----\n", CA_ERR_PEM_MALFORMED},
      {"-----BEGIN -----\nAQID\n-----END -----\n", CA_ERR_PEM_MALFORMED},
      {"-----BEGIN A\x01"
       "B-----\nAQID\n-----END A\x01"
       "B-----\n",
       CA_ERR_PEM_MALFORMED},
      // RFC 1421 encapsulated headers (encrypted legacy keys).
      {"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
       "DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n"
       "AQID\n-----END RSA PRIVATE KEY-----\n",
       CA_ERR_PEM_MALFORMED},
      // Bad base64: empty, blank, a stray character, a partial quantum,
      // padding in the wrong place.
      {"-----BEGIN X-----\n-----END X-----\n", CA_ERR_PEM_MALFORMED},
      {"-----BEGIN X-----\n  \r\n\t\n-----END X-----\n", CA_ERR_PEM_MALFORMED},
      {"-----BEGIN X-----\nAQ*D\n-----END X-----\n", CA_ERR_PEM_MALFORMED},
      {"-----BEGIN X-----\nAQI\n-----END X-----\n", CA_ERR_PEM_MALFORMED},
      {"-----BEGIN X-----\nAQIDB\n-----END X-----\n", CA_ERR_PEM_MALFORMED},
      {"-----BEGIN X-----\nA===\n-----END X-----\n", CA_ERR_PEM_MALFORMED},
      {"-----BEGIN X-----\nAQ==AQID\n-----END X-----\n", CA_ERR_PEM_MALFORMED},
      {"-----BEGIN X-----\n=AQI\n-----END X-----\n", CA_ERR_PEM_MALFORMED},
      // The good block, as a control.
      {"-----BEGIN X-----\nAQID\n-----END X-----\n", CA_OK},
      {"-----BEGIN X-----\nAQ==\n-----END X-----", CA_OK},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    const int code = next_text(kCases[i].text, 1000);
    if (code != kCases[i].want) {
      fprintf(stderr, "  case %zu: got %s\n", i,
              ca_err_code_name((ca_err_code)code));
    }
    CHECK_EQ_INT(code, kCases[i].want);
  }
}

TEST(label_length) {
  // Labels up to 64 characters are read; longer ones are refused.
  char label[80], text[400];
  memset(label, 'L', 64);
  label[64] = '\0';
  snprintf(text, sizeof(text), "-----BEGIN %s-----\nAQID\n-----END %s-----\n",
           label, label);
  CHECK_EQ_INT(next_text(text, 100), CA_OK);
  memset(label, 'L', 65);
  label[65] = '\0';
  snprintf(text, sizeof(text), "-----BEGIN %s-----\nAQID\n-----END %s-----\n",
           label, label);
  CHECK_EQ_INT(next_text(text, 100), CA_ERR_PEM_MALFORMED);
}

TEST(size_limit_counts_decoded_octets) {
  // A 3-octet body against limits of 3 and 2.
  static const char kThree[] = "-----BEGIN X-----\nAQID\n-----END X-----\n";
  CHECK_EQ_INT(next_text(kThree, 3), CA_OK);
  CHECK_EQ_INT(next_text(kThree, 2), CA_ERR_OBJECT_TOO_LARGE);
  CHECK_EQ_INT(next_text(kThree, 0), CA_ERR_OBJECT_TOO_LARGE);
  // A 1-octet body ("AQ==" has one quantum but decodes to one octet).
  static const char kOne[] = "-----BEGIN X-----\nAQ==\n-----END X-----\n";
  CHECK_EQ_INT(next_text(kOne, 1), CA_OK);
  CHECK_EQ_INT(next_text(kOne, 0), CA_ERR_OBJECT_TOO_LARGE);
  // Line breaks do not count: a body of exactly the limit is read whether
  // its lines end in LF or CRLF, and one octet more is refused.
  static const size_t kSizes[] = {4800, 48000, 65536};
  for (size_t s = 0; s < sizeof(kSizes) / sizeof(kSizes[0]); s++) {
    const size_t n = kSizes[s];
    uint8_t *data = malloc(n);
    RAND_bytes(data, n);
    char *lf = pem_text("CERTIFICATE REQUEST", data, n);
    char *crlf_text = crlf(lf);
    const char *inputs[2] = {lf, crlf_text};
    for (int k = 0; k < 2; k++) {
      CBS in, label;
      uint8_t *der;
      size_t len;
      CBS_init(&in, (const uint8_t *)inputs[k], strlen(inputs[k]));
      const int code = next(&in, &label, &der, &len, n);
      if (code != CA_OK) {
        fprintf(stderr, "  %zu octets (%s): %s\n", n, k ? "CRLF" : "LF",
                ca_err_get()->message);
      }
      CHECK_EQ_INT(code, CA_OK);
      CHECK(code != CA_OK || (len == n && memcmp(der, data, n) == 0));
      OPENSSL_free(der);
      CHECK_EQ_INT(next_text(inputs[k], n - 1), CA_ERR_OBJECT_TOO_LARGE);
    }
    free(crlf_text);
    OPENSSL_free(lf);
    free(data);
  }
}

TEST(label_is) {
  CBS label;
  CBS_init(&label, (const uint8_t *)"CERTIFICATE", 11);
  CHECK(ca_pem_label_is(&label, "CERTIFICATE"));
  CHECK(!ca_pem_label_is(&label, "CERTIFICATE REQUEST"));
  CHECK(!ca_pem_label_is(&label, "CERT"));
  CHECK(!ca_pem_label_is(&label, "certificate"));
  CHECK(!ca_pem_label_is(&label, ""));
  CBS_init(&label, (const uint8_t *)"", 0);
  CHECK(ca_pem_label_is(&label, ""));
}

TEST(looks_like) {
  static const struct {
    const char *text;
    int want;
  } kCases[] = {
      {"-----BEGIN CERTIFICATE-----", 1},
      {"-----BEGIN ", 1},
      {" \t\r\n-----BEGIN X", 1},
      {"-----BEGIN", 0},
      {"-----BEGINX", 0},
      {"x-----BEGIN X", 0},
      {"Subject: x\n-----BEGIN X", 0},
      {"", 0},
      {"   ", 0},
      {"\x30\x82\x01\x00", 0},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); i++) {
    CHECK_EQ_INT(ca_pem_looks_like((const uint8_t *)kCases[i].text,
                                   strlen(kCases[i].text)),
                 kCases[i].want);
  }
  // The length is honoured, not the NUL.
  CHECK(!ca_pem_looks_like((const uint8_t *)"-----BEGIN X", 5));
}

int main(void) {
  RUN(writer_known_answers);
  RUN(writer_matches_boringssl);
  RUN(public_and_private_encoders_agree);
  RUN(reader_round_trips);
  RUN(reader_tolerates_crlf_spaces_and_text_around);
  RUN(reader_walks_several_blocks);
  RUN(reader_refuses_broken_blocks);
  RUN(label_length);
  RUN(size_limit_counts_decoded_octets);
  RUN(label_is);
  RUN(looks_like);
  return test_summary();
}
