// The Tasks tab's journeys against the simulated GitHub: an owner follows a
// repository that already has a history and watches it import; issues,
// comments and a merged pull request made on GitHub appear without a reload;
// filters and search work; a visitor sees the public repository's tasks.
import { expect, newOrg, ownerWithGitHub, sim, test } from './support';

test('an owner follows a repository with a history, watches it import, and sees GitHub changes live', async ({
  page,
  context,
  newContext,
}) => {
  test.slow(); // an install, an import of 120 issues, then changes waited for
  const { projectPath, login } = await ownerWithGitHub(page);
  const org = await newOrg(page, login, 2);
  // The simulator makes repo-00001 private and repo-00002 public.
  const [secret, repo] = [`${org}/repo-00001`, `${org}/repo-00002`];
  const seeded = await page.request.post(`${sim}/_sim/repos/${repo}/seed`, {
    data: { issues: 120, comments_per_issue: 1, author: login },
  });
  expect(seeded.status()).toBe(201);

  // Install from the project, choosing the repository: it is followed, and imported.
  await page.getByRole('button', { name: 'Install on GitHub' }).click();
  await page.getByRole('link', { name: `Install on ${org}` }).click();
  await page.getByLabel('Only select repositories').check();
  await page.getByLabel(repo).check();
  await page.getByLabel(secret).check();
  await page.getByRole('button', { name: 'Install', exact: true }).click();
  await expect(page).toHaveURL(`${projectPath}/integrations`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expect(page.locator(`[data-repo="${repo}"] .import-status`)).toHaveText('Up to date · 120 tasks', { timeout: 30_000 });
  await expect(page.locator(`[data-repo="${secret}"] .import-status`)).toHaveText('Up to date · 0 tasks');

  // The Tasks tab: open ones first (every third seeded issue is closed), 50 a page.
  await page.getByRole('link', { name: 'Tasks', exact: true }).click();
  await expect(page.getByText('80 tasks')).toBeVisible();
  await expect(page.locator('.task-row')).toHaveCount(50);

  // On GitHub, in another tab: a new issue, then a comment on it.
  const github = await context.newPage();
  await github.goto(`${sim}/${repo}`);
  await github.getByLabel('Title', { exact: true }).fill('Live from GitHub');
  await github.getByRole('button', { name: 'Submit new issue' }).click();
  const row = page.locator('.task-row', { hasText: 'Live from GitHub' });
  await expect(row).toBeVisible();
  await expect(row.locator('.state-badge')).toHaveText('open');
  // What one is typing in a filter stays while the list changes under it.
  await page.getByLabel('Search').fill('half a sen');
  const secretTab = await context.newPage();
  await secretTab.goto(`${sim}/${secret}`);
  await secretTab.getByLabel('Title', { exact: true }).fill('A private plan');
  await secretTab.getByRole('button', { name: 'Submit new issue' }).click();
  await expect(page.locator('.task-row', { hasText: 'A private plan' })).toBeVisible();
  await expect(page.getByLabel('Search')).toHaveValue('half a sen');
  await expect(page.getByLabel('Search')).toBeFocused();
  await row.getByRole('link', { name: 'Live from GitHub' }).click();
  await expect(page.getByRole('heading', { name: /Live from GitHub/ })).toBeVisible();
  await github.getByRole('article', { name: 'Issue #121' }).getByLabel('Comment').fill('Seen **live**');
  await github.getByRole('button', { name: 'Comment on #121' }).click();
  await expect(page.locator('.comment .markdown')).toContainText('Seen live');
  await expect(page.locator('.comment strong')).toHaveText('live');

  // A pull request opened and merged on GitHub shows merged.
  await github.getByLabel('Pull request title').fill('Ship the fix');
  await github.getByRole('button', { name: 'Create pull request' }).click();
  await github.getByRole('button', { name: 'Merge pull request #122' }).click();
  await page.getByRole('link', { name: '← All tasks' }).click();
  await page.getByLabel('State').selectOption('closed');
  await page.getByLabel('Kind').selectOption('pull_request');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/state=closed/);
  const pull = page.locator('.task-row', { hasText: 'Ship the fix' });
  await expect(pull.locator('.state-badge')).toHaveText('merged');
  await expect(page.locator('.task-row')).toHaveCount(1);

  // Search titles and bodies.
  await page.getByLabel('State').selectOption('all');
  await page.getByLabel('Kind').selectOption('');
  await page.getByLabel('Search').fill('seeded issue 7');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.locator('.task-row', { hasText: 'Seeded issue 7' }).first()).toBeVisible();
  await expect(page.locator('.task-row', { hasText: 'Live from GitHub' })).toHaveCount(0);

  // A visitor (another browser, nobody signed in) sees the public repository's tasks, not the private one's.
  const visitor = await (await newContext()).newPage();
  await visitor.goto(`${projectPath}/tasks`);
  await expect(visitor.locator('.task-row', { hasText: 'Live from GitHub' })).toBeVisible();
  await expect(visitor.getByText('81 tasks')).toBeVisible();
  await expect(visitor.locator('.task-row', { hasText: 'A private plan' })).toHaveCount(0);
  await expect(visitor.getByRole('link', { name: 'Integrations' })).toHaveCount(0);

  // Unfollowed, the private repository's tasks stay, marked and filterable as no longer synced.
  await page.getByRole('link', { name: 'Integrations' }).click();
  await page.getByRole('button', { name: `Unfollow ${secret}` }).click();
  await expect(page.getByRole('button', { name: `Follow ${secret}` })).toBeVisible();
  await page.getByRole('link', { name: 'Tasks', exact: true }).click();
  await page.getByLabel('Sync').selectOption('not_synced');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/sync=not_synced/);
  await expect(page.locator('.task-row')).toHaveCount(1);
  const kept = page.locator('.task-row', { hasText: 'A private plan' });
  await expect(kept.locator('.badge', { hasText: 'no longer synced' })).toBeVisible();
  await page.getByLabel('Sync').selectOption('synced');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.locator('.task-row', { hasText: 'Live from GitHub' })).toBeVisible();
  await expect(kept).toHaveCount(0);
});
