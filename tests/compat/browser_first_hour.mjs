// SPDX-License-Identifier: Apache-2.0
// browser_first_hour.mjs: a newcomer's first hour with the demo, in headless
// Chromium driven by playwright-core: signing in at 127.0.0.1 and at
// localhost, the 403 page and its links, cancelling at the sign-in page, a
// callback opened again with and without a session, the demo page's times,
// banner and organization forms, the home page by state, the PHP page.
// Usage: node browser_first_hour.mjs <port> <screenshot-dir> <with-php 0|1>
// Prints one JSON line per step ({"step", "ok", ...}); stops at the first failure.
import { report, walk } from './browser_common.mjs';

const port = process.argv[2];
const shots = process.argv[3];
const withPhp = process.argv[4] === '1';
const local = `http://localhost:${port}`;
const loop = `http://127.0.0.1:${port}`;
const ACME = 'org_01ACME00000000000000000000';
const GLOBEX = 'org_01GLOBEX000000000000000000';

const text = async (page, sel) => ((await page.textContent(sel)) || '').replace(/\s+/g, ' ').trim();
const onSignInPage = (page) => page.url().includes('/user_management/authorize');

async function signInAs(page, email, landing) {
  await Promise.all([page.waitForURL(landing), page.click(`button[data-user="${email}"]`)]);
}

let page;
await walk(async (browser) => {
  const context = await browser.newContext();
  page = await context.newPage();
  const callbacks = [];
  page.on('request', (req) => {
    if (req.url().includes('/auth/callback?')) callbacks.push(req.url());
  });

  // 1. Home page, signed out: "Sign in", no "Sign out".
  await page.goto(`${local}/`);
  report('home-signed-out', (await text(page, '#state')) === 'You are not signed in.'
         && await page.isVisible('#login') && !(await page.isVisible('#logout')),
         { state: await text(page, '#state') });

  // 2. Sign in starting at 127.0.0.1: sent to localhost first, then to sign in,
  //    and back at localhost signed in (not "unknown or expired").
  await page.goto(`${loop}/app/`);
  report('127-sent-to-sign-in', onSignInPage(page), { url: page.url() });
  await signInAs(page, 'grace@example.com', `${local}/app/`);
  const greeting = await text(page, '#greeting');
  report('127-signed-in', greeting === 'Hello, Grace Hopper', { greeting, url: page.url() });
  await page.screenshot({ path: `${shots}/1-app.png` });

  // 3. The demo page: readable expiry, the organization by name, forms to her own others.
  const expires = await text(page, '#expires');
  const org = await text(page, '#organization');
  const forms = await page.$$eval('button.switch', (bs) => bs.map((b) => b.dataset.org));
  report('demo-page-times-and-orgs',
         /^\d\d:\d\d:\d\d UTC, in (\d+ min )?\d+ s \(renews automatically\)$/.test(expires)
         && org === `Acme (${ACME})` && JSON.stringify(forms) === JSON.stringify([GLOBEX])
         && !(await page.isVisible('#impersonation')),
         { expires, org, forms });

  // 4. Home page, signed in: "Sign out", no "Sign in".
  await page.goto(`${local}/`);
  report('home-signed-in', (await text(page, '#state')) === 'You are signed in as grace@example.com.'
         && await page.isVisible('#logout') && !(await page.isVisible('#login')),
         { state: await text(page, '#state') });

  // 5. The admin area as a member: the module's 403 page, and its links.
  await page.goto(`${local}/app/`);
  const [denied] = await Promise.all([page.waitForResponse(`${local}/admin/`),
                                      page.click('#admin')]);
  const title = await text(page, '#wos-title');
  const who = [await text(page, '#wos-user'), await text(page, '#wos-org'),
               await text(page, '#wos-role')];
  const needs = await text(page, '#wos-requirements');
  report('forbidden-page', denied.status() === 403
         && title === 'You do not have access to this page'
         && JSON.stringify(who) === JSON.stringify(['grace@example.com', ACME, 'member'])
         && needs === 'the role admin'
         && (await page.getAttribute('#wos-sign-out', 'href')) === '/auth/logout',
         { status: denied.status(), title, who, needs });
  await page.screenshot({ path: `${shots}/2-forbidden.png` });
  await Promise.all([page.waitForURL(`${local}/app/`), page.click('#wos-back')]);
  report('forbidden-back-link', page.url() === `${local}/app/`, { url: page.url() });

  // 6. Switch organization with the demo page's form; the admin area opens.
  await Promise.all([page.waitForURL(`${local}/app/`),
                     page.click(`button.switch[data-org="${GLOBEX}"]`)]);
  const roleNow = await text(page, '#role');
  const orgNow = await text(page, '#organization-id');
  const admin = await page.goto(`${local}/admin/`);
  report('switched-then-admin', orgNow === GLOBEX && roleNow === 'admin'
         && admin.status() === 200, { orgNow, roleNow, status: admin.status() });

  // 7. The callback opened again while signed in: on to its target.
  const used = callbacks[callbacks.length - 1];
  const again = await page.goto(used);
  report('replayed-callback-signed-in', again.status() === 200 && page.url() === `${local}/app/`
         && (await text(page, '#greeting')) === 'Hello, Grace Hopper', { url: page.url() });

  // 8. Sign out.
  await page.goto(`${local}/app/`);
  await Promise.all([page.waitForURL(`${local}/`), page.click('#logout')]);
  report('signed-out', (await text(page, '#state')) === 'You are not signed in.', { url: page.url() });

  // 9. The same callback opened again without a session: a page with a way on.
  const stale = await page.goto(used);
  const staleTitle = await text(page, '#wos-title');
  report('replayed-callback-signed-out', stale.status() === 400
         && staleTitle === 'This sign-in link was already used'
         && (await text(page, '#wos-message')).startsWith('You opened a sign-in link'),
         { status: stale.status(), staleTitle });
  await Promise.all([page.waitForURL(/user_management\/authorize/), page.click('#wos-sign-in')]);
  report('replayed-sign-in-again-link', onSignInPage(page), { url: page.url() });

  // 10. Cancel at the sign-in page: "You cancelled sign-in", and a way back in.
  await Promise.all([page.waitForURL(/auth\/callback/), page.click('#cancel')]);
  const cancelled = await text(page, '#wos-message');
  const detail = await text(page, '#wos-detail');
  report('cancelled-page', (await text(page, '#wos-title')) === 'Sign-in was cancelled'
         && cancelled.startsWith('You cancelled sign-in')
         && detail === 'WorkOS said: The user cancelled the sign-in.', { cancelled, detail });
  await page.screenshot({ path: `${shots}/3-cancelled.png` });
  await Promise.all([page.waitForURL(/user_management\/authorize/), page.click('#wos-sign-in')]);
  report('cancelled-sign-in-again-link', onSignInPage(page), { url: page.url() });

  // 11. Sign in at localhost as an impersonated user: the banner; one organization, no forms.
  await page.goto(`${local}/app/`);
  await signInAs(page, 'impersonated@example.com', `${local}/app/`);
  const banner = await text(page, '#impersonation');
  report('impersonation-banner',
         banner === 'support@example.com is signed in as this user (reason: ticket 42).'
         && (await page.$$('button.switch')).length === 0, { banner });
  await page.screenshot({ path: `${shots}/4-impersonated.png` });

  // 12. A user without an organization: "no organization", not "()".
  await Promise.all([page.waitForURL(`${local}/`), page.click('#logout')]);
  await page.goto(`${local}/app/`);
  await signInAs(page, 'solo@example.com', `${local}/app/`);
  const none = await text(page, '#organization');
  report('no-organization', none === 'no organization', { none });

  // 13. The PHP page, when php is installed.
  if (withPhp) {
    const php = await page.goto(`${local}/app/index.php`);
    report('php-page', php.status() === 200
           && (await text(page, '#remote-user')) === (await text(page, '#user-id'))
           && (await text(page, '#user-id')).startsWith('user_')
           && (await text(page, '#organization-id')) === 'no organization'
           && (await text(page, '#greeting')).startsWith('Hello from PHP'),
           { status: php.status(), greeting: await text(page, '#greeting') });
  }
}, async () => (page ? { url: page.url(), text: (await page.innerText('body').catch(() => '')).slice(0, 600) } : {}));
