/**
 * The package as npm builds and packs it, in a scratch copy of the project
 * (package.json, the tsconfigs and src/), so that building there leaves this
 * checkout's dist/, which other test files read meanwhile, alone.
 */

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import ts from "typescript";

const root = fileURLToPath(new URL("../../", import.meta.url));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** Runs npm in `cwd`; bounded, since a build on a loaded machine takes a while. */
async function runNpm(cwd: string, args: readonly string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(npm, args, {
    cwd,
    timeout: 120_000,
    shell: process.platform === "win32",
  });
  return stdout;
}

/** What the compiler says of a user's `file`, in a strict project with `options` on top. */
function consumerErrors(file: string, options: ts.CompilerOptions): string[] {
  const program = ts.createProgram([file], {
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts"],
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: ["node"],
    typeRoots: [join(root, "node_modules/@types")],
    ...options,
  });
  return ts
    .getPreEmitDiagnostics(program)
    .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, " "));
}

describe("the package", () => {
  let scratch: string;

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), "websockets-ts-package-"));
    for (const file of [
      "package.json",
      "tsconfig.json",
      "tsconfig.base.json",
      "README.md",
      "CHANGELOG.md",
    ]) {
      cpSync(join(root, file), join(scratch, file));
    }
    for (const dir of ["src", "docs", "examples"]) {
      cpSync(join(root, dir), join(scratch, dir), { recursive: true });
    }
    symlinkSync(join(root, "node_modules"), join(scratch, "node_modules"), "junction");
    await runNpm(scratch, ["run", "build"]);
  });

  after(() => {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  });

  it("npm run build leaves dist/cli.js executable, so npx websockets-ts runs after a rebuild", {
    skip: process.platform === "win32" ? "no execute bit on Windows" : false,
  }, () => {
    // tsc writes a new file without the execute bit; npm sets it only when
    // it links the bin, so after the next build's `rm -rf dist` the shell
    // refused to run the command ("Permission denied").
    const { mode } = statSync(join(scratch, "dist/cli.js"));
    assert.equal(mode & 0o111, 0o111, `mode ${(mode & 0o777).toString(8)}`);
  });

  it("npm pack ships dist/, the docs and the examples, without source maps or build info", async () => {
    // --ignore-scripts: prepack would build again; the build above is the one packed.
    const stdout = await runNpm(scratch, ["pack", "--dry-run", "--json", "--ignore-scripts"]);
    const [{ files }] = JSON.parse(stdout) as [{ files: { path: string }[] }];
    const paths = files.map(({ path }) => path);
    assert.ok(paths.includes("dist/cli.js"), "the command is packed");
    assert.ok(paths.includes("dist/index.d.ts"), "the declarations are packed");
    // README.md's links, and the declarations' references to docs/topics/, resolve
    // in an installed copy too.
    assert.ok(paths.includes("docs/index.md"), "the docs are packed");
    assert.ok(paths.includes("examples/README.md"), "the examples are packed");
    assert.ok(paths.includes("CHANGELOG.md"), "the changelog README.md links to is packed");
    assert.deepEqual(
      paths.filter((path) => path.endsWith(".map") || path.endsWith(".tsbuildinfo")),
      [],
    );
    // Nor a reference to a map it doesn't ship: source-map loaders warn for each.
    assert.deepEqual(
      paths.filter(
        (path) =>
          path.startsWith("dist/") &&
          /\.(js|ts)$/.test(path) &&
          readFileSync(join(scratch, path), "utf8").includes("sourceMappingURL"),
      ),
      [],
    );
  });

  it("npm run build leaves @internal members out of the declarations, which still compile", () => {
    const dist = join(scratch, "dist");
    const declarations = readdirSync(dist, { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".d.ts"))
      .map((file) => join(dist, file));
    assert.ok(declarations.length > 0);
    assert.deepEqual(
      declarations.filter((file) => readFileSync(file, "utf8").includes("@internal")),
      [],
      "stripInternal: the server's and the connections' plumbing is no API",
    );
    // A declaration that used what was left out would break a user's
    // build: checked as a user's compiler does with skipLibCheck off.
    const program = ts.createProgram(declarations, {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      strict: true,
      exactOptionalPropertyTypes: true,
      skipLibCheck: false,
      noEmit: true,
      types: ["node"],
      typeRoots: [join(root, "node_modules/@types")],
    });
    assert.deepEqual(
      ts
        .getPreEmitDiagnostics(program)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")),
      [],
    );
  });

  it("a consumer on moduleResolution node10 finds every entry point's types", () => {
    // node10 reads no `exports`: `typesVersions` maps the subpaths for it.
    const consumerRoot = join(scratch, "consumer-node10");
    mkdirSync(join(consumerRoot, "node_modules"), { recursive: true });
    symlinkSync(scratch, join(consumerRoot, "node_modules", "websockets-ts"), "junction");
    const file = join(consumerRoot, "consumer.ts");
    writeFileSync(
      file,
      `import { serve } from "websockets-ts";
import { ClientProtocol, parseUri } from "websockets-ts/protocol";
import { connect } from "websockets-ts/sync";
import { WebSocket } from "websockets-ts/web";

export const protocol = new ClientProtocol(parseUri("ws://127.0.0.1:8001/"));
export const blocking: typeof connect = connect;
export function listen(ws: WebSocket): void {
  ws.addEventListener("message", (event) => console.log(event.data));
}
// A handler's promise may resolve to a value: it is ignored.
export const started = serve(async (connection) => connection.recv(), { port: 0 });
`,
    );
    assert.deepEqual(
      consumerErrors(file, {
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Node10,
      }),
      [],
    );
  });

  it("options take an explicit undefined, the default, under exactOptionalPropertyTypes", () => {
    // The docs say `undefined` takes the default: a value that may be
    // undefined (from the environment, say) must type-check as an option.
    const file = join(scratch, "consumer-undefined.ts");
    writeFileSync(
      file,
      `import {
  basicAuth,
  type ConnectOptions,
  connect,
  type ReconnectOptions,
  type ServeOptions,
  serve,
} from "websockets-ts";
import {
  ClientPerMessageDeflateFactory,
  ClientProtocol,
  DEFAULT_HTTP_LIMITS,
  ProxyError,
  ServerPerMessageDeflateFactory,
  ServerProtocol,
} from "websockets-ts/protocol";
import * as sync from "websockets-ts/sync";
import { CloseEvent, ErrorEvent, WebSocket } from "websockets-ts/web";

declare const count: number | undefined;
declare const text: string | undefined;
declare const flag: boolean | undefined;

export const client: ConnectOptions = {
  pingInterval: count,
  origin: text,
  compression: undefined,
  deflate: { windowBits: count, level: undefined },
  httpLimits: { maxHeaders: count },
  proxy: undefined,
};
export const server: ServeOptions = { port: count, host: text, maxQueue: count, tls: undefined };
export const retry: ReconnectOptions = { initialDelay: count, shouldRetry: undefined };

// The protocol entry's options, and its defaults, which are never undefined.
export const maxHeaders: number = DEFAULT_HTTP_LIMITS.maxHeaders;
export const clientProtocol = new ClientProtocol("ws://127.0.0.1:8001", {
  origin: text,
  extensions: [new ClientPerMessageDeflateFactory({ serverMaxWindowBits: count, level: count })],
  requireSubprotocol: flag,
  httpLimits: { maxLineLength: count },
  maskKeyGenerator: undefined,
  maxMessageSize: count,
  state: undefined,
  yieldBeforeLargeFrames: flag,
});
export const serverProtocol = new ServerProtocol({
  origins: undefined,
  extensions: [new ServerPerMessageDeflateFactory({ clientNoContextTakeover: flag })],
  selectSubprotocol: undefined,
  completeResponse: undefined,
  deferFailureAfterMessages: flag,
});
export const refused = new ProxyError("refused", null, { transient: flag });
export const closed = new CloseEvent("close", { code: count, reason: text, wasClean: flag });
export const failed = new ErrorEvent("error", { message: text, lineno: count });

export async function main(): Promise<void> {
  const running = await serve(() => {}, {
    ...server,
    processRequest: basicAuth({ realm: text, credentials: {}, check: undefined }),
  });
  const ws = await connect("ws://127.0.0.1:8001", client);
  await ws.send("x", { compress: undefined });
  await ws.recv({ signal: undefined });
  await running.close({ code: count, reason: text });
  using blocking = sync.connect("ws://127.0.0.1:8001", { openTimeout: count, logger: undefined });
  blocking.send(blocking.recvText({ timeout: count }), { timeout: count });
  new WebSocket("ws://127.0.0.1:8001", undefined, { pingInterval: count });
}
`,
    );
    assert.deepEqual(
      consumerErrors(file, {
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        exactOptionalPropertyTypes: true,
      }),
      [],
    );
  });

  it("received bytes are ArrayBuffer-backed for web APIs with the DOM lib, and any bytes can be sent", () => {
    // From TypeScript 5.7 on, BlobPart and BufferSource take only views of
    // an ArrayBuffer: received messages must be typed as such (ReceivedBytes,
    // Uint8Array<ArrayBuffer> there) to reach them without a cast. The last
    // line is the control: a plain Uint8Array, which may be shared memory,
    // must not compile there, or this test proves nothing.
    const consumer = `import { broadcast, connect, type Data, type ReceivedBytes } from "websockets-ts";
import * as sync from "websockets-ts/sync";

declare const bytes: Uint8Array;
declare const shared: Uint8Array<SharedArrayBuffer>;

export async function main(): Promise<Blob[]> {
  const ws = await connect("ws://127.0.0.1:8001");
  const blob = new Blob([await ws.recvBinary()]);
  const message: Data = await ws.recv();
  if (typeof message !== "string") await crypto.subtle.digest("SHA-256", message);
  for await (const received of ws) {
    if (typeof received !== "string") new Response(received);
  }
  await ws.send(bytes);
  await ws.send(shared);
  await ws.send([bytes, shared]);
  await ws.sendBinary(shared);
  await ws.ping(shared);
  await ws.pong(bytes);
  broadcast([ws], shared);

  const client = sync.connect("ws://127.0.0.1:8001");
  const buffer: sync.ReceivedBuffer = client.recvBinary();
  const blocking = new Blob([buffer, buffer.subarray(1), buffer.toString("hex")]);
  const received: sync.Data = client.recv();
  if (typeof received !== "string") await crypto.subtle.digest("SHA-256", received);
  for (const next of client) {
    if (typeof next !== "string") new Response(next);
  }
  const typed: ReceivedBytes = client.recvBinary();
  client.send(shared);
  client.send([bytes, shared]);
  client.sendBinary(shared);
  client.ping(bytes);
  client.close();
  return [blob, blocking, new Blob([typed])];
}

export const control = new Blob([bytes]);
`;
    const file = join(scratch, "consumer-dom.ts");
    writeFileSync(file, consumer);
    const errors = consumerErrors(file, {
      lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      exactOptionalPropertyTypes: true,
    });
    assert.equal(errors.length, 1, errors.join("\n"));
    assert.match(
      errors[0]!,
      /^Type 'Uint8Array<ArrayBufferLike>' is not assignable to type 'BlobPart'/,
    );
  });

  it("a user's code can't construct the connections or the server, whose public members type-check", () => {
    // Their constructors take the library's plumbing, and stripInternal left
    // them out of the declarations: a user's editor then offered the base
    // class's constructor (the connections) or one without parameters (the
    // servers, the blocking client), and `new` compiled. Each `new` here must
    // fail as constructing a private class does, and so must changing the
    // server's own set of connections, and so must comparing an error's code
    // with a misspelled one; nothing else may fail (InvalidStatus.response
    // has its headers).
    const consumer = `import type * as net from "node:net";
import {
  ClientConnection,
  connect,
  InvalidStatus,
  Server,
  ServerConnection,
  serve,
  WebSocketError,
} from "websockets-ts";
import * as sync from "websockets-ts/sync";

declare const socket: net.Socket;

export async function main(): Promise<void> {
  const server = await serve(
    async (connection: ServerConnection) => {
      const user: string = connection.username ?? connection.request.path;
      const id: string | undefined = connection.params["id"];
      const status: number | undefined = connection.response?.status;
      await connection.sendText([user, id, status, connection.subprotocol].join(" "));
      for await (const message of connection) await connection.send(message);
    },
    { port: 0 },
  );
  const connections: ReadonlySet<ServerConnection> = server.connections;
  server.address();
  const client: ClientConnection = await connect("ws://127.0.0.1:8001");
  const status: number | undefined = client.response?.status;
  await client.send([client.request.path, status, connections.size].join(" "));
  await client.close();
  using blocking: sync.ClientConnection = sync.connect("ws://127.0.0.1:8001");
  blocking.sendText(blocking.recvText({ timeout: 1_000 }));
  await server.close();
  try {
    await connect("ws://127.0.0.1:8001");
  } catch (error) {
    if (error instanceof InvalidStatus) console.log(error.response.headers.get("Retry-After"));
    if (error instanceof WebSocketError && error.code === "ERR_CONNECTION_CLOSED_OK") return;
    if (error instanceof WebSocketError && error.code === "ERR_CONECTION_CLOSED_OK") return;
  }

  new ServerConnection(socket);
  new ClientConnection(socket);
  new Server(() => {});
  new sync.ClientConnection();
  server.connections.clear();
}

export class MyConnection extends ServerConnection {}
`;
    const lines = consumer.split("\n");
    const file = join(scratch, "consumer.ts");
    writeFileSync(file, consumer);
    const program = ts.createProgram([file], {
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es2023.d.ts", "lib.esnext.disposable.d.ts"],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      exactOptionalPropertyTypes: true,
      skipLibCheck: true,
      noEmit: true,
      types: ["node"],
      typeRoots: [join(root, "node_modules/@types")],
    });
    // By code: the messages name the class by its declaration file's path.
    const failures = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start!);
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, " ");
      return { line: lines[line]!.trim(), code: diagnostic.code, message };
    });
    const PRIVATE_CONSTRUCTOR = 2673; // Constructor of class 'X' is private and only accessible …
    const PRIVATE_BASE = 2675; // Cannot extend a class 'X'. Class constructor is marked as private.
    const NO_SUCH_PROPERTY = 2339; // Property 'clear' does not exist on type 'ReadonlySet<…>'.
    const NO_OVERLAP = 2367; // This comparison appears to be unintentional because the types … have no overlap.
    assert.deepEqual(
      failures.map(({ line, code }) => ({ line, code })),
      [
        {
          line: 'if (error instanceof WebSocketError && error.code === "ERR_CONECTION_CLOSED_OK") return;',
          code: NO_OVERLAP,
        },
        { line: "new ServerConnection(socket);", code: PRIVATE_CONSTRUCTOR },
        { line: "new ClientConnection(socket);", code: PRIVATE_CONSTRUCTOR },
        { line: "new Server(() => {});", code: PRIVATE_CONSTRUCTOR },
        { line: "new sync.ClientConnection();", code: PRIVATE_CONSTRUCTOR },
        { line: "server.connections.clear();", code: NO_SUCH_PROPERTY },
        { line: "export class MyConnection extends ServerConnection {}", code: PRIVATE_BASE },
      ],
      failures.map(({ line, message }) => `${line} ${message}`).join("\n"),
    );
  });
});
