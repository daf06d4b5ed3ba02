/**
 * Runs a Node.js script in a child process, as a user would from a shell,
 * and collects what it printed: for tests of the examples and the published
 * entry points.
 */

import { spawn } from "node:child_process";
import { once } from "node:events";

/** How a child process ended, and what it printed. */
export interface ChildRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link runNode}. */
export interface RunNodeOptions {
  /** Working directory. Default: this process's. */
  readonly cwd?: string;
  /** Written to the child's standard input, which is then closed; none by default. */
  readonly input?: string;
}

/** Bounded: a child that hangs is killed, and the test fails on its exit code. */
const CHILD_TIMEOUT_MS = 30_000;

/** Runs `node <args>` and resolves once the child has exited. */
export async function runNode(
  args: readonly string[],
  options: RunNodeOptions = {},
): Promise<ChildRun> {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (text: string) => {
    stdout += text;
  });
  child.stderr!.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  if (options.input !== undefined) child.stdin!.end(options.input);
  const watchdog = setTimeout(() => child.kill(), CHILD_TIMEOUT_MS);
  try {
    const [code] = (await once(child, "exit")) as [number | null];
    return { code, stdout, stderr };
  } finally {
    clearTimeout(watchdog);
  }
}
