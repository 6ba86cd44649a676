//! Hand-written additions to the `system` module: the OAuth token constructors.

use crate::generated::system::OauthTokenRequest;

impl OauthTokenRequest {
    /// Exchanges an authorisation code for a token (`grant_type` `authorization_code`).
    #[must_use]
    pub fn authorization_code(code: impl Into<String>) -> Self {
        Self::default().grant_type("authorization_code").code(code)
    }

    /// Refreshes a token (`grant_type` `refresh_token`).
    #[must_use]
    pub fn refresh(refresh_token: impl Into<String>) -> Self {
        Self::default()
            .grant_type("refresh_token")
            .refresh_token(refresh_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AlipayRequest;

    #[test]
    fn grant_types() {
        assert_eq!(
            OauthTokenRequest::authorization_code("c1")
                .biz_content()
                .unwrap(),
            r#"{"code":"c1","grant_type":"authorization_code"}"#
        );
        assert_eq!(
            OauthTokenRequest::refresh("r1").biz_content().unwrap(),
            r#"{"grant_type":"refresh_token","refresh_token":"r1"}"#
        );
    }
}
