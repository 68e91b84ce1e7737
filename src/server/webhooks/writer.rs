//! Group commit for deliveries: requests hand their delivery to a writer task,
//! which stores whatever has gathered in one INSERT and one commit, then
//! answers each request. Under load many deliveries share one fsync (while one
//! batch commits, the next gathers); alone, a delivery is written at once.
//! Nothing is acknowledged before its commit. A second batch is inserted while
//! the first commits only once it is worth a statement of its own (see
//! `MIN_OVERLAP`); the measurements behind these choices are in the README's
//! Benchmarks section.

use std::{
    collections::HashSet,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Notify};

use super::queries::{self, NewDelivery};

/// Deliveries stored in one statement at most, and their size at most.
const MAX_BATCH: usize = 256;
const MAX_BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Whether a delivery was stored now or had been before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    Duplicate,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot store the delivery: {0}")]
pub struct StoreError(String);

struct Job {
    delivery: NewDelivery,
    reply: Reply,
}

/// Where a delivery's outcome goes. It counts as waiting for as long as it
/// exists, so the count follows the deliveries themselves: a request whose
/// client hung up drops its future, not the job it already handed over, and a
/// job is dropped once answered, however its batch ended (stored, failed,
/// panicked, the writer gone).
struct Reply {
    sender: oneshot::Sender<Result<Stored, StoreError>>,
    _waiting: Waiting,
}

impl Reply {
    fn send(self, result: Result<Stored, StoreError>) {
        // The request may have given up (its client hung up): the delivery is stored all the same.
        let _ = self.sender.send(result);
    }
}

/// One delivery counted in `DeliveryWriter::waiting` until dropped.
struct Waiting(Arc<AtomicUsize>);

impl Waiting {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count.clone())
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Clone, Debug)]
pub struct DeliveryWriter {
    jobs: mpsc::Sender<Job>,
    /// Deliveries waiting for their commit right now (each job's `Waiting`).
    waiting: Arc<AtomicUsize>,
    /// Told after every commit that stored something (this instance's workers wait on it).
    stored: Arc<Notify>,
}

/// Deliveries waiting at or above which the intake counts as busy.
const BUSY: usize = 8;

impl DeliveryWriter {
    /// Starts the writer task.
    pub fn spawn(pool: PgPool) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>(4096);
        let stored = Arc::new(Notify::new());
        tokio::spawn(write_batches(pool, queue, stored.clone()));
        Self { jobs, waiting: Arc::default(), stored }
    }

    /// Stores a delivery. A caller that stops waiting (its future dropped) does
    /// not stop the delivery once handed over: it is stored, and counted as
    /// waiting until then, not longer.
    pub async fn store(&self, delivery: NewDelivery) -> Result<Stored, StoreError> {
        let (sender, answer) = oneshot::channel();
        let reply = Reply { sender, _waiting: Waiting::new(&self.waiting) };
        self.jobs.send(Job { delivery, reply }).await.map_err(|_| StoreError("the writer has stopped".into()))?;
        answer.await.map_err(|_| StoreError("the writer has stopped".into()))?
    }

    /// Woken when deliveries have been stored by this instance.
    pub fn stored(&self) -> Arc<Notify> {
        self.stored.clone()
    }

    /// Whether many deliveries are waiting to be stored: workers then leave the
    /// CPU to the intake, whose answers GitHub waits for.
    pub fn busy(&self) -> bool {
        self.waiting() >= BUSY
    }

    /// Deliveries handed to this writer and not yet answered.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }
}

/// At most one NOTIFY to other instances in this time: under load every commit
/// announcing itself cost a few percent of the intake (each wakes every
/// listening connection), and busy workers do not wait for notifications.
const ANNOUNCE_EVERY: Duration = Duration::from_millis(50);

/// Batches being inserted at once at most. A second overlaps the first's
/// commit (its fsync) with its own work, but only once it has gathered
/// `MIN_OVERLAP` deliveries: smaller batches cost more statements than the
/// overlap saves.
const MAX_INSERTS: usize = 2;
const MIN_OVERLAP: usize = 8;

/// Deliveries gathered for the next statement.
#[derive(Default)]
struct Batch {
    jobs: Vec<Job>,
    bytes: usize,
}

impl Batch {
    fn push(&mut self, job: Job) {
        self.bytes += job.delivery.payload.len();
        self.jobs.push(job);
    }

    fn full(&self) -> bool {
        self.jobs.len() >= MAX_BATCH || self.bytes >= MAX_BATCH_BYTES
    }
}

async fn write_batches(pool: PgPool, mut queue: mpsc::Receiver<Job>, stored: Arc<Notify>) {
    let mut inserts = tokio::task::JoinSet::new();
    let mut batch = Batch::default();
    let mut open = true;
    let mut announced = Instant::now().checked_sub(ANNOUNCE_EVERY).unwrap_or_else(Instant::now);
    // Stored since the last NOTIFY without one: announced once the interval is up.
    let mut unannounced = false;
    loop {
        while open && !batch.full() {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => open = false,
            }
        }
        let full = batch.full();
        let worth_it = inserts.is_empty() || (inserts.len() < MAX_INSERTS && (batch.jobs.len() >= MIN_OVERLAP || full));
        if !batch.jobs.is_empty() && worth_it {
            let announce = announced.elapsed() >= ANNOUNCE_EVERY;
            if announce {
                (announced, unannounced) = (Instant::now(), false);
            }
            inserts.spawn(insert(pool.clone(), std::mem::take(&mut batch).jobs, announce));
            continue;
        }
        if !open && batch.jobs.is_empty() && inserts.is_empty() {
            return;
        }
        let announce_at = tokio::time::Instant::from_std(announced + ANNOUNCE_EVERY);
        tokio::select! {
            job = queue.recv(), if open && !full => match job {
                Some(job) => batch.push(job),
                None => open = false,
            },
            Some(Ok(done)) = inserts.join_next(), if !inserts.is_empty() => {
                if done.any {
                    stored.notify_waiters();
                    unannounced |= !done.announced;
                }
            }
            _ = tokio::time::sleep_until(announce_at), if unannounced && batch.jobs.is_empty() && inserts.is_empty() => {
                if let Err(error) = queries::announce_deliveries(&pool).await {
                    tracing::warn!(%error, "cannot NOTIFY other instances of new deliveries; their sweep will find them");
                }
                (announced, unannounced) = (Instant::now(), false);
            }
            // Only an insert that panicked (its requests got 503) can leave nothing to wait for.
            else => {}
        }
    }
}

/// What one insert did: whether it stored any delivery, and whether it sent a NOTIFY.
struct Inserted {
    any: bool,
    announced: bool,
}

/// Stores one batch in one statement and answers each of its requests.
async fn insert(pool: PgPool, batch: Vec<Job>, announce: bool) -> Inserted {
    let (deliveries, replies): (Vec<NewDelivery>, Vec<_>) =
        batch.into_iter().map(|job| (job.delivery, job.reply)).unzip();
    match queries::insert_deliveries(&pool, &deliveries, announce).await {
        Ok(stored_now) => {
            let any = !stored_now.is_empty();
            let mut stored_now: HashSet<(String, i64)> = stored_now.into_iter().collect();
            for (delivery, reply) in deliveries.into_iter().zip(replies) {
                // Of copies in one statement the first was stored; the others are redeliveries.
                let new = stored_now.remove(&(delivery.delivery_id, delivery.hook_id));
                reply.send(Ok(if new { Stored::New } else { Stored::Duplicate }));
            }
            Inserted { any, announced: announce }
        }
        Err(error) => {
            tracing::error!(%error, deliveries = deliveries.len(), "cannot store webhook deliveries");
            for reply in replies {
                reply.send(Err(StoreError(error.to_string())));
            }
            Inserted { any: false, announced: announce }
        }
    }
}
