"""Python websockets server for test/web/python.test.ts.

Prints its ports on the first line of stdout (see main()), then, as each connection ends,
one JSON line: {"path", "code", "reason"}, the close code and reason the
client sent (1005 for a close frame without a code, 1006 for none). Stops
when stdin closes.

Paths: /echo/<name> echoes, except "subprotocol?" and "extensions?", which it
answers with the negotiated subprotocol and Sec-WebSocket-Extensions (or "");
/close/<name> closes at once with 4001 "from python".
"""

import asyncio
import json
import sys

import websockets


def response_header(websocket, name):
    # websockets < 13 (legacy API) has response_headers; the new API has response.
    headers = getattr(websocket, "response_headers", None)
    if headers is None:
        headers = websocket.response.headers
    return headers.get(name, "")


async def handler(websocket, path=None):
    if path is None:
        path = getattr(websocket, "path", None) or websocket.request.path
    try:
        if path.startswith("/close/"):
            await websocket.close(4001, "from python")
        else:
            async for message in websocket:
                if message == "subprotocol?":
                    await websocket.send(websocket.subprotocol or "")
                elif message == "extensions?":
                    await websocket.send(response_header(websocket, "Sec-WebSocket-Extensions"))
                else:
                    await websocket.send(message)
    except websockets.ConnectionClosed:
        pass
    await websocket.wait_closed()
    report = {"path": path, "code": websocket.close_code, "reason": websocket.close_reason}
    print(json.dumps(report), flush=True)


async def main():
    # Two servers: one without subprotocols, and one that supports two (and,
    # in recent versions of websockets, requires one).
    async with websockets.serve(handler, "127.0.0.1", 0) as plain, websockets.serve(
        handler, "127.0.0.1", 0, subprotocols=["chat.v1", "chat.v2"]
    ) as with_subprotocols:
        ports = [server.sockets[0].getsockname()[1] for server in (plain, with_subprotocols)]
        print(*ports, flush=True)
        # Stop when the test closes our stdin.
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


asyncio.run(main())
