/**
 * A script the process tests run in a child process, to watch how a process
 * using the blocking client ends. `node child.js --sync-child <mode> <uri>`:
 *
 * - `open`: exchanges a message, then ends the script without closing.
 * - `abandon` (with `--expose-gc`): connects, drops the connection without
 *   closing it, and collects garbage until the test kills the process.
 *
 * Without `--sync-child` (as when `node --test` runs every file here) it does nothing.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { connect } from "../../src/sync/index.js";

const [marker, mode, uri] = process.argv.slice(2);

if (marker === "--sync-child" && uri !== undefined) {
  if (mode === "open") {
    const client = connect(uri);
    client.send("hello");
    console.log(client.recv());
    console.log("done");
  } else if (mode === "abandon") {
    connect(uri).send("hello");
    console.log("dropped");
    const gc = (globalThis as { gc?: () => void }).gc!;
    // A finalizer runs only after a collection found the object unreachable;
    // nothing signals that, so collect until the test has seen the close.
    for (;;) {
      gc();
      await sleep(20);
    }
  }
}
