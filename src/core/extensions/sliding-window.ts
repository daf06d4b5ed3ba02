/**
 * The last bytes that went through a DEFLATE stream: what RFC 7692 §7.1.1
 * calls the LZ77 sliding window, kept between messages for context takeover.
 *
 * A window is a plain `Uint8Array` holding exactly the bytes kept, oldest
 * first, with no object around it: an idle connection keeps one per
 * direction, and its memory is the bytes it has seen, up to the capacity.
 *
 * @module
 */

/** The window before anything went through. */
export const EMPTY_WINDOW: Uint8Array = new Uint8Array(0);

/**
 * The window after `bytes` went through `window`: its last `capacity` bytes.
 * Reuses `window`'s memory when it is full, allocates exactly what is needed
 * while it grows, and never keeps a reference to `bytes`.
 *
 * @param capacity the window size, 2^windowBits bytes.
 */
export function slideWindow(window: Uint8Array, bytes: Uint8Array, capacity: number): Uint8Array {
  const held = window.length;
  if (bytes.length >= capacity) {
    const full = held === capacity ? window : new Uint8Array(capacity);
    full.set(bytes.subarray(bytes.length - capacity));
    return full;
  }
  // The newest bytes already held that stay.
  const kept = Math.min(held, capacity - bytes.length);
  let next = window;
  if (kept + bytes.length > held) {
    next = new Uint8Array(kept + bytes.length);
    next.set(window.subarray(held - kept));
  } else {
    // Full: the window slides.
    window.copyWithin(0, held - kept);
  }
  next.set(bytes, kept);
  return next;
}
