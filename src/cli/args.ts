/**
 * The command line of `websockets-ts`: which command to run, with which
 * options.
 *
 * @module
 */

import { parseArgs } from "node:util";

/** Host of `websockets-ts serve` without `--host`. */
export const DEFAULT_HOST = "127.0.0.1";
/** Port of `websockets-ts serve` without `--port`, as in the seed's echo server. */
export const DEFAULT_PORT = 8001;

/** Printed by `--help`, and after a usage error. */
export const USAGE = `usage: websockets-ts <uri>
       websockets-ts serve [--host HOST] [--port PORT]
       websockets-ts --help | --version

  <uri>          connect to a ws:// or wss:// URI; send each line read from
                 stdin as a text message and print each message received
  serve          run an echo server on HOST (default ${DEFAULT_HOST}) and
                 PORT (default ${DEFAULT_PORT}; 0 picks a free port)
  -h, --help     show this help
  --version      show the version
`;

/** What the command line asks for. */
export type Command =
  | { readonly kind: "help" }
  | { readonly kind: "version" }
  | { readonly kind: "client"; readonly uri: string }
  | { readonly kind: "serve"; readonly host: string; readonly port: number };

/** The command line is not valid: the CLI prints this and the usage, and exits with 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * Parses the arguments that follow the program name.
 *
 * @throws UsageError for an unknown option, a missing or extra argument, an
 *   option that does not belong to the command, or a port outside 0–65535.
 */
export function parseCommand(argv: readonly string[]): Command {
  let values: { host?: string; port?: string; help?: boolean; version?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: {
        host: { type: "string" },
        port: { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean" },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (error) {
    // parseArgs' messages are sentences that end with advice for scripts;
    // the first sentence is the one that helps on a command line.
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message.split(/\.\s|\n/)[0]!.replace(/\.$/, ""));
  }
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };

  const [first, ...rest] = positionals;
  if (first === undefined) throw new UsageError("missing a URI or a command");
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`);
  if (first === "serve") {
    return {
      kind: "serve",
      host: values.host ?? DEFAULT_HOST,
      port: values.port === undefined ? DEFAULT_PORT : parsePort(values.port),
    };
  }
  if (values.host !== undefined || values.port !== undefined) {
    throw new UsageError(`--${values.host !== undefined ? "host" : "port"} only applies to serve`);
  }
  return { kind: "client", uri: first };
}

function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port <= 65535)) throw new UsageError(`invalid port: ${text}`);
  return port;
}
