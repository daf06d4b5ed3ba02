/** What the tests of permessage-deflate share. */

import type { PerMessageDeflateParameters } from "../../src/core/extensions/permessage-deflate-settings.js";
import type { Frame } from "../../src/core/frame.js";
import type { Protocol } from "../../src/core/protocol.js";

/** The parameters of a negotiation that settled none: RFC 7692's defaults. */
export const DEFAULTS: PerMessageDeflateParameters = {
  localNoContextTakeover: false,
  remoteNoContextTakeover: false,
  localMaxWindowBits: 15,
  remoteMaxWindowBits: 15,
};

/** The frames `protocol` received since the last call. */
export function frames(protocol: Protocol): Frame[] {
  return protocol.eventsReceived() as Frame[];
}

/** Decodes UTF-8. */
export const text = (data: Uint8Array) => new TextDecoder().decode(data);
