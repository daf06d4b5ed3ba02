/**
 * RFC 7692 §5 and §7.1: the negotiation of permessage-deflate, in both roles,
 * with its four parameters. A client offers it and checks the server's
 * answer; a server answers the first offer it can honour. Either builds the
 * {@link PerMessageDeflate} extension they agreed on.
 *
 * @module
 */

import {
  DuplicateParameter,
  InvalidParameterName,
  InvalidParameterValue,
  NegotiationError,
} from "../errors.js";
import type {
  ClientExtensionFactory,
  Extension,
  ExtensionParameter,
  ServerExtensionFactory,
} from "./base.js";
import { PERMESSAGE_DEFLATE, PerMessageDeflate } from "./permessage-deflate.js";
import {
  checkSettings,
  checkWindowBits,
  type DeflateSettings,
  MAX_WINDOW_BITS,
} from "./permessage-deflate-settings.js";

/** RFC 7692 §7.1 extension parameters. */
export const DeflateParameter = {
  /** The server compresses each message on its own (RFC 7692 §7.1.1.1). No value. */
  SERVER_NO_CONTEXT_TAKEOVER: "server_no_context_takeover",
  /** The client compresses each message on its own (RFC 7692 §7.1.1.2). No value. */
  CLIENT_NO_CONTEXT_TAKEOVER: "client_no_context_takeover",
  /** The server's window is at most 2^N bytes, N from 8 to 15 (RFC 7692 §7.1.2.1). */
  SERVER_MAX_WINDOW_BITS: "server_max_window_bits",
  /**
   * The client's window is at most 2^N bytes; in an offer, without a value,
   * it lets the server choose N (RFC 7692 §7.1.2.2).
   */
  CLIENT_MAX_WINDOW_BITS: "client_max_window_bits",
} as const;
/** One of {@link DeflateParameter}'s values. */
export type DeflateParameter = (typeof DeflateParameter)[keyof typeof DeflateParameter];

const PARAMETER_NAMES: ReadonlySet<string> = new Set(Object.values(DeflateParameter));

/**
 * RFC 7692 §7.1.2.1: "a decimal integer value without leading zeroes between
 * 8 to 15, inclusive".
 */
const WINDOW_BITS_VALUE = /^(?:[89]|1[0-5])$/;

/** Options of {@link ClientPerMessageDeflateFactory}; the defaults offer what browsers offer. */
export interface ClientPerMessageDeflateOptions extends DeflateSettings {
  /** Asks the server to compress each message on its own (`server_no_context_takeover`). */
  readonly serverNoContextTakeover?: boolean | undefined;
  /** Compresses each message on its own and tells the server (`client_no_context_takeover`). */
  readonly clientNoContextTakeover?: boolean | undefined;
  /** Asks the server to use a window of at most 2^N bytes (`server_max_window_bits=N`). */
  readonly serverMaxWindowBits?: number | null | undefined;
  /**
   * `true` offers `client_max_window_bits` without a value: the server may
   * limit this client's window. A number N also commits this client to a
   * window of at most 2^N bytes. `null` omits the parameter. Default: `true`.
   */
  readonly clientMaxWindowBits?: number | true | null | undefined;
}

/** Offers permessage-deflate from a client and checks the server's answer (RFC 7692 §5, §7.1). */
export class ClientPerMessageDeflateFactory implements ClientExtensionFactory {
  /** The registered name, `"permessage-deflate"`. */
  readonly name = PERMESSAGE_DEFLATE;
  private readonly options: ClientPerMessageDeflateOptions;

  /**
   * Checks the options here, so that a mistake fails when the factory is
   * made rather than in the middle of a handshake.
   *
   * @param options what to offer and how to compress; see
   *   {@link ClientPerMessageDeflateOptions}. Default: `{}`, which offers
   *   `client_max_window_bits` alone, as browsers do.
   * @throws RangeError for window bits other than 8 to 15, or a `level`,
   *   `memLevel` or `threshold` out of range; TypeError for a
   *   `scheduleRelease` that isn't a function.
   */
  constructor(options: ClientPerMessageDeflateOptions = {}) {
    const { serverMaxWindowBits = null, clientMaxWindowBits = true } = options;
    if (serverMaxWindowBits !== null) checkWindowBits(serverMaxWindowBits, "serverMaxWindowBits");
    if (clientMaxWindowBits !== null && clientMaxWindowBits !== true) {
      checkWindowBits(clientMaxWindowBits, "clientMaxWindowBits");
    }
    checkSettings(options);
    this.options = { ...options, serverMaxWindowBits, clientMaxWindowBits };
  }

  /** The offer: the parameters the options ask for; by default `client_max_window_bits` alone. */
  getRequestParams(): ExtensionParameter[] {
    const { serverNoContextTakeover, clientNoContextTakeover } = this.options;
    const { serverMaxWindowBits, clientMaxWindowBits } = this.options;
    const params: ExtensionParameter[] = [];
    if (serverNoContextTakeover) params.push([DeflateParameter.SERVER_NO_CONTEXT_TAKEOVER, null]);
    if (clientNoContextTakeover) params.push([DeflateParameter.CLIENT_NO_CONTEXT_TAKEOVER, null]);
    if (serverMaxWindowBits != null) {
      params.push([DeflateParameter.SERVER_MAX_WINDOW_BITS, String(serverMaxWindowBits)]);
    }
    if (clientMaxWindowBits === true) {
      params.push([DeflateParameter.CLIENT_MAX_WINDOW_BITS, null]);
    } else if (clientMaxWindowBits != null) {
      params.push([DeflateParameter.CLIENT_MAX_WINDOW_BITS, String(clientMaxWindowBits)]);
    }
    return params;
  }

  /**
   * Checks the server's answer against the offer (RFC 7692 §7.1) and builds the extension.
   *
   * @throws NegotiationError (DuplicateParameter, InvalidParameterName,
   *   InvalidParameterValue) for an invalid answer, one that does not honour
   *   the offer, or a second permessage-deflate.
   */
  processResponseParams(
    params: readonly ExtensionParameter[],
    accepted: readonly Extension[],
  ): PerMessageDeflate {
    if (accepted.some((extension) => extension.name === PERMESSAGE_DEFLATE)) {
      throw new NegotiationError(`received duplicate ${PERMESSAGE_DEFLATE}`);
    }
    const response = parseParameters(params, "response");
    const offer = this.options;

    // RFC 7692 §7.1.1.1: "A server accepts an extension negotiation offer that
    // includes the "server_no_context_takeover" extension parameter by
    // including the "server_no_context_takeover" extension parameter in the
    // corresponding extension negotiation response".
    if (offer.serverNoContextTakeover && !response.serverNoContextTakeover) {
      throw new NegotiationError(`expected ${DeflateParameter.SERVER_NO_CONTEXT_TAKEOVER}`);
    }

    // RFC 7692 §7.1.2.1: the server accepts a requested limit "with the same
    // or smaller value"; without a request it may still announce one.
    let remoteMaxWindowBits = response.serverMaxWindowBits ?? MAX_WINDOW_BITS;
    if (offer.serverMaxWindowBits != null) {
      if (response.serverMaxWindowBits === null) {
        throw new NegotiationError(`expected ${DeflateParameter.SERVER_MAX_WINDOW_BITS}`);
      }
      if (response.serverMaxWindowBits > offer.serverMaxWindowBits) {
        throw new InvalidParameterValue(
          DeflateParameter.SERVER_MAX_WINDOW_BITS,
          String(response.serverMaxWindowBits),
        );
      }
      remoteMaxWindowBits = response.serverMaxWindowBits;
    }

    // RFC 7692 §7.1.2.2: the server may answer "client_max_window_bits" only
    // when it was offered, and "MUST NOT include it in the response with a
    // value greater than the received value".
    let localMaxWindowBits: number;
    const offered = offer.clientMaxWindowBits;
    // parseParameters() gives a response's client_max_window_bits a value.
    const answered = response.clientMaxWindowBits;
    if (typeof answered !== "number") {
      localMaxWindowBits = typeof offered === "number" ? offered : MAX_WINDOW_BITS;
    } else if (offered == null) {
      throw new NegotiationError(`unexpected ${DeflateParameter.CLIENT_MAX_WINDOW_BITS}`);
    } else if (offered !== true && answered > offered) {
      throw new InvalidParameterValue(DeflateParameter.CLIENT_MAX_WINDOW_BITS, String(answered));
    } else {
      localMaxWindowBits = answered;
    }

    return new PerMessageDeflate(
      {
        // RFC 7692 §7.1.1.2: a client may always refrain from context
        // takeover, and must when the server says so.
        localNoContextTakeover:
          (offer.clientNoContextTakeover ?? false) || response.clientNoContextTakeover,
        remoteNoContextTakeover: response.serverNoContextTakeover,
        localMaxWindowBits,
        remoteMaxWindowBits,
      },
      offer,
    );
  }
}

/** Options of {@link ServerPerMessageDeflateFactory}; the defaults accept any valid offer as is. */
export interface ServerPerMessageDeflateOptions extends DeflateSettings {
  /** Compresses each message on its own and tells the client (`server_no_context_takeover`). */
  readonly serverNoContextTakeover?: boolean | undefined;
  /** Requires the client to compress each message on its own (`client_no_context_takeover`). */
  readonly clientNoContextTakeover?: boolean | undefined;
  /**
   * Compresses with a window of at most 2^N bytes and tells the client
   * (`server_max_window_bits=N`), so its decompressor can keep less.
   */
  readonly serverMaxWindowBits?: number | null | undefined;
  /**
   * Limits the client's window to 2^N bytes (`client_max_window_bits=N`) when
   * the client's offer allows it, so this side keeps less of its data.
   */
  readonly clientMaxWindowBits?: number | null | undefined;
}

/** Accepts permessage-deflate offers on a server (RFC 7692 §5, §7.1). */
export class ServerPerMessageDeflateFactory implements ServerExtensionFactory {
  /** The registered name, `"permessage-deflate"`. */
  readonly name = PERMESSAGE_DEFLATE;
  private readonly options: ServerPerMessageDeflateOptions;

  /**
   * Checks the options here, so that a mistake fails when the factory is
   * made rather than in the middle of a handshake.
   *
   * @param options what to require or grant and how to compress; see
   *   {@link ServerPerMessageDeflateOptions}. Default: `{}`, which accepts
   *   any valid offer as it is.
   * @throws RangeError for window bits other than 8 to 15, or a `level`,
   *   `memLevel` or `threshold` out of range; TypeError for a
   *   `scheduleRelease` that isn't a function.
   */
  constructor(options: ServerPerMessageDeflateOptions = {}) {
    const { serverMaxWindowBits = null, clientMaxWindowBits = null } = options;
    if (serverMaxWindowBits !== null) checkWindowBits(serverMaxWindowBits, "serverMaxWindowBits");
    if (clientMaxWindowBits !== null) checkWindowBits(clientMaxWindowBits, "clientMaxWindowBits");
    checkSettings(options);
    this.options = { ...options, serverMaxWindowBits, clientMaxWindowBits };
  }

  /**
   * Answers a client's offer (RFC 7692 §7.1): the parameters of the response,
   * which honour the offer and add this server's own limits, and the
   * extension they agree on.
   *
   * @throws NegotiationError to decline an offer with invalid or duplicate
   *   parameters, or a second permessage-deflate offer once one is accepted.
   */
  processRequestParams(
    params: readonly ExtensionParameter[],
    accepted: readonly Extension[],
  ): [ExtensionParameter[], PerMessageDeflate] {
    // RFC 7692 §5: the server accepts at most one of the offers, the first it can honour.
    if (accepted.some((extension) => extension.name === PERMESSAGE_DEFLATE)) {
      throw new NegotiationError(`skipped duplicate ${PERMESSAGE_DEFLATE}`);
    }
    const request = parseParameters(params, "offer");
    const config = this.options;
    const response: ExtensionParameter[] = [];

    // RFC 7692 §7.1.1.1: a server accepts "server_no_context_takeover" by
    // echoing it, and "MAY include" it unasked.
    const serverNoContextTakeover =
      request.serverNoContextTakeover || (config.serverNoContextTakeover ?? false);
    if (serverNoContextTakeover) {
      response.push([DeflateParameter.SERVER_NO_CONTEXT_TAKEOVER, null]);
    }
    // RFC 7692 §7.1.1.2: the server "MAY include" it; echoing the client's own
    // promise lets this side drop its window for the client's data.
    const clientNoContextTakeover =
      request.clientNoContextTakeover || (config.clientNoContextTakeover ?? false);
    if (clientNoContextTakeover) {
      response.push([DeflateParameter.CLIENT_NO_CONTEXT_TAKEOVER, null]);
    }

    // RFC 7692 §7.1.2.1: answer a requested limit "with the same or smaller
    // value"; a server "MAY include" one unasked.
    const serverMaxWindowBits = minimum(request.serverMaxWindowBits, config.serverMaxWindowBits);
    if (serverMaxWindowBits !== null) {
      response.push([DeflateParameter.SERVER_MAX_WINDOW_BITS, String(serverMaxWindowBits)]);
    }

    // RFC 7692 §7.1.2.2: "If a received extension negotiation offer doesn't
    // have the "client_max_window_bits" extension parameter, the
    // corresponding extension negotiation response to the offer MUST NOT
    // include the "client_max_window_bits" extension parameter."
    let clientMaxWindowBits: number | null = null;
    if (request.clientMaxWindowBits === true) {
      clientMaxWindowBits = config.clientMaxWindowBits ?? null;
    } else if (request.clientMaxWindowBits !== null) {
      clientMaxWindowBits = minimum(request.clientMaxWindowBits, config.clientMaxWindowBits);
    }
    if (clientMaxWindowBits !== null) {
      response.push([DeflateParameter.CLIENT_MAX_WINDOW_BITS, String(clientMaxWindowBits)]);
    }

    const extension = new PerMessageDeflate(
      {
        localNoContextTakeover: serverNoContextTakeover,
        remoteNoContextTakeover: clientNoContextTakeover,
        localMaxWindowBits: serverMaxWindowBits ?? MAX_WINDOW_BITS,
        remoteMaxWindowBits: clientMaxWindowBits ?? MAX_WINDOW_BITS,
      },
      config,
    );
    return [response, extension];
  }
}

/** The parameters of one offer or response, validated. */
interface Parameters {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | null;
  /** `true`: present without a value, which only an offer may do. */
  clientMaxWindowBits: number | true | null;
}

/**
 * Validates the parameters of an offer or a response. RFC 7692 §7: a server
 * declines an offer, and a client fails the connection on a response, with
 * an unknown parameter, a parameter given twice, or an invalid value.
 *
 * @throws NegotiationError (DuplicateParameter, InvalidParameterName, InvalidParameterValue).
 */
function parseParameters(
  params: readonly ExtensionParameter[],
  role: "offer" | "response",
): Parameters {
  const parsed: Parameters = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: null,
    clientMaxWindowBits: null,
  };
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (!PARAMETER_NAMES.has(name)) throw new InvalidParameterName(name);
    if (seen.has(name)) throw new DuplicateParameter(name);
    seen.add(name);
    switch (name) {
      case DeflateParameter.SERVER_NO_CONTEXT_TAKEOVER:
      case DeflateParameter.CLIENT_NO_CONTEXT_TAKEOVER:
        // RFC 7692 §7.1.1: "This extension parameter has no value."
        if (value !== null) throw new InvalidParameterValue(name, value);
        if (name === DeflateParameter.SERVER_NO_CONTEXT_TAKEOVER) {
          parsed.serverNoContextTakeover = true;
        } else {
          parsed.clientNoContextTakeover = true;
        }
        break;
      case DeflateParameter.SERVER_MAX_WINDOW_BITS:
        // RFC 7692 §7.1.2.1: this parameter always has a value.
        parsed.serverMaxWindowBits = parseWindowBits(name, value);
        break;
      default:
        // RFC 7692 §7.1.2.2: "This parameter has no value or a decimal integer
        // value" in an offer; a response that has it gives a value.
        parsed.clientMaxWindowBits =
          value === null && role === "offer" ? true : parseWindowBits(name, value);
    }
  }
  return parsed;
}

function parseWindowBits(name: string, value: string | null): number {
  if (value === null || !WINDOW_BITS_VALUE.test(value)) {
    throw new InvalidParameterValue(name, value);
  }
  return Number(value);
}

/** The smaller of two optional limits, or `null` when neither is set. */
function minimum(a: number | null, b: number | null | undefined): number | null {
  if (a === null) return b ?? null;
  if (b == null) return a;
  return Math.min(a, b);
}
