#!/usr/bin/env bash
# Runs every wschat test: the Swift test suites (unit and real-socket integration, with a
# throwaway PostgreSQL for the store and cluster tests, and the hostile-input suite), a
# minute of fuzzing, the interoperability test with Python's `websockets`, the browser page
# in headless Chromium, and the Autobahn conformance suite against the server's /echo
# endpoint and the client's transport. Installs what a fresh Debian machine lacks first.
# Exits non-zero, loudly, if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
fail() { printf '\n\033[1;31mFAILED: %s\033[0m\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

step "System packages"
missing=()
# Chromium and its driver for the browser page's tests; the fonts draw Chinese and emoji.
for package in libncursesw5-dev libicu-dev pkg-config python3-venv tmux openssl \
    chromium chromium-driver fonts-noto-cjk fonts-noto-color-emoji; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
# PostgreSQL's server binaries (any version), for Tests/with-postgres.sh.
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
    echo "all present"
fi

step "Python tools (virtualenv in .build/venv)"
venv=.build/venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check "kosoku==0.1.0" "websockets==17.4" "pytest>=8" \
    "selenium==4.51.0"

step "Build (debug, with tests)"
swift build --build-tests

step "Swift tests (with a throwaway PostgreSQL)"
Tests/with-postgres.sh swift test --skip-build

step "Fuzzing: the kept inputs, then libFuzzer on the decoder and the name and text rules"
.build/debug/wschat-fuzz Tests/Fuzz/corpus
Tests/fuzz.sh || fail "fuzzing found a failing input (kept in Tests/Fuzz/corpus)"

step "Interoperability: two Python websockets clients"
WSCHAT_SERVER_BIN=.build/debug/wschat-server "$venv/bin/python" -m pytest -q Tests/interop

step "The browser page: headless Chromium next to a terminal user"
"$venv/bin/python" -m pytest -q Tests/browser

# Prints a kosoku report's summary; fails unless all 517 cases ended OK, NON-STRICT or
# INFORMATIONAL.
autobahn_verdict() {
    local label=$1 index=$2
    "$venv/bin/python" - "$label" "$index" <<'PY' || fail "Autobahn ($1): see ${2%/*}/index.html"
import collections, json, os, sys
label, index = sys.argv[1], sys.argv[2]
cases = next(iter(json.load(open(index)).values()))
counts = collections.Counter(case["behavior"] for case in cases.values())
accepted = {"OK", "NON-STRICT", "INFORMATIONAL"}
bad = sorted((cid for cid, case in cases.items() if case["behavior"] not in accepted),
             key=lambda c: [int(p) for p in c.split(".")])
print(f"Autobahn {label}, by behavior:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
for cid in bad:
    case = cases[cid]
    print(f"  {cid}: {case['behavior']} (close: {case['behaviorClose']}) after {case['duration']} ms")
    # The case's own words (a timeout, or what differed in an echo), so that a failure in CI
    # can be told apart without the report directory.
    try:
        detail = json.load(open(os.path.join(os.path.dirname(index), case["reportfile"])))
        print(f"    {detail.get('description', '')}")
        print(f"    result: {detail.get('result')}; close: {detail.get('resultClose')}")
        for entry in detail.get("wirelog", [])[-8:]:
            print(f"    wire: {str(entry)[:200]}")
    except (OSError, ValueError) as error:
        print(f"    (no case report: {error})")
print(f"autobahn-{label}: {len(cases) - len(bad)} passed, {len(bad)} failed")
sys.exit(1 if bad or len(cases) != 517 else 0)
PY
}

step "Release build for conformance"
swift build -c release --product wschat-server
swift build -c release --product wschat-autobahn

step "Autobahn TestSuite: the server (kosoku against /echo)"
report=.build/autobahn/server
rm -rf "$report" && mkdir -p "$report"
# The same WebSocket stack as /ws, with limits raised to the suite's 16 MiB messages. No
# keepalive pings while the suite runs (it is bounded to 1800 s below): a case whose script
# expects no events (the 12.x and 13.x compression cases) takes a ping as its last event and
# closes before its echoes are back, so a case that was running when the server's 30 s ping
# came failed as "did not finish" (12.3.14 in CI; with --ping-interval 2, 12.3.14 fails in 2 s).
.build/release/wschat-server --host 127.0.0.1 --port 0 --memory --echo --rate 0 --ping-interval 3600 \
    --max-frame-size 16777216 --max-decompressed-size 16777216 --log-level notice \
    2> "$report/server.log" &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT
url=""
for _ in $(seq 1 100); do
    url=$(grep -oE 'ws://127\.0\.0\.1:[0-9]+' "$report/server.log" | head -n 1 || true)
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || fail "wschat-server did not start: $(cat "$report/server.log")"
status=0
timeout 1800 "$venv/bin/kosoku" -p 2 -o "$report" "$url/echo" > "$report/kosoku.log" 2>&1 || status=$?
kill "$server_pid" && wait "$server_pid" || true
trap - EXIT
autobahn_verdict server "$report/index.json"
[ "$status" = 0 ] || fail "kosoku exited with $status (see $report/kosoku.log)"

step "Autobahn TestSuite: the client transport (kosoku fuzzingserver)"
report=.build/autobahn/client
rm -rf "$report" && mkdir -p "$report"
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
timeout 1800 "$venv/bin/kosoku" -m fuzzingserver -o "$report" "127.0.0.1:$port" > "$report/kosoku.log" 2>&1 &
fuzzer_pid=$!
trap 'kill "$fuzzer_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    grep -q "listening" "$report/kosoku.log" && break
    sleep 0.1
done
timeout 1800 .build/release/wschat-autobahn "ws://127.0.0.1:$port" || fail "wschat-autobahn failed"
status=0
wait "$fuzzer_pid" || status=$?
trap - EXIT
autobahn_verdict client "$report/index.json"
[ "$status" = 0 ] || fail "kosoku fuzzingserver exited with $status (see $report/kosoku.log)"

step "All tests passed"
