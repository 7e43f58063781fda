//! The OAuth 2.0 token endpoint (`POST /services/oauth2/token`): JWT bearer (RS256 assertion
//! checked against the connected app's public key), client credentials and refresh token grants,
//! answering like Salesforce (no `expires_in`; 400 `{"error","error_description"}`).
//!
//! Two hosts answer it, as in a real org: the org's My Domain (the sim's main URL, also the
//! `instance_url`) takes every grant; the login host (login.salesforce.com / test.salesforce.com,
//! the sim's second listener) refuses client credentials with "request not supported on this
//! domain". The JWT `aud` must name the login server of the org's kind (production:
//! `https://login.salesforce.com`, sandbox: `https://test.salesforce.com`), never a sim URL.
//! The client may authenticate in the form body or with HTTP Basic.
//!
//! Owns grant validation and session creation. It never echoes a secret back, never logs one,
//! and is neither faulted nor counted as an API call.

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::org::OrgState;
use crate::wire::{OAuthError, TokenResponse};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// How far in the future a JWT `exp` may be: Salesforce's JWT bearer flow documentation asks for
/// an expiration "within 3 minutes".
pub const MAX_EXP_AHEAD_SECS: i64 = 3 * 60;

/// The JWT audience of a production org.
pub const PRODUCTION_AUDIENCE: &str = "https://login.salesforce.com";
/// The JWT audience of a sandbox org.
pub const SANDBOX_AUDIENCE: &str = "https://test.salesforce.com";

/// Which host a token request arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenHost {
    /// The org's My Domain (the sim's main listener): every grant.
    MyDomain,
    /// login.salesforce.com / test.salesforce.com (the sim's login listener): no client
    /// credentials.
    Login,
}

/// One token request as the endpoint received it.
pub(crate) struct TokenRequest<'a> {
    /// The decoded form body.
    pub form: &'a HashMap<String, String>,
    /// `client_id` and `client_secret` from an `Authorization: Basic` header, if sent.
    pub basic: Option<(String, String)>,
    /// The host the request arrived on.
    pub host: TokenHost,
    /// The org's My Domain base URL: `instance_url` and the root of the `id` URL.
    pub instance_base: &'a str,
}

fn oauth_error(error: &str, description: &str) -> OAuthError {
    OAuthError {
        error: error.to_string(),
        error_description: description.to_string(),
    }
}

/// Salesforce's answer to an unknown consumer key.
fn unknown_client() -> OAuthError {
    oauth_error("invalid_client_id", "client identifier invalid")
}

/// Salesforce's answer to a wrong consumer secret.
fn wrong_secret() -> OAuthError {
    oauth_error("invalid_client", "invalid client credentials")
}

/// Claims the JWT bearer flow looks at.
#[derive(Debug, Deserialize)]
struct Claims {
    /// Must be the connected app's consumer key.
    iss: Option<String>,
    /// Username to sign in as.
    sub: Option<String>,
    /// Login URL (string or array).
    aud: Option<Value>,
    /// Expiry, seconds since the epoch: a JSON number or a numeric string (the Salesforce
    /// documentation's own example writes it as a string).
    #[serde(default, deserialize_with = "number_or_numeric_string")]
    exp: Option<i64>,
}

/// `exp` as a number (`1333685628`, `1333685628.0`) or a numeric string (`"1333685628"`);
/// anything else is treated as absent, which the grant refuses.
fn number_or_numeric_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let value = Option::<Value>::deserialize(d)?;
    Ok(match value {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        _ => None,
    })
}

/// Handles one token request.
pub(crate) fn grant(
    state: &mut OrgState,
    request: &TokenRequest<'_>,
) -> Result<TokenResponse, OAuthError> {
    let form = request.form;
    let grant_type = form.get("grant_type").map(String::as_str).unwrap_or("");
    let user_id = match grant_type {
        JWT_BEARER => jwt_bearer(state, form)?,
        "client_credentials" => {
            if request.host == TokenHost::Login {
                return Err(oauth_error(
                    "invalid_grant",
                    "request not supported on this domain",
                ));
            }
            client_credentials(state, request)?
        }
        "refresh_token" => refresh_token(state, request)?,
        "" => {
            return Err(oauth_error("invalid_request", "grant type is missing"));
        }
        _ => {
            return Err(oauth_error(
                "unsupported_grant_type",
                "grant type not supported",
            ));
        }
    };
    let token = state.new_session(&user_id);
    state.stats.token_grants += 1;
    let base = request.instance_base.trim_end_matches('/').to_string();
    let issued_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    Ok(TokenResponse {
        access_token: token,
        instance_url: base.clone(),
        id: format!("{base}/id/{}/{user_id}", state.settings.organization_id),
        token_type: "Bearer".to_string(),
        issued_at: issued_at.to_string(),
        signature: format!("{}=", state.random_token(43)),
        scope: "api".to_string(),
    })
}

/// The active user with this username, or the Salesforce-style refusal.
fn active_user(state: &OrgState, username: &str) -> Result<String, OAuthError> {
    let user = state.store.live_rows("User").find(|r| {
        r.fields
            .get("Username")
            .and_then(Value::as_str)
            .is_some_and(|u| u.eq_ignore_ascii_case(username))
    });
    let Some(user) = user else {
        return Err(oauth_error(
            "invalid_grant",
            "user hasn't approved this consumer",
        ));
    };
    if user.fields.get("IsActive").and_then(Value::as_bool) == Some(false) {
        return Err(oauth_error("invalid_grant", "inactive user"));
    }
    Ok(user
        .fields
        .get("Id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string())
}

/// The one audience this org accepts in a JWT bearer assertion.
fn expected_audience(state: &OrgState) -> &'static str {
    if state.settings.is_sandbox {
        SANDBOX_AUDIENCE
    } else {
        PRODUCTION_AUDIENCE
    }
}

fn jwt_bearer(state: &OrgState, form: &HashMap<String, String>) -> Result<String, OAuthError> {
    let Some(assertion) = form.get("assertion").filter(|a| !a.is_empty()) else {
        return Err(oauth_error(
            "invalid_request",
            "assertion parameter missing",
        ));
    };
    let invalid_assertion = || oauth_error("invalid_grant", "invalid assertion");
    let claims: Claims = jsonwebtoken::dangerous::insecure_decode_claims(assertion)
        .map_err(|_| invalid_assertion())?;
    let Some(app) = state.settings.connected_app.as_ref() else {
        return Err(unknown_client());
    };
    if claims.iss.as_deref() != Some(app.consumer_key.as_str()) {
        return Err(unknown_client());
    }
    let Some(pem) = app.jwt_public_key_pem.as_deref() else {
        return Err(invalid_assertion());
    };
    let key = DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| invalid_assertion())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(assertion, &key, &validation).map_err(|_| invalid_assertion())?;

    let audiences: Vec<&str> = match &claims.aud {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let expected = expected_audience(state);
    if !audiences
        .iter()
        .any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(expected))
    {
        return Err(oauth_error("invalid_grant", "audience is invalid"));
    }
    let now = jsonwebtoken::get_current_timestamp() as i64;
    match claims.exp {
        Some(exp) if exp <= now => {
            return Err(oauth_error("invalid_grant", "expired authorization code"));
        }
        Some(exp) if exp <= now + MAX_EXP_AHEAD_SECS => {}
        _ => return Err(invalid_assertion()),
    }
    let Some(username) = claims.sub.as_deref() else {
        return Err(invalid_assertion());
    };
    active_user(state, username)
}

/// The client's id and secret: form fields first, else HTTP Basic (RFC 6749 §2.3.1).
fn client_auth<'a>(request: &'a TokenRequest<'_>) -> (Option<&'a str>, Option<&'a str>) {
    let form_id = request.form.get("client_id").map(String::as_str);
    let form_secret = request.form.get("client_secret").map(String::as_str);
    match (&request.basic, form_id) {
        (Some((id, secret)), None) => (Some(id.as_str()), form_secret.or(Some(secret.as_str()))),
        _ => (form_id, form_secret),
    }
}

fn check_client_id(state: &OrgState, client_id: Option<&str>) -> Result<(), OAuthError> {
    let app = state
        .settings
        .connected_app
        .as_ref()
        .ok_or_else(unknown_client)?;
    match client_id {
        Some(id) if id == app.consumer_key => Ok(()),
        _ => Err(unknown_client()),
    }
}

fn secret_matches(state: &OrgState, given: &str) -> bool {
    state
        .settings
        .connected_app
        .as_ref()
        .and_then(|app| app.client_secret.as_deref())
        .is_some_and(|secret| constant_time_eq(secret.as_bytes(), given.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn client_credentials(state: &OrgState, request: &TokenRequest<'_>) -> Result<String, OAuthError> {
    let (client_id, secret) = client_auth(request);
    check_client_id(state, client_id)?;
    if !secret_matches(state, secret.unwrap_or("")) {
        return Err(wrong_secret());
    }
    let run_as = state
        .settings
        .connected_app
        .as_ref()
        .and_then(|app| app.client_credentials_user.clone());
    let Some(username) = run_as else {
        return Err(oauth_error(
            "invalid_grant",
            "no client credentials user enabled",
        ));
    };
    active_user(state, &username)
}

fn refresh_token(state: &OrgState, request: &TokenRequest<'_>) -> Result<String, OAuthError> {
    let (client_id, secret) = client_auth(request);
    check_client_id(state, client_id)?;
    if let Some(given) = secret
        && !secret_matches(state, given)
    {
        return Err(wrong_secret());
    }
    let username = request.form.get("refresh_token").and_then(|token| {
        state
            .settings
            .connected_app
            .as_ref()
            .and_then(|app| app.refresh_tokens.get(token).cloned())
    });
    let Some(username) = username else {
        return Err(oauth_error("invalid_grant", "expired access/refresh token"));
    };
    active_user(state, &username)
}

/// `client_id` and `client_secret` from an `Authorization: Basic` header value, each
/// form-urlencoded inside the base64 as RFC 6749 §2.3.1 asks. `None` for any other scheme or a
/// value that does not decode.
pub(crate) fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(base64_decode(encoded.trim())?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| -> String {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

/// Standard base64 (with or without padding); `None` on any other character.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let produced = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        out.extend_from_slice(&acc.to_be_bytes()[1..1 + produced]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::Org;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;
    use std::path::Path;

    const BASE: &str = "http://127.0.0.1:9";
    const KEY: &str = "3MVG9demoOnlyConsumerKeyForTheSimulatedOrg";
    const SECRET: &str = "demo-only-client-secret";
    const REFRESH: &str = "5Aep861demoOnlyRefreshToken";

    /// The seed org: a sandbox.
    fn seed() -> Org {
        Org::from_fixture_file(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed-example.json"),
        )
        .expect("seed loads")
    }

    /// The seed org as a production org.
    fn production() -> Org {
        let org = seed();
        org.lock().settings.is_sandbox = false;
        org
    }

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn on(
        org: &Org,
        host: TokenHost,
        basic: Option<(&str, &str)>,
        pairs: &[(&str, &str)],
    ) -> Result<TokenResponse, OAuthError> {
        let form = form(pairs);
        let request = TokenRequest {
            form: &form,
            basic: basic.map(|(a, b)| (a.to_string(), b.to_string())),
            host,
            instance_base: BASE,
        };
        grant(&mut org.lock(), &request)
    }

    fn run(org: &Org, pairs: &[(&str, &str)]) -> Result<TokenResponse, OAuthError> {
        on(org, TokenHost::MyDomain, None, pairs)
    }

    fn claims(aud: &str, exp: Value) -> Value {
        json!({"iss": KEY, "sub": "user1@seed-example.org", "aud": aud, "exp": exp})
    }

    fn sign(claims: &Value) -> String {
        let pem = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("keys/demo-only-jwt-private.pem"),
        )
        .expect("demo key");
        let key = EncodingKey::from_rsa_pem(&pem).expect("rsa");
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &key).expect("signed")
    }

    fn assertion(aud: &str, exp_in: i64) -> String {
        sign(&claims(
            aud,
            json!(jsonwebtoken::get_current_timestamp() as i64 + exp_in),
        ))
    }

    fn jwt(org: &Org, host: TokenHost, assertion: &str) -> Result<TokenResponse, OAuthError> {
        on(
            org,
            host,
            None,
            &[("grant_type", JWT_BEARER), ("assertion", assertion)],
        )
    }

    const CLIENT_CREDENTIALS: [(&str, &str); 3] = [
        ("grant_type", "client_credentials"),
        ("client_id", KEY),
        ("client_secret", SECRET),
    ];

    #[test]
    fn refresh_tokens_sign_in_as_their_user_and_unknown_ones_are_refused() {
        let org = seed();
        let ok = run(
            &org,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", KEY),
                ("refresh_token", REFRESH),
            ],
        )
        .expect("known refresh token");
        assert!(ok.id.ends_with("/005000000000001AAA"));
        let err = run(
            &org,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", KEY),
                ("refresh_token", "nope"),
            ],
        )
        .unwrap_err();
        assert_eq!(
            err,
            oauth_error("invalid_grant", "expired access/refresh token")
        );
    }

    #[test]
    fn unknown_grant_types_are_unsupported() {
        let err = run(&seed(), &[("grant_type", "password")]).unwrap_err();
        assert_eq!(err.error, "unsupported_grant_type");
    }

    #[test]
    fn the_login_host_refuses_client_credentials_but_not_jwt_or_refresh_token() {
        let org = seed();
        let err = on(&org, TokenHost::Login, None, &CLIENT_CREDENTIALS).unwrap_err();
        assert_eq!(
            err,
            oauth_error("invalid_grant", "request not supported on this domain")
        );
        let token = jwt(&org, TokenHost::Login, &assertion(SANDBOX_AUDIENCE, 120))
            .expect("JWT on the login host");
        assert_eq!(token.instance_url, BASE, "the answer names the My Domain");
        on(
            &org,
            TokenHost::Login,
            None,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", KEY),
                ("refresh_token", REFRESH),
            ],
        )
        .expect("refresh token on the login host");
        run(&org, &CLIENT_CREDENTIALS).expect("client credentials on My Domain");
    }

    #[test]
    fn jwt_audience_is_the_login_server_of_the_orgs_kind_only() {
        let sandbox = seed();
        assert!(
            jwt(
                &sandbox,
                TokenHost::MyDomain,
                &assertion(SANDBOX_AUDIENCE, 120)
            )
            .is_ok()
        );
        let production = production();
        assert!(
            jwt(
                &production,
                TokenHost::MyDomain,
                &assertion("https://login.salesforce.com/", 120)
            )
            .is_ok()
        );
        for (org, aud) in [
            (&sandbox, PRODUCTION_AUDIENCE),
            (&production, SANDBOX_AUDIENCE),
            (&sandbox, BASE),
            (&production, "https://acme.my.salesforce.com"),
            (&sandbox, "https://evil.example"),
        ] {
            let err = jwt(org, TokenHost::MyDomain, &assertion(aud, 120)).unwrap_err();
            assert_eq!(
                err,
                oauth_error("invalid_grant", "audience is invalid"),
                "{aud}"
            );
        }
    }

    #[test]
    fn jwt_expiry_must_be_in_the_future_and_within_three_minutes() {
        let org = seed();
        let expired =
            jwt(&org, TokenHost::MyDomain, &assertion(SANDBOX_AUDIENCE, -10)).unwrap_err();
        assert_eq!(
            expired,
            oauth_error("invalid_grant", "expired authorization code")
        );
        for exp_in in [MAX_EXP_AHEAD_SECS + 30, 3600] {
            let err = jwt(
                &org,
                TokenHost::MyDomain,
                &assertion(SANDBOX_AUDIENCE, exp_in),
            )
            .unwrap_err();
            assert_eq!(err.error, "invalid_grant", "exp in {exp_in}s");
        }
    }

    #[test]
    fn jwt_expiry_may_be_a_numeric_string() {
        let org = seed();
        let exp = (jsonwebtoken::get_current_timestamp() + 120).to_string();
        let token = sign(&claims(SANDBOX_AUDIENCE, json!(exp)));
        jwt(&org, TokenHost::MyDomain, &token).expect("exp as a string");
        let garbage = sign(&claims(SANDBOX_AUDIENCE, json!("soon")));
        assert!(jwt(&org, TokenHost::MyDomain, &garbage).is_err());
    }

    #[test]
    fn an_unknown_jwt_issuer_is_an_invalid_client_id() {
        let org = seed();
        let mut c = claims(
            SANDBOX_AUDIENCE,
            json!(jsonwebtoken::get_current_timestamp() + 60),
        );
        c["iss"] = json!("3MVGsomeoneElse");
        let err = jwt(&org, TokenHost::MyDomain, &sign(&c)).unwrap_err();
        assert_eq!(err, unknown_client());
    }

    #[test]
    fn client_may_authenticate_with_http_basic() {
        let org = seed();
        on(
            &org,
            TokenHost::MyDomain,
            Some((KEY, SECRET)),
            &[("grant_type", "client_credentials")],
        )
        .expect("Basic client authentication");
        let err = on(
            &org,
            TokenHost::MyDomain,
            Some((KEY, "wrong")),
            &[("grant_type", "client_credentials")],
        )
        .unwrap_err();
        assert_eq!(err, wrong_secret());
    }

    #[test]
    fn unknown_client_id_and_wrong_secret_answer_like_salesforce() {
        let org = seed();
        let unknown = run(
            &org,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "3MVGnobody"),
                ("client_secret", SECRET),
            ],
        )
        .unwrap_err();
        assert_eq!(
            unknown,
            oauth_error("invalid_client_id", "client identifier invalid")
        );
        let wrong = run(
            &org,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", KEY),
                ("client_secret", "nope"),
            ],
        )
        .unwrap_err();
        assert_eq!(
            wrong,
            oauth_error("invalid_client", "invalid client credentials")
        );
    }

    #[test]
    fn basic_header_decodes_urlencoded_id_and_secret() {
        // base64("3MVG%2Bk:s%3Acret") with padding.
        let header = "Basic M01WRyUyQms6cyUzQWNyZXQ=";
        assert_eq!(
            parse_basic(header),
            Some(("3MVG+k".to_string(), "s:cret".to_string()))
        );
        assert_eq!(parse_basic("Bearer abc"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
    }

    #[test]
    fn grants_are_counted_but_refusals_are_not() {
        let org = seed();
        let _ = run(&org, &[("grant_type", "password")]);
        let _ = run(&org, &CLIENT_CREDENTIALS);
        assert_eq!(org.stats().token_grants, 1);
    }
}
