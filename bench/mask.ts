/**
 * Micro-benchmark of the RFC 6455 §5.3 mask: `npm run build:test && node
 * .build/bench/mask.js [--seconds 0.5]`.
 *
 * Prints GB/s for 64 B, 1 KiB, 64 KiB, 1 MiB and 16 MiB payloads, unmasked in
 * place and masked into another buffer (as a client sending a frame does),
 * for this project's `applyMask` with and without WebAssembly, and for
 * `bufferutil`'s native `mask`/`unmask` when it loads. One more column masks
 * into a buffer allocated for each payload, as a server assembling a large
 * message does: writing to fresh memory costs the kernel's page faults too.
 * The last of ours masks into a frame slot of WebAssembly memory, as a client
 * sending a frame of 64 KiB or more does (`takeFrameSlot()`).
 *
 * @module
 */

import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { takeFrameSlot } from "../src/core/frame-slots.js";
import { applyMask, useWasmMask, wasmMaskAvailable } from "../src/core/mask.js";
import { SPARE_FRAME_MIN } from "../src/core/outgoing.js";
import { allocateFilled } from "../src/core/streams.js";

const { values: flags } = parseArgs({
  options: { seconds: { type: "string", default: "0.5" } },
});
const seconds = Number(flags.seconds);

interface BufferUtil {
  mask(source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number): void;
  unmask(buffer: Buffer, mask: Buffer): void;
}

function loadBufferUtil(): BufferUtil | null {
  try {
    return createRequire(import.meta.url)("bufferutil") as BufferUtil;
  } catch {
    return null;
  }
}

const SIZES = [
  ["64 B", 64],
  ["1 KiB", 1024],
  ["64 KiB", 65536],
  ["1 MiB", 1048576],
  ["16 MiB", 16777216],
] as const;

/** Runs `run` over `size`-byte payloads for about `seconds`; returns GB/s. */
function measure(size: number, run: () => void): number {
  // Warm up so that V8 optimises the loop before it is timed.
  const warmUntil = performance.now() + 100;
  while (performance.now() < warmUntil) run();
  let bytes = 0;
  const start = performance.now();
  const until = start + seconds * 1000;
  let now = start;
  while (now < until) {
    for (let i = 0; i < 16; i++) run();
    bytes += 16 * size;
    now = performance.now();
  }
  return bytes / ((now - start) / 1000) / 1e9;
}

const bufferutil = loadBufferUtil();
const wasmAvailable = wasmMaskAvailable();
const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
const rows: string[][] = [];

for (const [label, size] of SIZES) {
  // Odd offsets, as payloads after a 6- or 14-byte header in a TCP read are.
  const source = Buffer.alloc(size + 8).subarray(6, 6 + size);
  const target = Buffer.alloc(size + 8).subarray(2, 2 + size);
  source.fill(0x5a);
  const row: string[] = [label];
  for (const wasm of [false, true]) {
    if (wasm && !wasmAvailable) {
      row.push("n/a", "n/a");
      continue;
    }
    useWasmMask(wasm);
    row.push(measure(size, () => applyMask(source, key)).toFixed(2));
    row.push(measure(size, () => applyMask(source, key, target)).toFixed(2));
  }
  row.push(
    wasmAvailable
      ? measure(size, () => applyMask(source, key, allocateFilled(size))).toFixed(2)
      : "n/a",
  );
  useWasmMask(true);
  // A client's frame in a slot of WebAssembly memory, behind its 14-byte header.
  const slot = size + 14 >= SPARE_FRAME_MIN ? takeFrameSlot(size + 14, 14, source) : null;
  if (slot === null) {
    row.push("n/a");
  } else {
    const payload = slot.buffer.subarray(14);
    row.push(measure(size, () => applyMask(source, key, payload)).toFixed(2));
    slot.release();
  }
  if (bufferutil === null) {
    row.push("n/a", "n/a");
  } else {
    row.push(measure(size, () => bufferutil.unmask(source, key)).toFixed(2));
    row.push(measure(size, () => bufferutil.mask(source, key, target, 0, size)).toFixed(2));
  }
  rows.push(row);
}

const header = [
  "size",
  "JS in place",
  "JS copy",
  "WASM in place",
  "WASM copy",
  "WASM copy, fresh target",
  "WASM copy, frame slot",
  "bufferutil unmask",
  "bufferutil mask",
];
console.log(`GB/s, higher is better (WebAssembly SIMD available: ${wasmAvailable})`);
console.log(`| ${header.join(" | ")} |`);
console.log(`|${header.map(() => "---:").join("|")}|`);
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
