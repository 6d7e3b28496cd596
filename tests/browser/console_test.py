#!/usr/bin/python3
"""The console in a real browser: headless Chromium through WebDriver
against a real pkid and PostgreSQL (started by console_test.sh).

Each main flow is driven from the page and its result checked outside the
browser: through the API (curl), openssl (verify, pkcs12, ocsp) and the
files the page downloads. A console error, a failed load of a console file
or a CSP violation fails the test. Screenshots of every page go to
$TEST_UNDECLARED_OUTPUTS_DIR (the path is printed).

Environment (from console_test.sh): BASE, OCSP_URL, PKI_CACERT,
PKI_TOKEN_FILE, WORK, TEST_UNDECLARED_OUTPUTS_DIR.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile

CHECKS = 0


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def ok(msg):
    global CHECKS
    CHECKS += 1
    print(f"ok   {msg}", flush=True)


try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError as e:
    fail(f"python3-selenium is not installed ({e}): the browser tests cannot run")

for tool in ("chromium", "chromedriver", "openssl", "curl"):
    if shutil.which(tool) is None:
        fail(f"{tool} is not installed (Debian: chromium, chromium-driver, openssl, curl): the browser tests cannot run")

BASE = os.environ["BASE"]
OCSP_URL = os.environ["OCSP_URL"]
CACERT = os.environ["PKI_CACERT"]
TOKEN = open(os.environ["PKI_TOKEN_FILE"]).read().split()[0]
WORK = os.environ["WORK"]
SHOTS = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR") or os.path.join(WORK, "screenshots")
DOWNLOADS = os.path.join(WORK, "downloads")
# Names unique to the run, so that a rerun on the same database finds its own.
RID = os.urandom(3).hex()
os.makedirs(SHOTS, exist_ok=True)
os.makedirs(DOWNLOADS, exist_ok=True)


def run(*args, input=None, check=True):
    r = subprocess.run(args, input=input, capture_output=True, text=isinstance(input, str) or input is None)
    if check and r.returncode != 0:
        fail(f"{' '.join(args)} failed: {r.stdout} {r.stderr}")
    return r


def api(method, path, body=None, token=TOKEN):
    args = ["curl", "-sS", "--cacert", CACERT, "-X", method, "-H", f"Authorization: Bearer {token}",
            "-H", "Accept: application/json", "-w", "\n%{http_code}", BASE + path]
    if body is not None:
        args[1:1] = ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
    out = run(*args).stdout
    text, _, code = out.rpartition("\n")
    return int(code), text


def make_driver():
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
              "--disable-gpu", "--no-first-run", "--password-store=basic"):
        opts.add_argument(a)
    # pkid's TLS certificate is from its own root, which this throwaway
    # profile does not hold; curl and openssl check it against ca.pem.
    opts.set_capability("acceptInsecureCerts", True)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    opts.add_experimental_option("prefs", {"download.default_directory": DOWNLOADS,
                                           "download.prompt_for_download": False})
    d = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    d.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": DOWNLOADS})
    d.set_page_load_timeout(60)
    return d


# chromedriver sometimes exits at start on a loaded machine: try thrice.
for attempt in range(3):
    try:
        driver = make_driver()
        break
    except WebDriverException as e:
        if attempt == 2:
            fail(f"chromedriver does not start: {e}")
        time.sleep(2)
# Pages replace what they show: an element read while it is swapped is
# read again.
wait = WebDriverWait(driver, 60, ignored_exceptions=[StaleElementReferenceException])


def by_id(i):
    return wait.until(EC.presence_of_element_located((By.ID, i)))


def page_ready(name):
    wait.until(lambda d: d.find_element(By.ID, "page").get_attribute("data-ready") == name)


def shot(name):
    """A screenshot of the whole page (the window grown to its height)."""
    path = os.path.join(SHOTS, f"{name}.png")
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, min(max(height + 140, 1000), 8000))
    driver.save_screenshot(path)
    driver.set_window_size(1400, 1000)
    print(f"screenshot: {path}", flush=True)


def check_browser_log(where):
    """A console error, an error thrown in a page, a console file that did
    not load, or a CSP violation fails the test. Refused API calls are part
    of the flows (their errors are shown on the page) and are not errors."""
    bad = []
    for e in driver.get_log("browser"):
        msg = e.get("message", "")
        if e.get("level") != "SEVERE":
            continue
        if e.get("source") == "network" and "/ui/" not in msg.split(" ")[0]:
            continue
        bad.append(msg)
    shown = driver.find_element(By.ID, "main").text
    for junk in ("undefined", "[object ", "NaN"):
        if junk in shown:
            bad.append(f"the page shows {junk!r}")
    if re.search(r"(?m)^null$", shown):
        bad.append("the page shows a stray null")
    v = driver.find_element(By.ID, "csp-violations").get_attribute("textContent")
    if v.strip():
        bad.append(f"CSP violation: {v}")
    if bad:
        fail(f"{where}: browser errors: {bad}")
    ok(f"{where}: no console error, no CSP violation")


def go(name):
    driver.execute_script("location.hash = arguments[0]", f"#/{name}")
    page_ready(name)


def wait_download(pattern, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        for f in os.listdir(DOWNLOADS):
            if re.fullmatch(pattern, f):
                p = os.path.join(DOWNLOADS, f)
                time.sleep(0.3)
                return p
        time.sleep(0.2)
    fail(f"no download matching {pattern} in {DOWNLOADS}: {os.listdir(DOWNLOADS)}")


def chain_file():
    p = os.path.join(WORK, "cas.pem")
    code, body = api("GET", "/v1/ca")
    cas = json.loads(body)["cas"]
    with open(p, "w") as f:
        for c in cas:
            f.write(run("curl", "-sS", "--cacert", CACERT, f"{BASE}/v1/ca/{c['name']}/chain").stdout)
    return p


try:
    # --- Serving ---
    print("\n== serving", flush=True)
    hdr = run("curl", "-sS", "-D-", "-o", "/dev/null", "--cacert", CACERT, BASE + "/ui/").stdout
    if "default-src 'none'; script-src 'self'" not in hdr:
        fail(f"/ui/ has no strict CSP: {hdr}")
    ok("/ui/ carries the Content-Security-Policy")
    code = run("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", CACERT, BASE + "/ui/no-such.js").stdout
    if code != "404":
        fail(f"/ui/no-such.js answered {code}, not 404")
    ok("an unknown console path is 404")

    # --- Sign-in, by keyboard alone ---
    print("\n== sign-in (keyboard only)", flush=True)
    driver.get(BASE + "/ui/")
    by_id("token")
    shot("00-signin")
    check_browser_log("sign-in page")
    # The two error channels are live (else the checks below would pass
    # vacuously): a console error reaches the browser log, and an inline
    # script is blocked by the CSP and recorded by the page's listener.
    driver.execute_script("console.error('pki-console-probe')")
    if not any("pki-console-probe" in e.get("message", "") for e in driver.get_log("browser")):
        fail("a console error does not reach the browser log")
    driver.execute_script("const s = document.createElement('script'); s.textContent = 'window.pwned = 1'; document.body.append(s)")
    wait.until(lambda d: d.find_element(By.ID, "csp-violations").get_attribute("textContent").strip())
    if driver.execute_script("return window.pwned") is not None:
        fail("an inline script ran: the CSP does not hold")
    ok(f"an inline script is blocked and recorded: {driver.find_element(By.ID, 'csp-violations').get_attribute('textContent')}")
    driver.execute_script("document.getElementById('csp-violations').replaceChildren(); document.getElementById('csp-violations').hidden = true")
    driver.get_log("browser")
    body = driver.find_element(By.TAG_NAME, "body")
    # Tab from the top of the page: skip link, then the token field.
    ActionChains = webdriver.ActionChains
    ActionChains(driver).send_keys(Keys.TAB).send_keys(Keys.TAB).perform()
    if driver.switch_to.active_element.get_attribute("id") != "token":
        fail(f"two tabs should reach the token field, reached {driver.switch_to.active_element.get_attribute('outerHTML')[:80]}")
    ok("the token field is reached by Tab")
    ActionChains(driver).send_keys("pki_not-a-token" + Keys.ENTER).perform()
    wait.until(lambda d: "UNAUTHENTICATED" in d.find_element(By.ID, "signin-error").text)
    ok(f"a bad token shows the API's refusal: {driver.find_element(By.ID, 'signin-error').text}")
    by_id("token").click()
    ActionChains(driver).send_keys(TOKEN + Keys.ENTER).perform()
    page_ready("overview")
    role = by_id("role").text
    if "admin" not in role:
        fail(f"the admin token signs in as [{role}]")
    ok(f"signed in: {role}")
    if driver.execute_script("return document.cookie") != "":
        fail("the console set a cookie")
    if driver.execute_script("return sessionStorage.getItem('pki.token')") != TOKEN:
        fail("the token is not in sessionStorage")
    ok("the token is in sessionStorage, no cookie")
    # Keyboard navigation to a page: Tab to the nav link, Enter.
    seen = []
    for _ in range(40):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        el = driver.switch_to.active_element
        seen.append((el.get_attribute("id") or el.tag_name) + ":" + (el.text or "")[:20])
        if el.get_attribute("data-page") == "certificates":
            break
    else:
        fail(f"the Certificates link is not reachable by Tab; Tab went through {seen}")
    outline = driver.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
    if outline in ("none", ""):
        fail("the focused link shows no focus outline")
    ok(f"focus is visible ({outline})")
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    page_ready("certificates")
    ok("Certificates opened from the keyboard")

    # --- Overview ---
    go("overview")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#ov-cas tbody tr")) >= 2)
    ok(f"overview lists {len(driver.find_elements(By.CSS_SELECTOR, '#ov-cas tbody tr'))} CAs")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#ov-crls tbody tr")) >= 2)
    crl_row = driver.find_element(By.CSS_SELECTOR, "#ov-crls tbody tr").text
    if not re.search(r"\d{4}-\d\d-\d\d", crl_row):
        fail(f"the overview does not decode the CRLs: {crl_row}")
    ok(f"overview decodes each CA's CRL: {' '.join(crl_row.split())}")
    # Counts by CA, profile and status and the expiry counts come from the
    # statistics snapshot, with no button: refreshed here, shown "as of" its
    # time and equal to GET /v1/stats. A background refresh between the
    # page and the API call moves computedAt: the page is then loaded again.
    code, text = api("POST", "/v1/stats:refresh")
    if code != 200:
        fail(f"POST /v1/stats:refresh: {code} {text}")
    for _ in range(3):
        go("certificates")
        go("overview")
        wait.until(lambda d: "as of" in "".join(e.text for e in d.find_elements(By.ID, "ov-counts-asof")))
        wait.until(lambda d: d.find_elements(By.ID, "ov-expiring-counts"))
        shown = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                 for tr in driver.find_elements(By.CSS_SELECTOR, "#ov-counts tbody tr")]
        as_of = by_id("ov-counts-asof").text
        expiring = by_id("ov-expiring-counts").text
        code, text = api("GET", "/v1/stats")
        if code != 200:
            fail(f"GET /v1/stats: {code} {text}")
        stats = json.loads(text)
        when = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(int(stats.get("computedAt", 0))))
        if f"as of {when}" in as_of:
            break
    else:
        fail(f"the overview's snapshot [{as_of}] is never the API's ({stats.get('computedAt')})")
    want = [[c.get("issuer") or ("(registered)" if c.get("kind") == "external" else "(self-signed)"),
             c.get("profile", ""), c.get("status", ""), str(int(c.get("count", 0)))]
            for c in stats.get("counts", [])]
    if not want or shown != want:
        fail(f"the overview's counts {shown} are not GET /v1/stats's {want}")
    ok(f"overview counts by CA, profile and status equal GET /v1/stats ({len(want)} groups, {as_of})")
    for key, label in (("expiringWithin1d", "within 1d"), ("expiringWithin7d", "within 7d"),
                       ("expiringWithin30d", "within 30d"), ("expired", "expired")):
        if f"{label}: {int(stats.get(key, 0))}" not in expiring:
            fail(f"the overview's expiry counts [{expiring}] do not say {label}: {stats.get(key, 0)}")
    ok(f"overview expiry counts from the snapshot, no button: {expiring}")
    by_id("ov-metrics").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#ov-revocation pre"))
    ok("overview responder figures from /metrics on demand")
    shot("01-overview")
    check_browser_log("overview")

    # --- Issue: one pasted CSR, then two files in one batch, as a zip ---
    print("\n== issue", flush=True)
    csrs = []
    for i in range(3):
        key = os.path.join(WORK, f"cucm{i}.key")
        csr = os.path.join(WORK, f"cucm{i}.csr")
        run("openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
            "-subj", f"/CN=cucm{i}-{RID}.console.test/O=Console", "-addext", f"subjectAltName=DNS:cucm{i}-{RID}.console.test")
        csrs.append(csr)
    go("issue")
    Select(by_id("issue-profile")).select_by_value("tomcat") if by_id("issue-profile").tag_name == "select" else None
    ta = by_id("issue-csr")
    driver.execute_script("arguments[0].value = arguments[1]", ta, open(csrs[0]).read())
    by_id("issue-submit").click()
    wait.until(lambda d: d.find_element(By.ID, "issue-summary").text.startswith("1 issued"))
    serial = re.search(r"serial ([0-9a-f]+)", driver.find_element(By.ID, "issue-results").text).group(1)
    ok(f"one CSR issued from the page: serial {serial}")
    pem = run("curl", "-sS", "--cacert", CACERT, "-H", f"Authorization: Bearer {TOKEN}", f"{BASE}/v1/certificates/{serial}").stdout
    leaf = os.path.join(WORK, "leaf.pem")
    open(leaf, "w").write(pem)
    cas = chain_file()
    v = run("openssl", "verify", "-CAfile", cas, leaf).stdout
    if "OK" not in v:
        fail(f"openssl verify: {v}")
    ok(f"the certificate exists in the API and openssl verifies it: {v.strip()}")
    shot("02-issue")
    driver.execute_script("arguments[0].value = ''", ta)
    by_id("issue-files").send_keys("\n".join(csrs[1:]))
    by_id("issue-submit").click()
    wait.until(lambda d: d.find_element(By.ID, "issue-summary").text.startswith("2 issued"))
    ok("two CSR files issued in one batch call")
    by_id("issue-zip").click()
    z = wait_download(r"certificates\.zip")
    with zipfile.ZipFile(z) as zf:
        if zf.testzip() is not None or len(zf.namelist()) != 2:
            fail(f"the zip is damaged or holds {zf.namelist()}")
        for n in zf.namelist():
            p = os.path.join(WORK, n)
            open(p, "wb").write(zf.read(n))
            first = run("openssl", "x509", "-in", p, "-noout", "-subject").stdout
            if "console.test" not in first:
                fail(f"{n} holds {first}")
            if "OK" not in run("openssl", "verify", "-CAfile", cas, p).stdout:
                fail(f"{n} does not verify")
    ok(f"the zip holds {zf.namelist()}, each verified by openssl")
    check_browser_log("issue")

    # keys:generate, PKCS#12 made in the page.
    by_id("gen-profile").clear()
    by_id("gen-profile").send_keys("tomcat")
    by_id("gen-cn").send_keys(f"keygen-{RID}.console.test")
    by_id("gen-password").send_keys("correct horse battery")
    by_id("gen-submit").click()
    by_id("gen-done")
    by_id("gen-p12").click()
    p12 = wait_download(rf"keygen-{RID}\.console\.test\.p12")
    info = run("openssl", "pkcs12", "-in", p12, "-passin", "pass:correct horse battery", "-nodes").stdout
    if "BEGIN PRIVATE KEY" not in info or f"keygen-{RID}.console.test" not in info:
        fail(f"openssl cannot read the PKCS#12: {info[:300]}")
    bad = run("openssl", "pkcs12", "-in", p12, "-passin", "pass:wrong", "-nodes", check=False)
    if bad.returncode == 0:
        fail("the PKCS#12 opens with a wrong password")
    ok("keys:generate: the PKCS#12 opens with openssl under the typed password (and not another)")
    shot("03-issue-keygen")

    # --- Certificates: find, details, revoke; OCSP says revoked ---
    print("\n== certificates", flush=True)
    go("certificates")
    by_id("f-cn").send_keys(f"cucm0-{RID}.console")
    by_id("find").click()
    wait.until(lambda d: "Page 1: 1 certificate" in d.find_element(By.ID, "find-results").text)
    driver.find_element(By.CSS_SELECTOR, "#find-results button").click()
    wait.until(lambda d: "Subject alternative name" in d.find_element(By.ID, "detail-decoded").text)
    dec = driver.find_element(By.ID, "detail-decoded").text
    for want in (f"DNS:cucm0-{RID}.console.test", "Key usage", "Extended key usage", "Authority information access"):
        if want not in dec:
            fail(f"details do not decode {want}: {dec}")
    ok("details decode the extensions (SAN, key usage, EKU, AIA)")
    shot("04-certificates")
    Select(by_id("revoke-reason")).select_by_value("1")
    by_id("revoke").click()
    by_id("revoke-done")
    ok(f"revoked from the page: {driver.find_element(By.ID, 'revoke-done').text}")
    if by_id("detail-status").text != "revoked" or by_id("revoke").is_enabled():
        fail(f"the details still offer to revoke: status {by_id('detail-status').text!r}, "
             f"Revoke enabled {by_id('revoke').is_enabled()}")
    ok("the details say revoked and Revoke is disabled")
    issuer = os.path.join(WORK, "issuer.pem")
    chain = run("curl", "-sS", "--cacert", CACERT, "-H", f"Authorization: Bearer {TOKEN}", f"{BASE}/v1/certificates/{serial}?format=p7b-pem").stdout
    certs = run("openssl", "pkcs7", "-print_certs", input=chain).stdout
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", certs, re.S)
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
    # A second revocation is refused; the page shows the API's code.
    driver.execute_script("document.getElementById('revoke').disabled = false")
    by_id("revoke").click()
    wait.until(lambda d: "ALREADY_REVOKED" in d.find_element(By.ID, "revoke-error").text)
    ok(f"the API's refusal is shown: {driver.find_element(By.ID, 'revoke-error').text}")
    check_browser_log("certificates")

    # The same flow by keyboard alone: find, open the details, choose the
    # reason, revoke.
    print("\n== revoke by keyboard alone", flush=True)

    def tab_to(element_id, limit=40):
        for _ in range(limit):
            ActionChains(driver).send_keys(Keys.TAB).perform()
            if driver.switch_to.active_element.get_attribute("id") == element_id:
                return
        fail(f"#{element_id} is not reachable by Tab")

    go("overview")
    go("certificates")
    by_id("f-cn").click()
    ActionChains(driver).send_keys(f"cucm1-{RID}.console" + Keys.ENTER).perform()
    wait.until(lambda d: f"cucm1-{RID}" in d.find_element(By.ID, "find-results").text)
    seen = []
    for _ in range(40):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        el = driver.switch_to.active_element
        seen.append(el.get_attribute("id") or el.get_attribute("aria-label") or el.tag_name)
        if (el.get_attribute("aria-label") or "").startswith("Details of "):
            break
    else:
        fail(f"no Details button reachable by Tab; Tab went through {seen}")
    kserial = driver.switch_to.active_element.get_attribute("aria-label").split()[-1]
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "detail-title")
    tab_to("revoke-reason")
    ActionChains(driver).send_keys(Keys.ARROW_DOWN).perform()
    if Select(by_id("revoke-reason")).first_selected_option.get_attribute("value") != "1":
        fail("the arrow key did not choose keyCompromise")
    tab_to("revoke")
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    by_id("revoke-done")
    code, body = api("GET", f"/v1/certificates?cn=cucm1-{RID}.console")
    info = json.loads(body)["certificates"][0]
    if info.get("serial") != kserial or info.get("status") != "revoked" or info.get("revocationReason") != 1:
        fail(f"the keyboard revocation is not in the API: {info}")
    ok(f"revoked {kserial} (keyCompromise) by keyboard alone; the API agrees")
    check_browser_log("keyboard revoke")

    # --- Trust stores ---
    print("\n== trust stores", flush=True)
    ca_key = os.path.join(WORK, "partner.key")
    ca_pem = os.path.join(WORK, "partner.pem")
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_pem, "-days", "365",
        "-subj", "/CN=Partner Console Root/O=Partner", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    go("trust")
    by_id("trust-file").send_keys(ca_pem)
    by_id("trust-upload").click()
    wait.until(lambda d: "added" in d.find_element(By.ID, "trust-result").text)
    by_id("trust-panel").find_element(By.CSS_SELECTOR, "button[aria-label='Delete Partner Console Root']") if wait.until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "button[aria-label='Delete Partner Console Root']")) else None
    code, body = api("GET", "/v1/certificates?usage=trust&store=tomcat-trust")
    if "Partner Console Root" not in body:
        fail(f"the API does not list the uploaded CA: {body}")
    ok("a CA uploaded from the page is in tomcat-trust (API)")
    shot("05-trust")
    driver.find_element(By.CSS_SELECTOR, "button[aria-label='Delete Partner Console Root']").click()
    driver.switch_to.alert.accept()
    wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, "button[aria-label='Delete Partner Console Root']"))
    code, body = api("GET", "/v1/certificates?usage=trust&store=tomcat-trust")
    if "Partner Console Root" in body:
        fail("the deleted entry is still listed by the API")
    ok("deleted from the page, gone from the API")
    # Arrow keys move between store tabs.
    driver.find_element(By.ID, "tab-tomcat-trust").send_keys(Keys.ARROW_RIGHT)
    wait.until(lambda d: d.switch_to.active_element.get_attribute("id") == "tab-CallManager-trust")
    ok("the store tabs follow the arrow keys")
    check_browser_log("trust")

    # --- Self-signed ---
    print("\n== self-signed", flush=True)
    go("identities")
    by_id("ss-cn").send_keys("selfsigned.console.test")
    Select(by_id("ss-years")).select_by_value("10")
    by_id("ss-submit").click()
    done = by_id("ss-done").text
    ss_serial = re.search(r"serial ([0-9a-f]+)", done).group(1)
    code, _ = api("GET", f"/v1/certificates/{ss_serial}")
    if code != 200:
        fail(f"the self-signed certificate {ss_serial} is not served: {code}")
    ok(f"self-signed identity generated: {ss_serial}")
    wait.until(lambda d: ss_serial in d.find_element(By.ID, "ss-list").text)
    driver.find_element(By.CSS_SELECTOR, f"button[aria-label='Regenerate {ss_serial}']").click()
    wait.until(lambda d: f"replaces {ss_serial}" in d.find_element(By.ID, "ss-done").text)
    ok("regenerated: the new one replaces it")
    shot("06-identities")
    check_browser_log("identities")

    # --- Monitor ---
    print("\n== monitor", flush=True)
    go("monitor")
    by_id("mon-days").clear()
    by_id("mon-days").send_keys("45")
    f = by_id("mon-frequency")
    if not f.get_attribute("value"):
        f.send_keys("1d")
    by_id("mon-emails").clear()
    by_id("mon-emails").send_keys("pki-ops@example.com")
    by_id("mon-save").click()
    wait.until(lambda d: d.find_element(By.ID, "mon-error").text or "Saved" in d.find_element(By.ID, "mon-form").text)
    if driver.find_element(By.ID, "mon-error").text:
        fail(f"saving the monitor: {driver.find_element(By.ID, 'mon-error').text}")
    code, body = api("GET", "/v1/monitor")
    cfg = json.loads(body)
    if cfg.get("startDays") != 45 or cfg.get("emails") != ["pki-ops@example.com"]:
        fail(f"the monitor settings did not reach the API: {body}")
    ok("monitor settings saved from the page (API shows them)")
    by_id("exp-days").clear()
    by_id("exp-days").send_keys("45")
    by_id("exp-show").click()
    wait.until(lambda d: "expiring within 45 days" in d.find_element(By.ID, "exp-list").text)
    ok("the expiring list on demand")
    by_id("check-now").click()
    wait.until(lambda d: d.find_element(By.ID, "check-result").is_displayed() or d.find_element(By.ID, "check-error").text)
    if driver.find_element(By.ID, "check-error").text:
        fail(f"check now: {driver.find_element(By.ID, 'check-error').text}")
    ok(f"check now answered: {' '.join(driver.find_element(By.ID, 'check-result').text.split())}")
    shot("07-monitor")
    check_browser_log("monitor")

    # --- Bulk ---
    print("\n== bulk", flush=True)
    go("bulk")
    by_id("bulk-export").click()
    wait.until(lambda d: "PARAMETER_INVALID" in d.find_element(By.ID, "bulk-export-error").text)
    ok(f"export without a cluster: the API's error beside it: {driver.find_element(By.ID, 'bulk-export-error').text}")
    by_id("bulk-cluster").send_keys("lab")
    by_id("bulk-export").click()
    b = wait_download(r"bundle-.*\.json")
    bundle = json.load(open(b))
    if "version" not in bundle and "entries" not in bundle and "cluster" not in bundle:
        fail(f"the exported bundle is not a Bundle: {bundle}")
    ok(f"bundle exported ({len(bundle.get('entries', []))} entries)")
    shot("08-bulk")
    check_browser_log("bulk")

    # --- Access: a reader token, then sign in with it ---
    print("\n== access and roles", flush=True)
    go("access")
    Select(by_id("tok-role")).select_by_value("revoker")
    by_id("tok-name").send_keys("console-revoker")
    by_id("tok-create").click()
    wait.until(lambda d: "pki_" in d.find_element(By.ID, "tok-made").text)
    rtoken = re.search(r"(pki_[A-Za-z0-9_-]+)", driver.find_element(By.ID, "tok-made").text).group(1)
    wait.until(lambda d: "console-revoker" in d.find_element(By.ID, "tokens").text)
    ok("a revoker token made from the page is listed")
    shot("09-access")
    check_browser_log("access")

    # --- Audit log: filter by action, see the token made above; a bad
    # filter shows the API's code; pages follow the cursor ---
    print("\n== audit log", flush=True)
    go("audit")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#audit-rows tr")) >= 1)
    for control in ("audit-actor", "audit-action", "audit-object", "audit-outcome", "audit-since", "audit-until", "audit-limit"):
        if not driver.find_elements(By.CSS_SELECTOR, f"label[for='{control}']"):
            fail(f"#{control} has no label")
    ok("every filter of the audit page is labelled")
    by_id("audit-action").click()
    ActionChains(driver).send_keys("token.create" + Keys.ENTER).perform()
    # The unfiltered page holds the revoker's token.create row too: wait for
    # the filtered page itself (every row of that action), which replaces
    # the rows read so far (a stale row is read again by the wait).
    def audit_actions(d):
        return {r.find_elements(By.TAG_NAME, "td")[2].text for r in d.find_elements(By.CSS_SELECTOR, "#audit-rows tr")}

    try:
        wait.until(lambda d: "name=console-revoker" in d.find_element(By.ID, "audit-rows").text
                   and audit_actions(d) == {"token.create"})
    except TimeoutException:
        fail(f"the action filter shows other actions: {audit_actions(driver)}")
    ok("filtered by action (keyboard): the revoker token made on the Access page is there")
    code, body = api("GET", "/v1/audit?action=token.create&limit=1000")
    if len(json.loads(body).get("events", [])) != len(driver.find_elements(By.CSS_SELECTOR, "#audit-rows tr")):
        fail(f"the page and the API disagree on token.create rows: {body[:300]}")
    ok("the page shows as many token.create rows as the API")
    by_id("audit-action").clear()
    by_id("audit-action").send_keys("revo*")
    by_id("audit-object").send_keys(serial)
    by_id("audit-show").click()
    wait.until(lambda d: serial in d.find_element(By.ID, "audit-rows").text)
    ok(f"a prefix and an object: the revocation of {serial} made on the Certificates page")
    shot("10-audit")
    by_id("audit-object").clear()
    by_id("audit-action").clear()
    by_id("audit-since").send_keys("yesterday")
    by_id("audit-show").click()
    wait.until(lambda d: "AUDIT_TIME_INVALID" in d.find_element(By.ID, "audit-error").text)
    ok(f"a bad filter shows the API's code and message: {driver.find_element(By.ID, 'audit-error').text}")
    by_id("audit-since").clear()
    by_id("audit-limit").clear()
    by_id("audit-limit").send_keys("3")
    by_id("audit-show").click()
    wait.until(lambda d: not d.find_element(By.ID, "audit-error").text and len(d.find_elements(By.CSS_SELECTOR, "#audit-rows tr")) == 3)
    by_id("audit-more")
    wait.until(lambda d: d.find_element(By.ID, "audit-more").is_displayed())
    tab_to("audit-more")
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#audit-rows tr")) == 6)
    rows = [tuple(td.text for td in r.find_elements(By.TAG_NAME, "td"))[:4] for r in driver.find_elements(By.CSS_SELECTOR, "#audit-rows tr")]
    code, body = api("GET", "/v1/audit?limit=6")
    want = [(e.get("actor", ""), e.get("action", ""), e.get("object", "")) for e in json.loads(body)["events"]]
    if [r[1:] for r in rows] != want:
        fail(f"the two pages are not the API's first six events: {rows} != {want}")
    ok("More (by keyboard) adds the next page: 6 distinct rows, as the API's first 6")
    shot("10b-audit-pages")
    check_browser_log("audit")
    go("overview")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#ov-audit tbody tr")) >= 1)
    if "token.create" not in driver.find_element(By.ID, "ov-audit").text:
        fail(f"the overview's last audit events miss the token: {driver.find_element(By.ID, 'ov-audit').text}")
    ok("the overview lists the last audit events")
    check_browser_log("overview audit events")
    by_id("signout").click()
    by_id("token").send_keys(rtoken + Keys.ENTER)
    page_ready("overview")
    if "revoker" not in by_id("role").text:
        fail(f"the revoker token signs in as {by_id('role').text}")
    hidden = driver.execute_script("return [...document.querySelectorAll('#nav li')].filter(l => l.hidden).map(l => l.textContent)")
    if sorted(hidden) != sorted(["Issue", "Self-signed", "Bulk", "Access", "Audit log"]):
        fail(f"a revoker should not see Issue, Self-signed, Bulk, Access, Audit log; hidden: {hidden}")
    ok(f"a revoker's console hides {hidden}")
    wait.until(lambda d: "Only admins read the audit log" in d.find_element(By.ID, "ov-audit").text)
    ok("a revoker's overview says the audit log is for admins")
    go("audit")
    if "needs the admin role" not in driver.find_element(By.ID, "page").text:
        fail("the Audit log page opens for a revoker")
    ok("the Audit log page is closed to a revoker")
    go("issue")
    if "needs the issuer role" not in driver.find_element(By.ID, "page").text:
        fail("the Issue page opens for a revoker")
    ok("the Issue page is closed to a revoker")
    shot("11-revoker")
    check_browser_log("revoker")

    # An issuer limited to tomcat: Issue shows, admin pages do not, and a
    # profile outside the token is refused by the API on the page.
    itoken = run("curl", "-sS", "--cacert", CACERT, "-X", "POST", "-H", f"Authorization: Bearer {TOKEN}",
                 f"{BASE}/v1/tokens?role=issuer&profiles=tomcat&name=console-issuer").stdout.strip()
    if not itoken.startswith("pki_"):
        fail(f"cannot make an issuer token: {itoken}")
    by_id("signout").click()
    by_id("token").send_keys(itoken + Keys.ENTER)
    page_ready("overview")
    if "issuer" not in by_id("role").text:
        fail(f"the issuer token signs in as {by_id('role').text}")
    hidden = driver.execute_script("return [...document.querySelectorAll('#nav li')].filter(l => l.hidden).map(l => l.textContent)")
    if sorted(hidden) != sorted(["Bulk", "Access", "Audit log"]):
        fail(f"an issuer should not see Bulk, Access and Audit log only; hidden: {hidden}")
    ok(f"an issuer's console hides {hidden}")
    go("issue")
    by_id("issue-profile").clear()
    by_id("issue-profile").send_keys("ipsec")
    driver.execute_script("arguments[0].value = arguments[1]", by_id("issue-csr"), open(csrs[2]).read())
    by_id("issue-submit").click()
    wait.until(lambda d: "FORBIDDEN" in d.find_element(By.ID, "issue-error").text)
    ok(f"a profile outside the token: the API's refusal beside the form: {driver.find_element(By.ID, 'issue-error').text}")
    shot("12-issuer-refused")
    check_browser_log("issuer")

    # Performance: first-contentful-paint of the overview, printed only.
    fcp = driver.execute_script("return (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime")
    print(f"first-contentful-paint of the last load: {fcp} ms", flush=True)
finally:
    driver.quit()

print(f"\nPASS: {CHECKS} checks")
