"""Python websockets client for interop tests: exchanges messages with an echo
server and prints one JSON report on stdout."""

import asyncio
import json
import sys

import websockets


async def main(uri):
    report = {}
    async with websockets.connect(uri, max_size=None) as websocket:
        report["extensions"] = websocket.response_headers.get("Sec-WebSocket-Extensions", "")
        report["subprotocol"] = websocket.subprotocol
        await websocket.send("Hello from Python")
        report["text"] = await websocket.recv()
        await websocket.send(bytes([0, 1, 255]))
        report["binary"] = list(await websocket.recv())
        big = bytes(range(256)) * 8192  # 2 MiB
        await websocket.send(big)
        report["big_ok"] = (await websocket.recv()) == big
        await websocket.send(["frag", "mented"])
        report["fragmented"] = await websocket.recv()
        pong = await websocket.ping(b"probe")
        await pong
        report["ping_ok"] = True
        await websocket.close(4000, "from python")
        report["close_code"] = websocket.close_code
    print(json.dumps(report), flush=True)


asyncio.run(main(sys.argv[1]))
