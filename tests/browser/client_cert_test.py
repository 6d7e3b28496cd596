#!/usr/bin/python3
"""Sign-in to the console with a client certificate, in real Firefox (over
WebDriver BiDi, bidi.py) and in headless Chromium (selenium), against a real
pkid and PostgreSQL (started by client_cert_test.sh).

A revoker's api-client certificate (pkictl keygen --profile api-client --ou
pki-role:revoker, as README "Access" describes) is put in the NSS database
of a Firefox profile (cert9.db, with certutil and pk12util from
libnss3-tools), and the profile selects it by itself when pkid asks for a
client certificate (security.default_personal_cert = "Select
Automatically"). With it, "Use my client certificate" reaches the console
without a token, shows a revoker's controls, and a revocation made from the
page is recorded under cert:SERIAL. A profile without a certificate gets the
API's refusal and stays on the token sign-in, which then works.

Chromium: an issuer's certificate (pki-role:issuer:tomcat) in
$HOME/.pki/nssdb, chosen by the profile's auto_select_certificate setting
(see chromium()): an issuer's controls without a token; with a HOME that
holds no certificate, the refusal and the token sign-in.

Environment (from client_cert_test.sh): BASE, PKI_CACERT, PKI_TOKEN_FILE,
PKICTL, DB_URL, WORK, HOME, TEST_UNDECLARED_OUTPUTS_DIR.
"""
import json
import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ beside the sources
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bidi  # noqa: E402

bidi.exit_on_signals()

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
                   (shutil.which("curl"), "curl"), (shutil.which("psql"), "psql"),
                   (shutil.which("chromium"), "chromium"), (shutil.which("chromedriver"), "chromedriver (chromium-driver)")):
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


def chromium(home, user_data, origin):
    """Headless Chromium (selenium) whose NSS database is HOME/.pki/nssdb
    and whose profile selects a client certificate for |origin| by itself:
    the auto_select_certificate content setting, the per-profile form of
    the AutoSelectCertificateForUrls policy, written to the profile's
    Preferences before the start (no policy file, nothing under /etc).
    Without it Chromium would wait on its certificate chooser."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        fail(f"python3-selenium is not installed ({e}): the client-certificate test cannot run")
    os.makedirs(os.path.join(user_data, "Default"), exist_ok=True)
    prefs = {"profile": {"content_settings": {"exceptions": {"auto_select_certificate": {
        f"{origin},*": {"last_modified": "13340000000000000",
                        "setting": {"filters": [{"ISSUER": {"CN": "pki RSA Issuing CA"}}]}}}}}}}
    with open(os.path.join(user_data, "Default", "Preferences"), "w") as f:
        json.dump(prefs, f)
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
              "--disable-gpu", "--no-first-run", "--password-store=basic", f"--user-data-dir={user_data}"):
        opts.add_argument(a)
    opts.set_capability("acceptInsecureCerts", True)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(shutil.which("chromedriver"), env=dict(os.environ, HOME=home))
    d = webdriver.Chrome(service=service, options=opts)
    d.set_page_load_timeout(60)
    return d


def chromium_problems(d):
    """As console_test: SEVERE entries but refused API calls, junk text,
    the page's CSP list."""
    bad = []
    for e in d.get_log("browser"):
        msg = e.get("message", "")
        if e.get("level") != "SEVERE":
            continue
        if e.get("source") == "network" and "/ui/" not in msg.split(" ")[0]:
            continue
        bad.append(msg)
    v = d.execute_script("return document.getElementById('csp-violations').textContent").strip()
    if v:
        bad.append(f"CSP violation: {v}")
    return bad


def chromium_section():
    print("\n== Chromium: an issuer's certificate (tomcat) in $HOME/.pki/nssdb", flush=True)
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    cn = f"console-issuer-{RID}"
    certdir = os.path.join(WORK, "client-issuer")
    run(PKICTL, "--server", BASE, "keygen", "--profile", "api-client", "--cn", cn, "--ou", "pki-role:issuer:tomcat",
        "--out-dir", certdir)
    p12 = os.path.join(certdir, f"{cn}.p12")
    run("openssl", "pkcs12", "-export", "-in", os.path.join(certdir, f"{cn}.pem"), "-inkey",
        os.path.join(certdir, f"{cn}.key"), "-name", cn, "-out", p12, "-passout", f"pass:{P12_PASSWORD}")
    home = os.path.join(WORK, "chromium-home")
    nssdb = os.path.join(home, ".pki", "nssdb")
    os.makedirs(nssdb, exist_ok=True)
    run("certutil", "-N", "-d", f"sql:{nssdb}", "--empty-password")
    run("pk12util", "-i", p12, "-d", f"sql:{nssdb}", "-W", P12_PASSWORD, "-K", "")
    ok("pkictl keygen --ou pki-role:issuer:tomcat, imported into $HOME/.pki/nssdb (pk12util)")
    for label, h, with_cert in (("with the certificate", home, True),
                                ("without a certificate", os.path.join(WORK, "chromium-home-empty"), False)):
        os.makedirs(h, exist_ok=True)
        d = chromium(h, os.path.join(WORK, f"chromium-profile-{int(with_cert)}"), BASE)
        try:
            wait = WebDriverWait(d, 60)
            d.get(BASE + "/ui/")
            wait.until(lambda x: x.find_element(By.ID, "signin-cert").is_displayed())
            d.find_element(By.ID, "signin-cert").click()
            if with_cert:
                wait.until(lambda x: x.find_element(By.ID, "page").get_attribute("data-ready") == "overview")
                role = d.find_element(By.ID, "role").text
                if role != "Signed in as issuer (client certificate)":
                    fail(f"Chromium: the certificate signs in as [{role}]")
                hidden = sorted(d.execute_script(
                    "return [...document.querySelectorAll('#nav li')].filter(l => l.hidden).map(l => l.textContent)"))
                if hidden != ["Access", "Audit log", "Bulk"]:
                    fail(f"Chromium: an issuer should not see Bulk, Access and the audit log only; hidden: {hidden}")
                d.execute_script("location.hash = '#/issue'")
                wait.until(lambda x: x.find_element(By.ID, "page").get_attribute("data-ready") == "issue")
                if "needs the issuer role" in d.find_element(By.ID, "page").text:
                    fail("Chromium: the Issue page is closed to an issuer")
                ok(f"Chromium {label}: [{role}] without a token; hides {hidden}; the Issue page opens")
            else:
                wait.until(lambda x: "UNAUTHENTICATED" in x.find_element(By.ID, "signin-error").text)
                if not d.find_element(By.ID, "token").is_displayed():
                    fail("Chromium without a certificate: the token sign-in is not shown")
                ok(f"Chromium {label}: the token sign-in stays: {d.find_element(By.ID, 'signin-error').text}")
            path = os.path.join(SHOTS, f"client-cert-chromium-{int(with_cert)}.png")
            d.save_screenshot(path)
            print(f"screenshot: {path}", flush=True)
            bad = chromium_problems(d)
            if bad:
                fail(f"Chromium {label}: browser errors: {bad}")
            ok(f"Chromium {label}: no console error, no CSP violation")
        finally:
            d.quit()


browsers = []
try:
    # --- a revoker's client certificate, in a profile's NSS database ---
    print("\n== a revoker's api-client certificate", flush=True)
    certdir = os.path.join(WORK, "client")
    cn = f"console-revoker-{RID}"
    run(PKICTL, "--server", BASE, "keygen", "--profile", "api-client", "--cn", cn, "--ou", "pki-role:revoker",
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
    run(PKICTL, "--server", BASE, "issue", "--profile", "tomcat", "--csr", os.path.join(WORK, "target.csr"),
        "--out", os.path.join(WORK, "target.pem"))
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
    if hidden != sorted(["Issue", "Self-signed", "Bulk", "Access", "Audit log"]):
        fail(f"a revoker should not see Issue, Self-signed, Bulk, Access, Audit log; hidden: {hidden}")
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
    plain.close()

    # --- Chromium: the same, with an issuer's certificate ---
    chromium_section()
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
