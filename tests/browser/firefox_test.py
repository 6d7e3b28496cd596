#!/usr/bin/python3
"""The console in real Firefox (Debian: firefox-esr), driven over WebDriver
BiDi by tests/browser/bidi.py, against a real pkid and PostgreSQL (started
by firefox_test.sh).

Sign-in with a token typed with real key events, every page opened with no
console error and no CSP violation (log.entryAdded and the page's own
securitypolicyviolation list), an issuance from a pasted CSR checked through
the API and with openssl verify, and a revocation from the page that
openssl ocsp then sees. Screenshots go to $TEST_UNDECLARED_OUTPUTS_DIR (each
path printed).

Environment (from firefox_test.sh): BASE, OCSP_URL, PKI_CACERT,
PKI_TOKEN_FILE, WORK, HOME, TEST_UNDECLARED_OUTPUTS_DIR.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile

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
for tool, name in ((FIREFOX, "firefox-esr"), (shutil.which("openssl"), "openssl"), (shutil.which("curl"), "curl")):
    if tool is None:
        fail(f"{name} is not installed (Debian: firefox-esr, openssl, curl): the Firefox tests cannot run")

BASE = os.environ["BASE"]
OCSP_URL = os.environ["OCSP_URL"]
CACERT = os.environ["PKI_CACERT"]
TOKEN = open(os.environ["PKI_TOKEN_FILE"]).read().split()[0]
WORK = os.environ["WORK"]
SHOTS = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR") or os.path.join(WORK, "screenshots")
RID = os.urandom(3).hex()
os.makedirs(SHOTS, exist_ok=True)
ENTER = "\ue007"
TAB = "\ue004"
CSP_TEXT = "document.getElementById('csp-violations').textContent"
CA_ROWS = "document.querySelectorAll('#ov-cas tbody tr').length"
PAGES = ["overview", "certificates", "issue", "identities", "trust", "monitor", "bulk", "access", "audit"]


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


DOWNLOADS = os.path.join(WORK, "downloads")
os.makedirs(DOWNLOADS, exist_ok=True)
# Downloads go to DOWNLOADS without a dialog.
ff = bidi.Firefox(FIREFOX, os.path.join(WORK, "ff-profile"), os.environ["HOME"], os.path.join(WORK, "firefox.log"),
                  prefs={"browser.download.folderList": 2, "browser.download.dir": DOWNLOADS,
                         "browser.download.useDownloadDir": True,
                         "browser.download.always_ask_before_handling_new_types": False,
                         "browser.download.manager.showWhenStarting": False,
                         "browser.download.alwaysOpenPanel": False,
                         "browser.helperApps.neverAsk.saveToDisk":
                             "application/zip,application/x-pkcs12,application/x-pem-file,application/octet-stream"})


def wait_download(name, timeout=60):
    """The downloaded file |name| once Firefox has finished writing it (it
    writes NAME.part first)."""
    path = os.path.join(DOWNLOADS, name)
    end = time.time() + timeout
    while time.time() < end:
        if os.path.exists(path) and not any(f.endswith(".part") for f in os.listdir(DOWNLOADS)):
            return path
        time.sleep(0.2)
    fail(f"no download {name} in {DOWNLOADS}: {os.listdir(DOWNLOADS)}")


def shot(name):
    print(f"screenshot: {ff.screenshot(os.path.join(SHOTS, f'firefox-{name}.png'))}", flush=True)


bad_entries = bidi.bad_entries


def check_log(where):
    bad = bidi.console_problems(ff)
    if bad:
        fail(f"{where}: browser errors: {bad}")
    ok(f"{where}: no console error, no CSP violation")


def text_of(css):
    return ff.call("(s) => { const e = document.querySelector(s); return e ? e.innerText : ''; }", css)


def page_ready(name):
    ff.wait(f"document.getElementById('page').dataset.ready === {json.dumps(name)}", f"the {name} page")


def go(name):
    ff.call("(n) => { location.hash = '#/' + n; }", name)
    page_ready(name)


try:
    try:
        ff.start()
    except bidi.BiDiError as e:
        fail(f"Firefox does not start: {e}")
    ok(f"Firefox {ff.version} over WebDriver BiDi")

    # --- sign-in page; the error channels are live ---
    print("\n== sign-in", flush=True)
    ff.navigate(BASE + "/ui/")
    ff.wait("document.getElementById('token') && !document.getElementById('signin').hidden", "the sign-in form")
    shot("00-signin")
    check_log("sign-in page")
    ff.eval("console.error('pki-console-probe')")
    seen = bad_entries(ff.take_entries())
    if not any("pki-console-probe" in s for s in seen):
        fail(f"a console error does not reach log.entryAdded: {seen}")
    ok("a console error reaches log.entryAdded (and would fail the test)")
    ff.eval("const s = document.createElement('script'); s.textContent = 'window.pwned = 1'; document.body.append(s); 0")
    ff.wait("document.getElementById('csp-violations').textContent.trim()", "the CSP violation list")
    if ff.eval("window.pwned") is not None:
        fail("an inline script ran: the CSP does not hold")
    ok(f"an inline script is blocked and recorded: {text_of('#csp-violations') or ff.eval(CSP_TEXT)}")
    csp_logged = [s for s in bad_entries(ff.take_entries()) if re.search(r"Content[- ]Security", s, re.I)]
    if not csp_logged:
        fail("Firefox's log (log.entryAdded) does not report the CSP violation")
    ok(f"log.entryAdded reports it too: {csp_logged[0][:100]}")
    ff.eval("document.getElementById('csp-violations').replaceChildren(); document.getElementById('csp-violations').hidden = true; 0")

    # Keyboard alone: from the top of the page, two Tabs reach the token
    # field (the skip link first); a bad token, typed; then the admin's.
    ff.keys(TAB + TAB)
    where = ff.eval("document.activeElement.id || document.activeElement.tagName")
    if where != "token":
        fail(f"two Tabs should reach the token field, reached {where}")
    ok("the token field is reached by Tab")
    ff.keys("pki_not-a-token" + ENTER)
    ff.wait("document.getElementById('signin-error').innerText.includes('UNAUTHENTICATED')", "the refusal of a bad token")
    ok(f"a bad token shows the API's refusal: {text_of('#signin-error')}")
    ff.click("#token")
    ff.keys(TOKEN)
    ff.click("#signin-token")
    page_ready("overview")
    role = text_of("#role")
    if "admin" not in role or "(token)" not in role:
        fail(f"the admin token signs in as [{role}]")
    ok(f"signed in by typing the token: {role}")
    if ff.eval("document.cookie") != "" or ff.eval("sessionStorage.getItem('pki.token')") != TOKEN:
        fail("the token is not in sessionStorage alone")
    ok("the token is in sessionStorage, no cookie")
    check_log("sign-in")

    # --- every page ---
    print("\n== every page", flush=True)
    for i, name in enumerate(PAGES):
        ff.click(f"#nav a[data-page='{name}']")
        page_ready(name)
        if ff.eval("document.querySelector('#page .error:not(:empty)') !== null && "
                   "!document.querySelector('#page .error:not(:empty)').closest('[id$=\"-error\"]')"):
            err = text_of("#page .error:not(:empty)")
            # The audit page says when pkid does not serve the log yet.
            if name != "audit":
                fail(f"the {name} page shows an error: {err}")
        ok(f"{name} opened from the nav: {text_of(f'#{name}-title') or text_of('#page h2')}")
        shot(f"{i + 1:02d}-{name}")
        check_log(name)
    go("overview")
    ff.wait("document.querySelectorAll('#ov-cas tbody tr').length >= 2", "the CA table")
    ok(f"overview lists {ff.eval(CA_ROWS)} CAs")
    ff.wait("/\\d{4}-\\d\\d-\\d\\d/.test((document.querySelector('#ov-crls tbody tr') || {}).innerText || '')",
            "the decoded CRLs")
    ok(f"overview decodes each CA's CRL: {' '.join(text_of('#ov-crls tbody tr').split())}")
    check_log("overview data")

    # --- issue from a pasted CSR ---
    print("\n== issue", flush=True)
    key = os.path.join(WORK, "ff.key")
    csr = os.path.join(WORK, "ff.csr")
    cn = f"firefox-{RID}.console.test"
    run("openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
        "-subj", f"/CN={cn}/O=Console", "-addext", f"subjectAltName=DNS:{cn}")
    go("issue")
    ff.call("(v) => { const p = document.getElementById('issue-profile'); p.value = v; p.dispatchEvent(new Event('input', {bubbles: true})); }", "tomcat")
    ff.call("(v) => { const t = document.getElementById('issue-csr'); t.value = v; t.dispatchEvent(new Event('input', {bubbles: true})); }",
            open(csr).read())
    ff.click("#issue-submit")
    ff.wait("(document.getElementById('issue-summary') || {}).innerText?.startsWith('1 issued') || "
            "document.querySelector('#page .error:not(:empty)')?.innerText", "the issuance")
    summary = text_of("#issue-summary")
    if not summary.startswith("1 issued"):
        fail(f"the issuance failed on the page: {text_of('#page .error:not(:empty)')}")
    m = re.search(r"serial ([0-9a-f]+)", text_of("#issue-results"))
    if not m:
        fail(f"no serial in the results: {text_of('#issue-results')}")
    serial = m.group(1)
    ok(f"one CSR issued from the page: serial {serial}")
    shot("10-issued")
    pem = run("curl", "-sS", "-f", "--cacert", CACERT, "-H", f"Authorization: Bearer {TOKEN}", f"{BASE}/v1/certificates/{serial}").stdout
    leaf = os.path.join(WORK, "ff-leaf.pem")
    open(leaf, "w").write(pem)
    code, body = api("GET", "/v1/ca")
    cas = os.path.join(WORK, "ff-cas.pem")
    with open(cas, "w") as f:
        for c in json.loads(body)["cas"]:
            f.write(run("curl", "-sS", "-f", "--cacert", CACERT, f"{BASE}/v1/ca/{c['name']}/chain").stdout)
    v = run("openssl", "verify", "-CAfile", cas, leaf).stdout
    if "OK" not in v:
        fail(f"openssl verify: {v}")
    subj = run("openssl", "x509", "-in", leaf, "-noout", "-subject").stdout
    if cn not in subj:
        fail(f"the certificate is not the CSR's: {subj}")
    ok(f"the API serves it and openssl verifies it: {v.strip()}")

    # Two CSR files chosen in the file input, one batch, one zip.
    files = []
    for i in (1, 2):
        f = os.path.join(WORK, f"ff{i}.csr")
        run("openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes",
            "-keyout", f + ".key", "-out", f, "-subj", f"/CN=firefox{i}-{RID}.console.test")
        files.append(f)
    ff.eval("document.getElementById('issue-csr').value = ''; 0")
    ff.set_files("#issue-files", files)
    ff.click("#issue-submit")
    ff.wait("document.getElementById('issue-summary')?.innerText.startsWith('2 ') || "
            "document.getElementById('issue-error').innerText", "the batch's results")
    if not text_of("#issue-summary").startswith("2 issued"):
        fail(f"the batch: {text_of('#issue-summary')} {text_of('#issue-results')} {text_of('#issue-error')}")
    ff.click("#issue-zip")
    z = wait_download("certificates.zip")
    with zipfile.ZipFile(z) as zf:
        names = zf.namelist()
        if zf.testzip() is not None or len(names) != 2:
            fail(f"the zip is damaged or holds {names}")
        for n in names:
            p = os.path.join(WORK, "ff-" + n)
            open(p, "wb").write(zf.read(n))
            if "OK" not in run("openssl", "verify", "-CAfile", cas, p).stdout:
                fail(f"{n} from the zip does not verify")
    ok(f"two CSR files (input.setFiles) issued in one batch; the zip Firefox saved holds {names}, each verified by openssl")

    # keys:generate: the PKCS#12 made by WebCrypto in Firefox.
    ff.call("(v) => { const p = document.getElementById('gen-profile'); p.value = v; }", "tomcat")
    ff.click("#gen-cn")
    ff.keys(f"keygen-{RID}.console.test")
    ff.click("#gen-password")
    ff.keys("correct horse battery")
    ff.click("#gen-submit")
    ff.wait("document.getElementById('gen-done') || document.querySelector('#gen-form .error:not(:empty)')?.innerText",
            "the generated key")
    if not ff.eval("document.getElementById('gen-done') !== null"):
        fail(f"keys:generate failed on the page: {text_of('#gen-form .error:not(:empty)')}")
    ff.click("#gen-p12")
    p12 = wait_download(f"keygen-{RID}.console.test.p12")
    info = run("openssl", "pkcs12", "-in", p12, "-passin", "pass:correct horse battery", "-nodes").stdout
    if "BEGIN PRIVATE KEY" not in info or f"keygen-{RID}.console.test" not in info:
        fail(f"openssl cannot read the PKCS#12: {info[:300]}")
    if run("openssl", "pkcs12", "-in", p12, "-passin", "pass:wrong", "-nodes", check=False).returncode == 0:
        fail("the PKCS#12 opens with a wrong password")
    ok("keys:generate: the PKCS#12 Firefox made opens with openssl under the typed password (and not another)")
    shot("10b-keygen")
    check_log("issue")

    # --- find it, revoke it from the page; OCSP says revoked ---
    print("\n== revoke", flush=True)
    go("certificates")
    ff.click("#f-cn")
    ff.keys(f"firefox-{RID}.console" + ENTER)
    ff.wait("document.getElementById('find-results').innerText.includes('Page 1: 1 certificate')", "the find results")
    ff.click("#find-results button")
    ff.wait("document.getElementById('detail-decoded')?.innerText.includes('Subject alternative name')", "the decoded details")
    dec = text_of("#detail-decoded")
    if f"DNS:{cn}" not in dec:
        fail(f"the details do not decode the SAN: {dec}")
    ok("details decode the extensions")
    ff.call("() => { const s = document.getElementById('revoke-reason'); s.value = '1'; s.dispatchEvent(new Event('change', {bubbles: true})); }")
    ff.click("#revoke")
    ff.wait("document.getElementById('revoke-done') || document.getElementById('revoke-error').innerText", "the revocation")
    if not ff.eval("document.getElementById('revoke-done') !== null"):
        fail(f"the revocation failed on the page: {text_of('#revoke-error')}")
    ok(f"revoked from the page: {text_of('#revoke-done')}")
    shot("11-revoked")
    code, body = api("GET", f"/v1/certificates?cn=firefox-{RID}.console")
    info = json.loads(body)["certificates"][0]
    if info.get("serial") != serial or info.get("status") != "revoked" or info.get("revocationReason") != 1:
        fail(f"the revocation is not in the API: {info}")
    ok("the API says revoked, keyCompromise")
    chain = run("curl", "-sS", "-f", "--cacert", CACERT, "-H", f"Authorization: Bearer {TOKEN}",
                f"{BASE}/v1/certificates/{serial}?format=p7b-pem").stdout
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n",
                        run("openssl", "pkcs7", "-print_certs", input=chain).stdout, re.S)
    issuer = os.path.join(WORK, "ff-issuer.pem")
    open(issuer, "w").write(blocks[1])
    deadline = time.time() + 30
    while True:
        o = run("openssl", "ocsp", "-issuer", issuer, "-cert", leaf, "-url", OCSP_URL, "-CAfile", cas, "-no_nonce", check=False)
        if f"{leaf}: revoked" in o.stdout:
            break
        if time.time() > deadline:
            fail(f"OCSP does not say revoked: {o.stdout} {o.stderr}")
        time.sleep(1)
    ok("openssl ocsp: revoked")
    check_log("revoke")

    # --- trust stores: upload a file, delete after the confirm() ---
    print("\n== trust stores", flush=True)
    ca_key, ca_pem = os.path.join(WORK, "ff-partner.key"), os.path.join(WORK, "ff-partner.pem")
    partner = f"Firefox Partner Root {RID}"
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_pem, "-days", "365",
        "-subj", f"/CN={partner}/O=Partner", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    go("trust")
    ff.set_files("#trust-file", [ca_pem])
    ff.click("#trust-upload")
    delete = f"button[aria-label='Delete {partner}']"
    ff.wait(f"document.querySelector({json.dumps(delete)}) !== null", "the uploaded CA in the list")
    code, body = api("GET", "/v1/certificates?usage=trust&store=tomcat-trust")
    if partner not in body:
        fail(f"the API does not list the uploaded CA: {body}")
    ok("a CA uploaded from the page (input.setFiles) is in tomcat-trust (API)")
    shot("11b-trust")
    msg = ff.click_and_answer(delete, False)
    if partner not in msg:
        fail(f"the confirm() does not name the CA: {msg}")
    code, body = api("GET", "/v1/certificates?usage=trust&store=tomcat-trust")
    if partner not in body:
        fail("the CA is gone although the confirm() was dismissed")
    ok(f"Delete asks first ({msg!r}); dismissed, the CA stays")
    ff.click_and_answer(delete, True)
    ff.wait(f"document.querySelector({json.dumps(delete)}) === null", "the deleted CA gone from the list")
    code, body = api("GET", "/v1/certificates?usage=trust&store=tomcat-trust")
    if partner in body:
        fail("the deleted entry is still listed by the API")
    ok("accepted: deleted from the page, gone from the API")
    check_log("trust")

    # --- sign out ---
    ff.click("#signout")
    ff.wait("!document.getElementById('signin').hidden", "the sign-in form after sign-out")
    if ff.eval("sessionStorage.getItem('pki.token')") is not None:
        fail("the token stays in sessionStorage after sign-out")
    ok("signed out: the token is forgotten, the sign-in form is back")
    check_log("sign-out")
except bidi.BiDiError as e:
    try:
        shot("failure")
    except Exception:
        pass
    fail(str(e))
finally:
    ff.close()

print(f"\nPASS: {CHECKS} checks")
