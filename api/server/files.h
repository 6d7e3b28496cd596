// Small files pkid writes and reads in its data directory: the API's TLS
// certificate, the first admin token.
#ifndef PKI_API_FILES_H
#define PKI_API_FILES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ca/error.h"

// The largest file api_read_file reads: a certificate chain in PEM is a
// few KiB.
#define API_FILE_MAX_BYTES (256 * 1024)

// api_write_file_atomic writes |len| bytes to |path| with |mode| through a
// temporary file that is synced and renamed into place: a reader, a crash
// or a full disk never leaves a half-written file under the real name. It
// returns 0 with CA_ERR_KEY_FILE (the system's reason in the message).
int api_write_file_atomic(const char *path, const void *data, size_t len,
                          mode_t mode) CA_MUST_CHECK;

// api_read_file reads the file |path| (at most API_FILE_MAX_BYTES) into
// |*out|, NUL-terminated (OPENSSL_free), and its length into |*out_len|.
// It returns 0 with CA_ERR_NOT_FOUND when it cannot be opened, or
// CA_ERR_CONFIG.
int api_read_file(const char *path, uint8_t **out,
                  size_t *out_len) CA_MUST_CHECK;

#endif  // PKI_API_FILES_H
