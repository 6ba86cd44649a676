//! AES content encryption (PROTOCOL §5): AES-CBC with a zero IV, PKCS#7 padding, base64.
//! The key size (128, 192 or 256 bits) comes from the key.

use std::fmt;

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt as _, BlockModeEncrypt as _, KeyIvInit as _};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::error::{Base64Source, Error};

const IV: [u8; 16] = [0u8; 16];

/// An AES content-encryption key (the app's "接口内容加密密钥"). `Debug` hides the key.
#[derive(Clone)]
pub struct AesKey {
    key: Zeroizing<Vec<u8>>,
}

impl AesKey {
    /// Reads the base64 key as Alipay's console shows it (24 characters for AES-128).
    pub fn from_base64(key: &str) -> Result<Self, Error> {
        let raw = Zeroizing::new(
            crate::pem::decode_base64_lenient(key)
                .map_err(|e| Error::aes("the AES key is not valid base64").with_source(e))?,
        );
        Self::from_bytes(&raw)
    }

    /// Uses raw key bytes (16, 24 or 32).
    pub fn from_bytes(key: &[u8]) -> Result<Self, Error> {
        match key.len() {
            16 | 24 | 32 => Ok(AesKey {
                key: Zeroizing::new(key.to_vec()),
            }),
            n => Err(Error::aes(format!(
                "the AES key has {n} bytes; 16, 24 or 32 are needed"
            ))),
        }
    }

    /// Key size in bits.
    pub fn bits(&self) -> usize {
        self.key.len() * 8
    }

    /// Encrypts `plaintext` and returns base64.
    ///
    /// ```
    /// let key = alipay_sign::AesKey::from_base64("aYA0GP8JEW+D7/UFaskCWA==")?;
    /// let ct = key.encrypt(br#"{"out_trade_no":"T1"}"#);
    /// assert_eq!(key.decrypt(&ct)?, br#"{"out_trade_no":"T1"}"#);
    /// # Ok::<(), alipay_sign::Error>(())
    /// ```
    pub fn encrypt(&self, plaintext: &[u8]) -> String {
        let ct = match self.key.len() {
            16 => cbc::Encryptor::<aes::Aes128>::new_from_slices(&self.key, &IV)
                .map(|c| c.encrypt_padded_vec::<Pkcs7>(plaintext)),
            24 => cbc::Encryptor::<aes::Aes192>::new_from_slices(&self.key, &IV)
                .map(|c| c.encrypt_padded_vec::<Pkcs7>(plaintext)),
            _ => cbc::Encryptor::<aes::Aes256>::new_from_slices(&self.key, &IV)
                .map(|c| c.encrypt_padded_vec::<Pkcs7>(plaintext)),
        };
        // The constructor only fails on a wrong key length, which `from_bytes` excludes.
        ct.map(|ct| STANDARD.encode(ct)).unwrap_or_default()
    }

    /// Decrypts base64 ciphertext. Malformed base64, a length that is not a multiple of the
    /// block size, or bad padding (usually: the wrong key) is an error.
    pub fn decrypt(&self, ciphertext_b64: &str) -> Result<Vec<u8>, Error> {
        let ct = crate::pem::decode_base64_lenient(ciphertext_b64).map_err(|e: Base64Source| {
            Error::aes("the ciphertext is not valid base64").with_source(e)
        })?;
        if ct.is_empty() || ct.len() % 16 != 0 {
            return Err(Error::aes(format!(
                "the ciphertext has {} bytes, not a positive multiple of 16",
                ct.len()
            )));
        }
        let pt = match self.key.len() {
            16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(&self.key, &IV)
                .map(|c| c.decrypt_padded_vec::<Pkcs7>(&ct)),
            24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(&self.key, &IV)
                .map(|c| c.decrypt_padded_vec::<Pkcs7>(&ct)),
            _ => cbc::Decryptor::<aes::Aes256>::new_from_slices(&self.key, &IV)
                .map(|c| c.decrypt_padded_vec::<Pkcs7>(&ct)),
        };
        match pt {
            Ok(Ok(pt)) => Ok(pt),
            Ok(Err(_)) => Err(Error::aes(
                "bad padding after decryption (is this the right AES key?)",
            )),
            Err(_) => Err(Error::aes("the AES key has an unusable length")),
        }
    }
}

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AesKey")
            .field("bits", &self.bits())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_vector() {
        let key = AesKey::from_base64("aYA0GP8JEW+D7/UFaskCWA==").unwrap();
        assert_eq!(
            key.encrypt(br#"{"out_trade_no":"T1"}"#),
            "HJjZXDcVHUcOrByocVgEmgs+1Naj649A//Hd8HstLD4="
        );
        assert_eq!(format!("{key:?}"), "AesKey { bits: 128, .. }");
    }

    #[test]
    fn errors() {
        assert!(AesKey::from_base64("AAAA").unwrap_err().is_aes());
        assert!(AesKey::from_base64("!!").unwrap_err().is_aes());
        let key = AesKey::from_bytes(&[1u8; 32]).unwrap();
        assert!(key.decrypt("AAAA").unwrap_err().is_aes());
        assert!(key.decrypt("%%%").unwrap_err().is_aes());
        let other = AesKey::from_bytes(&[2u8; 32]).unwrap();
        let ct = key.encrypt(b"hello world, this is a test");
        assert!(other.decrypt(&ct).is_err());
        assert_eq!(key.decrypt(&ct).unwrap(), b"hello world, this is a test");
        let k192 = AesKey::from_bytes(&[3u8; 24]).unwrap();
        assert_eq!(k192.decrypt(&k192.encrypt(b"")).unwrap(), b"");
    }
}
