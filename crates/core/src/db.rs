//! Postgres: the schema migrations, and finding or starting a server.
//!
//! [`provision`] is what `meridian demo` and the test suite use: reuse the server at
//! `DATABASE_URL` when it answers; otherwise start a private cluster from the system's
//! Postgres binaries (installed with apt-get when missing and running as root).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/meridian";
/// Port of the private cluster started when no server answers.
const PRIVATE_PORT: u16 = 55432;

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(
        "no Postgres answers at {url} and none is installed; install it with: sudo apt-get install -y postgresql"
    )]
    NotInstalled { url: String },
    #[error("starting a private Postgres failed: {0}")]
    Start(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The configured database URL (`DATABASE_URL` or the default).
pub fn configured_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string())
}

/// Returns a URL of a running server whose database exists, starting one if needed.
/// `home` holds a private cluster when one has to be started (as root:
/// `/var/lib/meridian/pg`).
pub async fn provision(url: &str, home: &Path) -> Result<String, ProvisionError> {
    if server_answers(url).await {
        create_database(url).await?;
        return Ok(url.to_string());
    }
    let database = PgConnectOptions::from_str(url)?
        .get_database()
        .unwrap_or("meridian")
        .to_string();
    let private = format!("postgres://postgres@127.0.0.1:{PRIVATE_PORT}/{database}");
    if !server_answers(&private).await {
        start_private_cluster(&home.join("pg"))?;
    }
    create_database(&private).await?;
    Ok(private)
}

async fn server_answers(url: &str) -> bool {
    let Ok(opts) = PgConnectOptions::from_str(url) else {
        return false;
    };
    let opts = opts.database("postgres");
    matches!(
        tokio::time::timeout(Duration::from_secs(3), opts.connect()).await,
        Ok(Ok(_))
    )
}

/// Creates the URL's database unless it exists.
pub async fn create_database(url: &str) -> Result<(), ProvisionError> {
    let opts = PgConnectOptions::from_str(url)?;
    let name = opts.get_database().unwrap_or("meridian").to_string();
    let mut admin = opts.database("postgres").connect().await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut admin)
            .await
        {
            // Another process may have created it at the same moment.
            let raced = e
                .as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|c| c == "42P04" || c == "23505");
            if !raced {
                return Err(e.into());
            }
        }
    }
    Ok(())
}

/// Connects and applies the migrations.
pub async fn connect_and_migrate(url: &str) -> Result<PgPool, ProvisionError> {
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| ProvisionError::Db(e.into()))?;
    Ok(pool)
}

fn pg_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .filter(|p| p.join("initdb").exists())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn run(cmd: &mut Command) -> Result<(), ProvisionError> {
    let out = cmd.output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(ProvisionError::Start(format!(
            "{:?} failed: {}",
            cmd,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Runs a Postgres binary, as the `postgres` user when we are root (initdb refuses root).
fn pg_command(bin: &Path, as_postgres: bool) -> Command {
    let mut c = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    c.current_dir("/");
    c
}

/// Where the private cluster lives when running as root: initdb refuses root, and the
/// `postgres` user it runs as cannot enter root's home directory.
const ROOT_CLUSTER_DIR: &str = "/var/lib/meridian/pg";

fn start_private_cluster(dir: &Path) -> Result<(), ProvisionError> {
    let root = is_root();
    let dir = if root {
        Path::new(ROOT_CLUSTER_DIR)
    } else {
        dir
    };
    let bin = match pg_bin_dir() {
        Some(b) => b,
        None if root => {
            eprintln!("meridian: installing PostgreSQL with apt-get");
            run(Command::new("apt-get").arg("update").arg("-qq"))?;
            run(Command::new("apt-get")
                .args(["install", "-y", "-qq", "postgresql"])
                .env("DEBIAN_FRONTEND", "noninteractive"))?;
            pg_bin_dir().ok_or_else(|| {
                ProvisionError::Start("postgresql installed but initdb not found".into())
            })?
        }
        None => {
            return Err(ProvisionError::NotInstalled {
                url: configured_url(),
            });
        }
    };
    std::fs::create_dir_all(dir)?;
    if root {
        run(Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir))?;
    }
    if !dir.join("PG_VERSION").exists() {
        run(pg_command(&bin.join("initdb"), root)
            .arg("-D")
            .arg(dir)
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"]))?;
    }
    let options = format!(
        "-p {PRIVATE_PORT} -c listen_addresses=127.0.0.1 -k {}",
        dir.display()
    );
    run(pg_command(&bin.join("pg_ctl"), root)
        .arg("-D")
        .arg(dir)
        .args(["-o", &options, "-w", "-l"])
        .arg(dir.join("postgres.log"))
        .arg("start"))
}
