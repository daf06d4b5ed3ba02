/**
 * What the async and the blocking clients take as bytes to send: any
 * `ArrayBufferView` (a typed array of any element type, a `DataView`, a
 * `Buffer`) and any `ArrayBuffer`, as the browser's `WebSocket`, `ws` and
 * Python's `websockets` (any bytes-like object) do.
 *
 * @module
 */

import { isAnyArrayBuffer } from "node:util/types";

/** How error messages name the bytes that are taken. */
export const BYTES_TAKEN = "an ArrayBuffer, a typed array such as Uint8Array, or a DataView";

/**
 * The bytes of `data` as the `Uint8Array` the protocol takes, over the same
 * memory (not a copy), or `null` when `data` is not bytes.
 *
 * A view goes out as the bytes it covers, `byteOffset` to
 * `byteOffset + byteLength`, whatever its element type: a `Float32Array` of
 * samples is sent as its bytes (in the machine's byte order, as the browser
 * sends it), not refused as an iterable of numbers. A `SharedArrayBuffer` is
 * taken as an `ArrayBuffer` is, as a view of one already was: the application
 * must not write to it until the bytes are written, as with any buffer sent.
 */
export function bytesOf(data: unknown): Uint8Array | null {
  // Most bytes sent are a Uint8Array (a Buffer): as they are, no new object.
  if (data instanceof Uint8Array) return data;
  try {
    if (ArrayBuffer.isView(data)) {
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    }
    // isAnyArrayBuffer(), unlike instanceof, also knows buffers of another realm (vm, a worker's).
    if (isAnyArrayBuffer(data)) {
      // A resizable ArrayBuffer may shrink before its bytes are written,
      // under a header that announced more: sent as a copy. A growable
      // SharedArrayBuffer only grows, and a view of fixed length ignores that.
      if ((data as { resizable?: boolean }).resizable === true) {
        return new Uint8Array(data.slice(0));
      }
      return new Uint8Array(data, 0, data.byteLength);
    }
  } catch {
    // A detached buffer (transferred to a worker, say): V8 refuses a view
    // of it, or even to read the offset of a DataView over it. It holds no
    // bytes, as a Uint8Array over one says (length 0), and as the browser's
    // WebSocket sends it: an empty message.
    return new Uint8Array(0);
  }
  return null;
}

/**
 * Whether `value` is a `Blob` (a `File` included), whose bytes `send()`
 * reads before it sends them. Known by its class, or by its tag, its
 * `arrayBuffer()` and its `size` (counted in `bufferedAmount` while it is
 * read), as `ws` knows one: a `Blob` made by another copy of the class
 * (another realm's) is a `Blob` too.
 */
export function isBlob(value: unknown): value is Blob {
  if (value instanceof Blob) return true;
  if (typeof value !== "object" || value === null) return false;
  const tag = (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
  const blob = value as { arrayBuffer?: unknown; size?: unknown };
  return (
    (tag === "Blob" || tag === "File") &&
    typeof blob.arrayBuffer === "function" &&
    typeof blob.size === "number"
  );
}
