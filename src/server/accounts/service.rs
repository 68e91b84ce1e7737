//! Signing up and signing in, with the rules a user can rely on.

use sqlx::PgPool;

use super::{
    passwords, queries,
    throttle::{self, Client},
};
pub use crate::domain::accounts::{GitHubIdentity, User};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(String),
    #[error("An account with this email already exists. Sign in instead?")]
    EmailTaken,
    /// The same words whether the email is unknown or the password wrong.
    #[error("That email and password do not match an account.")]
    WrongCredentials,
    #[error("Too many attempts. Wait {}, then try again.", throttle::in_words(*.0))]
    Throttled(std::time::Duration),
    #[error("No account has the email {0}.")]
    NoSuchAccount(String),
    #[error("the database failed: {0}")]
    Database(#[from] sqlx::Error),
}

pub const MIN_PASSWORD_LEN: usize = 10;

/// Lower-cases and trims; refuses what cannot be an email address.
pub fn normalize_email(raw: &str) -> Result<String, AccountError> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
    if valid {
        Ok(email)
    } else {
        Err(AccountError::Invalid("Enter an email address such as ada@example.com.".into()))
    }
}

pub fn from_row(row: queries::UserRow) -> User {
    User {
        id: row.id,
        email: row.email,
        display_name: row.display_name,
        is_admin: row.is_admin,
        github: match (row.github_id, row.github_login) {
            (Some(id), Some(login)) => Some(GitHubIdentity {
                id,
                login,
                avatar_url: row.github_avatar_url.unwrap_or_default(),
                reconnect_needed: row.github_reconnect_needed,
            }),
            _ => None,
        },
    }
}

/// Someone who has just proved they know the account's password, and the
/// device token their browser keeps (see `throttle`).
pub struct SignedIn {
    pub user: User,
    pub device: String,
}

/// Nobody becomes an operator by signing up: see [`set_operator`].
pub async fn sign_up(
    pool: &PgPool,
    email: &str,
    display_name: &str,
    password: &str,
    client: &Client,
) -> Result<SignedIn, AccountError> {
    let email = normalize_email(email)?;
    let display_name = display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 100 {
        return Err(AccountError::Invalid("Enter your name (up to 100 characters).".into()));
    }
    if password.chars().count() < MIN_PASSWORD_LEN || password.len() > 1024 {
        return Err(AccountError::Invalid(format!("Choose a password of at least {MIN_PASSWORD_LEN} characters.")));
    }
    throttle::claim(pool, &format!("signup:{}", client.address), &throttle::SIGN_UP).await?;
    // Hashing is deliberately slow: keep it off the async workers.
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || passwords::hash(&password))
        .await
        .map_err(|e| AccountError::Invalid(format!("hashing failed: {e}")))?;
    match queries::insert_user(pool, &email, display_name, &hash).await {
        Ok(row) => remember(pool, from_row(row), None).await,
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Err(AccountError::EmailTaken),
        Err(error) => Err(error.into()),
    }
}

/// Checks the password once the attempt is counted (see `throttle`): against
/// the address, and against the account, or against this browser if it has
/// signed in to the account before.
pub async fn sign_in(pool: &PgPool, email: &str, password: &str, client: &Client) -> Result<SignedIn, AccountError> {
    let address = format!("address:{}", client.address);
    throttle::claim(pool, &address, &throttle::ADDRESS).await?;
    let Ok(email) = normalize_email(email) else {
        return Err(AccountError::WrongCredentials);
    };
    let device = match &client.device {
        Some(token) if queries::known_device(pool, &throttle::device_hash(token), &email).await? => Some(token.clone()),
        _ => None,
    };
    let account = match &device {
        Some(token) => format!("device:{}", hex::encode(throttle::device_hash(token))),
        None => format!("account:{email}"),
    };
    if let Err(refused) = throttle::claim(pool, &account, &throttle::ACCOUNT).await {
        // A refused attempt counts nowhere, the address included.
        queries::uncount_attempt(pool, &address).await?;
        return Err(refused);
    }
    let row = queries::user_by_email(pool, &email).await?;
    let password = password.to_owned();
    let stored = row.as_ref().map(|r| r.password_hash.clone());
    let matches = tokio::task::spawn_blocking(move || match stored {
        Some(hash) => passwords::verify(&password, &hash),
        None => {
            passwords::verify_nothing(&password);
            false
        }
    })
    .await
    .unwrap_or(false);
    match row {
        Some(row) if matches => {
            // Not a failure after all: the account's (or browser's) count
            // starts again, and the address's loses this attempt.
            queries::forget_attempts(pool, &account).await?;
            queries::uncount_attempt(pool, &address).await?;
            remember(pool, from_row(row), device).await
        }
        _ => Err(AccountError::WrongCredentials),
    }
}

/// Notes that this browser (its token, or a new one) knows the user's password.
async fn remember(pool: &PgPool, user: User, device: Option<String>) -> Result<SignedIn, AccountError> {
    let (device, hash) = match device {
        Some(token) => {
            let hash = throttle::device_hash(&token);
            (token, hash)
        }
        None => throttle::new_device(),
    };
    queries::remember_device(pool, &hash, &user.email).await?;
    Ok(SignedIn { user, device })
}

pub async fn user_by_id(pool: &PgPool, id: i64) -> Result<Option<User>, sqlx::Error> {
    Ok(queries::user_by_id(pool, id).await?.map(from_row))
}

/// Makes the account with this email an operator (`operator`) or no longer one.
/// Only `forgelink admin` calls it, on the server: an address someone typed
/// into a sign-up form proves nothing.
pub async fn set_operator(pool: &PgPool, email: &str, operator: bool) -> Result<User, AccountError> {
    let email = normalize_email(email)?;
    let row = queries::set_admin(pool, &email, operator).await?;
    row.map(from_row).ok_or(AccountError::NoSuchAccount(email))
}

pub async fn operators(pool: &PgPool) -> Result<Vec<User>, sqlx::Error> {
    Ok(queries::admins(pool).await?.into_iter().map(from_row).collect())
}
