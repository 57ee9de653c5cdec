//! Build-cluster clients from kubeconfig files, as Prow's `LoadClusterConfigs` does: every
//! kubeconfig context is a build cluster whose alias is the context name; the alias `default`
//! (unless a context has that name) is the in-cluster config or, outside a cluster, the current
//! context.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig};

/// Alias of the default build cluster.
pub const DEFAULT_CLUSTER_ALIAS: &str = prow_api::prowjob::DEFAULT_CLUSTER_ALIAS;

/// Where build-cluster credentials come from (Prow's `--kubeconfig`, `--kubeconfig-dir`,
/// `--kubeconfig-suffix`, disabled clusters, in-cluster config).
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// One kubeconfig file.
    pub kubeconfig: Option<PathBuf>,
    /// A directory of kubeconfig files (sub-directories and `..*` files are ignored).
    pub kubeconfig_dir: Option<PathBuf>,
    /// Only files of `kubeconfig_dir` with this suffix are read.
    pub kubeconfig_suffix: String,
    /// Contexts to ignore.
    pub disabled_clusters: BTreeSet<String>,
    /// Do not use the in-cluster config even when running in a pod.
    pub no_in_cluster: bool,
}

/// Why build clusters could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// A file or directory could not be read or parsed.
    #[error("kubeconfig {path}: {reason}")]
    Kubeconfig {
        /// The offending path (or `$KUBECONFIG`).
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// Two files define the same context.
    #[error("context {0} occurred more than once in the kubeconfig files")]
    DuplicateContext(String),
    /// Neither in-cluster config nor a current context is available.
    #[error("no prow cluster access: in-cluster config or current kubeconfig context required")]
    NoDefault,
    /// A client could not be built for a context.
    #[error("cluster {alias}: {reason}")]
    Client {
        /// The alias.
        alias: String,
        /// What went wrong.
        reason: String,
    },
}

/// How to reach one build cluster.
#[derive(Debug, Clone)]
pub enum ClusterSource {
    /// A context of a kubeconfig.
    Context {
        /// The kubeconfig holding it.
        kubeconfig: Box<Kubeconfig>,
        /// Context name.
        context: String,
    },
    /// The pod's service account.
    InCluster,
}

/// The kubeconfig files named by `opts`, in Prow's order (file, then the directory's files
/// sorted by name).
pub fn candidate_files(opts: &ClusterOptions) -> Result<Vec<PathBuf>, ClusterError> {
    let mut files: Vec<PathBuf> = opts.kubeconfig.iter().cloned().collect();
    if let Some(dir) = &opts.kubeconfig_dir {
        let read_err = |e: std::io::Error| ClusterError::Kubeconfig {
            path: dir.display().to_string(),
            reason: e.to_string(),
        };
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_err)? {
            let entry = entry.map_err(read_err)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            // `..data` and friends are Kubernetes' atomic-writer bookkeeping for mounted secrets.
            if is_dir || name.starts_with("..") || !name.ends_with(&opts.kubeconfig_suffix) {
                continue;
            }
            found.push(entry.path());
        }
        found.sort();
        files.extend(found);
    }
    Ok(files)
}

fn read_kubeconfig(path: &Path) -> Result<Kubeconfig, ClusterError> {
    Kubeconfig::read_from(path).map_err(|e| ClusterError::Kubeconfig {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// Resolves aliases to sources. `kubeconfigs` are the parsed files in order; `in_cluster`
/// says whether the in-cluster config is usable. Pure, so the alias rules are testable.
pub fn resolve_sources(
    kubeconfigs: Vec<Kubeconfig>,
    in_cluster: bool,
    disabled: &BTreeSet<String>,
) -> Result<BTreeMap<String, ClusterSource>, ClusterError> {
    let mut out = BTreeMap::new();
    let mut current = None;
    for kc in kubeconfigs {
        if let Some(cur) = kc
            .current_context
            .as_ref()
            .filter(|c| !disabled.contains(*c))
        {
            current = Some(cur.clone());
        }
        let kc = Box::new(kc);
        for ctx in &kc.contexts {
            if disabled.contains(&ctx.name) {
                continue;
            }
            if out.contains_key(&ctx.name) {
                return Err(ClusterError::DuplicateContext(ctx.name.clone()));
            }
            out.insert(
                ctx.name.clone(),
                ClusterSource::Context {
                    kubeconfig: kc.clone(),
                    context: ctx.name.clone(),
                },
            );
        }
    }
    let default = if in_cluster {
        ClusterSource::InCluster
    } else if let Some(src) = current.as_ref().and_then(|c| out.get(c)) {
        src.clone()
    } else {
        return Err(ClusterError::NoDefault);
    };
    out.entry(DEFAULT_CLUSTER_ALIAS.to_string())
        .or_insert(default);
    Ok(out)
}

/// The files of a `$KUBECONFIG`-style list merged by kubectl's rules (the first file to set a
/// value wins, so `current-context` comes from the first file that has one); `None` when the
/// list names no file.
pub fn merged_kubeconfig(paths: &[PathBuf]) -> Result<Option<Kubeconfig>, ClusterError> {
    let mut merged: Option<Kubeconfig> = None;
    for path in paths.iter().filter(|p| !p.as_os_str().is_empty()) {
        let next = read_kubeconfig(path)?;
        merged = Some(match merged {
            None => next,
            Some(m) => m.merge(next).map_err(|e| ClusterError::Kubeconfig {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?,
        });
    }
    Ok(merged)
}

fn in_cluster_available(opts: &ClusterOptions) -> bool {
    !opts.no_in_cluster && std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
}

/// Builds a client per alias from `opts` (falling back to `$KUBECONFIG`, several files merged,
/// when neither a file nor a directory is given).
pub async fn load_clients(
    opts: &ClusterOptions,
) -> Result<BTreeMap<String, kube::Client>, ClusterError> {
    let files = candidate_files(opts)?;
    let kubeconfigs = if files.is_empty() {
        let paths: Vec<PathBuf> = std::env::var_os("KUBECONFIG")
            .map(|v| std::env::split_paths(&v).collect())
            .unwrap_or_default();
        match merged_kubeconfig(&paths) {
            Ok(Some(kc)) => vec![kc],
            Ok(None) => Vec::new(),
            Err(e) => {
                // Prow only warns here: the in-cluster config may still be enough.
                tracing::warn!(error = %e, "cannot load $KUBECONFIG");
                Vec::new()
            }
        }
    } else {
        files
            .iter()
            .map(|f| read_kubeconfig(f))
            .collect::<Result<Vec<_>, _>>()?
    };
    let sources = resolve_sources(
        kubeconfigs,
        in_cluster_available(opts),
        &opts.disabled_clusters,
    )?;
    let mut clients = BTreeMap::new();
    for (alias, source) in sources {
        let client = client_for(&alias, source).await?;
        clients.insert(alias, client);
    }
    Ok(clients)
}

/// A client for one source.
pub async fn client_for(alias: &str, source: ClusterSource) -> Result<kube::Client, ClusterError> {
    let err = |reason: String| ClusterError::Client {
        alias: alias.to_string(),
        reason,
    };
    let config = match source {
        ClusterSource::InCluster => kube::Config::incluster().map_err(|e| err(e.to_string()))?,
        ClusterSource::Context {
            kubeconfig,
            context,
        } => {
            let options = KubeConfigOptions {
                context: Some(context),
                ..Default::default()
            };
            kube::Config::from_custom_kubeconfig(*kubeconfig, &options)
                .await
                .map_err(|e| err(e.to_string()))?
        }
    };
    kube::Client::try_from(config).map_err(|e| err(e.to_string()))
}
