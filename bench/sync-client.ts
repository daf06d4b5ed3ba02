/**
 * The blocking client against the async one, over loopback, against this
 * library's echo server running on its own thread (a blocking call would
 * freeze a server sharing the caller's thread).
 *
 *   npm run build:test && node .build/bench/sync-client.js [--repeats N]
 *
 * Each figure is the median of N repeats (default 7). Printed as a Markdown
 * table, with the sync/async ratio, for docs/topics/sync.md.
 */

import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { connect as connectAsync } from "../src/node/client.js";
import { serve } from "../src/node/server.js";
import { connect as connectSync } from "../src/sync/index.js";

const ONE_MIB = 1024 * 1024;
const SMALL = "x".repeat(16);
const BATCH = 100;

interface Case {
  readonly name: string;
  readonly unit: string;
  /** Higher is better (a rate) or lower is better (a duration). */
  readonly higherIsBetter: boolean;
  sync(uri: string): number;
  async(uri: string): Promise<number>;
}

const CASES: Case[] = [
  {
    name: "connect + close",
    unit: "ms",
    higherIsBetter: false,
    sync(uri) {
      const start = performance.now();
      connectSync(uri).close();
      return performance.now() - start;
    },
    async async(uri) {
      const start = performance.now();
      await (await connectAsync(uri)).close();
      return performance.now() - start;
    },
  },
  {
    name: "round trip, 16 B text (2000 in a row)",
    unit: "µs",
    higherIsBetter: false,
    sync(uri) {
      using client = connectSync(uri);
      const start = performance.now();
      for (let i = 0; i < 2000; i++) {
        client.send(SMALL);
        client.recv();
      }
      return ((performance.now() - start) / 2000) * 1000;
    },
    async async(uri) {
      await using client = await connectAsync(uri);
      const start = performance.now();
      for (let i = 0; i < 2000; i++) {
        await client.send(SMALL);
        await client.recv();
      }
      return ((performance.now() - start) / 2000) * 1000;
    },
  },
  {
    name: `16 B messages, echoed in batches of ${BATCH}`,
    unit: "msg/s",
    higherIsBetter: true,
    sync(uri) {
      using client = connectSync(uri);
      const start = performance.now();
      for (let batch = 0; batch < 200; batch++) {
        for (let i = 0; i < BATCH; i++) client.send(SMALL);
        for (let i = 0; i < BATCH; i++) client.recv();
      }
      return (200 * BATCH) / ((performance.now() - start) / 1000);
    },
    async async(uri) {
      await using client = await connectAsync(uri);
      const start = performance.now();
      for (let batch = 0; batch < 200; batch++) {
        for (let i = 0; i < BATCH; i++) await client.send(SMALL);
        for (let i = 0; i < BATCH; i++) await client.recv();
      }
      return (200 * BATCH) / ((performance.now() - start) / 1000);
    },
  },
  {
    name: "1 MiB binary, echoed one at a time",
    unit: "MiB/s",
    higherIsBetter: true,
    sync(uri) {
      using client = connectSync(uri, { maxMessageSize: 2 * ONE_MIB });
      const payload = new Uint8Array(ONE_MIB);
      const start = performance.now();
      for (let i = 0; i < 32; i++) {
        client.send(payload);
        client.recv();
      }
      return 32 / ((performance.now() - start) / 1000);
    },
    async async(uri) {
      await using client = await connectAsync(uri, { maxMessageSize: 2 * ONE_MIB });
      const payload = new Uint8Array(ONE_MIB);
      const start = performance.now();
      for (let i = 0; i < 32; i++) {
        await client.send(payload);
        await client.recv();
      }
      return 32 / ((performance.now() - start) / 1000);
    },
  },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function format(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toFixed(2);
}

async function main(): Promise<void> {
  const repeatsFlag = process.argv.indexOf("--repeats");
  const repeats = repeatsFlag >= 0 ? Number(process.argv[repeatsFlag + 1]) : 7;
  const server = new Worker(new URL(import.meta.url), { workerData: { echoServer: true } });
  const [port] = (await once(server, "message")) as [number];
  const uri = `ws://127.0.0.1:${port}/`;

  console.log(`node ${process.version}, ${repeats} repeats, medians\n`);
  console.log("| measure | unit | sync | async | sync / async |");
  console.log("|---|---|---:|---:|---:|");
  for (const benchCase of CASES) {
    // One run of each to warm up the JIT and the server.
    benchCase.sync(uri);
    await benchCase.async(uri);
    const sync: number[] = [];
    const async: number[] = [];
    for (let i = 0; i < repeats; i++) {
      sync.push(benchCase.sync(uri));
      async.push(await benchCase.async(uri));
    }
    const [s, a] = [median(sync), median(async)];
    console.log(
      `| ${benchCase.name} | ${benchCase.unit} | ${format(s)} | ${format(a)} | ${(s / a).toFixed(2)} |`,
    );
  }
  server.postMessage("stop");
  await once(server, "exit");
}

async function runEchoServer(): Promise<void> {
  const server = await serve(
    async (ws) => {
      for await (const message of ws) await ws.send(message);
    },
    { host: "127.0.0.1", port: 0, logger: null, maxMessageSize: 2 * ONE_MIB },
  );
  parentPort!.postMessage((server.address() as AddressInfo).port);
  parentPort!.once("message", () => {
    void server.close().then(() => parentPort!.close());
  });
}

if (isMainThread) await main();
else if ((workerData as { echoServer?: boolean } | null)?.echoServer) await runEchoServer();
