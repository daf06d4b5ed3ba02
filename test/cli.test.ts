import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { SHORT_USAGE, USAGE } from "../src/cli/args.js";
import { connect, type Handler, type Server, serve, VERSION } from "../src/index.js";
import { deferred } from "./helpers/server.js";
import { NGINX_ANSWER } from "./helpers/tls-expected.js";

// The compiled test is .build/test/cli.test.js; the CLI is built to dist/cli.js.
const CLI = fileURLToPath(new URL("../../dist/cli.js", import.meta.url));
const TIMEOUT = { timeout: 20_000 };

const children = new Set<ChildProcessWithoutNullStreams>();
after(() => {
  for (const child of children) child.kill("SIGKILL");
});

/** A running `node dist/cli.js …` whose output can be awaited. */
class Cli {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = "";
  stderr = "";
  /** The exit code, or `null` when a signal killed the process. */
  readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, [CLI, ...args]);
    children.add(this.child);
    this.child.stdout.setEncoding("utf8");
    this.child.stderr.setEncoding("utf8");
    this.child.stdout.on("data", (chunk: string) => {
      this.stdout += chunk;
      this.notify();
    });
    this.child.stderr.on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = once(this.child, "close").then(([code]) => {
      children.delete(this.child);
      this.exitCode = code as number | null;
      this.notify();
      return this.exitCode;
    });
  }

  /** Resolves with the first match of `pattern` in stdout; rejects if the process exits first. */
  waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = this.stdout.match(pattern);
        if (match !== null) {
          this.listeners.delete(check);
          resolve(match);
        } else if (this.exitCode !== undefined) {
          this.listeners.delete(check);
          reject(
            new Error(
              `exited (${this.exitCode}) before printing ${pattern}\n` +
                `stdout: ${JSON.stringify(this.stdout)}\nstderr: ${JSON.stringify(this.stderr)}`,
            ),
          );
        }
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Sends `text` and a newline on stdin. */
  writeLine(text: string): void {
    this.child.stdin.write(`${text}\n`);
  }

  private notify(): void {
    for (const check of [...this.listeners]) check();
  }
}

/** Escapes a string for use in a RegExp. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Starts a server on a free port of 127.0.0.1 that records how each connection closed. */
async function startServer(
  handler: Handler,
): Promise<{ server: Server; uri: string; closeCodes: Promise<number | null> }> {
  let resolveCloseCode!: (code: number | null) => void;
  const closeCodes = new Promise<number | null>((resolve) => {
    resolveCloseCode = resolve;
  });
  const server = await serve(
    async (ws) => {
      try {
        await handler(ws);
      } finally {
        void ws.closed.then(() => resolveCloseCode(ws.closeCode));
      }
    },
    { host: "127.0.0.1", port: 0, logger: null },
  );
  const { port } = server.address() as AddressInfo;
  return { server, uri: `ws://127.0.0.1:${port}`, closeCodes };
}

const echo: Handler = async (ws) => {
  for await (const message of ws) await ws.send(message);
};

/** A port nothing listens on: one the system just handed out and took back. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe("websockets-ts <uri>", () => {
  it(
    "sends stdin lines as text messages, prints messages, closes with 1000 at EOF",
    TIMEOUT,
    async () => {
      const { server, uri, closeCodes } = await startServer(echo);
      await using _server = server;
      const cli = new Cli([uri]);
      await cli.waitFor(new RegExp(`^Connected to ${literal(uri)}\\.\\n`));
      cli.writeLine("Hello!");
      await cli.waitFor(/^< Hello!$/m);
      cli.writeLine("café ☕");
      await cli.waitFor(/^< café ☕$/m);
      cli.child.stdin.end();
      assert.equal(await cli.exited, 0);
      assert.equal(
        cli.stdout,
        `Connected to ${uri}.\n< Hello!\n< café ☕\nConnection closed: 1000 (OK).\n`,
      );
      assert.equal(cli.stderr, "");
      assert.equal(await closeCodes, 1000);
    },
  );

  it("prints the echo of every line piped in, then closes with 1000 at EOF", TIMEOUT, async () => {
    const { server, uri, closeCodes } = await startServer(echo);
    await using _server = server;
    const cli = new Cli([uri]);
    // The lines and the end of input come at once, as from `printf … | websockets-ts`:
    // the close frame used to go out with the last line, and the server, which
    // answers it at once, could no longer send the echoes.
    cli.child.stdin.end("one\ntwo\nthree\n");
    assert.equal(await cli.exited, 0);
    assert.equal(
      cli.stdout,
      `Connected to ${uri}.\n< one\n< two\n< three\nConnection closed: 1000 (OK).\n`,
    );
    assert.equal(cli.stderr, "");
    assert.equal(await closeCodes, 1000);
  });

  it("prints binary messages as hex", TIMEOUT, async () => {
    const { server, uri } = await startServer(async (ws) => {
      await ws.send(Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
      await ws.send(new Uint8Array(0));
      await ws.send("");
      await echo(ws);
    });
    await using _server = server;
    const cli = new Cli([uri]);
    await cli.waitFor(/^< \(binary\) deadbeef\n< \(binary\) \n< \n/m);
    cli.child.stdin.end();
    assert.equal(await cli.exited, 0);
  });

  it("escapes terminal control characters in messages and close reasons", TIMEOUT, async () => {
    const { server, uri } = await startServer(async (ws) => {
      await ws.send("\x1b[2J\x1b]0;title\x07\r\b\x00\x7f\x9b31mok\ttab\nnext line");
      await ws.close(4000, "\x1b[31mbye");
    });
    await using _server = server;
    const cli = new Cli([uri]);
    assert.equal(await cli.exited, 1);
    assert.equal(
      cli.stdout,
      `Connected to ${uri}.\n` +
        "< \\x1b[2J\\x1b]0;title\\x07\\x0d\\x08\\x00\\x7f\\x9b31mok\ttab\nnext line\n" +
        "Connection closed: 4000 (private use) \\x1b[31mbye.\n",
    );
    assert.doesNotMatch(cli.stdout, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
  });

  it("reports a close by the server and exits with 0 after 1001", TIMEOUT, async () => {
    const { server, uri, closeCodes } = await startServer(echo);
    const cli = new Cli([uri]);
    await cli.waitFor(/^Connected to /);
    await server.close();
    assert.equal(await cli.exited, 0);
    assert.match(cli.stdout, /\nConnection closed: 1001 \(going away\)\.\n$/);
    assert.equal(await closeCodes, 1001);
  });

  it(
    "closes with 1000 and exits with 0 when stdout is closed early (| head)",
    TIMEOUT,
    async () => {
      const stdoutClosed = deferred();
      const { server, uri, closeCodes } = await startServer(async (ws) => {
        await ws.send("m0");
        await stdoutClosed.promise;
        // Printing this one fails with EPIPE, which used to crash the CLI.
        await ws.send("m1");
        await echo(ws);
      });
      await using _server = server;
      const cli = new Cli([uri]);
      await cli.waitFor(/^< m0$/m);
      // The reading end of the pipe goes away, as when `head` has its lines.
      cli.child.stdout.destroy();
      stdoutClosed.resolve();
      assert.equal(await cli.exited, 0);
      assert.equal(cli.stderr, "");
      assert.equal(await closeCodes, 1000);
    },
  );

  it("closes with 1000 on SIGTERM", TIMEOUT, async () => {
    const { server, uri, closeCodes } = await startServer(echo);
    await using _server = server;
    const cli = new Cli([uri]);
    await cli.waitFor(/^Connected to /);
    cli.child.kill("SIGTERM");
    assert.equal(await cli.exited, 0);
    assert.match(cli.stdout, /\nConnection closed: 1000 \(OK\)\.\n$/);
    assert.equal(await closeCodes, 1000);
  });

  it("exits with 1 when the connection is refused", TIMEOUT, async () => {
    const port = await closedPort();
    const cli = new Cli([`ws://127.0.0.1:${port}`]);
    assert.equal(await cli.exited, 1);
    assert.equal(cli.stdout, "");
    assert.match(
      cli.stderr,
      new RegExp(`^Failed to connect to ws://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*\\.\\n$`),
    );
  });

  it("exits with 1 on an invalid URI", TIMEOUT, async () => {
    const cli = new Cli(["http://127.0.0.1/"]);
    assert.equal(await cli.exited, 1);
    assert.equal(
      cli.stderr,
      "Failed to connect to http://127.0.0.1/: " +
        "http://127.0.0.1/ isn't a valid URI: scheme isn't ws or wss.\n" +
        "Did you mean ws://127.0.0.1/?\n",
    );
  });

  it("suggests ws:// for a URI typed without it, without the password", TIMEOUT, async () => {
    const cli = new Cli(["alice:s3cret@127.0.0.1:8001"]);
    assert.equal(await cli.exited, 1);
    assert.equal(
      cli.stderr,
      "Failed to connect to alice:***@127.0.0.1:8001: " +
        "alice:***@127.0.0.1:8001 isn't a valid URI: scheme isn't ws or wss.\n" +
        "Did you mean ws://alice:***@127.0.0.1:8001?\n",
    );
  });

  it("prints what the reference page shows for a URI without a scheme", TIMEOUT, async () => {
    // Refused before connecting: nothing needs to listen on port 8001.
    const cli = new Cli(["127.0.0.1:8001"]);
    assert.equal(await cli.exited, 1);
    const page = readFileSync(new URL("../../docs/reference/cli.md", import.meta.url), "utf8");
    const example = `\n\`\`\`console\n$ npx websockets-ts 127.0.0.1:8001\n${cli.stderr}\`\`\`\n`;
    assert.ok(page.includes(example), example);
  });

  it("suggests ws:// when a wss:// server doesn't answer in TLS, once", TIMEOUT, async () => {
    const { server, uri } = await startServer(echo);
    await using _server = server;
    const secure = uri.replace("ws://", "wss://alice:s3cret@");
    const cli = new Cli([`${secure}/chat`]);
    assert.equal(await cli.exited, 1);
    // The library's error without its question, which the hint answers with the URI.
    const insecure = uri.replace("ws://", "ws://alice:***@");
    assert.equal(
      cli.stderr,
      `Failed to connect to ${secure.replace("s3cret", "***")}/chat: ` +
        "TLS handshake failed: the server did not answer with TLS (wrong version number).\n" +
        `Is it a plain ws:// server? Try ${insecure}/chat instead.\n`,
    );
    // As the reference page shows it, on the default port.
    const bare = new Cli([uri.replace("ws://", "wss://")]);
    assert.equal(await bare.exited, 1);
    const page = readFileSync(new URL("../../docs/reference/cli.md", import.meta.url), "utf8");
    const shown = bare.stderr.replaceAll(uri.slice("ws://".length), "127.0.0.1:8001");
    const example = `\n\`\`\`console\n$ npx websockets-ts wss://127.0.0.1:8001\n${shown}\`\`\`\n`;
    assert.ok(page.includes(example), example);
  });

  it("says that a ws:// server expects TLS, without quoting its page", TIMEOUT, async () => {
    const nginx = createServer((socket) => {
      socket.on("error", () => {});
      socket.once("data", () => socket.end(NGINX_ANSWER));
      // Reads the rest away: a socket ends only once what it received was read.
      socket.resume();
    });
    await new Promise<void>((resolve) => nginx.listen(0, "127.0.0.1", resolve));
    try {
      const uri = `ws://127.0.0.1:${(nginx.address() as AddressInfo).port}/`;
      const cli = new Cli([uri]);
      assert.equal(await cli.exited, 1);
      assert.equal(
        cli.stderr,
        `Failed to connect to ${uri}: ` +
          "server rejected WebSocket connection: HTTP 400: the server expects TLS; use wss:// (or TLS from a proxy in front of it).\n",
      );
    } finally {
      await new Promise((resolve) => nginx.close(resolve));
    }
  });

  it("doesn't print the password of the URI", TIMEOUT, async () => {
    await using server = await serve(echo, {
      host: "127.0.0.1",
      port: 0,
      logger: null,
      processRequest: () => ({ status: 401, body: "wrong password\n" }),
    });
    const { port } = server.address() as AddressInfo;
    const cli = new Cli([`ws://alice:wrong@127.0.0.1:${port}/`]);
    assert.equal(await cli.exited, 1);
    assert.equal(
      cli.stderr,
      `Failed to connect to ws://alice:***@127.0.0.1:${port}/: ` +
        'server rejected WebSocket connection: HTTP 401: "wrong password".\n',
    );
  });

  it("doesn't print a token given as the user name of the URI", TIMEOUT, async () => {
    const cli = new Cli(["wss://SECRETTOKEN@127.0.0.1:1/"]);
    assert.equal(await cli.exited, 1);
    assert.equal(
      cli.stderr,
      "Failed to connect to wss://***@127.0.0.1:1/: " +
        "wss://***@127.0.0.1:1/ isn't a valid URI: username provided without password.\n",
    );
    assert.ok(!cli.stderr.includes("SECRETTOKEN"));
  });

  it("exits with 1 when the server rejects the handshake, quoting the body", TIMEOUT, async () => {
    await using server = await serve(echo, {
      host: "127.0.0.1",
      port: 0,
      logger: null,
      processRequest: () => ({ status: 403, body: "go away\n\x1b[2Jnot this line\n" }),
    });
    const { port } = server.address() as AddressInfo;
    const cli = new Cli([`ws://127.0.0.1:${port}/`]);
    assert.equal(await cli.exited, 1);
    assert.equal(
      cli.stderr,
      `Failed to connect to ws://127.0.0.1:${port}/: ` +
        'server rejected WebSocket connection: HTTP 403: "go away".\n',
    );
  });

  it(
    "says why `websockets-ts serve -s chat` refuses a client that offers no subprotocol",
    TIMEOUT,
    async () => {
      const server = new Cli(["serve", "--port", "0", "-s", "chat"]);
      try {
        const [uri] = await server.waitFor(/ws:\/\/127\.0\.0\.1:\d+/);
        const cli = new Cli([uri]);
        assert.equal(await cli.exited, 1);
        // Only the status was printed: the reason was in the body.
        assert.equal(
          cli.stderr,
          `Failed to connect to ${uri}: server rejected WebSocket connection: HTTP 400: ` +
            '"Failed to open a WebSocket connection: missing subprotocol.".\n',
        );
        // As the reference page shows it, on the default port.
        const page = readFileSync(new URL("../../docs/reference/cli.md", import.meta.url), "utf8");
        const example = `$ npx websockets-ts ws://127.0.0.1:8001\n${cli.stderr.replaceAll(uri, "ws://127.0.0.1:8001")}`;
        assert.ok(page.includes(example), example);
      } finally {
        server.child.kill("SIGTERM");
        await server.exited;
      }
    },
  );
});

describe("websockets-ts serve", () => {
  it("listens on the port it prints, echoes, and exits with 0 on SIGTERM", TIMEOUT, async () => {
    const cli = new Cli(["serve", "--port", "0"]);
    const [, port] = await cli.waitFor(/^Listening on ws:\/\/127\.0\.0\.1:(\d+)\n/);
    assert.notEqual(Number(port), 0);
    const ws = await connect(`ws://127.0.0.1:${port}`, { logger: null });
    await ws.send("Hello!");
    assert.equal(await ws.recv(), "Hello!");
    await ws.send(Uint8Array.of(1, 2, 3));
    assert.deepEqual([...(await ws.recvBinary())], [1, 2, 3]);
    cli.child.kill("SIGTERM");
    await ws.closed;
    assert.equal(ws.closeCode, 1001);
    assert.equal(await cli.exited, 0);
    assert.equal(cli.stderr, "");
  });

  it("exits with 0 on SIGINT and listens on --host", TIMEOUT, async () => {
    const cli = new Cli(["serve", "--host", "localhost", "--port=0"]);
    await cli.waitFor(/^Listening on ws:\/\/localhost:\d+\n/);
    cli.child.kill("SIGINT");
    assert.equal(await cli.exited, 0);
  });

  it("exits with 1 when the port is taken", TIMEOUT, async () => {
    await using server = await serve(echo, { host: "127.0.0.1", port: 0, logger: null });
    const { port } = server.address() as AddressInfo;
    const cli = new Cli(["serve", "--port", String(port)]);
    assert.equal(await cli.exited, 1);
    assert.match(
      cli.stderr,
      new RegExp(`^Failed to listen on ws://127\\.0\\.0\\.1:${port}: .*EADDRINUSE.*\\n$`),
    );
  });
});

describe("command line", () => {
  for (const flag of ["--help", "-h"]) {
    it(`prints the usage on ${flag}`, TIMEOUT, async () => {
      const cli = new Cli([flag]);
      assert.equal(await cli.exited, 0);
      assert.match(cli.stdout, /^usage: websockets-ts <uri>\n/);
      assert.equal(cli.stderr, "");
    });
  }

  it("prints the version on --version", TIMEOUT, async () => {
    const cli = new Cli(["--version"]);
    assert.equal(await cli.exited, 0);
    assert.equal(cli.stdout, `websockets-ts ${VERSION}\n`);
  });

  for (const args of [
    [],
    ["--bogus"],
    ["serve", "--port", "http"],
    ["a", "b"],
    ["serve", "--host", ""],
    // Checked when connecting, this exited with 1 and a message split at the LF.
    ["-o", "http://x\r\nInjected: 1", "ws://127.0.0.1:1/"],
  ]) {
    it(
      `exits with 2 and the short usage on stderr for ${JSON.stringify(args)}`,
      TIMEOUT,
      async () => {
        const cli = new Cli(args);
        assert.equal(await cli.exited, 2);
        assert.equal(cli.stdout, "");
        const [error, ...usage] = cli.stderr.split(/(?<=\n)/);
        assert.match(error!, /^websockets-ts: .+\n$/);
        // The synopsis only, not the whole --help.
        assert.equal(usage.join(""), SHORT_USAGE);
      },
    );
  }

  it("prints what the reference page shows for a usage error", TIMEOUT, async () => {
    const command = "--bogus ws://127.0.0.1:8001";
    const cli = new Cli(command.split(" "));
    assert.equal(await cli.exited, 2);
    const page = readFileSync(new URL("../../docs/reference/cli.md", import.meta.url), "utf8");
    const example = `\n\`\`\`console\n$ npx websockets-ts ${command}\n${cli.stderr}\`\`\`\n`;
    assert.ok(page.includes(example), example);
  });

  it("says which option is unknown in its own words", TIMEOUT, async () => {
    const cli = new Cli(["--bogus", "ws://127.0.0.1:1/"]);
    assert.equal(await cli.exited, 2);
    assert.equal(cli.stderr, `websockets-ts: unknown option --bogus\n${SHORT_USAGE}`);
    assert.ok(SHORT_USAGE.startsWith("usage: websockets-ts <uri>\n"));
    assert.ok(SHORT_USAGE.endsWith("\nTry 'websockets-ts --help' for more.\n"));
    assert.ok(USAGE.startsWith(SHORT_USAGE.slice(0, SHORT_USAGE.indexOf("Try "))));
  });

  it("says that -k takes no value for -k=1, rather than that -= is unknown", TIMEOUT, async () => {
    const cli = new Cli(["-k=1", "ws://127.0.0.1:1/"]);
    assert.equal(await cli.exited, 2);
    assert.equal(cli.stderr, `websockets-ts: -k takes no value\n${SHORT_USAGE}`);
  });
});
