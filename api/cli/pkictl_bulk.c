// pkictl bulk (export, consolidate, import): EMCC-style exchange of the
// clusters' certificates through a shared directory.
#include <dirent.h>
#include <errno.h>
#include <openssl/bytestring.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/cli/pkictl.h"
#include "api/cli/pkictl_json.h"
#include "ca/error.h"
#include "ca/limits.h"
#include "proto/pki.pb-c.h"

extern char **environ;

// The flags of pkictl bulk; each takes a value.
typedef struct bulk_flags {
  const char *dir, *cluster, *type, *format, *password, *purpose, *from_cluster,
      *pkcs12, *page;
  // An sftp:// --dir: how pki-sftp logs in and pins the server's key.
  const char *sftp_key, *sftp_password_file, *known_hosts, *host_key_sha256;
  int issued;  // --issued (no value)
  const char *positional[1];
  int n_positional;
} bulk_flags;

static int parse(int argc, char **argv, bulk_flags *f) {
  static const pkictl_flag kFlags[] = {
      PKICTL_STRING_FLAG("--dir", bulk_flags, dir),
      PKICTL_STRING_FLAG("--cluster", bulk_flags, cluster),
      PKICTL_STRING_FLAG("--type", bulk_flags, type),
      PKICTL_STRING_FLAG("--format", bulk_flags, format),
      PKICTL_STRING_FLAG("--password", bulk_flags, password),
      PKICTL_STRING_FLAG("--purpose", bulk_flags, purpose),
      PKICTL_STRING_FLAG("--from-cluster", bulk_flags, from_cluster),
      PKICTL_STRING_FLAG("--pkcs12", bulk_flags, pkcs12),
      PKICTL_STRING_FLAG("--page", bulk_flags, page),
      PKICTL_STRING_FLAG("--sftp-key", bulk_flags, sftp_key),
      PKICTL_STRING_FLAG("--sftp-password-file", bulk_flags,
                         sftp_password_file),
      PKICTL_STRING_FLAG("--known-hosts", bulk_flags, known_hosts),
      PKICTL_STRING_FLAG("--host-key-sha256", bulk_flags, host_key_sha256),
      PKICTL_BOOL_FLAG("--issued", bulk_flags, issued),
  };
  static const pkictl_flag_spec kSpec = {
      kFlags, PKICTL_COUNT(kFlags), sizeof(bulk_flags), 1, NULL,
  };
  return pkictl_parse_flags(&kSpec, argc, argv, f, f->positional,
                            &f->n_positional);
}

#define BUNDLE_SUFFIX ".bundle"
#define CONSOLIDATED "consolidated.bundle"

// post_protobuf POSTs |body| to |path| and returns 1 with a 200 reply.
static int post_protobuf(pki_client *client, const char *path,
                         const uint8_t *body, size_t len, pki_reply *reply) {
  memset(reply, 0, sizeof(*reply));
  if (!pki_client_call(client, "POST", path, "application/x-protobuf", body,
                       len, reply)) {
    fprintf(stderr, "pkictl: %s\n", ca_err_get()->message);
    return 0;
  }
  if (reply->status != 200) {
    pkictl_report(reply);
    return 0;
  }
  return 1;
}

// ensure_dir makes |dir| unless it exists.
static int ensure_dir(const char *dir) {
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "pkictl: %s: %s\n", dir, strerror(errno));
    return 0;
  }
  return 1;
}

#define ISSUED_PREFIX "issued-"

static int is_issued_file(const char *name) {
  const size_t len = strlen(name), suffix = strlen(BUNDLE_SUFFIX);
  return strncmp(name, ISSUED_PREFIX, strlen(ISSUED_PREFIX)) == 0 &&
         len > suffix && strcmp(name + len - suffix, BUNDLE_SUFFIX) == 0;
}

// holds_issued_files returns 1 (with a message) when |dir| already holds
// pages of an --issued export: pages of two exports mixed in one directory
// would import as one, so pkictl refuses rather than overwrite some.
static int holds_issued_files(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL) {
    fprintf(stderr, "pkictl: %s: %s\n", dir, strerror(errno));
    return 1;
  }
  int found = 0;
  const struct dirent *de;
  while (!found && (de = readdir(d)) != NULL) {
    found = is_issued_file(de->d_name);
  }
  closedir(d);
  if (found) {
    fprintf(stderr,
            "pkictl: %s already holds " ISSUED_PREFIX "*" BUNDLE_SUFFIX
            " files; export into an empty directory\n",
            dir);
  }
  return found;
}

// cmd_bulk_export_issued writes every certificate the server issued, page
// by page, to DIR/issued-0001.bundle, DIR/issued-0002.bundle, ...: one page
// in memory at a time, each file a bundle of its own (with the CA
// certificates) that any pki can decode within its limits.
static int cmd_bulk_export_issued(pki_client *client, const bulk_flags *f) {
  if (f->cluster != NULL || f->type != NULL || f->format != NULL) {
    fprintf(stderr,
            "pkictl bulk export --issued: takes every certificate; "
            "no --cluster, --type or --format\n");
    return 2;
  }
  if (!ensure_dir(f->dir) || holds_issued_files(f->dir)) {
    return 1;
  }
  char after[24] = "0", path[1024], file[4096];
  size_t pages = 0, total = 0, revoked = 0;
  for (;;) {
    snprintf(path, sizeof(path), "/v1/bulk/export?issued=true");
    pkictl_add_query(path, sizeof(path), "after", after);
    pkictl_add_query(path, sizeof(path), "limit", f->page);
    pki_reply reply;
    memset(&reply, 0, sizeof(reply));
    Pki__V1__Bundle *b = NULL;
    int ok = pkictl_get(client, path, &reply);
    if (ok) {
      b = pki__v1__bundle__unpack(NULL, reply.body_len, reply.body);
      ok = b != NULL && b->issued && strlen(b->next_after) < sizeof(after) &&
           strspn(b->next_after, "0123456789") == strlen(b->next_after);
      if (!ok) {
        fprintf(stderr, "pkictl: unreadable reply\n");
      }
    }
    if (ok) {
      pages++;
      snprintf(file, sizeof(file), "%s/" ISSUED_PREFIX "%04zu" BUNDLE_SUFFIX,
               f->dir, pages);
      ok = pkictl_write_file(file, reply.body, reply.body_len);
    }
    int last = 1;
    if (ok) {
      total += b->n_entries;
      for (size_t i = 0; i < b->n_entries; i++) {
        revoked += strcmp(b->entries[i]->status, "revoked") == 0;
      }
      last = b->next_after[0] == '\0';
      snprintf(after, sizeof(after), "%s", b->next_after);
    }
    pki__v1__bundle__free_unpacked(b, NULL);
    pki_reply_cleanup(&reply);
    if (!ok) {
      return 1;
    }
    if (last) {
      break;
    }
  }
  printf("%zu issued certificates (%zu revoked) in %zu files " ISSUED_PREFIX
         "*" BUNDLE_SUFFIX " of %s\n",
         total, revoked, pages, f->dir);
  return 0;
}

static int cmd_bulk_export(pki_client *client, const bulk_flags *f) {
  if (f->issued && f->dir != NULL) {
    return cmd_bulk_export_issued(client, f);
  }
  if (f->dir == NULL) {
    fprintf(stderr, "pkictl bulk export: --dir is required\n");
    return 2;
  }
  if (f->format != NULL && strcmp(f->format, "p7b") != 0) {
    fprintf(stderr, "pkictl bulk export: --format is p7b or absent\n");
    return 2;
  }
  char path[1024] = "/v1/bulk/export", file[4096];
  pkictl_add_query(path, sizeof(path), "cluster", f->cluster);
  pkictl_add_query(path, sizeof(path), "type", f->type);
  pki_reply reply;
  memset(&reply, 0, sizeof(reply));
  Pki__V1__Bundle *bundle = NULL;
  int rc = 1;
  if (!ensure_dir(f->dir) || !pkictl_get(client, path, &reply)) {
    goto done;
  }
  // The server names the cluster (its --cluster when none was asked for);
  // it is a checked name, safe as a file name.
  bundle = pki__v1__bundle__unpack(NULL, reply.body_len, reply.body);
  if (bundle == NULL || bundle->cluster[0] == '\0' ||
      strchr(bundle->cluster, '/') != NULL) {
    fprintf(stderr, "pkictl: unreadable reply\n");
    goto done;
  }
  snprintf(file, sizeof(file), "%s/%s" BUNDLE_SUFFIX, f->dir, bundle->cluster);
  if (!pkictl_write_file(file, reply.body, reply.body_len)) {
    goto done;
  }
  printf("%zu certificates of cluster %s in %s\n", bundle->n_entries,
         bundle->cluster, file);
  if (f->format != NULL) {
    pki_reply_cleanup(&reply);
    memset(&reply, 0, sizeof(reply));
    pkictl_add_query(path, sizeof(path), "format", "p7b");
    snprintf(file, sizeof(file), "%s/%s.p7b", f->dir, bundle->cluster);
    if (!pkictl_get(client, path, &reply) ||
        !pkictl_write_file(file, reply.body, reply.body_len)) {
      goto done;
    }
    printf("PKCS#7 in %s\n", file);
  }
  rc = 0;
done:
  pki__v1__bundle__free_unpacked(bundle, NULL);
  pki_reply_cleanup(&reply);
  return rc;
}

// add_bytes_field appends protobuf field |number| (length-delimited)
// holding |data| to |cbb|.
static int add_bytes_field(CBB *cbb, unsigned number, const uint8_t *data,
                           size_t len) {
  uint8_t key = (uint8_t)(number << 3 | 2);
  if (!CBB_add_u8(cbb, key)) {
    return 0;
  }
  // Base-128 varint length.
  size_t v = len;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (!CBB_add_u8(cbb, v != 0 ? (uint8_t)(b | 0x80) : b)) {
      return 0;
    }
  } while (v != 0);
  return CBB_add_bytes(cbb, data, len);
}

static int is_bundle_file(const char *name) {
  const size_t len = strlen(name), suffix = strlen(BUNDLE_SUFFIX);
  return name[0] != '.' && len > suffix &&
         strcmp(name + len - suffix, BUNDLE_SUFFIX) == 0 &&
         strcmp(name, CONSOLIDATED) != 0 && !is_issued_file(name);
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_conflicts(const Pki__V1__ConsolidateResponse *resp) {
  for (size_t i = 0; i < resp->n_conflicts; i++) {
    const Pki__V1__Conflict *c = resp->conflicts[i];
    fprintf(stderr, "conflict: %s %s:", c->node, c->purpose);
    for (size_t k = 0; k < c->n_clusters && k < c->n_fingerprints; k++) {
      fprintf(stderr, " %s=%.16s...", c->clusters[k], c->fingerprints[k]);
    }
    fprintf(stderr, " (left out)\n");
  }
}

static int cmd_bulk_consolidate(pki_client *client, const bulk_flags *f) {
  if (f->dir == NULL) {
    fprintf(stderr, "pkictl bulk consolidate: --dir is required\n");
    return 2;
  }
  DIR *d = opendir(f->dir);
  if (d == NULL) {
    fprintf(stderr, "pkictl: %s: %s\n", f->dir, strerror(errno));
    return 1;
  }
  char *names[64];
  size_t n = 0;
  int rc = 1;
  CBB body;
  CBB_zero(&body);
  pki_reply reply;
  memset(&reply, 0, sizeof(reply));
  Pki__V1__ConsolidateResponse *resp = NULL;
  uint8_t *packed = NULL;
  struct dirent *ent;
  while ((ent = readdir(d)) != NULL) {
    if (!is_bundle_file(ent->d_name)) {
      continue;
    }
    if (n == sizeof(names) / sizeof(names[0])) {
      fprintf(stderr, "pkictl: more than 64 bundles in %s\n", f->dir);
      goto done;
    }
    names[n] = strdup(ent->d_name);
    if (names[n] == NULL) {
      goto done;
    }
    n++;
  }
  qsort(names, n, sizeof(names[0]), compare_names);
  if (!CBB_init(&body, 64 * 1024)) {
    goto done;
  }
  // ConsolidateRequest.bundles (field 1): each file's bytes as they are.
  for (size_t i = 0; i < n; i++) {
    char path[4096];
    size_t len;
    snprintf(path, sizeof(path), "%s/%s", f->dir, names[i]);
    uint8_t *data = pkictl_read_file(path, CA_LIMIT_BUNDLE_BYTES, &len);
    if (data == NULL) {
      goto done;
    }
    const int ok = add_bytes_field(&body, 1, data, len);
    free(data);
    if (!ok) {
      goto done;
    }
  }
  if (!post_protobuf(client, "/v1/bulk/consolidate", CBB_data(&body),
                     CBB_len(&body), &reply)) {
    goto done;
  }
  resp =
      pki__v1__consolidate_response__unpack(NULL, reply.body_len, reply.body);
  pkictl_json_answer((const ProtobufCMessage *)resp);
  if (resp == NULL || resp->bundle == NULL) {
    fprintf(stderr, "pkictl: unreadable reply\n");
    goto done;
  }
  const size_t len = pki__v1__bundle__get_packed_size(resp->bundle);
  packed = malloc(len + 1);
  char out[4096];
  snprintf(out, sizeof(out), "%s/" CONSOLIDATED, f->dir);
  if (packed == NULL) {
    goto done;
  }
  pki__v1__bundle__pack(resp->bundle, packed);
  if (!pkictl_write_file(out, packed, len)) {
    goto done;
  }
  print_conflicts(resp);
  printf(
      "%zu bundles of %zu clusters: %zu certificates in %s, %u duplicates, "
      "%zu conflicts\n",
      n, resp->bundle->n_clusters, resp->bundle->n_entries, out,
      resp->duplicates, resp->n_conflicts);
  rc = resp->n_conflicts > 0 ? 3 : 0;
done:
  closedir(d);
  for (size_t i = 0; i < n; i++) {
    free(names[i]);
  }
  free(packed);
  CBB_cleanup(&body);
  pki__v1__consolidate_response__free_unpacked(resp, NULL);
  pki_reply_cleanup(&reply);
  return rc;
}

static void print_import(const Pki__V1__ImportResponse *r) {
  for (size_t i = 0; i < r->n_results; i++) {
    const Pki__V1__ImportResult *x = r->results[i];
    printf("%-17s %-15s %-12s %-18s %s\n", x->store[0] != '\0' ? x->store : "-",
           x->outcome, x->cluster, x->purpose, x->node);
  }
  printf(
      "%u added, %u replaced, %u unchanged, %u kept, %u skipped (own "
      "cluster), %u skipped (no store for the purpose)\n",
      r->added, r->replaced, r->unchanged, r->kept, r->skipped_own,
      r->skipped_purpose);
}

// issued_files lists the DIR/issued-*.bundle names of |dir|, sorted (the
// page order). The caller frees each name and the array.
static int issued_files(const char *dir, char ***out, size_t *out_n) {
  DIR *d = opendir(dir);
  if (d == NULL) {
    fprintf(stderr, "pkictl: %s: %s\n", dir, strerror(errno));
    return 0;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int ok = 1;
  const struct dirent *de;
  while (ok && (de = readdir(d)) != NULL) {
    if (!is_issued_file(de->d_name)) {
      continue;
    }
    if (n == cap) {
      cap = cap == 0 ? 16 : cap * 2;
      char **grown = realloc(names, cap * sizeof(*names));
      if (grown == NULL) {
        ok = 0;
        break;
      }
      names = grown;
    }
    names[n] = strdup(de->d_name);
    ok = names[n] != NULL;
    n += (size_t)ok;
  }
  closedir(d);
  if (ok && n == 0) {
    fprintf(stderr, "pkictl: no " ISSUED_PREFIX "*" BUNDLE_SUFFIX " in %s\n",
            dir);
    ok = 0;
  }
  if (!ok) {
    for (size_t i = 0; i < n; i++) {
      free(names[i]);
    }
    free(names);
    return 0;
  }
  qsort(names, n, sizeof(*names), compare_names);
  *out = names;
  *out_n = n;
  return 1;
}

// cmd_bulk_import_issued sends every DIR/issued-*.bundle, in order, each
// file one import (one transaction on the server). Importing is
// idempotent, so after a failure the same command can run again.
static int cmd_bulk_import_issued(pki_client *client, const bulk_flags *f) {
  if (f->cluster != NULL || f->pkcs12 != NULL) {
    fprintf(stderr, "pkictl bulk import --issued: --dir only\n");
    return 2;
  }
  char **names = NULL;
  size_t n = 0;
  if (!issued_files(f->dir, &names, &n)) {
    return 1;
  }
  int rc = 0;
  size_t added = 0, updated = 0, unchanged = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", f->dir, names[i]);
    size_t data_len;
    uint8_t *data = pkictl_read_file(path, CA_LIMIT_BUNDLE_BYTES, &data_len);
    CBB body;
    CBB_zero(&body);
    pki_reply reply;
    memset(&reply, 0, sizeof(reply));
    Pki__V1__ImportResponse *resp = NULL;
    rc = 1;
    // ImportRequest.bundle (field 1): the file's bytes as they are.
    if (data != NULL && CBB_init(&body, data_len + 16) &&
        add_bytes_field(&body, 1, data, data_len) &&
        post_protobuf(client, "/v1/bulk/import", CBB_data(&body),
                      CBB_len(&body), &reply)) {
      resp = pki__v1__import_response__unpack(NULL, reply.body_len, reply.body);
      pkictl_json_answer((const ProtobufCMessage *)resp);
      if (resp != NULL) {
        added += resp->added;
        updated += resp->replaced;
        unchanged += resp->unchanged;
        rc = 0;
      }
    }
    if (rc != 0) {
      fprintf(stderr, "pkictl: %s not imported\n", path);
    }
    free(data);
    CBB_cleanup(&body);
    pki__v1__import_response__free_unpacked(resp, NULL);
    pki_reply_cleanup(&reply);
  }
  for (size_t i = 0; i < n; i++) {
    free(names[i]);
  }
  free(names);
  printf("added %zu, state updated %zu, unchanged %zu\n", added, updated,
         unchanged);
  return rc;
}

static int cmd_bulk_import(pki_client *client, const bulk_flags *f) {
  if (f->issued && f->dir != NULL) {
    return cmd_bulk_import_issued(client, f);
  }
  if ((f->dir == NULL) == (f->pkcs12 == NULL)) {
    fprintf(stderr, "pkictl bulk import: --dir or --pkcs12\n");
    return 2;
  }
  if (f->pkcs12 != NULL && (f->purpose == NULL || f->from_cluster == NULL)) {
    fprintf(stderr,
            "pkictl bulk import: --pkcs12 needs --purpose and --from-cluster "
            "(and --password)\n");
    return 2;
  }
  char path[4096];
  if (f->dir != NULL) {
    snprintf(path, sizeof(path), "%s/" CONSOLIDATED, f->dir);
  } else {
    snprintf(path, sizeof(path), "%s", f->pkcs12);
  }
  size_t data_len;
  uint8_t *data = pkictl_read_file(
      path, f->dir != NULL ? CA_LIMIT_BUNDLE_BYTES : CA_LIMIT_PKCS12_BYTES,
      &data_len);
  if (data == NULL) {
    return 1;
  }
  Pki__V1__ImportRequest req = PKI__V1__IMPORT_REQUEST__INIT;
  req.cluster = (char *)(f->cluster != NULL ? f->cluster : "");
  if (f->pkcs12 != NULL) {
    req.pkcs12.data = data;
    req.pkcs12.len = data_len;
    req.password = (char *)(f->password != NULL ? f->password : "");
    req.purpose = (char *)f->purpose;
    req.source_cluster = (char *)f->from_cluster;
  }
  int rc = 1;
  CBB body;
  CBB_zero(&body);
  pki_reply reply;
  memset(&reply, 0, sizeof(reply));
  Pki__V1__ImportResponse *resp = NULL;
  const size_t len = pki__v1__import_request__get_packed_size(&req);
  uint8_t *packed = malloc(len + 1);
  if (packed == NULL || !CBB_init(&body, len + data_len + 16)) {
    goto done;
  }
  pki__v1__import_request__pack(&req, packed);
  // ImportRequest.bundle (field 1): the file's bytes as they are.
  if (!CBB_add_bytes(&body, packed, len) ||
      (f->dir != NULL && !add_bytes_field(&body, 1, data, data_len))) {
    goto done;
  }
  if (!post_protobuf(client, "/v1/bulk/import", CBB_data(&body), CBB_len(&body),
                     &reply)) {
    goto done;
  }
  resp = pki__v1__import_response__unpack(NULL, reply.body_len, reply.body);
  pkictl_json_answer((const ProtobufCMessage *)resp);
  if (resp == NULL) {
    fprintf(stderr, "pkictl: unreadable reply\n");
    goto done;
  }
  print_import(resp);
  rc = 0;
done:
  free(packed);
  free(data);
  CBB_cleanup(&body);
  pki__v1__import_response__free_unpacked(resp, NULL);
  pki_reply_cleanup(&reply);
  return rc;
}

// --- SFTP locations ---
//
// An sftp:// --dir is staged through a private local directory: what a
// command reads is downloaded into it first, what it writes is uploaded
// from it afterwards, each file by one run of pki-sftp (api/sftp), which
// sits beside pkictl.

static int is_sftp(const char *dir) {
  return dir != NULL && strncmp(dir, "sftp://", 7) == 0;
}

// sftp_helper writes the path of pki-sftp, beside this pkictl, into |out|.
static int sftp_helper(char *out, size_t cap) {
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) {
    fprintf(stderr, "pkictl: cannot find pki-sftp beside pkictl\n");
    return 0;
  }
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  *slash = '\0';
  snprintf(out, cap, "%s/pki-sftp", self);
  return 1;
}

// sftp_env passes the flags to pki-sftp through its environment (never its
// argv, which other users can read); flags left out keep what the
// environment already says.
static void sftp_env(const bulk_flags *f) {
  if (f->sftp_key != NULL) {
    setenv("PKI_SFTP_KEY", f->sftp_key, 1);
  }
  if (f->sftp_password_file != NULL) {
    setenv("PKI_SFTP_PASSWORD_FILE", f->sftp_password_file, 1);
  }
  if (f->known_hosts != NULL) {
    setenv("PKI_SFTP_KNOWN_HOSTS", f->known_hosts, 1);
  }
  if (f->host_key_sha256 != NULL) {
    setenv("PKI_SFTP_HOST_SHA256", f->host_key_sha256, 1);
  }
}

// sftp_run runs "pki-sftp OP URL FILE [MAX]" and returns 1 when it
// succeeded (it prints why not).
static int sftp_run(const char *op, const char *url, const char *file,
                    size_t max) {
  char helper[4096], max_text[24];
  if (!sftp_helper(helper, sizeof(helper))) {
    return 0;
  }
  snprintf(max_text, sizeof(max_text), "%zu", max);
  char *args[] = {helper,       (char *)op, (char *)url,
                  (char *)file, max_text,   NULL};
  if (max == 0) {
    args[4] = NULL;
  }
  pid_t pid;
  const int err = posix_spawn(&pid, helper, NULL, NULL, args, environ);
  if (err != 0) {
    fprintf(stderr, "pkictl: cannot run %s: %s\n", helper, strerror(err));
    return 0;
  }
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "pkictl: waitpid: %s\n", strerror(errno));
      return 0;
    }
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// The staging directory of one sftp:// command and its remote twin.
typedef struct sftp_stage {
  char local[4096];
  char remote[2048];  // the URL without a trailing '/'
} sftp_stage;

static int stage_open(sftp_stage *st, const char *url) {
  const char *tmp = getenv("TMPDIR");
  snprintf(st->local, sizeof(st->local), "%s/pkictl-sftp.XXXXXX",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  size_t len = strlen(url);
  if (len >= sizeof(st->remote)) {
    fprintf(stderr, "pkictl: the sftp:// URL is too long\n");
    return 0;
  }
  while (len > strlen("sftp://") && url[len - 1] == '/') {
    len--;
  }
  memcpy(st->remote, url, len);
  st->remote[len] = '\0';
  if (mkdtemp(st->local) == NULL) {
    fprintf(stderr, "pkictl: cannot make a staging directory: %s\n",
            strerror(errno));
    return 0;
  }
  return 1;
}

// stage_close removes the staging directory and what it holds (files only).
static void stage_close(const sftp_stage *st) {
  DIR *d = opendir(st->local);
  const struct dirent *de;
  while (d != NULL && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.') {
      continue;
    }
    char path[4096 + 300];
    snprintf(path, sizeof(path), "%s/%s", st->local, de->d_name);
    unlink(path);
  }
  if (d != NULL) {
    closedir(d);
  }
  rmdir(st->local);
}

static int stage_get(const sftp_stage *st, const char *name, size_t max) {
  char url[2048 + 300], path[4096 + 300];
  snprintf(url, sizeof(url), "%s/%s", st->remote, name);
  snprintf(path, sizeof(path), "%s/%s", st->local, name);
  return sftp_run("get", url, path, max);
}

static int stage_put(const sftp_stage *st, const char *name) {
  char url[2048 + 300], path[4096 + 300];
  snprintf(url, sizeof(url), "%s/%s", st->remote, name);
  snprintf(path, sizeof(path), "%s/%s", st->local, name);
  if (!sftp_run("put", url, path, 0)) {
    return 0;
  }
  printf("uploaded %s\n", url);
  return 1;
}

// stage_put_all uploads every file of the staging directory.
static int stage_put_all(const sftp_stage *st) {
  DIR *d = opendir(st->local);
  const struct dirent *de;
  int ok = d != NULL;
  while (ok && (de = readdir(d)) != NULL) {
    if (de->d_name[0] != '.') {
      ok = stage_put(st, de->d_name);
    }
  }
  if (d != NULL) {
    closedir(d);
  }
  return ok;
}

// stage_get_bundles downloads the *.bundle files of the remote directory
// (as consolidate reads them from a local one).
static int stage_get_bundles(const sftp_stage *st) {
  char listing[4096 + 32], url[2048 + 8];
  snprintf(listing, sizeof(listing), "%s/.listing", st->local);
  snprintf(url, sizeof(url), "%s/", st->remote);
  if (!sftp_run("list", url, listing, 0)) {
    return 0;
  }
  FILE *in = fopen(listing, "r");
  char name[512];
  int ok = in != NULL;
  size_t n = 0;
  while (ok && fgets(name, sizeof(name), in) != NULL) {
    name[strcspn(name, "\r\n")] = '\0';
    // Names as a directory of this machine would hold them: no path.
    if (!is_bundle_file(name) || strchr(name, '/') != NULL) {
      continue;
    }
    ok = ++n <= 64 && stage_get(st, name, CA_LIMIT_BUNDLE_BYTES);
  }
  if (in != NULL) {
    fclose(in);
  }
  unlink(listing);
  return ok;
}

static int cmd_bulk_sftp(pki_client *client, const bulk_flags *f,
                         const char *sub) {
  if (f->issued) {
    fprintf(stderr, "pkictl bulk: --issued takes a local --dir, not sftp://\n");
    return 2;
  }
  sftp_stage st;
  if (!stage_open(&st, f->dir)) {
    return 1;
  }
  sftp_env(f);
  bulk_flags local = *f;
  local.dir = st.local;
  int rc = 1;
  if (strcmp(sub, "export") == 0) {
    rc = cmd_bulk_export(client, &local);
    if (rc == 0 && !stage_put_all(&st)) {
      rc = 1;
    }
  } else if (strcmp(sub, "consolidate") == 0) {
    if (stage_get_bundles(&st)) {
      rc = cmd_bulk_consolidate(client, &local);
      if ((rc == 0 || rc == 3) && !stage_put(&st, CONSOLIDATED)) {
        rc = 1;
      }
    }
  } else if (strcmp(sub, "import") == 0) {
    if (stage_get(&st, CONSOLIDATED, CA_LIMIT_BUNDLE_BYTES)) {
      rc = cmd_bulk_import(client, &local);
    }
  } else {
    fprintf(stderr,
            "pkictl: usage: pkictl bulk export|consolidate|import ...\n");
    rc = 2;
  }
  stage_close(&st);
  return rc;
}

int pkictl_bulk(pki_client *client, int argc, char **argv) {
  bulk_flags parsed;
  if (!parse(argc, argv, &parsed)) {
    return 2;
  }
  const bulk_flags *f = &parsed;
  const char *sub = f->n_positional > 0 ? f->positional[0] : "";
  if (is_sftp(f->dir)) {
    return cmd_bulk_sftp(client, f, sub);
  }
  if (f->sftp_key != NULL || f->sftp_password_file != NULL ||
      f->known_hosts != NULL || f->host_key_sha256 != NULL) {
    fprintf(stderr,
            "pkictl bulk: --sftp-key, --sftp-password-file, --known-hosts "
            "and --host-key-sha256 go with an sftp:// --dir\n");
    return 2;
  }
  if (strcmp(sub, "export") == 0) {
    return cmd_bulk_export(client, f);
  }
  if (strcmp(sub, "consolidate") == 0) {
    return cmd_bulk_consolidate(client, f);
  }
  if (strcmp(sub, "import") == 0) {
    return cmd_bulk_import(client, f);
  }
  fprintf(stderr, "pkictl: usage: pkictl bulk export|consolidate|import ...\n");
  return 2;
}
