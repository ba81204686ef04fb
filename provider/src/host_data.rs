//! Reading the HostData line a host writes to the provider's stdin (LATTICE.md §4.1).

use crate::ProviderError;
use std::io::BufRead;
use wasmhost_protocol::HostData;

/// Reads one line from `reader` (the process's stdin) and parses it as base64 HostData
/// JSON. Fails with [`ProviderError::HostData`] when the stream ends or is empty before a
/// line, or when the line is not HostData.
pub fn read_host_data(reader: &mut impl BufRead) -> Result<HostData, ProviderError> {
    let mut line = String::new();
    let read = reader
        .read_line(&mut line)
        .map_err(|e| ProviderError::HostData(format!("cannot read stdin: {e}")))?;
    if read == 0 || line.trim().is_empty() {
        return Err(ProviderError::HostData(
            "no HostData line on stdin (a provider is started by a wasmCloud host, which writes one base64 line)".into(),
        ));
    }
    HostData::from_stdin_line(&line).map_err(|e| ProviderError::HostData(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_line_a_host_writes() {
        let hd = HostData {
            host_id: "NX".into(),
            lattice_rpc_prefix: "lat".into(),
            ..Default::default()
        };
        let input = format!("{}more input that stays unread", hd.to_stdin_line());
        let mut reader = std::io::Cursor::new(input.into_bytes());
        assert_eq!(read_host_data(&mut reader).unwrap(), hd);
    }

    #[test]
    fn missing_or_garbled_lines_are_clear_errors() {
        for input in ["", "\n", "not base64!\n", "WzEsMl0=\n"] {
            let err = read_host_data(&mut std::io::Cursor::new(input.as_bytes())).unwrap_err();
            assert!(
                matches!(err, ProviderError::HostData(_)),
                "{input:?}: {err}"
            );
            assert!(err.to_string().starts_with("invalid host data"), "{err}");
        }
    }
}
