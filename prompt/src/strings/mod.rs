//! Every sentence the prompt shows, in message catalogs compiled into the Wasm.
//!
//! One file per language (`en.rs`, `es.rs`, …), each a [`Messages`] value: a missing
//! sentence is a compile error, and each sentence is stored once as static data (no
//! parser, no runtime format). [`Lang::detect`] picks the catalog from the browser's
//! languages with English as the fallback. Sentences with a placeholder (`{user}`,
//! `{service}`, `{n}`, `{time}`, `{device}`) are filled by [`fill`].
//!
//! The edge's messages are English; the prompt translates them by [`ErrorCode`] and only
//! shows the edge's own sentence for a code it does not know.

mod ar;
mod de;
mod en;
mod es;
mod fr;
mod ja;

use tessera_shared::v1::{ErrorCode, ErrorInfo, Method};

use crate::flow::{Problem, ProblemKind};

/// The languages the prompt speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Es,
    Fr,
    De,
    Ja,
    Ar,
}

impl Lang {
    pub const ALL: [Lang; 6] = [Lang::En, Lang::Es, Lang::Fr, Lang::De, Lang::Ja, Lang::Ar];

    /// The BCP 47 tag for the `lang` attribute.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
            Lang::Fr => "fr",
            Lang::De => "de",
            Lang::Ja => "ja",
            Lang::Ar => "ar",
        }
    }

    /// The writing direction for the `dir` attribute.
    pub fn dir(self) -> &'static str {
        match self {
            Lang::Ar => "rtl",
            _ => "ltr",
        }
    }

    /// The language of one tag (`fr-CA` → French), if the prompt speaks it.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next().unwrap_or_default();
        Lang::ALL
            .into_iter()
            .find(|lang| primary.eq_ignore_ascii_case(lang.tag()))
    }

    /// The first of the user's preferred languages that the prompt speaks, else English.
    pub fn detect<'a>(preferred: impl IntoIterator<Item = &'a str>) -> Lang {
        preferred
            .into_iter()
            .find_map(Lang::from_tag)
            .unwrap_or(Lang::En)
    }

    /// This language's catalog.
    pub fn messages(self) -> &'static Messages {
        match self {
            Lang::En => &en::MESSAGES,
            Lang::Es => &es::MESSAGES,
            Lang::Fr => &fr::MESSAGES,
            Lang::De => &de::MESSAGES,
            Lang::Ja => &ja::MESSAGES,
            Lang::Ar => &ar::MESSAGES,
        }
    }
}

/// One language's sentences. Field docs give the English and the placeholders.
#[derive(Debug)]
pub struct Messages {
    /// Names the prompt as a landmark: "Two-step verification".
    pub region_label: &'static str,
    pub loading: &'static str,
    /// "Signed in as {user}".
    pub signed_in_as: &'static str,
    pub passcode_label: &'static str,
    pub passcode_hint: &'static str,
    pub hardware_token_label: &'static str,
    pub hardware_token_hint: &'static str,
    pub bypass_label: &'static str,
    pub bypass_hint: &'static str,
    pub verify: &'static str,
    pub verifying: &'static str,
    /// "Sending a login request…"
    pub push_sending: &'static str,
    /// "Pushed a login request to your device."
    pub push_sent: &'static str,
    /// "Pushed a login request to {device}."
    pub push_sent_to: &'static str,
    /// Verified Push: "Enter this code in your authenticator app".
    pub verification_code_label: &'static str,
    /// Plain push: "Open the app and tap Approve."
    pub push_approve_hint: &'static str,
    /// "Waiting for your answer…"
    pub push_waiting: &'static str,
    /// "Time left: {time}" (m:ss).
    pub time_left: &'static str,
    /// Announced near the end: "{n} seconds left. Send another push if you need more time."
    pub time_running_out: &'static str,
    pub send_another_push: &'static str,
    pub push_denied: &'static str,
    pub was_it_you: &'static str,
    pub yes_it_was_me: &'static str,
    pub no_report_it: &'static str,
    pub reporting: &'static str,
    pub reported: &'static str,
    pub thanks_try_again: &'static str,
    pub push_fraud: &'static str,
    pub push_wrong_code: &'static str,
    pub push_expired: &'static str,
    pub push_cancelled: &'static str,
    pub success: &'static str,
    pub remember_question: &'static str,
    pub remember_hint: &'static str,
    pub remember_yes: &'static str,
    pub remember_no: &'static str,
    pub other_options: &'static str,
    pub manage_devices: &'static str,
    pub need_help: &'static str,
    pub not_available: &'static str,
    pub heading_failed: &'static str,
    pub heading_timeout: &'static str,
    pub heading_locked: &'static str,
    pub heading_location: &'static str,
    pub heading_enrollment: &'static str,
    pub network_error: &'static str,
    pub unexpected: &'static str,
    pub no_methods: &'static str,
    pub misconfigured: &'static str,
    pub preview: &'static str,
    /// "Incorrect passcode."
    pub invalid_passcode: &'static str,
    /// "{n} attempts left."
    pub attempts_left: &'static str,
    pub passcode_reused: &'static str,
    /// "Enter the 6-digit passcode."
    pub passcode_malformed: &'static str,
    pub bypass_malformed: &'static str,
    pub locked_out: &'static str,
    pub user_disabled: &'static str,
    /// "Access denied. {service} does not provide services in your current location."
    pub location_denied: &'static str,
    pub access_denied: &'static str,
    pub enrollment_required: &'static str,
    pub method_unavailable: &'static str,
    pub rate_limited: &'static str,
    pub push_muted: &'static str,
    pub invalid_request: &'static str,
    pub unknown_client: &'static str,
    pub origin_not_allowed: &'static str,
    pub session_expired: &'static str,
    pub push_gone: &'static str,
    pub internal: &'static str,
    pub method_platform_authenticator: &'static str,
    pub method_security_key: &'static str,
    pub method_verified_push: &'static str,
    pub method_push: &'static str,
    pub method_yubikey_otp: &'static str,
    pub method_passcode: &'static str,
    pub method_hardware_token: &'static str,
    pub method_sms_passcode: &'static str,
    pub method_phone_call: &'static str,
    pub method_bypass_code: &'static str,
}

impl Messages {
    /// What an option in "Other options" says for `method`.
    pub fn method_label(&self, method: Method) -> &'static str {
        match method {
            Method::PlatformAuthenticator => self.method_platform_authenticator,
            Method::SecurityKey => self.method_security_key,
            Method::VerifiedPush => self.method_verified_push,
            Method::Push => self.method_push,
            Method::YubikeyOtp => self.method_yubikey_otp,
            Method::Passcode => self.method_passcode,
            Method::HardwareToken => self.method_hardware_token,
            Method::SmsPasscode => self.method_sms_passcode,
            Method::PhoneCall => self.method_phone_call,
            Method::BypassCode => self.method_bypass_code,
        }
    }

    /// The sentence for `problem`, which happened on `method`'s screen.
    pub fn problem(&self, problem: &Problem, method: Option<Method>) -> String {
        let sentence = match problem {
            Problem::Refused(info) => return self.refusal(info, method),
            Problem::Network => self.network_error,
            Problem::Unexpected => self.unexpected,
            Problem::NoMethods => self.no_methods,
            Problem::Misconfigured => self.misconfigured,
            Problem::PushFraud => self.push_fraud,
            Problem::PushWrongCode => self.push_wrong_code,
            Problem::PushExpired => self.push_expired,
            Problem::PushCancelled => self.push_cancelled,
        };
        sentence.to_owned()
    }

    /// The title of a problem's screen.
    pub fn heading(&self, kind: ProblemKind) -> &'static str {
        match kind {
            ProblemKind::Failed => self.heading_failed,
            ProblemKind::Timeout => self.heading_timeout,
            ProblemKind::Locked => self.heading_locked,
            ProblemKind::Location => self.heading_location,
            ProblemKind::Enrollment => self.heading_enrollment,
        }
    }

    /// The edge's refusal in this language. `method` is the screen it happened on (a
    /// malformed bypass code is not a malformed passcode). Codes without a sentence here
    /// keep the edge's English message.
    pub fn refusal(&self, info: &ErrorInfo, method: Option<Method>) -> String {
        let sentence = match info.code {
            ErrorCode::InvalidPasscode => {
                return match info.attempts_left {
                    Some(n) => format!(
                        "{} {}",
                        self.invalid_passcode,
                        fill(self.attempts_left, "n", &n.to_string())
                    ),
                    None => self.invalid_passcode.to_owned(),
                };
            }
            ErrorCode::LocationDenied => {
                return match service_name(&info.message) {
                    Some(service) => fill(self.location_denied, "service", service),
                    None => info.message.clone(),
                };
            }
            ErrorCode::BadRequest if method == Some(Method::BypassCode) => self.bypass_malformed,
            ErrorCode::BadRequest => self.passcode_malformed,
            ErrorCode::PasscodeReused => self.passcode_reused,
            ErrorCode::LockedOut => self.locked_out,
            ErrorCode::UserDisabled => self.user_disabled,
            ErrorCode::AccessDenied => self.access_denied,
            ErrorCode::EnrollmentRequired => self.enrollment_required,
            ErrorCode::MethodUnavailable => self.method_unavailable,
            ErrorCode::RateLimited => self.rate_limited,
            ErrorCode::PushMuted => self.push_muted,
            ErrorCode::InvalidRequest => self.invalid_request,
            ErrorCode::UnknownClient => self.unknown_client,
            ErrorCode::OriginNotAllowed => self.origin_not_allowed,
            ErrorCode::InvalidSession | ErrorCode::SessionExpired => self.session_expired,
            ErrorCode::TransactionNotFound | ErrorCode::ApprovalRefused => self.push_gone,
            ErrorCode::Internal => self.internal,
            _ => return info.message.clone(),
        };
        sentence.to_owned()
    }
}

/// The edge's location message is "Access denied. {service} does not provide services in
/// your current location." with the operator's service name; that name is kept when the
/// sentence is translated.
fn service_name(message: &str) -> Option<&str> {
    message
        .strip_prefix("Access denied. ")?
        .strip_suffix(" does not provide services in your current location.")
        .filter(|name| !name.is_empty())
}

/// `template` with `{name}` replaced by `value`.
pub fn fill(template: &str, name: &str, value: &str) -> String {
    template.replace(&format!("{{{name}}}"), value)
}

/// `template` split around `{name}`, for sentences whose value is marked up
/// ("Signed in as <strong>alice</strong>").
pub fn split<'a>(template: &'a str, name: &str) -> (&'a str, &'a str) {
    let placeholder = format!("{{{name}}}");
    template.split_once(&placeholder).unwrap_or((template, ""))
}

/// Seconds as `m:ss`.
pub fn clock(seconds: i64) -> String {
    let seconds = seconds.max(0);
    format!("{}:{:02}", seconds / 60, seconds % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_browser_language() {
        for (preferred, lang) in [
            (&["fr-CA", "en"][..], Lang::Fr),
            (&["pt-BR", "de-DE"][..], Lang::De),
            (&["AR"][..], Lang::Ar),
            (&["ja_JP"][..], Lang::Ja),
            (&["zh", "pt"][..], Lang::En),
            (&[][..], Lang::En),
        ] {
            assert_eq!(
                Lang::detect(preferred.iter().copied()),
                lang,
                "{preferred:?}"
            );
        }
        assert_eq!(Lang::Ar.dir(), "rtl");
        assert_eq!(Lang::Ja.dir(), "ltr");
    }

    /// Every catalog fills every sentence, keeps each placeholder of the English one and
    /// introduces none of its own.
    #[test]
    fn catalogs_are_complete() {
        let placeholders = |text: &str| {
            let mut found: Vec<String> = text
                .split('{')
                .skip(1)
                .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
                .collect();
            found.sort();
            found
        };
        let english = catalog_fields(Lang::En.messages());
        for lang in Lang::ALL {
            let fields = catalog_fields(lang.messages());
            assert_eq!(fields.len(), english.len());
            for ((name, text), (_, en)) in fields.iter().zip(&english) {
                assert!(!text.trim().is_empty(), "{lang:?}.{name} is empty");
                assert_eq!(placeholders(text), placeholders(en), "{lang:?}.{name}");
                if lang != Lang::En && !ALLOWED_SAME.contains(&name.as_str()) {
                    assert_ne!(text, en, "{lang:?}.{name} is not translated");
                }
            }
        }
    }

    /// Sentences that may read the same as in English (brand-like or very short words).
    const ALLOWED_SAME: [&str; 1] = ["method_yubikey_otp"];

    /// Every field with its name, through `Debug` (the catalogs are plain data).
    fn catalog_fields(messages: &Messages) -> Vec<(String, String)> {
        let debug = format!("{messages:#?}");
        debug
            .lines()
            .filter_map(|line| {
                let (name, value) = line.trim().split_once(": ")?;
                let value = value.trim_end_matches(',');
                let value: String = serde_json::from_str(&json_escapes(value)).ok()?;
                Some((name.to_owned(), value))
            })
            .collect()
    }

    /// Rust's `Debug` writes combining marks (Arabic vowel signs) as `\u{64f}`; JSON
    /// wants `\u064f`.
    fn json_escapes(debug: &str) -> String {
        let mut out = String::new();
        let mut rest = debug;
        while let Some((before, after)) = rest.split_once("\\u{") {
            out.push_str(before);
            let (hex, tail) = after.split_once('}').expect("a closed escape");
            out.push_str(&format!("\\u{hex:0>4}"));
            rest = tail;
        }
        out.push_str(rest);
        out
    }

    #[test]
    fn translates_refusals_by_code() {
        let info = |code, message: &str, attempts_left| ErrorInfo {
            code,
            message: message.into(),
            attempts_left,
        };
        let es = Lang::Es.messages();
        let en = Lang::En.messages();
        assert_eq!(
            en.refusal(&info(ErrorCode::InvalidPasscode, "x", Some(9)), None),
            "Incorrect passcode. 9 attempts left."
        );
        assert_eq!(
            es.refusal(&info(ErrorCode::InvalidPasscode, "x", Some(2)), None),
            "Código incorrecto. Quedan 2 intentos."
        );
        let location = info(
            ErrorCode::LocationDenied,
            "Access denied. Acme Login does not provide services in your current location.",
            None,
        );
        assert_eq!(
            en.refusal(&location, None),
            "Access denied. Acme Login does not provide services in your current location."
        );
        assert!(es.refusal(&location, None).contains("Acme Login"));
        // A message of another shape keeps the edge's words.
        let odd = info(ErrorCode::LocationDenied, "Not here.", None);
        assert_eq!(es.refusal(&odd, None), "Not here.");
        let bad = info(ErrorCode::BadRequest, "Enter the 6-digit passcode.", None);
        assert_eq!(en.refusal(&bad, None), "Enter the 6-digit passcode.");
        assert_eq!(
            en.refusal(&bad, Some(Method::BypassCode)),
            en.bypass_malformed
        );
        let unknown = info(ErrorCode::NotFound, "No such thing.", None);
        assert_eq!(es.refusal(&unknown, None), "No such thing.");
    }

    #[test]
    fn helpers() {
        assert_eq!(
            fill("Signed in as {user}", "user", "bob"),
            "Signed in as bob"
        );
        assert_eq!(split("Signed in as {user}", "user"), ("Signed in as ", ""));
        assert_eq!(split("{user} でサインイン", "user"), ("", " でサインイン"));
        assert_eq!(clock(65), "1:05");
        assert_eq!(clock(-3), "0:00");
    }
}
