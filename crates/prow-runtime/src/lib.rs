//! Plumbing every long-running component shares (Prow's `pkg/flagutil/instrumentation.go`,
//! `pkg/interrupts`, `pkg/metrics`): the health port (`/healthz`, `/healthz/ready`), the metrics
//! port (`/metrics`), `--dry-run` parsing with Go's `--flag=false` form, shutdown on
//! SIGINT/SIGTERM, tracing setup, and the browser security headers ([`headers`]).

pub mod headers;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus::{Encoder, Registry, TextEncoder};
use tokio_util::sync::CancellationToken;

/// `--health-port`, `--metrics-port` (and the accepted-but-unused `--pprof-port`).
#[derive(Debug, Clone, clap::Args)]
pub struct InstrumentationArgs {
    /// Port serving `/healthz` and `/healthz/ready`.
    #[arg(long, default_value_t = 8081)]
    pub health_port: u16,
    /// Port serving Prometheus `/metrics`.
    #[arg(long, default_value_t = 9090)]
    pub metrics_port: u16,
    /// Accepted for compatibility with Prow's manifests; there is no pprof in Rust.
    #[arg(long, default_value_t = 6060)]
    pub pprof_port: u16,
}

/// Parses Go-style booleans (`true`, `false`, `1`, `0`, `t`, `f`) for flags such as `--dry-run`.
pub fn parse_go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        other => Err(format!("invalid boolean value {other:?}")),
    }
}

/// Readiness flag shared between a component and its health endpoint.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// Not ready yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Marks the component as serving.
    pub fn set_ready(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Whether the component is serving.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// `/healthz` → `OK` always; `/healthz/ready` → `OK` once ready, 503 before.
pub fn health_router(ready: Readiness) -> Router {
    async fn ready_handler(State(r): State<Readiness>) -> impl IntoResponse {
        if r.is_ready() {
            (StatusCode::OK, "OK")
        } else {
            (StatusCode::SERVICE_UNAVAILABLE, "not ready")
        }
    }
    Router::new()
        .route("/healthz", get(|| async { "OK" }))
        .route("/healthz/ready", get(ready_handler))
        .with_state(ready)
}

/// Renders `registry` in the Prometheus text format.
pub fn render_metrics(registry: &Registry) -> String {
    let mut buf = Vec::new();
    // Encoding into a Vec cannot fail for well-formed families.
    let _ = TextEncoder::new().encode(&registry.gather(), &mut buf);
    String::from_utf8(buf).unwrap_or_default()
}

/// `/metrics` for `registry`.
pub fn metrics_router(registry: Registry) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(r): State<Registry>| async move {
                (
                    [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                    render_metrics(&r),
                )
            }),
        )
        .with_state(registry)
}

/// A registry with Prow's `prow_version` gauge.
pub fn new_registry() -> Registry {
    let registry = Registry::new();
    if let Ok(g) = prometheus::Gauge::new(
        "prow_version",
        "Prow version (build timestamp), 0 when unknown.",
    ) {
        let _ = registry.register(Box::new(g));
    }
    registry
}

/// Binds `addr` and serves `router` until `shutdown` is cancelled.
pub async fn serve(
    addr: SocketAddr,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_on(listener, router, shutdown).await
}

/// Serves `router` on an already bound listener until `shutdown` is cancelled.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

/// Starts the health and metrics servers on their ports, on every interface (`0.0.0.0`, as in
/// Prow: the kubelet and Prometheus reach a pod on its pod IP), in the background.
pub async fn spawn_side_ports(
    args: &InstrumentationArgs,
    ready: Readiness,
    registry: Registry,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    spawn_side_ports_on("0.0.0.0", args, ready, registry, shutdown).await
}

/// [`spawn_side_ports`] bound to `address` (a host name or IP) instead of every interface;
/// `prow local` binds them where its main port is, so a loopback-only start stays loopback-only.
pub async fn spawn_side_ports_on(
    address: &str,
    args: &InstrumentationArgs,
    ready: Readiness,
    registry: Registry,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let health = tokio::net::TcpListener::bind((address, args.health_port)).await?;
    let metrics = tokio::net::TcpListener::bind((address, args.metrics_port)).await?;
    tokio::spawn(serve_on(health, health_router(ready), shutdown.clone()));
    tokio::spawn(serve_on(metrics, metrics_router(registry), shutdown));
    Ok(())
}

/// A token cancelled on SIGINT or SIGTERM (Prow's `interrupts`).
pub fn shutdown_on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(_) => {
                        let _ = ctrl_c.await;
                        t.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {},
                _ = term.recv() => {},
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutdown signal received");
        t.cancel();
    });
    token
}

/// Initializes JSON or human logs from `RUST_LOG` (default `info`). Safe to call twice.
pub fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_bools() {
        assert_eq!(parse_go_bool("false"), Ok(false));
        assert_eq!(parse_go_bool("1"), Ok(true));
        assert!(parse_go_bool("yes").is_err());
    }

    /// The local addresses (hex, as in `/proc/net/tcp`) listening on `port`.
    fn listening_on(port: u16) -> Vec<String> {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
        table
            .lines()
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let (ip, p) = f.get(1)?.split_once(':')?;
                (f.get(3) == Some(&"0A") && u16::from_str_radix(p, 16).ok()? == port)
                    .then(|| ip.to_string())
            })
            .collect()
    }

    #[tokio::test]
    async fn side_ports_bind_the_given_address() {
        let free = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        };
        let args = InstrumentationArgs {
            health_port: free(),
            metrics_port: free(),
            pprof_port: 0,
        };
        let token = CancellationToken::new();
        spawn_side_ports_on(
            "127.0.0.1",
            &args,
            Readiness::new(),
            new_registry(),
            token.clone(),
        )
        .await
        .unwrap();
        for port in [args.health_port, args.metrics_port] {
            assert_eq!(listening_on(port), ["0100007F"], "port {port}");
        }
        token.cancel();
    }

    #[tokio::test]
    async fn health_and_metrics_endpoints() {
        let ready = Readiness::new();
        let token = CancellationToken::new();
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let registry = new_registry();
        let app = health_router(ready.clone()).merge(metrics_router(registry));
        tokio::spawn(serve_on(l, app, token.clone()));
        let c = reqwest::Client::new();
        let get = |p: &str| c.get(format!("http://{addr}{p}")).send();
        let r = get("/healthz").await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "OK");
        assert_eq!(get("/healthz/ready").await.unwrap().status(), 503);
        ready.set_ready();
        assert_eq!(get("/healthz/ready").await.unwrap().status(), 200);
        let m = get("/metrics").await.unwrap().text().await.unwrap();
        assert!(m.contains("prow_version"), "{m}");
        token.cancel();
    }
}

use std::path::PathBuf;

/// `--config-path`, `--job-config-path` and supplemental config flags (Prow's `ConfigOptions`).
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// Path to the main config file.
    #[arg(long, default_value = "/etc/config/config.yaml")]
    pub config_path: PathBuf,
    /// Path to the job config file or directory.
    #[arg(long)]
    pub job_config_path: Option<PathBuf>,
    /// Directories with supplemental config files (repeatable).
    #[arg(long = "supplemental-prow-config-dir")]
    pub supplemental_prow_config_dirs: Vec<PathBuf>,
    /// Suffix of supplemental config files.
    #[arg(long, default_value = "_prowconfig.yaml")]
    pub supplemental_prow_configs_filename_suffix: String,
}

impl ConfigArgs {
    /// The loader options these flags describe.
    pub fn load_options(&self) -> prow_config::LoadOptions {
        prow_config::LoadOptions {
            config_path: self.config_path.clone(),
            job_config_path: self.job_config_path.clone(),
            supplemental_prow_config_dirs: self.supplemental_prow_config_dirs.clone(),
            supplemental_suffix: Some(self.supplemental_prow_configs_filename_suffix.clone()),
            strict: false,
        }
    }
}

/// The GitHub flags of every GitHub-facing component (spec §1.1).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GitHubArgs {
    /// GitHub API endpoint; repeat to list several (first = ghproxy, last = fallback).
    #[arg(long = "github-endpoint")]
    pub github_endpoint: Vec<String>,
    /// GitHub GraphQL endpoint.
    #[arg(long)]
    pub github_graphql_endpoint: Option<String>,
    /// GitHub host (accepted for compatibility; links use the API's URLs).
    #[arg(long, default_value = "github.com")]
    pub github_host: String,
    /// File holding a personal access token.
    #[arg(long)]
    pub github_token_path: Option<std::path::PathBuf>,
    /// GitHub App ID (with --github-app-private-key-path).
    #[arg(long)]
    pub github_app_id: Option<String>,
    /// GitHub App private key (PEM).
    #[arg(long)]
    pub github_app_private_key_path: Option<std::path::PathBuf>,
    /// Client-side throttle: tokens per hour (0 = off).
    #[arg(long, default_value_t = 0)]
    pub github_hourly_tokens: u32,
    /// Client-side throttle: burst size.
    #[arg(long, default_value_t = 0)]
    pub github_allowed_burst: u32,
}

impl GitHubArgs {
    /// The client flags, with the component's `--dry-run`.
    pub fn flags(&self, dry_run: bool) -> prow_github::client::GitHubFlags {
        prow_github::client::GitHubFlags {
            endpoints: self.github_endpoint.clone(),
            graphql_endpoint: self.github_graphql_endpoint.clone(),
            token_path: self.github_token_path.clone(),
            app_id: self.github_app_id.clone(),
            app_private_key_path: self.github_app_private_key_path.clone(),
            hourly_tokens: self.github_hourly_tokens,
            allowed_burst: self.github_allowed_burst,
            dry_run,
        }
    }

    /// Builds the real client (metrics registered in `registry`).
    pub fn client(
        &self,
        dry_run: bool,
        component: &str,
        registry: &Registry,
    ) -> anyhow::Result<prow_github::client::Client> {
        let cfg = self
            .flags(dry_run)
            .to_config(&format!("prow-rs/{component}"))?;
        Ok(prow_github::client::Client::new(cfg, Some(registry))?)
    }
}
