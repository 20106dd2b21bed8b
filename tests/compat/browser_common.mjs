// SPDX-License-Identifier: Apache-2.0
// browser_common.mjs: what every browser walk of the demo shares: headless
// Chromium driven by playwright-core, one JSON line per step ({"step", "ok",
// ...}), and the exit status (0, or 1 at the first failure).
import { chromium } from 'playwright-core';

export function report(step, ok, extra = {}) {
  console.log(JSON.stringify({ step, ok: Boolean(ok), ...extra }));
  if (!ok) throw new Error(`step ${step} failed`);
}

// Runs body(browser) and exits. A failure is printed as the step "error",
// with what where() says of the page it happened on.
export async function walk(body, where = async () => ({})) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let code = 0;
  try {
    await body(browser);
  } catch (e) {
    const at = await where().catch(() => ({}));
    console.log(JSON.stringify({ step: 'error', ok: false, error: String(e), ...at }));
    code = 1;
  } finally {
    await browser.close();
  }
  process.exit(code);
}
