//! A PostgreSQL cluster of a test's own, to stop and start under a running
//! server (the shared test cluster serves every other test). `scripts/lib.sh`
//! makes and runs it, as it does the project's own.

use std::{os::unix::fs::PermissionsExt, path::PathBuf, process::Command};

use super::binary::free_port;

pub struct Cluster {
    dir: PathBuf,
    port: u16,
    pub url: String,
}

impl Cluster {
    /// Creates and starts a cluster with one database, `forgelink`.
    pub fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("forgelink-cluster-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        // Run by root, the scripts run PostgreSQL as `postgres`, which must reach the folder.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut cluster = Self { dir, port: free_port(), url: String::new() };
        cluster.url = cluster.script(r#"start_db >&2; echo "$DATABASE_URL""#).expect("the cluster starts");
        cluster
    }

    /// Stops the server, its connections told it is shutting down (`pg_ctl -m fast`).
    pub fn stop(&self) {
        self.script(r#"pg_as_owner "$(pg_bin)/pg_ctl" stop -D "$(pg_data_dir)" -m fast -w >&2"#)
            .expect("the cluster stops");
    }

    /// Starts the stopped server again, on its port.
    pub fn restart(&self) {
        let url = self.script(r#"start_db >&2; echo "$DATABASE_URL""#).expect("the cluster starts again");
        assert_eq!(url, self.url, "the cluster came back on its own port");
    }

    /// Runs `script` after sourcing `scripts/lib.sh` for this cluster; its standard output.
    fn script(&self, script: &str) -> Result<String, String> {
        let output = Command::new("bash")
            .arg("-c")
            .arg(format!("source scripts/lib.sh; {script}"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("DATABASE_URL")
            .env("FORGELINK_DATA_DIR", &self.dir)
            .env("FORGELINK_PG_PORT", self.port.to_string())
            .output()
            .map_err(|e| e.to_string())?;
        if !output.status.success() {
            return Err(format!("{script}: {}", String::from_utf8_lossy(&output.stderr)));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.script(r#"pg_as_owner "$(pg_bin)/pg_ctl" stop -D "$(pg_data_dir)" -m immediate"#);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
