//! The environment and working directory of a local container: what a decorated pod's test
//! container would see (spec §2.4), with the pod's paths mapped onto the run directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::Container;
use prow_api::Refs;
use prow_pod_utils::clone::path_for_refs;
use prow_pod_utils::downwardapi::{JobSpec, JobSpecError, env_for_spec};

/// `ARTIFACTS` in decorated jobs.
pub const ARTIFACTS_ENV: &str = "ARTIFACTS";
/// `GOPATH` in decorated jobs.
pub const GOPATH_ENV: &str = "GOPATH";
/// Where a decorated pod mounts the clone root; container `workingDir`s under it are mapped
/// onto the run directory.
pub const POD_CODE_MOUNT: &str = "/home/prow/go";
/// Where a decorated pod collects artifacts.
pub const POD_ARTIFACTS_DIR: &str = "/logs/artifacts";

/// Host variables handed through to jobs by default. Everything else of the executor's own
/// environment (tokens, credentials) stays out of the job, as it would in a pod.
pub const DEFAULT_PASS_ENV: &[&str] = &["PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR"];

/// Kubernetes' `$(VAR)` expansion of env values, commands and args: `$(NAME)` becomes the
/// variable's value when it is defined and stays as written otherwise; `$$` is a literal `$`.
pub fn expand(input: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('(') {
            match inner.find(')') {
                Some(end) if end > 0 => {
                    let name = &inner[..end];
                    match lookup(name) {
                        Some(v) => out.push_str(&v),
                        None => {
                            out.push_str("$(");
                            out.push_str(name);
                            out.push(')');
                        }
                    }
                    rest = &inner[end + 1..];
                }
                _ => {
                    out.push('$');
                    rest = after;
                }
            }
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Paths of one run on the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunPaths {
    /// `<work_root>/<name>`: the clone root (`GOPATH`) and home of everything below.
    pub dir: PathBuf,
    /// `<dir>/artifacts` (`$ARTIFACTS`).
    pub artifacts: PathBuf,
    /// `<dir>/logs`: build logs, clone records.
    pub logs: PathBuf,
}

impl RunPaths {
    /// The layout under `dir`.
    pub fn new(dir: PathBuf) -> Self {
        RunPaths {
            artifacts: dir.join("artifacts"),
            logs: dir.join("logs"),
            dir,
        }
    }

    /// Where `refs` are cloned (`<dir>/src/<host>/<org>/<repo>`, like clonerefs under
    /// `/home/prow/go`).
    pub fn clone_dir(&self, refs: &Refs) -> PathBuf {
        PathBuf::from(path_for_refs(&self.dir.to_string_lossy(), refs))
    }
}

/// The job environment (downward API) for a run: [`env_for_spec`] plus, for decorated jobs,
/// `ARTIFACTS` and `GOPATH` pointing into the run directory.
pub fn job_env(
    spec: &JobSpec,
    paths: &RunPaths,
    decorated: bool,
) -> Result<BTreeMap<String, String>, JobSpecError> {
    let mut env = env_for_spec(spec)?;
    if decorated {
        env.insert(
            ARTIFACTS_ENV.into(),
            paths.artifacts.to_string_lossy().into_owned(),
        );
        env.insert(GOPATH_ENV.into(), paths.dir.to_string_lossy().into_owned());
    }
    Ok(env)
}

/// A container's full environment: passed-through host variables, then the job environment,
/// then the container's own `env` (literal values, `$(VAR)`-expanded against what came
/// before). Returns the environment and notes about entries that cannot be honoured locally.
pub fn container_env(
    host: &BTreeMap<String, String>,
    job: &BTreeMap<String, String>,
    container: &Container,
) -> (BTreeMap<String, String>, Vec<String>) {
    let mut env = host.clone();
    env.extend(job.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut notes = Vec::new();
    for var in container.env.iter().flatten() {
        if var.value_from.is_some() {
            notes.push(format!(
                "env {}: valueFrom is not supported by the local executor; left unset",
                var.name
            ));
            continue;
        }
        let raw = var.value.clone().unwrap_or_default();
        let value = expand(&raw, &|n| env.get(n).cloned());
        env.insert(var.name.clone(), value);
    }
    if container.env_from.as_ref().is_some_and(|v| !v.is_empty()) {
        notes.push("envFrom is not supported by the local executor; ignored".into());
    }
    (env, notes)
}

/// The command line of a container: `command` then `args`, `$(VAR)`-expanded; `None` when the
/// container declares neither (the image's entrypoint is unknown locally).
pub fn container_argv(
    container: &Container,
    env: &BTreeMap<String, String>,
) -> Option<Vec<String>> {
    let lookup = |n: &str| env.get(n).cloned();
    let argv: Vec<String> = container
        .command
        .iter()
        .flatten()
        .chain(container.args.iter().flatten())
        .map(|a| expand(a, &lookup))
        .collect();
    (!argv.is_empty()).then_some(argv)
}

/// The working directory of a container. A `workingDir` under the pod's code mount is mapped
/// into the run directory; another absolute path is used when it exists on this host (the
/// host stands in for the image); otherwise the clone of the `workdir: true` ref, else of the
/// first ref (as Prow's decoration does), else the run directory. The note explains a
/// `workingDir` that could not be honoured.
pub fn working_dir(
    container: &Container,
    refs: &[&Refs],
    paths: &RunPaths,
) -> (PathBuf, Option<String>) {
    let default = refs
        .iter()
        .find(|r| r.workdir)
        .or(refs.first())
        .map_or_else(|| paths.dir.clone(), |r| paths.clone_dir(r));
    let Some(wd) = container.working_dir.as_deref().filter(|w| !w.is_empty()) else {
        return (default, None);
    };
    if let Some(rest) = wd.strip_prefix(POD_CODE_MOUNT)
        && (rest.is_empty() || rest.starts_with('/'))
    {
        let rel = rest.trim_start_matches('/');
        if !rel.split('/').any(|c| c == "..") {
            return (paths.dir.join(rel), None);
        }
    }
    if let Some(rest) = wd.strip_prefix(POD_ARTIFACTS_DIR)
        && (rest.is_empty() || rest.starts_with('/'))
    {
        let rel = rest.trim_start_matches('/');
        if !rel.split('/').any(|c| c == "..") {
            return (paths.artifacts.join(rel), None);
        }
    }
    if Path::new(wd).is_absolute() && Path::new(wd).is_dir() {
        return (PathBuf::from(wd), None);
    }
    let note = format!(
        "workingDir {wd:?} does not exist on this host; running in {}",
        default.display()
    );
    (default, Some(note))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector};

    fn lookup(n: &str) -> Option<String> {
        match n {
            "A" => Some("1".into()),
            "B" => Some("two".into()),
            _ => None,
        }
    }

    #[test]
    fn expansion_follows_kubernetes() {
        assert_eq!(expand("x$(A)y$(B)", &lookup), "x1ytwo");
        assert_eq!(expand("$(C)", &lookup), "$(C)");
        assert_eq!(expand("$$(A)", &lookup), "$(A)");
        assert_eq!(expand("$$", &lookup), "$");
        assert_eq!(expand("cost $5 $(A", &lookup), "cost $5 $(A");
        assert_eq!(expand("$()", &lookup), "$()");
        assert_eq!(expand("end$", &lookup), "end$");
        assert_eq!(expand("", &lookup), "");
    }

    fn container() -> Container {
        Container {
            name: "test".into(),
            ..Default::default()
        }
    }

    #[test]
    fn container_env_layers_and_expands() {
        let host: BTreeMap<String, String> = [("PATH".to_string(), "/bin".to_string())]
            .into_iter()
            .collect();
        let job: BTreeMap<String, String> = [("JOB_NAME".to_string(), "j".to_string())]
            .into_iter()
            .collect();
        let mut c = container();
        c.env = Some(vec![
            EnvVar {
                name: "X".into(),
                value: Some("$(JOB_NAME)-x".into()),
                ..Default::default()
            },
            EnvVar {
                name: "Y".into(),
                value: Some("$(X)/y".into()),
                ..Default::default()
            },
            EnvVar {
                name: "POD".into(),
                value_from: Some(EnvVarSource {
                    field_ref: Some(ObjectFieldSelector {
                        field_path: "metadata.name".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ]);
        let (env, notes) = container_env(&host, &job, &c);
        assert_eq!(env["PATH"], "/bin");
        assert_eq!(env["X"], "j-x");
        assert_eq!(env["Y"], "j-x/y");
        assert!(!env.contains_key("POD"));
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("POD"));
    }

    #[test]
    fn argv_is_command_then_args() {
        let env: BTreeMap<String, String> =
            [("A".to_string(), "1".to_string())].into_iter().collect();
        let mut c = container();
        assert_eq!(container_argv(&c, &env), None);
        c.command = Some(vec!["sh".into(), "-c".into()]);
        c.args = Some(vec!["echo $(A)".into()]);
        assert_eq!(
            container_argv(&c, &env).unwrap(),
            vec!["sh", "-c", "echo 1"]
        );
        c.command = None;
        assert_eq!(container_argv(&c, &env).unwrap(), vec!["echo 1"]);
    }

    #[test]
    fn working_dir_mapping() {
        let paths = RunPaths::new(PathBuf::from("/w/job"));
        let r1 = Refs {
            org: "o".into(),
            repo: "a".into(),
            ..Default::default()
        };
        let r2 = Refs {
            org: "o".into(),
            repo: "b".into(),
            workdir: true,
            ..Default::default()
        };
        let mut c = container();
        assert_eq!(working_dir(&c, &[], &paths).0, PathBuf::from("/w/job"));
        assert_eq!(
            working_dir(&c, &[&r1], &paths).0,
            PathBuf::from("/w/job/src/github.com/o/a")
        );
        assert_eq!(
            working_dir(&c, &[&r1, &r2], &paths).0,
            PathBuf::from("/w/job/src/github.com/o/b")
        );
        c.working_dir = Some("/home/prow/go/src/k8s.io/x".into());
        assert_eq!(
            working_dir(&c, &[&r1], &paths),
            (PathBuf::from("/w/job/src/k8s.io/x"), None)
        );
        c.working_dir = Some("/home/prow/go/../../etc".into());
        let (wd, note) = working_dir(&c, &[&r1], &paths);
        assert_eq!(wd, PathBuf::from("/w/job/src/github.com/o/a"));
        assert!(note.is_some());
        c.working_dir = Some("/logs/artifacts".into());
        assert_eq!(
            working_dir(&c, &[&r1], &paths).0,
            PathBuf::from("/w/job/artifacts")
        );
        c.working_dir = Some("/".into());
        assert_eq!(working_dir(&c, &[&r1], &paths).0, PathBuf::from("/"));
        c.working_dir = Some("/definitely/not/here/xyz".into());
        let (wd, note) = working_dir(&c, &[&r1], &paths);
        assert_eq!(wd, PathBuf::from("/w/job/src/github.com/o/a"));
        assert!(note.unwrap().contains("does not exist"));
    }
}
