// SPDX-License-Identifier: Apache-2.0
// browser_flow.mjs: a person's path through the demo, in headless Chromium
// driven by playwright-core. Usage: node browser_flow.mjs <demo-url> <screenshot-dir>
// Prints one JSON line per step ({"step", "ok", ...}) and exits non-zero on
// the first failure.
import { report, walk } from './browser_common.mjs';

const base = process.argv[2].replace(/\/$/, '');
const shots = process.argv[3];
const member = process.env.WOS_BROWSER_USER || 'grace@example.com';
const switchTo = process.env.WOS_BROWSER_SWITCH_ORG;   // organization id to switch to

await walk(async (browser) => {
  const page = await (await browser.newContext()).newPage();

  // 1. A protected page sends us to the AuthKit sign-in page.
  await page.goto(`${base}/app/`);
  const onSignIn = page.url().includes('/user_management/authorize');
  report('redirected-to-sign-in', onSignIn, { url: page.url() });
  await page.screenshot({ path: `${shots}/1-sign-in.png` });

  // 2. Sign in as a member; land back on the protected page with our identity.
  await Promise.all([
    page.waitForURL(`${base}/app/`),
    page.click(`button[data-user="${member}"]`),
  ]);
  const greeting = await page.textContent('#greeting');
  const role = (await page.textContent('#role')).trim();
  report('signed-in', greeting.includes('Hello') && page.url() === `${base}/app/`,
         { greeting, role, email: await page.textContent('#email') });
  report('identity-is-the-user', (await page.textContent('#email')).trim() === member);
  await page.screenshot({ path: `${shots}/2-app.png` });

  // 3. As a member, the admin area is refused.
  const denied = await page.goto(`${base}/admin/`);
  report('member-denied-admin', denied.status() === 403, { status: denied.status(), role });

  // 4. Switch organization (to one where the user is an admin).
  await page.goto(`${base}/app/`);
  const link = switchTo ? `button.switch[data-org="${switchTo}"]` : 'button.switch';
  const target = await page.getAttribute(link, 'data-org');
  await Promise.all([page.waitForURL(`${base}/app/`), page.click(link)]);
  const orgNow = (await page.textContent('#organization-id')).trim();
  const roleNow = (await page.textContent('#role')).trim();
  report('switched-organization', orgNow === target, { org: orgNow, role: roleNow });
  await page.screenshot({ path: `${shots}/3-switched.png` });

  // 5. Now an admin there, the admin area opens.
  const admin = await page.goto(`${base}/admin/`);
  report('admin-allowed-after-switch', admin.status() === 200 && roleNow === 'admin',
         { status: admin.status(), role: roleNow });

  // 6. Sign out: the session is gone, and WorkOS returns us to the site.
  await page.goto(`${base}/app/`);
  await Promise.all([page.waitForURL(`${base}/`), page.click('#logout')]);
  const cookies = await page.context().cookies(base);
  report('signed-out', !cookies.some((c) => c.name.startsWith('wos-session') && c.value),
         { url: page.url(), cookies: cookies.map((c) => c.name) });

  // 7. The protected page asks us to sign in again.
  await page.goto(`${base}/app/`);
  report('asked-to-sign-in-again', page.url().includes('/user_management/authorize'),
         { url: page.url() });
  await page.screenshot({ path: `${shots}/4-signed-out.png` });
});
