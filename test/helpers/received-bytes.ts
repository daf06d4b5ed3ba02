/**
 * Helpers of the tests that check what memory received messages are in.
 *
 * @module
 */

/** What a message is: text, or the kind of memory its bytes are in. */
export function memoryOf(message: string | Uint8Array): string {
  if (typeof message === "string") return "text";
  const buffer: ArrayBufferLike = message.buffer;
  // Both ways: the tag names a SharedArrayBuffer as such.
  const tag = Object.prototype.toString.call(buffer).slice(8, -1);
  return buffer instanceof ArrayBuffer ? tag : `${tag}, not an ArrayBuffer`;
}

/** `n` bytes that compress well: permessage-deflate sends them compressed. */
export function repetitive(n: number, seed: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (seed + (i % 17)) & 0xff);
}
