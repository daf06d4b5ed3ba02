/**
 * Routing by path: `serve(route({ "/chat": chat, "/rooms/:id": room }))`
 * runs the handler whose pattern matches the request's path and answers 404
 * during the handshake when none does.
 *
 * @module
 */

import { requestTargetPath } from "../core/request-target.js";
import type { Handler, ServerConnection } from "./server.js";

/** Patterns and their handlers, for {@link route}. */
export type Routes = Readonly<Record<string, Handler>>;

/** The route a request's path matched. */
export interface RouteMatch {
  /** The pattern that matched, e.g. `"/rooms/:id"`. */
  readonly pattern: string;
  /** Its handler. */
  readonly handler: Handler;
  /** Values of the `:name` segments, percent-decoded: `{ id: "42" }`. */
  readonly params: Readonly<Record<string, string>>;
}

/** A pattern split in segments; parameters are `{ param: name }`. */
type Segment = string | { readonly param: string };

interface CompiledRoute {
  readonly pattern: string;
  readonly handler: Handler;
  readonly segments: readonly Segment[];
}

/** The route tables of the handlers {@link route} created. */
const tables = new WeakMap<Handler, RouteTable>();

class RouteTable {
  /** Patterns without parameters, by segments: matched first, whatever the order of definition. */
  private readonly exact = new Map<string, RouteMatch>();
  /** Patterns with parameters, in the order of definition. */
  private readonly patterns: CompiledRoute[] = [];

  constructor(routes: Routes) {
    for (const [pattern, handler] of Object.entries(routes)) {
      if (typeof handler !== "function") {
        throw new TypeError(`the route ${pattern} has no handler`);
      }
      const segments = compile(pattern);
      if (segments.every((segment) => typeof segment === "string")) {
        this.exact.set(JSON.stringify(segments), { pattern, handler, params: {} });
      } else {
        this.patterns.push({ pattern, handler, segments });
      }
    }
  }

  match(target: string): RouteMatch | null {
    const path = requestTargetPath(target);
    if (path === null) return null;
    let segments: string[];
    try {
      segments = path.split("/").map(decodeURIComponent);
    } catch {
      return null;
    }
    // Keyed by the list of segments: "/a%2Fb" must not match "/a/b".
    const exact = this.exact.get(JSON.stringify(segments));
    if (exact !== undefined) return exact;
    for (const route of this.patterns) {
      const params = matchSegments(route.segments, segments);
      if (params !== null) return { pattern: route.pattern, handler: route.handler, params };
    }
    return null;
  }
}

/** Splits a pattern in segments, checking its syntax. */
function compile(pattern: string): Segment[] {
  if (!pattern.startsWith("/")) throw new TypeError(`route patterns start with "/": ${pattern}`);
  const names = new Set<string>();
  return pattern.split("/").map((segment) => {
    // Paths are matched decoded: a pattern written encoded, "/caf%C3%A9",
    // means the same path as "/café".
    if (!segment.startsWith(":")) return decodePatternSegment(segment);
    const param = segment.slice(1);
    if (!/^[A-Za-z_$][\w$]*$/.test(param)) {
      throw new TypeError(`invalid parameter name in route ${pattern}: ${segment}`);
    }
    // Assigned to `params`, a plain object, `__proto__` would set its
    // prototype instead of a parameter: the value would be lost.
    if (param === "__proto__") {
      throw new TypeError(`invalid parameter name in route ${pattern}: ${segment} is reserved`);
    }
    if (names.has(param)) throw new TypeError(`repeated parameter in route ${pattern}: ${param}`);
    names.add(param);
    return { param };
  });
}

/**
 * `segment` percent-decoded, as request paths are; as it is when it does not
 * decode: "/100%" is the path a client sends as "/100%25".
 */
function decodePatternSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The parameters when `segments` of a path match `pattern`, else `null`. */
function matchSegments(
  pattern: readonly Segment[],
  segments: readonly string[],
): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i]!;
    const actual = segments[i]!;
    if (typeof expected === "string") {
      if (expected !== actual) return null;
    } else {
      // A parameter stands for one non-empty segment.
      if (actual === "") return null;
      params[expected.param] = actual;
    }
  }
  return params;
}

/**
 * A handler that dispatches connections by the path of their request.
 *
 * A pattern is a path; a segment `:name` matches any one non-empty segment and
 * its value is in `connection.params.name`. Paths are compared without the
 * query string, percent-decoded, segment by segment; patterns without
 * parameters win over those with, which are tried in order. A target in
 * absolute form (`http://host/chat`, or `https`, `ws`, `wss`) is routed on
 * its path, exactly as that path in origin form; its host is not checked,
 * nor is the `Host` header: check them in `processRequest` if needed. Given to
 * `serve()`, a request whose path matches nothing gets 404 during the
 * handshake, before `processRequest` runs.
 *
 * ```ts
 * await serve(route({ "/chat": chat, "/rooms/:id": room }), { port: 8001 });
 * ```
 *
 * @throws TypeError for a pattern that doesn't start with `/` or has an
 *   invalid or repeated parameter name.
 */
export function route(routes: Routes): Handler {
  const table = new RouteTable(routes);
  const handler = (connection: ServerConnection) => {
    const match = table.match(connection.request.path);
    if (match === null) throw new Error(`no route for ${connection.request.path}`);
    return match.handler(connection);
  };
  tables.set(handler, table);
  return handler;
}

/**
 * @internal How `handler` routes `path`: `undefined` when it isn't made by
 * {@link route}, `null` when no route matches.
 */
export function matchRoute(handler: Handler, path: string): RouteMatch | null | undefined {
  return tables.get(handler)?.match(path);
}
