//! Keyed pseudonyms: a phone number or a customer's name replaced by a token that is the same
//! wherever the value occurs (every dataset, run and format) but cannot be reversed without the
//! key: `HMAC-SHA256(key, class tag ‖ normalized value)`, its first 16 bytes in lowercase
//! RFC 4648 base32 without padding (26 characters).
//!
//! An unkeyed hash of a phone number is no protection: there are few enough numbers to hash
//! them all. With a key held by the site, tokens still let an analyst count repeat callers and
//! join datasets, and another key gives unrelated tokens.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};

/// The smallest key accepted: 256 bits, HMAC-SHA256's block of security.
pub const MIN_KEY_BYTES: usize = 32;
/// A key file larger than this is not a key (a wrong path given by mistake).
const MAX_KEY_BYTES: u64 = 4096;

/// The classes of personal data a column can hold (declared per column, see `record!`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Personal {
    /// Phone numbers and SIP addresses: replaced by tokens.
    Numbers,
    /// Customer-side names: replaced by tokens.
    Names,
    /// Free text (transcripts, notes, comments, documents a flow fills): dropped (NULL).
    Text,
}

impl Personal {
    pub fn name(self) -> &'static str {
        match self {
            Personal::Numbers => "numbers",
            Personal::Names => "names",
            Personal::Text => "text",
        }
    }
}

/// The site's pseudonym key. Its bytes are never printed: `Debug` shows only its length.
#[derive(Clone)]
pub struct PseudonymKey {
    mac: Hmac<Sha256>,
    len: usize,
}

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PseudonymKey({} bytes)", self.len)
    }
}

impl PseudonymKey {
    /// Reads the key from `path`: at least 32 bytes, readable by its owner only.
    pub fn load(path: &Path) -> Result<PseudonymKey> {
        let bad = |why: String| Error::input(format!("pseudonym key {}: {why}", path.display()));
        let mut file = File::open(path).map_err(|e| bad(e.to_string()))?;
        let meta = file.metadata().map_err(|e| bad(e.to_string()))?;
        if !meta.is_file() {
            return Err(bad("not a regular file".into()));
        }
        check_private(&meta).map_err(bad)?;
        if meta.len() > MAX_KEY_BYTES {
            return Err(bad(format!(
                "{} bytes; a key file holds at most {MAX_KEY_BYTES}",
                meta.len()
            )));
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| bad(e.to_string()))?;
        if bytes.len() < MIN_KEY_BYTES {
            return Err(bad(format!(
                "{} bytes; at least {MIN_KEY_BYTES} random bytes are needed \
                 (e.g. `head -c 32 /dev/urandom > FILE; chmod 600 FILE`)",
                bytes.len()
            )));
        }
        PseudonymKey::from_bytes(&bytes).map_err(bad)
    }

    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<PseudonymKey, String> {
        let mac = Hmac::<Sha256>::new_from_slice(bytes).map_err(|e| e.to_string())?;
        Ok(PseudonymKey {
            mac,
            len: bytes.len(),
        })
    }

    /// The token of `value` as a value of `class` (normalized first).
    pub fn token(&self, class: Personal, value: &str) -> String {
        let normalized = match class {
            Personal::Numbers => normalize_number(value),
            Personal::Names | Personal::Text => normalize_name(value),
        };
        let mut mac = self.mac.clone();
        // The class is part of the message, so a name that happens to be digits and the same
        // digits as a number give different tokens (a join across classes means nothing).
        mac.update(class.name().as_bytes());
        mac.update(b"\0");
        mac.update(normalized.as_bytes());
        let digest = mac.finalize().into_bytes();
        data_encoding::BASE32_NOPAD
            .encode(&digest[..16])
            .to_ascii_lowercase()
    }

    /// `json` with, when `numbers`, every string that looks like a phone number or SIP address
    /// replaced by its token, and when `names`, every string member called `name` (a
    /// communication's or member's name); everything else as it was. Text that is not JSON is
    /// tokenized whole.
    pub fn tokenize_json(&self, json: &str, numbers: bool, names: bool) -> String {
        match serde_json::from_str::<serde_json::Value>(json) {
            Ok(mut value) => {
                self.tokenize_in(&mut value, numbers, names);
                value.to_string()
            }
            Err(_) => self.token(Personal::Numbers, json),
        }
    }

    fn tokenize_in(&self, value: &mut serde_json::Value, numbers: bool, names: bool) {
        use serde_json::Value;
        match value {
            Value::String(s) if numbers && looks_like_number(s) => {
                *s = self.token(Personal::Numbers, s);
            }
            Value::Array(items) => {
                for item in items {
                    self.tokenize_in(item, numbers, names);
                }
            }
            Value::Object(map) => {
                for (key, member) in map.iter_mut() {
                    match member {
                        Value::String(s) if names && key == "name" && !s.is_empty() => {
                            *s = self.token(Personal::Names, s);
                        }
                        _ => self.tokenize_in(member, numbers, names),
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(unix)]
fn check_private(meta: &std::fs::Metadata) -> std::result::Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "mode {mode:03o} lets others read it; make it private (chmod 600)"
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &std::fs::Metadata) -> std::result::Result<(), String> {
    Ok(())
}

/// The form of a number that is hashed: for a SIP or tel URI or an address with `@`, the
/// lowercased address without its scheme and parameters; otherwise only the digits (a leading
/// `+`, spaces, dashes, dots, slashes and parentheses dropped), so `+380 67 123-45-67` and
/// `380671234567` are one number. Text with letters that is not an address (an extension
/// name) is lowercased and trimmed.
pub fn normalize_number(value: &str) -> String {
    let trimmed = value.trim();
    let lower = trimmed.trim_start_matches('<').to_lowercase();
    let without_scheme = ["sips:", "sip:", "tel:"]
        .iter()
        .find_map(|scheme| lower.strip_prefix(scheme))
        .unwrap_or(&lower);
    let address = without_scheme
        .split([';', '?', '>'])
        .next()
        .unwrap_or_default();
    if address.contains('@') {
        return address.to_string();
    }
    if address
        .chars()
        .all(|c| c.is_ascii_digit() || "+-. /()".contains(c))
    {
        let digits: String = address.chars().filter(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            return digits;
        }
    }
    address.to_string()
}

/// The form of a name that is hashed: trimmed, inner whitespace collapsed to one space,
/// lowercased (Unicode), so `Олена  Шевченко` and `олена шевченко` are one name.
pub fn normalize_name(value: &str) -> String {
    value
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether a string inside a JSON document is taken for a phone number or a SIP address:
/// 5 to 20 digits, possibly with a leading `+`, spaces, dashes and parentheses (not dots:
/// `1234.50` is an amount), and not a date (`2026-09-01`); or a `sip:`/`tel:` URI; or an
/// address with `@`.
pub fn looks_like_number(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    if lower.starts_with("sip:") || lower.starts_with("sips:") || lower.starts_with("tel:") {
        return true;
    }
    if v.contains('@') && !v.contains(char::is_whitespace) {
        return true;
    }
    if !v.chars().all(|c| c.is_ascii_digit() || "+- ()".contains(c)) || is_date(v) {
        return false;
    }
    let digits = v.chars().filter(char::is_ascii_digit).count();
    (5..=20).contains(&digits)
}

/// `YYYY-MM-DD` at the start.
fn is_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() >= 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> PseudonymKey {
        PseudonymKey::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn one_number_written_several_ways_is_one_token() {
        let k = key(7);
        let token = k.token(Personal::Numbers, "380671234567");
        for same in ["+380 67 123-45-67", "+380(67)1234567", " 380.67.123.45.67 "] {
            assert_eq!(k.token(Personal::Numbers, same), token, "{same}");
        }
        assert_ne!(k.token(Personal::Numbers, "380671234568"), token);
        assert_eq!(token.len(), 26);
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c))
        );
    }

    #[test]
    fn sip_addresses_lose_scheme_case_and_parameters() {
        let k = key(7);
        let token = k.token(Personal::Numbers, "1001@sip.example.net");
        assert_eq!(
            k.token(Personal::Numbers, "sip:1001@SIP.example.net;transport=tcp"),
            token
        );
        assert_eq!(
            k.token(Personal::Numbers, "<sip:1001@sip.example.net>"),
            token
        );
    }

    #[test]
    fn another_key_or_class_gives_another_token() {
        let a = key(1).token(Personal::Numbers, "380671234567");
        assert_ne!(key(2).token(Personal::Numbers, "380671234567"), a);
        assert_ne!(key(1).token(Personal::Names, "380671234567"), a);
    }

    #[test]
    fn names_ignore_case_and_spacing() {
        let k = key(3);
        assert_eq!(
            k.token(Personal::Names, "Олена  Шевченко "),
            k.token(Personal::Names, "олена шевченко")
        );
    }

    #[test]
    fn numbers_and_names_inside_json_are_tokenized_and_the_rest_kept() {
        let k = key(4);
        let json =
            r#"{"destination":"+380 67 123 45 67","name":"Тарас","list":["sip:a@b.c","ORD-77"]}"#;
        let out: serde_json::Value =
            serde_json::from_str(&k.tokenize_json(json, true, false)).unwrap();
        assert_eq!(
            out["destination"],
            k.token(Personal::Numbers, "380671234567")
        );
        assert_eq!(out["name"], "Тарас");
        assert_eq!(out["list"][0], k.token(Personal::Numbers, "a@b.c"));
        assert_eq!(out["list"][1], "ORD-77");
        let named: serde_json::Value =
            serde_json::from_str(&k.tokenize_json(json, false, true)).unwrap();
        assert_eq!(named["name"], k.token(Personal::Names, "тарас"));
        assert_eq!(named["destination"], "+380 67 123 45 67");
    }

    #[test]
    fn what_passes_for_a_number() {
        for yes in [
            "380671234567",
            "+1 (555) 010-9999",
            "sip:1001@pbx",
            "a@b.c",
            "10015",
        ] {
            assert!(looks_like_number(yes), "{yes}");
        }
        for no in [
            "1001",
            "uk",
            "ORD-77",
            "Київ",
            "",
            "12 o'clock",
            "2026-09-01",
            "1234.50",
        ] {
            assert!(!looks_like_number(no), "{no}");
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        assert_eq!(format!("{:?}", key(9)), "PseudonymKey(32 bytes)");
    }
}
