//! How fast anyone may try passwords and make accounts. An attempt is counted
//! against its keys before the password is looked at (one statement checks and
//! counts); past a free allowance a key waits a delay that doubles with each
//! attempt up to a cap, and a key quiet long enough starts again. Nothing locks
//! anyone out for good, and a browser that has signed in to an account before
//! answers only for its own failures, so guessing from elsewhere never slows
//! the owner down.

use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::{queries, AccountError};

pub struct Limit {
    free: i32,
    base_secs: f64,
    cap_secs: f64,
    quiet_secs: f64,
}

const DAY: f64 = 86_400.0;

/// Sign-ins from one address (many people may share it): 20, then 1 s, 2 s, 4 s … 15 min apart.
pub const ADDRESS: Limit = Limit { free: 20, base_secs: 1.0, cap_secs: 900.0, quiet_secs: DAY };
/// Sign-ins to one account from browsers new to it, and from each browser that
/// has signed in to it before: 5, then 1 s, 2 s, 4 s … 15 min apart.
pub const ACCOUNT: Limit = Limit { free: 5, base_secs: 1.0, cap_secs: 900.0, quiet_secs: DAY };
/// New accounts from one address: 10 an hour, then 1 s, 2 s … 15 min apart.
pub const SIGN_UP: Limit = Limit { free: 10, base_secs: 1.0, cap_secs: 900.0, quiet_secs: 3_600.0 };

/// Who is trying, as far as a throttle can tell.
pub struct Client {
    /// The client's address as a key: an IPv6 address by its /64, which one
    /// subscriber usually holds whole (see `security::client_ip`).
    pub address: String,
    /// The `forgelink_device` cookie, if the browser sent one.
    pub device: Option<String>,
}

impl Client {
    pub fn new(ip: std::net::IpAddr, device: Option<String>) -> Self {
        let address = match ip {
            std::net::IpAddr::V6(v6) => {
                ipnet::Ipv6Net::new(v6, 64).map(|net| net.trunc().to_string()).unwrap_or_else(|_| v6.to_string())
            }
            v4 => v4.to_string(),
        };
        Self { address, device }
    }
}

/// Counts an attempt against `key`, or says how long to wait.
pub async fn claim(pool: &PgPool, key: &str, limit: &Limit) -> Result<(), AccountError> {
    match queries::claim_attempt(pool, key, limit.free, limit.base_secs, limit.cap_secs, limit.quiet_secs).await? {
        None => Ok(()),
        Some(wait) => Err(AccountError::Throttled(Duration::from_secs_f64(wait.ceil()))),
    }
}

/// A device token for a browser's cookie, and the hash that is stored of it.
pub fn new_device() -> (String, Vec<u8>) {
    let token = hex::encode(rand::random::<[u8; 32]>());
    let hash = device_hash(&token);
    (token, hash)
}

pub fn device_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Forgets throttles quiet for a day and devices unused for 400 days.
pub async fn sweep(pool: &PgPool) -> Result<u64, sqlx::Error> {
    queries::sweep_throttles(pool, DAY, 400.0 * DAY).await
}

/// "3 seconds", "1 minute", "15 minutes".
pub fn in_words(wait: Duration) -> String {
    let secs = wait.as_secs().max(1);
    let (n, unit) = if secs < 90 { (secs, "second") } else { (secs.div_ceil(60), "minute") };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        assert_eq!(Client::new("2001:db8:1:2:3:4:5:6".parse().unwrap(), None).address, "2001:db8:1:2::/64");
        assert_eq!(Client::new("198.51.100.7".parse().unwrap(), None).address, "198.51.100.7");
    }

    #[test]
    fn waits_read_as_people_say_them() {
        assert_eq!(in_words(Duration::from_secs(1)), "1 second");
        assert_eq!(in_words(Duration::from_secs(4)), "4 seconds");
        assert_eq!(in_words(Duration::from_secs(89)), "89 seconds");
        assert_eq!(in_words(Duration::from_secs(90)), "2 minutes");
        assert_eq!(in_words(Duration::from_secs(900)), "15 minutes");
    }
}
