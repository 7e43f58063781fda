//! Off-hours windows: when pslwarden may change an org.
//!
//! Owns: the window model ([`Window`], [`Schedule`]) and its answers for an instant
//! ([`Window::state_at`], [`Window::is_open`], [`Window::closes_at`], [`Window::next_opening`]);
//! the parsing of clock times, day names and dates, given as text; holidays files (ICS or plain)
//! in [`holidays`], time zone names in [`zone`].
//!
//! Must not: read files, read the clock, or print. Instants are passed in (the commands read the
//! clock, the config reads the holidays file), so every answer is reproducible in a test.
//!
//! # What a window is
//!
//! An org has one of three windows:
//! * [`Window::Scheduled`]: an IANA time zone, the days of the week the window opens on, a local
//!   start and end time, a cutoff (no batch starts when less than that remains before the close),
//!   and closed days (blackout dates and holidays).
//! * [`Window::AlwaysOpen`]: a sandbox or the simulated org, marked so explicitly.
//! * [`Window::NotConfigured`]: a real org with no `[org.window]`. It is never open, so nothing is
//!   ever changed in an org whose admin has not said when that is allowed.
//!
//! # Rules, daylight saving time included
//!
//! One rule turns every local time into an instant: **a local date and time means the first
//! instant at which the org's clock reads that time or later.** Everything else follows:
//!
//! * Spring forward (the clock skips an hour, e.g. 02:00 → 03:00 in New York): a time inside the
//!   gap means the instant the clock jumps. A 02:00–04:00 window opens at 03:00 EDT and closes at
//!   04:00 EDT: it runs one hour that night. A window lying wholly inside the gap (02:00–02:30) does
//!   not open that night.
//! * Fall back (the clock repeats an hour, e.g. 01:00–02:00 in New York): a repeated time means its
//!   first occurrence. A 01:00–01:30 window runs once, 01:00–01:30 EDT, and does not open again
//!   when the clock reads 01:00 a second time (EST). A 00:00–05:00 window runs six hours that night.
//! * A window opens the first time the clock shows its start and closes the first time it shows
//!   its end; it never opens twice in one night and never runs past the first time the clock
//!   shows its end time.
//! * A local day runs from the first instant its clock reads 00:00 to the first instant it reads
//!   the next day's 00:00. Weekdays, blackout dates and holidays refer to such days. (This matters
//!   only in zones that turn the clock back across midnight, e.g. America/Santiago, where the
//!   repeated hour before midnight counts as the new day; a day a zone skipped, like 2011-12-30
//!   in Pacific/Apia, has no window.)
//! * A window that crosses midnight (`crosses_midnight = true`, e.g. 22:00–05:00) belongs to the
//!   day it starts on: with `days = ["fri"]` it opens Friday 22:00 and closes Saturday 05:00.
//! * A closed day (blackout date or holiday) closes the window for that whole local day: the
//!   window starting that day does not open, and one that started the evening before closes at
//!   the closed day's midnight.
//! * Back-to-back windows (whole days `00:00`–`24:00`, or 24-hour windows) form one open span:
//!   "closes at" is the end of the span, not each midnight. Answers look [`HORIZON_DAYS`] days
//!   ahead; a span still open at the horizon has no known close.
//! * Spans are half-open: open at the opening instant, closed at the closing instant.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc,
    Weekday,
};
use chrono_tz::Tz;
use serde::Serialize;

mod holidays;
mod zone;
pub use holidays::{Holiday, HolidaysError, parse_holidays};
pub use zone::parse_time_zone;

/// How many local days ahead the answers look for an opening or a close. Over a year, so a long
/// list of blackout dates cannot hide the next opening, and cheap enough to ask before every batch.
pub const HORIZON_DAYS: i64 = 400;

/// The cutoff when the config names none: a batch of collection calls takes seconds, but a run
/// that starts a batch one minute before the close leaves the admin no margin.
pub const DEFAULT_CUTOFF_MINUTES: u32 = 15;

/// An org's off-hours window.
#[derive(Debug, Clone)]
pub enum Window {
    /// No `[org.window]`: never open, so `apply` refuses to change the org.
    NotConfigured,
    /// `always_open = true`: a sandbox or the simulated org.
    AlwaysOpen,
    /// A weekly schedule in the org's time zone.
    Scheduled(Schedule),
}

/// A local clock time on a 24-hour dial, to the minute. `24:00` exists only as an end time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime {
    /// Minutes after local midnight, 0..=1440.
    minutes: u16,
}

impl ClockTime {
    /// `00:00`.
    pub const MIDNIGHT: ClockTime = ClockTime { minutes: 0 };
    /// `24:00`: the end of a whole-day window.
    pub const END_OF_DAY: ClockTime = ClockTime { minutes: 1440 };

    /// `hours:minutes`, `None` past `24:00`.
    pub fn from_hm(hours: u32, minutes: u32) -> Option<ClockTime> {
        let total = hours.checked_mul(60)?.checked_add(minutes)?;
        (minutes < 60 && total <= 1440).then(|| ClockTime {
            minutes: u16::try_from(total).unwrap_or(0),
        })
    }

    /// Parses `"HH:MM"` (24-hour clock, `"24:00"` allowed).
    pub fn parse(text: &str) -> Result<ClockTime, String> {
        let bad = || {
            format!(
                "`{text}` is not a time: write it as \"HH:MM\" on a 24-hour clock, e.g. \"22:00\" \
                 (\"24:00\" is the end of the day)"
            )
        };
        let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
        let digits = |s: &str, lens: &[usize]| {
            lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(h, &[1, 2]) || !digits(m, &[2]) {
            return Err(bad());
        }
        let (h, m) = (
            h.parse::<u32>().map_err(|_| bad())?,
            m.parse::<u32>().map_err(|_| bad())?,
        );
        ClockTime::from_hm(h, m).ok_or_else(bad)
    }

    /// Minutes after local midnight.
    pub fn minutes(self) -> u32 {
        u32::from(self.minutes)
    }

    fn naive_time(self) -> NaiveTime {
        NaiveTime::from_hms_opt(self.minutes() / 60 % 24, self.minutes() % 60, 0)
            .unwrap_or(NaiveTime::MIN)
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.minutes / 60, self.minutes % 60)
    }
}

/// Parses a day name: `mon`, `monday`, `Tue`, ... (any case).
pub fn parse_weekday(text: &str) -> Option<Weekday> {
    match text.trim().to_ascii_lowercase().as_str() {
        "mon" | "monday" => Some(Weekday::Mon),
        "tue" | "tues" | "tuesday" => Some(Weekday::Tue),
        "wed" | "wednesday" => Some(Weekday::Wed),
        "thu" | "thur" | "thurs" | "thursday" => Some(Weekday::Thu),
        "fri" | "friday" => Some(Weekday::Fri),
        "sat" | "saturday" => Some(Weekday::Sat),
        "sun" | "sunday" => Some(Weekday::Sun),
        _ => None,
    }
}

/// Parses exactly `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return None;
    }
    let n = |r: std::ops::Range<usize>| text.get(r).and_then(|s| s.parse::<u32>().ok());
    let year = i32::try_from(n(0..4)?).ok()?;
    NaiveDate::from_ymd_opt(year, n(5..7)?, n(8..10)?)
}

/// A day the window stays shut: a blackout date or a holiday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedDay {
    /// The local date.
    pub date: NaiveDate,
    /// Why, in words, for the window command and apply's refusal (e.g. "blackout date",
    /// "holiday: Christmas Day (holidays.ics)").
    pub why: String,
}

/// Everything a [`Schedule`] is made of, before it is checked.
#[derive(Debug, Clone)]
pub struct ScheduleSpec {
    /// The org's IANA time zone; every time, day and date is read on its clock.
    pub time_zone: Tz,
    /// The days a window starts on.
    pub days: Vec<Weekday>,
    /// Local opening time.
    pub start: ClockTime,
    /// Local closing time; `24:00` for the end of the day.
    pub end: ClockTime,
    /// The window closes on the next day (end not after start): said explicitly, so a typo like
    /// 22:00–02:00 for 22:00–23:59 is caught instead of running the window overnight.
    pub crosses_midnight: bool,
    /// No batch starts when less than this many minutes remain before the close.
    pub cutoff_minutes: u32,
    /// Blackout dates and holidays.
    pub closed_days: Vec<ClosedDay>,
}

/// A [`ScheduleSpec`] that does not describe a window. [`ScheduleError::key`] names the config
/// key at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "no days: list the days the window starts on, e.g. [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]"
    )]
    NoDays,
    #[error("a window cannot start at 24:00 (the end of the day): use \"00:00\"")]
    StartAtEndOfDay,
    #[error(
        "end {end} is not after start {start} on the same day: if the window runs past midnight \
         into the next day, set `crosses_midnight = true` (it then belongs to the day it starts on)"
    )]
    EndNotAfterStart { start: ClockTime, end: ClockTime },
    #[error(
        "`crosses_midnight = true` but end {end} is after start {start}: the window would run over \
         24 hours. Remove `crosses_midnight` for a {start}–{end} window on one day"
    )]
    CrossesMidnightTooLong { start: ClockTime, end: ClockTime },
    #[error(
        "a cutoff of {cutoff} min leaves no time for a batch in a window of {length} min: make it \
         shorter than the window"
    )]
    CutoffTooLong { cutoff: u32, length: u32 },
}

impl ScheduleError {
    /// The `[org.window]` key the error is about.
    pub fn key(&self) -> &'static str {
        match self {
            ScheduleError::NoDays => "days",
            ScheduleError::StartAtEndOfDay => "start",
            ScheduleError::EndNotAfterStart { .. } => "end",
            ScheduleError::CrossesMidnightTooLong { .. } => "crosses_midnight",
            ScheduleError::CutoffTooLong { .. } => "cutoff_minutes",
        }
    }
}

/// A checked weekly window in one time zone. See the module docs for the rules.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The org's zone: every local time below is read on its clock.
    tz: Tz,
    /// Bit `n` set: the window starts on the weekday `n` days from Monday.
    days: u8,
    /// Local opening time (never `24:00`).
    start: ClockTime,
    /// Local closing time, on the start day or (crossing midnight) the next one.
    end: ClockTime,
    /// The window closes on the day after it starts.
    crosses_midnight: bool,
    /// The last stretch before a close in which no batch starts.
    cutoff: Duration,
    /// Blackout dates and holidays, with why each is closed.
    closed: BTreeMap<NaiveDate, String>,
}

/// The window's answer for one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowState {
    /// The instant asked about.
    pub at: DateTime<Utc>,
    /// The window is open at `at`.
    pub open: bool,
    /// When open: the end of the open span (back-to-back windows are one span). `None` when
    /// closed, always open, or still open at the horizon.
    pub closes_at: Option<DateTime<Utc>>,
    /// The next instant after `at` at which the window opens (when open: the opening after this
    /// span). `None` when none within [`HORIZON_DAYS`], or never (always open, not configured).
    pub next_open: Option<DateTime<Utc>>,
    /// When the span opening at `next_open` closes, so a message can say both.
    pub next_open_closes_at: Option<DateTime<Utc>>,
    /// Open, and at least the cutoff remains before the close: a batch may start now.
    pub batch_allowed: bool,
    /// Why, in words and local time.
    pub reason: String,
}

impl Window {
    /// The state at `t`: open or not, when it closes, when it next opens, whether a batch may
    /// start, and why.
    pub fn state_at(&self, t: DateTime<Utc>) -> WindowState {
        match self {
            Window::NotConfigured => WindowState {
                at: t,
                open: false,
                closes_at: None,
                next_open: None,
                next_open_closes_at: None,
                batch_allowed: false,
                reason: "no [org.window] in the config: an org without a window is never open, so \
                         nothing is changed in it; add [org.window] (see config/example.toml)"
                    .to_string(),
            },
            Window::AlwaysOpen => WindowState {
                at: t,
                open: true,
                closes_at: None,
                next_open: None,
                next_open_closes_at: None,
                batch_allowed: true,
                reason: "always open (`always_open = true`: a sandbox or the simulated org)"
                    .to_string(),
            },
            Window::Scheduled(s) => s.state_at(t),
        }
    }

    /// The window is open at `t`.
    pub fn is_open(&self, t: DateTime<Utc>) -> bool {
        match self {
            Window::NotConfigured => false,
            Window::AlwaysOpen => true,
            Window::Scheduled(s) => s.is_open(t),
        }
    }

    /// When the open span holding `t` closes; `None` when closed at `t` or with no known close.
    pub fn closes_at(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.state_at(t).closes_at
    }

    /// The first instant after `t` at which the window opens.
    pub fn next_opening(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.state_at(t).next_open
    }

    /// The cutoff before a close; zero when the window never closes.
    pub fn cutoff(&self) -> Duration {
        match self {
            Window::Scheduled(s) => s.cutoff,
            _ => Duration::zero(),
        }
    }

    /// The org's time zone, when the window has one.
    pub fn time_zone(&self) -> Option<Tz> {
        match self {
            Window::Scheduled(s) => Some(s.tz),
            _ => None,
        }
    }

    /// The window in one line, e.g. "Mon–Fri 22:00–05:00 (crosses midnight) Europe/London; ...".
    pub fn describe(&self) -> String {
        match self {
            Window::NotConfigured => "not configured: never open".to_string(),
            Window::AlwaysOpen => "always open".to_string(),
            Window::Scheduled(s) => s.describe(),
        }
    }
}

/// One occurrence or a merged run of back-to-back occurrences, `[start, end)`.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// The span reaches the horizon: its real end is unknown.
    open_ended: bool,
}

impl Schedule {
    /// Checks a spec into a schedule.
    pub fn new(spec: ScheduleSpec) -> Result<Schedule, ScheduleError> {
        let days = spec
            .days
            .iter()
            .fold(0u8, |acc, d| acc | (1 << d.num_days_from_monday()));
        if days == 0 {
            return Err(ScheduleError::NoDays);
        }
        let (start, end) = (spec.start, spec.end);
        if start == ClockTime::END_OF_DAY {
            return Err(ScheduleError::StartAtEndOfDay);
        }
        let length = if spec.crosses_midnight {
            // 24:00 on the next day would be a 24-hour-plus window; start == end is exactly 24 h.
            if end > start {
                return Err(ScheduleError::CrossesMidnightTooLong { start, end });
            }
            1440 - start.minutes() + end.minutes()
        } else {
            if end <= start {
                return Err(ScheduleError::EndNotAfterStart { start, end });
            }
            end.minutes() - start.minutes()
        };
        if spec.cutoff_minutes >= length {
            return Err(ScheduleError::CutoffTooLong {
                cutoff: spec.cutoff_minutes,
                length,
            });
        }
        let mut closed: BTreeMap<NaiveDate, String> = BTreeMap::new();
        for day in spec.closed_days {
            closed
                .entry(day.date)
                .and_modify(|why| {
                    if !why.split("; ").any(|w| w == day.why) {
                        why.push_str("; ");
                        why.push_str(&day.why);
                    }
                })
                .or_insert(day.why);
        }
        Ok(Schedule {
            tz: spec.time_zone,
            days,
            start,
            end,
            crosses_midnight: spec.crosses_midnight,
            cutoff: Duration::minutes(i64::from(spec.cutoff_minutes)),
            closed,
        })
    }

    /// The org's time zone.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// The days a window starts on, Monday first.
    pub fn days(&self) -> Vec<Weekday> {
        WEEK.iter()
            .copied()
            .filter(|d| self.starts_on(*d))
            .collect()
    }

    /// Local opening time.
    pub fn start(&self) -> ClockTime {
        self.start
    }

    /// Local closing time.
    pub fn end(&self) -> ClockTime {
        self.end
    }

    /// The window closes on the day after it starts.
    pub fn crosses_midnight(&self) -> bool {
        self.crosses_midnight
    }

    /// No batch starts when less than this remains before the close.
    pub fn cutoff(&self) -> Duration {
        self.cutoff
    }

    /// Blackout dates and holidays, in date order, with why each is closed.
    pub fn closed_days(&self) -> impl Iterator<Item = (NaiveDate, &str)> {
        self.closed.iter().map(|(d, w)| (*d, w.as_str()))
    }

    /// `t` on the org's clock.
    pub fn local(&self, t: DateTime<Utc>) -> DateTime<Tz> {
        t.with_timezone(&self.tz)
    }

    fn starts_on(&self, day: Weekday) -> bool {
        self.days & (1 << day.num_days_from_monday()) != 0
    }

    /// The instant a local date and clock time means (see the module docs); `None` only at the
    /// ends of the calendar.
    fn instant(&self, day: NaiveDate, time: ClockTime) -> Option<DateTime<Utc>> {
        let (day, time) = if time == ClockTime::END_OF_DAY {
            (day.succ_opt()?, ClockTime::MIDNIGHT)
        } else {
            (day, time)
        };
        Some(first_instant_reading(
            self.tz,
            day.and_time(time.naive_time()),
        ))
    }

    /// The window that starts on `day`, as `[start, end)`, or `None` when it does not open.
    fn occurrence(&self, day: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if !self.starts_on(day.weekday()) || self.closed.contains_key(&day) {
            return None;
        }
        let start = self.instant(day, self.start)?;
        let next_day = day.succ_opt()?;
        let mut end = if self.crosses_midnight {
            self.instant(next_day, self.end)?
        } else {
            self.instant(day, self.end)?
        };
        if self.closed.contains_key(&next_day) {
            end = end.min(self.instant(next_day, ClockTime::MIDNIGHT)?);
        }
        (start < end).then_some((start, end))
    }

    /// The local date of `t` (the calendar date its clock shows).
    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        self.local(t).date_naive()
    }

    /// The day whose occurrence holds `t`, if any. An occurrence is shorter than two days, so the
    /// days around `t`'s local date are all that can hold it.
    fn holding_day(&self, t: DateTime<Utc>) -> Option<NaiveDate> {
        let today = self.local_date(t);
        (-2i64..=1)
            .filter_map(|k| today.checked_add_signed(Duration::days(k)))
            .find(|d| {
                self.occurrence(*d)
                    .is_some_and(|(start, end)| start <= t && t < end)
            })
    }

    fn is_open(&self, t: DateTime<Utc>) -> bool {
        self.holding_day(t).is_some()
    }

    /// Open spans from the occurrence of `from` on, back-to-back occurrences merged, up to the
    /// horizon.
    fn spans(&self, from: NaiveDate) -> Spans<'_> {
        let last = from
            .checked_add_signed(Duration::days(HORIZON_DAYS))
            .unwrap_or(NaiveDate::MAX);
        Spans {
            schedule: self,
            day: Some(from),
            last,
            carry: None,
        }
    }

    fn state_at(&self, t: DateTime<Utc>) -> WindowState {
        let from = self
            .local_date(t)
            .checked_sub_signed(Duration::days(2))
            .unwrap_or(NaiveDate::MIN);
        let mut spans = self.spans(from);
        let mut state = WindowState {
            at: t,
            open: false,
            closes_at: None,
            next_open: None,
            next_open_closes_at: None,
            batch_allowed: false,
            reason: String::new(),
        };
        let known_end = |s: &Span| (!s.open_ended).then_some(s.end);
        let current = spans.by_ref().find(|s| s.end > t);
        match current {
            Some(span) if span.start <= t => {
                state.open = true;
                state.closes_at = known_end(&span);
                if let Some(next) = spans.next() {
                    state.next_open = Some(next.start);
                    state.next_open_closes_at = known_end(&next);
                }
                state.batch_allowed = state.closes_at.is_none_or(|c| c - t >= self.cutoff);
                let held_by = self
                    .holding_day(t)
                    .map(|d| format!("the window of {}", d.format("%a %Y-%m-%d")))
                    .unwrap_or_else(|| "the window".to_string());
                state.reason = match state.closes_at {
                    None => format!(
                        "open: inside {held_by}, which does not close within {HORIZON_DAYS} days"
                    ),
                    Some(c) if !state.batch_allowed => format!(
                        "open, but it closes at {} and no batch starts in the last {} min before \
                         a close (cutoff)",
                        self.label(c),
                        self.cutoff.num_minutes()
                    ),
                    Some(c) => format!("open: inside {held_by}, until {}", self.label(c)),
                };
            }
            Some(span) => {
                state.next_open = Some(span.start);
                state.next_open_closes_at = known_end(&span);
                state.reason = self.closed_reason(t);
            }
            None => {
                state.reason = format!(
                    "{}; it does not open within the next {HORIZON_DAYS} days (check days, \
                     blackout dates and holidays)",
                    self.closed_reason(t)
                );
            }
        }
        state
    }

    fn closed_reason(&self, t: DateTime<Utc>) -> String {
        let today = self.local_date(t);
        match self.closed.get(&today) {
            Some(why) => format!(
                "closed: {} is a closed day ({why})",
                today.format("%a %Y-%m-%d")
            ),
            None => format!(
                "closed: {} is outside the window ({})",
                self.local(t).format("%a %H:%M"),
                self.describe_hours()
                    .trim_end_matches(self.tz.name())
                    .trim_end()
            ),
        }
    }

    /// `t` on the org's clock, e.g. "Tue 2025-03-11 22:00 GMT".
    fn label(&self, t: DateTime<Utc>) -> String {
        self.local(t).format("%a %Y-%m-%d %H:%M %Z").to_string()
    }

    fn describe_hours(&self) -> String {
        format!(
            "{} {}–{}{} {}",
            describe_days(&self.days()),
            self.start,
            self.end,
            if self.crosses_midnight {
                " (crosses midnight)"
            } else {
                ""
            },
            self.tz.name()
        )
    }

    fn describe(&self) -> String {
        let mut out = format!(
            "{}; no batch starts in the last {} min",
            self.describe_hours(),
            self.cutoff.num_minutes()
        );
        match self.closed.len() {
            0 => {}
            1 => out.push_str("; 1 closed day (blackout date or holiday)"),
            n => out.push_str(&format!("; {n} closed days (blackout dates and holidays)")),
        }
        out
    }
}

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// "every day", "Mon–Fri", "Mon, Wed, Fri", "Sat–Sun".
pub fn describe_days(days: &[Weekday]) -> String {
    let set: Vec<bool> = WEEK.iter().map(|d| days.contains(d)).collect();
    if set.iter().all(|b| *b) {
        return "every day".to_string();
    }
    let mut parts = Vec::new();
    let mut i = 0;
    while i < 7 {
        if !set[i] {
            i += 1;
            continue;
        }
        let first = i;
        while i + 1 < 7 && set[i + 1] {
            i += 1;
        }
        parts.push(if i - first >= 2 {
            format!("{}–{}", WEEK[first], WEEK[i])
        } else if i > first {
            format!("{}, {}", WEEK[first], WEEK[i])
        } else {
            WEEK[first].to_string()
        });
        i += 1;
    }
    parts.join(", ")
}

/// Merges back-to-back occurrences into spans, lazily, so "is it open and until when" costs a
/// few days of work, not the horizon's.
struct Spans<'a> {
    schedule: &'a Schedule,
    /// The next day whose occurrence to look at; `None` past the calendar's end.
    day: Option<NaiveDate>,
    /// The horizon's last day.
    last: NaiveDate,
    /// An occurrence read while extending the previous span that did not join it.
    carry: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl Spans<'_> {
    /// The next day to look at, or `None` at the horizon.
    fn advance(&mut self) -> Option<NaiveDate> {
        let day = self.day.filter(|d| *d <= self.last)?;
        self.day = day.succ_opt();
        Some(day)
    }
}

impl Iterator for Spans<'_> {
    type Item = Span;

    fn next(&mut self) -> Option<Span> {
        let (start, end) = match self.carry.take() {
            Some(c) => c,
            None => loop {
                let day = self.advance()?;
                if let Some(o) = self.schedule.occurrence(day) {
                    break o;
                }
            },
        };
        let mut span = Span {
            start,
            end,
            open_ended: false,
        };
        loop {
            let Some(day) = self.advance() else {
                // At the horizon: the span may go on if the next day's window could join it.
                let next_midnight = self
                    .day
                    .and_then(|d| self.schedule.instant(d, ClockTime::MIDNIGHT));
                span.open_ended = next_midnight.is_none_or(|m| span.end >= m);
                return Some(span);
            };
            match self.schedule.occurrence(day) {
                Some((s, e)) if s <= span.end => span.end = span.end.max(e),
                Some(o) => {
                    self.carry = Some(o);
                    return Some(span);
                }
                None => {
                    // A later day's window starts at or after the next midnight: if the span ends
                    // before it, nothing can join.
                    let next_midnight = day
                        .succ_opt()
                        .and_then(|d| self.schedule.instant(d, ClockTime::MIDNIGHT));
                    if next_midnight.is_some_and(|m| span.end < m) {
                        return Some(span);
                    }
                }
            }
        }
    }
}

/// The first instant of local day `day` in `tz` (the first time its clock reads 00:00 or later),
/// by the same rule as the windows' days: what `usage` counts days and months by.
pub fn day_start(tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    first_instant_reading(tz, day.and_time(NaiveTime::MIN))
}

/// The first instant at which the clock of `tz` reads `local` or later: the instant itself when
/// it exists once, the first of two on a fall-back night, the end of the gap on a spring-forward
/// night.
fn first_instant_reading(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    if let Some(t) = tz.from_local_datetime(&local).earliest() {
        return t.with_timezone(&Utc);
    }
    chrono_tz::GapInfo::new(&local, &tz)
        .and_then(|gap| gap.end)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| bisect_gap_end(tz, local))
}

/// The clock of `tz` at `t`, as a local date and time.
fn reading(tz: Tz, t: DateTime<Utc>) -> NaiveDateTime {
    let offset = tz.offset_from_utc_datetime(&t.naive_utc()).fix();
    t.naive_utc() + Duration::seconds(i64::from(offset.local_minus_utc()))
}

/// Fallback for [`first_instant_reading`] when the zone data cannot say where a gap ends: search
/// the smallest instant whose clock reads `local` or later. UTC offsets lie within −12 h and +14 h,
/// so 26 hours either side bracket it.
fn bisect_gap_end(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    // Whole seconds: zone transitions fall on whole seconds.
    let at = |secs: i64| DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC);
    let guess = local.and_utc().timestamp();
    let (mut lo, mut hi) = (guess - 26 * 3600, guess + 26 * 3600);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if reading(tz, at(mid)) >= local {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    at(hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test instant")
            .with_timezone(&Utc)
    }

    #[test]
    fn clock_times_parse_on_a_24_hour_dial() {
        assert_eq!(ClockTime::parse("22:00").map(|t| t.minutes()), Ok(1320));
        assert_eq!(ClockTime::parse(" 5:30 ").map(|t| t.minutes()), Ok(330));
        assert_eq!(ClockTime::parse("24:00"), Ok(ClockTime::END_OF_DAY));
        for bad in [
            "24:01", "10pm", "7", "07:5", "25:00", "12:60", "-1:00", "12:00:00",
        ] {
            assert!(ClockTime::parse(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(
            ClockTime::parse("07:05").map(|t| t.to_string()),
            Ok("07:05".into())
        );
    }

    #[test]
    fn day_names_and_dates_parse_strictly() {
        assert_eq!(parse_weekday("Mon"), Some(Weekday::Mon));
        assert_eq!(parse_weekday("thursday"), Some(Weekday::Thu));
        assert_eq!(parse_weekday("mo"), None);
        assert_eq!(
            parse_date("2025-12-25"),
            NaiveDate::from_ymd_opt(2025, 12, 25)
        );
        assert_eq!(parse_date("2025-02-30"), None);
        assert_eq!(parse_date("2025-1-05"), None);
        assert_eq!(parse_date("20251225"), None);
    }

    #[test]
    fn days_are_described_as_ranges() {
        use Weekday::*;
        assert_eq!(describe_days(&[Mon, Tue, Wed, Thu, Fri]), "Mon–Fri");
        assert_eq!(describe_days(&[Sat, Sun]), "Sat, Sun");
        assert_eq!(describe_days(&[Mon, Wed, Fri]), "Mon, Wed, Fri");
        assert_eq!(describe_days(&WEEK), "every day");
    }

    #[test]
    fn the_gap_fallback_agrees_with_the_zone_data() {
        // New York springs forward at 02:00 EST = 07:00Z on 2025-03-09.
        let local = NaiveDate::from_ymd_opt(2025, 3, 9)
            .and_then(|d| d.and_hms_opt(2, 30, 0))
            .expect("date");
        let tz = chrono_tz::America::New_York;
        assert_eq!(
            first_instant_reading(tz, local),
            utc("2025-03-09T07:00:00Z")
        );
        assert_eq!(bisect_gap_end(tz, local), utc("2025-03-09T07:00:00Z"));
    }
}
