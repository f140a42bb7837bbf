// Swagger UI at /docs in a real browser (Debian's chromium driven by playwright-core): the page
// loads with the relay's security headers, renders the connector definition, and shows
// InstallPackage. Saves a screenshot to test/artifacts/ (gitignored).
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
