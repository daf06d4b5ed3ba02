/**
 * Python's `websockets` as an interop peer: Debian's `/usr/bin/python3` with
 * the `python3-websockets` package (`.ci/run` installs it). Tests skip, with
 * a reason, where it is missing.
 */

import { execFileSync } from "node:child_process";

/** Debian's Python, which has `websockets` once `python3-websockets` is installed. */
export const PYTHON = "/usr/bin/python3";

/** The version of Python's `websockets`, or `null` when it can't be imported. */
export function pythonWebsocketsVersion(): string | null {
  try {
    return execFileSync(PYTHON, ["-c", "import websockets; print(websockets.__version__)"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 10_000,
    }).trim();
  } catch {
    return null;
  }
}

/** `false` when `version` is known, else why a test that needs `websockets` is skipped. */
export function skipWithoutPythonWebsockets(version: string | null): string | false {
  return version === null ? `needs ${PYTHON} with websockets (apt python3-websockets)` : false;
}
