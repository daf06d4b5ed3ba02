/**
 * Every relative link of README.md and docs/ leads somewhere: the file (or
 * directory) exists and, for a link into a Markdown file with `#anchor`, one
 * of that file's headings has the anchor GitHub gives it. Links with a scheme
 * (https:, mailto:) are not fetched.
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { anchors, links, markdownFiles, ROOT, readMarkdown } from "./markdown.js";

const root = fileURLToPath(ROOT);

/** Anchors per Markdown file, computed once per target. */
const anchorCache = new Map<string, Set<string>>();
function anchorsOf(file: string): Set<string> {
  let found = anchorCache.get(file);
  if (found === undefined) {
    found = anchors(readMarkdown(root, file));
    anchorCache.set(file, found);
  }
  return found;
}

/** Why a link is broken, or `undefined` if it is not. */
function brokenLink(from: string, target: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined;
  if (target === "") return "empty link";
  const hash = target.indexOf("#");
  const path = decodeURI(hash === -1 ? target : target.slice(0, hash));
  const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
  if (path.startsWith("/"))
    return "absolute path: GitHub resolves it against the host, not the repository";
  const file =
    path === ""
      ? from
      : relative(root, join(root, dirname(from), path))
          .split("\\")
          .join("/");
  if (file.startsWith("..")) return "outside the repository";
  if (!existsSync(join(root, file))) return `${file} does not exist`;
  if (anchor === undefined || !file.endsWith(".md")) return undefined;
  return anchorsOf(file).has(anchor) ? undefined : `${file} has no heading with anchor #${anchor}`;
}

describe("the relative links of README.md and docs/", () => {
  for (const file of markdownFiles(root)) {
    it(file, () => {
      const broken = links(readMarkdown(root, file)).flatMap(({ line, target }) => {
        const why = brokenLink(file, target);
        return why === undefined ? [] : [`${file}:${line} (${target}): ${why}`];
      });
      assert.deepEqual(broken, []);
    });
  }
});

describe("the link checker", () => {
  it("finds inline links and reference definitions, not code", () => {
    const text = [
      "See [a](a.md) and ![b](img/b.png 'x') and [c](<c d.md>).",
      "`[not](code.md)` and",
      "```ts",
      'const x = "[nor](fence.md)";',
      "```",
      "[ref]: ref.md#top",
    ].join("\n");
    assert.deepEqual(links(text), [
      { line: 1, target: "a.md" },
      { line: 1, target: "img/b.png" },
      { line: 1, target: "c d.md" },
      { line: 6, target: "ref.md#top" },
    ]);
  });

  it("gives headings GitHub's anchors", () => {
    const text = [
      "# `connect()` and `ClientConnection`",
      "## `ping(data?): Promise<number>`",
      '### `close(code = 1000, reason = "")`',
      "## Options",
      "## Options",
      "## [`route(routes)`](helpers.md)",
      "```sh",
      "# not a heading",
      "```",
      '<a id="custom"></a>',
    ].join("\n");
    assert.deepEqual(
      [...anchors(text)],
      [
        "connect-and-clientconnection",
        "pingdata-promisenumber",
        "closecode--1000-reason--",
        "options",
        "options-1",
        "routeroutes",
        "custom",
      ],
    );
  });

  it("reports a missing file, a missing anchor, and accepts a directory", () => {
    assert.equal(brokenLink("docs/index.md", "reference/connect.md#options"), undefined);
    assert.equal(brokenLink("docs/index.md", "../examples/echo/"), undefined);
    assert.equal(brokenLink("docs/index.md", "https://example.com/nowhere.md"), undefined);
    assert.match(brokenLink("docs/index.md", "reference/nowhere.md")!, /does not exist/);
    assert.match(brokenLink("docs/index.md", "#nowhere")!, /no heading with anchor #nowhere/);
  });
});
