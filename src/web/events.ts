/**
 * The events a {@link WebSocket} fires beyond `Event` and `MessageEvent`:
 * `CloseEvent` (WHATWG WebSockets, "The CloseEvent interface") and
 * `ErrorEvent` (WHATWG HTML, "The ErrorEvent interface"). Node 20 has
 * neither as a global; where the runtime has one, it is used instead, so that
 * `event instanceof CloseEvent` holds with either class.
 *
 * @module
 */

import { toDOMString, toUnsignedLong, toUnsignedShort } from "./webidl.js";

/** `bubbles`, `cancelable`, `composed`: what every event's constructor takes. */
type EventInit = NonNullable<ConstructorParameters<typeof Event>[1]>;

/** The fields of a {@link CloseEvent}; see its constructor. */
export interface CloseEventInit extends EventInit {
  wasClean?: boolean;
  code?: number;
  reason?: string;
}

/** The fields of an {@link ErrorEvent}; see its constructor. */
export interface ErrorEventInit extends EventInit {
  message?: string;
  filename?: string;
  lineno?: number;
  colno?: number;
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
  readonly message: string;
  readonly filename: string;
  readonly lineno: number;
  readonly colno: number;
  readonly error: unknown;
}

/** `CloseEvent`'s constructor. */
export interface CloseEventConstructor {
  readonly prototype: CloseEvent;
  new (type: string, init?: CloseEventInit): CloseEvent;
}

/** `ErrorEvent`'s constructor. */
export interface ErrorEventConstructor {
  readonly prototype: ErrorEvent;
  new (type: string, init?: ErrorEventInit): ErrorEvent;
}

/** WHATWG WebSockets: `[Exposed=*] interface CloseEvent : Event`. */
class CloseEventShim extends Event implements CloseEvent {
  readonly #wasClean: boolean;
  readonly #code: number;
  readonly #reason: string;

  constructor(type: string, init: CloseEventInit = {}) {
    super(type, init);
    this.#wasClean = Boolean(init.wasClean);
    this.#code = toUnsignedShort(init.code ?? 0);
    this.#reason = toDOMString(init.reason ?? "");
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

  get [Symbol.toStringTag](): string {
    return "CloseEvent";
  }
}

/** WHATWG HTML: `[Exposed=*] interface ErrorEvent : Event`. */
class ErrorEventShim extends Event implements ErrorEvent {
  readonly #message: string;
  readonly #filename: string;
  readonly #lineno: number;
  readonly #colno: number;
  readonly #error: unknown;

  constructor(type: string, init: ErrorEventInit = {}) {
    super(type, init);
    this.#message = toDOMString(init.message ?? "");
    this.#filename = toDOMString(init.filename ?? "");
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

  get [Symbol.toStringTag](): string {
    return "ErrorEvent";
  }
}

Object.defineProperty(CloseEventShim, "name", { value: "CloseEvent" });
Object.defineProperty(ErrorEventShim, "name", { value: "ErrorEvent" });

const runtime = globalThis as {
  CloseEvent?: CloseEventConstructor;
  ErrorEvent?: ErrorEventConstructor;
};

/** The `close` event's class: the runtime's where it has one, else this module's. */
export const CloseEvent: CloseEventConstructor = runtime.CloseEvent ?? CloseEventShim;

/** The `error` event's class: the runtime's where it has one, else this module's. */
export const ErrorEvent: ErrorEventConstructor = runtime.ErrorEvent ?? ErrorEventShim;
