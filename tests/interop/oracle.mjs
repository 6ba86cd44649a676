// Interop oracle: answers questions about Alipay signing with the official Node SDK
// (npm `alipay-sdk`, installed by setup.sh), so tests/it/interop.rs can compare alipay-rs with it.
//
// Usage: node oracle.mjs <install dir>   (the folder setup.sh installed into; or $INTEROP_NODE_DIR)
//
// Protocol: one JSON object per line on stdin, one JSON object per line on stdout, in order:
//   -> {"id": 1, "op": "sign_v2", ...}
//   <- {"id": 1, "ok": true, "result": {...}}   or   {"id": 1, "ok": false, "error": "..."}
//
// Every answer comes from the SDK's own code: `AlipaySdk` (constructor key handling, sdkExecute,
// rsaCheck, checkNotifySignV2, checkResponseSign, curl), util.js (aesEncryptText, aesDecryptText,
// signatureV3, verifySignatureV3) and antcertutil.js (getSN, loadPublicKey). Where the SDK does
// not return an intermediate string (the v2 string to sign), the oracle rebuilds it from the
// SDK's output and proves it with the SDK's own signature before answering.

import fs from 'node:fs';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { createPublicKey, createVerify } from 'node:crypto';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { openSdk } from './sdk.mjs';

const installDir = process.argv[2] || process.env.INTEROP_NODE_DIR;
if (!installDir) {
  process.stderr.write('usage: node oracle.mjs <install dir>\n');
  process.exit(2);
}
const { version: sdkVersion, load } = openSdk(installDir);
const { AlipaySdk } = await load('alipay.js');
const util = await load('util.js');
const certutil = await load('antcertutil.js');

// The v3 code path takes its nonce from node:crypto's randomUUID and its time from Date.now().
// They are pinned only for the synchronous part of AlipaySdk#curl that builds the
// Authorization header (everything before its first await), then restored.
const require = createRequire(import.meta.url);
const cryptoCjs = require('node:crypto');
const realRandomUUID = cryptoCjs.randomUUID;
const realDateNow = Date.now;

function pinClock(nonce, timestampMs) {
  cryptoCjs.randomUUID = () => nonce;
  syncBuiltinESMExports();
  Date.now = () => timestampMs;
}

function unpinClock() {
  cryptoCjs.randomUUID = realRandomUUID;
  syncBuiltinESMExports();
  Date.now = realDateNow;
}

// A local HTTP endpoint for the v3 client: it records the request exactly as sent and answers
// with the response the test asked for.
let nextResponse = null;
let lastRequest = null;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', c => chunks.push(c));
  req.on('end', () => {
    lastRequest = {
      method: req.method,
      target: req.url,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    const r = nextResponse ?? {
      status: 400,
      headers: {},
      body: '{"code":"interop-no-response","message":"no response configured"}',
    };
    res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
    res.end(r.body);
  });
});
await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${server.address().port}`;

function sdkFor(req, extra = {}) {
  const config = {
    appId: req.app_id ?? '2021000000000000',
    privateKey: req.private_key,
    keyType: req.key_type ?? 'PKCS1',
    signType: req.sign_type ?? 'RSA2',
    charset: req.charset ?? 'utf-8',
    version: req.version ?? '1.0',
    endpoint,
    ...extra,
  };
  if (req.encrypt_key) config.encryptKey = req.encrypt_key;
  if (req.app_cert) {
    config.appCertContent = req.app_cert;
    config.alipayPublicCertContent = req.alipay_public_cert;
    config.alipayRootCertContent = req.alipay_root_cert;
  } else if (req.alipay_public_key) {
    config.alipayPublicKey = req.alipay_public_key;
  }
  return new AlipaySdk(config);
}

// v2: the SDK signs through sdkExecute (its app-pay order string: every signed parameter plus
// `sign`, URL-encoded). The string to sign is rebuilt from those parameters and must verify
// against the SDK's signature with the signing key's public half.
function signV2(req) {
  const sdk = sdkFor(req);
  const params = { ...req.params };
  if (req.biz_content !== undefined && req.biz_content !== null) {
    params.biz_content = JSON.parse(req.biz_content);
  }
  if (req.need_encrypt) params.needEncrypt = true;
  const orderString = sdk.sdkExecute(req.method, params, { bizContentAutoSnakeCase: false });
  const signed = {};
  for (const part of orderString.split('&')) {
    const eq = part.indexOf('=');
    signed[decodeURIComponent(part.slice(0, eq))] = decodeURIComponent(part.slice(eq + 1));
  }
  const sign = signed.sign;
  delete signed.sign;
  const keys = Object.keys(signed).sort();
  const pairs = keys.map(k => [k, signed[k]]);
  const content = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  const algorithm = util.ALIPAY_ALGORITHM_MAPPING[sdk.config.signType];
  const proven = createVerify(algorithm)
    .update(content, 'utf8')
    .verify(createPublicKey(sdk.config.privateKey), sign, 'base64');
  if (!proven) throw new Error('the rebuilt string to sign does not match the SDK signature');
  return {
    content,
    sign,
    pairs,
    app_cert_sn: sdk.config.appCertSn ?? null,
    alipay_root_cert_sn: sdk.config.alipayRootCertSn ?? null,
  };
}

function verifierSdk(req) {
  return sdkFor({
    app_id: '2021000000000000',
    private_key: req.private_key ?? 'unused',
    sign_type: req.sign_type,
    alipay_public_key: req.public_key,
  });
}

// v2 response: the SDK's checkResponseSign (throws on failure) over the raw body.
function responseVerifyV2(req) {
  const sdk = verifierSdk(req);
  const responseKey = `${req.method.replaceAll('.', '_')}_response`;
  const sign = JSON.parse(req.body).sign;
  try {
    sdk.checkResponseSign(req.body, responseKey, sign, 'interop');
    return { verified: true, sign_str: sdk.getSignStr(req.body, responseKey) };
  } catch (err) {
    return { verified: false, error: String(err.message) };
  }
}

// v3: a real AlipaySdk#curl against the local endpoint, nonce and time pinned.
async function v3Request(req) {
  const extra = {};
  if (!req.app_cert) extra.alipayPublicKey = req.alipay_public_key;
  const sdk = sdkFor(req, extra);
  const options = {};
  if (req.query) {
    options.query = {};
    for (const [k, v] of req.query) options.query[k] = v;
  }
  if (req.body !== undefined && req.body !== null) options.body = JSON.parse(req.body);
  if (req.app_auth_token) options.appAuthToken = req.app_auth_token;
  if (req.need_encrypt) options.needEncrypt = true;
  nextResponse = req.response ?? null;
  lastRequest = null;
  let pending;
  pinClock(req.nonce, req.timestamp_ms);
  try {
    pending = sdk.curl(req.http_method, req.path, options);
  } finally {
    unpinClock();
  }
  let outcome;
  try {
    const r = await pending;
    outcome = { ok: true, status: r.responseHttpStatus, data: r.data };
  } catch (err) {
    outcome = { ok: false, code: err.code ?? null, message: String(err.message) };
  }
  nextResponse = null;
  if (!lastRequest) throw new Error(`the SDK sent no request: ${JSON.stringify(outcome)}`);
  return {
    authorization: lastRequest.headers.authorization ?? null,
    method: lastRequest.method,
    target: lastRequest.target,
    body: lastRequest.body,
    content_type: lastRequest.headers['content-type'] ?? null,
    app_auth_token_header: lastRequest.headers['alipay-app-auth-token'] ?? null,
    root_cert_sn_header: lastRequest.headers['alipay-root-cert-sn'] ?? null,
    encrypt_type_header: lastRequest.headers['alipay-encrypt-type'] ?? null,
    outcome,
  };
}

const ops = {
  hello: () => ({ sdk_version: sdkVersion, node_version: process.versions.node }),
  sign_v2: signV2,
  verify: req => ({ verified: verifierSdk(req).rsaCheck(req.content, req.sign, req.sign_type) }),
  notify_verify: req => ({ verified: verifierSdk(req).checkNotifySignV2(req.post_data) }),
  response_verify_v2: responseVerifyV2,
  aes_encrypt: req => ({ ciphertext: util.aesEncryptText(req.plaintext, req.key) }),
  aes_decrypt: req => ({ plaintext: util.aesDecryptText(req.ciphertext, req.key) }),
  v3_request: v3Request,
  v3_sign: req => ({ sign: util.signatureV3(req.content, sdkFor(req).config.privateKey) }),
  v3_verify: req => ({
    verified: util.verifySignatureV3(req.content, req.sign, verifierSdk(req).config.alipayPublicKey),
  }),
  cert_sn: req => ({ sn: certutil.getSN(req.pem, false), public_key: certutil.loadPublicKey(req.pem) }),
  root_sn: req => ({ sn: certutil.getSN(req.pem, true) }),
};

function send(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
let chain = Promise.resolve();
rl.on('line', line => {
  chain = chain.then(async () => {
    let id = null;
    try {
      const req = JSON.parse(line);
      id = req.id ?? null;
      const op = ops[req.op];
      if (!op) throw new Error(`unknown op ${JSON.stringify(req.op)}`);
      send({ id, ok: true, result: await op(req) });
    } catch (err) {
      send({ id, ok: false, error: String(err && err.stack ? err.stack : err) });
    }
  });
});
// End of input: answer what is pending, then exit (the local endpoint may still hold
// keep-alive connections of the SDK's HTTP client).
rl.on('close', () => {
  chain.then(() => process.exit(0));
});
