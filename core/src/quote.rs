//! Quoting user input in error messages: never more than a short, marked excerpt.
//!
//! Errors and `*_start_failed` events travel to whoever sent the request and to every event
//! subscriber of the lattice; a reference or operation name of megabytes must not be echoed
//! back (twice) in full.

use std::borrow::Cow;
use std::path::Path;

/// Longest excerpt of user input an error message carries, in characters.
pub const MAX_QUOTE_CHARS: usize = 256;

/// `input` itself when short, else its first [`MAX_QUOTE_CHARS`] characters followed by a marker
/// that says how long it was.
pub fn quote_input(input: &str) -> Cow<'_, str> {
    bounded(input, MAX_QUOTE_CHARS)
}

/// Longest error text relayed from an actor (`__guest_error`), in characters.
pub const MAX_RELAYED_ERROR_CHARS: usize = 4096;

/// `text` itself when at most `max_chars` characters, else cut there with the same marker.
pub fn bounded(text: &str, max_chars: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => Cow::Owned(format!(
            "{}…(truncated, {} bytes)",
            &text[..cut],
            text.len()
        )),
    }
}

/// A path for an error message, truncated like [`quote_input`].
pub fn quote_path(path: &Path) -> String {
    quote_input(&path.to_string_lossy()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_input_is_kept_and_long_input_is_cut_with_a_marker() {
        assert_eq!(
            quote_input("registry:5000/echo:0.1"),
            "registry:5000/echo:0.1"
        );
        let long = "é".repeat(10_000);
        let quoted = quote_input(&long);
        assert!(quoted.starts_with(&"é".repeat(MAX_QUOTE_CHARS)));
        assert!(quoted.ends_with("…(truncated, 20000 bytes)"), "{quoted}");
        assert!(quoted.chars().count() < MAX_QUOTE_CHARS + 40);
    }
}
