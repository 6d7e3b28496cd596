// The main() shared by every fuzz target of tests/fuzz.
//
// Two builds, one source:
// - Without PKI_FUZZING_BUILD (the default and --config=asan), main() replays
//   each corpus file through LLVMFuzzerTestOneInput, so `bazel test` checks
//   that every seed and every crash input once found still runs cleanly. It
//   fails when it found nothing to run: a corpus that went missing (a broken
//   glob, a renamed directory) must not pass as an empty success.
// - With PKI_FUZZING_BUILD (--config=fuzz), main() hands over to libFuzzer,
//   linked as a library (libclang_rt.fuzzer_no_main) so that this main()
//   can choose its flags. Under `bazel test` (TEST_TMPDIR is set) it runs a
//   short, bounded session that writes new inputs to the test's scratch
//   directory, never to the source corpus in the runfiles; run by hand it
//   passes its arguments through unchanged.
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#if defined(PKI_FUZZING_BUILD)

int LLVMFuzzerRunDriver(int *argc, char ***argv,
                        int (*callback)(const uint8_t *data, size_t size));

// The flags of a run under `bazel test`: ten seconds of fuzzing, a per-input
// timeout that a slow sanitized build still meets, and a memory ceiling well
// under the machine's.
static const char *const kTestFlags[] = {
    "-max_total_time=10",
    "-timeout=10",
    "-rss_limit_mb=2048",
    "-print_final_stats=1",
};
#define TEST_FLAG_COUNT (sizeof(kTestFlags) / sizeof(kTestFlags[0]))

int main(int argc, char **argv) {
  const char *tmp = getenv("TEST_TMPDIR");
  if (tmp == NULL || tmp[0] == '\0') {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
  }
  // libFuzzer writes new inputs into the first corpus directory it is
  // given; under Bazel that must be a writable directory of the test's own.
  const size_t dir_len = strlen(tmp) + sizeof("/corpus");
  char *dir = malloc(dir_len);
  char **args = calloc((size_t)argc + TEST_FLAG_COUNT + 3, sizeof(char *));
  if (dir == NULL || args == NULL) {
    fprintf(stderr, "driver: out of memory\n");
    return 1;
  }
  snprintf(dir, dir_len, "%s/corpus", tmp);
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "driver: cannot create %s: %s\n", dir, strerror(errno));
    return 1;
  }
  int n = 0;
  args[n++] = argv[0];
  for (size_t i = 0; i < TEST_FLAG_COUNT; i++) {
    args[n++] = (char *)kTestFlags[i];
  }
  // Crash inputs go where Bazel keeps them after the test
  // (bazel-testlogs/.../test.outputs), not into the discarded sandbox.
  const char *outputs = getenv("TEST_UNDECLARED_OUTPUTS_DIR");
  if (outputs != NULL && outputs[0] != '\0') {
    const size_t len = strlen(outputs) + sizeof("-artifact_prefix=/");
    char *prefix = malloc(len);
    if (prefix == NULL) {
      fprintf(stderr, "driver: out of memory\n");
      return 1;
    }
    snprintf(prefix, len, "-artifact_prefix=%s/", outputs);
    args[n++] = prefix;
  }
  args[n++] = dir;
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] != '-') {
      args[n++] = argv[i];
    }
  }
  args[n] = NULL;
  // libFuzzer keeps pointers into |args| for the whole run: never freed.
  return LLVMFuzzerRunDriver(&n, &args, LLVMFuzzerTestOneInput);
}

#else  // !PKI_FUZZING_BUILD

typedef struct path_list {
  char **paths;
  size_t count;
  size_t cap;
} path_list;

static int path_list_add(path_list *list, const char *path) {
  if (list->count == list->cap) {
    const size_t cap = list->cap == 0 ? 64 : list->cap * 2;
    char **grown = realloc(list->paths, cap * sizeof(char *));
    if (grown == NULL) {
      return 0;
    }
    list->paths = grown;
    list->cap = cap;
  }
  list->paths[list->count] = strdup(path);
  if (list->paths[list->count] == NULL) {
    return 0;
  }
  list->count++;
  return 1;
}

static void path_list_cleanup(path_list *list) {
  for (size_t i = 0; i < list->count; i++) {
    free(list->paths[i]);
  }
  free(list->paths);
  memset(list, 0, sizeof(*list));
}

// collect adds |path| if it is a regular file, or every regular file below
// it if it is a directory. Dot files (editor droppings, .gitkeep) are
// skipped.
static int collect(path_list *list, const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "driver: cannot stat %s: %s\n", path, strerror(errno));
    return 0;
  }
  if (S_ISREG(st.st_mode)) {
    return path_list_add(list, path);
  }
  if (!S_ISDIR(st.st_mode)) {
    return 1;
  }
  DIR *dir = opendir(path);
  if (dir == NULL) {
    fprintf(stderr, "driver: cannot open %s: %s\n", path, strerror(errno));
    return 0;
  }
  int ok = 1;
  struct dirent *entry;
  while (ok && (entry = readdir(dir)) != NULL) {
    if (entry->d_name[0] == '.') {
      continue;
    }
    const size_t len = strlen(path) + strlen(entry->d_name) + 2;
    char *child = malloc(len);
    if (child == NULL) {
      ok = 0;
      break;
    }
    snprintf(child, len, "%s/%s", path, entry->d_name);
    ok = collect(list, child);
    free(child);
  }
  closedir(dir);
  return ok;
}

// read_file reads |path| whole. An empty file still yields a valid pointer:
// the target may hand it to functions whose pointer arguments are nonnull.
static uint8_t *read_file(const char *path, size_t *out_len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return NULL;
  }
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap == 0 ? 4096 : cap * 2;
      uint8_t *grown = realloc(buf, cap);
      if (grown == NULL) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = grown;
    }
    const size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) {
      break;
    }
  }
  const int failed = ferror(f);
  fclose(f);
  if (failed) {
    free(buf);
    return NULL;
  }
  *out_len = len;
  return buf;
}

static int compare_paths(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  path_list list;
  memset(&list, 0, sizeof(list));
  int ok = 1;
  for (int i = 1; ok && i < argc; i++) {
    // libFuzzer-style flags are accepted and ignored, so that one command
    // line serves both builds.
    if (argv[i][0] != '-') {
      ok = collect(&list, argv[i]);
    }
  }
  if (!ok) {
    path_list_cleanup(&list);
    return 1;
  }
  qsort(list.paths, list.count, sizeof(char *), compare_paths);
  for (size_t i = 0; i < list.count; i++) {
    size_t len;
    uint8_t *data = read_file(list.paths[i], &len);
    if (data == NULL) {
      fprintf(stderr, "driver: cannot read %s\n", list.paths[i]);
      path_list_cleanup(&list);
      return 1;
    }
    // A copy of exactly |len| bytes lets ASan catch a read one past the
    // end, as it would under libFuzzer.
    uint8_t *copy = malloc(len > 0 ? len : 1);
    if (copy == NULL) {
      free(data);
      path_list_cleanup(&list);
      return 1;
    }
    memcpy(copy, data, len);
    free(data);
    LLVMFuzzerTestOneInput(copy, len);
    free(copy);
  }
  printf("%s: ran %zu inputs\n", argv[0], list.count);
  const size_t count = list.count;
  path_list_cleanup(&list);
  if (count == 0) {
    fprintf(stderr, "driver: no inputs found: is the corpus missing?\n");
    return 1;
  }
  return 0;
}

#endif  // PKI_FUZZING_BUILD
