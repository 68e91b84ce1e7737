//! One caller at a time for a GitHub call on a shared credential, across
//! instances. A row lock or advisory lock would hold a pooled connection for as
//! long as GitHub takes to answer, and a slow GitHub would then starve webhook
//! intake of connections; a lease is claimed and released in a statement each.

use std::time::Duration;

use sqlx::PgPool;

/// How often a caller waiting for someone else's call looks again.
const POLL: Duration = Duration::from_millis(100);

/// A claimed lease; released when dropped (or, if this process dies, once it expires).
#[derive(Debug)]
pub struct Lease {
    pool: PgPool,
    key: String,
    /// Names this claim: a late release never ends someone else's.
    holder: uuid::Uuid,
}

/// Claims `key` for `lifetime`, waiting while someone else holds it. What the
/// holder did may make the caller's own call needless: look again once claimed.
pub async fn claim(pool: &PgPool, key: &str, lifetime: Duration) -> Result<Lease, sqlx::Error> {
    loop {
        if let Some(lease) = try_claim(pool, key, lifetime).await? {
            return Ok(lease);
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Claims `key` for `lifetime` unless someone else holds it.
pub async fn try_claim(pool: &PgPool, key: &str, lifetime: Duration) -> Result<Option<Lease>, sqlx::Error> {
    let holder = uuid::Uuid::new_v4();
    let claimed = sqlx::query!(
        r#"INSERT INTO github_call_leases (key, holder, until) VALUES ($1, $2, now() + make_interval(secs => $3))
           ON CONFLICT (key) DO UPDATE SET holder = EXCLUDED.holder, until = EXCLUDED.until
           WHERE github_call_leases.until < now()"#,
        key,
        holder,
        lifetime.as_secs_f64(),
    )
    .execute(pool)
    .await?;
    Ok((claimed.rows_affected() == 1).then(|| Lease { pool: pool.clone(), key: key.to_owned(), holder }))
}

impl Lease {
    /// Releases it before the caller answers, so that whoever asks next finds
    /// it free (dropping releases it too, but a moment later).
    pub async fn release(mut self) {
        release(&self.pool, &std::mem::take(&mut self.key), self.holder).await;
    }
}

async fn release(pool: &PgPool, key: &str, holder: uuid::Uuid) {
    let released = sqlx::query!("DELETE FROM github_call_leases WHERE key = $1 AND holder = $2", key, holder);
    if let Err(error) = released.execute(pool).await {
        tracing::warn!(%error, key, "releasing a lease failed; it expires by itself");
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let (pool, key, holder) = (self.pool.clone(), std::mem::take(&mut self.key), self.holder);
        // Empty once released.
        if key.is_empty() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { release(&pool, &key, holder).await });
        }
    }
}
