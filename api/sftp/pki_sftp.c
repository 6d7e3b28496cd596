// pki-sftp: one SFTP transfer through libcurl (libssh2 underneath), for
// pkictl bulk's sftp:// locations (README.md, "Bulk export, consolidate,
// import"). It is a program of its own because libssh2 is built against
// OpenSSL 3's libcrypto, whose symbols must not meet BoringSSL's in one
// process (api/server/curl_lib.h says the same of pkid): pkictl links
// BoringSSL, so it runs this instead, and this links no BoringSSL.
//
//   pki-sftp put URL FILE        upload FILE to URL (missing directories
//                                are made)
//   pki-sftp get URL FILE MAX    download URL into FILE (at most MAX bytes)
//   pki-sftp list URL FILE       write the names in the directory URL (one
//                                a line) into FILE
//
// URL is sftp://user@host[:port]/absolute/path; a password in it is
// refused (argv is public). The environment carries the rest:
//   PKI_SFTP_KEY             private key file (public-key authentication)
//   PKI_SFTP_PASSWORD_FILE   file whose first line is the password
//   PKI_SFTP_KNOWN_HOSTS     OpenSSH known_hosts file pinning the server
//   PKI_SFTP_HOST_SHA256     the server's host key SHA-256, base64 as
//                            ssh-keygen -l prints it (with or without the
//                            "SHA256:" prefix)
// One of the two pins is required: an unknown or different host key is
// refused, never learned. Exit status: 0 done, 1 failed (the reason on
// stderr), 2 usage.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONNECT_TIMEOUT_SECONDS 30L
#define TRANSFER_TIMEOUT_SECONDS 600L
#define PASSWORD_MAX 1024

static const char *kUsage =
    "usage: pki-sftp put URL FILE | get URL FILE MAX | list URL FILE\n";

// Why the host key callback refused, for the message.
static const char *host_key_refusal;

static int on_host_key(CURL *curl, const struct curl_khkey *known,
                       const struct curl_khkey *found, enum curl_khmatch match,
                       void *arg) {
  (void)curl;
  (void)known;
  (void)found;
  (void)arg;
  if (match == CURLKHMATCH_OK) {
    return CURLKHSTAT_FINE;
  }
  host_key_refusal = match == CURLKHMATCH_MISMATCH
                         ? "the server's host key differs from known_hosts"
                         : "the server's host key is not in known_hosts";
  return CURLKHSTAT_REJECT;
}

// A download into a file, bounded.
typedef struct sink {
  FILE *out;
  size_t written, max;
} sink;

static size_t on_data(char *data, size_t size, size_t n, void *arg) {
  sink *s = arg;
  const size_t len = size * n;
  if (len > s->max - s->written) {
    return 0;  // over the limit: libcurl fails the transfer
  }
  s->written += len;
  return fwrite(data, 1, len, s->out);
}

// read_password reads the first line of |path| into |out|.
static int read_password(const char *path, char *out, size_t cap) {
  FILE *f = fopen(path, "r");
  if (f == NULL || fgets(out, (int)cap, f) == NULL) {
    fprintf(stderr, "pki-sftp: cannot read the password file %s\n", path);
    if (f != NULL) {
      fclose(f);
    }
    return 0;
  }
  fclose(f);
  out[strcspn(out, "\r\n")] = '\0';
  return 1;
}

// check_url refuses what is not sftp://user@host/path without a password.
static int check_url(const char *url) {
  CURLU *u = curl_url();
  char *scheme = NULL, *user = NULL, *password = NULL, *host = NULL,
       *path = NULL;
  int ok = u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
           curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
           strcmp(scheme, "sftp") == 0 &&
           curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK &&
           user[0] != '\0' &&
           curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
           curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK &&
           path[0] == '/' && path[1] != '\0';
  const int has_password = u != NULL && curl_url_get(u, CURLUPART_PASSWORD,
                                                     &password, 0) == CURLUE_OK;
  if (!ok) {
    fprintf(stderr, "pki-sftp: %s is not sftp://user@host[:port]/path\n", url);
  } else if (has_password) {
    fprintf(stderr, "pki-sftp: no password in the URL; give a password file\n");
    ok = 0;
  }
  curl_free(scheme);
  curl_free(user);
  curl_free(password);
  curl_free(host);
  curl_free(path);
  curl_url_cleanup(u);
  return ok;
}

// set_auth sets the pin and the credentials from the environment.
static int set_auth(CURL *curl, char *password, size_t cap) {
  const char *key = getenv("PKI_SFTP_KEY");
  const char *password_file = getenv("PKI_SFTP_PASSWORD_FILE");
  const char *known_hosts = getenv("PKI_SFTP_KNOWN_HOSTS");
  const char *sha256 = getenv("PKI_SFTP_HOST_SHA256");
  if ((known_hosts == NULL || known_hosts[0] == '\0') &&
      (sha256 == NULL || sha256[0] == '\0')) {
    fprintf(stderr,
            "pki-sftp: pin the server's host key: a known_hosts file or its "
            "SHA-256 fingerprint\n");
    return 0;
  }
  long auth = 0;
  if (key != NULL && key[0] != '\0') {
    auth |= CURLSSH_AUTH_PUBLICKEY;
    curl_easy_setopt(curl, CURLOPT_SSH_PRIVATE_KEYFILE, key);
  }
  if (password_file != NULL && password_file[0] != '\0') {
    if (!read_password(password_file, password, cap)) {
      return 0;
    }
    auth |= CURLSSH_AUTH_PASSWORD;
    curl_easy_setopt(curl, CURLOPT_PASSWORD, password);
  }
  if (auth == 0) {
    fprintf(stderr, "pki-sftp: give a private key or a password file\n");
    return 0;
  }
  curl_easy_setopt(curl, CURLOPT_SSH_AUTH_TYPES, auth);
  if (sha256 != NULL && sha256[0] != '\0') {
    if (strncmp(sha256, "SHA256:", 7) == 0) {
      sha256 += 7;
    }
    curl_easy_setopt(curl, CURLOPT_SSH_HOST_PUBLIC_KEY_SHA256, sha256);
  }
  if (known_hosts != NULL && known_hosts[0] != '\0') {
    curl_easy_setopt(curl, CURLOPT_SSH_KNOWNHOSTS, known_hosts);
    curl_easy_setopt(curl, CURLOPT_SSH_KEYFUNCTION, on_host_key);
  }
  return 1;
}

static int run(const char *op, const char *url, const char *file, size_t max) {
  char password[PASSWORD_MAX];
  password[0] = '\0';
  const int put = strcmp(op, "put") == 0, list = strcmp(op, "list") == 0;
  FILE *local = fopen(file, put ? "rb" : "wb");
  if (local == NULL) {
    fprintf(stderr, "pki-sftp: cannot open %s\n", file);
    return 1;
  }
  CURL *curl = curl_easy_init();
  int rc = 1;
  sink s = {local, 0, list ? 1024 * 1024 : max};
  if (curl == NULL || !set_auth(curl, password, sizeof(password))) {
    goto done;
  }
  char error[CURL_ERROR_SIZE];
  error[0] = '\0';
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "sftp");
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_SECONDS);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, TRANSFER_TIMEOUT_SECONDS);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (put) {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READDATA, local);
    curl_easy_setopt(curl, CURLOPT_FTP_CREATE_MISSING_DIRS,
                     (long)CURLFTP_CREATE_DIR);
  } else {
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    if (list) {
      curl_easy_setopt(curl, CURLOPT_DIRLISTONLY, 1L);
    }
  }
  const CURLcode res = curl_easy_perform(curl);
  if (res != CURLE_OK) {
    fprintf(stderr, "pki-sftp: %s: %s%s%s\n", url,
            host_key_refusal != NULL ? host_key_refusal
            : error[0] != '\0'       ? error
                                     : curl_easy_strerror(res),
            res == CURLE_WRITE_ERROR && !put ? " (larger than allowed)" : "",
            res == CURLE_LOGIN_DENIED ? " (authentication refused)" : "");
    goto done;
  }
  rc = 0;
done:
  // explicit_bzero: a memset of a buffer read no more may be left out by the
  // compiler. libcurl's own copy lives until curl_easy_cleanup.
  explicit_bzero(password, sizeof(password));
  curl_easy_cleanup(curl);
  if (fclose(local) != 0 && rc == 0 && !put) {
    fprintf(stderr, "pki-sftp: cannot write %s\n", file);
    rc = 1;
  }
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 4 || !((strcmp(argv[1], "put") == 0 && argc == 4) ||
                    (strcmp(argv[1], "get") == 0 && argc == 5) ||
                    (strcmp(argv[1], "list") == 0 && argc == 4))) {
    fputs(kUsage, stderr);
    return 2;
  }
  size_t max = 0;
  if (argc == 5) {
    char *end;
    max = (size_t)strtoull(argv[4], &end, 10);
    if (*end != '\0' || max == 0) {
      fputs(kUsage, stderr);
      return 2;
    }
  }
  if (!check_url(argv[2])) {
    return 2;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "pki-sftp: curl_global_init failed\n");
    return 1;
  }
  const int rc = run(argv[1], argv[2], argv[3], max);
  curl_global_cleanup();
  return rc;
}
