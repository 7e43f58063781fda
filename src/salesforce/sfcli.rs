//! The `sf_cli` flow's source of sessions: runs `sf org display --target-org <alias> --json`
//! and takes the access token and instance URL of the admin's existing `sf org login`.
//!
//! Owns: starting the `sf` program (stdin closed, a time limit, output read with a size cap),
//! the JSON shape of its answer (`{"status":0,"result":{"accessToken","instanceUrl",...}}` on
//! success, `{"status":1,"name","message"}` on failure; see the sf CLI's `org display` reference
//! and sfdx-core's `NamedOrgNotFound`), and turning both into a session or a typed failure.
//! Must not decide when to run again (the client renews on `INVALID_SESSION_ID`), and must never
//! put the token, or any of the program's output that may hold it, into an error or a log line.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::secret::Secret;

/// How long `sf org display` may take: it starts Node.js and may refresh its own token over
/// the network, which takes seconds, never minutes.
const RUN_TIME_LIMIT: Duration = Duration::from_secs(120);

/// What a successful `sf org display` yields.
pub(crate) struct CliSession {
    /// The CLI's current access token for the org.
    pub access_token: Secret,
    /// The org's instance URL, as the CLI stored it at login.
    pub instance_url: String,
}

/// Why no session came out of the CLI.
#[derive(Debug)]
pub(crate) enum CliFailure {
    /// The program could not be started (`detail` says why: not found, not executable).
    Missing { detail: String },
    /// It ran and answered with an error, or an unusable answer: the CLI's error `name` and
    /// `message` (never output that may contain the token).
    Failed { name: String, message: String },
}

/// The answer of `sf ... --json` (wire type: the CLI's JSON, kept apart from [`CliSession`]).
/// No `Debug`: `result.accessToken` is a secret until it is moved into a [`Secret`].
#[derive(Deserialize)]
struct DisplayAnswer {
    /// 0 on success, non-zero on failure.
    status: Option<i64>,
    result: Option<DisplayResult>,
    /// Failure only: the error class, e.g. `NamedOrgNotFound`, `NoOrgFound`.
    name: Option<String>,
    /// Failure only: the CLI's explanation.
    message: Option<String>,
}

/// `result` of `sf org display --json`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DisplayResult {
    access_token: Option<String>,
    instance_url: Option<String>,
    /// "Connected", or why the CLI could not reach the org (e.g. an expired refresh token).
    connected_status: Option<String>,
}

/// Runs `<program> org display --target-org <target_org> --json` and reads its session.
/// Blocking: call it from a blocking task.
pub(crate) fn display(
    program: &Path,
    target_org: &str,
    max_output_bytes: u64,
) -> Result<CliSession, CliFailure> {
    let mut child = Command::new(program)
        .args(["org", "display", "--target-org", target_org, "--json"])
        // Newer CLIs print `--json` errors to stdout only when asked; older ones always did.
        .env("SF_JSON_TO_STDOUT", "true")
        .env("SFDX_JSON_TO_STDOUT", "true")
        // No prompt can ever be answered by an unattended run.
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| CliFailure::Missing {
            detail: match e.kind() {
                std::io::ErrorKind::NotFound => {
                    "not found: it is not installed or not on PATH".to_string()
                }
                std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                _ => e.to_string(),
            },
        })?;
    let readers = [
        child.stdout.take().map(|s| reader(s, max_output_bytes)),
        child.stderr.take().map(|s| reader(s, max_output_bytes)),
    ];
    let deadline = Instant::now() + RUN_TIME_LIMIT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let [stdout, stderr] = readers.map(|r| r.and_then(|h| h.join().ok()).unwrap_or_default());
    let Some(status) = status else {
        return Err(CliFailure::Failed {
            name: "Timeout".to_string(),
            message: format!(
                "it did not finish within {} s and was stopped",
                RUN_TIME_LIMIT.as_secs()
            ),
        });
    };
    // The JSON answer is on stdout (or on stderr for CLIs that print errors there).
    let answer = [&stdout, &stderr]
        .into_iter()
        .find_map(|out| serde_json::from_slice::<DisplayAnswer>(trim_to_json(out)).ok());
    let Some(answer) = answer else {
        return Err(CliFailure::Failed {
            name: "UnreadableAnswer".to_string(),
            message: format!(
                "it exited with {status} without a JSON answer on stdout or stderr; run \
                 `sf org display --target-org {target_org} --json` by hand to see why"
            ),
        });
    };
    session_from(answer, status.success())
}

/// The session in a parsed answer, or the CLI's own error.
fn session_from(answer: DisplayAnswer, exited_ok: bool) -> Result<CliSession, CliFailure> {
    let failed = answer.status.is_some_and(|s| s != 0) || !exited_ok;
    let result = match answer.result {
        Some(result) if !failed => result,
        _ => {
            return Err(CliFailure::Failed {
                name: answer.name.unwrap_or_else(|| "Error".to_string()),
                message: answer
                    .message
                    .unwrap_or_else(|| "no message".to_string())
                    .trim()
                    .to_string(),
            });
        }
    };
    if let Some(state) = result.connected_status.as_deref()
        && state != "Connected"
    {
        // Not fatal: the status is the CLI's own probe, the API call that follows decides.
        tracing::debug!(
            connected_status = state,
            "sf org display: the org is not Connected"
        );
    }
    let access_token = result
        .access_token
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| CliFailure::Failed {
            name: "NoAccessToken".to_string(),
            message: "the answer has no result.accessToken (this sf version may hide it)"
                .to_string(),
        })?;
    let instance_url = result
        .instance_url
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| CliFailure::Failed {
            name: "NoInstanceUrl".to_string(),
            message: "the answer has no result.instanceUrl".to_string(),
        })?;
    Ok(CliSession {
        access_token: Secret::new(access_token.trim().to_string()),
        instance_url: instance_url.trim().to_string(),
    })
}

/// Reads a pipe to its end on a thread, keeping at most `limit` bytes (the rest is drained so
/// the program never blocks on a full pipe).
fn reader<R: Read + Send + 'static>(mut pipe: R, limit: u64) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let _ = (&mut pipe).take(limit).read_to_end(&mut kept);
        let _ = std::io::copy(&mut pipe, &mut std::io::sink());
        kept
    })
}

/// The output from its first `{` on: some CLI versions print a warning line before the JSON.
fn trim_to_json(out: &[u8]) -> &[u8] {
    out.iter()
        .position(|&b| b == b'{')
        .map_or(out, |start| &out[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str, ok: bool) -> Result<CliSession, CliFailure> {
        session_from(serde_json::from_str(json).unwrap(), ok)
    }

    #[test]
    fn a_connected_org_yields_its_token_and_instance_url() {
        let s = parse(
            r#"{"status":0,"result":{"id":"00Dx","accessToken":"00Dx!AQ.tok",
               "instanceUrl":"https://acme.my.salesforce.com","username":"a@b",
               "connectedStatus":"Connected"},"warnings":["This command will expose..."]}"#,
            true,
        )
        .ok()
        .unwrap();
        assert_eq!(s.access_token.expose(), "00Dx!AQ.tok");
        assert_eq!(s.instance_url, "https://acme.my.salesforce.com");
    }

    #[test]
    fn an_unknown_alias_is_the_clis_own_error() {
        let err = parse(
            r#"{"status":1,"name":"NamedOrgNotFound","message":"No authorization information found for prod.","exitCode":1}"#,
            false,
        )
        .err()
        .unwrap();
        assert!(matches!(err, CliFailure::Failed { ref name, ref message }
            if name == "NamedOrgNotFound" && message.contains("prod")));
    }

    #[test]
    fn a_hidden_token_is_a_clear_failure() {
        let err = parse(
            r#"{"status":0,"result":{"instanceUrl":"https://acme.my.salesforce.com"}}"#,
            true,
        )
        .err()
        .unwrap();
        assert!(matches!(err, CliFailure::Failed { ref name, .. } if name == "NoAccessToken"));
    }

    #[test]
    fn a_warning_line_before_the_json_is_skipped() {
        assert_eq!(trim_to_json(b"Warning: update\n{\"a\":1}"), b"{\"a\":1}");
    }
}
