// The console's files (api/server/ui), compiled into pkid by
// api/server/ui/embed (a genrule of api/server/ui/BUILD).
#ifndef PKI_API_UI_FILES_H
#define PKI_API_UI_FILES_H

#include <stddef.h>

typedef struct api_ui_file {
  const char *name;  // path under /ui/: "index.html", "pages/issue.js"
  const unsigned char *data;
  size_t len;
  const char *etag;  // quoted, as sent
} api_ui_file;

// api_ui_files returns the table of files (static, never freed) and its
// length in |*out_n|.
const api_ui_file *api_ui_files(size_t *out_n);

#endif  // PKI_API_UI_FILES_H
