//! plank's job metrics (Prow's `pkg/kube/metrics.go`): the `prowjobs` gauge (jobs per label
//! set) and the `prowjob_state_transitions` counter, both labelled `job_namespace, job_name,
//! type, state, org, repo, base_ref, cluster, retest`.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use prometheus::{CounterVec, GaugeVec, Opts, Registry};
use prow_api::ProwJob;

/// Label names, in Prow's order.
pub const JOB_LABELS: [&str; 9] = [
    "job_namespace",
    "job_name",
    "type",
    "state",
    "org",
    "repo",
    "base_ref",
    "cluster",
    "retest",
];

/// A job's label values, in [`JOB_LABELS`] order.
pub fn job_label_values(job: &ProwJob) -> [String; 9] {
    let refs = job.spec.refs.as_ref().or(job.spec.extra_refs.first());
    let (org, repo, base) = refs.map_or((String::new(), String::new(), String::new()), |r| {
        (r.org.clone(), r.repo.clone(), r.base_ref.clone())
    });
    let retest = job.label(prow_api::labels::RETEST) == Some("true");
    [
        job.metadata.namespace.clone().unwrap_or_default(),
        job.spec.job.clone(),
        job.spec
            .job_type
            .map(|t| t.as_str())
            .unwrap_or("")
            .to_owned(),
        job.status.state.as_str().to_owned(),
        org,
        repo,
        base,
        job.spec.cluster.clone(),
        retest.to_string(),
    ]
}

/// The two job metrics plus the state needed to count transitions.
pub struct JobMetrics {
    prowjobs: GaugeVec,
    transitions: CounterVec,
    /// (labels incl. state, build ID) seen at the previous gather.
    previous: Mutex<HashSet<([String; 9], String)>>,
}

impl std::fmt::Debug for JobMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobMetrics").finish_non_exhaustive()
    }
}

impl JobMetrics {
    /// Creates the metrics and registers them in `registry` (already registered ones are an
    /// error from prometheus; callers give each controller its own registry).
    pub fn new(registry: &Registry) -> Result<Self, prometheus::Error> {
        let prowjobs = GaugeVec::new(
            Opts::new("prowjobs", "Number of prowjobs in the system."),
            &JOB_LABELS,
        )?;
        let transitions = CounterVec::new(
            Opts::new(
                "prowjob_state_transitions",
                "Number of prowjobs transitioning states.",
            ),
            &JOB_LABELS,
        )?;
        registry.register(Box::new(prowjobs.clone()))?;
        registry.register(Box::new(transitions.clone()))?;
        Ok(JobMetrics {
            prowjobs,
            transitions,
            previous: Mutex::new(HashSet::new()),
        })
    }

    /// Prow's `GatherProwJobMetrics`: resets the gauge to the current counts and counts a
    /// transition for every (labels, build ID) not seen at the previous gather.
    pub fn gather<'a>(&self, jobs: impl IntoIterator<Item = &'a ProwJob>) {
        let mut counts: HashMap<[String; 9], f64> = HashMap::new();
        let mut current = HashSet::new();
        for job in jobs {
            let labels = job_label_values(job);
            *counts.entry(labels.clone()).or_default() += 1.0;
            current.insert((labels, job.status.build_id.clone()));
        }
        self.prowjobs.reset();
        for (labels, n) in &counts {
            let values: Vec<&str> = labels.iter().map(String::as_str).collect();
            self.prowjobs.with_label_values(&values).set(*n);
        }
        let mut prev = self.previous.lock().unwrap_or_else(|p| p.into_inner());
        for id in &current {
            if !prev.contains(id) {
                let values: Vec<&str> = id.0.iter().map(String::as_str).collect();
                self.transitions.with_label_values(&values).inc();
            }
        }
        *prev = current;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prow_api::{ProwJobState, ProwJobType, Refs};

    fn pj(state: ProwJobState) -> ProwJob {
        let mut j = ProwJob::default();
        j.metadata.namespace = Some("prow".into());
        j.spec.job = "pull-x".into();
        j.spec.job_type = Some(ProwJobType::Presubmit);
        j.spec.cluster = "default".into();
        j.spec.refs = Some(Refs {
            org: "o".into(),
            repo: "r".into(),
            base_ref: "main".into(),
            ..Default::default()
        });
        j.status.state = state;
        j.status.build_id = "1".into();
        j
    }

    #[test]
    fn gauge_and_transitions() {
        let reg = Registry::new();
        let m = JobMetrics::new(&reg).unwrap_or_else(|e| panic!("{e}"));
        m.gather([&pj(ProwJobState::Triggered), &pj(ProwJobState::Triggered)]);
        m.gather([&pj(ProwJobState::Pending)]);
        m.gather([&pj(ProwJobState::Pending)]);
        let text = prow_runtime::render_metrics(&reg);
        let labels = |state: &str| {
            format!(
                "{{base_ref=\"main\",cluster=\"default\",job_name=\"pull-x\",job_namespace=\"prow\",org=\"o\",repo=\"r\",retest=\"false\",state=\"{state}\",type=\"presubmit\"}}"
            )
        };
        assert!(
            text.contains(&format!("prowjobs{} 1", labels("pending"))),
            "{text}"
        );
        assert!(
            !text.contains(&format!("prowjobs{}", labels("triggered"))),
            "{text}"
        );
        assert!(text.contains(&format!(
            "prowjob_state_transitions{} 1",
            labels("triggered")
        )));
        assert!(text.contains(&format!("prowjob_state_transitions{} 1", labels("pending"))));
    }
}
