//! Time zone names in the config: which the tz database names pslwarden accepts, and what to
//! write instead of the ones it refuses.
//!
//! Owns: [`parse_time_zone`] and its hints (typos, abbreviations, fixed offsets, legacy names).
//!
//! Must not: read files or the clock; it checks text only.

use chrono_tz::Tz;

/// Parses an IANA time zone name ("Europe/London"). The error says what to write, and names the
/// closest known zone when the name looks like a typo.
///
/// Only a geographic `Area/Location` name (`Europe/London`, `America/Argentina/Buenos_Aires`) or
/// `UTC` / `Etc/UTC` is accepted. The tz database also answers to abbreviations and fixed
/// offsets (`EST`, `CET`, `HST`, `EST5EDT`, `Etc/GMT+5`, `GMT`) and to legacy country names
/// (`US/Eastern`, `GB`, `Japan`), but an admin who writes `EST` means New York and would lose
/// daylight saving time, `Etc/GMT+5` is five hours *behind* UTC (POSIX signs, the tz database's
/// `etcetera` file warns), and the legacy names live in its `backward` file only for old
/// software. UTC stays: it is what an org that keeps no local clock means, and it has no
/// daylight saving time to miss.
pub fn parse_time_zone(name: &str) -> Result<Tz, String> {
    let name = name.trim();
    if let Ok(tz) = name.parse::<Tz>() {
        if is_geographic_or_utc(name) {
            return Ok(tz);
        }
        return Err(not_a_place(name));
    }
    let lower = name.to_ascii_lowercase();
    let closest = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| {
            (
                edit_distance(&lower, &tz.name().to_ascii_lowercase()),
                tz.name(),
            )
        })
        .min()
        .filter(|(d, _)| *d <= 3);
    let hint = match closest {
        Some((_, known)) => format!(" (did you mean \"{known}\"?)"),
        None => String::new(),
    };
    Err(format!(
        "unknown time zone `{name}`{hint}: use an IANA tz database name such as \"Europe/London\", \
         \"America/New_York\" or \"Australia/Sydney\" (not an abbreviation like EST or a fixed \
         offset, which would ignore daylight saving time)"
    ))
}

/// The tz database's continent and ocean areas: a name under one of them follows the rules of a
/// real place, daylight saving time included.
const AREAS: [&str; 10] = [
    "Africa/",
    "America/",
    "Antarctica/",
    "Arctic/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
];

fn is_geographic_or_utc(name: &str) -> bool {
    name == "UTC" || name == "Etc/UTC" || AREAS.iter().any(|a| name.starts_with(a))
}

/// The refusal of a name the tz database knows but that names no place (an abbreviation, a fixed
/// offset, a legacy country name), with the place names the admin most likely meant.
fn not_a_place(name: &str) -> String {
    let upper = name.to_ascii_uppercase();
    let suggest: &str = match upper.as_str() {
        "EST" | "EDT" | "EST5EDT" | "US/EASTERN" | "US/MICHIGAN" | "US/EAST-INDIANA" => {
            "\"America/New_York\" (or \"America/Toronto\", \"America/Detroit\")"
        }
        "CST" | "CDT" | "CST6CDT" | "US/CENTRAL" | "US/INDIANA-STARKE" => {
            "\"America/Chicago\" (or \"America/Winnipeg\", \"America/Mexico_City\")"
        }
        "MST" | "MDT" | "MST7MDT" | "US/MOUNTAIN" | "NAVAJO" => {
            "\"America/Denver\" (or \"America/Phoenix\", which keeps no daylight saving time)"
        }
        "PST" | "PDT" | "PST8PDT" | "US/PACIFIC" => {
            "\"America/Los_Angeles\" (or \"America/Vancouver\")"
        }
        "HST" | "US/HAWAII" => "\"Pacific/Honolulu\"",
        "AKST" | "US/ALASKA" => "\"America/Anchorage\"",
        "CET" | "CEST" | "MET" => "\"Europe/Paris\", \"Europe/Berlin\" or \"Europe/Madrid\"",
        "EET" => "\"Europe/Athens\", \"Europe/Helsinki\" or \"Africa/Cairo\"",
        "WET" | "PORTUGAL" => "\"Europe/Lisbon\"",
        "GMT" | "BST" | "GB" | "GB-EIRE" | "GREENWICH" | "ETC/GMT" | "ETC/GREENWICH" | "GMT0"
        | "GMT+0" | "GMT-0" | "ETC/GMT0" | "ETC/GMT+0" | "ETC/GMT-0" => {
            "\"Europe/London\" (GMT in winter, BST in summer), or \"UTC\" for no daylight saving time"
        }
        "UCT" | "ETC/UCT" | "UNIVERSAL" | "ETC/UNIVERSAL" | "ZULU" | "ETC/ZULU" => "\"UTC\"",
        "EIRE" => "\"Europe/Dublin\"",
        "JAPAN" => "\"Asia/Tokyo\"",
        "NZ" => "\"Pacific/Auckland\"",
        "SINGAPORE" => "\"Asia/Singapore\"",
        "HONGKONG" => "\"Asia/Hong_Kong\"",
        "PRC" => "\"Asia/Shanghai\"",
        _ => {
            "the `Area/City` name of the place whose clock the org keeps, e.g. \"America/New_York\", \
              \"Europe/Paris\" or \"Australia/Sydney\""
        }
    };
    let what = if upper.starts_with("ETC/GMT") {
        " is a fixed offset with the sign reversed (Etc/GMT+5 is five hours BEHIND UTC) and no \
         daylight saving time"
    } else if name.contains('/') || name.chars().any(|c| c.is_ascii_lowercase()) {
        " is a legacy alias kept only for old software"
    } else {
        " is an abbreviation or a fixed offset: it ignores daylight saving time (and \"EST\" in \
         summer is an hour off New York)"
    };
    format!(
        "time zone `{name}`{what}. Use the IANA name of a place: {suggest}. Only \"UTC\" (or \
         \"Etc/UTC\") is accepted outside the Africa/, America/, Antarctica/, Arctic/, Asia/, \
         Atlantic/, Australia/, Europe/, Indian/ and Pacific/ names"
    )
}

/// Levenshtein distance, for typo hints on short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_are_iana_names_with_a_hint_for_typos() {
        assert_eq!(
            parse_time_zone("Europe/London"),
            Ok(chrono_tz::Europe::London)
        );
        let err = parse_time_zone("Europe/Londn").unwrap_err();
        assert!(err.contains("did you mean \"Europe/London\""), "{err}");
        let err = parse_time_zone("Mars/Olympus").unwrap_err();
        assert!(err.contains("unknown time zone `Mars/Olympus`"), "{err}");
        assert!(!err.contains("did you mean"), "{err}");
    }

    #[test]
    fn abbreviations_offsets_and_legacy_names_are_refused_with_the_place_to_use() {
        for (name, hint) in [
            ("EST", "America/New_York"),
            ("CET", "Europe/Paris"),
            ("HST", "Pacific/Honolulu"),
            ("EST5EDT", "America/New_York"),
            ("Etc/GMT+5", "BEHIND"),
            ("US/Eastern", "America/New_York"),
            ("GMT", "Europe/London"),
            ("Japan", "Asia/Tokyo"),
            ("Etc/Zulu", "\"UTC\""),
            ("Canada/Eastern", "Area/City"),
        ] {
            let err = parse_time_zone(name).expect_err(name);
            assert!(err.contains(hint), "{name}: {err}");
            assert!(err.contains(&format!("`{name}`")), "{err}");
        }
        for name in [
            "UTC",
            "Etc/UTC",
            "America/Argentina/Buenos_Aires",
            "Asia/Kolkata",
        ] {
            assert!(parse_time_zone(name).is_ok(), "{name}");
        }
    }
}
