/**
 * Section 7, close handling (RFC 6455 §5.5.1, §7): what follows a close frame
 * is ignored, close payloads are validated (length, code, UTF-8 reason), and
 * valid codes are echoed.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import {
  type CaseDefinition,
  CLEAN_CLOSE,
  type CloseExpectation,
  Code,
  observe,
  type Peer,
} from "../case.js";
import { payloadBytes, WireOpcode } from "../wire.js";

const { TEXT, CONT, PING, CLOSE } = WireOpcode;

/** The fuzzer closed; the implementation must answer 1002 (or drop the connection). */
const ANSWER_PROTOCOL_ERROR: CloseExpectation = {
  closedByMe: true,
  codes: [Code.PROTOCOL_ERROR],
  requireClean: false,
};

function closeCase(
  id: string,
  description: string,
  expectation: string,
  close: CloseExpectation,
  play: (peer: Peer) => Promise<void>,
  extra: Partial<CaseDefinition> = {},
): CaseDefinition {
  return {
    id,
    description,
    expectation,
    expected: { OK: [] },
    close,
    suppressClose: true,
    async run(peer) {
      await play(peer);
      peer.killAfter(1_000);
      return undefined;
    },
    ...extra,
  };
}

const VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
const INVALID_CODES = [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999];
const CLEAN = "A clean close with 1000.";

/** Cases 7.1.1–7.13.2. */
export function closeCases(): CaseDefinition[] {
  const invalidUtf8 = Buffer.from("cebae1bdb9cf83cebcceb5eda080656469746564", "hex");
  const big = payloadBytes("BAsd7&jh23", 256 * 1024);
  const cases: CaseDefinition[] = [
    {
      id: "7.1.1",
      description: 'Sends a text message "Hello World!", then closes.',
      expectation: "The message is echoed, then a clean close with 1000.",
      expected: { OK: [observe.text("Hello World!")] },
      close: CLEAN_CLOSE,
      async run(peer) {
        await peer.send({ opcode: TEXT, payload: "Hello World!" });
        peer.killAfter(1_000);
        return undefined;
      },
    },
    closeCase(
      "7.1.2",
      "Sends two close frames.",
      `${CLEAN} The second close is ignored.`,
      CLEAN_CLOSE,
      async (peer) => {
        await peer.close(1000);
        await peer.send({ opcode: CLOSE });
      },
    ),
    closeCase(
      "7.1.3",
      "Sends a ping after the close frame.",
      `${CLEAN} No pong.`,
      CLEAN_CLOSE,
      async (peer) => {
        await peer.close(1000);
        await peer.send({ opcode: PING });
      },
    ),
    closeCase(
      "7.1.4",
      "Sends a text message after the close frame.",
      `${CLEAN} No echo.`,
      CLEAN_CLOSE,
      async (peer) => {
        await peer.close(1000);
        await peer.send({ opcode: TEXT, payload: "Hello World!" });
      },
    ),
    closeCase(
      "7.1.5",
      "Sends the first frame of a fragmented message, a close frame, then the last frame.",
      `${CLEAN} The unfinished message is dropped.`,
      CLEAN_CLOSE,
      async (peer) => {
        await peer.send({ opcode: TEXT, payload: "fragment1", fin: false });
        await peer.close(1000);
        await peer.send({ opcode: CONT, payload: "fragment2" });
      },
    ),
    {
      id: "7.1.6",
      description:
        'Sends a 256 KiB text message, the text message "Hello World!", a close frame and a ' +
        "ping, back to back.",
      expectation:
        "Left to the implementation: the close may be processed before the messages are " +
        "echoed, in full or in part.",
      expected: { OK: [observe.text(big), observe.text("Hello World!")], "NON-STRICT": [] },
      close: CLEAN_CLOSE,
      informational: true,
      suppressClose: true,
      async run(peer) {
        await peer.send({ opcode: TEXT, payload: big });
        await peer.send({ opcode: TEXT, payload: "Hello World!" });
        await peer.close(1000);
        await peer.send({ opcode: PING });
        peer.killAfter(1_000);
        return undefined;
      },
    },
    closeCase(
      "7.3.1",
      "Sends an empty close frame (no code, no reason).",
      CLEAN,
      CLEAN_CLOSE,
      (peer) => peer.close(),
    ),
    closeCase(
      "7.3.2",
      "Sends a close frame with a 1-byte payload.",
      "The implementation answers 1002 or drops the connection.",
      ANSWER_PROTOCOL_ERROR,
      (peer) => peer.closeWithPayload(Uint8Array.of(0x00)),
    ),
    closeCase(
      "7.3.3",
      "Sends a close frame with code 1000 and no reason.",
      CLEAN,
      CLEAN_CLOSE,
      (peer) => peer.close(1000),
    ),
    closeCase(
      "7.3.4",
      'Sends a close frame with code 1000 and the reason "Hello World!".',
      CLEAN,
      CLEAN_CLOSE,
      (peer) => peer.close(1000, "Hello World!"),
    ),
    closeCase(
      "7.3.5",
      "Sends a close frame with code 1000 and a 123-byte reason (a 125-byte payload).",
      CLEAN,
      CLEAN_CLOSE,
      (peer) => peer.close(1000, "*".repeat(123)),
    ),
    closeCase(
      "7.3.6",
      "Sends a close frame with code 1000 and a 124-byte reason (a 126-byte payload).",
      "The implementation answers 1002 or drops the connection: RFC 6455 §5.5.",
      ANSWER_PROTOCOL_ERROR,
      (peer) => peer.close(1000, "*".repeat(124)),
    ),
    closeCase(
      "7.5.1",
      `Sends a close frame with code 1000 and a reason that is not UTF-8 (${invalidUtf8.toString("hex")}).`,
      "The implementation answers 1002 or 1007, or drops the connection.",
      { closedByMe: true, codes: [Code.PROTOCOL_ERROR, Code.INVALID_PAYLOAD], requireClean: false },
      (peer) => peer.close(1000, invalidUtf8),
    ),
  ];
  VALID_CODES.forEach((code, i) => {
    cases.push(
      closeCase(
        `7.7.${i + 1}`,
        `Sends a close frame with the valid code ${code}.`,
        "A clean close, echoing the code or answering 1000.",
        { closedByMe: true, codes: [Code.NORMAL, code], requireClean: true },
        (peer) => peer.close(code),
      ),
    );
  });
  INVALID_CODES.forEach((code, i) => {
    cases.push(
      closeCase(
        `7.9.${i + 1}`,
        `Sends a close frame with the invalid code ${code}.`,
        "The implementation answers 1002 or drops the connection.",
        ANSWER_PROTOCOL_ERROR,
        (peer) => peer.close(code),
      ),
    );
  });
  for (const [id, code] of [
    ["7.13.1", 5000],
    ["7.13.2", 65535],
  ] as const) {
    cases.push(
      closeCase(
        id,
        `Sends a close frame with code ${code}, outside the range of RFC 6455 §7.4.`,
        "Left to the implementation.",
        { closedByMe: true, codes: [Code.NORMAL, code, Code.PROTOCOL_ERROR], requireClean: false },
        (peer) => peer.close(code),
        { informational: true },
      ),
    );
  }
  return cases;
}
