import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { State, stateName } from "../../src/core/state.js";

describe("State", () => {
  it("numbers the states of RFC 6455 §4 and §7 in their order", () => {
    assert.deepEqual(
      { ...State },
      {
        CONNECTING: 0,
        OPEN: 1,
        CLOSING: 2,
        CLOSED: 3,
      },
    );
  });

  it("is the union of its values, as a type", () => {
    // Checked by tsc: a state is one of the four numbers, and no other.
    true satisfies SameType<State, 0 | 1 | 2 | 3>;
    const closed: State = 3;
    // @ts-expect-error: 4 is not a state.
    const unknown: State = 4;
    assert.equal(closed, State.CLOSED);
    assert.equal(unknown, 4);
  });
});

describe("stateName", () => {
  it("names each state in lowercase", () => {
    assert.equal(stateName(State.CONNECTING), "connecting");
    assert.equal(stateName(State.OPEN), "open");
    assert.equal(stateName(State.CLOSING), "closing");
    assert.equal(stateName(State.CLOSED), "closed");
  });

  it("names every state after its key", () => {
    for (const [key, value] of Object.entries(State)) {
      assert.equal(stateName(value), key.toLowerCase());
    }
  });
});

/** `true` when `A` and `B` are the same type, else `false`, which `true` doesn't satisfy. */
type SameType<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
