// A file of the x509 layer that includes a header of the store layer
// without depending on it: the build must refuse it (the header is not an
// input of the compilation).
#include "ca/store/store.h"

int layering_probe(void) {
  return 0;
}
