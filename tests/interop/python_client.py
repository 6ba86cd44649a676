#!/usr/bin/env python3
"""Interop: the official Alipay Python SDK (PyPI `alipay-sdk-python`, pinned in
python_requirements.txt, installed by python_setup.sh) as a client of alipay-emulator.

Usage: <venv>/bin/python python_client.py <config.json>
  config.json: {"gateway", "control", "app_id", "app_private_key" (path),
                "alipay_public_key" (path), "app_public_key" (path), "out_trade_no"}

`DefaultAlipayClient.execute` with response verification on (`skip_sign` False, the default:
the SDK extracts the signed node and checks it with the Alipay public key before returning it):

  precreate -> pay (the buyer, through the emulator's control API) -> query -> refund (partial,
  then the same out_request_no again: idempotent) -> close (refused for the paid trade, with a
  signed error; accepted for a second, unpaid trade) -> query of the closed trade.

And a negative check: a client configured with the wrong Alipay public key must refuse the
emulator's answer ("response sign verify failed"), so the positive checks mean something.

Two things about the SDK, both outside signing and verification:
  * Its HTTP helper (`WebUtils.get_http_connection`) always connects to port 80 (443 for https)
    and cannot build the URL of a gateway with a port (`str + int`). The emulator listens on a
    free port, so this script replaces that one function with the same logic keeping the port.
    Nothing else of the SDK is touched.
  * Its AES is broken on Python 3 (it passes `str` to pycryptodome): AES is not used here.

Prints one JSON line {"ok": true, "checks": [...]} and exits 0, or {"ok": false, ...} and 1.
"""

import http.client
import importlib.metadata
import json
import sys
import traceback
import urllib.parse
import urllib.request

WANT_VERSION = "3.7.1411"


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: python_client.py <config.json>\n")
        return 2
    version = importlib.metadata.version("alipay-sdk-python")
    if version != WANT_VERSION:
        sys.stderr.write(f"alipay-sdk-python {version} found, {WANT_VERSION} expected\n")
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        config = json.load(f)

    from alipay.aop.api.util import WebUtils

    def connection_keeping_the_port(url, query_string, timeout):
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme != "http" or parsed.hostname not in ("127.0.0.1", "localhost"):
            raise ValueError(f"this interop check only talks to a local emulator, not {url}")
        connection = http.client.HTTPConnection(
            host=parsed.hostname, port=parsed.port or 80, timeout=timeout
        )
        return f"{parsed.scheme}://{parsed.netloc}{parsed.path}?{query_string}", connection

    WebUtils.get_http_connection = connection_keeping_the_port

    checks = []
    try:
        run(config, checks)
    except Exception as e:  # noqa: BLE001 - every failure becomes the JSON report
        print(
            json.dumps(
                {"ok": False, "error": f"{e}", "trace": traceback.format_exc(), "checks": checks},
                ensure_ascii=False,
            )
        )
        return 1
    print(json.dumps({"ok": True, "sdk": f"alipay-sdk-python {version}", "checks": checks},
                     ensure_ascii=False))
    return 0


def check(checks, name, condition, detail):
    checks.append({"name": name, "ok": bool(condition), "detail": detail})
    if not condition:
        raise AssertionError(f"{name} failed: {json.dumps(detail, ensure_ascii=False)}")


def control(config, method, route, body=None):
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(f"{config['control']}/{route}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    # A local emulator only: never through a proxy.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=30) as res:
        return json.loads(res.read().decode("utf-8"))


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def client_for(config, alipay_public_key):
    from alipay.aop.api.AlipayClientConfig import AlipayClientConfig
    from alipay.aop.api.DefaultAlipayClient import DefaultAlipayClient

    c = AlipayClientConfig()
    c.server_url = config["gateway"]
    c.app_id = config["app_id"]
    c.app_private_key = read(config["app_private_key"])
    c.alipay_public_key = alipay_public_key
    c.sign_type = "RSA2"
    c.charset = "utf-8"
    c.timeout = 30
    assert c.skip_sign is False, "response verification must stay on"
    return DefaultAlipayClient(alipay_client_config=c)


def run(config, checks):
    from alipay.aop.api.domain.AlipayTradeCloseModel import AlipayTradeCloseModel
    from alipay.aop.api.domain.AlipayTradePrecreateModel import AlipayTradePrecreateModel
    from alipay.aop.api.domain.AlipayTradeQueryModel import AlipayTradeQueryModel
    from alipay.aop.api.domain.AlipayTradeRefundModel import AlipayTradeRefundModel
    from alipay.aop.api.exception.Exception import ResponseException
    from alipay.aop.api.request.AlipayTradeCloseRequest import AlipayTradeCloseRequest
    from alipay.aop.api.request.AlipayTradePrecreateRequest import AlipayTradePrecreateRequest
    from alipay.aop.api.request.AlipayTradeQueryRequest import AlipayTradeQueryRequest
    from alipay.aop.api.request.AlipayTradeRefundRequest import AlipayTradeRefundRequest
    from alipay.aop.api.response.AlipayTradeCloseResponse import AlipayTradeCloseResponse
    from alipay.aop.api.response.AlipayTradePrecreateResponse import (
        AlipayTradePrecreateResponse,
    )
    from alipay.aop.api.response.AlipayTradeQueryResponse import AlipayTradeQueryResponse
    from alipay.aop.api.response.AlipayTradeRefundResponse import AlipayTradeRefundResponse

    client = client_for(config, read(config["alipay_public_key"]))
    no = config["out_trade_no"]
    second = f"{no}C"

    def precreate(out_trade_no, amount, subject):
        m = AlipayTradePrecreateModel()
        m.out_trade_no = out_trade_no
        m.total_amount = amount
        m.subject = subject
        content = client.execute(AlipayTradePrecreateRequest(biz_model=m))
        r = AlipayTradePrecreateResponse()
        r.parse_response_content(content)
        return r

    def query(out_trade_no):
        m = AlipayTradeQueryModel()
        m.out_trade_no = out_trade_no
        r = AlipayTradeQueryResponse()
        r.parse_response_content(client.execute(AlipayTradeQueryRequest(biz_model=m)))
        return r

    def refund(out_trade_no, amount, out_request_no):
        m = AlipayTradeRefundModel()
        m.out_trade_no = out_trade_no
        m.refund_amount = amount
        m.out_request_no = out_request_no
        m.refund_reason = "退货 return"
        r = AlipayTradeRefundResponse()
        r.parse_response_content(client.execute(AlipayTradeRefundRequest(biz_model=m)))
        return r

    def close(out_trade_no):
        m = AlipayTradeCloseModel()
        m.out_trade_no = out_trade_no
        r = AlipayTradeCloseResponse()
        r.parse_response_content(client.execute(AlipayTradeCloseRequest(biz_model=m)))
        return r

    # precreate
    r = precreate(no, "88.88", "绿茶 Green tea")
    check(
        checks,
        "execute precreate (verified)",
        r.is_success() and r.code == "10000" and r.out_trade_no == no
        and (r.qr_code or "").startswith(config["gateway"].rsplit("/", 1)[0]),
        {"code": r.code, "out_trade_no": r.out_trade_no, "qr_code": r.qr_code},
    )

    # pay: the buyer, through the control API
    paid = control(config, "POST", f"trades/{no}/pay")
    check(
        checks,
        "control pay",
        paid["trade"]["trade_status"] == "TRADE_SUCCESS",
        {"trade_status": paid["trade"]["trade_status"]},
    )

    # query
    r = query(no)
    check(
        checks,
        "execute query (verified)",
        r.is_success() and r.trade_status == "TRADE_SUCCESS" and r.total_amount == "88.88"
        and r.out_trade_no == no,
        {"code": r.code, "trade_status": r.trade_status, "total_amount": r.total_amount},
    )

    # refund, then the same refund again (idempotent by out_request_no)
    r = refund(no, "8.88", "R1")
    check(
        checks,
        "execute refund (verified)",
        r.is_success() and r.fund_change == "Y" and r.refund_fee == "8.88",
        {"code": r.code, "fund_change": r.fund_change, "refund_fee": r.refund_fee},
    )
    r = refund(no, "8.88", "R1")
    check(
        checks,
        "execute refund again, same out_request_no (verified)",
        r.is_success() and r.fund_change == "N" and r.refund_fee == "8.88",
        {"code": r.code, "fund_change": r.fund_change, "refund_fee": r.refund_fee},
    )

    # close: refused for the paid trade (a signed business error), accepted for an unpaid one
    r = close(no)
    check(
        checks,
        "execute close of a paid trade: signed ACQ.TRADE_STATUS_ERROR (verified)",
        not r.is_success() and r.code == "40004" and r.sub_code == "ACQ.TRADE_STATUS_ERROR",
        {"code": r.code, "sub_code": r.sub_code, "sub_msg": r.sub_msg},
    )
    precreate(second, "1.00", "second")
    control(config, "POST", f"trades/{second}/scan")
    r = close(second)
    check(
        checks,
        "execute close (verified)",
        r.is_success() and r.code == "10000" and r.out_trade_no == second,
        {"code": r.code, "out_trade_no": r.out_trade_no},
    )
    r = query(second)
    check(
        checks,
        "execute query of the closed trade (verified)",
        r.is_success() and r.trade_status == "TRADE_CLOSED",
        {"code": r.code, "trade_status": r.trade_status},
    )

    # The same SDK with the wrong Alipay public key refuses the emulator's answer.
    wrong = client_for(config, read(config["app_public_key"]))
    m = AlipayTradeQueryModel()
    m.out_trade_no = no
    try:
        wrong.execute(AlipayTradeQueryRequest(biz_model=m))
        refused = None
    except ResponseException as e:
        refused = str(e)
    check(
        checks,
        "execute with the wrong Alipay public key is refused",
        refused is not None and "response sign verify failed" in refused,
        {"error": (refused or "")[:200]},
    )


if __name__ == "__main__":
    sys.exit(main())
