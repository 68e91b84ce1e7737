//! The real server binary, started as an operator would: its own process, on
//! a free port, configured by environment variables.

use std::{
    net::SocketAddr,
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::json;

use super::{deliveries::Delivery, github_env, TestApp};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Webhook workers in each process started here.
pub const WORKERS: usize = 2;

/// A running `forgelink` process; killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
}

impl Server {
    /// Starts the binary on `database_url`, with `WORKERS` workers and `env` on top.
    pub fn start(database_url: &str, port: u16, env: &[(&str, &str)]) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_forgelink"))
            .envs(github_env())
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_ENV", "PROD")
            .env("FORGELINK_WORKERS", WORKERS.to_string())
            .env("RUST_LOG", "error")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server binary starts");
        Self { child, port }
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// A browser of this server (an empty cookie jar).
    pub fn browser(&self) -> TestApp {
        TestApp::at(self.addr())
    }

    /// `/readyz`'s status, or `None` while nothing answers.
    pub async fn readiness(&self, client: &reqwest::Client) -> Option<u16> {
        let response = client.get(format!("http://{}/readyz", self.addr())).send().await.ok()?;
        Some(response.status().as_u16())
    }

    /// Waits (10 s at most) until `/readyz` answers 200.
    pub async fn wait_ready(&self, client: &reqwest::Client) {
        for _ in 0..200 {
            if self.readiness(client).await == Some(200) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not become ready");
    }

    /// SIGTERM, as an orchestrator stops it; how it exited (12 s at most).
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        let sent = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status().expect("kill runs");
        assert!(sent.success(), "SIGTERM sent");
        for _ in 0..240 {
            if let Some(status) = self.child.try_wait().expect("the process can be waited for") {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("still running 12 s after SIGTERM");
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Delivers a signed `ping` as GitHub would; its delivery id, if acknowledged (2xx).
pub async fn deliver_ping(client: &reqwest::Client, addr: SocketAddr, hook_id: usize) -> Option<String> {
    let ping = Delivery::new("ping", json!({"zen": "Approachable is better than simple.", "hook_id": hook_id}));
    let response = ping.request(client, &format!("http://{addr}")).send().await.ok()?;
    response.status().is_success().then_some(ping.id)
}
