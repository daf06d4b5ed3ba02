#!/usr/bin/env node
/**
 * The `websockets-ts` command: an interactive client (`websockets-ts <uri>`)
 * and an echo server (`websockets-ts serve`). The commands live in `cli/`;
 * this entry point parses the command line, turns SIGINT and SIGTERM into a
 * clean close, and sets the exit code.
 *
 * @module
 */

import { parseCommand, USAGE, UsageError } from "./cli/args.js";
import { runClient } from "./cli/client.js";
import { runServer } from "./cli/server.js";
import { VERSION } from "./index.js";

async function main(argv: readonly string[]): Promise<number> {
  let command: ReturnType<typeof parseCommand>;
  try {
    command = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`websockets-ts: ${error.message}\n${USAGE}`);
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
  // The first SIGINT or SIGTERM closes cleanly; a second one, with no
  // listener left, kills the process as usual.
  const stop = new AbortController();
  const onSignal = (): void => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    stop.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return command.kind === "client"
      ? await runClient(command.uri, { signal: stop.signal })
      : await runServer({ host: command.host, port: command.port, signal: stop.signal });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

process.exitCode = await main(process.argv.slice(2));
