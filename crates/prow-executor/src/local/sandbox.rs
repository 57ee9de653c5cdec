//! Sandboxing a local job with bubblewrap (`bwrap`): the host's root read-only, the run
//! directory writable, a private `/tmp`, `/dev` and `/proc`, own PID namespace, and no network
//! unless the job asks for it.

use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::PodSpec;
use prow_api::ProwJob;

/// Label a job sets to `"true"` to keep network access inside the sandbox. The local executor's
/// own knob: a pod always has network, but local jobs run on the operator's machine, so the
/// safe default is none. A pod spec with `hostNetwork: true` counts as asking too.
pub const LOCAL_NETWORK_LABEL: &str = "prow.k8s.io/local-network";

/// Whether to sandbox local jobs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SandboxMode {
    /// Use bubblewrap when `bwrap` is on `PATH`, plain processes otherwise.
    #[default]
    Auto,
    /// Always use bubblewrap; jobs fail to start when it is missing.
    Bubblewrap,
    /// Plain processes.
    None,
}

/// A resolved sandbox: the `bwrap` binary to wrap commands with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bubblewrap {
    /// Path of `bwrap`.
    pub program: PathBuf,
}

/// Look `name` up on `PATH` (`None` when absent or not executable).
pub fn find_on_path(name: &str, path_var: Option<&str>) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    path_var?
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Whether a job may use the network inside the sandbox.
pub fn wants_network(job: &ProwJob) -> bool {
    job.label(LOCAL_NETWORK_LABEL) == Some("true")
        || job
            .spec
            .pod_spec
            .as_ref()
            .and_then(|p: &PodSpec| p.host_network)
            .unwrap_or(false)
}

impl Bubblewrap {
    /// The full argv running `argv` in the sandbox with `run_dir` writable and `cwd` as
    /// working directory. `--die-with-parent` ties the job to the executor's process, so a
    /// crashed executor leaves no orphans; no `--new-session`, so signals to the process group
    /// also reach the job's processes directly.
    pub fn wrap(&self, argv: &[String], run_dir: &Path, cwd: &Path, network: bool) -> Vec<String> {
        let run = run_dir.to_string_lossy().into_owned();
        let mut out: Vec<String> = vec![self.program.to_string_lossy().into_owned()];
        let mut push = |a: &[&str]| out.extend(a.iter().map(|s| s.to_string()));
        push(&["--die-with-parent", "--unshare-pid", "--unshare-ipc"]);
        if !network {
            push(&["--unshare-net"]);
        }
        push(&["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]);
        // The private /tmp comes before the run directory's bind mount, so a run directory
        // under /tmp stays visible.
        push(&["--tmpfs", "/tmp", "--bind", &run, &run]);
        push(&["--chdir", &cwd.to_string_lossy(), "--"]);
        out.extend(argv.iter().cloned());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_without_network() {
        let b = Bubblewrap {
            program: PathBuf::from("/usr/bin/bwrap"),
        };
        let argv = b.wrap(
            &["sh".into(), "-c".into(), "true".into()],
            Path::new("/w/j"),
            Path::new("/w/j/src"),
            false,
        );
        assert_eq!(
            argv.join(" "),
            "/usr/bin/bwrap --die-with-parent --unshare-pid --unshare-ipc --unshare-net \
             --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --bind /w/j /w/j \
             --chdir /w/j/src -- sh -c true"
        );
        let with_net = b.wrap(&["x".into()], Path::new("/r"), Path::new("/r"), true);
        assert!(!with_net.iter().any(|a| a == "--unshare-net"));
        assert!(with_net.iter().any(|a| a == "--die-with-parent"));
    }

    #[test]
    fn network_choice() {
        let mut job = ProwJob::default();
        assert!(!wants_network(&job));
        job.metadata.labels = Some(
            [(LOCAL_NETWORK_LABEL.to_string(), "true".to_string())]
                .into_iter()
                .collect(),
        );
        assert!(wants_network(&job));
        let mut job = ProwJob::default();
        job.spec.pod_spec = Some(PodSpec {
            host_network: Some(true),
            ..Default::default()
        });
        assert!(wants_network(&job));
    }

    #[test]
    fn path_lookup() {
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("tool");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        let plain = dir.path().join("plain");
        std::fs::write(&plain, "").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let p = format!("/nonexistent:{}", dir.path().display());
        assert_eq!(find_on_path("tool", Some(&p)), Some(exe));
        assert_eq!(find_on_path("plain", Some(&p)), None);
        assert_eq!(find_on_path("tool", None), None);
    }
}
