/**
 * Section 2, pings and pongs (RFC 6455 §5.5.2, §5.5.3): every ping gets a
 * pong with the same data, unsolicited pongs get nothing, and a ping longer
 * than 125 bytes fails the connection.
 *
 * @module
 */

import { type CaseDefinition, CLEAN_CLOSE, FAIL_PROTOCOL, observe } from "../case.js";
import { payloadBytes, WireOpcode } from "../wire.js";

function pingCase(
  id: string,
  description: string,
  payload: Uint8Array | string,
  chopSize?: number,
): CaseDefinition {
  return {
    id,
    description,
    expectation: "A pong with the same payload; the fuzzer then closes cleanly with 1000.",
    expected: { OK: [observe.pong(payload)] },
    close: CLEAN_CLOSE,
    async run(peer) {
      await peer.send({ opcode: WireOpcode.PING, payload }, chopSize ? { chopSize } : {});
      peer.closeAfter(chopSize ? 2_000 : 1_000);
      return undefined;
    },
  };
}

function unsolicitedPongCase(id: string, payload: string): CaseDefinition {
  return {
    id,
    description:
      `Sends an unsolicited pong ${payload ? `with payload "${payload}"` : "without payload"}, ` +
      "then a close frame (1000).",
    expectation: "Nothing in reply to the pong; a clean close with 1000.",
    expected: { OK: [] },
    close: CLEAN_CLOSE,
    async run(peer) {
      await peer.send({ opcode: WireOpcode.PONG, payload });
      await peer.close(1000);
      peer.closeAfter(1_000);
      return undefined;
    },
  };
}

function tenPingsCase(id: string, chopSize?: number): CaseDefinition {
  const payloads = Array.from({ length: 10 }, (_, i) => `payload-${i}`);
  return {
    id,
    description:
      "Sends 10 pings with payloads payload-0 … payload-9" +
      (chopSize ? ", written a byte at a time." : "."),
    expectation:
      "A pong for each ping, in order (RFC 6455 allows answering only the latest; " +
      "Autobahn checks for all of them). A clean close with 1000.",
    expected: { OK: payloads.map((payload) => observe.pong(payload)) },
    close: CLEAN_CLOSE,
    async run(peer) {
      for (const payload of payloads) {
        await peer.send({ opcode: WireOpcode.PING, payload }, chopSize ? { chopSize } : {});
      }
      peer.closeAfter(3_000);
      return undefined;
    },
  };
}

/** Cases 2.1–2.11. */
export function pingCases(): CaseDefinition[] {
  const fe125 = payloadBytes(Uint8Array.of(0xfe), 125);
  return [
    pingCase("2.1", "Sends a ping without payload.", ""),
    pingCase("2.2", 'Sends a ping with the text payload "Hello, world!".', "Hello, world!"),
    pingCase(
      "2.3",
      "Sends a ping with a small binary payload that is not UTF-8 (00 ff fe fd fc fb 00 ff).",
      Uint8Array.of(0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff),
    ),
    pingCase("2.4", "Sends a ping with a 125-byte binary payload, the most allowed.", fe125),
    {
      id: "2.5",
      description: "Sends a ping with a 126-byte payload, one more than control frames allow.",
      expectation: "The connection is failed at once (1002): RFC 6455 §5.5.",
      expected: { OK: [] },
      close: FAIL_PROTOCOL,
      async run(peer) {
        await peer.send({
          opcode: WireOpcode.PING,
          payload: payloadBytes(Uint8Array.of(0xfe), 126),
        });
        peer.killAfter(1_000);
        return undefined;
      },
    },
    pingCase(
      "2.6",
      "Sends a ping with a 125-byte binary payload, written a byte at a time.",
      fe125,
      1,
    ),
    unsolicitedPongCase("2.7", ""),
    unsolicitedPongCase("2.8", "unsolicited pong payload"),
    {
      id: "2.9",
      description: 'Sends an unsolicited pong, then a ping with payload "ping payload".',
      expectation: "Nothing for the pong, a pong with the ping's payload; a clean close.",
      expected: { OK: [observe.pong("ping payload")] },
      close: CLEAN_CLOSE,
      async run(peer) {
        await peer.send({ opcode: WireOpcode.PONG, payload: "unsolicited pong payload" });
        await peer.send({ opcode: WireOpcode.PING, payload: "ping payload" });
        peer.closeAfter(1_000);
        return undefined;
      },
    },
    tenPingsCase("2.10"),
    tenPingsCase("2.11", 1),
  ];
}
