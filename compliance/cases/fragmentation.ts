/**
 * Section 5, fragmentation (RFC 6455 §5.4): continuation sequencing, control
 * frames between fragments, fragmented control frames, and indifference to
 * how the bytes are cut into TCP segments.
 *
 * @module
 */

import {
  type CaseDefinition,
  CLEAN_CLOSE,
  FAIL_PROTOCOL,
  observe,
  type Peer,
  type SendOptions,
} from "../case.js";
import { type FrameSpec, WireOpcode } from "../wire.js";

const { TEXT, CONT, PING, PONG } = WireOpcode;

const CHOPS: readonly [string, SendOptions][] = [
  ["", {}],
  [", each frame written on its own", { sync: true }],
  [", written a byte at a time", { chopSize: 1 }],
];

async function sendAll(peer: Peer, frames: readonly FrameSpec[], options: SendOptions = {}) {
  for (const frame of frames) await peer.send(frame, options);
}

function failCase(
  id: string,
  description: string,
  frames: readonly FrameSpec[],
  options: SendOptions = {},
): CaseDefinition {
  return {
    id,
    description,
    expectation: "The connection is failed at once (1002).",
    expected: { OK: [] },
    close: FAIL_PROTOCOL,
    async run(peer) {
      await sendAll(peer, frames, options);
      peer.killAfter(1_000);
      return undefined;
    },
  };
}

/** Cases 5.1–5.20. */
export function fragmentationCases(): CaseDefinition[] {
  const cases: CaseDefinition[] = [];
  for (const [id, opcode, name] of [
    ["5.1", PING, "ping"],
    ["5.2", PONG, "pong"],
  ] as const) {
    cases.push(
      failCase(id, `Sends a ${name} fragmented into 2 frames.`, [
        { opcode, payload: "fragment1", fin: false },
        { opcode: CONT, payload: "fragment2" },
      ]),
    );
  }

  CHOPS.forEach(([how, options], i) => {
    cases.push({
      id: `5.${3 + i}`,
      description: `Sends a text message fragmented into 2 frames${how}.`,
      expectation: "The message is echoed; a clean close with 1000.",
      expected: { OK: [observe.text("fragment1fragment2")] },
      close: CLEAN_CLOSE,
      async run(peer) {
        await sendAll(
          peer,
          [
            { opcode: TEXT, payload: "fragment1", fin: false },
            { opcode: CONT, payload: "fragment2" },
          ],
          options,
        );
        peer.closeAfter(1_000);
        return undefined;
      },
    });
  });

  CHOPS.forEach(([how, options], i) => {
    cases.push({
      id: `5.${6 + i}`,
      description: `Sends a text message in 2 frames with a ping between them${how}.`,
      expectation:
        "The pong comes first (RFC 6455 §5.4: control frames may be injected between " +
        "fragments), then the message; a clean close with 1000.",
      expected: { OK: [observe.pong("ping payload"), observe.text("fragment1fragment2")] },
      close: CLEAN_CLOSE,
      async run(peer) {
        await sendAll(
          peer,
          [
            { opcode: TEXT, payload: "fragment1", fin: false },
            { opcode: PING, payload: "ping payload" },
            { opcode: CONT, payload: "fragment2" },
          ],
          options,
        );
        peer.closeAfter(1_000);
        return undefined;
      },
    });
  });

  CHOPS.forEach(([how, options], i) => {
    cases.push(
      failCase(
        `5.${9 + i}`,
        `Sends a continuation frame with FIN set when no message is in progress, then a ` +
          `text message${how}.`,
        [
          { opcode: CONT, payload: "non-continuation payload" },
          { opcode: TEXT, payload: "Hello, world!" },
        ],
        options,
      ),
    );
  });

  CHOPS.forEach(([how, options], i) => {
    cases.push(
      failCase(
        `5.${12 + i}`,
        `Sends a continuation frame without FIN when no message is in progress, then a ` +
          `text message${how}.`,
        [
          { opcode: CONT, payload: "non-continuation payload", fin: false },
          { opcode: TEXT, payload: "Hello, world!" },
        ],
        options,
      ),
    );
  });

  cases.push({
    id: "5.15",
    description:
      "Sends a text message in 2 frames, then a continuation frame without FIN that " +
      "continues nothing, then a text message, all in one write.",
    expectation:
      "The first message is echoed, then the connection is failed (1002). Failing before the " +
      "echo is NON-STRICT.",
    expected: { OK: [observe.text("fragment1fragment2")], "NON-STRICT": [] },
    close: FAIL_PROTOCOL,
    async run(peer) {
      await sendAll(peer, [
        { opcode: TEXT, payload: "fragment1", fin: false },
        { opcode: CONT, payload: "fragment2" },
        { opcode: CONT, payload: "fragment3", fin: false },
        { opcode: TEXT, payload: "fragment4" },
      ]);
      peer.killAfter(1_000);
      return undefined;
    },
  });

  for (const [id, firstFin] of [
    ["5.16", false],
    ["5.17", true],
  ] as const) {
    const round: FrameSpec[] = [
      { opcode: CONT, payload: "fragment1", fin: firstFin },
      { opcode: TEXT, payload: "fragment2", fin: false },
      { opcode: CONT, payload: "fragment3" },
    ];
    cases.push(
      failCase(
        id,
        `Twice: a continuation frame ${firstFin ? "with" : "without"} FIN that continues ` +
          "nothing, then a text message in 2 frames.",
        [...round, ...round],
      ),
    );
  }

  cases.push(
    failCase("5.18", "Sends a text message in 2 frames whose opcodes are both text.", [
      { opcode: TEXT, payload: "fragment1", fin: false },
      { opcode: TEXT, payload: "fragment2" },
    ]),
  );

  for (const [id, sync] of [
    ["5.19", false],
    ["5.20", true],
  ] as const) {
    const fragments = ["fragment1", "fragment2", "fragment3", "fragment4", "fragment5"];
    cases.push({
      id,
      description:
        "Sends a text message in 5 frames: 2 frames and a ping, a 1 s wait, 2 more frames, " +
        `another ping, the last frame${sync ? ", each frame written on its own" : ""}.`,
      expectation:
        "The first pong arrives before the message is complete, then the second, then the " +
        "message; a clean close with 1000.",
      expected: {
        OK: [
          observe.pong("pongme 1!"),
          observe.pong("pongme 2!"),
          observe.text(fragments.join("")),
        ],
      },
      close: CLEAN_CLOSE,
      async run(peer) {
        const options = { sync };
        await sendAll(
          peer,
          [
            { opcode: TEXT, payload: fragments[0], fin: false },
            { opcode: CONT, payload: fragments[1], fin: false },
            { opcode: PING, payload: "pongme 1!" },
          ],
          options,
        );
        await peer.wait(1_000);
        await sendAll(
          peer,
          [
            { opcode: CONT, payload: fragments[2], fin: false },
            { opcode: CONT, payload: fragments[3], fin: false },
            { opcode: PING, payload: "pongme 2!" },
            { opcode: CONT, payload: fragments[4] },
          ],
          options,
        );
        peer.closeAfter(1_000);
        return undefined;
      },
    });
  }
  return cases;
}
