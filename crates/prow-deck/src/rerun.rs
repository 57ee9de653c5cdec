//! `/rerun` and `/abort` (Prow's `cmd/deck/rerun.go`, `abort.go`): building the rerun ProwJob
//! (same spec, or re-resolved from the current config with `mode=latest`) and the
//! authorization flow around them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use prow_api::{ProwJob, ProwJobState, ProwJobType, Refs, labels};
use prow_config::pjutil;

/// Labels and annotations components set that a `mode=latest` rerun keeps from the original.
const COMPONENT_KEYS: [&str; 7] = [
    labels::GERRIT_REVISION,
    labels::GERRIT_PATCHSET,
    labels::GERRIT_REPORT_LABEL,
    labels::EVENT_GUID,
    labels::CREATED_BY_TIDE,
    labels::GERRIT_ID,
    labels::GERRIT_INSTANCE,
];

/// The CSRF token of a form post (`gorilla.csrf.Token`, the field Prow's Deck forms carry),
/// when the body is `application/x-www-form-urlencoded`.
pub fn csrf_form_token(content_type: Option<&str>, body: &[u8]) -> Option<String> {
    let is_form = content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|ct| {
            ct.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form || body.is_empty() {
        return None;
    }
    let body = std::str::from_utf8(body).ok()?;
    // `Url`'s query parser is the form-urlencoded one (`+` is a space, `%XX` escapes).
    let mut url = reqwest::Url::parse("http://form.invalid/").ok()?;
    url.set_query(Some(body));
    url.query_pairs()
        .find(|(k, _)| k == prow_deck_auth::CSRF_FORM_FIELD)
        .map(|(_, v)| v.into_owned())
}

fn verify_refs(refs: Option<&Refs>) -> Result<&Refs, String> {
    let Some(refs) = refs else {
        return Err("Refs must be supplied".into());
    };
    let mut errs = Vec::new();
    if refs.org.is_empty() {
        errs.push("org must be supplied");
    }
    if refs.repo.is_empty() {
        errs.push("repo must be supplied");
    }
    if refs.base_ref.is_empty() {
        errs.push("baseRef must be supplied");
    }
    if errs.is_empty() {
        Ok(refs)
    } else {
        Err(errs.join(", "))
    }
}

type SpecAndMeta = (
    prow_api::ProwJobSpec,
    BTreeMap<String, String>,
    BTreeMap<String, String>,
);

/// The spec the job would get from the current config (Prow's `getProwJobSpec`), with the
/// job's configured labels and annotations.
pub fn latest_spec(cfg: &prow_config::Config, pj: &ProwJob) -> Result<SpecAndMeta, String> {
    let name = &pj.spec.job;
    match pj.spec.job_type {
        Some(ProwJobType::Periodic) => {
            let p = cfg
                .jobs
                .periodics
                .iter()
                .find(|p| &p.base.name == name)
                .ok_or_else(|| format!("failed to find associated periodic job {name:?}"))?;
            Ok((
                pjutil::periodic_spec(p),
                p.base.labels.clone(),
                p.base.annotations.clone(),
            ))
        }
        Some(ProwJobType::Presubmit) => {
            let refs = verify_refs(pj.spec.refs.as_ref())?;
            let org_repo = refs.org_repo();
            let p = unique_match(cfg.jobs.presubmits_for(&org_repo), name, &org_repo, |p| {
                (&p.base.name, p.could_run(&refs.base_ref))
            })?;
            Ok((
                pjutil::presubmit_spec(p, refs.clone()),
                p.base.labels.clone(),
                p.base.annotations.clone(),
            ))
        }
        Some(ProwJobType::Postsubmit) => {
            let refs = verify_refs(pj.spec.refs.as_ref())?;
            let org_repo = refs.org_repo();
            let p = unique_match(cfg.jobs.postsubmits_for(&org_repo), name, &org_repo, |p| {
                (&p.base.name, p.could_run(&refs.base_ref))
            })?;
            Ok((
                pjutil::postsubmit_spec(p, refs.clone()),
                p.base.labels.clone(),
                p.base.annotations.clone(),
            ))
        }
        other => Err(format!(
            "Could not create new prowjob: Invalid prowjob type: {:?}",
            other.map(ProwJobType::as_str).unwrap_or("")
        )),
    }
}

/// The one job named `name` that could run on the refs' branch (Prow refuses ambiguity).
/// `key` gives a job's name and whether its branch filters admit the base ref.
fn unique_match<'a, J: 'a>(
    jobs: impl IntoIterator<Item = &'a J>,
    name: &str,
    org_repo: &str,
    key: impl Fn(&J) -> (&String, bool),
) -> Result<&'a J, String> {
    let mut found = false;
    let mut result = None;
    for j in jobs {
        let (job_name, could_run) = key(j);
        if job_name != name {
            continue;
        }
        found = true;
        if could_run {
            if result.is_some() {
                return Err(format!(
                    "{name} matches multiple prow jobs from orgRepo {org_repo:?}"
                ));
            }
            result = Some(j);
        }
    }
    result.ok_or_else(|| not_found(found, name, org_repo))
}

fn not_found(found: bool, name: &str, org_repo: &str) -> String {
    if found {
        format!("found job {name:?}, but not allowed to run for orgRepo {org_repo:?}")
    } else {
        format!("failed to find job {name:?} for orgRepo {org_repo:?}")
    }
}

fn scheduling_enabled(cfg: &prow_config::Config) -> bool {
    cfg.prow
        .scheduler
        .as_ref()
        .and_then(|s| s.get("enabled"))
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

/// The new ProwJob a rerun of `pj` creates.
pub fn rerun_job(
    cfg: &prow_config::Config,
    pj: &ProwJob,
    latest: bool,
    now: DateTime<Utc>,
) -> Result<ProwJob, String> {
    let mut new = if latest {
        let (spec, mut labels, mut annotations) = latest_spec(cfg, pj).map_err(|e| {
            format!("Could not create new prowjob: Failed getting prowjob spec: {e}")
        })?;
        for (k, v) in pj.metadata.labels.iter().flatten() {
            if COMPONENT_KEYS.contains(&k.as_str()) {
                labels.insert(k.clone(), v.clone());
            }
        }
        for (k, v) in pj.metadata.annotations.iter().flatten() {
            if COMPONENT_KEYS.contains(&k.as_str()) {
                annotations.insert(k.clone(), v.clone());
            }
        }
        pjutil::new_prowjob(spec, &labels, &annotations, now)
    } else {
        pjutil::new_prowjob(
            pj.spec.clone(),
            &pj.metadata.labels.clone().unwrap_or_default(),
            &pj.metadata.annotations.clone().unwrap_or_default(),
            now,
        )
    };
    if scheduling_enabled(cfg) {
        new.status.state = ProwJobState::Scheduling;
    }
    Ok(new)
}

/// Prow's rerun description.
pub fn rerun_description(user: Option<&str>, name: &str) -> String {
    match user.filter(|u| !u.is_empty()) {
        Some(u) => format!("{u} successfully reran {name}."),
        None => format!("Successfully reran {name}."),
    }
}

/// Prow's abort description.
pub fn abort_description(user: Option<&str>, name: &str) -> String {
    match user.filter(|u| !u.is_empty()) {
        Some(u) => format!("{u} successfully aborted {name}."),
        None => format!("Successfully aborted {name}."),
    }
}

/// Text of a successful rerun.
pub const RERUN_OK: &str =
    "Job successfully triggered. Wait 30 seconds and refresh the page for the job to show up.";
/// Text of a successful abort.
pub const ABORT_OK: &str = "Job successfully aborted.";
/// Text when `--rerun-creates-job` is off.
pub const RERUN_DISABLED: &str =
    "Direct rerun feature is not enabled. Enable with the '--rerun-creates-job' flag.";

#[cfg(test)]
mod tests {
    use super::*;
    use prow_config::{JobBase, Presubmit};

    #[test]
    fn csrf_token_from_form_posts_only() {
        let form = Some("application/x-www-form-urlencoded; charset=utf-8");
        assert_eq!(
            csrf_form_token(form, b"a=1&gorilla.csrf.Token=ab%2Bc+d&b=2").as_deref(),
            Some("ab+c d")
        );
        assert_eq!(csrf_form_token(form, b"a=1"), None);
        assert_eq!(csrf_form_token(form, b""), None);
        assert_eq!(
            csrf_form_token(Some("application/json"), b"gorilla.csrf.Token=x"),
            None
        );
        assert_eq!(csrf_form_token(None, b"gorilla.csrf.Token=x"), None);
        assert_eq!(csrf_form_token(form, &[0xff, 0xfe]), None);
    }

    fn cfg_with_presubmit() -> prow_config::Config {
        let mut c = prow_config::Config {
            prow: Default::default(),
            jobs: Default::default(),
            stats: Default::default(),
        };
        let mut p = Presubmit::default();
        p.base = JobBase {
            name: "pull-test".into(),
            labels: [("from-config".to_string(), "yes".to_string())].into(),
            ..Default::default()
        };
        c.jobs.presubmits.insert("o/r".into(), vec![p]);
        c
    }

    fn original() -> ProwJob {
        let mut pj = ProwJob::default();
        pj.metadata.name = Some("orig".into());
        pj.metadata.labels = Some(
            [
                (labels::EVENT_GUID.to_string(), "guid".to_string()),
                ("other".to_string(), "x".to_string()),
            ]
            .into(),
        );
        pj.spec.job = "pull-test".into();
        pj.spec.job_type = Some(ProwJobType::Presubmit);
        pj.spec.refs = Some(Refs {
            org: "o".into(),
            repo: "r".into(),
            base_ref: "main".into(),
            ..Default::default()
        });
        pj.status.state = ProwJobState::Failure;
        pj
    }

    #[test]
    fn same_spec_rerun_keeps_labels() {
        let c = cfg_with_presubmit();
        let new = rerun_job(&c, &original(), false, Utc::now()).unwrap();
        assert_ne!(new.name(), "orig");
        assert_eq!(new.status.state, ProwJobState::Triggered);
        assert_eq!(new.label("other"), Some("x"));
        assert_eq!(new.spec.job, "pull-test");
    }

    #[test]
    fn latest_rerun_uses_config_and_keeps_component_labels() {
        let c = cfg_with_presubmit();
        let new = rerun_job(&c, &original(), true, Utc::now()).unwrap();
        assert_eq!(new.label("from-config"), Some("yes"));
        assert_eq!(new.label(labels::EVENT_GUID), Some("guid"));
        assert_eq!(new.label("other"), None);
    }

    #[test]
    fn latest_rerun_of_unknown_job_fails() {
        let c = cfg_with_presubmit();
        let mut pj = original();
        pj.spec.job = "gone".into();
        let err = rerun_job(&c, &pj, true, Utc::now()).unwrap_err();
        assert!(err.contains("failed to find job \"gone\""), "{err}");
        pj.spec.refs = None;
        let err = rerun_job(&c, &pj, true, Utc::now()).unwrap_err();
        assert!(err.contains("Refs must be supplied"), "{err}");
    }

    #[test]
    fn descriptions() {
        assert_eq!(
            rerun_description(Some("alice"), "j"),
            "alice successfully reran j."
        );
        assert_eq!(rerun_description(None, "j"), "Successfully reran j.");
        assert_eq!(
            abort_description(Some("bob"), "j"),
            "bob successfully aborted j."
        );
    }
}
