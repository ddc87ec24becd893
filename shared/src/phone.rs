//! Phone numbers for SMS and call devices: E.164 parsing of what people type, display and
//! masked display, and the help desk's "off-campus" check against the institution's own
//! numbering ranges (`PRODUCT.md` "Account-update requests").
//!
//! Input must be international: `+41 33 123456789`, `+1 (555) 010-0100`, or with the `00`
//! international prefix (`0041 …`). Spaces (also no-break), `-`, `.`, `/` and parentheses
//! are ignored; anything else (letters, extensions, a second `+`) is refused. The result is
//! `+[1-9]\d{1,14}` with an assigned ITU country calling code, at least 4 digits of national
//! number, and, for the North American plan (+1), exactly 10 digits not starting with 0 or 1.
//!
//! Why not the `phonenumber` crate (libphonenumber's metadata), as the style guide would
//! prefer: measured as a wasm32 cdylib with the workspace's release profile (`opt-level =
//! "z"`, LTO, one codegen unit), parse + validate + format adds 2.06 MiB raw and 549 KiB
//! gzip (64,309 → 2,184,344 bytes; gzip -9 21,943 → 583,947), and still 459 KiB gzip after
//! `wasm-opt -Oz` (4,614 → 474,606). The edge is ~350 KiB gzip of a < 1 MiB budget, so it
//! does not fit. It would also refuse the source FAQ's own example, `+41 33 123456789`
//! (`is_valid` is false: Swiss national numbers have 9 digits), and `+1 (555) 010-0100`.
//! So this module checks only what E.164 itself fixes: the country code table and the
//! length. Whether a number is really reachable is proven by the SMS or call sent to it.

use std::fmt;

use thiserror::Error;

/// Assigned ITU-T E.164 country calling codes: the 215 of libphonenumber's metadata
/// (v9.0.33), geographic and non-geographic (`800`, `808`, `870`, `878`, `881`–`883`,
/// `888`, `979`). The set is prefix-free, so the longest match is the only match.
const COUNTRY_CODES: &[u16] = &[
    1, 7, 20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54,
    55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98, 211,
    212, 213, 216, 218, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234,
    235, 236, 237, 238, 239, 240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253,
    254, 255, 256, 257, 258, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 290, 291, 297, 298,
    299, 350, 351, 352, 353, 354, 355, 356, 357, 358, 359, 370, 371, 372, 373, 374, 375, 376, 377,
    378, 380, 381, 382, 383, 385, 386, 387, 389, 420, 421, 423, 500, 501, 502, 503, 504, 505, 506,
    507, 508, 509, 590, 591, 592, 593, 594, 595, 596, 597, 598, 599, 670, 672, 673, 674, 675, 676,
    677, 678, 679, 680, 681, 682, 683, 685, 686, 687, 688, 689, 690, 691, 692, 800, 808, 850, 852,
    853, 855, 856, 870, 878, 880, 881, 882, 883, 886, 888, 960, 961, 962, 963, 964, 965, 966, 967,
    968, 970, 971, 972, 973, 974, 975, 976, 977, 979, 992, 993, 994, 995, 996, 998,
];

/// E.164: at most 15 digits after the `+`.
const MAX_DIGITS: usize = 15;
/// The shortest national numbers in use have 4 digits (Niue, Saint Helena).
const MIN_NATIONAL_DIGITS: usize = 4;
/// Longer input is refused before it is looked at.
const MAX_INPUT_CHARS: usize = 64;

/// Why a phone number (or a numbering-range prefix) was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PhoneError {
    #[error("enter a phone number")]
    Empty,
    #[error("a phone number has at most {MAX_INPUT_CHARS} characters")]
    InputTooLong,
    #[error("{0:?} is not allowed in a phone number")]
    InvalidCharacter(char),
    #[error("start with + and the country code, as in +41 33 123456789")]
    MissingInternationalPrefix,
    #[error("a country code never starts with 0")]
    CountryCodeZero,
    #[error("+{0}… is not an assigned country code")]
    UnknownCountryCode(String),
    #[error("the number is too short")]
    TooShort,
    #[error("an international number has at most {MAX_DIGITS} digits")]
    TooLong,
    #[error("numbers in +1 have 10 digits after the 1, the first of them 2 to 9")]
    NorthAmerica,
}

/// A phone number in E.164 form, with its country calling code identified.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PhoneNumber {
    /// `+` and 2 to 15 digits.
    e164: String,
    /// How many digits of `e164` (after the `+`) are the country code: 1 to 3.
    country_len: usize,
}

/// The digits of international input, after `+` or `00`, with separators dropped.
fn international_digits(input: &str) -> Result<String, PhoneError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(PhoneError::Empty);
    }
    if input.chars().count() > MAX_INPUT_CHARS {
        return Err(PhoneError::InputTooLong);
    }
    let (plus, rest) = match input.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, input),
    };
    let mut digits = String::with_capacity(MAX_DIGITS);
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '\t' | '\u{a0}' | '\u{202f}' | '-' | '.' | '/' | '(' | ')' => {}
            other => return Err(PhoneError::InvalidCharacter(other)),
        }
    }
    let digits = if plus {
        digits
    } else {
        match digits.strip_prefix("00") {
            Some(rest) => rest.to_owned(),
            None => return Err(PhoneError::MissingInternationalPrefix),
        }
    };
    if digits.is_empty() {
        return Err(PhoneError::TooShort);
    }
    if digits.starts_with('0') {
        return Err(PhoneError::CountryCodeZero);
    }
    Ok(digits)
}

/// The length of the country code that `digits` starts with.
fn country_code_len(digits: &str) -> Result<usize, PhoneError> {
    (1..=3)
        .find(|&len| {
            digits
                .get(..len)
                .and_then(|prefix| prefix.parse::<u16>().ok())
                .is_some_and(|code| COUNTRY_CODES.binary_search(&code).is_ok())
        })
        .ok_or_else(|| PhoneError::UnknownCountryCode(digits.chars().take(3).collect()))
}

impl PhoneNumber {
    /// Parses what a person typed (see the module docs for what is accepted).
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let digits = international_digits(input)?;
        if digits.len() > MAX_DIGITS {
            return Err(PhoneError::TooLong);
        }
        let country_len = country_code_len(&digits)?;
        let national = digits.get(country_len..).unwrap_or_default();
        if national.len() < MIN_NATIONAL_DIGITS {
            return Err(PhoneError::TooShort);
        }
        if country_len == 1
            && digits.starts_with('1')
            && (national.len() != 10 || national.starts_with(['0', '1']))
        {
            return Err(PhoneError::NorthAmerica);
        }
        Ok(Self {
            e164: format!("+{digits}"),
            country_len,
        })
    }

    /// The E.164 form, e.g. `+41331234567`.
    pub fn as_str(&self) -> &str {
        &self.e164
    }

    /// The digits after the `+`.
    fn digits(&self) -> &str {
        self.e164.get(1..).unwrap_or_default()
    }

    /// The country calling code, e.g. `41`.
    pub fn country_code(&self) -> u16 {
        self.digits()
            .get(..self.country_len)
            .and_then(|code| code.parse().ok())
            .unwrap_or_default()
    }

    /// The national significant number: the digits after the country code.
    pub fn national_number(&self) -> &str {
        self.digits().get(self.country_len..).unwrap_or_default()
    }

    /// The last four digits, as the help desk asks for them.
    pub fn last_four(&self) -> &str {
        let digits = self.digits();
        digits
            .get(digits.len().saturating_sub(4)..)
            .unwrap_or_default()
    }

    /// Whether `input` (separators allowed) is this number's last four digits.
    pub fn matches_last_four(&self, input: &str) -> bool {
        let typed: String = input.chars().filter(|c| !c.is_whitespace()).collect();
        typed.len() == 4 && typed == self.last_four()
    }

    fn is_north_american(&self) -> bool {
        self.country_code() == 1
    }

    /// For display: `+1 555-010-0100` in the North American plan, otherwise the country
    /// code and the national number (`+41 33123456789`); grouping within the national
    /// number needs per-country metadata this module does not carry.
    pub fn display_international(&self) -> String {
        let national = self.national_number();
        match (
            self.is_north_american(),
            national.get(..3),
            national.get(3..6),
            national.get(6..),
        ) {
            (true, Some(area), Some(exchange), Some(line)) => {
                format!("+1 {area}-{exchange}-{line}")
            }
            _ => format!("+{} {national}", self.country_code()),
        }
    }

    /// For showing which phone is meant without showing the number: Duo's
    /// `XXX-XXX-0100` in the North American plan, otherwise `+41 XXXXXXX6789`.
    pub fn masked(&self) -> String {
        if self.is_north_american() {
            format!("XXX-XXX-{}", self.last_four())
        } else {
            let hidden = "X".repeat(self.national_number().len().saturating_sub(4));
            format!("+{} {hidden}{}", self.country_code(), self.last_four())
        }
    }
}

impl fmt::Display for PhoneNumber {
    /// The E.164 form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.e164)
    }
}

impl std::str::FromStr for PhoneNumber {
    type Err = PhoneError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

/// Why the institution's numbering ranges were refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("numbering range {index}: {source}")]
pub struct RangeError {
    pub index: usize,
    #[source]
    pub source: PhoneError,
}

/// A number that must be off-campus is inside the institution's own ranges.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{number} is a campus number (in the range {range}…); enter an off-campus number")]
pub struct OnCampus {
    pub number: String,
    pub range: String,
}

/// The institution's own numbering ranges, as E.164 prefixes (`+1 585 275`): an added or
/// updated phone must lie outside all of them (the help desk's "off-campus number").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NumberingRanges {
    /// Digits after the `+`, each starting with an assigned country code.
    prefixes: Vec<String>,
}

impl NumberingRanges {
    /// Parses configured prefixes, written like numbers (`+1 585 275`, `0041 33 22`). Each
    /// must hold at least a whole country code.
    pub fn parse<S: AsRef<str>>(prefixes: &[S]) -> Result<Self, RangeError> {
        let prefixes = prefixes
            .iter()
            .enumerate()
            .map(|(index, prefix)| {
                let parsed = international_digits(prefix.as_ref()).and_then(|digits| {
                    if digits.len() > MAX_DIGITS {
                        Err(PhoneError::TooLong)
                    } else {
                        country_code_len(&digits).map(|_| digits)
                    }
                });
                parsed.map_err(|source| RangeError { index, source })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { prefixes })
    }

    /// The range `number` falls in, as `+digits`, if any.
    pub fn containing(&self, number: &PhoneNumber) -> Option<String> {
        self.prefixes
            .iter()
            .find(|prefix| number.digits().starts_with(prefix.as_str()))
            .map(|prefix| format!("+{prefix}"))
    }

    /// Accepts a number outside every range.
    pub fn check_off_campus(&self, number: &PhoneNumber) -> Result<(), OnCampus> {
        match self.containing(number) {
            None => Ok(()),
            Some(range) => Err(OnCampus {
                number: number.to_string(),
                range,
            }),
        }
    }
}

#[cfg(test)]
mod tests;
