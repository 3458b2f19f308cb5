// What the browser tests share: Debian's Chromium (headless, through
// playwright-core; scripts/test installs it with apt when missing), pages
// that record every script error, and screenshots in artefacts/
// (git-ignored).
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ARTEFACTS = fileURLToPath(new URL("../artefacts/", import.meta.url));
mkdirSync(ARTEFACTS, { recursive: true });

export const launch = () =>
  chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--disable-dev-shm-usage"],
  });

/**
 * A page in a new context whose script errors go to `page.errors` (to
 * assert there were none); `onDialog`, when given, answers dialogs.
 */
export async function openPage(browser, { viewport = { width: 1200, height: 900 }, onDialog } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("console", (m) => m.type() === "error" && page.errors.push(m.text()));
  if (onDialog) page.on("dialog", (d) => onDialog(d, page));
  return page;
}

/** A full-page screenshot of `page` as artefacts/<name>.png. */
export const shot = (page, name) => page.screenshot({ path: `${ARTEFACTS}${name}.png`, fullPage: true });
