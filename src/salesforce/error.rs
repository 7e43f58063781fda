//! Errors of the Salesforce client: what went wrong talking to an org, and what the admin can do.
//!
//! Owns: [`SfError`] and its parts, the mapping of Salesforce `errorCode` strings to
//! [`ApiErrorCode`], and the advice each error gives ([`SfError::hint`]; `Display` ends with it).
//! Must not carry a secret: every text here comes from non-secret settings, from request paths
//! (never query strings), or from server messages that `auth` scrubs of the secrets it holds.

use std::fmt;

use super::usage::ApiUsage;

/// Declares the Salesforce error codes pslwarden reacts to, with their wire spelling.
macro_rules! api_error_codes {
    ($($(#[$doc:meta])* $variant:ident => $wire:literal,)*) => {
        /// A Salesforce `errorCode` / `statusCode`. Codes pslwarden does not treat specially are
        /// kept verbatim in [`ApiErrorCode::Other`].
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum ApiErrorCode {
            $($(#[$doc])* $variant,)*
            /// Any other code, as Salesforce spelled it.
            Other(String),
        }

        impl ApiErrorCode {
            /// Maps the wire spelling to a code (unknown spellings are kept as `Other`).
            pub fn parse(code: &str) -> ApiErrorCode {
                match code {
                    $($wire => ApiErrorCode::$variant,)*
                    other => ApiErrorCode::Other(other.to_string()),
                }
            }

            /// The code as Salesforce spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(ApiErrorCode::$variant => $wire,)*
                    ApiErrorCode::Other(code) => code,
                }
            }
        }
    };
}

api_error_codes! {
    /// The access token expired or was revoked (HTTP 401).
    InvalidSessionId => "INVALID_SESSION_ID",
    /// The org's daily API request limit is used up (HTTP 403).
    RequestLimitExceeded => "REQUEST_LIMIT_EXCEEDED",
    /// The SOQL does not parse.
    MalformedQuery => "MALFORMED_QUERY",
    /// A field does not exist or is not visible to the user.
    InvalidField => "INVALID_FIELD",
    /// An object does not exist or is not visible to the user.
    InvalidType => "INVALID_TYPE",
    /// The resource does not exist (HTTP 404).
    NotFound => "NOT_FOUND",
    /// The record was already deleted.
    EntityIsDeleted => "ENTITY_IS_DELETED",
    /// Another transaction held a lock on the row; transient.
    UnableToLockRow => "UNABLE_TO_LOCK_ROW",
    /// The record already exists (e.g. a duplicate permission set assignment).
    DuplicateValue => "DUPLICATE_VALUE",
    /// Salesforce is unavailable (HTTP 503); transient.
    ServerUnavailable => "SERVER_UNAVAILABLE",
    /// The user may not do this.
    InsufficientAccess => "INSUFFICIENT_ACCESS_OR_READONLY",
    /// An id points at nothing the user can see.
    InvalidCrossReferenceKey => "INVALID_CROSS_REFERENCE_KEY",
    /// The id is not a well-formed record id.
    MalformedId => "MALFORMED_ID",
    /// API access is disabled for the org or the user.
    ApiDisabledForOrg => "API_DISABLED_FOR_ORG",
    /// No free seat of the license.
    LicenseLimitExceeded => "LICENSE_LIMIT_EXCEEDED",
    /// The record was valid but rolled back because another record of an all-or-none call failed.
    AllOrNoneRolledBack => "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    /// A composite subrequest was skipped because an earlier one failed.
    ProcessingHalted => "PROCESSING_HALTED",
}

impl fmt::Display for ApiErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which sign-in flow was in use (names errors and logs, never carries credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowKind {
    Jwt,
    ClientCredentials,
    RefreshToken,
    AccessToken,
    /// The session of an existing Salesforce CLI login (`sf org display`).
    SfCli,
}

impl fmt::Display for FlowKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FlowKind::Jwt => "JWT bearer",
            FlowKind::ClientCredentials => "client credentials",
            FlowKind::RefreshToken => "refresh token",
            FlowKind::AccessToken => "access token",
            FlowKind::SfCli => "sf CLI",
        })
    }
}

/// A sign-in that failed for a reason the admin has to fix (not a network blip).
#[derive(Debug, Clone)]
pub struct AuthError {
    /// The flow that failed, so the advice fits it.
    pub flow: FlowKind,
    /// The token endpoint's host (or the instance URL for a ready access token).
    pub login_url: String,
    /// What exactly went wrong.
    pub kind: AuthErrorKind,
}

/// The ways a sign-in fails.
#[derive(Debug, Clone)]
pub enum AuthErrorKind {
    /// The token endpoint refused: OAuth `error` (`invalid_grant`, `invalid_client`, ...) and
    /// Salesforce's `error_description`, scrubbed of any secret.
    Rejected { error: String, description: String },
    /// The configured private key cannot sign an RS256 assertion.
    BadPrivateKey { detail: String },
    /// The token endpoint answered 200 but not with a usable Salesforce token.
    BadTokenResponse { detail: String },
    /// A ready access token was rejected; it cannot be renewed.
    AccessTokenExpired,
    /// The `sf` program could not be started (not installed, not on PATH, not executable).
    SfCliMissing { program: String, detail: String },
    /// `sf org display` ran but gave no usable session: its error `name` (e.g.
    /// `NamedOrgNotFound`) and `message`, or what was wrong with its answer.
    SfCliFailed {
        target_org: String,
        name: String,
        message: String,
    },
}

impl AuthError {
    /// What to check, for this flow and (where Salesforce's description is a known one) this
    /// exact refusal.
    pub fn hint(&self) -> String {
        match &self.kind {
            AuthErrorKind::Rejected { error, description } => {
                let specific = specific_refusal_hint(error, description, &self.login_url);
                let general = flow_checklist(self.flow, &self.login_url);
                match specific {
                    Some(s) => format!("{s} Otherwise check: {general}"),
                    None => format!("Check: {general}"),
                }
            }
            AuthErrorKind::BadPrivateKey { .. } => "The private key must be the PEM RSA private \
                key (PKCS#8 `BEGIN PRIVATE KEY` or PKCS#1 `BEGIN RSA PRIVATE KEY`) whose \
                certificate is uploaded to the connected app; not the certificate, not the public \
                key, not an encrypted key."
                .to_string(),
            AuthErrorKind::BadTokenResponse { .. } => format!(
                "Check that {} is a Salesforce login URL (login.salesforce.com, \
                 test.salesforce.com or the org's My Domain) and that no proxy rewrites the answer.",
                self.login_url
            ),
            AuthErrorKind::AccessTokenExpired => "Get a new access token (for example with \
                `sf org display --json`) and update the configuration; for unattended runs switch \
                to the JWT bearer flow, which renews itself."
                .to_string(),
            AuthErrorKind::SfCliMissing { .. } => "Install the Salesforce CLI \
                (https://developer.salesforce.com/tools/salesforcecli) and check that `sf --version` \
                runs, or set `sf_path` in [org.auth] to the full path of the `sf` program."
                .to_string(),
            AuthErrorKind::SfCliFailed { target_org, .. } => format!(
                "Check `sf org list` for the alias, and sign in once with \
                 `sf org login web --alias {target_org}` (add `--instance-url \
                 https://test.salesforce.com` or the My Domain URL for a sandbox); then \
                 `sf org display --target-org {target_org}` must show the org as Connected."
            ),
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match &self.kind {
            AuthErrorKind::Rejected { error, description } if description.is_empty() => {
                format!("Salesforce refused it ({error})")
            }
            AuthErrorKind::Rejected { error, description } => {
                format!("Salesforce refused it ({error}: {description})")
            }
            AuthErrorKind::BadPrivateKey { detail } => {
                format!("the configured private key cannot sign the assertion ({detail})")
            }
            AuthErrorKind::BadTokenResponse { detail } => {
                format!("the token endpoint's answer was not a usable token ({detail})")
            }
            AuthErrorKind::AccessTokenExpired => {
                "the access token was rejected (expired or revoked) and a ready access token \
                 cannot be renewed"
                    .to_string()
            }
            AuthErrorKind::SfCliMissing { program, detail } => {
                format!("the Salesforce CLI program `{program}` could not be run ({detail})")
            }
            AuthErrorKind::SfCliFailed {
                target_org,
                name,
                message,
            } => format!(
                "`sf org display --target-org {target_org} --json` gave no session ({name}: \
                 {message})"
            ),
        };
        write!(
            f,
            "{} sign-in at {} failed: {what}. {}",
            self.flow,
            self.login_url,
            self.hint()
        )
    }
}

/// Advice for the refusals Salesforce words in a recognisable way.
fn specific_refusal_hint(error: &str, description: &str, login_url: &str) -> Option<String> {
    let d = description.to_ascii_lowercase();
    let hint = if d.contains("audience") {
        "The assertion's audience (aud) must be the login server of the org's kind: \
         https://login.salesforce.com for production orgs, https://test.salesforce.com for \
         sandboxes (never the My Domain or instance URL); pslwarden tried both unless \
         `audience` is set in [org.auth]: fix or remove that key."
            .to_string()
    } else if d.contains("not supported on this domain") {
        format!(
            "{login_url} does not take this grant: the client credentials flow works only on \
             the org's My Domain URL (https://<your-domain>.my.salesforce.com); set `login_url` \
             to it."
        )
    } else if d.contains("approved") {
        "The user has not approved the connected app: in its policies choose \"Admin approved \
         users are pre-authorized\" and add the user's profile or a permission set."
            .to_string()
    } else if d.contains("client credentials user") {
        "Set a Run As user for the client credentials flow in the connected app.".to_string()
    } else if d.contains("client credentials")
        || d.contains("client identifier")
        || error == "invalid_client"
    {
        "The client id (consumer key) or client secret is wrong; check them after any rotation \
         of the connected app's consumer secret."
            .to_string()
    } else if d.contains("expired") || d.contains("revoked") {
        "The refresh token is expired or revoked: authorise the connected app once more to get \
         a new one."
            .to_string()
    } else if d.contains("signature") || d.contains("assertion") {
        "The assertion did not verify: the certificate uploaded to the connected app must match \
         the configured private key."
            .to_string()
    } else if d.contains("locked") || d.contains("inactive") || d.contains("frozen") {
        "The integration user is locked, frozen or inactive.".to_string()
    } else {
        return None;
    };
    Some(hint)
}

/// The things to check for a refused sign-in, per flow.
fn flow_checklist(flow: FlowKind, login_url: &str) -> String {
    match flow {
        FlowKind::Jwt => "the consumer key (iss), the username (sub), that the certificate of \
            this private key is uploaded to the connected app, that the user is pre-authorised \
            for the app, and that the audience (aud) is the login server of the org's kind."
            .to_string(),
        FlowKind::ClientCredentials => format!(
            "the client id and secret, that the connected app enables the client credentials \
             flow with a Run As user, and that the login URL ({login_url}) is the org's My Domain \
             URL (this flow does not work on login.salesforce.com or test.salesforce.com)."
        ),
        FlowKind::RefreshToken => "the client id (and secret, if the connected app requires it), \
            and that the refresh token was not revoked or expired by the app's refresh token \
            policy; if it was, authorise once more to get a new one."
            .to_string(),
        FlowKind::AccessToken => "that the access token is current; get a new one and update the \
            configuration."
            .to_string(),
        FlowKind::SfCli => "that `sf org display` for the target org shows it as Connected; if \
            not, sign in again with `sf org login web`."
            .to_string(),
    }
}

/// How a request failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// No connection could be made (DNS, refused, TLS): the request was never sent.
    Connect,
    /// No answer within the request timeout.
    Timeout,
    /// The connection broke while sending or reading.
    Other,
}

/// A request that got no HTTP answer.
#[derive(Debug, Clone)]
pub struct TransportError {
    /// HTTP method, for the message.
    pub method: String,
    /// Request path without query string (no SOQL, nothing secret).
    pub endpoint: String,
    /// Host the request went to, so the admin knows which network path to check.
    pub host: String,
    /// Connect, timeout or broken connection: decides whether a write may be retried.
    pub kind: TransportKind,
    /// The underlying error chain, flattened.
    pub detail: String,
    /// Attempts made before giving up.
    pub attempts: u32,
}

impl TransportError {
    pub fn hint(&self) -> String {
        match self.kind {
            TransportKind::Connect => format!(
                "Check the network path to {} (DNS, proxy, firewall, TLS inspection) and that the \
                 URL in the configuration is right.",
                self.host
            ),
            TransportKind::Timeout => "Salesforce did not answer in time; the org may be slow or \
                busy. Try again later, or raise the request timeout in the configuration."
                .to_string(),
            TransportKind::Other => {
                let mut hint = "The connection broke mid-request; try again later.".to_string();
                if self.method != "GET" {
                    hint.push_str(UNKNOWN_WRITE_OUTCOME);
                }
                hint
            }
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TransportKind::Connect => "could not connect",
            TransportKind::Timeout => "timed out",
            TransportKind::Other => "lost the connection",
        };
        write!(
            f,
            "{} {} on {} {what}{}: {}. {}",
            self.method,
            self.endpoint,
            self.host,
            attempts_note(self.attempts),
            self.detail,
            self.hint()
        )
    }
}

/// Said of writes whose outcome cannot be known from the failed call.
const UNKNOWN_WRITE_OUTCOME: &str = " The change may or may not have been applied: re-read the \
    org before trying it again.";

/// An error answer from the Salesforce REST API.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP method, for the message.
    pub method: String,
    /// Request path without query string.
    pub endpoint: String,
    /// HTTP status of the answer.
    pub status: u16,
    /// Salesforce's `errorCode` (or one derived from the status when the body had none).
    pub code: ApiErrorCode,
    /// Salesforce's `message`.
    pub message: String,
    /// Fields Salesforce blamed, if any.
    pub fields: Vec<String>,
    /// Attempts made before giving up.
    pub attempts: u32,
    /// API usage as of this answer, shown when the limit is the problem.
    pub usage: Option<ApiUsage>,
    /// The wait the server asked for in `Retry-After`, if it sent a readable one: the retry
    /// loop waits that long instead of its own backoff, or gives up when it is too long.
    pub retry_after: Option<std::time::Duration>,
}

impl ApiError {
    pub fn new(
        method: &str,
        endpoint: &str,
        status: u16,
        code: ApiErrorCode,
        message: String,
    ) -> Self {
        ApiError {
            method: method.to_string(),
            endpoint: endpoint.to_string(),
            status,
            code,
            message,
            fields: Vec::new(),
            attempts: 1,
            usage: None,
            retry_after: None,
        }
    }

    pub fn hint(&self) -> String {
        use ApiErrorCode as C;
        match &self.code {
            C::InvalidSessionId => "The session was rejected even right after signing in again: \
                check that the integration user is active and that the connected app's session \
                policies (IP restrictions, \"lock sessions to the IP address\") allow this host."
                .to_string(),
            C::RequestLimitExceeded => "The org's 24-hour API request allowance is used up, so \
                pslwarden stopped at once instead of retrying. Wait until usage drops (Setup > \
                System Overview shows it), run less often, or ask Salesforce for a higher limit."
                .to_string(),
            C::MalformedQuery | C::InvalidField | C::InvalidType => "The query names a field or \
                object this org does not have at this API version, or the integration user \
                cannot see it: check the API version in the configuration and the user's object \
                and field permissions."
                .to_string(),
            C::NotFound => "The resource does not exist at this API version or URL: check the \
                API version in the configuration."
                .to_string(),
            C::EntityIsDeleted => "The record was already deleted; nothing left to do.".to_string(),
            C::UnableToLockRow => "Other work in the org kept the record locked through every \
                retry; run again later, ideally off-hours."
                .to_string(),
            C::DuplicateValue => "The record already exists (for example the user already holds \
                this permission set); nothing to add."
                .to_string(),
            C::InsufficientAccess => "The integration user lacks a permission this needs (for \
                assignments: \"Assign Permission Sets\" and \"Manage Users\"; for reading setup: \
                \"View Setup and Configuration\")."
                .to_string(),
            C::ApiDisabledForOrg => "API access is off for this org or user: the user needs the \
                \"API Enabled\" permission and an edition with API access."
                .to_string(),
            C::LicenseLimitExceeded => "No free seat of the required license is left.".to_string(),
            C::InvalidCrossReferenceKey | C::MalformedId => "An id in the request points at no \
                record the integration user can see; the org changed since it was read."
                .to_string(),
            _ if self.status >= 500 || self.code == C::ServerUnavailable => {
                let mut hint = "Salesforce is unavailable or overloaded; check \
                    status.salesforce.com and try again later."
                    .to_string();
                if self.method != "GET" {
                    hint.push_str(UNKNOWN_WRITE_OUTCOME);
                }
                hint
            }
            _ => "See Salesforce's message above.".to_string(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Salesforce answered {} {} with HTTP {} {}{}: {}",
            self.method,
            self.endpoint,
            self.status,
            self.code,
            attempts_note(self.attempts),
            self.message
        )?;
        if !self.fields.is_empty() {
            write!(f, " (fields: {})", self.fields.join(", "))?;
        }
        if let (ApiErrorCode::RequestLimitExceeded, Some(usage)) = (&self.code, self.usage) {
            write!(f, " ({usage})")?;
        }
        write!(f, ". {}", self.hint())
    }
}

/// Why a 2xx body could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MalformedKind {
    /// Not JSON at all (truncated, HTML, garbage): often transient, so reads retry it.
    Syntax,
    /// JSON, but not the shape Salesforce documents (or the caller's row type expects).
    Shape,
    /// Larger than the configured response size limit (or endless): never retried, as a
    /// runaway answer would only run away again.
    TooLarge,
}

/// A successful status with a body that could not be used.
#[derive(Debug, Clone)]
pub struct MalformedResponse {
    /// HTTP method, for the message.
    pub method: String,
    /// Request path without query string.
    pub endpoint: String,
    /// HTTP status of the answer.
    pub status: u16,
    /// Broken JSON or unexpected shape.
    pub kind: MalformedKind,
    /// The parser's complaint (position, missing field).
    pub detail: String,
    /// Attempts made before giving up.
    pub attempts: u32,
}

impl MalformedResponse {
    pub fn hint(&self) -> String {
        match self.kind {
            MalformedKind::Syntax => "If this repeats, something between pslwarden and Salesforce \
                (a proxy, a captive portal) may be rewriting answers; check the network path."
                .to_string(),
            MalformedKind::Shape => "The answer does not match what this API version documents: \
                check the API version in the configuration, and that the query selects the \
                fields pslwarden reads."
                .to_string(),
            MalformedKind::TooLarge => "No Salesforce answer pslwarden asks for comes near this \
                size: check that the URL points at Salesforce and that no proxy streams something \
                else; if the answer is genuine, raise `http.max_response_mib` in the \
                configuration."
                .to_string(),
        }
    }
}

impl fmt::Display for MalformedResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            MalformedKind::Syntax => "was not valid JSON",
            MalformedKind::Shape => "did not have the expected shape",
            MalformedKind::TooLarge => "was too large",
        };
        write!(
            f,
            "the server's answer to {} {} {what}{}: {}. {}",
            self.method,
            self.endpoint,
            attempts_note(self.attempts),
            self.detail,
            self.hint()
        )
    }
}

/// Which collection operation a [`SfError::BatchInterrupted`] belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOperation {
    Create,
    Delete,
    Update,
}

/// Everything the Salesforce client can fail with. `Display` says what went wrong and ends with
/// what to do; [`SfError::hint`] gives the advice alone.
#[derive(Debug, thiserror::Error)]
pub enum SfError {
    /// Signing in failed for a reason the admin must fix.
    #[error("{0}")]
    Auth(Box<AuthError>),
    /// No HTTP answer (connection, timeout), after the retries the request allowed.
    #[error("{0}")]
    Transport(Box<TransportError>),
    /// Salesforce answered with an error.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// Salesforce answered 2xx with an unusable body.
    #[error("{0}")]
    MalformedResponse(Box<MalformedResponse>),
    /// A create or delete over several calls stopped part-way. `outcomes` is in input order:
    /// `Some` for records whose outcome is known, `None` for records not sent or whose call
    /// failed without an answer.
    #[error("{}", batch_interrupted_message(*operation, outcomes, source))]
    BatchInterrupted {
        operation: BatchOperation,
        outcomes: Vec<Option<super::collections::RecordOutcome>>,
        source: Box<SfError>,
    },
    /// The connection settings cannot work (bad URL, bad API version).
    #[error("invalid Salesforce connection settings: {0}")]
    Settings(String),
    /// pslwarden asked for something the API cannot do (a bug in the caller, not the org).
    #[error("pslwarden built an invalid Salesforce request: {0}. This is a bug; please report it.")]
    InvalidRequest(String),
}

fn batch_interrupted_message(
    operation: BatchOperation,
    outcomes: &[Option<super::collections::RecordOutcome>],
    source: &SfError,
) -> String {
    let known = outcomes.iter().filter(|o| o.is_some()).count();
    let verb = match operation {
        BatchOperation::Create => "creating",
        BatchOperation::Delete => "deleting",
        BatchOperation::Update => "updating",
    };
    format!(
        "{verb} records stopped with {known} of {} outcomes known: {source}",
        outcomes.len()
    )
}

impl SfError {
    /// What the admin should do about it.
    pub fn hint(&self) -> String {
        match self {
            SfError::Auth(e) => e.hint(),
            SfError::Transport(e) => e.hint(),
            SfError::Api(e) => e.hint(),
            SfError::MalformedResponse(e) => e.hint(),
            SfError::BatchInterrupted { source, .. } => source.hint(),
            SfError::Settings(_) => {
                "Fix the org's connection settings in the configuration.".to_string()
            }
            SfError::InvalidRequest(_) => "This is a bug in pslwarden; please report it with the \
                message above."
                .to_string(),
        }
    }

    /// The Salesforce error code, looking through an interrupted batch to its cause.
    pub fn api_code(&self) -> Option<&ApiErrorCode> {
        match self {
            SfError::Api(e) => Some(&e.code),
            SfError::BatchInterrupted { source, .. } => source.api_code(),
            _ => None,
        }
    }

    /// True when the org is out of API requests: callers must stop all work on this org.
    pub fn is_request_limit(&self) -> bool {
        self.api_code() == Some(&ApiErrorCode::RequestLimitExceeded)
    }

    /// True for a failure that may pass by itself (network, 5xx, row lock, broken body), so a
    /// later run may succeed where this one gave up.
    pub fn is_transient(&self) -> bool {
        match self {
            SfError::Transport(_) => true,
            SfError::Api(e) => {
                e.status >= 500
                    || matches!(
                        e.code,
                        ApiErrorCode::UnableToLockRow | ApiErrorCode::ServerUnavailable
                    )
            }
            SfError::MalformedResponse(e) => e.kind == MalformedKind::Syntax,
            SfError::BatchInterrupted { source, .. } => source.is_transient(),
            _ => false,
        }
    }

    pub(crate) fn is_invalid_session(&self) -> bool {
        matches!(self, SfError::Api(e) if e.code == ApiErrorCode::InvalidSessionId)
    }

    /// Records how many attempts were made, for the message.
    pub(crate) fn with_attempts(mut self, attempts: u32) -> SfError {
        match &mut self {
            SfError::Transport(e) => e.attempts = attempts,
            SfError::Api(e) => e.attempts = attempts,
            SfError::MalformedResponse(e) => e.attempts = attempts,
            _ => {}
        }
        self
    }
}

impl From<AuthError> for SfError {
    fn from(e: AuthError) -> Self {
        SfError::Auth(Box::new(e))
    }
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_survive() {
        for code in [
            "UNABLE_TO_LOCK_ROW",
            "REQUEST_LIMIT_EXCEEDED",
            "ENTITY_IS_DELETED",
        ] {
            assert_eq!(ApiErrorCode::parse(code).as_str(), code);
        }
        assert_eq!(
            ApiErrorCode::parse("FIELD_CUSTOM_VALIDATION_EXCEPTION"),
            ApiErrorCode::Other("FIELD_CUSTOM_VALIDATION_EXCEPTION".into())
        );
    }

    #[test]
    fn request_limit_message_says_it_stopped_and_shows_usage() {
        let mut e = ApiError::new(
            "GET",
            "/services/data/v65.0/query",
            403,
            ApiErrorCode::RequestLimitExceeded,
            "TotalRequests Limit exceeded.".into(),
        );
        e.usage = Some(ApiUsage {
            used: 15000,
            max: 15000,
        });
        let text = SfError::Api(Box::new(e)).to_string();
        assert!(text.contains("REQUEST_LIMIT_EXCEEDED"), "{text}");
        assert!(text.contains("stopped at once"), "{text}");
        assert!(text.contains("15000 of 15000"), "{text}");
    }

    #[test]
    fn malformed_body_names_the_endpoint() {
        let e = MalformedResponse {
            method: "GET".into(),
            endpoint: "/services/data/v65.0/query".into(),
            status: 200,
            kind: MalformedKind::Syntax,
            detail: "EOF while parsing an object at line 1 column 40".into(),
            attempts: 5,
        };
        let text = e.to_string();
        assert!(
            text.starts_with(
                "the server's answer to GET /services/data/v65.0/query was not valid JSON (after 5 attempts): EOF"
            ),
            "{text}"
        );
    }

    #[test]
    fn jwt_refusal_names_flow_url_and_what_to_check() {
        let e = AuthError {
            flow: FlowKind::Jwt,
            login_url: "https://login.salesforce.com".into(),
            kind: AuthErrorKind::Rejected {
                error: "invalid_grant".into(),
                description: "audience is invalid".into(),
            },
        };
        let text = e.to_string();
        assert!(
            text.starts_with("JWT bearer sign-in at https://login.salesforce.com failed"),
            "{text}"
        );
        assert!(text.contains("audience is invalid"), "{text}");
        assert!(
            text.contains("audience (aud) must be the login server"),
            "{text}"
        );
        assert!(text.contains("certificate"), "{text}");
    }

    #[test]
    fn client_credentials_refusal_points_at_the_secret() {
        let e = AuthError {
            flow: FlowKind::ClientCredentials,
            login_url: "https://acme.my.salesforce.com".into(),
            kind: AuthErrorKind::Rejected {
                error: "invalid_client".into(),
                description: "invalid client credentials".into(),
            },
        };
        assert!(
            e.hint()
                .contains("client id (consumer key) or client secret is wrong")
        );
    }

    #[test]
    fn server_error_on_a_write_warns_the_outcome_is_unknown() {
        let write = ApiError::new(
            "POST",
            "/c",
            503,
            ApiErrorCode::ServerUnavailable,
            "down".into(),
        );
        let read = ApiError::new(
            "GET",
            "/q",
            503,
            ApiErrorCode::ServerUnavailable,
            "down".into(),
        );
        assert!(write.hint().contains("may or may not have been applied"));
        assert!(!read.hint().contains("may or may not"));
    }

    #[test]
    fn request_limit_is_seen_through_an_interrupted_batch() {
        let limit = SfError::Api(Box::new(ApiError::new(
            "DELETE",
            "/services/data/v65.0/composite/sobjects",
            403,
            ApiErrorCode::RequestLimitExceeded,
            "TotalRequests Limit exceeded.".into(),
        )));
        let batch = SfError::BatchInterrupted {
            operation: BatchOperation::Delete,
            outcomes: vec![None; 3],
            source: Box::new(limit),
        };
        assert!(batch.is_request_limit());
        assert!(
            batch
                .to_string()
                .starts_with("deleting records stopped with 0 of 3 outcomes known")
        );
    }
}
