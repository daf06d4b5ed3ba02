/**
 * The suite's own permessage-deflate (RFC 7692), for sections 12 and 13:
 * negotiation in both roles, with Autobahn's vocabulary of offers and
 * accepts, and a message compressor and decompressor over zlib streams.
 * Independent of `src/`, like the rest of the suite.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import * as zlib from "node:zlib";

/** RFC 7692 §7: the extension's name. */
export const PERMESSAGE_DEFLATE = "permessage-deflate";

/**
 * A client's offer, as Autobahn describes it: what the client lets the
 * server ask of it (`accept…`) and what it asks of the server (`request…`).
 */
export interface DeflateOffer {
  /** The offer carries `client_no_context_takeover`. Default: true. */
  readonly acceptNoContextTakeover?: boolean;
  /** The offer carries `client_max_window_bits` (no value). Default: true. */
  readonly acceptMaxWindowBits?: boolean;
  /** The offer carries `server_no_context_takeover`. Default: false. */
  readonly requestNoContextTakeover?: boolean;
  /** The offer carries `server_max_window_bits=N`; 0 for none. Default: 0. */
  readonly requestMaxWindowBits?: number;
}

/** One offer received from a client, parsed. */
export interface ReceivedOffer {
  readonly clientNoContextTakeover: boolean;
  /** `true` for the parameter without a value, `null` when absent. */
  readonly clientMaxWindowBits: number | true | null;
  readonly serverNoContextTakeover: boolean;
  readonly serverMaxWindowBits: number | null;
}

/** What was agreed, as RFC 7692 §7.1 parameters of the response. */
export interface Agreement {
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  /** `null`: no limit, a 2^15 window. */
  readonly serverMaxWindowBits: number | null;
  readonly clientMaxWindowBits: number | null;
}

/** The `Sec-WebSocket-Extensions` value of a list of offers. */
export function offerHeader(offers: readonly DeflateOffer[]): string {
  return offers
    .map((offer) => {
      const params = [PERMESSAGE_DEFLATE];
      if (offer.acceptNoContextTakeover ?? true) params.push("client_no_context_takeover");
      if (offer.acceptMaxWindowBits ?? true) params.push("client_max_window_bits");
      if (offer.requestNoContextTakeover) params.push("server_no_context_takeover");
      if (offer.requestMaxWindowBits) {
        params.push(`server_max_window_bits=${offer.requestMaxWindowBits}`);
      }
      return params.join("; ");
    })
    .join(", ");
}

/** The `Sec-WebSocket-Extensions` value of a server's response. */
export function agreementHeader(agreement: Agreement): string {
  const params = [PERMESSAGE_DEFLATE];
  if (agreement.serverNoContextTakeover) params.push("server_no_context_takeover");
  if (agreement.clientNoContextTakeover) params.push("client_no_context_takeover");
  if (agreement.serverMaxWindowBits !== null) {
    params.push(`server_max_window_bits=${agreement.serverMaxWindowBits}`);
  }
  if (agreement.clientMaxWindowBits !== null) {
    params.push(`client_max_window_bits=${agreement.clientMaxWindowBits}`);
  }
  return params.join("; ");
}

/** Why a negotiation is invalid. */
export class NegotiationViolation extends Error {}

type Params = Map<string, string | true>;

/** RFC 7692 §5.1 / RFC 6455 §9.1 extension lists, leniently tokenized. */
function parseExtensions(value: string): { name: string; params: Params }[] {
  return value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => {
      const [name, ...rest] = item.split(";").map((part) => part.trim());
      const params: Params = new Map();
      for (const param of rest) {
        if (param === "") continue;
        const eq = param.indexOf("=");
        const key = (eq === -1 ? param : param.slice(0, eq)).trim();
        const raw =
          eq === -1
            ? true
            : param
                .slice(eq + 1)
                .trim()
                .replace(/^"|"$/g, "");
        if (params.has(key)) throw new NegotiationViolation(`repeated parameter ${key}`);
        params.set(key, raw);
      }
      return { name: name!.toLowerCase(), params };
    });
}

/** RFC 7692 §7.1.2.1: a window size is a decimal 8–15 without leading zeroes. */
function windowBits(value: string | true, name: string): number {
  if (value === true || !/^(?:[89]|1[0-5])$/.test(value)) {
    throw new NegotiationViolation(`invalid ${name}: ${String(value)}`);
  }
  return Number(value);
}

function flag(params: Params, name: string): boolean {
  const value = params.get(name);
  if (value === undefined) return false;
  if (value !== true) throw new NegotiationViolation(`${name} takes no value`);
  return true;
}

const KNOWN = new Set([
  "server_no_context_takeover",
  "client_no_context_takeover",
  "server_max_window_bits",
  "client_max_window_bits",
]);

/** Parses a client's permessage-deflate offers (other extensions are skipped). */
export function parseOffers(value: string | undefined): ReceivedOffer[] {
  if (value === undefined) return [];
  const offers: ReceivedOffer[] = [];
  for (const { name, params } of parseExtensions(value)) {
    if (name !== PERMESSAGE_DEFLATE) continue;
    if ([...params.keys()].some((key) => !KNOWN.has(key))) continue;
    const client = params.get("client_max_window_bits");
    const server = params.get("server_max_window_bits");
    offers.push({
      clientNoContextTakeover: flag(params, "client_no_context_takeover"),
      clientMaxWindowBits:
        client === undefined ? null : client === true ? true : windowBits(client, "window"),
      serverNoContextTakeover: flag(params, "server_no_context_takeover"),
      serverMaxWindowBits: server === undefined ? null : windowBits(server, "window"),
    });
  }
  return offers;
}

/**
 * Checks a server's response against the fuzzing client's offers and returns
 * what it agreed, or `null` when the server declined compression.
 *
 * @throws NegotiationViolation when the response breaks RFC 7692 §7.1.
 */
export function parseResponse(
  value: string | undefined,
  offers: readonly DeflateOffer[],
): Agreement | null {
  if (value === undefined) return null;
  const extensions = parseExtensions(value);
  if (extensions.length === 0) return null;
  if (extensions.length > 1 || extensions[0]!.name !== PERMESSAGE_DEFLATE) {
    throw new NegotiationViolation(`unexpected extensions: ${value}`);
  }
  const { params } = extensions[0]!;
  for (const key of params.keys()) {
    if (!KNOWN.has(key)) throw new NegotiationViolation(`unknown parameter ${key}`);
  }
  const server = params.get("server_max_window_bits");
  const client = params.get("client_max_window_bits");
  const agreement: Agreement = {
    serverNoContextTakeover: flag(params, "server_no_context_takeover"),
    clientNoContextTakeover: flag(params, "client_no_context_takeover"),
    serverMaxWindowBits: server === undefined ? null : windowBits(server, "server_max_window_bits"),
    clientMaxWindowBits: client === undefined ? null : windowBits(client, "client_max_window_bits"),
  };
  // RFC 7692 §5: the response must answer one of the offers.
  const answered = offers.some((offer) => {
    // §7.1.1.1: a requested server_no_context_takeover must be accepted as is.
    if (offer.requestNoContextTakeover && !agreement.serverNoContextTakeover) return false;
    // §7.1.2.1: a requested server window must be answered with one no larger.
    const requested = offer.requestMaxWindowBits ?? 0;
    if (requested > 0 && (agreement.serverMaxWindowBits ?? 15) > requested) return false;
    // §7.1.2.2: client_max_window_bits only when the offer had it.
    if (agreement.clientMaxWindowBits !== null && !(offer.acceptMaxWindowBits ?? true)) {
      return false;
    }
    return true;
  });
  if (!answered) throw new NegotiationViolation(`the response answers no offer: ${value}`);
  return agreement;
}

/**
 * Autobahn's server accept: agrees to `offer`, honouring what the client
 * requested, and asking of the client `requestNoContextTakeover` and
 * `requestMaxWindowBits` (0 for nothing).
 */
export function acceptOffer(
  offer: ReceivedOffer,
  requestNoContextTakeover = false,
  requestMaxWindowBits = 0,
): Agreement {
  return {
    serverNoContextTakeover: offer.serverNoContextTakeover,
    clientNoContextTakeover: requestNoContextTakeover,
    serverMaxWindowBits: offer.serverMaxWindowBits,
    clientMaxWindowBits: requestMaxWindowBits === 0 ? null : requestMaxWindowBits,
  };
}

/** The agreement as seen by one side: how it compresses and how its peer does. */
export interface DeflateSettings {
  readonly sendWindowBits: number;
  readonly sendNoContextTakeover: boolean;
  readonly receiveWindowBits: number;
  readonly receiveNoContextTakeover: boolean;
}

/** The settings of the side playing `role` under `agreement`. */
export function settingsFor(agreement: Agreement, role: "client" | "server"): DeflateSettings {
  const server = {
    windowBits: agreement.serverMaxWindowBits ?? 15,
    noContextTakeover: agreement.serverNoContextTakeover,
  };
  const client = {
    windowBits: agreement.clientMaxWindowBits ?? 15,
    noContextTakeover: agreement.clientNoContextTakeover,
  };
  const [mine, theirs] = role === "server" ? [server, client] : [client, server];
  return {
    sendWindowBits: mine.windowBits,
    sendNoContextTakeover: mine.noContextTakeover,
    receiveWindowBits: theirs.windowBits,
    receiveNoContextTakeover: theirs.noContextTakeover,
  };
}

/** RFC 7692 §7.2.1: the end of an empty stored block, removed from each message. */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Runs `input` through a zlib stream up to a sync flush and collects the output. */
function process(stream: zlib.DeflateRaw | zlib.InflateRaw, input: Buffer[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer) => chunks.push(chunk);
    const onError = (error: Error) => {
      stream.off("data", onData);
      reject(error);
    };
    stream.on("data", onData);
    stream.once("error", onError);
    for (const chunk of input) stream.write(chunk);
    stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      stream.off("data", onData);
      stream.off("error", onError);
      resolve(Buffer.concat(chunks));
    });
  });
}

/** Compresses and decompresses messages for one side of a connection. */
export class MessageCodec {
  private deflater: zlib.DeflateRaw | null = null;
  private inflater: zlib.InflateRaw | null = null;

  constructor(private readonly settings: DeflateSettings) {}

  /** RFC 7692 §7.2.1: compresses a message, without the 4-byte tail. */
  async compress(message: Buffer): Promise<Buffer> {
    this.deflater ??= zlib.createDeflateRaw({ windowBits: this.settings.sendWindowBits });
    let output = await process(this.deflater, [message]);
    if (output.length >= 4 && output.subarray(-4).equals(TAIL)) output = output.subarray(0, -4);
    if (this.settings.sendNoContextTakeover) this.reset("deflater");
    return output;
  }

  /**
   * RFC 7692 §7.2.2: decompresses a message, with the window and context the
   * peer agreed to: a peer that breaks its agreement makes this fail.
   */
  async decompress(payload: Buffer): Promise<Buffer> {
    this.inflater ??= zlib.createInflateRaw({ windowBits: this.settings.receiveWindowBits });
    try {
      return await process(this.inflater, [payload, TAIL]);
    } finally {
      if (this.settings.receiveNoContextTakeover) this.reset("inflater");
    }
  }

  /** Releases the zlib streams. */
  close(): void {
    this.reset("deflater");
    this.reset("inflater");
  }

  private reset(which: "deflater" | "inflater"): void {
    this[which]?.close();
    this[which] = null;
  }
}
