/**
 * The server side of the protocol: validates the opening handshake request
 * and answers it (RFC 6455 §4.2).
 *
 * @module
 */

import { isRegExpObject } from "./brands.js";
import { describeValue } from "./describe-value.js";
import {
  InvalidHandshake,
  InvalidHeader,
  InvalidHeaderValue,
  InvalidMessage,
  InvalidOrigin,
  InvalidState,
  InvalidStatus,
  InvalidUpgrade,
  NegotiationError,
} from "./errors.js";
import type { Extension, ExtensionHeader, ServerExtensionFactory } from "./extensions/base.js";
import { acceptKey, checkUpgradeHeaders, isValidKey } from "./handshake.js";
import {
  buildExtensionList,
  isHostValue,
  parseEach,
  parseExtensionList,
  parseSubprotocolList,
} from "./header-values.js";
import { appendParsedField, Headers } from "./headers.js";
import type { HttpLimits } from "./http-limits.js";
import { Protocol, type ProtocolOptions } from "./protocol.js";
import type { Request } from "./request.js";
import { RequestParser } from "./request-parser.js";
import { requestTargetPath } from "./request-target.js";
import { Response } from "./response.js";
import { State } from "./state.js";
import { reasonPhrase } from "./status.js";

/** An allowed `Origin`: an exact value, a pattern, or `null` for requests without one. */
export type OriginRule = string | RegExp | null;

/**
 * @throws TypeError unless `value` is `undefined`, `null`, or an array of
 *   origins (strings, regular expressions, or `null` for requests without
 *   `Origin`): a single string would otherwise be read as the list of its
 *   characters, or fail every handshake.
 */
export function checkOriginsOption(value: unknown): void {
  if (value === undefined || value === null) return;
  const expected =
    'origins must be an array of origins (strings such as "https://example.com", regular expressions, or null for no Origin header)';
  if (!Array.isArray(value)) throw new TypeError(`${expected}; got ${describeValue(value)}`);
  const index = value.findIndex(
    (rule: unknown) => !(rule === null || typeof rule === "string" || isRegExpObject(rule)),
  );
  if (index >= 0) {
    throw new TypeError(`${expected}; item ${index} is ${describeValue(value[index])}`);
  }
}

/** Picks a subprotocol among those the client offered, or `null` for none. */
export type SubprotocolSelector = (offered: readonly string[], request: Request) => string | null;

/** Options of a {@link ServerProtocol}. */
export interface ServerProtocolOptions extends ProtocolOptions {
  /**
   * Allowed values of the `Origin` header; `null` in the list allows requests
   * without one. Unset: any origin (browsers send one, other clients may not).
   */
  origins?: readonly OriginRule[] | null | undefined;
  /** Extensions the server supports, in order of preference. */
  extensions?: readonly ServerExtensionFactory[] | undefined;
  /**
   * Subprotocols the server supports, in order of preference. When set, a
   * client must offer one of them, else the handshake fails with 400.
   */
  subprotocols?: readonly string[] | undefined;
  /** Replaces the default choice of subprotocol (the server's first one the client offered). */
  selectSubprotocol?: SubprotocolSelector | undefined;
  /** Limits on the client's HTTP request. */
  httpLimits?: HttpLimits | undefined;
  /**
   * Called with each response the protocol sends by itself, the answer to a
   * request it can't parse (400, 405, 414, 431, 505), before it is written:
   * the place to add the fields that the caller of {@link
   * ServerProtocol.sendResponse} adds to its own responses, such as `Date`
   * and `Server`, which need a clock or a configuration the core hasn't got.
   */
  completeResponse?: ((response: Response) => void) | undefined;
}

const textEncoder = new TextEncoder();
const SWITCHING_PROTOCOLS = reasonPhrase(101);
// Shared by every connection whose options leave these out.
const NO_EXTENSION_FACTORIES: readonly ServerExtensionFactory[] = Object.freeze([]);
const NO_SUBPROTOCOLS: readonly string[] = Object.freeze([]);

/**
 * How many offers of extensions this side supports are put to their
 * factories, per request. Clients make one or two (browsers one); a factory
 * declines an offer by throwing, which costs a stack trace, so a request
 * head of 1 MiB listing tens of thousands of offers would otherwise hold the
 * event loop for about a second. RFC 6455 §9.1 lets a server decline any offer.
 */
export const MAX_EXTENSION_OFFERS_TRIED = 16;

/**
 * The header fields of the 101 response to a valid request whose
 * `Sec-WebSocket-Key` is `key` (RFC 6455 §4.2.2, item 5), with the
 * extensions and subprotocol agreed, if any: what
 * {@link ServerProtocol.accept} answers.
 */
export function switchingProtocolsHeaders(
  key: string,
  extensions: string | null,
  subprotocol: string | null,
): Headers {
  const headers = new Headers();
  // Constants and base64: valid field values, with no need to check them.
  appendParsedField(headers, "Upgrade", "websocket");
  appendParsedField(headers, "Connection", "Upgrade");
  appendParsedField(headers, "Sec-WebSocket-Accept", acceptKey(key));
  if (extensions !== null) headers.set("Sec-WebSocket-Extensions", extensions);
  if (subprotocol !== null) headers.set("Sec-WebSocket-Protocol", subprotocol);
  return headers;
}

/** Sans-I/O WebSocket server. */
export class ServerProtocol extends Protocol {
  /** The handshake request, once received. */
  request: Request | null = null;
  /** The subprotocol selected during the handshake, or `null`. */
  subprotocol: string | null = null;

  /**
   * The options, read when the request arrives: one field, where copies of
   * each would cost every connection a field apiece.
   */
  private readonly options: ServerProtocolOptions;
  /** Released once the request is parsed: an open connection has no use for it. */
  private requestParser: RequestParser | null;

  /**
   * A server waiting for the handshake request, which {@link receiveData}
   * feeds it.
   *
   * @param options see {@link ServerProtocolOptions}, read when the handshake
   *   request arrives, not copied; all optional. Default: `{}`.
   * @throws RangeError when `maxMessageSize` is not a whole number from 1, `null` or `Infinity`.
   */
  constructor(options: ServerProtocolOptions = {}) {
    super("server", options);
    this.options = options;
    this.requestParser = this.mode === "handshake" ? new RequestParser(options.httpLimits) : null;
  }

  /** Which end this is: a getter rather than a field on every connection. */
  get side(): "server" {
    return "server";
  }

  /**
   * Validates a handshake request and builds the response: 101 when the
   * handshake succeeds, else an error response with a precise status
   * (400, 403, 405, 426, 500, 505), with {@link handshakeExc} set to why.
   * Send it with {@link sendResponse}.
   */
  accept(request: Request): Response {
    let headers: Headers;
    try {
      headers = this.processRequest(request);
    } catch (error) {
      return this.rejectFor(error);
    }
    return new Response(101, SWITCHING_PROTOCOLS, headers);
  }

  /**
   * Builds an HTTP error response with a plain text body, for handshakes the
   * server refuses (authentication, health checks, overload).
   */
  reject(status: number, text: string): Response {
    const body = textEncoder.encode(text);
    const headers = new Headers([
      ["Connection", "close"],
      ["Content-Length", String(body.length)],
      ["Content-Type", "text/plain; charset=utf-8"],
    ]);
    return new Response(status, reasonPhrase(status), headers, body);
  }

  /**
   * Queues the handshake response. After a 101 the connection is open; after
   * anything else the server half-closes it and ignores what it receives.
   *
   * @throws InvalidState when a response was already sent.
   */
  sendResponse(response: Response): void {
    if (this.mode !== "handshake") throw new InvalidState("handshake response already sent");
    this.traceHead(">", `HTTP/1.1 ${response.status} ${response.reason}`, response.headers);
    // RFC 9110 §9.3.2: "The server MUST NOT send content in the response" to
    // a HEAD request; its header fields are those a GET would get. A health
    // check may ask for one (processRequest answers it; the handshake's own
    // answer is a 405).
    this.output().push(response.serialize(this.request?.method !== "HEAD"));
    if (response.status === 101) {
      this.state = State.OPEN;
      this.mode = "frames";
    } else {
      this.handshakeExc ??= new InvalidStatus(response);
      this.sendEof();
      this.mode = "discard";
    }
    // Frames or the end of the stream may have arrived with the request.
    this.step();
  }

  /**
   * Parses the handshake request and queues it as an event; it returns `false`
   * because the handshake completes only once {@link sendResponse} sends a
   * 101. A malformed request gets its error response at once, unless the
   * client is gone, then the connection is half-closed.
   */
  protected parseHandshake(): boolean {
    const parser = this.requestParser;
    if (parser === null || this.request !== null) return false;
    let request: Request | null;
    try {
      request = parser.parse(this.reader);
    } catch (error) {
      const exc =
        error instanceof InvalidMessage
          ? error
          : new InvalidMessage("did not receive a valid HTTP request", 400, { cause: error });
      this.handshakeExc = exc;
      this.requestParser = null;
      // A client that is gone cannot read an answer; one still there learns why.
      if (!this.reader.atEof) {
        const response = this.rejectFor(exc);
        this.options.completeResponse?.(response);
        this.traceHead(">", `HTTP/1.1 ${response.status} ${response.reason}`, response.headers);
        this.output().push(response.serialize());
      }
      this.sendEof();
      this.mode = "discard";
      return false;
    }
    if (request === null) return false;
    this.requestParser = null;
    this.request = request;
    this.traceHead("<", `${request.method} ${request.path} ${request.version}`, request.headers);
    this.pushEvent(request);
    return false;
  }

  /** Maps a handshake failure to its HTTP error response. */
  private rejectFor(error: unknown): Response {
    const exc = error instanceof Error ? error : new Error(String(error), { cause: error });
    this.handshakeExc = exc;
    if (!(exc instanceof InvalidHandshake)) {
      // Server-side bugs (a throwing selector or extension) stay on this side.
      return this.reject(
        500,
        "Failed to open a WebSocket connection.\nSee server log for more information.\n",
      );
    }
    const text = `Failed to open a WebSocket connection: ${exc.message}.\n`;
    if (exc instanceof InvalidMessage) {
      const response = this.reject(exc.status, text);
      // RFC 9110 §15.5.6: "The origin server MUST generate an Allow header
      // field in a 405 response containing a list of the target resource's
      // currently supported methods." RFC 6455 §4.2.1: the handshake is a GET.
      if (exc.status === 405) response.headers.set("Allow", "GET");
      return response;
    }
    if (exc instanceof InvalidOrigin) return this.reject(403, text);
    if (exc instanceof InvalidUpgrade) return upgradeRequired(this.reject(426, text));
    // A missing or repeated version is a malformed request (400, below); only a
    // version the server doesn't speak gets 426.
    if (exc instanceof InvalidHeaderValue && exc.header === "Sec-WebSocket-Version") {
      // RFC 6455 §4.4: answer "with an appropriate HTTP error code (such as
      // 426 Upgrade Required) and a |Sec-WebSocket-Version| header field
      // indicating the version(s) the server is capable of understanding."
      const response = upgradeRequired(this.reject(426, text));
      response.headers.set("Sec-WebSocket-Version", "13");
      return response;
    }
    return this.reject(400, text);
  }

  /** Validates the request (RFC 6455 §4.2.1) and returns the 101 response's headers. */
  private processRequest(request: Request): Headers {
    // RFC 6455 §4.2.1: "An HTTP/1.1 or higher GET request".
    if (request.method !== "GET") {
      const error = new InvalidMessage(`unsupported HTTP method: ${request.method}`, 405);
      throw error;
    }
    if (request.version !== "HTTP/1.1") {
      throw new InvalidMessage(`unsupported HTTP version: ${request.version}`, 505);
    }
    // RFC 6455 §4.2.1 item 1: a Request-URI "that should be interpreted as a
    // /resource name/ ... (or an absolute HTTP/HTTPS URI containing the
    // /resource name/)". `localhost:8001` or `urn:chat` names none here.
    if (requestTargetPath(request.path) === null) {
      // Without its query, which may carry a token into logs.
      const shown = request.path.split("?", 1)[0]!;
      throw new InvalidMessage(
        `invalid request target: ${JSON.stringify(shown)} names no resource of this server`,
      );
    }
    const headers = request.headers;
    // RFC 6455 §4.2.1 item 2: "A |Host| header field containing the server's authority."
    const hosts = headers.getAll("Host");
    if (hosts.length !== 1)
      throw new InvalidHeader("Host", hosts.length ? "multiple values" : null);
    // RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status
    // code to any HTTP/1.1 request message that … contains … a Host header
    // field with an invalid field value."
    if (!isHostValue(hosts[0]!)) throw new InvalidHeaderValue("Host", hosts[0]!);
    checkUpgradeHeaders(headers, "request");

    const keys = headers.getAll("Sec-WebSocket-Key");
    if (keys.length !== 1) {
      throw new InvalidHeader("Sec-WebSocket-Key", keys.length ? "multiple values" : null);
    }
    // RFC 6455 §4.2.1 item 5: "a base64-encoded value that, when decoded, is 16 bytes in length."
    if (!isValidKey(keys[0]!)) throw new InvalidHeaderValue("Sec-WebSocket-Key", keys[0]!);

    const versions = headers.getAll("Sec-WebSocket-Version");
    if (versions.length !== 1) {
      throw new InvalidHeader("Sec-WebSocket-Version", versions.length ? "multiple values" : null);
    }
    // RFC 6455 §4.2.1 item 6: "The value of this header field MUST be 13."
    if (versions[0] !== "13") throw new InvalidHeaderValue("Sec-WebSocket-Version", versions[0]!);

    this.checkOrigin(headers);

    const [extensionHeader, extensions] = this.negotiateExtensions(headers);
    const subprotocol = this.selectSubprotocol(request);
    const response = switchingProtocolsHeaders(
      keys[0]!,
      extensionHeader.length > 0 ? buildExtensionList(extensionHeader) : null,
      subprotocol,
    );

    // A copy sized to fit: a list grown by push() has room for 17, some 130
    // bytes that every compressed connection would keep.
    if (extensions.length > 0) this.extensions = extensions.slice();
    this.subprotocol = subprotocol;
    return response;
  }

  private checkOrigin(headers: Headers): void {
    const origins = this.options.origins;
    if (origins === undefined || origins === null) return;
    const values = headers.getAll("Origin");
    if (values.length > 1) throw new InvalidHeader("Origin", "multiple values");
    const origin = values[0] ?? null;
    const allowed = origins.some((rule) => {
      if (rule === null || typeof rule === "string") return rule === origin;
      // A RegExp with the g or y flag keeps state between test() calls in
      // lastIndex: a copy tests from the start and leaves the caller's alone.
      return origin !== null && new RegExp(rule).test(origin);
    });
    if (!allowed) throw new InvalidOrigin(origin);
  }

  private negotiateExtensions(headers: Headers): [ExtensionHeader[], Extension[]] {
    const answered: ExtensionHeader[] = [];
    const accepted: Extension[] = [];
    const available = this.options.extensions ?? NO_EXTENSION_FACTORIES;
    if (available.length === 0) return [answered, accepted];
    let tries = 0;
    // RFC 6455 §9.1: the client lists extensions in order of preference; the
    // server accepts at most one offer of each, declining those it cannot honour.
    for (const [name, params] of parseEach(
      headers.getAll("Sec-WebSocket-Extensions"),
      parseExtensionList,
    )) {
      if (answered.some(([acceptedName]) => acceptedName === name)) continue;
      for (const factory of available) {
        if (factory.name !== name) continue;
        if (++tries > MAX_EXTENSION_OFFERS_TRIED) return [answered, accepted];
        try {
          const [responseParams, extension] = factory.processRequestParams(params, accepted);
          answered.push([name, responseParams]);
          accepted.push(extension);
          break;
        } catch (error) {
          if (!(error instanceof NegotiationError)) throw error;
        }
      }
    }
    return [answered, accepted];
  }

  private selectSubprotocol(request: Request): string | null {
    const offered = parseEach(
      request.headers.getAll("Sec-WebSocket-Protocol"),
      parseSubprotocolList,
    );
    const selector = this.options.selectSubprotocol;
    if (selector) {
      const selected = selector(offered, request);
      // RFC 6455 §4.2.2: the server's value "MUST be ... one of the values
      // provided by the client"; answering another is a server bug.
      if (selected !== null && !offered.includes(selected)) {
        throw new Error(`selectSubprotocol returned ${selected}, which the client did not offer`);
      }
      return selected;
    }
    const available = this.options.subprotocols ?? NO_SUBPROTOCOLS;
    if (available.length === 0) return null;
    if (offered.length === 0) throw new NegotiationError("missing subprotocol");
    for (const subprotocol of available) {
      if (offered.includes(subprotocol)) return subprotocol;
    }
    throw new NegotiationError(`invalid subprotocol; expected one of ${available.join(", ")}`);
  }
}

/**
 * Adds to a 426 what RFC 9110 requires of it: §15.5.22, "The server MUST
 * send an Upgrade header field in a 426 response to indicate the required
 * protocol(s)"; §7.8, "A sender of Upgrade MUST also send an "upgrade"
 * connection option in the Connection header field".
 */
function upgradeRequired(response: Response): Response {
  response.headers.set("Connection", "Upgrade, close");
  response.headers.set("Upgrade", "websocket");
  return response;
}
