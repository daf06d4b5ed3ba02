/**
 * Raw DEFLATE streams (RFC 1951) driven synchronously, for permessage-deflate.
 *
 * Node has no public API that runs a zlib stream synchronously and keeps it
 * open: the `*Sync()` functions close their stream after one call, and the
 * stream classes run on the thread pool. The native handle under a
 * `zlib.DeflateRaw` has the synchronous write those functions use
 * (`writeSync()`); {@link NativeZlibStream} drives it directly and keeps the
 * stream between calls, so that context takeover (RFC 7692 §7.1.1) costs
 * nothing and no stream is built per message. That handle is internal to
 * Node: {@link nativeStreamsAvailable} checks it once (its methods, then a
 * round trip of known bytes) on the Node versions it was written against,
 * and {@link openZlibStream} otherwise returns a {@link OneShotZlibStream},
 * which runs the public `deflateRawSync()` / `inflateRawSync()` once with a
 * preset dictionary.
 *
 * @module
 */

import { constants as bufferConstants } from "node:buffer";
import {
  deflateRawSync,
  inflateRawSync,
  DeflateRaw as ZlibDeflateRaw,
  constants as zlibConstants,
} from "node:zlib";

/** Whether a stream compresses or decompresses. */
export type ZlibDirection = "deflate" | "inflate";

/** How to open a stream. */
export interface ZlibStreamOptions {
  readonly direction: ZlibDirection;
  /** The LZ77 window, 2^windowBits bytes, 9 to 15. */
  readonly windowBits: number;
  /** Compression level, -1 to 9; ignored when inflating. */
  readonly level: number;
  /** zlib memory level, 1 to 9; ignored when inflating. */
  readonly memLevel: number;
  /**
   * Bytes that precede the stream (RFC 1951 §3.2.5: distances may refer to
   * them), at most 2^windowBits. Copied.
   */
  readonly dictionary: Uint8Array;
}

/** One direction's zlib stream. Each {@link write} ends with a sync flush. */
export interface ZlibStream {
  /**
   * Feeds `inputs` in order, the last one with a sync flush, which ends the
   * output on a byte boundary with an empty stored block (RFC 7692 §7.2.1).
   *
   * @returns everything zlib wrote, in a buffer of its own.
   * @throws ZlibOutputTooLarge as soon as the output exceeds `maxOutput`
   *   bytes; the stream is then unusable.
   * @throws Error with zlib's message on corrupt input; the stream is then unusable.
   */
  write(inputs: readonly Uint8Array[], maxOutput: number): Uint8Array;
  /**
   * Whether the compressed stream has ended (a block with BFINAL set,
   * RFC 1951 §3.2.3): what follows it was ignored and the stream can take no more.
   */
  readonly ended: boolean;
  /**
   * Whether a {@link write} continues the stream where the previous one left
   * it, even in the middle of a DEFLATE block: true when zlib's state lives
   * between writes. A stream that is false is good for one write only (the
   * fallback), so a compressed message cut into frames at arbitrary points
   * has to be written in one go.
   */
  readonly continuable: boolean;
  /**
   * Whether {@link reset} gives a fresh stream: false for a stream opened
   * with a dictionary, which reset would restore.
   */
  readonly resettable: boolean;
  /** Starts a new stream with an empty window, keeping the memory. */
  reset(): void;
  /** Frees zlib's memory. The stream must not be used afterwards. */
  close(): void;
}

/** Thrown by {@link ZlibStream.write} when the output exceeds its limit. */
export class ZlibOutputTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`output exceeds ${limit} bytes`);
    this.name = "ZlibOutputTooLarge";
  }
}

/** The part of Node's internal zlib handle that {@link NativeZlibStream} uses. */
export interface NativeHandle {
  init(
    windowBits: number,
    level: number,
    memLevel: number,
    strategy: number,
    writeState: Uint32Array,
    processCallback: () => void,
    dictionary: Uint8Array | undefined,
  ): void;
  writeSync(
    flush: number,
    input: Uint8Array,
    inputOffset: number,
    inputLength: number,
    output: Uint8Array,
    outputOffset: number,
    outputLength: number,
  ): void;
  reset(): void;
  close(): void;
  onerror: ((message: string, errno: number, code: string) => void) | undefined;
}

export type NativeHandleConstructor = new (mode: number) => NativeHandle;

/** The Node major versions whose internal zlib handle was checked to work this way. */
const NATIVE_NODE_MAJORS = { min: 20, max: 24 } as const;

/**
 * Output goes here first, so that a message's output is copied once into a
 * buffer of its exact size. Shared: writes are synchronous.
 */
const SCRATCH_SIZE = 16 * 1024;
let scratch: Uint8Array | null = null;

const EMPTY = new Uint8Array(0);

/** Largest buffer Node allocates, and zlib's one-shot functions may return. */
const MAX_OUTPUT = bufferConstants.MAX_LENGTH;

/** Whether `value` has every named method. */
function hasMethods(value: object, names: readonly string[]): boolean {
  return names.every((name) => typeof (value as Record<string, unknown>)[name] === "function");
}

function toHex(bytes: Uint8Array): string {
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/**
 * Finds Node's zlib handle constructor and checks that it compresses and
 * decompresses as expected. The parameters are for testing.
 *
 * @internal
 */
export function detectNativeHandle(
  nodeVersion: string = process.versions.node,
  probe: () => unknown = () => new ZlibDeflateRaw(),
): NativeHandleConstructor | null {
  const major = Number(nodeVersion.split(".")[0]);
  if (!(major >= NATIVE_NODE_MAJORS.min && major <= NATIVE_NODE_MAJORS.max)) return null;
  try {
    const stream = probe() as { _handle?: unknown; close?: () => void };
    const handle = stream._handle;
    stream.close?.();
    if (typeof handle !== "object" || handle === null) return null;
    if (!hasMethods(handle, ["init", "writeSync", "reset", "close"])) return null;
    const Handle = (handle as { constructor: unknown }).constructor as NativeHandleConstructor;
    // RFC 7692 §7.2.3.1: "Hello" compresses to f2 48 cd c9 c9 07 00, then the
    // sync flush's empty stored block.
    const hello = new TextEncoder().encode("Hello");
    const options = { windowBits: 15, level: -1, memLevel: 8, dictionary: EMPTY } as const;
    const deflater = new NativeZlibStream(Handle, { ...options, direction: "deflate" });
    const compressed = deflater.write([hello], Number.POSITIVE_INFINITY);
    deflater.close();
    if (toHex(compressed) !== "f248cdc9c907000000ffff") return null;
    const inflater = new NativeZlibStream(Handle, { ...options, direction: "inflate" });
    const decompressed = inflater.write([compressed], Number.POSITIVE_INFINITY);
    inflater.close();
    return toHex(decompressed) === toHex(hello) ? Handle : null;
  } catch {
    return null;
  }
}

let nativeHandle: NativeHandleConstructor | null | undefined;

/** Whether {@link openZlibStream} returns streams kept by zlib between writes. Checked once. */
export function nativeStreamsAvailable(): boolean {
  if (nativeHandle === undefined) nativeHandle = detectNativeHandle();
  return nativeHandle !== null;
}

/**
 * Turns the native streams off (`false`) or back to what was detected
 * (`true`), for testing the fallback. Returns whether they were on.
 *
 * @internal
 */
export function useNativeStreams(enabled: boolean): boolean {
  const previous = nativeStreamsAvailable();
  nativeHandle = enabled ? detectNativeHandle() : null;
  return previous;
}

/**
 * Opens a stream: a {@link NativeZlibStream} when Node's handle works as
 * expected, otherwise a {@link OneShotZlibStream}, good for one write.
 */
export function openZlibStream(options: ZlibStreamOptions): ZlibStream {
  return nativeStreamsAvailable()
    ? new NativeZlibStream(nativeHandle as NativeHandleConstructor, options)
    : new OneShotZlibStream(options);
}

/** A zlib stream that lives between writes, through Node's native handle. */
export class NativeZlibStream implements ZlibStream {
  ended = false;
  /** zlib's state lives in the handle between writes. */
  readonly continuable = true;
  readonly resettable: boolean;
  private handle: NativeHandle | null;
  /** Where the handle reports, after each write, the output and input space left. */
  private readonly writeState = new Uint32Array(2);
  private error: Error | null = null;

  /**
   * @throws RangeError for settings zlib refuses: Node's handle would abort
   *   the process on them rather than throw.
   */
  constructor(Handle: NativeHandleConstructor, options: ZlibStreamOptions) {
    const inflating = options.direction === "inflate";
    checkRange("windowBits", options.windowBits, 9, 15);
    checkRange("level", options.level, -1, 9);
    checkRange("memLevel", options.memLevel, 1, 9);
    const handle = new Handle(inflating ? zlibConstants.INFLATERAW : zlibConstants.DEFLATERAW);
    handle.onerror = (message, _errno, code) => {
      this.error = Object.assign(new Error(message), { code });
    };
    const dictionary = options.dictionary;
    // zlib ignores level and memLevel when inflating, but the handle checks them.
    handle.init(
      options.windowBits,
      inflating ? zlibConstants.Z_DEFAULT_COMPRESSION : options.level,
      inflating ? zlibConstants.Z_DEFAULT_MEMLEVEL : options.memLevel,
      zlibConstants.Z_DEFAULT_STRATEGY,
      this.writeState,
      // Called after asynchronous writes only, which this stream never makes:
      // the built-in no-op function.
      Function.prototype as () => void,
      dictionary.length > 0 ? dictionary : undefined,
    );
    this.handle = handle;
    this.resettable = dictionary.length === 0;
  }

  write(inputs: readonly Uint8Array[], maxOutput: number): Uint8Array {
    // Node allocates no larger buffer.
    const limit = Math.min(maxOutput, MAX_OUTPUT - 1);
    const handle = this.handle as NativeHandle;
    const state = this.writeState;
    scratch ??= new Uint8Array(SCRATCH_SIZE);
    let output = scratch;
    let produced = 0;
    const last = inputs.length - 1;
    for (let i = 0; i <= last && !this.ended; i++) {
      const input = inputs[i] as Uint8Array;
      const flush = i === last ? zlibConstants.Z_SYNC_FLUSH : zlibConstants.Z_NO_FLUSH;
      let inputOffset = 0;
      let inputLength = input.length;
      for (;;) {
        const space = output.length - produced;
        handle.writeSync(flush, input, inputOffset, inputLength, output, produced, space);
        if (this.error !== null) throw this.error;
        const outputLeft = state[0] as number;
        const inputLeft = state[1] as number;
        produced += space - outputLeft;
        inputOffset += inputLength - inputLeft;
        inputLength = inputLeft;
        if (produced > limit) throw new ZlibOutputTooLarge(limit);
        if (outputLeft > 0) {
          // zlib stops with room to write and input left only at the end of
          // the compressed stream.
          if (inputLeft > 0) this.ended = true;
          break;
        }
        output = grow(output, produced, limit);
      }
    }
    // A buffer of its own, of the exact size: the output may be kept for long
    // (a queued message, a frame waiting for the socket).
    return output.slice(0, produced);
  }

  reset(): void {
    this.ended = false;
    (this.handle as NativeHandle).reset();
  }

  close(): void {
    this.handle?.close();
    this.handle = null;
  }
}

function checkRange(name: string, value: number, min: number, max: number): void {
  if (!(Number.isInteger(value) && value >= min && value <= max)) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

/**
 * A larger output buffer holding the `length` bytes of `output`: twice as
 * large, but not much beyond what the limit lets through.
 */
function grow(output: Uint8Array, length: number, limit: number): Uint8Array {
  const larger = new Uint8Array(Math.max(length + 1, Math.min(output.length * 2, limit + 1)));
  larger.set(output.subarray(0, length));
  return larger;
}

/**
 * The fallback: one call of `deflateRawSync()` or `inflateRawSync()` with the
 * dictionary. Good for one {@link write} only: zlib's state is gone after it.
 */
export class OneShotZlibStream implements ZlibStream {
  readonly ended = false;
  /** Each write runs a DEFLATE stream of its own, from the dictionary. */
  readonly continuable = false;
  readonly resettable = false;
  private readonly options: ZlibStreamOptions;

  constructor(options: ZlibStreamOptions) {
    this.options = options;
  }

  write(inputs: readonly Uint8Array[], maxOutput: number): Uint8Array {
    const { direction, windowBits, level, memLevel, dictionary } = this.options;
    const input = inputs.length === 1 ? (inputs[0] as Uint8Array) : concat(inputs);
    const shared = {
      finishFlush: zlibConstants.Z_SYNC_FLUSH,
      windowBits,
      ...(dictionary.length > 0 ? { dictionary } : {}),
    };
    let output: Uint8Array;
    if (direction === "deflate") {
      output = deflateRawSync(input, { ...shared, level, memLevel });
    } else {
      try {
        // zlib checks the output against this after each chunk it produces,
        // so a decompression bomb costs at most the limit in work and memory.
        // zlib wants at least 1: a limit of 0 is checked below.
        output = inflateRawSync(input, {
          ...shared,
          maxOutputLength: Math.max(1, Math.min(maxOutput, MAX_OUTPUT)),
        });
      } catch (error) {
        if ((error as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE") {
          throw new ZlibOutputTooLarge(maxOutput);
        }
        throw error;
      }
    }
    if (output.length > maxOutput) throw new ZlibOutputTooLarge(maxOutput);
    // zlib returns a view of its 16 KiB output chunk: a short output gets a
    // buffer of its own, so that a queued message does not hold the chunk.
    return output.length * 2 < output.buffer.byteLength ? new Uint8Array(output) : output;
  }

  reset(): void {}

  close(): void {}
}

/** Joins chunks into one new buffer. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.length;
  }
  return joined;
}
