/**
 * Section 9, limits and performance: large messages, large fragmented
 * messages, messages written in small pieces, and round trips. Each case
 * records its duration; the verdict only says whether the echo was right
 * and arrived in time (the budget is generous: timings are informational).
 *
 * The implementation under test must accept messages of 16 MiB: the runner
 * configures it so, as Autobahn's testees are configured.
 *
 * @module
 */

import type { Buffer } from "node:buffer";
import { type CaseDefinition, CLEAN_CLOSE, type Peer } from "../case.js";
import { payloadBytes, WireOpcode } from "../wire.js";

const KiB = 1024;
const MiB = 1024 * KiB;

const TEXT_FILLER = "BAsd7&jh23";
const BINARY_FILLER = Uint8Array.of(0xfe);

function sizeName(bytes: number): string {
  return bytes >= MiB ? `${bytes / MiB} MiB` : bytes >= KiB ? `${bytes / KiB} KiB` : `${bytes} B`;
}

function echoOnce(
  id: string,
  description: string,
  binary: boolean,
  payload: Buffer,
  send: (peer: Peer) => Promise<void>,
  budgetMs: number,
): CaseDefinition {
  return {
    id,
    description,
    expectation: `The message is echoed within ${budgetMs / 1000} s; a clean close with 1000.`,
    expected: {},
    close: CLEAN_CLOSE,
    reportTime: true,
    async run(peer) {
      peer.closeAfter(budgetMs);
      await send(peer);
      const echo = await peer.nextMessage();
      if (echo === null) return { behavior: "FAILED", result: "no echo before the close" };
      await peer.close(1000);
      if (echo.binary !== binary || !echo.data.equals(payload)) {
        const kind = echo.binary ? "binary" : "text";
        return { behavior: "FAILED", result: `echo differs: ${kind}, ${echo.data.length} bytes` };
      }
      return { behavior: "OK", result: `echoed ${payload.length} bytes` };
    },
  };
}

/**
 * Cases 9.1.1–9.8.6. `sizeScale` divides every message size (1 runs
 * Autobahn's sizes); the budgets do not change.
 */
export function performanceCases(sizeScale = 1): CaseDefinition[] {
  const scaled = (bytes: number) => Math.max(1, Math.floor(bytes / sizeScale));
  const cases: CaseDefinition[] = [];
  const groups = [
    ["9.1", false],
    ["9.2", true],
  ] as const;
  for (const [group, binary] of groups) {
    [64 * KiB, 256 * KiB, MiB, 4 * MiB, 8 * MiB, 16 * MiB].forEach((size, i) => {
      const length = scaled(size);
      const payload = payloadBytes(binary ? BINARY_FILLER : TEXT_FILLER, length);
      cases.push(
        echoOnce(
          `${group}.${i + 1}`,
          `Sends a ${binary ? "binary" : "text"} message of ${sizeName(length)}.`,
          binary,
          payload,
          (peer) => peer.send({ opcode: binary ? WireOpcode.BINARY : WireOpcode.TEXT, payload }),
          Math.max(10_000, (size / MiB) * 5_000),
        ),
      );
    });
  }
  for (const [group, binary] of [
    ["9.3", false],
    ["9.4", true],
  ] as const) {
    const length = scaled(4 * MiB);
    const payload = payloadBytes(binary ? BINARY_FILLER : "*", length);
    [64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB, 256 * KiB, MiB, 4 * MiB].forEach((size, i) => {
      const fragmentSize = Math.min(length, scaled(size));
      cases.push(
        echoOnce(
          `${group}.${i + 1}`,
          `Sends a ${binary ? "binary" : "text"} message of ${sizeName(length)} in frames of ` +
            `${sizeName(fragmentSize)}.`,
          binary,
          payload,
          (peer) => peer.sendMessage(payload, { binary, fragmentSize }),
          100_000,
        ),
      );
    });
  }
  for (const [group, binary] of [
    ["9.5", false],
    ["9.6", true],
  ] as const) {
    const length = scaled(MiB);
    const payload = payloadBytes(binary ? BINARY_FILLER : TEXT_FILLER, length);
    [64, 128, 256, 512, 1024, 2048].forEach((chopSize, i) => {
      cases.push(
        echoOnce(
          `${group}.${i + 1}`,
          `Sends a ${binary ? "binary" : "text"} message of ${sizeName(length)} in one frame, ` +
            `written in pieces of ${chopSize} bytes.`,
          binary,
          payload,
          (peer) =>
            peer.send(
              { opcode: binary ? WireOpcode.BINARY : WireOpcode.TEXT, payload },
              { chopSize },
            ),
          100_000,
        ),
      );
    });
  }
  for (const [group, binary] of [
    ["9.7", false],
    ["9.8", true],
  ] as const) {
    [0, 16, 64, 256, 1024, 4096].forEach((length, i) => {
      cases.push(roundTrips(`${group}.${i + 1}`, binary, length, 1000));
    });
  }
  return cases;
}

/** 9.7 and 9.8: sends a message, waits for its echo, and again, `count` times. */
function roundTrips(id: string, binary: boolean, length: number, count: number): CaseDefinition {
  const payload = payloadBytes(binary ? BINARY_FILLER : "*", length);
  const budgetMs = 60_000;
  return {
    id,
    description:
      `Sends ${count} ${binary ? "binary" : "text"} messages of ${length} bytes, one at a ` +
      "time, each after the echo of the previous one (round-trip time).",
    expectation: `All ${count} echoes arrive within ${budgetMs / 1000} s; a clean close with 1000.`,
    expected: {},
    close: CLEAN_CLOSE,
    reportTime: true,
    async run(peer) {
      peer.closeAfter(budgetMs);
      const opcode = binary ? WireOpcode.BINARY : WireOpcode.TEXT;
      for (let i = 0; i < count; i++) {
        await peer.send({ opcode, payload });
        const echo = await peer.nextMessage();
        if (echo === null) {
          return { behavior: "FAILED", result: `connection closed after ${i} echoes` };
        }
        if (echo.binary !== binary || !echo.data.equals(payload)) {
          await peer.close(1000);
          return { behavior: "FAILED", result: `echo ${i + 1} differs from the message sent` };
        }
      }
      await peer.close(1000);
      return { behavior: "OK", result: `received all ${count} echoes` };
    },
  };
}
