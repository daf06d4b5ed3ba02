/**
 * Direct reads: sockets whose reads land straight in the large payload being
 * assembled, while there is one (see `Protocol.receiveBuffer()`), so that the
 * kernel writes those bytes once, where a read into a buffer of Node's would
 * have them copied again. Other reads land in one buffer that all such
 * sockets share: the protocol parses a read that starts a large frame where
 * it lies, copying that payload's first part straight into the payload's
 * memory, and any other read is copied out of it at once.
 *
 * Node offers this as `net.connect()`'s `onread` option, which a client's
 * socket uses. It offers nothing of the kind for the sockets a `net.Server`
 * accepts, though they read the same way underneath: {@link readDirectly}
 * turns it on for them through the socket's own `onread` state, where this
 * Node keeps it as Node 20 does (found by name; tested on Node 20, 22 and 24), and
 * leaves the socket as it is otherwise.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import * as net from "node:net";

/** What a socket reading directly calls with each read; `this` is the socket. */
export type DirectReadCallback = (
  this: net.Socket,
  bytesRead: number,
  buffer: Uint8Array,
) => boolean;

/** What decides where a socket's next read lands: its connection's protocol. */
export interface ReadTarget {
  /** The rest of the large payload being assembled, or `null`. */
  receiveBuffer(): Uint8Array | null;
}

/** The target of a socket's reads, once a connection owns it. */
export type TargetOf = (socket: net.Socket) => ReadTarget | null | undefined;

/**
 * Where the sockets that read directly read what is not the rest of a large
 * payload: shared by all of them, since each read is copied out before the
 * event loop reads from any socket again. Made for the first such socket.
 */
let sharedReadBuffer: Uint8Array | null = null;

/**
 * What gives the buffer of each read of a socket, once the read before was
 * taken: the rest of its payload, or the shared buffer. One per socket, as
 * Node asks without saying for which socket: a generator shared by all of
 * them would depend on the order of Node's calls to know.
 */
function readBuffersOf(socket: () => net.Socket | undefined, targetOf: TargetOf): () => Uint8Array {
  return () => {
    const reader = socket();
    return (reader === undefined ? null : targetOf(reader)?.receiveBuffer()) ?? sharedBuffer();
  };
}

/** {@link sharedReadBuffer}, made if need be: as large as Node's own reads, not zero-filled. */
function sharedBuffer(): Uint8Array {
  sharedReadBuffer ??= Buffer.allocUnsafeSlow(65536);
  return sharedReadBuffer;
}

/**
 * Whether a read landed in the buffer that every socket reading directly
 * shares, rather than in a payload's memory. Those bytes can't be handed
 * over as they are, nor the buffer replaced: every such socket holds it for
 * its next read. The protocol parses them where they lie when it can (see
 * `Protocol.receiveBorrowedData()`), else they are copied ({@link copyOfRead}).
 */
export function isSharedReadBuffer(buffer: Uint8Array): boolean {
  return buffer === sharedReadBuffer;
}

/**
 * A copy of bytes read into the shared buffer: not zero-filled first, as
 * `slice()` would, and not from Node's pool, so that a message kept by the
 * application keeps just its read alive, as with Node's own reads.
 */
export function copyOfRead(bytes: Uint8Array): Uint8Array {
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  copy.set(bytes);
  return copy;
}

/**
 * `net.connect(options)`, for a socket that reads directly, where
 * `targetOf` says, and hands each read to `callback`.
 */
export function connectReadingDirectly(
  options: net.NetConnectOpts,
  callback: DirectReadCallback,
  targetOf: TargetOf,
): net.Socket {
  // Node asks for the first buffer as it makes the socket, before it returns it: the shared one.
  let socket: net.Socket | undefined;
  const buffer = readBuffersOf(() => socket, targetOf);
  socket = net.connect({ ...options, onread: { buffer, callback } });
  return socket;
}

/** Node's private names for a socket's `onread` state (lib/net.js), as `net.connect()` sets it. */
interface ReadState {
  /** The buffer the next read lands in; `null` when the socket reads into Node's. */
  readonly buffer: symbol;
  /** The `onread` callback. */
  readonly callback: symbol;
  /** The function that gives the buffer for the read after; `null` for a fixed buffer. */
  readonly generator: symbol;
}

/** Found on the first socket asked about; `null` when this Node keeps its state otherwise. */
let readState: ReadState | null | undefined;

function findReadState(socket: net.Socket): ReadState | null {
  const symbols = Object.getOwnPropertySymbols(socket);
  const named = (name: string) => symbols.find((symbol) => symbol.description === name);
  const buffer = named("kBuffer");
  const callback = named("kBufferCb");
  const generator = named("kBufferGen");
  return buffer !== undefined && callback !== undefined && generator !== undefined
    ? { buffer, callback, generator }
    : null;
}

/** The native handle of a socket: `useUserBuffer()` is what `onread` calls on it. */
interface StreamHandle {
  useUserBuffer?: (buffer: Uint8Array) => void;
}

/**
 * Has `socket`, which a `net.Server` accepted, read directly from now on,
 * handing each read to `callback`, as if `net.connect()` had made it with
 * `onread`; its next read lands in `first` (the payload being assembled:
 * the switch is made for it), and the ones after where `targetOf` says. May be called from the socket's
 * 'data' listener, as its last: a pause made after it in the same turn
 * would be undone by the read Node's stream starts at the end of that
 * turn. Returns whether it does: not when Node keeps a socket's read state
 * in some other way than the one known here, nor for a socket that already
 * has `onread`, is paused, has data waiting in its readable buffer, has no
 * handle of its own, or is a TLS socket.
 */
export function readDirectly(
  socket: net.Socket,
  callback: DirectReadCallback,
  targetOf: TargetOf,
  first: Uint8Array,
): boolean {
  // A TLS socket is fed by the TLS layer: its reads are decrypted records.
  if ((socket as { encrypted?: boolean }).encrypted === true) return false;
  const handle = (socket as unknown as { _handle: StreamHandle | null })._handle;
  if (handle === null || typeof handle.useUserBuffer !== "function") return false;
  // Looked up once: `null` (not there) is kept too, rather than looked up
  // again at every read of a large payload on a Node that has it elsewhere.
  if (readState === undefined) readState = findReadState(socket);
  if (readState === null) return false;
  const state = socket as unknown as Record<symbol, unknown>;
  if (
    state[readState.buffer] !== null ||
    state[readState.generator] !== null ||
    socket.readableLength !== 0 ||
    // Node stops a paused socket's reads only once its readable buffer is
    // full, and reads into a buffer of ours ignore that: it would read on.
    socket.isPaused() ||
    socket.destroyed
  ) {
    return false;
  }
  // The order of net.connect() with onread: the state, then the handle.
  state[readState.generator] = readBuffersOf(() => socket, targetOf);
  state[readState.callback] = callback;
  state[readState.buffer] = first;
  handle.useUserBuffer(first);
  return true;
}
