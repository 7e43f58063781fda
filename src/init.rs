//! `pslwarden init`'s pure part: checks an admin's answers and renders them as a commented
//! `[[org]]` block, and appends that block to a config's text.
//!
//! Owns: which flows `init` offers (the unattended ones: JWT bearer, client credentials, and the
//! sf CLI session), the answers each needs, their checks (org name, URLs, time zone with the
//! IANA hint, days, times), and the block's wording.
//! Must not read or write files, ask questions, or hold a secret: every secret is written as
//! the name of an environment variable or a file path, never as its value. The command
//! (`commands::init`) does the I/O and re-checks the result with the real config loader.

use crate::salesforce::settings::is_shared_login_host;
use crate::window::{self, ClockTime};

/// The sign-in flows `init` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitFlow {
    Jwt,
    ClientCredentials,
    SfCli,
}

impl InitFlow {
    /// Parses the config's spelling (`jwt`, `client_credentials`, `sf_cli`).
    pub fn parse(text: &str) -> Result<InitFlow, String> {
        match text.trim() {
            "jwt" => Ok(InitFlow::Jwt),
            "client_credentials" => Ok(InitFlow::ClientCredentials),
            "sf_cli" => Ok(InitFlow::SfCli),
            other => Err(format!(
                "`{other}` is not a flow init writes: use jwt (unattended, recommended), \
                 client_credentials (My Domain, Run As user) or sf_cli (an existing \
                 `sf org login`); refresh_token and access_token are written by hand"
            )),
        }
    }

    fn name(self) -> &'static str {
        match self {
            InitFlow::Jwt => "jwt",
            InitFlow::ClientCredentials => "client_credentials",
            InitFlow::SfCli => "sf_cli",
        }
    }
}

/// Where a secret lives: its value never passes through `init`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretPlace {
    /// An environment variable holding it.
    Env(String),
    /// A file holding it (relative paths resolve against the config's folder).
    File(String),
}

/// One org's answers, as given (flags or prompts).
#[derive(Debug, Clone)]
pub struct InitAnswers {
    /// The org's name in the config (report folders, `--org`).
    pub org_name: String,
    pub flow: InitFlow,
    /// jwt and client_credentials: login server or My Domain URL.
    pub login_url: Option<String>,
    /// jwt: the integration user (`sub`).
    pub username: Option<String>,
    /// jwt: the consumer key (`iss`); client_credentials: the client id.
    pub client_id: Option<String>,
    /// sf_cli: the alias of the `sf org login`.
    pub target_org: Option<String>,
    /// jwt: the private key; client_credentials: the client secret. `None` for sf_cli.
    pub secret: Option<SecretPlace>,
    /// IANA zone of the window.
    pub time_zone: String,
    /// Days the window starts on.
    pub days: Vec<String>,
    /// Local window start and end, "HH:MM".
    pub window_start: String,
    pub window_end: String,
}

/// An answer that cannot be written, naming the flag it came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--{flag}: {message}")]
pub struct AnswerError {
    /// The command-line flag of the answer (also the prompt's topic).
    pub flag: &'static str,
    pub message: String,
}

fn bad(flag: &'static str, message: impl Into<String>) -> AnswerError {
    AnswerError {
        flag,
        message: message.into(),
    }
}

/// Checks the answers the block needs, so the block is right before anything is written.
pub fn check(a: &InitAnswers) -> Result<(), AnswerError> {
    let name = a.org_name.trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(bad(
            "org-name",
            format!(
                "`{name}` is not usable: use letters, digits, - and _ only (it becomes part of \
                 report paths)"
            ),
        ));
    }
    let need = |v: &Option<String>, flag: &'static str, what: &str| match v {
        Some(v) if !v.trim().is_empty() => Ok(()),
        _ => Err(bad(
            flag,
            format!("missing: {what}, needed by flow `{}`", a.flow.name()),
        )),
    };
    match a.flow {
        InitFlow::Jwt | InitFlow::ClientCredentials => {
            need(&a.login_url, "login-url", "the login or My Domain URL")?;
            let url = a.login_url.as_deref().unwrap_or_default().trim();
            if !url.starts_with("https://") {
                return Err(bad(
                    "login-url",
                    format!(
                        "`{url}` must be an https URL, e.g. https://login.salesforce.com, \
                         https://test.salesforce.com (sandbox) or https://<your-domain>.my.salesforce.com"
                    ),
                ));
            }
            need(
                &a.client_id,
                "client-id",
                "the connected app's consumer key",
            )?;
            if a.flow == InitFlow::Jwt {
                need(&a.username, "username", "the integration user's username")?;
            } else if is_shared_login_host(url) {
                return Err(bad(
                    "login-url",
                    format!(
                        "`{url}` is a shared login server and Salesforce refuses the client \
                         credentials flow there: use the org's My Domain URL \
                         (https://<your-domain>.my.salesforce.com, Setup > My Domain)"
                    ),
                ));
            }
            if a.secret.is_none() {
                let flags = if a.flow == InitFlow::Jwt {
                    "--key-file or --secret-env"
                } else {
                    "--secret-env or --secret-file"
                };
                return Err(bad(
                    "secret-env",
                    format!("missing: where the secret lives ({flags})"),
                ));
            }
            if let Some(SecretPlace::Env(var)) = &a.secret
                && !is_env_name(var)
            {
                return Err(bad(
                    "secret-env",
                    "give the NAME of an environment variable (letters, digits, _), never the \
                     secret itself",
                ));
            }
        }
        InitFlow::SfCli => {
            need(
                &a.target_org,
                "target-org",
                "the alias of an `sf org login`",
            )?;
        }
    }
    window::parse_time_zone(&a.time_zone).map_err(|m| bad("time-zone", m))?;
    if a.days.is_empty() {
        return Err(bad(
            "days",
            "give at least one day, e.g. mon,tue,wed,thu,fri",
        ));
    }
    for day in &a.days {
        if window::parse_weekday(day).is_none() {
            return Err(bad(
                "days",
                format!("`{day}` is not a day: use mon, tue, wed, thu, fri, sat or sun"),
            ));
        }
    }
    ClockTime::parse(&a.window_start).map_err(|m| bad("window-start", m))?;
    ClockTime::parse(&a.window_end).map_err(|m| bad("window-end", m))?;
    Ok(())
}

/// Whether `text` is a plausible environment variable name (and so not a pasted secret).
fn is_env_name(text: &str) -> bool {
    let t = text.trim();
    !t.is_empty()
        && t.len() <= 128
        && !t.starts_with(|c: char| c.is_ascii_digit())
        && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A TOML basic string of `text` (quotes and escapes as TOML needs).
fn quoted(text: &str) -> String {
    toml::Value::String(text.trim().to_string()).to_string()
}

/// The commented `[[org]]` block for checked answers.
pub fn render_block(a: &InitAnswers) -> String {
    let mut out = String::new();
    let mut line = |text: &str| {
        out.push_str(text);
        out.push('\n');
    };
    line(&format!(
        "# --- org `{}`: written by `pslwarden init`; edit freely ---",
        a.org_name.trim()
    ));
    line("[[org]]");
    line(&format!("name = {}", quoted(&a.org_name)));
    line("# \"dry-run\": scans only report; `apply` changes the org only after a person types");
    line("# \"yes\". Switch to \"apply\" once the dry runs look right (docs/setup.md).");
    line("mode = \"dry-run\"");
    line("");
    line("[org.auth]");
    line(&format!("flow = {}", quoted(a.flow.name())));
    let opt = |v: &Option<String>| quoted(v.as_deref().unwrap_or_default());
    match a.flow {
        InitFlow::Jwt => {
            line("# login.salesforce.com, test.salesforce.com (sandboxes) or the My Domain URL.");
            line(&format!("login_url = {}", opt(&a.login_url)));
            line("# The connected app's consumer key (the JWT `iss`).");
            line(&format!("consumer_key = {}", opt(&a.client_id)));
            line("# The integration user, pre-authorised for the connected app (the JWT `sub`).");
            line(&format!("username = {}", opt(&a.username)));
            line("# The PEM private key whose certificate is uploaded to the connected app.");
            match &a.secret {
                Some(SecretPlace::Env(var)) => {
                    line(&format!("private_key_env = {}", quoted(var)));
                }
                Some(SecretPlace::File(path)) => {
                    line("# (a relative path is read from this file's folder)");
                    line(&format!("private_key_file = {}", quoted(path)));
                }
                None => line("private_key_file = \"\""),
            }
        }
        InitFlow::ClientCredentials => {
            line("# The org's My Domain URL (this flow is refused on the shared login servers).");
            line(&format!("login_url = {}", opt(&a.login_url)));
            line("# The connected app's consumer key; its Run As user is who pslwarden acts as.");
            line(&format!("client_id = {}", opt(&a.client_id)));
            line("# The consumer secret, read from here at each run; never written in this file.");
            match &a.secret {
                Some(SecretPlace::File(path)) => {
                    line(&format!("client_secret_file = {}", quoted(path)));
                }
                Some(SecretPlace::Env(var)) => {
                    line(&format!("client_secret_env = {}", quoted(var)));
                }
                None => line("client_secret_env = \"\""),
            }
        }
        InitFlow::SfCli => {
            line("# The alias of an existing `sf org login`; pslwarden runs");
            line("# `sf org display --target-org <alias> --json` for its session. For unattended");
            line("# runs prefer jwt: this session ends when the CLI's login does.");
            line(&format!("target_org = {}", opt(&a.target_org)));
            line("# sf_path = \"/usr/local/bin/sf\"   # when `sf` is not on PATH");
        }
    }
    line("");
    line("# Off-hours window: pslwarden changes the org only inside it;");
    line(&format!(
        "# `pslwarden window --org {}` explains it at any instant.",
        a.org_name.trim()
    ));
    line("[org.window]");
    line(&format!("time_zone = {}", quoted(&a.time_zone)));
    let days: Vec<String> = a
        .days
        .iter()
        .map(|d| quoted(&d.trim().to_ascii_lowercase()))
        .collect();
    line("# Days the window STARTS on.");
    line(&format!("days = [{}]", days.join(", ")));
    line(&format!("start = {}", quoted(&a.window_start)));
    line(&format!("end = {}", quoted(&a.window_end)));
    let crosses = matches!(
        (ClockTime::parse(&a.window_start), ClockTime::parse(&a.window_end)),
        (Ok(s), Ok(e)) if e.minutes() <= s.minutes()
    );
    if crosses {
        line("# The window runs into the next day (end is not after start).");
        line("crosses_midnight = true");
    }
    out
}

/// The org names an existing config defines, from its raw TOML (`[[org]] name`).
pub fn existing_org_names(config_text: &str) -> Result<Vec<String>, String> {
    let value: toml::Table = toml::from_str(config_text).map_err(|e| e.to_string())?;
    Ok(value
        .get("org")
        .and_then(toml::Value::as_array)
        .map(|orgs| {
            orgs.iter()
                .filter_map(|o| o.get("name").and_then(toml::Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default())
}

/// `existing` with `block` appended after a blank line; every byte of `existing` is kept.
pub fn append_block(existing: &str, block: &str) -> String {
    let mut out = existing.to_string();
    if !out.is_empty() {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str(block);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers() -> InitAnswers {
        InitAnswers {
            org_name: "prod".into(),
            flow: InitFlow::Jwt,
            login_url: Some("https://login.salesforce.com".into()),
            username: Some("pslwarden@example.com".into()),
            client_id: Some("3MVG9abc".into()),
            target_org: None,
            secret: Some(SecretPlace::File("/etc/pslwarden/prod.key".into())),
            time_zone: "Europe/London".into(),
            days: vec!["mon".into(), "fri".into()],
            window_start: "22:00".into(),
            window_end: "05:00".into(),
        }
    }

    #[test]
    fn a_jwt_block_names_the_key_file_and_crosses_midnight() {
        let a = answers();
        check(&a).unwrap();
        let block = render_block(&a);
        assert!(
            block.contains("private_key_file = \"/etc/pslwarden/prod.key\""),
            "{block}"
        );
        assert!(block.contains("crosses_midnight = true"), "{block}");
        assert!(block.contains("days = [\"mon\", \"fri\"]"), "{block}");
    }

    #[test]
    fn a_pasted_secret_is_not_an_env_var_name() {
        let mut a = answers();
        a.secret = Some(SecretPlace::Env("abc/def+ghi==".into()));
        assert_eq!(check(&a).unwrap_err().flag, "secret-env");
    }

    #[test]
    fn appending_keeps_the_existing_bytes() {
        assert_eq!(append_block("a = 1", "[[org]]\n"), "a = 1\n\n[[org]]\n");
        assert_eq!(append_block("", "[[org]]\n"), "[[org]]\n");
    }
}
