/**
 * The extension interfaces of RFC 6455 §9: an {@link Extension} transforms
 * frames once negotiated; factories negotiate it during the opening handshake.
 *
 * A negotiated extension that uses an RSV bit clears it on the frames it
 * decodes. The protocol fails the connection on any RSV bit still set after
 * every extension has decoded a frame (RFC 6455 §5.2: "If a nonzero value is
 * received and none of the negotiated extensions defines the meaning of such a
 * nonzero value, the receiving endpoint MUST _Fail the WebSocket Connection_").
 *
 * @module
 */

import type { Frame } from "../frame.js";
import type { ExtensionParameter } from "../header-values.js";

export type { ExtensionHeader, ExtensionParameter } from "../header-values.js";

/** A negotiated extension, active on one connection. */
export interface Extension {
  /** The extension's registered name, e.g. `"permessage-deflate"`. */
  readonly name: string;

  /**
   * Transforms a received frame. Extensions decode in the reverse order of
   * negotiation. `maxSize` is the limit the decoded message must stay within
   * (`Infinity` for none): an extension that expands data must stop at it and
   * throw {@link PayloadTooBig}.
   */
  decode(frame: Frame, maxSize: number): Frame;

  /**
   * How large the frames of a message may be on the wire when the message may
   * be at most `maxSize` bytes once decoded. The protocol lets frames up to
   * this size through to {@link decode}, which must hold what it decodes to
   * `maxSize`. Omit it for an extension that never makes data larger.
   */
  maxEncodedSize?(maxSize: number): number;

  /**
   * The RSV bits this extension gives a meaning to, as a mask of a frame's
   * first byte: `0x40` for RSV1, `0x20` for RSV2, `0x10` for RSV3
   * (permessage-deflate: `0x40`). With it, the protocol refuses a frame with
   * another RSV bit set as soon as the frame's header arrives, instead of after
   * its whole payload. Omit it for an extension that may use any of them:
   * frames are then checked once every extension has decoded them.
   */
  readonly reservedBits?: number;

  /**
   * Transforms a frame about to be sent. Extensions encode in the order of
   * negotiation. `options` are those the application gave for the message the
   * frame belongs to; every frame of a fragmented message gets the same.
   */
  encode(frame: Frame, options?: MessageOptions): Frame;
}

/** What the application asks for one outgoing message; extensions may honour it. */
export interface MessageOptions {
  /**
   * `false` asks compression extensions to send this message as it is, e.g.
   * because it is already compressed. Default: `true`.
   */
  readonly compress?: boolean | undefined;
}

/** Offers an extension from the client and accepts the server's answer. */
export interface ClientExtensionFactory {
  /** The extension's registered name. */
  readonly name: string;

  /** The parameters to offer in `Sec-WebSocket-Extensions`. */
  getRequestParams(): ExtensionParameter[];

  /**
   * Builds the extension from the server's response parameters.
   *
   * @param accepted the extensions accepted before this one, for compatibility checks.
   * @throws NegotiationError when the response cannot be honoured.
   */
  processResponseParams(
    params: readonly ExtensionParameter[],
    accepted: readonly Extension[],
  ): Extension;
}

/** Accepts or declines an extension offered by a client. */
export interface ServerExtensionFactory {
  /** The extension's registered name. */
  readonly name: string;

  /**
   * Answers one offer: the parameters to send back and the extension.
   *
   * @param accepted the extensions accepted before this one, for compatibility checks.
   * @throws NegotiationError to decline this offer; the server then tries the next one.
   */
  processRequestParams(
    params: readonly ExtensionParameter[],
    accepted: readonly Extension[],
  ): [ExtensionParameter[], Extension];
}
