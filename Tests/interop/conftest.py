"""Starts a real wschat-server on a free loopback port for the interop tests."""
import os
import re
import subprocess
import time

import pytest


@pytest.fixture
def server():
    binary = os.environ.get("WSCHAT_SERVER_BIN", ".build/debug/wschat-server")
    process = subprocess.Popen(
        [binary, "--host", "127.0.0.1", "--port", "0", "--memory", "--name", "interop"],
        stderr=subprocess.PIPE,
        text=True,
    )
    url = None
    deadline = time.monotonic() + 30
    while url is None and time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        match = re.search(r"ws://127\.0\.0\.1:(\d+)/ws", line)
        if match:
            url = match.group(0)
    if url is None:
        process.kill()
        pytest.fail("wschat-server did not report its address")
    yield url
    process.terminate()
    assert process.wait(timeout=5) == 0, "wschat-server must exit 0 on SIGTERM"
