import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import {
  ConcurrencyError,
  ConnectionClosedError,
  ConnectionClosedOK,
} from "../../src/core/errors.js";
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

const bytes = (data: number[], fin = true, opcode: Opcode = Opcode.BINARY) =>
  new Frame(opcode, Buffer.from(data), fin);
const cont = (data: string | number[], fin = false) =>
  new Frame(Opcode.CONT, Buffer.from(data as string), fin);

/** The fragments left in a stream, until done. */
async function rest(stream: AsyncIterator<unknown>): Promise<unknown[]> {
  const fragments: unknown[] = [];
  for (let result = await stream.next(); !result.done; result = await stream.next()) {
    fragments.push(result.value);
  }
  return fragments;
}

/** A fragment as an array of numbers, checking that it is binary in an ArrayBuffer of its own. */
function numbers(fragment: unknown): number[] {
  assert.ok(Buffer.isBuffer(fragment), "a Buffer");
  assert.ok(fragment.buffer instanceof ArrayBuffer);
  return [...fragment];
}

describe("MessageAssembler streaming reads", () => {
  it("yields text fragments as they arrive, a UTF-8 sequence split across frames whole", async () => {
    const { queue } = assembler();
    const stream = queue.stream();
    const first = stream.next();
    // "h" then "é" (C3 A9) split after its first byte, then "€" (E2 82 AC) split after two.
    queue.put(bytes([0x68, 0xc3], false, Opcode.TEXT));
    assert.deepEqual(await first, { value: "h", done: false });
    const second = stream.next();
    queue.put(cont([0xa9, 0xe2, 0x82]));
    assert.deepEqual(await second, { value: "é", done: false });
    const third = stream.next();
    queue.put(cont([0xac, 0x21], true));
    assert.deepEqual(await third, { value: "€!", done: false });
    assert.deepEqual(await stream.next(), { value: undefined, done: true });
  });

  it("keeps a byte order mark, as recv() does", async () => {
    const { queue } = assembler();
    queue.put(bytes([0xef, 0xbb, 0xbf, 0x61], false, Opcode.TEXT));
    const stream = queue.stream();
    assert.deepEqual(await stream.next(), { value: "\ufeffa", done: false });
    queue.put(cont("b", true));
    assert.deepEqual(await rest(stream), ["b"]);
  });

  it("yields binary fragments as buffers over an ArrayBuffer", async () => {
    const { queue } = assembler();
    const stream = queue.stream();
    const first = stream.next();
    queue.put(bytes([1, 2], false));
    const result = await first;
    assert.equal(result.done, false);
    assert.deepEqual(numbers(result.value), [1, 2]);
    queue.put(cont([3]));
    queue.put(cont([4, 5], true));
    assert.deepEqual((await rest(stream)).map(numbers), [[3], [4, 5]]);
  });

  it("yields a message already complete as one fragment, and leaves the next one queued", async () => {
    const { queue } = assembler();
    queue.put(text("on", false));
    queue.put(text("e", true, Opcode.CONT));
    queue.put(text("two"));
    assert.deepEqual(await rest(queue.stream()), ["one"]);
    assert.equal(await queue.get(), "two");
  });

  it("yields the part assembled before the call as one fragment, then each later frame", async () => {
    const { queue } = assembler();
    queue.put(text("ab", false));
    queue.put(cont("c"));
    const stream = queue.stream();
    assert.deepEqual(await stream.next(), { value: "abc", done: false });
    const waiting = stream.next();
    queue.put(cont("d"));
    assert.deepEqual(await waiting, { value: "d", done: false });
    queue.put(cont("e", true));
    assert.deepEqual(await rest(stream), ["e"]);

    // Binary: the part assembled is copied out of the assembler's buffer,
    // which may lie in Node's pool, into an ArrayBuffer of its exact size.
    queue.put(bytes([1, 2], false));
    queue.put(cont([3]));
    const binary = queue.stream();
    const part = (await binary.next()).value as Uint8Array;
    assert.deepEqual(numbers(part), [1, 2, 3]);
    assert.equal(part.buffer.byteLength, 3);
    queue.put(cont([4], true));
    assert.deepEqual((await rest(binary)).map(numbers), [[4]]);
  });

  it("yields one empty fragment for an empty message, and skips empty fragments otherwise", async () => {
    const { queue } = assembler();
    queue.put(text(""));
    assert.deepEqual(await rest(queue.stream()), [""]);

    const fragmented = queue.stream();
    const waiting = rest(fragmented);
    queue.put(text("", false));
    queue.put(cont(""));
    queue.put(cont("", true));
    assert.deepEqual(await waiting, [""]);

    const binary = queue.stream();
    const binaryWaiting = rest(binary);
    queue.put(bytes([], false));
    queue.put(cont([], true));
    assert.deepEqual((await binaryWaiting).map(numbers), [[]]);

    const trailing = queue.stream();
    const trailingWaiting = rest(trailing);
    queue.put(text("", false));
    queue.put(cont("abc"));
    queue.put(cont(""));
    queue.put(cont("", true));
    assert.deepEqual(await trailingWaiting, ["abc"]);
  });

  it("refuses other reads while a streaming read lasts, and a streaming read while another waits", async () => {
    const { queue } = assembler();
    queue.put(text("a", false));
    const stream = queue.stream();
    assert.deepEqual(await stream.next(), { value: "a", done: false });
    await assert.rejects(queue.get(), ConcurrencyError);
    await assert.rejects(queue.iterator().next(), ConcurrencyError);
    await assert.rejects(queue.stream().next(), /another recvStreaming\(\) is reading one/);
    queue.put(cont("b", true));
    queue.put(text("next"));
    // Over once its last fragment is handed over.
    assert.deepEqual(await stream.next(), { value: "b", done: false });
    assert.equal(await queue.get(), "next");
    assert.deepEqual(await stream.next(), { value: undefined, done: true });

    const waiting = queue.get();
    const refused = queue.stream();
    await assert.rejects(refused.next(), /while another read \(recv\(\) or for await\) is waiting/);
    assert.deepEqual(await refused.next(), { value: undefined, done: true }, "refused for good");
    queue.put(text("for the waiting reader"));
    assert.equal(await waiting, "for the waiting reader");
  });

  it("refuses a second next() while the first waits, which still gets its fragment", async () => {
    const { queue } = assembler();
    const stream = queue.stream();
    const first = stream.next();
    await assert.rejects(stream.next(), /another next\(\) is waiting/);
    queue.put(text("a", false));
    assert.deepEqual(await first, { value: "a", done: false });
    queue.put(cont("b", true));
    assert.deepEqual(await rest(stream), ["b"]);
    queue.put(text("next"));
    assert.equal(await queue.get(), "next");
  });

  it("drops the rest of a message left early, and delivers the next one", async () => {
    const { queue } = assembler();
    queue.put(text("a", false));
    const fragments: unknown[] = [];
    for await (const fragment of queue.stream()) {
      fragments.push(fragment);
      // One fragment waiting in the queue, the rest still to arrive.
      queue.put(cont("b"));
      break;
    }
    assert.deepEqual(fragments, ["a"]);
    assert.equal(queue.size, 0);
    queue.put(cont("c"));
    queue.put(cont("d", true));
    queue.put(text("next"));
    assert.equal(await queue.get(), "next");

    // A streaming read started while the rest is being dropped gets the message after it.
    queue.put(text("x", false));
    const left = queue.stream();
    assert.deepEqual(await left.next(), { value: "x", done: false });
    await left.return?.();
    const after = queue.stream();
    const waiting = rest(after);
    queue.put(cont("y", true));
    queue.put(text("after"));
    assert.deepEqual(await waiting, ["after"]);
  });

  it("takes nothing when aborted before any fragment was handed over", async () => {
    const { queue } = assembler();
    const reason = new Error("stop");
    queue.put(text("whole"));
    await assert.rejects(
      queue.stream({ aborted: true, reason } as AbortSignal).next(),
      (error) => error === reason,
    );
    assert.equal(await queue.get(), "whole");

    // Waiting, with nothing of the message here yet.
    const controller = new AbortController();
    const waiting = queue.stream(controller.signal).next();
    controller.abort(reason);
    await assert.rejects(waiting, (error) => error === reason);
    queue.put(text("late"));
    assert.equal(await queue.get(), "late");

    // Waiting, with the message under way but nothing to hand over: the
    // first byte of "é" and an empty frame.
    queue.put(bytes([0x61], false, Opcode.TEXT));
    queue.put(cont(""));
    const taken = queue.stream();
    assert.deepEqual(await taken.next(), { value: "a", done: false });
    queue.put(cont("b", true));
    assert.deepEqual(await rest(taken), ["b"]);
    const another = new AbortController();
    const started = queue.stream(another.signal).next();
    queue.put(bytes([0xc3], false, Opcode.TEXT));
    queue.put(cont(""));
    another.abort(reason);
    await assert.rejects(started, (error) => error === reason);
    queue.put(cont([0xa9, 0x21], true));
    assert.equal(await queue.get(), "é!");
  });

  it("drops the rest of the message when aborted after a fragment was handed over", async () => {
    const { queue } = assembler();
    const controller = new AbortController();
    const stream = queue.stream(controller.signal);
    queue.put(text("a", false));
    assert.deepEqual(await stream.next(), { value: "a", done: false });
    const waiting = stream.next();
    controller.abort(new Error("stop"));
    await assert.rejects(waiting, /stop/);
    assert.deepEqual(await stream.next(), { value: undefined, done: true });
    queue.put(cont("b", true));
    queue.put(text("next"));
    assert.equal(await queue.get(), "next");
  });

  it("yields the fragments received before a close, then rejects with the close error", async () => {
    const { queue } = assembler();
    queue.put(text("a", false));
    const stream = queue.stream();
    assert.deepEqual(await stream.next(), { value: "a", done: false });
    queue.put(cont("b"));
    // Even a normal closure is an error here, as for recv(): the message was cut off.
    queue.close(new ConnectionClosedOK(null, null));
    assert.deepEqual(await stream.next(), { value: "b", done: false });
    await assert.rejects(stream.next(), ConnectionClosedOK);
    await assert.rejects(queue.get(), ConnectionClosedOK, "the read is over");

    const other = assembler().queue;
    const waiting = other.stream().next();
    other.close(new ConnectionClosedError(null, null));
    await assert.rejects(waiting, ConnectionClosedError);
  });

  it("pauses at maxQueue fragments waiting and resumes at a quarter of it", async () => {
    const { queue, calls } = assembler(4);
    queue.put(text("0", false));
    const stream = queue.stream();
    assert.deepEqual(await stream.next(), { value: "0", done: false });
    for (const fragment of ["1", "2", "3"]) queue.put(cont(fragment));
    assert.deepEqual(calls, []);
    queue.put(cont("4"));
    assert.deepEqual(calls, ["pause"]);
    assert.equal(queue.room, 0);
    // The fragments of the message and the messages after it count together.
    queue.put(cont("5", true));
    queue.put(text("next"));
    for (const expected of ["1", "2", "3", "4"]) {
      assert.deepEqual(await stream.next(), { value: expected, done: false });
    }
    assert.deepEqual(calls, ["pause"]);
    assert.deepEqual(await stream.next(), { value: "5", done: false });
    assert.deepEqual(calls, ["pause", "resume"]);
    assert.equal(await queue.get(), "next");
  });

  it("never pauses when closing, and cuts off a message whose fragments no longer fit", async () => {
    const { queue, calls } = assembler(2);
    queue.put(text("0", false));
    const stream = queue.stream();
    assert.deepEqual(await stream.next(), { value: "0", done: false });
    queue.drainForClose();
    queue.put(cont("1"));
    queue.put(cont("2"));
    queue.put(cont("dropped"));
    queue.put(cont("dropped too", true));
    queue.put(text("dropped as well"));
    assert.deepEqual(calls, []);
    queue.close(new ConnectionClosedOK(null, null));
    assert.deepEqual(await stream.next(), { value: "1", done: false });
    assert.deepEqual(await stream.next(), { value: "2", done: false });
    await assert.rejects(stream.next(), ConnectionClosedOK);
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
