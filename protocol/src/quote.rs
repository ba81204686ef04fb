//! Bounded quotes of untrusted input for error messages.
//!
//! Every error this crate builds from received bytes quotes at most [`MAX_QUOTE_CHARS`]
//! characters of them, with control characters escaped (a quote can never forge a log
//! line) and [`TRUNCATION_MARKER`] where it was cut, and every error text stays within
//! [`MAX_ERROR_CHARS`]. Errors of serde_json and rmp-serde quote input values whole
//! (`invalid type: string "…", expected u16`), so their texts go through
//! [`bounded_library_error`] before they reach an error of this crate.

/// Most characters of input an error message quotes.
pub const MAX_QUOTE_CHARS: usize = 256;

/// Most characters in the text of any error this crate returns.
pub const MAX_ERROR_CHARS: usize = 512;

/// Appended to a quote (or an error text) that was cut short.
pub const TRUNCATION_MARKER: &str = "…(truncated)";

/// Room left for a library error's text (before its truncation marker) inside one of our
/// messages, whose own words ("failed to decode HostData from JSON: ") take the rest of
/// [`MAX_ERROR_CHARS`].
const MAX_LIBRARY_DETAIL_CHARS: usize = 384;

/// `input` fit for an error message: its first [`MAX_QUOTE_CHARS`] characters, control
/// characters escaped (`\n`, `\u{1b}`), then [`TRUNCATION_MARKER`] if anything was left out.
///
/// ```
/// use wasmhost_protocol::{quote_input, MAX_QUOTE_CHARS, TRUNCATION_MARKER};
/// assert_eq!(quote_input("line\nbreak"), "line\\nbreak");
/// let long = "x".repeat(10_000);
/// assert_eq!(quote_input(&long), format!("{}{TRUNCATION_MARKER}", "x".repeat(MAX_QUOTE_CHARS)));
/// ```
pub fn quote_input(input: &str) -> String {
    escape_and_cut(input, MAX_QUOTE_CHARS)
}

/// [`quote_input`] of bytes that may not be UTF-8 (invalid sequences become `\u{fffd}`).
pub fn quote_bytes(input: &[u8]) -> String {
    // Lossy conversion of at most 4 bytes per quoted character: never more is needed.
    let head = &input[..input.len().min(4 * MAX_QUOTE_CHARS + 4)];
    let mut quoted = quote_input(&String::from_utf8_lossy(head));
    if head.len() < input.len() && !quoted.ends_with(TRUNCATION_MARKER) {
        quoted.push_str(TRUNCATION_MARKER);
    }
    quoted
}

/// The text of a library's error (serde_json, rmp-serde, tar ...) made safe to show: every
/// quoted value (`"…"` as serde writes strings, `` `…` `` as it writes field and variant
/// names) cut to [`MAX_QUOTE_CHARS`], control characters escaped, and the whole text cut
/// to leave room for our own words within [`MAX_ERROR_CHARS`].
pub(crate) fn bounded_library_error(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4 * MAX_LIBRARY_DETAIL_CHARS));
    let mut rest = text;
    // Stop early once past the final limit: what follows would be cut anyway.
    while out.len() <= 4 * MAX_LIBRARY_DETAIL_CHARS {
        let Some(open) = rest.find(['"', '`']) else {
            break;
        };
        out.push_str(&rest[..open]);
        let delimiter = rest.as_bytes()[open] as char;
        let after = &rest[open + 1..];
        let (inside, next) = match closing(after, delimiter) {
            Some(close) => (&after[..close], &after[close + 1..]),
            None => (after, ""),
        };
        out.push(delimiter);
        out.push_str(&escape_and_cut(inside, MAX_QUOTE_CHARS));
        out.push(delimiter);
        rest = next;
    }
    // More than enough for the limit, whatever the width of the characters.
    out.push_str(&rest[..rest.floor_char_boundary(4 * MAX_LIBRARY_DETAIL_CHARS + 4)]);
    escape_and_cut(&out, MAX_LIBRARY_DETAIL_CHARS)
}

/// Offset of the delimiter that closes a span opened by `delimiter`: for `"` the next one
/// not escaped by a backslash (serde's Debug form), for `` ` `` simply the next one.
fn closing(after: &str, delimiter: char) -> Option<usize> {
    if delimiter == '`' {
        return after.find('`');
    }
    let mut escaped = false;
    for (i, c) in after.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(i),
            _ => escaped = false,
        }
    }
    None
}

/// At most `max_chars` characters of `text` (an escape counts as the characters it
/// prints), control characters escaped, [`TRUNCATION_MARKER`] appended when cut. Only
/// control characters are escaped, never backslashes: serde's already-escaped strings
/// keep their form.
fn escape_and_cut(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    let mut count = 0usize;
    for c in text.chars() {
        let piece_len = if c.is_control() {
            c.escape_default().count()
        } else {
            1
        };
        if count + piece_len > max_chars {
            out.push_str(TRUNCATION_MARKER);
            return out;
        }
        count += piece_len;
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_input_is_quoted_whole_with_controls_escaped() {
        assert_eq!(quote_input("host-1"), "host-1");
        assert_eq!(quote_input("a\r\nb\u{1b}[31m"), "a\\r\\nb\\u{1b}[31m");
        assert_eq!(quote_input(""), "");
        assert_eq!(quote_input("é✓"), "é✓");
    }

    #[test]
    fn long_input_is_cut_at_the_limit_with_a_marker() {
        let exact = "y".repeat(MAX_QUOTE_CHARS);
        assert_eq!(quote_input(&exact), exact, "at the limit nothing is cut");
        let long = "é".repeat(MAX_QUOTE_CHARS + 1);
        let quoted = quote_input(&long);
        assert!(quoted.ends_with(TRUNCATION_MARKER));
        assert_eq!(
            quoted.chars().count(),
            MAX_QUOTE_CHARS + TRUNCATION_MARKER.chars().count()
        );
        // An escape is never split: the cut falls before it.
        let controls = "\u{1}".repeat(MAX_QUOTE_CHARS);
        let quoted = quote_input(&controls);
        assert!(quoted
            .trim_end_matches(TRUNCATION_MARKER)
            .ends_with("\\u{1}"));
    }

    #[test]
    fn bytes_are_quoted_lossily_and_bounded() {
        assert_eq!(quote_bytes(b"ok\xff"), "ok\u{fffd}");
        let quoted = quote_bytes(&vec![b'z'; 1 << 20]);
        assert!(quoted.ends_with(TRUNCATION_MARKER));
        assert!(quoted.chars().count() <= MAX_QUOTE_CHARS + TRUNCATION_MARKER.chars().count());
    }

    #[test]
    fn serde_quotes_are_cut_and_the_rest_is_kept() {
        let value = "v".repeat(5000);
        let json = format!(r#"{{"count":"{value}"}}"#);
        let err = serde_json::from_str::<std::collections::HashMap<String, u16>>(&json)
            .unwrap_err()
            .to_string();
        assert!(
            err.len() > 5000,
            "serde_json quotes the whole value: {}",
            err.len()
        );
        let bounded = bounded_library_error(&err);
        assert!(
            bounded.starts_with("invalid type: string \"vvv"),
            "{bounded}"
        );
        assert!(
            bounded.contains(&format!("{TRUNCATION_MARKER}\"")),
            "{bounded}"
        );
        assert!(bounded.ends_with("at line 1 column 5011"), "{bounded}");
        assert!(
            bounded.chars().count() <= MAX_LIBRARY_DETAIL_CHARS + TRUNCATION_MARKER.chars().count()
        );
    }

    #[test]
    fn backtick_names_and_unclosed_quotes_are_cut_too() {
        let field = "f".repeat(1000);
        let text = format!("unknown field `{field}`, expected `a`");
        let bounded = bounded_library_error(&text);
        assert!(bounded.ends_with(", expected `a`"), "{bounded}");
        assert!(bounded.contains(&format!("{}{TRUNCATION_MARKER}`", "f".repeat(10))));
        let unclosed = format!("string \"{}", "q".repeat(1000));
        let bounded = bounded_library_error(&unclosed);
        assert!(
            bounded.chars().count() <= MAX_LIBRARY_DETAIL_CHARS + TRUNCATION_MARKER.chars().count(),
            "{bounded}"
        );
        // Escaped quotes inside a serde string do not end it early.
        assert_eq!(
            bounded_library_error(r#"string "a\"b", expected u8"#),
            r#"string "a\"b", expected u8"#
        );
    }

    #[test]
    fn unquoted_text_is_bounded_and_escaped() {
        let text = format!("path {}\nnext", "p".repeat(2000));
        let bounded = bounded_library_error(&text);
        assert!(
            bounded.chars().count() <= MAX_LIBRARY_DETAIL_CHARS + TRUNCATION_MARKER.chars().count()
        );
        assert!(!bounded.contains('\n'));
        assert!(bounded.ends_with(TRUNCATION_MARKER));
    }
}
