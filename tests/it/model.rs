//! `alipay-model` as the facade and the emulator use it: v2 `biz_content` and response nodes, v3
//! routes, error bodies, and the guarantee that nothing Alipay sends is lost.

use alipay_model::common::CommonErrorCode;
use alipay_model::trade::{
    PagePayRequest, QueryErrorCode, QueryRequest, QueryResponse, RefundRequest, RefundResponse,
};
use alipay_model::{
    AlipayRequest, Amount, ApiError, HttpMethod, RedirectRequest, TradeRef, TradeStatus,
    V2Response, V3ErrorBody, V3ErrorCode,
};
use serde_json::{Value, json};

/// The worked example of PROTOCOL §1.4: `biz_content={"out_trade_no":"T1"}` for `alipay.trade.query`.
#[test]
fn query_biz_content_matches_the_protocol_example() {
    let request = QueryRequest::new(TradeRef::out_trade_no("T1"));
    assert_eq!(
        <QueryRequest as AlipayRequest>::METHOD,
        "alipay.trade.query"
    );
    assert_eq!(request.biz_content().unwrap(), r#"{"out_trade_no":"T1"}"#);
}

/// PROTOCOL §7.1: trade paths are `POST /v3/alipay/trade/<op>`; the bill URL query is a GET.
#[test]
fn v3_routes_of_the_core_operations() {
    let route = QueryRequest::V3.unwrap();
    assert_eq!(
        (route.method, route.path),
        (HttpMethod::Post, "/v3/alipay/trade/query")
    );
    let route = RefundRequest::V3.unwrap();
    assert_eq!(
        (route.method, route.path),
        (HttpMethod::Post, "/v3/alipay/trade/refund")
    );
    let route = alipay_model::data::DataserviceBillDownloadurlQueryRequest::V3.unwrap();
    assert_eq!(route.method, HttpMethod::Get);
    assert_eq!(route.query_params, ["bill_type", "bill_date", "smid"]);
}

/// A v2 node: the gateway fields, typed business fields, and a field the spec does not know.
#[test]
fn v2_query_node_decodes_and_keeps_unknown_fields() {
    let node = json!({
        "code": "10000", "msg": "Success",
        "trade_no": "2013112011001004330000121536", "out_trade_no": "6823789339978248",
        "buyer_logon_id": "159****5620", "trade_status": "TRADE_SUCCESS",
        "total_amount": "88.88", "receipt_amount": "88.8",
        "fund_bill_list": [{"fund_channel": "ALIPAYACCOUNT", "amount": "88.88", "new_flag": true}],
        "a_field_added_next_year": {"nested": [1, 2]}
    });
    let response: V2Response<QueryResponse> = serde_json::from_value(node.clone()).unwrap();
    assert!(response.is_success());
    assert_eq!(response.trade_status, Some(TradeStatus::TradeSuccess));
    assert_eq!(response.total_amount, Some(Amount::from_fen(8888)));
    assert_eq!(response.receipt_amount.unwrap().to_string(), "88.80");
    let bill = &response.fund_bill_list.as_ref().unwrap()[0];
    assert_eq!(bill.fund_channel.as_deref(), Some("ALIPAYACCOUNT"));
    assert_eq!(bill.extra["new_flag"], json!(true));
    assert_eq!(
        response.extra["a_field_added_next_year"],
        json!({"nested": [1, 2]})
    );

    // Re-serialised, only the amount's canonical form differs ("88.8" -> "88.80").
    let mut expected = node;
    expected["receipt_amount"] = json!("88.80");
    assert_eq!(serde_json::to_value(&response).unwrap(), expected);
}

/// A business failure in a v2 node.
#[test]
fn v2_business_failure_is_an_api_error() {
    let node = r#"{"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}"#;
    let response: V2Response<QueryResponse> = serde_json::from_str(node).unwrap();
    let err: ApiError = response.into_result().unwrap_err();
    assert!(err.is_business_failure());
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        "40004 Business Failed: ACQ.TRADE_NOT_EXIST (交易不存在)"
    );
}

/// PROTOCOL §7.4: a v3 error body, with an operation code, a common code, and an unlisted one.
#[test]
fn v3_error_bodies() {
    let body = r#"{"code":"ACQ.SYSTEM_ERROR","message":"系统繁忙","links":[{"link":"https://open.alipay.com/api/errCheck?traceId=1","desc":"解决方案"}]}"#;
    let err: V3ErrorBody<QueryErrorCode> = serde_json::from_str(body).unwrap();
    assert_eq!(
        err.code,
        V3ErrorCode::Operation(QueryErrorCode::AcqSystemError)
    );
    assert!(err.is_retryable());
    assert_eq!(
        serde_json::to_value(&err).unwrap(),
        serde_json::from_str::<Value>(body).unwrap()
    );

    let err: V3ErrorBody<QueryErrorCode> =
        serde_json::from_str(r#"{"code":"app-openid-not-match","message":"m"}"#).unwrap();
    assert_eq!(
        err.code,
        V3ErrorCode::Operation(QueryErrorCode::Unknown("app-openid-not-match".into()))
    );
    let err: V3ErrorBody<QueryErrorCode> =
        serde_json::from_str(r#"{"code":"invalid-signature","message":"m"}"#).unwrap();
    assert_eq!(
        err.code,
        V3ErrorCode::Common(CommonErrorCode::InvalidSignature)
    );
    assert!(!err.is_retryable());
}

/// The refund response reports the cumulative refunded amount as an [`Amount`].
#[test]
fn refund_round_trip() {
    let request = RefundRequest::new(
        TradeRef::trade_no("2024"),
        Amount::parse_payment("0.5").unwrap(),
    )
    .out_request_no("R1");
    let v3 = request.v3_parts().unwrap();
    assert_eq!(v3.target(), "/v3/alipay/trade/refund");
    assert_eq!(
        v3.body.as_deref(),
        Some(r#"{"out_request_no":"R1","refund_amount":"0.50","trade_no":"2024"}"#)
    );
    let response: RefundResponse =
        serde_json::from_str(r#"{"fund_change":"Y","refund_fee":"1.50","trade_no":"2024"}"#)
            .unwrap();
    assert_eq!(response.refund_fee, Some(Amount::from_fen(150)));
}

/// The page payment form's `biz_content`, as the facade signs it.
#[test]
fn page_pay_biz_content() {
    let pay = PagePayRequest::new("T1", Amount::from_fen(100), "Book");
    assert_eq!(
        <PagePayRequest as RedirectRequest>::METHOD,
        "alipay.trade.page.pay"
    );
    assert_eq!(
        pay.biz_content().unwrap(),
        r#"{"out_trade_no":"T1","total_amount":"1.00","subject":"Book","product_code":"FAST_INSTANT_TRADE_PAY"}"#
    );
}
