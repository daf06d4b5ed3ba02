/**
 * The `WebSocket` interface of the WHATWG WebSockets standard
 * (https://websockets.spec.whatwg.org/), over the Node client: code written
 * for a browser's `WebSocket` runs on it unchanged.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { setImmediate as nextTask } from "node:timers/promises";
import { isAnyArrayBuffer, isSharedArrayBuffer } from "node:util/types";
import { CloseCode } from "../core/close-codes.js";
import { State } from "../core/state.js";
import { type ClientConnection, type ConnectOptions, connect } from "../node/client.js";
import type { Data } from "../node/messages.js";
import {
  CONNECT_OPTION_NAMES,
  checkOptionNames,
  type ListsEveryKey,
  NESTED_OPTIONS,
  optionNames,
  without,
} from "../node/option-names.js";
import { type EventHandler, EventHandlers } from "./event-handlers.js";
import { CloseEvent, ErrorEvent } from "./events.js";
import { exposeAsInterface } from "./interface-members.js";
import { Outbox } from "./outbox.js";
import {
  convertProtocols,
  parseCloseArguments,
  parseProtocols,
  parseWebSocketUrl,
  wireUri,
} from "./validation.js";
import { toDOMString } from "./webidl.js";

/**
 * The values of `readyState`: the source of the constants defined on
 * {@link WebSocket} and its prototype below, as WebIDL defines constants
 * (enumerable, neither writable nor configurable), which class fields can't be.
 */
const ReadyState = {
  /** The connection is being established: 0. */
  CONNECTING: 0,
  /** The connection is open: 1. */
  OPEN: 1,
  /** The closing handshake started, on either side: 2. */
  CLOSING: 2,
  /** The connection is closed, or could not be opened: 3. */
  CLOSED: 3,
} as const;
/** One of the values of `readyState`, 0 to 3: see {@link WebSocket.CONNECTING} and the others. */
type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

// The type alone: the values are WebSocket.CONNECTING and the others, as in browsers.
export type { ReadyState };

/** How binary messages are delivered: as a `Blob` (the default) or an `ArrayBuffer`. */
export type BinaryType = "blob" | "arraybuffer";

/**
 * Options of the Node client beyond the standard, for the constructor's third
 * argument: `additionalHeaders`, `origin`, `tls`, `maxMessageSize`, `proxy`,
 * `compression`, timeouts… See `connect()`. The subprotocols come from the
 * second argument, a server must select one of them as the standard says,
 * and `close()` takes the place of a signal.
 */
export type WebSocketOptions = Omit<
  ConnectOptions,
  "subprotocols" | "signal" | "requireSubprotocol"
>;

/** The names of {@link WebSocketOptions}. */
const WEB_SOCKET_OPTION_NAMES = without(CONNECT_OPTION_NAMES, [
  "subprotocols",
  "signal",
  "requireSubprotocol",
]) satisfies (keyof WebSocketOptions)[];
true satisfies ListsEveryKey<WebSocketOptions, typeof WEB_SOCKET_OPTION_NAMES>;

/** Options of `connect()` whose place the standard's API takes, and what does instead. */
const REPLACED_OPTIONS = {
  subprotocols: "give them as the second argument",
  signal: "close() aborts connecting",
  requireSubprotocol:
    "the server must select one of the subprotocols offered, as the standard says",
} as const;

/**
 * The names known to the constructor: its options, and those it replaces,
 * which get a message of their own.
 */
const KNOWN_OPTIONS = optionNames(
  [...WEB_SOCKET_OPTION_NAMES, ...Object.keys(REPLACED_OPTIONS)],
  NESTED_OPTIONS,
);

/**
 * Checks the constructor's options: `undefined` and `null` stand for none, as
 * for a WebIDL dictionary, and an option that doesn't exist is not ignored.
 *
 * @throws TypeError for options that are not an object, an unknown option, or
 *   one of {@link REPLACED_OPTIONS}.
 */
function checkOptions(options: WebSocketOptions | null | undefined): WebSocketOptions {
  options ??= {};
  checkOptionNames(options, KNOWN_OPTIONS, "new WebSocket()");
  for (const [name, instead] of Object.entries(REPLACED_OPTIONS)) {
    if ((options as Record<string, unknown>)[name] !== undefined) {
      throw new TypeError(`new WebSocket() does not take the ${name} option: ${instead}`);
    }
  }
  return options;
}

/** The events a {@link WebSocket} fires, by type. */
export interface WebSocketEventMap {
  /** Fired once the connection is open. */
  open: Event;
  /** Fired for each message received while open; `data` depends on `binaryType`. */
  message: MessageEvent;
  /** Fired when the connection failed, or could not be opened, just before `close`. */
  error: ErrorEvent;
  /** Fired last, once the connection is closed. */
  close: CloseEvent;
}

/** A listener as `EventTarget` takes it: a function, an object with `handleEvent`, or `null`. */
export type Listener = Parameters<EventTarget["addEventListener"]>[1];
/** `addEventListener()`'s options: `capture`, `once`, `passive`, `signal`, or `capture` alone. */
export type AddListenerOptions = Parameters<EventTarget["addEventListener"]>[2];
/** `removeEventListener()`'s options: `capture`, or `capture` alone as a boolean. */
export type RemoveListenerOptions = Parameters<EventTarget["removeEventListener"]>[2];
/** A listener for one of the events of {@link WebSocketEventMap}. */
export type TypedListener<K extends keyof WebSocketEventMap> = (
  this: WebSocket,
  event: WebSocketEventMap[K],
) => unknown;

/** A message's payload as `send()` hands it over, and its size in bytes. */
interface Payload {
  readonly data: string | Uint8Array | Blob;
  readonly size: number;
}

/**
 * WebIDL "get a copy of the bytes held by the buffer source": "If
 * IsDetachedBuffer(jsArrayBuffer) is true, then return the empty byte
 * sequence." A buffer transferred away (to a worker, say) sends an empty
 * binary message, as in browsers, rather than throwing.
 */
function emptyPayload(): Payload {
  return { data: new Uint8Array(0), size: 0 };
}

/**
 * Whether `buffer` was detached (transferred). Node 20 has no
 * `ArrayBuffer.prototype.detached`; a detached buffer is the only one whose
 * view can't be made, and its length reads 0.
 */
function isDetached(buffer: ArrayBufferLike): boolean {
  if (buffer.byteLength !== 0) return false;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}

/**
 * WebIDL `(BufferSource or Blob or USVString)`: buffers are copied, since the
 * caller may reuse them once `send()` returns; anything else becomes a string.
 */
function toPayload(data: unknown): Payload {
  if (data instanceof Blob) return { data, size: data.size };
  if (isAnyArrayBuffer(data)) {
    if (isSharedArrayBuffer(data)) throw new TypeError("send() does not take a SharedArrayBuffer");
    if (isDetached(data)) return emptyPayload();
    const bytes = new Uint8Array(data).slice();
    return { data: bytes, size: bytes.length };
  }
  if (ArrayBuffer.isView(data)) {
    if (isSharedArrayBuffer(data.buffer)) {
      throw new TypeError("send() does not take a view of a SharedArrayBuffer");
    }
    if (isDetached(data.buffer)) return emptyPayload();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    return { data: bytes, size: bytes.length };
  }
  const text = toDOMString(data);
  // A USVString: lone surrogates count as U+FFFD, 3 bytes, as they are sent.
  return { data: text, size: Buffer.byteLength(text, "utf8") };
}

/** The bytes of a binary message in a fresh `ArrayBuffer`, which the application may keep. */
function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}

/**
 * A WebSocket client with the browser's API: an `EventTarget` that fires
 * `open`, `message`, `error` and `close`.
 *
 * ```ts
 * import { WebSocket } from "websockets-ts/web";
 *
 * const ws = new WebSocket("ws://127.0.0.1:8001");
 * ws.onopen = () => ws.send("Hello!");
 * ws.onmessage = (event) => {
 *   console.log(event.data);
 *   ws.close();
 * };
 * ```
 *
 * Beyond the standard, a third argument takes the Node client's options
 * ({@link WebSocketOptions}), and the `error` event is an `ErrorEvent` whose
 * `error` tells what failed. The Node client's limits apply, e.g. messages up
 * to `maxMessageSize` (1 MiB by default; a larger one closes the connection
 * with 1009).
 */
export class WebSocket extends EventTarget {
  /** {@link readyState} while the connection is being established: 0. */
  declare static readonly CONNECTING: 0;
  /** {@link readyState} once the connection is open: 1. */
  declare static readonly OPEN: 1;
  /** {@link readyState} once the closing handshake started: 2. */
  declare static readonly CLOSING: 2;
  /** {@link readyState} once the connection is closed, or could not be opened: 3. */
  declare static readonly CLOSED: 3;
  /** {@link readyState} while the connection is being established: 0. */
  declare readonly CONNECTING: 0;
  /** {@link readyState} once the connection is open: 1. */
  declare readonly OPEN: 1;
  /** {@link readyState} once the closing handshake started: 2. */
  declare readonly CLOSING: 2;
  /** {@link readyState} once the connection is closed, or could not be opened: 3. */
  declare readonly CLOSED: 3;

  readonly #url: URL;
  /** The serialization of the URL's origin, for `MessageEvent.origin`. */
  readonly #origin: string;
  #readyState: ReadyState = ReadyState.CONNECTING;
  #protocol = "";
  #extensions = "";
  #binaryType: BinaryType = "blob";
  #connection: ClientConnection | null = null;
  /**
   * Whether `open` was dispatched, from the next task: until then, `readyState`
   * says OPEN whatever the connection does.
   */
  #openDispatched = false;
  /**
   * Whether a `message` event is being dispatched, until the next task: its
   * listeners and their microtasks see OPEN whatever the connection does
   * (see {@link readyState}).
   */
  #dispatching = false;
  readonly #dispatched = (): void => {
    this.#dispatching = false;
  };
  /** Why the connection was failed on this side after it opened, if it was. */
  #failure: { readonly error: unknown } | null = null;
  readonly #opening = new AbortController();
  readonly #outbox = new Outbox((error) => this.#fail(error, CloseCode.INTERNAL_ERROR));
  readonly #handlers = new EventHandlers(this);

  /**
   * Connects to `url` (`ws:`, `wss:`, or `http:`/`https:` standing for them),
   * offering `protocols` as subprotocols. The connection opens in the
   * background: listen for `open`, or for `error` and `close` if it fails.
   *
   * @param url an absolute URL with the scheme `ws`, `wss`, `http` or `https`
   *   and no fragment; relative URLs are errors, as there is no document to
   *   resolve them against.
   * @param protocols the subprotocols to offer, in order of preference: one
   *   string, or an iterable of them, each a token and none twice; the server
   *   must select one when any is offered. Default: none.
   * @param options the Node client's options (an extension to the standard).
   * @throws DOMException `SyntaxError` for an invalid URL or subprotocol.
   * @throws TypeError for an unknown option, naming the one meant when it is
   *   close, and for `subprotocols`, `signal` or `requireSubprotocol`, which
   *   the standard's API replaces.
   */
  constructor(
    url: string | URL,
    // A default, not `protocols?`: WebIDL counts required arguments only, so
    // `WebSocket.length` is 1, as in browsers.
    protocols: string | Iterable<string> | undefined = undefined,
    options: WebSocketOptions = {},
  ) {
    super();
    // biome-ignore lint/complexity/noArguments: WebIDL tells a missing argument from undefined.
    if (arguments.length === 0) {
      throw new TypeError("WebSocket constructor: 1 argument required, but only 0 present");
    }
    // WebIDL converts every argument before the constructor's steps check any.
    const urlString = toDOMString(url);
    const offered = convertProtocols(protocols);
    this.#url = parseWebSocketUrl(urlString);
    this.#origin = this.#url.origin;
    const subprotocols = parseProtocols(offered);
    void this.#run(subprotocols, checkOptions(options));
  }

  /** The URL, serialized, with `http`/`https` turned into `ws`/`wss`. */
  get url(): string {
    return this.#url.href;
  }

  /**
   * `CONNECTING` (0), `OPEN` (1), `CLOSING` (2) or `CLOSED` (3). It is
   * `CLOSING` once the closing handshake started, on either side; the
   * `message` events of what the server sent before its close frame still
   * see `OPEN`, as their tasks come first in a browser.
   */
  get readyState(): ReadyState {
    const state = this.#readyState;
    // WebSockets standard: "When the WebSocket closing handshake is started,
    // the user agent must queue a task to change the readyState attribute's
    // value to CLOSING": after the tasks of the messages received before it,
    // which see OPEN, and before any task their listeners queue.
    if (
      state === ReadyState.OPEN &&
      this.#openDispatched &&
      !this.#dispatching &&
      this.#connection!.state !== State.OPEN
    ) {
      return ReadyState.CLOSING;
    }
    return state;
  }

  /**
   * Bytes of application data passed to `send()` that were not handed to the
   * network yet: it grows with each `send()`, also after closing, and falls
   * as the socket takes the data. It does not change during a task.
   */
  get bufferedAmount(): number {
    return this.#outbox.bufferedAmount;
  }

  /** The extensions the server accepted (its `Sec-WebSocket-Extensions`), or `""`. */
  get extensions(): string {
    return this.#extensions;
  }

  /** The subprotocol the server selected, or `""`. */
  get protocol(): string {
    return this.#protocol;
  }

  /** `"blob"` (default) or `"arraybuffer"`; other values are ignored. */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(value: BinaryType) {
    const type = toDOMString(value);
    if (type === "blob" || type === "arraybuffer") this.#binaryType = type;
  }

  /** The `open` event's handler, or `null`; setting anything but a function sets `null`. */
  get onopen(): EventHandler<WebSocket, Event> {
    return this.#handlers.get("open") as EventHandler<WebSocket, Event>;
  }

  set onopen(handler: EventHandler<WebSocket, Event>) {
    this.#handlers.set("open", handler);
  }

  /** The `message` event's handler, or `null`: called with each message received. */
  get onmessage(): EventHandler<WebSocket, MessageEvent> {
    return this.#handlers.get("message") as EventHandler<WebSocket, MessageEvent>;
  }

  set onmessage(handler: EventHandler<WebSocket, MessageEvent>) {
    this.#handlers.set("message", handler);
  }

  /** The `error` event's handler, or `null`: called when the connection failed or couldn't open. */
  get onerror(): EventHandler<WebSocket, ErrorEvent> {
    return this.#handlers.get("error") as EventHandler<WebSocket, ErrorEvent>;
  }

  set onerror(handler: EventHandler<WebSocket, ErrorEvent>) {
    this.#handlers.set("error", handler);
  }

  /** The `close` event's handler, or `null`: called once the connection is closed. */
  get onclose(): EventHandler<WebSocket, CloseEvent> {
    return this.#handlers.get("close") as EventHandler<WebSocket, CloseEvent>;
  }

  set onclose(handler: EventHandler<WebSocket, CloseEvent>) {
    this.#handlers.set("close", handler);
  }

  /**
   * Sends a message: a string as text; an `ArrayBuffer`, a typed array, a
   * `DataView` or a `Blob` as binary; anything else converted to a string.
   * Messages leave in the order of the calls. Once the closing handshake
   * started, data is not sent, but still counted in `bufferedAmount`.
   *
   * @throws DOMException `InvalidStateError` while `CONNECTING`.
   * @throws TypeError for a `SharedArrayBuffer` or a view of one.
   */
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void {
    // biome-ignore lint/complexity/noArguments: WebIDL tells a missing argument from undefined.
    if (arguments.length === 0) {
      throw new TypeError("WebSocket.send: 1 argument required, but only 0 present");
    }
    const payload = toPayload(data);
    // "If this's ready state is CONNECTING, then throw an InvalidStateError."
    if (this.#readyState === ReadyState.CONNECTING) {
      throw new DOMException("cannot send before the connection is open", "InvalidStateError");
    }
    if (this.#readyState === ReadyState.OPEN && this.#connection!.state === State.OPEN) {
      this.#outbox.send(payload.data, payload.size);
    } else {
      this.#outbox.discard(payload.size);
    }
  }

  /**
   * Starts the closing handshake, after the messages already sent; while
   * connecting, gives up connecting (then `error` and `close` fire, with
   * 1006). Without a code, the close frame carries none; with a reason but
   * no code, it carries 1000. Does nothing once closing or closed.
   *
   * @throws DOMException `InvalidAccessError` for a code other than 1000 or
   *   3000–4999; `SyntaxError` for a reason over 123 bytes of UTF-8.
   */
  // Defaults, for `close.length`: 0, as WebIDL has it for optional arguments.
  close(code: number | undefined = undefined, reason: string | undefined = undefined): void {
    const request = parseCloseArguments(code, reason);
    switch (this.#readyState) {
      case ReadyState.CONNECTING:
        // "If the WebSocket connection is not yet established, fail the WebSocket connection."
        this.#readyState = ReadyState.CLOSING;
        this.#opening.abort(
          new DOMException("closed before the connection was established", "AbortError"),
        );
        return;
      case ReadyState.OPEN:
        this.#readyState = ReadyState.CLOSING;
        this.#outbox.close(request);
        return;
      default:
        return;
    }
  }

  /** Adds a listener; for the events of {@link WebSocketEventMap}, typed. */
  override addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: TypedListener<K>,
    options?: AddListenerOptions,
  ): void;
  /** Adds a listener for an event of any type, as `EventTarget` does. */
  override addEventListener(type: string, listener: Listener, options?: AddListenerOptions): void;
  override addEventListener(
    type: string,
    listener: Listener | TypedListener<keyof WebSocketEventMap>,
    options?: AddListenerOptions,
  ): void {
    super.addEventListener(type, listener as Listener, options);
  }

  /** Removes a listener added by {@link addEventListener}. */
  override removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: TypedListener<K>,
    options?: RemoveListenerOptions,
  ): void;
  /** Removes a listener added by {@link addEventListener}, for an event of any type. */
  override removeEventListener(
    type: string,
    listener: Listener,
    options?: RemoveListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: Listener | TypedListener<keyof WebSocketEventMap>,
    options?: RemoveListenerOptions,
  ): void {
    super.removeEventListener(type, listener as Listener, options);
  }

  /** Connects, fires `open`, dispatches the messages, then fires `close`. */
  async #run(subprotocols: string[], options: WebSocketOptions): Promise<void> {
    let connection: ClientConnection;
    try {
      connection = await connect(wireUri(this.#url), {
        ...options,
        // WHATWG WebSockets, "establish a WebSocket connection": the request's
        // redirect mode is "error", so a 3xx fails the connection, as in
        // browsers; `url` and `origin` could not name the server it moved to.
        // After the options: an explicit `undefined` means this default too,
        // not connect()'s, which follows redirects.
        maxRedirects: options.maxRedirects ?? 0,
        subprotocols,
        // "If protocols is not the empty list and extracting header list
        // values given `Sec-WebSocket-Protocol` and response's header list
        // results in null, failure, or the empty byte sequence, then fail the
        // WebSocket connection." (WHATWG WebSockets, "establish a WebSocket connection")
        requireSubprotocol: true,
        signal: this.#opening.signal,
      });
    } catch (error) {
      // Refused, unreachable, a handshake the server refused or got wrong, aborted.
      this.#closed(null, error);
      return;
    }
    this.#connection = connection;
    this.#outbox.attach(connection);
    if (this.#readyState === ReadyState.CONNECTING) {
      // "When the WebSocket connection is established", in this order.
      this.#readyState = ReadyState.OPEN;
      this.#extensions = connection.response?.headers.get("Sec-WebSocket-Extensions") ?? "";
      this.#protocol = connection.subprotocol ?? "";
      // Its listeners' microtasks see OPEN too; the tasks they queue don't.
      setImmediate(() => {
        this.#openDispatched = true;
      });
      this.dispatchEvent(new Event("open"));
    } else {
      // close() was called once connecting had succeeded, too late to abort it.
      this.#fail(this.#opening.signal.reason, CloseCode.GOING_AWAY);
    }
    this.#closed(connection, await this.#receive(connection));
  }

  /**
   * Dispatches each message in a task of its own, as a browser does: the
   * microtasks its listeners queued run before the next message. Resolves
   * with the error `recv()` rejected with once the TCP connection closed.
   * Messages arriving once closing started are read but not dispatched
   * ("if ready state is not OPEN, then return"): the connection's queue must
   * keep moving for the closing handshake to reach this side.
   */
  async #receive(connection: ClientConnection): Promise<unknown> {
    for (;;) {
      let message: Data;
      try {
        message = await connection.recv();
      } catch (error) {
        return error;
      }
      if (this.#readyState === ReadyState.OPEN) {
        // Until the next task, scheduled first so that it comes before any
        // the listeners queue: those see CLOSING (a browser queued that task
        // before theirs), while the listeners' microtasks (an async listener
        // past its first await) see OPEN.
        this.#dispatching = true;
        setImmediate(this.#dispatched);
        this.#dispatchMessage(message);
      }
      // After the tasks the listeners queued: the next message comes after them.
      await nextTask();
    }
  }

  #dispatchMessage(message: Data): void {
    let data: string | Blob | ArrayBuffer;
    if (typeof message === "string") {
      data = message;
    } else if (this.#binaryType === "arraybuffer") {
      data = toArrayBuffer(message);
    } else {
      // A Blob copies the bytes of the view.
      data = new Blob([message]);
    }
    this.dispatchEvent(new MessageEvent("message", { data, origin: this.#origin }));
  }

  /**
   * Fails the open connection from this side: it closes with `code`, and the
   * `close` event reports 1006.
   */
  #fail(error: unknown, code: number): void {
    if (this.#failure !== null) return;
    this.#failure = { error };
    this.#readyState = ReadyState.CLOSING;
    const connection = this.#connection!;
    if (connection.state === State.OPEN) {
      connection.close(code).catch(() => {});
    }
  }

  /**
   * "When the WebSocket connection is closed": `readyState` becomes CLOSED,
   * `error` fires if the connection failed rather than closed, then `close`.
   *
   * @param connection `null` when it never opened.
   * @param error why connecting failed, or what `recv()` rejected with.
   */
  #closed(connection: ClientConnection | null, error: unknown): void {
    const protocol = connection?.protocol;
    const closeRcvd = protocol?.closeRcvd ?? null;
    let failed: boolean;
    let wasClean: boolean;
    if (protocol === undefined || this.#failure !== null) {
      failed = true;
      wasClean = false;
      error = this.#failure?.error ?? error;
    } else {
      // RFC 6455 §7.2.1: "If at any point the underlying transport layer
      // connection is unexpectedly lost, the client MUST _Fail the WebSocket
      // Connection_." So does a protocol error (§7.1.7), and so does the
      // Node layer when it closes first while the application did not call
      // close(): a keepalive ping went unanswered.
      failed =
        closeRcvd === null ||
        protocol.parserExc !== null ||
        (protocol.closeRcvdThenSent === false && this.#readyState === ReadyState.OPEN);
      // RFC 6455 §7.1.4: closed "cleanly" when the TCP connection closed after
      // the closing handshake completed.
      wasClean = !failed && protocol.closeSent !== null;
    }
    // RFC 6455 §7.1.5: the close code is that of the first close frame
    // received, else 1006; a failure means it went unprocessed.
    const code = failed || closeRcvd === null ? CloseCode.ABNORMAL_CLOSURE : closeRcvd.code;
    const reason = failed || closeRcvd === null ? "" : closeRcvd.reason;
    this.#readyState = ReadyState.CLOSED;
    if (failed) {
      const message = error instanceof Error ? error.message : "";
      this.dispatchEvent(new ErrorEvent("error", { message, error }));
    }
    this.dispatchEvent(new CloseEvent("close", { wasClean, code, reason }));
  }
}

// WebIDL constants live on the interface object and on its prototype,
// enumerable, neither writable nor configurable.
for (const [name, value] of Object.entries(ReadyState)) {
  const descriptor = { value, enumerable: true, writable: false, configurable: false };
  Object.defineProperty(WebSocket, name, descriptor);
  Object.defineProperty(WebSocket.prototype, name, descriptor);
}

// `"WebSocket"` is what `Object.prototype.toString()` reports, as in a browser.
exposeAsInterface(WebSocket, "WebSocket");
