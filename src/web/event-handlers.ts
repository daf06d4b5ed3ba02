/**
 * Event handler attributes (`onopen`, `onmessage`, …) as WHATWG HTML defines
 * them ("Event handlers"): a listener registered when the attribute is first
 * set, which calls whatever function the attribute holds when the event fires.
 *
 * @module
 */

/** A function stored in an event handler attribute; `this` is the target; its result is ignored. */
export type EventHandler<T, E extends Event> = ((this: T, event: E) => unknown) | null;

interface Slot {
  handler: (this: EventTarget, event: Event) => unknown;
  listener: (event: Event) => void;
}

/** The event handler attributes of one target. */
export class EventHandlers {
  readonly #target: EventTarget;
  readonly #slots = new Map<string, Slot>();

  constructor(target: EventTarget) {
    this.#target = target;
  }

  /** The handler of `type`, or `null`. */
  get(type: string): unknown {
    return this.#slots.get(type)?.handler ?? null;
  }

  /**
   * Sets the handler of `type`. The listener is added when a handler is set
   * while there was none, so it runs in that order among the other listeners;
   * replacing the handler keeps its place; `null` removes it. Values that are
   * not functions count as `null` (WebIDL `[LegacyTreatNonObjectAsNull]`, for
   * the primitives; an object that cannot be called would only fail later).
   */
  set(type: string, value: unknown): void {
    const slot = this.#slots.get(type);
    if (typeof value !== "function") {
      if (slot !== undefined) {
        this.#target.removeEventListener(type, slot.listener);
        this.#slots.delete(type);
      }
      return;
    }
    const handler = value as Slot["handler"];
    if (slot !== undefined) {
      slot.handler = handler;
      return;
    }
    const target = this.#target;
    const created: Slot = {
      handler,
      listener: (event) => {
        created.handler.call(target, event);
      },
    };
    this.#slots.set(type, created);
    target.addEventListener(type, created.listener);
  }
}
