//! `pslwarden init`: gathers one org's answers (flags, else questions at a terminal), appends
//! the commented `[[org]]` block to a new or existing config, and proves the result loads.
//!
//! Owns: the defaults of the answers, which question is asked for which missing answer, the
//! duplicate-name refusal, and the write (temp file then rename, every existing byte kept).
//! Must not write a secret (an inline secret is refused; only env var names and file paths are
//! written), nor change anything when any check fails, nor connect to an org.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::config::Settings;
use crate::init::{self, InitAnswers, InitFlow, SecretPlace};

/// The answers as flags; `None` means "ask at a terminal, else use the default or fail".
#[derive(Debug, Default, Clone)]
pub struct InitArgs {
    pub org_name: Option<String>,
    pub flow: Option<String>,
    pub login_url: Option<String>,
    pub username: Option<String>,
    pub client_id: Option<String>,
    pub target_org: Option<String>,
    pub secret_env: Option<String>,
    pub secret_file: Option<String>,
    pub key_file: Option<String>,
    /// A secret given inline: only ever refused.
    pub secret: Option<String>,
    pub time_zone: Option<String>,
    /// Comma-separated days, e.g. `mon,tue,wed,thu,fri`.
    pub days: Option<String>,
    pub window_start: Option<String>,
    pub window_end: Option<String>,
    /// Write without asking for confirmation (needed when not at a terminal).
    pub yes: bool,
}

/// Asks one question at the terminal: the question, its default; returns the answer line.
pub type Ask<'a> = &'a dyn Fn(&str, Option<&str>) -> std::io::Result<String>;

/// What `init` did.
#[derive(Debug)]
pub struct InitOutcome {
    /// The config written.
    pub path: PathBuf,
    /// Whether the file was created (else appended to).
    pub created: bool,
    /// The org's name, for the next-step hint.
    pub org_name: String,
    /// The block appended.
    pub block: String,
}

impl InitOutcome {
    /// What to tell the admin.
    pub fn render(&self) -> String {
        let cfg = self.path.display();
        let name = &self.org_name;
        format!(
            "{} {cfg}: added org `{name}` (mode = \"dry-run\").\n\
             Next:\n  pslwarden --config {cfg} window --org {name}\n  \
             pslwarden --config {cfg} doctor --org {name}\n  \
             pslwarden --config {cfg} scan --org {name}\n",
            if self.created { "Created" } else { "Updated" }
        )
    }
}

/// Why `init` wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error("{0}. Nothing was written.")]
    Answer(#[from] init::AnswerError),
    #[error(
        "--secret: init never writes a secret into the config. Put it in an environment variable \
         (--secret-env NAME) or a file readable only by pslwarden's user (--secret-file PATH, or \
         --key-file PATH for the JWT private key). Nothing was written."
    )]
    InlineSecret,
    #[error("--{0}: missing, and there is no terminal to ask at; pass --{0}. Nothing was written.")]
    Missing(&'static str),
    #[error(
        "{path}: an org is already named `{name}`; choose another --org-name or edit that block. \
         Nothing was written."
    )]
    Duplicate { path: PathBuf, name: String },
    #[error(
        "{path} is not valid TOML ({message}); fix it first so init can append safely. Nothing \
         was written."
    )]
    Unparsable { path: PathBuf, message: String },
    #[error("the config with the new org does not load ({0}). Nothing was written.")]
    Check(String),
    #[error(
        "not at a terminal: pass --yes to write {0} without confirmation. Nothing was written."
    )]
    NeedsYes(PathBuf),
    #[error("not written: the answer was not \"yes\".")]
    Declined,
    #[error("{path}: {source}. Nothing was written.")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Runs `init` for `config` (created if absent). `ask` is `Some` at a terminal.
pub fn run(args: &InitArgs, config: &Path, ask: Option<Ask<'_>>) -> Result<InitOutcome, InitError> {
    if args.secret.is_some() {
        return Err(InitError::InlineSecret);
    }
    let io = |source| InitError::Io {
        path: config.to_path_buf(),
        source,
    };
    let existing = match std::fs::read_to_string(config) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(e)),
    };
    let names = match &existing {
        Some(text) => init::existing_org_names(text).map_err(|message| InitError::Unparsable {
            path: config.to_path_buf(),
            message: message.trim().replace('\n', " "),
        })?,
        None => Vec::new(),
    };
    let answers = gather(args, ask)?;
    if names.iter().any(|n| n == answers.org_name.trim()) {
        return Err(InitError::Duplicate {
            path: config.to_path_buf(),
            name: answers.org_name.trim().to_string(),
        });
    }
    init::check(&answers)?;
    let block = init::render_block(&answers);
    let text = init::append_block(existing.as_deref().unwrap_or_default(), &block);
    // The same loader every command uses: what init writes, doctor accepts.
    Settings::from_str(&text, config).map_err(|e| InitError::Check(e.to_string()))?;
    match ask {
        _ if args.yes => {}
        Some(ask) => {
            let question = format!("\n{block}\nWrite this to {}? (yes/no)", config.display());
            let answer = ask(&question, Some("no")).map_err(io)?;
            if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
                return Err(InitError::Declined);
            }
        }
        None => return Err(InitError::NeedsYes(config.to_path_buf())),
    }
    write_replacing(config, &text).map_err(io)?;
    Ok(InitOutcome {
        path: config.to_path_buf(),
        created: existing.is_none(),
        org_name: answers.org_name.trim().to_string(),
        block,
    })
}

/// The answers from flags, questions, and defaults (window Mon–Fri 22:00–05:00).
fn gather(args: &InitArgs, ask: Option<Ask<'_>>) -> Result<InitAnswers, InitError> {
    let get = |given: &Option<String>,
               flag: &'static str,
               question: &str,
               default: Option<&str>|
     -> Result<String, InitError> {
        if let Some(v) = given {
            return Ok(v.trim().to_string());
        }
        match ask {
            Some(ask) => {
                let answer = ask(question, default).map_err(|source| InitError::Io {
                    path: PathBuf::from("<terminal>"),
                    source,
                })?;
                let answer = answer.trim();
                Ok(if answer.is_empty() {
                    default.unwrap_or_default().to_string()
                } else {
                    answer.to_string()
                })
            }
            None => default.map(str::to_string).ok_or(InitError::Missing(flag)),
        }
    };
    let org_name = get(
        &args.org_name,
        "org-name",
        "Org name (letters, digits, - _)",
        None,
    )?;
    let flow_text = get(
        &args.flow,
        "flow",
        "Sign-in flow: jwt, client_credentials or sf_cli",
        Some("jwt"),
    )?;
    let flow = InitFlow::parse(&flow_text).map_err(|message| init::AnswerError {
        flag: "flow",
        message,
    })?;
    let (mut login_url, mut username, mut client_id, mut target_org, mut secret) =
        (None, None, None, None, None);
    match flow {
        InitFlow::Jwt | InitFlow::ClientCredentials => {
            let (question, default) = if flow == InitFlow::Jwt {
                (
                    "Login URL (https://login.salesforce.com; https://test.salesforce.com for a sandbox)",
                    Some("https://login.salesforce.com"),
                )
            } else {
                (
                    "My Domain URL (https://<your-domain>.my.salesforce.com)",
                    None,
                )
            };
            login_url = Some(get(&args.login_url, "login-url", question, default)?);
            client_id = Some(get(
                &args.client_id,
                "client-id",
                "Connected app consumer key",
                None,
            )?);
            if flow == InitFlow::Jwt {
                username = Some(get(
                    &args.username,
                    "username",
                    "Integration user's username",
                    None,
                )?);
            }
            secret = Some(secret_place(args, flow, ask)?);
        }
        InitFlow::SfCli => {
            target_org = Some(get(
                &args.target_org,
                "target-org",
                "Alias of the `sf org login` (see `sf org list`)",
                None,
            )?);
        }
    }
    let time_zone = get(
        &args.time_zone,
        "time-zone",
        "Time zone of the window (IANA, e.g. Europe/London)",
        None,
    )?;
    let days = get(
        &args.days,
        "days",
        "Days the window starts on",
        Some("mon,tue,wed,thu,fri"),
    )?;
    let window_start = get(
        &args.window_start,
        "window-start",
        "Window start, HH:MM",
        Some("22:00"),
    )?;
    let window_end = get(
        &args.window_end,
        "window-end",
        "Window end, HH:MM",
        Some("05:00"),
    )?;
    Ok(InitAnswers {
        org_name,
        flow,
        login_url,
        username,
        client_id,
        target_org,
        secret,
        time_zone,
        days: days
            .split([',', ' '])
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect(),
        window_start,
        window_end,
    })
}

/// Where the private key (jwt) or client secret (client_credentials) lives.
fn secret_place(
    args: &InitArgs,
    flow: InitFlow,
    ask: Option<Ask<'_>>,
) -> Result<SecretPlace, InitError> {
    let file = if flow == InitFlow::Jwt {
        args.key_file.as_ref().or(args.secret_file.as_ref())
    } else {
        args.secret_file.as_ref()
    };
    if let Some(path) = file {
        return Ok(SecretPlace::File(path.trim().to_string()));
    }
    if let Some(var) = &args.secret_env {
        return Ok(SecretPlace::Env(var.trim().to_string()));
    }
    let Some(ask) = ask else {
        return Err(InitError::Missing(if flow == InitFlow::Jwt {
            "key-file"
        } else {
            "secret-env"
        }));
    };
    let what = if flow == InitFlow::Jwt {
        "private key"
    } else {
        "client secret"
    };
    let answer = ask(
        &format!("Where the {what} lives: env:VARIABLE or file:PATH (never the secret itself)"),
        None,
    )
    .map_err(|source| InitError::Io {
        path: PathBuf::from("<terminal>"),
        source,
    })?;
    match answer.split_once(':') {
        Some(("env", var)) => Ok(SecretPlace::Env(var.trim().to_string())),
        Some(("file", path)) => Ok(SecretPlace::File(path.trim().to_string())),
        _ => Err(InitError::Answer(init::AnswerError {
            flag: "secret-env",
            message: "answer env:VARIABLE or file:PATH; the secret itself is never written"
                .to_string(),
        })),
    }
}

/// Writes `text` to `path` through a temp file in the same folder and a rename, so a crash
/// leaves the old config or the new one, never half of one; keeps the old file's permissions.
fn write_replacing(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pslwarden.toml".to_string());
    let tmp = dir.join(format!(".{file_name}.init-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
