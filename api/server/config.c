#include "api/server/config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca/exchange/bulk.h"
#include "ca/limits.h"
#include "ca/revocation/crl_writer.h"
#include "ca/x509/crl_dp.h"

static const char kUsage[] =
    "usage: pkid [flags]\n"
    "\n"
    "pki's certificate authority daemon: signs CSRs under the Cisco UC\n"
    "profiles and records every issuance in PostgreSQL.\n"
    "\n"
    "  --data-dir DIR         where CA keys live (keys/, mode 0700; each key\n"
    "                         0600). Default ./var\n"
    "  --database URL         PostgreSQL connection URL or key=value string.\n"
    "                         Default: $DATABASE_URL (required)\n"
    "  --listen HOST:PORT     API listener. Default 127.0.0.1:8443; port 0\n"
    "                         picks a free port\n"
    "  --ocsp-listen HOST:PORT  OCSP listener (plain HTTP). Default\n"
    "                         127.0.0.1:8080; port 0 picks a free port\n"
    "  --ocsp-validity-hours N  nextUpdate - thisUpdate of OCSP responses:\n"
    "                         8 to 240. Default 24\n"
    "  --ocsp-signer SPEC     who signs OCSP responses: ca (the issuing CA\n"
    "                         itself), delegated (a responder certificate\n"
    "                         pki issues, with id-kp-OCSPSigning and\n"
    "                         ocsp-nocheck, renewed when a third of its\n"
    "                         validity is left), or per CA:\n"
    "                         rsa-issuing=delegated,ec-issuing=ca. Default ca\n"
    "  --ocsp-responder-days N  validity of delegated responder\n"
    "                         certificates. Default 30\n"
    "  --node NAME            this node's name (its delegated responders\n"
    "                         are its own). Default: the host name\n"
    "  --cluster NAME         the cluster of certificates issued without\n"
    "                         one, and the default cluster of bulk export\n"
    "                         and import (1-64 letters, digits, - _ .).\n"
    "                         Default none\n"
    "  --crl-validity-days N  nextUpdate - thisUpdate of CRLs, 1 to 90;\n"
    "                         a CRL is remade after revocations (see\n"
    "                         --crl-interval) and when half of this has\n"
    "                         passed. Default 7\n"
    "  --crl-interval S       least time between two CRLs of a CA, in\n"
    "                         seconds, 1 to 3600: every revocation of that\n"
    "                         time goes into one CRL, published by one\n"
    "                         node. Default 1\n"
    "  --ocsp-url URL         OCSP URI written into issued certificates\n"
    "                         (Authority Information Access). Default\n"
    "                         http://<ocsp-listen>/ with the port it got;\n"
    "                         set it when listening on 0.0.0.0. \"\" for none\n"
    "  --crl-url URL          CRL distribution point written into issued\n"
    "                         certificates; {ca} becomes the issuing CA's\n"
    "                         name, e.g. "
    "http://pki.example.com:8443/v1/crl/{ca}.\n"
    "                         Default none\n"
    "  --crl-shards N         spread each CA's certificates over N CRLs,\n"
    "                         1 to 1024: a certificate names its shard's\n"
    "                         CRL, the --crl-url URL followed by /k; the\n"
    "                         CA-wide CRL stays at the URL. Needs\n"
    "                         --crl-url when above 1. Default 1\n"
    "  --crl-wide-interval S  with --crl-shards above 1: least time\n"
    "                         between two CA-wide CRLs for revocations\n"
    "                         that shard CRLs carry, in seconds, 1 to\n"
    "                         86400, at least --crl-interval (revocations\n"
    "                         of certificates without a shard keep\n"
    "                         --crl-interval). Default 60\n"
    "  --rsa-key ALG          key of the RSA root and issuing CA made at\n"
    "                         first start: RSA-2048 (default), RSA-3072,\n"
    "                         RSA-4096\n"
    "  --ec-key ALG           key of the EC CAs: EC-P256 (default), EC-P384\n"
    "  --adopt-cas FILE       on an empty database, adopt the CAs of FILE\n"
    "                         (PEM certificates of another pki's four CAs)\n"
    "                         with their keys copied into DIR/keys, instead\n"
    "                         of making new ones: a restore or migration\n"
    "  --key-passphrase-file PATH\n"
    "                         CA key passphrase: the first line of PATH\n"
    "                         (mode 0600). Keys pkid writes are encrypted\n"
    "                         with it (PKCS#8, AES-256-CBC); keys it reads\n"
    "                         may be. Default: env PKI_KEY_PASSPHRASE, else\n"
    "                         none (keys unencrypted)\n"
    "  --ca-org NAME          organization (O=) of the CA names. Default pki\n"
    "  --ca-country CC        country (C=, two capital letters, ISO 3166) of\n"
    "                         the CA names made at first start. Default none\n"
    "  --ca-issuers-url URL   where the issuing CA's certificate can be\n"
    "                         fetched (http://), written into issued\n"
    "                         certificates (AIA caIssuers, next to OCSP);\n"
    "                         {ca} becomes the CA's name, e.g. http://pki.\n"
    "                         example.com:8443/v1/ca/{ca}/chain?format=der.\n"
    "                         Default none\n"
    "  --allow-rsa1024 LIST   comma-separated RSA profiles that also accept\n"
    "                         RSA-1024 keys (old phones). Default none\n"
    "  --workers N            signing threads. Default: one per CPU\n"
    "  --queue-items N        certificates waiting for a worker at most;\n"
    "                         beyond, requests get 503 QUEUE_FULL with\n"
    "                         Retry-After; a batch larger than the queue\n"
    "                         gets 413 BATCH_TOO_LARGE. Default 40000\n"
    "  --group-rows N         certificates recorded per transaction at most\n"
    "                         (group commit). Default 5000\n"
    "  --keypool SPEC         keys kept ready for POST /v1/keys:generate,\n"
    "                         made by a background thread at the lowest\n"
    "                         priority: KIND=COUNT,... or none. Default\n"
    "                         RSA-2048=8,RSA-3072=2,RSA-4096=1,EC-P256=32,\n"
    "                         EC-P384=16\n"
    "  --http-threads N       HTTP threads; they decode and answer, never\n"
    "                         sign. Default: CPUs, at least 2\n"
    "  --db-connections N     PostgreSQL connections. Default: threads + 2\n"
    "  --ready-file PATH      once serving, write two lines there:\n"
    "                         \"api=HOST:PORT\" and \"ocsp=HOST:PORT\"\n"
    "  --monitor on|off       run the expiry monitor's checks on this node\n"
    "                         (daily, hourly when something expires within a\n"
    "                         day). POST /v1/monitor:check works either way.\n"
    "                         Default on\n"
    "  --monitor-first-check S  seconds from start to the first check.\n"
    "                         Default 60\n"
    "  --stats-interval S     seconds between two certificate statistics\n"
    "                         snapshots (GET /v1/stats, /metrics), one node\n"
    "                         of the database computing each; 0: only on\n"
    "                         POST /v1/stats:refresh. Default 60\n"
    "  --tls-cert FILE, --tls-key FILE\n"
    "                         the API's TLS certificate (PEM, then its\n"
    "                         chain) and key (PKCS#8 PEM, mode 0600,\n"
    "                         encrypted with the key passphrase or not).\n"
    "                         Default: a tomcat certificate pki issues to\n"
    "                         itself in DIR/tls (names localhost, 127.0.0.1,\n"
    "                         the host name) and renews\n"
    "  --tls-days N           validity of that certificate, 2 to 825 days;\n"
    "                         renewed with a third left. Default 90\n"
    "  --insecure-http        serve the API over plain HTTP (a lab only:\n"
    "                         tokens travel in the clear)\n"
    "\n"
    "Limits (a request over one is refused with the HTTP status and error\n"
    "code listed in README.md):\n"
    "  --max-body-bytes N     request body of the batch call; no call takes\n"
    "                         more. 4096 to 268435456. Default 33554432\n"
    "  --max-batch-items N    items of one batch. 1 to 100000. Default 10000\n"
    "  --max-csr-bytes N      a CSR in DER (PEM: twice that). 256 to 65536.\n"
    "                         Default 65536\n"
    "  --max-sans N           subject alternative names of a certificate.\n"
    "                         1 to 100. Default 100\n"
    "  --max-connections N    connections open at once, per listener.\n"
    "                         1 to 65536. Default 1024\n"
    "  --max-connections-per-ip N  connections from one address, per\n"
    "                         listener; 0: no limit. 0 to 65536. Default 0\n"
    "  --connection-timeout S  seconds a connection may stay idle (the OCSP\n"
    "                         listener: at most 30). 1 to 3600. Default 60\n"
    "  --request-timeout S    seconds to send a whole request after its\n"
    "                         headers. 1 to 3600. Default 60\n"
    "  --max-header-bytes N   memory of a connection for its request line\n"
    "                         and headers (and read buffer). 4096 to\n"
    "                         1048576. Default 32768\n"
    "  --max-buffered-bytes N  request bodies held in memory at once, per\n"
    "                         listener; beyond, 503 BUFFERS_FULL with\n"
    "                         Retry-After before the body is read. At least\n"
    "                         --max-body-bytes; 65536 to 17179869184.\n"
    "                         Default 268435456 (256 MiB)\n"
    "  --help                 this text\n"
    "\n"
    "pkid token create --role issuer|revoker|admin [--profiles P,...|all]\n"
    "                  [--name NAME] [--database URL]\n"
    "  makes an API token and prints it once (the database keeps its hash)\n";

// --- Limits ---
// One entry per limit flag: where it goes in pkid_limits and its range.
typedef struct limit_flag {
  const char *name;
  size_t offset;
  size_t min;
  size_t max;
} limit_flag;

static const limit_flag kLimitFlags[] = {
    {"--max-body-bytes", offsetof(pkid_limits, max_body_bytes),
     CA_LIMIT_BODY_BYTES_MIN, CA_LIMIT_BODY_BYTES_MAX},
    {"--max-batch-items", offsetof(pkid_limits, max_batch_items), 1,
     CA_LIMIT_BATCH_ITEMS_MAX},
    {"--max-csr-bytes", offsetof(pkid_limits, max_csr_bytes),
     CA_LIMIT_CSR_BYTES_MIN, CA_LIMIT_CSR_BYTES},
    {"--max-sans", offsetof(pkid_limits, max_sans), 1, CA_LIMIT_SAN_COUNT},
    {"--max-connections", offsetof(pkid_limits, max_connections), 1,
     CA_LIMIT_CONNECTIONS_MAX},
    {"--max-connections-per-ip", offsetof(pkid_limits, max_connections_per_ip),
     0, CA_LIMIT_CONNECTIONS_MAX},
    {"--connection-timeout", offsetof(pkid_limits, connection_timeout_s), 1,
     CA_LIMIT_TIMEOUT_MAX_S},
    {"--request-timeout", offsetof(pkid_limits, request_timeout_s), 1,
     CA_LIMIT_TIMEOUT_MAX_S},
    {"--max-header-bytes", offsetof(pkid_limits, max_header_bytes),
     CA_LIMIT_HEADER_BYTES_MIN, CA_LIMIT_HEADER_BYTES_MAX},
    {"--max-buffered-bytes", offsetof(pkid_limits, max_buffered_bytes),
     CA_LIMIT_BUFFERED_BYTES_MIN, CA_LIMIT_BUFFERED_BYTES_MAX},
};

static void limits_init(pkid_limits *limits) {
  limits->max_body_bytes = CA_LIMIT_BODY_BYTES;
  limits->max_batch_items = CA_LIMIT_BATCH_ITEMS;
  limits->max_csr_bytes = CA_LIMIT_CSR_BYTES;
  limits->max_sans = CA_LIMIT_SAN_COUNT;
  limits->max_connections = CA_LIMIT_CONNECTIONS_DEFAULT;
  limits->max_connections_per_ip = CA_LIMIT_CONNECTIONS_PER_IP_DEFAULT;
  limits->connection_timeout_s = CA_LIMIT_CONNECTION_TIMEOUT_S;
  limits->request_timeout_s = CA_LIMIT_REQUEST_TIMEOUT_S;
  limits->max_header_bytes = CA_LIMIT_HEADER_BYTES;
  limits->max_buffered_bytes = CA_LIMIT_BUFFERED_BYTES;
}

static const limit_flag *limit_flag_find(const char *name) {
  for (size_t i = 0; i < sizeof(kLimitFlags) / sizeof(kLimitFlags[0]); i++) {
    if (strcmp(kLimitFlags[i].name, name) == 0) {
      return &kLimitFlags[i];
    }
  }
  return NULL;
}

// limit_parse stores the decimal |text| in the field of |flag|, or prints
// the range and returns 0. Only digits are taken: strtoull alone would turn
// "-1" into the largest value.
static int limit_parse(const limit_flag *flag, const char *text,
                       pkid_limits *limits) {
  char *end;
  const unsigned long long v = strtoull(text, &end, 10);
  if (text[0] < '0' || text[0] > '9' || *end != '\0' || v < flag->min ||
      v > flag->max) {
    fprintf(stderr, "pkid: %s must be %zu to %zu\n", flag->name, flag->min,
            flag->max);
    return 0;
  }
  *(size_t *)((char *)limits + flag->offset) = (size_t)v;
  return 1;
}

static int need_value(int i, int argc, char **argv) {
  if (i + 1 >= argc) {
    fprintf(stderr, "pkid: %s needs a value\n", argv[i]);
    return 0;
  }
  return 1;
}

static int parse_count(const char *flag, const char *text, unsigned max,
                       unsigned *out) {
  char *end;
  const unsigned long v = strtoul(text, &end, 10);
  if (*end != '\0' || v == 0 || v > max) {
    fprintf(stderr, "pkid: %s must be 1 to %u\n", flag, max);
    return 0;
  }
  *out = (unsigned)v;
  return 1;
}

static int enable_rsa1024(pkid_config *config, const char *list) {
  char *copy = strdup(list);
  if (copy == NULL) {
    return 0;
  }
  int ok = 1;
  char *save = NULL;
  for (char *name = strtok_r(copy, ",", &save); name != NULL && ok;
       name = strtok_r(NULL, ",", &save)) {
    if (!ca_profile_enable_rsa1024(&config->authority.profiles, name)) {
      fprintf(stderr, "pkid: --allow-rsa1024: %s\n", ca_err_get()->message);
      ok = 0;
    }
  }
  free(copy);
  return ok;
}

// signer_mode returns the mode --ocsp-signer gives |ca|: 1 delegated, 0 the
// CA, -1 for a malformed spec.
static int signer_mode(const char *spec, const char *ca) {
  if (strcmp(spec, "ca") == 0) {
    return 0;
  }
  if (strcmp(spec, "delegated") == 0) {
    return 1;
  }
  int mode = 0;
  const char *p = spec;
  while (*p != '\0') {
    const char *eq = strchr(p, '=');
    if (eq == NULL) {
      return -1;
    }
    const char *end = strchr(eq, ',');
    const size_t value_len =
        end != NULL ? (size_t)(end - eq - 1) : strlen(eq + 1);
    int this_mode;
    if (value_len == 2 && strncmp(eq + 1, "ca", 2) == 0) {
      this_mode = 0;
    } else if (value_len == 9 && strncmp(eq + 1, "delegated", 9) == 0) {
      this_mode = 1;
    } else {
      return -1;
    }
    if (ca != NULL && strlen(ca) == (size_t)(eq - p) &&
        strncmp(p, ca, (size_t)(eq - p)) == 0) {
      mode = this_mode;
    }
    p = end != NULL ? end + 1 : eq + 1 + value_len;
  }
  return mode;
}

static int valid_signer_spec(const char *spec) {
  return signer_mode(spec, NULL) >= 0;
}

int pkid_config_delegates(const pkid_config *config, const char *ca) {
  return signer_mode(config->ocsp_signer, ca) == 1;
}

// ca_issuers_url_ok accepts "" (none) or an http:// URL of printable
// ASCII: RFC 5280 4.2.2.1 names HTTP (or LDAP) for caIssuers, and a client
// fetching the issuer to build a path cannot yet check an https server.
static int ca_issuers_url_ok(const char *url) {
  const size_t len = strlen(url);
  if (len == 0) {
    return 1;
  }
  if (len > 256 || strncmp(url, "http://", 7) != 0 || len == 7) {
    return 0;
  }
  for (size_t i = 0; i < len; i++) {
    if (url[i] <= 0x20 || url[i] > 0x7e) {
      return 0;
    }
  }
  return 1;
}

int pkid_config_parse(pkid_config *config, int argc, char **argv) {
  memset(config, 0, sizeof(*config));
  ca_authority_config_init(&config->authority);
  ca_engine_config_init(&config->engine);
  ca_keypool_config_init(&config->keypool);
  ca_responder_config_init(&config->responder);
  config->crl_validity_days = 7;
  config->crl_interval_s = CA_CRL_DEFAULT_INTERVAL_SECONDS;
  config->ocsp_responder_days = 30;
  config->ocsp_signer = "ca";
  config->monitor_first_check_s = 60;
  config->stats_interval_s = 60;
  api_revcheck_config_init(&config->revcheck);
  config->tls_days = 90;
  limits_init(&config->limits);
  if (gethostname(config->node, sizeof(config->node)) != 0) {
    snprintf(config->node, sizeof(config->node), "node");
  }
  config->node[sizeof(config->node) - 1] = '\0';
  config->data_dir = "./var";
  config->database = getenv("DATABASE_URL");
  config->listen = "127.0.0.1:8443";
  config->ocsp_listen = "127.0.0.1:8080";
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  config->http_threads = cpus > 2 ? (unsigned)cpus : 2;
  for (int i = 1; i < argc; i++) {
    const char *flag = argv[i];
    if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) {
      fputs(kUsage, stdout);
      fputs(kApiRevcheckUsage, stdout);
      return 0;
    }
    if (strcmp(flag, "--insecure-http") == 0) {
      config->insecure_http = 1;
      continue;
    }
    if (!need_value(i, argc, argv)) {
      return -1;
    }
    const char *value = argv[++i];
    const int revcheck =
        api_revcheck_config_flag(&config->revcheck, flag, value);
    if (revcheck < 0) {
      return -1;
    }
    if (revcheck > 0) {
      continue;
    }
    if (strcmp(flag, "--data-dir") == 0) {
      config->data_dir = value;
    } else if (strcmp(flag, "--database") == 0) {
      config->database = value;
    } else if (strcmp(flag, "--listen") == 0) {
      config->listen = value;
    } else if (strcmp(flag, "--ocsp-listen") == 0) {
      config->ocsp_listen = value;
    } else if (strcmp(flag, "--ocsp-url") == 0) {
      config->ocsp_url = value;
    } else if (strcmp(flag, "--ocsp-validity-hours") == 0) {
      unsigned v;
      if (!parse_count(flag, value, 240, &v) || v < 8) {
        fprintf(stderr, "pkid: --ocsp-validity-hours must be 8 to 240\n");
        return -1;
      }
      config->responder.validity_s = (int64_t)v * 3600;
    } else if (strcmp(flag, "--ocsp-signer") == 0) {
      config->ocsp_signer = value;
    } else if (strcmp(flag, "--ocsp-responder-days") == 0) {
      if (!parse_count(flag, value, 366, &config->ocsp_responder_days)) {
        return -1;
      }
    } else if (strcmp(flag, "--node") == 0) {
      if (value[0] == '\0' || strlen(value) >= sizeof(config->node)) {
        fprintf(stderr, "pkid: --node must be 1 to 63 characters\n");
        return -1;
      }
      snprintf(config->node, sizeof(config->node), "%s", value);
    } else if (strcmp(flag, "--cluster") == 0) {
      if (!ca_bulk_cluster_check(value)) {
        fprintf(stderr, "pkid: --cluster: %s\n", ca_err_get()->message);
        return -1;
      }
      config->cluster = value;
    } else if (strcmp(flag, "--crl-validity-days") == 0) {
      if (!parse_count(flag, value, 90, &config->crl_validity_days)) {
        return -1;
      }
    } else if (strcmp(flag, "--crl-interval") == 0) {
      if (!parse_count(flag, value, 3600, &config->crl_interval_s)) {
        return -1;
      }
    } else if (strcmp(flag, "--crl-wide-interval") == 0) {
      if (!parse_count(flag, value, 86400, &config->crl_wide_interval_s)) {
        return -1;
      }
    } else if (strcmp(flag, "--crl-shards") == 0) {
      if (!parse_count(flag, value, CA_CRL_MAX_SHARDS,
                       &config->authority.crl_shards)) {
        return -1;
      }
    } else if (strcmp(flag, "--crl-url") == 0) {
      config->authority.crl_url = value;
    } else if (strcmp(flag, "--key-passphrase-file") == 0) {
      config->key_passphrase_file = value;
    } else if (strcmp(flag, "--adopt-cas") == 0) {
      config->authority.adopt_cas = value;
    } else if (strcmp(flag, "--ready-file") == 0) {
      config->ready_file = value;
    } else if (strcmp(flag, "--monitor") == 0) {
      if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0) {
        fprintf(stderr, "pkid: --monitor must be on or off\n");
        return -1;
      }
      config->monitor_off = strcmp(value, "off") == 0;
    } else if (strcmp(flag, "--monitor-first-check") == 0) {
      if (!parse_count(flag, value, 86400, &config->monitor_first_check_s)) {
        return -1;
      }
    } else if (strcmp(flag, "--stats-interval") == 0) {
      // 0 is allowed: no background computation on this node.
      if (strcmp(value, "0") == 0) {
        config->stats_interval_s = 0;
      } else if (!parse_count(flag, value, 86400, &config->stats_interval_s)) {
        return -1;
      }
    } else if (strcmp(flag, "--ca-org") == 0) {
      // The CA common names append up to 17 characters (" ECDSA Issuing CA")
      // and must stay within RFC 5280's 64.
      if (value[0] == '\0' || strlen(value) > 46) {
        fprintf(stderr, "pkid: --ca-org must be 1 to 46 characters\n");
        return -1;
      }
      config->authority.organization = value;
    } else if (strcmp(flag, "--ca-country") == 0) {
      // X.520 countryName: an ISO 3166 alpha-2 code, PrintableString.
      if (strlen(value) != 2 || value[0] < 'A' || value[0] > 'Z' ||
          value[1] < 'A' || value[1] > 'Z') {
        fprintf(stderr,
                "pkid: --ca-country must be two capital letters (ISO 3166, "
                "e.g. US)\n");
        return -1;
      }
      config->authority.country = value;
    } else if (strcmp(flag, "--ca-issuers-url") == 0) {
      if (!ca_issuers_url_ok(value)) {
        fprintf(stderr,
                "pkid: --ca-issuers-url must be an http:// URL of at most 256 "
                "printable ASCII characters (RFC 5280 4.2.2.1), or \"\"\n");
        return -1;
      }
      config->authority.ca_issuers_url = value;
    } else if (strcmp(flag, "--rsa-key") == 0) {
      if (!ca_key_spec_parse(&config->authority.rsa, value) ||
          config->authority.rsa.type != CA_KEY_RSA ||
          config->authority.rsa.rsa_bits < 2048) {
        fprintf(stderr, "pkid: --rsa-key: RSA-2048, RSA-3072 or RSA-4096\n");
        return -1;
      }
    } else if (strcmp(flag, "--ec-key") == 0) {
      if (!ca_key_spec_parse(&config->authority.ec, value) ||
          config->authority.ec.type != CA_KEY_EC) {
        fprintf(stderr, "pkid: --ec-key: EC-P256 or EC-P384\n");
        return -1;
      }
    } else if (strcmp(flag, "--allow-rsa1024") == 0) {
      if (!enable_rsa1024(config, value)) {
        return -1;
      }
    } else if (strcmp(flag, "--http-threads") == 0) {
      if (!parse_count(flag, value, 256, &config->http_threads)) {
        return -1;
      }
    } else if (strcmp(flag, "--workers") == 0) {
      unsigned v;
      if (!parse_count(flag, value, 256, &v)) {
        return -1;
      }
      config->engine.workers = v;
    } else if (strcmp(flag, "--queue-items") == 0) {
      unsigned v;
      if (!parse_count(flag, value, 10000000, &v)) {
        return -1;
      }
      config->engine.queue_items = v;
    } else if (strcmp(flag, "--keypool") == 0) {
      if (!ca_keypool_config_parse(&config->keypool, value)) {
        fprintf(stderr, "pkid: --keypool: %s\n", ca_err_get()->message);
        return -1;
      }
    } else if (strcmp(flag, "--group-rows") == 0) {
      unsigned v;
      if (!parse_count(flag, value, 100000, &v)) {
        return -1;
      }
      config->engine.group_rows = v;
    } else if (strcmp(flag, "--tls-cert") == 0) {
      config->tls_cert = value;
    } else if (strcmp(flag, "--tls-key") == 0) {
      config->tls_key = value;
    } else if (strcmp(flag, "--tls-days") == 0) {
      if (!parse_count(flag, value, 825, &config->tls_days) ||
          config->tls_days < 2) {
        fprintf(stderr, "pkid: --tls-days must be 2 to 825\n");
        return -1;
      }
    } else if (strcmp(flag, "--db-connections") == 0) {
      if (!parse_count(flag, value, 256, &config->db_connections)) {
        return -1;
      }
    } else if (limit_flag_find(flag) != NULL) {
      // --- Limits ---
      if (!limit_parse(limit_flag_find(flag), value, &config->limits)) {
        return -1;
      }
    } else {
      fprintf(stderr, "pkid: unknown flag %s (see --help)\n", flag);
      return -1;
    }
  }
  if (config->database == NULL || config->database[0] == '\0') {
    fprintf(stderr,
            "pkid: no database: pass --database URL or set DATABASE_URL\n");
    return -1;
  }
  if (config->db_connections == 0) {
    config->db_connections = config->http_threads + 2;
  }
  if (config->ocsp_url == NULL) {
    snprintf(config->ocsp_url_buf, sizeof(config->ocsp_url_buf), "http://%s/",
             config->ocsp_listen);
    config->ocsp_url = config->ocsp_url_buf;
  }
  config->authority.ocsp_url = config->ocsp_url;
  if (config->authority.crl_shards > 1 &&
      (config->authority.crl_url == NULL ||
       config->authority.crl_url[0] == '\0')) {
    fprintf(stderr,
            "pkid: --crl-shards: certificates name their shard's CRL by\n"
            "      --crl-url, which is not set\n");
    return -1;
  }
  // The CA-wide CRL is never due sooner than a shard's.
  if (config->crl_wide_interval_s == 0) {
    config->crl_wide_interval_s =
        config->crl_interval_s > CA_CRL_DEFAULT_WIDE_INTERVAL_SECONDS
            ? config->crl_interval_s
            : CA_CRL_DEFAULT_WIDE_INTERVAL_SECONDS;
  } else if (config->crl_wide_interval_s < config->crl_interval_s) {
    fprintf(stderr,
            "pkid: --crl-wide-interval must be at least --crl-interval "
            "(%u)\n",
            config->crl_interval_s);
    return -1;
  }
  if (!valid_signer_spec(config->ocsp_signer)) {
    fprintf(stderr,
            "pkid: --ocsp-signer: ca, delegated, or CA=ca|delegated,...\n");
    return -1;
  }
  config->authority.data_dir = config->data_dir;
  if ((config->tls_cert == NULL) != (config->tls_key == NULL)) {
    fprintf(stderr, "pkid: --tls-cert and --tls-key go together\n");
    return -1;
  }
  if (config->insecure_http && config->tls_cert != NULL) {
    fprintf(stderr, "pkid: --insecure-http and --tls-cert contradict\n");
    return -1;
  }
  // --- Limits --- a budget smaller than one body would refuse the
  // largest bodies for ever.
  if (config->limits.max_buffered_bytes < config->limits.max_body_bytes) {
    fprintf(stderr,
            "pkid: --max-buffered-bytes must be at least --max-body-bytes "
            "(%zu)\n",
            config->limits.max_body_bytes);
    return -1;
  }
  // The ones ca/ applies go down with the authority.
  config->authority.limits.csr_bytes = config->limits.max_csr_bytes;
  config->authority.limits.san_count = config->limits.max_sans;
  return 1;
}
