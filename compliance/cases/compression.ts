/**
 * Sections 12 and 13, permessage-deflate (RFC 7692): many compressed
 * messages of growing size, whole or fragmented, echoed and compared; 12
 * with the default offer and five kinds of data, 13 with JSON data and seven
 * negotiations of window sizes and context takeover.
 *
 * Autobahn sends 1000 messages per case; the catalogue's `messageCount`
 * option chooses how many (fewer keeps the run short; compression with
 * context takeover is exercised from the second message on).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import {
  Behavior,
  type CaseDefinition,
  CLEAN_CLOSE,
  type DeflateNegotiation,
  type Peer,
} from "../case.js";
import { acceptOffer, type DeflateOffer, offerHeader, type ReceivedOffer } from "../deflate.js";
import { type DataSet, dataSets } from "./compression-data.js";

/** Autobahn's (payload length, auto-fragment size) pairs; 0 sends one frame. */
const SIZES: readonly (readonly [number, number])[] = [
  [16, 0],
  [64, 0],
  [256, 0],
  [1024, 0],
  [4096, 0],
  [8192, 0],
  [16384, 0],
  [32768, 0],
  [65536, 0],
  [131072, 0],
  [8192, 256],
  [16384, 256],
  [32768, 256],
  [65536, 256],
  [131072, 256],
  [131072, 1024],
  [131072, 4096],
  [131072, 32768],
];

/** The next `length` bytes of `data`, wrapping around. */
function slice(data: Buffer, offset: number, length: number): Buffer {
  const end = offset + length;
  if (end <= data.length) return data.subarray(offset, end);
  return Buffer.concat([data.subarray(offset), data.subarray(0, end - data.length)]);
}

function compressionCase(
  id: string,
  data: DataSet,
  length: number,
  fragmentSize: number,
  count: number,
  negotiation: DeflateNegotiation,
  negotiationText: string,
): CaseDefinition {
  return {
    id,
    description:
      `Sends ${count} compressed ${data.binary ? "binary" : "text"} messages of ${length} bytes ` +
      `(${data.description})` +
      (fragmentSize > 0 ? `, in frames of ${fragmentSize} bytes` : "") +
      `, one at a time; ${negotiationText}.`,
    expectation: "Every message is echoed unchanged; a clean close with 1000.",
    expected: {},
    close: CLEAN_CLOSE,
    reportTime: true,
    deflate: negotiation,
    async run(peer: Peer) {
      if (peer.compression === null) {
        await peer.close(1000);
        return { behavior: Behavior.UNIMPLEMENTED, result: "permessage-deflate was not agreed" };
      }
      peer.closeAfter(480_000);
      let offset = 0;
      for (let i = 0; i < count; i++) {
        const message = slice(data.bytes, offset, length);
        offset = (offset + length) % data.bytes.length;
        await peer.sendMessage(message, {
          binary: data.binary,
          compress: true,
          ...(fragmentSize > 0 ? { fragmentSize } : {}),
        });
        const echo = await peer.nextMessage();
        if (echo === null) {
          return { behavior: Behavior.FAILED, result: `connection closed after ${i} echoes` };
        }
        if (echo.binary !== data.binary || !echo.data.equals(message)) {
          await peer.close(1000);
          return {
            behavior: Behavior.FAILED,
            result: `echo ${i + 1} differs: ${echo.binary ? "binary" : "text"}, ${echo.data.length} bytes`,
          };
        }
      }
      await peer.close(1000);
      return {
        behavior: Behavior.OK,
        result: `received all ${count} echoes; agreed: ${peer.compression}`,
      };
    },
  };
}

/** Autobahn's server accepts of section 13, in terms of the client's offers. */
type Accept = (offers: readonly ReceivedOffer[]) => ReceivedOffer | null;
const anyOffer: Accept = (offers) => offers[0] ?? null;
const withNoContext: Accept = (offers) => offers.find((o) => o.clientNoContextTakeover) ?? null;
const withWindow: Accept = (offers) => offers.find((o) => o.clientMaxWindowBits !== null) ?? null;
const withBoth: Accept = (offers) =>
  offers.find((o) => o.clientNoContextTakeover && o.clientMaxWindowBits !== null) ?? null;

/** (offers of the fuzzing client, accept of the fuzzing server, its description) for 13.1–13.7. */
const NEGOTIATIONS: readonly [readonly DeflateOffer[], DeflateNegotiation["accept"], string][] = [
  [[{}], (o) => acceptIf(anyOffer(o)), "accepts the offer"],
  [
    [{ requestNoContextTakeover: true }],
    (o) => acceptIf(withNoContext(o), true),
    "asks for client_no_context_takeover",
  ],
  [
    [{ requestMaxWindowBits: 8 }],
    (o) => acceptIf(withWindow(o), false, 8),
    "asks for client_max_window_bits=8",
  ],
  [
    [{ requestMaxWindowBits: 15 }],
    (o) => acceptIf(withWindow(o), false, 15),
    "asks for client_max_window_bits=15",
  ],
  [
    [{ requestNoContextTakeover: true, requestMaxWindowBits: 8 }],
    (o) => acceptIf(withBoth(o), true, 8),
    "asks for client_no_context_takeover and client_max_window_bits=8",
  ],
  [
    [{ requestNoContextTakeover: true, requestMaxWindowBits: 15 }],
    (o) => acceptIf(withBoth(o), true, 15),
    "asks for client_no_context_takeover and client_max_window_bits=15",
  ],
  [
    [
      { requestNoContextTakeover: true, requestMaxWindowBits: 8 },
      { requestNoContextTakeover: true },
      {},
    ],
    (o) =>
      acceptIf(withBoth(o), true, 8) ?? acceptIf(withNoContext(o), true) ?? acceptIf(anyOffer(o)),
    "asks for the most it can get of client_no_context_takeover and client_max_window_bits=8",
  ],
];

function acceptIf(offer: ReceivedOffer | null, noContext = false, windowBits = 0) {
  return offer === null ? null : acceptOffer(offer, noContext, windowBits);
}

/** Options of the compression cases. */
export interface CompressionCaseOptions {
  /** Messages per case; Autobahn sends 1000. */
  readonly messageCount: number;
}

/** Cases 12.1.1–13.7.18. */
export function compressionCases(options: CompressionCaseOptions): CaseDefinition[] {
  const count = options.messageCount;
  const cases: CaseDefinition[] = [];
  const defaultOffer: DeflateNegotiation = {
    offers: [{}],
    accept: (offers) => acceptIf(anyOffer(offers)),
  };
  dataSets().forEach((data, group) => {
    SIZES.forEach(([length, fragmentSize], i) => {
      cases.push(
        compressionCase(
          `12.${group + 1}.${i + 1}`,
          data,
          length,
          fragmentSize,
          count,
          defaultOffer,
          `the fuzzing client offers "${offerHeader([{}])}", the fuzzing server accepts the offer`,
        ),
      );
    });
  });
  const json = dataSets()[0]!;
  NEGOTIATIONS.forEach(([offers, accept, acceptText], group) => {
    SIZES.forEach(([length, fragmentSize], i) => {
      cases.push(
        compressionCase(
          `13.${group + 1}.${i + 1}`,
          json,
          length,
          fragmentSize,
          count,
          { offers, accept },
          `the fuzzing client offers "${offerHeader(offers)}", the fuzzing server ${acceptText}`,
        ),
      );
    });
  });
  return cases;
}
