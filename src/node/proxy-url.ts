/**
 * Proxy URLs in messages and logs.
 *
 * @module
 */

/** A proxy URL without its credentials, for messages and logs. */
export function redactProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}
