//! Encryption at rest for GitHub tokens: XChaCha20-Poly1305 with a random
//! 24-byte nonce per value, and associated data naming what the value is, so a
//! ciphertext copied into another row or column does not decrypt.

use base64::Engine as _;
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
    XChaCha20Poly1305, XNonce,
};

use super::{config::ConfigError, github::config::Secret};

/// Layout version, so the scheme can change without guessing.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the stored value is not a forgelink ciphertext")]
    Malformed,
    #[error("the stored value does not decrypt with this key (wrong key, or tampered)")]
    Undecryptable,
}

#[derive(Clone)]
pub struct TokenCipher {
    cipher: XChaCha20Poly1305,
    /// For signing values handed to browsers (install `state`); derived from
    /// the same key so there is one secret to manage, but never used to encrypt.
    signing_key: [u8; 32],
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

impl std::fmt::Debug for TokenCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCipher(..)")
    }
}

impl TokenCipher {
    /// From `FORGELINK_ENCRYPTION_KEY`: 32 bytes, base64-encoded.
    pub fn from_base64(var: &'static str, encoded: &Secret) -> Result<Self, ConfigError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.expose().trim())
            .map_err(|e| ConfigError::Invalid { var, reason: format!("not base64: {e}") })?;
        if bytes.len() != 32 {
            return Err(ConfigError::Invalid { var, reason: format!("must decode to 32 bytes, got {}", bytes.len()) });
        }
        let mut derive = <HmacSha256 as hmac::Mac>::new_from_slice(&bytes)
            .map_err(|_| ConfigError::Invalid { var, reason: "not a valid key".into() })?;
        hmac::Mac::update(&mut derive, b"forgelink signed values v1");
        Ok(Self {
            cipher: XChaCha20Poly1305::new_from_slice(&bytes)
                .map_err(|_| ConfigError::Invalid { var, reason: "not a valid key".into() })?,
            signing_key: hmac::Mac::finalize(derive).into_bytes().into(),
        })
    }

    fn mac(&self, message: &str) -> HmacSha256 {
        let mut mac = <HmacSha256 as hmac::Mac>::new_from_slice(&self.signing_key).expect("HMAC takes any key length");
        hmac::Mac::update(&mut mac, message.as_bytes());
        mac
    }

    /// `message.signature`, URL-safe when `message` is.
    pub fn sign(&self, message: &str) -> String {
        let signature = hmac::Mac::finalize(self.mac(message)).into_bytes();
        format!("{message}.{}", hex::encode(signature))
    }

    /// The message of a value `sign` produced, if its signature holds (compared in constant time).
    pub fn verify<'a>(&self, signed: &'a str) -> Option<&'a str> {
        let (message, signature) = signed.rsplit_once('.')?;
        let signature = hex::decode(signature).ok()?;
        hmac::Mac::verify_slice(self.mac(message), &signature).ok()?;
        Some(message)
    }

    /// Encrypts `plaintext`; `context` (e.g. "users.github_access_token:42") must be
    /// given again to decrypt.
    pub fn encrypt(&self, plaintext: &str, context: &str) -> Vec<u8> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, Payload { msg: plaintext.as_bytes(), aad: context.as_bytes() })
            .expect("XChaCha20-Poly1305 encrypts any message that fits in memory");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    pub fn decrypt(&self, stored: &[u8], context: &str) -> Result<String, CryptoError> {
        if stored.len() < 1 + NONCE_LEN + 16 || stored[0] != VERSION {
            return Err(CryptoError::Malformed);
        }
        let nonce = XNonce::from_slice(&stored[1..1 + NONCE_LEN]);
        let plain = self
            .cipher
            .decrypt(nonce, Payload { msg: &stored[1 + NONCE_LEN..], aad: context.as_bytes() })
            .map_err(|_| CryptoError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(byte: u8) -> TokenCipher {
        let key = base64::engine::general_purpose::STANDARD.encode([byte; 32]);
        TokenCipher::from_base64("KEY", &Secret::new(key)).unwrap()
    }

    #[test]
    fn round_trips_and_never_stores_clear_text() {
        let c = cipher(7);
        let sealed = c.encrypt("ghu_secret", "users.token:1");
        assert!(!sealed.windows(10).any(|w| w == b"ghu_secret"));
        assert_eq!(c.decrypt(&sealed, "users.token:1").unwrap(), "ghu_secret");
        // A fresh nonce each time.
        assert_ne!(sealed, c.encrypt("ghu_secret", "users.token:1"));
    }

    #[test]
    fn another_context_key_or_a_flipped_bit_does_not_decrypt() {
        let c = cipher(7);
        let mut sealed = c.encrypt("ghu_secret", "users.token:1");
        assert_eq!(c.decrypt(&sealed, "users.token:2"), Err(CryptoError::Undecryptable));
        assert_eq!(cipher(8).decrypt(&sealed, "users.token:1"), Err(CryptoError::Undecryptable));
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(c.decrypt(&sealed, "users.token:1"), Err(CryptoError::Undecryptable));
        assert_eq!(c.decrypt(b"short", "x"), Err(CryptoError::Malformed));
    }

    #[test]
    fn signed_values_verify_only_unchanged_and_under_the_same_key() {
        let c = cipher(7);
        let signed = c.sign("u1-p2-i3");
        assert_eq!(c.verify(&signed), Some("u1-p2-i3"));
        assert_eq!(c.verify(&signed.replace("u1", "u9")), None);
        assert_eq!(cipher(8).verify(&signed), None);
        assert_eq!(c.verify("u1-p2-i3"), None);
        assert_eq!(c.verify("u1-p2-i3.zz"), None);
    }

    #[test]
    fn keys_must_be_32_bytes_of_base64() {
        assert!(TokenCipher::from_base64("KEY", &Secret::new("not base64!")).is_err());
        let short = base64::engine::general_purpose::STANDARD.encode([1u8; 16]);
        let error = TokenCipher::from_base64("KEY", &Secret::new(short)).unwrap_err();
        assert!(error.to_string().contains("32 bytes"));
    }
}
