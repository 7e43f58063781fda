//! `/metrics`: the daemon's numbers as OpenMetrics text, encoded by `prometheus-client`.
//!
//! Owns: the metric names, help texts, label sets and types (listed in the README's metrics
//! section), and [`render`], a pure function of a [`Metrics`](super::Metrics) snapshot, the
//! config and the instant of the scrape. Each scrape walks the orgs of the config in force, so
//! an org added by a reload shows its counters at 0 at once, an org removed disappears, and the
//! window gauges are always current.
//!
//! Must not: write the exposition format by hand (the crate writes `_total`, units, escaping
//! and `# EOF`), or name anything but orgs, licenses, kinds, statuses and currencies in labels.

use std::fmt;

use chrono::{DateTime, Utc};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::TypedMetric;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Registry, Unit};

use super::{JobKind, LicenseSeats, OrgMetrics};
use crate::config::Settings;

/// The media type of the encoding (OpenMetrics 1.0 text), for the response's `Content-Type`.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds (seconds) of the job duration buckets: a scan of a small org takes seconds, an
/// apply of a large one tens of minutes; an hour and more falls in `+Inf`.
const DURATION_BUCKETS: [f64; 12] = [
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0,
];

/// An empty job duration histogram with the daemon's buckets.
pub(super) fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// The word of the state set for a kind of job that has not ended since the daemon started.
const NO_RUN_YET: &str = "none";

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OrgLabels {
    org: String,
}

/// `kind`, not `job`: Prometheus sets `job` on every target it scrapes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct KindLabels {
    org: String,
    kind: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StatusLabels {
    org: String,
    kind: &'static str,
    status: &'static str,
}

/// One license of one org: the labels of every per-license metric.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct LicenseLabels {
    org: String,
    psl: String,
}

/// Which of a license's seat counts a `pslwarden_license_seats` series is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct SeatStateLabel {
    /// `total`, `used` or `recoverable`.
    state: &'static str,
}

/// A money series: its license and currency (orgs may price in different currencies, so one
/// help text cannot name it; the value stays a plain number, as Prometheus practice wants).
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CostLabels {
    org: String,
    psl: String,
    /// ISO 4217 code of the value.
    currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

/// One configured org as one scrape sees it.
#[derive(Debug)]
struct OrgView {
    name: String,
    /// Its numbers (default: nothing has happened yet).
    metrics: OrgMetrics,
    /// The window at the scrape: open with time for a batch.
    batch_allowed: bool,
    /// When a closed window next opens (Unix seconds).
    next_open: Option<i64>,
}

/// The whole exposition of one scrape, handed to the crate as a collector.
#[derive(Debug)]
struct Scrape {
    orgs: Vec<OrgView>,
}

/// The OpenMetrics text of `metrics`, for the orgs of `settings`, with their windows at `now`.
pub fn render(
    metrics: &std::collections::BTreeMap<String, OrgMetrics>,
    settings: &Settings,
    now: DateTime<Utc>,
) -> String {
    let orgs = settings
        .orgs
        .iter()
        .map(|org| {
            let state = org.window.state_at(now);
            OrgView {
                name: org.name.clone(),
                metrics: metrics.get(&org.name).cloned().unwrap_or_default(),
                batch_allowed: state.batch_allowed,
                next_open: state
                    .next_open
                    .filter(|_| !state.open)
                    .map(|t| t.timestamp()),
            }
        })
        .collect();
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Scrape { orgs }));
    let mut out = String::new();
    // Writing into a String cannot fail; an encoder error would be a bug in a label set.
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &registry) {
        tracing::error!(error = %e, "cannot encode /metrics");
    }
    out
}

/// Writes one metric family: its descriptor, then one metric per label set.
fn family<S: EncodeLabelSet, M: EncodeMetric + TypedMetric>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    unit: Option<&Unit>,
    help: &str,
    rows: impl IntoIterator<Item = (S, M)>,
) -> fmt::Result {
    let mut metric = encoder.encode_descriptor(name, help, unit, M::TYPE)?;
    for (labels, value) in rows {
        value.encode(metric.encode_family(&labels)?)?;
    }
    Ok(())
}

/// A gauge from a count that fits `i64` (seats, findings, calls: far below).
fn gauge(n: u64) -> ConstGauge {
    ConstGauge::new(i64::try_from(n).unwrap_or(i64::MAX))
}

impl Scrape {
    /// One row per org whose `value` is known.
    fn per_org<'a, M>(
        &'a self,
        value: impl Fn(&OrgMetrics) -> Option<M> + 'a,
    ) -> impl Iterator<Item = (OrgLabels, M)> + 'a {
        self.orgs.iter().filter_map(move |o| {
            Some((
                OrgLabels {
                    org: o.name.clone(),
                },
                value(&o.metrics)?,
            ))
        })
    }

    /// One row per org and kind of job whose `value` is known.
    fn per_kind<M>(
        &self,
        value: impl Fn(&OrgMetrics, JobKind) -> Option<M>,
    ) -> Vec<(KindLabels, M)> {
        let mut rows = Vec::new();
        for o in &self.orgs {
            for kind in JobKind::ALL {
                if let Some(v) = value(&o.metrics, kind) {
                    let labels = KindLabels {
                        org: o.name.clone(),
                        kind: kind.as_str(),
                    };
                    rows.push((labels, v));
                }
            }
        }
        rows
    }

    /// One row per license of each org's last scan whose `value` is known. A per-(org, license)
    /// metric is a field of [`LicenseSeats`] and one [`family`] over this.
    fn per_license<M>(
        &self,
        value: impl Fn(&LicenseSeats) -> Option<M>,
    ) -> Vec<(LicenseLabels, M)> {
        let mut rows = Vec::new();
        for o in &self.orgs {
            for license in &o.metrics.licenses {
                if let Some(v) = value(license) {
                    let labels = LicenseLabels {
                        org: o.name.clone(),
                        psl: license.psl.clone(),
                    };
                    rows.push((labels, v));
                }
            }
        }
        rows
    }

    fn jobs(&self, encoder: &mut DescriptorEncoder) -> fmt::Result {
        family(
            encoder,
            "pslwarden_runs",
            None,
            "Jobs ended since the daemon started, by org, kind and status.",
            self.orgs.iter().flat_map(|o| {
                JobKind::ALL.into_iter().flat_map(move |kind| {
                    kind.statuses().iter().map(move |status| {
                        let n = o.metrics.runs.get(&(kind, *status)).copied();
                        (
                            StatusLabels {
                                org: o.name.clone(),
                                kind: kind.as_str(),
                                status: status.as_str(),
                            },
                            ConstCounter::new(n.unwrap_or(0)),
                        )
                    })
                })
            }),
        )?;
        family(
            encoder,
            "pslwarden_ticks_skipped",
            None,
            "Scheduled ticks not run because a job of the same kind was still running for the org.",
            self.per_kind(|m, kind| {
                Some(ConstCounter::new(
                    m.skipped_busy.get(&kind).copied().unwrap_or(0),
                ))
            }),
        )?;
        family(
            encoder,
            "pslwarden_job_duration",
            Some(&Unit::Seconds),
            "How long the org's jobs of this kind took, start to end.",
            self.per_kind(|m, kind| {
                Some(
                    m.durations
                        .get(&kind)
                        .cloned()
                        .unwrap_or_else(duration_histogram),
                )
            }),
        )?;
        family(
            encoder,
            "pslwarden_last_run_status",
            None,
            "State set: 1 for how the org's last job of this kind ended, 0 for every other status; \
             `none` is 1 until the first job of the kind ends.",
            self.orgs.iter().flat_map(|o| {
                JobKind::ALL.into_iter().flat_map(move |kind| {
                    let last = o.metrics.last.get(&kind).map(|(_, end)| end.status);
                    let states = std::iter::once((NO_RUN_YET, last.is_none())).chain(
                        kind.statuses()
                            .iter()
                            .map(move |s| (s.as_str(), last == Some(*s))),
                    );
                    states.map(move |(status, on)| {
                        (
                            StatusLabels {
                                org: o.name.clone(),
                                kind: kind.as_str(),
                                status,
                            },
                            ConstGauge::new(i64::from(on)),
                        )
                    })
                })
            }),
        )?;
        family(
            encoder,
            "pslwarden_last_run_success",
            None,
            "1 when the org's last job of this kind did its work (a closed window counts), 0 when \
             it failed; absent before the first.",
            self.per_kind(|m, kind| {
                m.last
                    .get(&kind)
                    .map(|(_, end)| ConstGauge::new(i64::from(end.ok())))
            }),
        )?;
        family(
            encoder,
            "pslwarden_last_run_timestamp",
            Some(&Unit::Seconds),
            "When the org's last job of this kind ended (Unix time); absent before the first.",
            self.per_kind(|m, kind| {
                m.last
                    .get(&kind)
                    .map(|(at, _)| ConstGauge::new(at.timestamp()))
            }),
        )
    }

    fn scan_results(&self, encoder: &mut DescriptorEncoder) -> fmt::Result {
        family(
            encoder,
            "pslwarden_findings",
            None,
            "Findings of the org's last scan.",
            self.per_org(|m| m.findings.map(gauge)),
        )?;
        family(
            encoder,
            "pslwarden_recoverable_seats",
            None,
            "Seats the org's last scan found recoverable.",
            self.per_org(|m| m.recoverable_seats.map(gauge)),
        )?;
        family(
            encoder,
            "pslwarden_seats_freed_by_plan",
            None,
            "Seats the plan of the org's last scan frees by itself when applied.",
            self.per_org(|m| m.seats_freed_by_plan.map(gauge)),
        )?;
        family(
            encoder,
            "pslwarden_seats_needing_admin",
            None,
            "Seats of the org's last scan freed only after an admin's manual step.",
            self.per_org(|m| m.seats_needing_admin.map(gauge)),
        )?;
        family(
            encoder,
            "pslwarden_over_allocated_licenses",
            None,
            "Licenses the org's last scan found used beyond their total.",
            self.per_org(|m| m.over_allocated_licenses.map(gauge)),
        )?;
        family(
            encoder,
            "pslwarden_license_seats",
            None,
            "Seats of each license in the org's last scan: total (bought), used (as Salesforce \
             counts them) and recoverable (what the findings could free).",
            self.per_license(|l| {
                Some([
                    ("total", l.total),
                    ("used", l.used),
                    ("recoverable", l.recoverable),
                ])
            })
            .into_iter()
            .flat_map(|(license, states)| {
                states.map(|(state, n)| {
                    (
                        (license.clone(), SeatStateLabel { state }),
                        ConstGauge::new(i64::from(n)),
                    )
                })
            }),
        )?;
        family(
            encoder,
            "pslwarden_monthly_cost_recoverable",
            None,
            "What the seats the org's last scan found recoverable cost a month at the configured \
             [org.prices], in the `currency` label's units; only licenses with a price.",
            self.per_license(|l| l.recoverable_monthly_cost.clone())
                .into_iter()
                .map(|(license, cost)| {
                    (
                        CostLabels {
                            org: license.org,
                            psl: license.psl,
                            currency: cost.currency,
                        },
                        ConstGauge::new(cost.amount),
                    )
                }),
        )
    }

    fn api_and_window(&self, encoder: &mut DescriptorEncoder) -> fmt::Result {
        family(
            encoder,
            "pslwarden_seats_freed",
            None,
            "Seats freed by the org's applies since the daemon started (journal count).",
            self.per_org(|m| Some(ConstCounter::new(m.seats_freed))),
        )?;
        family(
            encoder,
            "pslwarden_api_calls",
            None,
            "REST calls the org's jobs made since the daemon started.",
            self.per_org(|m| Some(ConstCounter::new(m.api_calls))),
        )?;
        family(
            encoder,
            "pslwarden_api_daily_used",
            None,
            "The org's daily API requests used, as last reported by Salesforce.",
            self.per_org(|m| m.api_daily_used.map(gauge)),
        )?;
        family(
            encoder,
            "pslwarden_api_daily_remaining",
            None,
            "The org's daily API requests remaining, as last reported by Salesforce.",
            self.per_org(|m| Some(gauge(m.api_daily_max?.saturating_sub(m.api_daily_used?)))),
        )?;
        family(
            encoder,
            "pslwarden_window_open",
            None,
            "1 when the org's window is open now and a batch may start (cutoff included).",
            self.orgs.iter().map(|o| {
                (
                    OrgLabels {
                        org: o.name.clone(),
                    },
                    ConstGauge::new(i64::from(o.batch_allowed)),
                )
            }),
        )?;
        family(
            encoder,
            "pslwarden_window_next_open_timestamp",
            Some(&Unit::Seconds),
            "When the org's closed window next opens (Unix time); absent while open.",
            self.orgs.iter().filter_map(|o| {
                Some((
                    OrgLabels {
                        org: o.name.clone(),
                    },
                    ConstGauge::new(o.next_open?),
                ))
            }),
        )
    }
}

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let up = encoder.encode_descriptor(
            "pslwarden_up",
            "1 while the daemon runs.",
            None,
            ConstGauge::<i64>::TYPE,
        )?;
        ConstGauge::new(1i64).encode(up)?;
        let build = encoder.encode_descriptor(
            "pslwarden_build",
            "The running pslwarden's version, as the `version` label; the value is always 1.",
            None,
            Info::<BuildLabels>::TYPE,
        )?;
        Info::new(BuildLabels {
            version: env!("CARGO_PKG_VERSION"),
        })
        .encode(build)?;
        self.jobs(&mut encoder)?;
        self.scan_results(&mut encoder)?;
        self.api_and_window(&mut encoder)
    }
}

// Uses the built-in demo's settings, which only `demo` builds carry.
#[cfg(all(test, feature = "demo"))]
mod tests {
    use std::time::Duration;

    use super::super::{JobEnd, JobStatus, LicenseSeats, Metrics};
    use super::*;

    fn lines_of(text: &str, name: &str) -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn before_any_job_every_counter_is_zero_and_the_state_set_says_none() {
        let settings = Settings::builtin_demo();
        let text = render(&Metrics::default().snapshot(), &settings, Utc::now());
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(!text.contains("job=\""), "{text}");
        let runs = lines_of(&text, "pslwarden_runs_total");
        assert_eq!(runs.len(), 2 + 7, "{text}");
        assert!(runs.iter().all(|l| l.ends_with(" 0")), "{runs:?}");
        assert!(
            text.contains(
                "pslwarden_last_run_status{org=\"seed-demo\",kind=\"scan\",status=\"none\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "pslwarden_job_duration_seconds_count{org=\"seed-demo\",kind=\"apply\"} 0"
            ),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "pslwarden_build_info{{version=\"{}\"}} 1",
                env!("CARGO_PKG_VERSION")
            )),
            "{text}"
        );
        assert!(
            lines_of(&text, "pslwarden_license_seats").is_empty(),
            "{text}"
        );
    }

    #[test]
    fn a_job_moves_its_counter_state_set_and_histogram_and_a_scan_its_license_seats() {
        let settings = Settings::builtin_demo();
        let metrics = Metrics::default();
        metrics.job_ended(
            "seed-demo",
            JobKind::Apply,
            Utc::now(),
            Duration::from_secs(90),
            JobEnd {
                status: JobStatus::WindowClosed,
                run_id: None,
                message: None,
            },
        );
        metrics.update("seed-demo", |m| {
            m.licenses = vec![LicenseSeats {
                psl: "SCV_Seat".into(),
                total: 10,
                used: 7,
                recoverable: 2,
                recoverable_monthly_cost: Some(super::super::MonthlyCost {
                    amount: 2469.0,
                    currency: "USD".into(),
                }),
            }]
        });
        let text = render(&metrics.snapshot(), &settings, Utc::now());
        let apply_states: Vec<String> = lines_of(&text, "pslwarden_last_run_status")
            .into_iter()
            .filter(|l| l.contains("kind=\"apply\""))
            .collect();
        assert_eq!(apply_states.len(), 8, "{apply_states:?}");
        let on: Vec<&String> = apply_states.iter().filter(|l| l.ends_with(" 1")).collect();
        assert_eq!(on.len(), 1, "{apply_states:?}");
        assert!(on[0].contains("status=\"window_closed\""), "{on:?}");
        assert!(
            text.contains(
                "pslwarden_runs_total{org=\"seed-demo\",kind=\"apply\",status=\"window_closed\"} 1"
            ),
            "{text}"
        );
        // 90 s falls in the 120 s bucket, not the 60 s one (the crate writes `le` first).
        for (le, n) in [("60.0", 0), ("120.0", 1)] {
            let bucket = format!(
                "pslwarden_job_duration_seconds_bucket{{le=\"{le}\",org=\"seed-demo\",kind=\"apply\"}} {n}"
            );
            assert!(text.contains(&bucket), "{bucket}\n{text}");
        }
        for (state, n) in [("total", 10), ("used", 7), ("recoverable", 2)] {
            assert!(
                text.contains(&format!(
                    "pslwarden_license_seats{{org=\"seed-demo\",psl=\"SCV_Seat\",state=\"{state}\"}} {n}"
                )),
                "{text}"
            );
        }
        assert!(
            text.contains(
                "pslwarden_monthly_cost_recoverable{org=\"seed-demo\",psl=\"SCV_Seat\",currency=\"USD\"} 2469.0"
            ),
            "{text}"
        );
    }
}
