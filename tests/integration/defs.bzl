"""pkid_test: one integration test against a real pkid and PostgreSQL."""

load("@rules_cc//cc:defs.bzl", "cc_test")

# Every layer of ca/, for the tests that also call the CA's code directly
# (a store opened on the test's database, a forced serial collision).
CA_LAYERS = [
    "//ca:base",
    "//ca/exchange",
    "//ca/issue",
    "//ca/policy",
    "//ca/revocation",
    "//ca/store",
    "//ca/x509",
]

def pkid_test(name, size = "medium", pkid = True, pkictl = False, ca = False, data = [], deps = [], **kwargs):
    """An integration test NAME built from NAME.c.

    It gets the harness (tests/integration/harness.h), the client library,
    the protobuf bindings, the CSR maker and the test macros; pkid in its
    runfiles unless pkid = False; pkictl when pkictl = True; every layer of
    ca/ when ca = True. The database URL comes from PKI_TEST_DATABASE_URL.
    """
    cc_test(
        name = name,
        size = size,
        srcs = [name + ".c"],
        data = (["//api:pkid"] if pkid else []) +
               (["//api:pkictl"] if pkictl else []) + data,
        deps = [
            ":harness",
            "//api/client",
            "//proto:pki_proto",
            "//tests/support:csr_maker",
            "//tests/support:test",
            "@boringssl//:crypto",
        ] + (CA_LAYERS if ca else []) + deps,
        **kwargs
    )
