//! The two RSA backends are interchangeable: byte-identical signatures (PKCS#1 v1.5 is
//! deterministic) and each verifies the other's. Only built with both features.
#![cfg(all(feature = "aws-lc-rs", feature = "rust-crypto"))]

use alipay_sign::{Backend, PrivateKey, RsaSigner, RsaVerifier, SignType, Signer, Verifier};

/// Every private key of `tests/data`, by name.
const KEYS: [(&str, &[u8]); 7] = [
    ("app pkcs8", include_bytes!("data/app_private_pkcs8.pem")),
    ("app pkcs1", include_bytes!("data/app_private_pkcs1.pem")),
    (
        "alipay pkcs8",
        include_bytes!("data/alipay_private_pkcs8.pem"),
    ),
    (
        "alipay pkcs1",
        include_bytes!("data/alipay_private_pkcs1.pem"),
    ),
    ("ca", include_bytes!("data/ca_key.pem")),
    ("root", include_bytes!("data/root_key.pem")),
    (
        "legacy 1024",
        include_bytes!("data/legacy1024_private_pkcs8.pem"),
    ),
];

/// Deterministic varied messages: empty, one byte, ASCII, Chinese UTF-8, GBK-like high bytes,
/// binary, and lengths around the SHA block size and beyond.
fn messages(count: usize) -> Vec<Vec<u8>> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = vec![
        Vec::new(),
        b"a".to_vec(),
        b"hello\n".to_vec(),
        "app_id=2021000000000001&biz_content={\"subject\":\"测试 & = % +\"}&sign_type=RSA2"
            .as_bytes()
            .to_vec(),
        vec![0xb2, 0xe2, 0xca, 0xd4, 0x5c, 0x81],
        vec![0u8; 64],
        vec![0xffu8; 55],
        vec![0x5au8; 56],
    ];
    while out.len() < count {
        let len = usize::try_from(next() % 1500).unwrap_or(0);
        let msg: Vec<u8> = (0..len).map(|_| next().to_le_bytes()[3]).collect();
        out.push(msg);
    }
    out
}

fn is_unsupported_naming_rust_crypto(err: &alipay_sign::Error) -> bool {
    err.is_unsupported() && err.to_string().contains("`rust-crypto`")
}

#[test]
fn rsa2_signatures_are_byte_identical_and_cross_verify() {
    let msgs = messages(24);
    for (name, pem) in KEYS.iter().filter(|(n, _)| *n != "legacy 1024") {
        let key = PrivateKey::from_pem_or_der(pem).unwrap();
        let aws = RsaSigner::with_backend(&key, Backend::AwsLc).unwrap();
        let rc = RsaSigner::with_backend(&key, Backend::RustCrypto).unwrap();
        let aws_v = RsaVerifier::with_backend(key.public_key(), Backend::AwsLc).unwrap();
        let rc_v = RsaVerifier::with_backend(key.public_key(), Backend::RustCrypto).unwrap();
        let default_signer = RsaSigner::new(&key).unwrap();
        for (i, msg) in msgs.iter().enumerate() {
            let a = aws.try_sign(SignType::Rsa2, msg).unwrap();
            let r = rc.try_sign(SignType::Rsa2, msg).unwrap();
            assert_eq!(a, r, "key {name}, message {i}: backends differ");
            assert_eq!(a.len(), 256);
            assert_eq!(default_signer.try_sign(SignType::Rsa2, msg).unwrap(), a);
            rc_v.verify(SignType::Rsa2, msg, &a).unwrap();
            aws_v.verify(SignType::Rsa2, msg, &r).unwrap();
            // and both reject a flipped bit, with the same kind of error
            let mut bad = a.clone();
            let at = i % bad.len();
            bad[at] ^= 0x01;
            assert!(
                aws_v
                    .verify(SignType::Rsa2, msg, &bad)
                    .unwrap_err()
                    .is_invalid_signature()
            );
            assert!(
                rc_v.verify(SignType::Rsa2, msg, &bad)
                    .unwrap_err()
                    .is_invalid_signature()
            );
            // a signature of another digest does not pass as RSA2
            assert!(
                rc_v.verify(SignType::Rsa, msg, &a)
                    .unwrap_err()
                    .is_invalid_signature()
            );
            assert!(
                aws_v
                    .verify(SignType::Rsa, msg, &a)
                    .unwrap_err()
                    .is_invalid_signature()
            );
        }
    }
}

#[test]
fn sha1_is_signed_by_rust_crypto_only_and_verified_by_both() {
    let key = PrivateKey::from_pem_or_der(KEYS[0].1).unwrap();
    let aws = RsaSigner::with_backend(&key, Backend::AwsLc).unwrap();
    let rc = RsaSigner::with_backend(&key, Backend::RustCrypto).unwrap();
    let aws_v = RsaVerifier::with_backend(key.public_key(), Backend::AwsLc).unwrap();
    let rc_v = RsaVerifier::with_backend(key.public_key(), Backend::RustCrypto).unwrap();
    let default_signer = RsaSigner::new(&key).unwrap();
    for msg in messages(16) {
        let err = aws.try_sign(SignType::Rsa, &msg).unwrap_err();
        assert!(is_unsupported_naming_rust_crypto(&err), "{err:?}");
        let sig = rc.try_sign(SignType::Rsa, &msg).unwrap();
        // With both features the default signer falls back to rust-crypto for SHA1.
        assert_eq!(default_signer.try_sign(SignType::Rsa, &msg).unwrap(), sig);
        aws_v.verify(SignType::Rsa, &msg, &sig).unwrap();
        rc_v.verify(SignType::Rsa, &msg, &sig).unwrap();
        assert!(aws_v.verify(SignType::Rsa2, &msg, &sig).is_err());
    }
}

#[test]
fn keys_under_2048_bits_are_signed_by_rust_crypto_only() {
    let key = PrivateKey::from_pem_or_der(KEYS[6].1).unwrap();
    assert_eq!(key.bits(), 1024);
    let aws = RsaSigner::with_backend(&key, Backend::AwsLc).unwrap();
    let rc = RsaSigner::with_backend(&key, Backend::RustCrypto).unwrap();
    let aws_v = RsaVerifier::with_backend(key.public_key(), Backend::AwsLc).unwrap();
    let rc_v = RsaVerifier::with_backend(key.public_key(), Backend::RustCrypto).unwrap();
    for msg in messages(16) {
        for sign_type in [SignType::Rsa2, SignType::Rsa] {
            let err = aws.try_sign(sign_type, &msg).unwrap_err();
            assert!(is_unsupported_naming_rust_crypto(&err), "{err:?}");
            let sig = rc.try_sign(sign_type, &msg).unwrap();
            assert_eq!(sig.len(), 128);
            aws_v.verify(sign_type, &msg, &sig).unwrap();
            rc_v.verify(sign_type, &msg, &sig).unwrap();
        }
    }
}

#[test]
fn base64_signatures_are_identical_too() {
    let key = PrivateKey::from_pem_or_der(KEYS[1].1).unwrap();
    let aws = RsaSigner::with_backend(&key, Backend::AwsLc).unwrap();
    let rc = RsaSigner::with_backend(&key, Backend::RustCrypto).unwrap();
    let msg = "app_id=2021000000000001&method=alipay.trade.query&sign_type=RSA2".as_bytes();
    let a = aws.sign_base64(SignType::Rsa2, msg).unwrap();
    assert_eq!(a, rc.sign_base64(SignType::Rsa2, msg).unwrap());
    assert_eq!(a.len(), 344);
    let rc_v = RsaVerifier::with_backend(key.public_key(), Backend::RustCrypto).unwrap();
    rc_v.verify_base64(SignType::Rsa2, msg, &a).unwrap();
}
