/**
 * Section 1, framing: text and binary messages whose lengths straddle the
 * 7-bit, 16-bit and 64-bit length encodings of RFC 6455 §5.2.
 *
 * @module
 */

import { type CaseDefinition, CLEAN_CLOSE, observe } from "../case.js";
import { payloadBytes, WireOpcode } from "../wire.js";

/** 125 and below fit the 7-bit length; 126 to 65535 take 16 bits; 65536 takes 64. */
const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536] as const;

function echoCase(id: string, binary: boolean, length: number, chopSize?: number): CaseDefinition {
  const filler = binary ? Uint8Array.of(0xfe) : "*";
  const payload = payloadBytes(filler, length);
  const kind = binary ? "binary" : "text";
  return {
    id,
    description:
      `Sends a ${kind} message of ${length} bytes` +
      (chopSize === undefined ? "." : `, written in pieces of ${chopSize} bytes.`),
    expectation: "The message comes back unchanged; the fuzzer then closes cleanly with 1000.",
    expected: { OK: [binary ? observe.binary(payload) : observe.text(payload)] },
    close: CLEAN_CLOSE,
    async run(peer) {
      const opcode = binary ? WireOpcode.BINARY : WireOpcode.TEXT;
      await peer.send({ opcode, payload }, chopSize === undefined ? {} : { chopSize });
      peer.killAfter(10_000);
      return undefined;
    },
  };
}

/** Cases 1.1.1–1.2.8. */
export function framingCases(): CaseDefinition[] {
  const cases: CaseDefinition[] = [];
  for (const [group, binary] of [
    ["1.1", false],
    ["1.2", true],
  ] as const) {
    LENGTHS.forEach((length, i) => {
      cases.push(echoCase(`${group}.${i + 1}`, binary, length));
    });
    cases.push(echoCase(`${group}.8`, binary, 65536, 997));
  }
  return cases;
}
