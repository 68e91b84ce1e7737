import { test as base, expect, type BrowserContext, type BrowserContextOptions, type Page } from '@playwright/test';

export { expect };

/** An address of its own, through the proxy scripts/test tells forgelink to
 * trust (FORGELINK_TRUSTED_PROXIES), as people have: the sign-in and sign-up
 * throttles count per address. */
function ownAddress(): Record<string, string> {
  const octet = () => Math.floor(Math.random() * 254) + 1;
  return { 'x-forwarded-for': `198.18.${octet()}.${octet()}` };
}

/** Every journey fails on an uncaught error in a page (a hydration panic, say),
 * rather than later on text that stopped updating, and on anything the page's
 * Content-Security-Policy refused (Chromium reports each on the console): in
 * the journey's own browser and in any other it opens with `newContext`. Each
 * browser comes from an address of its own. */
export const test = base.extend<{
  failOnPageErrors: void;
  cspViolations: string[];
  pageErrors: string[];
  newContext: (options?: BrowserContextOptions) => Promise<BrowserContext>;
}>({
  extraHTTPHeaders: async ({}, use) => {
    await use(ownAddress());
  },
  cspViolations: async ({}, use) => {
    await use([]);
  },
  pageErrors: async ({}, use) => {
    await use([]);
  },
  newContext: async ({ browser, pageErrors, cspViolations }, use) => {
    const opened: BrowserContext[] = [];
    await use(async (options = {}) => {
      const context = await browser.newContext({ ...options, extraHTTPHeaders: { ...options.extraHTTPHeaders, ...ownAddress() } });
      watch(context, pageErrors, cspViolations);
      opened.push(context);
      return context;
    });
    await Promise.all(opened.map((context) => context.close()));
  },
  failOnPageErrors: [
    async ({ context, pageErrors, cspViolations }, use) => {
      watch(context, pageErrors, cspViolations);
      await use();
      expect(pageErrors, 'uncaught errors in the page').toEqual([]);
      expect(cspViolations, 'what the Content-Security-Policy refused').toEqual([]);
    },
    { auto: true },
  ],
});

function watch(context: BrowserContext, pageErrors: string[], cspViolations: string[]) {
  context.on('weberror', (error) => pageErrors.push(error.error().message));
  context.on('console', (message) => {
    if (message.type() === 'error' && message.text().includes('Content Security Policy')) cspViolations.push(message.text());
  });
}

/** A value no other test run uses. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** Opens a forgelink page and waits until the WASM bundle has hydrated it. */
export async function gotoHydrated(page: Page, path: string) {
  await page.goto(path);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

export async function signUp(page: Page, name = 'Ada Lovelace'): Promise<string> {
  const email = `${unique('user')}@example.com`;
  await gotoHydrated(page, '/signup');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/projects$/);
  return email;
}

export async function createProject(page: Page, name: string): Promise<string> {
  await page.getByRole('link', { name: 'New project' }).click();
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Description').fill('Created by a browser test');
  await page.getByRole('button', { name: 'Create project' }).click();
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
  return new URL(page.url()).pathname;
}

export const sim = process.env.GITHUB_SIM_URL ?? 'http://127.0.0.1:3100';

/** Signs up, creates a project, connects a new simulated GitHub user; returns both. */
export async function ownerWithGitHub(page: Page): Promise<{ projectPath: string; login: string }> {
  await signUp(page);
  const projectPath = await createProject(page, unique('Apollo'));
  await gotoHydrated(page, `${projectPath}/integrations`);
  await page.getByRole('link', { name: 'Connect GitHub account' }).click();
  const login = unique('octo').slice(0, 39);
  await page.getByLabel('Username').fill(login);
  await page.getByRole('button', { name: 'Create and sign in' }).click();
  await page.getByRole('button', { name: /^Authorize / }).click();
  await expect(page).toHaveURL(`${projectPath}/integrations`);
  await expect(page.getByTestId('github-login')).toHaveText(login);
  return { projectPath, login };
}

/** A new organization on the simulator, `owner` its owner (and `members`, not owners), with repositories repo-00001…. */
export async function newOrg(page: Page, owner: string, repositories: number, members: string[] = []): Promise<string> {
  const org = unique('acme').slice(0, 39);
  const response = await page.request.post(`${sim}/_sim/orgs`, { data: { login: org, repositories, owners: [owner], members } });
  expect(response.status()).toBe(201);
  return org;
}
