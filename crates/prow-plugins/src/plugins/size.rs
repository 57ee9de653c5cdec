//! `size`: keeps one `size/*` label on each pull request from the number of changed lines,
//! ignoring generated files (Prow's `pkg/plugins/size`).

use async_trait::async_trait;
use prow_config::PluginsConfig;
use prow_github::events::PullRequestEvent;
use prow_github::{GitHub, GitHubError};

use crate::config::Size;
use crate::event::EventKind;
use crate::generated::{GeneratedFiles, GitAttributes};
use crate::help::{OrgRepo, PluginHelp};
use crate::{Plugin, PluginContext, PluginError, PluginResult};

const LABEL_PREFIX: &str = "size/";

/// The size label for `lines` changed lines.
pub fn bucket_label(lines: u64, s: Size) -> &'static str {
    if lines < s.s {
        "size/XS"
    } else if lines < s.m {
        "size/S"
    } else if lines < s.l {
        "size/M"
    } else if lines < s.xl {
        "size/L"
    } else if lines < s.xxl {
        "size/XL"
    } else {
        "size/XXL"
    }
}

/// Labels to remove and whether to add `want`, given the current labels.
pub fn label_changes<'a>(current: &'a [String], want: &str) -> (Vec<&'a str>, bool) {
    let mut has = false;
    let mut remove = Vec::new();
    for l in current {
        if l == want {
            has = true;
        } else if l.starts_with(LABEL_PREFIX) {
            remove.push(l.as_str());
        }
    }
    (remove, !has)
}

/// The plugin.
pub struct SizePlugin;

async fn get_optional_file(
    gh: &dyn GitHub,
    org: &str,
    repo: &str,
    path: &str,
    sha: &str,
) -> Result<Option<String>, GitHubError> {
    // Without a base SHA in the payload, read the default branch.
    let git_ref = (!sha.is_empty()).then_some(sha);
    match gh.get_file(org, repo, path, git_ref).await {
        Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
        Err(GitHubError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl Plugin for SizePlugin {
    fn name(&self) -> &'static str {
        "size"
    }

    fn event_kinds(&self) -> &'static [EventKind] {
        &[EventKind::PullRequest]
    }

    fn help(&self, cfg: &PluginsConfig, _repos: &[OrgRepo]) -> PluginHelp {
        let s = crate::config::size(cfg).unwrap_or(Size::DEFAULT);
        let mut h = PluginHelp::new(
            "The size plugin manages the 'size/*' labels, maintaining the appropriate label on each pull request as it is updated. Generated files identified by the config file '.generated_files' at the repo root are ignored. Labels are applied based on the total number of lines of changes (additions and deletions).",
        );
        h.config.insert(
            String::new(),
            format!(
                "The plugin has the following thresholds:<ul>\n<li>size/XS:  0-{}</li>\n<li>size/S:   {}-{}</li>\n<li>size/M:   {}-{}</li>\n<li>size/L:   {}-{}</li>\n<li>size/XL:  {}-{}</li>\n<li>size/XXL: {}+</li>\n</ul>",
                s.s.saturating_sub(1),
                s.s,
                s.m.saturating_sub(1),
                s.m,
                s.l.saturating_sub(1),
                s.l,
                s.xl.saturating_sub(1),
                s.xl,
                s.xxl.saturating_sub(1),
                s.xxl
            ),
        );
        h.snippet = "size:\n  s: 10\n  m: 30\n  l: 100\n  xl: 500\n  xxl: 1000\n".to_owned();
        h
    }

    async fn handle_pull_request(
        &self,
        ctx: &PluginContext,
        pe: &PullRequestEvent,
    ) -> PluginResult {
        if !matches!(
            pe.action.as_str(),
            "opened" | "reopened" | "synchronize" | "edited"
        ) {
            return Ok(());
        }
        let sizes = crate::config::size(&ctx.plugins)?;
        let (org, repo) = crate::plugins::base_org_repo(pe);
        let (org, repo) = (org.as_str(), repo.as_str());
        let num = pe.pull_request.number;
        let sha = pe.pull_request.base.sha.as_str();
        let gh = ctx.github.as_ref();

        let mut generated = GeneratedFiles::default();
        if let Some(text) = get_optional_file(gh, org, repo, ".generated_files", sha).await? {
            let (repo_paths, parsed) = generated.load(&text);
            match parsed {
                Err(e) => tracing::warn!(error = %e, "error while parsing .generated_files"),
                Ok(()) => {
                    for p in repo_paths {
                        let text = get_optional_file(gh, org, repo, &p, sha)
                            .await?
                            .ok_or_else(|| {
                                PluginError::Other(format!(
                                    "file {p} listed in .generated_files not found"
                                ))
                            })?;
                        generated.load_paths(&text);
                    }
                }
            }
        }
        let attrs = match get_optional_file(gh, org, repo, ".gitattributes", sha).await? {
            Some(text) => {
                GitAttributes::parse(&text).map_err(|e| PluginError::Other(e.to_string()))?
            }
            None => GitAttributes::default(),
        };

        let changes = gh
            .get_pull_request_changes(org, repo, num)
            .await
            .map_err(|e| {
                PluginError::Other(format!("can not get PR changes for size plugin: {e}"))
            })?;
        let count: u64 = changes
            .iter()
            .filter(|c| {
                !generated.matches(&c.filename) && !attrs.is_linguist_generated(&c.filename)
            })
            .map(|c| c.additions + c.deletions)
            .sum();

        let current: Vec<String> = match gh.get_issue_labels(org, repo, num).await {
            Ok(ls) => ls.into_iter().map(|l| l.name).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "while retrieving labels");
                Vec::new()
            }
        };
        let want = bucket_label(count, sizes);
        let (remove, add) = label_changes(&current, want);
        for l in remove {
            if let Err(e) = gh.remove_label(org, repo, num, l).await {
                tracing::warn!(error = %e, label = l, "error while removing label");
            }
        }
        if add {
            crate::plugins::add_label(gh, org, repo, num, want)
                .await
                .map_err(|e| {
                    PluginError::Other(format!("error adding label to {org}/{repo} PR #{num}: {e}"))
                })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets() {
        let d = Size::DEFAULT;
        for (n, want) in [
            (0, "size/XS"),
            (9, "size/XS"),
            (10, "size/S"),
            (29, "size/S"),
            (30, "size/M"),
            (99, "size/M"),
            (100, "size/L"),
            (499, "size/L"),
            (500, "size/XL"),
            (999, "size/XL"),
            (1000, "size/XXL"),
            (10_000, "size/XXL"),
        ] {
            assert_eq!(bucket_label(n, d), want, "{n}");
        }
        let custom = Size {
            s: 1,
            m: 2,
            l: 3,
            xl: 4,
            xxl: 5,
        };
        assert_eq!(bucket_label(3, custom), "size/L");
    }

    #[test]
    fn relabel() {
        let cur = vec!["size/XS".to_owned(), "lgtm".to_owned(), "size/M".to_owned()];
        assert_eq!(label_changes(&cur, "size/M"), (vec!["size/XS"], false));
        assert_eq!(
            label_changes(&cur, "size/L"),
            (vec!["size/XS", "size/M"], true)
        );
    }
}
