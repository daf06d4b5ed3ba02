/**
 * The fuzzing client: plays each case against a WebSocket server under test,
 * over a raw TCP socket, one connection per case.
 *
 * @module
 */

import type { CaseDefinition } from "./case.js";
import { type Agreement, offerHeader, parseResponse } from "./deflate.js";
import { openClientSocket } from "./handshake.js";
import type { CaseResult } from "./judge.js";
import { notOpened, type PlayOptions, playCase } from "./play.js";

/**
 * Runs `cases` against the server at `baseUrl` (`ws://host:port`), in order.
 * `onResult` sees each result as soon as it is graded.
 */
export async function runAgainstServer(
  baseUrl: string,
  cases: readonly CaseDefinition[],
  options: PlayOptions,
  onResult: (result: CaseResult) => void = () => {},
): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const definition of cases) {
    const url = new URL(`/runCase?case=${definition.id}`, baseUrl.replace(/^ws/, "http"));
    const offers = definition.deflate?.offers ?? [];
    const extraHeaders =
      offers.length > 0 ? [`Sec-WebSocket-Extensions: ${offerHeader(offers)}`] : [];
    let result: CaseResult;
    try {
      const opened = await openClientSocket(url, extraHeaders);
      let agreement: Agreement | null;
      try {
        // RFC 6455 §4.1: an extension the client did not offer fails the connection.
        agreement = parseResponse(opened.head.headers.get("sec-websocket-extensions"), offers);
      } catch (error) {
        opened.socket.destroy();
        throw error;
      }
      result = await playCase(definition, opened, "client", options, agreement);
    } catch (error) {
      result = notOpened(definition, "client", String(error));
    }
    results.push(result);
    onResult(result);
  }
  return results;
}
