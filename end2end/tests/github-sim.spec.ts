// Independent GitHub clients work against the simulator unchanged: the official
// octokit packages with only the base URL changed, and webhook bodies that verify
// with @octokit/webhooks-methods and carry every field GitHub's published examples do.
import { test, expect } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAppAuth } from '@octokit/auth-app';
import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { verify } from '@octokit/webhooks-methods';

test.describe.configure({ mode: 'serial' });

const APP_ID = 777001;
const SECRET = 'compat-webhook-secret';
const REPO_COUNT = 5000;

type Received = { headers: IncomingHttpHeaders; body: string };
const received: Received[] = [];
let receiver: Server;
let sim: ChildProcess;
let simUrl: string;
let privateKey: string;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor<T>(probe: () => T | undefined, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function examplesOf(event: string, action: string): Record<string, unknown>[] {
  const require = createRequire(import.meta.url);
  const file = require.resolve('@octokit/webhooks-examples/api.github.com/index.json');
  const all = JSON.parse(readFileSync(file, 'utf8')) as { name: string; examples: Record<string, unknown>[] }[];
  return all.find((e) => e.name === event)!.examples.filter((x) => x.action === action);
}

/** Every key GitHub's published example has at this path, our payload has too. */
function expectKeysOf(ours: any, example: any, path: string) {
  const missing = Object.keys(example).filter((k) => !(k in ours));
  expect(missing, `${path} lacks fields GitHub sends`).toEqual([]);
}

test.beforeAll(async () => {
  const bin = process.env.GITHUB_SIM_BIN;
  if (!bin) throw new Error('GITHUB_SIM_BIN (the simulator binary) is not set; run scripts/test');
  const keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  privateKey = keys.privateKey;
  const dir = mkdtempSync(join(tmpdir(), 'forgelink-compat-'));
  writeFileSync(join(dir, 'public.pem'), keys.publicKey);

  receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(202).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/github`;

  const port = await freePort();
  simUrl = `http://127.0.0.1:${port}`;
  sim = spawn(bin, [], {
    cwd: dir,
    stdio: 'ignore',
    env: {
      ...process.env,
      GITHUB_SIM_ADDR: `127.0.0.1:${port}`,
      GITHUB_APP_ID: String(APP_ID),
      GITHUB_APP_SLUG: 'forgelink-compat',
      GITHUB_CLIENT_ID: 'Iv23liCompat',
      GITHUB_CLIENT_SECRET: 'compat-client-secret',
      GITHUB_WEBHOOK_SECRET: SECRET,
      GITHUB_SIM_PUBLIC_KEY_PATH: join(dir, 'public.pem'),
      GITHUB_SIM_WEBHOOK_URL: hookUrl,
      GITHUB_SIM_LARGE_ORG_REPOS: String(REPO_COUNT),
      GITHUB_SIM_STATE_FILE: '',
    },
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${simUrl}/_sim/state`)).ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error('the simulator did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
});

test.afterAll(async () => {
  sim?.kill();
  await new Promise((resolve) => receiver?.close(resolve));
});

test('@octokit/auth-app mints an installation token and paginate lists all 5,000 repositories', async () => {
  const created = await fetch(`${simUrl}/_sim/installations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ account: 'mega-corp', sender: 'octocat' }),
  });
  expect(created.status).toBe(201);
  const { id: installationId } = (await created.json()) as { id: number };

  const MyOctokit = Octokit.plugin(paginateRest);
  const octokit = new MyOctokit({
    baseUrl: `${simUrl}/api/v3`,
    authStrategy: createAppAuth,
    auth: { appId: APP_ID, privateKey, installationId },
  });
  let pages = 0;
  octokit.hook.after('request', (_response, options) => {
    if (String(options.url).includes('/installation/repositories')) pages++;
  });
  // Counted where they are minted: auth-app's own requests may bypass the hooks.
  const minted = async () =>
    ((await (await fetch(`${simUrl}/_sim/state`)).json()) as { installation_tokens_issued: number }).installation_tokens_issued;
  const mintedBefore = await minted();

  const repos = await octokit.paginate('GET /installation/repositories', { per_page: 100 });
  expect(repos).toHaveLength(REPO_COUNT);
  expect(new Set(repos.map((r: { id: number }) => r.id)).size).toBe(REPO_COUNT);
  expect(pages).toBe(REPO_COUNT / 100);
  expect(await minted(), 'one token, reused for all 50 pages').toBe(mintedBefore + 1);

  // The App's own view, with the App JWT only.
  const appOctokit = new MyOctokit({ baseUrl: `${simUrl}/api/v3`, authStrategy: createAppAuth, auth: { appId: APP_ID, privateKey } });
  const { data: app } = await appOctokit.request('GET /app');
  expect(app.id).toBe(APP_ID);
  const installations = await appOctokit.paginate('GET /app/installations', { per_page: 100 });
  expect(installations.map((i: { id: number }) => i.id)).toContain(installationId);
});

test('a JWT signed by another key is refused', async () => {
  const other = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const octokit = new Octokit({
    baseUrl: `${simUrl}/api/v3`,
    authStrategy: createAppAuth,
    auth: { appId: APP_ID, privateKey: other.privateKey },
  });
  await expect(octokit.request('GET /app')).rejects.toMatchObject({ status: 401 });
});

test('webhooks verify with @octokit/webhooks-methods and carry the fields of GitHub examples', async () => {
  const installation = await waitFor(
    () => received.find((r) => r.headers['x-github-event'] === 'installation'),
    'the installation.created delivery',
  );
  expect(installation.headers['content-type']).toBe('application/json');
  expect(installation.headers['user-agent']).toMatch(/^GitHub-Hookshot\//);
  expect(installation.headers['x-github-delivery']).toMatch(/^[0-9a-f-]{36}$/);
  expect(installation.headers['x-github-hook-installation-target-type']).toBe('integration');
  expect(installation.headers['x-github-hook-installation-target-id']).toBe(String(APP_ID));
  const signature = String(installation.headers['x-hub-signature-256']);
  expect(await verify(SECRET, installation.body, signature)).toBe(true);
  expect(await verify('another-secret', installation.body, signature)).toBe(false);

  const payload = JSON.parse(installation.body);
  expect(payload.action).toBe('created');
  const [example] = examplesOf('installation', 'created');
  expectKeysOf(payload, example, 'installation.created');
  expectKeysOf(payload.installation, example.installation, 'installation.created .installation');
  expectKeysOf(payload.installation.account, (example.installation as any).account, '.installation.account');
  expectKeysOf(payload.sender, example.sender, 'installation.created .sender');
  expectKeysOf(payload.repositories[0], (example.repositories as any[])[0], '.repositories[]');

  // An issue opened through the API with an installation token is delivered as issues.opened.
  const { id: installationId } = payload.installation;
  const octokit = new Octokit({
    baseUrl: `${simUrl}/api/v3`,
    authStrategy: createAppAuth,
    auth: { appId: APP_ID, privateKey, installationId },
  });
  const { data: issue } = await octokit.request('POST /repos/{owner}/{repo}/issues', {
    owner: 'mega-corp',
    repo: 'repo-00001',
    title: 'Compatibility check',
  });
  expect(issue.number).toBe(1);
  const opened = await waitFor(
    () => received.find((r) => r.headers['x-github-event'] === 'issues'),
    'the issues.opened delivery',
  );
  expect(await verify(SECRET, opened.body, String(opened.headers['x-hub-signature-256']))).toBe(true);
  const issuePayload = JSON.parse(opened.body);
  expect(issuePayload.action).toBe('opened');
  const [issueExample] = examplesOf('issues', 'opened');
  for (const key of ['issue', 'repository', 'sender'] as const) {
    expectKeysOf(issuePayload[key], issueExample[key], `issues.opened .${key}`);
  }
  expect(issuePayload.installation.id).toBe(installationId);

  // A pull request opened and merged through the API: pull_request.opened, then closed with merged.
  const { data: pull } = await octokit.request('POST /repos/{owner}/{repo}/pulls', {
    owner: 'mega-corp',
    repo: 'repo-00001',
    title: 'Compatible change',
    head: 'topic',
    base: 'main',
  });
  await octokit.request('PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge', {
    owner: 'mega-corp',
    repo: 'repo-00001',
    pull_number: pull.number,
  });
  const pulls = await waitFor(() => {
    const found = received.filter((r) => r.headers['x-github-event'] === 'pull_request').map((r) => JSON.parse(r.body));
    return found.length >= 2 ? found : undefined;
  }, 'the pull_request deliveries');
  expect(pulls.map((p: any) => p.action)).toEqual(['opened', 'closed']);
  const [pullExample] = examplesOf('pull_request', 'opened');
  expectKeysOf(pulls[0], pullExample, 'pull_request.opened');
  expectKeysOf(pulls[0].pull_request, pullExample.pull_request, 'pull_request.opened .pull_request');
  expect(pulls[1].pull_request.merged).toBe(true);
  expect(pulls[1].pull_request.state).toBe('closed');
  // Listed among the issues, as GitHub lists pull requests.
  const { data: listed } = await octokit.request('GET /repos/{owner}/{repo}/issues', {
    owner: 'mega-corp',
    repo: 'repo-00001',
    state: 'all',
  });
  const asIssue = listed.find((i: any) => i.number === pull.number);
  expect(asIssue?.pull_request?.merged_at).toBeTruthy();
});
