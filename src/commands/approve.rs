//! `pslwarden approve`: records a person's approval of exactly one plan (by its digest), minus
//! the fixes of users they left out, for an apply in the next window (`mode = "approved"`).
//!
//! Owns: finding the plan (`--plan FILE` or `--latest`: the plan.json of the org's newest scan
//! report), narrowing it to whole fixes, the expiry, who approved, the confirmation text and the
//! answer printed.
//!
//! Must not: connect to the org or change it. The apply that carries the approval out signs in,
//! refuses a plan of another org and re-checks every fact, as for any plan.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};

use super::CommandError;
use super::apply::Prompt;
use crate::approval::{ApprovalId, NewApproval, narrow_plan, plan_counts};
use crate::config::{OrgSettings, Settings};
use crate::plan::Plan;
use crate::state::StateStore;

/// How long an approval holds when `--expires` is not given.
pub const DEFAULT_EXPIRY_DAYS: i64 = 7;

/// What the person asked of `approve`.
#[derive(Debug, Clone, Default)]
pub struct ApproveOptions {
    /// The plan file (`scan --plan-out`, or a report folder's plan.json).
    pub plan: Option<PathBuf>,
    /// Take the plan of the org's newest scan report instead.
    pub latest: bool,
    /// Leave out these users' fixes (whole fixes).
    pub exclude: Vec<String>,
    /// Approve only these users' fixes (whole fixes).
    pub only: Vec<String>,
    /// How long the approval holds (default 7 days).
    pub expires: Option<Duration>,
    /// Who approves (default: the OS user).
    pub by: Option<String>,
    /// No confirmation (scripts).
    pub yes: bool,
}

/// What `approve` recorded.
#[derive(Debug)]
pub struct ApproveOutcome {
    pub id: ApprovalId,
    /// The text printed: what was approved, until when, and when the window next opens.
    pub text: String,
}

/// Parses `--expires`: a whole number with `m` (minutes), `h` (hours), `d` (days) or `w` (weeks).
pub fn parse_expiry(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let n: i64 = number
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{text}` is not a duration: write e.g. 12h, 7d or 2w"))?;
    match unit {
        "m" => Ok(Duration::minutes(n)),
        "h" => Ok(Duration::hours(n)),
        "d" => Ok(Duration::days(n)),
        "w" => Ok(Duration::weeks(n)),
        _ => Err(format!(
            "`{text}`: the unit must be m (minutes), h (hours), d (days) or w (weeks)"
        )),
    }
}

/// Who runs this process, for `approved_by` when `--by` is not given.
pub fn os_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

/// The plan.json of the org's newest scan report folder under `reports_dir/<org>/`.
pub fn latest_plan_file(settings: &Settings, org: &str) -> Result<PathBuf, CommandError> {
    let dir = settings.reports_dir.join(org);
    let entries = std::fs::read_dir(&dir).map_err(|e| {
        CommandError::Usage(format!(
            "--latest: cannot read the report folder {} ({e}); run `pslwarden scan --org {org}` \
             first, or give --plan FILE",
            dir.display()
        ))
    })?;
    // Folder names are UTC timestamps (sortable); a folder of an apply alone has no plan.json.
    let mut folders: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("plan.json").is_file())
        .collect();
    folders.sort();
    folders.pop().map(|p| p.join("plan.json")).ok_or_else(|| {
        CommandError::Usage(format!(
            "--latest: no scan report with a plan.json under {}; run `pslwarden scan --org {org}` \
             first, or give --plan FILE",
            dir.display()
        ))
    })
}

/// ", worth USD ..." of the seats the plan frees, priced by `[org.prices]`; the plan names
/// licenses by id, so their names come from the `report.json` beside the plan file (a scan's
/// folder). Empty without prices or without that report: no money is guessed.
fn plan_worth(org: &OrgSettings, plan: &Plan, path: &Path) -> String {
    #[derive(serde::Deserialize)]
    struct Ledger {
        ledger: Vec<Row>,
    }
    #[derive(serde::Deserialize)]
    struct Row {
        psl: String,
        psl_id: String,
    }
    let Some(prices) = &org.prices else {
        return String::new();
    };
    let Some(report) = std::fs::read_to_string(path.with_file_name("report.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<Ledger>(&text).ok())
    else {
        return String::new();
    };
    let seats = crate::plan::seats_by_license(&plan.actions);
    let (monthly, unpriced) = prices.price_seats(seats.iter().map(|(id, n)| {
        let name = report
            .ledger
            .iter()
            .find(|row| &row.psl_id == id)
            .map(|row| row.psl.as_str());
        (name, *n)
    }));
    prices.worth_clause(monthly, unpriced)
}

/// Reads and checks a plan file (schema version, digest).
pub fn read_plan(path: &Path) -> Result<Plan, CommandError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CommandError::Usage(format!("cannot read the plan file {}: {e}", path.display()))
    })?;
    Plan::from_json(&text)
        .map_err(|e| CommandError::Usage(format!("the plan file {}: {e}", path.display())))
}

/// Records the approval.
pub fn run(
    settings: &Settings,
    org: &OrgSettings,
    options: &ApproveOptions,
    now: DateTime<Utc>,
    prompt: Option<Prompt<'_>>,
) -> Result<ApproveOutcome, CommandError> {
    let path = match (&options.plan, options.latest) {
        (Some(path), false) => path.clone(),
        (None, true) => latest_plan_file(settings, &org.name)?,
        _ => {
            return Err(CommandError::Usage(
                "approve needs exactly one of --plan FILE or --latest".into(),
            ));
        }
    };
    let plan = read_plan(&path)?;
    let narrowed = narrow_plan(&plan, &options.exclude, &options.only)
        .map_err(|e| CommandError::Usage(format!("{}: {e}", path.display())))?;
    if narrowed.actions.is_empty() {
        return Err(CommandError::Usage(format!(
            "nothing to approve: the plan {} has no fix{}",
            path.display(),
            if plan.actions.is_empty() {
                ""
            } else {
                " left after --exclude-user/--only-user"
            }
        )));
    }
    let expires_at = now
        + options
            .expires
            .unwrap_or_else(|| Duration::days(DEFAULT_EXPIRY_DAYS));
    let by = options.by.clone().unwrap_or_else(os_user);
    let (actions, users, seats) = plan_counts(&narrowed);
    let worth = plan_worth(org, &narrowed, &path);
    let mut listing = format!(
        "Approve for org `{}` ({}), plan {} (digest {}): {actions} action(s) for {users} \
         user(s), freeing {seats} seat(s){worth}:\n",
        org.name,
        narrowed.org_id,
        path.display(),
        short(&narrowed.digest)
    );
    for a in &narrowed.actions {
        listing.push_str(&format!("  - {}\n", a.description));
    }
    if !options.exclude.is_empty() {
        listing.push_str(&format!(
            "Left out (whole fixes): {}\n",
            options.exclude.join(", ")
        ));
    }
    // The store opens before anyone is asked: a locked or foreign store refuses first.
    let state = |e| CommandError::Apply(crate::apply::ApplyError::State(e));
    let mut store = StateStore::open(&settings.state_path).map_err(state)?;
    // The org's id as earlier runs signed in to it: a plan of another org is refused now, not
    // tonight (without earlier runs, the apply refuses it before changing anything).
    if let Some(known) = store.overview(Some(&org.name)).map_err(state)?.last()
        && known.run.org_id != narrowed.org_id
    {
        return Err(CommandError::Usage(format!(
            "the plan {} is for org id {}, but org `{}` is {} (from its runs in the state \
             store); approve a plan scanned from this org. Nothing was approved",
            path.display(),
            narrowed.org_id,
            org.name,
            known.run.org_id
        )));
    }
    if !options.yes {
        let Some(prompt) = prompt else {
            return Err(CommandError::Usage(
                "approve asks for confirmation at a terminal; there is none (pass --yes to \
                 approve from a script)"
                    .into(),
            ));
        };
        if !prompt(&listing).unwrap_or(false) {
            return Err(CommandError::Usage(
                "not confirmed at the terminal: nothing was approved".into(),
            ));
        }
    }
    let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let id = store
        .create_approval(&NewApproval {
            org: &org.name,
            plan: &narrowed,
            source: &path.display().to_string(),
            excluded: &options.exclude,
            approved_by: &by,
            approved_at: &stamp(now),
            expires_at: &stamp(expires_at),
        })
        .map_err(state)?;
    let window = super::window::run(org, now);
    let local = |t: DateTime<Utc>| {
        org.window
            .time_zone()
            .map(|tz| {
                t.with_timezone(&tz)
                    .format("%a %Y-%m-%d %H:%M %Z")
                    .to_string()
            })
            .unwrap_or_else(|| stamp(t))
    };
    let mut text = format!(
        "Approval {id} recorded by {by}: {actions} action(s) for {users} user(s), freeing \
         {seats} seat(s){worth}, from {}.\nExpires: {}\n",
        path.display(),
        local(expires_at)
    );
    let opens = if window.open {
        "the window is open now".to_string()
    } else {
        match window.next_open {
            Some(t) => format!("the window next opens {}", local(t)),
            None => format!("the window does not open: {}", window.summary),
        }
    };
    text.push_str(&format!(
        "Carried out by the next apply in the window (mode = \"approved\"); {opens}.\nRevoke \
         before it starts: pslwarden approvals revoke {id}\n"
    ));
    if org.mode != crate::config::Mode::Approved {
        text.push_str(&format!(
            "Note: org `{}` has mode = \"{}\"; set mode = \"approved\" for the daemon to carry \
             out approvals.\n",
            org.name,
            org.mode.as_str()
        ));
    }
    Ok(ApproveOutcome { id, text })
}

fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_durations_parse_and_bad_ones_say_how() {
        assert_eq!(parse_expiry("7d").unwrap(), Duration::days(7));
        assert_eq!(parse_expiry("12h").unwrap(), Duration::hours(12));
        assert_eq!(parse_expiry("2w").unwrap(), Duration::weeks(2));
        assert!(parse_expiry("0d").is_err());
        assert!(parse_expiry("7y").unwrap_err().contains("unit"));
        assert!(parse_expiry("soon").is_err());
    }
}
