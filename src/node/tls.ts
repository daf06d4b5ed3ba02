/**
 * TLS for `wss://`: the defaults of both sides, and clear errors when the
 * client does not trust the server's certificate, or when the server does
 * not speak TLS.
 *
 * @module
 */

import * as net from "node:net";
import type * as tls from "node:tls";
import { TLS_ANSWER } from "../core/client.js";
import { InvalidMessage, InvalidStatus, SecurityError } from "../core/errors.js";
import { TLS_EXPECTED } from "../core/tls-expected.js";
import { formatUri, type WebSocketUri } from "../core/uri.js";
import { resolveDuration } from "./connection.js";

/**
 * Codes of the certificate checks that fail a TLS connection: OpenSSL's
 * verification errors as Node names them, and Node's own host name check.
 */
const CERTIFICATE_ERRORS = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_DECRYPT_CERT_SIGNATURE",
  "UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY",
  "CERT_SIGNATURE_FAILURE",
  "CERT_NOT_YET_VALID",
  "CERT_HAS_EXPIRED",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "CERT_CHAIN_TOO_LONG",
  "CERT_REVOKED",
  "INVALID_CA",
  "PATH_LENGTH_EXCEEDED",
  "INVALID_PURPOSE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "HOSTNAME_MISMATCH",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** Codes meaning that no trusted CA vouches for the certificate. */
const UNKNOWN_ISSUER_ERRORS = new Set([
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
]);

/**
 * When `error` says the server's certificate was refused, a
 * {@link SecurityError} naming the server, the reason and the OpenSSL code,
 * with `error` as its cause; otherwise `null`.
 */
export function certificateError(error: unknown, uri: WebSocketUri): SecurityError | null {
  return untrustedCertificate(error, formatUri(uri), "tls.ca");
}

/**
 * Like {@link certificateError}, for the certificate of an `https://` proxy,
 * `proxy` as it may be printed (its credentials hidden): the hint names the
 * `proxyTls` option, since `tls` is for the WebSocket server.
 */
export function proxyCertificateError(error: unknown, proxy: string): SecurityError | null {
  return untrustedCertificate(error, `proxy ${proxy}`, "proxyTls.ca");
}

function untrustedCertificate(
  error: unknown,
  whose: string,
  caOption: "tls.ca" | "proxyTls.ca",
): SecurityError | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || !CERTIFICATE_ERRORS.has(code)) return null;
  // Node 22.15 and later add advice of their own to OpenSSL's reason ("unable
  // to verify the first certificate; if the root CA is installed locally, try
  // running Node.js with --use-system-ca"): it goes after ours, so that the
  // code stays beside the reason it names.
  const message = (error as Error).message;
  const adviceAt = message.indexOf("; ");
  const reason = adviceAt < 0 ? message : message.slice(0, adviceAt);
  const nodeAdvice = adviceAt < 0 ? "" : message.slice(adviceAt);
  const hint = UNKNOWN_ISSUER_ERRORS.has(code)
    ? `; pass the certificate of the CA that signed it in the ${caOption} option`
    : "";
  return new SecurityError(
    `TLS certificate of ${whose} isn't trusted: ${reason} (${code})${hint}${nodeAdvice}`,
    {
      cause: error,
    },
  );
}

/**
 * OpenSSL's reasons for a first record from the server that is no TLS
 * record: a plain HTTP answer ("HTTP/1.1 400") has no TLS version where a
 * record header has one, or a length no record has. Node puts them in the
 * error's code when reading, and only in its message (code `EPROTO`) when
 * writing. "unknown protocol" is OpenSSL 1.0's word for the same, and
 * "data length too long" the word of OpenSSL 3.2's record layer and later
 * (Node 22 and 24) for a length no record has.
 */
const NOT_TLS =
  /\b(wrong version number|packet length too long|data length too long|unknown protocol)\b/i;
const NOT_TLS_CODES = new Set([
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_PACKET_LENGTH_TOO_LONG",
  "ERR_SSL_DATA_LENGTH_TOO_LONG",
  "ERR_SSL_UNKNOWN_PROTOCOL",
]);

/**
 * When `error`, the failure of the TLS handshake with a `wss://` server,
 * says the server's answer isn't TLS, an {@link InvalidMessage} that says
 * so, with `error` as its cause; otherwise `null`.
 */
export function notTlsError(error: unknown): InvalidMessage | null {
  if (!(error instanceof Error)) return null;
  const code = (error as { code?: unknown }).code;
  const reason = NOT_TLS.exec(error.message)?.[1];
  if (reason === undefined && !(typeof code === "string" && NOT_TLS_CODES.has(code))) return null;
  return new InvalidMessage(`${NOT_TLS_MESSAGE} (${reason ?? code})${NOT_TLS_QUESTION}`, 400, {
    cause: error,
  });
}

/** How {@link notTlsError}'s message starts. */
const NOT_TLS_MESSAGE = "TLS handshake failed: the server did not answer with TLS";
/** How {@link notTlsError}'s message ends: the CLI answers the question with the URI to try. */
export const NOT_TLS_QUESTION = "; is it a plain ws:// server?";

/**
 * Whether `error` says that the URI's scheme doesn't match the server: a
 * `wss://` server that didn't answer with TLS, or a `ws://` one that did, or
 * that answered that it expects TLS (see `expectsTls()`). Retrying won't
 * change that.
 */
export function isSchemeMismatch(error: unknown): boolean {
  if (error instanceof InvalidStatus) {
    return error.response.status === 400 && error.hint === TLS_EXPECTED;
  }
  return (
    error instanceof InvalidMessage &&
    (error.message.startsWith(NOT_TLS_MESSAGE) || error.message.endsWith(TLS_ANSWER))
  );
}

/**
 * `options` without the properties whose value is `undefined`, to spread over
 * defaults: an explicit `undefined` (a setting read from the environment, say)
 * means the default, as for every option of this package, while spread it
 * would replace the default, and Node takes `servername: undefined` for no
 * SNI, `ALPNProtocols: undefined` for no ALPN, `host: undefined` for
 * localhost.
 */
export function definedOptions<T extends object>(options: T | undefined): Partial<T> {
  const defined: Partial<T> = {};
  if (options === undefined) return defined;
  for (const name of Object.keys(options) as (keyof T & string)[]) {
    const value = options[name];
    if (value !== undefined) defined[name] = value;
  }
  return defined;
}

/**
 * `tls.connect()` options for the server of `uri`, with the caller's on top
 * (those given as `undefined` leave the defaults).
 * `extra` says where to connect: a `port`, a Unix socket `path` or a tunnel `socket`.
 */
export function clientTlsOptions(
  uri: WebSocketUri,
  extra: tls.ConnectionOptions,
  options: tls.ConnectionOptions | undefined,
): tls.ConnectionOptions {
  const defaults: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
    ...extra,
    // tls.connect() takes it, though its type doesn't say so: the closing
    // handshake needs each side to half-close on its own.
    allowHalfOpen: true,
    // Used for the certificate's host name check even when the socket is a
    // tunnel or a Unix socket.
    host: uri.host,
    // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in
    // "HostName"", which is "represented as a byte string using ASCII
    // encoding without a trailing dot".
    ...(net.isIP(uri.host) ? {} : { servername: uri.host.replace(/\.$/, "") }),
    // RFC 6455 §4.1: the handshake is an HTTP/1.1 request; a server that
    // negotiates protocols by ALPN must not pick HTTP/2.
    ALPNProtocols: ["http/1.1"],
  };
  return { ...defaults, ...definedOptions(options) };
}

/**
 * `tls.createServer()` options: the caller's, over defaults suited to
 * WebSocket (those given as `undefined` leave the defaults).
 *
 * @throws RangeError for an `openTimeout` a timer can't wait for.
 */
export function serverTlsOptions(
  options: tls.TlsOptions,
  openTimeout: number | null,
): tls.TlsOptions {
  // Infinity means no limit, as null does: Node would time out after 1 ms.
  const handshakeTimeout = resolveDuration("openTimeout", openTimeout);
  return {
    ALPNProtocols: ["http/1.1"],
    // Bounds the TLS handshake like the WebSocket one: a client that stalls
    // mid-handshake does not hold a socket for Node's default 120 s. Node only
    // reports the timeout (tlsClientError); the server's listener drops the socket.
    ...(handshakeTimeout === null ? {} : { handshakeTimeout }),
    ...definedOptions(options),
  };
}

/**
 * The TCP socket under a `TLSSocket` of a `tls.Server`: the one the server
 * emitted as `connection`. Node keeps it as `_parent` and offers no public
 * way to it; `null` if that ever changes.
 */
export function tcpSocketOf(socket: tls.TLSSocket): net.Socket | null {
  const parent = (socket as { _parent?: unknown })._parent;
  return parent instanceof net.Socket ? parent : null;
}
