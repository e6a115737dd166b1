// The operator console of `hegui serve --demo` in Chromium: an operator logs in, answers a
// complaint before its deadline, suspends a user and sees the sanction record, takes an answer
// down and finds its ProduceID refused; a form forged without its CSRF token is rejected; an
// auditor sees the same pages without the forms. A screenshot of each page goes to OUT_DIR.
// Run by tests/browser.rs with ORIGIN, KEY (the demo's API key), PASSWORD (the demo console
// password), RECORD (an answer to mallory) and TICKET (a report about it).
'use strict';

const path = require('node:path');
const { run, check } = require('./lib.js');

const env = (name) => {
  const value = process.env[name];
  check(value, `${name} is not set`);
  return value;
};

run(async ({ page, step, origin, outDir, isPng }) => {
  const [password, record, ticket, key] = ['PASSWORD', 'RECORD', 'TICKET', 'KEY'].map(env);
  const shot = async (name) => {
    const file = path.join(outDir, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    check(isPng(file), `${file} is not a PNG`);
  };
  const submit = async (form) => {
    const [response] = await Promise.all([
      page.waitForNavigation(),
      page.locator(`${form} button[type=submit]`).click(),
    ]);
    return response;
  };
  const login = async (name) => {
    await page.goto(`${origin}/console`);
    await page.waitForURL(/\/console\/login$/);
    await page.locator('#name').fill(name);
    await page.locator('#password').fill(password);
    await submit('form');
    check(new URL(page.url()).pathname === '/console', `after login: ${page.url()}`);
  };

  await step('the console sends a stranger to the login page, and a wrong password back', async () => {
    await page.goto(`${origin}/console/complaints`);
    await page.waitForURL(/\/console\/login$/);
    await page.locator('#name').fill('demo-operator');
    await page.locator('#password').fill('not the password');
    const response = await submit('form');
    check(response.status() === 401, `wrong password: ${response.status()}`);
    check((await page.locator('#message').innerText()).includes('用户名或密码错误'), 'no message');
    await shot('login');
  });

  await step('the operator logs in and sees the dashboard with its charts', async () => {
    await login('demo-operator');
    check((await page.locator('h1').innerText()).startsWith('总览'), 'not the dashboard');
    check(await page.locator('svg.chart').count() === 2, 'two charts');
    check((await page.locator('body').innerText()).includes(ticket), 'the open complaint is not listed');
    await shot('dashboard');
  });

  await step('the operator answers the complaint before its deadline', async () => {
    await page.goto(`${origin}/console/complaints`);
    check((await page.locator('#queue').innerText()).includes(ticket), 'the ticket is not in the queue');
    await shot('complaints');
    await page.getByRole('link', { name: ticket }).click();
    await page.locator('#action').selectOption('answer');
    await page.locator('#text').fill('已核实，该回答已下架，感谢举报。');
    const response = await submit('#step');
    check(response.status() === 200, `after the answer: ${response.status()}`);
    check((await page.locator('#status').innerText()) === 'answered', 'not answered');
    check((await page.locator('#done').innerText()).includes('已处理'), 'no confirmation');
    const history = await page.locator('#history').innerText();
    check(history.includes('demo-operator') && history.includes('answer'), `history: ${history}`);
    check(!(await page.locator('body').innerText()).includes('已超期'), 'overdue');
    await shot('complaint');
  });

  await step('the operator suspends the user and sees the sanction record', async () => {
    await page.goto(`${origin}/console/users/mallory`);
    await page.locator('#action').selectOption('suspend');
    await page.locator('#reason').fill('多次生成违法内容');
    await page.locator('#record').fill(record);
    await submit('#sanction');
    check((await page.locator('#state').innerText()) === 'suspended', 'not suspended');
    const sanctions = await page.locator('#sanctions').innerText();
    check(sanctions.includes('多次生成违法内容') && sanctions.includes('demo-operator'), `sanctions: ${sanctions}`);
    await shot('user');
  });

  await step('the operator takes the answer down and its ProduceID is refused', async () => {
    await page.goto(`${origin}/console/records/${record}`);
    check((await page.locator('#link').innerText()).includes('校验通过'), 'the chain link does not verify');
    await page.locator('#reason').fill('编造虚假信息');
    await page.locator('#risk').fill('A.1.h');
    await submit('#takedown');
    check((await page.locator('#taken').innerText()).includes('编造虚假信息'), 'not taken down');
    await shot('record');
    const served = await page.request.get(`${origin}/v1/hegui/records/${record}`, {
      headers: { authorization: `Bearer ${key}` },
    });
    check(served.status() === 451, `served again: ${served.status()}`);
    check((await served.json()).error.code === 'content_taken_down', 'not content_taken_down');
  });

  await step('each action is a governance record in the audit search', async () => {
    await page.goto(`${origin}/console/audit?kind=governance`);
    const rows = await page.locator('#results tr').count();
    check(rows - 1 >= 3, `${rows - 1} governance records`);
    await page.goto(`${origin}/console/audit?id=${record}`);
    check((await page.locator('#results').innerText()).includes(record), 'the record is not found by its id');
    await shot('audit');
  });

  await step('a form forged without its CSRF token is rejected', async () => {
    const forged = await page.request.post(`${origin}/console/users/mallory`, {
      form: { action: 'restore', reason: 'forged' },
    });
    check(forged.status() === 403, `forged: ${forged.status()}`);
    check((await forged.text()).includes('csrf_rejected'), 'not a CSRF refusal');
    await page.goto(`${origin}/console/users/mallory`);
    check((await page.locator('#state').innerText()) === 'suspended', 'the forged form took effect');
  });

  await step('the other pages render', async () => {
    for (const [name, title] of [['takedowns', '下架与辟谣'], ['lexicon', '词库'], ['users', '用户'], ['pi', '个人信息请求']]) {
      await page.goto(`${origin}/console/${name}`);
      check((await page.locator('h1').innerText()).startsWith(title), `${name}: h1`);
      await shot(name);
    }
  });

  await step('logout ends the session', async () => {
    await submit('header form');
    await page.goto(`${origin}/console`);
    await page.waitForURL(/\/console\/login$/);
  });

  await step('the auditor sees the same pages without the forms', async () => {
    await login('demo-auditor');
    await page.goto(`${origin}/console/complaints/${ticket}`);
    check((await page.locator('#history').innerText()).includes('answer'), 'no history');
    check(await page.locator('#step').count() === 0, 'the step form is shown to an auditor');
    await page.goto(`${origin}/console/users/mallory`);
    check(await page.locator('#sanction').count() === 0, 'the sanction form is shown to an auditor');
    await page.goto(`${origin}/console/records/${record}`);
    check(await page.locator('#takedown').count() === 0, 'the takedown form is shown to an auditor');
    await shot('auditor');
  });
});
