// Interop: the official Alipay Node SDK (npm `alipay-sdk` 4.14.0, installed by setup.sh) as a
// client of alipay-emulator. An emulator that only our own client accepts proves nothing.
//
// Usage: node emulator_node.mjs <install dir> <config.json>
//   config.json: {"gateway", "v3", "control", "app_id", "app_private_key" (path),
//                 "alipay_public_key" (path)}
//
// Checks, each with the SDK's own code:
//   * exec(..., {validateSign: true}) for precreate, query, refund and close (public-key mode),
//     and for precreate and query in certificate mode (an app registered through the control API);
//   * curl('POST', '/v3/alipay/trade/query') — the SDK verifies the v3 answer's signature;
//   * pageExec(..., 'GET') — the URL is accepted by the gateway (302 to the cashier);
//   * checkNotifySign(...) on every notification the emulator delivers to a Node HTTP server.
// Prints one JSON line {"ok": true, "checks": [...]} and exits 0, or {"ok": false, ...} and 1.

import fs from 'node:fs';
import http from 'node:http';
import { openSdk } from './sdk.mjs';

const [installDir, configPath] = process.argv.slice(2);
if (!installDir || !configPath) {
  process.stderr.write('usage: node emulator_node.mjs <install dir> <config.json>\n');
  process.exit(2);
}
const { AlipaySdk } = await openSdk(installDir).load('alipay.js');
const config = JSON.parse(fs.readFileSync(configPath, 'utf8'));

const checks = [];
function check(name, condition, detail) {
  checks.push({ name, ok: Boolean(condition), detail });
  if (!condition) {
    throw new Error(`${name} failed: ${JSON.stringify(detail)}`);
  }
}

async function control(method, route, body) {
  const res = await fetch(`${config.control}/${route}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (res.status >= 400) {
    throw new Error(`control ${method} ${route}: ${res.status} ${JSON.stringify(json)}`);
  }
  return json;
}

// The merchant's notify_url: a Node HTTP server that checks each notification with the SDK.
const notifications = [];
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', c => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const params = Object.fromEntries(new URLSearchParams(body));
    notifications.push({ params, contentType: req.headers['content-type'] });
    res.end('success');
  });
});
await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
const notifyUrl = `http://127.0.0.1:${server.address().port}/notify`;

async function waitForNotifications(n) {
  for (let i = 0; i < 500 && notifications.length < n; i++) {
    await new Promise(r => setTimeout(r, 10));
  }
  return notifications.length;
}

let failure = null;
try {
  const sdk = new AlipaySdk({
    appId: config.app_id,
    privateKey: fs.readFileSync(config.app_private_key, 'utf8'),
    alipayPublicKey: fs.readFileSync(config.alipay_public_key, 'utf8'),
    gateway: config.gateway,
    endpoint: config.v3,
    camelcase: false,
    timeout: 10000,
  });
  const validate = { validateSign: true };
  const no = `NODE${Date.now()}`;

  const pre = await sdk.exec('alipay.trade.precreate', {
    notify_url: notifyUrl,
    bizContent: { out_trade_no: no, total_amount: '12.34', subject: 'Node 咖啡' },
  }, validate);
  check('exec precreate (validateSign)', pre.code === '10000' && pre.qr_code.startsWith('http'), pre);

  await control('POST', `trades/${no}/pay`);
  const q = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: no } }, validate);
  check('exec query (validateSign)', q.trade_status === 'TRADE_SUCCESS' && q.total_amount === '12.34', q);

  const r = await sdk.exec('alipay.trade.refund', {
    bizContent: { out_trade_no: no, refund_amount: '2.34', out_request_no: 'NR1' },
  }, validate);
  check('exec refund (validateSign)', r.fund_change === 'Y' && r.refund_fee === '2.34', r);

  const second = `${no}B`;
  await sdk.exec('alipay.trade.precreate', {
    bizContent: { out_trade_no: second, total_amount: '1.00', subject: 'x' },
  }, validate);
  await control('POST', `trades/${second}/scan`);
  const c = await sdk.exec('alipay.trade.close', { bizContent: { out_trade_no: second } }, validate);
  check('exec close (validateSign)', c.code === '10000' && c.out_trade_no === second, c);

  const missing = await sdk.exec('alipay.trade.query', { bizContent: { out_trade_no: 'NONE' } }, validate);
  check('exec business error (validateSign)', missing.sub_code === 'ACQ.TRADE_NOT_EXIST', missing);

  const v3 = await sdk.curl('POST', '/v3/alipay/trade/query', { body: { out_trade_no: no } });
  check('curl v3 query (verified)', v3.data.trade_status === 'TRADE_SUCCESS', v3.data);

  const url = sdk.pageExec('alipay.trade.page.pay', 'GET', {
    bizContent: { out_trade_no: `${no}P`, total_amount: '9.99', subject: 'Page', product_code: 'FAST_INSTANT_TRADE_PAY' },
    returnUrl: 'http://merchant.example/return',
  });
  const page = await fetch(url, { redirect: 'manual' });
  const location = page.headers.get('location') || '';
  check('pageExec GET URL accepted', page.status === 302 && location.startsWith('/cashier/'), { status: page.status, location });

  const got = await waitForNotifications(2);
  check('notifications delivered', got >= 2, { got });
  for (const n of notifications) {
    check(`checkNotifySign ${n.params.trade_status} ${n.params.out_biz_no ?? ''}`.trim(),
      sdk.checkNotifySign(n.params) && sdk.checkNotifySignV2(n.params), n.params);
  }

  // Certificate mode: a second app, registered through the control API.
  const app = await control('POST', 'apps', { mode: 'cert' });
  const certSdk = new AlipaySdk({
    appId: app.app_id,
    privateKey: app.app_private_key,
    appCertContent: app.app_cert,
    alipayPublicCertContent: app.alipay_cert,
    alipayRootCertContent: app.alipay_root_cert,
    gateway: config.gateway,
    endpoint: config.v3,
    camelcase: false,
    timeout: 10000,
  });
  check('certificate SNs as the SDK computes them',
    certSdk.config.appCertSn === app.app_cert_sn && certSdk.config.alipayRootCertSn === app.alipay_root_cert_sn
      && certSdk.config.alipayCertSn === app.alipay_cert_sn,
    { sdk: [certSdk.config.appCertSn, certSdk.config.alipayRootCertSn, certSdk.config.alipayCertSn], emulator: [app.app_cert_sn, app.alipay_root_cert_sn, app.alipay_cert_sn] });
  const certNo = `${no}C`;
  const cp = await certSdk.exec('alipay.trade.precreate', {
    bizContent: { out_trade_no: certNo, total_amount: '3.00', subject: 'cert' },
  }, validate);
  check('certificate mode exec precreate (validateSign)', cp.code === '10000', cp);
  await control('POST', `trades/${certNo}/pay?app_id=${app.app_id}`);
  const cq = await certSdk.exec('alipay.trade.query', { bizContent: { out_trade_no: certNo } }, validate);
  check('certificate mode exec query (validateSign)', cq.trade_status === 'TRADE_SUCCESS', cq);
  const cv3 = await certSdk.curl('POST', '/v3/alipay/trade/query', { body: { out_trade_no: certNo } });
  check('certificate mode curl v3 query (alipay-sn checked)', cv3.data.trade_status === 'TRADE_SUCCESS', cv3.data);
} catch (err) {
  failure = String(err && err.stack || err);
}
server.close();
process.stdout.write(`${JSON.stringify({ ok: failure === null, checks, failure })}\n`);
process.exit(failure === null ? 0 : 1);
