/**
 * Section 4, opcodes (RFC 6455 §5.2): a frame with a reserved opcode, data
 * (3–7) or control (11–15), fails the connection.
 *
 * @module
 */

import { type CaseDefinition, FAIL_PROTOCOL, observe } from "../case.js";
import { WireOpcode } from "../wire.js";

const HELLO = "Hello, world!";
const RESERVED_PAYLOAD = "reserved opcode payload";

function reservedOpcodeCase(id: string, opcode: number, variant: number): CaseDefinition {
  const kind = opcode < 8 ? "non-control" : "control";
  const withPayload = variant !== 1 && variant !== 3;
  const frame = { opcode, payload: withPayload ? RESERVED_PAYLOAD : "" };
  const afterEcho = variant >= 3;
  const what = `a frame with the reserved ${kind} opcode ${opcode}${withPayload ? " and a payload" : ""}`;
  return {
    id,
    description: afterEcho
      ? `Sends a small text message, then ${what}, then a ping.`
      : `Sends ${what}.`,
    expectation: afterEcho
      ? "The message is echoed, then the connection is failed (1002); no pong. " +
        "Failing before the echo is NON-STRICT."
      : "The connection is failed at once (1002).",
    expected: afterEcho ? { OK: [observe.text(HELLO)], "NON-STRICT": [] } : { OK: [] },
    close: FAIL_PROTOCOL,
    async run(peer) {
      if (afterEcho) await peer.send({ opcode: WireOpcode.TEXT, payload: HELLO });
      await peer.send(frame);
      if (afterEcho) await peer.send({ opcode: WireOpcode.PING });
      peer.killAfter(1_000);
      return undefined;
    },
  };
}

/** Cases 4.1.1–4.2.5: opcodes 3–7, then 11–15. */
export function opcodeCases(): CaseDefinition[] {
  const cases: CaseDefinition[] = [];
  for (const [group, first] of [
    ["4.1", 3],
    ["4.2", 11],
  ] as const) {
    for (let variant = 1; variant <= 5; variant++) {
      cases.push(reservedOpcodeCase(`${group}.${variant}`, first + variant - 1, variant));
    }
  }
  return cases;
}
