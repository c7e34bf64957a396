//! CSV downloads (RFC 4180, UTF-8, comma-separated, header row) whose cells cannot start a
//! spreadsheet formula: a value beginning with `=`, `+`, `-`, `@`, a tab or a carriage return is
//! prefixed with `'`, so a name such as `=HYPERLINK(…)` is shown as text, never run. German Excel
//! splits a `.csv` at semicolons (and tabs) as well, so a part of a value after one of them that
//! would start a formula gets the `'` too (`;=1+1` is written `;'=1+1`).

use std::borrow::Cow;

use super::ServiceError;
use crate::store::StoreError;

/// A cell as written: `value`, or `'value` when a spreadsheet would read it as a formula.
pub fn safe_cell(value: &str) -> Cow<'_, str> {
    let starts_formula = |c: char| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r');
    let split_after = |c: char| matches!(c, ';' | '\t');
    let mut previous: Option<char> = None;
    let risky = value.chars().any(|c| {
        let at_start = previous.is_none_or(split_after);
        previous = Some(c);
        at_start && starts_formula(c)
    });
    if !risky {
        return Cow::Borrowed(value);
    }
    let mut safe = String::with_capacity(value.len() + 2);
    let mut previous: Option<char> = None;
    for c in value.chars() {
        if previous.is_none_or(split_after) && starts_formula(c) {
            safe.push('\'');
        }
        safe.push(c);
        previous = Some(c);
    }
    Cow::Owned(safe)
}

/// A CSV document being written row by row.
pub struct CsvText {
    writer: csv::Writer<Vec<u8>>,
}

impl CsvText {
    /// A document with its header row.
    ///
    /// # Errors
    /// Never in practice (writes to memory).
    pub fn new(header: &[&str]) -> Result<Self, ServiceError> {
        let mut text = Self { writer: csv::Writer::from_writer(Vec::new()) };
        text.row(header.iter().copied())?;
        Ok(text)
    }

    /// Appends one row; every cell is made safe.
    ///
    /// # Errors
    /// Never in practice (writes to memory).
    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) -> Result<(), ServiceError> {
        let cells: Vec<Cow<'_, str>> = cells.into_iter().map(safe_cell).collect();
        self.writer.write_record(cells.iter().map(|c| c.as_bytes())).map_err(written)
    }

    /// The finished document.
    ///
    /// # Errors
    /// Never in practice (writes to memory).
    pub fn finish(self) -> Result<String, ServiceError> {
        let bytes = self.writer.into_inner().map_err(|err| written(err.into_error().into()))?;
        String::from_utf8(bytes).map_err(|err| ServiceError::Store(StoreError::Io(err.to_string())))
    }
}

fn written(err: csv::Error) -> ServiceError {
    ServiceError::Store(StoreError::Io(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_would_start_a_formula_are_prefixed() {
        for (value, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+49 511", "'+49 511"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("Jana", "Jana"),
            ("", ""),
            ("a=b", "a=b"),
            // German Excel reads a semicolon (or a tab) as the end of a cell.
            (";=4+4", ";'=4+4"),
            ("Name;+1;x", "Name;'+1;x"),
            ("a;b", "a;b"),
        ] {
            assert_eq!(safe_cell(value), written, "{value:?}");
        }
    }

    #[test]
    fn quotes_commas_and_line_breaks_stay_inside_their_cell() {
        let mut text = CsvText::new(&["a", "b"]).unwrap();
        text.row(["x, \"y\"", "line\nbreak"]).unwrap();
        assert_eq!(text.finish().unwrap(), "a,b\n\"x, \"\"y\"\"\",\"line\nbreak\"\n");
    }
}
