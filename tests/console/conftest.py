"""The console's end-to-end tests: a real `xinfang up --demo` (its own nats-server, projectors
and API on a free port, a fresh data dir) driven through Debian's Chromium by Playwright.

Run by scripts/console-test (part of scripts/test). XF_BIN names the binary; CHROMIUM the
browser (default /usr/bin/chromium). A missing browser or binary fails the tests; nothing is
skipped.
"""

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "console"

TOKENS = {
    "county": "demo-county-token",
    "auditor": "demo-auditor-token",
    "analyst": "demo-analyst-token",
    "clerk": "demo-clerk-gaoqiao",
    "clerk_other": "demo-clerk-dongcheng",
    "handler": "demo-handler-land",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def base_url():
    binary = os.environ.get("XF_BIN", str(ROOT / "target" / "debug" / "xinfang"))
    assert Path(binary).exists(), f"xinfang binary {binary} missing: build it first"
    work = Path(tempfile.mkdtemp(prefix="xf-console-"))
    port = free_port()
    env = dict(os.environ, XF_DATA_DIR=str(work / "data"), XF_HTTP_ADDR=f"127.0.0.1:{port}")
    out = open(work / "up.out", "w")
    err = open(work / "up.err", "w")
    proc = subprocess.Popen(
        [binary, "up", "--config", str(ROOT / "deploy" / "xinfang.toml"), "--demo"],
        env=env, stdout=out, stderr=err,
    )
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            text = (work / "up.out").read_text()
            if re.search(r"^ready ", text, re.M):
                break
            assert proc.poll() is None, "xinfang up exited:\n" + (work / "up.err").read_text()[-3000:]
            time.sleep(0.5)
        else:
            raise AssertionError("xinfang up did not get ready in 180 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def browser():
    exe = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    assert Path(exe).exists(), f"Chromium not found at {exe} (Debian package chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=exe,
            headless=True,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def new_page(browser, base_url):
    """A page in a fresh browser context (its own cookies) at an office screen's size."""
    contexts = []

    def make(viewport=(1366, 768)):
        ctx = browser.new_context(
            base_url=base_url,
            viewport={"width": viewport[0], "height": viewport[1]},
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
        )
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(20_000)
        return page

    yield make
    for c in contexts:
        c.close()


def sign_in(page, role):
    page.goto("/console/login")
    page.fill("#token", TOKENS[role])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/console/login" not in page.url, page.content()[:2000]
    return page


@pytest.fixture
def as_role(new_page):
    def make(role, viewport=(1366, 768)):
        return sign_in(new_page(viewport), role)

    return make


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
