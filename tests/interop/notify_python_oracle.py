"""Notification interop oracle: signs notifications with the official Alipay Python SDK.

tests/it/notify.rs (`notify::interop_python_sdk`) sends one JSON object per line on stdin and
reads one per line on stdout:

  -> {"fields": [[k, v], ...], "charset": "utf-8" | "GBK" | "GB18030", "rule": "v1" | "v2",
      "sign_type": "RSA2" | "RSA", "private_key_file": "<PKCS#1 PEM>"}
  <- {"ok": true, "content": "<string the SDK signed>", "sign": "<base64>",
      "body_b64": "<the form body, base64>"}     or   {"ok": false, "error": "..."}

The string to sign comes from the SDK's `get_sign_content` over the fields (plus `charset` and
`sign_type`), leaving out `sign` and, for rule V1, `sign_type`, as Alipay does for notifications;
the signature from the SDK's `sign_with_rsa2` / `sign_with_rsa` in the notification's charset. The
body is form-encoded in that charset by Python's `urllib.parse.urlencode` (what a Python sender
would use: `quote_plus`, which keeps `~` and encodes `*`, unlike Java's `URLEncoder`).

A first request {"version": true} answers {"ok": true, "version": "<alipay-sdk-python version>"}.
"""

import base64
import importlib.metadata
import json
import sys
import urllib.parse

from alipay.aop.api.util.SignatureUtils import get_sign_content, sign_with_rsa, sign_with_rsa2


def answer(req):
    if req.get("version"):
        return {"ok": True, "version": importlib.metadata.version("alipay-sdk-python")}
    charset = req["charset"]
    params = [(k, v) for k, v in req["fields"]]
    params.append(("charset", charset))
    params.append(("sign_type", req["sign_type"]))
    signed = {
        k: v
        for k, v in params
        if k != "sign" and v != "" and (req["rule"] == "v2" or k != "sign_type")
    }
    content = get_sign_content(signed)
    with open(req["private_key_file"], encoding="ascii") as f:
        private_key = f.read()
    sign_fn = sign_with_rsa2 if req["sign_type"] == "RSA2" else sign_with_rsa
    sign = sign_fn(private_key, content, charset)
    body = urllib.parse.urlencode(params + [("sign", sign)], encoding=charset)
    return {
        "ok": True,
        "content": content,
        "sign": sign,
        "body_b64": base64.b64encode(body.encode("ascii")).decode("ascii"),
    }


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            out = answer(json.loads(line))
        except Exception as e:  # report, keep serving
            out = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
