/**
 * The `compression` option of `connect()` and `serve()`: turns the
 * user-facing settings into the extension factories offered or accepted
 * during the opening handshake.
 *
 * @module
 */

import { describeValue, numberOptionError } from "../core/describe-value.js";
import type { ClientExtensionFactory, ServerExtensionFactory } from "../core/extensions/base.js";
import {
  PERMESSAGE_DEFLATE,
  type PerMessageDeflate,
} from "../core/extensions/permessage-deflate.js";
import {
  ClientPerMessageDeflateFactory,
  ServerPerMessageDeflateFactory,
} from "../core/extensions/permessage-deflate-negotiation.js";
import type { Resolved } from "../core/resolved.js";
import { FallbackDeflateFactory } from "./deflate-fallback.js";

/**
 * Tuning of permessage-deflate (RFC 7692), in terms of "this side" and "the
 * peer" so the same object works for {@link connect} and {@link serve}.
 * docs/topics/compression.md measures what each setting costs and saves.
 */
export interface DeflateOptions {
  /**
   * This side compresses with a window of 2^N bytes, 8 to 15. Smaller windows
   * cost less CPU per message and less memory, and compress a little less.
   * A server announces it (`server_max_window_bits=N`); `null` announces
   * nothing and compresses with 32 KiB. A client commits to it in its offer
   * (`client_max_window_bits=N`), and keeps to it if the server accepts
   * the bare offer that follows; `null` offers `client_max_window_bits`
   * without a value, as browsers do, and compresses with what the server
   * allows. Default: 12 on a server, `null` on a client.
   */
  windowBits?: number | null | undefined;
  /**
   * Asks the peer to compress with a window of at most 2^N bytes, so this side
   * keeps less of the peer's data between messages. A client sends
   * `server_max_window_bits=N`, a request: a server that declines it may
   * accept the bare offer that follows, and then compress with up to 32 KiB,
   * which this side keeps. A server answers `client_max_window_bits=N` when
   * the client's offer allows it, and that binds the client. `null` asks for
   * no limit. Default: 12 on a server, `null` on a client.
   */
  peerWindowBits?: number | null | undefined;
  /**
   * This side compresses each message on its own: no memory is kept between
   * messages, at the expense of the ratio on small similar messages.
   * Default: `false`.
   */
  noContextTakeover?: boolean | undefined;
  /**
   * Asks the peer to compress each message on its own. A server requires it;
   * a client requests it, and a server that declines may accept the bare
   * offer that follows instead. Default: `false`.
   */
  peerNoContextTakeover?: boolean | undefined;
  /** zlib compression level, 0 to 9, or -1 for zlib's default (6). Default: -1. */
  level?: number | undefined;
  /** zlib memory level, 1 to 9: the size of the match-finding hash table. Default: 5. */
  memLevel?: number | undefined;
  /**
   * Messages shorter than this many bytes are sent uncompressed: compressing
   * them costs more CPU than the bytes it saves. Default: 128.
   */
  threshold?: number | undefined;
}

/** Compression settings shared by {@link connect} and {@link serve}. */
export interface CompressionOptions {
  /**
   * `"deflate"` negotiates permessage-deflate (RFC 7692) when the peer
   * supports it; `null` disables compression. Default: `"deflate"`.
   */
  compression?: "deflate" | null | undefined;
  /**
   * Tuning of `compression: "deflate"`. A client that sets any of
   * `windowBits`, `peerWindowBits`, `noContextTakeover` or
   * `peerNoContextTakeover` follows its offer with the bare one browsers
   * send, which a server that declines the first may accept (RFC 7692 §5).
   */
  deflate?: DeflateOptions | undefined;
}

/**
 * What {@link serve} and {@link connect} use for each {@link DeflateOptions}
 * key left out, under `server` and `client`: the two roles differ in their
 * windows. Each is a complete `deflate` option, so spreading one and
 * changing a key changes that key alone:
 * `serve(handler, { deflate: { ...DEFLATE_DEFAULTS.server, windowBits: 9 } })`.
 * docs/topics/compression.md measures what each setting costs and saves.
 */
export const DEFLATE_DEFAULTS = {
  /**
   * What {@link serve} uses: 4 KiB windows both ways rather than zlib's
   * 32 KiB, as a server keeps them for every connection.
   */
  server: {
    /**
     * A 4 KiB window, announced in the answer; it keeps the preset dictionary
     * cheap (see docs/topics/design.md).
     */
    windowBits: 12,
    /** Clients are asked for a 4 KiB window too, when their offer allows it. */
    peerWindowBits: 12,
    /**
     * Keeps its window between messages: small similar messages compress
     * much better, at the cost of the window's memory between them.
     */
    noContextTakeover: false,
    /** Lets clients keep their window between messages, as they offer by default. */
    peerNoContextTakeover: false,
    /** zlib's default compression level (6). */
    level: -1,
    /** A smaller match-finding hash table than zlib's default (8). */
    memLevel: 5,
    /** Messages under 128 bytes are sent uncompressed. */
    threshold: 128,
  },
  /**
   * What {@link connect} uses: the offer browsers make, which leaves the
   * windows to the server.
   */
  client: {
    /**
     * Offers `client_max_window_bits` without a value, as browsers do: the
     * server picks the window, 32 KiB if it names none.
     */
    windowBits: null,
    /** Asks the server for no limit on its window. */
    peerWindowBits: null,
    /**
     * Keeps its window between messages: small similar messages compress
     * much better, at the cost of the window's memory between them.
     */
    noContextTakeover: false,
    /**
     * Doesn't ask the server to compress each message on its own: a server
     * that keeps its window compresses small similar messages much better.
     */
    peerNoContextTakeover: false,
    /** zlib's default compression level (6). */
    level: -1,
    /** A smaller match-finding hash table than zlib's default (8). */
    memLevel: 5,
    /** Messages under 128 bytes are sent uncompressed. */
    threshold: 128,
  },
} as const satisfies Readonly<Record<"server" | "client", Resolved<DeflateOptions>>>;

/** Whether the options ask for permessage-deflate. */
function wantsDeflate(options: CompressionOptions): boolean {
  const compression = options.compression === undefined ? "deflate" : options.compression;
  if (compression === null) return false;
  if (compression !== "deflate") {
    const message = `compression must be "deflate" (the default) or null for none; got ${describeValue(compression)}`;
    throw typeof compression === "string" ? new RangeError(message) : new TypeError(message);
  }
  return true;
}

/**
 * At most this many connections keep zlib streams open at a time: beyond it,
 * the connection that opened its streams first closes them. Node's zlib takes
 * about 110 KiB of native memory per connection for them with the default
 * settings (its compressor takes about 75 KiB whatever the settings), 225 KiB
 * with 32 KiB windows, so a burst of messages on thousands of connections
 * costs at most 7 to 14 MiB of zlib state, not one set of streams per
 * connection. A connection closed this way reopens its streams from its
 * windows on its next message. The extensions made here hold a compressed
 * message's fragments until its last frame (PerMessageDeflate's
 * inflatesFragments), so no decompressor is open mid-message, except on a
 * connection that called recvStreaming(): it keeps its decompressor until
 * the message's last frame, which continues the message's DEFLATE stream
 * (see PerMessageDeflate.releaseIdleState), and is checked again after it;
 * meanwhile it is not counted here.
 */
export const MAX_OPEN_STREAMS = 64;

/**
 * Extensions whose zlib streams are open, oldest first, to be closed once
 * their connection goes quiet: checked at the end of each event-loop turn (in
 * `setImmediate`, after the turn's reads and writes), and closed at the first
 * check that finds them unused since the previous one. A connection that keeps
 * receiving or sending from turn to turn keeps its streams; one that goes
 * quiet holds only its sliding windows a turn later. The check re-arms itself
 * only while some stream is open, so an idle process does not spin.
 */
const openStreams = new Set<PerMessageDeflate>();
let checkScheduled = false;

function checkOpenStreams(): void {
  checkScheduled = false;
  for (const extension of openStreams) {
    if (extension.releaseIfIdle()) openStreams.delete(extension);
  }
  if (openStreams.size > 0) scheduleCheck();
}

function scheduleCheck(): void {
  if (checkScheduled) return;
  checkScheduled = true;
  setImmediate(checkOpenStreams);
}

/**
 * The `scheduleRelease` setting of the extensions {@link clientExtensions}
 * and {@link serverExtensions} create: keeps their zlib streams while their
 * connection is busy, and closes them once it goes quiet, or when more than
 * {@link MAX_OPEN_STREAMS} connections keep some. Give it to factories
 * created by hand to get the same (`new ServerPerMessageDeflateFactory({
 * scheduleRelease: releaseWhenIdle })`).
 */
export function releaseWhenIdle(extension: PerMessageDeflate): void {
  openStreams.delete(extension);
  openStreams.add(extension);
  if (openStreams.size > MAX_OPEN_STREAMS) {
    for (const oldest of openStreams) {
      // Never the extension opening a stream, which was just added last.
      oldest.releaseIdleState();
      openStreams.delete(oldest);
      break;
    }
  }
  scheduleCheck();
}

/** The zlib settings shared by both roles, with the role's defaults. */
function deflateSettings(
  deflate: DeflateOptions,
  defaults: Resolved<DeflateOptions>,
): {
  level: number;
  memLevel: number;
  threshold: number;
  scheduleRelease: (extension: PerMessageDeflate) => void;
} {
  return {
    level: deflate.level ?? defaults.level,
    memLevel: deflate.memLevel ?? defaults.memLevel,
    threshold: deflate.threshold ?? defaults.threshold,
    scheduleRelease: releaseWhenIdle,
  };
}

/** `value`, or `fallback` when it is `undefined`; a window's `null` is a setting of its own. */
function orDefault<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

/**
 * Checks `deflate.windowBits` and `deflate.peerWindowBits` under the names
 * the application gave them: each role maps them to other RFC 7692
 * parameters (`server_max_window_bits` is a server's own window and a
 * client's peer's), whose names would only confuse the error.
 *
 * @throws RangeError unless each is `null`, left out, or an integer from 8 to 15.
 */
function checkWindowBits(deflate: DeflateOptions): void {
  for (const name of ["windowBits", "peerWindowBits"] as const) {
    const value = deflate[name];
    if (value == null || (Number.isInteger(value) && value >= 8 && value <= 15)) continue;
    throw numberOptionError(
      value,
      `deflate.${name} must be an integer from 8 to 15, or null; got ${describeValue(value)}`,
    );
  }
}

/**
 * The extensions a client offers: the user's own, then compression's, unless
 * the user already gave a permessage-deflate factory. Compression's is one
 * offer, or two when the first has parameters a server may decline: the
 * second is the bare offer of {@link FallbackDeflateFactory}.
 *
 * @throws RangeError for an unknown `compression` or invalid `deflate` settings.
 */
export function clientExtensions(
  options: CompressionOptions & { extensions?: readonly ClientExtensionFactory[] | undefined },
): ClientExtensionFactory[] {
  const extensions = [...(options.extensions ?? [])];
  if (!wantsDeflate(options)) return extensions;
  if (extensions.some((factory) => factory.name === PERMESSAGE_DEFLATE)) return extensions;
  const deflate = options.deflate ?? {};
  checkWindowBits(deflate);
  const defaults = DEFLATE_DEFAULTS.client;
  const settings = deflateSettings(deflate, defaults);
  const windowBits = orDefault(deflate.windowBits, defaults.windowBits);
  const peerWindowBits = orDefault(deflate.peerWindowBits, defaults.peerWindowBits);
  const noContextTakeover = deflate.noContextTakeover ?? defaults.noContextTakeover;
  const peerNoContextTakeover = deflate.peerNoContextTakeover ?? defaults.peerNoContextTakeover;
  extensions.push(
    new ClientPerMessageDeflateFactory({
      ...settings,
      // No window of its own: the parameter without a value, which lets the
      // server choose (RFC 7692 §7.1.2.2).
      clientMaxWindowBits: windowBits ?? true,
      serverMaxWindowBits: peerWindowBits,
      clientNoContextTakeover: noContextTakeover,
      serverNoContextTakeover: peerNoContextTakeover,
    }),
  );
  // An offer with any parameter but a bare client_max_window_bits may be
  // declined, and then the connection would go without compression or fail
  // (the ws package answers 400): RFC 7692 §5 lets a second offer follow.
  if (
    windowBits !== null ||
    peerWindowBits !== null ||
    noContextTakeover ||
    peerNoContextTakeover
  ) {
    extensions.push(new FallbackDeflateFactory({ windowBits, noContextTakeover }, settings));
  }
  return extensions;
}

/**
 * The extensions a server accepts: the user's own, then compression's, unless
 * the user already gave a permessage-deflate factory.
 *
 * @throws RangeError for an unknown `compression` or invalid `deflate` settings.
 */
export function serverExtensions(
  options: CompressionOptions & { extensions?: readonly ServerExtensionFactory[] | undefined },
): ServerExtensionFactory[] {
  const extensions = [...(options.extensions ?? [])];
  if (!wantsDeflate(options)) return extensions;
  if (extensions.some((factory) => factory.name === PERMESSAGE_DEFLATE)) return extensions;
  const deflate = options.deflate ?? {};
  checkWindowBits(deflate);
  const defaults = DEFLATE_DEFAULTS.server;
  extensions.push(
    new ServerPerMessageDeflateFactory({
      ...deflateSettings(deflate, defaults),
      serverMaxWindowBits: orDefault(deflate.windowBits, defaults.windowBits),
      clientMaxWindowBits: orDefault(deflate.peerWindowBits, defaults.peerWindowBits),
      serverNoContextTakeover: deflate.noContextTakeover ?? defaults.noContextTakeover,
      clientNoContextTakeover: deflate.peerNoContextTakeover ?? defaults.peerNoContextTakeover,
    }),
  );
  return extensions;
}
