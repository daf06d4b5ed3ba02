/**
 * Micro-benchmark behind the permessage-deflate design decision: which way of
 * driving zlib through public Node APIs keeps a compression context
 * (RFC 7692 §7.1.1 context takeover) at the lowest cost in time and memory.
 *
 * Candidates (the number is the window bits; 15 runs with memLevel 8, 12 with 5):
 * - `sync-dict-N`: one-shot `deflateRawSync` / `inflateRawSync` per message
 *   with the last window of plaintext passed as a preset dictionary.
 *   Synchronous, so it fits the sans-I/O core; no zlib state lives between
 *   messages.
 * - `sync-fresh-15`: the same without a dictionary (no context takeover), the
 *   floor of the one-shot approach.
 * - `async-N`: a persistent `createDeflateRaw()` / `createInflateRaw()` pair
 *   per connection, written then flushed with `Z_SYNC_FLUSH`, running on
 *   libuv's thread pool (the approach of the `ws` package).
 * - `ours-kept-N`: this library's `PerMessageDeflate` with its zlib streams
 *   kept from message to message, driven synchronously through Node's native
 *   handle (src/core/extensions/zlib-stream.ts): what a busy connection does.
 * - `ours-reopen-N`: the same extension without `scheduleRelease`, which opens
 *   its streams from the sliding windows and closes them for every message:
 *   what a connection that goes quiet between messages pays.
 *
 * It also measures the memory an idle connection holds with each setting,
 * against the `ws` package's.
 *
 * Run: `npm run build:test && node .build/bench/compression-zlib.js`
 * (`--idle` or `--memory` run one measurement; the full run spawns them).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { execFileSync } from "node:child_process";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import * as zlib from "node:zlib";
import WebSocket, { WebSocketServer } from "ws";
import { PerMessageDeflate } from "../src/core/extensions/permessage-deflate.js";
import { Frame } from "../src/core/frame.js";
import { Opcode } from "../src/core/opcodes.js";
import { type ConnectOptions, connect } from "../src/node/client.js";
import { type ServeOptions, serve } from "../src/node/server.js";
import { flushThrough } from "../test/helpers/zlib.js";

const SYNC_FLUSH = { finishFlush: zlib.constants.Z_SYNC_FLUSH } as const;
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Deterministic pseudo-random numbers, so every run compresses the same data. */
function* randomNumbers(seed: number): Generator<number> {
  let state = seed >>> 0;
  for (;;) {
    state = (state * 1664525 + 1013904223) >>> 0;
    yield state / 0x100000000;
  }
}

const WORDS = "the a websocket message user room hello joined left typing status ok error".split(
  " ",
);

/** JSON chat-like messages close to `size` bytes: the traffic compression is for. */
function corpus(size: number, count: number): Buffer[] {
  const random = randomNumbers(size);
  const next = () => random.next().value as number;
  const messages: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const items: unknown[] = [];
    let text = "";
    while (text.length < size) {
      const words = Array.from({ length: 3 + Math.floor(next() * 8) }, () => {
        return WORDS[Math.floor(next() * WORDS.length)];
      });
      items.push({
        id: Math.floor(next() * 1e9),
        user: `user${Math.floor(next() * 500)}`,
        ts: 1_700_000_000_000 + Math.floor(next() * 1e9),
        text: words.join(" "),
      });
      text = JSON.stringify({ type: "messages", items });
    }
    messages.push(Buffer.from(text.slice(0, size)));
  }
  return messages;
}

/** The last `size` bytes that went through a codec, kept as a preset dictionary. */
class History {
  data: Buffer = Buffer.alloc(0);
  constructor(private readonly size: number) {}
  push(message: Buffer): void {
    const size = this.size;
    const kept = Math.max(0, Math.min(this.data.length, size - message.length));
    this.data =
      message.length >= size
        ? Buffer.from(message.subarray(message.length - size))
        : Buffer.concat([this.data.subarray(this.data.length - kept), message]);
  }
}

interface Codec {
  compress(message: Buffer): Promise<Buffer> | Buffer;
  decompress(payload: Buffer): Promise<Buffer> | Buffer;
  close(): void;
}

interface Settings {
  /** Compression window: 2^windowBits bytes of history. */
  windowBits: number;
  memLevel: number;
}

function syncCodec(settings: Settings, dictionary: boolean): Codec {
  const sent = new History(2 ** settings.windowBits);
  const received = new History(2 ** settings.windowBits);
  const deflateOptions = { ...SYNC_FLUSH, ...settings };
  return {
    compress(message) {
      const options =
        dictionary && sent.data.length > 0
          ? { ...deflateOptions, dictionary: sent.data }
          : deflateOptions;
      const output = zlib.deflateRawSync(message, options);
      if (dictionary) sent.push(message);
      return output.subarray(0, output.length - 4);
    },
    decompress(payload) {
      const input = Buffer.concat([payload, TAIL]);
      const options =
        dictionary && received.data.length > 0
          ? { ...SYNC_FLUSH, dictionary: received.data }
          : SYNC_FLUSH;
      const output = zlib.inflateRawSync(input, options);
      if (dictionary) received.push(output);
      return output;
    },
    close() {},
  };
}

function asyncCodec(settings: Settings): Codec {
  const deflate = zlib.createDeflateRaw(settings);
  const inflate = zlib.createInflateRaw({ windowBits: settings.windowBits });
  return {
    async compress(message) {
      const output = await flushThrough(deflate, message);
      return output.subarray(0, output.length - 4);
    },
    decompress(payload) {
      return flushThrough(inflate, Buffer.concat([payload, TAIL]));
    },
    close() {
      deflate.close();
      inflate.close();
    },
  };
}

/** This library's extension, one per side, its streams kept between messages or not. */
function extensionCodec(settings: Settings, keep: boolean): Codec {
  const parameters = {
    localNoContextTakeover: false,
    remoteNoContextTakeover: false,
    localMaxWindowBits: settings.windowBits,
    remoteMaxWindowBits: settings.windowBits,
  };
  const tuning = { memLevel: settings.memLevel, ...(keep ? { scheduleRelease() {} } : {}) };
  const sender = new PerMessageDeflate(parameters, tuning);
  const receiver = new PerMessageDeflate(parameters, tuning);
  return {
    compress(message) {
      const data = sender.encode(new Frame(Opcode.BINARY, message)).data;
      return Buffer.from(data.buffer, data.byteOffset, data.length);
    },
    decompress(payload) {
      const data = receiver.decode(new Frame(Opcode.BINARY, payload, true, true), Infinity).data;
      return Buffer.from(data.buffer, data.byteOffset, data.length);
    },
    close() {
      sender.releaseIdleState();
      receiver.releaseIdleState();
    },
  };
}

/** zlib's and `ws`'s defaults. */
const LARGE: Settings = { windowBits: 15, memLevel: 8 };
/** Python `websockets`' server defaults, which this library adopts. */
const SMALL: Settings = { windowBits: 12, memLevel: 5 };

const CANDIDATES: Record<string, () => Codec> = {
  "sync-fresh-15": () => syncCodec(LARGE, false),
  "sync-dict-15": () => syncCodec(LARGE, true),
  "sync-dict-12": () => syncCodec(SMALL, true),
  "async-15": () => asyncCodec(LARGE),
  "async-12": () => asyncCodec(SMALL),
  "ours-kept-15": () => extensionCodec(LARGE, true),
  "ours-kept-12": () => extensionCodec(SMALL, true),
  "ours-reopen-12": () => extensionCodec(SMALL, false),
};

interface Result {
  candidate: string;
  size: number;
  connections: number;
  ratio: number;
  compressUs: number;
  decompressUs: number;
  messagesPerSecond: number;
  /**
   * CPU time of the process (all threads, so the thread pool's work counts)
   * per message compressed and decompressed: less sensitive than wall time
   * to other processes on a shared machine.
   */
  cpuUs: number;
}

/**
 * Sends every message of `messages` through `connections` codecs, each
 * connection sequentially and all connections concurrently, like a server
 * broadcasting to many clients.
 */
async function measure(
  candidate: string,
  messages: Buffer[],
  connections: number,
): Promise<Result> {
  const codecs = Array.from({ length: connections }, CANDIDATES[candidate]!);
  let compressed = 0;
  let original = 0;
  let compressTime = 0;
  let decompressTime = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  await Promise.all(
    codecs.map(async (codec) => {
      for (const message of messages) {
        const t0 = performance.now();
        const payload = await codec.compress(message);
        const t1 = performance.now();
        const output = await codec.decompress(payload);
        const t2 = performance.now();
        compressTime += t1 - t0;
        decompressTime += t2 - t1;
        if (!output.equals(message)) throw new Error(`${candidate} corrupted a message`);
        compressed += payload.length;
        original += message.length;
      }
    }),
  );
  const elapsed = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  for (const codec of codecs) codec.close();
  const total = messages.length * connections;
  return {
    candidate,
    size: messages[0]!.length,
    connections,
    ratio: compressed / original,
    compressUs: (compressTime / total) * 1000,
    decompressUs: (decompressTime / total) * 1000,
    messagesPerSecond: Math.round((total / elapsed) * 1000),
    cpuUs: (cpu.user + cpu.system) / total,
  };
}

/**
 * Heap + external memory (where Node counts zlib's allocations) once garbage
 * is gone, and RSS. zlib handles of one-shot calls are freed by finalizers
 * that run after a collection: collect until memory stops going down.
 */
async function settledMemory(): Promise<[heapAndExternal: number, rss: number]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run with --expose-gc");
  let last = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 20; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
    const { heapUsed, external } = process.memoryUsage();
    if (heapUsed + external >= last) break;
    last = heapUsed + external;
  }
  return [last, process.memoryUsage().rss];
}

/** Memory per connection holding a compressor and a decompressor after one 1 KiB message. */
async function memoryPerConnection(candidate: string, count: number): Promise<[number, number]> {
  const message = corpus(1024, 1)[0]!;
  const [heapBefore, rssBefore] = await settledMemory();
  const codecs: Codec[] = [];
  for (let i = 0; i < count; i++) {
    const codec = CANDIDATES[candidate]!();
    await codec.decompress(Buffer.from(await codec.compress(message)));
    codecs.push(codec);
  }
  const [heapAfter, rssAfter] = await settledMemory();
  for (const codec of codecs) codec.close();
  return [(heapAfter - heapBefore) / count, (rssAfter - rssBefore) / count];
}

const ROUNDS = 5;

/** The median of each figure over several rounds. */
function median(results: Result[]): Result {
  const middle = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;
  return {
    ...results[0]!,
    ratio: middle(results.map((result) => result.ratio)),
    compressUs: middle(results.map((result) => result.compressUs)),
    decompressUs: middle(results.map((result) => result.decompressUs)),
    messagesPerSecond: middle(results.map((result) => result.messagesPerSecond)),
    cpuUs: middle(results.map((result) => result.cpuUs)),
  };
}

function format(result: Result): string {
  return [
    result.candidate.padEnd(15),
    String(result.size).padStart(8),
    String(result.connections).padStart(5),
    result.ratio.toFixed(3).padStart(7),
    // With concurrent connections, a call's time includes waiting for the others.
    (result.connections > 1 ? "-" : result.compressUs.toFixed(1)).padStart(11),
    (result.connections > 1 ? "-" : result.decompressUs.toFixed(1)).padStart(13),
    String(result.messagesPerSecond).padStart(10),
    result.cpuUs.toFixed(1).padStart(10),
  ].join(" ");
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, zlib ${process.versions.zlib}`);
  console.log(
    "candidate           size  conns   ratio compress_us decompress_us   msgs/s cpu_us/msg",
  );
  const plan: [size: number, count: number, connections: number][] = [
    [200, 500, 1],
    [200, 20, 50],
    [4096, 150, 1],
    [4096, 10, 50],
    [65536, 15, 1],
    [1024 * 1024, 2, 1],
  ];
  const names = Object.keys(CANDIDATES);
  for (const [size, count, connections] of plan) {
    const messages = corpus(size, count);
    const results = new Map<string, Result[]>(names.map((name) => [name, []]));
    for (const candidate of names) {
      await measure(candidate, messages.slice(0, Math.max(1, count / 10)), connections);
    }
    // Rounds alternate the candidates, so that a burst of load on a shared
    // machine hits them all; each figure is the median of the rounds.
    for (let round = 0; round < ROUNDS; round++) {
      for (const candidate of names) {
        results.get(candidate)!.push(await measure(candidate, messages, connections));
      }
    }
    for (const candidate of names) console.log(format(median(results.get(candidate)!)));
  }
  console.log(
    "\nMemory per connection holding a compressor and a decompressor after one 1 KiB message each way (1000 connections):",
  );
  for (const candidate of names) {
    // A fresh process each, so one candidate's freed memory does not hide another's.
    const output = execFileSync(process.execPath, [
      "--expose-gc",
      fileURLToPath(import.meta.url),
      "--memory",
      candidate,
    ]);
    const [heap, rss] = JSON.parse(output.toString()) as [number, number];
    console.log(
      `${candidate.padEnd(15)} heap+external ${(heap / 1024).toFixed(1).padStart(6)} KiB   rss ${(rss / 1024).toFixed(1).padStart(6)} KiB`,
    );
  }

  console.log(
    "\nMemory per idle connection pair (our client + our server, or ws + ws), 500 pairs,",
  );
  console.log("after three 2 KiB JSON messages each way; heap+external counts zlib's allocations:");
  for (const name of Object.keys(IDLE_CONFIGS)) {
    const output = execFileSync(process.execPath, [
      "--expose-gc",
      fileURLToPath(import.meta.url),
      "--idle",
      name,
    ]);
    const [heap, rss] = JSON.parse(output.toString()) as [number, number];
    console.log(
      `${name.padEnd(30)} heap+external ${(heap / 1024).toFixed(1).padStart(6)} KiB   rss ${(rss / 1024).toFixed(1).padStart(6)} KiB`,
    );
  }
}

/** Server and client settings of each idle-connection measurement. */
const IDLE_CONFIGS: Record<
  string,
  { serve: ServeOptions; connect: ConnectOptions } | "ws-off" | "ws-deflate"
> = {
  "compression: null": { serve: { compression: null }, connect: { compression: null } },
  "deflate, defaults (12 bits)": { serve: {}, connect: {} },
  "deflate, 15 bits": {
    serve: { deflate: { windowBits: 15, peerWindowBits: 15 } },
    connect: { deflate: { windowBits: 15 } },
  },
  "deflate, 9 bits": {
    serve: { deflate: { windowBits: 9, peerWindowBits: 9 } },
    connect: { deflate: { windowBits: 9 } },
  },
  "deflate, no context takeover": {
    serve: { deflate: { noContextTakeover: true, peerNoContextTakeover: true } },
    connect: {},
  },
  "ws, no compression": "ws-off",
  "ws, perMessageDeflate": "ws-deflate",
};

/**
 * Memory per idle connection pair (a client and a server in this process)
 * after each side sent three 2 KiB JSON messages: heap + external memory,
 * where Node counts zlib's allocations, and RSS.
 */
async function idleMemory(name: string, count: number): Promise<[number, number]> {
  const config = IDLE_CONFIGS[name]!;
  const message = corpus(2048, 1)[0]!.toString();
  let close: () => Promise<void>;
  let open: () => Promise<() => void>;
  if (typeof config === "string") {
    const perMessageDeflate = config === "ws-deflate";
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate });
    server.on("connection", (ws) =>
      ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary })),
    );
    await once(server, "listening");
    const port = (server.address() as AddressInfo).port;
    open = async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate });
      await once(ws, "open");
      for (let i = 0; i < 3; i++) {
        ws.send(message);
        await once(ws, "message");
      }
      return () => ws.terminate();
    };
    close = () => new Promise((resolve) => server.close(() => resolve()));
  } else {
    const server = await serve(
      async (ws) => {
        for await (const data of ws) await ws.send(data);
      },
      { host: "127.0.0.1", port: 0, logger: null, pingInterval: null, ...config.serve },
    );
    const port = (server.address() as AddressInfo).port;
    open = async () => {
      const ws = await connect(`ws://127.0.0.1:${port}`, {
        logger: null,
        pingInterval: null,
        ...config.connect,
      });
      for (let i = 0; i < 3; i++) {
        await ws.send(message);
        await ws.recv();
      }
      return () => void ws.close();
    };
    close = () => server.close();
  }
  // One connection first, so that code paths and buffers that every
  // connection shares are not counted against the first of them.
  const closers = [await open()];
  const [heapBefore, rssBefore] = await settledMemory();
  for (let i = 0; i < count; i++) closers.push(await open());
  const [heapAfter, rssAfter] = await settledMemory();
  for (const closeConnection of closers) closeConnection();
  await close();
  return [(heapAfter - heapBefore) / count, (rssAfter - rssBefore) / count];
}

const memoryFlag = process.argv.indexOf("--memory");
const idleFlag = process.argv.indexOf("--idle");
if (memoryFlag >= 0) {
  console.log(JSON.stringify(await memoryPerConnection(process.argv[memoryFlag + 1]!, 1000)));
} else if (idleFlag >= 0) {
  console.log(JSON.stringify(await idleMemory(process.argv[idleFlag + 1]!, 500)));
  process.exit(0);
} else {
  await main();
}
