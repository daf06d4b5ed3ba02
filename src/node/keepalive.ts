/**
 * Keepalive: a ping every `pingInterval`; no pong within `pingTimeout` means
 * the peer or the path to it is gone, and the connection is failed with 1011.
 * This also keeps NAT mappings and proxies from dropping idle connections.
 *
 * The connections that share a `pingInterval` share one timer (see
 * {@link DueQueue}): an idle connection keeps one small object for its
 * keepalive, not a timer of its own. The timer of `pingTimeout` exists only
 * while a ping awaits its pong, a few milliseconds every `pingInterval` on a
 * healthy connection: it is set and cleared per ping, so that it fires on
 * time and nothing of it stays behind.
 *
 * @module
 */

import { setDeadline } from "./deadline.js";
import { DueQueue } from "./due-queue.js";

/** What the keepalive needs from its connection. */
export interface KeepaliveTarget {
  /** Sends a ping; resolves with the latency when the pong arrives, rejects if the connection closes. */
  ping(): Promise<number>;
}

/**
 * Called with the target whose pong did not arrive in time: a function that
 * every keepalive of a kind shares, rather than an object per connection
 * that would carry both (an idle connection's bytes count).
 */
export type PongTimedOut = (target: KeepaliveTarget) => void;

/** Keepalives by `pingInterval`, in the order their next ping is due. */
const pingQueues = new Map<number, DueQueue<Keepalive>>();

// Set by the static block of Keepalive, where they reach its private members.
let tick: (keepalive: Keepalive) => void;
let pongTimerFired: (keepalive: Keepalive, timer: NodeJS.Timeout) => void;

/** The queue of the keepalives pinging every `interval` ms, made on first use and forgotten once empty. */
function pingQueue(interval: number): DueQueue<Keepalive> {
  let queue = pingQueues.get(interval);
  if (queue === undefined) {
    queue = new DueQueue(interval, tick, forgetPingQueue);
    pingQueues.set(interval, queue);
  }
  return queue;
}

function forgetPingQueue(queue: DueQueue<Keepalive>): void {
  if (pingQueues.get(queue.delay) === queue) pingQueues.delete(queue.delay);
}

/** Sends periodic pings on one connection until stopped. */
export class Keepalive {
  /** Cleared by {@link stop}: its queue may hold a stopped keepalive for one more interval. */
  private target: KeepaliveTarget | null;
  /** Set while a ping awaits its pong, with `pingTimeout`. */
  private pongTimer: NodeJS.Timeout | null = null;
  private waiting = false;

  constructor(
    private readonly pingInterval: number,
    private readonly pingTimeout: number | null,
    target: KeepaliveTarget,
    private readonly pongTimedOut: PongTimedOut,
  ) {
    this.target = target;
    pingQueue(pingInterval).add(this);
  }

  /** Stops pinging; call when the connection closes. */
  stop(): void {
    // Let go of the connection now: its queue forgets this object only when its turn comes.
    this.target = null;
    this.clearPongTimer();
  }

  private clearPongTimer(): void {
    if (this.pongTimer === null) return;
    clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  static {
    tick = (keepalive) => {
      const target = keepalive.target;
      if (target === null) return;
      // Next turn in one interval, as with setInterval(), whatever this ping becomes.
      pingQueue(keepalive.pingInterval).add(keepalive);
      // One ping at a time: a slow pong is the timeout's business.
      if (keepalive.waiting) return;
      keepalive.waiting = true;
      if (keepalive.pingTimeout !== null) {
        // A deadline: a pong that came in time but sits unread after a stall of the event loop counts.
        keepalive.pongTimer = setDeadline(pongTimerFired, keepalive.pingTimeout, keepalive);
        // Keepalive timers never keep the process alive on their own.
        keepalive.pongTimer.unref();
      }
      target.ping().then(
        () => {
          keepalive.waiting = false;
          keepalive.clearPongTimer();
        },
        // The connection closed: 'close' stops this keepalive.
        () => {},
      );
    };
    pongTimerFired = (keepalive, timer) => {
      // Cleared since it fired: the pong came, or the connection closed;
      // maybe the next ping's timer is set already, which is its own verdict.
      if (keepalive.pongTimer !== timer) return;
      keepalive.pongTimer = null;
      const target = keepalive.target;
      if (target !== null) keepalive.pongTimedOut(target);
    };
  }
}

/** How many keepalives pinging every `interval` ms are queued, stopped ones included; for tests. */
export function queuedKeepalives(interval: number): number {
  return pingQueues.get(interval)?.size ?? 0;
}
