// SPDX-License-Identifier: Apache-2.0
// spa_flow.mjs: the demo's single-page app (/spa/) in headless Chromium
// driven by playwright-core: signed out, then signed in through AuthKit, the
// page learns the user from the session endpoint with fetch, calls the API
// with the bearer token alone, and refreshes the session.
// Usage: node spa_flow.mjs <demo-url> <screenshot-dir>
// Prints one JSON line per step ({"step", "ok", ...}); exits non-zero on failure.
import { report, walk } from './browser_common.mjs';

const base = process.argv[2].replace(/\/$/, '');
const shots = process.argv[3];
const user = process.env.WOS_BROWSER_USER || 'grace@example.com';
const userId = process.env.WOS_BROWSER_USER_ID;

const state = (page, want) => page.waitForFunction(
  (w) => document.getElementById('spa-state').textContent === w, want, { timeout: 20000 });

await walk(async (browser) => {
  const page = await (await browser.newContext()).newPage();

  // 1. The static page asks the session endpoint and learns nobody is signed in.
  await page.goto(`${base}/spa/`);
  await state(page, 'signed-out');
  report('spa-signed-out', await page.isVisible('#sign-in'));

  // 2. Sign in through AuthKit and come back to the page, which shows the user.
  await page.click('#sign-in');
  report('spa-sign-in-page', page.url().includes('/user_management/authorize'), { url: page.url() });
  await Promise.all([page.waitForURL(`${base}/spa/`), page.click(`button[data-user="${user}"]`)]);
  await state(page, 'signed-in');
  const email = (await page.textContent('#spa-email')).trim();
  const id = (await page.textContent('#spa-user-id')).trim();
  report('spa-shows-user', email === user && id === userId, { email, id });
  await page.screenshot({ path: `${shots}/spa-1-signed-in.png` });

  // 3. The API answers the bearer token alone (the fetch sends no cookie).
  await page.click('#call-api');
  await page.waitForFunction(() => document.getElementById('api-result').textContent !== '');
  const api = JSON.parse(await page.textContent('#api-result'));
  report('spa-api-with-bearer', api.status === 200 && api.body.REMOTE_USER === userId
         && api.body.WORKOS_AUTH_SOURCE === 'bearer', api);

  // 4. Without the token, the API says 401 (no sign-in redirect for fetch).
  const bare = await page.evaluate(async () => {
    const r = await fetch('/api/whoami.cgi', { credentials: 'omit' });
    return { status: r.status, challenge: r.headers.get('WWW-Authenticate') };
  });
  report('spa-api-without-token', bare.status === 401 && /Bearer/.test(bare.challenge || ''), bare);

  // 5. A forced refresh from the page (POST, same origin) gives a new token.
  const before = await page.evaluate(() => accessToken);
  await page.click('#refresh');
  await state(page, 'refreshed');
  const after = await page.evaluate(() => accessToken);
  report('spa-refreshed', Boolean(after) && after !== before);
  await page.screenshot({ path: `${shots}/spa-2-refreshed.png` });
});
