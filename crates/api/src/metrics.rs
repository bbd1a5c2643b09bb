//! Metrics in the OpenMetrics text format (`prometheus-client`, which Prometheus scrapes), instead
//! of a hand-written exposition. Labels carry actions, outcomes, status codes and projector names
//! only, never case content or personal data.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::time::Duration;

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

const BUCKETS_S: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 5.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    action: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProjectorLabels {
    projector: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AlertLabels {
    kind: &'static str,
}

pub struct Metrics {
    registry: Registry,
    commands: Family<CommandLabels, Counter>,
    latency: Histogram,
    responses: Family<StatusLabels, Counter>,
    last_seq: Gauge,
    applied: Family<ProjectorLabels, Gauge>,
    lag: Family<ProjectorLabels, Gauge>,
    rejected: Family<ProjectorLabels, Gauge>,
    alerts: Family<AlertLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let commands = Family::<CommandLabels, Counter>::default();
        registry.register(
            "xf_commands",
            "Commands handled, by action and outcome",
            commands.clone(),
        );
        let latency = Histogram::new(BUCKETS_S);
        registry.register(
            "xf_command_duration_seconds",
            "Command latency",
            latency.clone(),
        );
        let responses = Family::<StatusLabels, Counter>::default();
        registry.register(
            "xf_http_responses",
            "HTTP responses by status",
            responses.clone(),
        );
        let last_seq = Gauge::default();
        registry.register(
            "xf_log_last_seq",
            "Last sequence of the case event stream",
            last_seq.clone(),
        );
        let applied = Family::<ProjectorLabels, Gauge>::default();
        registry.register(
            "xf_projector_applied_seq",
            "Last log sequence applied by each projector",
            applied.clone(),
        );
        let lag = Family::<ProjectorLabels, Gauge>::default();
        registry.register(
            "xf_projector_lag",
            "Log events not yet applied by each projector",
            lag.clone(),
        );
        let rejected = Family::<ProjectorLabels, Gauge>::default();
        registry.register(
            "xf_projector_rejected_events",
            "Events of the log each projector did not take as facts (forged, unsigned, replayed); alert on any",
            rejected.clone(),
        );
        let alerts = Family::<AlertLabels, Gauge>::default();
        registry.register(
            "xinfang_alerts_open",
            "苗头预警: alerts holding today, by kind (county-wide)",
            alerts.clone(),
        );
        Metrics {
            registry,
            alerts,
            commands,
            latency,
            responses,
            last_seq,
            applied,
            lag,
            rejected,
        }
    }
}

impl Metrics {
    pub fn command(&self, action: &'static str, outcome: &'static str, took: Duration) {
        self.commands
            .get_or_create(&CommandLabels { action, outcome })
            .inc();
        self.latency.observe(took.as_secs_f64());
    }

    pub fn request(&self, status: u16) {
        self.responses.get_or_create(&StatusLabels { status }).inc();
    }

    /// The exposition, with the log's last sequence, each answering projector's progress as of
    /// now (a projector that did not answer is left out) and the alerts holding today (left out
    /// when the cases model did not answer).
    pub fn render(
        &self,
        last_seq: u64,
        projectors: &[(&'static str, Option<queries::ModelStatus>)],
        alerts: Option<&wire::alerts::AlertList>,
    ) -> String {
        self.alerts.clear();
        if let Some(list) = alerts {
            for kind in domain::alerts::AlertKind::ALL {
                let n = list.items.iter().filter(|a| a.kind == kind).count();
                self.alerts
                    .get_or_create(&AlertLabels {
                        kind: kind.as_str(),
                    })
                    .set(gauge(n as u64));
            }
        }
        self.last_seq.set(gauge(last_seq));
        self.applied.clear();
        self.lag.clear();
        self.rejected.clear();
        for (projector, status) in projectors {
            let Some(status) = status else { continue };
            let labels = ProjectorLabels { projector };
            self.applied
                .get_or_create(&labels)
                .set(gauge(status.applied_seq));
            self.lag
                .get_or_create(&labels)
                .set(gauge(last_seq.saturating_sub(status.applied_seq)));
            self.rejected
                .get_or_create(&labels)
                .set(gauge(status.rejected_events));
        }
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics");
        }
        out
    }
}

fn gauge(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
