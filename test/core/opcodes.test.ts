import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isControlOpcode, Opcode } from "../../src/core/opcodes.js";

describe("opcodes", () => {
  it("tells control opcodes from data opcodes", () => {
    assert.deepEqual(
      [Opcode.CONT, Opcode.TEXT, Opcode.BINARY, Opcode.CLOSE, Opcode.PING, Opcode.PONG].map(
        isControlOpcode,
      ),
      [false, false, false, true, true, true],
    );
  });
});
