// Hexadecimal digits.
#ifndef PKI_CA_HEX_H
#define PKI_CA_HEX_H

// ca_hex_value returns the value of the hex digit |c| (either case), or -1.
static inline int ca_hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

#endif  // PKI_CA_HEX_H
