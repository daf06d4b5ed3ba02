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
 * waits for the check phase, which comes right after a poll phase: what
 * arrived by then has been read and handled, and the callback decides on the
 * state it left.
 *
 * Two turns of the loop, not one: a read that returns fewer bytes than it
 * asked for ends libuv's reading of that socket for the turn, so a FIN that
 * came right behind the last bytes (a close frame, then the TCP close) is
 * read in the next poll. A peer that really didn't answer is noticed two
 * turns of the loop later, not a timeout later.
 *
 * What arrived is not always read by then: not on a socket paused for
 * backpressure (a full message queue), not past the 32 reads libuv makes of
 * one socket per poll (about 2 MiB behind a backlog), and not when several
 * round trips remain (a TLS handshake). Those cases behave as before: the
 * timer's verdict stands.
 *
 * @module
 */

/**
 * Like `setTimeout(onExpired, delay, argument)`, except that `onExpired`
 * runs in the second check phase after the timer fires, once the sockets'
 * pending reads were handled; it must check whether what it waited for came
 * meanwhile. Clearing the returned timer after it fired doesn't stop
 * `onExpired`, which is also given the timer: the owner may have armed
 * another one meanwhile, and only the latest should act.
 */
export function setDeadline<T>(
  onExpired: (argument: T, timer: NodeJS.Timeout) => void,
  delay: number,
  argument: T,
): NodeJS.Timeout {
  const deadline: Deadline<T> = { onExpired, argument, timer: null };
  const timer = setTimeout(afterPendingReads<T>, delay, deadline);
  deadline.timer = timer;
  return timer;
}

interface Deadline<T> {
  readonly onExpired: (argument: T, timer: NodeJS.Timeout) => void;
  readonly argument: T;
  timer: NodeJS.Timeout | null;
}

function afterPendingReads<T>(deadline: Deadline<T>): void {
  setImmediate(inNextCheckPhase<T>, deadline);
}

function inNextCheckPhase<T>(deadline: Deadline<T>): void {
  // Queued from a check phase, an immediate runs in the next turn's.
  setImmediate(expire<T>, deadline);
}

function expire<T>(deadline: Deadline<T>): void {
  deadline.onExpired(deadline.argument, deadline.timer!);
}
