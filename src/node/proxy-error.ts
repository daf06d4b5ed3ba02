/**
 * The error of a proxy that refuses to open a tunnel or answers wrongly.
 *
 * @module
 */

import { InvalidHandshake } from "../core/errors.js";

/** A proxy refused to open the tunnel or answered something unexpected. */
export class ProxyError extends InvalidHandshake {
  override readonly code: string = "ERR_PROXY";

  constructor(
    message: string,
    /** The HTTP status of an HTTP proxy's refusal, e.g. 407; `null` otherwise. */
    readonly status: number | null = null,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A proxy URL without its credentials, for messages and logs. */
export function redactProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}
