//! Sandboxing a local job with bubblewrap (`bwrap`).
//!
//! A sandboxed job sees the host's root read-only, minus what it must not see: the
//! [hidden paths](LocalSandbox::hidden) (the data dir, secret files, config files, the daemons'
//! sockets under `/run`, well-known credential stores in `$HOME`) are replaced by an empty
//! read-only directory or an unreadable file. Its run directory is the only writable host
//! directory, and inside it the executor's own state (`run.json`, `logs/`) stays read-only.
//! `/tmp`, `/dev`, `/proc` are private; PID, IPC, UTS, cgroup and (where bwrap can) user
//! namespaces are new; every capability is dropped, so even a job started by root cannot
//! remount what it was given; and there is no network unless the job asks for it.
//!
//! Why the host's root rather than a minimal bind set: a Prow job expects a whole image, and
//! on a laptop its toolchains live anywhere (`/usr/local`, `/opt`, `$HOME/.cargo`, …); a
//! minimal set would break jobs in ways their authors cannot predict. What is secret is known
//! (the executor's caller names it) and hidden instead.
//!
//! When bubblewrap is missing or cannot create its namespaces the executor refuses jobs with
//! a message saying how to fix it ([`SandboxUnavailable`]); it never silently runs them
//! unsandboxed. Only [`SandboxMode::Unsandboxed`], an explicit choice, does that.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use k8s_openapi::api::core::v1::PodSpec;
use prow_api::ProwJob;

/// Label a job sets to `"true"` to keep network access inside the sandbox. The local executor's
/// own knob: a pod always has network, but local jobs run on the operator's machine, so the
/// safe default is none. A pod spec with `hostNetwork: true` counts as asking too.
pub const LOCAL_NETWORK_LABEL: &str = "prow.k8s.io/local-network";

/// Where a job's DNS configuration usually points when it is not a plain file: bound back
/// read-only when it lies under a hidden directory (systemd-resolved's under `/run`), so jobs
/// that ask for network can still resolve names.
pub const RESOLV_CONF: &str = "/etc/resolv.conf";

/// Credential stores under `$HOME` hidden from jobs by default: keys and tokens a job has no
/// business reading even without network (it could copy them into its artifacts).
pub const HOME_SECRETS: &[&str] = &[
    ".ssh",
    ".gnupg",
    ".aws",
    ".azure",
    ".kube",
    ".docker",
    ".config/gcloud",
    ".config/gh",
    ".config/hub",
    ".git-credentials",
    ".netrc",
    ".pgpass",
    ".password-store",
];

/// Whether and how to sandbox local jobs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SandboxMode {
    /// Bubblewrap, `bwrap` found on `PATH`. When it is missing or unusable, jobs are refused.
    #[default]
    Bubblewrap,
    /// Bubblewrap at this path. When it is missing or unusable, jobs are refused.
    BubblewrapAt(PathBuf),
    /// No sandbox: jobs are plain processes with the executor's rights (they can read its
    /// secrets, write its files and reach every local port). Only on explicit request.
    Unsandboxed,
}

/// Why jobs cannot be sandboxed; the message says how to fix it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SandboxUnavailable {
    /// No `bwrap` binary.
    #[error(
        "jobs are refused because they cannot be sandboxed: bubblewrap is not installed \
         ({looked_for}). Install it (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: \
         `dnf install bubblewrap`) and restart, or accept running jobs with this user's rights: \
         `prow local --unsafe-unsandboxed-jobs`"
    )]
    NotInstalled {
        /// What was searched.
        looked_for: String,
    },
    /// `bwrap` exists but the kernel refuses it the namespaces it needs.
    #[error(
        "jobs are refused because they cannot be sandboxed: {program} cannot create its \
         namespaces, the kernel refuses user namespaces ({reason}). {fix}, or accept running \
         jobs with this user's rights: `prow local --unsafe-unsandboxed-jobs`. bwrap said: {detail}"
    )]
    NoUserNamespaces {
        /// The `bwrap` binary.
        program: String,
        /// Which kernel setting refuses them.
        reason: String,
        /// How to allow them.
        fix: String,
        /// What bwrap printed.
        detail: String,
    },
    /// `bwrap` failed for another reason.
    #[error(
        "jobs are refused because they cannot be sandboxed: {program} failed to start a test \
         sandbox: {detail}. Fix bubblewrap (try `{program} --ro-bind / / --unshare-net true`), \
         or accept running jobs with this user's rights: `prow local --unsafe-unsandboxed-jobs`"
    )]
    Failed {
        /// The `bwrap` binary.
        program: String,
        /// What went wrong.
        detail: String,
    },
}

/// A resolved sandbox: the `bwrap` binary to wrap commands with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bubblewrap {
    /// Path of `bwrap`.
    pub program: PathBuf,
}

/// A host path a job must not see.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Hidden {
    /// A directory: an empty read-only tmpfs takes its place.
    Dir(PathBuf),
    /// Anything else: `/dev/null` is bound over it (reads fail).
    File(PathBuf),
}

impl Hidden {
    /// The hidden path.
    pub fn path(&self) -> &Path {
        match self {
            Hidden::Dir(p) | Hidden::File(p) => p,
        }
    }
}

/// What one sandboxed process sees of the host, besides the read-only root.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LocalSandbox {
    /// The run directory: the only writable host directory.
    pub run_dir: PathBuf,
    /// Paths in the run directory kept read-only (the executor's state and logs, which it
    /// reads and uploads after the job: the job must not swap them for links to host files).
    pub read_only: Vec<PathBuf>,
    /// Host paths the job must not see (canonical: [`resolve_hidden`]).
    pub hidden: Vec<Hidden>,
    /// Host paths bound back read-only when they lie under a hidden directory.
    pub exposed: Vec<PathBuf>,
    /// Working directory.
    pub cwd: PathBuf,
    /// Keep the host's network.
    pub network: bool,
}

/// Look `name` up on `PATH` (`None` when absent or not executable).
pub fn find_on_path(name: &str, path_var: Option<&str>) -> Option<PathBuf> {
    path_var?
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
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

/// Paths hidden from every sandboxed job whatever the caller adds: the daemons' sockets under
/// `/run` (a Docker or D-Bus socket is a way out of any sandbox) and [`HOME_SECRETS`].
pub fn default_hidden_paths(home: Option<&Path>) -> Vec<PathBuf> {
    let mut out = vec![PathBuf::from("/run")];
    if let Some(home) = home.filter(|h| h.is_absolute() && *h != Path::new("/")) {
        out.extend(HOME_SECRETS.iter().map(|s| home.join(s)));
    }
    out
}

/// The existing ones of `paths`, canonical (so a symlink hides its target, and the job cannot
/// reach it by another name), each as a directory or a file. Missing paths have nothing to
/// hide.
pub fn resolve_hidden(paths: &[PathBuf]) -> Vec<Hidden> {
    let mut out: Vec<Hidden> = paths
        .iter()
        .filter_map(|p| {
            let canonical = std::fs::canonicalize(p).ok()?;
            let meta = std::fs::metadata(&canonical).ok()?;
            Some(if meta.is_dir() {
                Hidden::Dir(canonical)
            } else {
                Hidden::File(canonical)
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Canonical paths to bind back read-only under hidden directories: the target of
/// [`RESOLV_CONF`] when it is a link (e.g. into `/run/systemd/resolve`).
pub fn resolve_exposed() -> Vec<PathBuf> {
    std::fs::canonicalize(RESOLV_CONF)
        .ok()
        .filter(|p| p != Path::new(RESOLV_CONF))
        .into_iter()
        .collect()
}

/// One mount of the sandbox, in the order bwrap must apply them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    Hide(Hidden),
    Run,
    ReadOnly,
    Expose,
}

fn depth(p: &Path) -> usize {
    p.components().count()
}

/// bwrap's isolation flags: new namespaces (user where bwrap can: as root it keeps the host's
/// user namespace otherwise), no capabilities, no network unless `network`.
fn isolation(network: bool) -> Vec<&'static str> {
    let mut v = vec![
        "--die-with-parent",
        "--unshare-user-try",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
    ];
    if !network {
        v.push("--unshare-net");
    }
    // Without this a job started by root keeps CAP_SYS_ADMIN and simply remounts `/`
    // read-write or unmounts what hides the secrets.
    v.extend(["--cap-drop", "ALL"]);
    v
}

impl Bubblewrap {
    /// The `bwrap` to use for `mode` (`None`: no sandbox), with `PATH` = `path_var`. Does not
    /// run it: see [`Bubblewrap::probe`].
    pub fn resolve(
        mode: &SandboxMode,
        path_var: Option<&str>,
    ) -> Result<Option<Bubblewrap>, SandboxUnavailable> {
        match mode {
            SandboxMode::Unsandboxed => Ok(None),
            SandboxMode::Bubblewrap => find_on_path("bwrap", path_var)
                .map(|program| Some(Bubblewrap { program }))
                .ok_or_else(|| SandboxUnavailable::NotInstalled {
                    looked_for: format!("no `bwrap` on PATH={}", path_var.unwrap_or("")),
                }),
            SandboxMode::BubblewrapAt(p) => {
                if is_executable(p) {
                    Ok(Some(Bubblewrap { program: p.clone() }))
                } else {
                    Err(SandboxUnavailable::NotInstalled {
                        looked_for: format!("no executable at {}", p.display()),
                    })
                }
            }
        }
    }

    /// Runs `true` in a sandbox built like a job's (`hidden`, a scratch run directory with a
    /// read-only part, no network), to learn once whether bwrap works here.
    pub fn probe(&self, hidden: &[Hidden]) -> Result<(), SandboxUnavailable> {
        let program = self.program.display().to_string();
        let failed = |detail: String| SandboxUnavailable::Failed {
            program: program.clone(),
            detail,
        };
        let scratch = tempfile::Builder::new()
            .prefix("prow-sandbox-probe-")
            .tempdir()
            .map_err(|e| failed(format!("cannot create a scratch directory: {e}")))?;
        let run = scratch.path().join("run");
        std::fs::create_dir_all(run.join("logs"))
            .map_err(|e| failed(format!("cannot create a scratch directory: {e}")))?;
        let spec = LocalSandbox {
            run_dir: run.clone(),
            read_only: vec![run.join("logs")],
            hidden: hidden.to_vec(),
            exposed: Vec::new(),
            cwd: run,
            network: false,
        };
        let argv = self.wrap(&["true".to_string()], &spec);
        let out = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| failed(format!("cannot run it: {e}")))?;
        if out.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        let detail = if stderr.is_empty() {
            format!("{}", out.status)
        } else {
            stderr
        };
        Err(diagnose(&program, &detail, &UsernsSettings::read()))
    }

    /// The full argv running `argv` in the sandbox `s`. `--die-with-parent` ties the job to
    /// the executor's process, so a crashed executor leaves no orphans; no `--new-session`, so
    /// signals to the process group also reach the job's processes directly.
    ///
    /// Mounts go from the outermost path in: the read-only root, private `/dev`, `/proc` and
    /// `/tmp`, then every hidden path, the run directory, its read-only parts and the exposed
    /// paths sorted by depth (a run directory under the hidden data dir is bound after the
    /// data dir is covered), and last the hidden directories are made read-only (once the
    /// mount points under them exist).
    pub fn wrap(&self, argv: &[String], s: &LocalSandbox) -> Vec<String> {
        let str_of = |p: &Path| p.to_string_lossy().into_owned();
        let mut out: Vec<String> = vec![str_of(&self.program)];
        out.extend(isolation(s.network).into_iter().map(String::from));
        out.extend(
            [
                "--ro-bind",
                "/",
                "/",
                "--dev",
                "/dev",
                "--proc",
                "/proc",
                "--tmpfs",
                "/tmp",
            ]
            .map(String::from),
        );
        // Already covered: `/tmp`, hidden directories, and (for binds) anything covered by
        // nothing at all. `/` itself cannot be hidden and still run a process.
        let tmp = Path::new("/tmp");
        let usable = |p: &Path| p.is_absolute() && p != Path::new("/");
        let hidden_dirs: Vec<&Path> = s
            .hidden
            .iter()
            .filter_map(|h| match h {
                Hidden::Dir(p) if usable(p) => Some(p.as_path()),
                _ => None,
            })
            .chain([tmp])
            .collect();
        let under_hidden_dir = |p: &Path, strict: bool| {
            hidden_dirs
                .iter()
                .any(|d| p.starts_with(d) && (!strict || p != *d))
        };
        let mut layers: Vec<(usize, Layer, PathBuf)> = Vec::new();
        for h in &s.hidden {
            let p = h.path();
            let covered = under_hidden_dir(p, true) && !p.starts_with(&s.run_dir);
            if !usable(p) || covered {
                continue;
            }
            // A hidden directory holding the run directory is still hidden around it; one
            // inside the run directory is hidden too (it is mounted after the run directory).
            layers.push((depth(p), Layer::Hide(h.clone()), p.to_path_buf()));
        }
        layers.push((depth(&s.run_dir), Layer::Run, s.run_dir.clone()));
        for p in &s.read_only {
            if p.starts_with(&s.run_dir) && p != &s.run_dir {
                layers.push((depth(p), Layer::ReadOnly, p.clone()));
            }
        }
        for p in &s.exposed {
            if under_hidden_dir(p, false) && !p.starts_with(tmp) {
                layers.push((depth(p), Layer::Expose, p.clone()));
            }
        }
        layers.sort();
        layers.dedup();
        let mut remount = Vec::new();
        for (_, layer, p) in &layers {
            let p = str_of(p);
            match layer {
                Layer::Hide(Hidden::Dir(_)) => {
                    out.extend(["--tmpfs".to_string(), p.clone()]);
                    remount.push(p);
                }
                Layer::Hide(Hidden::File(_)) => {
                    out.extend(["--ro-bind".to_string(), "/dev/null".into(), p]);
                }
                Layer::Run => out.extend(["--bind".to_string(), p.clone(), p]),
                Layer::ReadOnly | Layer::Expose => {
                    out.extend(["--ro-bind".to_string(), p.clone(), p])
                }
            }
        }
        for p in remount {
            out.extend(["--remount-ro".to_string(), p]);
        }
        out.extend(["--chdir".to_string(), str_of(&s.cwd), "--".into()]);
        out.extend(argv.iter().cloned());
        out
    }
}

/// The kernel settings that decide whether unprivileged user namespaces are allowed (`None`:
/// the setting does not exist on this kernel).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsernsSettings {
    /// `user.max_user_namespaces`.
    pub max_user_namespaces: Option<String>,
    /// Debian's `kernel.unprivileged_userns_clone`.
    pub unprivileged_userns_clone: Option<String>,
    /// Ubuntu's `kernel.apparmor_restrict_unprivileged_userns`.
    pub apparmor_restrict_unprivileged_userns: Option<String>,
}

impl UsernsSettings {
    /// This machine's settings.
    pub fn read() -> Self {
        let read = |p: &str| {
            std::fs::read_to_string(p)
                .ok()
                .map(|s| s.trim().to_string())
        };
        UsernsSettings {
            max_user_namespaces: read("/proc/sys/user/max_user_namespaces"),
            unprivileged_userns_clone: read("/proc/sys/kernel/unprivileged_userns_clone"),
            apparmor_restrict_unprivileged_userns: read(
                "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
            ),
        }
    }
}

/// Why a failed probe failed, from what bwrap printed and the kernel's settings.
pub fn diagnose(program: &str, detail: &str, k: &UsernsSettings) -> SandboxUnavailable {
    let no_userns = |reason: &str, fix: &str| SandboxUnavailable::NoUserNamespaces {
        program: program.to_string(),
        reason: reason.to_string(),
        fix: fix.to_string(),
        detail: detail.to_string(),
    };
    if k.max_user_namespaces.as_deref() == Some("0") {
        return no_userns(
            "user.max_user_namespaces = 0",
            "Allow them: `sysctl -w user.max_user_namespaces=15000`",
        );
    }
    if k.unprivileged_userns_clone.as_deref() == Some("0") {
        return no_userns(
            "kernel.unprivileged_userns_clone = 0",
            "Allow them: `sysctl -w kernel.unprivileged_userns_clone=1`",
        );
    }
    if k.apparmor_restrict_unprivileged_userns.as_deref() == Some("1") {
        return no_userns(
            "AppArmor restricts them: kernel.apparmor_restrict_unprivileged_userns = 1",
            "Install bubblewrap's AppArmor profile (Ubuntu: the `bwrap-userns-restrict` profile \
             of apparmor-profiles) or allow them: \
             `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`",
        );
    }
    let lower = detail.to_ascii_lowercase();
    if [
        "namespace",
        "uid map",
        "uid_map",
        "setting up uid",
        "rtm_newaddr",
    ]
    .iter()
    .any(|k| lower.contains(k))
    {
        return no_userns(
            "bwrap's own words below",
            "Allow unprivileged user namespaces (see your distribution's bubblewrap notes)",
        );
    }
    SandboxUnavailable::Failed {
        program: program.to_string(),
        detail: detail.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bwrap() -> Bubblewrap {
        Bubblewrap {
            program: PathBuf::from("/usr/bin/bwrap"),
        }
    }

    fn plain(run: &str, cwd: &str, network: bool) -> LocalSandbox {
        LocalSandbox {
            run_dir: PathBuf::from(run),
            cwd: PathBuf::from(cwd),
            network,
            ..Default::default()
        }
    }

    const PREFIX: &str = "/usr/bin/bwrap --die-with-parent --unshare-user-try --unshare-pid \
         --unshare-ipc --unshare-uts --unshare-cgroup-try";

    #[test]
    fn argv_without_network() {
        let argv = bwrap().wrap(
            &["sh".into(), "-c".into(), "true".into()],
            &plain("/w/j", "/w/j/src", false),
        );
        assert_eq!(
            argv.join(" "),
            format!(
                "{PREFIX} --unshare-net --cap-drop ALL \
                 --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --bind /w/j /w/j \
                 --chdir /w/j/src -- sh -c true"
            )
        );
        let with_net = bwrap().wrap(&["x".into()], &plain("/r", "/r", true));
        assert!(!with_net.iter().any(|a| a == "--unshare-net"));
        assert!(with_net.iter().any(|a| a == "--die-with-parent"));
        // Capabilities go whether or not the job has network.
        assert!(with_net.join(" ").contains("--cap-drop ALL"));
    }

    #[test]
    fn data_dir_hidden_run_dir_bound_back_state_read_only() {
        let s = LocalSandbox {
            run_dir: PathBuf::from("/d/runs/j"),
            read_only: vec![
                PathBuf::from("/d/runs/j/logs"),
                PathBuf::from("/d/runs/j/run.json"),
                // Outside the run directory: not the executor's to protect, ignored.
                PathBuf::from("/elsewhere"),
            ],
            hidden: vec![
                Hidden::File(PathBuf::from("/etc/prow/token")),
                Hidden::Dir(PathBuf::from("/d")),
                // Inside a hidden directory: covered already.
                Hidden::File(PathBuf::from("/d/cookie-secret")),
                // Under the private /tmp: covered already.
                Hidden::Dir(PathBuf::from("/tmp/x")),
                // Never: nothing could run.
                Hidden::Dir(PathBuf::from("/")),
                Hidden::Dir(PathBuf::from("/run")),
            ],
            exposed: vec![
                PathBuf::from("/run/systemd/resolve/stub-resolv.conf"),
                // Not under a hidden directory: visible anyway.
                PathBuf::from("/etc/hosts"),
            ],
            cwd: PathBuf::from("/d/runs/j/src"),
            network: false,
        };
        let argv = bwrap().wrap(&["true".into()], &s).join(" ");
        assert_eq!(
            argv,
            format!(
                "{PREFIX} --unshare-net --cap-drop ALL \
                 --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp \
                 --tmpfs /d --tmpfs /run \
                 --ro-bind /dev/null /etc/prow/token \
                 --bind /d/runs/j /d/runs/j \
                 --ro-bind /d/runs/j/logs /d/runs/j/logs \
                 --ro-bind /d/runs/j/run.json /d/runs/j/run.json \
                 --ro-bind /run/systemd/resolve/stub-resolv.conf \
                 /run/systemd/resolve/stub-resolv.conf \
                 --remount-ro /d --remount-ro /run \
                 --chdir /d/runs/j/src -- true"
            )
        );
    }

    #[test]
    fn hidden_inside_the_run_dir_stays_hidden() {
        let mut s = plain("/w/j", "/w/j", false);
        s.hidden = vec![Hidden::File(PathBuf::from("/w/j/src/secret"))];
        let argv = bwrap().wrap(&["true".into()], &s).join(" ");
        let bind = argv.find("--bind /w/j /w/j").unwrap();
        let hide = argv.find("--ro-bind /dev/null /w/j/src/secret").unwrap();
        assert!(bind < hide, "{argv}");
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

    #[test]
    fn resolution_never_downgrades() {
        assert_eq!(
            Bubblewrap::resolve(&SandboxMode::Unsandboxed, None),
            Ok(None)
        );
        let missing = Bubblewrap::resolve(&SandboxMode::Bubblewrap, Some("/nonexistent"));
        let msg = missing.unwrap_err().to_string();
        assert!(msg.contains("apt-get install bubblewrap"), "{msg}");
        assert!(msg.contains("--unsafe-unsandboxed-jobs"), "{msg}");
        let at = SandboxMode::BubblewrapAt(PathBuf::from("/nonexistent/bwrap"));
        let msg = Bubblewrap::resolve(&at, None).unwrap_err().to_string();
        assert!(msg.contains("/nonexistent/bwrap"), "{msg}");
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("bwrap");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = dir.path().to_string_lossy().into_owned();
        assert_eq!(
            Bubblewrap::resolve(&SandboxMode::Bubblewrap, Some(&path)),
            Ok(Some(Bubblewrap { program: exe }))
        );
    }

    #[test]
    fn hidden_paths_resolve_to_canonical_targets() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().canonicalize().unwrap();
        std::fs::create_dir(real.join("data")).unwrap();
        std::fs::write(real.join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(real.join("secret"), real.join("link")).unwrap();
        let got = resolve_hidden(&[
            real.join("data"),
            real.join("link"),
            real.join("secret"),
            real.join("missing"),
        ]);
        assert_eq!(
            got,
            vec![
                Hidden::Dir(real.join("data")),
                Hidden::File(real.join("secret")),
            ]
        );
        let d = default_hidden_paths(Some(Path::new("/home/u")));
        assert!(d.contains(&PathBuf::from("/run")));
        assert!(d.contains(&PathBuf::from("/home/u/.ssh")));
        assert_eq!(
            default_hidden_paths(Some(Path::new("/"))),
            vec![PathBuf::from("/run")]
        );
    }

    #[test]
    fn diagnosis_names_the_kernel_setting() {
        let k = UsernsSettings {
            unprivileged_userns_clone: Some("0".into()),
            ..Default::default()
        };
        let e = diagnose(
            "bwrap",
            "bwrap: No permissions to creating new namespace",
            &k,
        );
        let msg = e.to_string();
        assert!(
            msg.contains("kernel.unprivileged_userns_clone = 0"),
            "{msg}"
        );
        assert!(
            msg.contains("sysctl -w kernel.unprivileged_userns_clone=1"),
            "{msg}"
        );
        let k = UsernsSettings {
            max_user_namespaces: Some("0".into()),
            ..Default::default()
        };
        assert!(
            diagnose("bwrap", "x", &k)
                .to_string()
                .contains("max_user_namespaces")
        );
        let k = UsernsSettings {
            apparmor_restrict_unprivileged_userns: Some("1".into()),
            ..Default::default()
        };
        assert!(diagnose("bwrap", "x", &k).to_string().contains("AppArmor"));
        let ok = UsernsSettings::default();
        assert!(matches!(
            diagnose("bwrap", "bwrap: setting up uid map: Permission denied", &ok),
            SandboxUnavailable::NoUserNamespaces { .. }
        ));
        assert!(matches!(
            diagnose("bwrap", "bwrap: Can't mount proc", &ok),
            SandboxUnavailable::Failed { .. }
        ));
    }
}
