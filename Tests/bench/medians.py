"""Summarises the JSON lines of several wschat-bench runs: for each server and scenario, the
median of each headline figure, with the lowest and highest beside it.

On a shared 2-core machine one run can differ from the next by a third; a median over
alternating runs is what a before/after or a server-to-server comparison can rest on.

    python3 Tests/bench/medians.py RUNS.jsonl
"""

import json
import statistics
import sys

# The figures worth comparing, per scenario: (label, how to read it from a run).
HEADLINES = {
    "fanout": [
        ("server µs per delivery", lambda run: run.get("serverCPUMicrosecondsPerDelivery")),
        ("p50 ms", lambda run: run["latencyMs"]["p50"]),
        ("p99 ms", lambda run: run["latencyMs"]["p99"]),
        ("delivered %", lambda run: 100.0 * run["delivered"] / run["expected"] if run["expected"] else None),
    ],
    "connect": [("server µs per handshake", lambda run: run.get("serverCPUMicrosecondsPerHandshake"))],
    "idle": [("server KiB per connection", lambda run: run.get("serverKiBPerConnection"))],
    "attack": [
        ("witnesses' p99 ms", lambda run: run["witnessLatencyMs"]["p99"]),
        ("witness messages lost", lambda run: run["witnessExpected"] - run["witnessDelivered"]),
    ],
}


def variant(run):
    """What tells two runs of one scenario apart (flood or fixed rate, which attack)."""
    return run.get("mode") or run.get("kind") or ""


def main(path):
    groups = {}
    with open(path) as lines:
        for line in lines:
            run = json.loads(line)
            key = (run.get("label", ""), run["scenario"], variant(run))
            groups.setdefault(key, []).append(run)
    for (label, scenario, mode), runs in groups.items():
        print(f"{label}: {scenario} {mode} ({len(runs)} runs)")
        for name, read in HEADLINES.get(scenario, []):
            values = [value for value in map(read, runs) if value is not None]
            if not values:
                continue
            print(
                f"  {name}: median {statistics.median(values):.2f}"
                f" (lowest {min(values):.2f}, highest {max(values):.2f})"
            )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: medians.py RUNS.jsonl")
    main(sys.argv[1])
