/**
 * How a running command is told to stop: the first SIGINT or SIGTERM, a
 * Ctrl-C that the interactive client reads as a key, or an output that the
 * reader closed (`websockets-ts … | head`). All of them stop it the same way,
 * cleanly: the client closes with 1000, the server shuts down.
 *
 * @module
 */

import type { EventEmitter } from "node:events";

/** What a command stops on, and the way to stop it from elsewhere. */
export interface Stopper extends Disposable {
  /** Aborts when the command should stop. */
  readonly signal: AbortSignal;
  /**
   * Stops the command as the first signal does: the signal listeners are
   * removed, so that a second signal kills the process as usual.
   */
  stop(): void;
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * Listens for SIGINT and SIGTERM on `target` and for write errors on
 * `outputs`. Disposing of it removes the signal listeners; the output ones
 * stay, since a write still in flight may fail after the command returned.
 *
 * An output that fails with `EPIPE` was closed by its reader, as `head` does
 * once it has its lines: the command stops, without the stack trace of an
 * unhandled `'error'` event, and further writes to it are dropped (the
 * stream is destroyed). Other write errors are thrown, as they were.
 */
export function stopOnSignals(
  target: Pick<EventEmitter, "on" | "off"> = process,
  outputs: readonly Pick<EventEmitter, "on">[] = [process.stdout, process.stderr],
): Stopper {
  const controller = new AbortController();
  const removeSignalListeners = (): void => {
    for (const name of SIGNALS) target.off(name, stop);
  };
  function stop(): void {
    removeSignalListeners();
    controller.abort();
  }
  for (const name of SIGNALS) target.on(name, stop);
  const onOutputError = (error: NodeJS.ErrnoException): void => {
    if (error.code !== "EPIPE") throw error;
    stop();
  };
  for (const output of outputs) output.on("error", onOutputError);
  return { signal: controller.signal, stop, [Symbol.dispose]: removeSignalListeners };
}
