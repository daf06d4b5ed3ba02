"""Python websockets client for interop tests, configured by a JSON scenario
given as the only argument. It prints one JSON report on stdout when done:
the handshake, what each step observed, how the connection closed, and every
frame with its size on the wire; or, if connecting failed, "error" with the
exception's type, and the status and headers of an InvalidStatusCode.

Scenario keys:
  uri: the URI to connect to (required)
  unix: path of a Unix socket to connect to, with uri giving Host and resource
  tls: {"ca": …} to trust for wss://
  subprotocols: list of subprotocols to offer
  compression: null for no compression; deflate: ClientPerMessageDeflateFactory
    parameters
  max_size, ping_interval, ping_timeout, close_timeout: as in connect()
  steps: a list of one-key objects, run in order:
    {"send": MESSAGE}          sends it (see peer.message for the forms)
    {"recv": true}             receives a message
    {"exchange": MESSAGE}      sends it, receives one, compares them
    {"send_acked": [TEXT, …]}  sends one fragmented message, each fragment
                               after the first once a message (the peer's
                               ack of the one before) was received; reports
                               the acks
    {"ping": "data"}           pings and waits for the pong
    {"await": [DIR, OPCODE, N]} waits until N frames of OPCODE went DIR
    {"close": [CODE, REASON]}  closes
    {"recv_until_closed": true} receives until the connection closes
  A step that raises ConnectionClosed ends the steps; "error" says which.
"""

import asyncio
import json
import sys
import urllib.parse

import websockets
from websockets.client import WebSocketClientProtocol
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

from peer import (
    Recording,
    client_ssl,
    closing,
    deflate_factories,
    describe,
    emit,
    handshake,
    limits,
    message,
)


class Protocol(Recording, WebSocketClientProtocol):
    pass


async def step(websocket, action, argument):
    if action == "send":
        await websocket.send(message(argument))
        return None
    if action == "recv":
        return describe(await websocket.recv())
    if action == "exchange":
        sent = message(argument)
        await websocket.send(sent)
        received = await websocket.recv()
        return {"same": received == sent}
    if action == "send_acked":
        acks = []

        async def fragments():
            for index, fragment in enumerate(argument):
                if index > 0:
                    acks.append(describe(await websocket.recv()))
                yield fragment

        await websocket.send(fragments())
        return acks
    if action == "ping":
        latency = await (await websocket.ping(argument))
        return {"latency_ok": latency >= 0}
    if action == "await":
        direction, opcode, count = argument
        await websocket.wait_frames(direction, opcode, count)
        return None
    if action == "close":
        await websocket.close(*argument)
        return None
    if action == "recv_until_closed":
        received = []
        try:
            while True:
                received.append(describe(await websocket.recv()))
        except ConnectionClosed as exc:
            return {"received": received, "error": type(exc).__name__}
    raise ValueError(f"unknown step: {action}")


async def main(scenario):
    options = {
        "create_protocol": Protocol,
        "subprotocols": scenario.get("subprotocols"),
        "ssl": client_ssl(scenario),
        **deflate_factories(scenario, "client"),
        **limits(scenario),
    }
    try:
        if "unix" in scenario:
            if options["ssl"] is not None:
                # asyncio can't tell the name to check from a Unix socket's path.
                options["server_hostname"] = urllib.parse.urlparse(scenario["uri"]).hostname
            websocket = await websockets.unix_connect(scenario["unix"], scenario["uri"], **options)
        else:
            websocket = await websockets.connect(scenario["uri"], **options)
    except InvalidStatusCode as exc:
        headers = dict(exc.headers.raw_items())
        emit({"error": "InvalidStatusCode", "status_code": exc.status_code, "headers": headers})
        return
    except Exception as exc:
        emit({"error": type(exc).__name__, "message": str(exc)})
        return

    report = {**handshake(websocket), "steps": [], "error": None}
    try:
        for each in scenario.get("steps", []):
            [(action, argument)] = each.items()
            report["steps"].append(await step(websocket, action, argument))
    except ConnectionClosed as exc:
        report["error"] = type(exc).__name__
    finally:
        await websocket.close()
    emit({**report, **closing(websocket)})


asyncio.run(main(json.loads(sys.argv[1])))
