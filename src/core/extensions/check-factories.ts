/**
 * Checks of the `extensions` option, once, where it is given: a factory
 * without its methods would otherwise fail every handshake with an internal
 * `TypeError` ("factory.getRequestParams is not a function").
 *
 * @module
 */

import { describeValue } from "../describe-value.js";
import type { ClientExtensionFactory, ServerExtensionFactory } from "./base.js";

/**
 * @throws TypeError unless `value` is `undefined` or an array of client
 *   extension factories: objects with a `name` and the methods
 *   `getRequestParams()` and `processResponseParams()`.
 */
export function checkClientFactories(
  value: unknown,
): asserts value is readonly ClientExtensionFactory[] | undefined {
  checkFactories(value, "client", ["getRequestParams", "processResponseParams"]);
}

/**
 * @throws TypeError unless `value` is `undefined` or an array of server
 *   extension factories: objects with a `name` and the method
 *   `processRequestParams()`.
 */
export function checkServerFactories(
  value: unknown,
): asserts value is readonly ServerExtensionFactory[] | undefined {
  checkFactories(value, "server", ["processRequestParams"]);
}

function checkFactories(value: unknown, role: string, methods: readonly string[]): void {
  if (value === undefined) return;
  const expected = `extensions must be an array of ${role} extension factories, with a name and ${methods.map((method) => `${method}()`).join(" and ")}`;
  if (!Array.isArray(value)) throw new TypeError(`${expected}; got ${describeValue(value)}`);
  value.forEach((factory: unknown, index) => {
    const record = factory as Record<string, unknown> | null;
    const valid =
      typeof factory === "object" &&
      record !== null &&
      typeof record.name === "string" &&
      methods.every((method) => typeof record[method] === "function");
    if (!valid) throw new TypeError(`${expected}; item ${index} is ${describeValue(factory)}`);
  });
}
