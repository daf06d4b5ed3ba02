"""Python websockets server for interop tests, configured by a JSON scenario
given as the only argument.

It prints one JSON line per event on stdout: {"event": "listening", …} first
(with "port", or "path" for a Unix socket), then {"event": "connection", …}
when a connection ends (handshake and closing as this side saw them, every
frame with its size on the wire), {"event": "rejected", …} when
process_request answers instead of the handshake. Closing its stdin makes it
shut down: server.close() closes open connections with 1001, then it prints
{"event": "stopped"} and exits.

Scenario keys, all optional:
  unix: path of a Unix socket to listen on (default: TCP on 127.0.0.1, port 0)
  tls: {"cert": …, "key": …} for wss://
  subprotocols: list of supported subprotocols
  compression: null for no compression; deflate: ServerPerMessageDeflateFactory
    parameters
  max_size, ping_interval, ping_timeout, close_timeout: as in serve()
  reject: [status, body]: process_request answers every request with it
  redirect: status: a second server starts, and the first one answers every
    request with this status and a Location on the second ("redirect_port" in
    the "listening" event), except requests for /target…, which it serves;
    redirect_location overrides the Location
  basic_auth: {"realm": …, "credentials": [user, password]}

The handler echoes messages, except text messages starting with "cmd:":
  cmd:close CODE REASON    closes with that code and reason
  cmd:send-size N          sends a text message of N bytes
  cmd:await DIR OPCODE N   waits until N frames of OPCODE (PING, PONG, …) went
                           DIR (in or out), then answers like cmd:report
  cmd:report               answers with the handshake and frames so far, as JSON
"""

import asyncio
import http
import json
import sys

import websockets
from websockets.auth import BasicAuthWebSocketServerProtocol, basic_auth_protocol_factory
from websockets.exceptions import ConnectionClosed
from websockets.server import WebSocketServerProtocol

from peer import (
    Recording,
    closing,
    deflate_factories,
    emit,
    handshake,
    limits,
    server_ssl,
)


class Protocol(Recording, WebSocketServerProtocol):
    pass


class BasicAuthProtocol(Recording, BasicAuthWebSocketServerProtocol):
    pass


async def command(websocket, text):
    name, *args = text[len("cmd:") :].split(" ", 3)
    if name == "close":
        await websocket.close(int(args[0]), " ".join(args[1:]))
    elif name == "send-size":
        await websocket.send("a" * int(args[0]))
    elif name == "await":
        direction, opcode, count = args
        await websocket.wait_frames(direction, opcode, int(count))
        await websocket.send(json.dumps({**handshake(websocket), "frames": websocket.frames}))
    elif name == "report":
        await websocket.send(json.dumps({**handshake(websocket), "frames": websocket.frames}))
    else:
        raise ValueError(f"unknown command: {text}")


async def handler(websocket, path=None):
    error = None
    try:
        async for data in websocket:
            if isinstance(data, str) and data.startswith("cmd:"):
                await command(websocket, data)
            else:
                await websocket.send(data)
    except ConnectionClosed as exc:
        error = type(exc).__name__
    finally:
        await websocket.wait_closed()
        emit(
            {
                "event": "connection",
                **handshake(websocket),
                "username": getattr(websocket, "username", None),
                "error": error,
                **closing(websocket),
            }
        )


def process_request(scenario, redirect_port):
    """The process_request argument of serve(): rejects or redirects, if asked."""
    if "reject" in scenario:
        status, body = scenario["reject"]

        async def reject(path, headers):
            emit({"event": "rejected", "path": path, "status": status})
            return http.HTTPStatus(status), [("X-Rejected-By", "python")], body.encode()

        return reject
    if redirect_port is not None:
        location = scenario.get("redirect_location", f"ws://127.0.0.1:{redirect_port}/target")

        async def redirect(path, headers):
            if path.startswith("/target"):
                return None
            emit({"event": "rejected", "path": path, "status": scenario["redirect"]})
            return http.HTTPStatus(scenario["redirect"]), [("Location", location)], b""

        return redirect
    return None


async def main(scenario):
    create_protocol = Protocol
    if "basic_auth" in scenario:
        create_protocol = basic_auth_protocol_factory(
            realm=scenario["basic_auth"]["realm"],
            credentials=tuple(scenario["basic_auth"]["credentials"]),
            create_protocol=BasicAuthProtocol,
        )
    options = {
        "create_protocol": create_protocol,
        "subprotocols": scenario.get("subprotocols"),
        "ssl": server_ssl(scenario),
        **deflate_factories(scenario, "server"),
        **limits(scenario),
    }

    servers = []
    redirect_port = None
    if "redirect" in scenario:
        target = await websockets.serve(handler, "127.0.0.1", 0, **options)
        servers.append(target)
        redirect_port = target.sockets[0].getsockname()[1]
    options["process_request"] = process_request(scenario, redirect_port)
    if "unix" in scenario:
        server = await websockets.unix_serve(handler, scenario["unix"], **options)
        emit({"event": "listening", "path": scenario["unix"]})
    else:
        server = await websockets.serve(handler, "127.0.0.1", 0, **options)
        emit(
            {
                "event": "listening",
                "port": server.sockets[0].getsockname()[1],
                "redirect_port": redirect_port,
            }
        )
    servers.append(server)

    # Until the test closes our stdin.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for each in servers:
        each.close()
    for each in servers:
        await each.wait_closed()
    emit({"event": "stopped"})


asyncio.run(main(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}))
