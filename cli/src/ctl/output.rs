//! Printing results: aligned tables for people, JSON documents for scripts.

use super::options::OutputKind;
use serde::Serialize;

/// Where and how a command prints its result.
pub struct Output {
    kind: OutputKind,
}

impl Output {
    /// Prints in `kind`.
    pub fn new(kind: OutputKind) -> Self {
        Output { kind }
    }

    /// Whether results are JSON.
    pub fn is_json(&self) -> bool {
        self.kind == OutputKind::Json
    }

    /// Prints `value` as one compact JSON line (JSON mode) or `human` (table mode).
    pub fn result<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        if self.is_json() {
            println!("{}", json_line(value));
        } else {
            println!("{}", human());
        }
    }
}

/// Compact JSON of any serializable value (our types never fail to serialize).
pub fn json_line<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|e| format!("{{\"error\":\"cannot encode result: {e}\"}}"))
}

/// Renders rows under headers, columns padded to their widest cell.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let render = |cells: Vec<&str>| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut lines = vec![render(headers.to_vec())];
    lines.extend(
        rows.iter()
            .map(|row| render(row.iter().map(String::as_str).collect())),
    );
    lines.join("\n")
}

/// Sorted `k=v` pairs joined by commas (`-` when empty), for label and annotation cells.
pub fn pairs(map: &std::collections::HashMap<String, String>) -> String {
    if map.is_empty() {
        return "-".to_string();
    }
    let mut items: Vec<String> = map.iter().map(|(k, v)| format!("{k}={v}")).collect();
    items.sort();
    items.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_columns_to_the_widest_cell() {
        let rows = vec![
            vec!["NABC".to_string(), "1".to_string()],
            vec!["N".to_string(), "12345".to_string()],
        ];
        assert_eq!(
            table(&["HOST", "N"], &rows),
            "HOST  N\nNABC  1\nN     12345"
        );
        assert_eq!(table(&["ONLY"], &[]), "ONLY");
    }

    #[test]
    fn pairs_are_sorted_and_dash_when_empty() {
        let map = [
            ("b".to_string(), "2".to_string()),
            ("a".to_string(), "1".to_string()),
        ]
        .into();
        assert_eq!(pairs(&map), "a=1,b=2");
        assert_eq!(pairs(&Default::default()), "-");
    }
}
