// What a person on a mid-range phone feels: each page loaded in headless
// Chromium with the CPU slowed 4× and DevTools' "Slow 4G" network, with an
// empty cache (cold) and again with the cache of an earlier visit (warm).
// Reports the bytes transferred, first contentful paint, and when the page is
// hydrated (src/lib.rs marks <body data-hydrated> once the page, its split-off
// code included, is hydrated: from then on a button answers). Medians of BENCH_RUNS runs. Run by `scripts/bench pages`,
// which starts the servers; it reads:
//   BENCH_TARGETS  [{"label": "before", "url": "http://127.0.0.1:…"}, …]
//   BENCH_PAGES    [{"name": "home page", "path": "/"}, …]
//   BENCH_COOKIE   the session cookie (name=value) the pages are seen with
import { chromium } from '@playwright/test';

const targets = JSON.parse(process.env.BENCH_TARGETS);
const pages = JSON.parse(process.env.BENCH_PAGES);
const cookie = process.env.BENCH_COOKIE ?? '';
const runs = Number(process.env.BENCH_RUNS ?? 3);

// DevTools' "Slow 4G" preset: 1.6 Mbps down, 750 kbps up, 562.5 ms round trips (each ×0.9 / ×3.75 as DevTools does).
const SLOW_4G = { offline: false, latency: 562.5, downloadThroughput: (1.6e6 / 8) * 0.9, uploadThroughput: (750e3 / 8) * 0.9 };
const CPU_SLOWDOWN = 4;

// Runs in every page before its own scripts: notes when <body> is marked hydrated.
function watchHydration() {
  const seen = () => {
    if (document.body?.dataset.hydrated === 'true' && window.__hydratedAt === undefined) {
      window.__hydratedAt = performance.now();
    }
  };
  new MutationObserver(seen).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
}

async function load(context, url) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  let bytes = 0;
  cdp.on('Network.loadingFinished', (event) => {
    bytes += event.encodedDataLength;
  });
  await page.goto(url, { waitUntil: 'load', timeout: 120_000 });
  await page.waitForFunction(() => window.__hydratedAt !== undefined, null, { timeout: 120_000, polling: 100 });
  const { fcp, hydrated } = await page.evaluate(() => ({
    fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
    hydrated: window.__hydratedAt,
  }));
  await page.close();
  return { bytes, fcp, hydrated };
}

async function newContext(browser, url) {
  const context = await browser.newContext();
  const [name, ...value] = cookie.split('=');
  if (name) await context.addCookies([{ name, value: value.join('='), url }]);
  await context.addInitScript(watchHydration);
  return context;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const results = [];
for (const { name, path } of pages) {
  for (const { label, url } of targets) {
    for (const cache of ['cold', 'warm']) {
      const samples = [];
      for (let run = 0; run < runs; run++) {
        const context = await newContext(browser, url);
        if (cache === 'warm') await load(context, url + path);
        samples.push(await load(context, url + path));
        await context.close();
      }
      const pick = (key) => median(samples.map((s) => s[key]));
      results.push({ page: name, build: label, cache, bytes: pick('bytes'), fcp: pick('fcp'), hydrated: pick('hydrated') });
    }
  }
}
await browser.close();

const kb = (bytes) => `${Math.round(bytes / 1024).toLocaleString('en')} KB`;
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
console.log(`\n| page | build | cache | transferred | first contentful paint | hydrated |`);
console.log('| --- | --- | --- | ---: | ---: | ---: |');
for (const r of results) console.log(`| ${r.page} | ${r.build} | ${r.cache} | ${kb(r.bytes)} | ${s(r.fcp)} | ${s(r.hydrated)} |`);
if (targets.length === 2) {
  console.log(`\n| page | cache | transferred, ${targets[1].label} / ${targets[0].label} | hydrated, ${targets[1].label} / ${targets[0].label} |`);
  console.log('| --- | --- | ---: | ---: |');
  for (const { name } of pages) {
    for (const cache of ['cold', 'warm']) {
      const [a, b] = targets.map(({ label }) => results.find((r) => r.page === name && r.build === label && r.cache === cache));
      console.log(`| ${name} | ${cache} | ${(b.bytes / a.bytes).toFixed(2)}× | ${(b.hydrated / a.hydrated).toFixed(2)}× |`);
    }
  }
}
console.log(`\nmedians of ${runs} runs; CPU ${CPU_SLOWDOWN}× slower, Slow 4G (1.6 Mbps down, 562.5 ms round trips)`);
