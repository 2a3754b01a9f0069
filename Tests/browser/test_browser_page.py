"""The browser page in real headless Chromium against a real wschat-server, next to a
terminal user (`wschat --plain`)."""
import pathlib
import socket
import subprocess
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import console_errors
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

SCREENSHOTS = pathlib.Path(".build/browser")


def open_page(driver, server, nick, rooms="general"):
    """Opens the page as a new user: the nick is asked for, typed, and remembered."""
    driver.get(f"{server.base}/#{rooms}")
    field = WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "nick-input"))
    WebDriverWait(driver, 20).until(lambda d: field.is_displayed())
    field.send_keys(nick + Keys.ENTER)
    wait_for(driver, lambda d: d.find_element(By.ID, "connection").text.startswith("connected"), "connected")
    wait_for(driver, lambda d: d.find_element(By.ID, "title").text == "#" + rooms.split(",")[0], "in the room")


def wait_for(driver, condition, what, timeout=20):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)
    except Exception:
        pytest.fail(f"{what}: not within {timeout} s. Page: {driver.find_element(By.TAG_NAME, 'body').text}")


def buffers(driver):
    """The channel list's entries as text (read in one go: the list is redrawn as it changes)."""
    return driver.execute_script(
        "return [...document.querySelectorAll('#buffer-list button')].map(b => b.textContent)")


def open_buffer(driver, label):
    driver.execute_script(
        "[...document.querySelectorAll('#buffer-list button')].find(b => b.textContent.startsWith(arguments[0])).click()",
        label)


def messages(driver):
    return driver.find_element(By.ID, "messages").text


def type_line(driver, text):
    """Types a line and presses Enter. ChromeDriver types only the Basic Multilingual Plane,
    so a line with emoji is put in the box by script and submitted as Enter would."""
    field = driver.find_element(By.ID, "input")
    if all(ord(character) < 0x10000 for character in text):
        field.send_keys(text + Keys.ENTER)
    else:
        driver.execute_script(
            "const f = document.getElementById('input'); f.value = arguments[0];"
            "document.getElementById('composer').requestSubmit();", text)


def test_a_browser_user_and_a_terminal_user_chat_both_ways(server, terminal, browser):
    open_page(browser, server, "alice")
    tom = terminal("tom")
    tom.wait_for("joined #general")
    wait_for(browser, lambda d: "tom joined" in messages(d), "tom's arrival")

    type_line(browser, "你好 tom，浏览器里 🎉")
    tom.wait_for("<alice> 你好 tom，浏览器里 🎉")
    tom.say("终端也能看到 👋 hello alice")
    wait_for(browser, lambda d: "终端也能看到 👋 hello alice" in messages(d), "tom's answer")

    tom.say("/msg alice psst 秘密")
    dm = wait_for(browser, lambda d: [b for b in buffers(d) if b.startswith("@tom")], "a DM buffer with a mark")
    assert dm == ["@tom!1"], dm
    assert browser.title.startswith("(1!)"), browser.title
    open_buffer(browser, "@tom")
    wait_for(browser, lambda d: "psst 秘密" in messages(d), "the DM")
    type_line(browser, "got it 收到")
    tom.wait_for("<alice → tom> got it 收到")

    open_buffer(browser, "#general")
    wait_for(browser, lambda d: d.find_element(By.ID, "title").text == "#general", "back in #general")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "page.png"))
    assert console_errors(browser) == []
    tom.close()


def test_scrolling_up_reads_older_messages_and_search_finds_them(server, terminal, browser):
    tom = terminal("tom")
    tom.wait_for("joined #general")
    for n in range(1, 81):
        tom.say(f"history line {n} 历史")
    tom.wait_for("history line 80 历史")
    open_page(browser, server, "alice")
    wait_for(browser, lambda d: "history line 80 历史" in messages(d), "the newest messages")
    assert "history line 1 历史" not in messages(browser), "a join brings only the newest page"

    for _ in range(20):
        if "beginning of #general" in messages(browser):
            break
        browser.execute_script("document.getElementById('messages').scrollTop = 0")
        wait_for(browser, lambda d: "loading older messages" not in messages(d), "a page loaded")
    shown = messages(browser)
    assert "── beginning of #general ──" in shown, shown
    for n in (1, 30, 80):
        assert shown.count(f"history line {n} 历史") == 1, f"line {n} once:\n{shown}"
    assert shown.index("history line 1 历史") < shown.index("history line 2 历史") < shown.index("history line 80 历史")

    type_line(browser, "/search line 17 历")
    wait_for(browser, lambda d: 'search "line 17 历" in #general: 1 found' in messages(d), "the search's answer")
    match = browser.find_elements(By.CSS_SELECTOR, "#messages .line-match")
    assert len(match) == 1 and "#general tom" in match[0].text and "history line 17 历史" in match[0].text

    type_line(browser, "/away lunch")
    tom.wait_for("alice is away: lunch")
    tom.say("/whois alice")
    tom.wait_for("alice: away: lunch")
    assert console_errors(browser) == []
    tom.close()


def reopen_page(driver, server, tom, times_left):
    """Leaves the page and opens it again once tom has seen alice go (so the nick is free)."""
    driver.get("about:blank")
    tom.wait_for("alice quit", timeout=20)
    while sum("alice quit" in line for line in tom.lines) < times_left:
        time.sleep(0.05)
    driver.get(f"{server.base}/#general")
    wait_for(driver, lambda d: d.find_element(By.ID, "connection").text.startswith("connected"), "connected again")


def test_direct_messages_are_read_back_by_this_browser_only(server, terminal, browser):
    open_page(browser, server, "alice")
    tom = terminal("tom")
    tom.wait_for("joined #general")
    type_line(browser, "/msg tom earlier 早些时候")
    tom.wait_for("<alice → tom> earlier 早些时候")
    tom.say("/msg alice reply 回复")
    wait_for(browser, lambda d: "reply 回复" in messages(d), "tom's reply")

    # The same browser comes back: its secret reads the conversation back above what it says.
    reopen_page(browser, server, tom, 1)
    type_line(browser, "/msg tom back again")
    wait_for(browser, lambda d: "beginning of your direct messages with tom" in messages(d), "the conversation read back")
    wait_for(browser, lambda d: "back again" in messages(d), "the new message")
    shown = messages(browser)
    order = [shown.find(text) for text in ("beginning of your direct", "earlier 早些时候", "reply 回复", "back again")]
    assert all(i >= 0 for i in order) and order == sorted(order), shown

    # A browser without that secret, taking the nick, reads none of it.
    browser.execute_script("localStorage.removeItem('wschat.secret')")
    reopen_page(browser, server, tom, 2)
    type_line(browser, "/msg tom it's me")
    wait_for(browser, lambda d: "beginning of your direct messages with tom" in messages(d), "an empty conversation")
    wait_for(browser, lambda d: "it's me" in messages(d), "the impostor's message")
    assert "早些时候" not in messages(browser) and "回复" not in messages(browser), messages(browser)
    assert console_errors(browser) == []
    tom.close()


def test_html_in_a_message_is_shown_as_text_and_runs_nothing(server, terminal, browser):
    open_page(browser, server, "alice")
    mallory = terminal("mallory")
    mallory.wait_for("joined #general")
    mallory.say("<img src=x onerror=alert(1)> <script>alert(2)</script> <b>bold?</b>")
    wait_for(browser, lambda d: "<img src=x onerror=alert(1)>" in messages(d), "the message, as text")
    assert "<b>bold?</b>" in messages(browser)
    assert browser.find_elements(By.CSS_SELECTOR, "#messages img, #messages script, #messages b") == []
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text
    assert console_errors(browser) == []
    mallory.close()


def test_messages_typed_while_the_server_restarts_arrive_exactly_once(server, terminal, browser):
    open_page(browser, server, "alice")
    type_line(browser, "before the restart")
    wait_for(browser, lambda d: "before the restart" in messages(d) and not d.find_elements(
        By.CSS_SELECTOR, ".line-pending"), "delivered")

    server.stop()
    wait_for(browser, lambda d: "reconnecting" in d.find_element(By.ID, "connection").text, "reconnecting shown")
    typed = [f"typed while down {n} 第{n}条" for n in range(1, 4)]
    for line in typed:
        type_line(browser, line)
    wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".line-pending")) == 3, "three pending")
    server.start()

    wait_for(browser, lambda d: d.find_element(By.ID, "connection").text.startswith("connected")
             and not d.find_elements(By.CSS_SELECTOR, ".line-pending"), "delivered after the restart", timeout=40)
    shown = messages(browser)
    for line in typed + ["before the restart"]:
        assert shown.count(line) == 1, f"{line!r} shown {shown.count(line)} times:\n{shown}"
    # The server stored each once: a terminal user joining now sees each once in the history.
    tom = terminal("tom")
    tom.wait_for(typed[-1])
    history = "\n".join(tom.lines)
    for line in typed:
        assert history.count(line) == 1, history
    tom.close()
    # A browser says so when a WebSocket cannot connect: those are the only errors allowed.
    assert console_errors(browser, allowed=[r"WebSocket connection to .* failed"]) == []


def test_a_page_from_another_origin_cannot_connect(server, browser):
    # A raw upgrade carrying a foreign Origin is refused with 403.
    with socket.create_connection(("127.0.0.1", server.port)) as raw:
        raw.sendall(
            (f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
             "Origin: http://evil.example\r\n\r\n").encode())
        assert raw.recv(100).startswith(b"HTTP/1.1 403")

    # And a real page served from another origin fails to connect.
    page = SCREENSHOTS / "foreign"
    page.mkdir(parents=True, exist_ok=True)
    (page / "index.html").write_text(
        "<!doctype html><title>foreign</title><p id=result>waiting</p><script>"
        f"const ws = new WebSocket('ws://127.0.0.1:{server.port}/ws', 'wschat.v1');"
        "ws.onopen = () => { document.getElementById('result').textContent = 'connected'; };"
        "ws.onclose = () => { if (document.getElementById('result').textContent === 'waiting')"
        " document.getElementById('result').textContent = 'refused'; };</script>")
    handler = lambda *args, **kwargs: SimpleHTTPRequestHandler(*args, directory=str(page), **kwargs)
    foreign = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=foreign.serve_forever, daemon=True).start()
    try:
        browser.get(f"http://localhost:{foreign.server_address[1]}/index.html")
        wait_for(browser, lambda d: d.find_element(By.ID, "result").text != "waiting", "an answer")
        assert browser.find_element(By.ID, "result").text == "refused"
    finally:
        foreign.shutdown()


def test_the_page_is_cached_by_etag_and_locked_down(server):
    import urllib.request

    with urllib.request.urlopen(server.base + "/") as response:
        etag = response.headers["ETag"]
        policy = response.headers["Content-Security-Policy"]
        body = response.read().decode()
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "<script>" not in body and "style=" not in body, "no inline script or style"
    request = urllib.request.Request(server.base + "/", headers={"If-None-Match": etag})
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request)
    assert answer.value.code == 304
    for path in ["/app.js", "/app.css", "/favicon.svg", "/favicon.ico"]:
        with urllib.request.urlopen(server.base + path) as response:
            assert response.status == 200 and response.headers["ETag"], path


def test_the_page_fits_a_phone_and_follows_dark_mode(server, browser):
    browser.set_window_size(390, 780)
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    open_page(browser, server, "alice")
    type_line(browser, "a long line without spaces " + "漢字" * 60)
    wait_for(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, ".line-pending"), "delivered")
    width = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the page scrolls sideways: {width}"
    assert browser.find_element(By.ID, "input").is_displayed()
    background = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(21, 24, 29)", background
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "phone-dark.png"))
    assert console_errors(browser) == []
