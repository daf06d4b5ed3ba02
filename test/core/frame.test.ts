import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Frame } from "../../src/core/frame.js";
import { Opcode } from "../../src/core/opcodes.js";
import { utf8 } from "../helpers/bytes.js";

describe("Frame", () => {
  it("describes frames", () => {
    assert.equal(new Frame(Opcode.TEXT, utf8("Hello")).toString(), "TEXT FIN [5 bytes]");
    assert.equal(new Frame(Opcode.CONT, utf8("x"), false, true).toString(), "CONT RSV1 [1 bytes]");
    assert.equal(
      new Frame(Opcode.PING, utf8(""), true, false, true, true).toString(),
      "PING FIN RSV2 RSV3 [0 bytes]",
    );
  });
});
