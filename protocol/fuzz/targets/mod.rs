//! The fuzz targets of wasmhost-protocol: one function per decoder, each asserting the
//! decoder's invariants on any input, beyond "does not panic":
//!
//! * a decoded value encodes and decodes back to itself (where the format allows);
//! * a decode error's text stays within [`MAX_ERROR_CHARS`] and never holds a run of the
//!   input longer than [`MAX_QUOTED_RUN`] (the most `quote_input` quotes, with delimiters);
//! * decoding allocates memory in proportion to the input, never on the word of a length
//!   field the bytes do not back ([`assert_memory_bounded`]).
//!
//! The same functions run under libFuzzer (`cargo fuzz run <target>`, see README.md) and
//! in `cargo test -p wasmhost-protocol` over the committed corpus plus a bounded number of
//! random mutations (`run_in_tests.rs`). A failed invariant is a panic, which both report
//! with the input.
//!
//! Submodules refer to each other through `super::` only: this folder is the root of the
//! fuzz crate's library and also a module of the protocol crate's test.

mod alloc_meter;
mod archive;
mod claims;
mod ctl;
mod events;
mod host_data;
mod payloads;
mod rpc;
mod subjects;

pub use alloc_meter::measure_peak_allocation;
pub use archive::provider_archive;
pub use claims::{actor_module, claims_jwt};
pub use ctl::ctl_json;
pub use events::cloud_event;
pub use host_data::host_data;
pub use payloads::{http, keyvalue};
pub use rpc::{invocation, invocation_response, link_definition};
pub use subjects::subjects;

use std::collections::HashMap;
use std::fmt::{Debug, Display};
use wasmhost_protocol::{MAX_ERROR_CHARS, MAX_QUOTE_CHARS};

/// A fuzz target: its name (the file under `fuzz_targets/` and the folder under `corpus/`)
/// and the function that checks one input.
#[derive(Clone, Copy)]
pub struct Target {
    /// Name of the target.
    pub name: &'static str,
    /// Checks one input; panics when an invariant fails.
    pub run: fn(&[u8]),
}

/// Calls `$then!` with the name of every target: the one list [`TARGETS`] and the
/// per-target tests of `run_in_tests.rs` are both made from.
macro_rules! every_target {
    ($then:ident) => {
        $then! {
            ctl_json,
            invocation,
            invocation_response,
            link_definition,
            claims_jwt,
            actor_module,
            host_data,
            http,
            keyvalue,
            cloud_event,
            subjects,
            provider_archive,
        }
    };
}
#[allow(unused_imports)] // used by the tests, not by the libFuzzer binaries
pub(crate) use every_target;

/// `&[Target { name: "x", run: x }, ...]` for the functions named.
macro_rules! target_table {
    ($($run:ident),* $(,)?) => {
        &[$(Target { name: stringify!($run), run: $run }),*]
    };
}

/// Every target.
pub const TARGETS: &[Target] = every_target!(target_table);

/// Bytes a decoder may hold at its peak per byte of input: the decoded value of the
/// widest element types (a `LinkDefinition` per msgpack byte, a JSON object's B-tree node
/// per five bytes) stays well within this.
pub const ALLOC_PER_INPUT_BYTE: usize = 256;

/// Bytes any decode may allocate whatever its input (error texts, decoder state).
pub const ALLOC_SLACK: usize = 64 << 10;

/// Panics unless `peak` bytes are within [`ALLOC_PER_INPUT_BYTE`] per input byte plus
/// `slack`: what a decoder that sizes buffers by the bytes it has (not by length fields
/// it was sent) stays under.
pub fn assert_memory_bounded(what: &str, input_len: usize, peak: usize, slack: usize) {
    let bound = input_len
        .saturating_mul(ALLOC_PER_INPUT_BYTE)
        .saturating_add(slack);
    assert!(
        peak <= bound,
        "{what}: decoding {input_len} bytes allocated {peak} bytes at its peak (bound {bound})"
    );
}

/// Runs `decode` on `input`, checks its allocations with [`assert_memory_bounded`] and
/// returns its result.
pub fn decode_bounded<R>(what: &str, input: &[u8], slack: usize, decode: impl FnOnce() -> R) -> R {
    let (result, peak) = measure_peak_allocation(decode);
    assert_memory_bounded(what, input.len(), peak, slack);
    result
}

/// Longest run of input an error's text may hold: a full quote plus a few characters
/// around it that match the input by chance: its delimiters (`'…'`, serde's `"…"`) and
/// what serde writes after them (`", expected`), as a JSON input's `",` does too. A real
/// leak copies hundreds of characters more; the exact quote limit is `quote_input`'s own
/// unit tests' to check.
pub const MAX_QUOTED_RUN: usize = MAX_QUOTE_CHARS + 16;

/// Panics unless `err`'s text is within [`MAX_ERROR_CHARS`] and holds no run of more than
/// [`MAX_QUOTED_RUN`] characters of any of `inputs` (the raw input and what the decoder
/// derived from it, e.g. base64-decoded bytes). Its Debug form, which escapes quotes and
/// backslashes (so one input character may print as two), is held to twice that.
pub fn assert_error_bounded<E: Display + Debug>(what: &str, err: &E, inputs: &[&[u8]]) {
    let text = err.to_string();
    let chars = text.chars().count();
    assert!(
        chars <= MAX_ERROR_CHARS,
        "{what}: error text of {chars} characters: {text}"
    );
    if let Some(run) = quoted_run_longer_than(&text, MAX_QUOTED_RUN, inputs) {
        panic!("{what}: error quotes {run} characters of its input: {text}");
    }
    let debug = format!("{err:?}");
    assert!(
        debug.chars().count() <= 2 * MAX_ERROR_CHARS,
        "{what}: Debug of the error has {} characters: {debug}",
        debug.chars().count()
    );
    if let Some(run) = quoted_run_longer_than(&debug, 2 * MAX_QUOTED_RUN, inputs) {
        panic!("{what}: Debug of the error quotes {run} characters of its input: {debug}");
    }
}

/// `Some(limit + 1)` if a run of more than `limit` characters of `text` occurs in one of
/// `inputs`. Rabin-Karp: every window of `limit + 1` characters of `text` goes into a
/// table by its hash, then one rolling pass over each input per window byte length looks
/// them up, so a check costs about the input's length, not its length times the text's.
fn quoted_run_longer_than(text: &str, limit: usize, inputs: &[&[u8]]) -> Option<usize> {
    let window = limit + 1;
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    if bounds.len() <= window || inputs.iter().all(|input| input.len() < window) {
        return None;
    }
    let mut needles: HashMap<usize, HashMap<u64, Vec<&[u8]>>> = HashMap::new();
    for start in 0..bounds.len() - window {
        let needle = &text.as_bytes()[bounds[start]..bounds[start + window]];
        needles
            .entry(needle.len())
            .or_default()
            .entry(rolling_hash(needle))
            .or_default()
            .push(needle);
    }
    for input in inputs {
        for (&len, table) in &needles {
            if input.len() < len {
                continue;
            }
            let drop_factor = HASH_BASE.wrapping_pow(len as u32);
            let mut hash = rolling_hash(&input[..len]);
            for start in 0..=input.len() - len {
                if start > 0 {
                    hash = hash
                        .wrapping_mul(HASH_BASE)
                        .wrapping_add(u64::from(input[start + len - 1]))
                        .wrapping_sub(u64::from(input[start - 1]).wrapping_mul(drop_factor));
                }
                let here = &input[start..start + len];
                if table.get(&hash).is_some_and(|found| found.contains(&here)) {
                    return Some(window);
                }
            }
        }
    }
    None
}

const HASH_BASE: u64 = 0x100_0000_01b3;

/// Polynomial hash of `bytes` (wrapping), the one [`quoted_run_longer_than`] rolls.
fn rolling_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0u64, |h, b| {
        h.wrapping_mul(HASH_BASE).wrapping_add(u64::from(*b))
    })
}

/// Panics unless `back` (the value decoded again from its own encoding) equals `value`.
pub fn assert_round_trip<T: PartialEq + Debug>(what: &str, value: &T, back: &T) {
    assert!(
        value == back,
        "{what}: decode(encode(v)) != v\n   v = {value:?}\nback = {back:?}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_longer_than_the_limit_are_found() {
        let input = format!("prefix-{}-suffix", "a".repeat(300));
        let text = format!("error: {}", "a".repeat(300));
        assert_eq!(
            quoted_run_longer_than(&text, 258, &[input.as_bytes()]),
            Some(259)
        );
        let short = format!("error: '{}'", "a".repeat(256));
        assert_eq!(
            quoted_run_longer_than(&short, 258, &[input.as_bytes()]),
            None
        );
        let wide = "é✓".repeat(200);
        assert_eq!(
            quoted_run_longer_than(&wide, 258, &[wide.as_bytes()]),
            Some(259)
        );
        assert_eq!(quoted_run_longer_than(&wide, 258, &[b"unrelated"]), None);
        // The run may sit anywhere in the text and in any of the inputs.
        let text = format!("{}{}", "x".repeat(100), "b".repeat(270));
        let other = "b".repeat(280);
        assert!(quoted_run_longer_than(&text, 258, &[b"none", other.as_bytes()]).is_some());
    }

    #[test]
    #[should_panic(expected = "error quotes 273 characters of its input")]
    fn an_error_that_copies_its_input_fails_the_check() {
        let input = "v".repeat(300);
        assert_error_bounded(
            "copying",
            &format!("bad value {input}"),
            &[input.as_bytes()],
        );
    }

    #[test]
    #[should_panic(expected = "allocated")]
    fn an_allocation_the_input_does_not_back_fails_the_check() {
        decode_bounded("reserving", b"tiny", ALLOC_SLACK, || {
            Vec::<u8>::with_capacity(1 << 20)
        });
    }
}
