/**
 * What starting a benchmark server returns.
 *
 * @module
 */

/** A server listening on loopback. */
export interface Started {
  port: number;
  /** Facts to print next to the results, e.g. which native helpers loaded. */
  notes: string[];
}

/** Loopback only: the suite never listens on a public interface. */
export const HOST = "127.0.0.1";
