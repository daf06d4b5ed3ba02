/**
 * The case catalogue: every section, in Autobahn's order, and selection by
 * pattern.
 *
 * Sections 12 and 13 (permessage-deflate) negotiate the extension through
 * {@link CaseDefinition.deflate}; any further section plugs in the same way.
 *
 * @module
 */

import type { CaseDefinition } from "../case.js";
import { closeCases } from "./close.js";
import { compressionCases } from "./compression.js";
import { fragmentationCases } from "./fragmentation.js";
import { framingCases } from "./framing.js";
import { miscCases } from "./misc.js";
import { opcodeCases } from "./opcodes.js";
import { performanceCases } from "./performance.js";
import { pingCases } from "./pings.js";
import { reservedBitsCases } from "./reserved-bits.js";
import { utf8Cases } from "./utf8.js";

/** Options that change the catalogue. */
export interface CatalogueOptions {
  /** Divides the message sizes of section 9. Default: 1 (Autobahn's sizes). */
  readonly sizeScale?: number;
  /** Messages per compression case (sections 12 and 13). Default: 10; Autobahn sends 1000. */
  readonly compressionMessages?: number;
}

/** Default {@link CatalogueOptions.compressionMessages}. */
export const DEFAULT_COMPRESSION_MESSAGES = 10;

/** Every case, in order. */
export function allCases(options: CatalogueOptions = {}): CaseDefinition[] {
  return [
    ...framingCases(),
    ...pingCases(),
    ...reservedBitsCases(),
    ...opcodeCases(),
    ...fragmentationCases(),
    ...utf8Cases(),
    ...closeCases(),
    ...performanceCases(options.sizeScale),
    ...miscCases(),
    ...compressionCases({
      messageCount: options.compressionMessages ?? DEFAULT_COMPRESSION_MESSAGES,
    }),
  ];
}

/** The section of a case id: "6" for "6.4.1". */
export function sectionOf(id: string): string {
  return id.split(".")[0]!;
}

/**
 * Whether `id` matches `pattern`: an exact id, or a pattern where `*` stands
 * for anything ("6.4.*", "9.*", "*"), as in Autobahn's configuration.
 */
export function matches(id: string, pattern: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .split("*")
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return regex.test(id);
}

/** The cases matching any of `include` and none of `exclude`. */
export function selectCases(
  cases: readonly CaseDefinition[],
  include: readonly string[] = ["*"],
  exclude: readonly string[] = [],
): CaseDefinition[] {
  return cases.filter(
    (c) =>
      include.some((pattern) => matches(c.id, pattern)) &&
      !exclude.some((pattern) => matches(c.id, pattern)),
  );
}
