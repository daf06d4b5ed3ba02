import assert from "node:assert/strict";
import { once } from "node:events";
import * as net from "node:net";
import { describe, it } from "node:test";
import { listenForEnd } from "../../src/node/end-listener.js";

/** A connected pair over loopback: the client, and the server's socket with `allowHalfOpen`. */
async function pair(
  allowHalfOpen: boolean,
): Promise<{ client: net.Socket; accepted: net.Socket; close(): void }> {
  const server = net.createServer({ allowHalfOpen });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  const accepting = once(server, "connection");
  const client = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
  const [accepted] = (await accepting) as [net.Socket];
  return {
    client,
    accepted,
    close() {
      client.destroy();
      accepted.destroy();
      server.close();
    },
  };
}

describe("listenForEnd", () => {
  it("leaves a half-open socket one 'end' listener, ours, and still writes after the peer's FIN", async () => {
    const { client, accepted, close } = await pair(true);
    try {
      let ended = 0;
      listenForEnd(accepted, function (this: net.Socket) {
        assert.equal(this, accepted);
        ended++;
        // Half-open: the peer's FIN does not end our side.
        this.end("after FIN");
      });
      assert.equal(accepted.listenerCount("end"), 1);
      accepted.resume();
      const received: Buffer[] = [];
      client.on("data", (chunk: Buffer) => received.push(chunk));
      client.end();
      await once(client, "end");
      assert.equal(ended, 1);
      assert.equal(Buffer.concat(received).toString(), "after FIN");
    } finally {
      close();
    }
  });

  it("keeps Node's listener on a socket that is not half-open", async () => {
    const { accepted, close } = await pair(false);
    try {
      listenForEnd(accepted, () => {});
      assert.deepEqual(
        accepted.rawListeners("end").map((listener) => (listener as () => void).name),
        ["onReadableStreamEnd", ""],
      );
    } finally {
      close();
    }
  });

  it("keeps every listener when the socket has more than Node's", async () => {
    const { accepted, close } = await pair(true);
    try {
      const other = () => {};
      accepted.on("end", other);
      listenForEnd(accepted, () => {});
      assert.equal(accepted.listenerCount("end"), 3);
      assert.ok(accepted.rawListeners("end").includes(other));
    } finally {
      close();
    }
  });
});
