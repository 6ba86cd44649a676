//! Known-answer tests with our own keys (`tests/data`). Every expected value here was produced
//! outside this crate, with OpenSSL 3.0 and Python, e.g.
//!
//! ```text
//! printf '%s' "$CANONICAL" | openssl dgst -sha256 -sign tests/data/app_private_pkcs8.pem | base64 -w0
//! printf '%s' "$CANONICAL" | iconv -f UTF-8 -t GBK | openssl dgst -sha256 -sign … | base64 -w0
//! openssl enc -aes-128-cbc -K 000102…0f -iv 00000000000000000000000000000000 | base64 -w0
//! python3: hashlib.md5((openssl x509 -issuer -nameopt RFC2253) + str(int(serial, 16))).hexdigest()
//! ```

// Test-only code: clippy's allow-*-in-tests settings apply to the helpers too.
#![cfg(test)]

use alipay_sign::{
    AesKey, AuthString, Certificate, Charset, PrivateKey, PublicKey, RsaSigner, RsaVerifier, Rule,
    SignType, Signer, Verifier, canonical_string, cert_sn, root_cert_sn, sign_params,
    v3_sign_request, verify_params,
};

const APP_PKCS8: &[u8] = include_bytes!("data/app_private_pkcs8.pem");
const APP_PKCS1: &[u8] = include_bytes!("data/app_private_pkcs1.pem");
const APP_PUBLIC: &[u8] = include_bytes!("data/app_public.pem");
const LEGACY_1024: &[u8] = include_bytes!("data/legacy1024_private_pkcs8.pem");

/// A 12-parameter `alipay.trade.create` request with Chinese text and `&`, `=`, `%`, `+`,
/// spaces inside values (deliberately not in key order).
fn request_params(charset: &str) -> Vec<(&'static str, String)> {
    vec![
        ("method", "alipay.trade.create".to_owned()),
        ("app_id", "2021000000000001".to_owned()),
        ("format", "JSON".to_owned()),
        ("charset", charset.to_owned()),
        ("sign_type", "RSA2".to_owned()),
        ("timestamp", "2024-05-13 17:49:20".to_owned()),
        ("version", "1.0".to_owned()),
        ("notify_url", "https://example.com/notify?a=1&b=2".to_owned()),
        ("return_url", "https://example.com/return".to_owned()),
        (
            "app_auth_token",
            "201509BBeff9351ad1874306903e96b91d248A36".to_owned(),
        ),
        (
            "biz_content",
            r#"{"out_trade_no":"T20240513001","total_amount":"88.88","subject":"测试商品 中文 & = % +","body":"支付宝 当面付","buyer_id":"2088102146225135"}"#
                .to_owned(),
        ),
        ("goods_type", "1".to_owned()),
    ]
}

fn canonical_for(charset: &str) -> String {
    format!(
        "app_auth_token=201509BBeff9351ad1874306903e96b91d248A36&app_id=2021000000000001&biz_content={{\"out_trade_no\":\"T20240513001\",\"total_amount\":\"88.88\",\"subject\":\"测试商品 中文 & = % +\",\"body\":\"支付宝 当面付\",\"buyer_id\":\"2088102146225135\"}}&charset={charset}&format=JSON&goods_type=1&method=alipay.trade.create&notify_url=https://example.com/notify?a=1&b=2&return_url=https://example.com/return&sign_type=RSA2&timestamp=2024-05-13 17:49:20&version=1.0"
    )
}

/// openssl dgst -sha256 over the UTF-8 canonical string.
const RSA2_UTF8: &str = "MYGxoEXcbhz2tLqfOLLGrX4ktrMzh7C3Saq+IHVrD6VBwcuozN7icj/EAIHeUwTtJLVdjwjFxvi4sKYtDHbwWsQ563AfVkfdO6mqlqgVyx/ZaJ9hzfmvh78UHRiB0Kq4wvOKb86gysOGP3rNTp1JJ9gRmnIrogaVUa1nCXUmP0z6dfQUZRJ/rX87gu97+wlkiTj+hf7z0zVau9WM/FvPFa3mMoKnt80VaA/tVZCoEIafwTk6iu3oMiq8nBDrv7lWqPE4n96qv+2Wdd+GfwUh3tDp3e9B7qj/Adk2J8nM6DPZ3Qv2jVvqWp3Ex1OAu3l3vYk2x8vwKvgbzonidkUnDw==";
/// openssl dgst -sha256 over the GBK bytes (iconv -t GBK) of the charset=GBK canonical string.
const RSA2_GBK: &str = "e+WgZ6nKeKL3fhOqroatWtCeBgXlM/Ny6aX6ORqEiinpocloXzQh6OWKvCMTjLhJ5YljYklHoACnqz8KBLOVYRV8SV1RsrBFENKRB4TXmn0cbW/djWjdsq61QxWDEYG9P8rgogFKwGJYDUFNrIOajuJKTNcDGdqSkgxuZsKUE4ckfBTIlXYF92Rgib0jybi2p7EocZ9wFREV9ZIHdRi1NUaRaYmLt0KaNUFWYmWqPQXIlmURsPM/6g0oNy0o3Jt9LGVoQTaINYy+iuKwZpJIhhQQiB4lkH1E3lV7YN0VanCau65Vg0D3cj8xQevQGXbortRk5L7eLYeL5wb6PqZtAg==";
/// openssl dgst -sha1 over the UTF-8 canonical string (legacy sign_type=RSA).
const RSA_SHA1_UTF8: &str = "UEPhzrbleHNl/iouTPhE3GeBeNzRnDUsiduWDJPlwvHXvfeIvs8rqVpyZdB6SxkXSIPK6ei+ebSZwml0AOqTjKRTSdTZGqnXDqei4lAxhfKrhjbyKEiBMMT8icVBQDgr5YNU5jeovpr8dI0q8obBebgv9OiAhf1fXOp7wLCoJnfAla+XKGQrK/7q2L0gyjDFgJpnT9HDzyapVGS/5MjGA0IUCxgCUfiw4SaKNF0K5OZD07aQBaC2h3+R+wfAinU2NDBN6GqRkHwbwPLBauF86s5cZnKhimPfoe+fbFzABhSrlk5mlLzPTN7jPgvA+Jv5Uy2/4gc6z0du4zGmt47LLw==";
/// openssl dgst -sha1 over the GBK bytes.
const RSA_SHA1_GBK: &str = "lQi6qIt4pWBdqcqS+/ACESyzXZnna+TDa39tR6BZoMtphbk/8iKYjQKa0ZKXZsZdOCfEmVSXHba9sRNLKNo37dW9xOIum+W2Ic24GFUuRgrGthg7eaz5k8xF1suze81yr6zQ9aTOItQv7A+or6mfBJKfNHeUynrs6VZTpctXG2SuUfVJo6J/LX7b9nYZ21uXEECih8UA1R3R1gSC24Tb1+ldZ8A1WjtuB4zmMQxf2J9QTvBR2Y7qDyNH8H1xT5d7K5wzZ7qKzMsKV0Y/Rq8cmpeesjrM4zcVhYtY01wnplhz9rtSKIOj8Qf1Zz6ZvuQlblkpGOvqcn+03T2ugRddkg==";
/// The 1024-bit legacy key over the UTF-8 canonical string, SHA-256 and SHA-1.
const LEGACY_RSA2_UTF8: &str = "vSOZkd+qitZ7FICuewcmQb5AqYvyclYqj27EFBw034xtyu6o3iJOfzaY6M6h3TgvOoH/pEpizBXjm3qedKZK3RcZChSwthXDlV4Cdut8ZCRANPhfuEj/RWjXatOkGSG4SC+cmltOciBMxHwpEuZdrEFhISrh1CrP8yaBmhFd8z4=";
const LEGACY_SHA1_UTF8: &str = "Wzd9J6WAIg8Aq0t3H5zMFMhvN6F6uJYWpYbnxdzg6YZ1byib1RjRcVrEfx+rHVWzHz3iO25h8rpLfp+jpuXyLabQVEswlwIQNYKpNMmRC13viZEtdYskdqo8zcIAgamZIK/YJMVDCJYaDE3aVrFUfCHh89OalPBLC+HDiPWBnSE=";

fn app_key() -> PrivateKey {
    PrivateKey::from_pem_or_der(APP_PKCS8).unwrap()
}

#[cfg(all(feature = "aws-lc-rs", not(feature = "rust-crypto")))]
fn assert_unsupported_names_rust_crypto(err: &alipay_sign::Error) {
    assert!(err.is_unsupported(), "{err:?}");
    assert!(err.to_string().contains("`rust-crypto`"), "{err}");
}

#[test]
fn canonical_string_of_a_12_parameter_request() {
    let params = request_params("utf-8");
    assert_eq!(params.len(), 12);
    let expected = canonical_for("utf-8");
    assert_eq!(canonical_string(params.clone(), Rule::Request), expected);
    // `sign` and empty values never reach the string.
    let mut with_extras = params.clone();
    with_extras.push(("sign", "ignored".to_owned()));
    with_extras.push(("alipay_root_cert_sn", String::new()));
    assert_eq!(canonical_string(with_extras, Rule::Request), expected);
    // Same UTF-8 length openssl signed.
    assert_eq!(expected.len(), 452);
}

#[cfg(any(feature = "aws-lc-rs", feature = "rust-crypto"))]
#[test]
fn rsa2_signature_of_the_request_matches_openssl() {
    let params = request_params("utf-8");
    for pem in [APP_PKCS8, APP_PKCS1] {
        let key = PrivateKey::from_pem_or_der(pem).unwrap();
        let signer = RsaSigner::new(&key).unwrap();
        let signed = sign_params(&signer, params.clone(), SignType::Rsa2, Charset::Utf8).unwrap();
        assert_eq!(signed.content, canonical_for("utf-8"));
        assert_eq!(signed.sign, RSA2_UTF8);
    }
    // The published public key verifies it, as a form with `sign` added.
    let public = PublicKey::from_pem_or_der(APP_PUBLIC).unwrap();
    let verifier = RsaVerifier::new(&public).unwrap();
    let mut form = params.clone();
    form.push(("sign", RSA2_UTF8.to_owned()));
    let content = verify_params(
        &verifier,
        form.clone(),
        Rule::Request,
        SignType::Rsa2,
        Charset::Utf8,
    )
    .unwrap();
    assert_eq!(content, canonical_for("utf-8"));
    // One changed value breaks it.
    form[5].1 = "2024-05-13 17:49:21".to_owned();
    let err = verify_params(
        &verifier,
        form,
        Rule::Request,
        SignType::Rsa2,
        Charset::Utf8,
    )
    .unwrap_err();
    assert!(err.is_invalid_signature(), "{err:?}");
}

#[cfg(any(feature = "aws-lc-rs", feature = "rust-crypto"))]
#[test]
fn gbk_signing_signs_the_gbk_bytes() {
    let params = request_params("GBK");
    let content = canonical_for("GBK");
    let bytes = Charset::Gbk.encode(&content).unwrap();
    // 12 Chinese characters of 3 UTF-8 bytes become 2 GBK bytes each: the 438 bytes openssl
    // signed.
    assert_eq!(bytes.len(), content.len() - 12);
    assert_eq!(bytes.len(), 438);
    let subject = "测试商品 中文";
    let at = content.find(subject).unwrap();
    assert_eq!(
        &bytes[at..at + 13],
        &[
            0xb2, 0xe2, 0xca, 0xd4, 0xc9, 0xcc, 0xc6, 0xb7, 0x20, 0xd6, 0xd0, 0xce, 0xc4
        ]
    );
    let signer = RsaSigner::new(&app_key()).unwrap();
    let signed = sign_params(&signer, params.clone(), SignType::Rsa2, Charset::Gbk).unwrap();
    assert_eq!(signed.content, content);
    assert_eq!(signed.sign, RSA2_GBK);

    let verifier = RsaVerifier::new(app_key().public_key()).unwrap();
    let mut form = params;
    form.push(("sign", RSA2_GBK.to_owned()));
    verify_params(
        &verifier,
        form.clone(),
        Rule::Request,
        SignType::Rsa2,
        Charset::Gbk,
    )
    .unwrap();
    // The same signature does not cover the UTF-8 bytes of that text.
    let err = verify_params(
        &verifier,
        form,
        Rule::Request,
        SignType::Rsa2,
        Charset::Utf8,
    )
    .unwrap_err();
    assert!(err.is_invalid_signature(), "{err:?}");
}

#[cfg(feature = "rust-crypto")]
#[test]
fn legacy_rsa_sha1_matches_openssl() {
    let signer = RsaSigner::new(&app_key()).unwrap();
    let utf8 = sign_params(
        &signer,
        request_params("utf-8"),
        SignType::Rsa,
        Charset::Utf8,
    )
    .unwrap();
    assert_eq!(utf8.sign, RSA_SHA1_UTF8);
    let gbk = sign_params(&signer, request_params("GBK"), SignType::Rsa, Charset::Gbk).unwrap();
    assert_eq!(gbk.sign, RSA_SHA1_GBK);
    let verifier = RsaVerifier::new(app_key().public_key()).unwrap();
    verifier
        .verify_base64(
            SignType::Rsa,
            canonical_for("utf-8").as_bytes(),
            RSA_SHA1_UTF8,
        )
        .unwrap();
}

#[cfg(all(feature = "aws-lc-rs", not(feature = "rust-crypto")))]
#[test]
fn legacy_rsa_sha1_needs_rust_crypto() {
    let signer = RsaSigner::new(&app_key()).unwrap();
    let err = sign_params(
        &signer,
        request_params("utf-8"),
        SignType::Rsa,
        Charset::Utf8,
    )
    .unwrap_err();
    assert_unsupported_names_rust_crypto(&err);
    // Verifying legacy signatures needs no extra feature.
    let verifier = RsaVerifier::new(app_key().public_key()).unwrap();
    verifier
        .verify_base64(
            SignType::Rsa,
            canonical_for("utf-8").as_bytes(),
            RSA_SHA1_UTF8,
        )
        .unwrap();
    let gbk = Charset::Gbk
        .encode(&canonical_for("GBK"))
        .unwrap()
        .into_owned();
    verifier
        .verify_base64(SignType::Rsa, &gbk, RSA_SHA1_GBK)
        .unwrap();
}

#[cfg(feature = "rust-crypto")]
#[test]
fn keys_under_2048_bits_sign_with_rust_crypto() {
    let key = PrivateKey::from_pem_or_der(LEGACY_1024).unwrap();
    assert_eq!(key.bits(), 1024);
    let signer = RsaSigner::new(&key).unwrap();
    let message = canonical_for("utf-8");
    assert_eq!(
        signer
            .sign_base64(SignType::Rsa2, message.as_bytes())
            .unwrap(),
        LEGACY_RSA2_UTF8
    );
    assert_eq!(
        signer
            .sign_base64(SignType::Rsa, message.as_bytes())
            .unwrap(),
        LEGACY_SHA1_UTF8
    );
}

#[cfg(all(feature = "aws-lc-rs", not(feature = "rust-crypto")))]
#[test]
fn keys_under_2048_bits_need_rust_crypto() {
    let key = PrivateKey::from_pem_or_der(LEGACY_1024).unwrap();
    let signer = RsaSigner::new(&key).unwrap();
    let message = canonical_for("utf-8");
    let err = signer
        .sign_base64(SignType::Rsa2, message.as_bytes())
        .unwrap_err();
    assert_unsupported_names_rust_crypto(&err);
    assert!(err.to_string().contains("1024-bit"), "{err}");
    // Verification with such a key still works.
    let verifier = RsaVerifier::new(key.public_key()).unwrap();
    verifier
        .verify_base64(SignType::Rsa2, message.as_bytes(), LEGACY_RSA2_UTF8)
        .unwrap();
    verifier
        .verify_base64(SignType::Rsa, message.as_bytes(), LEGACY_SHA1_UTF8)
        .unwrap();
}

#[cfg(any(feature = "aws-lc-rs", feature = "rust-crypto"))]
#[test]
fn v3_authorization_with_pinned_nonce_and_time() {
    let signer = RsaSigner::new(&app_key()).unwrap();
    let app_cert_sn = cert_sn(include_bytes!("data/app_cert.crt")).unwrap();
    let auth = AuthString::new(
        "2021000000000001",
        "5a1b3c7d9e0f11223344556677889900",
        1_717_756_911_576,
    )
    .with_app_cert_sn(app_cert_sn);
    let body = r#"{"out_trade_no":"T20240513001","query_options":["trade_settle_info"]}"#;
    let post =
        v3_sign_request(&signer, &auth, "POST", "/v3/alipay/trade/query", body, None).unwrap();
    assert_eq!(
        post.content,
        "app_id=2021000000000001,app_cert_sn=81ca06b595dea8a0b4b34102c9785861,nonce=5a1b3c7d9e0f11223344556677889900,timestamp=1717756911576\nPOST\n/v3/alipay/trade/query\n{\"out_trade_no\":\"T20240513001\",\"query_options\":[\"trade_settle_info\"]}\n"
    );
    assert_eq!(
        post.authorization,
        "ALIPAY-SHA256withRSA app_id=2021000000000001,app_cert_sn=81ca06b595dea8a0b4b34102c9785861,nonce=5a1b3c7d9e0f11223344556677889900,timestamp=1717756911576,sign=oVrJ9s+Qm0DAcNtN7B6D9DNleyqExG+ILqG0O+v4sjwjtM7sh0HFoA87N/cc7YIFS0//eqFNz1YeaOy8dng0H8tFM7XOae8bTrgWsOSYphVQE0aiI5HNydQU7mb4fP1HkEbTciVgY6MTkwMdw/wpMcJc2v7bwoH/wdy+FXO4cUsHgfVpBB5JqewnGkwi/xBmJtlutdyYTJVw8thgvYTxkA29VvkieSLWwprzEa7PN4QYJ/2JvrqqlSK9neg8Sb8FW3otPZm/qXyErBT0TfSBYeYWlxMi7Ma8LocsIm8N4TT71CX/ZioK2MhsF82Pgea3zcnxTzYtA9i5mtcqLZiSnA=="
    );

    let auth = AuthString::new(
        "2021000000000001",
        "0b7c3d1e2f3a4b5c6d7e8f9a0b1c2d3e",
        1_717_762_879_833,
    );
    let get = v3_sign_request(
        &signer,
        &auth,
        "GET",
        "/v3/alipay/data/dataservice/bill/downloadurl/query?bill_type=trade&bill_date=2016-04-05",
        "",
        Some("201509BBeff9351ad1874306903e96b91d248A36"),
    )
    .unwrap();
    assert_eq!(
        get.content,
        "app_id=2021000000000001,nonce=0b7c3d1e2f3a4b5c6d7e8f9a0b1c2d3e,timestamp=1717762879833\nGET\n/v3/alipay/data/dataservice/bill/downloadurl/query?bill_type=trade&bill_date=2016-04-05\n\n201509BBeff9351ad1874306903e96b91d248A36\n"
    );
    assert_eq!(
        get.authorization,
        "ALIPAY-SHA256withRSA app_id=2021000000000001,nonce=0b7c3d1e2f3a4b5c6d7e8f9a0b1c2d3e,timestamp=1717762879833,sign=so6c1JsJ3NPGPgxLt3N09aOhPg049EdQ+c0vT2DAuuUoGeq5GM9NdKXCPkGZeP+6dJRbWGC1+BXUj+Z0iYwTpsXfHj5wC9lVsmW+0LSjrkfUfpHCrX4YmAeSHd5KbxGq1/LISVKFXsckLLkMcKHA1aM/5NR2Zv6Daf1DZBd+WK+0X/0mkkBAUp6i4fKToEj9qcNczAf1j5dq3/mN0wl0UeB83sCiHr52/OXb1+KvfcLfxALLuIC3QI05J5DyYJWI1/LvkTDkBRtMdMnQoXh62LCjJPFfachxT98XhAkbRX3fzw5p+7yzRoAyznCl+6UsaM93u+JUBtZJ9sjDEkWCyQ=="
    );
}

#[test]
fn aes_cbc_zero_iv_ciphertexts_match_openssl() {
    let plaintext =
        r#"{"out_trade_no":"20150320010101001","subject":"中文 subject","total_amount":"0.01"}"#;
    let cases = [
        (
            "AAECAwQFBgcICQoLDA0ODw==",
            128,
            "G7PYcjyAquhKW/Z/PmtCC3IyDf5IloaeSsG/Xv5RztR2cCAPLJZhdiMRlvoq4hH+9+YxE/th0VWMLIgLduDI8366kRrkYXWgDOKjFVM2zB7aFiTjpSc43KeVZZZrqqdN",
        ),
        (
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX",
            192,
            "AdoUc230/U2z+StvWzU3jTY0V6CJ6a51nrFcKlFEPGQe2vTEhfvwWJepsW+jpyTNw0o4k05H6n+WoK7bJp1EL0ly3UYAe3+dQKLYqxr99SOo3C+nyWmwp1EovqkmGZOe",
        ),
        (
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            256,
            "YsWoPYwzv62L9lt7dwmUo5Rpmgum7kwm+bYQQ3cm0nWhqPpquiJ+mHmTYvDDv5peBAOsPHh3ynn/1sCBGA8Xuj5qfUPGVVjAfyWE8WmaHYgcawU1zX/3/oqahLqZU49z",
        ),
    ];
    for (key_b64, bits, ciphertext) in cases {
        let key = AesKey::from_base64(key_b64).unwrap();
        assert_eq!(key.bits(), bits);
        assert_eq!(key.encrypt(plaintext.as_bytes()), ciphertext, "AES-{bits}");
        assert_eq!(key.decrypt(ciphertext).unwrap(), plaintext.as_bytes());
    }
    // Empty plaintext: one block of padding. A full block: a second block of padding.
    let k128 = AesKey::from_base64("AAECAwQFBgcICQoLDA0ODw==").unwrap();
    assert_eq!(k128.encrypt(b""), "lU9k8uTobp7ugtICFmhImQ==");
    let k256 = AesKey::from_base64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap();
    assert_eq!(
        k256.encrypt(b"0123456789abcdef"),
        "2MlXWOM1PlMPpSvRDnO5hk9rowIiB0xNR3w/KU8SqC8="
    );
    // The wrong key size for a ciphertext: bad padding is a typed error, not garbage.
    let err = k256.decrypt("lU9k8uTobp7ugtICFmhImQ==").unwrap_err();
    assert!(err.is_aes(), "{err:?}");
}

/// (file, issuer DN per `openssl x509 -issuer -nameopt RFC2253`, decimal serial, md5 SN).
const CERTS: [(&str, &[u8], &str, &str, &str); 8] = [
    (
        "app_cert.crt",
        include_bytes!("data/app_cert.crt"),
        "CN=alipay-rs Test Class 2 R1,OU=Certification Authority,O=alipay-rs test,C=CN",
        "2748",
        "81ca06b595dea8a0b4b34102c9785861",
    ),
    (
        "alipay_cert_leaf.crt",
        include_bytes!("data/alipay_cert_leaf.crt"),
        "CN=alipay-rs Test Class 2 R1,OU=Certification Authority,O=alipay-rs test,C=CN",
        "5339928086172364929",
        "b390295f6ff55b3cd23eaff23fc31eb0",
    ),
    (
        // a chain file: the SN is the first (leaf) certificate's
        "alipay_cert_chain.crt",
        include_bytes!("data/alipay_cert_chain.crt"),
        "CN=alipay-rs Test Class 2 R1,OU=Certification Authority,O=alipay-rs test,C=CN",
        "5339928086172364929",
        "b390295f6ff55b3cd23eaff23fc31eb0",
    ),
    (
        "alipay_cert_short.crt",
        include_bytes!("data/alipay_cert_short.crt"),
        "CN=alipay-rs Test Class 2 R1,OU=Certification Authority,O=alipay-rs test,C=CN",
        "77",
        "fb77d6b0d8958bbada71b67dcb5116cf",
    ),
    (
        "ca.crt",
        include_bytes!("data/ca.crt"),
        "CN=alipay-rs Test Root R1,OU=Certification Authority,O=alipay-rs test,C=CN",
        "42665205996613197452711693005574906150",
        "1471fba672e8805bc5f4ee37bbd7d10c",
    ),
    (
        "root.crt",
        include_bytes!("data/root.crt"),
        "CN=alipay-rs Test Root R1,OU=Certification Authority,O=alipay-rs test,C=CN",
        "7281442",
        "9d47d57e921ce5b55aefeda3dd28a284",
    ),
    (
        "ec_root.crt",
        include_bytes!("data/ec_root.crt"),
        "CN=alipay-rs Test Root E1,O=alipay-rs test,C=CN",
        "99",
        "21c04a37af75459e566e5d9dc967bd58",
    ),
    (
        "sha1_root.crt",
        include_bytes!("data/sha1_root.crt"),
        "CN=alipay-rs Test SHA1 Root G3,O=alipay-rs test,C=CN",
        "1234567890123",
        "86834a6c9d8f3e513da85100503cd4b5",
    ),
];

#[test]
fn cert_sns_match_md5_of_rfc2253_issuer_and_decimal_serial() {
    for (name, pem, issuer, serial, sn) in CERTS {
        assert_eq!(cert_sn(pem).unwrap(), sn, "{name}");
        let first = Certificate::parse_bundle(pem).unwrap().remove(0);
        assert_eq!(first.issuer_dn(), issuer, "{name}");
        assert_eq!(first.serial_decimal(), serial, "{name}");
        assert_eq!(first.sn(), sn, "{name}");
    }
}

#[test]
fn root_sn_of_the_bundle_keeps_rsa_signed_certs_in_file_order() {
    // root_bundle.crt = E1 (ecdsa-with-SHA384, skipped), R1 (sha256WithRSA), G3 (sha1WithRSA).
    let bundle = include_bytes!("data/root_bundle.crt");
    let certs = Certificate::parse_bundle(bundle).unwrap();
    let algs: Vec<&str> = certs.iter().map(Certificate::signature_algorithm).collect();
    assert_eq!(
        algs,
        [
            "1.2.840.10045.4.3.3",
            "1.2.840.113549.1.1.11",
            "1.2.840.113549.1.1.5"
        ]
    );
    assert_eq!(
        root_cert_sn(bundle).unwrap(),
        "9d47d57e921ce5b55aefeda3dd28a284_86834a6c9d8f3e513da85100503cd4b5"
    );
    // A bundle with no RSA-signed certificate has no root SN.
    let err = root_cert_sn(include_bytes!("data/ec_root.crt")).unwrap_err();
    assert!(err.is_certificate(), "{err:?}");
}
