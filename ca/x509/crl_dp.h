// CRL distribution points: which CRL lists a certificate (the partitioned
// CRLs of pkid --crl-shards) and how its location is written, the same in
// a certificate's cRLDistributionPoints and in its CRL's
// issuingDistributionPoint (RFC 5280 5.2.5: they must match for a relying
// party to accept the CRL as covering the certificate).
#ifndef PKI_CA_CRL_DP_H
#define PKI_CA_CRL_DP_H

#include <openssl/bytestring.h>
#include <stddef.h>

#include "ca/error.h"
#include "ca/x509/serial.h"

// The most shards a CA's certificates are spread over (pkid --crl-shards).
#define CA_CRL_MAX_SHARDS 1024

// The longest CRL URL, the shard's path included.
#define CA_CRL_URL_MAX 512

// ca_crl_shard_of returns the shard, 1 to |shards|, of a certificate with
// |serial|: its last four octets, which are random (serial.h), modulo
// |shards|. 0 when |shards| is 0 or 1 (no partitioning).
unsigned ca_crl_shard_of(const ca_serial *serial, unsigned shards);

// ca_crl_shard_url writes the URL of |shard|'s CRL for a CA whose CRL is at
// |base|: |base| "/" |shard| (as GET /v1/crl/{ca}/{k} serves it), or |base|
// itself for shard 0 (the CA-wide CRL). It returns 0 with CA_ERR_CONFIG when
// the URL would not fit in |cap| bytes.
int ca_crl_shard_url(const char *base, unsigned shard, char *out,
                     size_t cap) CA_MUST_CHECK;

// ca_crl_dp_name_add appends the DistributionPointName
//   [0] { fullName [0] { uniformResourceIdentifier [6] |url| } }
// shared by a DistributionPoint (RFC 5280 4.2.1.13) and an
// IssuingDistributionPoint (5.2.5): the CHOICE's [0] is explicit, fullName's
// [0] implicit.
int ca_crl_dp_name_add(CBB *out, const char *url) CA_MUST_CHECK;

#endif  // PKI_CA_CRL_DP_H
