/**
 * examples/feed/server.ts and examples/feed/client.ts, run as a user would:
 * in child processes, from `.build/examples/` (they import the published
 * entry point, so they run from `dist/`; `npm test` builds both first).
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import * as net from "node:net";
import { after, describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { Opcode } from "../../src/core/opcodes.js";
import { type ClientConnection, connect } from "../../src/node/client.js";
import { runNode, startNode } from "../helpers/child.js";
import { RawPeer } from "../helpers/raw.js";
import { deferred, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

const SERVER = fileURLToPath(new URL("../../examples/feed/server.js", import.meta.url));
const CLIENT = fileURLToPath(new URL("../../examples/feed/client.js", import.meta.url));
const LISTENING =
  /Listening on (ws:\/\/127\.0\.0\.1:(\d+)) \((\d+) symbols, a tick every (\d+) ms\)\n/;

interface Tick {
  type: "tick";
  seq: number;
  time: string;
  prices: Record<string, number>;
}

/** Starts the feed server on a free port. */
function startFeed(env: Record<string, string> = {}) {
  return startNode([SERVER], { env: { PORT: "0", ...env }, ready: LISTENING });
}

/** The next message, parsed. */
async function next(ws: ClientConnection): Promise<{ type: string } & Record<string, unknown>> {
  return JSON.parse(await ws.recvText());
}

/** Asserts that `message` is a well-formed tick with prices for `symbols`, and returns it. */
function assertTick(message: unknown, symbols: readonly string[]): Tick {
  const tick = message as Tick;
  assert.equal(tick.type, "tick");
  assert.ok(Number.isSafeInteger(tick.seq) && tick.seq > 0, `seq ${tick.seq}`);
  assert.equal(new Date(tick.time).toISOString(), tick.time);
  assert.deepEqual(Object.keys(tick.prices), symbols);
  for (const price of Object.values(tick.prices)) {
    assert.ok(typeof price === "number" && price > 0, `price ${price}`);
  }
  return tick;
}

/** Reads ticks until one with `seq` at least `until`; returns their seqs. */
async function ticksUntil(ws: ClientConnection, until: number): Promise<number[]> {
  const seqs: number[] = [];
  while (seqs.length === 0 || seqs.at(-1)! < until) {
    const message = await next(ws);
    assert.equal(message.type, "tick");
    seqs.push((message as unknown as Tick).seq);
  }
  return seqs;
}

/** Asserts that `seqs` follow each other without a gap. */
function assertConsecutive(seqs: readonly number[]): void {
  for (let i = 1; i < seqs.length; i++) {
    assert.equal(seqs[i], seqs[i - 1]! + 1, `tick ${seqs[i - 1]! + 1} missed`);
  }
}

const DEFAULT_SYMBOLS = ["ACME", "GLOBEX", "INITECH", "UMBRELLA"];

describe("examples/feed/client", () => {
  it("subscribes, prints 3 ticks, and exits 0 after a clean close", async () => {
    await using server = await startFeed({ TICK_MS: "20" });
    const uri = server.ready[1]!;
    const { code, stdout, stderr } = await runNode([CLIENT, "3", uri]);
    assert.equal(stderr, "");
    assert.equal(code, 0);
    const lines = stdout.split("\n");
    assert.deepEqual(lines.slice(0, 2), [
      `Connected to ${uri}.`,
      "Subscribed: ACME, GLOBEX, INITECH, UMBRELLA, a tick every 20 ms.",
    ]);
    assert.deepEqual(lines.slice(5), ["Received 3 ticks; connection closed.", ""]);
    const tick =
      /^#(\d+) \d\d:\d\d:\d\d\.\d\d\d {2}ACME \d+\.\d\d {2}GLOBEX \d+\.\d\d {2}INITECH \d+\.\d\d {2}UMBRELLA \d+\.\d\d$/;
    const seqs = lines.slice(2, 5).map((line) => {
      const match = tick.exec(line);
      assert.ok(match, `a tick line: ${JSON.stringify(line)}`);
      return Number(match[1]);
    });
    assertConsecutive(seqs);

    server.child.kill("SIGINT");
    const exit = await server.exited;
    assert.deepEqual([exit.code, exit.signal, exit.stderr], [0, null, ""]);
    assert.match(exit.stdout, /\nStopped\.\n$/);
  });

  it("exits 1 when the server goes away before enough ticks", async () => {
    // A tick a minute: none comes before the server stops.
    await using server = await startFeed({ TICK_MS: "60000" });
    await using client = await startNode([CLIENT, "3", server.ready[1]!], {
      ready: /^Subscribed: .*\n/m,
    });
    server.child.kill("SIGTERM");
    const { code, stdout, stderr } = await client.exited;
    assert.equal(stderr, "The feed closed (1001) after 0 of 3 ticks.\n");
    assert.equal(code, 1);
    assert.match(stdout, /\nReceived 0 ticks; connection closed\.\n$/);
    assert.equal((await server.exited).code, 0);
  });

  it("refuses a count that is not a positive integer", async () => {
    const { code, stdout, stderr } = await runNode([CLIENT, "three"]);
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.match(stderr, /^usage: client\.js \[count\] \[uri\]/);
  });
});

describe("examples/feed/server", () => {
  it("follows subscribe and unsubscribe commands, and closes with 1001 on SIGTERM", async () => {
    await using server = await startFeed({ TICK_MS: "10" });
    const [, uri, port, symbolCount, tickMs] = server.ready;
    assert.notEqual(Number(port), 0, "the printed port is the one picked, not 0");
    assert.deepEqual([symbolCount, tickMs], ["4", "10"]);

    const alice = await connect(uri!);
    const bob = await connect(uri!);
    await alice.send(JSON.stringify({ type: "subscribe" }));
    await bob.send(JSON.stringify({ type: "subscribe" }));
    for (const ws of [alice, bob]) {
      assert.deepEqual(await next(ws), {
        type: "subscribed",
        symbols: DEFAULT_SYMBOLS,
        tickMs: 10,
      });
    }
    const first = assertTick(await next(alice), DEFAULT_SYMBOLS);
    const seqs = [first.seq];
    for (let i = 0; i < 4; i++) seqs.push(assertTick(await next(alice), DEFAULT_SYMBOLS).seq);
    assertConsecutive(seqs);

    // After its acknowledgement, no tick: while Bob sees three more ticks,
    // Alice gets nothing, so the answer to her next command comes next.
    // Ticks up to the last one Alice received went out before she was
    // removed; the next ones after, and Bob seeing three of them means the
    // server sent them while she was unsubscribed.
    await alice.send(JSON.stringify({ type: "unsubscribe" }));
    let message = await next(alice);
    while (message.type === "tick") {
      seqs.push(assertTick(message, DEFAULT_SYMBOLS).seq);
      message = await next(alice);
    }
    assert.deepEqual(message, { type: "unsubscribed" });
    assertConsecutive(seqs);
    const unsubscribedAfter = seqs.at(-1)!;
    await ticksUntil(bob, unsubscribedAfter + 3);
    await alice.send("hello?");
    assert.deepEqual(await next(alice), {
      type: "error",
      message: 'unknown command: send {"type":"subscribe"} or {"type":"unsubscribe"}',
    });
    await alice.send(new Uint8Array([1, 2, 3]));
    assert.equal((await next(alice)).type, "error", "binary is no command");

    // Subscribing again resumes the feed where it is now.
    await alice.send(JSON.stringify({ type: "subscribe" }));
    assert.equal((await next(alice)).type, "subscribed");
    const resumed = assertTick(await next(alice), DEFAULT_SYMBOLS);
    assert.ok(resumed.seq > unsubscribedAfter + 3);

    server.child.kill("SIGTERM");
    const exit = await server.exited;
    await Promise.all([alice.closed, bob.closed]);
    assert.deepEqual([alice.closeCode, bob.closeCode], [1001, 1001]);
    assert.deepEqual([exit.code, exit.signal, exit.stderr], [0, null, ""]);
  });

  it("skips a subscriber that does not read, and keeps feeding the others", async () => {
    // Lots of bytes quickly (about 3 KB a tick, a tick a millisecond), so
    // that the subscriber that does not read falls behind by more than the
    // system buffers for it.
    const symbols = Array.from({ length: 200 }, (_, i) => `S${String(i).padStart(3, "0")}`);
    // The subscriber that reads may be held up too, on a busy machine (this
    // test process shares it with others): 1 MiB of slack, about 300 ms of
    // ticks, keeps it from being skipped as well.
    const maxUnsent = 1 << 20;
    await using server = await startFeed({
      TICK_MS: "1",
      SYMBOLS: symbols.join(","),
      MAX_UNSENT: String(maxUnsent),
    });
    const port = Number(server.ready[2]);

    // A raw client: completes the handshake, subscribes, reads the
    // acknowledgement, then stops reading.
    const slow = await RawPeer.connect(port);
    await using _ = { [Symbol.asyncDispose]: async () => void slow.socket.destroy() };
    assert.match(await slow.handshake("/"), /^HTTP\/1\.1 101 /);
    slow.writeFrame(Opcode.TEXT, JSON.stringify({ type: "subscribe" }));
    const ack = await slow.readFrame();
    assert.equal(JSON.parse(new TextDecoder().decode(ack!.data)).type, "subscribed");
    slow.socket.pause();

    // Whatever the server does not buffer itself, the kernel holds: both
    // ends' socket buffers, then the slow reader's own. Once the others have
    // received twice that and more, a server that buffered every tick for
    // the slow subscriber would hold megabytes for it.
    const limit = 2 * (await loopbackCapacity()) + maxUnsent + (1 << 20);

    // A subscriber that reads all along, in the background until it closes.
    const fast = await connect(`ws://127.0.0.1:${port}`);
    await fast.send(JSON.stringify({ type: "subscribe" }));
    assert.equal((await next(fast)).type, "subscribed");
    const fastSeqs: number[] = [];
    const pastLimit = deferred();
    const fastReading = (async () => {
      let bytes = 0;
      for await (const data of fast) {
        const text = String(data);
        fastSeqs.push(assertTick(JSON.parse(text), symbols).seq);
        bytes += Buffer.byteLength(text);
        if (bytes >= limit) pastLimit.resolve();
      }
    })();
    try {
      // Rejects if the fast subscriber gets a bad tick or loses its connection.
      await Promise.race([pastLimit.promise, fastReading]);

      // The slow subscriber reads again: it gets the ticks its buffers held,
      // then it has missed some (broadcast() skipped it), then it gets
      // current ones again.
      const mark = fastSeqs.at(-1)!;
      slow.socket.resume();
      const slowSeqs: number[] = [];
      const slowBytes: number[] = [];
      while (slowSeqs.length === 0 || slowSeqs.at(-1)! <= mark) {
        const frame = await slow.readFrame();
        assert.ok(frame, "the server keeps the slow subscriber's connection open");
        if (frame.opcode !== Opcode.TEXT) continue; // a keepalive ping, if the test took long
        slowSeqs.push(JSON.parse(new TextDecoder().decode(frame.data)).seq);
        slowBytes.push(frame.data.length);
      }
      const gap = slowSeqs.findIndex((seq, i) => i > 0 && seq !== slowSeqs[i - 1]! + 1);
      assert.ok(gap > 0, "the slow subscriber missed ticks");
      assert.ok(slowSeqs[gap - 1]! < mark, "it missed them while it did not read");
      // What it got before the gap is all that was ever buffered for it.
      const buffered = slowBytes.slice(0, gap).reduce((sum, bytes) => sum + bytes, 0);
      assert.ok(buffered < limit, `${buffered} bytes buffered for a subscriber that did not read`);
    } finally {
      await fast.close();
      await fastReading;
    }
    // Meanwhile the fast subscriber got every tick, in order.
    assert.ok(fastSeqs.length > 1000);
    assertConsecutive(fastSeqs);
    assert.equal(fast.closeCode, 1000);
  });
});

/**
 * How many bytes a loopback TCP connection takes in before its sender has
 * to buffer, when the receiver does not read: measured, as it depends on
 * the system's settings (Linux sizes send buffers up to `tcp_wmem`'s
 * maximum, 4 MiB by default).
 */
async function loopbackCapacity(): Promise<number> {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const reader = net.connect((server.address() as net.AddressInfo).port, "127.0.0.1");
  reader.pause();
  const [writer] = (await once(server, "connection")) as [net.Socket];
  try {
    const chunk = Buffer.alloc(64 * 1024);
    let written = 0;
    // Bounded: the kernel stops taking bytes after a few megabytes at most.
    while (writer.writableLength < 1 << 20 && written < 256 << 20) {
      writer.write(chunk);
      written += chunk.length;
      await nextTurn();
    }
    return written - writer.writableLength;
  } finally {
    writer.destroy();
    reader.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}
