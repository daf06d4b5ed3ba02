import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";
import { stopOnSignals } from "../../src/cli/stop.js";

/** An error as a stream reports a failed write. */
function writeError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`write ${code}`), { code, syscall: "write" });
}

describe("stopOnSignals", () => {
  for (const name of ["SIGINT", "SIGTERM"]) {
    it(`stops on the first ${name} and leaves the second to kill the process`, () => {
      const target = new EventEmitter();
      using stopper = stopOnSignals(target, []);
      assert.equal(target.listenerCount(name), 1);
      target.emit(name);
      assert.equal(stopper.signal.aborted, true);
      // No listener left: the default action, which kills, applies again.
      assert.equal(target.listenerCount("SIGINT"), 0);
      assert.equal(target.listenerCount("SIGTERM"), 0);
    });
  }

  it("stops when told to, as on the first signal (Ctrl-C read by readline)", () => {
    const target = new EventEmitter();
    using stopper = stopOnSignals(target, []);
    stopper.stop();
    assert.equal(stopper.signal.aborted, true);
    assert.equal(target.listenerCount("SIGINT"), 0);
    assert.equal(target.listenerCount("SIGTERM"), 0);
  });

  it("stops when an output's reader went away (EPIPE), instead of crashing", () => {
    for (const which of [0, 1]) {
      const target = new EventEmitter();
      const outputs = [new EventEmitter(), new EventEmitter()];
      using stopper = stopOnSignals(target, outputs);
      // Without a listener, emit("error") throws: the unhandled 'error' event.
      outputs[which]!.emit("error", writeError("EPIPE"));
      assert.equal(stopper.signal.aborted, true);
      assert.equal(target.listenerCount("SIGINT"), 0);
      // A write still in flight may fail after that, even after disposal.
      outputs[which]!.emit("error", writeError("EPIPE"));
    }
  });

  it("lets other write errors through", () => {
    const output = new EventEmitter();
    using stopper = stopOnSignals(new EventEmitter(), [output]);
    assert.throws(() => output.emit("error", writeError("EIO")), /write EIO/);
    assert.equal(stopper.signal.aborted, false);
  });

  it("removes its signal listeners when disposed of, without stopping", () => {
    const target = new EventEmitter();
    const output = new EventEmitter();
    const stopper = stopOnSignals(target, [output]);
    stopper[Symbol.dispose]();
    assert.equal(target.listenerCount("SIGINT"), 0);
    assert.equal(target.listenerCount("SIGTERM"), 0);
    assert.equal(stopper.signal.aborted, false);
    assert.equal(output.listenerCount("error"), 1);
  });
});
