// pkid token create: an API token made on the database directly, by whoever
// may run pkid there. It is how the first tokens of a node that joins a
// database are made, and how admins recover when every admin token is lost
// or revoked: it needs no token itself.
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/server/config.h"
#include "ca/policy/access.h"
#include "ca/policy/profile.h"
#include "ca/store/store.h"
#include "ca/store/store_access.h"

static const char kTokenUsage[] =
    "usage: pkid token create --role issuer|revoker|admin\n"
    "                         [--profiles P,...|all] [--name NAME]\n"
    "                         [--database URL]\n"
    "  prints a new API token once; the database keeps only its SHA-256.\n"
    "  An issuer token needs --profiles (tomcat, tomcat-ECDSA, ipsec, CAPF,\n"
    "  CallManager, CallManager-ECDSA, or all).\n";

int pkid_token_main(int argc, char **argv) {
  const char *role_text = NULL, *profiles = NULL, *name = NULL;
  const char *database = getenv("DATABASE_URL");
  if (argc < 2 || strcmp(argv[1], "create") != 0) {
    fputs(kTokenUsage, stderr);
    return 2;
  }
  for (int i = 2; i < argc; i++) {
    if (i + 1 >= argc) {
      fprintf(stderr, "pkid token: %s needs a value\n%s", argv[i], kTokenUsage);
      return 2;
    }
    const char *flag = argv[i], *value = argv[++i];
    if (strcmp(flag, "--role") == 0) {
      role_text = value;
    } else if (strcmp(flag, "--profiles") == 0) {
      profiles = value;
    } else if (strcmp(flag, "--name") == 0) {
      name = value;
    } else if (strcmp(flag, "--database") == 0) {
      database = value;
    } else {
      fprintf(stderr, "pkid token: unknown flag %s\n%s", flag, kTokenUsage);
      return 2;
    }
  }
  ca_role role;
  ca_principal scope;
  memset(&scope, 0, sizeof(scope));
  if (!ca_role_parse(&role, role_text)) {
    fprintf(stderr, "pkid token: %s\n", ca_err_get()->message);
    return 2;
  }
  if ((role == CA_ROLE_ISSUER) != (profiles != NULL) ||
      (profiles != NULL && profiles[0] == '\0')) {
    fprintf(stderr,
            "pkid token: --profiles goes with --role issuer, and "
            "only with it\n");
    return 2;
  }
  ca_authority_config defaults;
  ca_authority_config_init(&defaults);
  if (profiles != NULL && !ca_profiles_parse(&scope, profiles)) {
    fprintf(stderr, "pkid token: %s\n", ca_err_get()->message);
    return 2;
  }
  for (size_t i = 0; i < scope.profile_count; i++) {
    const ca_profile *p =
        ca_profile_find(&defaults.profiles, scope.profiles[i]);
    if (p == NULL) {
      fprintf(stderr, "pkid token: unknown profile %s\n", scope.profiles[i]);
      return 2;
    }
    snprintf(scope.profiles[i], sizeof(scope.profiles[i]), "%s", p->name);
  }
  if (database == NULL || database[0] == '\0') {
    fprintf(stderr, "pkid token: pass --database URL or set DATABASE_URL\n");
    return 2;
  }
  ca_store *store = NULL;
  char token[CA_TOKEN_LEN + 1], host[64] = "localhost", actor[96];
  int64_t id;
  (void)gethostname(host, sizeof(host) - 1);
  snprintf(actor, sizeof(actor), "pkid-token@%.64s", host);
  if (!ca_store_open(database, 1, &store) || !ca_store_migrate(store) ||
      !ca_store_token_create(store, name != NULL ? name : ca_role_name(role),
                             role, &scope, actor, "local", token, &id)) {
    fprintf(stderr, "pkid token: %s\n", ca_err_get()->message);
    ca_store_free(store);
    return 1;
  }
  ca_store_free(store);
  printf("%s\n", token);
  fflush(stdout);
  OPENSSL_cleanse(token, sizeof(token));
  fprintf(stderr, "pkid token: token %lld (role %s) made; it is shown once\n",
          (long long)id, ca_role_name(role));
  return 0;
}
