/**
 * Runs a Node.js script in a child process, as a user would from a shell,
 * and collects what it printed: for tests of the examples and the published
 * entry points. {@link runNode} waits for a script that ends by itself;
 * {@link startNode} starts one that runs until stopped, such as a server.
 * {@link runProcess} and {@link startProcess} do the same for another
 * program, such as an interop peer in Python.
 */

import { type ChildProcess, spawn } from "node:child_process";

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
  /**
   * Variables added to this process's environment for the child (e.g. `PORT`);
   * `undefined` removes one.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Keeps the child's standard input open, as a pipe the test ends with
   * `child.stdin.end()`, after writing `input` if any: a child that reads it
   * to the end (a server told to stop, an interactive client) runs until the
   * test says so, or until this process dies. Default: closed after `input`,
   * or none at all.
   */
  readonly holdStdin?: boolean;
}

/** The child's environment: this process's, with `env` on top. */
function childEnv(
  env: Readonly<Record<string, string | undefined>> | undefined,
): NodeJS.ProcessEnv | undefined {
  if (env === undefined) return undefined;
  const merged: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete merged[name];
  return merged;
}

/** Bounded: a child that hangs is killed, and the test fails on its exit code. */
const CHILD_TIMEOUT_MS = 30_000;

/** Runs `node <args>` and resolves once the child has exited. */
export function runNode(args: readonly string[], options: RunNodeOptions = {}): Promise<ChildRun> {
  return runProcess(process.execPath, args, options);
}

/** Runs `command <args>` and resolves once the child has exited. */
export async function runProcess(
  command: string,
  args: readonly string[],
  options: RunNodeOptions = {},
): Promise<ChildRun> {
  // Ready at once: the empty pattern matches before anything is printed.
  const running = await startProcess(command, args, { ...options, ready: /^/ });
  const watchdog = setTimeout(() => running.child.kill(), CHILD_TIMEOUT_MS);
  try {
    const { code, stdout, stderr } = await running.exited;
    return { code, stdout, stderr };
  } finally {
    clearTimeout(watchdog);
  }
}

/** How a child started by {@link startNode} ended: also the signal that killed it, if any. */
export interface ChildExit extends ChildRun {
  readonly signal: NodeJS.Signals | null;
}

/** Options of {@link startNode}. */
export interface StartNodeOptions extends RunNodeOptions {
  /**
   * {@link startNode} resolves once the child's standard output matches
   * this, e.g. the line where a server prints its address.
   */
  readonly ready: RegExp;
}

/**
 * A child process that {@link startNode} started. `await using` kills it
 * (SIGKILL) if it still runs when the test leaves the block, passed or not.
 */
export interface RunningNode extends AsyncDisposable {
  readonly child: ChildProcess;
  /** The match of `ready` in the child's standard output. */
  readonly ready: RegExpExecArray;
  /** What the child printed so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once the child exited and its output streams closed. Never rejects. */
  readonly exited: Promise<ChildExit>;
  /**
   * Resolves with the first match of `pattern` in the standard output,
   * already printed or still to come; rejects if the child exits first.
   */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
}

/**
 * A child left running has outlived any test (`--test-timeout` is 60 s):
 * killed then, even if the test timed out before its cleanup could run.
 */
const CHILD_LIFETIME_MS = 90_000;

/**
 * Starts `node <args>` and resolves once its standard output matches
 * `options.ready`, which must happen within the same bound as
 * {@link runNode}'s. Rejects, with what the child printed, if the child exits
 * or times out first; the child is then killed.
 */
export function startNode(
  args: readonly string[],
  options: StartNodeOptions,
): Promise<RunningNode> {
  return startProcess(process.execPath, args, options);
}

/** {@link startNode} for `command <args>`. */
export async function startProcess(
  command: string,
  args: readonly string[],
  options: StartNodeOptions,
): Promise<RunningNode> {
  const stdin = options.input !== undefined || options.holdStdin === true ? "pipe" : "ignore";
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: childEnv(options.env),
    stdio: [stdin, "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let waiters: (() => void)[] = [];
  const wake = () => {
    const woken = waiters;
    waiters = [];
    for (const waiter of woken) waiter();
  };
  child.stdout!.setEncoding("utf8").on("data", (text: string) => {
    stdout += text;
    wake();
  });
  child.stderr!.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  if (options.holdStdin) {
    // The child may exit before reading it all: that's its business, not an error here.
    child.stdin!.on("error", () => {});
    if (options.input !== undefined) child.stdin!.write(options.input);
  } else if (options.input !== undefined) child.stdin!.end(options.input);

  // A test process that exits (or crashes) does not take its children with
  // it: kill them on the way out, and bound their life in any case.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const lifetime = setTimeout(killOnExit, CHILD_LIFETIME_MS).unref();
  let done = false;
  // "close", not "exit": by then everything the child printed has been read.
  const exited = new Promise<ChildExit>((resolve) => {
    child.once("close", (code: number | null, signal: NodeJS.Signals | null) => {
      done = true;
      clearTimeout(lifetime);
      process.off("exit", killOnExit);
      wake();
      resolve({ code, signal, stdout, stderr });
    });
  });

  const waitFor = async (pattern: RegExp): Promise<RegExpExecArray> => {
    for (;;) {
      const match = pattern.exec(stdout);
      if (match !== null) return match;
      if (done) {
        throw new Error(
          `the child exited before printing ${pattern}\nstdout: ${stdout}\nstderr: ${stderr}`,
        );
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };

  const dispose = async () => {
    if (!done) child.kill("SIGKILL");
    await exited;
  };

  const watchdog = setTimeout(() => child.kill("SIGKILL"), CHILD_TIMEOUT_MS);
  let ready: RegExpExecArray;
  try {
    ready = await waitFor(options.ready);
  } catch (error) {
    await dispose();
    throw error;
  } finally {
    clearTimeout(watchdog);
  }
  return {
    child,
    ready,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    waitFor,
    [Symbol.asyncDispose]: dispose,
  };
}
