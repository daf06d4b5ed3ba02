import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { DueQueue } from "../../src/node/due-queue.js";
import { deferred } from "../helpers/server.js";

/** Keeps the event loop alive while `run` waits on the queue's unref'd timer. */
async function holdingLoop<T>(run: () => Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, 1000);
  try {
    return await run();
  } finally {
    clearInterval(hold);
  }
}

describe("DueQueue", () => {
  it("hands items over in the order added, each at least its delay later", async () => {
    const handed: [string, number][] = [];
    const added = new Map<string, number>();
    const empty = deferred();
    const queue = new DueQueue<string>(
      30,
      (item) => handed.push([item, performance.now()]),
      () => empty.resolve(),
    );
    queue.add("first");
    assert.equal(queue.size, 1);
    added.set("first", performance.now());
    await holdingLoop(async () => {
      for (const item of ["a", "b", "c"]) {
        added.set(item, performance.now());
        queue.add(item);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await empty.promise;
    });
    assert.deepEqual(
      handed.map(([item]) => item),
      ["first", "a", "b", "c"],
    );
    for (const [item, at] of handed) {
      // Node's timers count whole milliseconds: one of slack.
      assert.ok(at - added.get(item)! >= 30 - 1, `${item} handed over before its delay`);
    }
    assert.equal(queue.size, 0);
  });

  it("gives an item added while handing over a whole delay, and keeps one timer", async () => {
    let calls = 0;
    const done = deferred();
    const turns: number[] = [];
    let turn = 0;
    const spinner = setInterval(() => turn++, 1);
    const queue = new DueQueue<number>(
      0,
      (item) => {
        calls++;
        turns.push(turn);
        if (item < 5) queue.add(item + 1);
        else done.resolve();
      },
      () => {},
    );
    try {
      await holdingLoop(async () => {
        queue.add(1);
        await done.promise;
      });
    } finally {
      clearInterval(spinner);
    }
    // A delay of 0 waits for the next timer, as with setTimeout(): each item
    // got a turn of its own, not a loop that never yields.
    assert.equal(calls, 5);
    assert.equal(new Set(turns).size, 5);
  });

  it("calls onEmpty once drained, and serves items added after that", async () => {
    const handed: number[] = [];
    const emptied = [deferred(), deferred()];
    let empties = 0;
    const queue = new DueQueue<number>(
      5,
      (item) => handed.push(item),
      (drained) => {
        assert.equal(drained, queue);
        emptied[empties++]!.resolve();
      },
    );
    await holdingLoop(async () => {
      queue.add(1);
      await emptied[0]!.promise;
      queue.add(2);
      await emptied[1]!.promise;
    });
    assert.deepEqual(handed, [1, 2]);
  });

  it("keeps its order past the compaction of a long queue", async () => {
    const count = 5000;
    const handed: number[] = [];
    const addedAt: number[] = [];
    let early = 0;
    const empty = deferred();
    const queue = new DueQueue<number>(
      20,
      (item) => {
        handed.push(item);
        // Node's timers count whole milliseconds: one of slack.
        if (performance.now() - addedAt[item]! < 20 - 1) early++;
        addedAt[item + count] = performance.now();
        // Items added while the first half is handed over land after the rest.
        if (item < count) queue.add(item + count);
      },
      () => empty.resolve(),
    );
    await holdingLoop(async () => {
      for (let i = 0; i < count; i++) {
        addedAt[i] = performance.now();
        queue.add(i);
      }
      await empty.promise;
    });
    assert.equal(handed.length, 2 * count);
    assert.equal(early, 0, "items handed over before their delay");
    assert.deepEqual(
      handed.slice(0, count),
      Array.from({ length: count }, (_, i) => i),
    );
    assert.deepEqual(
      handed.slice(count),
      Array.from({ length: count }, (_, i) => i + count),
    );
  });

  it("hands over the items behind one whose onDue threw", async () => {
    const module = fileURLToPath(new URL("../../src/node/due-queue.js", import.meta.url));
    // In a process of its own: the exception is uncaught there, as it would be in a server.
    const script = `
      const { DueQueue } = await import(${JSON.stringify(module)});
      const handed = [];
      process.on("uncaughtException", (error) => handed.push("threw " + error.message));
      const hold = setTimeout(() => {}, 5000);
      const queue = new DueQueue(5, (item) => {
        if (item === "a") throw new Error("a");
        handed.push(item);
        if (item === "c") {
          clearTimeout(hold);
          console.log(JSON.stringify(handed));
        }
      }, () => {});
      queue.add("a");
      queue.add("b");
      setTimeout(() => queue.add("c"), 20);
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const killer = setTimeout(() => child.kill(), 10_000);
    await once(child, "exit");
    clearTimeout(killer);
    assert.deepEqual(JSON.parse(output), ["threw a", "b", "c"]);
  });

  it("does not keep the process alive", async () => {
    const module = fileURLToPath(new URL("../../src/node/due-queue.js", import.meta.url));
    // An item an hour away: the process must exit at once all the same.
    const script = `
      const { DueQueue } = await import(${JSON.stringify(module)});
      new DueQueue(3_600_000, () => process.exit(2), () => {}).add("later");
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: "inherit",
    });
    // Bounded: a timer that kept the process alive would hold it for the hour.
    const killer = setTimeout(() => child.kill(), 10_000);
    const [code] = await once(child, "exit");
    clearTimeout(killer);
    assert.equal(code, 0);
  });
});
