/**
 * HTTP Basic authentication of the opening handshake (RFC 7617), as a
 * `processRequest` hook for `serve()`.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import { parseBasicAuthorization } from "../core/basic-auth.js";
import { describeValue } from "../core/describe-value.js";
import { Headers } from "../core/headers.js";
import { BASIC_AUTH_OPTIONS, checkOptionNames } from "./option-names.js";
import type { HttpResponseInit, ProcessRequest } from "./server.js";

/** Options of {@link basicAuth}: exactly one of `credentials` and `check`. */
export interface BasicAuthOptions {
  /**
   * The accepted users: `{ username: password }` or `[username, password]`
   * pairs. Passwords are compared in constant time.
   */
  credentials?: Readonly<Record<string, string>> | Iterable<readonly [string, string]> | undefined;
  /**
   * Decides whether a username and password are valid, e.g. against a
   * database of password hashes. Compare secrets in constant time
   * (`crypto.timingSafeEqual`) so response times don't leak them.
   */
  check?: ((username: string, password: string) => boolean | Promise<boolean>) | undefined;
  /** The protection space named in the challenge (RFC 9110 §11.5). Default: `"websockets"`. */
  realm?: string | undefined;
}

/** SHA-256 of a secret: equal-length digests make timingSafeEqual() applicable to any input. */
function digest(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

/** RFC 9110 §5.6.4: quoted-string, with `"` and `\` escaped. */
function quote(value: string): string {
  return `"${value.replace(/["\\]/g, "\\$&")}"`;
}

/**
 * A `processRequest` hook that requires HTTP Basic authentication: a request
 * without valid credentials gets 401 with a `WWW-Authenticate` challenge, and
 * the handler never runs. On success, `connection.username` is the user's name.
 *
 * ```ts
 * await serve(handler, {
 *   processRequest: basicAuth({ credentials: { alice: process.env.ALICE_PASSWORD! } }),
 * });
 * ```
 *
 * Basic authentication sends the password in the clear: serve over TLS.
 *
 * @throws TypeError unless exactly one of `credentials` and `check` is given;
 *   for an unknown option.
 */
export function basicAuth(options: BasicAuthOptions): ProcessRequest {
  checkOptionNames(options, BASIC_AUTH_OPTIONS, "basicAuth()");
  const { credentials, check: checkOption } = options;
  if ((credentials === undefined) === (checkOption === undefined)) {
    throw new TypeError("basicAuth() takes either credentials or check");
  }
  const check = checkOption ?? checkCredentials(credentials!);
  // RFC 7617 §2: challenge = "Basic" realm; §2.1: charset="UTF-8" announces
  // that the server expects UTF-8 credentials.
  const realm = options.realm ?? "websockets";
  if (typeof realm !== "string") {
    throw new TypeError(`realm must be a string; got ${describeValue(realm)}`);
  }
  const challenge = `Basic realm=${quote(realm)}, charset="UTF-8"`;
  // Checked now rather than in every 401: a realm with a line feed or a
  // character above U+00FF can't be sent.
  new Headers().set("WWW-Authenticate", challenge);
  const unauthorized = (text: string): HttpResponseInit => ({
    // RFC 9110 §15.5.2: "The server generating a 401 response MUST send a
    // WWW-Authenticate header field containing at least one challenge".
    status: 401,
    headers: { "WWW-Authenticate": challenge },
    body: text,
  });
  return async (connection, request) => {
    const values = request.headers.getAll("Authorization");
    if (values.length === 0) return unauthorized("Missing credentials.\n");
    if (values.length > 1) return unauthorized("Unsupported credentials.\n");
    let username: string;
    let password: string;
    try {
      [username, password] = parseBasicAuthorization(values[0]!);
    } catch {
      return unauthorized("Unsupported credentials.\n");
    }
    if (!(await check(username, password))) return unauthorized("Invalid credentials.\n");
    connection.username = username;
    return undefined;
  };
}

/** A `check` function for a fixed set of users. */
function checkCredentials(
  credentials: Readonly<Record<string, string>> | Iterable<readonly [string, string]>,
): (username: string, password: string) => boolean {
  const pairs =
    Symbol.iterator in credentials
      ? (credentials as Iterable<readonly [string, string]>)
      : Object.entries(credentials);
  const digests = new Map<string, Buffer>();
  for (const [username, password] of pairs) digests.set(username, digest(password));
  // Compared against when the username is unknown, so that both cases cost the same.
  const nobody = digest("");
  return (username, password) => {
    const expected = digests.get(username);
    const matches = timingSafeEqual(digest(password), expected ?? nobody);
    return matches && expected !== undefined;
  };
}
