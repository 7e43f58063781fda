//! The seat chart of one license, as numbers a template draws: two horizontal bars (before and
//! after the fix) on a seat axis, with the number bought marked by a line.
//!
//! Owns: [`SeatChart`] (geometry in SVG user units, as text ready for attributes), which ledger
//! rows get a chart ([`is_charted`]), and the chart's sentences (its `<desc>` and the words under
//! it, so the chart reads without colour or sight).
//! Must not: emit markup (`templates/scan/chart.html` does) or decide any number (the ledger
//! did).

use crate::ledger::LedgerRow;

/// Width of the whole chart.
pub const WIDTH: f64 = 640.0;
/// Height of the whole chart.
pub const HEIGHT: f64 = 104.0;
/// Left edge of the bars: the bar labels sit before it.
const BAR_X: f64 = 72.0;
/// Length of a bar that holds every seat of the scale.
const BAR_WIDTH: f64 = 500.0;
/// Thickness of a bar.
const BAR_HEIGHT: f64 = 22.0;
/// Top of the "before" and "after" bars.
const BEFORE_Y: f64 = 20.0;
const AFTER_Y: f64 = 50.0;
/// Where the seat axis runs.
const AXIS_Y: f64 = 80.0;

/// What a part of a bar stands for; the template and the legend use the same names, so a
/// hatching means the same thing everywhere on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Seats in use.
    Used,
    /// Seats bought and not in use.
    Free,
    /// Seats the plan frees by itself.
    Freed,
    /// Seats freed only after the admin's manual step.
    NeedsAdmin,
    /// Orphaned seats freed only if `reclaim_orphan_seats` is on.
    Orphans,
    /// Idle agents' Voice seats freed only if `[org.idle] reclaim` is on.
    Idle,
}

impl Part {
    /// CSS class of the part (scan.css).
    pub fn class(self) -> &'static str {
        match self {
            Part::Used => "bar-used",
            Part::Free => "bar-free",
            Part::Freed => "bar-freed",
            Part::NeedsAdmin => "bar-admin",
            Part::Orphans => "bar-orphans",
            Part::Idle => "bar-idle",
        }
    }

    /// The `<pattern>` that fills a hatched part (defined once per page), or `None` for a plain
    /// fill from the stylesheet.
    pub fn pattern(self) -> Option<&'static str> {
        match self {
            Part::Used | Part::Free => None,
            Part::Freed => Some("hatch-freed"),
            Part::NeedsAdmin => Some("hatch-admin"),
            Part::Orphans => Some("hatch-orphans"),
            Part::Idle => Some("hatch-idle"),
        }
    }

    /// The legend's words for it.
    pub fn label(self) -> &'static str {
        match self {
            Part::Used => "Used",
            Part::Free => "Free",
            Part::Freed => "Freed by the plan",
            Part::NeedsAdmin => "Freed only after the admin's manual step",
            Part::Orphans => "Orphaned: freed only if reclaim_orphan_seats is on",
            Part::Idle => "Idle agents: freed only if [org.idle] reclaim is on",
        }
    }
}

/// One drawn piece of a bar.
#[derive(Debug, Clone)]
pub struct Segment {
    pub part: Part,
    pub x: String,
    pub width: String,
}

/// One bar with its label.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: &'static str,
    pub y: String,
    /// Baseline of the label, centred on the bar.
    pub text_y: String,
    pub segments: Vec<Segment>,
}

/// One tick of the seat axis.
#[derive(Debug, Clone)]
pub struct Tick {
    pub x: String,
    pub seats: u32,
}

/// Everything the template needs to draw one license's chart.
#[derive(Debug, Clone)]
pub struct SeatChart {
    /// Unique on the page, for `aria-labelledby`.
    pub id: String,
    pub bars: Vec<Bar>,
    pub ticks: Vec<Tick>,
    /// Where the "bought" line stands, and its label's anchor (kept inside the chart).
    pub total_x: String,
    pub total_anchor: &'static str,
    pub total: u32,
    /// The `<title>`: which license.
    pub title: String,
    /// The `<desc>` and the words under the chart: every number of the bars.
    pub before: String,
    pub after: String,
    /// The parts drawn in this chart, for the page's legend.
    pub parts: Vec<Part>,
}

/// A license gets a chart when there is something to see: findings on it, or more seats used
/// than bought. The rest are in the table only.
pub fn is_charted(row: &LedgerRow) -> bool {
    row.consumed_by_findings > 0 || row.recoverable > 0 || row.over_allocated
}

/// The chart of `row`; `n` makes its ids unique on the page.
pub fn seat_chart(n: usize, row: &LedgerRow) -> SeatChart {
    // An over-assigned license (used > total) still fits: the scale is whichever is larger.
    let scale = row.total.max(row.used).max(1);
    let width = |seats: u32| f64::from(seats) / f64::from(scale) * BAR_WIDTH;
    let used_after = row.used.saturating_sub(row.freed_by_plan);
    let freed = row.used - used_after;
    // Of the seats still used after the fix, those that come free once someone acts.
    let admin = row.needs_admin.min(used_after);
    let orphans = row.needs_orphan_reclaim.min(used_after - admin);
    let idle = row.needs_idle_reclaim.min(used_after - admin - orphans);
    let kept = used_after - admin - orphans - idle;

    let bar = |label, y: f64, parts: &[(Part, u32)]| {
        let mut x = BAR_X;
        let mut segments = vec![Segment {
            part: Part::Free,
            x: format!("{BAR_X:.1}"),
            width: format!("{BAR_WIDTH:.1}"),
        }];
        for &(part, seats) in parts {
            if seats == 0 {
                continue;
            }
            segments.push(Segment {
                part,
                x: format!("{x:.1}"),
                width: format!("{:.1}", width(seats)),
            });
            x += width(seats);
        }
        Bar {
            label,
            y: format!("{y:.1}"),
            text_y: format!("{:.1}", y + BAR_HEIGHT / 2.0 + 4.0),
            segments,
        }
    };
    let bars = vec![
        bar("Before", BEFORE_Y, &[(Part::Used, row.used)]),
        bar(
            "After fix",
            AFTER_Y,
            &[
                (Part::Used, kept),
                (Part::NeedsAdmin, admin),
                (Part::Orphans, orphans),
                (Part::Idle, idle),
                (Part::Freed, freed),
            ],
        ),
    ];
    let mut parts = vec![Part::Used, Part::Free];
    for (part, seats) in [
        (Part::Freed, freed),
        (Part::NeedsAdmin, admin),
        (Part::Orphans, orphans),
        (Part::Idle, idle),
    ] {
        if seats > 0 {
            parts.push(part);
        }
    }

    let total_x = BAR_X + width(row.total);
    let total_anchor = if total_x > BAR_X + BAR_WIDTH - 30.0 {
        "end"
    } else if total_x < BAR_X + 30.0 {
        "start"
    } else {
        "middle"
    };
    let ticks = ticks(scale)
        .into_iter()
        .map(|seats| Tick {
            x: format!("{:.1}", BAR_X + width(seats)),
            seats,
        })
        .collect();
    let (before, after) = sentences(row, used_after, freed);
    SeatChart {
        id: format!("chart-{n}"),
        bars,
        ticks,
        total_x: format!("{total_x:.1}"),
        total_anchor,
        total: row.total,
        title: format!("{} seats before and after the fix", row.psl),
        before,
        after,
        parts,
    }
}

/// The chart's numbers in words.
fn sentences(row: &LedgerRow, used_after: u32, freed: u32) -> (String, String) {
    let over = if row.over_allocated {
        format!(" ({} over)", row.used - row.total)
    } else {
        String::new()
    };
    let mut pending = Vec::new();
    if row.needs_admin > 0 {
        pending.push(format!(
            "{} more after the admin's manual steps",
            row.needs_admin
        ));
    }
    if row.needs_orphan_reclaim > 0 {
        pending.push(format!(
            "{} more if reclaim_orphan_seats is on",
            row.needs_orphan_reclaim
        ));
    }
    if row.needs_idle_reclaim > 0 {
        pending.push(format!(
            "{} idle agents' seat(s) more if [org.idle] reclaim is on",
            row.needs_idle_reclaim
        ));
    }
    let pending = if pending.is_empty() {
        String::new()
    } else {
        format!(" ({})", pending.join("; "))
    };
    (
        format!(
            "Before: {} of {} used, {} free{over}.",
            row.used, row.total, row.free
        ),
        format!(
            "After the fix: {used_after} of {} used, {} free ({freed} freed by the plan){pending}.",
            row.total, row.free_after_fix
        ),
    )
}

/// Seat counts to mark on an axis from 0 to `scale`: whole seats, at most about six marks, on a
/// step of 1, 2 or 5 times a power of ten, and always the end of the scale.
fn ticks(scale: u32) -> Vec<u32> {
    let mut step = 1u32;
    'search: for magnitude in [1u32, 10, 100, 1_000, 10_000, 100_000, 1_000_000] {
        for factor in [1u32, 2, 5] {
            step = factor * magnitude;
            if scale / step <= 5 {
                break 'search;
            }
        }
    }
    let mut marks: Vec<u32> = (0..=scale / step).map(|i| i * step).collect();
    // The end of the scale too; a mark so near it that the labels would overlap gives way.
    if let Some(&last) = marks.last()
        && last != scale
    {
        if f64::from(scale - last) / f64::from(scale) * BAR_WIDTH < 30.0 {
            marks.pop();
        }
        marks.push(scale);
    }
    marks
}

/// The axis line's ends and the unit label's place, as the template needs them.
pub struct Axis {
    pub x1: String,
    pub x2: String,
    pub y: String,
    pub tick_end: String,
    pub label_y: String,
    pub unit_x: String,
}

/// The seat axis every chart shares.
pub fn axis() -> Axis {
    Axis {
        x1: format!("{BAR_X:.1}"),
        x2: format!("{:.1}", BAR_X + BAR_WIDTH),
        y: format!("{AXIS_Y:.1}"),
        tick_end: format!("{:.1}", AXIS_Y + 4.0),
        label_y: format!("{:.1}", AXIS_Y + 16.0),
        unit_x: format!("{:.1}", BAR_X + BAR_WIDTH + 24.0),
    }
}

/// Where the "bought" line starts and ends, and its label's baseline.
pub const TOTAL_Y1: f64 = 14.0;
pub const TOTAL_Y2: f64 = AXIS_Y;
pub const TOTAL_LABEL_Y: f64 = 11.0;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::json::fixture;

    #[test]
    fn ticks_are_whole_seats_and_end_at_the_scale() {
        assert_eq!(ticks(1), vec![0, 1]);
        assert_eq!(ticks(2), vec![0, 1, 2]);
        assert_eq!(ticks(5), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(ticks(7), vec![0, 2, 4, 6, 7]);
        assert_eq!(ticks(51), vec![0, 10, 20, 30, 40, 51]);
        assert_eq!(ticks(10), vec![0, 2, 4, 6, 8, 10]);
        assert_eq!(ticks(1234), vec![0, 500, 1000, 1234]);
    }

    #[test]
    fn the_after_bar_splits_used_seats_by_what_frees_them() {
        let mut row = fixture::report().ledger[0].clone();
        row.total = 10;
        row.used = 10;
        row.free = 0;
        row.freed_by_plan = 3;
        row.needs_admin = 2;
        row.needs_orphan_reclaim = 1;
        let chart = seat_chart(0, &row);
        let after: Vec<(Part, &str)> = chart.bars[1]
            .segments
            .iter()
            .map(|s| (s.part, s.width.as_str()))
            .collect();
        assert_eq!(
            after,
            vec![
                (Part::Free, "500.0"),
                (Part::Used, "200.0"),
                (Part::NeedsAdmin, "100.0"),
                (Part::Orphans, "50.0"),
                (Part::Freed, "150.0"),
            ]
        );
        assert_eq!(chart.parts.len(), 5);
    }

    #[test]
    fn only_licenses_with_findings_or_over_allocation_are_charted() {
        let mut row = fixture::report().ledger[0].clone();
        row.consumed_by_findings = 0;
        row.recoverable = 0;
        row.over_allocated = false;
        assert!(!is_charted(&row));
        row.over_allocated = true;
        assert!(is_charted(&row));
    }
}
