/**
 * The command line of `websockets-ts`: which command to run, with which
 * options. Only syntax is checked here; files named by options are read by
 * the commands.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { isFieldValueChar, isToken } from "../core/field-syntax.js";
import { redactTypedUri } from "../core/redact-uri.js";
import { isHandshakeField } from "../node/client.js";
import { parseProxy } from "../node/proxy.js";
import { escapeControl } from "./escape.js";

/** Host of `websockets-ts serve` without `--host`. */
export const DEFAULT_HOST = "127.0.0.1";
/** Port of `websockets-ts serve` without `--port`, as in the seed's echo server. */
export const DEFAULT_PORT = 8001;

/** The synopsis that starts {@link USAGE} and {@link SHORT_USAGE}. */
const SYNOPSIS = `usage: websockets-ts <uri>
           [-H "NAME: VALUE"]... [-s NAME]... [-o ORIGIN] [--ca FILE]... [-k]
           [--proxy URL | --unix-socket PATH] [--no-compression]
           [--max-size BYTES]
       websockets-ts serve [--host HOST] [--port PORT | --path PATH]
           [--tls-cert FILE --tls-key FILE] [-s NAME]... [--no-compression]
           [--max-size BYTES]
       websockets-ts --help | --version
`;

/** Printed after a usage error, below the error: the synopsis, and where to read more. */
export const SHORT_USAGE = `${SYNOPSIS}Try 'websockets-ts --help' for more.
`;

/** Printed by `--help`: the synopsis, every option, and examples. */
export const USAGE = `${SYNOPSIS}
  <uri>                 connect to a ws:// or wss:// URI; send each line read
                        from stdin as a text message and print each message
                        received
  -H, --header "NAME: VALUE"
                        add a header to the handshake request (repeatable)
  -s, --subprotocol NAME
                        offer a subprotocol (repeatable, in order of
                        preference); with serve, one it accepts
  -o, --origin ORIGIN   send this Origin header
  --ca FILE             trust the CA certificates of this PEM file for wss://
                        (repeatable) instead of the system's
  -k, --insecure        don't check the server's TLS certificate
  --proxy URL           connect through an http://, https://, socks5:// or
                        socks5h:// proxy; "env" reads HTTPS_PROXY, HTTP_PROXY,
                        ALL_PROXY and NO_PROXY, which are ignored otherwise
  --unix-socket PATH    connect to this Unix socket; the URI still gives the
                        Host header and the path

  serve                 run an echo server
  --host HOST           interface to listen on (default ${DEFAULT_HOST})
  --port PORT           port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
  --path PATH           listen on this Unix socket instead of HOST and PORT
  --tls-cert FILE, --tls-key FILE
                        serve wss:// with this certificate and private key (PEM)

  --no-compression      don't negotiate permessage-deflate
  --max-size BYTES      largest message accepted, e.g. 65536, 64K or 16M
                        (default 1M; 0 or "none": no limit)
  -h, --help            show this help
  --version             show the version

examples:
  websockets-ts ws://127.0.0.1:8001/
  websockets-ts -H "Authorization: Bearer $TOKEN" -s chat.v2 -s chat.v1 \\
      wss://example.com/chat
  websockets-ts --ca ca.pem wss://localhost:8443/
  websockets-ts --unix-socket /run/app.sock ws://localhost/
  websockets-ts serve --port 8443 --tls-cert cert.pem --tls-key key.pem
`;

/** What `websockets-ts <uri>` is asked to do. */
export interface ClientCommand {
  readonly kind: "client";
  readonly uri: string;
  /** `-H`: request headers, in order, repeated names included. */
  readonly headers: readonly (readonly [name: string, value: string])[];
  /** `-s`: subprotocols to offer, in order of preference. */
  readonly subprotocols: readonly string[];
  /** `-o`: value of the `Origin` header. */
  readonly origin: string | undefined;
  /** `--ca`: PEM files of CA certificates, to read. */
  readonly ca: readonly string[];
  /** `-k`: don't check the server's certificate. */
  readonly insecure: boolean;
  /** `--proxy`: a proxy URL, or `true` for the environment's (`--proxy env`). */
  readonly proxy: string | true | undefined;
  /** `--unix-socket`: path of a Unix socket to connect to. */
  readonly unixSocket: string | undefined;
  /** `false` with `--no-compression`. */
  readonly compression: boolean;
  /** `--max-size`: bytes, `null` for no limit, `undefined` for the default. */
  readonly maxSize: number | null | undefined;
}

/** What `websockets-ts serve` is asked to do. */
export interface ServeCommand {
  readonly kind: "serve";
  /** Interface and port to listen on, unless there is a {@link path}. */
  readonly host: string;
  readonly port: number;
  /** `--path`: Unix socket to listen on instead of host and port. */
  readonly path: string | undefined;
  /** `--tls-cert` and `--tls-key`: PEM files to read; both or neither. */
  readonly tls: { readonly cert: string; readonly key: string } | undefined;
  /** `-s`: subprotocols accepted, in order of preference; a client must offer one of them. */
  readonly subprotocols: readonly string[];
  /** `false` with `--no-compression`. */
  readonly compression: boolean;
  /** `--max-size`: bytes, `null` for no limit, `undefined` for the default. */
  readonly maxSize: number | null | undefined;
}

/** What the command line asks for. */
export type Command =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | ClientCommand
  | ServeCommand;

/** The command line is not valid: the CLI prints this and the short usage, and exits with 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

const OPTIONS = {
  header: { type: "string", short: "H", multiple: true },
  subprotocol: { type: "string", short: "s", multiple: true },
  origin: { type: "string", short: "o" },
  ca: { type: "string", multiple: true },
  insecure: { type: "boolean", short: "k" },
  proxy: { type: "string" },
  "unix-socket": { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  path: { type: "string" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "no-compression": { type: "boolean" },
  "max-size": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

type OptionName = keyof typeof OPTIONS;

/** Options that only one of the commands takes; the others take both. */
const CLIENT_ONLY: readonly OptionName[] = [
  "header",
  "origin",
  "ca",
  "insecure",
  "proxy",
  "unix-socket",
];
const SERVE_ONLY: readonly OptionName[] = ["host", "port", "path", "tls-cert", "tls-key"];

/** Options whose value names a file: an empty one is a mistake, not a file. */
const FILE_OPTIONS: readonly OptionName[] = ["ca", "unix-socket", "path", "tls-cert", "tls-key"];

/**
 * Parses the arguments that follow the program name.
 *
 * @throws UsageError for an unknown option, a missing or extra argument, an
 *   option that does not belong to the command or contradicts another one,
 *   or an invalid value: an empty host, a port outside 0–65535, a header
 *   that isn't `Name: value` or that only the handshake sets (`Upgrade`,
 *   `Sec-WebSocket-Protocol`, …), an empty origin or one with control
 *   characters, a subprotocol that isn't a token, a malformed proxy URL or
 *   size.
 */
export function parseCommand(argv: readonly string[]): Command {
  const { values, positionals } = parseOptions(argv);
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };

  const [first, ...rest] = positionals;
  if (first === undefined) throw new UsageError("missing a URI or a command");
  if (rest.length > 0) {
    // A second URI may hold credentials too, and any argument control characters.
    throw new UsageError(`unexpected argument: ${escapeControl(redactTypedUri(rest[0]!))}`);
  }
  const given = (name: OptionName): boolean => values[name] !== undefined;
  for (const name of FILE_OPTIONS) {
    const value = values[name];
    if (value === "" || (Array.isArray(value) && value.includes(""))) {
      throw new UsageError(`--${name} needs a file name`);
    }
  }
  const compression = values["no-compression"] !== true;
  const maxSize = values["max-size"] === undefined ? undefined : parseSize(values["max-size"]);

  if (first === "serve") {
    const misplaced = CLIENT_ONLY.find(given);
    if (misplaced !== undefined) throw new UsageError(`--${misplaced} doesn't apply to serve`);
    if (given("path") && (given("host") || given("port"))) {
      throw new UsageError("--path replaces --host and --port");
    }
    const cert = values["tls-cert"];
    const key = values["tls-key"];
    if ((cert === undefined) !== (key === undefined)) {
      throw new UsageError(
        cert === undefined ? "--tls-key needs --tls-cert" : "--tls-cert needs --tls-key",
      );
    }
    // An empty host listens on every interface: `--host "$HOST"` with HOST
    // unset would expose the server that defaults to loopback.
    if (values.host === "") throw new UsageError("--host needs a host name or address");
    return {
      kind: "serve",
      host: values.host === undefined ? DEFAULT_HOST : unbracketed(values.host),
      port: values.port === undefined ? DEFAULT_PORT : parsePort(values.port),
      path: values.path,
      tls: cert === undefined || key === undefined ? undefined : { cert, key },
      subprotocols: (values.subprotocol ?? []).map(parseSubprotocol),
      compression,
      maxSize,
    };
  }
  const misplaced = SERVE_ONLY.find(given);
  if (misplaced !== undefined) throw new UsageError(`--${misplaced} only applies to serve`);
  if (given("proxy") && given("unix-socket")) {
    throw new UsageError("--proxy and --unix-socket don't go together");
  }
  return {
    kind: "client",
    uri: first,
    headers: (values.header ?? []).map(parseHeader).map(refuseHandshakeField),
    subprotocols: (values.subprotocol ?? []).map(parseSubprotocol),
    origin: values.origin === undefined ? undefined : parseOrigin(values.origin),
    ca: values.ca ?? [],
    insecure: values.insecure === true,
    proxy: values.proxy === undefined ? undefined : parseProxyOption(values.proxy),
    unixSocket: values["unix-socket"],
    compression,
    maxSize,
  };
}

function parseOptions(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(describeParseError(error, argv));
  }
}

/**
 * An error of `parseArgs()` in the words of the other usage errors:
 * `unknown option --bogus` for `Unknown option '--bogus'. To specify a
 * positional argument starting with a '-', …`, `--header needs a value` for
 * `Option '-H, --header <value>' argument missing`, `-k takes no value` for
 * `-k=1`, which parseArgs calls `Unknown option '-='`. An error it doesn't
 * recognize keeps its first sentence, without the advice for scripts that
 * follows.
 */
function describeParseError(error: unknown, argv: readonly string[]): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const equals = describeShortEquals(argv);
    if (equals !== undefined) return escapeControl(equals);
    const option = /^Unknown option '(.+?)'(?:\. |\.?$)/s.exec(message)?.[1];
    if (option !== undefined) return `unknown option ${escapeControl(option)}`;
  } else if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    // Options are named as `'-H, --header <value>'` or `'--port'`; when
    // given by their short name alone (`'-o'`), the long one is in the advice.
    const name = /--([a-z][a-z-]*)/.exec(message)?.[1];
    if (name !== undefined && Object.hasOwn(OPTIONS, name)) {
      const option = `--${name}`;
      if (message.includes("argument missing")) return `${option} needs a value`;
      if (message.includes("does not take an argument")) return `${option} takes no value`;
      // `--port -1`: a value that starts with a dash, or a forgotten value.
      if (message.includes("argument is ambiguous")) {
        return `${option} needs a value; for one that starts with "-", write ${option}=VALUE`;
      }
    }
  }
  return message.split(/\.\s|\n/)[0]!.replace(/\.$/, "");
}

/**
 * What is wrong when the unknown option is a `=` in a group of short options,
 * which parseArgs reads letter by letter: `-k=1` is `-k -= -1`, where `-=`
 * is unknown, though the user meant to give `-k` a value, as `--name=VALUE`
 * does; `-=1` is no option at all. `undefined` when the unknown option is
 * something else. (A short option that takes a value takes the rest of the
 * group, `=` included: `-s=chat` offers `=chat`, as getopt would.)
 */
function describeShortEquals(argv: readonly string[]): string | undefined {
  // Not strict, to get the tokens strict mode would have thrown at; they are the same.
  const { tokens } = parseArgs({
    args: [...argv],
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const unknown = tokens.findIndex(
    (token) => token.kind === "option" && !Object.hasOwn(OPTIONS, token.name),
  );
  const token = tokens[unknown];
  if (token?.kind !== "option" || token.rawName !== "-=") return undefined;
  const previous = tokens[unknown - 1];
  if (previous?.kind === "option" && previous.index === token.index) {
    return `${previous.rawName} takes no value`;
  }
  return `unknown option ${argv[token.index]}`;
}

function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port <= 65535)) throw new UsageError(`invalid port: ${escapeControl(text)}`);
  return port;
}

/**
 * An IPv6 address as URIs write it, `[::1]`, is the address `::1` to listen
 * on: Node's `listen()` would look the bracketed form up as a host name.
 */
function unbracketed(host: string): string {
  return /^\[[^[\]]*:[^[\]]*\]$/.test(host) ? host.slice(1, -1) : host;
}

/** Multipliers of the suffixes of `--max-size`: binary, as memory is counted. */
const SIZE_UNITS: Readonly<Record<string, number>> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * A `--max-size`: a number of bytes, optionally followed by `K`, `M` or `G`
 * (KiB, MiB, GiB); `0` and `none` mean no limit, which is `null` for
 * `maxMessageSize`.
 */
export function parseSize(text: string): number | null {
  if (text.toLowerCase() === "none") return null;
  const match = /^(\d{1,15})([kmg]?)$/i.exec(text);
  if (match === null) throw new UsageError(`invalid size: ${escapeControl(text)}`);
  const size = Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!;
  if (!Number.isSafeInteger(size)) throw new UsageError(`invalid size: ${text}`);
  return size === 0 ? null : size;
}

/**
 * A `-H "Name: value"`: a token, a colon, and a value without control
 * characters; whitespace around the value is dropped, as HTTP does.
 */
export function parseHeader(text: string): [name: string, value: string] {
  const colon = text.indexOf(":");
  const name = text.slice(0, Math.max(colon, 0));
  if (!isToken(name)) {
    throw new UsageError(`invalid header: ${escapeControl(text)} (expected "Name: value")`);
  }
  const value = text.slice(colon + 1).replace(/^[\t ]+|[\t ]+$/g, "");
  if (!isFieldValue(value)) {
    throw new UsageError(`invalid character in the value of header ${name}`);
  }
  return [name, value];
}

/**
 * What the command line offers instead of a `-H` with a field that only the
 * handshake sets, by lowercase name; the other such fields have no option.
 */
const HANDSHAKE_FIELD_OPTIONS: Readonly<Record<string, string>> = {
  "sec-websocket-protocol": "offer subprotocols with -s NAME",
  "sec-websocket-extensions": "it offers permessage-deflate unless --no-compression",
};

/**
 * A `-H` header, unless it sets a field that only the handshake sets
 * (`Upgrade`, `Sec-WebSocket-Protocol`, …), which `connect()` refuses: as a
 * usage error, that names the option to use rather than connect()'s.
 */
function refuseHandshakeField(header: [name: string, value: string]): [string, string] {
  const [name] = header;
  if (!isHandshakeField(name)) return header;
  const instead = HANDSHAKE_FIELD_OPTIONS[name.toLowerCase()];
  throw new UsageError(
    `--header can't set ${name}: the handshake sets it${instead === undefined ? "" : `; ${instead}`}`,
  );
}

/**
 * Whether `value` can be sent as a header's value: no control characters
 * (CR and LF would start another header) and nothing above U+00FF, as the
 * client checks when it connects.
 */
function isFieldValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    if (!isFieldValueChar(value.charCodeAt(i))) return false;
  }
  return true;
}

/**
 * A `-o ORIGIN`, checked as a `-H` value is, rather than by `connect()`,
 * which would exit with 1. Its form isn't checked: a server's origin check
 * may be tried with any value. An empty one is most likely `-o "$ORIGIN"`
 * with ORIGIN unset.
 */
function parseOrigin(text: string): string {
  if (text === "") throw new UsageError("--origin needs an origin, e.g. https://example.com");
  if (!isFieldValue(text)) throw new UsageError("invalid character in the value of --origin");
  return text;
}

/** A `-s NAME`: a subprotocol is a token (RFC 6455 §4.1). */
function parseSubprotocol(text: string): string {
  if (!isToken(text)) throw new UsageError(`invalid subprotocol: ${escapeControl(text)}`);
  return text;
}

/** A `--proxy`: `env` for the environment's, else a proxy URL, checked now rather than at connect. */
function parseProxyOption(text: string): string | true {
  if (text === "env") return true;
  try {
    parseProxy(text);
  } catch (error) {
    throw new UsageError(`invalid --proxy: ${error instanceof Error ? error.message : error}`);
  }
  return text;
}
