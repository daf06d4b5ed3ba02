/**
 * The events a {@link WebSocket} fires beyond `Event` and `MessageEvent`:
 * `CloseEvent` (WHATWG WebSockets, "The CloseEvent interface") and
 * `ErrorEvent` (WHATWG HTML, "The ErrorEvent interface"). Node 20 has
 * neither as a global; where the runtime has one, it is used instead, so that
 * `event instanceof CloseEvent` holds with either class.
 *
 * @module
 */

import { exposeAsInterface } from "./interface-members.js";
import { toDOMString, toUnsignedLong, toUnsignedShort } from "./webidl.js";

/** `bubbles`, `cancelable`, `composed`: what every event's constructor takes. */
export type EventInit = NonNullable<ConstructorParameters<typeof Event>[1]>;

/** The fields of a {@link CloseEvent}; see its constructor. */
export interface CloseEventInit extends EventInit {
  /** See {@link CloseEvent.wasClean}. Default: `false`. */
  wasClean?: boolean | undefined;
  /** See {@link CloseEvent.code}; converted to an integer from 0 to 65535. Default: 0. */
  code?: number | undefined;
  /** See {@link CloseEvent.reason}. Default: `""`. */
  reason?: string | undefined;
}

/** The fields of an {@link ErrorEvent}; see its constructor. */
export interface ErrorEventInit extends EventInit {
  /** See {@link ErrorEvent.message}. Default: `""`. */
  message?: string | undefined;
  /** See {@link ErrorEvent.filename}. Default: `""`. */
  filename?: string | undefined;
  /** See {@link ErrorEvent.lineno}. Default: 0. */
  lineno?: number | undefined;
  /** See {@link ErrorEvent.colno}. Default: 0. */
  colno?: number | undefined;
  /** See {@link ErrorEvent.error}. Default: `undefined`. */
  error?: unknown;
}

/** The `close` event: how the connection ended. */
export interface CloseEvent extends Event {
  /** Whether the closing handshake completed before the TCP connection closed. */
  readonly wasClean: boolean;
  /** The close code the server sent; 1005 when its close frame had none, 1006 when there was none. */
  readonly code: number;
  /** The close reason the server sent, or `""`. */
  readonly reason: string;
}

/** The `error` event: `message` says what failed and `error` holds the cause. */
export interface ErrorEvent extends Event {
  /** What failed; for a `WebSocket`, the error's message, or `""`. */
  readonly message: string;
  /** The URL of the script where the error happened; `""` for a WebSocket's. */
  readonly filename: string;
  /** The line where the error happened; 0 for a WebSocket's. */
  readonly lineno: number;
  /** The column where the error happened; 0 for a WebSocket's. */
  readonly colno: number;
  /** The error; for a WebSocket, why connecting failed or why the connection was failed. */
  readonly error: unknown;
}

/** `CloseEvent`'s constructor. */
export interface CloseEventConstructor {
  /** The prototype of the events it creates. */
  readonly prototype: CloseEvent;
  /** An event of type `type`, e.g. `"close"`; fields missing from `init` take their defaults. */
  new (type: string, init?: CloseEventInit): CloseEvent;
}

/** `ErrorEvent`'s constructor. */
export interface ErrorEventConstructor {
  /** The prototype of the events it creates. */
  readonly prototype: ErrorEvent;
  /** An event of type `type`, e.g. `"error"`; fields missing from `init` take their defaults. */
  new (type: string, init?: ErrorEventInit): ErrorEvent;
}

/** WHATWG WebSockets: `[Exposed=*] interface CloseEvent : Event`. */
class CloseEventShim extends Event implements CloseEvent {
  readonly #wasClean: boolean;
  readonly #code: number;
  readonly #reason: string;

  constructor(...args: [type: string, init?: CloseEventInit]) {
    // Spread, not (type, init): Event throws a TypeError when `type`, which
    // WebIDL requires, is missing, and only sees it missing without arguments.
    super(...args);
    const init = args[1] ?? {};
    this.#wasClean = Boolean(init.wasClean);
    this.#code = toUnsignedShort(init.code ?? 0);
    // WebIDL converts any value given, `null` too ("null"), to a DOMString.
    this.#reason = init.reason === undefined ? "" : toDOMString(init.reason);
  }

  get wasClean(): boolean {
    return this.#wasClean;
  }

  get code(): number {
    return this.#code;
  }

  get reason(): string {
    return this.#reason;
  }
}

/** WHATWG HTML: `[Exposed=*] interface ErrorEvent : Event`. */
class ErrorEventShim extends Event implements ErrorEvent {
  readonly #message: string;
  readonly #filename: string;
  readonly #lineno: number;
  readonly #colno: number;
  readonly #error: unknown;

  constructor(...args: [type: string, init?: ErrorEventInit]) {
    // See CloseEventShim: Event checks that `type` was given.
    super(...args);
    const init = args[1] ?? {};
    this.#message = init.message === undefined ? "" : toDOMString(init.message);
    this.#filename = init.filename === undefined ? "" : toDOMString(init.filename);
    this.#lineno = toUnsignedLong(init.lineno ?? 0);
    this.#colno = toUnsignedLong(init.colno ?? 0);
    this.#error = init.error;
  }

  get message(): string {
    return this.#message;
  }

  get filename(): string {
    return this.#filename;
  }

  get lineno(): number {
    return this.#lineno;
  }

  get colno(): number {
    return this.#colno;
  }

  get error(): unknown {
    return this.#error;
  }
}

Object.defineProperty(CloseEventShim, "name", { value: "CloseEvent" });
Object.defineProperty(ErrorEventShim, "name", { value: "ErrorEvent" });
exposeAsInterface(CloseEventShim, "CloseEvent");
exposeAsInterface(ErrorEventShim, "ErrorEvent");

const runtime = globalThis as {
  CloseEvent?: CloseEventConstructor;
  ErrorEvent?: ErrorEventConstructor;
};

/** The `close` event's class: the runtime's where it has one, else this module's. */
export const CloseEvent: CloseEventConstructor = runtime.CloseEvent ?? CloseEventShim;

/** The `error` event's class: the runtime's where it has one, else this module's. */
export const ErrorEvent: ErrorEventConstructor = runtime.ErrorEvent ?? ErrorEventShim;
