//! crier's Prometheus metrics (spec §13), named and labelled as Prow's.

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// `result` label of a failed attempt.
pub const RESULT_ERROR: &str = "ERROR";
/// `result` label of a successful attempt.
pub const RESULT_SUCCESS: &str = "SUCCESS";

/// The metrics every reporter controller updates.
#[derive(Clone)]
pub struct CrierMetrics {
    /// `crier_report_latency{reporter}`: seconds from job completion to the end of reporting.
    pub latency: HistogramVec,
    /// `crier_reporting_results{reporter,result}`: reporting attempts by outcome.
    pub results: IntCounterVec,
}

impl CrierMetrics {
    /// Creates the metrics and registers them on `registry`.
    pub fn new(registry: &Registry) -> prometheus::Result<Self> {
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "crier_report_latency",
                "Histogram of time spent reporting, calculated by the time difference between job completion and end of reporting.",
            )
            .buckets(vec![
                1.0, 10.0, 20.0, 30.0, 60.0, 120.0, 180.0, 300.0, 600.0, 1200.0, 1800.0, 2700.0,
                3600.0, 5400.0, 7200.0,
            ]),
            &["reporter"],
        )?;
        let results = IntCounterVec::new(
            Opts::new(
                "crier_reporting_results",
                "Count of successful and failed reporting attempts by reporter.",
            ),
            &["reporter", "result"],
        )?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(results.clone()))?;
        Ok(CrierMetrics { latency, results })
    }
}
