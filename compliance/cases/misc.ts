/**
 * Section 10, miscellaneous: a message split into frames of an arbitrary
 * size (Autobahn's auto-fragmentation).
 *
 * @module
 */

import { type CaseDefinition, CLEAN_CLOSE, observe } from "../case.js";
import { payloadBytes } from "../wire.js";

/** Case 10.1.1. */
export function miscCases(): CaseDefinition[] {
  const payload = payloadBytes("*", 65536);
  return [
    {
      id: "10.1.1",
      description: "Sends a text message of 65536 bytes in frames of 1300 bytes.",
      expectation: "The message is echoed (in any framing); a clean close with 1000.",
      expected: { OK: [observe.text(payload)] },
      close: CLEAN_CLOSE,
      async run(peer) {
        await peer.sendMessage(payload, { fragmentSize: 1300 });
        peer.killAfter(10_000);
        return undefined;
      },
    },
  ];
}
