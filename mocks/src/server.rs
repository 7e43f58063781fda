//! The HTTP server: one axum fallback handler that routes the token endpoint, the `/__sim`
//! control endpoints and the REST API. Every request URI over 16 384 bytes is refused with 414
//! first, as Salesforce's web tier does. For `/services/data` it applies, in order: injected
//! latency, injected 503s, bearer-token authentication (with the session-expiry fault), the daily
//! API limit, counting, `dispatch`, the `Sforce-Limit-Info` header and the malformed-JSON fault.
//!
//! An org has two hosts, each on its own listener: its My Domain (every endpoint; `run`) and,
//! optionally, the login host standing for login.salesforce.com / test.salesforce.com
//! (`run_with_login`), which answers only the token endpoint, where it refuses the client
//! credentials grant as Salesforce does.
//!
//! Owns the request lifecycle and the sockets; it does not know what any endpoint does. The org
//! lock is taken only in synchronous sections, never across an `.await`.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body as AxumBody, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::net::TcpListener;

use crate::api::{self, ApiRequest, Body, Caller, Route, SimResponse};
use crate::auth::{self, TokenHost, TokenRequest};
use crate::faults::Faults;
use crate::org::Org;
use crate::wire::ApiError;

/// Largest request body accepted (Salesforce caps composite payloads well below this).
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Longest request URI (path and query string, as sent, percent-encoded) Salesforce accepts:
/// "the maximum length for the combined URI and headers is 16,384 bytes ... If the URI itself
/// exceeds this limit, the request returns a 414 URI Too Long error" (REST API Developer Guide,
/// Request Size Limits; Salesforce Help 000386264). Composite subrequest URLs obey it too.
pub const MAX_URI_BYTES: usize = 16_384;

/// The 414 answer. Salesforce's web tier sends it before the API sees the request, so it is not
/// an API error list (the body is not documented; clients must branch on the status).
fn uri_too_long(length: usize) -> Response {
    let mut response = (
        StatusCode::URI_TOO_LONG,
        format!(
            "<html><head><title>414 URI Too Long</title></head><body><h1>URI Too Long</h1>\
             <p>The request URI has {length} bytes; the limit is {MAX_URI_BYTES}.</p></body></html>"
        ),
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=UTF-8"),
    );
    response
}

/// What every request handler needs.
#[derive(Clone)]
struct Shared {
    /// The org being served.
    org: Org,
    /// `http://<bound address>` of the My Domain listener: the org's base URL when no Host
    /// header says otherwise, and the `instance_url` the login host hands out.
    local_base: String,
    /// Which host this listener is.
    host: TokenHost,
}

/// Serves `org` on `listener` (its My Domain) until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    org: Org,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    run_with_login(listener, None, org, shutdown).await
}

/// Serves `org`'s My Domain on `listener` and, when given, its login host on `login`, until
/// `shutdown` completes.
pub async fn run_with_login(
    listener: TcpListener,
    login: Option<TcpListener>,
    org: Org,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr: SocketAddr = listener.local_addr()?;
    let local_base = format!("http://{addr}");
    let router = |host: TokenHost| {
        let shared = Arc::new(Shared {
            org: org.clone(),
            local_base: local_base.clone(),
            host,
        });
        Router::new().fallback(handle).with_state(shared)
    };
    // One shutdown signal for both listeners.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let signal = tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let my_domain = axum::serve(listener, router(TokenHost::MyDomain))
        .with_graceful_shutdown(stopped(stop_rx.clone()));
    let result = match login {
        Some(login) => {
            let login = axum::serve(login, router(TokenHost::Login))
                .with_graceful_shutdown(stopped(stop_rx));
            tokio::try_join!(async { my_domain.await }, async { login.await }).map(|_| ())
        }
        None => my_domain.await,
    };
    signal.abort();
    result
}

fn json_response(status: u16, headers: Vec<(String, String)>, bytes: Vec<u8>) -> Response {
    let mut response = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        bytes,
    )
        .into_response();
    let map = response.headers_mut();
    map.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            map.insert(name, value);
        }
    }
    response
}

fn to_json_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec())
}

fn error_body(code: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&[ApiError::new(code, message)]).unwrap_or_default()
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let uri_length = parts
        .uri
        .path_and_query()
        .map_or(parts.uri.path().len(), |pq| pq.as_str().len());
    if uri_length > MAX_URI_BYTES {
        // Refused at the door: not authenticated, not counted, never faulted.
        return uri_too_long(uri_length);
    }
    let bytes = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b.to_vec(),
        Err(_) => {
            return json_response(
                413,
                Vec::new(),
                error_body("REQUEST_ENTITY_TOO_LARGE", "The request body is too large."),
            );
        }
    };
    let path = parts.uri.path().to_string();
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    tracing::debug!(method = %parts.method, %path, host = ?shared.host, "request");
    if shared.host == TokenHost::Login {
        return match (&parts.method, path.as_str()) {
            (&Method::POST, "/services/oauth2/token") => token(&shared, &parts.headers, &bytes),
            _ => json_response(
                404,
                Vec::new(),
                error_body(
                    "NOT_FOUND",
                    "This is the login host: only /services/oauth2/token answers here; REST \
                     calls go to the instance_url of the token answer",
                ),
            ),
        };
    }
    match (&parts.method, path.as_str()) {
        (&Method::POST, "/services/oauth2/token") => token(&shared, &parts.headers, &bytes),
        (&Method::GET, "/__sim/stats") => {
            let stats = shared.org.stats();
            json_response(
                200,
                Vec::new(),
                serde_json::to_vec(&stats).unwrap_or_default(),
            )
        }
        (&Method::POST, "/__sim/faults") => set_faults(&shared, &bytes),
        (&Method::POST, p) if p.starts_with("/__sim/records/") => {
            insert_as_org(&shared, &p["/__sim/records/".len()..], &bytes)
        }
        (_, p) if p == "/services/data" || p.starts_with("/services/data/") => {
            let headers = parts
                .headers
                .iter()
                .filter_map(|(k, v)| {
                    v.to_str()
                        .ok()
                        .map(|v| (k.as_str().to_ascii_lowercase(), v.to_string()))
                })
                .collect();
            let request = ApiRequest {
                method: parts.method.clone(),
                path,
                query,
                headers,
                body: bytes,
            };
            data_api(&shared, request).await
        }
        _ => json_response(
            404,
            Vec::new(),
            error_body("NOT_FOUND", "The requested resource does not exist"),
        ),
    }
}

/// The org's My Domain base URL for a token answer: on the My Domain, the one the client used
/// (Host header), falling back to the bound address; on the login host, the My Domain listener.
fn instance_base(shared: &Shared, headers: &HeaderMap) -> String {
    if shared.host == TokenHost::Login {
        return shared.local_base.clone();
    }
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|host| format!("http://{host}"))
        .unwrap_or_else(|| shared.local_base.clone())
}

fn token(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(auth::parse_basic);
    let base = instance_base(shared, headers);
    let request = TokenRequest {
        form: &form,
        basic,
        host: shared.host,
        instance_base: &base,
    };
    let mut state = shared.org.lock();
    state.count_request("POST /services/oauth2/token");
    match auth::grant(&mut state, &request) {
        Ok(grant) => json_response(
            200,
            Vec::new(),
            serde_json::to_vec(&grant).unwrap_or_default(),
        ),
        Err(error) => {
            tracing::info!(error = %error.error, description = %error.error_description, "token request refused");
            json_response(
                400,
                Vec::new(),
                serde_json::to_vec(&error).unwrap_or_default(),
            )
        }
    }
}

fn set_faults(shared: &Shared, body: &[u8]) -> Response {
    let faults: Faults = match serde_json::from_slice(body) {
        Ok(f) => f,
        Err(e) => {
            return json_response(
                400,
                Vec::new(),
                error_body("JSON_PARSER_ERROR", &format!("invalid faults: {e}")),
            );
        }
    };
    if let Err(e) = faults.validate() {
        return json_response(400, Vec::new(), error_body("INVALID_INPUT", &e.to_string()));
    }
    shared.org.set_faults(faults.clone());
    json_response(
        200,
        Vec::new(),
        serde_json::to_vec(&faults).unwrap_or_default(),
    )
}

/// `POST /__sim/records/<Object>`: [`crate::Org::insert`] over HTTP, for tests and demos that
/// run sfsim as a separate process. Answers 201 `{"id": ..., "success": true, "errors": []}` or
/// 400 with the record error, like `POST /sobjects/<Object>`.
fn insert_as_org(shared: &Shared, object: &str, body: &[u8]) -> Response {
    let fields = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => fields,
        Ok(_) | Err(_) => {
            return json_response(
                400,
                Vec::new(),
                error_body(
                    "JSON_PARSER_ERROR",
                    "the body must be one JSON object of field values",
                ),
            );
        }
    };
    match shared.org.insert(object, &fields) {
        Ok(id) => json_response(
            201,
            Vec::new(),
            to_json_bytes(&serde_json::json!({"id": id, "success": true, "errors": []})),
        ),
        Err(e) => json_response(400, Vec::new(), error_body(&e.status_code, &e.message)),
    }
}

/// Whether a request tries to change data (composite: if any subrequest does).
fn is_write(request: &ApiRequest, route: &Route) -> bool {
    match route {
        Route::Composite => serde_json::from_slice::<Value>(&request.body)
            .ok()
            .and_then(|v| v.get("compositeRequest").cloned())
            .and_then(|v| v.as_array().cloned())
            .is_some_and(|subs| {
                subs.iter()
                    .filter_map(|s| s.get("method").and_then(Value::as_str))
                    .any(|m| !m.eq_ignore_ascii_case("GET"))
            }),
        Route::SObject(_) | Route::Row(..) | Route::Collections => {
            api::is_write_method(&request.method)
        }
        _ => false,
    }
}

fn bearer(request: &ApiRequest) -> Option<&str> {
    let value = request.header("authorization")?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then(|| token.trim())
}

async fn data_api(shared: &Shared, request: ApiRequest) -> Response {
    let latency = shared.org.lock().faults.latency_ms();
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let mut state = shared.org.lock();
    let limit_header = |used: u64, max: u64| {
        (
            "Sforce-Limit-Info".to_string(),
            format!("api-usage={used}/{max}"),
        )
    };
    let max = state.settings.daily_api_limit;

    if state.faults.http_503() {
        let used = state.stats.api_calls;
        return json_response(
            503,
            vec![limit_header(used, max)],
            error_body(
                "SERVER_UNAVAILABLE",
                "Server temporarily unavailable: the service is down for maintenance or overloaded. Retry later.",
            ),
        );
    }

    let session_expired = || error_body("INVALID_SESSION_ID", "Session expired or invalid");
    let Some(token) = bearer(&request).map(str::to_string) else {
        let used = state.stats.api_calls;
        return json_response(401, vec![limit_header(used, max)], session_expired());
    };
    let Some(user_id) = state.authenticate(&token) else {
        let used = state.stats.api_calls;
        return json_response(401, vec![limit_header(used, max)], session_expired());
    };
    if state.faults.expire_session() {
        state.expire_session(&token);
        let used = state.stats.api_calls;
        return json_response(401, vec![limit_header(used, max)], session_expired());
    }
    if state.stats.api_calls >= max {
        return json_response(
            403,
            vec![limit_header(state.stats.api_calls, max)],
            error_body("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
        );
    }

    let target = api::parse_path(&request.path);
    state.stats.api_calls += 1;
    state.count_request(&target.stats_key(&request.method));
    if is_write(&request, &target.route) {
        state.stats.write_calls += 1;
    }
    let caller = Caller {
        user_id,
        in_composite: false,
    };
    let response: SimResponse = api::dispatch(&mut state, &request, &caller);
    state.store.commit();

    let mut headers: Vec<(String, String)> = response.headers.clone().into_iter().collect();
    headers.push(limit_header(state.stats.api_calls, max));
    match &response.body {
        Body::Empty => {
            let mut r = json_response(response.status, headers, Vec::new());
            r.headers_mut().remove(header::CONTENT_TYPE);
            *r.body_mut() = AxumBody::empty();
            r
        }
        Body::Json(value) => {
            let mut bytes = to_json_bytes(value);
            if response.status == 200 && state.faults.malformed_json() {
                // Cut mid-document: what a dropped connection or a broken proxy leaves behind.
                bytes.truncate(bytes.len() / 2);
            }
            json_response(response.status, headers, bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use crate::Org;

    /// One HTTP/1.1 POST over a plain socket; answers the status line and the body.
    async fn post(base: &str, path: &str, body: &str) -> (String, String) {
        let addr = base.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).await.expect("connects");
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.expect("sent");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.expect("read");
        let status = answer.lines().next().unwrap_or_default().to_string();
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    #[tokio::test]
    async fn a_test_records_a_call_over_http_as_the_org_itself() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed-example.json");
        let org = Org::from_fixture_file(&path).expect("seed loads");
        let sim = crate::start(org).await.expect("starts");
        let (status, body) = post(
            &sim.url,
            "/__sim/records/VoiceCall",
            r#"{"CallType": "Inbound", "UserId": "005000000000002AAA",
                "CallStartDateTime": "2026-06-30T22:00:00Z"}"#,
        )
        .await;
        assert!(status.contains(" 201 "), "{status} {body}");
        assert!(body.contains("\"success\":true"), "{body}");
        assert_eq!(sim.org.records("VoiceCall").len(), 1);

        let (status, body) = post(&sim.url, "/__sim/records/VoiceCall", r#"{"Bogus": 1}"#).await;
        assert!(status.contains(" 400 "), "{status} {body}");
        assert!(body.contains("INVALID_FIELD"), "{body}");
        assert_eq!(sim.org.records("VoiceCall").len(), 1);
        sim.stop().await;
    }
}
