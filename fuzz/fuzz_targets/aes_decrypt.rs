//! AES content decryption of arbitrary input, and encryption round trips.
//!
//! Properties: no panic; bad keys, bad base64, bad lengths and bad padding are `is_aes` errors;
//! whatever decrypts re-encrypts to the same ciphertext (CBC with a zero IV is deterministic);
//! whatever is encrypted decrypts back.
#![no_main]

use alipay_sign::AesKey;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Case {
    key_size: u8,
    key: [u8; 32],
    key_text: String,
    ciphertext: String,
    raw_ciphertext: Vec<u8>,
    plaintext: Vec<u8>,
}

fn check(key: &AesKey, ciphertext_b64: &str, plaintext: &[u8]) {
    match key.decrypt(ciphertext_b64) {
        Ok(pt) => {
            let compact: String = ciphertext_b64
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            assert_eq!(key.encrypt(&pt), compact);
        }
        Err(e) => {
            assert!(e.is_aes(), "{e}");
            let _ = e.to_string();
        }
    }
    let ct = key.encrypt(plaintext);
    assert_eq!(
        key.decrypt(&ct).expect("decrypt what was encrypted"),
        plaintext
    );
}

fuzz_target!(|case: Case| {
    // A key from base64 text: any failure is an AES error.
    match AesKey::from_base64(&case.key_text) {
        Ok(key) => {
            assert!(matches!(key.bits(), 128 | 192 | 256));
            check(&key, &case.ciphertext, &case.plaintext);
        }
        Err(e) => assert!(e.is_aes(), "{e}"),
    }
    let len = [16, 24, 32][usize::from(case.key_size) % 3];
    let key = AesKey::from_bytes(&case.key[..len]).expect("a 16, 24 or 32 byte key");
    assert_eq!(
        format!("{key:?}"),
        format!("AesKey {{ bits: {}, .. }}", len * 8)
    );
    // Arbitrary text, and well-formed base64 of arbitrary bytes (which reaches the padding check).
    check(&key, &case.ciphertext, &case.plaintext);
    check(
        &key,
        &STANDARD.encode(&case.raw_ciphertext),
        &case.plaintext,
    );
    let wrong_size = AesKey::from_bytes(&case.key[..usize::from(case.key_size) % 33]);
    if !matches!(usize::from(case.key_size) % 33, 16 | 24 | 32) {
        assert!(wrong_size.expect_err("wrong key size").is_aes());
    }
});
