// An owner signs up, creates a project, connects GitHub on the integrations tab
// through the simulator's pages, and comes back connected; nobody else sees the tab.
import { createProject, expect, signUp, test, unique } from './support';

test('an owner connects GitHub from the integrations tab', async ({ page }) => {
  await signUp(page);
  const projectPath = await createProject(page, unique('Apollo'));

  await page.getByRole('link', { name: 'Integrations' }).click();
  await expect(page).toHaveURL(`${projectPath}/integrations`);
  await expect(page.getByRole('heading', { name: 'GitHub' })).toBeVisible();
  await page.getByRole('link', { name: 'Connect GitHub account' }).click();

  // On the simulated GitHub: a new user, then the App's authorize page.
  const login = unique('octo').slice(0, 39);
  await page.getByLabel('Username').fill(login);
  await page.getByRole('button', { name: 'Create and sign in' }).click();
  await page.getByRole('button', { name: /^Authorize / }).click();

  // Back on the integrations tab, connected, with the avatar shown.
  await expect(page).toHaveURL(`${projectPath}/integrations`);
  await expect(page.getByTestId('github-login')).toHaveText(login);
  const avatar = page.locator('.github-connection img.avatar');
  await expect(avatar).toBeVisible();
  expect(await avatar.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);

  // The account page agrees, and disconnecting forgets the link.
  await page.getByRole('link', { name: 'Ada Lovelace' }).click();
  await expect(page.getByTestId('github-login')).toHaveText(login);
  await page.getByRole('button', { name: 'Disconnect GitHub account' }).click();
  await expect(page.getByRole('link', { name: 'Connect GitHub account' })).toBeVisible();
});

test('cancelling on GitHub explains what happened and offers to try again', async ({ page }) => {
  await signUp(page);
  await page.goto('/account');
  await page.getByRole('link', { name: 'Connect GitHub account' }).click();
  await page.getByLabel('Username').fill(unique('cancel').slice(0, 39));
  await page.getByRole('button', { name: 'Create and sign in' }).click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('alert')).toContainText('You cancelled on GitHub');
  await expect(page.getByRole('link', { name: 'Try again' })).toBeVisible();
});

test("another signed-in user gets 404 on the owner's integrations tab", async ({ page, newContext }) => {
  await signUp(page);
  const projectPath = await createProject(page, unique('Private'));

  const other = await newContext();
  const visitor = await other.newPage();
  await signUp(visitor, 'Grace Hopper');
  const overview = await visitor.goto(projectPath);
  expect(overview?.status()).toBe(200);
  await expect(visitor.getByRole('link', { name: 'Integrations' })).toHaveCount(0);
  const response = await visitor.goto(`${projectPath}/integrations`);
  expect(response?.status()).toBe(404);
  await expect(visitor.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});
