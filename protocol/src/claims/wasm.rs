//! Just enough of the WebAssembly binary format to find, remove and append custom
//! sections: the 8-byte preamble, then `id: u8, size: LEB128 u32, payload` sections; a
//! custom section (id 0) starts its payload with a LEB128-prefixed UTF-8 name.
//!
//! Only the section framing is checked, not the contents of other sections: claims do
//! not need a full validator, and the host's engine validates the module anyway.

use super::ClaimsError;

const MAGIC: &[u8; 4] = b"\0asm";
const MODULE_VERSION: &[u8; 4] = &[1, 0, 0, 0];
const PREAMBLE_LEN: usize = 8;
const CUSTOM_SECTION_ID: u8 = 0;

/// One section of a module, as byte ranges into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Section {
    /// Section id (0 = custom).
    pub id: u8,
    /// Offset of the id byte.
    pub start: usize,
    /// Offset just past the payload.
    pub end: usize,
    /// Custom sections only: the name.
    pub name: Option<String>,
    /// Custom sections: offset of the bytes after the name; others: of the payload.
    pub data_start: usize,
}

impl Section {
    /// Whether this is a custom section called `name`.
    pub fn is_custom_named(&self, name: &str) -> bool {
        self.id == CUSTOM_SECTION_ID && self.name.as_deref() == Some(name)
    }
}

fn invalid(msg: impl Into<String>) -> ClaimsError {
    ClaimsError::InvalidWasm(msg.into())
}

/// Reads an unsigned LEB128 u32 at `*pos` (at most 5 bytes, no bits beyond 32),
/// not reading at or past `limit`.
fn read_u32_leb(bytes: &[u8], pos: &mut usize, limit: usize) -> Result<u32, ClaimsError> {
    let mut result: u64 = 0;
    for i in 0..5 {
        if *pos >= limit {
            return Err(invalid(format!(
                "unexpected end of data in a LEB128 number at offset {pos}"
            )));
        }
        let byte = bytes[*pos];
        *pos += 1;
        result |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return u32::try_from(result)
                .map_err(|_| invalid(format!("LEB128 number too large at offset {}", *pos - 1)));
        }
    }
    Err(invalid(format!(
        "LEB128 number longer than 5 bytes before offset {pos}"
    )))
}

/// Appends `value` as unsigned LEB128.
fn write_u32_leb(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Splits a core module into its sections.
///
/// Fails with [`ClaimsError::InvalidWasm`] if the preamble is not a version-1 core
/// module (components are not actors), or a section or custom-section name runs past
/// its bounds or is not UTF-8.
pub(crate) fn sections(module: &[u8]) -> Result<Vec<Section>, ClaimsError> {
    if module.len() < PREAMBLE_LEN || &module[..4] != MAGIC {
        return Err(invalid("missing the \\0asm magic number"));
    }
    if &module[4..8] != MODULE_VERSION {
        return Err(invalid(format!(
            "unsupported binary version {:02x?} (only core modules, version 1)",
            &module[4..8]
        )));
    }
    let mut out = Vec::new();
    let mut pos = PREAMBLE_LEN;
    while pos < module.len() {
        let start = pos;
        let id = module[pos];
        pos += 1;
        let size = read_u32_leb(module, &mut pos, module.len())? as usize;
        let end = pos
            .checked_add(size)
            .filter(|&end| end <= module.len())
            .ok_or_else(|| {
                invalid(format!(
                    "section {id} at offset {start} runs past the end of the module"
                ))
            })?;
        let (name, data_start) = if id == CUSTOM_SECTION_ID {
            let name_len = read_u32_leb(module, &mut pos, end)? as usize;
            let name_end = pos
                .checked_add(name_len)
                .filter(|&n| n <= end)
                .ok_or_else(|| {
                    invalid(format!(
                        "custom section name at offset {start} runs past its section"
                    ))
                })?;
            let name = std::str::from_utf8(&module[pos..name_end]).map_err(|_| {
                invalid(format!(
                    "custom section name at offset {start} is not UTF-8"
                ))
            })?;
            (Some(name.to_string()), name_end)
        } else {
            (None, pos)
        };
        out.push(Section {
            id,
            start,
            end,
            name,
            data_start,
        });
        pos = end;
    }
    Ok(out)
}

/// The module's bytes without the sections for which `drop` returns true.
pub(crate) fn without_sections(
    module: &[u8],
    sections: &[Section],
    drop: impl Fn(&Section) -> bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(module.len());
    out.extend_from_slice(&module[..PREAMBLE_LEN]);
    for s in sections.iter().filter(|s| !drop(s)) {
        out.extend_from_slice(&module[s.start..s.end]);
    }
    out
}

/// Appends a custom section `name` holding `data` to `module`.
pub(crate) fn append_custom_section(
    module: &mut Vec<u8>,
    name: &str,
    data: &[u8],
) -> Result<(), ClaimsError> {
    let too_big = || invalid("custom section larger than 4 GiB");
    let name_len = u32::try_from(name.len()).map_err(|_| too_big())?;
    let mut payload = Vec::with_capacity(5 + name.len() + data.len());
    write_u32_leb(&mut payload, name_len);
    payload.extend_from_slice(name.as_bytes());
    payload.extend_from_slice(data);
    module.push(CUSTOM_SECTION_ID);
    write_u32_leb(module, u32::try_from(payload.len()).map_err(|_| too_big())?);
    module.extend_from_slice(&payload);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors;

    #[test]
    fn finds_the_sections_the_sidecars_list() {
        for (wasm, sidecar) in [
            ("actor_wascap08.wasm", "actor_wascap08.claims.json"),
            ("actor_wascap09.wasm", "actor_wascap09.claims.json"),
        ] {
            let module = vectors::bytes(wasm);
            let found: Vec<(String, usize, usize)> = sections(&module)
                .unwrap()
                .into_iter()
                .filter_map(|s| Some((s.name?, s.start, s.end - s.start)))
                .collect();
            let expected: Vec<(String, usize, usize)> = vectors::json(sidecar)["custom_sections"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["name"].as_str().unwrap().to_string(),
                        c["section_offset"].as_u64().unwrap() as usize,
                        c["section_total_len"].as_u64().unwrap() as usize,
                    )
                })
                .collect();
            assert_eq!(found, expected, "{wasm}");
        }
    }

    #[test]
    fn append_then_parse_round_trips() {
        let mut module = vectors::bytes("actor_unsigned.wasm");
        let data = vec![7u8; 300]; // long enough for a 2-byte size
        append_custom_section(&mut module, "jwt", &data).unwrap();
        let secs = sections(&module).unwrap();
        let last = secs.last().unwrap();
        assert!(last.is_custom_named("jwt"));
        assert_eq!(&module[last.data_start..last.end], &data[..]);
        let stripped = without_sections(&module, &secs, |s| s.is_custom_named("jwt"));
        assert_eq!(stripped, vectors::bytes("actor_unsigned.wasm"));
    }

    #[test]
    fn leb128_edges() {
        for v in [0u32, 1, 127, 128, 300, 16_383, 16_384, u32::MAX] {
            let mut buf = Vec::new();
            write_u32_leb(&mut buf, v);
            let mut pos = 0;
            assert_eq!(read_u32_leb(&buf, &mut pos, buf.len()).unwrap(), v);
            assert_eq!(pos, buf.len());
        }
        // Six bytes, and a 5-byte value above u32::MAX.
        for bad in [
            &[0x80u8, 0x80, 0x80, 0x80, 0x80, 0x00][..],
            &[0xff, 0xff, 0xff, 0xff, 0x7f],
        ] {
            let mut pos = 0;
            assert!(read_u32_leb(bad, &mut pos, bad.len()).is_err());
        }
    }

    #[test]
    fn rejects_broken_framing() {
        let good = vectors::bytes("actor_unsigned.wasm");
        let mut component = good.clone();
        component[4..8].copy_from_slice(&[0x0d, 0x00, 0x01, 0x00]);
        let mut oversized = good[..8].to_vec();
        oversized.extend_from_slice(&[1, 0xff, 0x01]); // section claims 255 bytes, has 0
        let mut bad_name = good[..8].to_vec();
        bad_name.extend_from_slice(&[0, 3, 2, 0xff, 0xfe]); // custom name not UTF-8
        let mut long_name = good[..8].to_vec();
        long_name.extend_from_slice(&[0, 2, 9, b'a']); // name longer than its section
        for (what, bytes) in [
            ("empty", Vec::new()),
            ("no magic", b"\0asn\x01\0\0\0".to_vec()),
            ("component", component),
            ("oversized", oversized),
            ("bad name", bad_name),
            ("long name", long_name),
        ] {
            assert!(
                matches!(sections(&bytes), Err(ClaimsError::InvalidWasm(_))),
                "{what}"
            );
        }
        // Every truncation of a real module is either readable or an InvalidWasm error.
        for len in 0..good.len() {
            match sections(&good[..len]) {
                Ok(_) | Err(ClaimsError::InvalidWasm(_)) => {}
                Err(other) => panic!("truncated at {len}: {other:?}"),
            }
        }
    }
}
