#!/usr/bin/env python3
"""Measures what durable history costs: acknowledged messages per second and server CPU per
message for each history store, with the numbers the README quotes.

Two loads, each against a fresh wschat-server (pinned to core 1; this load runs on core 0):
  one at a time: one client says a message and waits for its echo, N times. Each echo waits
                 for its own commit, so this shows the latency of one commit (an fsync).
  flood:         C clients in one room each send M messages as fast as the socket takes them.
                 Group commit puts everything that arrived during a commit into the next one,
                 so the disk does not bound throughput; the server CPU per message shows what
                 durability costs instead.

Run with the release build and, for PostgreSQL, inside Tests/with-postgres.sh:
  swift build -c release --product wschat-server
  Tests/with-postgres.sh .build/venv/bin/python Tests/bench-history.py
Without WSCHAT_TEST_POSTGRES the PostgreSQL row is left out (and the script says so).
"""
import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

import websockets

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


class Server:
    """A wschat-server on 127.0.0.1 with the given storage flags, pinned to one core."""

    def __init__(self, binary, storage):
        self.data = tempfile.mkdtemp(prefix="wschat-bench-")
        pin = ["taskset", "-c", "1"] if shutil.which("taskset") and os.cpu_count() > 1 else []
        self.process = subprocess.Popen(
            pin + [binary, "--host", "127.0.0.1", "--port", "0", "--rate", "0", "--send-queue-bytes", "1000000000",
                   "--log-level", "notice"] + storage,
            stderr=subprocess.PIPE, text=True, env={**os.environ, "XDG_DATA_HOME": self.data})
        deadline = time.monotonic() + 30
        self.url = None
        while self.url is None and time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            match = re.search(r"ws://127\.0\.0\.1:\d+/ws", line)
            self.url = match.group(0) if match else None
        if self.url is None:
            self.process.kill()
            sys.exit(f"wschat-server did not start with {storage}")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)
        shutil.rmtree(self.data, ignore_errors=True)


async def user(url, nick, room):
    ws = await websockets.connect(url, subprotocols=["wschat.v1"], max_size=None, compression=None)
    await ws.send(json.dumps({"type": "hello", "nick": nick}))
    await ws.send(json.dumps({"type": "join", "room": room}))
    while json.loads(await ws.recv())["type"] != "joined":
        pass
    return ws


async def one_at_a_time(url, count):
    """Seconds per acknowledged message when each waits for the previous one's echo."""
    ws = await user(url, "solo", "bench-solo")
    started = time.perf_counter()
    for n in range(count):
        cid = str(uuid.uuid4())
        await ws.send(json.dumps({"type": "say", "room": "bench-solo", "text": f"solo {n}", "cid": cid}))
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "message" and frame["cid"] == cid:
                break
    elapsed = time.perf_counter() - started
    await ws.close()
    return elapsed / count


async def flood(url, clients, per_client):
    """Seconds until every client has received all clients * per_client messages."""
    sockets = [await user(url, f"c{index}", "bench") for index in range(clients)]
    total = clients * per_client

    async def send_all(index, ws):
        for n in range(per_client):
            await ws.send(json.dumps(
                {"type": "say", "room": "bench", "text": f"c{index} message {n} 你好", "cid": f"{index}-{n}"}))

    async def receive_all(ws):
        seen = 0
        while seen < total:
            if json.loads(await ws.recv())["type"] == "message":
                seen += 1

    started = time.perf_counter()
    await asyncio.gather(*(send_all(i, ws) for i, ws in enumerate(sockets)),
                         *(receive_all(ws) for ws in sockets))
    elapsed = time.perf_counter() - started
    for ws in sockets:
        await ws.close()
    return elapsed


def measure(name, binary, storage, args):
    server = Server(binary, storage)
    try:
        before = cpu_seconds(server.process.pid)
        latency = asyncio.run(one_at_a_time(server.url, args.sequential))
        middle = cpu_seconds(server.process.pid)
        elapsed = asyncio.run(flood(server.url, args.clients, args.messages))
        after = cpu_seconds(server.process.pid)
    finally:
        server.stop()
    total = args.clients * args.messages
    return {
        "store": name,
        "ack_ms": latency * 1000,
        "ack_cpu_us": (middle - before) / args.sequential * 1e6,
        "flood_per_s": total / elapsed,
        "flood_cpu_us": (after - middle) / total * 1e6,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("BIN", ".build/release"))
    parser.add_argument("--sequential", type=int, default=300, help="messages said one at a time")
    parser.add_argument("--clients", type=int, default=4, help="flooding clients")
    parser.add_argument("--messages", type=int, default=2500, help="messages per flooding client")
    args = parser.parse_args()
    # Loads stay bounded: the counts above are the whole run.
    if args.sequential > 10_000 or args.clients * args.messages > 200_000:
        sys.exit("keep the load bounded: at most 10 000 sequential and 200 000 flood messages")
    if hasattr(os, "sched_setaffinity") and os.cpu_count() > 1:
        os.sched_setaffinity(0, {0})
    binary = os.path.join(args.bin, "wschat-server")

    stores = [("memory", ["--memory"]), ("sqlite", [])]
    admin = os.environ.get("WSCHAT_TEST_POSTGRES")
    if admin:
        database = "bench_" + uuid.uuid4().hex[:12]
        parts = urllib.parse.urlsplit(admin)
        subprocess.run(["psql", "-q", "-h", parts.hostname, "-p", str(parts.port), "-U", parts.username,
                        "-d", "postgres", "-c", f"CREATE DATABASE {database}"], check=True)
        stores.append(("postgres", ["--database", parts._replace(path="/" + database).geturl()]))
    else:
        print("(no WSCHAT_TEST_POSTGRES: run inside Tests/with-postgres.sh for the PostgreSQL row)")

    print(f"one at a time: {args.sequential} messages; flood: {args.clients} clients x {args.messages} messages, "
          f"each delivered to all {args.clients}")
    print(f"{'store':<10}{'ack latency':>14}{'CPU/msg':>10}{'flood msg/s':>14}{'CPU/msg':>10}")
    for name, storage in stores:
        row = measure(name, binary, storage, args)
        print(f"{row['store']:<10}{row['ack_ms']:>11.2f} ms{row['ack_cpu_us']:>7.0f} µs"
              f"{row['flood_per_s']:>14.0f}{row['flood_cpu_us']:>7.0f} µs")


if __name__ == "__main__":
    main()
