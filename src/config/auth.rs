//! `[org.auth]` and `[org.http]`: how pslwarden signs in to an org ([`AuthSpec`], secrets still
//! referenced) and how it talks to it (retry, timeout, response size limit), checked; and
//! [`OrgSettings::connection_settings`], which reads the secrets and builds the client's settings.
//!
//! Owns: which keys each sign-in flow takes, the URL rules (https, not a shared login server for
//! client credentials), and the http limits.
//!
//! Must not: connect to anything, or read a secret before an org is connected.

use std::path::PathBuf;
use std::time::Duration;

use toml::Spanned;

use super::{
    Checker, ConfigError, OrgSettings, RawHttp, RawOrg, SecretError, SecretKeys, SecretSpec,
    SimulatorSpec, read_secret, resolve,
};
use crate::salesforce::settings::{
    AuthFlow, ConnectionSettings, DEFAULT_MAX_RESPONSE_BYTES, RetryPolicy, is_shared_login_host,
};
use crate::secret::Secret;

/// Sign-in settings with secrets still unresolved.
#[derive(Debug, Clone)]
pub enum AuthSpec {
    Jwt {
        login_url: Option<String>,
        consumer_key: String,
        username: String,
        audience: Option<String>,
        private_key: SecretSpec,
    },
    ClientCredentials {
        login_url: Option<String>,
        client_id: String,
        client_secret: SecretSpec,
    },
    RefreshToken {
        login_url: Option<String>,
        client_id: String,
        client_secret: Option<SecretSpec>,
        refresh_token: SecretSpec,
    },
    AccessToken {
        instance_url: Option<String>,
        access_token: SecretSpec,
    },
    /// The session of an existing `sf org login`; no secret in the config at all.
    SfCli {
        target_org: String,
        program: PathBuf,
    },
}

impl OrgSettings {
    /// Reads this org's secrets and builds the client's settings. `sim_url` is the base URL of
    /// the in-process simulator, for a simulated org.
    pub fn connection_settings(
        &self,
        sim_url: Option<&str>,
    ) -> Result<ConnectionSettings, SecretError> {
        let url_or_sim = |url: &Option<String>| -> String {
            url.clone()
                .or_else(|| sim_url.map(str::to_string))
                .unwrap_or_default()
        };
        let auth = match &self.auth {
            AuthSpec::Jwt {
                login_url,
                consumer_key,
                username,
                audience,
                private_key,
            } => {
                let login_url = url_or_sim(login_url);
                AuthFlow::Jwt {
                    audience: audience.clone(),
                    login_url,
                    consumer_key: consumer_key.clone(),
                    username: username.clone(),
                    private_key_pem: self.read_secret(private_key)?,
                }
            }
            AuthSpec::ClientCredentials {
                login_url,
                client_id,
                client_secret,
            } => AuthFlow::ClientCredentials {
                login_url: url_or_sim(login_url),
                client_id: client_id.clone(),
                client_secret: self.read_secret(client_secret)?,
            },
            AuthSpec::RefreshToken {
                login_url,
                client_id,
                client_secret,
                refresh_token,
            } => AuthFlow::RefreshToken {
                login_url: url_or_sim(login_url),
                client_id: client_id.clone(),
                client_secret: client_secret
                    .as_ref()
                    .map(|s| self.read_secret(s))
                    .transpose()?,
                refresh_token: self.read_secret(refresh_token)?,
            },
            AuthSpec::AccessToken {
                instance_url,
                access_token,
            } => AuthFlow::AccessToken {
                instance_url: url_or_sim(instance_url),
                access_token: self.read_secret(access_token)?,
            },
            AuthSpec::SfCli {
                target_org,
                program,
            } => AuthFlow::SfCli {
                target_org: target_org.clone(),
                program: program.clone(),
            },
        };
        Ok(ConnectionSettings {
            api_version: self.api_version.clone(),
            auth,
            retry: self.retry.clone(),
            request_timeout: self.request_timeout,
            max_response_bytes: self.max_response_bytes,
        })
    }

    fn read_secret(&self, spec: &SecretSpec) -> Result<Secret, SecretError> {
        read_secret(&self.origin, spec)
    }
}

/// Largest `http.max_response_mib` accepted (4 GiB): beyond that the limit protects nothing.
const MAX_RESPONSE_MIB: u64 = 4096;

/// The longest `http.max_delay_ms`: ten minutes. It is also the longest `Retry-After` waited
/// out, and past that a night's job would sit idle on one request.
const MAX_DELAY_MS: u64 = 600_000;

impl Checker {
    /// Checks `[org.auth]`: the flow, the keys it takes, its URLs and its secret references.
    /// `simulator` is the org's simulator, which stands in for a missing URL.
    pub(super) fn auth(
        &self,
        org: &RawOrg,
        simulator: Option<&SimulatorSpec>,
        prefix: &str,
    ) -> Result<AuthSpec, ConfigError> {
        let c = self;
        let auth_key = format!("{prefix}.auth");
        let need_url = |url: &Option<String>, key: &str| -> Result<(), ConfigError> {
            if url.is_none() && simulator.is_none() {
                Err(c.invalid(
                    org.auth.span(),
                    &format!("{auth_key}.{key}"),
                    format!("missing `{key}`: the org's login or My Domain URL (https://...)"),
                ))
            } else {
                Ok(())
            }
        };
        let span = org.auth.span();
        let a = org.auth.get_ref();
        let flow = a.flow.get_ref().as_str();
        let allowed: &[&str] = match flow {
            "jwt" => &[
                "login_url",
                "consumer_key",
                "username",
                "audience",
                "private_key_env",
                "private_key_file",
            ],
            "client_credentials" => &[
                "login_url",
                "client_id",
                "client_secret_env",
                "client_secret_file",
            ],
            "refresh_token" => &[
                "login_url",
                "client_id",
                "client_secret_env",
                "client_secret_file",
                "refresh_token_env",
                "refresh_token_file",
            ],
            "access_token" => &["instance_url", "access_token_env", "access_token_file"],
            "sf_cli" => &["target_org", "sf_path"],
            other => {
                return Err(c.invalid(
                    a.flow.span(),
                    &format!("{auth_key}.flow"),
                    format!(
                        "unknown flow `{other}`: use jwt, client_credentials, refresh_token, access_token or sf_cli"
                    ),
                ));
            }
        };
        // Inline secrets first: the most important thing to tell the user about.
        for (name, inline) in [
            ("private_key", &a.private_key),
            ("client_secret", &a.client_secret),
            ("refresh_token", &a.refresh_token),
            ("access_token", &a.access_token),
        ] {
            c.secret(
                SecretKeys::new(name, &None, &None, inline),
                &auth_key,
                span.clone(),
                false,
            )?;
        }
        if let Some((key, key_span)) = a
            .present_keys()
            .into_iter()
            .find(|(k, _)| !allowed.contains(k))
        {
            return Err(c.invalid(
                key_span,
                &format!("{auth_key}.{key}"),
                format!(
                    "`{key}` does not belong to flow `{flow}`; its keys are: {}",
                    allowed.join(", ")
                ),
            ));
        }
        let required = |v: &Option<Spanned<String>>, key: &str| -> Result<String, ConfigError> {
            match v {
                Some(v) => c.non_empty(v, &format!("{auth_key}.{key}")),
                None => Err(c.invalid(
                    span.clone(),
                    &format!("{auth_key}.{key}"),
                    format!("missing `{key}`, needed by flow `{flow}`"),
                )),
            }
        };
        let auth = match flow {
            "jwt" => {
                let login_url = c.url(&a.login_url, &format!("{auth_key}.login_url"))?;
                need_url(&login_url, "login_url")?;
                AuthSpec::Jwt {
                    login_url,
                    consumer_key: required(&a.consumer_key, "consumer_key")?,
                    username: required(&a.username, "username")?,
                    audience: c.url(&a.audience, &format!("{auth_key}.audience"))?,
                    private_key: c.required_secret(
                        SecretKeys::new(
                            "private_key",
                            &a.private_key_env,
                            &a.private_key_file,
                            &None,
                        ),
                        &auth_key,
                        span.clone(),
                    )?,
                }
            }
            "client_credentials" => {
                let login_url = c.url(&a.login_url, &format!("{auth_key}.login_url"))?;
                need_url(&login_url, "login_url")?;
                if let (Some(url), Some(raw)) = (&login_url, &a.login_url)
                    && is_shared_login_host(url)
                {
                    return Err(c.invalid(
                        raw.span(),
                        &format!("{auth_key}.login_url"),
                        format!(
                            "`{url}` is a shared login server, and Salesforce refuses the client \
                             credentials flow there (\"request not supported on this domain\"): \
                             use the org's My Domain URL, e.g. \
                             https://<your-domain>.my.salesforce.com (Setup > My Domain)"
                        ),
                    ));
                }
                AuthSpec::ClientCredentials {
                    login_url,
                    client_id: required(&a.client_id, "client_id")?,
                    client_secret: c.required_secret(
                        SecretKeys::new(
                            "client_secret",
                            &a.client_secret_env,
                            &a.client_secret_file,
                            &None,
                        ),
                        &auth_key,
                        span.clone(),
                    )?,
                }
            }
            "refresh_token" => {
                let login_url = c.url(&a.login_url, &format!("{auth_key}.login_url"))?;
                need_url(&login_url, "login_url")?;
                AuthSpec::RefreshToken {
                    login_url,
                    client_id: required(&a.client_id, "client_id")?,
                    client_secret: c.secret(
                        SecretKeys::new(
                            "client_secret",
                            &a.client_secret_env,
                            &a.client_secret_file,
                            &None,
                        ),
                        &auth_key,
                        span.clone(),
                        false,
                    )?,
                    refresh_token: c.required_secret(
                        SecretKeys::new(
                            "refresh_token",
                            &a.refresh_token_env,
                            &a.refresh_token_file,
                            &None,
                        ),
                        &auth_key,
                        span.clone(),
                    )?,
                }
            }
            "sf_cli" => {
                let target_org = required(&a.target_org, "target_org")?;
                if target_org.starts_with('-') {
                    return Err(c.invalid(
                        a.target_org.as_ref().map_or(span.clone(), Spanned::span),
                        &format!("{auth_key}.target_org"),
                        "an alias or username cannot start with `-`: use the name shown by \
                         `sf org list`",
                    ));
                }
                let program = match &a.sf_path {
                    None => PathBuf::from("sf"),
                    Some(raw) => {
                        let value = c.non_empty(raw, &format!("{auth_key}.sf_path"))?;
                        // A bare name is looked up on PATH like a shell would; a path is
                        // relative to the config file, like every other path in it.
                        if value.contains('/') || value.contains('\\') {
                            resolve(&c.origin.base_dir, &value)
                        } else {
                            PathBuf::from(value)
                        }
                    }
                };
                AuthSpec::SfCli {
                    target_org,
                    program,
                }
            }
            _ => {
                let instance_url = c.url(&a.instance_url, &format!("{auth_key}.instance_url"))?;
                need_url(&instance_url, "instance_url")?;
                AuthSpec::AccessToken {
                    instance_url,
                    access_token: c.required_secret(
                        SecretKeys::new(
                            "access_token",
                            &a.access_token_env,
                            &a.access_token_file,
                            &None,
                        ),
                        &auth_key,
                        span.clone(),
                    )?,
                }
            }
        };
        Ok(auth)
    }

    /// Checks `[org.http]` over `[defaults.http]`: retry policy, timeout, response size limit.
    pub(super) fn http(
        &self,
        org: &RawHttp,
        defaults: &RawHttp,
        prefix: &str,
    ) -> Result<(RetryPolicy, Duration, u64), ConfigError> {
        let timeout = org
            .timeout_seconds
            .as_ref()
            .or(defaults.timeout_seconds.as_ref());
        let timeout = match timeout {
            Some(t) if *t.get_ref() == 0 || *t.get_ref() > 600 => {
                return Err(self.invalid(
                    t.span(),
                    &format!("{prefix}.http.timeout_seconds"),
                    "must be between 1 and 600 seconds",
                ));
            }
            Some(t) => Duration::from_secs(*t.get_ref()),
            None => Duration::from_secs(60),
        };
        let mut retry = RetryPolicy::default();
        if let Some(a) = org.max_attempts.as_ref().or(defaults.max_attempts.as_ref()) {
            if *a.get_ref() == 0 || *a.get_ref() > 20 {
                return Err(self.invalid(
                    a.span(),
                    &format!("{prefix}.http.max_attempts"),
                    "must be between 1 and 20",
                ));
            }
            retry.max_attempts = *a.get_ref();
        }
        let max_delay = org.max_delay_ms.as_ref().or(defaults.max_delay_ms.as_ref());
        if let Some(ms) = max_delay {
            if *ms.get_ref() == 0 || *ms.get_ref() > MAX_DELAY_MS {
                return Err(self.invalid(
                    ms.span(),
                    &format!("{prefix}.http.max_delay_ms"),
                    format!("must be between 1 and {MAX_DELAY_MS} (milliseconds)"),
                ));
            }
            retry.max_delay = Duration::from_millis(*ms.get_ref());
        }
        if let Some(ms) = org
            .base_delay_ms
            .as_ref()
            .or(defaults.base_delay_ms.as_ref())
        {
            if Duration::from_millis(*ms.get_ref()) > retry.max_delay {
                return Err(self.invalid(
                    ms.span(),
                    &format!("{prefix}.http.base_delay_ms"),
                    format!(
                        "must not be more than max_delay_ms ({} ms): the first wait is the \
                         shortest",
                        retry.max_delay.as_millis()
                    ),
                ));
            }
            retry.base_delay = Duration::from_millis(*ms.get_ref());
        }
        let max_response_bytes = match org
            .max_response_mib
            .as_ref()
            .or(defaults.max_response_mib.as_ref())
        {
            Some(m) if *m.get_ref() == 0 || *m.get_ref() > MAX_RESPONSE_MIB => {
                return Err(self.invalid(
                    m.span(),
                    &format!("{prefix}.http.max_response_mib"),
                    format!("must be between 1 and {MAX_RESPONSE_MIB} (MiB)"),
                ));
            }
            Some(m) => *m.get_ref() * 1024 * 1024,
            None => DEFAULT_MAX_RESPONSE_BYTES,
        };
        Ok((retry, timeout, max_response_bytes))
    }
}
