"""A plain broadcast server on uWebSockets (through socketify): every text message a client
sends goes to every connected client, the sender included. wschat-bench --protocol raw
measures it next to wschat-server, as the peer docs/PERFORMANCE.md compares with.

    python uws_pubsub.py PORT
"""
import sys

from socketify import App, OpCode

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8090
app = App()
app.ws(
    "/ws",
    {
        "compression": 0,
        "max_payload_length": 64 * 1024,
        "idle_timeout": 120,
        # Like wschat-server's per-connection bound: a client 1 MiB behind is closed.
        "max_backpressure": 1 << 20,
        "close_on_backpressure_limit": True,
        "open": lambda ws: ws.subscribe("room"),
        # app.publish fans out in C++, one write per socket per loop turn ("corking").
        "message": lambda ws, message, opcode: app.publish("room", message, OpCode.TEXT),
    },
)
app.listen(port, lambda config: print(f"uws_pubsub listening on 127.0.0.1:{port}", flush=True))
app.run()
