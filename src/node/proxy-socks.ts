/**
 * Tunnels through a SOCKS5 proxy (RFC 1928), with username/password
 * authentication (RFC 1929) when the proxy URL has user info.
 *
 * @module
 */

import * as dns from "node:dns";
import * as net from "node:net";
import { describeValue } from "../core/describe-value.js";
import { ProxyError } from "../core/errors.js";
import type { WebSocketUri } from "../core/uri.js";
import type { TcpOptions } from "./client.js";
import { redactProxy } from "./proxy-url.js";
import { SocketReader } from "./socket-reader.js";

const SOCKS_VERSION = 0x05;
/** RFC 1929 §2: "The VER field contains the current version of the subnegotiation, which is X'01'." */
const AUTH_VERSION = 0x01;

/** RFC 1928 §3: METHOD values. */
const Method = {
  NO_AUTHENTICATION: 0x00,
  USERNAME_PASSWORD: 0x02,
  NO_ACCEPTABLE_METHODS: 0xff,
} as const;

/** RFC 1928 §4: CMD values; only CONNECT is used. */
const Command = { CONNECT: 0x01 } as const;

/** RFC 1928 §5: ATYP values. */
const AddressType = { IPV4: 0x01, DOMAIN_NAME: 0x03, IPV6: 0x04 } as const;

/** RFC 1928 §6: meaning of the REP field, indexed by its value. */
const REPLIES = [
  "succeeded",
  "general SOCKS server failure",
  "connection not allowed by ruleset",
  "network unreachable",
  "host unreachable",
  "connection refused",
  "TTL expired",
  "command not supported",
  "address type not supported",
] as const;

/**
 * RFC 1928 §6: the REP values that say the server is down or out of reach
 * for now, as ECONNREFUSED or EHOSTUNREACH do on a direct connection:
 * general failure, network unreachable, host unreachable, connection
 * refused, TTL expired. The others (not allowed by ruleset, command or
 * address type not supported) won't change by trying again.
 */
const TRANSIENT_REPLIES = new Set([0x01, 0x03, 0x04, 0x05, 0x06]);

const textEncoder = new TextEncoder();

/**
 * Asks the SOCKS5 proxy `proxy`, connected on `socket`, to connect to the
 * server of `uri`, and resolves with the socket, paused, once it has.
 * With `socks5h://` the proxy resolves the host name; with `socks5://` the
 * client does, with the `lookup`, `family` and `hints` of `tcp` as a direct
 * connection would.
 *
 * @throws ProxyError when the proxy refuses or answers wrongly; a transient
 *   one when it could not reach the server (see {@link TRANSIENT_REPLIES}).
 */
export async function socks5Connect(
  socket: net.Socket,
  uri: WebSocketUri,
  proxy: URL,
  signal: AbortSignal,
  tcp?: TcpOptions,
): Promise<net.Socket> {
  const name = `SOCKS5 proxy ${redactProxy(proxy)}`;
  const reader = new SocketReader(socket, signal, name);
  const fail = (why: string, transient = false) =>
    new ProxyError(`${name} ${why}`, null, { transient });
  const authenticate = proxy.username !== "" || proxy.password !== "";

  // RFC 1928 §3: VER | NMETHODS | METHODS
  socket.write(
    authenticate
      ? new Uint8Array([SOCKS_VERSION, 2, Method.NO_AUTHENTICATION, Method.USERNAME_PASSWORD])
      : new Uint8Array([SOCKS_VERSION, 1, Method.NO_AUTHENTICATION]),
  );
  const [version, method] = await reader.readExact(2);
  if (version !== SOCKS_VERSION) throw fail("answered with an invalid version");
  if (method === Method.USERNAME_PASSWORD && authenticate) {
    await sendCredentials(socket, reader, proxy, fail);
  } else if (method === Method.NO_ACCEPTABLE_METHODS) {
    throw fail(
      authenticate
        ? "accepted none of the authentication methods offered"
        : "requires authentication; put the credentials in the proxy URL",
    );
  } else if (method !== Method.NO_AUTHENTICATION) {
    throw fail(`selected an authentication method that wasn't offered: ${method}`);
  }

  // RFC 1928 §4: VER | CMD | RSV | ATYP | DST.ADDR | DST.PORT
  const address = await destinationAddress(
    uri.host,
    proxy.protocol === "socks5h:",
    tcp,
    signal,
    fail,
  );
  const request = new Uint8Array(3 + address.length + 2);
  request.set([SOCKS_VERSION, Command.CONNECT, 0x00], 0);
  request.set(address, 3);
  // "DST.PORT desired destination port in network octet order"
  request[request.length - 2] = uri.port >> 8;
  request[request.length - 1] = uri.port & 0xff;
  socket.write(request);

  // RFC 1928 §6: VER | REP | RSV | ATYP | BND.ADDR | BND.PORT
  const [replyVersion, reply, , addressType] = await reader.readExact(4);
  if (replyVersion !== SOCKS_VERSION) throw fail("answered with an invalid version");
  if (reply !== 0x00) {
    throw fail(
      `failed to connect to ${uri.host}:${uri.port}: ${REPLIES[reply] ?? `error ${reply}`}`,
      TRANSIENT_REPLIES.has(reply!),
    );
  }
  let boundAddressLength: number;
  if (addressType === AddressType.IPV4) boundAddressLength = 4;
  else if (addressType === AddressType.IPV6) boundAddressLength = 16;
  else if (addressType === AddressType.DOMAIN_NAME)
    boundAddressLength = (await reader.readExact(1))[0]!;
  else throw fail(`answered with an invalid address type: ${addressType}`);
  // The address and port the proxy connected from are of no use to the client.
  await reader.readExact(boundAddressLength + 2);
  return reader.release();
}

/** RFC 1929 §2: VER | ULEN | UNAME | PLEN | PASSWD, answered by VER | STATUS. */
async function sendCredentials(
  socket: net.Socket,
  reader: SocketReader,
  proxy: URL,
  fail: (why: string) => ProxyError,
): Promise<void> {
  const username = textEncoder.encode(decodeURIComponent(proxy.username));
  const password = textEncoder.encode(decodeURIComponent(proxy.password));
  // ULEN and PLEN are one octet each.
  if (username.length > 255 || password.length > 255) {
    throw fail("credentials are longer than 255 bytes");
  }
  const message = new Uint8Array(3 + username.length + password.length);
  message[0] = AUTH_VERSION;
  message[1] = username.length;
  message.set(username, 2);
  message[2 + username.length] = password.length;
  message.set(password, 3 + username.length);
  socket.write(message);
  const [, status] = await reader.readExact(2);
  // RFC 1929 §2: "A STATUS field of X'00' indicates success."
  if (status !== 0x00) throw fail("rejected the credentials");
}

/** ATYP and DST.ADDR for `host`: a domain name when the proxy resolves it, else an address. */
async function destinationAddress(
  host: string,
  remoteDns: boolean,
  tcp: TcpOptions | undefined,
  signal: AbortSignal,
  fail: (why: string) => ProxyError,
): Promise<Uint8Array> {
  let ip = net.isIP(host) === 0 ? null : host;
  if (ip === null && remoteDns) {
    const name = textEncoder.encode(host);
    // RFC 1928 §5: "the first octet of the address field contains the number
    // of octets of name that follow".
    if (name.length > 255) throw fail("can't resolve a host name longer than 255 bytes");
    const address = new Uint8Array(2 + name.length);
    address[0] = AddressType.DOMAIN_NAME;
    address[1] = name.length;
    address.set(name, 2);
    return address;
  }
  ip ??= await lookupAddress(host, tcp, signal);
  if (net.isIPv4(ip)) return new Uint8Array([AddressType.IPV4, ...ip.split(".").map(Number)]);
  return new Uint8Array([AddressType.IPV6, ...ipv6Bytes(ip)]);
}

/**
 * The address of `host`, looked up as `net.connect()` looks up the host of a
 * direct connection with the same `tcp` options: with their `lookup`
 * function, else `dns.lookup()`, given their `family` and `hints`, and
 * `dns.ADDRCONFIG` when neither narrows the answer (as Node does outside
 * Windows). One address, not all: a CONNECT request names one (RFC 1928 §4),
 * so the proxy can't try the others as `autoSelectFamily` would.
 *
 * @throws the lookup's error (e.g. `ENOTFOUND`); TypeError when `tcp.lookup`
 *   isn't a function or answers something other than an IP address; the
 *   signal's reason when it aborts first.
 */
function lookupAddress(
  host: string,
  tcp: TcpOptions | undefined,
  signal: AbortSignal,
): Promise<string> {
  const lookup = tcp?.lookup ?? dns.lookup;
  if (typeof lookup !== "function") {
    throw new TypeError(`tcp.lookup must be a function; got ${describeValue(lookup)}`);
  }
  // As socketToDnsFamily() in Node's lib/net.js: the family may be given by
  // name, and is passed on undefined when it isn't given.
  const given: unknown = tcp?.family;
  const family = given === "IPv4" ? 4 : given === "IPv6" ? 6 : tcp?.family;
  let hints = tcp?.hints ?? 0;
  if (process.platform !== "win32" && family !== 4 && family !== 6 && hints === 0) {
    hints = dns.ADDRCONFIG;
  }
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    // Neither dns.lookup() nor a lookup function can be cancelled, and the
    // latter may never call back: the signal (openTimeout, the caller's)
    // rejects instead, and an answer coming after it is dropped.
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      lookup(host, { family, hints }, (error, answer: unknown) => {
        signal.removeEventListener("abort", onAbort);
        // A lookup written for autoSelectFamily may answer as `all: true`
        // asks, with a list of { address, family }: its first address.
        const address = Array.isArray(answer)
          ? (answer[0] as { address?: unknown })?.address
          : answer;
        if (error !== null) reject(error);
        else if (typeof address === "string" && net.isIP(address) !== 0) resolve(address);
        else {
          reject(
            new TypeError(
              `tcp.lookup answered ${describeValue(answer)} for ${host}, not an IP address`,
            ),
          );
        }
      });
    } catch (error) {
      signal.removeEventListener("abort", onAbort);
      reject(error);
    }
  });
}

/** The 16 octets of an IPv6 address in text form (RFC 4291 §2.2), `::` and embedded IPv4 included. */
export function ipv6Bytes(address: string): Uint8Array {
  let text = address.replace(/%.*$/, "");
  // An embedded IPv4 address, as in ::ffff:192.0.2.1, stands for the last two groups.
  const ipv4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (ipv4 !== null) {
    const [a, b, c, d] = ipv4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, ipv4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = 8 - headGroups.length - tailGroups.length;
  const groups = [
    ...headGroups,
    ...Array<string>(tail === undefined ? 0 : zeros).fill("0"),
    ...tailGroups,
  ];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    const value = Number.parseInt(group, 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  return bytes;
}
