/**
 * The interactive client of `websockets-ts <uri>`, after Python's
 * `python -m websockets <uri>`: each line read from stdin is sent as a text
 * message, each message received is printed after `< `.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createInterface } from "node:readline";
import { type ClientConnection, Close, connect, type Data } from "../index.js";
import { escapeControl } from "./escape.js";

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
  /** Aborting it closes the connection with 1000, like the end of stdin. */
  readonly signal?: AbortSignal;
}

/** Lines read ahead of sending before reading pauses; piped input can be large. */
const MAX_PENDING_LINES = 64;

/** How a message is printed: escaped text, or binary as hex as Python prints it. */
export function formatMessage(message: Data): string {
  if (typeof message === "string") return `< ${escapeControl(message)}`;
  const bytes = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  return `< (binary) ${bytes.toString("hex")}`;
}

/** An error's message for the user; several for an `AggregateError` (one per address tried). */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(describeError).join("; ");
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/**
 * Connects to `uri` and relays stdin to the server and the server to stdout
 * until either side closes. Resolves with the exit code: 0 when the
 * connection closed normally (1000 or 1001 both ways), 1 when connecting
 * failed or the connection closed with an error.
 *
 * When stdin is a terminal, a `> ` prompt is shown and messages are printed
 * above the line being typed.
 */
export async function runClient(uri: string, options: ClientCommandOptions = {}): Promise<number> {
  const { stdin, stdout, stderr } = options.streams ?? processStreams;
  let ws: ClientConnection;
  try {
    ws = await connect(uri, options.signal ? { signal: options.signal } : {});
  } catch (error) {
    // Server-controlled text (a header value, …) can end up in the message.
    stderr.write(
      `Failed to connect to ${escapeControl(uri)}: ${escapeControl(describeError(error))}.\n`,
    );
    return 1;
  }
  stdout.write(`Connected to ${escapeControl(uri)}.\n`);

  const interactive = stdin.isTTY === true;
  // Redrawing the prompt takes cursor control, hence a terminal at both ends.
  const redraw = interactive && stdout.isTTY === true;
  const lines = createInterface({
    input: stdin,
    ...(interactive ? { output: stdout } : {}),
    terminal: redraw,
    prompt: "> ",
  });
  let linesClosed = false;

  /** Prints a line; on a terminal, over the prompt, then redraws it with what was typed. */
  const print = (text: string, prompt: boolean): void => {
    if (!redraw) {
      stdout.write(`${text}\n`);
      return;
    }
    stdout.write(`\r\x1b[K${text}\n`);
    if (prompt && !linesClosed) lines.prompt(true);
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
    if (interactive && !linesClosed) lines.prompt();
  });
  // End of stdin (Ctrl-D), Ctrl-C on a terminal, or the signal: finish
  // sending what was typed, then close.
  lines.on("close", () => {
    linesClosed = true;
    void sending.then(() => ws.close(1000));
  });
  lines.on("SIGINT", () => lines.close());
  const stop = (): void => lines.close();
  if (options.signal?.aborted) stop();
  else options.signal?.addEventListener("abort", stop, { once: true });
  if (interactive) lines.prompt();

  let ok = true;
  try {
    for await (const message of ws) print(formatMessage(message), true);
  } catch {
    ok = false;
  }
  await ws.closed;
  options.signal?.removeEventListener("abort", stop);
  const close = new Close(ws.closeCode ?? 1006, escapeControl(ws.closeReason ?? ""));
  print(`Connection closed: ${close}.`, false);
  lines.close();
  // Stop reading stdin, so that the process can exit.
  stdin.pause();
  return ok ? 0 : 1;
}
