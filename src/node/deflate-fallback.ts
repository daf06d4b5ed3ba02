/**
 * The second permessage-deflate offer `connect()` sends when the first asks
 * the server for something it may refuse: `permessage-deflate;
 * client_max_window_bits`, the offer browsers send, which servers accept
 * most widely.
 *
 * RFC 7692 §5: "A client may also offer multiple PMCE choices to the server
 * by including multiple elements in the "Sec-WebSocket-Extensions" header,
 * one for each PMCE offered." The server accepts the first it can honour. A
 * server may decline a `server_max_window_bits` it does not support, or
 * `server_no_context_takeover` (RFC 7692 §7.1.1.1, §7.1.2.1), and some
 * decline a `client_max_window_bits` smaller than they want: the `ws`
 * package answers such an offer with 400 when it is the only one.
 *
 * @module
 */

import type { Extension, ExtensionParameter } from "../core/extensions/base.js";
import { PerMessageDeflate } from "../core/extensions/permessage-deflate.js";
import { ClientPerMessageDeflateFactory } from "../core/extensions/permessage-deflate-negotiation.js";
import {
  type DeflateSettings,
  MAX_WINDOW_BITS,
} from "../core/extensions/permessage-deflate-settings.js";

/** What this side asked for its own compressor in the first offer. */
export interface LocalDeflateLimits {
  /** The window this side committed to in the first offer, or `null` for none. */
  readonly windowBits: number | null;
  /** Whether this side compresses each message on its own. */
  readonly noContextTakeover: boolean;
}

/**
 * Offers `permessage-deflate; client_max_window_bits` after a first offer,
 * and keeps this side's own limits when the server accepts it.
 *
 * Those limits need no agreement: RFC 7692 §7.1.2.2 bounds the window a
 * client may use, so a smaller one is always valid, and §7.1.1.2 lets a
 * client refrain from context takeover on its own. The extension this
 * factory builds is therefore the one the first offer's factory builds from
 * any response both accept, and the client need not know which offer the
 * server answered.
 */
export class FallbackDeflateFactory extends ClientPerMessageDeflateFactory {
  private readonly limits: LocalDeflateLimits;
  private readonly settings: DeflateSettings;

  /**
   * @param limits what the first offer committed this side to; its
   *   `windowBits` is checked when the extension is built.
   * @throws RangeError for a `level`, `memLevel` or `threshold` out of range;
   *   TypeError for a `scheduleRelease` that isn't a function.
   */
  constructor(limits: LocalDeflateLimits, settings: DeflateSettings) {
    super({ ...settings, clientMaxWindowBits: true });
    this.limits = limits;
    this.settings = settings;
  }

  /**
   * Checks the server's answer to the bare offer (RFC 7692 §7.1): the server
   * may still limit this side's window or ask for no context takeover, which
   * the extension honours, as it honours this side's own limits.
   *
   * @throws NegotiationError as {@link ClientPerMessageDeflateFactory} does.
   */
  override processResponseParams(
    params: readonly ExtensionParameter[],
    accepted: readonly Extension[],
  ): PerMessageDeflate {
    const negotiated = super.processResponseParams(params, accepted);
    // A PerMessageDeflate opens no zlib stream until its first message, so
    // dropping the one built above costs nothing.
    return new PerMessageDeflate(
      {
        localNoContextTakeover: negotiated.localNoContextTakeover || this.limits.noContextTakeover,
        remoteNoContextTakeover: negotiated.remoteNoContextTakeover,
        localMaxWindowBits: Math.min(
          negotiated.localMaxWindowBits,
          this.limits.windowBits ?? MAX_WINDOW_BITS,
        ),
        remoteMaxWindowBits: negotiated.remoteMaxWindowBits,
      },
      this.settings,
    );
  }
}
