//! The frame every HTML page shares (`templates/base.html`): what a page hands it, the
//! Content-Security-Policy that allows exactly the page's inline style and scripts, and the
//! escaper every template prints org text through.
//!
//! Owns: [`Layout`], [`Inert`], [`STYLE`] (the shared stylesheet, `templates/style.css`),
//! [`SORT_SCRIPT`] (`templates/sort.js`), [`csp_hash`].
//! Must not: know about any one page (scan, usage, apply): pages bring their own style and
//! scripts as `&'static str` so that their hashes go into the policy; nothing here may let a
//! page load anything by URL.

use std::fmt;

use sha2::{Digest, Sha256};

/// askama drops one final newline from every template file it reads (`{% include %}` too), so
/// the text it puts into the page is the file without it; the policy must hash that text.
const fn without_final_newline(text: &str) -> &str {
    let bytes = text.as_bytes();
    if let [rest @ .., b'\n'] = bytes {
        match std::str::from_utf8(rest) {
            Ok(rest) => rest,
            // Unreachable: cutting an ASCII newline off valid UTF-8 leaves valid UTF-8.
            Err(_) => text,
        }
    } else {
        text
    }
}

/// The shared stylesheet, as `base.html` inlines it with `{% include "style.css" %}`; its hash
/// goes into every page's policy. Also used by the daemon's status page.
pub const STYLE: &str = without_final_newline(include_str!("../../../templates/style.css"));

/// The script that makes a `table.sortable` sortable by its column headers (each header becomes
/// a button; again to reverse; a cell's `data-sort` overrides its text as the key, a header's
/// `data-type="number"` sorts numerically). Tables are complete without it.
pub const SORT_SCRIPT: &str = include_str!("../../../templates/sort.js");

/// What `base.html` needs from a page. Every page template has a `layout: Layout` field.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The `<title>`, and the `<h1>` unless the page fills the `heading` block.
    pub title: String,
    /// Shows the SIMULATED ORG banner: numbers from sfsim must never pass for a real org's.
    pub simulated: bool,
    /// The footer names what wrote the page, so a page can be traced to a release.
    pub tool_name: String,
    /// See `tool_name`.
    pub tool_version: String,
    /// The page's own CSS beyond the shared stylesheet, inline in a second `<style>` (empty:
    /// none). Static so the policy hashes exactly what the page prints.
    pub page_style: &'static str,
    /// The page's inline scripts, in order. Static for the same reason.
    pub scripts: Vec<&'static str>,
}

impl Layout {
    /// A page titled `title`, by this build of pslwarden, with no style or script of its own.
    pub fn new(title: impl Into<String>, simulated: bool) -> Self {
        Self {
            title: title.into(),
            simulated,
            tool_name: env!("CARGO_PKG_NAME").to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            page_style: "",
            scripts: Vec::new(),
        }
    }

    /// The page's own inline CSS.
    pub fn with_style(mut self, page_style: &'static str) -> Self {
        self.page_style = page_style;
        self
    }

    /// One more inline script (e.g. [`SORT_SCRIPT`]).
    pub fn with_script(mut self, script: &'static str) -> Self {
        self.scripts.push(script);
        self
    }

    /// The page's Content-Security-Policy: nothing may load from anywhere, and only this page's
    /// own style and scripts may apply or run, so even text that escaped escaping could neither
    /// run a script nor call out.
    pub fn csp(&self) -> String {
        let mut styles = vec![format!("'{}'", csp_hash(STYLE))];
        if !self.page_style.is_empty() {
            styles.push(format!("'{}'", csp_hash(self.page_style)));
        }
        let scripts: Vec<String> = self
            .scripts
            .iter()
            .map(|script| format!("'{}'", csp_hash(script)))
            .collect();
        let scripts = if scripts.is_empty() {
            "'none'".to_string()
        } else {
            scripts.join(" ")
        };
        format!(
            "default-src 'none'; style-src {}; script-src {scripts}; base-uri 'none'; \
             form-action 'none'",
            styles.join(" ")
        )
    }

    /// The banner's words, shared with the other report formats.
    pub fn simulated_notice(&self) -> &'static str {
        crate::report::SIMULATED_ORG_NOTICE
    }
}

/// The escaper every template uses for `.html` files (see `askama.toml`): [`crate::text::html`],
/// so org text is inert in a page exactly as in every other HTML output (entities for markup
/// characters; control and bidi characters spelled out), and escaped once.
#[derive(Debug, Clone, Copy, Default)]
pub struct Inert;

impl askama::filters::Escaper for Inert {
    fn write_escaped_str<W: fmt::Write>(&self, mut dest: W, string: &str) -> fmt::Result {
        dest.write_str(&crate::text::html(string))
    }
}

/// A Content-Security-Policy source allowing exactly this inline text.
pub fn csp_hash(inline: &str) -> String {
    format!("sha256-{}", base64(&Sha256::digest(inline.as_bytes())))
}

/// Standard base64 with padding (RFC 4648 §4), for the policy's hashes.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Test check for any page: every inline `<style>` and `<script>` in `html` is allowed by the
/// page's policy by hash, and nothing is loaded by URL.
#[cfg(test)]
pub(crate) fn assert_self_contained(html: &str) {
    let policy = html
        .split("http-equiv=\"Content-Security-Policy\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a Content-Security-Policy meta");
    assert!(policy.starts_with("default-src 'none';"), "{policy}");
    for (open, close) in [("<style>", "</style>"), ("<script>", "</script>")] {
        for part in html.split(open).skip(1) {
            let body = part.split(close).next().expect("closed");
            assert!(
                policy.contains(&csp_hash(body)),
                "{open} not allowed by the policy: {body:.60}"
            );
        }
    }
    assert_eq!(
        html.matches("<script").count(),
        html.matches("<script>").count()
    );
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(!html.contains("src="), "no resource is loaded by URL");
    assert!(!html.contains("@import"));
    for reference in html.split("href=").skip(1) {
        assert!(reference.starts_with("\"#"), "href={reference:.40}");
    }
    for reference in html.split("url(").skip(1) {
        assert!(reference.starts_with('#'), "url({reference:.40}");
    }
}

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::*;

    /// A page that only fills the base layout's blocks, as every real page does.
    #[derive(Template)]
    #[template(
        source = "{% extends \"base.html\" %}{% block content %}<p>{{ text }}</p>{% endblock %}",
        ext = "html"
    )]
    struct Probe {
        layout: Layout,
        text: String,
    }

    const HOSTILE: &str = "<script>alert(1)</script>\u{1b}]0;x\u{202e}";

    #[test]
    fn the_base_page_is_self_contained_with_a_policy_for_its_style() {
        let page = Probe {
            layout: Layout::new("Probe", false)
                .with_style("p { color: red; }")
                .with_script(SORT_SCRIPT),
            text: "hello".into(),
        };
        let html = page.render().expect("renders");
        assert_self_contained(&html);
        assert!(html.contains(&format!("<style>{STYLE}</style>")), "{html}");
        assert!(html.contains("<style>p { color: red; }</style>"));
        assert!(html.contains(&format!("<script>{SORT_SCRIPT}</script>")));
        assert!(html.contains("<title>Probe</title>"));
        assert!(html.contains(&format!("pslwarden {}", env!("CARGO_PKG_VERSION"))));
        assert!(!html.contains("SIMULATED ORG"));
    }

    #[test]
    fn the_banner_shows_for_a_simulated_org_and_no_script_means_none() {
        let page = Probe {
            layout: Layout::new("Probe", true),
            text: String::new(),
        };
        let html = page.render().expect("renders");
        assert!(html.contains("SIMULATED ORG"));
        assert!(html.contains("script-src 'none'"));
        assert!(!html.contains("<script"));
        assert_self_contained(&html);
    }

    #[test]
    fn org_text_is_escaped_once_and_control_characters_are_spelled_out() {
        let page = Probe {
            layout: Layout::new(HOSTILE, false),
            text: format!("a&b {HOSTILE}"),
        };
        let html = page.render().expect("renders");
        assert!(!html.contains("<script>alert"));
        assert!(
            html.contains("<p>a&amp;b &lt;script&gt;alert(1)&lt;/script&gt;\\u001b]0;x\\u202e</p>")
        );
        assert!(!html.contains("&amp;lt;"), "escaped twice");
    }

    #[test]
    fn base64_and_hash_match_known_vectors() {
        assert_eq!(base64(b"pslwarden"), "cHNsd2FyZGVu");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(
            csp_hash(""),
            "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }
}
