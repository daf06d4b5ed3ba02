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
    this.interval = setInterval(() => this.tick(), pingInterval);
    // Keepalive timers never keep the process alive on their own.
    this.interval.unref();
  }

  /** Stops pinging; call when the connection closes. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.interval);
    if (this.pongTimer !== null) clearTimeout(this.pongTimer);
  }

  private tick(): void {
    // One ping at a time: a slow pong is the timeout's business.
    if (this.waiting || this.stopped) return;
    this.waiting = true;
    if (this.pingTimeout !== null) {
      this.pongTimer = setTimeout(() => {
        if (!this.stopped) this.target.timeout();
      }, this.pingTimeout);
      this.pongTimer.unref();
    }
    this.target.ping().then(
      () => {
        this.waiting = false;
        if (this.pongTimer !== null) clearTimeout(this.pongTimer);
        this.pongTimer = null;
      },
      // The connection closed: 'close' stops this keepalive.
      () => {},
    );
  }
}
