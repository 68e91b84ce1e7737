//! `forgelink admin …`, run on the server: the one way to make an operator, so
//! neither being first nor typing a listed address into a sign-up form is.

use std::process::ExitCode;

use sqlx::postgres::PgPoolOptions;

use super::{accounts::service, db};

const USAGE: &str = "usage: forgelink admin grant EMAIL | revoke EMAIL | list";

/// `args`: what follows `admin` on the command line. Needs only `DATABASE_URL`.
pub async fn run(args: &[String]) -> ExitCode {
    let command = match args {
        [verb, email] if verb == "grant" => Command::Grant(email, true),
        [verb, email] if verb == "revoke" => Command::Grant(email, false),
        [verb] if verb == "list" => Command::List,
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match execute(command).await {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("forgelink admin: {message}");
            ExitCode::FAILURE
        }
    }
}

enum Command<'a> {
    Grant(&'a str, bool),
    List,
}

async fn execute(command: Command<'_>) -> Result<String, String> {
    let _ = dotenvy::dotenv();
    let url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set".to_owned())?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .map_err(|e| format!("cannot reach the database: {e}"))?;
    // Run before the server ever has: the schema must exist to name an operator.
    db::MIGRATOR.run(&pool).await.map_err(|e| format!("migrations failed: {e}"))?;
    match command {
        Command::Grant(email, operator) => {
            let user = service::set_operator(&pool, email, operator).await.map_err(|e| e.to_string())?;
            tracing::info!(user_id = user.id, operator, "operator rights changed from the command line");
            Ok(if operator {
                format!("{} is an operator.", user.email)
            } else {
                format!("{} is no longer an operator.", user.email)
            })
        }
        Command::List => {
            let operators = service::operators(&pool).await.map_err(|e| format!("the database failed: {e}"))?;
            if operators.is_empty() {
                return Ok("No operators yet. Sign up, then run: forgelink admin grant YOUR-EMAIL".into());
            }
            Ok(operators.iter().map(|u| u.email.as_str()).collect::<Vec<_>>().join("\n"))
        }
    }
}
