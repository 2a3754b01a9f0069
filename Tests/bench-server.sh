#!/usr/bin/env bash
# Measures the server core with wschat-bench, the way docs/PERFORMANCE.md reports it:
# wschat-server (in memory, and on its default SQLite store) and uWebSockets (socketify, the
# peer) in one run, each server pinned to core 1 and the load generator to core 0.
#
#   Tests/bench-server.sh                      # every scenario, every server
#   SERVERS="wschat-memory uws" SCENARIOS="fanout rate" Tests/bench-server.sh
#   SERVERS="wschat-memory" SCENARIOS="pullers pingers" Tests/bench-server.sh   # the attacks
#   WSCHAT_SERVER=/tmp/wschat-server-before Tests/bench-server.sh   # another build, for a before/after
#   ROUNDS=5 SERVERS="wschat-memory wschat-sqlite" SCENARIOS=fanout Tests/bench-server.sh   # medians
#
# ROUNDS (default 1) repeats everything, the servers taking turns, and ends with each figure's
# median over the rounds: on a shared machine one run can differ from the next by a third.
#
# The attack scenarios (pullers, pingers) run wschat at its default limits, as an attacker
# meets it; the others raise its limits so that the load generator is not refused. uws has no
# wschat protocol, so it skips the attacks.
#
# Results go to stdout (a JSON line and a summary per run); the JSON lines are also appended
# to .build/bench/results.jsonl.
# Loopback only; every run is bounded in time (--duration) and count.
set -euo pipefail
cd "$(dirname "$0")/.."
SERVERS=${SERVERS:-"wschat-memory wschat-sqlite uws"}
SCENARIOS=${SCENARIOS:-"fanout rate idle connect pullers pingers"}
DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-1}
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS is how many times to repeat the runs (1 or more), not '$ROUNDS'" >&2; exit 2; }
out=.build/bench
mkdir -p "$out"
this_run=$(mktemp)

# Another build's server is taken as it is; otherwise this checkout's, built for release.
if [ -z "${WSCHAT_SERVER:-}" ]; then
    swift build -c release --product wschat-server
    WSCHAT_SERVER=.build/release/wschat-server
fi
swift build -c release --product wschat-bench
if [[ " $SERVERS " == *" uws "* ]]; then
    dpkg -s libuv1 >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq libuv1 >/dev/null; }
    [ -x "$out/venv/bin/python" ] || python3 -m venv "$out/venv"
    "$out/venv/bin/pip" install -q --disable-pip-version-check "socketify==0.0.31"
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

server_pid=""
stop_server() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    server_pid=""
}
trap 'stop_server; rm -f "$this_run"' EXIT

# Starts server $1 on a free port pinned to core 1, at its default limits when $2 is
# "defaults"; sets server_pid, url and protocol.
start_server() {
    local kind=$1 limits=$2 port
    port=$(free_port)
    local log="$out/$kind.log"
    case "$kind" in
        wschat-memory|wschat-sqlite)
            local store=(--memory)
            [ "$kind" = wschat-sqlite ] && store=(--data-dir "$(mktemp -d)")
            local raised=(--rate 0 --max-connections 30000 --max-connections-per-address 30000 --max-users 30000)
            [ "$limits" = defaults ] && raised=()
            taskset -c 1 "$WSCHAT_SERVER" --host 127.0.0.1 --port "$port" "${store[@]}" "${raised[@]}" \
                --log-level warning > "$log" 2>&1 &
            protocol=wschat ;;
        uws)
            taskset -c 1 "$out/venv/bin/python" Tests/bench/uws_pubsub.py "$port" > "$log" 2>&1 &
            protocol=raw ;;
        *) echo "unknown server $kind" >&2; exit 2 ;;
    esac
    server_pid=$!
    url="ws://127.0.0.1:$port/ws"
    for _ in $(seq 1 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $port)).close()" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "$kind did not start: $(cat "$log")" >&2
    exit 1
}

bench() {
    local output
    output=$(taskset -c 0 .build/release/wschat-bench "$@" --url "$url" --protocol "$protocol" \
        --server-pid "$server_pid" --label "$server")
    printf '%s\n' "$output"
    grep '^{' <<< "$output" | tee -a "$out/results.jsonl" >> "$this_run"
}

for round in $(seq 1 "$ROUNDS"); do
    [ "$ROUNDS" -gt 1 ] && echo "=== round $round of $ROUNDS"
    for server in $SERVERS; do
        for scenario in $SCENARIOS; do
            limits=raised
            case "$scenario" in
                pullers|pingers)
                    [ "$server" = uws ] && continue
                    limits=defaults ;;
            esac
            # A fresh server per scenario: one run's leftovers never weigh on the next.
            start_server "$server" "$limits"
            echo "== $server: $scenario"
            case "$scenario" in
                fanout) bench fanout --clients 1000 --senders 10 --window 4 --duration "$DURATION" ;;
                rate) bench fanout --clients 1000 --senders 10 --rate 200 --duration "$DURATION" ;;
                idle) bench idle --connections 10000 ;;
                connect) bench connect --parallel 32 --duration "$DURATION" ;;
                pullers|pingers) bench attack --kind "$scenario" ;;
                *) echo "unknown scenario $scenario" >&2; exit 2 ;;
            esac
            stop_server
        done
    done
done

if [ "$ROUNDS" -gt 1 ]; then
    echo "=== medians over $ROUNDS rounds"
    python3 Tests/bench/medians.py "$this_run"
fi
