/**
 * `Resolved<T>` is a type only: these tests are checked by tsc (`npm run
 * typecheck`), where a `true satisfies SameType<…>` that doesn't hold and a
 * `@ts-expect-error` without its error both fail the build.
 */

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { DEFAULT_HTTP_LIMITS, type HttpLimits, withDefaults } from "../../src/core/http-limits.js";
import type { Resolved } from "../../src/core/resolved.js";
import * as resolvedModule from "../../src/core/resolved.js";

interface Options {
  count?: number | undefined;
  name?: string;
  label: string | undefined;
  readonly frozen?: boolean | undefined;
  window?: number | null | undefined;
}

describe("Resolved", () => {
  it("exports nothing at run time", () => {
    assert.deepEqual(Object.keys(resolvedModule), []);
  });

  it("makes every property required and removes undefined from its type", () => {
    true satisfies SameType<
      Resolved<Options>,
      {
        count: number;
        name: string;
        label: string;
        readonly frozen: boolean;
        window: number | null;
      }
    >;
    const options: Resolved<Options> = {
      count: 1,
      name: "a",
      label: "b",
      frozen: true,
      window: null,
    };
    assert.equal(options.window, null);
  });

  it("differs from Required<T>, which keeps a declared | undefined", () => {
    // Under exactOptionalPropertyTypes, which the project compiles with.
    true satisfies SameType<Required<Options>["count"], number | undefined>;
    true satisfies SameType<Resolved<Options>["count"], number>;
  });

  it("refuses undefined and a missing property", () => {
    const withUndefined: Resolved<Options> = {
      // @ts-expect-error: a resolved option is never undefined.
      count: undefined,
      name: "a",
      label: "b",
      frozen: true,
      window: 8,
    };
    // @ts-expect-error: every option is given.
    const missing: Resolved<Options> = { count: 1, name: "a", label: "b", frozen: true };
    assert.equal(withUndefined.count, undefined);
    assert.equal(missing.count, 1);
  });

  it("keeps null, which options use for 'none', and readonly", () => {
    const options: Resolved<Options> = {
      count: 1,
      name: "a",
      label: "b",
      frozen: true,
      window: null,
    };
    // @ts-expect-error: frozen is readonly in Options, and stays so.
    options.frozen = false;
    options.window = 9;
    assert.equal(options.window, 9);
  });

  it("types the limits the HTTP parsers apply", () => {
    const limits: Resolved<HttpLimits> = withDefaults({
      maxHeaders: undefined,
      maxLineLength: 100,
    });
    true satisfies SameType<
      Resolved<HttpLimits>,
      { maxLineLength: number; maxHeaders: number; maxHeaderSize: number; maxBodySize: number }
    >;
    assert.deepEqual(limits, {
      maxLineLength: 100,
      maxHeaders: DEFAULT_HTTP_LIMITS.maxHeaders,
      maxHeaderSize: DEFAULT_HTTP_LIMITS.maxHeaderSize,
      maxBodySize: DEFAULT_HTTP_LIMITS.maxBodySize,
    });
  });
});

/** `true` when `A` and `B` are the same type, else `false`, which `true` doesn't satisfy. */
type SameType<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
