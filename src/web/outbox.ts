/**
 * What `send()` and `close()` hand to the connection, in order, and the
 * count behind `bufferedAmount`.
 *
 * @module
 */

import { CloseCode } from "../core/close-codes.js";
import { State } from "../core/state.js";
import type { ClientConnection } from "../node/client.js";
import type { CloseRequest } from "./validation.js";

/** Something to send: a message and its size in bytes, or the close frame. */
type Outgoing =
  | { readonly data: string | Uint8Array | Blob; readonly size: number }
  | { readonly close: CloseRequest };

function ignore(): void {}

/**
 * Sends messages and the close frame in the order `send()` and `close()` were
 * called. Text and bytes go to the connection at once; a `Blob` must be read
 * first, which takes time, so whatever comes after it waits in a queue until
 * it was sent.
 *
 * It also counts `bufferedAmount`: the bytes of application data passed to
 * `send()` that the connection has not taken yet. They leave the count when
 * the connection's `send()` resolves, which it does once the socket has taken
 * the bytes and is not above its write high-water mark: a sender that waits
 * for `bufferedAmount` to fall is paced by the network.
 */
export class Outbox {
  #connection: ClientConnection | null = null;
  #bufferedAmount = 0;
  /** Bytes the connection took during this task; see {@link #deduct}. */
  #transmitted = 0;
  #deductionScheduled = false;
  /** Items behind a `Blob` being read, that `Blob` first; empty otherwise. */
  #waiting: Outgoing[] = [];
  readonly #onFailure: (error: unknown) => void;

  /** @param onFailure called when a `Blob` cannot be read: the connection must fail. */
  constructor(onFailure: (error: unknown) => void) {
    this.#onFailure = onFailure;
  }

  /** Bytes passed to `send()` that were not handed over to the network yet, or never will be. */
  get bufferedAmount(): number {
    return this.#bufferedAmount;
  }

  /** Sets the connection to send to, once open. */
  attach(connection: ClientConnection): void {
    this.#connection = connection;
  }

  /**
   * Counts data that is not sent because the closing handshake started.
   * WHATWG WebSockets, `send()`: it "must increase the bufferedAmount
   * attribute" all the same.
   */
  discard(size: number): void {
    this.#bufferedAmount += size;
  }

  /** Sends a message after those sent before it; `size` is its length in bytes. */
  send(data: string | Uint8Array | Blob, size: number): void {
    this.#bufferedAmount += size;
    this.#push({ data, size });
  }

  /** Starts the closing handshake after the messages sent before. */
  close(request: CloseRequest): void {
    this.#push({ close: request });
  }

  #push(item: Outgoing): void {
    if (this.#waiting.length > 0) {
      this.#waiting.push(item);
    } else if ("data" in item && item.data instanceof Blob) {
      this.#waiting.push(item);
      void this.#sendWaiting();
    } else {
      this.#transmit(item);
    }
  }

  /** Reads each waiting `Blob` in turn and sends it, and what follows it up to the next one. */
  async #sendWaiting(): Promise<void> {
    while (this.#waiting.length > 0) {
      const item = this.#waiting[0]!;
      if ("data" in item && item.data instanceof Blob) {
        let bytes: Uint8Array;
        try {
          bytes = new Uint8Array(await item.data.arrayBuffer());
        } catch (error) {
          // A file-backed Blob whose file changed, for instance.
          this.#waiting = [];
          this.#onFailure(error);
          return;
        }
        this.#waiting.shift();
        this.#transmit({ data: bytes, size: item.size });
      } else {
        this.#waiting.shift();
        this.#transmit(item);
      }
    }
  }

  #transmit(item: Outgoing): void {
    const connection = this.#connection!;
    // Once the closing handshake started, on either side, data is dropped.
    if (connection.state !== State.OPEN) return;
    if ("close" in item) {
      startClosingHandshake(connection, item.close);
      return;
    }
    const size = item.size;
    connection.send(item.data as string | Uint8Array).then(() => this.#deduct(size), ignore);
  }

  /**
   * Takes bytes off the count at the next turn of the event loop, not now:
   * WHATWG WebSockets defines `bufferedAmount` "as of the last time the event
   * loop reached step 1", so it does not change while a task runs.
   */
  #deduct(size: number): void {
    this.#transmitted += size;
    if (this.#deductionScheduled) return;
    this.#deductionScheduled = true;
    setImmediate(() => {
      this.#bufferedAmount -= this.#transmitted;
      this.#transmitted = 0;
      this.#deductionScheduled = false;
    });
  }
}

/**
 * Sends the close frame `close()` asked for (WHATWG WebSockets, "start the
 * WebSocket closing handshake"): without a code, the frame has no body,
 * unless there is a reason, which goes with 1000.
 */
function startClosingHandshake(connection: ClientConnection, request: CloseRequest): void {
  const { code, reason } = request;
  if (code === null && reason === "") {
    // "If code is null and reason is the empty string, the WebSocket Close
    // frame must not have a body": the Node layer's close(1005) sends that frame.
    connection.close(CloseCode.NO_STATUS_RCVD).catch(ignore);
  } else {
    connection.close(code ?? CloseCode.NORMAL_CLOSURE, reason).catch(ignore);
  }
}
