// The helper every browser script uses (plain node, no test framework): Debian's Chromium
// driven by playwright-core, as hegui_test::Browser::run starts the script (NODE_PATH finds
// playwright-core, CHROMIUM names the browser, OUT_DIR is a directory for screenshots).
//
//   const { run } = require('./lib.js');
//   run(async ({ page, step, origin }) => {
//     await step('open the index', async () => { await page.goto(origin + '/public/demo'); });
//   });
//
// A failing step prints its name, the page's URL and text, saves a screenshot under $OUT_DIR
// and makes the script exit non-zero; so does a whole run longer than RUN_TIMEOUT_MS.
'use strict';

// Plain text in the test's output: no colour codes from playwright's error messages.
process.env.FORCE_COLOR = '0';
process.env.NO_COLOR = '1';

const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

// One action or expectation in the page; navigation included.
const TIMEOUT_MS = 10_000;
// The whole script, browser start included: a hung browser must not hang `cargo test`.
const RUN_TIMEOUT_MS = 120_000;

const OUT_DIR = process.env.OUT_DIR || fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'hegui-browser-'));

function fail(message) {
  throw new Error(message);
}

// Asserts `condition`, with `message` (a string or a function giving one) when it fails.
function check(condition, message) {
  if (!condition) fail(typeof message === 'function' ? message() : message);
}

// Whether `file` is a PNG of more than a few bytes.
function isPng(file) {
  const bytes = fs.readFileSync(file);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return bytes.length > 100 && bytes.subarray(0, 8).equals(signature);
}

// A file name out of a step's name.
function slug(name) {
  return name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'step';
}

// Launches Chromium, gives `body` a page and `step`, and exits 0 when every step passed.
function run(body) {
  const timer = setTimeout(() => {
    console.error(`browser: the script ran over ${RUN_TIMEOUT_MS} ms`);
    process.exit(3);
  }, RUN_TIMEOUT_MS);
  timer.unref();
  (async () => {
    check(process.env.CHROMIUM, 'CHROMIUM is not set (hegui_test::Browser::run sets it)');
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM,
      headless: true,
      // As root there is no sandbox; the rest keeps Chromium off the (closed) network.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    let failed = false;
    try {
      const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1000, height: 800 } });
      const page = await context.newPage();
      page.setDefaultTimeout(TIMEOUT_MS);
      page.setDefaultNavigationTimeout(TIMEOUT_MS);
      page.on('pageerror', (e) => console.error(`browser: page error: ${e.message}`));
      let count = 0;
      const step = async (name, fn) => {
        count += 1;
        try {
          const value = await fn();
          console.log(`ok ${count} ${name}`);
          return value;
        } catch (e) {
          failed = true;
          console.error(`not ok ${count} ${name}\n  ${String(e && e.stack || e).replace(/\n/g, '\n  ')}`);
          await report(page, `${String(count).padStart(2, '0')}-${slug(name)}`);
          throw e;
        }
      };
      const origin = process.env.ORIGIN;
      await body({ page, step, origin, outDir: OUT_DIR, check, isPng });
    } catch (e) {
      if (!failed) console.error(`browser: ${e && e.stack || e}`);
      failed = true;
    } finally {
      await browser.close().catch(() => {});
    }
    process.exit(failed ? 1 : 0);
  })().catch((e) => {
    console.error(`browser: ${e && e.stack || e}`);
    process.exit(2);
  });
}

// What a failed step leaves: the URL, the page's text, a screenshot.
async function report(page, name) {
  try {
    console.error(`  url: ${page.url()}`);
    const text = await page.evaluate(() => document.body ? document.body.innerText : '');
    console.error(`  page text:\n    ${text.slice(0, 4000).replace(/\n/g, '\n    ')}`);
    const file = path.join(OUT_DIR, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true, timeout: TIMEOUT_MS });
    console.error(`  screenshot: ${file}`);
  } catch (e) {
    console.error(`  (could not report the page: ${e.message})`);
  }
}

module.exports = { run, check, fail, isPng, TIMEOUT_MS };
