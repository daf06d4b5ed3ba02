import { Buffer } from "node:buffer";
import * as zlib from "node:zlib";

/**
 * Writes `input` to a persistent zlib stream (the way a peer keeping its
 * context works) and resolves with what its sync flush gives.
 */
export function flushThrough(
  stream: zlib.DeflateRaw | zlib.InflateRaw,
  input: Uint8Array,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => chunks.push(chunk);
    stream.on("data", onData);
    stream.once("error", reject);
    stream.write(input);
    stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      stream.off("data", onData);
      stream.off("error", reject);
      resolve(Buffer.concat(chunks));
    });
  });
}
