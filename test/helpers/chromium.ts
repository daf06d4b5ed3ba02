/**
 * Headless Chromium for the browser tests: Debian's `/usr/bin/chromium`,
 * driven by `playwright-core` (`.ci/run` installs the package). Tests skip,
 * with a reason, where it is missing.
 */

import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium; never a browser downloaded by Playwright. */
export const CHROMIUM = "/usr/bin/chromium";

/** `false` when Chromium is installed, else why a test that needs it is skipped. */
export function skipWithoutChromium(what: string): string | false {
  return existsSync(CHROMIUM)
    ? false
    : `${CHROMIUM} not found: install Debian's chromium package to run ${what}`;
}

/** Starts headless Chromium, quiet: no network of its own besides the test's pages. */
export function launchChromium(): Promise<Browser> {
  // Playwright refuses --user-data-dir with launch(): it starts Chromium
  // with a fresh temporary profile of its own and deletes it on close.
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    timeout: 30_000,
  });
}
