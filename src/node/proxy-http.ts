/**
 * Tunnels through an HTTP proxy with the CONNECT method (RFC 9110 §9.3.6).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type * as net from "node:net";
import { buildBasicAuthorization } from "../core/basic-auth.js";
import { quoteText } from "../core/control-characters.js";
import { PayloadTooBig, ProxyError } from "../core/errors.js";
import type { WebSocketUri } from "../core/uri.js";
import { redactProxy } from "./proxy-url.js";
import { SocketReader } from "./socket-reader.js";

/** Largest response head accepted from a proxy. */
const MAX_HEAD_SIZE = 64 * 1024;

/**
 * Sends `CONNECT host:port` on `socket`, connected to `proxy`, and resolves
 * with the socket, paused, once the proxy answers 2xx.
 *
 * @throws ProxyError for any other answer.
 */
export async function httpConnect(
  socket: net.Socket,
  uri: WebSocketUri,
  proxy: URL,
  userAgent: string | null,
  signal: AbortSignal,
): Promise<net.Socket> {
  const reader = new SocketReader(socket, signal, `proxy ${redactProxy(proxy)}`);
  // RFC 9110 §9.3.6: "the request-target consists of only the host name and
  // port number of the tunnel destination, separated by a colon".
  const host = uri.host.includes(":") ? `[${uri.host}]` : uri.host;
  const authority = `${host}:${uri.port}`;
  let head = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
  // A password alone (http://:token@proxy) is sent too, as for SOCKS5.
  if (proxy.username !== "" || proxy.password !== "") {
    const credentials = buildBasicAuthorization(
      decodeURIComponent(proxy.username),
      decodeURIComponent(proxy.password),
    );
    // RFC 9110 §11.7.2: Proxy-Authorization carries the credentials for the proxy.
    head += `Proxy-Authorization: ${credentials}\r\n`;
  }
  if (userAgent !== null) head += `User-Agent: ${userAgent}\r\n`;
  socket.write(Buffer.from(`${head}\r\n`, "latin1"));

  let status: number;
  do {
    status = await readStatus(reader, proxy);
    // RFC 9110 §15.2: "A client MUST be able to parse one or more 1xx
    // responses received prior to a final response, even if the client does
    // not expect one. A user agent MAY ignore unexpected 1xx responses."
  } while (status >= 100 && status <= 199 && status !== 101);
  // RFC 9110 §9.3.6: "Any 2xx (Successful) response indicates that the sender
  // (and all inbound proxies) will switch to tunnel mode immediately after the
  // response header section".
  if (status < 200 || status > 299) {
    throw new ProxyError(`proxy ${redactProxy(proxy)} refused the tunnel: HTTP ${status}`, status);
  }
  return reader.release();
}

/** Reads the head of one response from the proxy and returns its status code. */
async function readStatus(reader: SocketReader, proxy: URL): Promise<number> {
  let lines: string[];
  try {
    lines = await reader.readHead(MAX_HEAD_SIZE);
  } catch (error) {
    // Aborts, socket errors and a proxy that hung up speak for themselves.
    if (!(error instanceof PayloadTooBig)) throw error;
    throw new ProxyError(`invalid response from proxy ${redactProxy(proxy)}`, null, {
      cause: error,
    });
  }
  // RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
  const match = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? "");
  if (match === null) {
    throw new ProxyError(
      `invalid response from proxy ${redactProxy(proxy)}: ${quoteLine(lines[0] ?? "")}`,
    );
  }
  return Number(match[1]);
}

/** Longest part of a proxy's line quoted in an error message. */
const MAX_QUOTED_LINE = 100;

/**
 * A line the proxy sent, for an error message: quoted, so that control
 * characters (terminal escapes, line breaks) come out escaped, and cut short:
 * it may be nearly 64 KiB long, and messages end up in terminals and logs.
 */
function quoteLine(line: string): string {
  return quoteText(line.length > MAX_QUOTED_LINE ? `${line.slice(0, MAX_QUOTED_LINE)}…` : line);
}
