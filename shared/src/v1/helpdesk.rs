//! Help-desk account-update requests (`/helpdesk/v1/*`): an IT coordinator finds a user or
//! administrative account and asks for a phone number to be added, replaced or removed
//! (`PRODUCT.md` "Account-update requests", after the reference procedure in
//! `duo-account-updates-request.txt`).
//!
//! This module owns the search query ("Titan, Tuffy" or "tuffytitan"), the request as the
//! form sends it, and its checked form, which enforces the procedure's rules:
//!
//! - Remove exists only for administrative accounts.
//! - Add takes the full new number; Update takes the number that replaces the old one.
//!   Both must be off-campus: [`AccountUpdate::check_off_campus`] checks every new number
//!   against the institution's configured `NumberingRanges`.
//! - An administrative account lists the people it concerns, each with their own change:
//!   the full number for Add, the last four digits of the phone being changed for Update
//!   and Remove (and the replacement for Update).
//! - One request per checkout: the submit endpoint takes exactly one request object, with
//!   one request type, and answers with one request number and one item number
//!   (`REQ0012345`, `RITM0012345`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::checked_text;
use crate::phone::{NumberingRanges, OnCampus, PhoneError, PhoneNumber};

/// Path prefix of the help-desk API.
pub const HELPDESK_PREFIX: &str = "/helpdesk/v1";
/// `GET ?q=` ([`AccountSearch`]) → [`AccountSearchResults`].
pub const HELPDESK_ACCOUNTS: &str = "/helpdesk/v1/accounts";
/// `POST` one [`AccountUpdateRequest`] → [`AccountUpdateReceipt`].
pub const HELPDESK_REQUESTS: &str = "/helpdesk/v1/requests";

/// The shortest and longest search query, in characters.
pub const MIN_QUERY_CHARS: usize = 2;
pub const MAX_QUERY_CHARS: usize = 100;
/// The longest name or username, in characters.
pub const MAX_NAME_CHARS: usize = 256;
/// The longest special instructions, in characters.
pub const MAX_INSTRUCTIONS_CHARS: usize = 2000;
/// At most this many people on one administrative-account request.
pub const MAX_PEOPLE: usize = 20;

// ---------------------------------------------------------------------------------------
// Search.

/// The search box: a last name, `Last, First`, a first name, or a username.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSearch {
    pub q: String,
}

/// Why a search query was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SearchError {
    #[error("type at least {MIN_QUERY_CHARS} characters of a name or username")]
    TooShort,
    #[error("type at most {MAX_QUERY_CHARS} characters")]
    TooLong,
    #[error("the query has characters a name cannot have")]
    InvalidCharacter,
}

/// A checked query, lower-cased for case-insensitive matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchQuery {
    /// `Titan, Tuffy`: the last name, then the start of the first name (maybe empty).
    Name { last: String, first: String },
    /// One term: the start of a last name, a first name or a username.
    Term(String),
}

impl SearchQuery {
    pub fn parse(query: &str) -> Result<Self, SearchError> {
        let query = query.trim();
        let chars = query.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(SearchError::TooLong);
        }
        if query.chars().any(char::is_control) {
            return Err(SearchError::InvalidCharacter);
        }
        let normalize = |s: &str| {
            s.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        };
        let parsed = match query.split_once(',') {
            Some((last, first)) => {
                if first.contains(',') {
                    return Err(SearchError::InvalidCharacter);
                }
                Self::Name {
                    last: normalize(last),
                    first: normalize(first),
                }
            }
            None => Self::Term(normalize(query)),
        };
        let significant = match &parsed {
            Self::Name { last, .. } => last.chars().count(),
            Self::Term(term) => term.chars().count(),
        };
        if significant < MIN_QUERY_CHARS {
            return Err(SearchError::TooShort);
        }
        Ok(parsed)
    }

    /// Whether an account matches: by name prefixes, or a term against the start of the
    /// last name, the first name or the username. Case is ignored.
    pub fn matches(&self, username: &str, first_name: &str, last_name: &str) -> bool {
        let starts = |field: &str, prefix: &str| field.to_lowercase().starts_with(prefix);
        match self {
            Self::Name { last, first } => starts(last_name, last) && starts(first_name, first),
            Self::Term(term) => {
                starts(last_name, term) || starts(first_name, term) || starts(username, term)
            }
        }
    }
}

impl TryFrom<&AccountSearch> for SearchQuery {
    type Error = SearchError;

    fn try_from(search: &AccountSearch) -> Result<Self, Self::Error> {
        Self::parse(&search.q)
    }
}

/// Whose account it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// One person's own account.
    User,
    /// A shared or administrative account several people authenticate for.
    Administrative,
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountMatch {
    pub username: String,
    /// "Titan, Tuffy" for a person; the account's description otherwise.
    pub display_name: String,
    pub account_kind: AccountKind,
    /// Masked (`XXX-XXX-0100`), so the coordinator can tell which phone is meant.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSearchResults {
    pub results: Vec<AccountMatch>,
}

// ---------------------------------------------------------------------------------------
// The request.

/// What the request does to a phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestType {
    Add,
    Update,
    /// Administrative accounts only.
    Remove,
}

/// The request as the form submits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountUpdateRequest {
    pub request_type: RequestType,
    /// The person the request is for (the account holder or the coordinator).
    pub requested_for: String,
    /// The username of the account to change.
    pub account: String,
    pub account_kind: AccountKind,
    /// Administrative accounts: the people concerned, each with their change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<PersonChange>,
    /// User accounts, Add and Update: the full new number, off-campus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_phone: Option<String>,
    /// User accounts, Update (optional): the last four digits of the phone replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_four: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_instructions: Option<String>,
}

/// One person on an administrative-account request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonChange {
    /// The person's username, as picked from the search.
    pub username: String,
    /// Add and Update: the full new number, off-campus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_phone: Option<String>,
    /// Update and Remove: the last four digits of the phone being changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_four: Option<String>,
}

/// The last four digits of a phone number, as the help desk asks for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LastFour([u8; 4]);

impl LastFour {
    /// Exactly four digits; surrounding spaces are ignored.
    pub fn parse(text: &str) -> Option<Self> {
        let digits: [u8; 4] = text.trim().as_bytes().try_into().ok()?;
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then_some(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// Whether `number` ends in these digits.
    pub fn matches(&self, number: &PhoneNumber) -> bool {
        number.last_four() == self.as_str()
    }
}

impl fmt::Display for LastFour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request was refused. `person` names the administrative account's entry, `None`
/// for the user account's own fields.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccountUpdateError {
    #[error("\"Requested for\" must name a person (1 to {MAX_NAME_CHARS} characters)")]
    RequestedFor,
    #[error("pick the account to update")]
    Account,
    #[error("special instructions have at most {MAX_INSTRUCTIONS_CHARS} characters")]
    SpecialInstructions,
    #[error("Remove is only available for administrative accounts")]
    RemoveNeedsAdministrative,
    #[error("a user account's request has no people; give its phone directly")]
    PeopleOnUserAccount,
    #[error(
        "an administrative account's request lists the people it concerns, each with their phone"
    )]
    NoPeople,
    #[error("at most {MAX_PEOPLE} people per request")]
    TooManyPeople,
    #[error("an administrative account's phones are given per person")]
    PhoneOutsidePeople,
    #[error("pick each person from the search results")]
    Person,
    #[error("{0} is listed twice")]
    DuplicatePerson(String),
    #[error("{}enter the full new phone number", for_person(.0))]
    MissingNewPhone(Option<String>),
    #[error("{}a Remove takes no new phone number", for_person(.0))]
    UnexpectedNewPhone(Option<String>),
    #[error("{}new phone number: {source}", for_person(.person))]
    NewPhone {
        person: Option<String>,
        source: PhoneError,
    },
    #[error("{}enter the last four digits of the phone to change", for_person(.0))]
    MissingLastFour(Option<String>),
    #[error("{}an Add takes the full number, not the last four digits", for_person(.0))]
    UnexpectedLastFour(Option<String>),
    #[error("{}the last four digits are four digits", for_person(.0))]
    LastFour(Option<String>),
}

fn for_person(person: &Option<String>) -> String {
    person
        .as_ref()
        .map(|person| format!("{person}: "))
        .unwrap_or_default()
}

/// A change to a user's own account (no Remove).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserPhoneChange {
    Add {
        new_phone: PhoneNumber,
    },
    /// Replace the user's phone; `last_four` picks which one when they have several.
    Update {
        new_phone: PhoneNumber,
        last_four: Option<LastFour>,
    },
}

/// A change for one person on an administrative account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminPhoneChange {
    Add {
        new_phone: PhoneNumber,
    },
    Update {
        last_four: LastFour,
        new_phone: PhoneNumber,
    },
    Remove {
        last_four: LastFour,
    },
}

/// What the request changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChange {
    User(UserPhoneChange),
    /// `(person's username, change)`, at least one, each person once.
    Administrative(Vec<(String, AdminPhoneChange)>),
}

/// A checked account-update request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountUpdate {
    pub requested_for: String,
    pub account: String,
    pub change: AccountChange,
    pub special_instructions: Option<String>,
}

impl AccountUpdate {
    pub fn request_type(&self) -> RequestType {
        match &self.change {
            AccountChange::User(UserPhoneChange::Add { .. }) => RequestType::Add,
            AccountChange::User(UserPhoneChange::Update { .. }) => RequestType::Update,
            AccountChange::Administrative(people) => match people.first() {
                Some((_, AdminPhoneChange::Update { .. })) => RequestType::Update,
                Some((_, AdminPhoneChange::Remove { .. })) => RequestType::Remove,
                Some((_, AdminPhoneChange::Add { .. })) | None => RequestType::Add,
            },
        }
    }

    /// Every number the request would add.
    pub fn new_phones(&self) -> Vec<&PhoneNumber> {
        match &self.change {
            AccountChange::User(
                UserPhoneChange::Add { new_phone } | UserPhoneChange::Update { new_phone, .. },
            ) => vec![new_phone],
            AccountChange::Administrative(people) => people
                .iter()
                .filter_map(|(_, change)| match change {
                    AdminPhoneChange::Add { new_phone }
                    | AdminPhoneChange::Update { new_phone, .. } => Some(new_phone),
                    AdminPhoneChange::Remove { .. } => None,
                })
                .collect(),
        }
    }

    /// Refuses the request if any new number lies in the institution's own ranges.
    pub fn check_off_campus(&self, ranges: &NumberingRanges) -> Result<(), OnCampus> {
        self.new_phones()
            .into_iter()
            .try_for_each(|number| ranges.check_off_campus(number))
    }
}

/// The new number, required for Add and Update and refused for Remove.
fn new_phone(
    request_type: RequestType,
    text: Option<&str>,
    person: Option<&str>,
) -> Result<Option<PhoneNumber>, AccountUpdateError> {
    let person = || person.map(str::to_owned);
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    match (request_type, text) {
        (RequestType::Remove, None) => Ok(None),
        (RequestType::Remove, Some(_)) => Err(AccountUpdateError::UnexpectedNewPhone(person())),
        (_, None) => Err(AccountUpdateError::MissingNewPhone(person())),
        (_, Some(text)) => {
            PhoneNumber::parse(text)
                .map(Some)
                .map_err(|source| AccountUpdateError::NewPhone {
                    person: person(),
                    source,
                })
        }
    }
}

fn last_four(
    text: Option<&str>,
    person: Option<&str>,
) -> Result<Option<LastFour>, AccountUpdateError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => LastFour::parse(text)
            .map(Some)
            .ok_or_else(|| AccountUpdateError::LastFour(person.map(str::to_owned))),
    }
}

impl TryFrom<&AccountUpdateRequest> for AccountUpdate {
    type Error = AccountUpdateError;

    fn try_from(wire: &AccountUpdateRequest) -> Result<Self, Self::Error> {
        let requested_for = checked_text(&wire.requested_for, MAX_NAME_CHARS)
            .ok_or(AccountUpdateError::RequestedFor)?;
        let account =
            checked_text(&wire.account, MAX_NAME_CHARS).ok_or(AccountUpdateError::Account)?;
        let special_instructions = match wire.special_instructions.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text)
                if text.chars().count() <= MAX_INSTRUCTIONS_CHARS
                    && !text
                        .chars()
                        .any(|c| c.is_control() && c != '\n' && c != '\t') =>
            {
                Some(text.to_owned())
            }
            Some(_) => return Err(AccountUpdateError::SpecialInstructions),
        };
        let change = match wire.account_kind {
            AccountKind::User => AccountChange::User(user_change(wire)?),
            AccountKind::Administrative => AccountChange::Administrative(admin_changes(wire)?),
        };
        Ok(Self {
            requested_for,
            account,
            change,
            special_instructions,
        })
    }
}

fn user_change(wire: &AccountUpdateRequest) -> Result<UserPhoneChange, AccountUpdateError> {
    if wire.request_type == RequestType::Remove {
        return Err(AccountUpdateError::RemoveNeedsAdministrative);
    }
    if !wire.people.is_empty() {
        return Err(AccountUpdateError::PeopleOnUserAccount);
    }
    let phone = new_phone(wire.request_type, wire.new_phone.as_deref(), None)?
        .ok_or(AccountUpdateError::MissingNewPhone(None))?;
    let four = last_four(wire.last_four.as_deref(), None)?;
    match (wire.request_type, four) {
        (RequestType::Add, Some(_)) => Err(AccountUpdateError::UnexpectedLastFour(None)),
        (RequestType::Add, None) => Ok(UserPhoneChange::Add { new_phone: phone }),
        (_, last_four) => Ok(UserPhoneChange::Update {
            new_phone: phone,
            last_four,
        }),
    }
}

fn admin_changes(
    wire: &AccountUpdateRequest,
) -> Result<Vec<(String, AdminPhoneChange)>, AccountUpdateError> {
    if wire.new_phone.is_some() || wire.last_four.is_some() {
        return Err(AccountUpdateError::PhoneOutsidePeople);
    }
    if wire.people.is_empty() {
        return Err(AccountUpdateError::NoPeople);
    }
    if wire.people.len() > MAX_PEOPLE {
        return Err(AccountUpdateError::TooManyPeople);
    }
    let mut changes: Vec<(String, AdminPhoneChange)> = Vec::with_capacity(wire.people.len());
    for entry in &wire.people {
        let person =
            checked_text(&entry.username, MAX_NAME_CHARS).ok_or(AccountUpdateError::Person)?;
        if changes.iter().any(|(p, _)| p.eq_ignore_ascii_case(&person)) {
            return Err(AccountUpdateError::DuplicatePerson(person));
        }
        let who = Some(person.as_str());
        let phone = new_phone(wire.request_type, entry.new_phone.as_deref(), who)?;
        let four = last_four(entry.last_four.as_deref(), who)?;
        let change = match (wire.request_type, phone, four) {
            (RequestType::Add, Some(new_phone), None) => AdminPhoneChange::Add { new_phone },
            (RequestType::Add, _, Some(_)) => {
                return Err(AccountUpdateError::UnexpectedLastFour(Some(person)));
            }
            (RequestType::Update, Some(new_phone), Some(last_four)) => AdminPhoneChange::Update {
                last_four,
                new_phone,
            },
            (RequestType::Remove, None, Some(last_four)) => AdminPhoneChange::Remove { last_four },
            (RequestType::Update | RequestType::Remove, _, None) => {
                return Err(AccountUpdateError::MissingLastFour(Some(person)));
            }
            // `new_phone` already refused a missing number for Add/Update and a present
            // one for Remove.
            (_, _, _) => return Err(AccountUpdateError::MissingNewPhone(Some(person))),
        };
        changes.push((person, change));
    }
    Ok(changes)
}

// ---------------------------------------------------------------------------------------
// The receipt.

/// Why a request or item number was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TicketNumberError {
    #[error("a {0} number starts with {0}")]
    Prefix(&'static str),
    #[error("a {0} number is {0} and at least 7 digits, without extra leading zeros")]
    Digits(&'static str),
}

/// Reads `PREFIX` (any case) and the digits: at least 7, and more only without a
/// leading zero, so every number has one spelling.
fn parse_ticket(text: &str, prefix: &'static str) -> Result<u32, TicketNumberError> {
    let text = text.trim();
    let digits = text
        .get(..prefix.len())
        .filter(|p| p.eq_ignore_ascii_case(prefix))
        .and_then(|_| text.get(prefix.len()..))
        .ok_or(TicketNumberError::Prefix(prefix))?;
    let canonical = digits.len() >= TICKET_DIGITS
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits.len() == TICKET_DIGITS || !digits.starts_with('0'));
    canonical
        .then(|| digits.parse().ok())
        .flatten()
        .ok_or(TicketNumberError::Digits(prefix))
}

/// Digits a request or item number is zero-padded to.
const TICKET_DIGITS: usize = 7;

macro_rules! ticket_number {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(u32);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn new(sequence: u32) -> Self {
                Self(sequence)
            }

            pub fn sequence(self) -> u32 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}{:07}", $prefix, self.0)
            }
        }

        impl FromStr for $name {
            type Err = TicketNumberError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                parse_ticket(text, $prefix).map(Self)
            }
        }

        impl TryFrom<String> for $name {
            type Error = TicketNumberError;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                text.parse()
            }
        }

        impl From<$name> for String {
            fn from(number: $name) -> Self {
                number.to_string()
            }
        }
    };
}

ticket_number!(
    /// The request (the checkout), `REQ0012345`.
    RequestNumber,
    "REQ"
);
ticket_number!(
    /// The requested item, `RITM0012345`: the number the help desk asks for.
    ItemNumber,
    "RITM"
);

/// What the coordinator sees after submitting; both numbers go into the confirmation
/// emails to the coordinator and the "requested for" person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountUpdateReceipt {
    pub request_number: RequestNumber,
    pub item_number: ItemNumber,
}

#[cfg(test)]
mod tests;
