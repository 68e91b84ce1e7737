// Every example payload GitHub publishes (@octokit/webhooks-examples), signed by an
// independent implementation (@octokit/webhooks-methods), is accepted and stored.
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';

type Examples = { name: string; examples: Record<string, unknown>[] }[];

test("GitHub's published example payloads, signed by octokit, are all accepted", async ({ request }) => {
  const secret = process.env.GITHUB_WEBHOOK_SECRET?.split(',')[0]?.trim();
  if (!secret) throw new Error('GITHUB_WEBHOOK_SECRET is not set; run scripts/test');
  const require = createRequire(import.meta.url);
  const file = require.resolve('@octokit/webhooks-examples/api.github.com/index.json');
  const all = JSON.parse(readFileSync(file, 'utf8')) as Examples;

  let sent = 0;
  for (const { name, examples } of all) {
    for (const example of examples) {
      const body = JSON.stringify(example);
      const response = await request.post('/webhooks/github', {
        data: body,
        headers: {
          'content-type': 'application/json',
          'x-github-event': name,
          'x-github-delivery': randomUUID(),
          'x-github-hook-id': '1',
          'x-hub-signature-256': await sign(secret, body),
        },
      });
      expect(response.status(), `${name}.${example.action ?? ''}`).toBe(202);
      sent++;
    }
  }
  expect(sent).toBeGreaterThan(300);
});
