"""A small WebDriver BiDi client for the console's Firefox tests.

Debian has Firefox ESR but no geckodriver; Firefox speaks WebDriver BiDi
itself. Started with --remote-debugging-port=0 it picks a free port and
writes it to WebDriverBiDiServer.json in its profile; the client connects to
ws://127.0.0.1:PORT/session (python3-websocket), makes a session, and
drives one tab with the commands the tests need. Events (log.entryAdded)
that arrive between answers are kept in order in `entries`.

Firefox runs in a process group of its own, in a profile and HOME the
caller gives: close() ends the session (browser.close), then the group
(SIGTERM, then SIGKILL after a grace period), so no process outlives the
test.
"""
import base64
import json
import os
import re
import signal
import subprocess
import time

try:
    import websocket
except ImportError as e:  # the caller reports it as a failure, not a skip
    raise SystemExit(f"FAIL: python3-websocket is not installed ({e}): the Firefox tests cannot run")

# Preferences of a test profile: no first-run pages, no updates, telemetry
# or remote settings (no network here), no password prompts. Firefox adds its
# own recommended automation preferences when its remote agent starts.
BASE_PREFS = {
    "app.update.disabledForTesting": True,
    "app.update.auto": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.aboutwelcome.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.server": "",
    "services.settings.server": "data:,",
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "extensions.update.enabled": False,
    "signon.rememberSignons": False,
    "app.normandy.enabled": False,
}


class BiDiError(Exception):
    pass


def exit_on_signals():
    """SIGTERM, SIGHUP and SIGINT (a test timeout, an interrupted run) end
    the test through SystemExit, so that its `finally` closes the browsers:
    Firefox runs in a process group of its own, which a kill of the test's
    group does not reach."""
    def handler(signum, _frame):
        raise SystemExit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, handler)


class Firefox:
    """One headless Firefox and one BiDi session on its first tab."""

    def __init__(self, binary, profile, home, log_path, prefs=None, start_timeout=90):
        self.binary = binary
        self.profile = profile
        self.home = home
        self.log_path = log_path
        self.prefs = dict(BASE_PREFS, **(prefs or {}))
        self.start_timeout = start_timeout
        self.proc = None
        self.ws = None
        self.next_id = 0
        self.entries = []
        self.prompts = []
        self.replies = {}
        self.context = None

    # --- process ---

    def start(self, attempts=3):
        """Starts Firefox and the session; a start that fails (Firefox
        exiting early on a loaded machine) is tried again from scratch."""
        for attempt in range(attempts):
            try:
                return self._start()
            except (BiDiError, OSError, websocket.WebSocketException) as e:
                self.close()
                if attempt == attempts - 1:
                    raise BiDiError(f"{e} (after {attempts} attempts)")
                time.sleep(2)

    def _start(self):
        os.makedirs(self.profile, exist_ok=True)
        os.makedirs(self.home, exist_ok=True)
        with open(os.path.join(self.profile, "user.js"), "w") as f:
            for k, v in self.prefs.items():
                f.write(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n")
        portfile = os.path.join(self.profile, "WebDriverBiDiServer.json")
        if os.path.exists(portfile):
            os.remove(portfile)
        env = dict(os.environ, HOME=self.home, MOZ_CRASHREPORTER_DISABLE="1", MOZ_HEADLESS="1")
        env.pop("DISPLAY", None)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "--headless", "--no-remote", "--remote-debugging-port=0",
             "--profile", self.profile, "about:blank"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            start_new_session=True)
        log.close()
        deadline = time.time() + self.start_timeout
        port = None
        while port is None:
            if self.proc.poll() is not None:
                raise BiDiError(f"firefox exited ({self.proc.returncode}) before its BiDi server was up; see {self.log_path}")
            if time.time() > deadline:
                raise BiDiError(f"firefox wrote no {portfile} within {self.start_timeout} s; see {self.log_path}")
            try:
                with open(portfile) as f:
                    port = json.load(f)["ws_port"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.2)
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}/session", timeout=30,
                                              suppress_origin=True)
        # A confirm() stays open for the test to answer (click_and_answer);
        # any other prompt is dismissed and reported (console_problems).
        caps = self.send("session.new", {"capabilities": {"alwaysMatch": {
            "acceptInsecureCerts": True,
            "unhandledPromptBehavior": {"confirm": "ignore", "default": "dismiss and notify"}}}})
        self.version = caps["capabilities"].get("browserVersion", "?")
        self.send("session.subscribe", {"events": ["log.entryAdded", "browsingContext.userPromptOpened"]})
        tree = self.send("browsingContext.getTree", {"maxDepth": 0})
        self.context = tree["contexts"][0]["context"]
        self.send("browsingContext.setViewport", {"context": self.context,
                                                  "viewport": {"width": 1400, "height": 1000}})
        return self

    def close(self):
        """Ends the session and Firefox; safe to call twice."""
        if self.ws is not None:
            try:
                self.send("browser.close", {}, timeout=15)
            except Exception:  # closing anyway: the process group goes below
                pass
            try:
                self.ws.close()
            except Exception:
                pass
            self.ws = None
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        # Content processes are in the same group; end any left.
        for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            end = time.time() + grace
            while time.time() < end:
                try:
                    os.killpg(self.proc.pid, 0)
                except ProcessLookupError:
                    break
                self.proc.poll()
                time.sleep(0.1)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self.proc = None

    # --- protocol ---

    def send(self, method, params, timeout=60):
        """Sends one command and returns its result; events received
        meanwhile go to `entries` and `prompts`."""
        return self.result(self.post(method, params), method, timeout)

    def post(self, method, params):
        """Sends one command without waiting; result() collects its answer."""
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        return self.next_id

    def _receive(self, deadline, what):
        """One message: events are recorded, answers kept by id."""
        left = deadline - time.time()
        if left <= 0:
            raise BiDiError(f"{what}: no answer within the time allowed")
        self.ws.settimeout(left)
        try:
            msg = json.loads(self.ws.recv())
        except websocket.WebSocketTimeoutException:
            raise BiDiError(f"{what}: no answer within the time allowed")
        if msg.get("type") == "event":
            if msg.get("method") == "log.entryAdded":
                self.entries.append(msg["params"])
            elif msg.get("method") == "browsingContext.userPromptOpened":
                self.prompts.append(msg["params"])
        elif "id" in msg:
            self.replies[msg["id"]] = msg

    def result(self, mid, method, timeout=60):
        deadline = time.time() + timeout
        while mid not in self.replies:
            self._receive(deadline, f"{method} ({timeout} s)")
        msg = self.replies.pop(mid)
        if msg.get("type") == "error":
            raise BiDiError(f"{method}: {msg.get('error')}: {msg.get('message')}")
        return msg["result"]

    def answer_prompt(self, accept, timeout=60):
        """Waits for the page's next confirm() (left open by the session's
        unhandledPromptBehavior) and accepts or dismisses it
        (browsingContext.handleUserPrompt); returns its message."""
        deadline = time.time() + timeout
        while not self.prompts:
            self._receive(deadline, f"a prompt ({timeout} s)")
        prompt = self.prompts.pop(0)
        if prompt.get("handler") != "ignore":
            raise BiDiError(f"a {prompt.get('type')} was opened and handled as {prompt.get('handler')}: {prompt.get('message')}")
        self.send("browsingContext.handleUserPrompt", {"context": prompt["context"], "accept": accept})
        return prompt.get("message", "")

    @staticmethod
    def value(remote):
        """A BiDi remote value as a Python value (nodes stay references)."""
        t = remote.get("type")
        if t in ("undefined", "null"):
            return None
        if t in ("string", "boolean"):
            return remote["value"]
        if t == "number":
            # NaN, -0, Infinity and -Infinity come as strings.
            v = remote["value"]
            return float(v.replace("Infinity", "inf")) if isinstance(v, str) else v
        if t in ("array", "set"):
            return [Firefox.value(x) for x in remote.get("value", [])]
        if t == "object":
            return {k if isinstance(k, str) else Firefox.value(k): Firefox.value(v) for k, v in remote.get("value", [])}
        if t == "node":
            return {"sharedId": remote["sharedId"]}
        return remote

    def _answer(self, r, what):
        if r.get("type") == "exception":
            d = r.get("exceptionDetails", {})
            raise BiDiError(f"{what}: {d.get('text')}")
        return self.value(r["result"])

    def eval(self, expression, timeout=60):
        """Evaluates |expression| in the tab (promises awaited)."""
        r = self.send("script.evaluate", {"expression": expression, "target": {"context": self.context},
                                          "awaitPromise": True, "resultOwnership": "root"}, timeout)
        return self._answer(r, expression[:80])

    def call(self, function, *args, timeout=60):
        """Calls the JavaScript function source |function| with |args|
        (str, int, float, bool, None, or a node reference)."""
        def arg(a):
            if a is None:
                return {"type": "null"}
            if isinstance(a, bool):
                return {"type": "boolean", "value": a}
            if isinstance(a, (int, float)):
                return {"type": "number", "value": a}
            if isinstance(a, str):
                return {"type": "string", "value": a}
            if isinstance(a, dict) and "sharedId" in a:
                return a
            raise TypeError(f"cannot pass {a!r}")
        r = self.send("script.callFunction", {"functionDeclaration": function, "arguments": [arg(a) for a in args],
                                              "target": {"context": self.context}, "awaitPromise": True,
                                              "resultOwnership": "root"}, timeout)
        return self._answer(r, function[:80])

    def navigate(self, url):
        self.send("browsingContext.navigate", {"context": self.context, "url": url, "wait": "complete"})

    def wait(self, expression, what, timeout=60):
        """Polls |expression| until it is truthy; returns its value."""
        deadline = time.time() + timeout
        last = None
        while True:
            try:
                v = self.eval(expression)
                if v:
                    return v
                last = v
            except BiDiError as e:  # a page being replaced: ask again
                last = str(e)
            if time.time() > deadline:
                raise BiDiError(f"waited {timeout} s for {what}; last: {last!r}")
            time.sleep(0.2)

    def element(self, css):
        el = self.call("(s) => document.querySelector(s)", css)
        if not el:
            raise BiDiError(f"no element {css}")
        return el

    # --- real input (input.performActions) ---

    def _click_actions(self, css):
        """The actions of a click on |css|, once the element is in view and
        has stopped moving (a page still laying out, or moving focus, may
        scroll it away again between two frames)."""
        deadline = time.time() + 30
        while True:
            el = self.element(css)
            inside = self.call("""async (e) => {
                e.scrollIntoView({block: 'center', behavior: 'instant'});
                const at = () => JSON.stringify(e.getBoundingClientRect());
                const before = at();
                await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
                const b = e.getBoundingClientRect();
                return before === at() && b.top >= 0 && b.bottom <= innerHeight && b.left >= 0 && b.right <= innerWidth;
            }""", el)
            if inside:
                break
            if time.time() > deadline:
                raise BiDiError(f"{css} does not stay in view")
            time.sleep(0.2)
        return {"context": self.context, "actions": [{
            "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"},
            "actions": [{"type": "pointerMove", "x": 0, "y": 0, "origin": {"type": "element", "element": el}},
                        {"type": "pointerDown", "button": 0}, {"type": "pointerUp", "button": 0}]}]}

    def click(self, css):
        """A mouse click in the middle of the element, as a person would.
        Should the page move it out of view between the check and the
        click, Firefox refuses the move and nothing was clicked: again."""
        for attempt in range(3):
            try:
                self.send("input.performActions", self._click_actions(css))
                break
            except BiDiError as e:
                if "out of bounds" not in str(e) or attempt == 2:
                    raise
                time.sleep(0.3)
        self.send("input.releaseActions", {"context": self.context})

    def click_and_answer(self, css, accept):
        """Clicks an element that opens a confirm() and answers it; returns
        the prompt's message. The click's answer comes once the prompt is
        closed (the page waits on it), so it is collected afterwards."""
        mid = self.post("input.performActions", self._click_actions(css))
        msg = self.answer_prompt(accept)
        self.result(mid, "input.performActions")
        self.send("input.releaseActions", {"context": self.context})
        return msg

    def keys(self, text):
        """Types |text| into the focused element ("\\ue007" is Enter,
        "\\ue004" Tab)."""
        acts = []
        for ch in text:
            acts += [{"type": "keyDown", "value": ch}, {"type": "keyUp", "value": ch}]
        self.send("input.performActions", {"context": self.context, "actions": [
            {"type": "key", "id": "keyboard", "actions": acts}]})
        self.send("input.releaseActions", {"context": self.context})

    def set_files(self, css, paths):
        """Chooses |paths| in the file input |css| (input.setFiles), as the
        file picker would."""
        self.send("input.setFiles", {"context": self.context, "element": self.element(css), "files": list(paths)})

    def screenshot(self, path):
        r = self.send("browsingContext.captureScreenshot", {"context": self.context, "origin": "document"})
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))
        return path

    def take_entries(self):
        """The log entries received so far (a round trip first, so that
        those the page logged before now have arrived)."""
        self.eval("0")
        out, self.entries = self.entries, []
        return out


# --- what the console tests count as a browser error ---

def bad_entries(entries):
    """Console errors, uncaught exceptions and CSP reports among log
    entries. A refused API call is part of a flow (the page shows it) and
    Firefox does not log it."""
    bad = []
    for e in entries:
        text = e.get("text") or ""
        if e.get("level") == "error" or re.search(r"Content[- ]Security[- ]Policy", text, re.I):
            src = (e.get("stackTrace") or {}).get("callFrames") or [{}]
            bad.append(f"{e.get('type')}/{e.get('level')}: {text} ({src[0].get('url', '')})")
    return bad


def console_problems(ff):
    """Everything wrong on the console's page now: log entries since the
    last call, junk shown as text, and the page's own record of CSP
    violations (#csp-violations, filled by app.js)."""
    entries = ff.take_entries()
    for e in entries:  # shown, not failed: a warning may be worth a look
        if e.get("level") == "warn":
            print(f"     firefox warning: {e.get('text')}", flush=True)
    bad = bad_entries(entries)
    bad += [f"an unexpected {p.get('type')} ({p.get('handler')}): {p.get('message')}" for p in ff.prompts]
    ff.prompts = []
    shown = ff.eval("document.getElementById('main').innerText")
    for junk in ("undefined", "[object ", "NaN"):
        if junk in shown:
            bad.append(f"the page shows {junk!r}")
    v = ff.eval("document.getElementById('csp-violations').textContent").strip()
    if v:
        bad.append(f"CSP violation: {v}")
    return bad
