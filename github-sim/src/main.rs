//! `github-sim`: serves the GitHub simulator, configured by the environment
//! (see `SimConfig::from_env`); `scripts/run` starts it.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "github_sim=info".into()),
        )
        .init();
    match github_sim::run_from_env().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("github-sim: {error}");
            std::process::ExitCode::from(2)
        }
    }
}
