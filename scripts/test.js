// Runs every compiled test file, .build/test/**/*.test.js, with `node --test`.
// Node 20's --test takes no glob, and given a directory it also runs the
// helper modules beside the tests, each counted as a test of its own; a
// shell's `find` would tie `npm test` to a POSIX shell.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const root = ".build/test";
const files = readdirSync(root, { recursive: true, encoding: "utf8" })
  .filter((file) => file.endsWith(".test.js"))
  .map((file) => join(root, file))
  .sort();
// A run that executes no test must fail, not pass.
if (files.length === 0) {
  console.error(`no test files in ${root}: run npm run build:test first`);
  process.exit(1);
}
// Node 20 applies --test-timeout to each file's whole run as well as to each
// test: on a loaded machine (CI shares its two cores) the longest files take
// over 60 s, so the limit is set for them; tests that must fail fast on a
// hang set their own, shorter, `timeout`.
const { status } = spawnSync(
  process.execPath,
  ["--test", "--test-timeout=300000", ...process.argv.slice(2), ...files],
  { stdio: "inherit" },
);
process.exit(status ?? 1);
