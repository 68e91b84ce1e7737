//! Builds the application so that `main` and the tests start it the same way:
//! the one place where the UI (`app`) is joined to the server (`server`).

use std::{future::Future, io, net::SocketAddr, sync::Arc};

use axum::{routing::get, Router};
use leptos_axum::{generate_route_list, LeptosRoutes};
use sqlx::PgPool;
use tokio::net::TcpListener;

use crate::{
    app::{shell, App},
    server::{
        accounts, assets,
        config::Config,
        db,
        github::{client::GitHubClient, installation_tokens::InstallationTokens},
        health, integrations, json_api, live, metrics, security, shutdown,
        state::AppState,
        tasks, telemetry,
        webhooks::{self, Dispatcher},
    },
};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot reach the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    stopping: shutdown::Stopping,
    workers: tokio::task::JoinSet<()>,
}

impl Application {
    /// Connects to the database, migrates it, and binds the listener.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        let pool = db::connect_lazy(&config)?;
        db::migrate_at_startup(&pool).await?;
        Self::build_with_pool(config, pool).await
    }

    /// As `build`, with a pool the caller made (tests pass a fresh database).
    pub async fn build_with_pool(config: Config, pool: PgPool) -> Result<Self, StartupError> {
        Self::build_with(config, pool, handlers()).await
    }

    /// As `build_with_pool`, with the event handlers given (tests use their own).
    pub async fn build_with(config: Config, pool: PgPool, dispatcher: Dispatcher) -> Result<Self, StartupError> {
        let addr = config.leptos.site_addr;
        let listener = TcpListener::bind(addr).await.map_err(|source| StartupError::Bind { addr, source })?;
        let bound = listener.local_addr().map_err(|source| StartupError::Bind { addr, source })?;
        let public_url_configured = config.public_url.is_some();
        let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{bound}"));
        accounts::spawn_sweeps(pool.clone());
        let github = GitHubClient::new(config.github);
        let state = AppState {
            leptos_options: config.leptos,
            pool: pool.clone(),
            installation_tokens: InstallationTokens::new(pool.clone(), github.clone(), config.cipher.clone()),
            github,
            cipher: config.cipher,
            public_url,
            public_url_configured,
            metrics: Default::default(),
            deliveries: webhooks::writer::DeliveryWriter::spawn(pool.clone()),
            live: live::Live::spawn(pool.clone()),
            trusted_proxies: config.trusted_proxies.into(),
            large_bodies: Default::default(),
            stopping: Default::default(),
            metrics_token: config.metrics_token,
        };
        let workers = if config.workers.workers > 0 {
            webhooks::worker::spawn(state.clone(), Arc::new(dispatcher), config.workers)
        } else {
            tokio::task::JoinSet::new()
        };
        if let Some(days) = config.event_retention_days {
            webhooks::retention::spawn(pool.clone(), days);
        }
        if let Some(every) = config.recovery_interval {
            webhooks::recovery::spawn_periodic(state.clone(), every);
        }
        if let Some(every) = config.resync_interval {
            tasks::import::spawn(state.clone(), every);
        }
        Ok(Self { listener, stopping: state.stopping.clone(), router: router(state), workers })
    }

    /// Every route, for tests that enumerate them (its `Debug` names each path).
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// The address actually bound (port 0 in the configuration picks a free one).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `signal` completes, then stops in order (see `shutdown`):
    /// in-flight requests and events finish, or are let go once the deadline
    /// comes.
    pub async fn run_until_stopped(self, signal: impl Future<Output = ()> + Send + 'static) -> io::Result<()> {
        tracing::info!(addr = %self.listener.local_addr()?, "forgelink listening");
        let service = self.router.into_make_service_with_connect_info::<SocketAddr>();
        // Streamed pages go out in several writes: without TCP_NODELAY, Nagle's
        // algorithm and delayed ACKs hold some of them back ~40 ms.
        let listener = axum::serve::ListenerExt::tap_io(self.listener, |tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY");
            }
        });
        let stopping = self.stopping.clone();
        let serving = axum::serve(listener, service).with_graceful_shutdown(async move {
            signal.await;
            stopping.begin();
        });
        let mut workers = self.workers;
        let drained = async {
            let served = serving.await;
            while workers.join_next().await.is_some() {}
            served
        };
        tokio::select! {
            served = drained => served,
            () = self.stopping.begun_for(shutdown::DEADLINE) => {
                tracing::warn!("still busy 10 s after the signal to stop; stopping anyway");
                Ok(())
            }
        }
    }
}

/// Every webhook handler forgelink ships.
pub fn handlers() -> Dispatcher {
    let dispatcher = integrations::webhook_handlers::register(Dispatcher::standard());
    tasks::webhook_handlers::register(dispatcher)
}

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let leptos_options = state.leptos_options.clone();
    let hashed_files = assets::HashedFiles::from_options(&leptos_options);
    // What people use: sessions, and the same-origin check on changes.
    let pages = Router::new()
        .merge(live::router())
        .merge(accounts::routes::router())
        .merge(integrations::routes::router())
        .merge(json_api::router())
        .leptos_routes_with_context(&state, routes, security::provide_page_nonce, move || shell(leptos_options.clone()))
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(security::provide_page_nonce, shell))
        .layer(axum::middleware::from_fn_with_state(hashed_files, assets::cache_headers))
        .layer(axum::middleware::from_fn_with_state(state.clone(), security::page_policy_header))
        .layer(accounts::session::layer(state.pool.clone(), state.over_https()))
        .layer(axum::middleware::from_fn_with_state(state.clone(), security::same_origin_only))
        // Forms and server functions are small: a larger body is refused
        // (413) from its Content-Length, before any of it is read.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(security::MAX_FORM_BODY))
        .layer(assets::compression());
    // What machines use (GitHub, probes, Prometheus): no session to load.
    let app = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .merge(webhooks::intake::router())
        .merge(pages)
        .layer(axum::middleware::from_fn_with_state(state.clone(), security::security_headers));
    telemetry::layer(app).with_state(state)
}
