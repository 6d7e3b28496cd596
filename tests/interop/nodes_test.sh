#!/usr/bin/env bash
# Interop: the node registry and multi-server (SAN) certificates against a
# real pkid and PostgreSQL: registry CRUD with pkictl (checked input, audit
# rows in psql), a multi-server certificate for each product rule read back
# with openssl x509, and a bulk export that hands the shared certificate to
# every node it names (read back through consolidate and import).
set -eu

. "$(dirname "$0")/lib.sh"

interop_start

C=alpha
node_add() {
  pkictl_run "$BASE" node add --cluster "$C" "$@"
}

section "node registry: add, with every field checked"
node_add --fqdn CUCMPUB.example.com --product CUCM --role publisher \
  --address 10.0.0.10 --address 2001:db8::10
expect_eq "add the CUCM publisher ($PKICTL_OUT)" "$PKICTL_RC" 0
expect_contains "recorded lower-cased, short name from the FQDN, addresses canonical" \
  "$PKICTL_OUT" "cucmpub.example.com"
expect_contains "short name" "$PKICTL_OUT" " cucmpub "
expect_contains "IPv6 canonical" "$PKICTL_OUT" "10.0.0.10,2001:db8::10"
node_add --fqdn cucmsub1.example.com --product CUCM --role subscriber --address 10.0.0.11
expect_eq "add a CUCM subscriber ($PKICTL_OUT)" "$PKICTL_RC" 0
node_add --fqdn imp1.example.com --product 'IM&P' --role publisher --short-name imppub
expect_eq "add an IM&P publisher ($PKICTL_OUT)" "$PKICTL_RC" 0
node_add --fqdn uccx1.example.com --product UCCX --role 1 --address 10.0.1.1
expect_eq "add UCCX node 1 ($PKICTL_OUT)" "$PKICTL_RC" 0
node_add --fqdn uccx2.example.com --product uccx --role 2 --address 10.0.1.2
expect_eq "add UCCX node 2 ($PKICTL_OUT)" "$PKICTL_RC" 0
node_add --fqdn ms1.example.com --product MediaSense
expect_eq "add a MediaSense node ($PKICTL_OUT)" "$PKICTL_RC" 0
node_add --fqdn ms2.example.com --product MediaSense
expect_eq "add a second MediaSense node ($PKICTL_OUT)" "$PKICTL_RC" 0
node_add --fqdn sm1.example.com --product SocialMiner
expect_eq "add a SocialMiner node ($PKICTL_OUT)" "$PKICTL_RC" 0
node_add --fqdn sm2.example.com --product SocialMiner
expect_eq "add a second SocialMiner node ($PKICTL_OUT)" "$PKICTL_RC" 0

section "node registry: refusals"
node_add --fqdn cucm9 --product CUCM --role subscriber
expect_contains "a single label is no FQDN" "$PKICTL_OUT" "PARAMETER_INVALID: fqdn"
node_add --fqdn bad_name.example.com --product CUCM --role subscriber
expect_contains "an underscore is no host name" "$PKICTL_OUT" "PARAMETER_INVALID: fqdn"
node_add --fqdn '*.example.com' --product CUCM --role subscriber
expect_contains "no wildcard" "$PKICTL_OUT" "PARAMETER_INVALID: fqdn"
node_add --fqdn cucm9.example.com --product CUCM --role subscriber --address 300.1.1.1
expect_contains "a bad address" "$PKICTL_OUT" "PARAMETER_INVALID: address"
node_add --fqdn cucm9.example.com --product CUCM --role subscriber --short-name a.b
expect_contains "a short name is one label" "$PKICTL_OUT" "PARAMETER_INVALID: short name"
node_add --fqdn cucm9.example.com --product CUCM
expect_contains "a CUCM node needs its role" "$PKICTL_OUT" "PARAMETER_INVALID: role"
node_add --fqdn uccx3.example.com --product UCCX --role 3
expect_contains "UCCX nodes are 1 or 2" "$PKICTL_OUT" "PARAMETER_INVALID: role"
node_add --fqdn cucm9.example.com --product Webex --role publisher
expect_contains "an unknown product" "$PKICTL_OUT" "PARAMETER_INVALID: unknown product"
node_add --fqdn cucmsub1.EXAMPLE.com --product CUCM --role subscriber
expect_contains "the same FQDN twice (any case)" "$PKICTL_OUT" "CONFLICT"
node_add --fqdn cucmpub2.example.com --product CUCM --role publisher
expect_contains "a second CUCM publisher" "$PKICTL_OUT" "CONFLICT"
pkictl_run "$BASE" node add --cluster 'bad/cluster' --fqdn x.example.com --product UCCE
expect_contains "a bad cluster name" "$PKICTL_OUT" "PARAMETER_INVALID: cluster"
http POST "$BASE/v1/nodes" "$WORK/garbage.out" -H 'Content-Type: application/x-protobuf' \
  --data-binary 'garbage!'
expect_eq "a body that is not a Node: 400" "$HTTP_CODE" 400
expect_contains "... REQUEST_MALFORMED" "$(cat "$WORK/garbage.out")" "REQUEST_MALFORMED"

section "node registry: list, delete, audit"
node_add --fqdn temp.example.com --product UCCE --address 10.9.9.9
expect_eq "add a node to delete ($PKICTL_OUT)" "$PKICTL_RC" 0
pkictl_run "$BASE" node list --cluster "$C"
expect_eq "list exits 0" "$PKICTL_RC" 0
expect_eq "list shows the 10 nodes" "$(grep -c "^$C " <<<"$PKICTL_OUT")" 10
pkictl_run "$BASE" node delete TEMP.example.com --cluster "$C"
expect_eq "delete exits 0 ($PKICTL_OUT)" "$PKICTL_RC" 0
pkictl_run "$BASE" node delete temp.example.com --cluster "$C"
expect_contains "deleting it again: NOT_FOUND" "$PKICTL_OUT" "NOT_FOUND"
pkictl_run "$BASE" node list --cluster "$C"
expect_not_contains "gone from the list" "$PKICTL_OUT" "temp.example.com"
expect_eq "nodes in the database" "$(sql "SELECT count(*) FROM nodes")" 9
expect_eq "audit: one node.add per node added" \
  "$(sql "SELECT count(*) FROM audit_log WHERE action = 'node.add'")" 10
expect_eq "audit: the deletion" \
  "$(sql "SELECT object FROM audit_log WHERE action = 'node.delete'")" \
  "node:$C/temp.example.com"

# multi NAME PROFILE PRODUCT: a multi-server certificate into $WORK/NAME.
multi() {
  pkictl_run "$BASE" node multi-server --cluster "$C" --profile "$2" --product "$3" \
    --o Lab --out-dir "$WORK/$1"
}

section "multi-server tomcat for CUCM: every CUCM and IM&P node"
multi ms-tomcat tomcat CUCM
expect_eq "multi-server tomcat exits 0 ($PKICTL_OUT)" "$PKICTL_RC" 0
TOMCAT_MS="$WORK/ms-tomcat/tomcat-ms.pem"
split_pem "$TOMCAT_MS" "$WORK/ms-tomcat/part" >/dev/null
expect_eq "SANs: the -ms name, then the publisher and the others by FQDN" \
  "$(ext_value "$WORK/ms-tomcat/part1.pem" "X509v3 Subject Alternative Name")" \
  "DNS:cucmpub-ms.example.com, DNS:cucmpub.example.com, DNS:cucmsub1.example.com, DNS:imp1.example.com"
expect_eq "CN: the publisher's -ms name" "$(subject_of "$WORK/ms-tomcat/part1.pem")" \
  "CN=cucmpub-ms.example.com,O=Lab"
expect_eq "tomcat usages" \
  "$(ext_value "$WORK/ms-tomcat/part1.pem" "X509v3 Extended Key Usage")" \
  "TLS Web Server Authentication, TLS Web Client Authentication, IPSec End System"
check "the shared certificate verifies to pki's root" \
  openssl verify -CAfile "$WORK/ms-tomcat/part3.pem" -untrusted "$WORK/ms-tomcat/part2.pem" \
  "$WORK/ms-tomcat/part1.pem"
check "the key is the certificate's" \
  cmp -s <(openssl pkey -in "$WORK/ms-tomcat/tomcat-ms.key" -pubout) \
  <(openssl x509 -in "$WORK/ms-tomcat/part1.pem" -pubkey -noout)
expect_eq "recorded with the cluster" \
  "$(sql "SELECT cluster FROM certificates WHERE common_name = 'cucmpub-ms.example.com'")" "$C"

section "multi-server CallManager-ECDSA for CUCM: CUCM nodes only"
multi ms-cm CallManager-ECDSA CUCM
expect_eq "multi-server CallManager-ECDSA exits 0 ($PKICTL_OUT)" "$PKICTL_RC" 0
split_pem "$WORK/ms-cm/CallManager-ECDSA-ms.pem" "$WORK/ms-cm/part" >/dev/null
expect_eq "SANs: no IM&P node (it runs no CallManager service)" \
  "$(ext_value "$WORK/ms-cm/part1.pem" "X509v3 Subject Alternative Name")" \
  "DNS:cucmpub-ms.example.com, DNS:cucmpub.example.com, DNS:cucmsub1.example.com"
expect_contains "an EC key" "$(openssl x509 -in "$WORK/ms-cm/part1.pem" -noout -text)" \
  "id-ecPublicKey"
multi ms-cm-imp CallManager 'IM&P'
expect_contains "CallManager for IM&P is refused" "$PKICTL_OUT" \
  "PARAMETER_INVALID: a multi-server CallManager certificate is CUCM's alone"

section "multi-server tomcat for UCCX: nodes 1 and 2"
multi ms-uccx tomcat-ECDSA UCCX
expect_eq "multi-server tomcat-ECDSA for UCCX exits 0 ($PKICTL_OUT)" "$PKICTL_RC" 0
split_pem "$WORK/ms-uccx/tomcat-ECDSA-ms.pem" "$WORK/ms-uccx/part" >/dev/null
expect_eq "SANs: node 1's -ms name, node 1, node 2" \
  "$(ext_value "$WORK/ms-uccx/part1.pem" "X509v3 Subject Alternative Name")" \
  "DNS:uccx1-ms.example.com, DNS:uccx1.example.com, DNS:uccx2.example.com"

section "no multi-server certificate for MediaSense, SocialMiner, or other profiles"
multi ms-mediasense tomcat MediaSense
expect_contains "MediaSense is refused" "$PKICTL_OUT" \
  "PARAMETER_INVALID: MediaSense takes no multi-server certificate"
multi ms-socialminer tomcat SocialMiner
expect_contains "SocialMiner is refused" "$PKICTL_OUT" \
  "PARAMETER_INVALID: SocialMiner takes no multi-server certificate"
multi ms-ipsec ipsec CUCM
expect_contains "ipsec is one host's" "$PKICTL_OUT" "PARAMETER_INVALID"
pkictl_run "$BASE" node multi-server --cluster empty --profile tomcat --product CUCM \
  --out-dir "$WORK/ms-empty"
expect_contains "a cluster without two nodes" "$PKICTL_OUT" "two at least"

section "bulk export: the shared certificate goes to every node it names"
# A node's own older tomcat certificate is superseded by the shared one.
make_csr "$WORK/own.csr" rsa:2048 "/CN=cucmsub1.example.com/O=Lab"
http POST "$BASE/v1/sign?profile=tomcat&cluster=$C" "$WORK/own.pem" --data-binary @"$WORK/own.csr"
expect_eq "an own tomcat certificate of cucmsub1, issued later: 200" "$HTTP_CODE" 200
# ... and the multi-server one issued after it is the current one
# (notBefore has a resolution of one second).
sleep 1
multi ms-tomcat-2 tomcat CUCM
expect_eq "a second multi-server tomcat ($PKICTL_OUT)" "$PKICTL_RC" 0
make_csr "$WORK/beta.csr" rsa:2048 "/CN=beta1.example.org/O=Lab"
http POST "$BASE/v1/sign?profile=tomcat&cluster=beta" "$WORK/beta.pem" --data-binary @"$WORK/beta.csr"
expect_eq "a certificate of cluster beta: 200" "$HTTP_CODE" 200
mkdir -p "$WORK/share"
pkictl_run "$BASE" bulk export --dir "$WORK/share" --cluster "$C" --type tomcat
expect_eq "export alpha ($PKICTL_OUT)" "$PKICTL_RC" 0
expect_contains "three entries: the three nodes share one" "$PKICTL_OUT" \
  "3 certificates of cluster $C"
pkictl_run "$BASE" bulk export --dir "$WORK/share" --cluster beta --type tomcat
expect_eq "export beta ($PKICTL_OUT)" "$PKICTL_RC" 0
pkictl_run "$BASE" bulk consolidate --dir "$WORK/share"
expect_eq "consolidate, no conflict ($PKICTL_OUT)" "$PKICTL_RC" 0
pkictl_run "$BASE" bulk import --dir "$WORK/share" --cluster beta
expect_eq "import into beta ($PKICTL_OUT)" "$PKICTL_RC" 0
for n in cucmpub.example.com cucmsub1.example.com imp1.example.com; do
  expect_eq "$n receives the shared tomcat certificate" \
    "$(grep -c " $C  *tomcat  *$n\$" <<<"$PKICTL_OUT")" 1
done
expect_not_contains "no entry named after the -ms CN" "$PKICTL_OUT" "cucmpub-ms.example.com"
expect_eq "one trust entry: the newest shared certificate" \
  "$(sql "SELECT count(*) FROM trust_entries WHERE store = 'tomcat-trust' AND subject LIKE '%cucmpub-ms%'")" 1

interop_finish
