/**
 * One timer for many: the items of a queue all wait the same delay, so they
 * fall due in the order they were added, and one timer, set for the oldest,
 * serves them all. Keepalive uses it with one queue per `pingInterval`
 * instead of a `setInterval()` per connection: on an idle connection, a timer
 * of its own (its object, its arguments) cost about as much memory as the
 * rest of the keepalive's state together.
 *
 * Items are never taken out early: whoever added one marks it stale on its
 * side, and `onDue` ignores it when its turn comes. An item therefore stays
 * referenced for at most the queue's delay after that; hold small objects.
 *
 * @module
 */

import { performance } from "node:perf_hooks";

/**
 * How early a timer may fire by `performance.now()`: Node's timers count
 * whole milliseconds of the event loop's clock, this count is finer.
 */
const TIMER_SLACK = 1;

/** Queue entries are taken off the front; the array is compacted once that much of it is spent. */
const COMPACT_AFTER = 1024;

// Set by the static block of DueQueue, where it reaches the private method:
// one callback for every queue's timer, with the queue as its argument.
let fire: (queue: DueQueue<unknown>) => void;

/** Items that fall due `delay` ms after they were added, in that order. */
export class DueQueue<T> {
  private items: T[] = [];
  private dues: number[] = [];
  /** Index of the first live entry of `items` and `dues`. */
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  /**
   * @param delay ms from {@link add} to the call of `onDue`, at least.
   * @param onDue called with each item once its delay passed, in the order
   *   added; it may add items, to this queue or others.
   * @param onEmpty called when the last item was handed to `onDue` and none
   *   was added since: the owner of queues by delay can forget this one.
   */
  constructor(
    readonly delay: number,
    private readonly onDue: (item: T) => void,
    private readonly onEmpty: (queue: DueQueue<T>) => void,
  ) {}

  /** Number of items waiting, stale ones included. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** Hands `item` to `onDue` once `delay` ms have passed. */
  add(item: T): void {
    // performance.now() never goes back, so dues are added in order.
    this.items.push(item);
    this.dues.push(performance.now() + this.delay);
    if (this.timer === null) this.arm(this.delay);
  }

  private arm(delay: number): void {
    // The one callback is typed for every queue; this queue is one of them.
    this.timer = setTimeout(fire, delay, this as unknown as DueQueue<unknown>);
    // Like every keepalive timer: it never keeps the process alive on its own.
    this.timer.unref();
  }

  /** Hands over every item whose due time passed, then waits for the next. */
  private fire(): void {
    // `timer` stays set meanwhile, so that the items onDue adds arm nothing.
    const now = performance.now() + TIMER_SLACK;
    // Not the items that onDue adds to this queue: they wait a whole delay.
    const end = this.items.length;
    try {
      while (this.head < end && this.dues[this.head]! <= now) {
        const item = this.items[this.head]!;
        // Not kept alive by the spent part of the array until it is compacted.
        this.items[this.head] = undefined as T;
        this.head++;
        this.onDue(item);
      }
    } finally {
      // Even after an onDue that threw (an uncaught exception then): the
      // items behind it, of other connections, still fall due.
      this.rearm();
    }
  }

  /** Sets the timer for the oldest item, or forgets the queue once none is left. */
  private rearm(): void {
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.dues = this.dues.slice(this.head);
      this.head = 0;
    }
    this.timer = null;
    if (this.head < this.items.length) {
      this.arm(Math.max(1, Math.ceil(this.dues[this.head]! - performance.now())));
      return;
    }
    this.items = [];
    this.dues = [];
    this.head = 0;
    this.onEmpty(this);
  }

  static {
    fire = (queue) => {
      queue.fire();
    };
  }
}
