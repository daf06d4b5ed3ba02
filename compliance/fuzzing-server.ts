/**
 * The fuzzing server: plays each case against a WebSocket client under test.
 * For each case the client is started with `ws://…/runCase?case=<id>` and
 * must echo every message it receives, as Autobahn's testee clients do.
 *
 * @module
 */

import { once } from "node:events";
import * as net from "node:net";
import type { CaseDefinition } from "./case.js";
import { type Agreement, agreementHeader, type DeflateOffer, parseOffers } from "./deflate.js";
import { acceptServerSocket, type HttpHead, requestTarget } from "./handshake.js";
import type { CaseResult } from "./judge.js";
import { notOpened, type PlayOptions, playCase } from "./play.js";

/**
 * How a case configures the client under test, as Autobahn's testee clients
 * are configured per case.
 */
export interface ClientCaseOptions {
  /**
   * The permessage-deflate offer the client should make (sections 12 and 13):
   * the fuzzing client's first offer of the case, which the fuzzing server's
   * accept is written against. `null` outside those sections.
   */
  readonly deflateOffer: DeflateOffer | null;
}

/** A client under test: connects to `url`, echoes messages, resolves once closed. */
export type ClientRunner = (url: string, options: ClientCaseOptions) => Promise<void>;

/** How long a client may take to finish after its case was graded. */
const CLIENT_EXIT_GRACE_MS = 5_000;

interface PendingCase {
  readonly definition: CaseDefinition;
  readonly settle: (result: CaseResult) => void;
}

/** Runs `cases` against the client `runClient`, in order, one connection per case. */
export async function runAgainstClient(
  runClient: ClientRunner,
  cases: readonly CaseDefinition[],
  options: PlayOptions,
  onResult: (result: CaseResult) => void = () => {},
): Promise<CaseResult[]> {
  let current: PendingCase | null = null;
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    void serveCase(socket);
  });

  async function serveCase(socket: net.Socket): Promise<void> {
    const pending = current;
    let agreement: Agreement | null = null;
    // RFC 7692 §5: the server answers one of the client's offers, or none.
    const respond = (head: HttpHead): string[] => {
      const negotiation = pending?.definition.deflate;
      if (negotiation === undefined) return [];
      try {
        agreement = negotiation.accept(parseOffers(head.headers.get("sec-websocket-extensions")));
      } catch {
        agreement = null;
      }
      return agreement === null ? [] : [`Sec-WebSocket-Extensions: ${agreementHeader(agreement)}`];
    };
    let opened: Awaited<ReturnType<typeof acceptServerSocket>>;
    try {
      opened = await acceptServerSocket(socket, respond);
    } catch {
      socket.destroy();
      return;
    }
    const id = new URL(requestTarget(opened.head), "http://fuzzer").searchParams.get("case");
    if (pending === null || pending !== current || id !== pending.definition.id) {
      // Not the connection of the case being played (a reconnection, say).
      socket.destroy();
      return;
    }
    current = null;
    pending.settle(await playCase(pending.definition, opened, "server", options, agreement));
  }

  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  const results: CaseResult[] = [];
  try {
    for (const definition of cases) {
      let settle!: (result: CaseResult) => void;
      const graded = new Promise<CaseResult>((resolve) => {
        settle = resolve;
      });
      current = { definition, settle };
      const url = `ws://127.0.0.1:${port}/runCase?case=${definition.id}`;
      let clientError: unknown = null;
      const deflateOffer = definition.deflate?.offers[0] ?? null;
      const client = runClient(url, { deflateOffer }).catch((error: unknown) => {
        clientError = error;
      });
      // A client that gives up before connecting settles the case as failed.
      const clientDone = client.then(() => "client-done" as const);
      const first = await Promise.race([graded, clientDone]);
      let result: CaseResult;
      if (first === "client-done" && current !== null) {
        current = null;
        result = notOpened(definition, "server", `the client ended first (${String(clientError)})`);
      } else {
        result = await graded;
      }
      // The next case starts once this client is gone, so connections never overlap.
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLIENT_EXIT_GRACE_MS);
      });
      await Promise.race([client, grace]);
      clearTimeout(timer);
      results.push(result);
      onResult(result);
    }
  } finally {
    for (const socket of sockets) socket.destroy();
    server.close();
  }
  return results;
}
