// The public pages of `hegui serve --demo`, as a person uses them in Chromium: the index, the
// agreement, the complaint form, the answer with its ticket and deadline, the ticket's status,
// and a form sent without content. Run by tests/browser.rs (ORIGIN is the server's
// http://127.0.0.1:PORT). Prints `note:` lines for what works but reads badly.
'use strict';

const path = require('node:path');
const { run, check } = require('./lib.js');

const text = (page, selector) => page.locator(selector).innerText();
const today = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10); // Beijing

run(async ({ page, step, origin, outDir, isPng }) => {
  const index = `${origin}/public/demo`;

  await step('the index page has its Chinese headings', async () => {
    const response = await page.goto(index);
    check(response.status() === 200, `GET ${index}: ${response.status()}`);
    check(await page.locator('html').getAttribute('lang') === 'zh-CN', 'lang is not zh-CN');
    check(await text(page, 'h1') === 'hegui 演示服务 (demo)', 'h1');
    const headings = await page.locator('h2').allInnerTexts();
    for (const want of ['适用人群、场合和用途', '服务的局限', '备案信息', '生成内容的标识', '用户协议', '投诉举报']) {
      check(headings.some((h) => h.startsWith(want)), () => `no heading ${want} in ${JSON.stringify(headings)}`);
    }
    check((await page.title()).includes('hegui 演示服务'), 'title');
  });

  await step('a screenshot of the index is a PNG', async () => {
    const file = path.join(outDir, 'index.png');
    await page.screenshot({ path: file, fullPage: true });
    check(isPng(file), `${file} is not a non-empty PNG`);
  });

  await step('the link to the agreement in force opens it', async () => {
    await page.getByRole('link', { name: /演示用户服务协议/ }).click();
    await page.waitForURL(/\/public\/demo\/agreement\/demo-1$/);
    check(await text(page, 'h1') === '演示用户服务协议', 'h1');
    const body = await text(page, 'body');
    check(body.includes('demo-1') && body.includes('起施行'), 'no version and effective date');
  });

  await step('the navigation opens the complaint form', async () => {
    await page.getByRole('navigation').getByRole('link', { name: /投诉举报/ }).click();
    await page.waitForURL(/\/public\/demo\/complaints$/);
    check((await text(page, 'h1')).startsWith('投诉举报'), 'h1');
    check((await text(page, '.notice')).includes('15 个工作日'), 'the process does not state 15 working days');
  });

  const content = '回答中出现了虚假的医疗建议，请核实处理。';
  const answer = await step('the filled form is received with a ticket and a deadline', async () => {
    await page.locator('select[name=kind]').selectOption('report');
    await page.locator('textarea[name=content]').fill(content);
    await page.locator('input[name=contact]').fill('张三 13800000000');
    const [response] = await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: /提交/ }).click(),
    ]);
    check(response.status() === 201, `POST: ${response.status()}`);
    check((await text(page, 'h1')).startsWith('已受理'), 'h1 is not 已受理');
    const ticket = (await text(page, 'dd code')).trim();
    check(/^[A-Za-z0-9]{6,64}$/.test(ticket), `ticket ${JSON.stringify(ticket)}`);
    const dd = await page.locator('dd').nth(1).innerText();
    const deadline = (dd.match(/^(\d{4}-\d{2}-\d{2}) 24:00（北京时间）/) || [])[1];
    check(deadline, `deadline ${JSON.stringify(dd)}`);
    check(deadline > today(), `deadline ${deadline} is not after today ${today()}`);
    return { ticket, deadline };
  });

  await step('the status link shows the ticket received and waiting', async () => {
    await page.getByRole('link', { name: /查看处理进度/ }).click();
    await page.waitForURL(new RegExp(`/public/demo/complaints/${answer.ticket}$`));
    check((await text(page, 'h1')).startsWith('处理进度'), 'h1 is not 处理进度');
    check((await text(page, 'dd code')).trim() === answer.ticket, 'another ticket');
    const body = await text(page, 'body');
    check(body.includes('已受理，待处理') && body.includes('(new)'), 'status is not 已受理，待处理');
    check(body.includes(`${answer.deadline} 24:00`), `deadline is not ${answer.deadline}`);
  });

  await step('an empty form is stopped by the browser (content is required)', async () => {
    await page.goto(`${index}/complaints`);
    let posted = false;
    page.on('request', (r) => { if (r.method() === 'POST') posted = true; });
    await page.getByRole('button', { name: /提交/ }).click();
    await page.waitForTimeout(300);
    check(!posted, 'the empty form was sent');
    const missing = await page.locator('textarea[name=content]').evaluate((e) => e.validity.valueMissing);
    check(missing, 'the content field is not flagged as missing');
    page.removeAllListeners('request');
  });

  await step('a blank content reaches the server and is refused', async () => {
    // Spaces pass the browser's `required`; the server trims them and refuses.
    await page.locator('textarea[name=content]').fill('   ');
    const [response] = await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: /提交/ }).click(),
    ]);
    check(response.status() === 400, `POST: ${response.status()}`);
    const type = response.headers()['content-type'] || '';
    check(type.startsWith('text/html'), `the refusal is ${type}, not a page`);
    const error = await text(page, '#error');
    check(error.includes('`content` is required'), `the page does not say content is required: ${error}`);
    check(await page.locator('textarea[name=content]').count() === 1, 'the form is not shown again');
  });
});
