/**
 * The client side of the protocol: builds the opening handshake request and
 * validates the server's response (RFC 6455 §4.1).
 *
 * @module
 */

import { buildBasicAuthorization } from "./basic-auth.js";
import {
  InvalidHandshake,
  InvalidHeader,
  InvalidHeaderValue,
  InvalidMessage,
  InvalidStatus,
  NegotiationError,
} from "./errors.js";
import type { ClientExtensionFactory, Extension } from "./extensions/base.js";
import { acceptKey, checkUpgradeHeaders, generateKey } from "./handshake.js";
import {
  buildExtensionList,
  buildSubprotocolList,
  checkSubprotocolsOption,
  parseEach,
  parseExtensionList,
  parseSubprotocolList,
} from "./header-values.js";
import { Headers } from "./headers.js";
import type { HttpLimits } from "./http-limits.js";
import { NO_EXTENSIONS, Protocol, type ProtocolOptions } from "./protocol.js";
import { Request } from "./request.js";
import type { Response } from "./response.js";
import { ResponseParser } from "./response-parser.js";
import { State } from "./state.js";
import { expectsTls, TLS_EXPECTED } from "./tls-expected.js";
import { hostHeader, parseUri, type WebSocketUri } from "./uri.js";

/** Options of a {@link ClientProtocol}. */
export interface ClientProtocolOptions extends ProtocolOptions {
  /** Value of the `Origin` header, if any. */
  origin?: string | null | undefined;
  /** Extensions to offer, in order of preference. */
  extensions?: readonly ClientExtensionFactory[] | undefined;
  /** Subprotocols to offer, in order of preference. */
  subprotocols?: readonly string[] | undefined;
  /**
   * Fail the handshake when subprotocols were offered and the server selected
   * none, as browsers do (WHATWG WebSockets, "establish a WebSocket
   * connection"). RFC 6455 lets the server select none. Default: `false`.
   */
  requireSubprotocol?: boolean | undefined;
  /** Limits on the server's HTTP response. */
  httpLimits?: HttpLimits | undefined;
  /** Source of masking keys; only tests replace the random default. */
  maskKeyGenerator?: (() => Uint8Array) | undefined;
}

/** Sans-I/O WebSocket client. */
export class ClientProtocol extends Protocol {
  /** Which end this is: a getter rather than a field on every connection. */
  get side(): "client" {
    return "client";
  }

  /** The URI this client connects to. */
  readonly uri: WebSocketUri;
  /** The `Sec-WebSocket-Key` of this connection's handshake. */
  readonly key: string = generateKey();
  /** The subprotocol the server selected, or `null`. */
  subprotocol: string | null = null;

  private readonly origin: string | null;
  private readonly availableExtensions: readonly ClientExtensionFactory[];
  private readonly availableSubprotocols: readonly string[];
  private readonly requireSubprotocol: boolean;
  /** Released once the response is parsed: an open connection has no use for it. */
  private responseParser: ResponseParser | null;
  /** Whether a byte of the response arrived: until one does, a failure gets a hint. */
  private responseStarted = false;
  private readonly maskKeyGenerator: (() => Uint8Array) | undefined;

  /**
   * A client that has sent nothing yet: {@link connect} builds the handshake
   * request and {@link sendRequest} queues it.
   *
   * @param uri the `ws://` or `wss://` URI to connect to, parsed if a string.
   * @param options see {@link ClientProtocolOptions}; all optional. Default: `{}`.
   * @throws InvalidUri when `uri` is a string that isn't a valid WebSocket URI.
   * @throws TypeError when `subprotocols` is not an array of strings.
   * @throws RangeError when `maxMessageSize` is not a whole number from 1, `null` or `Infinity`.
   */
  constructor(uri: WebSocketUri | string, options: ClientProtocolOptions = {}) {
    super("client", options);
    this.uri = typeof uri === "string" ? parseUri(uri) : uri;
    this.origin = options.origin ?? null;
    this.availableExtensions = options.extensions ?? [];
    checkSubprotocolsOption(options.subprotocols);
    this.availableSubprotocols = options.subprotocols ?? [];
    this.requireSubprotocol = options.requireSubprotocol ?? false;
    this.responseParser = this.mode === "handshake" ? new ResponseParser(options.httpLimits) : null;
    this.maskKeyGenerator = options.maskKeyGenerator;
  }

  /**
   * Builds the opening handshake request (RFC 6455 §4.1). The I/O layer may
   * add headers, such as `User-Agent`, before passing it to {@link sendRequest}.
   */
  connect(): Request {
    const headers = new Headers();
    headers.set("Host", hostHeader(this.uri));
    if (this.uri.username !== null) {
      headers.set(
        "Authorization",
        buildBasicAuthorization(this.uri.username, this.uri.password ?? ""),
      );
    }
    if (this.origin !== null) headers.set("Origin", this.origin);
    headers.set("Upgrade", "websocket");
    headers.set("Connection", "Upgrade");
    headers.set("Sec-WebSocket-Key", this.key);
    headers.set("Sec-WebSocket-Version", "13");
    if (this.availableExtensions.length > 0) {
      headers.set(
        "Sec-WebSocket-Extensions",
        buildExtensionList(
          this.availableExtensions.map((factory) => [factory.name, factory.getRequestParams()]),
        ),
      );
    }
    if (this.availableSubprotocols.length > 0) {
      headers.set("Sec-WebSocket-Protocol", buildSubprotocolList(this.availableSubprotocols));
    }
    return new Request(this.uri.path, headers);
  }

  /** Queues the handshake request for sending. */
  sendRequest(request: Request): void {
    this.traceHead(">", `${request.method} ${request.path} ${request.version}`, request.headers);
    this.output().push(request.serialize());
  }

  /**
   * Checks the server's response and applies what it negotiated.
   *
   * @throws InvalidHandshake (or a subclass) when the handshake failed.
   */
  processResponse(response: Response): void {
    // RFC 6455 §4.1: "If the status code received from the server is not 101,
    // the client handles the response per HTTP procedures."
    if (response.status !== 101) {
      // A server that expects TLS may say so in a 400. Over wss://, such an
      // answer comes from behind the TLS endpoint: a proxy's upstream is what
      // to fix, not the URI.
      const hint = !this.uri.secure && expectsTls(response) ? TLS_EXPECTED : undefined;
      throw new InvalidStatus(response, { hint });
    }
    const headers = response.headers;
    checkUpgradeHeaders(headers, "response");

    const accept = headers.getAll("Sec-WebSocket-Accept");
    if (accept.length === 0) throw new InvalidHeader("Sec-WebSocket-Accept");
    if (accept.length > 1) {
      throw new InvalidHeader("Sec-WebSocket-Accept", "multiple values");
    }
    // RFC 6455 §4.1: "If the response lacks a |Sec-WebSocket-Accept| header
    // field or the |Sec-WebSocket-Accept| contains a value other than the
    // base64-encoded SHA-1 of the concatenation of the |Sec-WebSocket-Key| ...
    // the client MUST _Fail the WebSocket Connection_."
    if (accept[0] !== acceptKey(this.key)) {
      throw new InvalidHeaderValue("Sec-WebSocket-Accept", accept[0]!);
    }

    this.extensions = this.negotiateExtensions(headers);
    this.subprotocol = this.negotiateSubprotocol(headers);
  }

  private negotiateExtensions(headers: Headers): Extension[] {
    const values = headers.getAll("Sec-WebSocket-Extensions");
    if (values.length === 0) return NO_EXTENSIONS;
    // RFC 6455 §4.1: "If the response includes a |Sec-WebSocket-Extensions|
    // header field and this header field indicates the use of an extension
    // that was not present in the client's handshake ... the client MUST
    // _Fail the WebSocket Connection_."
    if (this.availableExtensions.length === 0) {
      throw new NegotiationError("server selected an extension, but none was offered");
    }
    const accepted: Extension[] = [];
    for (const [name, params] of parseEach(values, parseExtensionList)) {
      let extension: Extension | null = null;
      let refusal: NegotiationError | undefined;
      for (const factory of this.availableExtensions) {
        if (factory.name !== name) continue;
        try {
          extension = factory.processResponseParams(params, accepted);
          break;
        } catch (error) {
          if (!(error instanceof NegotiationError)) throw error;
          refusal = error;
        }
      }
      if (extension === null) {
        // The factory's refusal says why, e.g. a parameter we did not offer.
        throw new NegotiationError(
          `unsupported extension: ${buildExtensionList([[name, params]])}`,
          refusal ? { cause: refusal } : undefined,
        );
      }
      accepted.push(extension);
    }
    // A copy sized to fit: a list grown by push() has room for 17.
    return accepted.slice();
  }

  private negotiateSubprotocol(headers: Headers): string | null {
    const values = headers.getAll("Sec-WebSocket-Protocol");
    if (values.length === 0) {
      if (this.requireSubprotocol && this.availableSubprotocols.length > 0) {
        throw new NegotiationError("server selected none of the subprotocols offered");
      }
      return null;
    }
    const selected = parseEach(values, parseSubprotocolList);
    // RFC 6455 §4.1: "If the response includes a |Sec-WebSocket-Protocol|
    // header field and this header field indicates the use of a subprotocol
    // that was not present in the client's handshake ... the client MUST
    // _Fail the WebSocket Connection_."
    if (this.availableSubprotocols.length === 0) {
      throw new NegotiationError("server selected a subprotocol, but none was offered");
    }
    if (selected.length > 1) {
      throw new NegotiationError(`multiple subprotocols: ${selected.join(", ")}`);
    }
    const subprotocol = selected[0]!;
    if (!this.availableSubprotocols.includes(subprotocol)) {
      throw new NegotiationError(`unsupported subprotocol: ${subprotocol}`);
    }
    return subprotocol;
  }

  /**
   * Parses the server's response, skipping interim 1xx ones, and checks it
   * with {@link processResponse}. On failure, sets {@link handshakeExc},
   * half-closes the connection and discards what follows.
   */
  protected parseHandshake(): boolean {
    // Only called in "handshake" mode, which ends when the parser is released.
    const parser = this.responseParser!;
    if (!this.responseStarted && this.reader.length > 0) {
      this.responseStarted = true;
      // RFC 8446 §5.1: a TLS record starts with its ContentType, alert(21) or
      // handshake(22) from a server; a status line starts with "HTTP/". A
      // ws:// client that gets TLS talks to a wss:// server.
      const first = this.reader.peekByte(0);
      if (!this.uri.secure && (first === TLS_ALERT || first === TLS_HANDSHAKE)) {
        this.responseParser = null;
        this.failHandshake(new InvalidMessage(`${INVALID_RESPONSE}: ${TLS_ANSWER}`));
        return false;
      }
    }
    let response: Response | null;
    do {
      try {
        response = parser.parse(this.reader);
      } catch (error) {
        this.responseParser = null;
        // Nothing received at all: a TLS server closes so on a plain HTTP
        // request (OpenSSL's "http request" error sends no alert), though
        // other servers may too.
        const hint =
          this.responseStarted || this.uri.secure
            ? ""
            : ": the server closed the connection without answering; if it expects TLS, use wss://";
        this.failHandshake(new InvalidMessage(`${INVALID_RESPONSE}${hint}`, 400, { cause: error }));
        return false;
      }
      if (response === null) return false;
      this.traceHead("<", `HTTP/1.1 ${response.status} ${response.reason}`, response.headers);
      // RFC 9110 §15.2: "A client MUST be able to parse one or more 1xx
      // responses received prior to a final response, even if the client does
      // not expect one. A user agent MAY ignore unexpected 1xx responses."
      // 101 is the final response that switches to WebSocket.
    } while (isInterim(response.status));
    this.responseParser = null;
    try {
      this.processResponse(response);
    } catch (error) {
      this.pushEvent(response);
      this.failHandshake(
        error instanceof InvalidHandshake
          ? error
          : new InvalidHandshake("invalid response", { cause: error }),
      );
      return false;
    }
    this.state = State.OPEN;
    this.pushEvent(response);
    return true;
  }

  private failHandshake(error: Error): void {
    this.handshakeExc = error;
    this.sendEof();
    this.mode = "discard";
  }

  /** A key from {@link ClientProtocolOptions.maskKeyGenerator} if given, else a random one. */
  protected override maskKey(): Uint8Array {
    return this.maskKeyGenerator ? this.maskKeyGenerator() : super.maskKey();
  }
}

const INVALID_RESPONSE = "did not receive a valid HTTP response";
/** How the error for a `ws://` URI whose server answered with TLS ends; see `isSchemeMismatch()`. */
export const TLS_ANSWER = "the server answered with TLS; use wss://";
/** RFC 8446 §5.1: ContentType alert(21). */
const TLS_ALERT = 0x15;
/** RFC 8446 §5.1: ContentType handshake(22). */
const TLS_HANDSHAKE = 0x16;

/** Whether `status` is an interim response (1xx) other than 101 Switching Protocols. */
function isInterim(status: number): boolean {
  return status < 200 && status !== 101;
}
