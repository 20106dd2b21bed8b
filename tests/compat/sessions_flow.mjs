// SPDX-License-Identifier: Apache-2.0
// sessions_flow.mjs: "Your sessions" on the demo's /app/ page, in headless
// Chromium driven by playwright-core: one user signed in on three browsers
// (three contexts) lists them, signs one out, then signs out everywhere else.
// Usage: node sessions_flow.mjs <demo-url>. Prints one JSON line per step
// ({"step", "ok", ...}) and exits non-zero on the first failure.
import { report, walk } from './browser_common.mjs';

const base = process.argv[2].replace(/\/$/, '');
const user = process.env.WOS_BROWSER_USER || 'grace@example.com';


// A new browser (context) signed in as the user, on /app/.
async function signedIn(browser) {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${base}/app/`);
  await Promise.all([page.waitForURL(`${base}/app/`), page.click(`button[data-user="${user}"]`)]);
  return page;
}

// The rows of the sessions table once it shows @n of them: [{id, current}].
async function rows(page, n) {
  await page.waitForFunction(
    (k) => document.querySelectorAll('#session-list tbody tr, #session-list tr[data-session]')
      .length >= 1 && document.querySelectorAll('#session-list tr[data-session]').length === k,
    n, { timeout: 30000 });
  return page.$$eval('#session-list tr[data-session]', (trs) => trs.map((tr) => ({
    id: tr.dataset.session, current: tr.textContent.includes('this browser'),
  })));
}

await walk(async (browser) => {
  const a = await signedIn(browser);
  const b = await signedIn(browser);
  await a.reload();
  await a.click('#sessions-show');
  const two = await rows(a, 2);
  report('lists-both-browsers', two.filter((r) => r.current).length === 1, { rows: two });
  const other = two.find((r) => !r.current).id;

  await a.click(`#session-list tr[data-session="${other}"] button`);
  const one = await rows(a, 1);
  report('signed-out-the-other-browser', one.length === 1 && one[0].current && one[0].id !== other,
         { rows: one, revoked: other });

  const c = await signedIn(browser);
  await a.reload();
  await a.click('#sessions-show');
  await rows(a, 2);
  await a.click('#sessions button[data-revoke="others"]');
  const left = await rows(a, 1);
  report('signed-out-everywhere-else', left.length === 1 && left[0].current, { rows: left });
  const still = await a.goto(`${base}/app/`);
  report('this-browser-still-signed-in', still.status() === 200 && a.url() === `${base}/app/`);
  await b.close();
});
