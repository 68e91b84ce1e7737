// An operator watches webhook events arrive on the event log without reloading,
// opens one to see its payload, and nobody else can see the log.
import { type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';
import { expect, gotoHydrated, signUp, test, unique } from './support';

/** Signs up (unless a journey has already), is named an operator as on the
 * server (`forgelink admin grant`), and signs in. */
async function signInAsOperator(page: Page) {
  const email = process.env.E2E_ADMIN_EMAIL!;
  const password = 'correct horse battery';
  const origin = new URL(process.env.FORGELINK_URL ?? 'http://127.0.0.1:3000').origin;
  const created = await page.request.post('/fn/sign_up', { form: { email, display_name: 'Operator', password }, headers: { origin } });
  expect([200, 409]).toContain(created.status());
  execFileSync(process.env.FORGELINK_BIN!, ['admin', 'grant', email], { env: { ...process.env, DATABASE_URL: process.env.E2E_DATABASE_URL } });
  await gotoHydrated(page, '/signin');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/projects$/);
}

test('the event log shows new deliveries live and their payload', async ({ page, request }) => {
  await signInAsOperator(page);
  await page.getByRole('link', { name: 'Events' }).click();
  await expect(page.getByRole('heading', { name: 'Webhook events' })).toBeVisible();
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');

  // GitHub delivers a ping while the page is open.
  const zen = unique('zen');
  const delivery = randomUUID();
  const body = JSON.stringify({ zen, hook_id: 1 });
  const secret = process.env.GITHUB_WEBHOOK_SECRET!.split(',')[0].trim();
  const response = await request.post('/webhooks/github', {
    data: body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'ping',
      'x-github-delivery': delivery,
      'x-hub-signature-256': await sign(secret, body),
    },
  });
  expect(response.status()).toBe(202);

  // This delivery (other journeys deliver pings too) appears, and turns
  // processed, without a reload.
  const ours = () => page.getByRole('row').filter({ hasText: delivery.slice(0, 8) });
  await expect(ours()).toContainText('ping');
  await expect(ours()).toContainText('processed');
  await page.getByLabel('Status').selectOption('processed');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/status=processed/);
  await ours().getByRole('link').click();
  await expect(page.getByRole('heading', { name: 'ping' })).toBeVisible();
  await expect(page.getByText(delivery)).toBeVisible();
  await expect(page.locator('pre.payload')).toContainText(zen);
});

test('only operators see the event log', async ({ page }) => {
  await signUp(page);
  await expect(page.getByRole('link', { name: 'Events' })).toHaveCount(0);
  const response = await page.goto('/admin/events');
  expect(response?.status()).toBe(404);
});
