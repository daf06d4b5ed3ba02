/**
 * Credentials out of URIs that end up in messages: a URI given as
 * `ws://user:password@host/` for HTTP Basic authentication, or as
 * `wss://TOKEN@host/` with a token for a user name, shows up in error
 * messages, which end up on screens, in logs and in bug reports.
 *
 * @module
 */

/** What stands for a redacted user name or password. */
const REDACTED = "***";

/**
 * `uri` with the secret part of its user info replaced by `***`:
 *
 * - the password, keeping the user name, which tells which credentials were
 *   used: `ws://alice:***@127.0.0.1:8001/`;
 * - the user name too when the password is missing or empty, since the user
 *   name is then likely a token (`wss://TOKEN@host/`, or `TOKEN:` as some
 *   APIs take it): `wss://***@host/`, `wss://***:***@host/`.
 *
 * Works on any string, a valid URI or not, since an invalid one is printed
 * in the error that says so; the user info is found as `parseUri()` finds
 * it, before the last `@` of the authority, which runs from `//` to the first
 * `/`, `?` or `#` (a fragment may hold `@` and `:` too), and split at its
 * first `:`. When that authority has no `@` and a port that is not a number,
 * as when a password holds an unencoded `/`, `?` or `#`
 * (`ws://alice:s/cret@host/`), the URI is invalid and the user info is taken
 * to end at its last `@`. A string without user info, or
 * with an empty one (`ws://@host/`), comes back as it is.
 */
export function redactUri(uri: string): string {
  const slashes = uri.indexOf("//");
  if (slashes === -1) return uri;
  const start = slashes + 2;
  let end = start;
  while (end < uri.length && uri[end] !== "/" && uri[end] !== "?" && uri[end] !== "#") end++;
  let at = uri.lastIndexOf("@", end - 1);
  if (at < start) {
    // A password holding a "/", "?" or "#" that was not percent-encoded ends
    // the authority early, in a port that is not a number: the URI is
    // invalid, and its last "@" is the likeliest end of the user info.
    if (!hasInvalidPort(uri.slice(start, end))) return uri;
    at = uri.lastIndexOf("@");
    if (at < start) return uri;
  }
  const userInfo = uri.slice(start, at);
  const colon = userInfo.indexOf(":");
  const user = colon === -1 ? userInfo : userInfo.slice(0, colon);
  const password = colon === -1 ? "" : userInfo.slice(colon + 1);
  const shownUser = password === "" && user !== "" ? REDACTED : user;
  const shown = colon === -1 ? shownUser : `${shownUser}:${REDACTED}`;
  return `${uri.slice(0, start)}${shown}${uri.slice(at)}`;
}

/** Whether `authority` (`host[:port]`, without user info) has a port that is not digits. */
function hasInvalidPort(authority: string): boolean {
  const colon = authority.lastIndexOf(":");
  // An IPv6 literal's colons are inside its brackets.
  if (colon === -1 || colon < authority.lastIndexOf("]")) return false;
  return !/^[0-9]*$/.test(authority.slice(colon + 1));
}

/**
 * `uri`, a URI as someone typed it, as {@link redactUri} redacts it; and the
 * user info of one typed without its scheme too, as in `alice:secret@host:8001`
 * or `TOKEN@host`, which `redactUri()` would miss, finding no `//`: the start
 * counts as the start of an authority, as well as any `//`. In a URI with a
 * scheme, the text before the first `/` is `scheme:`, which holds no user
 * info, so such a URI comes out as `redactUri()` gives it. For the messages
 * that quote what was given as a URI, such as `InvalidUri`'s.
 */
export function redactTypedUri(uri: string): string {
  return redactUri(redactUri(`//${uri}`).slice(2));
}
