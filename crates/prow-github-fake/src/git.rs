//! Thin wrapper over the `git` CLI for the bare repositories behind each fake repository.
//!
//! Everything is plumbing (`hash-object`, `update-index` on a throw-away index, `commit-tree`,
//! `merge-tree --write-tree`, `update-ref`), so no work tree is ever checked out. Every command
//! runs with a scrubbed environment: no system/global config, no prompts, C locale, and explicit
//! author/committer identities and dates, so results never depend on the machine's git setup.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsStr;
use std::hash::Hash;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeZone, Utc};

/// All-zero object name, used as `before`/`after` of created/deleted refs.
pub(crate) const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

/// A failed git invocation.
#[derive(Debug, Clone, thiserror::Error)]
#[error("git {command}: {message}")]
pub(crate) struct GitError {
    pub command: String,
    pub message: String,
}

pub(crate) type GitResult<T> = Result<T, GitError>;

/// Name, email and time of an author or committer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Signature {
    pub name: String,
    pub email: String,
    pub when: DateTime<Utc>,
}

/// What `git log -1` tells about a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CommitInfo {
    pub sha: String,
    pub tree: String,
    pub parents: Vec<String>,
    pub author: Signature,
    pub committer: Signature,
    pub message: String,
}

impl CommitInfo {
    /// First line of the message.
    #[cfg(test)]
    pub fn title(&self) -> &str {
        self.message.lines().next().unwrap_or_default()
    }
}

/// One entry of `git ls-tree`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TreeItem {
    pub mode: String,
    /// `blob`, `tree` or `commit`.
    pub kind: String,
    pub sha: String,
    pub size: Option<u64>,
    pub path: String,
}

/// One file of a diff between two commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileDiff {
    pub filename: String,
    pub previous_filename: Option<String>,
    /// GitHub's vocabulary: `added`, `removed`, `modified`, `renamed`, `copied`, `changed`.
    pub status: String,
    pub additions: u64,
    pub deletions: u64,
    /// The blob at the new side (the old side for removals).
    pub blob_sha: String,
    /// Hunks starting at the first `@@`, absent for binary files.
    pub patch: Option<String>,
}

/// One bare repository. Clones share the in-memory ref map and object caches.
#[derive(Debug, Clone)]
pub(crate) struct Repo {
    git: PathBuf,
    dir: PathBuf,
    mem: Arc<Memory>,
}

/// Entries a cache holds before it starts over; bounds memory in long-running demos.
const CACHE_CAP: usize = 4096;
/// Blobs larger than this are not cached.
const BLOB_CACHE_MAX: usize = 256 * 1024;

/// A map that forgets everything once it is full. Used for answers derived from immutable git
/// objects (keyed by full SHAs), which never go stale, so forgetting only costs a recomputation.
#[derive(Debug)]
struct Memo<K, V> {
    map: Mutex<HashMap<K, V>>,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    fn new() -> Self {
        Memo {
            map: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, key: &K) -> Option<V> {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    fn put(&self, key: K, value: V) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= CACHE_CAP {
            map.clear();
        }
        map.insert(key, value);
    }

    /// The cached value, or `compute`'s `Ok` result remembered (errors are not). The map is not
    /// locked while `compute` runs git, so concurrent readers never wait on each other's spawns.
    fn get_or<E>(&self, key: K, compute: impl FnOnce() -> Result<V, E>) -> Result<V, E> {
        if let Some(v) = self.get(&key) {
            return Ok(v);
        }
        let v = compute()?;
        self.put(key, v.clone());
        Ok(v)
    }
}

/// What the fake knows about a repository without asking git.
///
/// `refs` is exact because every ref change goes through [`Repo::update_ref`] /
/// [`Repo::delete_ref`] (the smart HTTP endpoint is read-only); the other maps cache answers
/// about immutable objects, keyed by full SHAs only (never by ref names).
#[derive(Debug)]
struct Memory {
    /// Every ref under `refs/` → the commit it points at.
    refs: Mutex<BTreeMap<String, String>>,
    /// Full SHAs known to name commits.
    commits: Mutex<HashSet<String>>,
    commit_info: Memo<String, CommitInfo>,
    ls_tree: Memo<(String, Option<String>, bool), Vec<TreeItem>>,
    blobs: Memo<String, Vec<u8>>,
    merge_base: Memo<(String, String), String>,
    ancestor: Memo<(String, String), ()>,
    commits_between: Memo<(Option<String>, String, bool), Vec<String>>,
    merge_trees: Memo<(String, String, Option<String>), Option<String>>,
    diff: Memo<(Option<String>, String), Vec<FileDiff>>,
}

impl Memory {
    fn new() -> Self {
        Memory {
            refs: Mutex::new(BTreeMap::new()),
            commits: Mutex::new(HashSet::new()),
            commit_info: Memo::new(),
            ls_tree: Memo::new(),
            blobs: Memo::new(),
            merge_base: Memo::new(),
            ancestor: Memo::new(),
            commits_between: Memo::new(),
            merge_trees: Memo::new(),
            diff: Memo::new(),
        }
    }

    fn refs(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.refs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn note_commit(&self, sha: &str) {
        let mut set = self.commits.lock().unwrap_or_else(PoisonError::into_inner);
        if set.len() >= CACHE_CAP * 4 {
            set.clear();
        }
        set.insert(sha.to_owned());
    }

    fn is_known_commit(&self, sha: &str) -> bool {
        self.commits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(sha)
    }
}

/// A full, lowercase object name: the only form whose meaning can never change, hence the
/// only form used as a cache key.
fn is_full_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn full_sha_opt(s: Option<&str>) -> bool {
    s.is_none_or(is_full_sha)
}

/// Where git lives: `/usr/local/bin/git` when present (the image's build), else `git` on `PATH`.
pub(crate) fn git_binary() -> PathBuf {
    let preferred = Path::new("/usr/local/bin/git");
    if preferred.is_file() {
        preferred.to_path_buf()
    } else {
        PathBuf::from("git")
    }
}

/// Whether `name` is safe to hand to git as a branch name or revision: no option look-alikes, no
/// range or reflog syntax, no control characters, and acceptable to `git check-ref-format`'s rules
/// for the parts we rely on.
pub(crate) fn valid_ref_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("@{")
        && !name.contains("/.")
        && name.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | '+' | '=' | ',')
        })
}

/// Whether `path` is a normalized relative file path git can store (`a/b.txt`).
pub(crate) fn valid_path(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('"')
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != ".." && seg != ".git")
        && !path.chars().any(|c| c.is_control())
}

/// [`Repo::resolve`] over a `rev-parse --verify {rev}^{commit}` implementation.
fn resolve_with(rev: &str, rev_parse: impl Fn(&str) -> Option<String>) -> Option<String> {
    let rev = rev
        .strip_prefix("refs/")
        .map_or(rev.to_owned(), |r| r.to_owned());
    if !valid_ref_name(&rev) {
        return None;
    }
    let branch_sha = |b: &str| {
        if valid_ref_name(b) {
            rev_parse(&format!("refs/heads/{b}"))
        } else {
            None
        }
    };
    if let Some(branch) = rev.strip_prefix("heads/")
        && let Some(sha) = branch_sha(branch)
    {
        return Some(sha);
    }
    if let Some(tag) = rev.strip_prefix("tags/")
        && let Some(sha) = rev_parse(&format!("refs/tags/{tag}"))
    {
        return Some(sha);
    }
    if let Some(sha) = branch_sha(&rev) {
        return Some(sha);
    }
    if let Some(sha) = rev_parse(&format!("refs/tags/{rev}")) {
        return Some(sha);
    }
    if looks_like_sha(&rev) {
        return rev_parse(&rev);
    }
    None
}

fn looks_like_sha(s: &str) -> bool {
    (4..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Repo {
    /// Creates a bare repository at `dir` whose `HEAD` names `default_branch`.
    pub fn init(git: &Path, dir: &Path, default_branch: &str) -> GitResult<Repo> {
        let repo = Repo {
            git: git.to_path_buf(),
            dir: dir.to_path_buf(),
            mem: Arc::new(Memory::new()),
        };
        let mut cmd = repo.base_command();
        cmd.arg("init").arg("--quiet").arg("--bare").arg(dir);
        repo.output(cmd, None, "init")?;
        repo.run(
            &[
                "symbolic-ref",
                "HEAD",
                &format!("refs/heads/{default_branch}"),
            ],
            None,
        )?;
        // Keep the repository servable over smart HTTP without extra config files elsewhere.
        repo.run(&["config", "http.uploadpack", "true"], None)?;
        repo.run(&["config", "uploadpack.allowAnySHA1InWant", "true"], None)?;
        Ok(repo)
    }

    /// The repository directory (for `git clone`, smart HTTP).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The git binary in use.
    pub fn git_binary(&self) -> &Path {
        &self.git
    }

    /// A `git` command with the scrubbed environment and `--git-dir` set.
    pub fn command(&self) -> Command {
        let mut cmd = self.base_command();
        cmd.arg("--git-dir").arg(&self.dir);
        cmd
    }

    fn base_command(&self) -> Command {
        let mut cmd = Command::new(&self.git);
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
            "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            "GIT_NAMESPACE",
            "GIT_CEILING_DIRECTORIES",
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_AUTHOR_DATE",
            "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL",
            "GIT_COMMITTER_DATE",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn output(
        &self,
        mut cmd: Command,
        stdin: Option<&[u8]>,
        what: &str,
    ) -> GitResult<std::process::Output> {
        let err = |message: String| GitError {
            command: what.to_owned(),
            message,
        };
        if stdin.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| err(format!("cannot run git: {e}")))?;
        // Feed stdin from a thread so a large output cannot deadlock against a full input pipe.
        let writer = match (stdin, child.stdin.take()) {
            (Some(data), Some(mut pipe)) => {
                let data = data.to_vec();
                Some(std::thread::spawn(move || pipe.write_all(&data)))
            }
            _ => None,
        };
        let out = child.wait_with_output().map_err(|e| err(e.to_string()))?;
        if let Some(w) = writer {
            // A write error only matters if git also failed, which is reported below.
            let _ = w.join();
        }
        Ok(out)
    }

    /// Runs git with `args`; returns stdout, or an error carrying stderr on a non-zero exit.
    fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> GitResult<Vec<u8>> {
        self.run_env(args, stdin, &[])
    }

    fn run_env(
        &self,
        args: &[&str],
        stdin: Option<&[u8]>,
        env: &[(&str, String)],
    ) -> GitResult<Vec<u8>> {
        let mut cmd = self.command();
        cmd.args(args.iter().map(OsStr::new));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let what = args.first().copied().unwrap_or("git");
        let out = self.output(cmd, stdin, what)?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(GitError {
                command: what.to_owned(),
                message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            })
        }
    }

    fn run_text(&self, args: &[&str]) -> GitResult<String> {
        Ok(String::from_utf8_lossy(&self.run(args, None)?)
            .trim()
            .to_owned())
    }

    // ---- refs ----

    /// The commit a branch points at.
    pub fn branch_sha(&self, branch: &str) -> Option<String> {
        if !valid_ref_name(branch) {
            return None;
        }
        self.rev_parse(&format!("refs/heads/{branch}"))
    }

    /// What `git rev-parse --verify {rev}^{commit}` answers, from memory when possible: a full
    /// SHA wins over refs, then git's DWIM rules over the ref map, then (only for hex strings)
    /// git itself for abbreviated or not-yet-seen object names.
    fn rev_parse(&self, rev: &str) -> Option<String> {
        if rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()) {
            let lower = rev.to_ascii_lowercase();
            if self.mem.is_known_commit(&lower) {
                return Some(lower);
            }
            return self.rev_parse_git(rev);
        }
        if let Some(sha) = self.dwim_ref(rev) {
            return Some(sha);
        }
        if looks_like_sha(rev) {
            return self.rev_parse_git(rev);
        }
        None
    }

    /// The target of the first ref git's DWIM rules find for `name`.
    fn dwim_ref(&self, name: &str) -> Option<String> {
        let refs = self.mem.refs();
        [
            name.to_owned(),
            format!("refs/{name}"),
            format!("refs/tags/{name}"),
            format!("refs/heads/{name}"),
            format!("refs/remotes/{name}"),
            format!("refs/remotes/{name}/HEAD"),
        ]
        .iter()
        .find_map(|n| refs.get(n).cloned())
    }

    fn rev_parse_git(&self, rev: &str) -> Option<String> {
        let out = self
            .run(
                &[
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    &format!("{rev}^{{commit}}"),
                ],
                None,
            )
            .ok()?;
        let sha = String::from_utf8_lossy(&out).trim().to_owned();
        if sha.len() != 40 {
            return None;
        }
        self.mem.note_commit(&sha);
        Some(sha)
    }

    /// Resolves what GitHub accepts as a `ref` parameter: a branch, a tag, or a (possibly
    /// abbreviated) commit SHA. Branches win over tags, like GitHub.
    pub fn resolve(&self, rev: &str) -> Option<String> {
        resolve_with(rev, |r| self.rev_parse(r))
    }

    /// Every ref under `refs/` with its target, sorted by name (from the ref map).
    pub fn list_refs(&self) -> GitResult<Vec<(String, String)>> {
        Ok(self
            .mem
            .refs()
            .iter()
            .map(|(n, s)| (n.clone(), s.clone()))
            .collect())
    }

    /// Points `refname` (full, e.g. `refs/heads/main`) at the commit `new`, only if it currently
    /// is `old` (`None`: must not exist). The ref map is locked across the git call so it
    /// changes exactly when the repository does.
    pub fn update_ref(&self, refname: &str, new: &str, old: Option<&str>) -> GitResult<()> {
        let mut refs = self.mem.refs();
        self.run(&["update-ref", refname, new, old.unwrap_or(ZERO_SHA)], None)?;
        if is_full_sha(new) {
            self.mem.note_commit(new);
            refs.insert(refname.to_owned(), new.to_owned());
        } else {
            // Not expected (callers pass full SHAs); ask git what the ref now holds.
            drop(refs);
            let sha = self.rev_parse_git(refname);
            let mut refs = self.mem.refs();
            match sha {
                Some(sha) => refs.insert(refname.to_owned(), sha),
                None => refs.remove(refname),
            };
        }
        Ok(())
    }

    /// Deletes `refname`.
    pub fn delete_ref(&self, refname: &str) -> GitResult<()> {
        let mut refs = self.mem.refs();
        self.run(&["update-ref", "-d", refname], None)?;
        refs.remove(refname);
        Ok(())
    }

    // ---- objects ----

    /// Writes `content` as a blob.
    pub fn write_blob(&self, content: &[u8]) -> GitResult<String> {
        let out = self.run(&["hash-object", "-w", "--stdin"], Some(content))?;
        Ok(String::from_utf8_lossy(&out).trim().to_owned())
    }

    /// The tree with `changes` applied on top of `parent`'s tree (or the empty tree). `None`
    /// deletes the path. Uses a private index file so nothing shared is touched.
    pub fn tree_with_changes(
        &self,
        parent: Option<&str>,
        changes: &BTreeMap<String, Option<Vec<u8>>>,
    ) -> GitResult<String> {
        let index = tempfile::Builder::new()
            .prefix("fake-index-")
            .tempfile_in(&self.dir)
            .map_err(|e| GitError {
                command: "index".into(),
                message: e.to_string(),
            })?;
        let index_path = index.path().to_string_lossy().into_owned();
        // read-tree replaces the (empty) temp file with a valid index.
        let env = [("GIT_INDEX_FILE", index_path)];
        match parent {
            Some(p) => self.run_env(&["read-tree", p], None, &env)?,
            None => self.run_env(&["read-tree", "--empty"], None, &env)?,
        };
        let mut info = Vec::new();
        for (path, content) in changes {
            match content {
                Some(bytes) => {
                    let blob = self.write_blob(bytes)?;
                    info.extend_from_slice(format!("100644 {blob}\t{path}").as_bytes());
                }
                None => info.extend_from_slice(format!("0 {ZERO_SHA}\t{path}").as_bytes()),
            }
            info.push(0);
        }
        if !info.is_empty() {
            self.run_env(&["update-index", "-z", "--index-info"], Some(&info), &env)?;
        }
        let tree = self.run_env(&["write-tree"], None, &env)?;
        Ok(String::from_utf8_lossy(&tree).trim().to_owned())
    }

    /// Creates a commit object.
    pub fn commit_tree(
        &self,
        tree: &str,
        parents: &[&str],
        message: &str,
        author: &Signature,
        committer: &Signature,
    ) -> GitResult<String> {
        let mut args = vec!["commit-tree", tree];
        for p in parents {
            args.push("-p");
            args.push(p);
        }
        let env = [
            ("GIT_AUTHOR_NAME", author.name.clone()),
            ("GIT_AUTHOR_EMAIL", author.email.clone()),
            (
                "GIT_AUTHOR_DATE",
                format!("{} +0000", author.when.timestamp()),
            ),
            ("GIT_COMMITTER_NAME", committer.name.clone()),
            ("GIT_COMMITTER_EMAIL", committer.email.clone()),
            (
                "GIT_COMMITTER_DATE",
                format!("{} +0000", committer.when.timestamp()),
            ),
        ];
        let out = self.run_env(&args, Some(message.as_bytes()), &env)?;
        let sha = String::from_utf8_lossy(&out).trim().to_owned();
        if is_full_sha(&sha) {
            self.mem.note_commit(&sha);
        }
        Ok(sha)
    }

    /// Reads a commit (cached by full SHA).
    pub fn commit_info(&self, sha: &str) -> GitResult<CommitInfo> {
        if !is_full_sha(sha) {
            return self.commit_info_git(sha);
        }
        self.mem.commit_info.get_or(sha.to_owned(), || {
            let info = self.commit_info_git(sha)?;
            self.mem.note_commit(&info.sha);
            Ok(info)
        })
    }

    fn commit_info_git(&self, sha: &str) -> GitResult<CommitInfo> {
        let out = self.run(
            &[
                "log",
                "-1",
                "--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%at%x00%cn%x00%ce%x00%ct%x00%B",
                sha,
                "--",
            ],
            None,
        )?;
        let text = String::from_utf8_lossy(&out);
        let parts: Vec<&str> = text.splitn(10, '\0').collect();
        let bad = || GitError {
            command: "log".into(),
            message: format!("unexpected output for {sha}"),
        };
        if parts.len() != 10 {
            return Err(bad());
        }
        let time = |s: &str| {
            s.trim()
                .parse::<i64>()
                .ok()
                .and_then(|t| Utc.timestamp_opt(t, 0).single())
                .ok_or_else(bad)
        };
        Ok(CommitInfo {
            sha: parts[0].to_owned(),
            tree: parts[1].to_owned(),
            parents: parts[2].split_whitespace().map(str::to_owned).collect(),
            author: Signature {
                name: parts[3].to_owned(),
                email: parts[4].to_owned(),
                when: time(parts[5])?,
            },
            committer: Signature {
                name: parts[6].to_owned(),
                email: parts[7].to_owned(),
                when: time(parts[8])?,
            },
            message: parts[9].trim_end_matches('\n').to_owned(),
        })
    }

    /// The entry at `path` in `commit` (`None` when absent). The empty path is the root tree.
    pub fn entry(&self, commit: &str, path: &str) -> GitResult<Option<TreeItem>> {
        if path.is_empty() {
            let info = self.commit_info(commit)?;
            return Ok(Some(TreeItem {
                mode: "040000".into(),
                kind: "tree".into(),
                sha: info.tree,
                size: None,
                path: String::new(),
            }));
        }
        let items = self.ls_tree(commit, Some(path), false)?;
        Ok(items.into_iter().find(|i| i.path == path))
    }

    /// `git ls-tree -l`: the entries of `tree_ish` (below `dir` when given), recursing (and
    /// listing the trees on the way) when `recursive`.
    pub fn ls_tree(
        &self,
        tree_ish: &str,
        path: Option<&str>,
        recursive: bool,
    ) -> GitResult<Vec<TreeItem>> {
        if !is_full_sha(tree_ish) {
            return self.ls_tree_git(tree_ish, path, recursive);
        }
        let key = (tree_ish.to_owned(), path.map(str::to_owned), recursive);
        self.mem
            .ls_tree
            .get_or(key, || self.ls_tree_git(tree_ish, path, recursive))
    }

    fn ls_tree_git(
        &self,
        tree_ish: &str,
        path: Option<&str>,
        recursive: bool,
    ) -> GitResult<Vec<TreeItem>> {
        let mut args = vec!["ls-tree", "-l", "-z", "--full-tree"];
        if recursive {
            args.extend(["-r", "-t"]);
        }
        args.push(tree_ish);
        args.push("--");
        if let Some(p) = path {
            args.push(p);
        }
        let out = self.run(&args, None)?;
        let mut items = Vec::new();
        for record in out.split(|b| *b == 0).filter(|r| !r.is_empty()) {
            let record = String::from_utf8_lossy(record);
            let Some((meta, path)) = record.split_once('\t') else {
                continue;
            };
            let fields: Vec<&str> = meta.split_whitespace().collect();
            if fields.len() < 4 {
                continue;
            }
            items.push(TreeItem {
                mode: fields[0].to_owned(),
                kind: fields[1].to_owned(),
                sha: fields[2].to_owned(),
                size: fields[3].parse().ok(),
                path: path.to_owned(),
            });
        }
        Ok(items)
    }

    /// The children of directory `dir` (root when empty) in `commit`.
    pub fn list_dir(&self, commit: &str, dir: &str) -> GitResult<Vec<TreeItem>> {
        if dir.is_empty() {
            self.ls_tree(commit, None, false)
        } else {
            self.ls_tree(commit, Some(&format!("{dir}/")), false)
        }
    }

    /// The bytes of a blob (small ones cached by full SHA).
    pub fn read_blob(&self, sha: &str) -> GitResult<Vec<u8>> {
        if !is_full_sha(sha) {
            return self.run(&["cat-file", "blob", sha], None);
        }
        if let Some(bytes) = self.mem.blobs.get(&sha.to_owned()) {
            return Ok(bytes);
        }
        let bytes = self.run(&["cat-file", "blob", sha], None)?;
        if bytes.len() <= BLOB_CACHE_MAX {
            self.mem.blobs.put(sha.to_owned(), bytes.clone());
        }
        Ok(bytes)
    }

    /// The file at `path` in `commit`, if it is a file.
    #[cfg(test)]
    pub fn read_file(&self, commit: &str, path: &str) -> GitResult<Option<Vec<u8>>> {
        match self.entry(commit, path)? {
            Some(item) if item.kind == "blob" => self.read_blob(&item.sha).map(Some),
            _ => Ok(None),
        }
    }

    // ---- history ----

    /// Best common ancestor of two commits.
    pub fn merge_base(&self, a: &str, b: &str) -> Option<String> {
        let git = || {
            self.run_text(&["merge-base", a, b])
                .ok()
                .filter(|s| s.len() == 40)
                .ok_or(())
        };
        if !(is_full_sha(a) && is_full_sha(b)) {
            return git().ok();
        }
        // Only found bases are remembered: "none" may just mean an object is not there yet.
        self.mem
            .merge_base
            .get_or((a.to_owned(), b.to_owned()), git)
            .ok()
    }

    /// Whether `ancestor` is reachable from `descendant`.
    pub fn is_ancestor(&self, ancestor: &str, descendant: &str) -> bool {
        let git = || {
            self.run(&["merge-base", "--is-ancestor", ancestor, descendant], None)
                .map(|_| ())
        };
        if !(is_full_sha(ancestor) && is_full_sha(descendant)) {
            return git().is_ok();
        }
        // Only "yes" is remembered, for the same reason as in `merge_base`.
        self.mem
            .ancestor
            .get_or((ancestor.to_owned(), descendant.to_owned()), git)
            .is_ok()
    }

    /// Commits reachable from `to` but not from `from`, oldest first.
    pub fn commits_between(
        &self,
        from: Option<&str>,
        to: &str,
        no_merges: bool,
    ) -> GitResult<Vec<String>> {
        if !(full_sha_opt(from) && is_full_sha(to)) {
            return self.commits_between_git(from, to, no_merges);
        }
        let key = (from.map(str::to_owned), to.to_owned(), no_merges);
        self.mem
            .commits_between
            .get_or(key, || self.commits_between_git(from, to, no_merges))
    }

    fn commits_between_git(
        &self,
        from: Option<&str>,
        to: &str,
        no_merges: bool,
    ) -> GitResult<Vec<String>> {
        let range = match from {
            Some(f) => format!("{f}..{to}"),
            None => to.to_owned(),
        };
        let mut args = vec!["rev-list", "--reverse", "--topo-order"];
        if no_merges {
            args.push("--no-merges");
        }
        args.push(&range);
        args.push("--");
        Ok(self.run_text(&args)?.lines().map(str::to_owned).collect())
    }

    /// Three-way merge of `theirs` into `ours` without a work tree. `Ok(None)` on conflicts.
    pub fn merge_trees(
        &self,
        ours: &str,
        theirs: &str,
        merge_base: Option<&str>,
    ) -> GitResult<Option<String>> {
        if !(is_full_sha(ours) && is_full_sha(theirs) && full_sha_opt(merge_base)) {
            return self.merge_trees_git(ours, theirs, merge_base);
        }
        let key = (
            ours.to_owned(),
            theirs.to_owned(),
            merge_base.map(str::to_owned),
        );
        self.mem
            .merge_trees
            .get_or(key, || self.merge_trees_git(ours, theirs, merge_base))
    }

    fn merge_trees_git(
        &self,
        ours: &str,
        theirs: &str,
        merge_base: Option<&str>,
    ) -> GitResult<Option<String>> {
        let base_arg;
        let mut args = vec![
            "merge-tree",
            "--write-tree",
            "--no-messages",
            "--allow-unrelated-histories",
        ];
        if let Some(b) = merge_base {
            base_arg = format!("--merge-base={b}");
            args.push(&base_arg);
        }
        args.push(ours);
        args.push(theirs);
        let mut cmd = self.command();
        cmd.args(&args);
        let out = self.output(cmd, None, "merge-tree")?;
        match out.status.code() {
            Some(0) => Ok(String::from_utf8_lossy(&out.stdout)
                .lines()
                .next()
                .map(str::to_owned)),
            Some(1) => Ok(None),
            _ => Err(GitError {
                command: "merge-tree".into(),
                message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            }),
        }
    }

    /// Per-file diff `from..to` with rename detection, in GitHub's terms.
    pub fn diff(&self, from: Option<&str>, to: &str) -> GitResult<Vec<FileDiff>> {
        if !(full_sha_opt(from) && is_full_sha(to)) {
            return self.diff_git(from, to);
        }
        self.mem
            .diff
            .get_or((from.map(str::to_owned), to.to_owned()), || {
                self.diff_git(from, to)
            })
    }

    fn diff_git(&self, from: Option<&str>, to: &str) -> GitResult<Vec<FileDiff>> {
        const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
        let from = match from {
            Some(f) => f.to_owned(),
            None => {
                // Make sure the empty tree object exists before diffing against it.
                self.run(&["hash-object", "-t", "tree", "-w", "--stdin"], Some(b""))?;
                EMPTY_TREE.to_owned()
            }
        };
        let raw = self.run(
            &[
                "diff-tree",
                "-r",
                "-M",
                "--raw",
                "-z",
                "--no-abbrev",
                &from,
                to,
                "--",
            ],
            None,
        )?;
        let numstat = self.run(
            &["diff-tree", "-r", "-M", "--numstat", "-z", &from, to, "--"],
            None,
        )?;
        let patch = self.run(
            &[
                "diff-tree",
                "-r",
                "-M",
                "-p",
                "--no-color",
                "--no-ext-diff",
                &from,
                to,
                "--",
            ],
            None,
        )?;

        let mut files = parse_raw(&raw);
        let stats = parse_numstat(&numstat);
        let patches = split_patches(&String::from_utf8_lossy(&patch));
        let patches_match = patches.len() == files.len();
        for (i, f) in files.iter_mut().enumerate() {
            if let Some((a, d)) = stats.get(i).copied().flatten() {
                f.additions = a;
                f.deletions = d;
            }
            if patches_match {
                f.patch = patches[i].clone();
            }
        }
        Ok(files)
    }
}

/// `diff-tree --raw -z`: `:old_mode new_mode old_sha new_sha status\0path\0[path2\0]`.
fn parse_raw(out: &[u8]) -> Vec<FileDiff> {
    let fields: Vec<String> = out
        .split(|b| *b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let mut files = Vec::new();
    let mut i = 0;
    while i < fields.len() {
        let meta = &fields[i];
        if !meta.starts_with(':') {
            i += 1;
            continue;
        }
        let parts: Vec<&str> = meta[1..].split_whitespace().collect();
        if parts.len() < 5 {
            break;
        }
        let (old_sha, new_sha, status) = (parts[2], parts[3], parts[4]);
        let letter = status.chars().next().unwrap_or('M');
        let two_paths = matches!(letter, 'R' | 'C');
        let Some(path1) = fields.get(i + 1).cloned() else {
            break;
        };
        let (filename, previous) = if two_paths {
            let Some(path2) = fields.get(i + 2).cloned() else {
                break;
            };
            i += 3;
            (path2, Some(path1))
        } else {
            i += 2;
            (path1, None)
        };
        let status = match letter {
            'A' => "added",
            'D' => "removed",
            'R' => "renamed",
            'C' => "copied",
            'T' => "changed",
            _ => "modified",
        };
        files.push(FileDiff {
            filename,
            previous_filename: previous,
            status: status.to_owned(),
            additions: 0,
            deletions: 0,
            blob_sha: if letter == 'D' {
                old_sha.to_owned()
            } else {
                new_sha.to_owned()
            },
            patch: None,
        });
    }
    files
}

/// `--numstat -z`: `add\tdel\tpath\0` or, for renames, `add\tdel\t\0old\0new\0`. Binary files
/// report `-`, which GitHub shows as zero.
fn parse_numstat(out: &[u8]) -> Vec<Option<(u64, u64)>> {
    let fields: Vec<String> = out
        .split(|b| *b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let mut stats = Vec::new();
    let mut i = 0;
    while i < fields.len() {
        let f = &fields[i];
        let mut parts = f.splitn(3, '\t');
        let (Some(a), Some(d), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            i += 1;
            continue;
        };
        stats.push(Some((a.parse().unwrap_or(0), d.parse().unwrap_or(0))));
        // An empty path means the two rename paths follow as separate fields.
        i += if path.is_empty() { 3 } else { 1 };
    }
    stats
}

/// Splits `diff -p` output per file; each entry is the hunks from the first `@@`, if any.
fn split_patches(out: &str) -> Vec<Option<String>> {
    let mut result = Vec::new();
    let mut current: Option<String> = None;
    for line in out.split_inclusive('\n') {
        if line.starts_with("diff --git ") {
            if let Some(c) = current.take() {
                result.push(extract_hunks(&c));
            }
            current = Some(String::new());
        }
        if let Some(c) = current.as_mut() {
            c.push_str(line);
        }
    }
    if let Some(c) = current {
        result.push(extract_hunks(&c));
    }
    result
}

fn extract_hunks(file: &str) -> Option<String> {
    let start = if file.starts_with("@@") {
        Some(0)
    } else {
        file.find("\n@@").map(|i| i + 1)
    }?;
    Some(file[start..].trim_end_matches('\n').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig() -> Signature {
        Signature {
            name: "Test".into(),
            email: "test@example.com".into(),
            when: Utc.timestamp_opt(1_700_000_000, 0).single().unwrap(),
        }
    }

    fn files(pairs: &[(&str, Option<&str>)]) -> BTreeMap<String, Option<Vec<u8>>> {
        pairs
            .iter()
            .map(|(p, c)| (p.to_string(), c.map(|c| c.as_bytes().to_vec())))
            .collect()
    }

    #[test]
    fn ref_and_path_validation() {
        assert!(valid_ref_name("main"));
        assert!(valid_ref_name("release-1.0/x"));
        assert!(valid_ref_name("heads/main"));
        for bad in [
            "", "-x", "a..b", "a b", "a@{1}", "/a", "a/", "x.lock", "a\nb", "a~1",
        ] {
            assert!(!valid_ref_name(bad), "{bad:?}");
        }
        assert!(valid_path("a/b.txt"));
        for bad in [
            "",
            "/a",
            "a//b",
            "../x",
            "a/./b",
            ".git/config",
            "a\nb",
            "\"q",
        ] {
            assert!(!valid_path(bad), "{bad:?}");
        }
    }

    #[test]
    fn commit_diff_merge_roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo::init(&git_binary(), &dir.path().join("r.git"), "main").unwrap();
        let t0 = repo
            .tree_with_changes(
                None,
                &files(&[
                    ("a.txt", Some("one\ntwo\nthree\nfour\nfive\n")),
                    ("b.txt", Some("b\n")),
                ]),
            )
            .unwrap();
        let c0 = repo
            .commit_tree(&t0, &[], "initial", &sig(), &sig())
            .unwrap();
        repo.update_ref("refs/heads/main", &c0, None).unwrap();
        assert_eq!(repo.branch_sha("main").as_deref(), Some(c0.as_str()));
        assert_eq!(repo.resolve(&c0[..10]).as_deref(), Some(c0.as_str()));

        let t1 = repo
            .tree_with_changes(
                Some(&c0),
                &files(&[
                    ("a.txt", Some("one\ntwo\nthree\nfour\nFIVE\nsix\n")),
                    ("b.txt", None),
                    ("c/d.txt", Some("d\n")),
                ]),
            )
            .unwrap();
        let c1 = repo
            .commit_tree(&t1, &[&c0], "change\n\nbody", &sig(), &sig())
            .unwrap();
        let info = repo.commit_info(&c1).unwrap();
        assert_eq!(info.parents, vec![c0.clone()]);
        assert_eq!(info.title(), "change");
        assert_eq!(info.message, "change\n\nbody");
        assert_eq!(info.tree, t1);

        let diff = repo.diff(Some(&c0), &c1).unwrap();
        let by_name: BTreeMap<_, _> = diff.iter().map(|d| (d.filename.as_str(), d)).collect();
        assert_eq!(by_name["a.txt"].status, "modified");
        assert_eq!(
            (by_name["a.txt"].additions, by_name["a.txt"].deletions),
            (2, 1)
        );
        assert!(by_name["a.txt"].patch.as_deref().unwrap().starts_with("@@"));
        assert_eq!(by_name["b.txt"].status, "removed");
        assert_eq!(by_name["c/d.txt"].status, "added");
        assert_eq!(repo.read_file(&c1, "c/d.txt").unwrap().unwrap(), b"d\n");
        assert_eq!(repo.read_file(&c1, "b.txt").unwrap(), None);
        assert_eq!(
            repo.read_file(&c1, "c").unwrap(),
            None,
            "directories are not files"
        );
        let tree = repo.ls_tree(&c1, None, true).unwrap();
        assert!(tree.iter().any(|e| e.path == "c" && e.kind == "tree"));
        assert!(
            tree.iter()
                .any(|e| e.path == "c/d.txt" && e.kind == "blob" && e.size == Some(2))
        );

        // Two branches editing the same line conflict; disjoint edits merge.
        let ta = repo
            .tree_with_changes(
                Some(&c0),
                &files(&[("a.txt", Some("ONE\ntwo\nthree\nfour\nfive\n"))]),
            )
            .unwrap();
        let ca = repo.commit_tree(&ta, &[&c0], "a", &sig(), &sig()).unwrap();
        let tb = repo
            .tree_with_changes(
                Some(&c0),
                &files(&[("a.txt", Some("uno\ntwo\nthree\nfour\nfive\n"))]),
            )
            .unwrap();
        let cb = repo.commit_tree(&tb, &[&c0], "b", &sig(), &sig()).unwrap();
        assert_eq!(repo.merge_trees(&ca, &cb, None).unwrap(), None);
        let merged = repo.merge_trees(&c1, &ca, None).unwrap();
        assert!(merged.is_some());
        assert_eq!(repo.merge_base(&ca, &cb).as_deref(), Some(c0.as_str()));
        assert!(repo.is_ancestor(&c0, &c1));
        assert!(!repo.is_ancestor(&c1, &c0));
        assert_eq!(
            repo.commits_between(Some(&c0), &c1, false).unwrap(),
            vec![c1.clone()]
        );
    }

    /// The ref map answers exactly what git would, through creates, moves and deletes.
    #[test]
    fn ref_map_answers_like_git() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo::init(&git_binary(), &dir.path().join("r.git"), "main").unwrap();
        let commit = |parent: Option<&str>, content: &str| {
            let t = repo
                .tree_with_changes(parent, &files(&[("f", Some(content))]))
                .unwrap();
            let parents: Vec<&str> = parent.into_iter().collect();
            repo.commit_tree(&t, &parents, content, &sig(), &sig())
                .unwrap()
        };
        let c0 = commit(None, "0");
        let c1 = commit(Some(&c0), "1");
        let c2 = commit(Some(&c1), "2");
        let check = |names: &[&str]| {
            // Git's own view, bypassing every cache.
            for name in names {
                let git = resolve_with(name, |r| repo.rev_parse_git(r));
                assert_eq!(repo.resolve(name), git, "{name}");
            }
            let out = repo
                .run(&["for-each-ref", "--format=%(refname) %(objectname)"], None)
                .unwrap();
            let want: Vec<(String, String)> = String::from_utf8_lossy(&out)
                .lines()
                .filter_map(|l| l.split_once(' '))
                .map(|(n, s)| (n.to_owned(), s.to_owned()))
                .collect();
            assert_eq!(repo.list_refs().unwrap(), want);
        };
        let names = [
            "main",
            "heads/main",
            "refs/heads/main",
            "v1",
            "tags/v1",
            "topic",
            "refs/tags/topic",
            "missing",
            &c0[..7],
            &c1,
            &c2[..12],
        ];
        repo.update_ref("refs/heads/main", &c0, None).unwrap();
        check(&names);
        repo.update_ref("refs/heads/main", &c1, Some(&c0)).unwrap();
        repo.update_ref("refs/tags/v1", &c0, None).unwrap();
        repo.update_ref("refs/heads/topic", &c2, None).unwrap();
        // A tag named like a branch: the branch wins.
        repo.update_ref("refs/tags/topic", &c0, None).unwrap();
        check(&names);
        assert_eq!(repo.branch_sha("main").as_deref(), Some(c1.as_str()));
        // A stale expectation fails and changes nothing.
        assert!(repo.update_ref("refs/heads/main", &c2, Some(&c0)).is_err());
        assert_eq!(repo.branch_sha("main").as_deref(), Some(c1.as_str()));
        repo.delete_ref("refs/heads/topic").unwrap();
        check(&names);
        assert_eq!(repo.resolve("topic").as_deref(), Some(c0.as_str()));
    }

    /// Cached diffs are keyed by commit, so a new head gets a new answer.
    #[test]
    fn cached_diff_follows_new_commits() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo::init(&git_binary(), &dir.path().join("r.git"), "main").unwrap();
        let t0 = repo
            .tree_with_changes(None, &files(&[("a", Some("a\n"))]))
            .unwrap();
        let c0 = repo.commit_tree(&t0, &[], "0", &sig(), &sig()).unwrap();
        let t1 = repo
            .tree_with_changes(Some(&c0), &files(&[("b", Some("b\n"))]))
            .unwrap();
        let c1 = repo.commit_tree(&t1, &[&c0], "1", &sig(), &sig()).unwrap();
        assert_eq!(repo.diff(Some(&c0), &c1).unwrap().len(), 1);
        let t2 = repo
            .tree_with_changes(Some(&c1), &files(&[("c", Some("c\n"))]))
            .unwrap();
        let c2 = repo.commit_tree(&t2, &[&c1], "2", &sig(), &sig()).unwrap();
        assert_eq!(repo.diff(Some(&c0), &c2).unwrap().len(), 2);
        assert_eq!(repo.diff(Some(&c0), &c1).unwrap().len(), 1);
        assert_eq!(repo.merge_base(&c1, &c2).as_deref(), Some(c1.as_str()));
        assert_eq!(
            repo.commits_between(Some(&c0), &c2, false).unwrap(),
            [c1.clone(), c2.clone()]
        );
        assert!(repo.is_ancestor(&c0, &c2) && !repo.is_ancestor(&c2, &c0));
        assert_eq!(repo.commit_info(&c2).unwrap().parents, [c1]);
    }

    #[test]
    fn rename_is_reported_with_previous_name() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo::init(&git_binary(), &dir.path().join("r.git"), "main").unwrap();
        let content = "line\n".repeat(20);
        let t0 = repo
            .tree_with_changes(None, &files(&[("old.txt", Some(&content))]))
            .unwrap();
        let c0 = repo.commit_tree(&t0, &[], "0", &sig(), &sig()).unwrap();
        let t1 = repo
            .tree_with_changes(
                Some(&c0),
                &files(&[("old.txt", None), ("new.txt", Some(&content))]),
            )
            .unwrap();
        let c1 = repo.commit_tree(&t1, &[&c0], "1", &sig(), &sig()).unwrap();
        let diff = repo.diff(Some(&c0), &c1).unwrap();
        assert_eq!(diff.len(), 1);
        assert_eq!(diff[0].status, "renamed");
        assert_eq!(diff[0].filename, "new.txt");
        assert_eq!(diff[0].previous_filename.as_deref(), Some("old.txt"));
    }
}
