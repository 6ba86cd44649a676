// Redirect interop, Node side: the official Node SDK (npm `alipay-sdk`, installed by setup.sh)
// verifies the page-pay forms, GET URLs and app-pay order strings that alipay-rs produced.
// Driven by tests/it/redirect_interop.rs.
//
// Usage: node redirect_verify.mjs <install dir> <cases.json>
//
// <cases.json> is an array of cases:
//   {"id": "...", "kind": "form" | "url" | "order_string", "output": "<what alipay-rs produced>",
//    "gateway": "https://…/gateway.do", "public_key_file": "<SPKI PEM>" | null,
//    "app_cert_file": "<PEM>" | null, "root_cert_file": "<PEM>" | null,
//    "tamper": {"key": "...", "value": "<the value with one byte flipped>"} | null}
// One JSON object goes to stdout:
//   {"sdk": "alipay-sdk 4.14.0", "node": "...", "cases": N, "results": [
//     {"id", "params": [[k, v], …] (as parsed, `sign` included, in document order),
//      "check_notify_sign_v2": bool, "request_rule": bool,
//      "tampered": {"check_notify_sign_v2": bool, "request_rule": bool} | null,
//      "sdk_app_cert_sn": str | null, "sdk_root_cert_sn": str | null, "error": str | null}, …]}
//
// Verification uses the SDK's own code only:
//   * `AlipaySdk#checkNotifySignV2(params)`: its public params-map verifier (every parameter but
//     `sign`, sorted, raw `k=v` joined with `&`; it tries with `sign_type` and then without);
//   * `AlipaySdk#notifyRSACheck(params without sign, sign, sign_type, true)`: the same string
//     builder, called once with `sign_type` kept, which is exactly the request rule.
// The SDK is configured with the app's public key as `alipayPublicKey`: read from the PEM file, or
// in certificate mode extracted from the app certificate by the SDK's `loadPublicKey`, whose SNs
// (`getSN`) are reported for comparison with the `app_cert_sn` / `alipay_root_cert_sn` sent.
//
// Parsing, kept independent of alipay-rs: forms by a small tokenizer (the `action` attribute and
// hidden inputs, attribute values HTML-unescaped; an unknown entity is an error), queries by
// WHATWG `URLSearchParams` (percent-decoding, `+` as space). A parameter seen twice is an error.

import fs from 'node:fs';
import { openSdk } from './sdk.mjs';

const [installDir, casesFile] = process.argv.slice(2);
if (!installDir || !casesFile) {
  process.stderr.write('usage: node redirect_verify.mjs <install dir> <cases.json>\n');
  process.exit(2);
}
const { version: sdkVersion, load } = openSdk(installDir);
const { AlipaySdk } = await load('alipay.js');
const certutil = await load('antcertutil.js');

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function htmlUnescape(text) {
  return text.replace(/&([^;&\s]*);?/g, (whole, body) => {
    if (!whole.endsWith(';')) throw new Error(`unterminated character reference ${JSON.stringify(whole)}`);
    let m;
    if ((m = /^#x([0-9a-fA-F]+)$/.exec(body))) return String.fromCodePoint(parseInt(m[1], 16));
    if ((m = /^#([0-9]+)$/.exec(body))) return String.fromCodePoint(parseInt(m[1], 10));
    if (Object.hasOwn(ENTITIES, body)) return ENTITIES[body];
    throw new Error(`unknown character reference ${JSON.stringify(whole)}`);
  });
}

// The attributes of one start tag (its text between the name and `>`). Values are double- or
// single-quoted; what the renderer escaped cannot end a quoted value early.
function attributes(text) {
  const attrs = {};
  const re = /\s*([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/gy;
  let end = 0; // a failed sticky match resets lastIndex, so the end of the last match is kept here
  let m;
  while ((m = re.exec(text)) !== null) {
    end = re.lastIndex;
    const name = m[1].toLowerCase();
    if (Object.hasOwn(attrs, name)) throw new Error(`attribute ${name} twice in <${text}>`);
    attrs[name] = htmlUnescape(m[2] ?? m[3] ?? m[4] ?? '');
  }
  const rest = text.slice(end).trim();
  if (rest !== '' && rest !== '/') throw new Error(`unparsed attribute text ${JSON.stringify(rest)}`);
  return attrs;
}

function addParam(params, seen, k, v) {
  if (seen.has(k)) throw new Error(`parameter ${JSON.stringify(k)} appears twice`);
  seen.add(k);
  params.push([k, v]);
}

function queryParams(query, params, seen) {
  for (const [k, v] of new URLSearchParams(query)) addParam(params, seen, k, v);
}

function splitUrl(url, gateway) {
  const q = url.indexOf('?');
  if (q < 0) throw new Error(`no query in ${JSON.stringify(url.slice(0, 80))}`);
  if (url.slice(0, q) !== gateway) {
    throw new Error(`the URL goes to ${JSON.stringify(url.slice(0, q))}, not ${gateway}`);
  }
  return url.slice(q + 1);
}

function parseForm(html, gateway) {
  const forms = [...html.matchAll(/<form\b([^>]*)>/gi)];
  if (forms.length !== 1) throw new Error(`${forms.length} <form> tags`);
  const form = attributes(forms[0][1]);
  if ((form.method ?? '').toLowerCase() !== 'post') throw new Error(`form method ${form.method}`);
  if (form.action === undefined) throw new Error('the form has no action');
  const params = [];
  const seen = new Set();
  queryParams(splitUrl(form.action, gateway), params, seen);
  for (const m of html.matchAll(/<input\b([^>]*)>/gi)) {
    const input = attributes(m[1]);
    if (input.type === 'submit') continue;
    if (input.type !== 'hidden') throw new Error(`input of type ${input.type}`);
    if (input.name === undefined || input.value === undefined) throw new Error('hidden input without name or value');
    addParam(params, seen, input.name, input.value);
  }
  return params;
}

function parse(c) {
  const params = [];
  const seen = new Set();
  switch (c.kind) {
    case 'form':
      return parseForm(c.output, c.gateway);
    case 'url':
      queryParams(splitUrl(c.output, c.gateway), params, seen);
      return params;
    case 'order_string':
      queryParams(c.output, params, seen);
      return params;
    default:
      throw new Error(`unknown kind ${JSON.stringify(c.kind)}`);
  }
}

function verifier(c) {
  let alipayPublicKey;
  if (c.app_cert_file) {
    alipayPublicKey = certutil.loadPublicKey(fs.readFileSync(c.app_cert_file, 'utf8'));
  } else {
    alipayPublicKey = fs.readFileSync(c.public_key_file, 'utf8').trim();
  }
  // The private key is required by the constructor and never used here.
  return new AlipaySdk({ appId: 'interop-verifier', privateKey: 'unused', alipayPublicKey });
}

// Both SDK checks over one parameter map; an exception (e.g. an unknown sign_type) is a rejection.
function checks(sdk, map) {
  const safe = f => {
    try {
      return f() === true;
    } catch {
      return false;
    }
  };
  const withoutSign = { ...map };
  delete withoutSign.sign;
  return {
    check_notify_sign_v2: safe(() => sdk.checkNotifySignV2({ ...map })),
    request_rule: safe(() => sdk.notifyRSACheck(withoutSign, map.sign, map.sign_type, true)),
  };
}

function run(c) {
  const out = {
    id: c.id,
    params: null,
    check_notify_sign_v2: false,
    request_rule: false,
    tampered: null,
    sdk_app_cert_sn: null,
    sdk_root_cert_sn: null,
    error: null,
  };
  try {
    const params = parse(c);
    out.params = params;
    const map = Object.fromEntries(params);
    const sdk = verifier(c);
    Object.assign(out, checks(sdk, map));
    if (c.tamper) {
      if (!Object.hasOwn(map, c.tamper.key)) throw new Error(`no ${c.tamper.key} to tamper with`);
      if (map[c.tamper.key] === c.tamper.value) throw new Error('the tampered value is unchanged');
      out.tampered = checks(sdk, { ...map, [c.tamper.key]: c.tamper.value });
    }
    if (c.app_cert_file) {
      out.sdk_app_cert_sn = certutil.getSN(fs.readFileSync(c.app_cert_file), false);
      out.sdk_root_cert_sn = certutil.getSN(fs.readFileSync(c.root_cert_file), true);
    }
  } catch (err) {
    out.error = String(err && err.message ? err.message : err);
  }
  return out;
}

const cases = JSON.parse(fs.readFileSync(casesFile, 'utf8'));
if (!Array.isArray(cases)) throw new Error('the cases file is not a JSON array');
const results = cases.map(run);
process.stdout.write(`${JSON.stringify({
  sdk: `alipay-sdk ${sdkVersion}`,
  node: process.versions.node,
  cases: cases.length,
  results,
})}\n`);
