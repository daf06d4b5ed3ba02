/**
 * Credentials out of what the CLI prints: the `Connected to` line and errors
 * quote URIs, which may carry a password or a token (see `redactUri()`).
 *
 * @module
 */

import { redactTypedUri } from "../core/redact-uri.js";

/**
 * `uri`, a URI given on the command line, as `redactUri()` redacts it; and
 * the user info of one typed without its scheme too, as in
 * `alice:secret@host:8001` or `TOKEN@host`: `redactUri()` looks for it after
 * `//`, and the error that says that the scheme is missing quotes the URI.
 * So the start counts as the start of an authority, as well as any `//`.
 * In a URI with a scheme, the text before the first `/` is `scheme:`, which
 * holds no user info: it comes out as `redactUri()` gives it.
 */
export function redactArgument(uri: string): string {
  return redactTypedUri(uri);
}

/**
 * `text`, a message that may quote `uri` (`<uri> isn't a valid URI: …`),
 * with `uri` redacted wherever it appears, as {@link redactArgument} does.
 */
export function redactUriIn(text: string, uri: string): string {
  const redacted = redactArgument(uri);
  return redacted === uri ? text : text.replaceAll(uri, redacted);
}
