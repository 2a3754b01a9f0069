#!/usr/bin/env bash
# Measures the terminal UI's behaviour numbers quoted in the README: CPU while idle, and how
# long typed text takes to appear while thousands of messages arrive, and the UI's CPU per
# message (MESSAGES, default 20000). Needs tmux; uses the
# build in .build/release (run `swift build -c release` first) or the path in $BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-.build/release}
port=$((20000 + RANDOM % 9000))
state=$(mktemp -d)
trap 'tmux -L wschat-bench kill-server 2>/dev/null || true; kill $server 2>/dev/null || true; rm -rf "$state"' EXIT

"$bin/wschat-server" --host 127.0.0.1 --port "$port" --memory --rate 0 --log-level error 2>/dev/null &
server=$!
sleep 1
tmux -u -f /dev/null -L wschat-bench new-session -d -s w -x 120 -y 35 \
    env LANG=C.UTF-8 TERM=xterm-256color XDG_STATE_HOME="$state" "$bin/wschat" --nick watcher "ws://127.0.0.1:$port/ws"
sleep 3
pid=$(tmux -L wschat-bench display -p -t w '#{pane_pid}')
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

before=$(ticks); sleep 10; after=$(ticks)
echo "idle: $((after - before)) CPU ticks ($(getconf CLK_TCK) per second) in 10 s"

count=${MESSAGES:-20000}
seq 1 "$count" | sed 's/^/flood message /' > "$state/flood.txt"
before=$(ticks)
flood_start=$(date +%s%N)
"$bin/wschat" --plain --nick flooder "ws://127.0.0.1:$port/ws" < "$state/flood.txt" > /dev/null 2>&1 &
until tmux -L wschat-bench capture-pane -p -t w | grep -q "flood message"; do sleep 0.01; done
start=$(date +%s%N)
tmux -L wschat-bench send-keys -t w -l "typed during the flood"
until tmux -L wschat-bench capture-pane -p -t w | tail -n 1 | grep -q "typed during the flood"; do sleep 0.01; done
echo "typed text on screen after $(( ($(date +%s%N) - start) / 1000000 )) ms while $count messages arrive"
until tmux -L wschat-bench capture-pane -p -t w | grep -q "flood message $count\$"; do sleep 0.05; done
used=$(( $(ticks) - before ))
elapsed_ms=$(( ($(date +%s%N) - flood_start) / 1000000 ))
echo "all $count messages drawn in $elapsed_ms ms; UI CPU for them: $used ticks = $(( used * 1000000 / $(getconf CLK_TCK) / count )) µs per message"
