/** The per-message options of Protocol.sendText / sendBinary reach the extensions. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Extension, MessageOptions } from "../../src/core/extensions/base.js";
import type { Frame } from "../../src/core/frame.js";
import { Opcode } from "../../src/core/opcodes.js";
import { openProtocol, type Role } from "../helpers/protocol.js";

/** An extension that records the options it is given with each frame. */
function recorder(seen: [Opcode, MessageOptions | undefined][]): Extension {
  return {
    name: "x-recorder",
    decode: (frame: Frame) => frame,
    encode(frame: Frame, options?: MessageOptions) {
      seen.push([frame.opcode, options]);
      return frame;
    },
  };
}

for (const role of ["client", "server"] as const satisfies readonly Role[]) {
  describe(`Protocol message options as a ${role}`, () => {
    it("gives the extensions each message's options with every frame of it", () => {
      const seen: [Opcode, MessageOptions | undefined][] = [];
      const protocol = openProtocol(role);
      protocol.extensions = [recorder(seen)];
      const options = { compress: false };
      protocol.sendText("a", true, options);
      protocol.sendBinary(new Uint8Array(1), false, options);
      protocol.sendPing("p");
      protocol.sendContinuation("b", false);
      protocol.sendContinuation("c", true);
      protocol.sendText("d");
      protocol.sendClose(1000);
      assert.deepEqual(seen, [
        [Opcode.TEXT, options],
        [Opcode.BINARY, options],
        [Opcode.PING, undefined],
        [Opcode.CONT, options],
        [Opcode.CONT, options],
        [Opcode.TEXT, undefined],
        [Opcode.CLOSE, undefined],
      ]);
    });
  });
}
