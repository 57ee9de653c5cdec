//! Cloning one set of refs with the `git` CLI and recording what happened.
//!
//! The records (`/logs/clone.json`) are read back by initupload, which uploads them as
//! `clone-records.json` and formats them into `clone-log.txt`; their JSON shape is Prow's.

use std::path::Path;
use std::process::Command as Process;
use std::time::{Duration, Instant};

use prow_api::Refs;
use serde::{Deserialize, Serialize};

use crate::downwardapi::DEFAULT_HOST;
use crate::gcs;
use crate::gotime;

/// What happened while cloning one ref (or setting up the environment).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The refs cloned (empty for the environment-setup record).
    #[serde(default)]
    pub refs: Refs,
    /// Commands run, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<Command>,
    /// Whether a command failed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
    /// `HEAD` after merging the pulls.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub final_sha: String,
    /// Total time, integer nanoseconds on the wire.
    #[serde(with = "gotime", default, skip_serializing_if = "gotime::is_zero")]
    pub duration: Duration,
}

/// One command and its outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// The command line as Prow renders it (`PWD=<dir> <env> git <args>`).
    pub command: String,
    /// Combined stdout and stderr.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub output: String,
    /// The error, e.g. `exit status 128`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
    /// Run time, integer nanoseconds.
    #[serde(with = "gotime", default, skip_serializing_if = "gotime::is_zero")]
    pub duration: Duration,
}

/// The human-readable form of a record (Prow's `FormatRecord`), as in `clone-log.txt`.
pub fn format_record(record: &Record) -> String {
    let mut out = String::new();
    if record.failed {
        out.push_str("# FAILED\n");
    }
    if record.refs.repo.is_empty() {
        out.push_str("Environment setup");
    } else {
        out.push_str(&format!(
            "# Cloning {}/{} at {}",
            record.refs.org, record.refs.repo, record.refs.base_ref
        ));
    }
    if !record.refs.base_sha.is_empty() {
        out.push_str(&format!("({})", record.refs.base_sha));
    }
    out.push('\n');
    if !record.refs.pulls.is_empty() {
        out.push_str("# Checking out pulls:\n");
        for p in &record.refs.pulls {
            out.push_str(&format!("#\t{}", p.number));
            if !p.sha.is_empty() {
                out.push_str(&format!("({})", p.sha));
            }
            out.push('\n');
        }
    }
    for c in &record.commands {
        let runtime = if c.duration.is_zero() {
            String::new()
        } else {
            format!(" (runtime: {})", gotime::format(c.duration))
        };
        out.push_str(&format!("$ {}{runtime}\n", c.command));
        out.push_str(&c.output);
        if !c.error.is_empty() {
            out.push_str(&format!("# Error: {}\n", c.error));
        }
    }
    out.push_str(&format!("# Final SHA: {}\n", record.final_sha));
    out.push_str(&format!(
        "# Total runtime: {}\n",
        gotime::format(record.duration)
    ));
    out
}

/// Where refs are cloned: `<base>/src/<path_alias>`, else `<base>/src/<repo_link without
/// scheme>`, else `<base>/src/github.com/<org>/<repo>` (Prow's `PathForRefs`).
pub fn path_for_refs(base_dir: &str, refs: &Refs) -> String {
    let clone_path = if !refs.path_alias.is_empty() {
        refs.path_alias.clone()
    } else if !refs.repo_link.is_empty() {
        refs.repo_link
            .rsplit("://")
            .next()
            .unwrap_or_default()
            .to_string()
    } else {
        format!("{DEFAULT_HOST}/{}/{}", refs.org, refs.repo)
    };
    gcs::join(&[base_dir, "src", &clone_path])
}

/// The URL refs are fetched from: `clone_uri`, else `<repo_link>.git`, else GitHub.
pub fn repository_uri(refs: &Refs) -> String {
    if !refs.clone_uri.is_empty() {
        refs.clone_uri.clone()
    } else if !refs.repo_link.is_empty() {
        format!("{}.git", refs.repo_link)
    } else {
        format!("https://{DEFAULT_HOST}/{}/{}.git", refs.org, refs.repo)
    }
}

/// Settings of one clone run.
#[derive(Clone, Debug)]
pub struct CloneSettings {
    /// `user.name` in the clone (skipped when empty).
    pub git_user_name: String,
    /// `user.email` in the clone (skipped when empty).
    pub git_user_email: String,
    /// `http.cookiefile`, set per repo only when submodules are skipped.
    pub cookie_path: String,
    /// Extra environment (`KEY=value`) for every command.
    pub env: Vec<String>,
    /// Sleeps between fetch retries.
    pub fetch_retries: Vec<Duration>,
}

impl Default for CloneSettings {
    fn default() -> Self {
        CloneSettings {
            git_user_name: String::new(),
            git_user_email: String::new(),
            cookie_path: String::new(),
            env: Vec::new(),
            fetch_retries: PROW_FETCH_RETRIES.to_vec(),
        }
    }
}

/// Prow's back-off between fetch attempts (about a minute in total).
pub const PROW_FETCH_RETRIES: [Duration; 9] = [
    Duration::from_millis(100),
    Duration::from_millis(200),
    Duration::from_millis(400),
    Duration::from_millis(800),
    Duration::from_secs(2),
    Duration::from_secs(5),
    Duration::from_secs(10),
    Duration::from_secs(15),
    Duration::from_secs(30),
];

struct Step {
    dir: String,
    env: Vec<String>,
    program: String,
    args: Vec<String>,
    retries: Vec<Duration>,
}

impl Step {
    /// Prow's rendering, double space included when there is no env.
    fn render(&self) -> String {
        format!(
            "PWD={} {} {} {}",
            self.dir,
            self.env.join(" "),
            self.program,
            self.args.join(" ")
        )
    }

    fn run_once(&self) -> (String, Result<(), String>) {
        let mut p = Process::new(&self.program);
        p.args(&self.args).current_dir(&self.dir);
        for kv in &self.env {
            if let Some((k, v)) = kv.split_once('=') {
                p.env(k, v);
            }
        }
        run_combined(p)
    }

    fn run(&self) -> (String, Result<(), String>) {
        let mut r = self.run_once();
        for d in &self.retries {
            if r.1.is_ok() {
                break;
            }
            std::thread::sleep(*d);
            r = self.run_once();
        }
        r
    }
}

/// Run a process with stdout and stderr into one pipe, so the output keeps its interleaving
/// (as Prow's shared buffer does). Errors read like Go's (`exit status 128`).
pub(crate) fn run_combined(mut p: Process) -> (String, Result<(), String>) {
    use std::io::Read;
    let (mut reader, writer) = match std::io::pipe() {
        Ok(x) => x,
        Err(e) => return (String::new(), Err(e.to_string())),
    };
    let writer2 = match writer.try_clone() {
        Ok(w) => w,
        Err(e) => return (String::new(), Err(e.to_string())),
    };
    p.stdin(std::process::Stdio::null())
        .stdout(writer)
        .stderr(writer2);
    let child = p.spawn();
    // Close our write ends so reading stops when the process (and its children) are done.
    drop(p);
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return (String::new(), Err(e.to_string())),
    };
    let mut buf = Vec::new();
    let _ = reader.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let res = match child.wait() {
        Err(e) => Err(e.to_string()),
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(match s.code() {
            Some(c) => format!("exit status {c}"),
            None => "signal: killed".to_string(),
        }),
    };
    (text, res)
}

struct GitCtx<'a> {
    dir: String,
    env: &'a [String],
    uri: String,
    retries: &'a [Duration],
}

impl GitCtx<'_> {
    fn git(&self, args: &[&str]) -> Step {
        Step {
            dir: self.dir.clone(),
            env: self.env.to_vec(),
            program: "git".into(),
            args: args.iter().map(|s| s.to_string()).collect(),
            retries: Vec::new(),
        }
    }

    fn fetch(&self, args: Vec<String>) -> Step {
        let mut full = vec!["fetch".to_string()];
        full.extend(args);
        Step {
            dir: self.dir.clone(),
            env: self.env.to_vec(),
            program: "git".into(),
            args: full,
            retries: self.retries.to_vec(),
        }
    }

    fn output(&self, args: &[&str]) -> Result<String, String> {
        let (out, res) = self.git(args).run_once();
        res.map(|_| out)
    }

    fn base_steps(&self, refs: &Refs, s: &CloneSettings) -> Vec<Step> {
        let mut v = vec![Step {
            dir: "/".into(),
            env: self.env.to_vec(),
            program: "mkdir".into(),
            args: vec!["-p".into(), self.dir.clone()],
            retries: Vec::new(),
        }];
        v.push(self.git(&["init"]));
        if !s.git_user_name.is_empty() {
            v.push(self.git(&["config", "user.name", &s.git_user_name]));
        }
        if !s.git_user_email.is_empty() {
            v.push(self.git(&["config", "user.email", &s.git_user_email]));
        }
        if !s.cookie_path.is_empty() && refs.skip_submodules {
            v.push(self.git(&["config", "http.cookiefile", &s.cookie_path]));
        }
        let sparse = !refs.sparse_checkout_files.is_empty();
        if sparse {
            v.push(self.git(&["sparse-checkout", "init"]));
        }
        let mut depth: Vec<String> = Vec::new();
        if refs.clone_depth > 0 {
            depth = vec!["--depth".into(), refs.clone_depth.to_string()];
        }
        let mut filter: Vec<String> = Vec::new();
        if refs.blobless_fetch == Some(true) || sparse {
            filter.push("--filter=blob:none".into());
        }
        if !(refs.skip_fetch_head || sparse) {
            let mut a = depth.clone();
            a.extend(filter.clone());
            a.extend([self.uri.clone(), "--tags".into(), "--prune".into()]);
            v.push(self.fetch(a));
        }
        let (fetch_ref, target) = if refs.base_sha.is_empty() {
            (refs.base_ref.clone(), "FETCH_HEAD".to_string())
        } else {
            (refs.base_sha.clone(), refs.base_sha.clone())
        };
        let mut a = depth;
        a.extend(filter);
        if sparse {
            a.push("--no-tags".into());
        }
        a.extend([self.uri.clone(), fetch_ref]);
        v.push(self.fetch(a));
        if sparse {
            let mut a = vec!["sparse-checkout", "set"];
            a.extend(refs.sparse_checkout_files.iter().map(String::as_str));
            v.push(self.git(&a));
        }
        v.push(self.git(&["checkout", &target]));
        v.push(self.git(&["branch", "--force", &refs.base_ref, &target]));
        v.push(self.git(&["checkout", &refs.base_ref]));
        v
    }

    fn pull_steps(&self, refs: &Refs, mut timestamp: i64) -> Vec<Step> {
        let mut v = Vec::new();
        for p in &refs.pulls {
            let mut a = Vec::new();
            if refs.blobless_fetch == Some(true) || !refs.sparse_checkout_files.is_empty() {
                a.push("--filter=blob:none".to_string());
            }
            let r = if !p.git_ref.is_empty() {
                p.git_ref.clone()
            } else if !p.sha.is_empty() {
                p.sha.clone()
            } else {
                format!("pull/{}/head", p.number)
            };
            a.extend([self.uri.clone(), r]);
            v.push(self.fetch(a));
            let checkout = if p.sha.is_empty() {
                "FETCH_HEAD"
            } else {
                p.sha.as_str()
            };
            // Fake, increasing dates make the merge commits reproducible.
            timestamp += 1;
            let mut merge = self.git(&["merge", "--no-ff", checkout]);
            merge.env.push(format!("GIT_AUTHOR_DATE={timestamp}"));
            merge.env.push(format!("GIT_COMMITTER_DATE={timestamp}"));
            v.push(merge);
        }
        if !refs.skip_submodules {
            v.push(self.git(&["submodule", "update", "--init", "--recursive"]));
        }
        v
    }
}

/// Clone `refs` under `src_root` (Prow's `clone.Run`): fetch and check out the base, merge
/// each pull in order with `--no-ff`, update submodules, and record every command. The first
/// failing command stops the clone and marks the record failed.
pub fn run(refs: &Refs, src_root: &str, settings: &CloneSettings) -> Record {
    let start = Instant::now();
    let mut record = Record {
        refs: refs.clone(),
        ..Default::default()
    };
    let g = GitCtx {
        dir: path_for_refs(src_root, refs),
        env: &settings.env,
        uri: repository_uri(refs),
        retries: &settings.fetch_retries,
    };
    let run_steps = |steps: Vec<Step>, record: &mut Record| -> bool {
        for s in steps {
            let t = Instant::now();
            let (output, res) = s.run();
            let error = res.err().unwrap_or_default();
            let failed = !error.is_empty();
            record.commands.push(Command {
                command: s.render(),
                output,
                error,
                duration: t.elapsed(),
            });
            if failed {
                record.failed = true;
                return false;
            }
        }
        true
    };
    if !run_steps(g.base_steps(refs, settings), &mut record) {
        return record;
    }
    let timestamp = g
        .output(&["show", "-s", "--format=format:%ct", "HEAD"])
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or_else(|| chrono::Utc::now().timestamp());
    if !run_steps(g.pull_steps(refs, timestamp), &mut record) {
        return record;
    }
    if let Ok(sha) = g.output(&["rev-parse", "HEAD"]) {
        record.final_sha = sha.trim().to_string();
    }
    record.duration = start.elapsed();
    record
}

/// Whether `dir` looks like a git work tree (used by tests and callers that pre-check).
pub fn is_work_tree(dir: &Path) -> bool {
    dir.join(".git").exists()
}

#[cfg(test)]
mod tests {
    use super::*;
    use prow_api::Pull;

    #[test]
    fn paths_and_uris() {
        let mut r = Refs {
            org: "o".into(),
            repo: "r".into(),
            ..Default::default()
        };
        assert_eq!(path_for_refs("/go", &r), "/go/src/github.com/o/r");
        assert_eq!(repository_uri(&r), "https://github.com/o/r.git");
        r.repo_link = "https://git.example.com/o/r".into();
        assert_eq!(path_for_refs("/go", &r), "/go/src/git.example.com/o/r");
        assert_eq!(repository_uri(&r), "https://git.example.com/o/r.git");
        r.path_alias = "k8s.io/r".into();
        assert_eq!(path_for_refs("/go", &r), "/go/src/k8s.io/r");
        r.clone_uri = "file:///x".into();
        assert_eq!(repository_uri(&r), "file:///x");
    }

    #[test]
    fn format_and_wire() {
        let rec = Record {
            refs: Refs {
                org: "o".into(),
                repo: "r".into(),
                base_ref: "main".into(),
                base_sha: "abc".into(),
                pulls: vec![Pull {
                    number: 1,
                    sha: "def".into(),
                    ..Default::default()
                }],
                ..Default::default()
            },
            commands: vec![
                Command {
                    command: "PWD=/x  git init".into(),
                    output: "ok\n".into(),
                    duration: Duration::from_millis(1500),
                    ..Default::default()
                },
                Command {
                    command: "PWD=/x  git fetch".into(),
                    error: "exit status 128".into(),
                    ..Default::default()
                },
            ],
            failed: true,
            final_sha: String::new(),
            duration: Duration::from_secs(2),
        };
        assert_eq!(
            format_record(&rec),
            "# FAILED\n# Cloning o/r at main(abc)\n# Checking out pulls:\n#\t1(def)\n\
             $ PWD=/x  git init (runtime: 1.5s)\nok\n$ PWD=/x  git fetch\n# Error: exit status 128\n\
             # Final SHA: \n# Total runtime: 2s\n"
        );
        let env = Record::default();
        assert_eq!(
            format_record(&env),
            "Environment setup\n# Final SHA: \n# Total runtime: 0s\n"
        );
        assert_eq!(
            serde_json::to_string(&env).unwrap(),
            r#"{"refs":{"org":"","repo":""}}"#
        );
        let json = serde_json::to_string(&rec).unwrap();
        assert!(json.contains(r#""failed":true"#));
        assert!(json.contains(r#""duration":1500000000"#));
        let back: Record = serde_json::from_str(&json).unwrap();
        assert_eq!(back, rec);
    }
}
