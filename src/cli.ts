#!/usr/bin/env node
/**
 * The `websockets-ts` command: an interactive client (`websockets-ts <uri>`)
 * and an echo server (`websockets-ts serve`). The commands live in `cli/`;
 * this entry point parses the command line, turns SIGINT and SIGTERM (and an
 * output closed by its reader) into a clean close, and sets the exit code.
 *
 * @module
 */

import { type Command, parseCommand, SHORT_USAGE, USAGE, UsageError } from "./cli/args.js";
import { type ClientCommandOptions, clientConnectOptions, runClient } from "./cli/client.js";
import { runServer, type ServeCommandOptions, serveCommandOptions } from "./cli/server.js";
import { stopOnSignals } from "./cli/stop.js";
import { VERSION } from "./index.js";

/** What to run, once the command line is parsed and the files it names are read. */
type Run =
  | { readonly kind: "help" | "version" }
  | {
      readonly kind: "client";
      readonly uri: string;
      readonly connect: ClientCommandOptions["connect"];
    }
  | { readonly kind: "serve"; readonly options: Omit<ServeCommandOptions, "streams" | "signal"> };

/** @throws UsageError for an invalid command line or a file it names that can't be read. */
function prepare(argv: readonly string[]): Run {
  const command: Command = parseCommand(argv);
  switch (command.kind) {
    case "client":
      return { kind: "client", uri: command.uri, connect: clientConnectOptions(command) };
    case "serve":
      return { kind: "serve", options: serveCommandOptions(command) };
    default:
      return command;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  // The first SIGINT or SIGTERM closes cleanly; a second one, with no
  // listener left, kills the process as usual. Installed before anything is
  // written: `websockets-ts --help | head -1` may close stdout early too.
  using stopper = stopOnSignals();
  let command: Run;
  try {
    command = prepare(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`websockets-ts: ${error.message}\n${SHORT_USAGE}`);
    return 2;
  }
  switch (command.kind) {
    case "help":
      process.stdout.write(USAGE);
      return 0;
    case "version":
      process.stdout.write(`websockets-ts ${VERSION}\n`);
      return 0;
    default:
      break;
  }
  const { signal } = stopper;
  if (command.kind === "serve") return await runServer({ ...command.options, signal });
  // On a terminal, readline reads Ctrl-C as a key instead of the terminal
  // raising SIGINT; handed over here, it counts as the first signal.
  return await runClient(command.uri, {
    connect: command.connect,
    signal,
    onInterrupt: stopper.stop,
  });
}

process.exitCode = await main(process.argv.slice(2));
