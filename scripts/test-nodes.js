// Runs the test suite, already built, on other versions of Node: `npm run
// test:nodes` (Node 22 and 24) or `npm run test:nodes -- 22.15 24`. Each
// version is the `node-<platform>-<arch>` package of the npm registry (the
// binaries Node publishes there), fetched once into .build/nodes/ with
// `npm pack` and unpacked with `tar`; tests that start child processes run
// them on the same Node, through process.execPath.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

const versions = process.argv.slice(2);
if (versions.length === 0) versions.push("22", "24");

const packageName = `node-${process.platform}-${process.arch}`;
const executable = process.platform === "win32" ? "node.exe" : "node";

/** Runs a command to its end; exits with its status when it fails. */
function run(command, args, options = {}) {
  const { status, error } = spawnSync(command, args, { stdio: "inherit", ...options });
  if (error !== undefined || status !== 0) {
    console.error(`${command} ${args.join(" ")} failed: ${error?.message ?? `exit ${status}`}`);
    process.exit(1);
  }
}

/** The path of the node binary for `version` (a version or range), fetched if need be. */
function nodeFor(version) {
  const dir = resolve(".build/nodes", version);
  const binary = join(dir, "package", "bin", executable);
  if (existsSync(binary)) return binary;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // `npm pack` resolves the range to the newest version in it, as `npm install` would.
  run("npm", ["pack", "--silent", `${packageName}@${version}`, "--pack-destination", dir], {
    shell: process.platform === "win32",
  });
  const tarball = readdirSync(dir).find((file) => file.endsWith(".tgz"));
  if (tarball === undefined) {
    console.error(`npm pack ${packageName}@${version} left no tarball in ${dir}`);
    process.exit(1);
  }
  run("tar", ["xzf", tarball], { cwd: dir });
  rmSync(join(dir, tarball));
  return binary;
}

if (!existsSync(".build/test")) {
  console.error("no tests in .build/test: run npm run build && npm run build:test first");
  process.exit(1);
}
const failed = [];
for (const version of versions) {
  const node = nodeFor(version);
  const { stdout } = spawnSync(node, ["--version"], { encoding: "utf8" });
  console.log(`== npm test on Node ${stdout.trim()} (${packageName}@${version})`);
  const { status } = spawnSync(node, ["scripts/test.js", "--test-reporter=spec"], {
    stdio: "inherit",
  });
  if (status !== 0) failed.push(stdout.trim());
}
if (failed.length > 0) {
  console.error(`tests failed on Node ${failed.join(", ")}`);
  process.exit(1);
}
