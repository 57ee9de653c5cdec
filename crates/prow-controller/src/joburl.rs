//! `status.url` of a job (Prow's `pjutil.JobURL`): for decorated jobs with a URL prefix
//! (`gcs_configuration.job_url_prefix`, else `plank.job_url_prefix_config` by `org/repo`, `org`,
//! `*`) the Deck view of the build directory, `<prefix>/<provider>/<bucket>/<build dir>`;
//! otherwise `plank.job_url_template` rendered as a Go template over the ProwJob, whose fields are
//! exposed under Go's names (`.Spec.Refs.Org`, `.Status.BuildID`, `.ObjectMeta.Name`…).

use std::collections::HashMap;

use gtmpl::Value;
use prow_api::{ProwJob, Pull, Refs, StoragePath};
use prow_config::prow::Plank;
use prow_pod_utils::downwardapi::JobSpec;

/// Why a URL could not be computed (plank logs it and leaves `status.url` empty).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JobUrlError {
    /// The bucket or the build path could not be worked out.
    #[error("calculating joburl: {0}")]
    Path(String),
    /// The template did not parse or failed to execute.
    #[error("error executing URL template: {0}")]
    Template(String),
}

/// A parsed `job_url_template`, reusable across jobs.
pub struct JobUrlTemplate {
    template: Option<gtmpl::Template>,
}

impl std::fmt::Debug for JobUrlTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobUrlTemplate")
            .field("set", &self.template.is_some())
            .finish()
    }
}

impl JobUrlTemplate {
    /// Parses `text`; an empty template renders as an empty URL.
    pub fn parse(text: &str) -> Result<Self, JobUrlError> {
        if text.is_empty() {
            return Ok(JobUrlTemplate { template: None });
        }
        // gtmpl hangs or panics on some malformed text; refuse that first.
        prow_config::gotemplate::check_template_text(text).map_err(JobUrlError::Template)?;
        let mut t = gtmpl::Template::default();
        t.parse(text)
            .map_err(|e| JobUrlError::Template(e.to_string()))?;
        Ok(JobUrlTemplate { template: Some(t) })
    }

    /// Renders the template for `job`.
    pub fn render(&self, job: &ProwJob) -> Result<String, JobUrlError> {
        let Some(t) = &self.template else {
            return Ok(String::new());
        };
        t.render(&gtmpl::Context::from(go_value(job)))
            .map_err(|e| JobUrlError::Template(e.to_string()))
    }
}

/// Prow's `Plank.GetJobURLPrefix`.
pub fn job_url_prefix(plank: &Plank, job: &ProwJob) -> String {
    if let Some(p) = job
        .spec
        .decoration_config
        .as_ref()
        .and_then(|d| d.gcs_configuration.as_ref())
        .map(|g| &g.job_url_prefix)
        .filter(|p| !p.is_empty())
    {
        return p.clone();
    }
    let refs = job.spec.refs.as_ref().or(job.spec.extra_refs.first());
    let (org, repo) = refs.map_or(("", ""), |r| (r.org.as_str(), r.repo.as_str()));
    let get = |k: &str| {
        plank
            .job_url_prefix_config
            .get(k)
            .filter(|v| !v.is_empty())
            .cloned()
    };
    if org.is_empty() {
        return get("*").unwrap_or_default();
    }
    get(&format!("{org}/{repo}"))
        .or_else(|| get(org))
        .or_else(|| get("*"))
        .unwrap_or_default()
}

/// Go's `path.Join` for URL paths: joins non-empty parts with `/` and cleans `.`/`..`/`//`.
fn path_join(parts: &[&str]) -> String {
    let joined = parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("/");
    if joined.is_empty() {
        return String::new();
    }
    let rooted = joined.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|s| *s != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    let body = out.join("/");
    if rooted {
        format!("/{body}")
    } else if body.is_empty() {
        ".".into()
    } else {
        body
    }
}

/// Splits `scheme://host/path?query` into (`scheme://host`, `/path`, `?query#frag`).
fn split_url(url: &str) -> (&str, &str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let path_start = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    let rest_start = url[path_start..]
        .find(['?', '#'])
        .map_or(url.len(), |i| path_start + i);
    (
        &url[..path_start],
        &url[path_start..rest_start],
        &url[rest_start..],
    )
}

/// Prow's `JobURL`.
pub fn job_url(
    plank: &Plank,
    template: &JobUrlTemplate,
    job: &ProwJob,
) -> Result<String, JobUrlError> {
    let prefix = job_url_prefix(plank, job);
    if let Some(dc) = job.spec.decoration_config.as_ref()
        && !prefix.is_empty()
    {
        let gcs = dc.gcs_configuration.clone().unwrap_or_default();
        let spec = JobSpec::new(&job.spec, &job.status.build_id, job.name());
        let paths = prow_pod_utils::gcs::paths_for_job(&gcs, &spec, "")
            .map_err(|e| JobUrlError::Path(e.to_string()))?;
        let bucket = StoragePath::parse_bucket(&gcs.bucket).map_err(JobUrlError::Path)?;
        let full = path_join(&[&bucket.bucket, &bucket.path]);
        let (base, prefix_path, rest) = split_url(&prefix);
        let path = if plank.job_url_prefix_disable_append_storage_provider {
            path_join(&[prefix_path, &full, &paths.job_base_path])
        } else {
            path_join(&[prefix_path, &bucket.provider, &full, &paths.job_base_path])
        };
        let sep = if path.starts_with('/') || path.is_empty() {
            ""
        } else {
            "/"
        };
        return Ok(format!("{base}{sep}{path}{rest}"));
    }
    template.render(job)
}

fn obj(fields: Vec<(&str, Value)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<HashMap<_, _>>(),
    )
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> Value {
    t.map_or(Value::Nil, |t| {
        Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    })
}

fn str_map(m: Option<&std::collections::BTreeMap<String, String>>) -> Value {
    Value::Map(
        m.into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), s(v)))
            .collect(),
    )
}

fn pull_value(p: &Pull) -> Value {
    obj(vec![
        ("Number", Value::from(p.number)),
        ("Author", s(&p.author)),
        ("SHA", s(&p.sha)),
        ("Title", s(&p.title)),
        ("Ref", s(&p.git_ref)),
        ("HeadRef", s(&p.head_ref)),
        ("Link", s(&p.link)),
        ("CommitLink", s(&p.commit_link)),
        ("AuthorLink", s(&p.author_link)),
    ])
}

fn refs_value(r: &Refs) -> Value {
    obj(vec![
        ("Org", s(&r.org)),
        ("Repo", s(&r.repo)),
        ("RepoLink", s(&r.repo_link)),
        ("BaseRef", s(&r.base_ref)),
        ("BaseSHA", s(&r.base_sha)),
        ("BaseLink", s(&r.base_link)),
        (
            "Pulls",
            Value::Array(r.pulls.iter().map(pull_value).collect()),
        ),
        ("PathAlias", s(&r.path_alias)),
        ("WorkDir", Value::Bool(r.workdir)),
        ("CloneURI", s(&r.clone_uri)),
        ("SkipSubmodules", Value::Bool(r.skip_submodules)),
        ("CloneDepth", Value::from(u64::from(r.clone_depth))),
        ("SkipFetchHead", Value::Bool(r.skip_fetch_head)),
    ])
}

/// The ProwJob as a template value with Go's field names (what Prow's templates see).
pub fn go_value(job: &ProwJob) -> Value {
    let m = &job.metadata;
    let meta = obj(vec![
        ("Name", s(job.name())),
        ("Namespace", s(m.namespace.as_deref().unwrap_or(""))),
        ("Labels", str_map(m.labels.as_ref())),
        ("Annotations", str_map(m.annotations.as_ref())),
        ("UID", s(m.uid.as_deref().unwrap_or(""))),
        (
            "ResourceVersion",
            s(m.resource_version.as_deref().unwrap_or("")),
        ),
    ]);
    let sp = &job.spec;
    let spec = obj(vec![
        ("Type", s(sp.job_type.map_or("", |t| t.as_str()))),
        ("Agent", s(sp.agent.as_ref().map_or("", |a| a.as_str()))),
        ("Cluster", s(&sp.cluster)),
        ("Namespace", s(&sp.namespace)),
        ("Job", s(&sp.job)),
        ("Refs", sp.refs.as_ref().map_or(Value::Nil, refs_value)),
        (
            "ExtraRefs",
            Value::Array(sp.extra_refs.iter().map(refs_value).collect()),
        ),
        ("Report", Value::Bool(sp.report)),
        ("Context", s(&sp.context)),
        ("RerunCommand", s(&sp.rerun_command)),
        ("MaxConcurrency", Value::from(u64::from(sp.max_concurrency))),
        ("ErrorOnEviction", Value::Bool(sp.error_on_eviction)),
        ("Hidden", Value::Bool(sp.hidden)),
        ("JobQueueName", s(&sp.job_queue_name)),
    ]);
    let st = &job.status;
    let status = obj(vec![
        ("StartTime", time(st.start_time)),
        ("PendingTime", time(st.pending_time)),
        ("CompletionTime", time(st.completion_time)),
        ("State", s(st.state.as_str())),
        ("Description", s(&st.description)),
        ("URL", s(&st.url)),
        ("PodName", s(&st.pod_name)),
        ("BuildID", s(&st.build_id)),
        ("JenkinsBuildID", s(&st.jenkins_build_id)),
        (
            "PodRevivalCount",
            Value::from(u64::from(st.pod_revival_count)),
        ),
    ]);
    // ObjectMeta is embedded in Go's ProwJob, so `.Name` works as well as `.ObjectMeta.Name`.
    let mut top = vec![
        ("ObjectMeta", meta.clone()),
        ("Spec", spec),
        ("Status", status),
    ];
    if let Value::Object(fields) = meta {
        let promoted: Vec<(String, Value)> = fields.into_iter().collect();
        let mut out: HashMap<String, Value> =
            top.drain(..).map(|(k, v)| (k.to_owned(), v)).collect();
        for (k, v) in promoted {
            out.entry(k).or_insert(v);
        }
        return Value::Object(out);
    }
    obj(top)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prow_api::{DecorationConfig, GcsConfiguration, ProwJobType};

    /// Parses `text` on a helper thread and waits up to 60 s: a template that makes the
    /// parser loop must fail the test, not hang the suite.
    fn parse_within_deadline(text: &str) -> Result<(), JobUrlError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let text = text.to_owned();
        std::thread::spawn(move || {
            let _ = tx.send(JobUrlTemplate::parse(&text).map(|_| ()));
        });
        rx.recv_timeout(std::time::Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("parsing the template never finished"))
    }

    /// Panics in any thread whose message says a string was sliced inside a character (the
    /// template lexer runs on its own thread, so `catch_unwind` cannot see them).
    fn char_boundary_panics() -> &'static std::sync::atomic::AtomicUsize {
        use std::sync::atomic::AtomicUsize;
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                let msg = info
                    .payload()
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| info.payload().downcast_ref::<&str>().copied())
                    .unwrap_or("");
                if msg.contains("char boundary") {
                    COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                previous(info);
            }));
        });
        &COUNT
    }

    // Found by the prow-fuzz `gotemplate` target: gtmpl's lexer steps back one byte after
    // reading past the end of the input, so an action left open at the end lexes forever
    // (and queues tokens without bound).
    #[test]
    fn unclosed_action_is_an_error_not_a_hang() {
        for text in [
            "{{x ",
            "{{(index .Spec.Refs.Pulls 0)ldhtml ",
            "a{{.Spec.Job}}{{ ",
            "{{1",
        ] {
            let err = parse_within_deadline(text).expect_err(text);
            assert!(
                err.to_string().contains("unclosed action"),
                "{text:?}: {err}"
            );
        }
    }

    // Found by the prow-fuzz `gotemplate` target: gtmpl has no recursion limit, so a template
    // that calls itself overflows the stack and aborts the whole process (plank, crier).
    #[test]
    fn recursive_templates_are_an_error_not_a_stack_overflow() {
        let j = pj(ProwJobType::Presubmit, "o", "r", Some(3));
        for text in [
            r#"{{define "t"}}[{{.}}]{{end}}{{template "" -}}{{len .Spec.Job}}"#,
            r#"{{define "a"}}{{template "a" .}}{{end}}{{template "a" .}}"#,
        ] {
            let err = JobUrlTemplate::parse(text)
                .map(|t| t.render(&j))
                .expect_err(text);
            assert!(
                err.to_string().contains("recursive template call"),
                "{text:?}: {err}"
            );
        }
    }

    // Found by the prow-fuzz `gotemplate` target: the lexer steps back one byte over a
    // multi-byte character and panics slicing the template.
    #[test]
    fn non_ascii_in_an_action_is_an_error_not_a_panic() {
        let count = char_boundary_panics();
        let before = count.load(std::sync::atomic::Ordering::SeqCst);
        for text in [
            "{{.Spec.Job\u{fffd}}}",
            "{{ \u{e9}x }}",
            "{{.S\u{e9}c\u{20ac}}}",
            "{{$n\u{a0}:= 1}}",
            "\u{e9}{{- .Spec.Job}}",
        ] {
            let err = JobUrlTemplate::parse(text).expect_err(text);
            assert!(err.to_string().contains("character"), "{text:?}: {err}");
        }
        assert_eq!(
            count.load(std::sync::atomic::Ordering::SeqCst),
            before,
            "the template lexer panicked"
        );
        // Outside actions, in strings and in comments, any text is fine.
        let j = pj(ProwJobType::Presubmit, "o", "r", Some(3));
        assert_eq!(
            render(
                "h\u{e9}llo/{{\"\u{20ac}\"}}/{{/* \u{fffd} */}}{{`\u{e9}`}}",
                &j
            ),
            "h\u{e9}llo/\u{20ac}/\u{e9}"
        );
    }

    /// Istio's `plank.job_url_template` (spec §4.1, `istio/test-infra: prow/aws/config.yaml`).
    const ISTIO: &str = r#"https://aws.prow.istio.io/view/istio-prow{{if eq .Spec.Type "presubmit"}}/pr-logs/pull/{{.Spec.Refs.Org}}_{{.Spec.Refs.Repo}}/{{with index .Spec.Refs.Pulls 0}}{{.Number}}{{end}}{{else if eq .Spec.Type "batch"}}/pr-logs/pull/batch{{else}}/logs{{end}}/{{.Spec.Job}}/{{.Status.BuildID}}"#;

    fn pj(t: ProwJobType, org: &str, repo: &str, pull: Option<u64>) -> ProwJob {
        let mut j = ProwJob::default();
        j.metadata.name = Some("0b7b1e7e-0000-4000-8000-000000000001".into());
        j.spec.job_type = Some(t);
        j.spec.job = "unit-tests".into();
        j.status.build_id = "1247344427123347459".into();
        if !org.is_empty() {
            j.spec.refs = Some(Refs {
                org: org.into(),
                repo: repo.into(),
                base_ref: "master".into(),
                pulls: pull
                    .map(|n| Pull {
                        number: n,
                        ..Default::default()
                    })
                    .into_iter()
                    .collect(),
                ..Default::default()
            });
        }
        j
    }

    fn render(t: &str, job: &ProwJob) -> String {
        let tmpl = JobUrlTemplate::parse(t).unwrap_or_else(|e| panic!("parse: {e}"));
        job_url(&Plank::default(), &tmpl, job).unwrap_or_else(|e| panic!("render: {e}"))
    }

    #[test]
    fn istio_template() {
        let base = "https://aws.prow.istio.io/view/istio-prow";
        assert_eq!(
            render(
                ISTIO,
                &pj(ProwJobType::Presubmit, "istio", "istio", Some(54321))
            ),
            format!("{base}/pr-logs/pull/istio_istio/54321/unit-tests/1247344427123347459")
        );
        assert_eq!(
            render(ISTIO, &pj(ProwJobType::Batch, "istio", "istio", Some(1))),
            format!("{base}/pr-logs/pull/batch/unit-tests/1247344427123347459")
        );
        assert_eq!(
            render(ISTIO, &pj(ProwJobType::Periodic, "", "", None)),
            format!("{base}/logs/unit-tests/1247344427123347459")
        );
        assert_eq!(
            render(ISTIO, &pj(ProwJobType::Postsubmit, "istio", "proxy", None)),
            format!("{base}/logs/unit-tests/1247344427123347459")
        );
    }

    /// prow.k8s.io's template, read from the corpus copy of its config.yaml.
    #[test]
    fn kubernetes_template_from_corpus() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/corpus/kubernetes-test-infra/config/prow/config.yaml");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("corpus missing at {}: {e}", path.display()));
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with("job_url_template:") && l.contains("{{"))
            .unwrap_or_else(|| panic!("no job_url_template in {}", path.display()));
        let raw = line.trim_start_matches("job_url_template:").trim();
        let t = raw.trim_matches('\'');
        let base = "https://prow.k8s.io/view/gs/kubernetes-ci-logs";
        assert_eq!(
            render(
                t,
                &pj(ProwJobType::Presubmit, "kubernetes-sigs", "kind", Some(7))
            ),
            format!("{base}/pr-logs/pull/sigs.k8s.io_kind/7/unit-tests/1247344427123347459/")
        );
        assert_eq!(
            render(
                t,
                &pj(ProwJobType::Presubmit, "kubernetes", "kubernetes", Some(9))
            ),
            format!("{base}/pr-logs/pull/9/unit-tests/1247344427123347459/")
        );
        assert_eq!(
            render(
                t,
                &pj(ProwJobType::Presubmit, "kubernetes", "test-infra", Some(9))
            ),
            format!("{base}/pr-logs/pull/test-infra/9/unit-tests/1247344427123347459/")
        );
        assert_eq!(
            render(t, &pj(ProwJobType::Periodic, "", "", None)),
            format!("{base}/logs/unit-tests/1247344427123347459/")
        );
    }

    #[test]
    fn go_field_names() {
        let mut j = pj(ProwJobType::Presubmit, "o", "r", Some(3));
        j.metadata.namespace = Some("prow".into());
        assert_eq!(
            render(
                "{{.ObjectMeta.Name}} {{.Name}} {{.Namespace}} {{.Spec.Refs.BaseRef}} {{.Status.State}}",
                &j
            ),
            "0b7b1e7e-0000-4000-8000-000000000001 0b7b1e7e-0000-4000-8000-000000000001 prow master "
        );
        assert!(JobUrlTemplate::parse("{{if}}").is_err());
        assert_eq!(render("", &j), "");
    }

    fn decorated(bucket: &str, strategy: &str) -> ProwJob {
        let mut j = pj(
            ProwJobType::Presubmit,
            "kubernetes-sigs",
            "cluster-api-provider-openstack",
            Some(541),
        );
        j.spec.job = "pull-cluster-api-provider-openstack-test".into();
        j.spec.decoration_config = Some(DecorationConfig {
            gcs_configuration: Some(GcsConfiguration {
                bucket: bucket.into(),
                path_strategy: strategy.into(),
                default_org: "kubernetes".into(),
                default_repo: "kubernetes".into(),
                ..Default::default()
            }),
            ..Default::default()
        });
        j
    }

    #[test]
    fn prefix_urls() {
        let mut plank = Plank::default();
        plank
            .job_url_prefix_config
            .insert("*".into(), "https://prow.k8s.io/view/".into());
        plank.job_url_prefix_config.insert(
            "istio".into(),
            "https://prow.istio.example.com/view/".into(),
        );
        let none = JobUrlTemplate::parse(ISTIO).unwrap_or_else(|e| panic!("{e}"));
        let j = decorated("kubernetes-jenkins", "explicit");
        assert_eq!(
            job_url(&plank, &none, &j),
            Ok("https://prow.k8s.io/view/gs/kubernetes-jenkins/pr-logs/pull/kubernetes-sigs_cluster-api-provider-openstack/541/pull-cluster-api-provider-openstack-test/1247344427123347459".into())
        );
        let mut s3 = decorated("s3://istio-prow", "explicit");
        if let Some(r) = s3.spec.refs.as_mut() {
            r.org = "istio".into();
            r.repo = "istio".into();
        }
        s3.spec.job_type = Some(ProwJobType::Periodic);
        assert_eq!(
            job_url(&plank, &none, &s3),
            Ok("https://prow.istio.example.com/view/s3/istio-prow/logs/pull-cluster-api-provider-openstack-test/1247344427123347459".into())
        );
        plank.job_url_prefix_disable_append_storage_provider = true;
        assert_eq!(
            job_url(&plank, &none, &s3),
            Ok("https://prow.istio.example.com/view/istio-prow/logs/pull-cluster-api-provider-openstack-test/1247344427123347459".into())
        );
        // The job's own prefix wins.
        if let Some(g) = s3
            .spec
            .decoration_config
            .as_mut()
            .and_then(|d| d.gcs_configuration.as_mut())
        {
            g.job_url_prefix = "https://deck.example.com/view".into();
        }
        assert_eq!(job_url_prefix(&plank, &s3), "https://deck.example.com/view");
        // Undecorated jobs use the template even when a prefix exists.
        let plain = pj(ProwJobType::Periodic, "", "", None);
        assert_eq!(
            job_url(&plank, &none, &plain),
            Ok(
                "https://aws.prow.istio.io/view/istio-prow/logs/unit-tests/1247344427123347459"
                    .into()
            )
        );
    }

    #[test]
    fn path_join_like_go() {
        assert_eq!(path_join(&["/view/", "gs", "b/", "x"]), "/view/gs/b/x");
        assert_eq!(path_join(&["", "a", "", "b"]), "a/b");
        assert_eq!(path_join(&["/a/../b"]), "/b");
    }
}
