//! The reader for the published test vectors in `shared/tests/data/`: records of
//! `[name]` followed by `field = hex` lines, where an indented line continues the previous
//! field (long RFC values stay wrapped as the RFCs print them) and `#` starts a comment.
//! Test-only.

use std::collections::BTreeMap;

/// One named record: its fields, hex-decoded.
#[derive(Debug)]
pub(crate) struct Record {
    pub name: String,
    fields: BTreeMap<String, String>,
}

impl Record {
    /// The bytes of a field; a missing field or bad hex is a broken data file.
    pub(crate) fn bytes(&self, field: &str) -> Vec<u8> {
        let hex = self
            .fields
            .get(field)
            .unwrap_or_else(|| panic!("[{}] has no `{field}`", self.name));
        data_encoding::HEXLOWER
            .decode(hex.as_bytes())
            .unwrap_or_else(|e| panic!("[{}] `{field}` is not lowercase hex: {e}", self.name))
    }
}

/// Parses a vector file.
pub(crate) fn records(text: &str) -> Vec<Record> {
    let mut records: Vec<Record> = Vec::new();
    let mut last_field: Option<String> = None;
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            records.push(Record {
                name: name.to_owned(),
                fields: BTreeMap::new(),
            });
            last_field = None;
            continue;
        }
        let record = records
            .last_mut()
            .expect("a field before the first [record]");
        if line.starts_with(char::is_whitespace) {
            let field = last_field
                .as_ref()
                .expect("a continuation line before any field");
            record
                .fields
                .get_mut(field)
                .expect("the continued field exists")
                .push_str(line.trim());
        } else {
            let (field, value) = line.split_once('=').expect("a `field = hex` line");
            let field = field.trim().to_owned();
            record.fields.insert(field.clone(), value.trim().to_owned());
            last_field = Some(field);
        }
    }
    records
}
