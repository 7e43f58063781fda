//! Holidays files: reads a holidays file's text (iCalendar or plain dates) into [`Holiday`]s.
//!
//! Owns: the two accepted formats (ICS all-day `VEVENT`s with `DTEND`/`DURATION`, or one
//! `YYYY-MM-DD` per line with a `#` comment naming it) and their line-numbered errors
//! ([`HolidaysError`]).
//!
//! Must not: read the file (the config does, and passes the text in), know about time zones or
//! windows, or accept what it cannot read fully (repeating or timed events are refused, not
//! half-read).

use chrono::{Duration, NaiveDate};

use super::parse_date;

/// A holiday read from a holidays file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    /// The local date the window stays shut.
    pub date: NaiveDate,
    /// The event's SUMMARY (ICS) or the line's comment (plain), for messages.
    pub name: Option<String>,
}

/// A holidays file that cannot be read as holidays, at a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct HolidaysError {
    /// 1-based line in the holidays file (of the first physical line of a folded ICS line).
    pub line: usize,
    /// What is wrong and what to write instead.
    pub message: String,
}

/// The longest single holiday event accepted: a longer one is far more likely a mistake (a
/// DTEND a year off) than a real closure, and would silently shut the window for months.
const MAX_EVENT_DAYS: i64 = 31;

/// Parses a holidays file: iCalendar (it starts with `BEGIN:VCALENDAR`; all-day `VEVENT`s with
/// `DTSTART;VALUE=DATE:YYYYMMDD`, optional `DTEND`/`DURATION` for several days) or plain text (one
/// `YYYY-MM-DD` per line, `#` starts a comment, the comment names the holiday).
pub fn parse_holidays(text: &str) -> Result<Vec<Holiday>, HolidaysError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    if first.is_some_and(|l| l.eq_ignore_ascii_case("BEGIN:VCALENDAR")) {
        parse_ics(text)
    } else {
        parse_plain(text)
    }
}

fn parse_plain(text: &str) -> Result<Vec<Holiday>, HolidaysError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let (content, comment) = match line.split_once('#') {
            Some((c, comment)) => (c.trim(), Some(comment.trim())),
            None => (line.trim(), None),
        };
        if content.is_empty() {
            continue;
        }
        let date = parse_date(content).ok_or_else(|| HolidaysError {
            line: i + 1,
            message: format!(
                "`{content}` is not a date: write one YYYY-MM-DD per line (# starts a comment)"
            ),
        })?;
        out.push(Holiday {
            date,
            name: comment.filter(|c| !c.is_empty()).map(str::to_string),
        });
    }
    Ok(out)
}

/// One VEVENT being read.
#[derive(Default)]
struct IcsEvent {
    /// Line of its `BEGIN:VEVENT`, for "no DTSTART" errors.
    line: usize,
    start: Option<NaiveDate>,
    /// DTEND: exclusive, with its line.
    end: Option<(NaiveDate, usize)>,
    /// DURATION in days, with its line.
    days: Option<(i64, usize)>,
    summary: Option<String>,
    cancelled: bool,
}

fn parse_ics(text: &str) -> Result<Vec<Holiday>, HolidaysError> {
    // Unfold continuation lines (RFC 5545 §3.1), keeping each logical line's first line number.
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match (raw.strip_prefix([' ', '\t']), lines.last_mut()) {
            (Some(rest), Some((_, last))) => last.push_str(rest),
            _ => lines.push((i + 1, raw.to_string())),
        }
    }
    let err = |line: usize, message: String| HolidaysError { line, message };
    let mut out = Vec::new();
    let mut event: Option<IcsEvent> = None;
    for (line, content) in lines {
        if content.trim().is_empty() {
            continue;
        }
        let Some((head, value)) = content.split_once(':') else {
            if event.is_some() {
                return Err(err(
                    line,
                    format!("`{content}` is not an iCalendar line (NAME:VALUE)"),
                ));
            }
            continue;
        };
        let mut parts = head.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_uppercase();
        let params: Vec<String> = parts.map(|p| p.trim().to_ascii_uppercase()).collect();
        let value = value.trim();
        match name.as_str() {
            "BEGIN" if value.eq_ignore_ascii_case("VEVENT") => {
                if let Some(open) = &event {
                    return Err(err(
                        line,
                        format!(
                            "BEGIN:VEVENT inside the event begun at line {} (missing END:VEVENT?)",
                            open.line
                        ),
                    ));
                }
                event = Some(IcsEvent {
                    line,
                    ..IcsEvent::default()
                });
            }
            "END" if value.eq_ignore_ascii_case("VEVENT") => {
                let Some(ev) = event.take() else {
                    return Err(err(line, "END:VEVENT without BEGIN:VEVENT".to_string()));
                };
                out.extend(ics_event_days(ev)?);
            }
            _ => {
                let Some(ev) = event.as_mut() else { continue };
                match name.as_str() {
                    "DTSTART" => ev.start = Some(ics_date(value, &params, "DTSTART", line)?),
                    "DTEND" => ev.end = Some((ics_date(value, &params, "DTEND", line)?, line)),
                    "DURATION" => ev.days = Some((ics_duration_days(value, line)?, line)),
                    "SUMMARY" => ev.summary = Some(ics_unescape(value)),
                    "STATUS" => ev.cancelled = value.eq_ignore_ascii_case("CANCELLED"),
                    "RRULE" | "RDATE" | "EXDATE" => {
                        return Err(err(
                            line,
                            format!(
                                "{name}: repeating events are not supported; list each holiday as \
                                 its own all-day event (or use a plain file, one YYYY-MM-DD per line)"
                            ),
                        ));
                    }
                    _ => {}
                }
            }
        }
    }
    if let Some(ev) = event {
        return Err(err(
            ev.line,
            "this event has no END:VEVENT: is the file cut short?".to_string(),
        ));
    }
    Ok(out)
}

/// The days of one finished event (none when cancelled).
fn ics_event_days(ev: IcsEvent) -> Result<Vec<Holiday>, HolidaysError> {
    let Some(start) = ev.start else {
        return Err(HolidaysError {
            line: ev.line,
            message: "this event has no DTSTART".to_string(),
        });
    };
    if ev.cancelled {
        return Ok(Vec::new());
    }
    let (days, line) = match (ev.end, ev.days) {
        (Some((end, line)), _) => ((end - start).num_days(), line),
        (None, Some((days, line))) => (days, line),
        (None, None) => (1, ev.line),
    };
    if days < 1 {
        return Err(HolidaysError {
            line,
            message: "the event ends before it starts (DTEND is exclusive: a one-day holiday on \
                      20251225 ends 20251226)"
                .to_string(),
        });
    }
    if days > MAX_EVENT_DAYS {
        return Err(HolidaysError {
            line,
            message: format!(
                "the event lasts {days} days: over {MAX_EVENT_DAYS} days looks like a mistake; \
                 split it or list the days one by one"
            ),
        });
    }
    Ok((0..days)
        .filter_map(|k| start.checked_add_signed(Duration::days(k)))
        .map(|date| Holiday {
            date,
            name: ev.summary.clone(),
        })
        .collect())
}

/// A `DTSTART`/`DTEND` value that must be an all-day date.
fn ics_date(
    value: &str,
    params: &[String],
    name: &str,
    line: usize,
) -> Result<NaiveDate, HolidaysError> {
    let fail = |message: String| HolidaysError { line, message };
    if value.contains('T') || params.iter().any(|p| p == "VALUE=DATE-TIME") {
        return Err(fail(format!(
            "{name} `{value}` has a time of day: a holidays file lists all-day events \
             ({name};VALUE=DATE:YYYYMMDD)"
        )));
    }
    let date = (value.len() == 8 && value.bytes().all(|b| b.is_ascii_digit()))
        .then(|| parse_date(&format!("{}-{}-{}", &value[..4], &value[4..6], &value[6..])))
        .flatten();
    date.ok_or_else(|| fail(format!("{name} `{value}` is not a date (YYYYMMDD)")))
}

/// A DURATION of whole days or weeks (`P1D`, `P2W`).
fn ics_duration_days(value: &str, line: usize) -> Result<i64, HolidaysError> {
    let v = value.trim_start_matches('+');
    let parsed = v.strip_prefix('P').and_then(|rest| {
        let (n, unit) = rest.split_at(rest.len().checked_sub(1)?);
        let n: i64 = n.parse().ok()?;
        match unit {
            "D" => Some(n),
            "W" => n.checked_mul(7),
            _ => None,
        }
    });
    parsed.ok_or_else(|| HolidaysError {
        line,
        message: format!(
            "DURATION `{value}` is not a whole number of days (P1D) or weeks (P1W), as an all-day \
             event needs"
        ),
    })
}

/// Undoes iCalendar TEXT escaping (`\,` `\;` `\\` `\n`).
fn ics_unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push(' '),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_holidays_file_reads_dates_and_comment_names() {
        let text = "# company holidays\n\n2025-12-25  # Christmas Day\n2025-12-26\n";
        let h = parse_holidays(text).expect("parses");
        assert_eq!(h.len(), 2);
        assert_eq!(
            h[0].date,
            NaiveDate::from_ymd_opt(2025, 12, 25).expect("date")
        );
        assert_eq!(h[0].name.as_deref(), Some("Christmas Day"));
        assert_eq!(h[1].name, None);
    }

    #[test]
    fn a_plain_holidays_file_error_names_the_line() {
        let err = parse_holidays("2025-12-25\n# x\n25/12/2025\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("25/12/2025"), "{err}");
    }

    const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\n\
        DTSTART;VALUE=DATE:20251225\r\nSUMMARY:Christmas\r\n  Day\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20251231\r\nDTEND;VALUE=DATE:20260102\r\n\
        SUMMARY:Year end\\, closed\r\nEND:VEVENT\r\n\
        BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20250704\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n\
        END:VCALENDAR\r\n";

    #[test]
    fn an_ics_file_reads_all_day_events_and_multi_day_ranges() {
        let h = parse_holidays(ICS).expect("parses");
        let dates: Vec<String> = h.iter().map(|h| h.date.to_string()).collect();
        assert_eq!(dates, ["2025-12-25", "2025-12-31", "2026-01-01"]);
        assert_eq!(h[0].name.as_deref(), Some("Christmas Day"));
        assert_eq!(h[1].name.as_deref(), Some("Year end, closed"));
    }

    #[test]
    fn an_ics_timed_event_is_refused_with_its_line() {
        let text = ICS.replace("DTSTART;VALUE=DATE:20251225", "DTSTART:20251225T090000Z");
        let err = parse_holidays(&text).unwrap_err();
        assert_eq!(err.line, 5);
        assert!(err.message.contains("all-day"), "{err}");
    }

    #[test]
    fn an_ics_repeating_event_is_refused_rather_than_half_read() {
        let text = ICS.replace("UID:1", "RRULE:FREQ=YEARLY");
        let err = parse_holidays(&text).unwrap_err();
        assert_eq!(err.line, 4);
        assert!(err.message.contains("RRULE"), "{err}");
    }

    #[test]
    fn an_ics_event_without_end_or_start_is_refused() {
        let cut = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20251225\n";
        assert_eq!(parse_holidays(cut).unwrap_err().line, 2);
        let no_start = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR\n";
        let err = parse_holidays(no_start).unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("DTSTART"), "{err}");
        let backwards = ICS.replace("DTEND;VALUE=DATE:20260102", "DTEND;VALUE=DATE:20251230");
        assert_eq!(parse_holidays(&backwards).unwrap_err().line, 11);
    }

    #[test]
    fn an_ics_duration_in_days_or_weeks_is_read() {
        let text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20250801\nDURATION:P2D\n\
                    END:VEVENT\nEND:VCALENDAR\n";
        assert_eq!(parse_holidays(text).map(|h| h.len()), Ok(2));
        let bad = text.replace("P2D", "PT4H");
        assert_eq!(parse_holidays(&bad).unwrap_err().line, 4);
    }
}
