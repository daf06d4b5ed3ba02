/**
 * Credentials out of what the CLI prints: the `Connected to` line and errors
 * quote URIs, which may carry a password or a token (see `redactUri()`).
 *
 * @module
 */

import { redactTypedUri } from "../core/redact-uri.js";

/**
 * `text`, a message that may quote `uri` (`<uri> isn't a valid URI: …`),
 * with `uri` redacted wherever it appears, as `redactTypedUri()` does.
 */
export function redactUriIn(text: string, uri: string): string {
  const redacted = redactTypedUri(uri);
  return redacted === uri ? text : text.replaceAll(uri, redacted);
}
