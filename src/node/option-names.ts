/**
 * The names of the options each public entry point takes, and the check that
 * refuses any other. TypeScript rejects a misspelled option at compile time;
 * plain JavaScript would run with the default instead, without a word
 * (`pingIntervall: 5_000` keeps pinging every 20 s). Python's websockets
 * raises `TypeError` for an unknown keyword argument; so do these entry
 * points, naming the option and, when one is close, the option meant.
 *
 * Each list is checked against its interface at compile time, both ways: a
 * name that is not a key doesn't satisfy `(keyof T)[]`, and a key the list
 * leaves out fails {@link ListsEveryKey}. A new option can't be forgotten here.
 *
 * @module
 */

import { kindOf } from "../core/describe-value.js";
import type { HttpLimits } from "../core/http-limits.js";
import type { BasicAuthOptions } from "./auth.js";
import type { ConnectOptions } from "./client.js";
import type { CompressionOptions, DeflateOptions } from "./compression.js";
import type { ConnectionOptions } from "./connection.js";
import type { BackoffOptions, ReconnectOptions } from "./reconnect.js";
import type { ServeOptions, ServerCloseOptions } from "./server.js";

/**
 * `true` when `Names` lists every key of `T`; otherwise the keys it leaves
 * out, which `true` doesn't satisfy: `true satisfies ListsEveryKey<T, typeof
 * NAMES>` fails to compile, and the error names them.
 */
export type ListsEveryKey<T, Names extends readonly PropertyKey[]> = [
  Exclude<keyof T, Names[number]>,
] extends [never]
  ? true
  : { unlisted: Exclude<keyof T, Names[number]> };

/** What {@link checkOptionNames} accepts in one options object. */
export interface OptionNames {
  /** The option names. */
  readonly names: ReadonlySet<string>;
  /**
   * Options whose value is an options object of its own with a fixed set of
   * names (`deflate`, `httpLimits`), checked likewise. Not `tls` or `tcp`,
   * which are passed on to Node: Node's options are Node's to check.
   */
  readonly nested: ReadonlyMap<string, OptionNames>;
}

/** An {@link OptionNames} from a list of names and the options objects nested in it. */
export function optionNames(
  names: readonly string[],
  nested: Readonly<Record<string, OptionNames>> = {},
): OptionNames {
  return { names: new Set(names), nested: new Map(Object.entries(nested)) };
}

/** The names of `names` that are not in `excluded`, typed as such. */
export function without<const Name extends string, const Excluded extends Name>(
  names: readonly Name[],
  excluded: readonly Excluded[],
): Exclude<Name, Excluded>[] {
  return names.filter(
    (name): name is Exclude<Name, Excluded> => !(excluded as readonly string[]).includes(name),
  );
}

// The names each options interface declares, in its order. Each list is
// followed by the check that it lists them all: adding an option to an
// interface without adding it here fails to compile, rather than making the
// new option an unknown one at run time.

export const DEFLATE_OPTION_NAMES = [
  "windowBits",
  "peerWindowBits",
  "noContextTakeover",
  "peerNoContextTakeover",
  "level",
  "memLevel",
  "threshold",
] as const satisfies readonly (keyof DeflateOptions)[];
true satisfies ListsEveryKey<DeflateOptions, typeof DEFLATE_OPTION_NAMES>;

export const HTTP_LIMITS_OPTION_NAMES = [
  "maxLineLength",
  "maxHeaders",
  "maxHeaderSize",
  "maxBodySize",
] as const satisfies readonly (keyof HttpLimits)[];
true satisfies ListsEveryKey<HttpLimits, typeof HTTP_LIMITS_OPTION_NAMES>;

export const CONNECTION_OPTION_NAMES = [
  "maxMessageSize",
  "maxQueue",
  "writeHighWaterMark",
  "openTimeout",
  "closeTimeout",
  "pingInterval",
  "pingTimeout",
  "logger",
] as const satisfies readonly (keyof ConnectionOptions)[];
true satisfies ListsEveryKey<ConnectionOptions, typeof CONNECTION_OPTION_NAMES>;

export const COMPRESSION_OPTION_NAMES = [
  "compression",
  "deflate",
] as const satisfies readonly (keyof CompressionOptions)[];
true satisfies ListsEveryKey<CompressionOptions, typeof COMPRESSION_OPTION_NAMES>;

export const SERVE_OPTION_NAMES = [
  ...CONNECTION_OPTION_NAMES,
  ...COMPRESSION_OPTION_NAMES,
  "host",
  "port",
  "path",
  "backlog",
  "tls",
  "server",
  "listen",
  "origins",
  "subprotocols",
  "selectSubprotocol",
  "extensions",
  "processRequest",
  "processResponse",
  "serverHeader",
  "httpLimits",
] as const satisfies readonly (keyof ServeOptions)[];
true satisfies ListsEveryKey<ServeOptions, typeof SERVE_OPTION_NAMES>;

export const CONNECT_OPTION_NAMES = [
  ...CONNECTION_OPTION_NAMES,
  ...COMPRESSION_OPTION_NAMES,
  "origin",
  "subprotocols",
  "requireSubprotocol",
  "extensions",
  "additionalHeaders",
  "userAgent",
  "signal",
  "tls",
  "httpLimits",
  "path",
  "proxy",
  "proxyTls",
  "maxRedirects",
  "tcp",
  "socket",
] as const satisfies readonly (keyof ConnectOptions)[];
true satisfies ListsEveryKey<ConnectOptions, typeof CONNECT_OPTION_NAMES>;

export const BACKOFF_OPTION_NAMES = [
  "initialDelay",
  "maxDelay",
  "backoffFactor",
] as const satisfies readonly (keyof BackoffOptions)[];
true satisfies ListsEveryKey<BackoffOptions, typeof BACKOFF_OPTION_NAMES>;

export const RECONNECT_OPTION_NAMES = [
  ...CONNECT_OPTION_NAMES,
  ...BACKOFF_OPTION_NAMES,
  "shouldRetry",
] as const satisfies readonly (keyof ReconnectOptions)[];
true satisfies ListsEveryKey<ReconnectOptions, typeof RECONNECT_OPTION_NAMES>;

export const SERVER_CLOSE_OPTION_NAMES = [
  "code",
  "reason",
] as const satisfies readonly (keyof ServerCloseOptions)[];
true satisfies ListsEveryKey<ServerCloseOptions, typeof SERVER_CLOSE_OPTION_NAMES>;

export const BASIC_AUTH_OPTION_NAMES = [
  "credentials",
  "check",
  "realm",
] as const satisfies readonly (keyof BasicAuthOptions)[];
true satisfies ListsEveryKey<BasicAuthOptions, typeof BASIC_AUTH_OPTION_NAMES>;

/** The options objects nested in those of `connect()` and `serve()`. */
export const NESTED_OPTIONS: Readonly<Record<string, OptionNames>> = {
  deflate: optionNames(DEFLATE_OPTION_NAMES),
  httpLimits: optionNames(HTTP_LIMITS_OPTION_NAMES),
};

export const SERVE_OPTIONS = optionNames(SERVE_OPTION_NAMES, NESTED_OPTIONS);
export const CONNECT_OPTIONS = optionNames(CONNECT_OPTION_NAMES, NESTED_OPTIONS);
export const RECONNECT_OPTIONS = optionNames(RECONNECT_OPTION_NAMES, NESTED_OPTIONS);
export const BACKOFF_OPTIONS = optionNames(BACKOFF_OPTION_NAMES);
export const SERVER_CLOSE_OPTIONS = optionNames(SERVER_CLOSE_OPTION_NAMES);
export const BASIC_AUTH_OPTIONS = optionNames(BASIC_AUTH_OPTION_NAMES);

/**
 * Checks that `options` is an object whose own keys are all option names
 * that `caller` takes, and so are those of the options objects nested in it.
 * A known name whose value is `undefined` is fine: it takes the default.
 *
 * @param caller how the error names the entry point: `"serve()"`.
 * @throws TypeError for `options` that is not an object, or an option name
 *   that is not one of `allowed`, with the closest name if one is close.
 */
export function checkOptionNames(options: unknown, allowed: OptionNames, caller: string): void {
  checkObject(options, allowed, caller, "");
}

function checkObject(options: unknown, allowed: OptionNames, caller: string, prefix: string): void {
  if (typeof options !== "object" || options === null) {
    const what = prefix === "" ? "an options object" : `an object for ${prefix.slice(0, -1)}`;
    throw new TypeError(`${caller} takes ${what}; got ${kindOf(options)}`);
  }
  // for…in rather than Object.keys(): no array is made for the usual few options.
  for (const name in options) {
    if (!allowed.names.has(name) && Object.hasOwn(options, name)) {
      throw new TypeError(unknownOptionMessage(name, allowed.names, caller, prefix));
    }
  }
  for (const [name, nested] of allowed.nested) {
    const value = (options as Record<string, unknown>)[name];
    // null has always meant the defaults, as undefined does, for these.
    if (value !== undefined && value !== null)
      checkObject(value, nested, caller, `${prefix}${name}.`);
  }
}

/** `unknown option "maxMesageSize" for serve(); did you mean "maxMessageSize"?` */
function unknownOptionMessage(
  name: string,
  names: Iterable<string>,
  caller: string,
  prefix: string,
): string {
  const message = `unknown option ${JSON.stringify(prefix + name)} for ${caller}`;
  const suggestion = closestName(name, names);
  return suggestion === null
    ? message
    : `${message}; did you mean ${JSON.stringify(prefix + suggestion)}?`;
}

/** Edits ({@link editDistance}) up to which a name counts as a misspelling of another. */
const MAX_EDITS = 2;

/**
 * The name of `names` that `name` is most likely a misspelling of: the first
 * of those fewest edits away, regardless of case ({@link editDistance}), if
 * that is at most {@link MAX_EDITS} and fewer than the length of `name`
 * (`"to"`, two edits from `"tls"`, would be a guess, not a misspelling);
 * `null` when none is that close.
 */
export function closestName(name: string, names: Iterable<string>): string | null {
  const lower = name.toLowerCase();
  let best: string | null = null;
  // Exclusive: a candidate must come closer than this.
  let bound = Math.min(MAX_EDITS, name.length - 1) + 1;
  for (const candidate of names) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bound) {
      best = candidate;
      bound = distance;
    }
  }
  return best;
}

/**
 * The optimal string alignment distance between `a` and `b`: the fewest
 * insertions, deletions, substitutions and swaps of two adjacent characters
 * that turn one into the other. A swap counts once, as typing makes them:
 * `"pnig"` is one edit from `"ping"`, where Levenshtein's distance says two.
 */
export function editDistance(a: string, b: string): number {
  // Three rows of the dynamic programming table: the current one and the two before.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, before[j - 2] + 1);
      }
      current[j] = distance;
    }
    [before, previous, current] = [previous, current, before];
  }
  return previous[b.length];
}
