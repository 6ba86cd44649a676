//! Hand-written additions to the `data` module: the bill download constructor.

use crate::generated::data::DataserviceBillDownloadurlQueryRequest;

impl DataserviceBillDownloadurlQueryRequest {
    /// The download URL of a bill: `bill_type` is `trade` (trades) or `signcustomer` (account
    /// flows); `bill_date` is a day (`yyyy-MM-dd`) or a month (`yyyy-MM`).
    #[must_use]
    pub fn new(bill_type: impl Into<String>, bill_date: impl Into<String>) -> Self {
        Self::default().bill_type(bill_type).bill_date(bill_date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AlipayRequest;

    #[test]
    fn bill_url_query_is_a_get_with_query_parameters() {
        let request = DataserviceBillDownloadurlQueryRequest::new("trade", "2016-04-05");
        assert_eq!(
            request.biz_content().unwrap(),
            r#"{"bill_type":"trade","bill_date":"2016-04-05"}"#
        );
        let parts = request.v3_parts().unwrap();
        assert_eq!(parts.method.as_str(), "GET");
        assert_eq!(
            parts.target(),
            "/v3/alipay/data/dataservice/bill/downloadurl/query?bill_type=trade&bill_date=2016-04-05"
        );
        assert_eq!(parts.body, None);
    }
}
