/**
 * RFC 6455 §5.3 masking: "octet i of the transformed data is the XOR of octet i
 * of the original data with octet at index i modulo 4 of the masking key".
 *
 * Large payloads go through a tiny WebAssembly module that XORs 16 bytes per
 * SIMD instruction, copied through its memory in blocks: measured on 1 MiB,
 * copy in, XOR and copy out together run several times faster than the best
 * JavaScript loop (see `bench/mask.ts`). A client's large frames can be
 * written straight into that memory (`frame-slots.ts`) and masked where they
 * lie. Small payloads, and runtimes without WebAssembly SIMD, use
 * an unrolled JavaScript loop.
 *
 * @module
 */

/**
 * The WebAssembly module, written by hand (139 bytes). In text format:
 *
 * ```wat
 * (module
 *   (memory (export "memory") 2)
 *   ;; XORs memory[start, end) with the key repeated; end - start is a
 *   ;; non-zero multiple of 64.
 *   (func (export "mask") (param $start i32) (param $end i32) (param $key i32)
 *     (local $k v128)
 *     (local.set $k (i32x4.splat (local.get $key)))
 *     (loop $next
 *       (v128.store offset=0  (local.get $start) (v128.xor (v128.load offset=0  (local.get $start)) (local.get $k)))
 *       (v128.store offset=16 (local.get $start) (v128.xor (v128.load offset=16 (local.get $start)) (local.get $k)))
 *       (v128.store offset=32 (local.get $start) (v128.xor (v128.load offset=32 (local.get $start)) (local.get $k)))
 *       (v128.store offset=48 (local.get $start) (v128.xor (v128.load offset=48 (local.get $start)) (local.get $k)))
 *       (local.set $start (i32.add (local.get $start) (i32.const 64)))
 *       (br_if $next (i32.lt_u (local.get $start) (local.get $end))))))
 * ```
 */
// biome-ignore format: one line per group of bytes, as the comments describe them
const MASK_MODULE = new Uint8Array([
  // Header: "\0asm", version 1.
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  // Type section (1), 7 bytes, 1 type: func (i32, i32, i32) -> ().
  0x01, 0x07, 0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00,
  // Function section (3), 2 bytes, 1 function of type 0.
  0x03, 0x02, 0x01, 0x00,
  // Memory section (5), 3 bytes, 1 memory: no maximum, 2 pages (128 KiB) to start.
  0x05, 0x03, 0x01, 0x00, 0x02,
  // Export section (7), 17 bytes, 2 exports: "memory" (memory 0), "mask" (function 0).
  0x07, 0x11, 0x02,
  0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00,
  0x04, 0x6d, 0x61, 0x73, 0x6b, 0x00, 0x00,
  // Code section (10), 92 bytes, 1 body of 90 bytes; 1 local group: 1 × v128.
  0x0a, 0x5c, 0x01, 0x5a, 0x01, 0x01, 0x7b,
  // local.get $key; i32x4.splat; local.set $k
  0x20, 0x02, 0xfd, 0x11, 0x21, 0x03,
  // loop (no result)
  0x03, 0x40,
  // Four times, at offsets 0, 16, 32, 48: local.get $start (store address);
  // local.get $start; v128.load align=16 offset; local.get $k; v128.xor;
  // v128.store align=16 offset. (Alignment is a hint: any address is correct.)
  0x20, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x04, 0x00, 0x20, 0x03, 0xfd, 0x51, 0xfd, 0x0b, 0x04, 0x00,
  0x20, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x04, 0x10, 0x20, 0x03, 0xfd, 0x51, 0xfd, 0x0b, 0x04, 0x10,
  0x20, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x04, 0x20, 0x20, 0x03, 0xfd, 0x51, 0xfd, 0x0b, 0x04, 0x20,
  0x20, 0x00, 0x20, 0x00, 0xfd, 0x00, 0x04, 0x30, 0x20, 0x03, 0xfd, 0x51, 0xfd, 0x0b, 0x04, 0x30,
  // local.get $start; i32.const 64; i32.add; local.tee $start
  0x20, 0x00, 0x41, 0xc0, 0x00, 0x6a, 0x22, 0x00,
  // local.get $end; i32.lt_u; br_if $next; end (loop); end (function)
  0x20, 0x01, 0x49, 0x0d, 0x00, 0x0b, 0x0b,
]);

/** Bytes copied through WebAssembly memory at a time. */
const BLOCK_SIZE = 65536;
/** A WebAssembly page: memory grows by whole pages. */
const WASM_PAGE = 65536;

/**
 * Where the block starts in WebAssembly memory. Large buffers usually start
 * just past a page boundary (after the allocator's header), and copying to an
 * address a few bytes past the source's position within its 4 KiB page runs
 * ten times slower on some processors (measured on AMD EPYC: 2 GB/s instead of
 * 25). Half a page away from both ends avoids that for them.
 */
const BLOCK_OFFSET = 2048;

/**
 * Shortest payload masked with WebAssembly. Below it, copying in and out and
 * crossing into WebAssembly cost more than the JavaScript loop saves.
 */
export const WASM_MASK_THRESHOLD = 384;

// The compiler's libraries here (ES2022 without the DOM) do not describe
// WebAssembly; this is the part of the standard JavaScript API used below.
declare const WebAssembly: {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: Record<string, unknown> };
};

/** The part of a `WebAssembly.Memory` used here. */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WasmMask {
  readonly mask: (start: number, end: number, key: number) => void;
  readonly wasmMemory: WasmMemory;
  /** The block that payloads are copied through; replaced when the memory grows. */
  memory: Uint8Array;
  /**
   * The last view of the first bytes of `memory` that a block was copied out
   * of: payloads of one size follow each other (an echo, a feed of ticks),
   * and a view per payload costs more than masking a few hundred bytes.
   */
  prefix: Uint8Array;
  /** All of the memory, once it was grown for frame slots; see {@link slotMemory}. */
  heap: Uint8Array | null;
  /** Whether growing the memory for frame slots was tried (and failed, while `heap` is null). */
  grown: boolean;
}

/** The compiled module, or `null` where WebAssembly or its SIMD proposal is missing. */
function loadWasmMask(): WasmMask | null {
  try {
    if (typeof WebAssembly !== "object" || !WebAssembly.validate(MASK_MODULE)) return null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(MASK_MODULE));
    const exports = instance.exports as unknown as {
      mask: (start: number, end: number, key: number) => void;
      memory: WasmMemory;
    };
    // Grown at most once, by slotMemory(), which makes this view again.
    const memory = new Uint8Array(exports.memory.buffer, BLOCK_OFFSET, BLOCK_SIZE);
    return {
      mask: exports.mask,
      wasmMemory: exports.memory,
      memory,
      prefix: memory,
      heap: null,
      grown: false,
    };
  } catch {
    return null;
  }
}

let wasmMask = loadWasmMask();

/** Whether large payloads are masked with WebAssembly SIMD. */
export function wasmMaskAvailable(): boolean {
  return wasmMask !== null;
}

/**
 * Turns the WebAssembly path off (`false`) or back on (`true`), for tests and
 * benchmarks of the JavaScript path. Returns whether it is on.
 */
export function useWasmMask(enabled: boolean): boolean {
  wasmMask = enabled ? (wasmMask ?? loadWasmMask()) : null;
  return wasmMask !== null;
}

/** Where memory for frame slots starts, past the block: see {@link slotMemory}. */
export const SLOT_MEMORY_START = 2 * WASM_PAGE;

/**
 * The whole of the module's memory, grown once so that `bytes` follow
 * {@link SLOT_MEMORY_START}, for the frame slots of `frame-slots.ts`: a
 * client's large frames written into it are masked where they lie by
 * {@link applyMask}. `null` without WebAssembly, or when the memory cannot
 * grow (then frames are masked through the block, as before). The view
 * returned changes when {@link useWasmMask} loads the module again.
 *
 * A payload masked in place there is XORed up to 63 bytes past its end
 * (whole groups of 64 bytes): whoever hands out that memory leaves the room.
 */
export function slotMemory(bytes: number): Uint8Array | null {
  const wasm = wasmMask;
  if (wasm === null) return null;
  if (wasm.grown) {
    const heap = wasm.heap;
    return heap !== null && heap.length >= SLOT_MEMORY_START + bytes ? heap : null;
  }
  wasm.grown = true;
  try {
    const pages = Math.ceil((SLOT_MEMORY_START + bytes) / WASM_PAGE);
    wasm.wasmMemory.grow(pages - wasm.wasmMemory.buffer.byteLength / WASM_PAGE);
  } catch {
    // Out of address space or memory.
    return null;
  }
  // Growing detached the views of the old memory: these are the only ones.
  const buffer = wasm.wasmMemory.buffer;
  wasm.memory = new Uint8Array(buffer, BLOCK_OFFSET, BLOCK_SIZE);
  wasm.prefix = wasm.memory;
  wasm.heap = new Uint8Array(buffer);
  return wasm.heap;
}

/**
 * XORs `source` with the 4-byte `key` into `target` (which may be `source`
 * itself, to unmask in place). `target` must be at least as long as `source`.
 */
export function applyMask(source: Uint8Array, key: Uint8Array, target: Uint8Array = source): void {
  const length = source.length;
  if (length >= WASM_MASK_THRESHOLD && wasmMask !== null) {
    const heap = wasmMask.heap;
    // A frame's payload in a frame slot (see slotMemory()): the slot has room
    // for the mask to run past its end. Any other view of that memory is
    // masked through the block, which writes nothing past `length`.
    if (
      heap !== null &&
      target.buffer === heap.buffer &&
      target.byteOffset >= SLOT_MEMORY_START &&
      target.length === length
    ) {
      maskInSlot(wasmMask, heap, source, key, target.byteOffset, length);
    } else {
      maskWithWasm(wasmMask, source, key, target, length);
    }
  } else {
    maskWithJs(source, key, target, length);
  }
}

/**
 * Masks `source` into a frame slot at `at` in WebAssembly memory: one copy in,
 * then the XOR where the bytes lie, against a copy in, the XOR and a copy out
 * through the block (measured on 1 MiB: 23 GB/s against 15.5).
 */
function maskInSlot(
  wasm: WasmMask,
  heap: Uint8Array,
  source: Uint8Array,
  key: Uint8Array,
  at: number,
  length: number,
): void {
  heap.set(source, at);
  // Rounded up to 64 bytes: the slot has room past its frame for it (see slotMemory()).
  wasm.mask(at, at + ((length + 63) & ~63), keyWordOf(key));
}

/** The key as the little-endian word WebAssembly loads: byte i of the word is key[i]. */
function keyWordOf(key: Uint8Array): number {
  return key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24);
}

function maskWithWasm(
  wasm: WasmMask,
  source: Uint8Array,
  key: Uint8Array,
  target: Uint8Array,
  length: number,
): void {
  const memory = wasm.memory;
  const keyWord = keyWordOf(key);
  // Blocks are multiples of 64 bytes, so every block starts at key phase 0.
  for (let start = 0; start < length; start += BLOCK_SIZE) {
    const end = Math.min(start + BLOCK_SIZE, length);
    const size = end - start;
    memory.set(size === length ? source : source.subarray(start, end));
    // The tail past the last multiple of 64 is masked too: memory holds stale
    // bytes there, and only `size` bytes are copied out.
    wasm.mask(BLOCK_OFFSET, BLOCK_OFFSET + ((size + 63) & ~63), keyWord);
    let prefix = wasm.prefix;
    if (prefix.length !== size) {
      prefix = memory.subarray(0, size);
      wasm.prefix = prefix;
    }
    target.set(prefix, start);
  }
}

/** The JavaScript mask of the first `length` bytes of `source`. */
function maskWithJs(source: Uint8Array, key: Uint8Array, target: Uint8Array, length: number): void {
  const k0 = key[0]!;
  const k1 = key[1]!;
  const k2 = key[2]!;
  const k3 = key[3]!;
  let i = 0;
  // Unrolled by eight: fewer loop tests, and V8 keeps the key bytes in registers.
  for (const last = length - 8; i <= last; i += 8) {
    target[i] = source[i]! ^ k0;
    target[i + 1] = source[i + 1]! ^ k1;
    target[i + 2] = source[i + 2]! ^ k2;
    target[i + 3] = source[i + 3]! ^ k3;
    target[i + 4] = source[i + 4]! ^ k0;
    target[i + 5] = source[i + 5]! ^ k1;
    target[i + 6] = source[i + 6]! ^ k2;
    target[i + 7] = source[i + 7]! ^ k3;
  }
  for (; i < length; i++) target[i] = source[i]! ^ key[i & 3]!;
}

/**
 * The key to apply to the bytes of a payload that start at `offset`: the same
 * key, rotated so that its first byte is the one for `offset`.
 */
export function maskKeyAt(key: Uint8Array, offset: number): Uint8Array {
  const shift = offset & 3;
  if (shift === 0) return key;
  const rotated = new Uint8Array(4);
  for (let i = 0; i < 4; i++) rotated[i] = key[(i + shift) & 3]!;
  return rotated;
}

const KEY_POOL_SIZE = 4096;
let keyPool = new Uint8Array(0);
let keyPoolOffset = 0;

/**
 * A fresh masking key. RFC 6455 §5.3: "The masking key needs to be
 * unpredictable; thus, the masking key MUST be derived from a strong source of
 * entropy". Keys come from the platform CSPRNG, drawn 4 KiB at a time because
 * one call per frame costs more than the masking itself on small frames.
 */
export function randomMaskKey(): Uint8Array {
  if (keyPoolOffset + 4 > keyPool.length) {
    keyPool = new Uint8Array(KEY_POOL_SIZE);
    globalThis.crypto.getRandomValues(keyPool);
    keyPoolOffset = 0;
  }
  const key = keyPool.subarray(keyPoolOffset, keyPoolOffset + 4);
  keyPoolOffset += 4;
  return key;
}
