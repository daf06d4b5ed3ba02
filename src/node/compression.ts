/**
 * The `compression` option of `connect()` and `serve()`: turns the
 * user-facing setting into the extension factories offered or accepted
 * during the opening handshake.
 *
 * @module
 */

import type { ClientExtensionFactory, ServerExtensionFactory } from "../core/extensions/base.js";

/** Compression settings shared by {@link connect} and {@link serve}. */
export interface CompressionOptions {
  /**
   * `"deflate"` negotiates permessage-deflate (RFC 7692) when the peer
   * supports it; `null` disables compression. Default: `"deflate"`.
   */
  compression?: "deflate" | null;
}

/** The extensions a client offers: the user's own, then compression's. */
export function clientExtensions(
  options: CompressionOptions & { extensions?: readonly ClientExtensionFactory[] },
): ClientExtensionFactory[] {
  // permessage-deflate is not implemented yet; see issue #5.
  return [...(options.extensions ?? [])];
}

/** The extensions a server accepts: the user's own, then compression's. */
export function serverExtensions(
  options: CompressionOptions & { extensions?: readonly ServerExtensionFactory[] },
): ServerExtensionFactory[] {
  return [...(options.extensions ?? [])];
}
