//! Signing in: turns an [`AuthFlow`] into an access token and the org's instance URL.
//!
//! Owns: the five flows (JWT bearer signed here with `jsonwebtoken`; client credentials and
//! refresh token through the `oauth2` crate over reqwest; a ready access token used as given;
//! the session of an existing `sf org login`, read through [`super::sfcli`]),
//! the JWT audience (the login server of the org's kind unless configured, switching once to the
//! other one when Salesforce calls it invalid), retries of the token call on transient failures,
//! the mapping of refusals to [`AuthError`], and the transport rules for secrets: the token
//! endpoint and the `instance_url` it names must be https, or plain http to loopback only, and
//! every token answer is read with the size limit.
//! Must not cache tokens or decide when to renew (the client does), and must never put a secret,
//! token, assertion or key into an error, a log line or a `Debug` output: every secret stays in a
//! [`Secret`] and server text is scrubbed of the secrets this module holds.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use backon::Retryable;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
};
use oauth2::{
    AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RefreshToken, RequestTokenError,
    StandardRevocableToken, TokenResponse as _, TokenUrl,
};
use serde::Serialize;
use url::Url;

use super::client::{BodyError, read_body, too_large};
use super::error::{
    ApiError, ApiErrorCode, AuthError, AuthErrorKind, FlowKind, SfError, TransportError,
    TransportKind,
};
use super::retry::{self, RetryMode, Wait};
use super::settings::{
    AuthFlow, RetryPolicy, default_audience, is_safe_for_secrets, other_audience,
};
use super::sfcli;
use super::wire::{OAuthErrorBody, TokenResponse};
use crate::secret::Secret;

/// Lifetime of a JWT assertion. Salesforce's JWT bearer flow documentation asks for an `exp`
/// "within 3 minutes"; 150 s leaves room for this host's clock running a little ahead.
const ASSERTION_LIFETIME: Duration = Duration::from_secs(150);

/// The `grant_type` of RFC 7523.
const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Path of the token endpoint below the login URL.
const TOKEN_PATH: &str = "/services/oauth2/token";

/// An `oauth2` client for Salesforce's token endpoint, with Salesforce's token response type.
type SalesforceOAuthClient<HasTokenUrl = EndpointSet> = oauth2::Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    HasTokenUrl,
>;

/// What a successful sign-in yields.
pub(crate) struct Token {
    /// The bearer token for REST calls.
    pub access_token: Secret,
    /// Where REST calls go (from the token response, or the configured one for a ready token).
    pub instance_url: Url,
    /// Identity URL (`.../id/<orgId>/<userId>`); absent for a ready access token.
    pub id_url: Option<String>,
}

/// The claims of a Salesforce JWT bearer assertion.
#[derive(Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub(crate) struct JwtClaims {
    /// Connected app consumer key.
    pub iss: String,
    /// Username to act as.
    pub sub: String,
    /// Login URL the assertion is meant for.
    pub aud: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
}

/// The claims for signing at `now_secs` (seconds since the epoch).
pub(crate) fn jwt_claims(
    consumer_key: &str,
    username: &str,
    audience: &str,
    now_secs: u64,
) -> JwtClaims {
    JwtClaims {
        iss: consumer_key.to_string(),
        sub: username.to_string(),
        aud: audience.trim_end_matches('/').to_string(),
        exp: now_secs + ASSERTION_LIFETIME.as_secs(),
    }
}

/// How this authenticator obtains tokens; built once, checked without network.
enum Method {
    Jwt {
        consumer_key: String,
        username: String,
        /// The audience in use: the configured one, or the default until Salesforce refuses it
        /// and the other standard audience works (then that one, for every later sign-in).
        audience: Mutex<String>,
        /// Whether the audience was configured (then it is never switched).
        audience_configured: bool,
        key: EncodingKey,
    },
    OAuth {
        client: Box<SalesforceOAuthClient>,
        /// `Some` for the refresh token flow, `None` for client credentials.
        refresh_token: Option<RefreshToken>,
    },
    Ready {
        access_token: Secret,
        instance_url: Url,
    },
    /// Runs `sf org display` on every sign-in, so a renewal picks up the CLI's newer token.
    SfCli {
        target_org: String,
        program: std::path::PathBuf,
    },
}

/// Signs in with one configured flow.
pub(crate) struct Authenticator {
    /// The flow, for messages.
    kind: FlowKind,
    /// Login URL without trailing slash (the instance URL for a ready token), for messages.
    login_url: String,
    /// Token endpoint URL.
    token_url: String,
    method: Method,
    /// Shared with the client; redirects off so a token request never follows a 30x elsewhere.
    http: reqwest::Client,
    /// Retries of the token call on network errors and 5xx.
    retry: RetryPolicy,
    /// Secrets to scrub from any server text that ends up in an error.
    secrets: Vec<Secret>,
    /// Largest token answer read.
    max_response_bytes: u64,
}

impl Authenticator {
    /// Checks the flow's settings (URLs parse, the private key can sign) without any network.
    pub fn new(
        flow: &AuthFlow,
        http: reqwest::Client,
        retry: RetryPolicy,
        max_response_bytes: u64,
    ) -> Result<Self, SfError> {
        let (kind, base) = match flow {
            AuthFlow::Jwt { login_url, .. } => (FlowKind::Jwt, login_url),
            AuthFlow::ClientCredentials { login_url, .. } => {
                (FlowKind::ClientCredentials, login_url)
            }
            AuthFlow::RefreshToken { login_url, .. } => (FlowKind::RefreshToken, login_url),
            AuthFlow::AccessToken { instance_url, .. } => (FlowKind::AccessToken, instance_url),
            AuthFlow::SfCli {
                target_org,
                program,
            } => {
                return Ok(Self::sf_cli(
                    target_org,
                    program,
                    http,
                    retry,
                    max_response_bytes,
                ));
            }
        };
        let base_url = parse_base_url(base, kind)?;
        let login_url = base_url.as_str().trim_end_matches('/').to_string();
        let token_url = format!("{login_url}{TOKEN_PATH}");
        let oauth_client = |client_id: &str, client_secret: Option<&Secret>| {
            let token_uri = TokenUrl::new(token_url.clone()).map_err(|e| {
                SfError::Settings(format!("{kind} login URL {login_url} is not usable: {e}"))
            })?;
            let mut client =
                SalesforceOAuthClient::<EndpointNotSet>::new(ClientId::new(client_id.to_string()))
                    .set_auth_type(AuthType::RequestBody)
                    .set_token_uri(token_uri);
            if let Some(secret) = client_secret {
                client = client.set_client_secret(ClientSecret::new(secret.expose().to_string()));
            }
            Ok::<_, SfError>(Box::new(client))
        };
        let (method, secrets) = match flow {
            AuthFlow::Jwt {
                consumer_key,
                username,
                audience,
                private_key_pem,
                ..
            } => {
                let key = load_signing_key(private_key_pem, &login_url)?;
                let method = Method::Jwt {
                    consumer_key: consumer_key.clone(),
                    username: username.clone(),
                    audience: Mutex::new(
                        audience
                            .clone()
                            .unwrap_or_else(|| default_audience(&login_url).to_string()),
                    ),
                    audience_configured: audience.is_some(),
                    key,
                };
                (method, vec![private_key_pem.clone()])
            }
            AuthFlow::ClientCredentials {
                client_id,
                client_secret,
                ..
            } => {
                let client = oauth_client(client_id, Some(client_secret))?;
                let method = Method::OAuth {
                    client,
                    refresh_token: None,
                };
                (method, vec![client_secret.clone()])
            }
            AuthFlow::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
                ..
            } => {
                let client = oauth_client(client_id, client_secret.as_ref())?;
                let method = Method::OAuth {
                    client,
                    refresh_token: Some(RefreshToken::new(refresh_token.expose().to_string())),
                };
                let mut secrets = vec![refresh_token.clone()];
                secrets.extend(client_secret.clone());
                (method, secrets)
            }
            AuthFlow::AccessToken { access_token, .. } => {
                let method = Method::Ready {
                    access_token: access_token.clone(),
                    instance_url: base_url.clone(),
                };
                (method, vec![access_token.clone()])
            }
            AuthFlow::SfCli {
                target_org,
                program,
            } => {
                return Ok(Self::sf_cli(
                    target_org,
                    program,
                    http,
                    retry,
                    max_response_bytes,
                ));
            }
        };
        Ok(Authenticator {
            kind,
            login_url,
            token_url,
            method,
            http,
            retry,
            secrets,
            max_response_bytes,
        })
    }

    /// The `sf_cli` flow: nothing to check without running `sf`, which happens at sign-in.
    fn sf_cli(
        target_org: &str,
        program: &std::path::Path,
        http: reqwest::Client,
        retry: RetryPolicy,
        max_response_bytes: u64,
    ) -> Self {
        Authenticator {
            kind: FlowKind::SfCli,
            login_url: format!("target org {target_org}"),
            token_url: String::new(),
            method: Method::SfCli {
                target_org: target_org.to_string(),
                program: program.to_path_buf(),
            },
            http,
            retry,
            secrets: Vec::new(),
            max_response_bytes,
        }
    }

    pub fn kind(&self) -> FlowKind {
        self.kind
    }

    pub fn login_url(&self) -> &str {
        &self.login_url
    }

    /// An error of this flow, for the client's own use (e.g. a ready token that expired).
    pub fn error(&self, kind: AuthErrorKind) -> SfError {
        SfError::from(AuthError {
            flow: self.kind,
            login_url: self.login_url.clone(),
            kind,
        })
    }

    /// Obtains a token, retrying network errors and 5xx answers of the token endpoint on the
    /// policy's backoff, or after the wait the endpoint asked for in `Retry-After` (a wait longer
    /// than the policy's `max_delay` stops at once, with a line naming the login host).
    pub async fn fetch(&self) -> Result<Token, SfError> {
        let sent = &AtomicU32::new(0);
        let attempt = move || async move {
            sent.fetch_add(1, Ordering::Relaxed);
            self.fetch_once().await
        };
        let token = attempt
            .retry(retry::backoff(&self.retry))
            .when(|err: &SfError| retry::is_retryable(RetryMode::Safe, err))
            .adjust(|err: &SfError, proposed| {
                let wait = retry::next_wait(&self.retry, proposed, retry::asked_wait(err));
                if let Wait::TooLong { asked, cap } = wait {
                    tracing::warn!(flow = %self.kind,
                        "the token endpoint at {} asked to wait {} before trying again \
                         (Retry-After), longer than the {} this retry policy allows \
                         ([org.http] max_delay_ms); not retrying",
                        self.login_url, retry::seconds(asked), retry::seconds(cap));
                }
                wait.duration()
            })
            .notify(|err: &SfError, delay| {
                let attempt = sent.load(Ordering::Relaxed);
                tracing::info!(flow = %self.kind, attempt, ?delay, error = %err,
                    "sign-in failed transiently; retrying");
            })
            .await
            .map_err(|err| err.with_attempts(sent.load(Ordering::Relaxed)))?;
        tracing::debug!(flow = %self.kind, attempts = sent.load(Ordering::Relaxed),
            "signed in to Salesforce");
        Ok(token)
    }

    async fn fetch_once(&self) -> Result<Token, SfError> {
        match &self.method {
            Method::Ready {
                access_token,
                instance_url,
            } => Ok(Token {
                access_token: access_token.clone(),
                instance_url: instance_url.clone(),
                id_url: None,
            }),
            Method::SfCli {
                target_org,
                program,
            } => self.sf_cli_once(target_org, program).await,
            Method::Jwt {
                consumer_key,
                username,
                audience,
                audience_configured,
                key,
            } => {
                let current = lock(audience).clone();
                let first = self.jwt_once(consumer_key, username, &current, key).await;
                if *audience_configured || !is_audience_refusal(&first) {
                    return first;
                }
                // Which login server an org wants is not in its URL (a loopback test server, a
                // custom My Domain): Salesforce names the wrong one, so try the other once.
                let other = other_audience(&current);
                tracing::debug!(refused = %current, trying = other,
                    "Salesforce called the JWT audience invalid; trying the other login server");
                let second = self.jwt_once(consumer_key, username, other, key).await;
                if second.is_ok() {
                    *lock(audience) = other.to_string();
                }
                if is_audience_refusal(&second) {
                    return first;
                }
                second
            }
            Method::OAuth {
                client,
                refresh_token,
            } => {
                // The future owns its client (a cheap handle): a future borrowing `self` here
                // would make every sign-in future non-`Send` for the daemon's tasks.
                let owned = self.http.clone();
                let limit = self.max_response_bytes;
                let http = move |request: oauth2::HttpRequest| {
                    let client = owned.clone();
                    async move { oauth_http(&client, request, limit).await }
                };
                let result = match refresh_token {
                    Some(token) => {
                        client
                            .exchange_refresh_token(token)
                            .request_async(&http)
                            .await
                    }
                    None => {
                        client
                            .exchange_client_credentials()
                            .request_async(&http)
                            .await
                    }
                };
                match result {
                    Ok(response) => self.token_from(response),
                    Err(err) => Err(self.map_oauth_error(err)),
                }
            }
        }
    }

    /// Takes the session of the CLI's login: runs `sf org display` off the async threads.
    async fn sf_cli_once(
        &self,
        target_org: &str,
        program: &std::path::Path,
    ) -> Result<Token, SfError> {
        let (alias, exe, limit) = (
            target_org.to_string(),
            program.to_path_buf(),
            self.max_response_bytes,
        );
        let run = tokio::task::spawn_blocking(move || sfcli::display(&exe, &alias, limit))
            .await
            .map_err(|e| SfError::Settings(format!("the sf CLI runner stopped: {e}")))?;
        let session = run.map_err(|failure| match failure {
            sfcli::CliFailure::Missing { detail } => self.error(AuthErrorKind::SfCliMissing {
                program: program.display().to_string(),
                detail,
            }),
            sfcli::CliFailure::Failed { name, message } => self.error(AuthErrorKind::SfCliFailed {
                target_org: target_org.to_string(),
                name,
                message,
            }),
        })?;
        let instance_url = Url::parse(&session.instance_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
            .filter(is_safe_for_secrets)
            .ok_or_else(|| {
                self.error(AuthErrorKind::SfCliFailed {
                    target_org: target_org.to_string(),
                    name: "BadInstanceUrl".to_string(),
                    message: format!(
                        "its instanceUrl {:?} is not an https URL (plain http only to this \
                         machine); nothing was sent there",
                        session.instance_url
                    ),
                })
            })?;
        Ok(Token {
            access_token: session.access_token,
            instance_url,
            id_url: None,
        })
    }

    /// Signs an assertion for `audience` and posts it.
    async fn jwt_once(
        &self,
        consumer_key: &str,
        username: &str,
        audience: &str,
        key: &EncodingKey,
    ) -> Result<Token, SfError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims = jwt_claims(consumer_key, username, audience, now);
        let assertion = sign(&claims, key)
            .map_err(|detail| self.error(AuthErrorKind::BadPrivateKey { detail }))?;
        self.post_jwt(&assertion).await
    }

    /// The JWT bearer grant: RFC 7523, which the `oauth2` crate does not cover.
    async fn post_jwt(&self, assertion: &Secret) -> Result<Token, SfError> {
        let form = [
            ("grant_type", JWT_BEARER_GRANT),
            ("assertion", assertion.expose()),
        ];
        let response = self
            .http
            .post(&self.token_url)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let asked = retry::retry_after_header(response.headers());
        let body = match read_body(response, self.max_response_bytes).await {
            Ok(body) => body,
            Err(BodyError::Transport(e)) => return Err(self.transport_error(&e)),
            Err(BodyError::TooLarge) => {
                return Err(too_large(
                    "POST",
                    TOKEN_PATH,
                    status.as_u16(),
                    self.max_response_bytes,
                ));
            }
        };
        if status.is_server_error() {
            return Err(self.server_error(status.as_u16(), asked));
        }
        if status.is_success() {
            let token: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
                self.error(AuthErrorKind::BadTokenResponse {
                    detail: describe_json_error(&e),
                })
            })?;
            return self.token_from(token);
        }
        match serde_json::from_slice::<OAuthErrorBody>(&body) {
            Ok(refusal) => Err(self.refused(&refusal.error, refusal.error_description.as_deref())),
            Err(_) => Err(self.error(AuthErrorKind::BadTokenResponse {
                detail: format!("HTTP {status} without an OAuth error body"),
            })),
        }
    }

    fn token_from(&self, response: TokenResponse) -> Result<Token, SfError> {
        let extra = response.extra_fields();
        let instance_url = extra.instance_url.as_deref().ok_or_else(|| {
            self.error(AuthErrorKind::BadTokenResponse {
                detail: "it has no instance_url".to_string(),
            })
        })?;
        let instance_url = Url::parse(instance_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
            .ok_or_else(|| {
                self.error(AuthErrorKind::BadTokenResponse {
                    detail: format!("its instance_url {instance_url:?} is not an http(s) URL"),
                })
            })?;
        if !is_safe_for_secrets(&instance_url) {
            // Checked before the token is used anywhere: it must never travel in clear text
            // to another machine, whatever the token endpoint says.
            return Err(self.error(AuthErrorKind::BadTokenResponse {
                detail: format!(
                    "its instance_url {} is plain http to another machine, and the access token \
                     is sent only over https (plain http only to this machine); nothing was sent \
                     there",
                    instance_url.as_str().trim_end_matches('/')
                ),
            }));
        }
        Ok(Token {
            access_token: Secret::new(response.access_token().secret().clone()),
            instance_url,
            id_url: extra.id.clone(),
        })
    }

    fn map_oauth_error(
        &self,
        err: RequestTokenError<TokenHttpError, BasicErrorResponse>,
    ) -> SfError {
        match err {
            RequestTokenError::ServerResponse(refusal) => self.refused(
                refusal.error().as_ref(),
                refusal.error_description().map(String::as_str),
            ),
            RequestTokenError::Request(TokenHttpError::Transport(e)) => self.transport_error(&e),
            RequestTokenError::Request(TokenHttpError::ServerStatus(status, asked)) => {
                self.server_error(status, asked)
            }
            RequestTokenError::Request(TokenHttpError::TooLarge(status)) => {
                too_large("POST", TOKEN_PATH, status, self.max_response_bytes)
            }
            RequestTokenError::Request(TokenHttpError::Response(e)) => {
                self.error(AuthErrorKind::BadTokenResponse {
                    detail: e.to_string(),
                })
            }
            RequestTokenError::Parse(e, _) => self.error(AuthErrorKind::BadTokenResponse {
                detail: format!("unexpected JSON at `{}`", e.path()),
            }),
            RequestTokenError::Other(text) => self.error(AuthErrorKind::BadTokenResponse {
                detail: self.scrub(&text),
            }),
        }
    }

    fn refused(&self, error: &str, description: Option<&str>) -> SfError {
        self.error(AuthErrorKind::Rejected {
            error: self.scrub(error),
            description: self.scrub(description.unwrap_or_default()),
        })
    }

    /// A 5xx of the token endpoint, with the wait it asked for (`Retry-After`), if any.
    fn server_error(&self, status: u16, retry_after: Option<Duration>) -> SfError {
        let mut err = ApiError::new(
            "POST",
            TOKEN_PATH,
            status,
            ApiErrorCode::ServerUnavailable,
            format!("the token endpoint at {} is unavailable", self.login_url),
        );
        err.retry_after = retry_after;
        SfError::Api(Box::new(err))
    }

    fn transport_error(&self, e: &reqwest::Error) -> SfError {
        SfError::Transport(Box::new(TransportError {
            method: "POST".to_string(),
            endpoint: TOKEN_PATH.to_string(),
            host: self.login_url.clone(),
            kind: transport_kind(e),
            detail: self.scrub(&error_chain(e)),
            attempts: 1,
        }))
    }

    /// Replaces every secret this authenticator holds with `[redacted]`.
    fn scrub(&self, text: &str) -> String {
        scrub(text, &self.secrets)
    }
}

/// Replaces each non-empty secret value in `text` with `[redacted]`.
pub(crate) fn scrub(text: &str, secrets: &[Secret]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        let value = secret.expose().trim();
        if !value.is_empty() && out.contains(value) {
            out = out.replace(value, "[redacted]");
        }
    }
    out
}

/// Whether a sign-in result is Salesforce calling the JWT audience invalid.
fn is_audience_refusal(result: &Result<Token, SfError>) -> bool {
    matches!(result, Err(SfError::Auth(a)) if matches!(
        &a.kind,
        AuthErrorKind::Rejected { description, .. } if description.contains("audience")
    ))
}

/// Locks a std mutex holding a plain value; a panic elsewhere cannot leave it torn.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A login or instance URL from the settings, checked to be an absolute https URL (plain http
/// only to this machine: secrets travel to it).
fn parse_base_url(raw: &str, kind: FlowKind) -> Result<Url, SfError> {
    let trimmed = raw.trim();
    let url = Url::parse(trimmed).map_err(|e| {
        SfError::Settings(format!(
            "{kind} URL {trimmed:?} is not a URL ({e}); expected e.g. https://login.salesforce.com"
        ))
    })?;
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
        return Err(SfError::Settings(format!(
            "{kind} URL {trimmed:?} must be an https URL such as https://login.salesforce.com"
        )));
    }
    if !is_safe_for_secrets(&url) {
        return Err(SfError::Settings(format!(
            "{kind} URL {trimmed:?} is plain http to another machine: secrets travel to it, so \
             use https (plain http is accepted only for loopback test servers)"
        )));
    }
    Ok(url)
}

/// Parses the PEM key and signs a throwaway assertion, so a wrong key fails at start-up rather
/// than at the first night run. The error never includes key material.
fn load_signing_key(pem: &Secret, login_url: &str) -> Result<EncodingKey, SfError> {
    let bad_key = |detail: String| {
        SfError::from(AuthError {
            flow: FlowKind::Jwt,
            login_url: login_url.to_string(),
            kind: AuthErrorKind::BadPrivateKey { detail },
        })
    };
    if pem.expose().contains("ENCRYPTED PRIVATE KEY") {
        return Err(bad_key(
            "the key is encrypted; provide it unencrypted".to_string(),
        ));
    }
    if pem.expose().contains("BEGIN CERTIFICATE") && !pem.expose().contains("PRIVATE KEY") {
        return Err(bad_key(
            "this is a certificate, not a private key".to_string(),
        ));
    }
    let key = EncodingKey::from_rsa_pem(pem.expose().as_bytes())
        .map_err(|e| bad_key(format!("not a PEM RSA private key: {e}")))?;
    let probe = jwt_claims("probe", "probe", "https://login.salesforce.com", 0);
    sign(&probe, &key).map_err(bad_key)?;
    Ok(key)
}

/// Signs the claims with RS256.
fn sign(claims: &JwtClaims, key: &EncodingKey) -> Result<Secret, String> {
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, key)
        .map(Secret::new)
        .map_err(|e| format!("RS256 signing failed: {e}"))
}

/// Why the reqwest adapter for `oauth2` failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TokenHttpError {
    #[error("{0}")]
    Transport(reqwest::Error),
    /// A 5xx: told apart here because `oauth2` would otherwise report it as an unparsable body.
    /// With the wait asked for in `Retry-After`, if any.
    #[error("HTTP {0} from the token endpoint")]
    ServerStatus(u16, Option<Duration>),
    /// The answer (with this status) was larger than the response size limit.
    #[error("the token endpoint's answer (HTTP {0}) is too large")]
    TooLarge(u16),
    #[error("unusable HTTP answer: {0}")]
    Response(oauth2::http::Error),
}

/// Sends an `oauth2` request with reqwest 0.13 (the crate's own adapter targets reqwest 0.12).
async fn oauth_http(
    http: &reqwest::Client,
    request: oauth2::HttpRequest,
    limit: u64,
) -> Result<oauth2::HttpResponse, TokenHttpError> {
    let request = reqwest::Request::try_from(request).map_err(TokenHttpError::Transport)?;
    let response = http
        .execute(request)
        .await
        .map_err(TokenHttpError::Transport)?;
    let status = response.status();
    if status.is_server_error() {
        let asked = retry::retry_after_header(response.headers());
        return Err(TokenHttpError::ServerStatus(status.as_u16(), asked));
    }
    let mut builder = oauth2::http::Response::builder().status(status);
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let body = match read_body(response, limit).await {
        Ok(body) => body,
        Err(BodyError::Transport(e)) => return Err(TokenHttpError::Transport(e)),
        Err(BodyError::TooLarge) => return Err(TokenHttpError::TooLarge(status.as_u16())),
    };
    builder.body(body).map_err(TokenHttpError::Response)
}

/// Connect, timeout or other, as retry and advice need it.
pub(crate) fn transport_kind(e: &reqwest::Error) -> TransportKind {
    if e.is_timeout() {
        TransportKind::Timeout
    } else if e.is_connect() {
        TransportKind::Connect
    } else {
        TransportKind::Other
    }
}

/// The error and its causes on one line ("error sending request: connection refused").
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

/// Describes a JSON error by position and category only: a token body's values are secrets.
fn describe_json_error(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Data => {
            format!(
                "unexpected JSON content at line {} column {}",
                e.line(),
                e.column()
            )
        }
        _ => format!("not valid JSON (line {} column {})", e.line(), e.column()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    const MAX: u64 = crate::salesforce::settings::DEFAULT_MAX_RESPONSE_BYTES;

    fn demo_key(name: &str) -> Secret {
        let path = format!("{}/mocks/keys/{name}", env!("CARGO_MANIFEST_DIR"));
        Secret::new(std::fs::read_to_string(path).expect("demo key present in the repo"))
    }

    fn jwt_flow(key: Secret) -> AuthFlow {
        AuthFlow::Jwt {
            login_url: "https://login.salesforce.com/".into(),
            consumer_key: "3MVGconsumer".into(),
            username: "integration@example.org".into(),
            audience: None,
            private_key_pem: key,
        }
    }

    #[test]
    fn claims_expire_within_three_minutes_of_now() {
        let c = jwt_claims(
            "key",
            "user@x",
            "https://test.salesforce.com/",
            1_700_000_000,
        );
        assert_eq!(c.iss, "key");
        assert_eq!(c.sub, "user@x");
        assert_eq!(c.aud, "https://test.salesforce.com");
        assert_eq!(c.exp, 1_700_000_150);
    }

    #[test]
    fn assertion_verifies_with_the_demo_public_key() {
        let key = load_signing_key(&demo_key("demo-only-jwt-private.pem"), "https://x").unwrap();
        let claims = jwt_claims("iss", "sub", "https://login.salesforce.com", 4_000_000_000);
        let assertion = sign(&claims, &key).unwrap();
        let public = std::fs::read(format!(
            "{}/mocks/keys/demo-only-jwt-public.pem",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&["https://login.salesforce.com"]);
        let decoded = jsonwebtoken::decode::<JwtClaims>(
            assertion.expose(),
            &DecodingKey::from_rsa_pem(&public).unwrap(),
            &validation,
        )
        .unwrap();
        assert_eq!(decoded.claims, claims);
    }

    #[test]
    fn a_public_key_in_place_of_the_private_key_is_a_clear_error_without_key_text() {
        let public = demo_key("demo-only-jwt-public.pem");
        let err = Authenticator::new(
            &jwt_flow(public.clone()),
            reqwest::Client::new(),
            RetryPolicy::default(),
            MAX,
        )
        .err()
        .expect("a public key cannot sign");
        let text = err.to_string();
        assert!(text.contains("private key"), "{text}");
        let body_line = public.expose().lines().nth(1).unwrap();
        assert!(!text.contains(body_line), "{text}");
    }

    #[test]
    fn garbage_key_is_a_clear_error() {
        let err = Authenticator::new(
            &jwt_flow(Secret::new("not a key at all")),
            reqwest::Client::new(),
            RetryPolicy::default(),
            MAX,
        )
        .err()
        .expect("garbage cannot sign");
        assert!(matches!(
            err,
            SfError::Auth(ref a) if matches!(a.kind, AuthErrorKind::BadPrivateKey { .. })
        ));
    }

    #[test]
    fn login_url_must_be_http() {
        let flow = AuthFlow::ClientCredentials {
            login_url: "login.salesforce.com".into(),
            client_id: "id".into(),
            client_secret: Secret::new("s"),
        };
        let err =
            Authenticator::new(&flow, reqwest::Client::new(), RetryPolicy::default(), MAX).err();
        assert!(matches!(err, Some(SfError::Settings(_))));
    }

    #[test]
    fn plain_http_to_another_machine_is_refused_before_any_request() {
        let flow = AuthFlow::ClientCredentials {
            login_url: "http://login.example.com".into(),
            client_id: "id".into(),
            client_secret: Secret::new("s"),
        };
        let err = Authenticator::new(&flow, reqwest::Client::new(), RetryPolicy::default(), MAX)
            .err()
            .expect("refused");
        assert!(err.to_string().contains("plain http"), "{err}");
        let loopback = AuthFlow::ClientCredentials {
            login_url: "http://[::1]:9".into(),
            client_id: "id".into(),
            client_secret: Secret::new("s"),
        };
        assert!(
            Authenticator::new(
                &loopback,
                reqwest::Client::new(),
                RetryPolicy::default(),
                MAX
            )
            .is_ok()
        );
    }

    #[test]
    fn scrub_removes_every_secret() {
        let secrets = [Secret::new("hunter2"), Secret::new("")];
        assert_eq!(
            scrub("bad secret hunter2 (hunter2)", &secrets),
            "bad secret [redacted] ([redacted])"
        );
    }

    #[test]
    fn refusal_message_never_echoes_the_client_secret() {
        let flow = AuthFlow::ClientCredentials {
            login_url: "https://acme.my.salesforce.com".into(),
            client_id: "id".into(),
            client_secret: Secret::new("s3cr3t-value"),
        };
        let auth =
            Authenticator::new(&flow, reqwest::Client::new(), RetryPolicy::default(), MAX).unwrap();
        let err = auth.refused(
            "invalid_client",
            Some("client secret s3cr3t-value is wrong"),
        );
        let text = err.to_string();
        assert!(!text.contains("s3cr3t-value"), "{text}");
        assert!(
            text.contains("client credentials sign-in at https://acme.my.salesforce.com"),
            "{text}"
        );
    }
}
