// The integrations tab's journeys against the simulated GitHub: install from a
// project and watch it link live, follow and unfollow, change the installation
// on GitHub and see the tab follow; attach an install started on GitHub; refuse
// a forged installation id, and an organization's installation to a member who
// does not own it.
import { type Page, type BrowserContext } from '@playwright/test';
import { expect, gotoHydrated, newOrg, ownerWithGitHub, sim, test } from './support';

async function appSlug(page: Page): Promise<string> {
  const state = await (await page.request.get(`${sim}/_sim/state`)).json();
  return state.app.slug;
}

/** Opens the installation's settings on the simulator in a second tab of the same browser. */
async function gitHubTab(context: BrowserContext, page: Page, org: string): Promise<Page> {
  const href = await page.getByRole('link', { name: 'Configure on GitHub' }).getAttribute('href');
  expect(href).toContain('/settings/installations/');
  const github = await context.newPage();
  await github.goto(href!);
  await expect(github.getByText(`Installed on`)).toBeVisible();
  await expect(github.getByText(org).first()).toBeVisible();
  return github;
}

test('an owner installs the App, follows repositories and watches GitHub changes arrive live', async ({ page, context }) => {
  const { projectPath, login } = await ownerWithGitHub(page);
  const org = await newOrg(page, login, 3);
  const wasm: string[] = [];
  page.on('response', (r) => { if (r.url().endsWith('.wasm')) wasm.push(new URL(r.url()).pathname); });

  await page.getByRole('button', { name: 'Install on GitHub' }).click();
  // On GitHub: pick the organization, then two of its repositories.
  await page.getByRole('link', { name: `Install on ${org}` }).click();
  await page.getByLabel('Only select repositories').check();
  await page.getByLabel(`${org}/repo-00001`).check();
  await page.getByLabel(`${org}/repo-00002`).check();
  await page.getByRole('button', { name: 'Install', exact: true }).click();

  // Back on the tab; from here on nothing reloads the page: the mark set now stays.
  await expect(page).toHaveURL(`${projectPath}/integrations`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.evaluate(() => ((window as any).samePage = true));
  // The page is the server's; whatever WASM the browser fetched is the one small bundle of islands.
  expect(wasm.every((path) => /\/forgelink\.[\w-]+\.wasm$/.test(path))).toBe(true);
  const card = page.getByRole('region', { name: org });
  await expect(card.getByRole('status', { name: `Status of ${org}` })).toHaveText('Connected · 2 repositories');
  await expect(card.getByRole('button', { name: `Unfollow ${org}/repo-00001` })).toBeVisible();
  await expect(card.getByRole('button', { name: `Unfollow ${org}/repo-00002` })).toBeVisible();

  // Unfollow one.
  await card.getByRole('button', { name: `Unfollow ${org}/repo-00002` }).click();
  await expect(card.getByRole('button', { name: `Follow ${org}/repo-00002` })).toBeVisible();
  await expect(card.getByRole('button', { name: `Unfollow ${org}/repo-00001` })).toBeVisible();

  // On GitHub, in another tab: add repo-00003 to the installation.
  const github = await gitHubTab(context, page, org);
  await github.getByLabel(`${org}/repo-00003`).check();
  await github.getByRole('button', { name: 'Save' }).click();
  await expect(card.getByRole('button', { name: `Follow ${org}/repo-00003` })).toBeVisible();
  await expect(card.getByRole('status', { name: `Status of ${org}` })).toHaveText('Connected · 3 repositories');

  // Uninstall on GitHub: the tab says so, and keeps the follow as unavailable.
  await github.goto(await page.getByRole('link', { name: 'Configure on GitHub' }).getAttribute('href') as string);
  await github.getByRole('button', { name: 'Uninstall' }).click();
  await expect(card.getByRole('status', { name: `Status of ${org}` })).toContainText('Uninstalled on GitHub');
  const unavailable = page.getByRole('region', { name: 'Followed, no longer available' });
  await expect(unavailable.getByText(`${org}/repo-00001`)).toBeVisible();
  await expect(unavailable.getByRole('button', { name: `Unfollow ${org}/repo-00001` })).toBeVisible();
  expect(await page.evaluate(() => (window as any).samePage), 'followed and updated without a reload').toBe(true);
});

test('an install started on GitHub is offered to the owner and added to the project', async ({ page }) => {
  const { projectPath, login } = await ownerWithGitHub(page);
  const org = await newOrg(page, login, 2);

  // Straight to the App's page on GitHub, not through forgelink.
  await page.goto(`${sim}/apps/${await appSlug(page)}/installations/new`);
  await page.getByRole('link', { name: `Install on ${org}` }).click();
  await page.getByRole('button', { name: 'Install', exact: true }).click();
  // Back on the tab of the person's project, where the installation is offered.
  await expect(page).toHaveURL(`${projectPath}/integrations`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  const offered = page.getByRole('region', { name: 'Your other installations' });
  const card = page.getByRole('region', { name: org });
  await offered.getByRole('button', { name: `Add ${org} to this project` }).click();
  await expect(card).toBeVisible();
  await expect(card.getByRole('status', { name: `Status of ${org}` })).toHaveText('Connected · 2 repositories');
  await expect(card.getByRole('button', { name: `Follow ${org}/repo-00001` })).toBeVisible();
  await expect(offered).toHaveCount(0);
});

test('a forged installation id on the setup URL is refused and links nothing', async ({ page }) => {
  const { projectPath } = await ownerWithGitHub(page);
  await gotoHydrated(page, '/integrations/github/setup?installation_id=1&setup_action=install');
  await expect(page.getByRole('alert')).toContainText('This installation is not yours');
  await gotoHydrated(page, `${projectPath}/integrations`);
  await expect(page.getByRole('region', { name: 'Your other installations' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Install on GitHub' })).toBeVisible();
});

test('a member who does not own the organization is told to ask an owner, and links nothing', async ({ page }) => {
  const { projectPath, login } = await ownerWithGitHub(page);
  // hubot owns the organization and installs the App; GitHub lists it to every member.
  const org = await newOrg(page, 'hubot', 2, [login]);
  const installed = await page.request.post(`${sim}/_sim/installations`, { data: { account: org, sender: 'hubot' } });
  expect(installed.status()).toBe(201);
  const { id } = await installed.json();
  await gotoHydrated(page, `/integrations/github/setup?installation_id=${id}&setup_action=install`);
  await expect(page.getByRole('heading', { name: 'Only an owner can add this installation' })).toBeVisible();
  await expect(page.getByRole('alert')).toContainText(`Ask an owner of ${org} to add it`);
  await gotoHydrated(page, `${projectPath}/integrations`);
  await expect(page.getByRole('region', { name: 'Your other installations' })).toHaveCount(0);
  await expect(page.getByRole('region', { name: org })).toHaveCount(0);
});

test('a change made while the page loads still shows once its live stream connects', async ({ page, context }) => {
  test.slow(); // a whole install, then a change waited for on both sides
  const { login, projectPath } = await ownerWithGitHub(page);
  const org = await newOrg(page, login, 2);
  await page.getByRole('button', { name: 'Install on GitHub' }).click();
  await page.getByRole('link', { name: `Install on ${org}` }).click();
  await page.getByRole('button', { name: 'Install', exact: true }).click();
  const card = page.getByRole('region', { name: org });
  const status = card.getByRole('status', { name: `Status of ${org}` });
  await expect(status).toHaveText('Connected · 2 repositories');

  // Reload with the live stream held back until the change has been made.
  const github = await gitHubTab(context, page, org);
  let letThrough!: () => void;
  const held = new Promise<void>((resolve) => (letThrough = resolve));
  let asked!: () => void;
  const streamAsked = new Promise<void>((resolve) => (asked = resolve));
  await page.route('**/live/integrations', async (route) => {
    asked();
    await held;
    await route.continue();
  });
  try {
    await page.reload();
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await streamAsked;
    // Suspended on GitHub, and forgelink knows (a fresh render says so) ...
    await github.getByRole('button', { name: 'Suspend' }).click();
    await expect
      .poll(async () => (await page.request.get(`${projectPath}/integrations`)).text(), { timeout: 10_000 })
      .toContain('Suspended on GitHub');
    // ... while the page, rendered before, does not show it yet; once its stream connects, it does.
    await expect(status).toHaveText('Connected · 2 repositories');
  } finally {
    letThrough();
  }
  await expect(status).toContainText('Suspended on GitHub');
});
