import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { constants as zlibConstants } from "node:zlib";

import {
  checkSettings,
  checkWindowBits,
  type DeflateSettings,
  MAX_WINDOW_BITS,
} from "../../../src/core/extensions/permessage-deflate-settings.js";

describe("MAX_WINDOW_BITS", () => {
  it("is RFC 7692's largest window, 2^15 = 32,768 bytes", () => {
    assert.equal(MAX_WINDOW_BITS, 15);
    assert.equal(2 ** MAX_WINDOW_BITS, 32_768);
  });
});

describe("checkWindowBits", () => {
  it("takes the integers 8 to 15", () => {
    for (let bits = 8; bits <= 15; bits++) {
      assert.equal(checkWindowBits(bits, "windowBits"), undefined);
    }
  });

  it("refuses other numbers with a RangeError naming the option", () => {
    for (const bits of [
      7,
      16,
      0,
      -8,
      8.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]) {
      assert.throws(() => checkWindowBits(bits, "serverMaxWindowBits"), {
        name: "RangeError",
        message: `serverMaxWindowBits must be an integer from 8 to 15, got ${bits}`,
      });
    }
    assert.throws(() => checkWindowBits(16, "clientMaxWindowBits"), {
      message: "clientMaxWindowBits must be an integer from 8 to 15, got 16",
    });
  });
});

describe("checkSettings", () => {
  it("applies zlib's defaults: level -1 (Z_DEFAULT_COMPRESSION), memLevel 8, threshold 0", () => {
    assert.deepEqual(checkSettings({}), { level: -1, memLevel: 8, threshold: 0 });
    assert.equal(checkSettings({}).level, zlibConstants.Z_DEFAULT_COMPRESSION);
  });

  it("applies the defaults to options given as undefined", () => {
    const settings: DeflateSettings = {
      level: undefined,
      memLevel: undefined,
      threshold: undefined,
      scheduleRelease: undefined,
    };
    assert.deepEqual(checkSettings(settings), { level: -1, memLevel: 8, threshold: 0 });
  });

  it("returns the settings given, and only the zlib ones", () => {
    const settings = { level: 9, memLevel: 1, threshold: 1024, scheduleRelease: () => {} };
    assert.deepEqual(checkSettings(settings), { level: 9, memLevel: 1, threshold: 1024 });
  });

  it("takes every level from -1 to 9 and refuses the rest", () => {
    for (let level = -1; level <= 9; level++) assert.equal(checkSettings({ level }).level, level);
    for (const level of [-2, 10, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => checkSettings({ level }), {
        name: "RangeError",
        message: `level must be an integer from -1 to 9, got ${level}`,
      });
    }
  });

  it("takes every memLevel from 1 to 9 and refuses the rest", () => {
    for (let memLevel = 1; memLevel <= 9; memLevel++) {
      assert.equal(checkSettings({ memLevel }).memLevel, memLevel);
    }
    for (const memLevel of [0, -1, 10, 2.5, Number.NaN]) {
      assert.throws(() => checkSettings({ memLevel }), {
        name: "RangeError",
        message: `memLevel must be an integer from 1 to 9, got ${memLevel}`,
      });
    }
  });

  it("refuses settings that aren't numbers with a TypeError", () => {
    for (const settings of [{ level: "9" }, { memLevel: true }, { threshold: "1024" }]) {
      assert.throws(() => checkSettings(settings as never), TypeError);
    }
    assert.throws(() => checkWindowBits("9" as never, "clientMaxWindowBits"), {
      name: "TypeError",
      message: 'clientMaxWindowBits must be an integer from 8 to 15, got "9"',
    });
  });

  it("takes any threshold from 0 up, Infinity included, and refuses negatives and NaN", () => {
    for (const threshold of [0, 1, 0.5, 1_000_000, Number.POSITIVE_INFINITY]) {
      assert.equal(checkSettings({ threshold }).threshold, threshold);
    }
    for (const threshold of [-1, -0.5, Number.NEGATIVE_INFINITY, Number.NaN]) {
      assert.throws(() => checkSettings({ threshold }), {
        name: "RangeError",
        message: `threshold must be 0 or more, got ${threshold}`,
      });
    }
  });

  it("refuses a scheduleRelease that isn't a function, null included, with a TypeError", () => {
    for (const scheduleRelease of [null, 1, "later", {}]) {
      assert.throws(
        () => checkSettings({ scheduleRelease: scheduleRelease as never }),
        { name: "TypeError", message: "scheduleRelease must be a function" },
        String(scheduleRelease),
      );
    }
  });

  it("checks level, then memLevel, then threshold, then scheduleRelease", () => {
    const invalid = { level: 10, memLevel: 0, threshold: -1, scheduleRelease: 1 as never };
    assert.throws(() => checkSettings(invalid), { message: /^level / });
    assert.throws(() => checkSettings({ ...invalid, level: 1 }), { message: /^memLevel / });
    assert.throws(() => checkSettings({ ...invalid, level: 1, memLevel: 8 }), {
      message: /^threshold /,
    });
    assert.throws(() => checkSettings({ ...invalid, level: 1, memLevel: 8, threshold: 0 }), {
      name: "TypeError",
    });
  });

  it("ignores the options it doesn't know, such as a factory's window bits", () => {
    const options = { level: 1, clientMaxWindowBits: 99, serverNoContextTakeover: "yes" };
    assert.deepEqual(checkSettings(options), { level: 1, memLevel: 8, threshold: 0 });
  });
});
