// Tokens and the admin allowlist (ca/store/store_access.h).
#include "ca/store/store_access.h"

#include <inttypes.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca/store/store_internal.h"

// hash_param formats a SHA-256 as a bytea literal in text form.
static void hash_param(const uint8_t hash[32], char out[67]) {
  static const char kHex[] = "0123456789abcdef";
  out[0] = '\\';
  out[1] = 'x';
  for (size_t i = 0; i < 32; i++) {
    out[2 + 2 * i] = kHex[hash[i] >> 4];
    out[3 + 2 * i] = kHex[hash[i] & 15];
  }
  out[66] = '\0';
}

// profiles_param formats an issuer's profiles as a text[] literal. Profile
// names are letters, digits and '-' (checked by the caller against the
// authority), so no element needs quoting.
static int profiles_param(const ca_principal *scope, char *out, size_t len) {
  size_t used = 0;
  out[used++] = '{';
  for (size_t i = 0; scope != NULL && i < scope->profile_count; i++) {
    const int n = snprintf(out + used, len - used, "%s%s", i > 0 ? "," : "",
                           scope->profiles[i]);
    CA_ENSURE(n > 0 && (size_t)n < len - used - 1, CA_ERR_PARAMETER_INVALID,
              "profile list too long");
    used += (size_t)n;
  }
  out[used++] = '}';
  out[used] = '\0';
  return 1;
err:
  return 0;
}

static int insert_token(ca_store_tx *tx, const char *name, ca_role role,
                        const ca_principal *scope, const char *actor,
                        const char *source, char token_out[CA_TOKEN_LEN + 1],
                        int64_t *id_out) {
  uint8_t hash[32];
  char hash_text[67], profiles[sizeof(((ca_token_row *)0)->profiles) + 2];
  CA_GUARD(ca_token_generate(token_out));
  CA_GUARD(ca_token_hash(token_out, CA_TOKEN_LEN, hash));
  hash_param(hash, hash_text);
  CA_GUARD(profiles_param(role == CA_ROLE_ISSUER ? scope : NULL, profiles,
                          sizeof(profiles)));
  const char *values[5] = {name, hash_text, ca_role_name(role), profiles,
                           actor};
  PGresult *res = ca_store_tx_query(
      tx,
      "INSERT INTO api_tokens (name, token_hash, role, profiles, created_by)"
      " VALUES ($1, $2::bytea, $3, $4::text[], $5) RETURNING id",
      5, values, NULL, NULL, PGRES_TUPLES_OK, "making a token");
  CA_GUARD(res != NULL);
  *id_out = ca_store_get_int(res, 0, 0);
  PQclear(res);
  char object[32], detail[sizeof(profiles) + 96];
  snprintf(object, sizeof(object), "token:%" PRId64, *id_out);
  snprintf(detail, sizeof(detail), "name=%s role=%s profiles=%s", name,
           ca_role_name(role), profiles);
  CA_GUARD(ca_store_tx_audit(tx, actor, "token.create", object, source, "ok",
                             detail));
  return 1;
err:
  OPENSSL_cleanse(token_out, CA_TOKEN_LEN + 1);
  return 0;
}

int ca_store_token_create(ca_store *store, const char *name, ca_role role,
                          const ca_principal *scope, const char *actor,
                          const char *source, char token_out[CA_TOKEN_LEN + 1],
                          int64_t *id_out) {
  ca_store_tx *tx = NULL;
  CA_ENSURE(name != NULL && name[0] != '\0' &&
                strlen(name) <= CA_LIMIT_TOKEN_NAME_LEN,
            CA_ERR_PARAMETER_INVALID, "a token name is 1 to %d bytes",
            CA_LIMIT_TOKEN_NAME_LEN);
  CA_ENSURE(role != CA_ROLE_NONE, CA_ERR_PARAMETER_INVALID, "no role");
  CA_GUARD(ca_store_begin(store, &tx));
  CA_GUARD(
      insert_token(tx, name, role, scope, actor, source, token_out, id_out));
  if (!ca_store_commit(&tx)) {
    OPENSSL_cleanse(token_out, CA_TOKEN_LEN + 1);
    goto err;
  }
  return 1;
err:
  ca_store_rollback(tx);
  return 0;
}

int ca_store_token_first_admin(ca_store *store, const char *name,
                               const char *actor,
                               char token_out[CA_TOKEN_LEN + 1], int *created) {
  ca_store_tx *tx = NULL;
  *created = 0;
  CA_GUARD(ca_store_begin(store, &tx));
  // Nodes starting together on a new database take turns here; the first
  // makes the token, the others find it made.
  PGresult *res = ca_store_tx_query(
      tx, "SELECT pg_advisory_xact_lock(hashtext('pki_first_admin_token'))", 0,
      NULL, NULL, NULL, PGRES_TUPLES_OK, "locking the token table");
  CA_GUARD(res != NULL);
  PQclear(res);
  res =
      ca_store_tx_query(tx, "SELECT EXISTS (SELECT 1 FROM api_tokens)", 0, NULL,
                        NULL, NULL, PGRES_TUPLES_OK, "reading the tokens");
  CA_GUARD(res != NULL);
  const int any = PQgetvalue(res, 0, 0)[0] == 't';
  PQclear(res);
  if (!any) {
    int64_t id;
    CA_GUARD(insert_token(tx, name, CA_ROLE_ADMIN, NULL, actor, "local",
                          token_out, &id));
  }
  if (!ca_store_commit(&tx)) {
    OPENSSL_cleanse(token_out, CA_TOKEN_LEN + 1);
    goto err;
  }
  *created = !any;
  return 1;
err:
  ca_store_rollback(tx);
  return 0;
}

static int decode_principal(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_principal *out = elem;
  CA_GUARD_RETURN(ca_role_parse(&out->role, PQgetvalue(res, i, 2)));
  CA_GUARD_RETURN(ca_profiles_parse(out, PQgetvalue(res, i, 3)));
  snprintf(out->name, sizeof(out->name), "token:%s:%s", PQgetvalue(res, i, 0),
           PQgetvalue(res, i, 1));
  return 1;
}

int ca_store_token_find(ca_store *store, const uint8_t hash[32],
                        ca_principal *out, int *found) {
  char hash_text[67];
  memset(out, 0, sizeof(*out));
  hash_param(hash, hash_text);
  const char *values[1] = {hash_text};
  const ca_store_stmt stmt = {
      .sql =
          "SELECT id, name, role, array_to_string(profiles, ',')"
          " FROM api_tokens"
          " WHERE token_hash = $1::bytea AND revoked_at IS NULL",
      .n_params = 1,
      .values = values,
      .what = "looking up a token"};
  return ca_store_read_one(store, &stmt, decode_principal, out, NULL, found);
}

static int decode_token(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_token_row *r = elem;
  r->id = ca_store_get_int(res, i, 0);
  snprintf(r->name, sizeof(r->name), "%s", PQgetvalue(res, i, 1));
  CA_GUARD_RETURN(ca_role_parse(&r->role, PQgetvalue(res, i, 2)));
  snprintf(r->profiles, sizeof(r->profiles), "%s", PQgetvalue(res, i, 3));
  r->created_at = ca_store_get_int(res, i, 4);
  snprintf(r->created_by, sizeof(r->created_by), "%s", PQgetvalue(res, i, 5));
  r->revoked_at = ca_store_get_int(res, i, 6);
  return 1;
}

static const ca_store_row_type kTokenRows = {sizeof(ca_token_row), decode_token,
                                             NULL};

int ca_store_token_list(ca_store *store, ca_token_row **out, size_t *n) {
  *out = NULL;
  *n = 0;
  char limit[16];
  snprintf(limit, sizeof(limit), "%d", CA_LIMIT_TOKEN_LIST);
  const char *values[1] = {limit};
  const ca_store_stmt stmt = {
      .sql =
          "SELECT id, name, role, array_to_string(profiles, ','),"
          " extract(epoch FROM created_at)::bigint, created_by,"
          " coalesce(extract(epoch FROM revoked_at)::bigint, 0)"
          " FROM api_tokens ORDER BY id LIMIT $1::int",
      .n_params = 1,
      .values = values,
      .what = "listing tokens"};
  ca_store_rows rows;
  CA_GUARD_RETURN(
      ca_store_read_rows(store, &stmt, &kTokenRows, NULL, 0, &rows));
  *out = rows.rows;
  *n = rows.n;
  return 1;
}

int ca_store_token_revoke(ca_store *store, int64_t id, const char *actor,
                          const char *source) {
  ca_store_tx *tx = NULL;
  char id_text[24], object[32];
  snprintf(id_text, sizeof(id_text), "%" PRId64, id);
  snprintf(object, sizeof(object), "token:%" PRId64, id);
  const char *values[1] = {id_text};
  CA_GUARD(ca_store_begin(store, &tx));
  PGresult *res = ca_store_tx_query(
      tx,
      "UPDATE api_tokens SET revoked_at = now()"
      " WHERE id = $1::bigint AND revoked_at IS NULL RETURNING name",
      1, values, NULL, NULL, PGRES_TUPLES_OK, "revoking a token");
  CA_GUARD(res != NULL);
  const int hit = PQntuples(res) == 1;
  char detail[CA_LIMIT_TOKEN_NAME_LEN + 8];
  snprintf(detail, sizeof(detail), "name=%s", hit ? PQgetvalue(res, 0, 0) : "");
  PQclear(res);
  CA_ENSURE(hit, CA_ERR_NOT_FOUND, "no live token %" PRId64, id);
  CA_GUARD(ca_store_tx_audit(tx, actor, "token.revoke", object, source, "ok",
                             detail));
  CA_GUARD(ca_store_tx_notify(tx, CA_ACCESS_CHANNEL, object));
  CA_GUARD(ca_store_commit(&tx));
  return 1;
err:
  ca_store_rollback(tx);
  return 0;
}

static int decode_allowed(PGresult *res, int i, void *elem, const void *arg) {
  (void)arg;
  ca_allow_entry *r = elem;
  snprintf(r->network, sizeof(r->network), "%s", PQgetvalue(res, i, 0));
  snprintf(r->added_by, sizeof(r->added_by), "%s", PQgetvalue(res, i, 1));
  r->added_at = ca_store_get_int(res, i, 2);
  return 1;
}

static const ca_store_row_type kAllowRows = {sizeof(ca_allow_entry),
                                             decode_allowed, NULL};

int ca_store_allowlist_list(ca_store *store, ca_allow_entry **out, size_t *n) {
  *out = NULL;
  *n = 0;
  const ca_store_stmt stmt = {
      .sql =
          "SELECT network::text, added_by, extract(epoch FROM added_at)::bigint"
          " FROM admin_allowlist ORDER BY network",
      .what = "reading the allowlist"};
  ca_store_rows rows;
  CA_GUARD_RETURN(ca_store_read_rows(store, &stmt, &kAllowRows, NULL,
                                     CA_LIMIT_ALLOWLIST, &rows));
  if (rows.more) {
    free(rows.rows);
    CA_SET_ERROR(CA_ERR_INTERNAL, "the allowlist holds more than %d networks",
                 CA_LIMIT_ALLOWLIST);
    return 0;
  }
  *out = rows.rows;
  *n = rows.n;
  return 1;
}

int ca_store_allowlist_change(ca_store *store, int add, const char *network,
                              const char *actor, const char *source) {
  ca_store_tx *tx = NULL;
  ca_network parsed;
  char canonical[CA_NETWORK_TEXT_LEN];
  CA_GUARD(ca_network_parse(&parsed, network));
  // Stored, compared and audited in one spelling: ::ffff:10.0.0.0/104 is
  // 10.0.0.0/8, which PostgreSQL's cidr would otherwise keep as IPv6.
  CA_GUARD(ca_network_format(&parsed, canonical));
  network = canonical;
  const char *values[2] = {network, actor};
  CA_GUARD(ca_store_begin(store, &tx));
  PGresult *res;
  if (add) {
    res = ca_store_tx_query(
        tx, "LOCK TABLE admin_allowlist IN SHARE ROW EXCLUSIVE MODE", 0, NULL,
        NULL, NULL, PGRES_COMMAND_OK, "locking the allowlist");
    CA_GUARD(res != NULL);
    PQclear(res);
    res =
        ca_store_tx_query(tx, "SELECT count(*) FROM admin_allowlist", 0, NULL,
                          NULL, NULL, PGRES_TUPLES_OK, "reading the allowlist");
    CA_GUARD(res != NULL);
    const int64_t count = ca_store_get_int(res, 0, 0);
    PQclear(res);
    CA_ENSURE(count < CA_LIMIT_ALLOWLIST, CA_ERR_PARAMETER_INVALID,
              "the allowlist holds %d networks at most", CA_LIMIT_ALLOWLIST);
    res = ca_store_tx_query(
        tx,
        "INSERT INTO admin_allowlist (network, added_by) VALUES ($1::cidr, $2)"
        " ON CONFLICT DO NOTHING RETURNING 1",
        2, values, NULL, NULL, PGRES_TUPLES_OK, "adding to the allowlist");
  } else {
    res = ca_store_tx_query(
        tx, "DELETE FROM admin_allowlist WHERE network = $1::cidr RETURNING 1",
        1, values, NULL, NULL, PGRES_TUPLES_OK, "removing from the allowlist");
  }
  CA_GUARD(res != NULL);
  const int hit = PQntuples(res) == 1;
  PQclear(res);
  if (add) {
    CA_ENSURE(hit, CA_ERR_CONFLICT, "%.64s is on the allowlist already",
              network);
  } else {
    CA_ENSURE(hit, CA_ERR_NOT_FOUND, "%.64s is not on the allowlist", network);
  }
  CA_GUARD(ca_store_tx_audit(tx, actor,
                             add ? "allowlist.add" : "allowlist.delete",
                             network, source, "ok", ""));
  CA_GUARD(ca_store_tx_notify(tx, CA_ACCESS_CHANNEL, "allowlist"));
  CA_GUARD(ca_store_commit(&tx));
  return 1;
err:
  ca_store_rollback(tx);
  return 0;
}
