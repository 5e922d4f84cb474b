"""Drive Debian's headless chromium through the DevTools protocol, over a pipe.

``--remote-debugging-pipe`` makes chromium read protocol messages from fd 3
and write them to fd 4, each a JSON object ended by a NUL byte: no port, no
websocket library.  One reader thread splits the stream; answers go to the
command that waits for them, events into a list the test waits on (by
condition, with an upper bound only so that a broken browser fails the test
instead of hanging it).

    with Browser.start(profile_dir) as browser:
        page = browser.new_page()
        page.goto("http://127.0.0.1:8000/index.html")
        page.evaluate("document.title")
        page.screenshot(path)
        page.requested_urls, page.console_errors
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HANG_GUARD_SECONDS = 120.0  # a bound for a broken browser, not a timing the test relies on
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--remote-debugging-pipe",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
    "--metrics-recording-only",
    "--password-store=basic",
    "--use-mock-keychain",
    "--window-size=1200,1400",
)


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


class BrowserError(Exception):
    pass


@dataclass
class _Pending:
    done: threading.Event = field(default_factory=threading.Event)
    answer: dict[str, Any] | None = None


class Browser:
    def __init__(self, process: subprocess.Popen[bytes], to_browser: int, from_browser: int):
        self._process = process
        self._to_browser = to_browser
        self._from_browser = from_browser
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._next_id = 0
        self._pending: dict[int, _Pending] = {}
        self.events: list[dict[str, Any]] = []
        self._closed = False
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    @classmethod
    @contextlib.contextmanager
    def start(cls, profile_dir: Path) -> Iterator[Browser]:
        binary = chromium_binary()
        if binary is None:
            raise BrowserError("chromium is not installed (scripts/setup-test-env installs it)")
        chrome_reads, we_write = os.pipe()
        we_read, chrome_writes = os.pipe()

        def onto_fds_3_and_4() -> None:
            high_in = fcntl.fcntl(chrome_reads, fcntl.F_DUPFD, 10)
            high_out = fcntl.fcntl(chrome_writes, fcntl.F_DUPFD, 10)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=onto_fds_3_and_4,
            pass_fds=(3, 4),
            close_fds=True,
        )
        os.close(chrome_reads)
        os.close(chrome_writes)
        browser = cls(process, we_write, we_read)
        try:
            yield browser
        finally:
            browser.close()

    # --- transport ---

    def _read_loop(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._changed:
                    self._closed = True
                    for pending in self._pending.values():
                        pending.done.set()
                    self._changed.notify_all()
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                with self._changed:
                    if "id" in message and message["id"] in self._pending:
                        pending = self._pending.pop(message["id"])
                        pending.answer = message
                        pending.done.set()
                    else:
                        self.events.append(message)
                    self._changed.notify_all()

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._closed:
                raise BrowserError("the browser has exited")
            self._next_id += 1
            message_id = self._next_id
            pending = _Pending()
            self._pending[message_id] = pending
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        if not pending.done.wait(HANG_GUARD_SECONDS) or pending.answer is None:
            raise BrowserError(f"{method}: no answer from the browser")
        if "error" in pending.answer:
            raise BrowserError(f"{method}: {pending.answer['error']}")
        return pending.answer.get("result", {})

    def wait_for_event(
        self, accept: Callable[[dict[str, Any]], bool], what: str, start: int = 0
    ) -> dict[str, Any]:
        """The first event from index ``start`` on that ``accept`` takes; waits for it."""
        with self._changed:
            seen = start
            while True:
                for event in self.events[seen:]:
                    if accept(event):
                        return event
                seen = len(self.events)
                if self._closed:
                    raise BrowserError(f"the browser exited while waiting for {what}")
                if not self._changed.wait(HANG_GUARD_SECONDS):
                    raise BrowserError(f"no {what} from the browser")

    def new_page(self) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        page = Page(self, session)
        for domain in ("Page", "Network", "Runtime", "Log"):
            page.send(f"{domain}.enable")
        return page

    def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):
            self.send("Browser.close")
        try:
            self._process.wait(timeout=HANG_GUARD_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        with contextlib.suppress(OSError):
            os.close(self._to_browser)
        self._reader.join(timeout=HANG_GUARD_SECONDS)
        with contextlib.suppress(OSError):
            os.close(self._from_browser)


class Page:
    def __init__(self, browser: Browser, session: str) -> None:
        self.browser = browser
        self.session = session

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self.browser.send(method, params, self.session)
        return result

    def _mine(self) -> list[dict[str, Any]]:
        return [e for e in list(self.browser.events) if e.get("sessionId") == self.session]

    def goto(self, url: str) -> None:
        start = len(self.browser.events)
        self.send("Page.navigate", {"url": url})
        self.browser.wait_for_event(
            lambda e: e.get("sessionId") == self.session and e["method"] == "Page.loadEventFired",
            f"load event for {url}",
            start,
        )
        # Every request the page started has finished or failed: none still in flight.
        self.wait_until("document.readyState === 'complete'")

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def wait_until(self, expression: str) -> None:
        """Evaluate ``expression`` in the page until it is true (a promise resolved by rAF)."""
        self.evaluate(
            "new Promise(resolve => { const check = () => (" + expression + ") ? resolve(true)"
            " : requestAnimationFrame(check); check(); })"
        )

    def type_into(self, selector: str, text: str) -> None:
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.send("Input.insertText", {"text": text})

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data["data"]))
        return path

    @property
    def requested_urls(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self._mine()
            if e["method"] == "Network.requestWillBeSent"
        ]

    @property
    def failed_requests(self) -> list[str]:
        failed = [
            f"{e['params'].get('errorText')} ({e['params'].get('blockedReason', '')})"
            for e in self._mine()
            if e["method"] == "Network.loadingFailed"
        ]
        failed += [
            f"{e['params']['response']['url']}: HTTP {e['params']['response']['status']}"
            for e in self._mine()
            if e["method"] == "Network.responseReceived"
            and e["params"]["response"]["status"] >= 400
        ]
        return failed

    @property
    def console_errors(self) -> list[str]:
        errors = []
        for event in self._mine():
            params = event["params"]
            if event["method"] == "Runtime.exceptionThrown":
                errors.append(str(params["exceptionDetails"].get("text")))
            elif event["method"] == "Runtime.consoleAPICalled" and params["type"] in (
                "error",
                "assert",
            ):
                errors.append(" ".join(str(a.get("value")) for a in params["args"]))
            elif event["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
                errors.append(params["entry"]["text"])
        return errors
