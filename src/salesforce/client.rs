//! The Salesforce REST client: one signed-in connection to one org, cheap to clone.
//!
//! Owns: the token cache and its renewal on `INVALID_SESSION_ID` (once per request), the request
//! loop (retries with backoff per [`RetryMode`]), mapping of HTTP answers to [`SfError`], API-usage
//! tracking from `Sforce-Limit-Info`, the call counter, and the small read endpoints (versions,
//! limits, identity, raw JSON). Queries, collections and composite live in sibling modules on top
//! of [`Client::execute`].
//! Must not know anything about licenses or decide what to change in an org, and must never log
//! or return a token: requests are logged by method, path (no query string) and status only.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use backon::Retryable;
use std::sync::{Arc, Mutex, MutexGuard};

use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::auth::{self, Authenticator};
use super::error::{
    ApiError, ApiErrorCode, AuthErrorKind, FlowKind, MalformedKind, MalformedResponse, SfError,
    TransportError,
};
use super::retry::{self, RetryMode, Wait};
use super::settings::{ConnectionSettings, RetryPolicy, is_safe_for_secrets};
use super::usage::{self, ApiUsage};
use super::wire;
use crate::secret::Secret;

/// Who the client is signed in as, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// 18-character organization id.
    pub org_id: String,
    /// 18-character id of the integration user.
    pub user_id: String,
    /// The instance URL REST calls go to (no trailing slash).
    pub instance_url: String,
}

/// One API version the org offers (`GET /services/data/`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiVersion {
    /// e.g. `"65.0"`.
    pub version: String,
    /// Release name, e.g. `"Winter '26"`.
    pub label: String,
    /// Path of the version's root, e.g. `/services/data/v65.0`.
    pub url: String,
}

/// The org's daily API allowance (`GET /limits/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Requests allowed per rolling 24 hours.
    pub daily_api_max: u64,
    /// Requests left in the window.
    pub daily_api_remaining: u64,
}

/// A signed-in Salesforce REST client for one org. Clones share the token, counters and usage.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    /// REST API version without the `v`.
    api_version: String,
    /// Retry policy for every request and sign-in.
    retry: RetryPolicy,
    /// Largest response body read; more is an error, never more memory.
    max_response_bytes: u64,
    /// Shared HTTP client: connection pool, timeout, redirects off (a redirect would carry the
    /// bearer token somewhere unplanned).
    http: reqwest::Client,
    /// Obtains tokens for the configured flow.
    auth: Authenticator,
    /// The current token. A tokio mutex because signing in happens while holding it, so
    /// concurrent requests that all see a 401 sign in once, not once each.
    session: tokio::sync::Mutex<Option<Arc<Session>>>,
    /// Who the token belongs to, learned at sign-in; read synchronously by `token_identity`.
    identity: Mutex<Option<Identity>>,
    /// Latest `Sforce-Limit-Info` usage seen.
    usage: Mutex<Option<ApiUsage>>,
    /// REST requests sent (token requests excluded: they do not count against API limits).
    calls: AtomicU64,
    /// Tokens obtained (first sign-in and every renewal).
    sign_ins: AtomicU64,
}

/// A token in use. `generation` tells a request whether the token it saw rejected is still
/// the current one, or another request already renewed it.
struct Session {
    access_token: Secret,
    instance_url: Url,
    generation: u64,
}

/// One REST request, described once and sent as many times as its retry mode allows.
#[derive(Debug, Clone)]
pub(crate) struct ApiRequest {
    pub method: Method,
    /// Absolute path from the instance root; may carry a query string (`nextRecordsUrl`).
    pub path: String,
    /// Query parameters, URL-encoded when sent.
    pub query: Vec<(&'static str, String)>,
    /// Extra headers (e.g. `Sforce-Query-Options`).
    pub headers: Vec<(&'static str, String)>,
    /// Serialized JSON body.
    pub body: Option<Vec<u8>>,
    /// What may be retried.
    pub retry: RetryMode,
}

impl ApiRequest {
    pub fn new(method: Method, path: String, retry: RetryMode) -> Self {
        ApiRequest {
            method,
            path,
            query: Vec::new(),
            headers: Vec::new(),
            body: None,
            retry,
        }
    }

    pub fn get(path: String) -> Self {
        ApiRequest::new(Method::GET, path, RetryMode::Safe)
    }

    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn json(mut self, body: &impl Serialize) -> Result<Self, SfError> {
        let bytes = serde_json::to_vec(body).map_err(|e| {
            SfError::InvalidRequest(format!("request body cannot be serialized: {e}"))
        })?;
        self.body = Some(bytes);
        Ok(self)
    }

    /// The path without query string, for messages and logs.
    fn endpoint(&self) -> &str {
        self.path.split('?').next().unwrap_or(&self.path)
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("flow", &self.inner.auth.kind())
            .field("login_url", &self.inner.auth.login_url())
            .field("api_version", &self.inner.api_version)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Checks the settings and builds the client. No network: the first request (or
    /// [`Client::sign_in`]) signs in.
    pub fn new(settings: ConnectionSettings) -> Result<Client, SfError> {
        let api_version = settings
            .api_version
            .trim()
            .trim_start_matches(['v', 'V'])
            .to_string();
        if !is_api_version(&api_version) {
            return Err(SfError::Settings(format!(
                "API version {:?} is not of the form 65.0",
                settings.api_version
            )));
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.request_timeout)
            .connect_timeout(
                settings
                    .request_timeout
                    .min(std::time::Duration::from_secs(30)),
            )
            .user_agent(concat!("pslwarden/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                SfError::Settings(format!("cannot set up HTTPS: {}", auth::error_chain(&e)))
            })?;
        let auth = Authenticator::new(
            &settings.auth,
            http.clone(),
            settings.retry.clone(),
            settings.max_response_bytes,
        )?;
        Ok(Client {
            inner: Arc::new(Inner {
                api_version,
                retry: settings.retry,
                max_response_bytes: settings.max_response_bytes,
                http,
                auth,
                session: tokio::sync::Mutex::new(None),
                identity: Mutex::new(None),
                usage: Mutex::new(None),
                calls: AtomicU64::new(0),
                sign_ins: AtomicU64::new(0),
            }),
        })
    }

    /// Signs in now (replacing any cached token) and learns who the token belongs to. For a ready
    /// access token, which has no identity URL of its own, this reads the version's resource list
    /// (`GET /services/data/vNN.N/`), which proves the token works and names its `identity`.
    pub async fn sign_in(&self) -> Result<(), SfError> {
        let session = {
            let mut slot = self.inner.session.lock().await;
            self.sign_in_locked(&mut slot).await?
        };
        if lock(&self.inner.identity).is_none() {
            let resources: serde_json::Map<String, serde_json::Value> =
                self.execute(&ApiRequest::get(self.data_path(""))).await?;
            let identity = resources
                .get("identity")
                .and_then(serde_json::Value::as_str)
                .and_then(|id| identity_from_id_url(id, &session.instance_url));
            *lock(&self.inner.identity) = identity;
        }
        Ok(())
    }

    /// Who the client is signed in as; known after [`Client::sign_in`].
    pub fn token_identity(&self) -> Result<Identity, SfError> {
        if let Some(identity) = lock(&self.inner.identity).clone() {
            return Ok(identity);
        }
        if self.sign_ins() == 0 {
            return Err(SfError::InvalidRequest(
                "token_identity() was asked before sign_in()".to_string(),
            ));
        }
        Err(SfError::MalformedResponse(Box::new(MalformedResponse {
            method: "GET".to_string(),
            endpoint: self.data_path(""),
            status: 200,
            kind: MalformedKind::Shape,
            detail: "it names no `identity` URL, so the token's user and org are unknown"
                .to_string(),
            attempts: 1,
        })))
    }

    /// The API versions the org offers.
    pub async fn versions(&self) -> Result<Vec<ApiVersion>, SfError> {
        let entries: Vec<wire::VersionEntry> = self
            .execute(&ApiRequest::get("/services/data/".to_string()))
            .await?;
        Ok(entries
            .into_iter()
            .map(|e| ApiVersion {
                version: e.version,
                label: e.label,
                url: e.url,
            })
            .collect())
    }

    /// The org's daily API allowance and what is left of it.
    pub async fn limits(&self) -> Result<Limits, SfError> {
        let limits: wire::LimitsResponse = self
            .execute(&ApiRequest::get(self.data_path("limits")))
            .await?;
        Ok(Limits {
            daily_api_max: limits.daily_api_requests.max,
            daily_api_remaining: limits.daily_api_requests.remaining,
        })
    }

    /// GETs any JSON resource, with the usual retries. A path starting with `/` is taken from the
    /// instance root; otherwise it is relative to `/services/data/vNN.N/`.
    pub async fn get_json(&self, path: &str) -> Result<serde_json::Value, SfError> {
        self.execute(&ApiRequest::get(self.resolve_path(path)))
            .await
    }

    /// API usage as of the latest response, if Salesforce reported it.
    pub fn api_usage(&self) -> Option<ApiUsage> {
        *lock(&self.inner.usage)
    }

    /// REST requests this client (and its clones) sent, retries included; token requests are
    /// not counted, as Salesforce does not count them against the API limit.
    pub fn calls_made(&self) -> u64 {
        self.inner.calls.load(Ordering::Relaxed)
    }

    /// Tokens obtained so far (the first sign-in and every renewal).
    pub fn sign_ins(&self) -> u64 {
        self.inner.sign_ins.load(Ordering::Relaxed)
    }

    /// The REST API version in use, without the `v`.
    pub fn api_version(&self) -> &str {
        &self.inner.api_version
    }

    /// The sign-in flow in use.
    pub fn flow(&self) -> FlowKind {
        self.inner.auth.kind()
    }

    /// `/services/data/vNN.N/<rel>`.
    pub(crate) fn data_path(&self, rel: &str) -> String {
        format!(
            "/services/data/v{}/{}",
            self.inner.api_version,
            rel.trim_start_matches('/')
        )
    }

    /// A caller's path: absolute from the instance root, or relative to the version root.
    pub(crate) fn resolve_path(&self, path: &str) -> String {
        if path.starts_with('/') {
            path.to_string()
        } else {
            self.data_path(path)
        }
    }

    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// Sends `req` until it succeeds or fails for good, and parses the JSON answer.
    ///
    /// A 401 `INVALID_SESSION_ID` renews the token once and resends without using up an attempt
    /// (the request was refused before it did anything). Transient failures are retried per
    /// `req.retry` on the policy's backoff ([`retry::backoff`]), or after the wait Salesforce
    /// asked for in `Retry-After`; a wait longer than the policy's `max_delay` stops at once.
    pub(crate) async fn execute<T: DeserializeOwned>(
        &self,
        req: &ApiRequest,
    ) -> Result<T, SfError> {
        let policy = &self.inner.retry;
        // Sends of this request so far; a resend after a session renewal is not one more.
        let sent = &AtomicU32::new(0);
        let renewed = &AtomicBool::new(false);
        // The instance host of the latest attempt, for the line that says whose wait was too long.
        let host = &Mutex::new(String::new());
        let attempt = move || async move {
            let n = sent.fetch_add(1, Ordering::Relaxed) + 1;
            loop {
                let session = self.current_session().await.map_err(Failure::SignIn)?;
                *lock(host) = session
                    .instance_url
                    .host_str()
                    .unwrap_or_default()
                    .to_string();
                let outcome = match self.send_once(&session, req, n).await {
                    Ok((status, body)) => parse_json(req, status, &body),
                    Err(err) => Err(err),
                };
                match outcome {
                    Ok(value) => return Ok(value),
                    Err(err)
                        if err.is_invalid_session() && !renewed.swap(true, Ordering::Relaxed) =>
                    {
                        tracing::info!(path = req.endpoint(), "session expired; signing in again");
                        self.renew(session.generation)
                            .await
                            .map_err(Failure::SignIn)?;
                    }
                    Err(error) => {
                        let retry = retry::is_retryable(req.retry, &error);
                        return Err(Failure::Request { error, retry });
                    }
                }
            }
        };
        attempt
            .retry(retry::backoff(policy))
            .when(|f: &Failure| matches!(f, Failure::Request { retry: true, .. }))
            .adjust(|f: &Failure, proposed| {
                let wait = retry::next_wait(policy, proposed, f.asked_wait());
                if let Wait::TooLong { asked, cap } = wait {
                    tracing::warn!(method = %req.method, path = req.endpoint(),
                        "Salesforce at {} asked to wait {} before trying again (Retry-After), \
                         longer than the {} this retry policy allows ([org.http] max_delay_ms); \
                         not retrying",
                        lock(host), retry::seconds(asked), retry::seconds(cap));
                }
                wait.duration()
            })
            .notify(|f: &Failure, delay| {
                let error = f.error();
                let attempt = sent.load(Ordering::Relaxed);
                if f.asked_wait() == Some(delay) {
                    tracing::info!(method = %req.method, path = req.endpoint(), attempt, %error,
                        "Salesforce asked to wait {} (Retry-After); retrying then",
                        retry::seconds(delay));
                } else {
                    tracing::info!(method = %req.method, path = req.endpoint(), attempt, ?delay,
                        %error, "transient failure; retrying");
                }
            })
            .await
            .map_err(|f| match f {
                Failure::Request { error, .. } => error.with_attempts(sent.load(Ordering::Relaxed)),
                Failure::SignIn(error) => error,
            })
    }

    /// One HTTP exchange. Returns the body of a 2xx answer, or the mapped error.
    async fn send_once(
        &self,
        session: &Session,
        req: &ApiRequest,
        attempt: u32,
    ) -> Result<(u16, Vec<u8>), SfError> {
        let endpoint = req.endpoint();
        let mut url = session.instance_url.clone();
        url.set_path(endpoint);
        url.set_query(req.path.split_once('?').map(|(_, q)| q));
        if !req.query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in &req.query {
                pairs.append_pair(name, value);
            }
        }
        let host = url.host_str().unwrap_or_default().to_string();
        if !is_safe_for_secrets(&url) {
            // The token answer and the settings are checked already; this guards every send.
            return Err(SfError::Settings(format!(
                "refusing to send the access token over plain http to {host}: only https, or \
                 http to this machine (loopback), may carry it"
            )));
        }
        let transport = |e: reqwest::Error| {
            SfError::Transport(Box::new(TransportError {
                method: req.method.to_string(),
                endpoint: endpoint.to_string(),
                host: host.clone(),
                kind: auth::transport_kind(&e),
                detail: auth::error_chain(&e.without_url()),
                attempts: 1,
            }))
        };
        let mut builder = self
            .inner
            .http
            .request(req.method.clone(), url)
            .bearer_auth(session.access_token.expose())
            .header(ACCEPT, "application/json");
        for (name, value) in &req.headers {
            builder = builder.header(*name, value);
        }
        if let Some(body) = &req.body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        self.inner.calls.fetch_add(1, Ordering::Relaxed);
        let response = builder.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        if let Some(seen) = response
            .headers()
            .get(usage::LIMIT_INFO_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(usage::parse_limit_info)
        {
            *lock(&self.inner.usage) = Some(seen);
        }
        tracing::debug!(method = %req.method, path = endpoint, status, attempt, "Salesforce API call");
        let asked = retry::retry_after_header(response.headers());
        let limit = self.inner.max_response_bytes;
        let body = match read_body(response, limit).await {
            Ok(body) => body,
            Err(BodyError::Transport(e)) => return Err(transport(e)),
            Err(BodyError::TooLarge) => {
                return Err(too_large(req.method.as_str(), endpoint, status, limit));
            }
        };
        if (200..300).contains(&status) {
            Ok((status, body))
        } else {
            let mut err = self.api_error(req, status, &body);
            if let SfError::Api(api) = &mut err {
                api.retry_after = asked;
            }
            Err(err)
        }
    }

    /// Maps an error answer to [`SfError::Api`].
    fn api_error(&self, req: &ApiRequest, status: u16, body: &[u8]) -> SfError {
        let item = serde_json::from_slice::<wire::ApiErrorBody>(body)
            .ok()
            .and_then(wire::ApiErrorBody::first);
        let (code, message, fields) = match item {
            Some(item) => (
                item.error_code
                    .as_deref()
                    .map_or_else(|| code_for_status(status), ApiErrorCode::parse),
                item.message.unwrap_or_default(),
                item.fields.unwrap_or_default(),
            ),
            None => (code_for_status(status), excerpt(body), Vec::new()),
        };
        let mut err = ApiError::new(req.method.as_str(), req.endpoint(), status, code, message);
        err.fields = fields;
        if err.code == ApiErrorCode::RequestLimitExceeded {
            err.usage = self.api_usage();
        }
        SfError::Api(Box::new(err))
    }

    /// The cached session, signing in first if there is none.
    async fn current_session(&self) -> Result<Arc<Session>, SfError> {
        let mut slot = self.inner.session.lock().await;
        match slot.as_ref() {
            Some(session) => Ok(Arc::clone(session)),
            None => self.sign_in_locked(&mut slot).await,
        }
    }

    /// Replaces the session that was rejected, unless another request already did.
    async fn renew(&self, rejected_generation: u64) -> Result<Arc<Session>, SfError> {
        let mut slot = self.inner.session.lock().await;
        if let Some(current) = slot.as_ref()
            && current.generation != rejected_generation
        {
            return Ok(Arc::clone(current));
        }
        if self.inner.auth.kind() == FlowKind::AccessToken {
            return Err(self.inner.auth.error(AuthErrorKind::AccessTokenExpired));
        }
        self.sign_in_locked(&mut slot).await
    }

    async fn sign_in_locked(
        &self,
        slot: &mut Option<Arc<Session>>,
    ) -> Result<Arc<Session>, SfError> {
        let token = self.inner.auth.fetch().await?;
        let generation = self.inner.sign_ins.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(identity) = token
            .id_url
            .as_deref()
            .and_then(|id| identity_from_id_url(id, &token.instance_url))
        {
            *lock(&self.inner.identity) = Some(identity);
        }
        let session = Arc::new(Session {
            access_token: token.access_token,
            instance_url: token.instance_url,
            generation,
        });
        *slot = Some(Arc::clone(&session));
        Ok(session)
    }
}

/// Why one attempt of [`Client::execute`] failed, as its retry loop needs to know.
enum Failure {
    /// The request's own answer or transport error; `retry`: another attempt may help (per the
    /// request's [`RetryMode`]).
    Request { error: SfError, retry: bool },
    /// Signing in (or renewing) failed: the authenticator retried that itself, so this stops
    /// the loop at once and is returned as it is.
    SignIn(SfError),
}

impl Failure {
    fn error(&self) -> &SfError {
        match self {
            Failure::Request { error, .. } | Failure::SignIn(error) => error,
        }
    }

    fn asked_wait(&self) -> Option<std::time::Duration> {
        retry::asked_wait(self.error())
    }
}

/// Why a response body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The connection failed mid-body.
    Transport(reqwest::Error),
    /// The body is (or announced itself as) larger than the limit.
    TooLarge,
}

/// Reads a response body of at most `limit` bytes, chunk by chunk: an announced or actual excess
/// stops the read at once (the connection is dropped), so an endless answer costs at most
/// `limit` bytes of memory.
pub(crate) async fn read_body(
    mut response: reqwest::Response,
    limit: u64,
) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|announced| announced > limit)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The error for an answer over the size limit, naming the path and the limit.
pub(crate) fn too_large(method: &str, endpoint: &str, status: u16, limit: u64) -> SfError {
    SfError::MalformedResponse(Box::new(MalformedResponse {
        method: method.to_string(),
        endpoint: endpoint.to_string(),
        status,
        kind: MalformedKind::TooLarge,
        detail: format!(
            "it is larger than the response size limit of {}; pslwarden stopped reading it",
            byte_size(limit)
        ),
        attempts: 1,
    }))
}

/// `64 MiB`, `1.5 MiB`, `512 bytes`.
fn byte_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    } else {
        format!("{bytes} bytes")
    }
}

/// Locks a std mutex that only holds plain values; a panic elsewhere cannot leave them torn.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Parses a 2xx body; broken JSON and wrong shapes are told apart (only the first is retried).
fn parse_json<T: DeserializeOwned>(
    req: &ApiRequest,
    status: u16,
    body: &[u8],
) -> Result<T, SfError> {
    serde_json::from_slice(body).map_err(|e| {
        SfError::MalformedResponse(Box::new(MalformedResponse {
            method: req.method.to_string(),
            endpoint: req.endpoint().to_string(),
            status,
            kind: if e.is_data() {
                MalformedKind::Shape
            } else {
                MalformedKind::Syntax
            },
            detail: e.to_string(),
            attempts: 1,
        }))
    })
}

/// The code to assume when an error answer has no Salesforce error body.
fn code_for_status(status: u16) -> ApiErrorCode {
    match status {
        401 => ApiErrorCode::InvalidSessionId,
        404 => ApiErrorCode::NotFound,
        503 => ApiErrorCode::ServerUnavailable,
        other => ApiErrorCode::Other(format!("HTTP_{other}")),
    }
}

/// The start of a non-JSON error body, on one line, for the message.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() {
        return "no error details in the answer".to_string();
    }
    let mut cut: String = flat.chars().take(200).collect();
    if cut.len() < flat.len() {
        cut.push('…');
    }
    cut
}

fn is_api_version(v: &str) -> bool {
    match v.split_once('.') {
        Some((major, minor)) => {
            !major.is_empty()
                && !minor.is_empty()
                && major.bytes().all(|b| b.is_ascii_digit())
                && minor.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

fn base_url_text(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_string()
}

/// A 15- or 18-character record id (letters and digits only).
pub(crate) fn looks_like_id(s: &str) -> bool {
    (s.len() == 15 || s.len() == 18) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Org and user ids from the token's identity URL, `https://login.../id/<orgId>/<userId>`.
fn identity_from_id_url(id_url: &str, instance_url: &Url) -> Option<Identity> {
    // Salesforce gives an absolute URL; accept one relative to the instance too.
    let url = Url::parse(id_url)
        .or_else(|_| instance_url.join(id_url))
        .ok()?;
    let segments: Vec<&str> = url.path_segments()?.filter(|s| !s.is_empty()).collect();
    let [.., marker, org_id, user_id] = segments.as_slice() else {
        return None;
    };
    if *marker != "id" || !looks_like_id(org_id) || !looks_like_id(user_id) {
        return None;
    }
    Some(Identity {
        org_id: (*org_id).to_string(),
        user_id: (*user_id).to_string(),
        instance_url: base_url_text(instance_url),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_comes_from_the_id_url() {
        let instance = Url::parse("https://acme.my.salesforce.com/").unwrap();
        let id = identity_from_id_url(
            "https://login.salesforce.com/id/00D5g000004SeedEAC/005000000000001AAA",
            &instance,
        )
        .unwrap();
        assert_eq!(id.org_id, "00D5g000004SeedEAC");
        assert_eq!(id.user_id, "005000000000001AAA");
        assert_eq!(id.instance_url, "https://acme.my.salesforce.com");
    }

    #[test]
    fn odd_id_urls_give_no_identity() {
        let instance = Url::parse("https://acme.my.salesforce.com").unwrap();
        assert_eq!(
            identity_from_id_url("https://x/id/short/005000000000001AAA", &instance),
            None
        );
        assert_eq!(
            identity_from_id_url(
                "https://x/user/00D5g000004SeedEAC/005000000000001AAA",
                &instance
            ),
            None
        );
        assert_eq!(identity_from_id_url("not a url", &instance), None);
    }

    #[test]
    fn api_version_must_look_like_one() {
        assert!(is_api_version("65.0"));
        assert!(!is_api_version("65"));
        assert!(!is_api_version("v65.0"));
        assert!(!is_api_version("65.x"));
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(byte_size(64 * 1024 * 1024), "64 MiB");
        assert_eq!(byte_size(3 * 1024 * 1024 / 2), "1.5 MiB");
        assert_eq!(byte_size(4096), "4096 bytes");
    }

    #[test]
    fn status_without_body_still_maps_to_a_code() {
        assert_eq!(code_for_status(401), ApiErrorCode::InvalidSessionId);
        assert_eq!(code_for_status(503), ApiErrorCode::ServerUnavailable);
        assert_eq!(code_for_status(418), ApiErrorCode::Other("HTTP_418".into()));
    }

    #[test]
    fn html_error_pages_are_shortened_to_one_line() {
        let page = format!("<html>\n  <body>{}</body></html>", "x".repeat(500));
        let text = excerpt(page.as_bytes());
        assert!(!text.contains('\n'));
        assert!(text.chars().count() <= 201);
        assert_eq!(excerpt(b"   "), "no error details in the answer");
    }

    fn request() -> ApiRequest {
        ApiRequest::get("/services/data/v65.0/query".to_string())
    }

    #[test]
    fn truncated_json_is_a_syntax_problem_and_a_wrong_shape_is_not() {
        let broken = parse_json::<wire::QueryResponse<serde_json::Value>>(
            &request(),
            200,
            b"{\"totalSize\": 3, \"do",
        );
        let shape = parse_json::<wire::QueryResponse<serde_json::Value>>(
            &request(),
            200,
            b"{\"records\": []}",
        );
        assert!(
            matches!(broken, Err(SfError::MalformedResponse(ref m)) if m.kind == MalformedKind::Syntax)
        );
        assert!(
            matches!(shape, Err(SfError::MalformedResponse(ref m)) if m.kind == MalformedKind::Shape)
        );
    }

    #[test]
    fn settings_with_a_bad_api_version_are_refused_without_network() {
        let settings = ConnectionSettings {
            api_version: "sixty-five".into(),
            auth: crate::salesforce::settings::AuthFlow::AccessToken {
                instance_url: "https://acme.my.salesforce.com".into(),
                access_token: Secret::new("00D!token"),
            },
            retry: RetryPolicy::default(),
            request_timeout: std::time::Duration::from_secs(5),
            max_response_bytes: crate::salesforce::settings::DEFAULT_MAX_RESPONSE_BYTES,
        };
        assert!(matches!(Client::new(settings), Err(SfError::Settings(_))));
    }
}
