/**
 * The resource a request target names (RFC 9112 §3.2), for the WebSocket
 * handshake (RFC 6455 §4.2.1 item 1: a /resource name/, "or an absolute
 * HTTP/HTTPS URI containing the /resource name/") and for routing.
 *
 * @module
 */

/**
 * The scheme and authority of an absolute-form request target (RFC 9112
 * §3.2.2), up to its path or query: RFC 3986 §3.2 ends the authority at the
 * next "/", "?" or "#"; schemes are case-insensitive (§3.1). RFC 6455 §4.2.1
 * names http and https; ws and wss are the same resources, and RFC 9112's
 * absolute-form is any absolute URI, so a client may well send its WebSocket
 * URI as is. Other schemes name other resources: they match nothing.
 *
 * The host must not be empty (`ws:///chat`, `ws://user@/chat`, `ws://:80/`):
 * RFC 9110 §4.2.1, "A recipient that processes such a URI reference MUST
 * reject it as invalid"; it matches nothing either.
 */
const ABSOLUTE_FORM_ORIGIN = /^(?:https?|wss?):\/\/(?:[^/?#@]*@)?(?=[^/?#:@])[^/?#@]*(?=[/?#]|$)/i;

/**
 * The path of a request target, without its query, as sent (still
 * percent-encoded); `null` for a target that names no resource here: another
 * scheme, an empty host, the asterisk or authority form.
 */
export function requestTargetPath(target: string): string | null {
  const origin = ABSOLUTE_FORM_ORIGIN.exec(target);
  if (origin !== null) {
    // RFC 6455 §4.2.1 item 1: the Request-URI may "be an absolute http/https
    // URI that, when parsed, has a /resource name/" (RFC 9112 §3.2.2: "A
    // server MUST accept the absolute-form"): its path, as sent. RFC 9112
    // §3.2.1: an empty path stands for "/". The host isn't checked: route()
    // doesn't know the server's names (nor reads Host), and the request
    // parser refused an empty one (RFC 9110 §4.2.1).
    target = target.slice(origin[0].length);
    if (!target.startsWith("/")) target = `/${target}`;
  }
  // RFC 9112 §3.2.1: origin-form = absolute-path [ "?" query ].
  const query = target.indexOf("?");
  const path = query === -1 ? target : target.slice(0, query);
  return path.startsWith("/") ? path : null;
}
