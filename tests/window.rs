//! Off-hours windows: the pure answers (daylight saving time in both hemispheres, closed days,
//! back-to-back windows, cutoff), property tests over random instants and zones, and the real
//! `pslwarden window` binary.

use std::path::{Path, PathBuf};

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use pslwarden::window::{ClockTime, ClosedDay, Schedule, ScheduleSpec, Window};

use crate::support::{pslwarden, repo_root, scratch_dir, text};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{s}: {e}"))
        .with_timezone(&Utc)
}

fn hm(s: &str) -> ClockTime {
    ClockTime::parse(s).unwrap_or_else(|e| panic!("{e}"))
}

fn date(s: &str) -> NaiveDate {
    pslwarden::window::parse_date(s).unwrap_or_else(|| panic!("{s}"))
}

const EVERY_DAY: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// A window on every day, no cutoff, with `closed` blackout dates.
fn window(tz: Tz, start: &str, end: &str, crosses_midnight: bool, closed: &[&str]) -> Window {
    window_on(tz, &EVERY_DAY, start, end, crosses_midnight, 0, closed)
}

fn window_on(
    tz: Tz,
    days: &[Weekday],
    start: &str,
    end: &str,
    crosses_midnight: bool,
    cutoff_minutes: u32,
    closed: &[&str],
) -> Window {
    let spec = ScheduleSpec {
        time_zone: tz,
        days: days.to_vec(),
        start: hm(start),
        end: hm(end),
        crosses_midnight,
        cutoff_minutes,
        closed_days: closed
            .iter()
            .map(|d| ClosedDay {
                date: date(d),
                why: "blackout date".to_string(),
            })
            .collect(),
    };
    Window::Scheduled(Schedule::new(spec).unwrap_or_else(|e| panic!("{e}")))
}

// ---------------------------------------------------------------------------------------------
// Daylight saving time: the documented rule, in both hemispheres.
// ---------------------------------------------------------------------------------------------

#[test]
fn new_york_spring_forward_a_02_to_04_window_runs_from_the_jump_to_04_00() {
    // 2025-03-09: 02:00 EST (07:00Z) becomes 03:00 EDT; 02:00 never shows.
    let w = window(chrono_tz::America::New_York, "02:00", "04:00", false, &[]);
    let before = utc("2025-03-09T06:59:59Z"); // 01:59:59 EST
    assert!(!w.is_open(before));
    assert_eq!(w.next_opening(before), Some(utc("2025-03-09T07:00:00Z")));
    assert!(w.is_open(utc("2025-03-09T07:00:00Z")));
    assert_eq!(
        w.closes_at(utc("2025-03-09T07:00:00Z")),
        Some(utc("2025-03-09T08:00:00Z")) // 04:00 EDT: one hour that night
    );
    // An ordinary night runs the full two hours.
    assert_eq!(
        w.closes_at(utc("2025-03-08T07:00:00Z")),
        Some(utc("2025-03-08T09:00:00Z"))
    );
}

#[test]
fn new_york_fall_back_a_01_to_01_30_window_runs_once_on_the_first_pass() {
    // 2025-11-02: 02:00 EDT (06:00Z) becomes 01:00 EST; 01:00-02:00 shows twice.
    let w = window(chrono_tz::America::New_York, "01:00", "01:30", false, &[]);
    assert_eq!(
        w.next_opening(utc("2025-11-02T04:00:00Z")),
        Some(utc("2025-11-02T05:00:00Z")) // 01:00 EDT
    );
    assert_eq!(
        w.closes_at(utc("2025-11-02T05:10:00Z")),
        Some(utc("2025-11-02T05:30:00Z")) // 01:30 EDT
    );
    // 01:10 EST: the clock shows the window's time again, but it does not reopen.
    let second_pass = utc("2025-11-02T06:10:00Z");
    assert!(!w.is_open(second_pass));
    assert_eq!(
        w.next_opening(second_pass),
        Some(utc("2025-11-03T06:00:00Z")) // the next day, 01:00 EST
    );
}

#[test]
fn london_a_window_inside_the_spring_gap_does_not_open_that_night() {
    // 2025-03-30: 01:00 GMT becomes 02:00 BST; 01:00-01:59 never shows.
    let w = window(chrono_tz::Europe::London, "01:00", "01:30", false, &[]);
    assert_eq!(
        w.next_opening(utc("2025-03-29T12:00:00Z")),
        Some(utc("2025-03-31T00:00:00Z")) // Monday 01:00 BST
    );
    // A window reaching past the gap opens at the jump.
    let w = window(chrono_tz::Europe::London, "01:00", "03:00", false, &[]);
    assert_eq!(
        w.next_opening(utc("2025-03-29T12:00:00Z")),
        Some(utc("2025-03-30T01:00:00Z"))
    );
    assert_eq!(
        w.closes_at(utc("2025-03-30T01:00:00Z")),
        Some(utc("2025-03-30T02:00:00Z"))
    );
}

#[test]
fn london_fall_back_a_01_to_01_30_window_uses_the_first_pass() {
    // 2025-10-26: 02:00 BST (01:00Z) becomes 01:00 GMT.
    let w = window(chrono_tz::Europe::London, "01:00", "01:30", false, &[]);
    assert!(w.is_open(utc("2025-10-26T00:15:00Z"))); // 01:15 BST
    assert!(!w.is_open(utc("2025-10-26T01:15:00Z"))); // 01:15 GMT
}

#[test]
fn sydney_spring_forward_in_october_a_02_to_04_window_runs_one_hour() {
    // 2025-10-05: 02:00 AEST (2025-10-04T16:00Z) becomes 03:00 AEDT.
    let w = window(chrono_tz::Australia::Sydney, "02:00", "04:00", false, &[]);
    assert_eq!(
        w.next_opening(utc("2025-10-04T12:00:00Z")),
        Some(utc("2025-10-04T16:00:00Z"))
    );
    assert_eq!(
        w.closes_at(utc("2025-10-04T16:30:00Z")),
        Some(utc("2025-10-04T17:00:00Z"))
    );
}

#[test]
fn sydney_fall_back_in_april_a_repeated_window_runs_once() {
    // 2025-04-06: 03:00 AEDT (2025-04-05T16:00Z) becomes 02:00 AEST; 02:00-03:00 shows twice.
    let w = window(chrono_tz::Australia::Sydney, "02:00", "02:30", false, &[]);
    assert!(w.is_open(utc("2025-04-05T15:10:00Z"))); // 02:10 AEDT
    let second_pass = utc("2025-04-05T16:10:00Z"); // 02:10 AEST
    assert!(!w.is_open(second_pass));
    assert_eq!(
        w.next_opening(second_pass),
        Some(utc("2025-04-06T16:00:00Z")) // Monday 02:00 AEST
    );
}

#[test]
fn an_overnight_window_across_fall_back_lasts_one_hour_longer() {
    // 22:00 EDT (02:00Z) to 05:00 EST (10:00Z): eight hours on the clocks-back night.
    let w = window(chrono_tz::America::New_York, "22:00", "05:00", true, &[]);
    assert_eq!(
        w.closes_at(utc("2025-11-02T02:00:00Z")),
        Some(utc("2025-11-02T10:00:00Z"))
    );
}

// ---------------------------------------------------------------------------------------------
// Days, closed days, back-to-back windows, cutoff.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_window_crossing_midnight_belongs_to_the_day_it_starts_on() {
    let w = window_on(
        chrono_tz::UTC,
        &[Weekday::Fri],
        "22:00",
        "05:00",
        true,
        0,
        &[],
    );
    assert!(
        w.is_open(utc("2025-03-15T03:00:00Z")),
        "Saturday 03:00, Friday's window"
    );
    assert!(
        !w.is_open(utc("2025-03-14T03:00:00Z")),
        "Friday 03:00, Thursday has none"
    );
    assert!(!w.is_open(utc("2025-03-15T23:00:00Z")), "Saturday night");
    assert_eq!(
        w.next_opening(utc("2025-03-15T06:00:00Z")),
        Some(utc("2025-03-21T22:00:00Z"))
    );
}

#[test]
fn a_blackout_date_closes_the_whole_day_even_for_the_window_begun_the_evening_before() {
    let w = window(
        chrono_tz::Europe::London,
        "22:00",
        "05:00",
        true,
        &["2025-12-25"],
    );
    let christmas_eve = utc("2025-12-24T23:00:00Z");
    assert!(w.is_open(christmas_eve));
    assert_eq!(
        w.closes_at(christmas_eve),
        Some(utc("2025-12-25T00:00:00Z"))
    );
    assert!(!w.is_open(utc("2025-12-25T02:00:00Z")));
    let state = w.state_at(utc("2025-12-25T23:00:00Z"));
    assert!(!state.open);
    assert!(
        state
            .reason
            .contains("2025-12-25 is a closed day (blackout date)"),
        "{}",
        state.reason
    );
    assert_eq!(state.next_open, Some(utc("2025-12-26T22:00:00Z")));
}

#[test]
fn back_to_back_whole_days_close_at_the_end_of_the_run_not_each_midnight() {
    let weekdays = &EVERY_DAY[..5];
    let w = window_on(
        chrono_tz::Europe::London,
        weekdays,
        "00:00",
        "24:00",
        false,
        30,
        &[],
    );
    let wednesday_noon = utc("2025-03-12T12:00:00Z");
    let state = w.state_at(wednesday_noon);
    assert!(state.open && state.batch_allowed);
    assert_eq!(state.closes_at, Some(utc("2025-03-15T00:00:00Z"))); // Saturday 00:00 GMT
    assert_eq!(state.next_open, Some(utc("2025-03-17T00:00:00Z"))); // Monday
}

#[test]
fn a_window_open_past_the_horizon_has_no_close_and_allows_batches() {
    let w = window(chrono_tz::UTC, "18:00", "18:00", true, &[]);
    let state = w.state_at(utc("2025-06-01T12:00:00Z"));
    assert!(state.open && state.batch_allowed);
    assert_eq!(state.closes_at, None);
    // A blackout date gives it an end again.
    let w = window(chrono_tz::UTC, "18:00", "18:00", true, &["2025-06-10"]);
    assert_eq!(
        w.closes_at(utc("2025-06-01T12:00:00Z")),
        Some(utc("2025-06-10T00:00:00Z"))
    );
}

#[test]
fn no_batch_starts_inside_the_cutoff() {
    let w = window_on(chrono_tz::UTC, &EVERY_DAY, "22:00", "05:00", true, 15, &[]);
    assert!(w.state_at(utc("2025-03-12T04:45:00Z")).batch_allowed);
    let late = w.state_at(utc("2025-03-12T04:45:01Z"));
    assert!(late.open && !late.batch_allowed);
    assert!(late.reason.contains("cutoff"), "{}", late.reason);
}

#[test]
fn an_unconfigured_window_is_never_open_and_always_open_always_is() {
    let t = utc("2025-03-12T04:45:00Z");
    let never = Window::NotConfigured.state_at(t);
    assert!(!never.open && !never.batch_allowed && never.next_open.is_none());
    assert!(never.reason.contains("no [org.window]"), "{}", never.reason);
    let always = Window::AlwaysOpen.state_at(t);
    assert!(always.open && always.batch_allowed && always.closes_at.is_none());
}

// ---------------------------------------------------------------------------------------------
// Property tests over random instants, zones and windows (a fixed seed: failures reproduce).
// ---------------------------------------------------------------------------------------------

/// splitmix64: a tiny, well-mixed PRNG, so the test needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + i64::try_from(self.below(u64::try_from(hi - lo).expect("range"))).expect("range")
    }
}

/// Both hemispheres, half-hour and 45-minute offsets, half-hour DST (Lord Howe), negative DST
/// (Dublin), clocks turned back across midnight (Santiago, Beirut), a skipped day (Apia).
const ZONES: [Tz; 14] = [
    chrono_tz::Europe::London,
    chrono_tz::America::New_York,
    chrono_tz::Australia::Sydney,
    chrono_tz::Australia::Lord_Howe,
    chrono_tz::Pacific::Chatham,
    chrono_tz::Asia::Kolkata,
    chrono_tz::America::Santiago,
    chrono_tz::Asia::Beirut,
    chrono_tz::America::Sao_Paulo,
    chrono_tz::Pacific::Apia,
    chrono_tz::America::St_Johns,
    chrono_tz::Europe::Dublin,
    chrono_tz::America::Havana,
    chrono_tz::UTC,
];

fn offset_at(tz: Tz, t: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&t.naive_utc())
        .fix()
        .local_minus_utc()
}

/// A random instant in 2005-2035, half the time within a day of a change of the zone's offset.
fn random_instant(rng: &mut Rng, tz: Tz) -> DateTime<Utc> {
    let t = DateTime::from_timestamp(rng.range(1_104_537_600, 2_082_758_400), 0).expect("instant");
    if rng.below(2) == 0 {
        return t;
    }
    let base = offset_at(tz, t);
    let mut probe = t;
    for _ in 0..(400 * 24) {
        probe += Duration::hours(1);
        if offset_at(tz, probe) != base {
            return probe + Duration::seconds(rng.range(-30 * 3600, 30 * 3600));
        }
    }
    t
}

/// A random window: random days, one-day or overnight or whole-day, some closed days near `t`.
fn random_window(rng: &mut Rng, tz: Tz, t: DateTime<Utc>) -> (Window, ScheduleSpec) {
    let days: Vec<Weekday> = loop {
        let mask = rng.below(128);
        if mask != 0 {
            break EVERY_DAY
                .iter()
                .copied()
                .filter(|d| mask & (1 << d.num_days_from_monday()) != 0)
                .collect();
        }
    };
    let minute = |rng: &mut Rng| {
        let step = if rng.below(2) == 0 { 30 } else { 1 };
        u32::try_from(rng.below(1440 / step) * step).expect("minute")
    };
    let (start, end, crosses) = match rng.below(3) {
        0 => loop {
            let (a, b) = (minute(rng), minute(rng) + 1);
            if a < b {
                break (a, b, false);
            }
        },
        1 => {
            let a = minute(rng);
            (a, minute(rng).min(a), true)
        }
        _ => (0, 1440, false),
    };
    let length = if crosses {
        1440 - start + end
    } else {
        end - start
    };
    let today = t.with_timezone(&tz).date_naive();
    let closed_days = (0..rng.below(5))
        .map(|_| ClosedDay {
            date: today + Duration::days(rng.range(-3, 10)),
            why: "blackout date".to_string(),
        })
        .collect();
    let spec = ScheduleSpec {
        time_zone: tz,
        days,
        start: ClockTime::from_hm(start / 60, start % 60).expect("start"),
        end: ClockTime::from_hm(end / 60, end % 60).expect("end"),
        crosses_midnight: crosses,
        cutoff_minutes: u32::try_from(rng.below(u64::from(length.min(60)))).expect("cutoff"),
        closed_days,
    };
    let w = Schedule::new(spec.clone()).unwrap_or_else(|e| panic!("{e}: {spec:?}"));
    (Window::Scheduled(w), spec)
}

fn is_closed_day(spec: &ScheduleSpec, d: NaiveDate) -> bool {
    spec.closed_days.iter().any(|c| c.date == d)
}

/// The local time of `t` shows only once (not in a repeated hour).
fn shown_once(tz: Tz, local: NaiveDateTime) -> bool {
    tz.from_local_datetime(&local).single().is_some()
}

/// The window on a clock with no offset change nearby: plain wall-clock arithmetic, written
/// independently of the implementation.
fn wall_clock_open(spec: &ScheduleSpec, local: NaiveDateTime) -> bool {
    let today = local.date();
    [today - Duration::days(1), today].into_iter().any(|d| {
        if !spec.days.contains(&d.weekday()) || is_closed_day(spec, d) {
            return false;
        }
        let at = |day: NaiveDate, minutes: u32| {
            day.and_hms_opt(0, 0, 0).expect("midnight") + Duration::minutes(i64::from(minutes))
        };
        let start = at(d, spec.start.minutes());
        let next = d + Duration::days(1);
        let mut end = if spec.crosses_midnight {
            at(next, spec.end.minutes())
        } else {
            at(d, spec.end.minutes())
        };
        if is_closed_day(spec, next) {
            end = end.min(at(next, 0));
        }
        start <= local && local < end
    })
}

#[test]
fn random_instants_zones_and_windows_keep_every_promise() {
    let mut rng = Rng(0x5EED_0F0F_F400_5000);
    let second = Duration::seconds(1);
    let mut checked_oracle = 0;
    for case in 0..4000 {
        let tz = ZONES[usize::try_from(rng.below(ZONES.len() as u64)).expect("index")];
        let t = random_instant(&mut rng, tz);
        let (w, spec) = random_window(&mut rng, tz, t);
        let ctx = || format!("case {case}: t={t} tz={} spec={spec:?}", tz.name());
        let state = w.state_at(t);
        let local = t.with_timezone(&tz).naive_local();

        assert_eq!(state.open, w.is_open(t), "{}", ctx());
        let cutoff_ok = state.closes_at.is_none_or(|c| c - t >= w.cutoff());
        assert_eq!(state.batch_allowed, state.open && cutoff_ok, "{}", ctx());

        if state.open
            && let Some(close) = state.closes_at
        {
            assert!(close > t, "{}", ctx());
            assert!(
                w.is_open(close - second),
                "just before the close: {}",
                ctx()
            );
            assert!(!w.is_open(close), "at the close: {}", ctx());
            for _ in 0..6 {
                let span = (close - t).num_seconds();
                let u = t + Duration::seconds(rng.range(0, span));
                assert!(w.is_open(u), "{u} inside the open span: {}", ctx());
            }
            if let Some(next) = state.next_open {
                assert!(next > close, "{}", ctx());
            }
        }
        let next = if state.open {
            state.next_open.filter(|_| state.closes_at.is_some())
        } else {
            state.next_open
        };
        if let Some(next) = next {
            let from = state.closes_at.filter(|_| state.open).unwrap_or(t);
            assert!(next > t, "{}", ctx());
            assert!(w.is_open(next), "at the opening: {}", ctx());
            assert!(
                !w.is_open(next - second),
                "just before the opening: {}",
                ctx()
            );
            for _ in 0..8 {
                let gap = (next - from).num_seconds();
                if gap > 1 {
                    let u = from + Duration::seconds(rng.range(1, gap));
                    assert!(!w.is_open(u), "{u} before the opening: {}", ctx());
                }
            }
        }
        if state.next_open.is_none() && !state.open {
            panic!("a random window always opens within the horizon: {}", ctx());
        }

        // Never open on a closed day (a time shown twice may belong to the next day; see docs).
        if is_closed_day(&spec, local.date()) && shown_once(tz, local) {
            assert!(!state.open, "open on a closed day: {}", ctx());
        }
        // A whole-day window on every day is open exactly when the day is not closed.
        if spec.days.len() == 7
            && spec.start.minutes() == 0
            && spec.end.minutes() == 1440
            && shown_once(tz, local)
        {
            assert_eq!(state.open, !is_closed_day(&spec, local.date()), "{}", ctx());
        }
        // Far from any offset change, the answer is plain wall-clock arithmetic.
        let steady = (-50..=50).all(|h| offset_at(tz, t + Duration::hours(h)) == offset_at(tz, t));
        if steady {
            checked_oracle += 1;
            assert_eq!(
                state.open,
                wall_clock_open(&spec, local),
                "wall clock: {}",
                ctx()
            );
        }
    }
    assert!(
        checked_oracle > 300,
        "only {checked_oracle} cases met the oracle"
    );
}

// ---------------------------------------------------------------------------------------------
// The real binary.
// ---------------------------------------------------------------------------------------------

/// A config with two orgs that the window command can answer for offline (the access token is
/// never read): `prod` with a London window, `dev` with none.
fn config(dir: &Path, window: &str) -> PathBuf {
    let path = dir.join("pslwarden.toml");
    let text = format!(
        "[[org]]\nname = \"prod\"\n[org.auth]\nflow = \"access_token\"\n\
         instance_url = \"https://example.my.salesforce.com\"\naccess_token_env = \"PSLWARDEN_TEST_UNSET\"\n\
         {window}\n\
         [[org]]\nname = \"dev\"\n[org.auth]\nflow = \"access_token\"\n\
         instance_url = \"https://example-dev.my.salesforce.com\"\naccess_token_env = \"PSLWARDEN_TEST_UNSET\"\n"
    );
    std::fs::write(&path, text).expect("write config");
    path
}

const LONDON: &str = "[org.window]\ntime_zone = \"Europe/London\"\n\
    days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\nstart = \"22:00\"\nend = \"05:00\"\n\
    crosses_midnight = true\n";

fn window_cmd(dir: &Path, cfg: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["--config", cfg.to_str().expect("utf8"), "window"];
    all.extend_from_slice(args);
    let out = pslwarden(dir, &all);
    let (stdout, stderr) = text(&out);
    (out.status.code(), stdout, stderr)
}

#[test]
fn window_explains_a_closed_window_in_local_time() {
    let dir = scratch_dir("window_closed");
    let cfg = config(&dir, LONDON);
    let (code, stdout, stderr) = window_cmd(
        &dir,
        &cfg,
        &["--org", "prod", "--at", "2025-03-11T14:03:00Z"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.contains(
            "closed now (Tue 2025-03-11 14:03 Europe/London); opens Tue 22:00 (in 7 h 57 min), \
             closes Wed 05:00"
        ),
        "{stdout}"
    );
}

#[test]
fn window_json_gives_instants_in_utc_and_local_time() {
    let dir = scratch_dir("window_json");
    let cfg = config(&dir, LONDON);
    // 23:30 BST on a summer Tuesday.
    let (code, stdout, stderr) = window_cmd(
        &dir,
        &cfg,
        &[
            "--org",
            "prod",
            "--at",
            "2025-07-08T22:30:00Z",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(json["window"], "scheduled");
    assert_eq!(json["open"], true);
    assert_eq!(json["batch_allowed"], true);
    assert_eq!(json["closes_at"], "2025-07-09T04:00:00Z");
    assert_eq!(json["closes_at_local"], "2025-07-09T05:00:00+01:00");
    assert_eq!(json["next_open_local"], "2025-07-09T22:00:00+01:00");
    assert_eq!(json["cutoff_minutes"], 15);
}

#[test]
fn window_says_an_org_without_a_window_is_never_open() {
    let dir = scratch_dir("window_none");
    let cfg = config(&dir, LONDON);
    let (code, stdout, stderr) = window_cmd(&dir, &cfg, &["--org", "dev"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("never open"), "{stdout}");
    assert!(stdout.contains("no [org.window]"), "{stdout}");
    let (_, stdout, _) = window_cmd(&dir, &cfg, &["--org", "dev", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(json["window"], "not_configured");
    assert_eq!(json["open"], false);
    assert_eq!(json["next_open"], serde_json::Value::Null);
}

#[test]
fn the_simulated_org_is_always_open() {
    for (dir, label) in [
        (repo_root().to_path_buf(), "repo config"),
        (scratch_dir("window_builtin"), "built-in demo"),
    ] {
        let out = pslwarden(&dir, &["window", "--format", "json"]);
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "{label}: {stderr}");
        let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
        assert_eq!(json["window"], "always_open", "{label}");
        assert_eq!(json["batch_allowed"], true, "{label}");
    }
}

#[test]
fn a_holiday_from_an_ics_file_closes_the_window_and_is_named() {
    let dir = scratch_dir("window_holiday");
    std::fs::write(
        dir.join("holidays.ics"),
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20251225\r\n\
         SUMMARY:Christmas Day\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .expect("write holidays");
    let cfg = config(&dir, &format!("{LONDON}holidays_file = \"holidays.ics\"\n"));
    let (code, stdout, stderr) = window_cmd(
        &dir,
        &cfg,
        &["--org", "prod", "--at", "2025-12-25T23:00:00Z"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("closed now"), "{stdout}");
    assert!(
        stdout.contains("holiday: Christmas Day (holidays.ics)"),
        "{stdout}"
    );
    assert!(stdout.contains("opens Fri 22:00"), "{stdout}");
}

#[test]
fn a_broken_holidays_file_fails_at_start_naming_its_line() {
    let dir = scratch_dir("window_bad_holidays");
    std::fs::write(dir.join("holidays.txt"), "2025-12-25\n2025-12-32 # typo\n")
        .expect("write holidays");
    let cfg = config(&dir, &format!("{LONDON}holidays_file = \"holidays.txt\"\n"));
    let (code, _, stderr) = window_cmd(&dir, &cfg, &["--org", "prod"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("holidays.txt:2:"), "{stderr}");
    assert!(stderr.contains("pslwarden.toml:13:"), "{stderr}");
}

#[test]
fn an_unknown_time_zone_fails_at_start_with_file_line_and_key() {
    let dir = scratch_dir("window_bad_zone");
    let cfg = config(&dir, &LONDON.replace("Europe/London", "Europe/Lndon"));
    let (code, stdout, stderr) = window_cmd(&dir, &cfg, &["--org", "prod"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stderr.contains("pslwarden.toml:8:"), "{stderr}");
    assert!(stderr.contains("org[prod].window.time_zone"), "{stderr}");
    assert!(stderr.contains("Europe/London"), "{stderr}");
}

#[test]
fn an_at_without_an_offset_is_a_usage_error() {
    let dir = scratch_dir("window_bad_at");
    let cfg = config(&dir, LONDON);
    let (code, _, stderr) = window_cmd(&dir, &cfg, &["--org", "prod", "--at", "2025-03-11 14:03"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("RFC 3339"), "{stderr}");
}

#[test]
fn abbreviations_and_fixed_offsets_are_refused_with_the_iana_name_to_use() {
    let dir = scratch_dir("window_abbreviated_zone");
    for (zone, hint) in [
        ("EST", "America/New_York"),
        ("US/Eastern", "America/New_York"),
        ("CET", "Europe/Paris"),
        ("Etc/GMT+5", "BEHIND UTC"),
    ] {
        let cfg = config(&dir, &LONDON.replace("Europe/London", zone));
        let (code, stdout, stderr) = window_cmd(&dir, &cfg, &["--org", "prod"]);
        assert_eq!(code, Some(1), "{zone} was accepted: {stdout}");
        assert!(stderr.contains("pslwarden.toml:8:"), "{stderr}");
        assert!(stderr.contains("org[prod].window.time_zone"), "{stderr}");
        assert!(stderr.contains(hint), "{zone}: {stderr}");
    }
    // The usage zone is checked the same way.
    let cfg = config(&dir, &format!("{LONDON}[org.usage]\ntime_zone = \"HST\"\n"));
    let (code, _, stderr) = window_cmd(&dir, &cfg, &["--org", "prod"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("org[prod].usage.time_zone"), "{stderr}");
    assert!(stderr.contains("Pacific/Honolulu"), "{stderr}");
    // UTC is a place-free zone on purpose: accepted.
    let cfg = config(&dir, &LONDON.replace("Europe/London", "UTC"));
    let (code, stdout, stderr) = window_cmd(&dir, &cfg, &["--org", "prod"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
}

#[test]
fn start_equal_to_end_is_refused_unless_all_day_is_said() {
    let dir = scratch_dir("window_start_is_end");
    let same = LONDON.replace("\"05:00\"", "\"22:00\"");
    let cfg = config(&dir, &same);
    let (code, stdout, stderr) = window_cmd(&dir, &cfg, &["--org", "prod"]);
    assert_eq!(code, Some(1), "a 22:00–22:00 window was accepted: {stdout}");
    assert!(stderr.contains("pslwarden.toml:11:"), "{stderr}");
    assert!(stderr.contains("org[prod].window.end"), "{stderr}");
    assert!(stderr.contains("all_day = true"), "{stderr}");
    // Said explicitly, it is a 24-hour window from Monday 22:00 to Saturday 22:00.
    let cfg = config(&dir, &format!("{same}all_day = true\n"));
    let (code, stdout, stderr) = window_cmd(
        &dir,
        &cfg,
        &[
            "--org",
            "prod",
            "--at",
            "2025-03-11T14:03:00Z",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(json["open"], true, "{json}");
}
