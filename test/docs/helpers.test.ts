/**
 * docs/reference/helpers.md's programs, run from a project of a user's:
 * the `basicAuth()` and `route()` servers in child processes on 127.0.0.1
 * and a port the system picks (instead of port 8001 of every interface),
 * against clients of the test's; the `reconnect()` loop against a server of
 * the test's that restarts and crashes; the `backoffDelay()` example as it
 * stands. The page's signatures are only type-checked.
 */

import assert from "node:assert/strict";
import { once } from "node:events";
import * as net from "node:net";
import { after, describe, it } from "node:test";
import { connect } from "../../src/index.js";
import { runNode } from "../helpers/child.js";
import { deferred, unhandledRejections, within } from "../helpers/server.js";
import {
  edit,
  examplesOf,
  onLoopback,
  refusal,
  runFeedClientThroughOutages,
  startProgram,
} from "./programs.js";
import { scratchProject } from "./project.js";

const PAGE = "docs/reference/helpers.md";
const example = examplesOf(PAGE);

after(() => {
  assert.deepEqual(unhandledRejections(), []);
});

describe(`${PAGE}: basicAuth()`, () => {
  it("greets alice, and answers 401 with the challenge and the reason otherwise", async () => {
    using project = scratchProject();
    await using server = await startProgram(
      project,
      "server",
      onLoopback(example("processRequest: basicAuth(")),
    );
    const address = `127.0.0.1:${server.port}`;
    const password = encodeURIComponent("correct horse battery staple");
    {
      await using ws = await connect(`ws://alice:${password}@${address}/`);
      assert.equal(await ws.recv(), "Hello, alice!");
    }

    const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString("base64")}`;
    const cases: [string, [string, string][], string][] = [
      ["", [], "Missing credentials.\n"],
      ["", [["Authorization", "Bearer s3cr3t"]], "Unsupported credentials.\n"],
      ["", [["Authorization", basic("no colon")]], "Unsupported credentials.\n"],
      [
        "",
        [
          ["Authorization", basic("alice:correct horse battery staple")],
          ["Authorization", basic("alice:correct horse battery staple")],
        ],
        "Unsupported credentials.\n",
      ],
      ["alice:wrong@", [], "Invalid credentials.\n"],
      [`bob:${password}@`, [], "Invalid credentials.\n"],
    ];
    for (const [userinfo, additionalHeaders, reason] of cases) {
      const response = await refusal(connect(`ws://${userinfo}${address}/`, { additionalHeaders }));
      assert.equal(response.status, 401, reason);
      assert.equal(response.text, reason);
      assert.equal(
        response.headers.get("WWW-Authenticate"),
        'Basic realm="websockets", charset="UTF-8"',
      );
    }
    assert.equal(server.child.exitCode, null);
    assert.equal(server.stderr, "");
  });
});

describe(`${PAGE}: route()`, () => {
  it("runs the handler of the pattern the path matches, with its parameters, else 404", async () => {
    using project = scratchProject();
    await using server = await startProgram(
      project,
      "server",
      onLoopback(example('"/rooms/:room": async (ws) =>')),
    );
    const base = `ws://127.0.0.1:${server.port}`;
    {
      await using ws = await connect(`${base}/echo?since=0`);
      await ws.send("Hello!");
      assert.equal(await ws.recv(), "Hello!");
    }
    for (const [path, room] of [
      ["/rooms/lobby", "lobby"],
      ["/rooms/caf%C3%A9", "café"],
      ["/rooms/a%2Fb", "a/b"],
    ] as const) {
      await using ws = await connect(`${base}${path}`);
      assert.equal(await ws.recv(), `Welcome to ${room}!`);
    }
    for (const path of ["/", "/echo/", "/rooms/", "/rooms/a/b", "/Echo"]) {
      assert.equal((await refusal(connect(`${base}${path}`))).status, 404, path);
    }
    assert.equal(server.stderr, "");
  });
});

describe(`${PAGE}: reconnect()`, () => {
  it("prints the feed, and connects again after a restart and after a crash", async () => {
    using project = scratchProject();
    const client = await runFeedClientThroughOutages(
      project,
      example("for await (const ws of reconnect("),
    );
    assert.equal(client.printed, "feed 1\nfeed 2\nfeed 3\n");
    assert.equal(client.stderr, "");
  });
});

describe(`${PAGE}: backoffDelay()`, () => {
  it("prints what its comments say", async () => {
    using project = scratchProject();
    project.writeProgram("backoff", example("backoffDelay(3)"));
    const run = await runNode(["backoff.js"], { cwd: project.dir });
    assert.equal(run.stderr, "");
    const [first, second] = run.stdout.split("\n");
    assert.ok(Number(first) >= 2000 && Number(first) <= 4000, first);
    assert.equal(second, "200");
    assert.equal(run.stdout, `${first}\n200\n`);
  });
});

describe(`${PAGE}: createWebSocketStream()`, () => {
  it("tunnels each connection to the TCP service, and closes it when the service does", async () => {
    // The TCP service: answers each line in upper case, and hangs up on "bye".
    const ended = deferred();
    const service = net.createServer((socket) => {
      socket.on("end", () => ended.resolve());
      socket.setEncoding("utf8");
      socket.on("data", (text: string) => {
        if (text === "bye") socket.end("BYE");
        else socket.write(text.toUpperCase());
      });
    });
    service.listen(0, "127.0.0.1");
    await once(service, "listening");
    const servicePort = (service.address() as net.AddressInfo).port;
    try {
      using project = scratchProject();
      await using gateway = await startProgram(
        project,
        "gateway",
        edit(
          onLoopback(example("createWebSocketStream(ws)")),
          "port: 7000,",
          `port: ${servicePort},`,
        ),
      );
      await using ws = await connect(`ws://127.0.0.1:${gateway.port}/`);
      await ws.send(new TextEncoder().encode("hello"));
      assert.equal(Buffer.from(await ws.recvBinary()).toString(), "HELLO");
      await ws.send(new TextEncoder().encode("bye"));
      assert.equal(Buffer.from(await ws.recvBinary()).toString(), "BYE");
      // The service hung up: the gateway closes the WebSocket normally.
      await ws.closed;
      assert.equal(ws.closeCode, 1000);
      // The client hangs up: the gateway ends the TCP connection.
      const ws2 = await connect(`ws://127.0.0.1:${gateway.port}/`);
      await ws2.send(new TextEncoder().encode("hi"));
      assert.equal(Buffer.from(await ws2.recvBinary()).toString(), "HI");
      await ws2.close();
      await within(ended.promise, 10_000, "the end of the TCP connection");
      assert.equal(gateway.stderr, "", "no handler failed");
    } finally {
      service.close();
    }
  });
});
