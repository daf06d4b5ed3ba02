/**
 * The interactive client of `websockets-ts <uri>`, after Python's
 * `python -m websockets <uri>`: each line read from stdin is sent as a text
 * message, each message received is printed after `< `.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { redactTypedUri } from "../core/redact-uri.js";
import { parseUri } from "../core/uri.js";
import {
  type ClientConnection,
  Close,
  CloseCode,
  type ConnectOptions,
  connect,
  type Data,
  InvalidStatus,
  InvalidUri,
  ProtocolError,
  ProxyError,
  Response,
  SecurityError,
} from "../index.js";
import { resolveProxy } from "../node/proxy.js";
import { redactProxy } from "../node/proxy-url.js";
import { isSchemeMismatch, NOT_TLS_QUESTION, notTlsError } from "../node/tls.js";
import { type ClientCommand, UsageError } from "./args.js";
import { escapeControl } from "./escape.js";
import { redactUriIn } from "./redact.js";

/** The streams a CLI command talks through; `process.stdin` etc. in the real thing. */
export interface CliStreams {
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream;
}

/** The process's own streams. */
export const processStreams: CliStreams = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
};

/** Options of {@link runClient}. */
export interface ClientCommandOptions {
  /** Where to read lines and print messages. Default: the process's streams. */
  readonly streams?: CliStreams;
  /**
   * Aborting it closes the connection with 1000, like the end of stdin, but
   * without waiting for the server to have read the lines first.
   */
  readonly signal?: AbortSignal;
  /**
   * Called on Ctrl-C when stdin and stdout are terminals. readline then reads
   * the terminal in raw mode, where Ctrl-C is a key rather than SIGINT; once
   * it is closed, the terminal raises SIGINT again. The CLI passes what it
   * does on the first SIGINT, so that Ctrl-C counts as that one and a second
   * Ctrl-C kills the process. Default: closes like {@link signal}.
   */
  readonly onInterrupt?: () => void;
  /**
   * Options for `connect()`, e.g. from {@link clientConnectOptions}; `signal`
   * is the one above. With `tls.rejectUnauthorized` `false`, a warning is
   * printed on stderr before connecting.
   */
  readonly connect?: Omit<ConnectOptions, "signal"> | undefined;
}

/**
 * Reads the file an option names.
 *
 * @throws UsageError when it can't be read, naming the option.
 */
export function readOptionFile(option: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new UsageError(`${option} ${file}: ${describeError(error)}`);
  }
}

/**
 * The `connect()` options that the command line asks for. Reads the `--ca`
 * files.
 *
 * @throws UsageError when a `--ca` file can't be read or holds no PEM
 *   certificate (a DER file, a key, …), which would fail later with a less
 *   helpful message, or not at all with `--insecure`.
 */
export function clientConnectOptions(command: ClientCommand): ConnectOptions {
  const options: ConnectOptions = {};
  if (command.headers.length > 0) options.additionalHeaders = command.headers;
  if (command.subprotocols.length > 0) options.subprotocols = command.subprotocols;
  if (command.origin !== undefined) options.origin = command.origin;
  const tls: NonNullable<ConnectOptions["tls"]> = {};
  if (command.ca.length > 0) {
    tls.ca = command.ca.map((file) => {
      const pem = readOptionFile("--ca", file);
      if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
        throw new UsageError(`--ca ${file}: no PEM certificate in the file`);
      }
      return pem;
    });
  }
  if (command.insecure) tls.rejectUnauthorized = false;
  if (Object.keys(tls).length > 0) options.tls = tls;
  if (command.proxy !== undefined) options.proxy = command.proxy;
  if (command.unixSocket !== undefined) options.path = command.unixSocket;
  if (!command.compression) options.compression = null;
  if (command.maxSize !== undefined) options.maxMessageSize = command.maxSize;
  return options;
}

/** Lines read ahead of sending before reading pauses; piped input can be large. */
const MAX_PENDING_LINES = 64;

/** How a message is printed: escaped text, or binary as hex as Python prints it. */
export function formatMessage(message: Data): string {
  if (typeof message === "string") return `< ${escapeControl(message)}`;
  const bytes = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  return `< (binary) ${bytes.toString("hex")}`;
}

/**
 * An error's message for the user; several for an `AggregateError` (one per
 * address tried). The URI that an `InvalidUri` quotes (the one given, or the
 * Location of a redirect that can't be followed) comes redacted already, as
 * `redactUri()` says. A refused handshake quotes what the server said, as
 * {@link bodyExcerpt} gives it. Control characters are left for the caller
 * to escape; whitespace at the end goes.
 */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(describeError).join("; ");
  }
  if (error instanceof SecurityError) return error.message.replace(TLS_CA_HINT, CLI_CA_HINT);
  // A server that expects TLS says so in its body, which the message sums up:
  // nginx's page would give its first line, "<html>".
  if (
    error instanceof InvalidStatus &&
    error.response instanceof Response &&
    !isSchemeMismatch(error)
  ) {
    // The status alone rarely says why: a server's 400 explains in its body
    // which subprotocol or header it missed.
    const excerpt = bodyExcerpt(error.response.body);
    return excerpt === "" ? error.message : `${error.message}: "${excerpt}"`;
  }
  // OpenSSL's messages end with a line feed, which would leave the period
  // after them alone on a line.
  if (error instanceof Error) return (error.message || error.name).trimEnd();
  return String(error);
}

/** Longest excerpt of a response's body that {@link bodyExcerpt} gives, in characters. */
export const MAX_BODY_EXCERPT = 200;

/**
 * Bytes of a body that {@link bodyExcerpt} reads: room for its first line,
 * up to {@link MAX_BODY_EXCERPT} characters of 4 bytes each, after a few
 * blank lines. The body may be as large as the response parser allows.
 */
const BODY_EXCERPT_BYTES = 4096;

/**
 * The first line of a body that isn't blank, decoded as UTF-8 (U+FFFD for
 * invalid bytes) and trimmed, cut after {@link MAX_BODY_EXCERPT} characters
 * with `…` added; `""` when there is none. Control characters are left for
 * the caller to escape, as in {@link describeError}.
 */
export function bodyExcerpt(body: Uint8Array): string {
  // `stream`: a character cut at the end of the bytes read is left out
  // rather than shown as U+FFFD.
  const text = new TextDecoder().decode(body.subarray(0, BODY_EXCERPT_BYTES), { stream: true });
  const lines = text.split(/\r\n|\r|\n/);
  const index = lines.findIndex((line) => line.trim() !== "");
  if (index === -1) return "";
  // By code point, so as not to split a surrogate pair.
  const characters = Array.from(lines[index]!.trim());
  // The line may go on past the bytes read, after many blank lines.
  const cut = index === lines.length - 1 && body.length > BODY_EXCERPT_BYTES;
  if (characters.length <= MAX_BODY_EXCERPT && !cut) return characters.join("");
  return `${characters.slice(0, MAX_BODY_EXCERPT).join("")}…`;
}

/**
 * Advice, after connecting to `uri` failed with `error`, for a likely mistake
 * in the URI; `undefined` when nothing points to one. The URI it suggests is
 * redacted as the error's is, but not escaped. The URI is never rewritten:
 * the user decides.
 *
 * - The scheme isn't `ws` or `wss`: `ws://` or `wss://` for `http://` or
 *   `https://`, and `ws://` added to a URI typed without a scheme, such as
 *   `127.0.0.1:8001`, `localhost` or `example.com/chat`, if that makes a
 *   valid URI. Not for a single word (`serv`), likely no host name.
 * - `wss://` to a server whose answer to the TLS handshake isn't TLS: `ws://`.
 *   OpenSSL says `wrong version number` (or a length "too long") when
 *   the first record received is no TLS record; connect()'s error says so
 *   and asks whether the server is a plain `ws://` one, a question this
 *   answers with the URI to try, so {@link runClient} leaves it out of the
 *   error. Not through a proxy, whose TLS may be the one that failed.
 *
 * `ws://` to a TLS server: connect()'s error already says to use `wss://`,
 * for certain when the answer is TLS or a 400 that says the server expects
 * TLS, conditionally when the server closes without a word (as Node's TLS
 * server does, and others may for other reasons).
 */
export function connectHint(
  uri: string,
  error: unknown,
  options: Pick<ConnectOptions, "proxy">,
): string | undefined {
  // A redirect to a Location that isn't a WebSocket URI fails with
  // InvalidUri too; then the URI given isn't the one to change.
  if (error instanceof InvalidUri && error.uri === redactTypedUri(uri)) {
    const suggestion = withWebSocketScheme(uri);
    return suggestion === undefined ? undefined : `Did you mean ${redactTypedUri(suggestion)}?`;
  }
  if (/^wss:/i.test(uri) && !options.proxy && isNotTls(error)) {
    return `Is it a plain ws:// server? Try ${redactTypedUri(`ws${uri.slice(3)}`)} instead.`;
  }
  return undefined;
}

/**
 * A URI typed without a scheme: optional user info, a host (an IPv6
 * address in brackets), an optional port of digits, then a path or query.
 * `localhost:8001` is one, `ws:/host` or `mailto:x` isn't.
 */
const SCHEMELESS_URI = /^(?:[^/?#@]*@)?(?:\[[^\]]*\]|[^:/?#@[\]]+)(?::\d+)?(?:[/?].*)?$/s;

/** `uri` with `ws://` or `wss://` for its scheme, if that makes a valid WebSocket URI. */
function withWebSocketScheme(uri: string): string | undefined {
  let suggestion: string;
  const http = /^(https?):\/\//i.exec(uri);
  if (http !== null) {
    const secure = http[1]!.toLowerCase() === "https";
    suggestion = `${secure ? "wss" : "ws"}${uri.slice(http[1]!.length)}`;
  } else if (SCHEMELESS_URI.test(uri) && (/[.:/?@[]/.test(uri) || /^localhost$/i.test(uri))) {
    suggestion = `ws://${uri}`;
  } else {
    return undefined;
  }
  try {
    parseUri(suggestion);
  } catch {
    return undefined;
  }
  return suggestion;
}

/**
 * Whether the TLS handshake failed because the server's answer isn't TLS:
 * connect()'s InvalidMessage that says so, or the error of Node's that it
 * is made from.
 */
function isNotTls(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.some(isNotTls);
  return isSchemeMismatch(error) || notTlsError(error) !== null;
}

/** How the library's untrusted-certificate hint names the CA option: connect()'s. */
const TLS_CA_HINT = "in the tls.ca option";
/** The same option on the command line. */
const CLI_CA_HINT = "with --ca FILE";

/**
 * What the `Connected to` line says of the subprotocol, once some were
 * offered: the one the server chose, or that it chose none, which RFC 6455
 * allows but the user likely wants to know.
 */
function describeSubprotocol(ws: ClientConnection, options: ConnectOptions): string {
  if (ws.subprotocol !== null) return ` (subprotocol ${escapeControl(ws.subprotocol)})`;
  return (options.subprotocols?.length ?? 0) > 0 ? " (no subprotocol)" : "";
}

/**
 * How the connection closed: the close frame received, as `1000 (OK)`; or,
 * when this side failed the connection (a message over `maxMessageSize`, a
 * protocol error, …) and closed without waiting for the server's answer, the
 * frame sent, which says why better than 1006 would.
 *
 * When the failure came after this side's close frame (a message over
 * `maxMessageSize` that arrived while the client was closing at the end of
 * stdin), no frame says why: the one sent carries the earlier code, 1000.
 * The code the failure calls for and its reason follow it then, as
 * `sent 1000 (OK), then failed with 1009 (message too big) …`.
 */
export function describeClosing(ws: ClientConnection): string {
  const { closeRcvd, closeSent, parserExc } = ws.protocol;
  if (closeRcvd === null && closeSent !== null) {
    let description = `sent ${new Close(closeSent.code, escapeControl(closeSent.reason))}`;
    if (
      parserExc instanceof ProtocolError &&
      // 1006: the server closed the TCP connection without a close frame,
      // which "no close frame received" says already.
      parserExc.closeCode !== CloseCode.ABNORMAL_CLOSURE &&
      parserExc.closeCode !== closeSent.code
    ) {
      const failure = new Close(parserExc.closeCode, escapeControl(parserExc.message));
      description += `, then failed with ${failure}`;
    }
    return `${description}; no close frame received`;
  }
  return String(new Close(ws.closeCode ?? 1006, escapeControl(ws.closeReason ?? "")));
}

/**
 * How long the client waits at the end of stdin for the server to answer its
 * ping before closing anyway: as long as `close()` waits for the server's
 * close frame by default.
 */
const PONG_TIMEOUT_MS = 10_000;

/**
 * Resolves once the server has read every message sent so far, or after
 * {@link PONG_TIMEOUT_MS} for a server that doesn't answer pings, or once the
 * connection closes. A server answers a ping (RFC 6455 §5.5.2) after reading
 * what came before it; a close frame sent after the pong reaches it after
 * the lines. Sent right after them, the close frame could be read with the
 * last lines, and a server answers it at once (§5.5.1), after which it can
 * send nothing: not even the replies to those lines (an echo server's).
 */
async function untilServerReadAll(ws: ClientConnection): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, PONG_TIMEOUT_MS);
  });
  try {
    // It rejects once the connection is closing or closed: nothing to wait for.
    await Promise.race([ws.ping().then(noop, noop), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function noop(): void {}

/**
 * ` through the proxy http://proxy:3128` when the connection went through
 * one: an `ECONNREFUSED 127.0.0.1:3128` alone reads as the server's.
 * `ProxyError`s name the proxy already.
 */
function throughProxy(uri: string, options: ConnectOptions, error: unknown): string {
  if (error instanceof ProxyError || options.proxy === undefined) return "";
  let proxy: URL | null;
  try {
    proxy = resolveProxy(parseUri(uri), options.proxy);
  } catch {
    return "";
  }
  return proxy === null ? "" : ` through the proxy ${escapeControl(redactProxy(proxy))}`;
}

/** Resolves once `output` drained its buffer, or can't be written to any more. */
function writable(output: NodeJS.WritableStream): Promise<void> {
  // Destroyed (EPIPE: its reader is gone): nothing will drain.
  if (!output.writable) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      output.off("drain", done);
      output.off("close", done);
      output.off("error", done);
      resolve();
    };
    output.on("drain", done);
    output.on("close", done);
    output.on("error", done);
  });
}

/**
 * Connects to `uri` and relays stdin to the server and the server to stdout
 * until either side closes. Resolves with the exit code: 0 when the
 * connection closed normally (1000 or 1001 both ways), 1 when connecting
 * failed or the connection closed with an error. When connecting fails,
 * the error is printed on stderr, followed by a hint when the URI looks
 * mistaken, as {@link connectHint} says.
 *
 * When stdin and stdout are terminals, a `> ` prompt is shown and messages
 * are printed above the line being typed. Otherwise stdout gets the
 * messages only: the prompt is no part of the data.
 *
 * The URI is printed without its credentials, as `redactUri()` says:
 * `ws://alice:***@host/`, or `wss://***@host/` for a token as user name;
 * typed without its scheme too (`alice:***@host`), as `redactTypedUri()` says.
 */
export async function runClient(uri: string, options: ClientCommandOptions = {}): Promise<number> {
  const { stdin, stdout, stderr } = options.streams ?? processStreams;
  const connectOptions: ConnectOptions = { ...options.connect };
  if (options.signal) connectOptions.signal = options.signal;
  if (connectOptions.tls?.rejectUnauthorized === false) {
    stderr.write(
      "Warning: the server's TLS certificate is not checked (--insecure): " +
        "anyone on the way can pose as the server.\n",
    );
  }
  // Without the password of `ws://user:password@host/`, or the token of `wss://TOKEN@host/`.
  const printableUri = escapeControl(redactTypedUri(uri));
  let ws: ClientConnection;
  try {
    ws = await connect(uri, connectOptions);
  } catch (error) {
    // Server-controlled text (a header value, …) can end up in the message;
    // the URI as given, with its credentials, too (`<uri> isn't a valid URI: …`).
    let message = redactUriIn(describeError(error), uri);
    const hint = connectHint(uri, error, connectOptions);
    // The hint answers connect()'s question with the URI to try: once is enough.
    if (hint !== undefined && message.endsWith(NOT_TLS_QUESTION)) {
      message = message.slice(0, -NOT_TLS_QUESTION.length);
    }
    stderr.write(
      `Failed to connect to ${printableUri}${throughProxy(uri, connectOptions, error)}: ${escapeControl(message)}.\n`,
    );
    if (hint !== undefined) stderr.write(`${escapeControl(hint)}\n`);
    return 1;
  }
  stdout.write(`Connected to ${printableUri}${describeSubprotocol(ws, connectOptions)}.\n`);

  // The prompt is for someone typing who sees stdout, and redrawing it takes
  // cursor control: a terminal at both ends. With stdout redirected to a
  // file, a prompt there would run into the messages (`> > < hello`).
  const redraw = stdin.isTTY === true && stdout.isTTY === true;
  const lines = createInterface({
    input: stdin,
    ...(redraw ? { output: stdout } : {}),
    terminal: redraw,
    prompt: "> ",
  });
  let linesClosed = false;

  /**
   * Prints a line; on a terminal, over the prompt, then redraws it with what
   * was typed. Returns `false` when stdout's buffer is full.
   */
  const print = (text: string, prompt: boolean): boolean => {
    if (!redraw) return stdout.write(`${text}\n`);
    const taken = stdout.write(`\r\x1b[K${text}\n`);
    if (prompt && !linesClosed) lines.prompt(true);
    return taken;
  };

  let sending = Promise.resolve();
  let pending = 0;
  lines.on("line", (line: string) => {
    if (++pending > MAX_PENDING_LINES) lines.pause();
    sending = sending
      .then(() => ws.send(line))
      // A send fails only once the connection is closing; the close is reported below.
      .catch(() => {})
      .finally(() => {
        if (--pending <= MAX_PENDING_LINES / 4 && !linesClosed) lines.resume();
      });
    if (redraw && !linesClosed) lines.prompt();
  });
  // End of stdin (Ctrl-D), Ctrl-C on a terminal, or the signal: finish
  // sending what was typed, then close. At the end of stdin, the client
  // first waits for the server to have read the lines, so that it can still
  // answer them; Ctrl-C and the signal close at once.
  let interrupted = false;
  lines.on("close", () => {
    linesClosed = true;
    void sending
      .then(() => (interrupted ? undefined : untilServerReadAll(ws)))
      .then(() => ws.close(1000));
  });
  const stop = (): void => {
    interrupted = true;
    // After the end of stdin, while waiting for the server: close now.
    if (linesClosed) void sending.then(() => ws.close(1000));
    else lines.close();
  };
  // Emitted only when readline reads the terminal in raw mode (redraw).
  lines.on("SIGINT", options.onInterrupt ?? stop);
  if (options.signal?.aborted) stop();
  else options.signal?.addEventListener("abort", stop, { once: true });
  if (redraw) lines.prompt();

  let ok = true;
  try {
    for await (const message of ws) {
      // Stdout written asynchronously (a socket, as a parent process or a
      // supervisor may give) can't keep up with a server that floods: stop
      // reading until it drains, so that TCP slows the server down instead
      // of memory filling up.
      if (!print(formatMessage(message), true)) await writable(stdout);
    }
  } catch {
    ok = false;
  }
  await ws.closed;
  options.signal?.removeEventListener("abort", stop);
  print(`Connection closed: ${describeClosing(ws)}.`, false);
  lines.close();
  // Stop reading stdin, so that the process can exit.
  stdin.pause();
  return ok ? 0 : 1;
}
