//! hook's Prometheus metrics, named as Prow's (spec §13).

use prometheus::{CounterVec, HistogramOpts, HistogramVec, IntGauge, Opts, Registry};

/// The hook metric families.
#[derive(Clone)]
pub struct HookMetrics {
    /// `prow_webhook_counter{event_type}`: accepted webhooks by type.
    pub webhook_counter: CounterVec,
    /// `prow_webhook_response_codes{response_code}`.
    pub response_codes: CounterVec,
    /// `prow_plugin_handle_duration_seconds{event_type, action, plugin, took_action}`.
    pub plugin_duration: HistogramVec,
    /// `prow_plugin_handle_errors{event_type, action, plugin, took_action}`.
    pub plugin_errors: CounterVec,
    /// `hook_event_log_pending`: stored events not processed yet (ours, not Prow's).
    pub pending: IntGauge,
}

impl HookMetrics {
    /// Creates the families and registers them in `registry`.
    pub fn new(registry: &Registry) -> prometheus::Result<Self> {
        let plugin_labels = &["event_type", "action", "plugin", "took_action"];
        let m = HookMetrics {
            webhook_counter: CounterVec::new(
                Opts::new(
                    "prow_webhook_counter",
                    "A counter of the webhooks made to prow.",
                ),
                &["event_type"],
            )?,
            response_codes: CounterVec::new(
                Opts::new(
                    "prow_webhook_response_codes",
                    "A counter of the different responses hook has responded to webhooks with.",
                ),
                &["response_code"],
            )?,
            plugin_duration: HistogramVec::new(
                HistogramOpts::new(
                    "prow_plugin_handle_duration_seconds",
                    "How long Prow took to handle an event by plugin, event type and action.",
                )
                .buckets(vec![
                    0.001, 0.01, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0,
                    180.0, 300.0, 600.0,
                ]),
                plugin_labels,
            )?,
            plugin_errors: CounterVec::new(
                Opts::new(
                    "prow_plugin_handle_errors",
                    "Prow errors handling an event by plugin, event type and action.",
                ),
                plugin_labels,
            )?,
            pending: IntGauge::new(
                "hook_event_log_pending",
                "Webhook events stored in the durable log and not processed yet.",
            )?,
        };
        registry.register(Box::new(m.webhook_counter.clone()))?;
        registry.register(Box::new(m.response_codes.clone()))?;
        registry.register(Box::new(m.plugin_duration.clone()))?;
        registry.register(Box::new(m.plugin_errors.clone()))?;
        registry.register(Box::new(m.pending.clone()))?;
        Ok(m)
    }
}
