"""Drives `hydranet serve`'s page (GET /) in real headless Chromium over the DevTools protocol.

Usage: serve_page.py URL IMAGE SCREENSHOT.png
Opens URL at phone width, puts IMAGE into the page's file input (DOM.setFileInputFiles, as a
user's pick would), waits for the page to show its answer, saves a screenshot and prints what
the page shows as JSON: {task: {"value": v} | {"label": l, "probabilities": {class: p}}}.
Python's standard library only (a minimal WebSocket client); bounded waits; exits non-zero
with a message on any failure.
"""
import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request


class WebSocket:
    def __init__(self, url):
        assert url.startswith("ws://")
        hostport, path = url[5:].split("/", 1)
        host, port = hostport.rsplit(":", 1)
        # Generous hang guards: on a loaded 2-core CI machine Chromium can take a while.
        self.sock = socket.create_connection((host, int(port)), timeout=180)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise RuntimeError("websocket handshake failed")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError(f"websocket handshake refused: {head!r}")
        self.next_id = 0

    def send(self, text):
        data = text.encode()
        header = bytes([0x81])
        n = len(data)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _exact(self, n):
        out = b""
        while len(out) < n:
            chunk = self.sock.recv(n - len(out))
            if not chunk:
                raise RuntimeError("websocket closed")
            out += chunk
        return out

    def receive(self):
        message = b""
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._exact(8))[0]
            payload = self._exact(n)
            message += payload
            if b0 & 0x80:
                return message.decode()

    def call(self, method, **params):
        self.next_id += 1
        self.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self.receive())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")


def wait_for(ws, expression, what, seconds=180):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ws.evaluate(expression):
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


SHOWN = """
(() => {
  const out = {};
  for (const s of document.querySelectorAll('#results section[data-task]')) {
    const v = s.querySelector('.value');
    if (v) { out[s.dataset.task] = {value: parseFloat(v.dataset.value), text: v.textContent}; continue; }
    const probabilities = {};
    for (const r of s.querySelectorAll('.row')) probabilities[r.dataset.class] = parseFloat(r.dataset.probability);
    out[s.dataset.task] = {label: s.dataset.label, probabilities};
  }
  return JSON.stringify(out);
})()
"""


def main():
    url, image, screenshot = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        sys.exit("chromium is not installed (scripts/setup --test installs it)")
    profile = tempfile.mkdtemp(prefix="hydranet-chromium-")
    process = subprocess.Popen([browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                "--no-first-run", "--no-default-browser-check", "--remote-debugging-port=0",
                                "--remote-debugging-address=127.0.0.1", f"--user-data-dir={profile}",
                                "--window-size=400,820", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.monotonic() + 180
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(open(port_file).read().split()[0])
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=120))
        page = next(t for t in targets if t["type"] == "page")
        ws = WebSocket(page["webSocketDebuggerUrl"])
        ws.call("Page.enable")
        ws.call("Emulation.setDeviceMetricsOverride", width=400, height=820, deviceScaleFactor=1, mobile=True)
        ws.call("Page.navigate", url=url)
        wait_for(ws, "document.readyState === 'complete' && !!document.getElementById('file')", "the page")
        wait_for(ws, "document.getElementById('model').textContent.includes('·')", "the model description")
        root = ws.call("DOM.getDocument")["root"]["nodeId"]
        node = ws.call("DOM.querySelector", nodeId=root, selector="#file")["nodeId"]
        ws.call("DOM.setFileInputFiles", files=[image], nodeId=node)
        wait_for(ws, "['done', 'error'].includes(document.getElementById('results').dataset.state)", "the answer")
        state = ws.evaluate("document.getElementById('results').dataset.state")
        if state != "done":
            raise RuntimeError("the page shows an error: " + ws.evaluate("document.getElementById('status').textContent"))
        wait_for(ws, "document.getElementById('preview').complete", "the preview")
        shown = json.loads(ws.evaluate(SHOWN))
        # The whole page (photo and every task's answer) in one phone-width picture.
        height = int(ws.evaluate("document.documentElement.scrollHeight"))
        ws.call("Emulation.setDeviceMetricsOverride", width=400, height=max(820, height), deviceScaleFactor=1, mobile=True)
        time.sleep(0.2)
        png = base64.b64decode(ws.call("Page.captureScreenshot", format="png")["data"])
        os.makedirs(os.path.dirname(os.path.abspath(screenshot)), exist_ok=True)
        with open(screenshot, "wb") as f:
            f.write(png)
        print(json.dumps(shown))
        try:
            ws.call("Browser.close")
        except Exception:
            pass
    finally:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a clear message, not a traceback, for the Swift test
        sys.exit(f"serve_page.py: {e}")
