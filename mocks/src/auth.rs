//! The OAuth 2.0 token endpoint (`POST /services/oauth2/token`): JWT bearer (RS256 assertion
//! checked against the connected app's public key), client credentials and refresh token grants,
//! answering like Salesforce (no `expires_in`; 400 `{"error","error_description"}`).
//!
//! Owns grant validation and session creation. It never echoes a secret back, never logs one,
//! and is neither faulted nor counted as an API call.

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

use crate::org::OrgState;
use crate::wire::{OAuthError, TokenResponse};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// How far in the future a JWT `exp` may be (Salesforce asks for a few minutes at most).
const MAX_EXP_AHEAD_SECS: i64 = 5 * 60 + 10;

/// Audiences a JWT may name besides the sim's own URL.
const LOGIN_AUDIENCES: [&str; 2] = [
    "https://login.salesforce.com",
    "https://test.salesforce.com",
];

fn oauth_error(error: &str, description: &str) -> OAuthError {
    OAuthError {
        error: error.to_string(),
        error_description: description.to_string(),
    }
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
    /// Expiry, seconds since the epoch.
    exp: Option<i64>,
}

/// Handles one token request. `base_urls` are the URLs the sim answers on (the first is used as
/// `instance_url`); they are also valid JWT audiences.
pub(crate) fn grant(
    state: &mut OrgState,
    form: &HashMap<String, String>,
    base_urls: &[String],
) -> Result<TokenResponse, OAuthError> {
    let grant_type = form.get("grant_type").map(String::as_str).unwrap_or("");
    let user_id = match grant_type {
        JWT_BEARER => jwt_bearer(state, form, base_urls)?,
        "client_credentials" => client_credentials(state, form)?,
        "refresh_token" => refresh_token(state, form)?,
        _ => {
            return Err(oauth_error(
                "unsupported_grant_type",
                "grant type not supported",
            ));
        }
    };
    let token = state.new_session(&user_id);
    state.stats.token_grants += 1;
    let base = base_urls.first().cloned().unwrap_or_default();
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

fn jwt_bearer(
    state: &OrgState,
    form: &HashMap<String, String>,
    base_urls: &[String],
) -> Result<String, OAuthError> {
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
        return Err(oauth_error("invalid_client", "client identifier invalid"));
    };
    if claims.iss.as_deref() != Some(app.consumer_key.as_str()) {
        return Err(oauth_error("invalid_client", "client identifier invalid"));
    }
    let Some(pem) = app.jwt_public_key_pem.as_deref() else {
        return Err(invalid_assertion());
    };
    let key = DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|_| invalid_assertion())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Claims>(assertion, &key, &validation)
        .map_err(|_| invalid_assertion())?;

    let audiences: Vec<&str> = match &claims.aud {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let accepted = |aud: &str| {
        let aud = aud.trim_end_matches('/');
        LOGIN_AUDIENCES.contains(&aud) || base_urls.iter().any(|b| b.trim_end_matches('/') == aud)
    };
    if !audiences.iter().any(|a| accepted(a)) {
        return Err(oauth_error("invalid_grant", "audience is invalid"));
    }
    let now = jsonwebtoken::get_current_timestamp() as i64;
    match claims.exp {
        Some(exp) if exp > now && exp <= now + MAX_EXP_AHEAD_SECS => {}
        _ => return Err(invalid_assertion()),
    }
    let Some(username) = claims.sub.as_deref() else {
        return Err(invalid_assertion());
    };
    active_user(state, username)
}

fn check_client_id(state: &OrgState, form: &HashMap<String, String>) -> Result<(), OAuthError> {
    let app = state
        .settings
        .connected_app
        .as_ref()
        .ok_or_else(|| oauth_error("invalid_client", "client identifier invalid"))?;
    match form.get("client_id") {
        Some(id) if *id == app.consumer_key => Ok(()),
        _ => Err(oauth_error("invalid_client", "client identifier invalid")),
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

fn client_credentials(
    state: &OrgState,
    form: &HashMap<String, String>,
) -> Result<String, OAuthError> {
    check_client_id(state, form)?;
    let given = form.get("client_secret").map(String::as_str).unwrap_or("");
    if !secret_matches(state, given) {
        return Err(oauth_error("invalid_client", "invalid client credentials"));
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

fn refresh_token(state: &OrgState, form: &HashMap<String, String>) -> Result<String, OAuthError> {
    check_client_id(state, form)?;
    if let Some(given) = form.get("client_secret")
        && !secret_matches(state, given)
    {
        return Err(oauth_error("invalid_client", "invalid client credentials"));
    }
    let username = form.get("refresh_token").and_then(|token| {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::Org;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;
    use std::path::Path;

    const BASE: &str = "http://127.0.0.1:9";
    const KEY: &str = "3MVG9demoOnlyConsumerKeyForTheSimulatedOrg";

    fn seed() -> Org {
        Org::from_fixture_file(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed-example.json"),
        )
        .expect("seed loads")
    }

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn run(org: &Org, pairs: &[(&str, &str)]) -> Result<TokenResponse, OAuthError> {
        grant(&mut org.lock(), &form(pairs), &[BASE.to_string()])
    }

    fn assertion(aud: &str, exp_in: i64) -> String {
        let pem = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("keys/demo-only-jwt-private.pem"),
        )
        .expect("demo key");
        let claims = json!({
            "iss": KEY,
            "sub": "user1@seed-example.org",
            "aud": aud,
            "exp": jsonwebtoken::get_current_timestamp() as i64 + exp_in,
        });
        let key = EncodingKey::from_rsa_pem(&pem).expect("rsa");
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).expect("signed")
    }

    #[test]
    fn refresh_tokens_sign_in_as_their_user_and_unknown_ones_are_refused() {
        let org = seed();
        let ok = run(
            &org,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", KEY),
                ("refresh_token", "5Aep861demoOnlyRefreshToken"),
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
    fn jwt_audience_may_be_the_sim_itself_but_not_elsewhere() {
        let org = seed();
        let jwt = |aud: &str| {
            run(
                &org,
                &[
                    ("grant_type", JWT_BEARER),
                    ("assertion", assertion(aud, 120).as_str()),
                ],
            )
        };
        assert!(jwt(BASE).is_ok());
        assert_eq!(
            jwt("https://evil.example").unwrap_err().error_description,
            "audience is invalid"
        );
    }

    #[test]
    fn jwt_expiry_must_be_soon_and_in_the_future() {
        let org = seed();
        for exp_in in [-10, 3600] {
            let token = assertion("https://login.salesforce.com", exp_in);
            let err = run(
                &org,
                &[("grant_type", JWT_BEARER), ("assertion", token.as_str())],
            )
            .unwrap_err();
            assert_eq!(err.error, "invalid_grant", "exp in {exp_in}s");
        }
    }

    #[test]
    fn grants_are_counted_but_refusals_are_not() {
        let org = seed();
        let _ = run(&org, &[("grant_type", "password")]);
        let _ = run(
            &org,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", KEY),
                ("client_secret", "demo-only-client-secret"),
            ],
        );
        assert_eq!(org.stats().token_grants, 1);
    }
}
