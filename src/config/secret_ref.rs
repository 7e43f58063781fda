//! Secret references: where the config says a secret lives (an environment variable or a file,
//! [`SecretSpec`]), the checks of the `<name>_env` / `<name>_file` keys, and reading a secret when
//! an org is connected.
//!
//! Owns: the rule that a secret is never written in the config file, and the wording of every
//! secret error, which names the key and the variable or file, never the value.
//!
//! Must not: read a secret while the config is checked (only [`read_secret`], when connecting),
//! or keep secret text anywhere but in a [`Secret`].

use std::ops::Range;
use std::path::PathBuf;

use toml::Spanned;

use super::{Checker, ConfigError, Origin, line_of, resolve};
use crate::secret::Secret;

/// One secret's three possible keys as written: `<name>_env`, `<name>_file`, and `<name>` itself
/// (refused).
pub(super) struct SecretKeys<'a> {
    name: &'static str,
    env: &'a Option<Spanned<String>>,
    file: &'a Option<Spanned<String>>,
    inline: &'a Option<Spanned<toml::Value>>,
}

impl<'a> SecretKeys<'a> {
    pub(super) fn new(
        name: &'static str,
        env: &'a Option<Spanned<String>>,
        file: &'a Option<Spanned<String>>,
        inline: &'a Option<Spanned<toml::Value>>,
    ) -> Self {
        SecretKeys {
            name,
            env,
            file,
            inline,
        }
    }
}

/// Where to read one secret from.
#[derive(Debug, Clone)]
pub enum SecretSpec {
    Env {
        var: String,
        key: String,
        span: Range<usize>,
    },
    File {
        path: PathBuf,
        key: String,
        span: Range<usize>,
    },
    /// Compiled into the binary: only the demo-only key of the built-in simulated org, in
    /// `demo` builds only.
    #[cfg(feature = "demo")]
    Builtin(&'static str),
}

/// A secret could not be read. Names the config key and the variable or file, never the value.
#[derive(Debug, thiserror::Error)]
#[error("{config}:{line}: `{key}`: {message}")]
pub struct SecretError {
    pub config: PathBuf,
    pub line: usize,
    pub key: String,
    pub message: String,
}

/// Reads one secret, naming the config line of its key (never its value) when it fails.
pub(super) fn read_secret(origin: &Origin, spec: &SecretSpec) -> Result<Secret, SecretError> {
    let fail = |key: &str, span: &Range<usize>, message: String| SecretError {
        config: origin.path.clone(),
        line: line_of(&origin.text, span.start),
        key: key.to_string(),
        message,
    };
    match spec {
        #[cfg(feature = "demo")]
        SecretSpec::Builtin(value) => Ok(Secret::new(*value)),
        SecretSpec::Env { var, key, span } => match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim().to_string())),
            Ok(_) => Err(fail(
                key,
                span,
                format!("environment variable {var} is empty: set it to the secret"),
            )),
            Err(_) => Err(fail(
                key,
                span,
                format!(
                    "environment variable {var} is not set: export it before running pslwarden"
                ),
            )),
        },
        SecretSpec::File { path, key, span } => match std::fs::read_to_string(path) {
            Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim().to_string())),
            Ok(_) => Err(fail(key, span, format!("{} is empty", path.display()))),
            Err(e) => Err(fail(
                key,
                span,
                format!("cannot read {}: {e}", path.display()),
            )),
        },
    }
}

impl Checker {
    /// Checks one secret's keys: exactly one of `_env` / `_file` when `required`, at most one
    /// otherwise, and never the secret itself.
    pub(super) fn secret(
        &self,
        keys: SecretKeys<'_>,
        prefix: &str,
        auth_span: Range<usize>,
        required: bool,
    ) -> Result<Option<SecretSpec>, ConfigError> {
        let name = keys.name;
        if let Some(inline) = keys.inline {
            return Err(self.invalid(
                inline.span(),
                &format!("{prefix}.{name}"),
                format!(
                    "a secret must not be written in the config file: put it in an environment \
                     variable named by `{name}_env`, or in a file readable only by pslwarden named \
                     by `{name}_file`"
                ),
            ));
        }
        match (keys.env, keys.file) {
            (Some(_), Some(file)) => Err(self.invalid(
                file.span(),
                &format!("{prefix}.{name}_file"),
                format!("give either `{name}_env` or `{name}_file`, not both"),
            )),
            (Some(var), None) => {
                let var_name = var.get_ref().trim();
                let valid = !var_name.is_empty()
                    && var_name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !valid {
                    return Err(self.invalid(
                        var.span(),
                        &format!("{prefix}.{name}_env"),
                        "must be the NAME of an environment variable (letters, digits, _), not the secret itself",
                    ));
                }
                Ok(Some(SecretSpec::Env {
                    var: var_name.to_string(),
                    key: format!("{prefix}.{name}_env"),
                    span: var.span(),
                }))
            }
            (None, Some(path)) => Ok(Some(SecretSpec::File {
                path: resolve(&self.origin.base_dir, path.get_ref()),
                key: format!("{prefix}.{name}_file"),
                span: path.span(),
            })),
            (None, None) if required => Err(self.invalid(
                auth_span,
                &format!("{prefix}.{name}_env"),
                format!(
                    "missing `{name}_env` (an environment variable holding the {}) or \
                     `{name}_file` (a file holding it)",
                    name.replace('_', " ")
                ),
            )),
            (None, None) => Ok(None),
        }
    }

    /// A required secret (see [`Checker::secret`]).
    pub(super) fn required_secret(
        &self,
        keys: SecretKeys<'_>,
        prefix: &str,
        auth_span: Range<usize>,
    ) -> Result<SecretSpec, ConfigError> {
        self.secret(keys, prefix, auth_span, true)?
            .ok_or_else(|| self.invalid(0..0, prefix, "missing secret"))
    }
}
