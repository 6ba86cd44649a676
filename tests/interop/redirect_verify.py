"""Redirect interop, Python side: the official Alipay Python SDK (PyPI `alipay-sdk-python`,
installed by python_setup.sh) verifies the page-pay forms, GET URLs and app-pay order strings that
alipay-rs produced. Driven by tests/it/redirect_interop.rs.

Usage: <venv>/bin/python redirect_verify.py <cases.json>

<cases.json> is the array described in redirect_verify.mjs (this side uses `public_key_file`
only: the SDK has no certificate support, so certificate-mode cases are checked with the app's
public key). One JSON object goes to stdout:

  {"sdk": "alipay-sdk-python 3.7.1411", "cases": N, "results": [
    {"id", "params": [[k, v], ...] (as parsed, `sign` included, in document order),
     "sign_content": "<the SDK's string to sign>", "verified": bool, "hash": "SHA-256" | null,
     "tampered_verified": bool | null, "error": str | null}, ...]}

Verification uses the SDK's own functions: `SignatureUtils.get_sign_content` over every parameter
but `sign` (sorted, raw `k=v` joined with `&`: the request rule), then
`SignatureUtils.verify_with_rsa(public_key, content_bytes, sign)`, which is true or raises. `hash`
is the digest `rsa.verify` (the SDK's RSA dependency) found in the signature.

Parsing uses the standard library only: forms with `html.parser` (attribute values unescaped),
queries with `urllib.parse.parse_qsl(strict_parsing=True, errors="strict")`. A parameter seen
twice is an error.
"""

import base64
import binascii
import html.parser
import importlib.metadata
import json
import sys
import urllib.parse

import rsa

from alipay.aop.api.util.SignatureUtils import get_sign_content, verify_with_rsa


class FormParser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.inputs = []

    def handle_starttag(self, tag, attrs):
        names = [k for k, _ in attrs]
        if len(names) != len(set(names)):
            raise ValueError(f"an attribute repeats in <{tag}>")
        if tag == "form":
            self.forms.append(dict(attrs))
        elif tag == "input":
            self.inputs.append(dict(attrs))


def add_param(params, k, v):
    if any(k == name for name, _ in params):
        raise ValueError(f"parameter {k!r} appears twice")
    params.append([k, v])


def query_params(query, params):
    for k, v in urllib.parse.parse_qsl(
        query, keep_blank_values=True, strict_parsing=True, encoding="utf-8", errors="strict"
    ):
        add_param(params, k, v)


def split_url(url, gateway):
    base, sep, query = url.partition("?")
    if not sep:
        raise ValueError(f"no query in {url[:80]!r}")
    if base != gateway:
        raise ValueError(f"the URL goes to {base!r}, not {gateway}")
    return query


def parse_form(text, gateway):
    parser = FormParser()
    parser.feed(text)
    parser.close()
    if len(parser.forms) != 1:
        raise ValueError(f"{len(parser.forms)} <form> tags")
    form = parser.forms[0]
    if (form.get("method") or "").lower() != "post":
        raise ValueError(f"form method {form.get('method')!r}")
    if form.get("action") is None:
        raise ValueError("the form has no action")
    params = []
    query_params(split_url(form["action"], gateway), params)
    for attrs in parser.inputs:
        if attrs.get("type") == "submit":
            continue
        if attrs.get("type") != "hidden":
            raise ValueError(f"input of type {attrs.get('type')!r}")
        if attrs.get("name") is None or attrs.get("value") is None:
            raise ValueError("hidden input without name or value")
        add_param(params, attrs["name"], attrs["value"])
    return params


def parse(case):
    kind = case["kind"]
    if kind == "form":
        return parse_form(case["output"], case["gateway"])
    params = []
    if kind == "url":
        query_params(split_url(case["output"], case["gateway"]), params)
    elif kind == "order_string":
        query_params(case["output"], params)
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return params


def sdk_verify(public_key, mapping):
    """The SDK's check of the request rule; a raised verification error is a rejection."""
    content = get_sign_content({k: v for k, v in mapping.items() if k != "sign"})
    try:
        ok = verify_with_rsa(public_key, content.encode("utf-8"), mapping.get("sign", ""))
    except (rsa.VerificationError, ValueError, TypeError, binascii.Error):
        ok = False
    return content, ok is True


def run(case):
    out = {
        "id": case["id"],
        "params": None,
        "sign_content": None,
        "verified": False,
        "hash": None,
        "tampered_verified": None,
        "error": None,
    }
    try:
        params = parse(case)
        out["params"] = params
        mapping = dict(params)
        with open(case["public_key_file"], encoding="ascii") as f:
            public_key = f.read().strip()
        content, ok = sdk_verify(public_key, mapping)
        out["sign_content"] = content
        out["verified"] = ok
        if ok:
            key = rsa.PublicKey.load_pkcs1_openssl_pem(public_key.encode("ascii"))
            out["hash"] = rsa.verify(
                content.encode("utf-8"), base64.b64decode(mapping["sign"]), key
            )
        tamper = case.get("tamper")
        if tamper:
            if tamper["key"] not in mapping:
                raise ValueError(f"no {tamper['key']} to tamper with")
            if mapping[tamper["key"]] == tamper["value"]:
                raise ValueError("the tampered value is unchanged")
            _, out["tampered_verified"] = sdk_verify(
                public_key, {**mapping, tamper["key"]: tamper["value"]}
            )
    except Exception as e:  # reported per case; the Rust side fails on it
        out["error"] = f"{type(e).__name__}: {e}"
    return out


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: redirect_verify.py <cases.json>\n")
        sys.exit(2)
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    if not isinstance(cases, list):
        raise SystemExit("the cases file is not a JSON array")
    results = [run(c) for c in cases]
    version = importlib.metadata.version("alipay-sdk-python")
    sys.stdout.write(
        json.dumps(
            {"sdk": f"alipay-sdk-python {version}", "cases": len(cases), "results": results},
            ensure_ascii=False,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
