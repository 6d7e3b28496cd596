#!/usr/bin/python3
"""First paint of each console page, measured in headless Chromium
(bench/console_paint.sh starts pkid on the loaded database).

Each page is loaded afresh (about:blank, then /ui/#/PAGE) --rounds times;
per load: first-contentful-paint (Chromium's paint timing) and ready (the
page's mark pki-ready-PAGE, set once its data is on screen), both in ms
from navigation start. The reference, loaded between the pages of every
round so that the noise of a shared machine falls on both alike, is the
sign-in page (no API call): ratio = page / reference. One JSON object per
line; medians over the rounds. Measured, not asserted.
"""
import json
import os
import shutil
import statistics
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

BASE = os.environ["BASE"]
TOKEN = open(os.environ["TOKEN_FILE"]).read().split()[0]
ROWS = int(os.environ["ROWS"])
ROUNDS = int(os.environ["ROUNDS"])
PAGES = ["overview", "certificates", "issue", "identities", "trust", "monitor", "bulk", "access", "audit"]

opts = webdriver.ChromeOptions()
opts.binary_location = shutil.which("chromium")
for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000", "--disable-gpu"):
    opts.add_argument(a)
opts.set_capability("acceptInsecureCerts", True)
driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
wait = WebDriverWait(driver, 300)

FCP = "return (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime"


def load(page):
    driver.get("about:blank")
    driver.get(f"{BASE}/ui/#/{page}" if page else f"{BASE}/ui/")
    if page:
        wait.until(lambda d: d.execute_script(f"return performance.getEntriesByName('pki-ready-{page}').length"))
        ready = driver.execute_script(f"return performance.getEntriesByName('pki-ready-{page}')[0].startTime")
    else:
        wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
        ready = None
    wait.until(lambda d: d.execute_script(FCP) is not None)
    return driver.execute_script(FCP), ready


try:
    driver.get(f"{BASE}/ui/")
    results = {p: {"fcp": [], "ready": [], "ref": []} for p in PAGES}
    for r in range(ROUNDS):
        for p in PAGES:
            driver.execute_script("sessionStorage.removeItem('pki.token')")
            ref, _ = load("")
            driver.execute_script("sessionStorage.setItem('pki.token', arguments[0])", TOKEN)
            fcp, ready = load(p)
            results[p]["fcp"].append(fcp)
            results[p]["ready"].append(ready)
            results[p]["ref"].append(ref)
            print(f"console_paint: round {r + 1} {p}: fcp {fcp:.0f} ms, ready {ready:.0f} ms (reference {ref:.0f} ms)",
                  file=sys.stderr, flush=True)
    for p in PAGES:
        fcp = statistics.median(results[p]["fcp"])
        ready = statistics.median(results[p]["ready"])
        ref = statistics.median(results[p]["ref"])
        print(json.dumps({"bench": "console_paint", "page": p, "rows": ROWS, "rounds": ROUNDS,
                          "fcp_ms": round(fcp, 1), "ready_ms": round(ready, 1), "reference_fcp_ms": round(ref, 1),
                          "fcp_ratio": round(fcp / ref, 2) if ref else None,
                          "fcp_under_300ms": fcp < 300, "ready_under_300ms": ready < 300}), flush=True)
finally:
    driver.quit()
