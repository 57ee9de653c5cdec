//! `prow mkpj`: prints the ProwJob Prow would create for a job (Prow's `mkpj`), and with
//! `--create --data-dir` puts it into the all-in-one store.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use prow_api::{ProwJob, Pull, Refs};
use prow_config::{LoadOptions, pjutil};
use prow_github::GitHub;
use prow_jobstore::JobStore;
use prow_runtime::GitHubArgs;

/// Flags of `prow mkpj` (Prow's names).
#[derive(Debug, Clone, clap::Args)]
pub struct MkpjArgs {
    /// Job to run.
    #[arg(long)]
    pub job: String,
    /// Path to config.yaml.
    #[arg(long, default_value = "/etc/config/config.yaml")]
    pub config_path: PathBuf,
    /// Job config file or directory.
    #[arg(long)]
    pub job_config_path: Option<PathBuf>,
    /// Git base ref under test.
    #[arg(long, default_value = "")]
    pub base_ref: String,
    /// Git base SHA under test.
    #[arg(long, default_value = "")]
    pub base_sha: String,
    /// Pull request number under test.
    #[arg(long, default_value_t = 0)]
    pub pull_number: u64,
    /// Pull request head SHA.
    #[arg(long, default_value = "")]
    pub pull_sha: String,
    /// Pull request author.
    #[arg(long, default_value = "")]
    pub pull_author: String,
    /// Head branch of the pull request.
    #[arg(long, default_value = "")]
    pub pull_head_ref: String,
    /// Store the job in the all-in-one store under --data-dir instead of only printing it.
    #[arg(long)]
    pub create: bool,
    /// The `prow local` data directory (with --create).
    #[arg(long, default_value = "prow-data")]
    pub data_dir: PathBuf,
    /// GitHub flags, used to fill in missing PR and base details.
    #[command(flatten)]
    pub github: GitHubArgs,
}

/// Fills missing PR and base details from GitHub like Prow's mkpj (`defaultPR`, `defaultBaseRef`).
async fn complete_refs(a: &MkpjArgs, refs: &mut Refs) -> anyhow::Result<()> {
    let needs_pr = refs
        .pulls
        .first()
        .is_some_and(|p| p.sha.is_empty() || p.author.is_empty());
    let needs_base = refs.base_sha.is_empty();
    if !needs_pr && !needs_base && !refs.base_ref.is_empty() {
        return Ok(());
    }
    let gh: Arc<dyn GitHub> =
        if a.github.github_token_path.is_some() || a.github.github_app_id.is_some() {
            Arc::new(
                a.github
                    .client(false, "mkpj", &prometheus::Registry::new())?,
            )
        } else {
            anyhow::bail!(
                "missing --base-ref/--base-sha{}: give them, or GitHub credentials to look them up",
                if needs_pr {
                    " or --pull-sha/--pull-author"
                } else {
                    ""
                }
            );
        };
    if let Some(pull) = refs.pulls.first_mut()
        && needs_pr
    {
        let pr = gh
            .get_pull_request(&refs.org, &refs.repo, pull.number)
            .await?;
        pull.sha = pr.head.sha.clone();
        pull.author = pr.user.login.clone();
        pull.head_ref = pr.head.git_ref.clone();
        if refs.base_ref.is_empty() {
            refs.base_ref = pr.base.git_ref.clone();
        }
    }
    if refs.base_ref.is_empty() {
        refs.base_ref = gh.get_repo(&refs.org, &refs.repo).await?.default_branch;
    }
    if refs.base_sha.is_empty() {
        refs.base_sha = gh
            .get_ref(&refs.org, &refs.repo, &format!("heads/{}", refs.base_ref))
            .await?;
    }
    Ok(())
}

/// Builds the ProwJob for `a.job`.
pub async fn make(a: &MkpjArgs) -> anyhow::Result<ProwJob> {
    let cfg = prow_config::load(&LoadOptions {
        config_path: a.config_path.clone(),
        job_config_path: a.job_config_path.clone(),
        ..Default::default()
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = chrono::Utc::now();
    let jobs = &cfg.jobs;
    for (full, ps) in &jobs.presubmits {
        let Some(p) = ps.iter().find(|p| p.base.name == a.job) else {
            continue;
        };
        let (org, repo) = full
            .split_once('/')
            .context("invalid repo name in config")?;
        let mut refs = Refs {
            org: org.into(),
            repo: repo.into(),
            base_ref: a.base_ref.clone(),
            base_sha: a.base_sha.clone(),
            pulls: vec![Pull {
                number: a.pull_number,
                sha: a.pull_sha.clone(),
                author: a.pull_author.clone(),
                head_ref: a.pull_head_ref.clone(),
                ..Default::default()
            }],
            ..Default::default()
        };
        complete_refs(a, &mut refs).await?;
        let spec = pjutil::presubmit_spec(p, refs);
        return Ok(pjutil::new_prowjob(
            spec,
            &p.base.labels,
            &p.base.annotations,
            now,
        ));
    }
    for (full, ps) in &jobs.postsubmits {
        let Some(p) = ps.iter().find(|p| p.base.name == a.job) else {
            continue;
        };
        let (org, repo) = full
            .split_once('/')
            .context("invalid repo name in config")?;
        let mut refs = Refs {
            org: org.into(),
            repo: repo.into(),
            base_ref: a.base_ref.clone(),
            base_sha: a.base_sha.clone(),
            ..Default::default()
        };
        complete_refs(a, &mut refs).await?;
        let spec = pjutil::postsubmit_spec(p, refs);
        return Ok(pjutil::new_prowjob(
            spec,
            &p.base.labels,
            &p.base.annotations,
            now,
        ));
    }
    if let Some(p) = jobs.periodics.iter().find(|p| p.base.name == a.job) {
        return Ok(pjutil::new_periodic(p, now));
    }
    anyhow::bail!("Job {} not found.", a.job)
}

/// `prow mkpj`.
pub async fn run(a: MkpjArgs) -> anyhow::Result<()> {
    let pj = make(&a).await?;
    if a.create {
        let ns = pj
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let cfg_ns = prow_config::load(&LoadOptions {
            config_path: a.config_path.clone(),
            ..Default::default()
        })
        .map(|c| c.prow.prowjob_namespace)
        .unwrap_or(ns);
        let store = prow_jobstore::sqlite::SqliteStore::open_in_dir(&a.data_dir, &cfg_ns)
            .await
            .map_err(|e| anyhow::anyhow!("{e} (stop `prow local` first, or let it create jobs)"))?;
        let created = store.create(pj).await?;
        println!("{}", created.name());
        return Ok(());
    }
    print!("{}", serde_saphyr::to_string(&pj)?);
    Ok(())
}
