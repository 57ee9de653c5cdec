//! clonerefs: the init container that checks out every repository a job needs.
//!
//! Refs are cloned in parallel (bounded by `max_parallel_workers`). Failures are recorded, not
//! fatal: the records file is always written and initupload turns a failed clone into a
//! failed job. Only with `fail: true` does clonerefs itself exit non-zero.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command as Process;
use std::sync::Mutex;
use std::time::Duration;

use prow_api::{Pull, Refs};
use serde::{Deserialize, Serialize};

use crate::censor::Censorer;
use crate::clone::{self, CloneSettings, Command, Record};
use crate::flags::{FlagDef, OptionSource, from_json, load};
use crate::log::Logger;

/// Env var holding clonerefs' options.
pub const CLONEREFS_OPTIONS_ENV: &str = "CLONEREFS_OPTIONS";
/// `git config user.name` default for flags.
pub const DEFAULT_GIT_USER_NAME: &str = "ci-robot";
/// `git config user.email` default for flags.
pub const DEFAULT_GIT_USER_EMAIL: &str = "ci-robot@k8s.io";

/// Prow's `clonerefs.Options` (`CLONEREFS_OPTIONS`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloneRefsOptions {
    /// Root of the checkouts (`/home/prow/go`).
    #[serde(default)]
    pub src_root: String,
    /// Where the clone records go (`/logs/clone.json`).
    #[serde(default)]
    pub log: String,
    /// `user.name` set in each clone.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub git_user_name: String,
    /// `user.email` set in each clone.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub git_user_email: String,
    /// Repositories to clone.
    #[serde(default, deserialize_with = "prow_api::serde_util::nullable")]
    pub refs: Vec<Refs>,
    /// SSH keys (files or directories) loaded into an ssh-agent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_files: Vec<String>,
    /// File with an OAuth token for HTTPS cloning.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub oauth_token_file: String,
    /// Known-hosts lines for SSH.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_fingerprints: Vec<String>,
    /// Parallel clones (0 = one per ref).
    #[serde(default, skip_serializing_if = "crate::clonerefs::is_zero")]
    pub max_parallel_workers: usize,
    /// Exit non-zero when a clone failed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fail: bool,
    /// Git `http.cookiefile`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cookie_path: String,
    /// GitHub API endpoints for App authentication.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub github_api_endpoints: Vec<String>,
    /// GitHub App ID.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub github_app_id: String,
    /// GitHub App private key file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub github_app_private_key_file: String,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl CloneRefsOptions {
    /// Prow's validation: root, log and refs are required; two refs of the same repo may not
    /// share a directory; at most one authentication method.
    pub fn validate(&self, log: &Logger) -> Result<(), String> {
        if self.src_root.is_empty() {
            return Err("no source root specified".into());
        }
        if self.log.is_empty() {
            return Err("no log file specified".into());
        }
        if self.refs.is_empty() {
            return Err("no refs specified to clone".into());
        }
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for (i, r) in self.refs.iter().enumerate() {
            let path = clone::path_for_refs(&self.src_root, r);
            if let Some(&j) = seen.get(&path) {
                let e = &self.refs[j];
                let msg = format!(
                    "clone ref config {i} (for {}/{}) will be extracted to {path}, which clone ref {j} (for {}/{}) is also using",
                    r.org, r.repo, e.org, e.repo
                );
                if e.org == r.org && e.repo == r.repo {
                    return Err(msg);
                }
                log.warn(&format!("multiple refs clone to the same location: {msg}"));
            }
            seen.insert(path, i);
        }
        if !self.github_app_id.is_empty() || !self.github_app_private_key_file.is_empty() {
            if !self.oauth_token_file.is_empty() {
                return Err("multiple authentication methods specified".into());
            }
            if self.github_api_endpoints.is_empty() {
                return Err("no GitHub API endpoints for GitHub App authentication".into());
            }
        }
        if !self.github_app_id.is_empty() && self.github_app_private_key_file.is_empty() {
            return Err("no GitHub App private key file specified".into());
        }
        if self.github_app_id.is_empty() && !self.github_app_private_key_file.is_empty() {
            return Err("no GitHub App ID specified".into());
        }
        Ok(())
    }
}

/// Runtime knobs that are not part of the options JSON.
#[derive(Clone, Debug)]
pub struct RunSettings {
    /// Sleeps between fetch retries (Prow's back-off by default).
    pub fetch_retries: Vec<Duration>,
    /// Directory for `known_hosts` (Prow uses `/tmp`).
    pub ssh_dir: String,
}

impl Default for RunSettings {
    fn default() -> Self {
        RunSettings {
            fetch_retries: clone::PROW_FETCH_RETRIES.to_vec(),
            ssh_dir: "/tmp".into(),
        }
    }
}

fn run_env_command(
    program: &str,
    args: &[&str],
    env: Option<&[String]>,
) -> (String, Result<(), String>) {
    let mut p = Process::new(program);
    p.args(args);
    if let Some(env) = env {
        for kv in env {
            if let Some((k, v)) = kv.split_once('=') {
                p.env(k, v);
            }
        }
    }
    clone::run_combined(p)
}

/// Start an ssh-agent and add every key under the given paths.
fn add_ssh_keys(paths: &[String], cmds: &mut Vec<Command>) -> Result<Vec<String>, String> {
    let (out, res) = run_env_command("ssh-agent", &[], None);
    cmds.push(Command {
        command: "ssh-agent".into(),
        output: out.clone(),
        error: res.clone().err().unwrap_or_default(),
        ..Default::default()
    });
    res.map_err(|e| format!("start ssh-agent: {e}"))?;
    let parts: Vec<&str> = out.split(';').collect();
    if parts.len() < 3 {
        return Err(format!("start ssh-agent: unexpected output {out:?}"));
    }
    let env = vec![parts[0].trim().to_string(), parts[2].trim().to_string()];
    for key in paths {
        let mut files = Vec::new();
        let p = Path::new(key);
        if p.is_dir() {
            for f in crate::upload::walk_files(p) {
                let hidden = f.strip_prefix(p).ok().is_some_and(|r| {
                    r.components()
                        .any(|c| c.as_os_str().to_string_lossy().starts_with(".."))
                });
                if !hidden {
                    files.push(f);
                }
            }
        } else if p.exists() {
            files.push(p.to_path_buf());
        } else {
            return Err(format!("walking path {key:?}: no such file or directory"));
        }
        for f in files {
            let fs = f.display().to_string();
            let (out, res) = run_env_command("ssh-add", &[&fs], Some(&env));
            cmds.push(Command {
                command: format!("ssh-add {fs:?}"),
                output: out.clone(),
                error: res.clone().err().unwrap_or_default(),
                ..Default::default()
            });
            res.map_err(|e| format!("add ssh key at {fs}: {e}: {out}"))?;
        }
    }
    Ok(env)
}

/// Append fingerprints to `<ssh_dir>/known_hosts` and point git's ssh at it.
fn add_host_fingerprints(
    fingerprints: &[String],
    ssh_dir: &str,
    cmds: &mut Vec<Command>,
) -> Result<String, String> {
    use std::io::Write;
    if !Path::new(ssh_dir).exists() {
        let r = std::fs::create_dir_all(ssh_dir);
        cmds.push(Command {
            command: format!("golang: create {ssh_dir:?}"),
            error: r.as_ref().err().map(|e| e.to_string()).unwrap_or_default(),
            ..Default::default()
        });
        r.map_err(|e| format!("create sshDir {ssh_dir}: {e}"))?;
    }
    let known = Path::new(ssh_dir).join("known_hosts");
    let kd = known.display().to_string();
    let r = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&known)
        .and_then(|mut f| f.write_all(fingerprints.join("\n").as_bytes()));
    cmds.push(Command {
        command: format!("golang: append {kd:?}"),
        error: r.as_ref().err().map(|e| e.to_string()).unwrap_or_default(),
        ..Default::default()
    });
    r.map_err(|e| format!("append {kd}: {e}"))?;
    let ssh = std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("ssh"))
                .find(|p| p.is_file())
        })
        .map(|p| p.display().to_string());
    cmds.push(Command {
        command: "golang: lookup ssh path".into(),
        error: if ssh.is_none() {
            "exec: \"ssh\": executable file not found in $PATH".into()
        } else {
            String::new()
        },
        ..Default::default()
    });
    let ssh = ssh.ok_or("lookup ssh path: ssh not found")?;
    Ok(format!("GIT_SSH_COMMAND={ssh} -o UserKnownHostsFile={kd}"))
}

/// Put the token into the clone URL as Prow does (`token:x-oauth-basic@`).
fn with_token(uri: &str, token: &str) -> String {
    match uri.split_once("://") {
        Some((scheme, rest)) if !token.is_empty() => {
            let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
            format!("{scheme}://{token}:x-oauth-basic@{rest}")
        }
        _ => uri.to_string(),
    }
}

/// Run everything and return the records: first the environment-setup record, then one per
/// ref in the order given.
pub fn create_records(
    opts: &CloneRefsOptions,
    settings: &RunSettings,
    log: &Logger,
) -> Vec<Record> {
    let mut setup = Record::default();
    let mut env: Vec<String> = Vec::new();
    if !opts.key_files.is_empty() {
        match add_ssh_keys(&opts.key_files, &mut setup.commands) {
            Ok(e) => env = e,
            Err(e) => {
                log.error(&format!("Failed to add SSH keys: {e}"));
                setup.failed = true;
                return vec![setup];
            }
        }
    }
    if !opts.host_fingerprints.is_empty() {
        match add_host_fingerprints(
            &opts.host_fingerprints,
            &settings.ssh_dir,
            &mut setup.commands,
        ) {
            Ok(v) => env.push(v),
            Err(e) => {
                log.error(&format!("failed to add host fingerprints: {e}"));
                setup.failed = true;
                return vec![setup];
            }
        }
    }
    let mut token = String::new();
    if !opts.oauth_token_file.is_empty() {
        match std::fs::read_to_string(&opts.oauth_token_file) {
            Ok(t) => token = t.trim().to_string(),
            Err(e) => {
                log.error(&format!("Failed to read oauth key file: {e}"));
                setup.failed = true;
                return vec![setup];
            }
        }
    }
    if !opts.github_app_id.is_empty() {
        // Minting installation tokens needs a GitHub client; not part of this crate yet.
        log.error("Failed to construct github client: GitHub App authentication is not supported by this clonerefs");
        setup.failed = true;
        return vec![setup];
    }
    if !opts.cookie_path.is_empty() && opts.refs.iter().any(|r| !r.skip_submodules) {
        let (out, res) = run_env_command(
            "git",
            &["config", "--global", "http.cookiefile", &opts.cookie_path],
            None,
        );
        setup.commands.push(Command {
            command: format!("git config --global http.cookiefile {:?}", opts.cookie_path),
            output: out,
            error: res.clone().err().unwrap_or_default(),
            ..Default::default()
        });
        if let Err(e) = res {
            log.error(&format!("Failed to configure global cookiefile: {e}"));
            setup.failed = true;
            return vec![setup];
        }
    }

    let clone_settings = CloneSettings {
        git_user_name: opts.git_user_name.clone(),
        git_user_email: opts.git_user_email.clone(),
        cookie_path: opts.cookie_path.clone(),
        env,
        fetch_retries: settings.fetch_retries.clone(),
    };
    // The token is a secret: censor it (and its base64) wherever it shows up in the records.
    let censorer = Censorer::new(&[token.clone()], 0);
    let workers = if opts.max_parallel_workers == 0 {
        opts.refs.len()
    } else {
        opts.max_parallel_workers
    }
    .max(1);
    let next = Mutex::new(0usize);
    let results: Mutex<Vec<Option<Record>>> = Mutex::new(vec![None; opts.refs.len()]);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = {
                        let Ok(mut n) = next.lock() else { return };
                        let i = *n;
                        *n += 1;
                        i
                    };
                    let Some(refs) = opts.refs.get(i) else { return };
                    log.info(&format!("Cloning refs {}", refs.org_repo()));
                    let mut r = refs.clone();
                    if !token.is_empty() {
                        r.clone_uri = with_token(&clone::repository_uri(refs), &token);
                    }
                    let mut rec = clone::run(&r, &opts.src_root, &clone_settings);
                    // Records name the refs as requested, not the token-bearing URL.
                    rec.refs = refs.clone();
                    if !token.is_empty() {
                        for c in &mut rec.commands {
                            for f in [&mut c.command, &mut c.output, &mut c.error] {
                                let mut b = std::mem::take(f).into_bytes();
                                censorer.censor(&mut b);
                                *f = String::from_utf8_lossy(&b).replace(&token, "CENSORED");
                            }
                        }
                    }
                    if let Ok(mut res) = results.lock() {
                        res[i] = Some(rec);
                    }
                }
            });
        }
    });
    let mut out = vec![setup];
    out.extend(
        results
            .into_inner()
            .unwrap_or_default()
            .into_iter()
            .flatten(),
    );
    out
}

/// Prow's `clonerefs.Run`: clone, write the records, fail only with `fail: true`.
pub fn run(
    opts: &CloneRefsOptions,
    settings: &RunSettings,
    log: &Logger,
) -> Result<Vec<Record>, String> {
    let records = create_records(opts, settings, log);
    let data = serde_json::to_vec(&records).map_err(|e| format!("marshal clone records: {e}"))?;
    std::fs::write(&opts.log, data).map_err(|e| format!("write clone records: {e}"))?;
    let failed = records.iter().filter(|r| r.failed).count();
    if opts.fail && failed > 0 {
        return Err(format!("{failed} clone records failed"));
    }
    Ok(records)
}

/// Prow's `--repo` syntax: `org,repo=base_ref[:base_sha][,pr[:sha[:ref]]]...`.
pub fn parse_refs(value: &str) -> Result<Refs, String> {
    let (info, all) = value
        .split_once('=')
        .ok_or_else(|| format!("refspec {value} invalid: does not contain '='"))?;
    let (org, repo) = info
        .split_once(',')
        .ok_or_else(|| format!("refspec {value} invalid: does not contain 'org,repo' as prefix"))?;
    let mut r = Refs {
        org: org.into(),
        repo: repo.into(),
        ..Default::default()
    };
    let values: Vec<&str> = all.split(',').collect();
    if values.len() == 1 && values[0].is_empty() {
        return Err(format!(
            "refspec {value} invalid: does not contain any refs"
        ));
    }
    let base: Vec<&str> = values[0].split(':').collect();
    if base.len() > 2 {
        return Err(format!("refspec {} invalid: malformed base ref", values[0]));
    }
    r.base_ref = base[0].into();
    if let Some(sha) = base.get(1) {
        r.base_sha = (*sha).into();
    }
    for v in &values[1..] {
        let parts: Vec<&str> = v.split(':').collect();
        if parts.len() > 3 {
            return Err(format!("refspec {v} invalid: malformed pull ref"));
        }
        let number = parts[0].parse::<u64>().map_err(|e| {
            format!("refspec {v} invalid: pull request identifier not a number: {e}")
        })?;
        r.pulls.push(Pull {
            number,
            sha: parts.get(1).map(|s| s.to_string()).unwrap_or_default(),
            git_ref: parts.get(2).map(|s| s.to_string()).unwrap_or_default(),
            ..Default::default()
        });
    }
    Ok(r)
}

/// Flags accepted when `CLONEREFS_OPTIONS` is not set.
pub const FLAGS: &[FlagDef] = &[
    FlagDef::value("src-root"),
    FlagDef::value("log"),
    FlagDef::value("git-user-name"),
    FlagDef::value("git-user-email"),
    FlagDef::value("repo"),
    FlagDef::value("ssh-key"),
    FlagDef::value("clone-alias"),
    FlagDef::value("uri-prefix"),
    FlagDef::value("max-workers"),
    FlagDef::value("cookiefile"),
    FlagDef::boolean("fail"),
];

/// Expand a `{{.Org}}`/`{{.Repo}}` template (the only fields Prow's templates can use).
fn expand(template: &str, org: &str, repo: &str) -> String {
    template.replace("{{.Org}}", org).replace("{{.Repo}}", repo)
}

/// Options from `CLONEREFS_OPTIONS`, else from flags.
pub fn load_options(args: &[String]) -> Result<CloneRefsOptions, String> {
    match load(CLONEREFS_OPTIONS_ENV, args, FLAGS)? {
        OptionSource::Json(j) => from_json(CLONEREFS_OPTIONS_ENV, &j),
        OptionSource::Flags(p) => {
            let mut refs = Vec::new();
            for v in p.all("repo") {
                refs.push(parse_refs(&v)?);
            }
            // Prow's flag path computes these on a copy and so never applies them; we do.
            if let Some(t) = p.get("clone-alias") {
                for r in &mut refs {
                    r.path_alias = expand(t, &r.org, &r.repo);
                }
            }
            if let Some(t) = p.get("uri-prefix") {
                for r in &mut refs {
                    r.clone_uri = expand(t, &r.org, &r.repo);
                }
            }
            Ok(CloneRefsOptions {
                src_root: p.get("src-root").unwrap_or_default().into(),
                log: p.get("log").unwrap_or_default().into(),
                git_user_name: p
                    .get("git-user-name")
                    .unwrap_or(DEFAULT_GIT_USER_NAME)
                    .into(),
                git_user_email: p
                    .get("git-user-email")
                    .unwrap_or(DEFAULT_GIT_USER_EMAIL)
                    .into(),
                refs,
                key_files: p.all("ssh-key"),
                max_parallel_workers: match p.get("max-workers") {
                    None => 0,
                    Some(v) => v
                        .parse()
                        .map_err(|e| format!("invalid value {v:?} for flag -max-workers: {e}"))?,
                },
                cookie_path: p.get("cookiefile").unwrap_or_default().into(),
                fail: p.bool("fail")?,
                ..Default::default()
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_refs_forms() {
        let r = parse_refs("org,repo=master:abc,1:def,2:ghi:refs/changes/1").unwrap();
        assert_eq!((r.org.as_str(), r.repo.as_str()), ("org", "repo"));
        assert_eq!(
            (r.base_ref.as_str(), r.base_sha.as_str()),
            ("master", "abc")
        );
        assert_eq!(r.pulls.len(), 2);
        assert_eq!(r.pulls[1].git_ref, "refs/changes/1");
        assert_eq!(r.to_string(), "master:abc,1:def,2:ghi:refs/changes/1");
        assert!(parse_refs("org,repo").is_err());
        assert!(parse_refs("orgrepo=master").is_err());
        assert!(parse_refs("org,repo=").is_err());
        assert!(parse_refs("org,repo=a:b:c").is_err());
        assert!(parse_refs("org,repo=master,x").is_err());
    }

    #[test]
    fn validation() {
        let log = Logger::silent("t");
        let mut o = CloneRefsOptions::default();
        assert_eq!(o.validate(&log).unwrap_err(), "no source root specified");
        o.src_root = "/go".into();
        assert_eq!(o.validate(&log).unwrap_err(), "no log file specified");
        o.log = "/logs/clone.json".into();
        assert_eq!(o.validate(&log).unwrap_err(), "no refs specified to clone");
        let r = parse_refs("o,r=main").unwrap();
        o.refs = vec![r.clone(), r];
        assert!(o.validate(&log).unwrap_err().contains("is also using"));
        o.refs.pop();
        o.validate(&log).unwrap();
        o.github_app_id = "1".into();
        assert!(o.validate(&log).unwrap_err().contains("API endpoints"));
        o.github_api_endpoints = vec!["https://api.example.com".into()];
        assert!(o.validate(&log).unwrap_err().contains("private key"));
        o.oauth_token_file = "/x".into();
        assert!(o.validate(&log).unwrap_err().contains("multiple"));
    }

    #[test]
    fn options_json_shape() {
        let raw = r#"{"src_root":"/home/prow/go","log":"/logs/clone.json","git_user_name":"ci-robot","git_user_email":"ci-robot@k8s.io","refs":[{"org":"org-name","repo":"repo-name","base_ref":"base-ref","base_sha":"base-sha","pulls":[{"number":1,"author":"author-name","sha":"pull-sha","title":"pull-title","head_ref":"my-big-change"}],"path_alias":"somewhere/else"}],"cookie_path":"/secrets/cookiefile/.gitcookies","github_api_endpoints":["https://api.github.com"]}"#;
        let o: CloneRefsOptions = serde_json::from_str(raw).unwrap();
        assert_eq!(serde_json::to_string(&o).unwrap(), raw);
        assert_eq!(
            with_token("https://github.com/o/r.git", "tok"),
            "https://tok:x-oauth-basic@github.com/o/r.git"
        );
    }
}
