//! Text from the org made inert for each place people read it.
//!
//! Owns: the one set of functions every output path calls on text that came from the org
//! (usernames, names, labels, permission set and contact center names, the org's error messages):
//! [`terminal`] and [`terminal_block`] for the terminal and plain-text logs, [`markdown`] and
//! [`markdown_code`] for `report.md`, `apply.md` and `rollback.md`, [`html`] for the HTML pages,
//! [`slack`] for Slack-format webhooks. The CSV formula guard stays in `report::csv::field`.
//! Must not: drop or reorder characters a reader needs to recognise a record. What cannot be
//! shown safely is spelled out as a `\uXXXX` escape (the JSON form, so JSON printed to a terminal
//! stays valid JSON meaning the same text), never silently removed.
//!
//! Characters that are never shown raw anywhere:
//! - C0 controls U+0000–U+001F (ESC starts ANSI CSI/OSC sequences that can retitle or clear a
//!   terminal; BEL ends OSC; CR and backspace overwrite what was printed), DEL U+007F;
//! - C1 controls U+0080–U+009F (U+009B is a one-character CSI on some terminals);
//! - bidirectional formatting characters (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069),
//!   which can make `gro.evil` read as `evil.org`;
//! - the Unicode line and paragraph separators U+2028 and U+2029, which some viewers break on.

use std::fmt::Write as _;

/// True for a character that could steer a terminal or a viewer instead of being read.
fn is_unsafe(ch: char) -> bool {
    matches!(ch,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{061c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{2028}'
        | '\u{2029}')
}

fn push_escaped(out: &mut String, ch: char) {
    // Every unsafe character is in the Basic Multilingual Plane, so four digits always suffice.
    let _ = write!(out, "\\u{:04x}", ch as u32);
}

/// One value from the org for the terminal (a table cell, a name in a sentence): every unsafe
/// character, line breaks and tabs included, is shown as `\uXXXX`, so a value stays on its line.
pub fn terminal(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for ch in raw.chars() {
        if is_unsafe(ch) {
            push_escaped(&mut out, ch);
        } else {
            out.push(ch);
        }
    }
    out
}

/// A whole text for the terminal (a command's output, an error): our own line breaks and tabs
/// stay; every other unsafe character is shown as `\uXXXX`. The last line of defence: values
/// should already have gone through [`terminal`].
pub fn terminal_block(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for ch in raw.chars() {
        if is_unsafe(ch) && ch != '\n' && ch != '\t' {
            push_escaped(&mut out, ch);
        } else {
            out.push(ch);
        }
    }
    out
}

/// One plain-text log line as the log formatter wrote it. The formatter already escapes ESC in
/// field values, so an ESC here is its own colouring and stays; the final line break stays;
/// every other unsafe character (a CR or bidi override from the org, a line break inside a
/// message that would forge a second log line) is shown as `\uXXXX`.
pub fn log_line(raw: &str) -> String {
    let body = raw.strip_suffix('\n');
    let mut out = String::with_capacity(raw.len());
    for ch in body.unwrap_or(raw).chars() {
        if is_unsafe(ch) && ch != '\u{1b}' && ch != '\t' {
            push_escaped(&mut out, ch);
        } else {
            out.push(ch);
        }
    }
    if body.is_some() {
        out.push('\n');
    }
    out
}

/// Prose from the org for Markdown: on one line, unsafe characters spelled out, and every
/// character Markdown (or the HTML a Markdown viewer passes through) could read as syntax
/// backslash-escaped. CommonMark shows a backslash-escaped ASCII punctuation character as
/// itself, so the reader sees the original text; a leading `#`, `-`, `+` or `=` is escaped too,
/// so a value at the start of a list item cannot become a heading or a nested list.
pub fn markdown(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for (i, ch) in one_line(raw).chars().enumerate() {
        if is_unsafe(ch) {
            push_escaped(&mut out, ch);
            continue;
        }
        let syntax = matches!(
            ch,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '~' | '!'
        ) || (i == 0 && matches!(ch, '#' | '-' | '+' | '='));
        if syntax {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// An identifier from the org (username, record id, license name) as a Markdown code span for a
/// table cell: shown verbatim (a code span passes no HTML and no emphasis), unsafe characters
/// spelled out, `|` escaped because GitHub-flavoured tables split cells on it even inside code
/// spans.
pub fn markdown_code(raw: &str) -> String {
    let inner = terminal(&one_line(raw)).replace('|', "\\|");
    // A code span's fence must be longer than any run of backticks inside it.
    let longest_run = inner.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    // A space on each side stops a leading or trailing backtick from joining the fence; the
    // renderer strips one space from each side.
    if inner.starts_with('`') || inner.ends_with('`') {
        format!("{fence} {inner} {fence}")
    } else {
        format!("{fence}{inner}{fence}")
    }
}

/// Line breaks would end a table row or a list item; a space keeps the words apart.
fn one_line(raw: &str) -> String {
    raw.replace("\r\n", " ").replace(['\r', '\n'], " ")
}

/// Text for HTML element content and double- or single-quoted attribute values: the five
/// markup characters as entities, unsafe characters spelled out.
pub fn html(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for ch in raw.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            ch if is_unsafe(ch) && ch != '\n' => push_escaped(&mut out, ch),
            _ => out.push(ch),
        }
    }
    out
}

/// Text for a Slack message (`mrkdwn`): Slack reads `&`, `<` and `>` as control characters
/// (`<!channel>` pings everyone, `<https://a|b>` shows `b` for a link to `a`), and asks for
/// exactly these three as HTML entities; unsafe characters are spelled out.
pub fn slack(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for ch in raw.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            ch if is_unsafe(ch) => push_escaped(&mut out, ch),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hostile username of the integration tests: HTML, Markdown, an OSC retitle ended by
    /// BEL, a CSI screen clear, a Slack channel ping and a disguised Slack link.
    const HOSTILE: &str =
        "<script>alert(1)</script>|*x*\u{1b}]0;pwned\u{7}\u{1b}[2J<!channel><https://evil|ok>";

    #[test]
    fn the_terminal_sees_no_control_character() {
        let shown = terminal(HOSTILE);
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
            "{shown:?}"
        );
        assert!(
            shown.contains("\\u001b]0;pwned\\u0007\\u001b[2J"),
            "{shown}"
        );
        assert_eq!(
            terminal("a\rb\u{8}c\u{9b}d\u{202e}e\nf"),
            "a\\u000db\\u0008c\\u009bd\\u202ee\\u000af"
        );
        assert_eq!(terminal("user2@seed-example.org"), "user2@seed-example.org");
    }

    #[test]
    fn a_block_keeps_its_own_lines_and_tabs() {
        assert_eq!(
            terminal_block("a\tb\nc\u{1b}[2J\r"),
            "a\tb\nc\\u001b[2J\\u000d"
        );
    }

    #[test]
    fn a_log_line_keeps_its_colour_and_end_but_not_a_forged_second_line() {
        assert_eq!(
            log_line("\u{1b}[32mINFO\u{1b}[0m user=a\nERROR fake\r\u{202e}x\n"),
            "\u{1b}[32mINFO\u{1b}[0m user=a\\u000aERROR fake\\u000d\\u202ex\n"
        );
    }

    #[test]
    fn markdown_prose_escapes_every_syntax_character() {
        assert_eq!(
            markdown(HOSTILE),
            "\\<script\\>alert(1)\\</script\\>\\|\\*x\\*\\u001b\\]0;pwned\\u0007\\u001b\\[2J\\<\\!channel\\>\
             \\<https://evil\\|ok\\>"
        );
        assert_eq!(markdown("# title\nnext"), "\\# title next");
        assert_eq!(markdown("`code` [link](x)"), "\\`code\\` \\[link\\](x)");
    }

    #[test]
    fn markdown_code_spans_survive_backticks_pipes_and_controls() {
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("`x"), "`` `x ``");
        assert_eq!(markdown_code("plain"), "`plain`");
        assert_eq!(markdown_code("a|b\u{1b}c\nd"), "`a\\|b\\u001bc d`");
    }

    #[test]
    fn html_and_slack_escape_their_markup() {
        assert_eq!(html(HOSTILE).matches('<').count(), 0);
        assert!(html(HOSTILE).contains("&lt;script&gt;"));
        assert_eq!(html(r#"a&b "c" 'd'"#), "a&amp;b &quot;c&quot; &#39;d&#39;");
        let s = slack(HOSTILE);
        assert!(s.contains("&lt;!channel&gt;&lt;https://evil|ok&gt;"), "{s}");
        assert!(!s.contains('<') && !s.contains('\u{1b}'), "{s}");
        assert_eq!(slack("a & b"), "a &amp; b");
    }
}
