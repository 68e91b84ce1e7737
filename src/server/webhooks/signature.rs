//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body, hex, prefixed `sha256=`.
//! Compared in constant time against every configured secret, so secrets can rotate.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::server::config::Secret;

/// True when `header` is a valid signature of `body` under one of `secrets`.
pub fn verify(secrets: &[Secret], body: &[u8], header: &str) -> bool {
    let Some(hex_digest) = header.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_digest) else {
        return false;
    };
    // Every secret is tried (no early exit), so timing says nothing about which matched.
    secrets.iter().fold(false, |matched, secret| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()).expect("HMAC takes any key length");
        mac.update(body);
        mac.verify_slice(&expected).is_ok() | matched
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use github_sim::signature_256;

    #[test]
    fn accepts_any_configured_secret_and_nothing_else() {
        let secrets = [Secret::new("new"), Secret::new("old")];
        let body = br#"{"zen":"Keep it logically awesome."}"#;
        assert!(verify(&secrets, body, &signature_256("new", body)));
        assert!(verify(&secrets, body, &signature_256("old", body)));
        assert!(!verify(&secrets, body, &signature_256("other", body)));
        assert!(!verify(&secrets, b"tampered", &signature_256("new", body)));
        assert!(!verify(&secrets, body, "sha1=abc"));
        assert!(!verify(&secrets, body, "sha256=not-hex"));
        assert!(!verify(&secrets, body, ""));
    }
}
