/**
 * The first line of an HTTP/1.1 message (RFC 9112 §3, §4): the request-line
 * and the status-line, and the grammar of their parts, which `Request` and
 * `Response` check as well.
 *
 * @module
 */

import { quoteText } from "./control-characters.js";
import { InvalidMessage } from "./errors.js";
import { isFieldValueChar, isToken } from "./field-syntax.js";

// RFC 9112 §2.3: HTTP-version = HTTP-name "/" DIGIT "." DIGIT; HTTP-name is case-sensitive.
export function isHttpVersion(s: string): boolean {
  return (
    s.length === 8 &&
    s.startsWith("HTTP/") &&
    isDigit(s.charCodeAt(5)) &&
    s.charCodeAt(6) === 0x2e &&
    isDigit(s.charCodeAt(7))
  );
}

export function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/**
 * HTTP/1.0, HTTP/1.1 and the later minor versions of HTTP/1 that RFC 9110
 * §2.5 reads as 1.1: "A recipient that receives a message with a major
 * version number that it implements and a minor version number higher than
 * what it implements SHOULD process the message as if it were in the highest
 * minor version within that major version to which the recipient is
 * conformant."
 */
function isSupportedVersion(version: string): boolean {
  return version.startsWith("HTTP/1.");
}

/** RFC 9112 §3.2: the request-target is visible ASCII; anything else is rejected. */
export function isRequestTarget(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/** RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ) */
export function isReasonPhrase(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isFieldValueChar(s.charCodeAt(i))) return false;
  return true;
}

/**
 * An absolute-form target (RFC 9112 §3.2.2) whose authority has no host:
 * `http:///x`, `http://user@/x`, `http://:80/x`. RFC 9110 §4.2.1: "A sender
 * MUST NOT generate an "http" URI with an empty host identifier. A recipient
 * that processes such a URI reference MUST reject it as invalid." §4.2.2 says
 * the same of "https", and RFC 6455 §3 builds ws and wss URIs on a host too.
 */
const EMPTY_HOST_ORIGIN = /^(?:https?|wss?):\/\/(?:[^/?#@]*@)?(?::[^/?#]*)?(?:[/?#]|$)/i;

/** RFC 3986 §3: absolute-URI = scheme ":" hier-part [ "?" query ], with scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
const ABSOLUTE_URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * Whether `target` has one of the forms of RFC 9112 §3.2 that `method` may
 * use: origin-form (`/chat?room=1`) and absolute-form (`http://host/chat`)
 * for any method, asterisk-form (`*`) for OPTIONS alone (§3.2.4), and
 * authority-form (`host:443`), which reads as an absolute URI too, for
 * CONNECT (§3.2.3). RFC 6455 §4.2.1 item 1 wants a resource name, or an
 * absolute URI that holds one: `GET *` or `GET chat` names none.
 */
function hasTargetForm(method: string, target: string): boolean {
  if (target.charCodeAt(0) === 0x2f) return true;
  if (target === "*") return method === "OPTIONS";
  return ABSOLUTE_URI_SCHEME.test(target);
}

/** RFC 9112 §3: request-line = method SP request-target SP HTTP-version */
export function parseRequestLine(line: string): [method: string, target: string, version: string] {
  const parts = line.split(" ");
  if (parts.length !== 3) throw new InvalidMessage(`malformed request line: ${quoteText(line)}`);
  const [method, target, version] = parts as [string, string, string];
  if (!isToken(method)) throw new InvalidMessage(`invalid request method: ${quoteText(method)}`);
  if (!isRequestTarget(target)) {
    throw new InvalidMessage(`invalid request target: ${quoteText(target)}`);
  }
  if (!hasTargetForm(method, target)) {
    throw new InvalidMessage(
      `invalid request target: ${quoteText(target)} is neither a path nor an absolute URI`,
    );
  }
  if (EMPTY_HOST_ORIGIN.test(target)) {
    throw new InvalidMessage(`invalid request target: ${quoteText(target)} has no host`);
  }
  if (!isHttpVersion(version)) {
    throw new InvalidMessage(`invalid HTTP version: ${quoteText(version)}`);
  }
  if (!isSupportedVersion(version)) {
    throw new InvalidMessage(`unsupported HTTP version: ${version}`, 505);
  }
  // The constants rather than the parsed copies, which each request would keep.
  return [
    method === "GET" ? "GET" : method,
    target,
    version === "HTTP/1.0" ? "HTTP/1.0" : "HTTP/1.1",
  ];
}

/** RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ] */
export function parseStatusLine(line: string): [status: number, reason: string] {
  const version = line.slice(0, 8);
  if (!isHttpVersion(version) || line.charCodeAt(8) !== 0x20) {
    throw new InvalidMessage(`malformed status line: ${quoteText(line)}`);
  }
  if (!isSupportedVersion(version)) {
    throw new InvalidMessage(`unsupported HTTP version: ${version}`, 505);
  }
  const code = line.slice(9, 12);
  // "HTTP/1.1 101" without the SP before an empty reason is accepted, as
  // RFC 9112 §4 recommends: "A client SHOULD ignore the reason-phrase content".
  if (
    !(isDigit(code.charCodeAt(0)) && isDigit(code.charCodeAt(1)) && isDigit(code.charCodeAt(2))) ||
    (line.length > 12 && line.charCodeAt(12) !== 0x20)
  ) {
    throw new InvalidMessage(`malformed status line: ${quoteText(line)}`);
  }
  const status = Number(code);
  if (status < 100 || status > 599) throw new InvalidMessage(`invalid status code: ${status}`);
  // RFC 9110 §7.8: Upgrade "is not supported in HTTP/1.0"; a 101 in an
  // HTTP/1.0 response cannot complete the handshake RFC 6455 §4.1 describes
  // (Python websockets and browsers refuse it too). Other statuses are still
  // read, so that a 403 from an HTTP/1.0 proxy reports as a 403.
  if (status === 101 && version === "HTTP/1.0") {
    throw new InvalidMessage("101 Switching Protocols in an HTTP/1.0 response");
  }
  const reason = line.slice(13);
  if (!isReasonPhrase(reason)) throw new InvalidMessage("invalid character in reason phrase");
  return [status, reason];
}
