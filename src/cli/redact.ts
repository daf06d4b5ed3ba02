/**
 * Passwords out of what the CLI prints: a URI given as
 * `ws://user:password@host/` for HTTP Basic authentication shows up in the
 * `Connected to` line and in errors, which end up on screens, in logs and in
 * bug reports.
 *
 * @module
 */

/**
 * `uri` with the password of its user info replaced by `***`:
 * `ws://alice:***@127.0.0.1:8001/`. The user name stays, to tell which
 * credentials were used. Works on any string, a valid URI or not, since an
 * invalid one is printed in the error that says so; the user info is found
 * as `parseUri()` finds it, before the last `@` of the authority, which runs
 * from `//` to the first `/` or `?`. A string without both a user name and a
 * password comes back as it is.
 */
export function redactUri(uri: string): string {
  const slashes = uri.indexOf("//");
  if (slashes === -1) return uri;
  const start = slashes + 2;
  let end = start;
  while (end < uri.length && uri[end] !== "/" && uri[end] !== "?") end++;
  const at = uri.lastIndexOf("@", end - 1);
  if (at < start) return uri;
  const colon = uri.indexOf(":", start);
  if (colon === -1 || colon > at) return uri;
  return `${uri.slice(0, colon + 1)}***${uri.slice(at)}`;
}

/**
 * `text`, a message that may quote `uri` (`<uri> isn't a valid URI: …`),
 * with `uri` redacted wherever it appears.
 */
export function redactUriIn(text: string, uri: string): string {
  const redacted = redactUri(uri);
  return redacted === uri ? text : text.replaceAll(uri, redacted);
}
