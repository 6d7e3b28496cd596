// The key usage and extended key usage bits that certificate.c encodes and
// profiles (ca/policy/profile.h) choose.
#ifndef PKI_CA_USAGE_H
#define PKI_CA_USAGE_H

// Key Usage bits, numbered as in RFC 5280 4.2.1.3 (bit n is 1 << n).
enum {
  CA_KU_DIGITAL_SIGNATURE = 1 << 0,
  CA_KU_NON_REPUDIATION = 1 << 1,
  CA_KU_KEY_ENCIPHERMENT = 1 << 2,
  CA_KU_DATA_ENCIPHERMENT = 1 << 3,
  CA_KU_KEY_AGREEMENT = 1 << 4,
  CA_KU_KEY_CERT_SIGN = 1 << 5,
  CA_KU_CRL_SIGN = 1 << 6,
};

// Extended Key Usages, written in this order when present.
enum {
  CA_EKU_SERVER_AUTH = 1 << 0,
  CA_EKU_CLIENT_AUTH = 1 << 1,
  CA_EKU_IPSEC_END_SYSTEM = 1 << 2,
  CA_EKU_OCSP_SIGNING = 1 << 3,
};

#endif  // PKI_CA_USAGE_H
