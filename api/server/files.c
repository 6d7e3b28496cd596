#include "api/server/files.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/mem.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int api_write_file_atomic(const char *path, const void *data, size_t len,
                          mode_t mode) {
  char tmp[4200];
  int fd = -1;
  const int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  CA_ENSURE(n > 0 && (size_t)n < sizeof(tmp), CA_ERR_KEY_FILE, "path too long");
  unlink(tmp);
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  CA_ENSURE(fd >= 0, CA_ERR_KEY_FILE, "cannot create %.200s: %s", tmp,
            strerror(errno));
  const uint8_t *p = data;
  size_t left = len;
  while (left > 0) {
    const ssize_t w = write(fd, p, left);
    CA_ENSURE(w > 0 || (w < 0 && errno == EINTR), CA_ERR_KEY_FILE,
              "cannot write %.200s: %s", tmp, strerror(errno));
    if (w > 0) {
      p += w;
      left -= (size_t)w;
    }
  }
  CA_ENSURE(fsync(fd) == 0, CA_ERR_KEY_FILE, "cannot sync %.200s: %s", tmp,
            strerror(errno));
  const int closed = close(fd);
  fd = -1;
  CA_ENSURE(closed == 0, CA_ERR_KEY_FILE, "cannot write %.200s: %s", tmp,
            strerror(errno));
  CA_ENSURE(rename(tmp, path) == 0, CA_ERR_KEY_FILE, "cannot rename %.200s: %s",
            tmp, strerror(errno));
  return 1;
err:
  if (fd >= 0) {
    close(fd);
  }
  unlink(tmp);
  return 0;
}

int api_read_file(const char *path, uint8_t **out, size_t *out_len) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  uint8_t *buf = NULL;
  CA_ENSURE(f != NULL, CA_ERR_NOT_FOUND, "cannot open %.200s: %s", path,
            strerror(errno));
  buf = OPENSSL_malloc(API_FILE_MAX_BYTES + 1);
  CA_ENSURE_ALLOC(buf);
  const size_t n = fread(buf, 1, API_FILE_MAX_BYTES + 1, f);
  CA_ENSURE(!ferror(f) && n <= API_FILE_MAX_BYTES, CA_ERR_CONFIG,
            "cannot read %.200s (or larger than %d bytes)", path,
            API_FILE_MAX_BYTES);
  buf[n] = '\0';
  fclose(f);
  *out = buf;
  *out_len = n;
  return 1;
err:
  if (f != NULL) {
    fclose(f);
  }
  OPENSSL_free(buf);
  return 0;
}
