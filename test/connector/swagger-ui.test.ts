// Swagger UI at /docs in a real browser (Debian's chromium driven by playwright-core): the page
// loads with the relay's security headers, renders the connector definition, shows
// InstallPackage, and switches to the full contract. Saves a screenshot to test/artifacts/ (gitignored).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import t from 'tap';
import { type Stack, startStack } from '../helpers/stack.js';

const CHROMIUM = '/usr/bin/chromium';

if (!existsSync(CHROMIUM)) {
  t.test(
    'Swagger UI at /docs shows the connector operations',
    {
      skip: `${CHROMIUM} is missing; install Debian's chromium (apt-get install -y chromium), as .ci/run does`,
    },
    async () => {},
  );
} else {
  t.test('Swagger UI at /docs shows the connector operations', async (t) => {
    const stack: Stack = await startStack();
    t.teardown(() => stack.close());
    const profile = mkdtempSync(join(tmpdir(), 'relay-chromium-'));
    t.teardown(() => rmSync(profile, { recursive: true, force: true }));
    // A fresh profile per run (playwright passes it as --user-data-dir).
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 1600 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    t.teardown(() => browser.close());
    const page = browser.pages()[0] ?? (await browser.newPage());
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });

    const response = await page.goto(`${stack.baseUrl}/docs/`, { waitUntil: 'load', timeout: 30_000 });
    t.equal(response?.status(), 200);
    const install = page.locator('.opblock', { hasText: 'InstallPackage' }).first();
    await install.waitFor({ state: 'visible', timeout: 30_000 });
    t.match(
      (await install.textContent()) ?? '',
      /\/v1\/environments\/\{environmentId\}\/packages\/\{uniqueName\}\/install/,
    );
    t.match((await page.locator('.info .title').textContent()) ?? '', /Admin Relay/);
    const operationIds = await page.locator('.opblock-summary-operation-id').allInnerTexts();
    for (const id of [
      'ListEnvironments',
      'ListPackages',
      'InstallPackage',
      'GetIsolationPolicy',
      'UpsertIsolationRule',
    ]) {
      t.ok(operationIds.includes(id), `${id} is listed`);
    }
    await install.locator('.opblock-summary').click();
    await page.locator('.opblock.is-open .parameters').first().waitFor({ state: 'visible', timeout: 10_000 });
    t.match((await page.locator('.opblock.is-open').first().textContent()) ?? '', /environmentId/);

    // The top bar offers the full contract too; in it the internal wait URL is an operation, and
    // InstallPackage shows its 202 answer and error statuses.
    await page.locator('.topbar select').selectOption({ label: 'Full contract (OpenAPI 3.1)' });
    const wait = page.locator('.opblock', { hasText: 'WaitForInstall' }).first();
    await wait.waitFor({ state: 'visible', timeout: 30_000 });
    t.match((await page.locator('.info').first().textContent()) ?? '', /OAS 3\.1/);
    const contractInstall = page.locator('.opblock', { hasText: 'InstallPackage' }).first();
    // It may still be open from the first document (Swagger UI keeps the expansion state).
    if (!(await contractInstall.evaluate((el) => el.classList.contains('is-open'))))
      await contractInstall.locator('.opblock-summary').click();
    const responses = contractInstall.locator('.responses-table').first();
    await responses.waitFor({ state: 'visible', timeout: 10_000 });
    const statuses = await contractInstall.locator('.response-col_status').allInnerTexts();
    for (const status of ['200', '202', '409', '422', '429'])
      t.ok(statuses.some((s) => s.trim().startsWith(status)), `the contract shows InstallPackage ${status}`);

    const artifacts = fileURLToPath(new URL('../artifacts/', import.meta.url));
    mkdirSync(artifacts, { recursive: true });
    const shot = join(artifacts, 'swagger-ui.png');
    await page.screenshot({ path: shot, fullPage: false });
    t.ok(existsSync(shot), `screenshot saved to ${shot}`);
    t.same(
      errors.filter((e) => !/favicon/i.test(e)),
      [],
      'no script errors or CSP violations in the page',
    );
  });
}
