"""A real wschat-server (SQLite history, a fixed loopback port so that it can be restarted
on it), a terminal user (`wschat --plain`) and headless Chromium driven by Selenium."""
import os
import pathlib
import re
import socket
import subprocess
import tempfile
import threading
import time

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

BUILD = pathlib.Path(os.environ.get("WSCHAT_BIN_DIR", ".build/debug"))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """wschat-server on one port; `restart` stops it and starts it again on the same port."""

    def __init__(self, data_dir, log_dir):
        self.port = free_port()
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.process = None
        self.starts = 0
        self.start()

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self):
        self.starts += 1
        log = self.log_dir / f"server-{self.starts}.log"
        deadline = time.monotonic() + 30
        while True:
            with open(log, "w") as stderr:
                self.process = subprocess.Popen(
                    [str(BUILD / "wschat-server"), "--host", "127.0.0.1", "--port", str(self.port),
                     "--data-dir", str(self.data_dir), "--name", "browser test"],
                    stderr=stderr)
            while time.monotonic() < deadline and self.process.poll() is None:
                if f"127.0.0.1:{self.port}/ws" in log.read_text():
                    return
                time.sleep(0.05)
            # The port just given up can take a moment to be free again.
            if self.process.poll() is None or time.monotonic() >= deadline:
                self.process.kill()
                pytest.fail(f"wschat-server did not start: {log.read_text()}")
            time.sleep(0.1)

    def stop(self):
        self.process.terminate()
        assert self.process.wait(timeout=10) == 0, "wschat-server exits 0 on SIGTERM"

    def restart(self):
        self.stop()
        self.start()


@pytest.fixture
def server(tmp_path):
    (tmp_path / "data").mkdir()
    running = Server(tmp_path / "data", tmp_path)
    yield running
    if running.process.poll() is None:
        running.stop()


class Terminal:
    """`wschat --plain`: lines in on stdin, lines out collected from stdout."""

    def __init__(self, url, nick):
        self.process = subprocess.Popen(
            [str(BUILD / "wschat"), "--plain", "--nick", nick, url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "XDG_CONFIG_HOME": tempfile.mkdtemp(), "XDG_DATA_HOME": tempfile.mkdtemp()})
        self.lines = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def say(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait_for(self, text, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            time.sleep(0.05)
        pytest.fail(f"the terminal never showed {text!r}: {self.lines}")

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=20)


@pytest.fixture
def terminal(server):
    users = []

    def start(nick):
        user = Terminal(server.ws_url, nick)
        users.append(user)
        return user

    yield start
    for user in users:
        if user.process.poll() is None:
            user.process.kill()


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1100,700",
                     "--lang=en-US"]:
        options.add_argument(argument)
    options.binary_location = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(
        options=options, service=Service(executable_path=os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def console_errors(driver, allowed=()):
    """The browser console's errors, but for those matching one of `allowed` (regexes)."""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and not any(re.search(pattern, entry["message"]) for pattern in allowed)]
