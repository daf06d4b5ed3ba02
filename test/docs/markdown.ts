/**
 * Just enough Markdown for the documentation tests: which files are the
 * docs, their fenced code blocks, their links, and the anchors GitHub gives
 * their headings. Not a Markdown parser: the docs are plain CommonMark, and a
 * construct these functions miss shows up as a failing test, not a silent pass.
 */

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The `.md` files under `dir` (relative to `root`), depth first. */
function walk(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return walk(root, path);
    return entry.name.endsWith(".md") ? [path] : [];
  });
}

/** The repository root, from `.build/test/docs/`. */
export const ROOT = new URL("../../../", import.meta.url);

/** README.md, examples/README.md and every `.md` under docs/, relative to the root with `/`. */
export function markdownFiles(root: string): string[] {
  return ["README.md", "examples/README.md", ...walk(root, "docs").sort()];
}

/** A file's text, by its path relative to the root. */
export function readMarkdown(root: string, file: string): string {
  return readFileSync(join(root, file), "utf8");
}

/** The marker a ```ts block's preceding line carries when the block is deliberately left unchecked. */
export const NOT_CHECKED = /^<!--\s*not checked:\s*(.*?)\s*-->$/;

/** A fenced code block. */
export interface CodeBlock {
  /** The info string's first word, lowercased: "ts", "sh", or "" for none. */
  readonly lang: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** 1-based line of the closing fence (of the last line, for a fence never closed). */
  readonly end: number;
  /** The lines between the fences, indentation of the fence removed. */
  readonly code: string;
  /** The reason of a `<!-- not checked: reason -->` on the line before the fence, if any. */
  readonly notChecked: string | undefined;
}

const OPENING = /^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)/;

/** The fenced code blocks of a Markdown text, in order. An unclosed fence runs to the end. */
export function codeBlocks(text: string): CodeBlock[] {
  const lines = text.split("\n");
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = OPENING.exec(lines[i]!);
    if (open === null) continue;
    const [, indent, fence] = open as unknown as [string, string, string, string];
    const closing = new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !closing.test(lines[end]!)) end++;
    const body = lines
      .slice(i + 1, end)
      .map((line) => line.replace(new RegExp(`^ {0,${indent.length}}`), ""));
    blocks.push({
      lang: open[3]!.toLowerCase(),
      line: i + 1,
      end: Math.min(end + 1, lines.length),
      code: body.join("\n"),
      notChecked: NOT_CHECKED.exec(lines[i - 1]?.trim() ?? "")?.[1],
    });
    i = end;
  }
  return blocks;
}

/** The text with fenced blocks blanked out (lines kept, so line numbers still hold). */
export function withoutCodeBlocks(text: string): string {
  const lines = text.split("\n");
  for (const block of codeBlocks(text)) {
    for (let i = block.line - 1; i < block.end; i++) lines[i] = "";
  }
  return lines.join("\n");
}

/** Inline code spans (any run of backticks, closed by the same run), blanked out. */
function withoutCodeSpans(text: string): string {
  return text.replace(/(?<!`)(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, (span) =>
    span.replace(/[^\n]/g, " "),
  );
}

/** A link target found in prose. */
export interface Link {
  readonly line: number;
  readonly target: string;
}

/** Inline links and images `[text](target "title")` and reference definitions `[label]: target`, outside code. */
export function links(text: string): Link[] {
  const prose = withoutCodeSpans(withoutCodeBlocks(text));
  const found: Link[] = [];
  const lineOf = (index: number) => prose.slice(0, index).split("\n").length;
  for (const match of prose.matchAll(
    /\]\(\s*(<[^>]*>|[^\s)]*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g,
  )) {
    found.push({ line: lineOf(match.index), target: match[1]!.replace(/^<|>$/g, "") });
  }
  for (const match of prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*(\S+)/gm)) {
    found.push({ line: lineOf(match.index), target: match[1]! });
  }
  return found.sort((a, b) => a.line - b.line);
}

/**
 * The anchors GitHub gives a file's headings: the heading's text as rendered
 * (link text kept, tags dropped), lowercased, punctuation and symbols
 * (backticks, asterisks too) removed, each space a hyphen; a repeated slug gets `-1`, `-2`... Plus the
 * ids of explicit `<a id="...">` / `<a name="...">` anchors.
 */
export function anchors(text: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutCodeBlocks(text).split("\n")) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (heading !== null) {
      // Links render as their text; HTML tags outside code spans as nothing.
      const rendered = heading[1]!
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
        .split(/(`+[^`]*`+)/)
        .map((part, i) => (i % 2 === 1 ? part : part.replace(/<[^>]+>/g, "")))
        .join("");
      const base = rendered
        .toLowerCase()
        .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
        .replace(/ /g, "-");
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      slugs.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) slugs.add(match[1]!);
  }
  return slugs;
}
