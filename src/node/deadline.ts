/**
 * Timers that give up on the peer (`pingTimeout`, `openTimeout`,
 * `closeTimeout`), but only after reading what it already sent.
 *
 * When the event loop comes back from a stall (a synchronous stretch of the
 * application's code in an I/O callback or an immediate), Node runs the
 * timers that expired meanwhile before it polls the sockets: a pong, a 101
 * response or a close frame that arrived in time would still sit unread when
 * the timer gives up on it, and a healthy connection would be failed (1011),
 * refused or cut (1006) because the application was busy. So the verdict
 * waits for the check phase, which comes right after the poll phase of the
 * same turn of the loop: what arrived by then has been read and handled, and
 * the callback decides on the state it left. A peer that really didn't answer
 * loses one turn of the loop more, not a timeout more.
 *
 * @module
 */

/**
 * Like `setTimeout(onExpired, delay, argument)`, except that `onExpired`
 * runs in the check phase after the timer fires, once the sockets' pending
 * reads were handled; it must check whether what it waited for came
 * meanwhile. Clearing the returned timer after it fired doesn't stop
 * `onExpired`.
 */
export function setDeadline<T>(
  onExpired: (argument: T) => void,
  delay: number,
  argument: T,
): NodeJS.Timeout {
  return setTimeout(afterPendingReads, delay, onExpired, argument);
}

function afterPendingReads<T>(onExpired: (argument: T) => void, argument: T): void {
  setImmediate(onExpired, argument);
}
