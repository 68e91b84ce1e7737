//! The forgelink server: configuration, database, router, workers.

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use forgelink::{
        server::{config::Config, shutdown, telemetry},
        startup::Application,
    };

    telemetry::init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `forgelink admin …` names operators.
    if args.first().map(String::as_str) == Some("admin") {
        return forgelink::server::admin::run(&args[1..]).await;
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
    if std::env::var_os("FORGELINK_ADMIN_EMAILS").is_some() {
        eprintln!(
            "forgelink: FORGELINK_ADMIN_EMAILS is no longer read; name operators with `forgelink admin grant EMAIL`"
        );
    }
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("forgelink: cannot start: {error}");
            tracing::error!(%error, "start-up failed");
            return std::process::ExitCode::FAILURE;
        }
    };
    match app.run_until_stopped(shutdown::signal()).await {
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
