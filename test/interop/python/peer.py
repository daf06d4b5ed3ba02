"""What the Python interop scripts share: a protocol that records every frame
with its size on the wire, the settings a JSON scenario gives, and how a
connection's end is reported.

Written for Debian's python3-websockets 10.4 (the legacy asyncio API).
"""

import asyncio
import hashlib
import json
import ssl

from websockets.extensions.permessage_deflate import (
    ClientPerMessageDeflateFactory,
    PerMessageDeflate,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import Opcode
from websockets.legacy.framing import Frame


def emit(event):
    """Prints one JSON line on stdout: how the scripts talk to the test."""
    print(json.dumps(event), flush=True)


class Recording:
    """Mixin for a websockets protocol class: records each frame read and
    written as [direction, opcode, bytes on the wire, payload bytes after the
    extensions], so that a test sees what compression did to each message and
    which pings and pongs crossed, and lets a coroutine wait for a count."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.frames = []
        self.frame_waiters = []

    async def read_frame(self, max_size):
        wire = 0

        async def readexactly(n):
            nonlocal wire
            data = await self.reader.readexactly(n)
            wire += len(data)
            return data

        # What the base class does, through a reader that counts.
        frame = await Frame.read(
            readexactly,
            mask=not self.is_client,
            max_size=max_size,
            extensions=self.extensions,
        )
        self.record("in", frame, wire)
        return frame

    def write_frame_sync(self, fin, opcode, data):
        frame = Frame(fin, Opcode(opcode), data)
        wire = 0

        def write(chunk):
            nonlocal wire
            wire += len(chunk)
            self.transport.write(chunk)

        frame.write(write, mask=self.is_client, extensions=self.extensions)
        self.record("out", frame, wire)

    def record(self, direction, frame, wire):
        self.frames.append([direction, frame.opcode.name, wire, len(frame.data)])
        for waiter in list(self.frame_waiters):
            if self.count(waiter[0], waiter[1]) >= waiter[2] and not waiter[3].done():
                waiter[3].set_result(None)

    def count(self, direction, opcode):
        return sum(1 for f in self.frames if f[0] == direction and f[1] == opcode)

    async def wait_frames(self, direction, opcode, count):
        """Returns once `count` frames of `opcode` went `direction` ("in" or "out")."""
        if self.count(direction, opcode) >= count:
            return
        future = asyncio.get_running_loop().create_future()
        waiter = (direction, opcode, count, future)
        self.frame_waiters.append(waiter)
        try:
            await future
        finally:
            self.frame_waiters.remove(waiter)


def deflate_factories(scenario, role):
    """The `extensions` and `compression` arguments a scenario asks for.

    `"compression": null` turns compression off; `"deflate": {...}` gives the
    parameters of the role's PerMessageDeflate factory (RFC 7692 names);
    neither keeps the library's default.
    """
    if "compression" in scenario and scenario["compression"] is None:
        return {"compression": None}
    if "deflate" in scenario:
        factory = ClientPerMessageDeflateFactory if role == "client" else ServerPerMessageDeflateFactory
        return {"extensions": [factory(**scenario["deflate"])], "compression": None}
    return {}


def limits(scenario):
    """max_size, ping_interval and ping_timeout, when the scenario sets them."""
    return {
        name: scenario[name]
        for name in ["max_size", "ping_interval", "ping_timeout", "close_timeout"]
        if name in scenario
    }


def server_ssl(scenario):
    tls = scenario.get("tls")
    if tls is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls["cert"], tls["key"])
    return context


def client_ssl(scenario):
    tls = scenario.get("tls")
    if tls is None:
        return None
    return ssl.create_default_context(cafile=tls["ca"])


def message(spec):
    """A message from its JSON form: a string is text; {"hex": …} bytes;
    {"size": n} n bytes of "a" as text, or as bytes with "binary": true;
    {"fragments": [...]} a fragmented message."""
    if isinstance(spec, str):
        return spec
    if "hex" in spec:
        return bytes.fromhex(spec["hex"])
    if "size" in spec:
        return b"a" * spec["size"] if spec.get("binary") else "a" * spec["size"]
    if "fragments" in spec:
        return [message(fragment) for fragment in spec["fragments"]]
    raise ValueError(f"unknown message spec: {spec!r}")


def describe(data):
    """A received message in JSON: text as it is, short bytes as hex, long
    bytes by length and SHA-256."""
    if isinstance(data, str):
        return data
    if len(data) <= 256:
        return {"hex": data.hex()}
    return {"length": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def deflate_parameters(websocket):
    """What permessage-deflate agreed, as this side sees it, or None."""
    for extension in websocket.extensions:
        if isinstance(extension, PerMessageDeflate):
            return {
                "local_max_window_bits": extension.local_max_window_bits,
                "remote_max_window_bits": extension.remote_max_window_bits,
                "local_no_context_takeover": extension.local_no_context_takeover,
                "remote_no_context_takeover": extension.remote_no_context_takeover,
            }
    return None


def handshake(websocket):
    """What the opening handshake settled, from this side."""
    ssl_object = websocket.transport.get_extra_info("ssl_object")
    return {
        "path": websocket.path,
        "request_headers": dict(websocket.request_headers.raw_items()),
        "response_headers": dict(websocket.response_headers.raw_items()),
        "subprotocol": websocket.subprotocol,
        "deflate": deflate_parameters(websocket),
        "tls": None if ssl_object is None else ssl_object.version(),
    }


def close_frame(close):
    return None if close is None else [close.code, close.reason]


def closing(websocket):
    """How the connection ended, from this side."""
    return {
        "close_rcvd": close_frame(websocket.close_rcvd),
        "close_sent": close_frame(websocket.close_sent),
        "close_rcvd_then_sent": websocket.close_rcvd_then_sent,
        "frames": websocket.frames,
    }
