"""Two clients written with the `websockets` library chat through wschat-server, using
nothing but PROTOCOL.md: the protocol must not depend on our own client."""
import asyncio
import json
import uuid

import websockets


async def expect(ws, type_, **fields):
    """Reads frames until one of `type_` arrives; returns it, checking `fields`."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        if frame["type"] == type_:
            for key, value in fields.items():
                assert frame[key] == value, (key, frame)
            return frame


async def send(ws, **frame):
    await ws.send(json.dumps(frame))


def test_a_short_conversation(server):
    async def conversation():
        async with websockets.connect(server, subprotocols=["wschat.v1"]) as alice, websockets.connect(
            server, subprotocols=["wschat.v1"]
        ) as bob:
            assert alice.subprotocol == "wschat.v1"
            extensions = alice.response.headers.get("Sec-WebSocket-Extensions", "")
            assert "permessage-deflate" in extensions, "compression is negotiated when offered"

            await send(alice, type="hello", nick="alice", client="python-websockets")
            welcome = await expect(alice, "welcome", nick="alice", server="interop")
            assert welcome["limits"]["maxMessageBytes"] == 4096
            await send(bob, type="hello", nick="鲍勃")
            await expect(bob, "welcome", nick="鲍勃")

            await send(alice, type="join", room="#python")
            joined = await expect(alice, "joined", room="python", members=["alice"], history=[])
            await send(bob, type="join", room="python")
            await expect(bob, "joined", members=["alice", "鲍勃"])
            await expect(alice, "presence", nick="鲍勃", event="join")

            cid = str(uuid.uuid4())
            await send(alice, type="say", room="python", text="hello from Python 🐍", cid=cid)
            echoed = await expect(alice, "message", cid=cid, id=1, text="hello from Python 🐍")
            assert await expect(bob, "message") == echoed

            await send(bob, type="say", room="python", text="你好！", cid=str(uuid.uuid4()))
            await expect(alice, "message", id=2, text="你好！", **{"from": "鲍勃"})

            await send(bob, type="dm", to="ALICE", text="a secret", cid=str(uuid.uuid4()))
            dm = await expect(alice, "dm", to="alice", text="a secret")
            assert dm["from"] == "鲍勃"

            await send(alice, type="ping", t=[1, "two"])
            await expect(alice, "pong", t=[1, "two"])

            await send(bob, type="say", room="nowhere", text="hi", cid="c-err")
            await expect(bob, "error", code="not_joined", ref="c-err")

            await send(bob, type="quit", reason="done")
            await expect(alice, "presence", nick="鲍勃", event="quit", reason="done")
            try:
                await asyncio.wait_for(bob.recv(), timeout=10)
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd.code == 1000

            # A late joiner gets the conversation as history, in order.
            async with websockets.connect(server) as carol:
                await send(carol, type="hello", nick="carol")
                await expect(carol, "welcome")
                await send(carol, type="join", room="python", since=0, epoch=joined["epoch"])
                history = (await expect(carol, "joined"))["history"]
                assert [m["id"] for m in history] == [1, 2]
                assert history[0]["text"] == "hello from Python 🐍"

    asyncio.run(conversation())


def test_a_binary_frame_is_refused_with_1003(server):
    async def binary():
        async with websockets.connect(server) as ws:
            await ws.send(b"\x00\x01")
            try:
                await asyncio.wait_for(ws.recv(), timeout=10)
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd.code == 1003
            else:
                raise AssertionError("the server kept a connection that sent binary")

    asyncio.run(binary())
