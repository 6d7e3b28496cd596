#!/usr/bin/python3
"""Sign-in to the console with a client certificate, in real Firefox (over
WebDriver BiDi, bidi.py), against a real pkid and PostgreSQL (started by
client_cert_test.sh).

A revoker's api-client certificate (pkictl keygen --profile api-client --ou
pki-role:revoker, as README "Access" describes) is put in the NSS database
of a Firefox profile (cert9.db, with certutil and pk12util from
libnss3-tools), and the profile selects it by itself when pkid asks for a
client certificate (security.default_personal_cert = "Select
Automatically"). With it, "Use my client certificate" reaches the console
without a token, shows a revoker's controls, and a revocation made from the
page is recorded under cert:SERIAL. A profile without a certificate gets the
API's refusal and stays on the token sign-in, which then works.

Environment (from client_cert_test.sh): BASE, PKI_CACERT, PKI_TOKEN_FILE,
PKICTL, DB_URL, WORK, HOME, TEST_UNDECLARED_OUTPUTS_DIR.
"""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bidi  # noqa: E402

CHECKS = 0


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def ok(msg):
    global CHECKS
    CHECKS += 1
    print(f"ok   {msg}", flush=True)


FIREFOX = shutil.which("firefox-esr") or shutil.which("firefox")
for tool, name in ((FIREFOX, "firefox-esr"), (shutil.which("certutil"), "certutil (libnss3-tools)"),
                   (shutil.which("pk12util"), "pk12util (libnss3-tools)"), (shutil.which("openssl"), "openssl"),
                   (shutil.which("curl"), "curl"), (shutil.which("psql"), "psql")):
    if tool is None:
        fail(f"{name} is not installed: the client-certificate test cannot run")

BASE = os.environ["BASE"]
CACERT = os.environ["PKI_CACERT"]
TOKEN = open(os.environ["PKI_TOKEN_FILE"]).read().split()[0]
PKICTL = os.environ["PKICTL"]
DB_URL = os.environ["DB_URL"]
WORK = os.environ["WORK"]
HOME = os.environ["HOME"]
SHOTS = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR") or os.path.join(WORK, "screenshots")
RID = os.urandom(3).hex()
os.makedirs(SHOTS, exist_ok=True)
ENTER = "\ue007"
P12_PASSWORD = "console client cert"


def run(*args, input=None, check=True):
    r = subprocess.run(args, input=input, capture_output=True, text=True)
    if check and r.returncode != 0:
        fail(f"{' '.join(args)} failed: {r.stdout} {r.stderr}")
    return r


def api(method, path):
    out = run("curl", "-sS", "--cacert", CACERT, "-X", method, "-H", f"Authorization: Bearer {TOKEN}",
              "-H", "Accept: application/json", "-w", "\n%{http_code}", BASE + path).stdout
    text, _, code = out.rpartition("\n")
    return int(code), text


def firefox(name, prefs=None):
    return bidi.Firefox(FIREFOX, os.path.join(WORK, f"ff-{name}"), HOME, os.path.join(WORK, f"firefox-{name}.log"),
                        prefs=prefs)


def shot(ff, name):
    print(f"screenshot: {ff.screenshot(os.path.join(SHOTS, f'client-cert-{name}.png'))}", flush=True)


def check_log(ff, where):
    bad = bidi.console_problems(ff)
    if bad:
        fail(f"{where}: browser errors: {bad}")
    ok(f"{where}: no console error, no CSP violation")


def text_of(ff, css):
    return ff.call("(s) => { const e = document.querySelector(s); return e ? e.innerText : ''; }", css)


def page_ready(ff, name):
    ff.wait(f"document.getElementById('page').dataset.ready === {json.dumps(name)}", f"the {name} page")


def go(ff, name):
    ff.call("(n) => { location.hash = '#/' + n; }", name)
    page_ready(ff, name)


def hidden_nav(ff):
    return sorted(ff.eval("[...document.querySelectorAll('#nav li')].filter(l => l.hidden).map(l => l.textContent)"))


def open_signin(ff):
    ff.navigate(BASE + "/ui/")
    ff.wait("document.getElementById('signin-cert') && !document.getElementById('signin').hidden", "the sign-in form")


browsers = []
try:
    # --- a revoker's client certificate, in a profile's NSS database ---
    print("\n== a revoker's api-client certificate", flush=True)
    certdir = os.path.join(WORK, "client")
    cn = f"console-revoker-{RID}"
    r = run(PKICTL, "--server", BASE, "keygen", "--profile", "api-client", "--cn", cn, "--ou", "pki-role:revoker",
            "--out-dir", certdir)
    pem, key = os.path.join(certdir, f"{cn}.pem"), os.path.join(certdir, f"{cn}.key")
    cserial = run("openssl", "x509", "-in", pem, "-noout", "-serial").stdout.strip().split("=")[1].lower()
    ok(f"pkictl keygen --profile api-client --ou pki-role:revoker: serial {cserial}")
    p12 = os.path.join(certdir, f"{cn}.p12")
    run("openssl", "pkcs12", "-export", "-in", pem, "-inkey", key, "-name", cn, "-out", p12,
        "-passout", f"pass:{P12_PASSWORD}")
    with_cert = firefox("with-cert", {"security.default_personal_cert": "Select Automatically"})
    browsers.append(with_cert)
    os.makedirs(with_cert.profile, exist_ok=True)
    run("certutil", "-N", "-d", f"sql:{with_cert.profile}", "--empty-password")
    run("pk12util", "-i", p12, "-d", f"sql:{with_cert.profile}", "-W", P12_PASSWORD, "-K", "")
    listed = run("certutil", "-L", "-d", f"sql:{with_cert.profile}").stdout
    if cn not in listed:
        fail(f"the certificate is not in the profile's NSS database: {listed}")
    ok("imported into the Firefox profile's cert9.db (pk12util), selected automatically")

    # A certificate to revoke from the page, issued with the admin token.
    tcn = f"target-{RID}.console.test"
    run("openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", os.path.join(WORK, "target.key"),
        "-out", os.path.join(WORK, "target.csr"), "-subj", f"/CN={tcn}", "-addext", f"subjectAltName=DNS:{tcn}")
    t = run(PKICTL, "--server", BASE, "issue", "--profile", "tomcat", "--csr", os.path.join(WORK, "target.csr"),
            "--out", os.path.join(WORK, "target.pem")).stdout
    tserial = run("openssl", "x509", "-in", os.path.join(WORK, "target.pem"), "-noout", "-serial").stdout.strip().split("=")[1].lower()

    # --- with the certificate: the console without a token ---
    print("\n== with the certificate", flush=True)
    try:
        with_cert.start()
    except bidi.BiDiError as e:
        fail(f"Firefox does not start: {e}")
    ok(f"Firefox {with_cert.version} over WebDriver BiDi")
    open_signin(with_cert)
    check_log(with_cert, "sign-in page")
    with_cert.click("#signin-cert")
    page_ready(with_cert, "overview")
    role = text_of(with_cert, "#role")
    if role != "Signed in as revoker (client certificate)":
        fail(f"the client certificate signs in as [{role}]")
    ok(f"no token typed: [{role}]")
    if with_cert.eval("sessionStorage.getItem('pki.token')") is not None or with_cert.eval("document.cookie") != "":
        fail("a client-certificate sign-in stored a token or a cookie")
    ok("nothing stored: no token in sessionStorage, no cookie")
    hidden = hidden_nav(with_cert)
    if hidden != sorted(["Issue", "Self-signed", "Bulk", "Access"]):
        fail(f"a revoker should not see Issue, Self-signed, Bulk, Access; hidden: {hidden}")
    ok(f"a revoker's console hides {hidden}")
    shot(with_cert, "01-revoker")
    check_log(with_cert, "overview")
    go(with_cert, "issue")
    if "needs the issuer role" not in text_of(with_cert, "#page"):
        fail("the Issue page opens for a revoker")
    ok("the Issue page is closed to the revoker")

    # A revocation from the page, made with the certificate alone.
    go(with_cert, "certificates")
    with_cert.click("#f-cn")
    with_cert.keys(f"target-{RID}.console" + ENTER)
    with_cert.wait("document.getElementById('find-results').innerText.includes('Page 1: 1 certificate')",
                   "the find results")
    with_cert.click("#find-results button")
    with_cert.wait("document.getElementById('revoke') !== null", "the revoke control")
    with_cert.call("() => { const s = document.getElementById('revoke-reason'); s.value = '4'; "
                   "s.dispatchEvent(new Event('change', {bubbles: true})); }")
    with_cert.click("#revoke")
    with_cert.wait("document.getElementById('revoke-done') || document.getElementById('revoke-error').innerText",
                   "the revocation")
    if not with_cert.eval("document.getElementById('revoke-done') !== null"):
        fail(f"the revocation failed on the page: {text_of(with_cert, '#revoke-error')}")
    ok(f"revoked from the page: {text_of(with_cert, '#revoke-done')}")
    shot(with_cert, "02-revoked")
    code, body = api("GET", f"/v1/certificates?cn=target-{RID}.console")
    info = json.loads(body)["certificates"][0]
    if info.get("serial") != tserial or info.get("status") != "revoked" or info.get("revocationReason") != 4:
        fail(f"the revocation is not in the API: {info}")
    actor = run("psql", DB_URL, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c",
                f"SELECT actor FROM audit_log WHERE object LIKE '%{tserial}%' AND action LIKE '%revoke%' "
                "ORDER BY id DESC LIMIT 1").stdout.strip()
    if actor.lower() != f"cert:{cserial}":
        fail(f"the audit log names [{actor}] for the revocation, not cert:{cserial}")
    ok(f"the API says revoked (superseded) and the audit log names {actor}")
    check_log(with_cert, "revoke")
    with_cert.click("#signout")
    with_cert.wait("!document.getElementById('signin').hidden", "the sign-in form after sign-out")
    ok("signed out: the sign-in form is back")
    with_cert.close()

    # --- without a certificate: the token sign-in ---
    print("\n== without a certificate", flush=True)
    plain = firefox("plain", {"security.default_personal_cert": "Select Automatically"})
    browsers.append(plain)
    try:
        plain.start()
    except bidi.BiDiError as e:
        fail(f"Firefox does not start: {e}")
    open_signin(plain)
    plain.click("#signin-cert")
    plain.wait("document.getElementById('signin-error').innerText.includes('UNAUTHENTICATED')",
               "the refusal of a sign-in without a certificate")
    if plain.eval("document.getElementById('signin').hidden") or not plain.eval("document.getElementById('nav').hidden"):
        fail("without a certificate the console opened")
    ok(f"no certificate: the API's refusal, the token sign-in stays: {text_of(plain, '#signin-error')}")
    shot(plain, "03-no-certificate")
    check_log(plain, "no certificate")
    plain.click("#token")
    plain.keys(TOKEN + ENTER)
    page_ready(plain, "overview")
    role = text_of(plain, "#role")
    if role != "Signed in as admin (token)":
        fail(f"the token signs in as [{role}]")
    if hidden_nav(plain):
        fail(f"an admin should see every page; hidden: {hidden_nav(plain)}")
    ok(f"then the token: [{role}], every page shown")
    check_log(plain, "token")
except bidi.BiDiError as e:
    for b in browsers:
        try:
            if b.ws is not None:
                shot(b, "failure")
        except Exception:
            pass
    fail(str(e))
finally:
    for b in browsers:
        b.close()

print(f"\nPASS: {CHECKS} checks")
