//! Password hashing with Argon2id (the crate's defaults: OWASP's recommended
//! memory and time costs), in PHC string form.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2id hashes any password with the default parameters")
        .to_string()
}

/// Constant-time comparison inside the Argon2 verifier; a malformed stored hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// Verifies against a throwaway hash, so an unknown email costs as much time
/// as a wrong password and the two cannot be told apart by timing.
pub fn verify_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("not the password of anyone"));
    let _ = verify(password, dummy);
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = super::hash("correct horse battery");
        let b = super::hash("correct horse battery");
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "a fresh salt each time");
        assert!(super::verify("correct horse battery", &a));
        assert!(!super::verify("wrong horse battery", &a));
        assert!(!super::verify("anything", "not a hash"));
    }
}
