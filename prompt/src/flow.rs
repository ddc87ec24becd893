//! The prompt's one state machine, as plain data and a pure transition function.
//!
//! The UI keeps a single [`Flow`] in a signal and derives everything it shows from it
//! ([`Flow::screen`], [`Flow::error`], …). Network results arrive as [`Event`]s and go
//! through [`Flow::next`], so every transition can be tested natively, without a browser.

use std::sync::Arc;

use tessera_shared::v1::{Completion, ErrorCode, ErrorInfo, Method, MethodOption, StartResponse};

use crate::strings;

/// What `/prompt/v1/start` answered, shared by every state after it.
pub type Started = Arc<StartResponse>;

/// Where the prompt is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    /// Waiting for `/prompt/v1/start`.
    Loading,
    /// Showing `method`'s screen. `error` is the last failure, for the user to correct;
    /// `attempt` counts failures, so the view starts a fresh, focused form after each.
    Method {
        started: Started,
        method: Method,
        error: Option<String>,
        attempt: u32,
    },
    /// A passcode is on its way to the edge.
    Submitting {
        started: Started,
        method: Method,
        attempt: u32,
    },
    /// The edge accepted; the page is being told (and usually redirected).
    Done { started: Started },
    /// Nothing more can be done here; `message` says why and what to do.
    Fatal {
        started: Option<Started>,
        message: String,
    },
}

/// Something that happened to the prompt.
// `Started` is large since the v1 contract grew `StartResponse`; events are created once
// per user action, so boxing would buy nothing measurable.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `/prompt/v1/start` answered.
    Started(Result<StartResponse, Failure>),
    /// The user picked another method under "Other options".
    Choose(Method),
    /// The user submitted the passcode form.
    Submit,
    /// `/prompt/v1/passcode` answered.
    Verified(Result<Completion, Failure>),
}

/// Why a request to the edge failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The edge refused with a Tessera error body.
    Refused(ErrorInfo),
    /// The edge could not be reached.
    Network,
    /// The edge answered something that is neither the expected body nor an error body.
    Unexpected,
}

impl Failure {
    /// The sentence to show the user.
    pub fn message(&self) -> String {
        match self {
            Self::Refused(info) => info.message.clone(),
            Self::Network => strings::NETWORK_ERROR.to_owned(),
            Self::Unexpected => strings::UNEXPECTED.to_owned(),
        }
    }

    /// Whether the user can fix this by trying again on the same screen.
    fn is_retryable(&self) -> bool {
        match self {
            Self::Refused(info) => matches!(
                info.code,
                ErrorCode::InvalidPasscode
                    | ErrorCode::PasscodeReused
                    | ErrorCode::BadRequest
                    | ErrorCode::RateLimited
            ),
            Self::Network => true,
            Self::Unexpected => false,
        }
    }
}

/// Which screen the view shows. Cheap to compare, so the view only rebuilds a screen
/// when this changes (not, say, when a submission starts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Loading,
    /// The passcode form; a new `attempt` means a new, empty, focused form.
    Passcode {
        attempt: u32,
    },
    /// A method the prompt has no screen for yet.
    Unavailable(Method),
    Done,
    Fatal,
}

/// Whether this version of the prompt can complete `method`.
pub fn has_screen(method: Method) -> bool {
    matches!(method, Method::Passcode)
}

/// The method to offer first: the most secure one the prompt can complete, else the most
/// secure one the user has (its screen then says it is not available yet).
pub fn preferred_method(options: &[MethodOption]) -> Option<Method> {
    let methods = options.iter().map(|option| option.method);
    methods
        .clone()
        .filter(|method| has_screen(*method))
        .min()
        .or_else(|| methods.min())
}

/// What the user typed, as the edge expects it: people paste codes as "123 456".
pub fn normalize_passcode(typed: &str) -> String {
    typed.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Only ever navigate to web addresses, whatever the edge sends.
pub fn is_web_url(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

impl Flow {
    /// The state after `event`. Events that make no sense in the current state (a second
    /// submission while one is in flight, a late answer) leave it unchanged.
    #[must_use]
    pub fn next(self, event: Event) -> Flow {
        match (self, event) {
            (Flow::Loading, Event::Started(Ok(response))) => {
                match preferred_method(&response.methods) {
                    Some(method) => Flow::Method {
                        started: Arc::new(response),
                        method,
                        error: None,
                        attempt: 0,
                    },
                    None => Flow::Fatal {
                        started: Some(Arc::new(response)),
                        message: strings::NO_METHODS.to_owned(),
                    },
                }
            }
            (Flow::Loading, Event::Started(Err(failure))) => Flow::Fatal {
                started: None,
                message: failure.message(),
            },
            (
                Flow::Method {
                    started, attempt, ..
                },
                Event::Choose(method),
            ) if started.methods.iter().any(|option| option.method == method) => Flow::Method {
                started,
                method,
                error: None,
                attempt,
            },
            (
                Flow::Method {
                    started,
                    method,
                    attempt,
                    ..
                },
                Event::Submit,
            ) if has_screen(method) => Flow::Submitting {
                started,
                method,
                attempt,
            },
            (Flow::Submitting { started, .. }, Event::Verified(Ok(_))) => Flow::Done { started },
            (
                Flow::Submitting {
                    started,
                    method,
                    attempt,
                },
                Event::Verified(Err(failure)),
            ) => {
                if failure.is_retryable() {
                    Flow::Method {
                        started,
                        method,
                        error: Some(failure.message()),
                        attempt: attempt.saturating_add(1),
                    }
                } else {
                    Flow::Fatal {
                        started: Some(started),
                        message: failure.message(),
                    }
                }
            }
            (unchanged, _) => unchanged,
        }
    }

    /// The screen to show.
    pub fn screen(&self) -> Screen {
        match self {
            Flow::Loading => Screen::Loading,
            Flow::Method {
                method, attempt, ..
            }
            | Flow::Submitting {
                method, attempt, ..
            } => {
                if has_screen(*method) {
                    Screen::Passcode { attempt: *attempt }
                } else {
                    Screen::Unavailable(*method)
                }
            }
            Flow::Done { .. } => Screen::Done,
            Flow::Fatal { .. } => Screen::Fatal,
        }
    }

    /// What `/prompt/v1/start` answered, once it has.
    pub fn started(&self) -> Option<&Started> {
        match self {
            Flow::Loading => None,
            Flow::Method { started, .. }
            | Flow::Submitting { started, .. }
            | Flow::Done { started } => Some(started),
            Flow::Fatal { started, .. } => started.as_ref(),
        }
    }

    /// The message for the alert, if one is due.
    pub fn error(&self) -> Option<&str> {
        match self {
            Flow::Method { error, .. } => error.as_deref(),
            Flow::Fatal { message, .. } => Some(message),
            _ => None,
        }
    }

    /// Whether a request is in flight.
    pub fn is_busy(&self) -> bool {
        matches!(self, Flow::Loading | Flow::Submitting { .. })
    }

    /// The session to send with a submission, while one is in flight.
    pub fn session(&self) -> Option<&str> {
        match self {
            Flow::Submitting { started, .. } => Some(&started.session),
            _ => None,
        }
    }

    /// The methods under "Other options": the user's others, while choosing is possible.
    pub fn other_options(&self) -> Vec<MethodOption> {
        match self {
            Flow::Method {
                started, method, ..
            }
            | Flow::Submitting {
                started, method, ..
            } => started
                .methods
                .iter()
                .filter(|option| option.method != *method)
                .cloned()
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use tessera_shared::v1::Application;

    use super::*;

    fn option(method: Method) -> MethodOption {
        MethodOption {
            method,
            device_name: None,
            device_id: None,
        }
    }

    fn start(methods: &[Method]) -> StartResponse {
        StartResponse {
            session: "S1".into(),
            application: Application {
                name: "Tessera Demo".into(),
                logo_url: None,
                accent_color: None,
                help_url: None,
                manage_devices_url: None,
            },
            username: "alice".into(),
            methods: methods.iter().copied().map(option).collect(),
            default_method: methods.first().copied(),
            completion: None,
            expires_at: 0,
        }
    }

    fn refused(code: ErrorCode, message: &str) -> Failure {
        Failure::Refused(ErrorInfo {
            code,
            message: message.into(),
            attempts_left: None,
        })
    }

    fn completion() -> Completion {
        Completion {
            redirect: "http://localhost:8080/duo-callback?duo_code=C&state=T".into(),
            code: "C".into(),
            state: "T".into(),
            remember: None,
        }
    }

    /// Runs `events` from `Loading` and returns the screen and alert at the end.
    fn run(events: Vec<Event>) -> (Screen, Option<String>) {
        let flow = events.into_iter().fold(Flow::Loading, Flow::next);
        (flow.screen(), flow.error().map(str::to_owned))
    }

    fn check(events: Vec<Event>, screen: Screen, error: Option<&str>) {
        assert_eq!(run(events), (screen, error.map(str::to_owned)));
    }

    #[test]
    fn transitions() {
        use Event::*;
        let ok = |methods: &[Method]| Started(Ok(start(methods)));
        check(vec![], Screen::Loading, None);
        check(
            vec![ok(&[Method::Passcode])],
            Screen::Passcode { attempt: 0 },
            None,
        );
        // The most secure method the prompt can complete comes first.
        check(
            vec![ok(&[Method::Push, Method::Passcode])],
            Screen::Passcode { attempt: 0 },
            None,
        );
        check(
            vec![ok(&[Method::Push, Method::PhoneCall])],
            Screen::Unavailable(Method::Push),
            None,
        );
        check(vec![ok(&[])], Screen::Fatal, Some(strings::NO_METHODS));
        check(
            vec![Started(Err(refused(
                ErrorCode::EnrollmentRequired,
                "Enroll first.",
            )))],
            Screen::Fatal,
            Some("Enroll first."),
        );
        check(
            vec![Started(Err(Failure::Network))],
            Screen::Fatal,
            Some(strings::NETWORK_ERROR),
        );
        // A submission keeps the form (same attempt) until the answer comes.
        check(
            vec![ok(&[Method::Passcode]), Submit],
            Screen::Passcode { attempt: 0 },
            None,
        );
        check(
            vec![ok(&[Method::Passcode]), Submit, Verified(Ok(completion()))],
            Screen::Done,
            None,
        );
        check(
            vec![
                ok(&[Method::Passcode]),
                Submit,
                Verified(Err(refused(
                    ErrorCode::InvalidPasscode,
                    "Incorrect passcode. 9 attempts left.",
                ))),
            ],
            Screen::Passcode { attempt: 1 },
            Some("Incorrect passcode. 9 attempts left."),
        );
        check(
            vec![
                ok(&[Method::Passcode]),
                Submit,
                Verified(Err(Failure::Network)),
                Submit,
                Verified(Err(refused(ErrorCode::PasscodeReused, "Used."))),
            ],
            Screen::Passcode { attempt: 2 },
            Some("Used."),
        );
        check(
            vec![
                ok(&[Method::Passcode]),
                Submit,
                Verified(Err(refused(ErrorCode::LockedOut, "Locked."))),
            ],
            Screen::Fatal,
            Some("Locked."),
        );
        // Choosing another method clears the error; unknown methods are ignored.
        check(
            vec![
                ok(&[Method::Push, Method::Passcode]),
                Submit,
                Verified(Err(refused(ErrorCode::BadRequest, "Six digits."))),
                Choose(Method::Push),
            ],
            Screen::Unavailable(Method::Push),
            None,
        );
        check(
            vec![ok(&[Method::Passcode]), Choose(Method::Push)],
            Screen::Passcode { attempt: 0 },
            None,
        );
        // Out-of-place events change nothing.
        check(
            vec![Submit, Verified(Ok(completion()))],
            Screen::Loading,
            None,
        );
        check(
            vec![ok(&[Method::Push]), Submit],
            Screen::Unavailable(Method::Push),
            None,
        );
        check(
            vec![ok(&[Method::Passcode]), Verified(Ok(completion()))],
            Screen::Passcode { attempt: 0 },
            None,
        );
    }

    #[test]
    fn derived_values() {
        let flow = Flow::Loading.next(Event::Started(Ok(start(&[
            Method::Passcode,
            Method::PhoneCall,
        ]))));
        assert!(!flow.is_busy());
        assert_eq!(flow.session(), None);
        assert_eq!(
            flow.other_options(),
            vec![option(Method::PhoneCall)],
            "the current method is not among the others"
        );
        let flow = flow.next(Event::Submit);
        assert!(flow.is_busy());
        assert_eq!(flow.session(), Some("S1"));
        assert_eq!(flow.started().map(|s| s.username.as_str()), Some("alice"));
        let flow = flow.next(Event::Verified(Ok(completion())));
        assert!(flow.other_options().is_empty());
        assert!(flow.started().is_some());
    }

    #[test]
    fn helpers() {
        for (typed, sent) in [("123456", "123456"), (" 123 456\n", "123456"), ("", "")] {
            assert_eq!(normalize_passcode(typed), sent, "{typed:?}");
        }
        for (url, ok) in [
            ("https://rp.example/cb?duo_code=x", true),
            ("http://localhost:8080/duo-callback", true),
            ("javascript:alert(1)", false),
            ("//evil.example", false),
            ("", false),
        ] {
            assert_eq!(is_web_url(url), ok, "{url:?}");
        }
        assert_eq!(preferred_method(&[]), None);
        assert_eq!(
            preferred_method(&[option(Method::BypassCode), option(Method::SecurityKey)]),
            Some(Method::SecurityKey)
        );
    }
}
