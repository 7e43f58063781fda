//! The geometry of `usage.html`'s daily chart: SCV minutes and telephony minutes side by side
//! (grouped bars, one pair per day, both from the same baseline), a y-axis in minutes with round
//! tick steps, and a slot for every day of the period, calls or not.
//!
//! SCV and telephony minutes are two billings of the same talk time, so they are drawn next to
//! each other to be compared, never stacked (a stack would add them up as if they were separate
//! time).
//!
//! Owns: the numbers (view box, bar rectangles, ticks, labels). Must not: write markup (the
//! template `templates/usage.html` does), do I/O or read the clock.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

/// The view box's width; the SVG is drawn at the page's width (`width="100%"`), and at about
/// this many CSS pixels text in the chart reads at its nominal size.
pub const VIEW_WIDTH: f64 = 1240.0;
/// The view box's height.
pub const VIEW_HEIGHT: f64 = 330.0;
/// Room left of the plot for the tick labels and the axis title.
const LEFT: f64 = 78.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 14.0;
/// Room below the plot for the day numbers and the month names.
const BOTTOM: f64 = 48.0;
/// The narrowest slot that still gets its own day number; narrower slots label every n-th day.
const MIN_LABEL_SLOT: f64 = 22.0;
/// How many tick steps the axis aims at.
const TARGET_TICKS: f64 = 5.0;

/// One day's numbers, as the chart takes them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DayMinutes {
    pub calls: u64,
    pub scv_minutes: f64,
    pub telephony_minutes: f64,
}

/// The whole chart, in view box units.
#[derive(Debug, Clone, PartialEq)]
pub struct DailyChart {
    pub width: f64,
    pub height: f64,
    /// The plot area: bars stand on `bottom`, the top tick is at `top`.
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    /// Where the axis title ("minutes", turned upright) is centred.
    pub axis_title_x: f64,
    pub axis_title_y: f64,
    /// Horizontal grid lines with their labels, from 0 up.
    pub ticks: Vec<Tick>,
    /// Every day of the period, in order.
    pub days: Vec<DaySlot>,
}

/// One y-axis tick.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub y: f64,
    /// The minutes at this tick, with thousands separators.
    pub label: String,
}

/// One day's slot.
#[derive(Debug, Clone, PartialEq)]
pub struct DaySlot {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// The slot's centre, where its labels go.
    pub centre: f64,
    /// The day of the month, when this slot is labelled (narrow slots label every n-th day).
    pub label: Option<String>,
    /// The month and year under the first day and under each 1st of a month.
    pub month_label: Option<String>,
    /// Where the month label starts; it runs right from the slot's left edge, or, near the
    /// plot's right end, ends at the plot's right edge, so it is never cut off.
    pub month_x: f64,
    /// `start` or `end` (SVG `text-anchor`), with `month_x`.
    pub month_anchor: &'static str,
    pub calls: u64,
    pub scv: Bar,
    pub telephony: Bar,
    /// The day had no calls (drawn as zero: a mark on the baseline, titled so).
    pub no_calls: bool,
    /// The day lies after the end of the elapsed part of the period (a month asked "to date").
    pub later: bool,
}

/// One bar. Both bars of a day stand on the baseline: `y + height == bottom`.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// The value as shown in the bar's tooltip.
    pub value: String,
}

/// The chart of `days` (every day of the period, first to last), with the minutes of the days
/// that had calls in `by_day`; days from `elapsed_days` on are the period's future.
pub fn daily_chart(
    days: &[NaiveDate],
    by_day: &BTreeMap<NaiveDate, DayMinutes>,
    elapsed_days: usize,
) -> DailyChart {
    let (left, right, top, bottom) = (LEFT, VIEW_WIDTH - RIGHT, TOP, VIEW_HEIGHT - BOTTOM);
    let max = by_day
        .values()
        .map(|d| d.scv_minutes.max(d.telephony_minutes))
        .fold(0.0_f64, f64::max);
    let (step, top_value) = axis(max);
    let y_of = |value: f64| bottom - value / top_value * (bottom - top);
    let mut ticks = Vec::new();
    let mut value = 0.0;
    while value <= top_value + step / 2.0 {
        ticks.push(Tick {
            y: y_of(value),
            label: thousands(value.round() as u64),
        });
        value += step;
    }
    let slot = (right - left) / days.len().max(1) as f64;
    let label_every = (MIN_LABEL_SLOT / slot).ceil().max(1.0) as usize;
    // Two bars and the gap between them take 80% of the slot; the rest keeps days apart.
    let bar_width = (slot * 0.38).min(26.0);
    let gap = (slot * 0.04).min(3.0);
    let slots = days
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let minutes = by_day.get(day).copied().unwrap_or_default();
            let centre = left + slot * (i as f64 + 0.5);
            let bar = |x: f64, value: f64, text: String| {
                let y = y_of(value);
                Bar {
                    x,
                    y,
                    width: bar_width,
                    height: bottom - y,
                    value: text,
                }
            };
            let first_of_month = day.day() == 1;
            // About 60 units hold "Sep 2026" at 12 px.
            let (month_x, month_anchor) = if centre - slot / 2.0 + 60.0 > right {
                (right, "end")
            } else {
                (centre - slot / 2.0, "start")
            };
            DaySlot {
                day: day.to_string(),
                centre,
                label: labelled(*day, label_every).then(|| day.day().to_string()),
                month_label: (i == 0 || first_of_month).then(|| day.format("%b %Y").to_string()),
                month_x,
                month_anchor,
                calls: minutes.calls,
                scv: bar(
                    centre - gap / 2.0 - bar_width,
                    minutes.scv_minutes,
                    format!("{:.1}", minutes.scv_minutes),
                ),
                telephony: bar(
                    centre + gap / 2.0,
                    minutes.telephony_minutes,
                    format!("{:.0}", minutes.telephony_minutes),
                ),
                no_calls: minutes.calls == 0,
                later: i >= elapsed_days,
            }
        })
        .collect();
    DailyChart {
        width: VIEW_WIDTH,
        height: VIEW_HEIGHT,
        left,
        right,
        top,
        bottom,
        axis_title_x: 16.0,
        axis_title_y: (top + bottom) / 2.0,
        ticks,
        days: slots,
    }
}

/// Whether a day gets its day number when only every `every`-th day can: the 1st of each month
/// and every `every`-th day after it (1, 3, 5, ... for every second day), but none so close to
/// the next 1st that the two numbers would touch.
fn labelled(day: NaiveDate, every: usize) -> bool {
    let d = day.day() as usize;
    let to_next_first = days_in_month(day) as usize + 1 - d;
    d == 1 || ((d - 1).is_multiple_of(every) && to_next_first >= every)
}

/// How many days the month of `day` has.
fn days_in_month(day: NaiveDate) -> u32 {
    let (y, m) = (day.year(), day.month());
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    };
    next.and_then(|n| n.pred_opt())
        .map_or(31, |last| last.day())
}

/// A round tick step (1, 2 or 5 times a power of ten, at least one minute) giving about
/// [`TARGET_TICKS`] steps up to `max`, and the axis top: the first step at or above `max`.
fn axis(max: f64) -> (f64, f64) {
    let raw = (max / TARGET_TICKS).max(1.0);
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power);
    let top = ((max / step).ceil() * step).max(step);
    (step, top)
}

/// `12345` as `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Every day from `first` to `last`, both included (empty when `last` is before `first`).
pub fn days_between(first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    first.iter_days().take_while(|d| *d <= last).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, d).unwrap()
    }

    fn minutes(calls: u64, scv: f64, tel: f64) -> DayMinutes {
        DayMinutes {
            calls,
            scv_minutes: scv,
            telephony_minutes: tel,
        }
    }

    #[test]
    fn tick_steps_are_round_and_the_top_covers_the_largest_bar() {
        assert_eq!(axis(0.0), (1.0, 1.0));
        assert_eq!(axis(3.0), (1.0, 3.0));
        assert_eq!(axis(17.5), (5.0, 20.0));
        assert_eq!(axis(66.0), (20.0, 80.0));
        assert_eq!(axis(100.0), (20.0, 100.0));
        assert_eq!(axis(1234.0), (500.0, 1500.0));
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn a_days_bars_stand_side_by_side_on_the_baseline() {
        let days = days_between(day(1), day(31));
        let by_day = BTreeMap::from([(day(5), minutes(3, 10.5, 15.0))]);
        let chart = daily_chart(&days, &by_day, 31);
        assert_eq!(chart.days.len(), 31, "a slot for every day");
        let fifth = &chart.days[4];
        assert_eq!(fifth.day, "2026-01-05");
        let (s, t) = (&fifth.scv, &fifth.telephony);
        // Side by side: no shared x; on one baseline: not stacked.
        assert!(s.x + s.width <= t.x, "{s:?} {t:?}");
        assert!((s.y + s.height - chart.bottom).abs() < 1e-9);
        assert!((t.y + t.height - chart.bottom).abs() < 1e-9);
        assert!(t.height > s.height, "15 minutes stand taller than 10.5");
        // Ticks every 5 minutes up to 15: the 15-minute bar reaches the top tick, 10.5 minutes
        // stand at 70% of it.
        let labels: Vec<&str> = chart.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0", "5", "10", "15"]);
        assert!((t.height - (chart.bottom - chart.top)).abs() < 1e-9);
        assert!((s.height - 0.7 * (chart.bottom - chart.top)).abs() < 1e-9);
        let second = &chart.days[1];
        assert!(second.no_calls && second.scv.height == 0.0 && second.telephony.height == 0.0);
        assert!(
            chart
                .days
                .iter()
                .all(|d| d.scv.x >= chart.left && d.telephony.x + d.telephony.width <= chart.right)
        );
    }

    #[test]
    fn the_first_day_and_each_first_of_a_month_name_the_month() {
        let days = days_between(
            NaiveDate::from_ymd_opt(2026, 1, 20).unwrap(),
            NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(),
        );
        let chart = daily_chart(&days, &BTreeMap::new(), 5);
        let months: Vec<&str> = chart
            .days
            .iter()
            .filter_map(|d| d.month_label.as_deref())
            .collect();
        assert_eq!(months, ["Jan 2026", "Feb 2026", "Mar 2026"]);
        assert!(!chart.days[4].later && chart.days[5].later);
        assert!(
            chart.days.iter().all(|d| d.label.is_some()),
            "50 slots: room for each"
        );
    }

    #[test]
    fn narrow_slots_number_every_second_day_from_each_first_never_beside_it() {
        let days = days_between(
            NaiveDate::from_ymd_opt(2025, 12, 2).unwrap(),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap(),
        );
        let chart = daily_chart(&days, &BTreeMap::new(), days.len());
        let numbered: Vec<String> = chart
            .days
            .iter()
            .filter_map(|d| d.label.as_ref().map(|l| format!("{}:{l}", &d.day[5..7])))
            .collect();
        assert_eq!(numbered[..2], ["12:3", "12:5"], "{numbered:?}");
        let around_new_year: Vec<&str> = numbered[13..17].iter().map(String::as_str).collect();
        assert_eq!(around_new_year, ["12:29", "01:1", "01:3", "01:5"]);
        assert_eq!(numbered.last().map(String::as_str), Some("02:27"));
        assert_eq!(
            chart.ticks.len(),
            2,
            "0 and 1 minute when nothing was called"
        );
    }
}
