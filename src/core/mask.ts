/**
 * RFC 6455 §5.3 masking: "octet i of the transformed data is the XOR of octet i
 * of the original data with octet at index i modulo 4 of the masking key".
 *
 * @module
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * XORs `source` with the 4-byte `key` into `target` (which may be `source`
 * itself, to unmask in place). `target` must be at least as long as `source`.
 */
export function applyMask(source: Uint8Array, key: Uint8Array, target: Uint8Array = source): void {
  const length = source.length;
  const k0 = key[0]!;
  const k1 = key[1]!;
  const k2 = key[2]!;
  const k3 = key[3]!;
  let i = 0;
  // Word-at-a-time when both buffers are 4-byte aligned, as Node's pooled
  // buffers usually are: a quarter of the loop iterations and bounds checks.
  if (length >= 64 && source.byteOffset % 4 === 0 && target.byteOffset % 4 === 0) {
    const words = length >>> 2;
    const sourceWords = new Uint32Array(source.buffer, source.byteOffset, words);
    const targetWords = new Uint32Array(target.buffer, target.byteOffset, words);
    // Typed arrays use the platform's byte order; build the key word to match.
    const keyWord = LITTLE_ENDIAN
      ? (k0 | (k1 << 8) | (k2 << 16) | (k3 << 24)) >>> 0
      : ((k0 << 24) | (k1 << 16) | (k2 << 8) | k3) >>> 0;
    for (let w = 0; w < words; w++) targetWords[w] = sourceWords[w]! ^ keyWord;
    i = words << 2;
  } else {
    for (; i + 3 < length; i += 4) {
      target[i] = source[i]! ^ k0;
      target[i + 1] = source[i + 1]! ^ k1;
      target[i + 2] = source[i + 2]! ^ k2;
      target[i + 3] = source[i + 3]! ^ k3;
    }
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
