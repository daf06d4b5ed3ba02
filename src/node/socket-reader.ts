/**
 * Reads the first bytes of a socket, a proxy's answers, before the socket is
 * handed over to TLS or to a WebSocket connection.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import { ByteBuffer } from "../core/byte-buffer.js";
import { PayloadTooBig, ProxyError } from "../core/errors.js";
import { StreamReader } from "../core/streams.js";

/** Buffered, awaitable reads on a socket, until {@link SocketReader.release}. */
export class SocketReader {
  private readonly reader = new StreamReader();
  /**
   * The bytes of an incomplete line of a head, moved out of `reader` so that
   * each byte is scanned once however the line is split (`readLine()` scans
   * every chunk it holds from the first), and copied into one buffer that
   * doubles up to the head's limit, so that they cost their number, not one
   * chunk per read. Empty whenever {@link readHead} isn't pending.
   */
  /** The start of a line that arrived in pieces, moved out of the reader's chunks. */
  private readonly partial = new ByteBuffer();
  private wake: (() => void) | null = null;
  private failure: unknown = null;

  /**
   * @param peer names the proxy in messages, e.g. `proxy http://proxy.example:3128`.
   */
  constructor(
    private readonly socket: Socket,
    private readonly signal: AbortSignal,
    private readonly peer: string,
  ) {
    socket.on("data", this.onData);
    socket.on("end", this.onEnd);
    socket.on("error", this.onError);
    socket.on("close", this.onClose);
    signal.addEventListener("abort", this.onAbort);
    if (signal.aborted) this.onAbort();
  }

  /**
   * Resolves with exactly `n` bytes.
   *
   * @throws the socket's error, the signal's reason, or a transient
   *   ProxyError when the peer closes before sending them.
   */
  readExact(n: number): Promise<Uint8Array> {
    return this.until(() => this.reader.readExact(n));
  }

  /**
   * Resolves with the lines of an HTTP head, without their CRLF, up to the
   * empty line that ends it.
   *
   * @throws PayloadTooBig when the head exceeds `maxSize` bytes.
   */
  async readHead(maxSize: number): Promise<string[]> {
    const lines: string[] = [];
    let size = 0;
    for (;;) {
      const line = await this.until(() => this.readLine(maxSize - size));
      size += line.length;
      const text = Buffer.from(line.buffer, line.byteOffset, line.length)
        .toString("latin1")
        .replace(/\r?\n$/, "");
      if (text === "") return lines;
      lines.push(text);
      if (size >= maxSize) throw new PayloadTooBig(`head longer than ${maxSize} bytes`);
    }
  }

  /**
   * The next line, LF included, or `null` until it is complete.
   *
   * @throws PayloadTooBig when more than `maxLength` bytes precede its end.
   */
  private readLine(maxLength: number): Uint8Array | null {
    const partial = this.partial;
    const line = this.reader.readLine(maxLength - partial.size);
    if (line === null) {
      // readLine() would have thrown if these bytes made the line too long.
      const n = this.reader.length;
      if (n > 0) partial.readFrom(this.reader, n, maxLength);
      return null;
    }
    if (partial.size === 0) return line;
    partial.append(line, maxLength);
    return partial.takeAll();
  }

  /**
   * Stops reading and gives the socket back, paused, with the bytes received
   * past what was read, if any, put back in front of its stream.
   */
  release(): Socket {
    const socket = this.socket;
    socket.pause();
    socket.off("data", this.onData);
    socket.off("end", this.onEnd);
    socket.off("error", this.onError);
    socket.off("close", this.onClose);
    this.signal.removeEventListener("abort", this.onAbort);
    if (this.reader.length > 0) socket.unshift(this.reader.readAll());
    return socket;
  }

  /** Whether bytes were received past what was read. */
  get hasPendingData(): boolean {
    return this.reader.length > 0;
  }

  private async until<T>(read: () => T | null): Promise<T> {
    for (;;) {
      if (this.failure !== null) throw this.failure;
      const result = read();
      if (result !== null) return result;
      if (this.reader.atEof) {
        // Often a proxy that couldn't reach the server, or is restarting:
        // trying again later may succeed.
        const why = `${this.peer} closed the connection before the tunnel was open`;
        throw new ProxyError(why, null, { transient: true });
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.reader.feedData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    this.notify();
  };

  private readonly onEnd = (): void => {
    this.reader.feedEof();
    this.notify();
  };

  private readonly onError = (error: Error): void => {
    this.failure ??= error;
    this.notify();
  };

  private readonly onClose = (): void => {
    if (!this.reader.atEof) this.reader.feedEof();
    this.notify();
  };

  private readonly onAbort = (): void => {
    this.failure ??= this.signal.reason;
    this.socket.destroy();
    this.notify();
  };
}
