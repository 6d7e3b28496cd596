// A target of the x509 layer that depends on the store layer: the build
// must refuse it (//ca/store is not visible to //ca/x509).
int layering_probe(void) {
  return 0;
}
