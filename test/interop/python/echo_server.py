"""Python websockets echo server for interop tests: prints its port, then echoes.

The message "close-4001" makes it close with code 4001; "extensions?" is answered
with the negotiated Sec-WebSocket-Extensions header (or an empty string).
"""

import asyncio
import sys

import websockets


async def echo(websocket, path=None):
    async for message in websocket:
        if message == "close-4001":
            await websocket.close(4001, "from python")
            return
        if message == "extensions?":
            await websocket.send(websocket.response_headers.get("Sec-WebSocket-Extensions", ""))
            continue
        await websocket.send(message)


async def main():
    async with websockets.serve(echo, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        # Stop when the test closes our stdin.
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


asyncio.run(main())
