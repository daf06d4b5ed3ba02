/**
 * Keepalive: a ping every `pingInterval`; no pong within `pingTimeout` means
 * the peer or the path to it is gone, and the connection is failed with 1011.
 * This also keeps NAT mappings and proxies from dropping idle connections.
 *
 * @module
 */

/** What the keepalive needs from its connection. */
export interface KeepaliveTarget {
  /** Sends a ping; resolves with the latency when the pong arrives, rejects if the connection closes. */
  ping(): Promise<number>;
  /** Called when a pong did not arrive in time. */
  timeout(): void;
}

// Set by the static block of Keepalive, where they reach its private members.
let tick: (keepalive: Keepalive) => void;
let pongTimedOut: (keepalive: Keepalive) => void;

/** Sends periodic pings on one connection until stopped. */
export class Keepalive {
  private readonly interval: NodeJS.Timeout;
  private pongTimer: NodeJS.Timeout | null = null;
  private waiting = false;
  private stopped = false;

  constructor(
    pingInterval: number,
    private readonly pingTimeout: number | null,
    private readonly target: KeepaliveTarget,
  ) {
    // Shared callbacks with the keepalive as argument: no closure per connection.
    this.interval = setInterval(tick, pingInterval, this);
    // Keepalive timers never keep the process alive on their own.
    this.interval.unref();
  }

  /** Stops pinging; call when the connection closes. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.interval);
    this.clearPongTimer();
  }

  private clearPongTimer(): void {
    if (this.pongTimer === null) return;
    clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  static {
    tick = (keepalive) => {
      // One ping at a time: a slow pong is the timeout's business.
      if (keepalive.waiting || keepalive.stopped) return;
      keepalive.waiting = true;
      if (keepalive.pingTimeout !== null) {
        keepalive.pongTimer = setTimeout(pongTimedOut, keepalive.pingTimeout, keepalive);
        keepalive.pongTimer.unref();
      }
      keepalive.target.ping().then(
        () => {
          keepalive.waiting = false;
          keepalive.clearPongTimer();
        },
        // The connection closed: 'close' stops this keepalive.
        () => {},
      );
    };
    pongTimedOut = (keepalive) => {
      keepalive.pongTimer = null;
      if (!keepalive.stopped) keepalive.target.timeout();
    };
  }
}
