/**
 * What the documented echo handler costs by itself, whatever the library
 * under it does: `node --expose-gc .build/bench/floor.js [--messages 1000000]
 * [--connections 10000]` (built by `npm run build:test`).
 *
 * The handler, `for await (const message of ws) await ws.send(message)`, runs
 * here over a stand-in connection that does no I/O, no parsing and no
 * framing: its `next()` returns a settled promise of a message already made,
 * its `send()` a settled promise. What that costs per message, and what a
 * handler suspended in `for await` keeps per connection, is a floor under
 * any library that serves this handler: the benchmark's targets against the
 * raw TCP echo have to fit above it (see `docs/topics/performance.md`).
 *
 * For comparison, it also times a callback handler (`onMessage(m) { send(m) }`,
 * the shape of `ws`'s API) and the `Buffer` view a library must make for each
 * message it hands over.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { parseArgs } from "node:util";

const { values: flags } = parseArgs({
  options: {
    messages: { type: "string", default: "1000000" },
    connections: { type: "string", default: "10000" },
    windows: { type: "string", default: "7" },
  },
});
const MESSAGES = Number(flags.messages);
const CONNECTIONS = Number(flags.connections);
const WINDOWS = Number(flags.windows);

type Handler = (ws: StandIn) => Promise<void>;

/** The echo handler of the benchmark's server (`bench/servers/ours.ts`). */
const documentedHandler: Handler = async (ws) => {
  for await (const message of ws) await ws.send(message);
};

const SETTLED = Promise.resolve();
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** A connection with nothing under it: `count` messages, then the end. */
class StandIn implements AsyncIterableIterator<Uint8Array> {
  private delivered = 0;
  sent = 0;

  constructor(
    private readonly count: number,
    /** Makes each message: the same `Buffer`, or a new view per message. */
    private readonly makeMessage: (index: number) => Uint8Array,
  ) {}

  next(): Promise<IteratorResult<Uint8Array, undefined>> {
    if (this.delivered === this.count) return Promise.resolve(DONE);
    return Promise.resolve({ value: this.makeMessage(this.delivered++), done: false });
  }

  send(message: Uint8Array): Promise<void> {
    this.sent += message.length;
    return SETTLED;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this;
  }
}

const SLAB = Buffer.alloc(64 * 1024);
const ONE_MESSAGE = SLAB.subarray(0, 16);
const sameMessage = () => ONE_MESSAGE;
/** A view per message, as a parser handing over payloads from its read buffer does. */
const viewPerMessage = (index: number) => {
  const offset = (index * 16) & 0xffff;
  return SLAB.subarray(offset, offset + 16);
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

async function timePerMessage(run: () => Promise<number> | number): Promise<number> {
  const results: number[] = [];
  // The first window warms up the optimizing compiler and is not counted.
  for (let window = 0; window <= WINDOWS; window++) {
    const start = process.hrtime.bigint();
    const handled = await run();
    const elapsed = Number(process.hrtime.bigint() - start);
    if (handled !== MESSAGES) throw new Error(`handled ${handled} of ${MESSAGES} messages`);
    if (window > 0) results.push(elapsed / MESSAGES);
  }
  return median(results);
}

async function runDocumented(makeMessage: (index: number) => Uint8Array): Promise<number> {
  const ws = new StandIn(MESSAGES, makeMessage);
  await documentedHandler(ws);
  return ws.sent / 16;
}

/** The callback shape: the library calls the handler once per message, no promise involved. */
function runCallback(makeMessage: (index: number) => Uint8Array): number {
  let sent = 0;
  const send = (message: Uint8Array) => {
    sent += message.length;
  };
  const onMessage = (message: Uint8Array) => send(message);
  for (let i = 0; i < MESSAGES; i++) onMessage(makeMessage(i));
  return sent / 16;
}

function heapUsed(gc: () => void): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** A connection whose handler waits for a message that never comes. */
class IdleStandIn implements AsyncIterableIterator<Uint8Array> {
  settle: ((result: IteratorResult<Uint8Array, undefined>) => void) | null = null;

  next(): Promise<IteratorResult<Uint8Array, undefined>> {
    return new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  send(_message: Uint8Array): Promise<void> {
    return SETTLED;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this;
  }
}

function noteReturned(this: IdleStandIn): void {}
function noteThrew(this: IdleStandIn, _error: unknown): void {}

/**
 * Heap per connection, in bytes: the stand-ins alone, then with a handler
 * suspended in `for await` on each, then with the handler's promise observed
 * as a server must (to close the connection when the handler returns).
 */
async function idleMemory(gc: () => void): Promise<Record<string, number>> {
  const keep: unknown[] = [];
  const before = heapUsed(gc);
  const standIns = Array.from({ length: CONNECTIONS }, () => new IdleStandIn());
  keep.push(standIns);
  const withStandIns = heapUsed(gc);
  const handlers = standIns.map((ws) => documentedHandler(ws as unknown as StandIn));
  keep.push(handlers);
  // Let every handler reach its first await.
  await new Promise((resolve) => setImmediate(resolve));
  const withHandlers = heapUsed(gc);
  const observed = handlers.map((promise, i) =>
    promise.then(noteReturned.bind(standIns[i]!), noteThrew.bind(standIns[i]!)),
  );
  keep.push(observed);
  const withObservers = heapUsed(gc);
  const result = {
    standIn: (withStandIns - before) / CONNECTIONS,
    handler: (withHandlers - withStandIns) / CONNECTIONS,
    observer: (withObservers - withHandlers) / CONNECTIONS,
  };
  // End the handlers, so that nothing is left pending.
  for (const ws of standIns) ws.settle?.(DONE);
  await Promise.all(observed);
  keep.length = 0;
  return result;
}

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with node --expose-gc");
  console.log(
    `Node ${process.version}; ${MESSAGES} messages of 16 B per window, median of ${WINDOWS}`,
  );
  console.log("\nCPU per message (ns), in this process, no I/O:");
  const rows: [string, () => Promise<number> | number][] = [
    ["documented handler, same message each time", () => runDocumented(sameMessage)],
    ["documented handler, a Buffer view per message", () => runDocumented(viewPerMessage)],
    ["callback handler, same message each time", () => runCallback(sameMessage)],
    ["callback handler, a Buffer view per message", () => runCallback(viewPerMessage)],
  ];
  for (const [name, run] of rows) {
    console.log(`  ${(await timePerMessage(run)).toFixed(1).padStart(7)}  ${name}`);
  }
  const memory = await idleMemory(gc);
  console.log(`\nHeap per idle connection (B), ${CONNECTIONS} connections:`);
  console.log(`  ${memory.standIn!.toFixed(0).padStart(7)}  the stand-in connection (one field)`);
  console.log(`  ${memory.handler!.toFixed(0).padStart(7)}  its handler, suspended in for await`);
  console.log(`  ${memory.observer!.toFixed(0).padStart(7)}  observing the handler's promise`);
}

await main();
