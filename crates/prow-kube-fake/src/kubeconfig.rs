//! Serving the fake over TCP and writing kubeconfig files that point at it, for black-box
//! tests of built binaries (several fakes can run side by side as separate "build clusters").

use std::io;
use std::net::SocketAddr;
use std::path::Path;

use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::FakeKube;

/// One context of a generated kubeconfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeconfigContext {
    /// Context name (also used as cluster and user name).
    pub name: String,
    /// Server URL, e.g. `http://127.0.0.1:34567`.
    pub server: String,
    /// Default namespace of the context.
    pub namespace: Option<String>,
}

impl KubeconfigContext {
    /// A context named `name` for `server`.
    pub fn new(name: &str, server: &str) -> Self {
        KubeconfigContext {
            name: name.to_string(),
            server: server.to_string(),
            namespace: None,
        }
    }

    /// Sets the default namespace.
    pub fn namespace(mut self, ns: &str) -> Self {
        self.namespace = Some(ns.to_string());
        self
    }
}

/// Renders a kubeconfig with the given contexts; `current` becomes `current-context`.
/// Users carry a dummy bearer token: the fake does not check authentication.
pub fn kubeconfig_yaml(contexts: &[KubeconfigContext], current: &str) -> String {
    let clusters: Vec<_> = contexts
        .iter()
        .map(|c| json!({"name": c.name, "cluster": {"server": c.server}}))
        .collect();
    let users: Vec<_> = contexts
        .iter()
        .map(|c| json!({"name": c.name, "user": {"token": "fake-token"}}))
        .collect();
    let ctxs: Vec<_> = contexts
        .iter()
        .map(|c| {
            let mut ctx = json!({"cluster": c.name, "user": c.name});
            if let Some(ns) = &c.namespace {
                ctx["namespace"] = json!(ns);
            }
            json!({"name": c.name, "context": ctx})
        })
        .collect();
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": clusters,
        "users": users,
        "contexts": ctxs,
        "current-context": current,
    });
    // JSON is valid YAML, so fall back to it should YAML rendering ever fail.
    serde_saphyr::to_string(&doc).unwrap_or_else(|_| doc.to_string())
}

/// Writes [`kubeconfig_yaml`] to `path`.
pub fn write_kubeconfig(
    path: &Path,
    contexts: &[KubeconfigContext],
    current: &str,
) -> io::Result<()> {
    std::fs::write(path, kubeconfig_yaml(contexts, current))
}

/// A fake served on a TCP socket. Dropping it stops the server.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    fake: FakeKube,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The served fake.
    pub fn fake(&self) -> &FakeKube {
        &self.fake
    }

    /// A one-context kubeconfig for this server.
    pub fn kubeconfig(&self, context: &str, namespace: Option<&str>) -> String {
        let mut ctx = KubeconfigContext::new(context, &self.url());
        ctx.namespace = namespace.map(str::to_string);
        kubeconfig_yaml(&[ctx], context)
    }

    /// Writes a one-context kubeconfig for this server to `path`.
    pub fn write_kubeconfig(&self, path: &Path, context: &str) -> io::Result<()> {
        std::fs::write(path, self.kubeconfig(context, None))
    }

    /// Stops accepting connections, ends open watches and waits for the server task.
    pub async fn shutdown(mut self) {
        self.signal();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    fn signal(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
            // Open watch streams would otherwise keep graceful shutdown waiting.
            self.fake.close_watches();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.signal();
    }
}

/// Serves `fake` on `addr` (use port 0 for a free port); returns the bound address.
pub async fn serve(addr: SocketAddr, fake: FakeKube) -> io::Result<(SocketAddr, ServerHandle)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let app = fake.router();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(e) = server.await {
            tracing::warn!(error = %e, "fake kube server stopped with an error");
        }
    });
    let handle = ServerHandle {
        addr,
        fake,
        stop: Some(stop),
        task: Some(task),
    };
    Ok((addr, handle))
}

impl FakeKube {
    /// Serves this fake on `127.0.0.1` at a free port.
    pub async fn serve(&self) -> io::Result<ServerHandle> {
        let (_, handle) = serve(SocketAddr::from(([127, 0, 0, 1], 0)), self.clone()).await?;
        Ok(handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_has_every_context() {
        let yaml = kubeconfig_yaml(
            &[
                KubeconfigContext::new("default", "http://127.0.0.1:1"),
                KubeconfigContext::new("build-1", "http://127.0.0.1:2").namespace("test-pods"),
            ],
            "default",
        );
        let doc: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(doc["current-context"], "default");
        assert_eq!(
            doc["clusters"][1]["cluster"]["server"],
            "http://127.0.0.1:2"
        );
        assert_eq!(doc["contexts"][1]["context"]["namespace"], "test-pods");
    }
}
