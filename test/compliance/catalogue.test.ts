/** The case catalogue: Autobahn's numbering and counts, and selection by pattern. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allCases, matches, sectionOf, selectCases } from "../../compliance/cases/index.js";

describe("the case catalogue", () => {
  const cases = allCases();

  it("has Autobahn's cases for sections 1-7, 9, 10, 12 and 13", () => {
    const counts: Record<string, number> = {};
    for (const c of cases) counts[sectionOf(c.id)] = (counts[sectionOf(c.id)] ?? 0) + 1;
    assert.deepEqual(counts, {
      1: 16,
      2: 11,
      3: 7,
      4: 10,
      5: 20,
      6: 145,
      7: 37,
      9: 54,
      10: 1,
      12: 90,
      13: 126,
    });
  });

  it("negotiates permessage-deflate in sections 12 and 13 only", () => {
    for (const c of cases) {
      assert.equal(c.deflate !== undefined, /^1[23]\./.test(c.id), c.id);
    }
  });

  it("numbers cases uniquely, in order", () => {
    const ids = cases.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length);
    const key = (id: string) => id.split(".").map(Number);
    const sorted = [...ids].sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      for (let i = 0; i < Math.max(x.length, y.length); i++) {
        if ((x[i] ?? -1) !== (y[i] ?? -1)) return (x[i] ?? -1) - (y[i] ?? -1);
      }
      return 0;
    });
    assert.deepEqual(ids, sorted);
    assert.equal(ids.at(-1), "13.7.18");
    assert.ok(ids.includes("6.23.7"));
    assert.ok(ids.includes("6.22.34"));
  });

  it("describes every case and its expectation", () => {
    for (const c of cases) {
      assert.ok(c.description.length > 10, c.id);
      assert.ok(c.expectation.length > 10, c.id);
    }
  });

  it("grades UTF-8 validity as RFC 3629 does", () => {
    const utf8 = cases.filter((c) => /^6\.(5|6|7|8|9|1\d|2\d)\./.test(c.id));
    for (const c of utf8) {
      const bytes = /text ([0-9a-f]+)\.$/.exec(c.description)?.[1];
      assert.ok(bytes !== undefined, c.id);
      const valid = Buffer.from(bytes, "hex");
      const isValid = Buffer.from(valid.toString("utf8"), "utf8").equals(valid);
      assert.equal(c.expected.OK?.length === 1, isValid, `${c.id} ${bytes}`);
    }
  });

  it("scales section 9's sizes on request", () => {
    const small = allCases({ sizeScale: 1024 }).find((c) => c.id === "9.1.6")!;
    assert.match(small.description, /16 KiB/);
  });
});

describe("selection", () => {
  it("matches ids exactly or with * patterns", () => {
    assert.ok(matches("6.4.1", "6.4.1"));
    assert.ok(!matches("6.4.10", "6.4.1"));
    assert.ok(matches("6.4.10", "6.4.*"));
    assert.ok(matches("9.7.1", "9.*"));
    assert.ok(!matches("10.1.1", "1.*"));
    assert.ok(matches("10.1.1", "*"));
  });

  it("includes and excludes", () => {
    const ids = selectCases(allCases(), ["7.*"], ["7.7.*", "7.9.*", "7.13.*"]).map((c) => c.id);
    assert.deepEqual(ids, [
      "7.1.1",
      "7.1.2",
      "7.1.3",
      "7.1.4",
      "7.1.5",
      "7.1.6",
      "7.3.1",
      "7.3.2",
      "7.3.3",
      "7.3.4",
      "7.3.5",
      "7.3.6",
      "7.5.1",
    ]);
  });
});
