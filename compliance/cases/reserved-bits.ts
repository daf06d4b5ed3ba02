/**
 * Section 3, reserved bits (RFC 6455 §5.2): with no extension negotiated,
 * a frame with any of RSV1–RSV3 set fails the connection.
 *
 * @module
 */

import {
  type CaseDefinition,
  FAIL_PROTOCOL,
  observe,
  type Peer,
  type SendOptions,
} from "../case.js";
import { WireOpcode } from "../wire.js";

const HELLO = "Hello, world!";

/** "RSV = n" as Autobahn numbers it: RSV1 = 4, RSV2 = 2, RSV3 = 1. */
function rsvName(rsv: number): string {
  const bits = [4, 2, 1].flatMap((bit, i) => ((rsv & bit) !== 0 ? [`RSV${i + 1}`] : []));
  return `RSV = ${rsv} (${bits.join(" + ")})`;
}

function howSent(options: SendOptions): string {
  if (options.chopSize === 1) return ", written a byte at a time";
  if (options.sync) return ", each frame written on its own";
  return "";
}

/** A good message, a bad one, then a ping: the echo must come out, the pong must not. */
function afterEchoCase(id: string, rsv: number, options: SendOptions): CaseDefinition {
  return {
    id,
    description:
      `Sends a small text message, the same message with ${rsvName(rsv)}, then a ping` +
      `${howSent(options)}.`,
    expectation:
      "The first message is echoed, then the connection is failed (1002); no pong. " +
      "Failing before the echo is NON-STRICT.",
    expected: { OK: [observe.text(HELLO)], "NON-STRICT": [] },
    close: FAIL_PROTOCOL,
    async run(peer) {
      await peer.send({ opcode: WireOpcode.TEXT, payload: HELLO }, options);
      await peer.send({ opcode: WireOpcode.TEXT, payload: HELLO, rsv }, options);
      await peer.send({ opcode: WireOpcode.PING }, options);
      peer.killAfter(1_000);
      return undefined;
    },
  };
}

function failCase(
  id: string,
  description: string,
  send: (peer: Peer) => Promise<void>,
): CaseDefinition {
  return {
    id,
    description,
    expectation: "The connection is failed at once (1002).",
    expected: { OK: [] },
    close: FAIL_PROTOCOL,
    async run(peer) {
      await send(peer);
      peer.killAfter(1_000);
      return undefined;
    },
  };
}

/** Cases 3.1–3.7. */
export function reservedBitsCases(): CaseDefinition[] {
  return [
    failCase("3.1", `Sends a small text message with ${rsvName(1)}.`, (peer) =>
      peer.send({ opcode: WireOpcode.TEXT, payload: HELLO, rsv: 1 }),
    ),
    afterEchoCase("3.2", 2, {}),
    afterEchoCase("3.3", 3, { sync: true }),
    afterEchoCase("3.4", 4, { chopSize: 1 }),
    failCase("3.5", `Sends a small binary message with ${rsvName(5)}.`, (peer) =>
      peer.send({
        opcode: WireOpcode.BINARY,
        payload: Uint8Array.of(0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff),
        rsv: 5,
      }),
    ),
    failCase("3.6", `Sends a ping with ${rsvName(6)}.`, (peer) =>
      peer.send({ opcode: WireOpcode.PING, payload: HELLO, rsv: 6 }),
    ),
    failCase("3.7", `Sends a close frame with ${rsvName(7)}.`, (peer) =>
      peer.send({ opcode: WireOpcode.CLOSE, rsv: 7 }),
    ),
  ];
}
