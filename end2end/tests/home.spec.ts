import { expect, test } from './support';

test('the home page renders on the server before any script runs', async ({ newContext }) => {
  const context = await newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const response = await page.goto('/');
  expect(response?.status()).toBe(200);
  await expect(page.getByRole('heading', { name: 'Connect GitHub to your projects' })).toBeVisible();
  // Without the WASM bundle nothing becomes interactive.
  await expect(page.getByTestId('hydration')).toHaveText('loading…');
});

test('the page hydrates and a server function answers from PostgreSQL', async ({ page }) => {
  const wasm: string[] = [];
  page.on('response', (r) => { if (r.url().endsWith('.wasm') && r.status() === 200) wasm.push(new URL(r.url()).pathname); });
  await page.goto('/');
  // Set by an effect, which only runs once the WASM bundle has hydrated the page.
  await expect(page.getByTestId('hydration')).toHaveText('ready');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  // One bundle, the islands' (src/app), the same for every page.
  expect(wasm).toHaveLength(1);
  expect(wasm[0]).toMatch(/\/forgelink\.[\w-]+\.wasm$/);

  await page.getByRole('button', { name: 'Check database' }).click();
  await expect(page.getByRole('status')).toHaveText(
    /^The database answered in \d+ ms; its schema is up to date\.$/,
  );
});

test('an unknown address answers 404 with a way home', async ({ page }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await page.getByRole('link', { name: 'Go to the home page' }).click();
  await expect(page).toHaveURL(/\/$/);
});

test('the page runs under a Content-Security-Policy that refuses an injected script', async ({ page, cspViolations }) => {
  const response = await page.goto('/');
  expect(response?.headers()['content-security-policy']).toContain("'strict-dynamic'");
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  // What an XSS would do: markup with an inline handler, as an unescaped
  // GitHub title would bring.
  await page.evaluate(() => {
    document.body.insertAdjacentHTML('beforeend', '<img src="/no-such.png" onerror="window.injected = true">');
  });
  await expect.poll(() => cspViolations.length).toBeGreaterThan(0);
  expect(await page.evaluate(() => (window as any).injected)).toBeUndefined();
  cspViolations.length = 0; // seen and expected: the journey itself had none
});
