//! The key and certificate loader over arbitrary bytes: `alipay_sign::load`,
//! `PrivateKey::from_pem_or_der`, `PublicKey::from_pem_or_der`, `Certificate::parse_bundle`.
//!
//! Properties: no panic; the four entry points agree on what the input is; whatever loads
//! re-encodes and loads back to the same key; certificates give SNs, DNs and chain checks
//! without panicking; the crypto backends refuse a broken key with an error.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use alipay_sign::{
    Certificate, Loaded, PrivateKey, PublicKey, RsaSigner, RsaVerifier, SignType, Signer, Verifier,
    load, root_cert_sn_of, verify_chain,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let loaded = load(data);
    let private = PrivateKey::from_pem_or_der(data);
    let public = PublicKey::from_pem_or_der(data);
    let bundle = Certificate::parse_bundle(data);

    match loaded {
        Ok((Loaded::Private(key), info)) => {
            assert!(info.kind.is_private());
            assert_eq!(info.count, 1);
            assert_eq!(info.bits, key.bits());
            let typed = private.expect("load() found a private key; from_pem_or_der must too");
            assert_eq!(typed.public_key(), key.public_key());
            assert!(public.unwrap_err().is_key());
            assert!(bundle.unwrap_err().is_key());
            assert!(key.matches(key.public_key()));
            // Debug never shows key material: only the size and the source kind.
            let dbg = format!("{key:?}");
            assert!(dbg.starts_with("PrivateKey { bits: "), "{dbg}");
            // Re-encoding round-trips.
            for pem in [key.to_pkcs1_pem(), key.to_pkcs8_pem()] {
                let again = PrivateKey::from_pem_or_der(pem.as_bytes())
                    .expect("a key this crate wrote must load");
                assert_eq!(again.public_key(), key.public_key());
            }
            // The backends must refuse an inconsistent key with an error, never a panic.
            if let Ok(signer) = RsaSigner::new(&key) {
                let _ = signer.try_sign(SignType::Rsa2, b"fuzz");
                let _ = signer.try_sign(SignType::Rsa, b"fuzz");
            }
        }
        Ok((Loaded::Public(key), info)) => {
            assert!(!info.kind.is_private());
            assert_eq!(info.count, 1);
            assert_eq!(info.bits, key.bits());
            assert_eq!(public.as_ref().ok(), Some(&key));
            assert!(private.unwrap_err().is_key());
            assert!(bundle.unwrap_err().is_key());
            for text in [key.to_pem(), key.to_base64()] {
                let again = PublicKey::from_pem_or_der(text.as_bytes())
                    .expect("a key this crate wrote must load");
                assert_eq!(again, key);
            }
            check_verifier(&key);
        }
        Ok((Loaded::Certificates(certs), info)) => {
            assert_eq!(info.count, certs.len());
            assert!(!certs.is_empty());
            assert_eq!(bundle.as_ref().ok(), Some(&certs));
            assert!(private.unwrap_err().is_key());
            // A certificate file is accepted wherever a public key is, when its first
            // certificate holds an RSA key.
            let first_key = certs[0].public_key();
            assert_eq!(public.is_ok(), first_key.is_ok());
            for cert in &certs {
                let sn = cert.sn();
                assert_eq!(sn.len(), 32);
                assert!(
                    sn.bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                );
                let _ = cert.issuer_dn();
                let _ = cert.subject_dn();
                let serial = cert.serial_decimal();
                assert!(!serial.is_empty());
                if cert.not_before() > cert.not_after() {
                    assert!(!cert.is_valid_at(cert.not_before()));
                }
                let again =
                    Certificate::from_der(cert.der()).expect("a parsed certificate re-parses");
                assert_eq!(&again, cert);
                if let Ok(key) = cert.public_key() {
                    check_verifier(&key);
                }
            }
            match root_cert_sn_of(&certs) {
                Ok(sn) => assert_eq!(
                    sn.split('_').count(),
                    certs.iter().filter(|c| c.is_rsa_signed()).count()
                ),
                Err(e) => assert!(e.is_certificate()),
            }
            // Chain checks at a fixed time, against itself and against its first certificate.
            let at = UNIX_EPOCH + Duration::from_secs(1_717_756_911);
            for roots in [&certs[..], &certs[..1]] {
                if let Err(e) = verify_chain(&certs, roots, at) {
                    let _ = e.to_string();
                }
            }
        }
        Ok(_) => {}
        Err(e) => {
            let _ = e.to_string();
            assert!(private.is_err());
            assert!(public.is_err());
            assert!(bundle.is_err());
        }
    }
});

/// A verifier over a fuzzed key must reject a wrong signature with a typed error.
fn check_verifier(key: &PublicKey) {
    if let Ok(verifier) = RsaVerifier::new(key) {
        let sig = vec![0u8; key.modulus().len()];
        let err = verifier
            .verify(SignType::Rsa2, b"fuzz", &sig)
            .expect_err("an all-zero signature never verifies");
        assert!(err.is_invalid_signature(), "{err}");
        let err = verifier
            .verify(SignType::Rsa2, b"fuzz", &[1, 2, 3])
            .unwrap_err();
        assert!(err.is_invalid_signature(), "{err}");
    }
}
