/** Records what a WebSocket fires, for tests to await and compare. */

import type { CloseEvent, ErrorEvent, WebSocket } from "../../src/web/index.js";

/** What a {@link WebSocket} fired, in order, and promises for the milestones. */
export interface Tracked {
  /** Event types in the order they fired: `open`, `message`, `error`, `close`. */
  readonly log: string[];
  readonly errors: ErrorEvent[];
  /** Resolves on `open`; rejects if `close` fires first. */
  readonly opened: Promise<void>;
  /** Resolves with the `close` event. */
  readonly closed: Promise<CloseEvent>;
  /** The next message event not read yet; rejects once closed without one. */
  nextMessage(): Promise<MessageEvent>;
}

/** Starts recording `ws`'s events; call it before the first turn of the event loop. */
export function track(ws: WebSocket): Tracked {
  const log: string[] = [];
  const errors: ErrorEvent[] = [];
  const messages: MessageEvent[] = [];
  let read = 0;
  let isClosed = false;
  let wake: (() => void) | null = null;
  let resolveOpened!: () => void;
  let rejectOpened!: (error: Error) => void;
  const opened = new Promise<void>((resolve, reject) => {
    resolveOpened = resolve;
    rejectOpened = reject;
  });
  // A test that expects no open never awaits this one.
  opened.catch(() => {});
  let resolveClosed!: (event: CloseEvent) => void;
  const closed = new Promise<CloseEvent>((resolve) => {
    resolveClosed = resolve;
  });
  const notify = () => {
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  ws.addEventListener("open", () => {
    log.push("open");
    resolveOpened();
  });
  ws.addEventListener("message", (event) => {
    log.push("message");
    messages.push(event);
    notify();
  });
  ws.addEventListener("error", (event) => {
    log.push("error");
    errors.push(event);
  });
  ws.addEventListener("close", (event) => {
    log.push("close");
    isClosed = true;
    rejectOpened(new Error(`closed before opening: ${event.code}`));
    resolveClosed(event);
    notify();
  });
  return {
    log,
    errors,
    opened,
    closed,
    async nextMessage() {
      while (read >= messages.length) {
        if (isClosed) throw new Error("closed without another message");
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      return messages[read++]!;
    },
  };
}

/** Closes `ws` unless it is closed, and waits for its `close` event. */
export async function closeAndWait(ws: WebSocket, tracked: Tracked): Promise<CloseEvent> {
  if (ws.readyState !== ws.CLOSED) ws.close();
  return tracked.closed;
}
