//! The forgelink server: configuration, database, router, workers.

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use forgelink::server::{config::Config, startup::Application, telemetry};

    telemetry::init();
    // `forgelink github-sim` serves the GitHub simulator instead of the app.
    if std::env::args().nth(1).as_deref() == Some("github-sim") {
        return match forgelink::server::github_sim::run_from_env().await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("forgelink github-sim: {error}");
                std::process::ExitCode::from(2)
            }
        };
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            // Printed plainly as well: the subscriber may be filtered down to nothing.
            eprintln!("forgelink: configuration error: {error}");
            tracing::error!(%error, "invalid configuration");
            return std::process::ExitCode::from(2);
        }
    };
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("forgelink: cannot start: {error}");
            tracing::error!(%error, "start-up failed");
            return std::process::ExitCode::FAILURE;
        }
    };
    match app.run_until_stopped(forgelink::server::startup::shutdown_signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "server stopped with an error");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser side starts from `lib.rs::hydrate`; this binary needs the `ssr` feature.
}
