// pkictl token and pkictl allowlist: the API's tokens and the admin
// allowlist (admin calls; see api/server/handlers/handlers_access.c).
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/cli/pkictl.h"
#include "api/cli/pkictl_json.h"

static const char kTokenUsage[] =
    "usage: pkictl token create --role issuer|revoker|admin\n"
    "                           [--profiles P,...|all] [--name NAME]\n"
    "       pkictl token list\n"
    "       pkictl token revoke ID\n";

static const char kAllowlistUsage[] =
    "usage: pkictl allowlist list\n"
    "       pkictl allowlist add ADDRESS[/PREFIX] [--force]\n"
    "       pkictl allowlist delete ADDRESS[/PREFIX] [--force]\n"
    "  --force: make the change even if your own address falls off the "
    "list\n";

typedef struct token_flags {
  const char *role;
  const char *profiles;
  const char *name;
} token_flags;

static const pkictl_flag kTokenFlags[] = {
    PKICTL_STRING_FLAG("--role", token_flags, role),
    PKICTL_STRING_FLAG("--profiles", token_flags, profiles),
    PKICTL_STRING_FLAG("--name", token_flags, name),
};

static const pkictl_flag_spec kTokenSpec = {
    kTokenFlags, PKICTL_COUNT(kTokenFlags), sizeof(token_flags), 1, NULL,
};

int pkictl_token(pki_client *client, int argc, char **argv) {
  if (argc < 1 || strcmp(argv[0], "--help") == 0) {
    fputs(kTokenUsage, argc < 1 ? stderr : stdout);
    return argc < 1 ? 2 : 0;
  }
  const char *sub = argv[0];
  token_flags f;
  const char *positional[1];
  int n_positional = 0;
  if (!pkictl_parse_flags(&kTokenSpec, argc - 1, argv + 1, &f, positional,
                          &n_positional)) {
    fputs(kTokenUsage, stderr);
    return 2;
  }
  char path[512];
  if (strcmp(sub, "create") == 0 && n_positional == 0 && f.role != NULL) {
    snprintf(path, sizeof(path), "/v1/tokens");
    pkictl_add_query(path, sizeof(path), "role", f.role);
    pkictl_add_query(path, sizeof(path), "profiles", f.profiles);
    pkictl_add_query(path, sizeof(path), "name", f.name);
    return pkictl_print_call(client, "POST", path);
  }
  if (strcmp(sub, "list") == 0 && n_positional == 0 && f.role == NULL &&
      f.profiles == NULL && f.name == NULL) {
    return pkictl_print_call(client, "GET", "/v1/tokens");
  }
  if (strcmp(sub, "revoke") == 0 && n_positional == 1 &&
      strspn(positional[0], "0123456789") == strlen(positional[0]) &&
      strlen(positional[0]) <= 19) {
    snprintf(path, sizeof(path), "/v1/tokens/%s", positional[0]);
    return pkictl_print_call(client, "DELETE", path);
  }
  fputs(kTokenUsage, stderr);
  return 2;
}

typedef struct allowlist_flags {
  int force;
} allowlist_flags;

static const pkictl_flag kAllowlistFlags[] = {
    PKICTL_BOOL_FLAG("--force", allowlist_flags, force),
};

static const pkictl_flag_spec kAllowlistSpec = {
    kAllowlistFlags,
    PKICTL_COUNT(kAllowlistFlags),
    sizeof(allowlist_flags),
    1,
    NULL,
};

int pkictl_allowlist(pki_client *client, int argc, char **argv) {
  if (argc < 1 || strcmp(argv[0], "--help") == 0) {
    fputs(kAllowlistUsage, argc < 1 ? stderr : stdout);
    return argc < 1 ? 2 : 0;
  }
  const char *sub = argv[0];
  allowlist_flags f;
  const char *positional[1];
  int n_positional = 0;
  if (!pkictl_parse_flags(&kAllowlistSpec, argc - 1, argv + 1, &f, positional,
                          &n_positional)) {
    fputs(kAllowlistUsage, stderr);
    return 2;
  }
  if (strcmp(sub, "list") == 0 && n_positional == 0 && !f.force) {
    return pkictl_print_call(client, "GET", "/v1/allowlist");
  }
  const int add = strcmp(sub, "add") == 0;
  if ((add || strcmp(sub, "delete") == 0) && n_positional == 1) {
    char path[512];
    snprintf(path, sizeof(path), "/v1/allowlist");
    pkictl_add_query(path, sizeof(path), "network", positional[0]);
    if (f.force) {
      pkictl_add_query(path, sizeof(path), "force", "true");
    }
    return pkictl_print_call(client, add ? "POST" : "DELETE", path);
  }
  fputs(kAllowlistUsage, stderr);
  return 2;
}
