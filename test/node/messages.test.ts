import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { ConcurrencyError } from "../../src/core/errors.js";
import { Frame } from "../../src/core/frame.js";
import { Opcode } from "../../src/core/opcodes.js";
import { MessageAssembler } from "../../src/node/messages.js";
import { RawPeer } from "../helpers/raw.js";
import { deferred, startServer, unhandledRejections } from "../helpers/server.js";

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

function assembler(maxQueue = 4) {
  const calls: string[] = [];
  const queue = new MessageAssembler(maxQueue, {
    pause: () => calls.push("pause"),
    resume: () => calls.push("resume"),
  });
  return { queue, calls };
}

const text = (data: string, fin = true, opcode: Opcode = Opcode.TEXT) =>
  new Frame(opcode, Buffer.from(data), fin);

describe("MessageAssembler", () => {
  it("delivers single-frame and fragmented messages in order", async () => {
    const { queue } = assembler();
    queue.put(text("one"));
    queue.put(text("t", false));
    queue.put(text("w", false, Opcode.CONT));
    queue.put(text("o", true, Opcode.CONT));
    queue.put(new Frame(Opcode.BINARY, Buffer.from([1]), false));
    queue.put(new Frame(Opcode.CONT, Buffer.from([2, 3])));
    assert.equal(await queue.get(), "one");
    assert.equal(await queue.get(), "two");
    assert.deepEqual([...((await queue.get()) as Uint8Array)], [1, 2, 3]);
  });

  it("copies a million 1-byte fragments into one buffer", async () => {
    const { queue } = assembler();
    const before = process.memoryUsage().heapUsed;
    queue.put(new Frame(Opcode.BINARY, Buffer.from([0]), false));
    const byte = Buffer.from([7]);
    const frame = new Frame(Opcode.CONT, byte, false);
    for (let i = 0; i < 1_000_000; i++) queue.put(frame);
    queue.put(new Frame(Opcode.CONT, Buffer.alloc(0)));
    const message = (await queue.get()) as Uint8Array;
    assert.equal(message.length, 1_000_001);
    // Generous: a list of a million views would take tens of megabytes of heap.
    assert.ok(process.memoryUsage().heapUsed - before < 16 * 1024 * 1024);
  });

  it("pauses at maxQueue messages and resumes at a quarter of it", async () => {
    const { queue, calls } = assembler(4);
    for (const word of ["a", "b", "c"]) queue.put(text(word));
    assert.deepEqual(calls, []);
    queue.put(text("d"));
    assert.deepEqual(calls, ["pause"]);
    queue.put(text("e"));
    assert.equal(queue.size, 5);
    for (const expected of ["a", "b", "c"]) assert.equal(await queue.get(), expected);
    assert.deepEqual(calls, ["pause"]);
    assert.equal(await queue.get(), "d");
    assert.deepEqual(calls, ["pause", "resume"]);
  });

  it("reads on past a full queue once closing, dropping the messages that do not fit", async () => {
    const { queue, calls } = assembler(2);
    queue.put(text("a"));
    queue.put(text("b"));
    assert.deepEqual(calls, ["pause"]);
    queue.drainForClose();
    assert.deepEqual(calls, ["pause", "resume"]);
    assert.equal(queue.room, -1, "no limit on what is parsed");
    queue.put(text("dropped"));
    assert.equal(queue.size, 2);
    assert.equal(await queue.get(), "a");
    // Once one message was dropped, later ones are too: no gaps in what is read.
    queue.put(text("dropped too"));
    assert.equal(queue.size, 1);
    assert.deepEqual(calls, ["pause", "resume"], "reading never pauses for the queue again");
    assert.equal(await queue.get(), "b");
    assert.equal(queue.size, 0);
  });

  it("hands no message to a reader waiting once one was dropped, so what is read has no gaps", async () => {
    for (const reader of ["recv", "iterator"] as const) {
      const { queue } = assembler(2);
      queue.put(text("1"));
      queue.put(text("2"));
      queue.drainForClose();
      queue.put(text("3 is dropped"));
      const iterator = queue.iterator();
      const read = async () =>
        reader === "recv" ? await queue.get() : (await iterator.next()).value;
      assert.equal(await read(), "1");
      assert.equal(await read(), "2");
      // The queue is empty and a reader waits: later messages, whole or in
      // fragments, would follow the dropped one with a gap.
      const waiting = read();
      queue.put(text("4 follows a dropped one"));
      queue.put(text("5 in ", false));
      queue.put(text("fragments", true, Opcode.CONT));
      queue.close(new Error("closed"));
      await assert.rejects(waiting, /closed/, reader);
    }
  });

  it("still hands messages to a waiting reader when closing before any was dropped", async () => {
    const { queue } = assembler(2);
    queue.drainForClose();
    const waiting = queue.get();
    queue.put(text("a"));
    assert.equal(await waiting, "a");
    queue.put(text("b"));
    queue.put(text("c"));
    queue.put(text("dropped"));
    assert.equal(await queue.get(), "b");
    assert.equal(await queue.get(), "c");
  });

  it("queues what fits when closing, without pausing", async () => {
    const { queue, calls } = assembler(2);
    queue.drainForClose();
    queue.drainForClose();
    queue.put(text("a"));
    queue.put(text("b"));
    queue.put(text("dropped"));
    assert.deepEqual(calls, []);
    for (const expected of ["a", "b"]) assert.equal(await queue.get(), expected);
  });

  it("counts the room left for messages, a waiting reader included", async () => {
    const { queue } = assembler(4);
    assert.equal(queue.room, 4);
    const waiting = queue.get();
    assert.equal(queue.room, 5);
    for (const word of ["a", "b", "c", "d", "e", "f"]) queue.put(text(word));
    assert.equal(await waiting, "a");
    assert.equal(queue.size, 5);
    assert.equal(queue.room, 0);
  });

  it("resolves a reader waiting with a signal, and rejects it on close", async () => {
    const { queue } = assembler();
    const signal = new AbortController().signal;
    const first = queue.get(signal);
    queue.put(text("one"));
    assert.equal(await first, "one");
    const second = queue.get(signal);
    queue.close(new Error("closed"));
    await assert.rejects(second, /closed/);
  });

  it("rejects at once with a signal already aborted, even with messages queued", async () => {
    // As fetch() and events.once() do: a loop reading with the signal stops.
    const { queue } = assembler();
    queue.put(text("one"));
    queue.put(text("two"));
    const reason = new Error("stop");
    await assert.rejects(queue.get(AbortSignal.abort(reason)), (error) => error === reason);
    assert.equal(queue.size, 2);
    queue.close(new Error("closed"));
    await assert.rejects(queue.get(AbortSignal.abort(reason)), (error) => error === reason);
    assert.equal(await queue.get(), "one");
    assert.equal(await queue.get(new AbortController().signal), "two");
  });

  it("hands a message straight to a waiting reader", async () => {
    const { queue, calls } = assembler(1);
    const waiting = queue.get();
    queue.put(text("direct"));
    assert.equal(await waiting, "direct");
    assert.deepEqual(calls, []);
  });

  it("allows one waiting reader and rejects it on close, after queued messages", async () => {
    const { queue } = assembler();
    const waiting = queue.get();
    await assert.rejects(queue.get(), ConcurrencyError);
    const error = new Error("closed");
    queue.close(error);
    await assert.rejects(waiting, /closed/);
    const other = assembler().queue;
    other.put(text("last"));
    other.close(error);
    other.close(new Error("ignored"));
    assert.equal(await other.get(), "last");
    await assert.rejects(other.get(), /closed/);
  });

  it("drops a partial message on close", async () => {
    const { queue } = assembler();
    queue.put(text("part", false));
    queue.close(new Error("closed"));
    await assert.rejects(queue.get(), /closed/);
  });

  it("iterates: queued messages, then a waiting one, then done after a quiet close", async () => {
    const { queue } = assembler();
    queue.put(text("queued"));
    const iterator = queue.iterator();
    assert.deepEqual(await iterator.next(), { value: "queued", done: false });
    const waiting = iterator.next();
    queue.put(text("awaited"));
    assert.deepEqual(await waiting, { value: "awaited", done: false });
    const ending = iterator.next();
    queue.closeLazily(() => new Error("not built"), true);
    assert.deepEqual(await ending, { value: undefined, done: true });
    assert.deepEqual(await iterator.next(), { value: undefined, done: true });
  });

  it("lets a loop exit early, losing nothing, and other loops go on", async () => {
    const { queue } = assembler();
    queue.put(text("first"));
    queue.put(text("second"));
    const iterator = queue.iterator();
    assert.equal(iterator[Symbol.asyncIterator](), iterator);
    assert.deepEqual(await iterator.next(), { value: "first", done: false });
    // What `break` in a for await loop calls.
    assert.deepEqual(await iterator.return!(), { value: undefined, done: true });
    // recv() still reads, and a new loop starts where the last one stopped.
    queue.put(text("third"));
    assert.equal(await queue.get(), "second");
    const again = queue.iterator();
    assert.deepEqual(await again.next(), { value: "third", done: false });
    const seen: unknown[] = [];
    queue.put(text("fourth"));
    for await (const message of { [Symbol.asyncIterator]: () => queue.iterator() }) {
      seen.push(message);
      break;
    }
    assert.deepEqual(seen, ["fourth"]);
    // The loop's break returned the iterator: nothing was read past "fourth".
    queue.put(text("fifth"));
    assert.equal(queue.size, 1);
    assert.equal(await queue.get(), "fifth");
  });

  it("keeps an outer loop going when a loop nested in it exits early", async () => {
    const { queue } = assembler(16);
    for (const word of ["a", "begin", "x", "y", "end", "b", "c"]) queue.put(text(word));
    queue.closeLazily(() => new Error("not built"), true);
    const loop = { [Symbol.asyncIterator]: () => queue.iterator() };
    const outer: unknown[] = [];
    const inner: unknown[] = [];
    for await (const message of loop) {
      outer.push(message);
      if (message !== "begin") continue;
      for await (const part of loop) {
        if (part === "end") break;
        inner.push(part);
      }
    }
    assert.deepEqual(outer, ["a", "begin", "b", "c"]);
    assert.deepEqual(inner, ["x", "y"]);
  });

  it("hands a fragmented binary message over in an ArrayBuffer of its exact size, not Node's pool", async () => {
    const { queue } = assembler(16);
    // Small enough for Buffer.allocUnsafe() to slice Node's 8 KiB pool.
    queue.put(new Frame(Opcode.BINARY, Buffer.from([1, 2]), false));
    queue.put(new Frame(Opcode.CONT, Buffer.from([3, 4])));
    // Doubling grows the buffer to 20,000 bytes for three fragments of 5,000.
    const fragment = Buffer.alloc(5_000, 9);
    queue.put(new Frame(Opcode.BINARY, fragment, false));
    queue.put(new Frame(Opcode.CONT, fragment, false));
    queue.put(new Frame(Opcode.CONT, fragment));
    // Text is decoded from the buffer, whatever its size.
    queue.put(text("t", false));
    queue.put(text("ext", true, Opcode.CONT));
    const small = (await queue.get()) as Uint8Array;
    assert.deepEqual([...small], [1, 2, 3, 4]);
    assert.equal(small.byteOffset, 0);
    assert.equal(small.buffer.byteLength, 4);
    const large = (await queue.get()) as Uint8Array;
    assert.equal(large.length, 15_000);
    assert.equal(large.buffer.byteLength, 15_000);
    assert.ok(large.every((byte) => byte === 9));
    assert.equal(await queue.get(), "text");
  });

  it("builds the close error only when a reader needs it, and only once", async () => {
    const { queue } = assembler();
    let built = 0;
    const make = () => {
      built++;
      return new Error("abnormal");
    };
    queue.put(text("last"));
    queue.closeLazily(make, false);
    assert.equal(built, 0);
    assert.equal(await queue.get(), "last");
    assert.equal(built, 0);
    const first = await queue.get().catch((error: unknown) => error);
    const second = await queue
      .iterator()
      .next()
      .catch((error: unknown) => error);
    assert.equal(built, 1);
    assert.equal(second, first);
  });

  it("never builds the error when iteration ends quietly", async () => {
    const { queue } = assembler();
    let built = 0;
    const ending = queue.iterator().next();
    queue.closeLazily(() => {
      built++;
      return new Error("unused");
    }, true);
    assert.deepEqual(await ending, { value: undefined, done: true });
    assert.equal(built, 0);
  });

  it("rejects an iterator after an abnormal close, and a second concurrent reader", async () => {
    const { queue } = assembler();
    const iterator = queue.iterator();
    const waiting = iterator.next();
    await assert.rejects(queue.get(), ConcurrencyError);
    queue.closeLazily(() => new Error("abnormal"), false);
    await assert.rejects(waiting, /abnormal/);
  });

  it("keeps the order of messages across the queue emptying and filling again", async () => {
    const { queue } = assembler(100);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) queue.put(text(`${round}.${i}`));
      for (let i = 0; i < 5; i++) assert.equal(await queue.get(), `${round}.${i}`);
      for (let i = 5; i < 10; i++) assert.equal(await queue.get(), `${round}.${i}`);
      assert.equal(queue.size, 0);
    }
  });
});

describe("read backpressure", () => {
  it("pauses a flooding peer and keeps the server's memory bounded", async () => {
    const release = deferred();
    const received = deferred<number>();
    const { server, port } = await startServer(
      async (ws) => {
        await release.promise;
        let bytes = 0;
        for await (const message of ws) {
          bytes += (message as Uint8Array).length;
          if (bytes >= TOTAL) break;
        }
        received.resolve(bytes);
      },
      { maxQueue: 4 },
    );
    await using _server = server;
    const MESSAGE = 64 * 1024;
    const TOTAL = 64 * 1024 * 1024;
    const peer = await RawPeer.connect(port);
    await peer.handshake();
    const frame = Buffer.concat([
      Buffer.from([0x82, 0xfe, 0x00, 0x00, 0, 0, 0, 0]),
      Buffer.alloc(MESSAGE - 1),
    ]);
    frame.writeUInt16BE(MESSAGE - 1, 2);
    const messages = Math.ceil(TOTAL / (MESSAGE - 1));

    global.gc?.();
    const baseline = process.memoryUsage();
    // Write as fast as the socket takes it, keeping at most one frame buffered on this side.
    let written = 0;
    const stalled = deferred();
    const writeMore = () => {
      while (written < messages) {
        written++;
        if (!peer.socket.write(frame)) {
          peer.socket.once("drain", writeMore);
          // Once the kernel buffers are full too, the server has stopped reading.
          stallTimer.refresh();
          return;
        }
      }
    };
    const stallTimer = setTimeout(() => stalled.resolve(), 500);
    writeMore();
    await stalled.promise;
    const during = process.memoryUsage();
    assert.ok(written < messages, "the flood is held back while the handler does not read");
    const growth =
      during.arrayBuffers + during.heapUsed - (baseline.arrayBuffers + baseline.heapUsed);
    assert.ok(growth < 32 * 1024 * 1024, `memory grew by ${growth} bytes`);

    release.resolve();
    const bytes = await received.promise;
    assert.ok(bytes >= TOTAL);
    peer.socket.destroy();
  });
});
