/**
 * The library's version, for the `User-Agent` and `Server` headers.
 * A test checks it against package.json.
 *
 * @module
 */

/** websockets-ts's version. */
export const VERSION = "0.1.0";

/** Default `User-Agent` of clients and `Server` of servers. */
export const USER_AGENT = `websockets-ts/${VERSION}`;
