//! A GitHub simulator that plays GitHub's part over real HTTP: the web pages a
//! person clicks through (sign in, authorize, install, configure, issues), the
//! REST API under `/api/v3` (the GitHub Enterprise Server convention), and signed
//! webhook deliveries with a delivery log. `scripts/run` starts its binary when no
//! real GitHub App is configured; the tests serve it in process on a free port.
//! A crate of its own: forgelink's server neither contains nor serves it.
// GitHub's repository payload is one large `json!`.
#![recursion_limit = "256"]
// Its helpers answer early with an axum `Response` as their error, as handlers do.
#![allow(clippy::result_large_err)]

mod actions;
mod api;
mod auth;
pub mod config;
mod faults;
mod hooks;
mod html;
mod pages;
pub mod payloads;
pub mod world;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, MutexGuard},
};

use axum::Router;
use tokio::net::TcpListener;

pub use config::SimConfig;
use faults::Faults;
pub use hooks::signature_256;
use payloads::Urls;
use world::World;

/// The simulator: shared state behind every handler.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

struct Inner {
    config: SimConfig,
    urls: Urls,
    world: Mutex<World>,
    faults: Mutex<Faults>,
    rate_limits: Mutex<auth::RateLimits>,
    http: reqwest::Client,
    /// What forgelink asked of the API, so benchmarks and tests can count calls.
    counters: Counters,
}

#[derive(Default)]
struct Counters {
    api_requests: std::sync::atomic::AtomicU64,
    installation_tokens: std::sync::atomic::AtomicU64,
}

impl Simulator {
    /// A simulator whose own origin is `origin` (e.g. `http://127.0.0.1:3100`).
    pub fn new(config: SimConfig, origin: &str) -> std::io::Result<Self> {
        let origin = origin.trim_end_matches('/').to_owned();
        let mut world = match &config.state_file {
            Some(path) => World::load(path)?,
            None => None,
        }
        .unwrap_or_else(|| World::seeded(&config.app.slug));
        if let Some(count) = config.large_org_repos {
            let members: Vec<_> = world.users().map(|u| u.id).collect();
            world.add_large_org("mega-corp", count, &members);
        }
        let http = reqwest::Client::builder()
            // GitHub gives up on a webhook after 10 seconds.
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(std::io::Error::other)?;
        let sim = Self {
            inner: Arc::new(Inner {
                urls: Urls { api: format!("{origin}/api/v3"), web: origin },
                config,
                world: Mutex::new(world),
                faults: Mutex::new(Faults::default()),
                rate_limits: Mutex::new(auth::RateLimits::default()),
                http,
                counters: Counters::default(),
            }),
        };
        sim.persist(&sim.world());
        Ok(sim)
    }

    pub fn config(&self) -> &SimConfig {
        &self.inner.config
    }

    pub fn urls(&self) -> &Urls {
        &self.inner.urls
    }

    /// The world, locked. Never hold the guard across an `.await`.
    pub fn world(&self) -> MutexGuard<'_, World> {
        // A panic while holding the lock leaves the data as it was: keep serving.
        self.inner.world.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn faults(&self) -> MutexGuard<'_, Faults> {
        self.inner.faults.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Saves the snapshot, when one is configured; a failure is logged, not fatal.
    fn persist(&self, world: &World) {
        if let Some(path) = &self.inner.config.state_file {
            if let Err(error) = world.save(path) {
                tracing::warn!(%error, path = %path.display(), "cannot save the simulator's state");
            }
        }
    }

    pub fn router(&self) -> Router {
        Router::new()
            .nest("/api/v3", api::router(self.clone()))
            .nest("/_sim", faults::router(self.clone()))
            .merge(pages::router(self.clone()))
    }
}

/// A simulator bound to a port and serving.
pub struct RunningSimulator {
    pub addr: SocketAddr,
    pub sim: Simulator,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// The simulator for a bound listener: its origin is `config.public_url`, or the listener's address.
fn for_listener(listener: &TcpListener, config: SimConfig) -> std::io::Result<Simulator> {
    let origin = match &config.public_url {
        Some(url) => url.clone(),
        None => format!("http://{}", listener.local_addr()?),
    };
    Simulator::new(config, &origin)
}

/// Serves on a listener bound beforehand, in a background task (tests bind first
/// so that forgelink can be told the simulator's address before it starts).
pub fn serve(listener: TcpListener, config: SimConfig) -> std::io::Result<RunningSimulator> {
    let addr = listener.local_addr()?;
    let sim = for_listener(&listener, config)?;
    let router = sim.router();
    let task = tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(RunningSimulator { addr, sim, task })
}

/// The `github-sim` binary: serves the simulator until the process is stopped
/// (its state file is replaced whole on each change, so stopping loses nothing).
pub async fn run_from_env() -> Result<(), Box<dyn std::error::Error>> {
    let config = SimConfig::from_env()?;
    let listener = TcpListener::bind(config.addr).await?;
    let sim = for_listener(&listener, config)?;
    tracing::info!(origin = %sim.urls().web, "GitHub simulator listening");
    axum::serve(listener, sim.router()).await?;
    Ok(())
}
