/** The shared counters' flow-control handshake, one side after the other. */

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allocateSharedMemory, SharedCounters } from "../../src/sync/counters.js";

function pair(): [worker: SharedCounters, caller: SharedCounters] {
  const memory = allocateSharedMemory();
  return [new SharedCounters(memory), new SharedCounters(memory)];
}

describe("SharedCounters", () => {
  it("counts messages delivered and not yet consumed", () => {
    const [worker, caller] = pair();
    assert.equal(worker.unconsumed(3), 3);
    caller.consume();
    assert.equal(worker.unconsumed(3), 2);
  });

  it("asks for exactly one credit when the worker stalled first", () => {
    const [worker, caller] = pair();
    assert.equal(caller.claimStall(), false);
    assert.equal(worker.stall(2, 2), true);
    caller.consume();
    assert.equal(caller.claimStall(), true);
    assert.equal(caller.claimStall(), false);
  });

  it("lets the worker go on without a credit when a message was taken before it stalled", () => {
    const [worker, caller] = pair();
    caller.consume();
    assert.equal(worker.stall(2, 2), false);
    assert.equal(caller.claimStall(), false);
  });

  it("counts written bytes, waking the caller only when it waits for them", () => {
    const [worker, caller] = pair();
    const before = caller.wakeCount;
    worker.addWritten(5);
    assert.equal(caller.wakeCount, before);
    caller.waitingForWrites = true;
    worker.addWritten(2 ** 33);
    caller.waitingForWrites = false;
    assert.equal(caller.bytesWritten, 2 ** 33 + 5);
    assert.equal(caller.wakeCount, before + 1);
    caller.sleep(before, 0);
    assert.equal(caller.exited, false);
  });
});
