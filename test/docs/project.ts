/**
 * A scratch project of a user's, for running the docs' programs as a
 * newcomer does: its own directory, `"type": "module"`, and the package
 * installed from this checkout, linked in node_modules/ as
 * `npm install <path>` does it (so it runs from dist/, which `npm test`
 * builds first).
 */

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { ROOT } from "./markdown.js";

/** A scratch project; disposing of it removes it. */
export interface Project extends Disposable {
  readonly dir: string;
  /**
   * Writes `code`, a TypeScript snippet of the docs, to `name`.js, compiled
   * for Node 20 as getting-started.md's tsconfig.json has it (ES2022 rewrites
   * `await using`), without type checking.
   */
  writeProgram(name: string, code: string): string;
}

/** Creates a scratch project in the system's temporary directory. */
export function scratchProject(): Project {
  const dir = mkdtempSync(join(tmpdir(), "websockets-ts-docs-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(fileURLToPath(ROOT), join(dir, "node_modules/websockets-ts"), "junction");
  return {
    dir,
    writeProgram(name, code) {
      const { outputText } = ts.transpileModule(code, {
        compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
      });
      const path = join(dir, `${name}.js`);
      writeFileSync(path, outputText);
      return path;
    },
    [Symbol.dispose]() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
