//! Fixed states for `Tessera.preview`: every screen of the prompt, reachable without an
//! edge scenario, for accessibility audits, screenshots and design review. The data is
//! made up; the preview runs no command, so nothing in it can complete a sign-in.

use std::sync::Arc;

use tessera_shared::v1::{
    Application, Completion, ErrorCode, ErrorInfo, Method, MethodOption, PushStarted,
    RememberOffer, StartResponse,
};

use crate::flow::{Flow, PasscodeStep, Problem, PushStep, Started};

/// The screens a preview can show, by name.
pub const SCREENS: [&str; 21] = [
    "loading",
    "passcode",
    "passcode-error",
    "bypass",
    "push-sending",
    "verified-push",
    "push",
    "push-denied",
    "push-reported",
    "push-expired",
    "push-fraud",
    "push-wrong-code",
    "unavailable",
    "remember",
    "success",
    "locked",
    "location",
    "enrollment",
    "timeout",
    "failed",
    "misconfigured",
];

fn started() -> Started {
    let option = |method, device: Option<&str>| MethodOption {
        method,
        device_name: device.map(str::to_owned),
        device_id: device.map(|_| "DPPREVIEW".to_owned()),
    };
    Arc::new(StartResponse {
        session: String::new(),
        application: Application {
            name: "Example Portal".into(),
            logo_url: None,
            accent_color: Some("#0b6e4f".into()),
            help_url: Some("https://help.example/".into()),
            manage_devices_url: Some("https://devices.example/".into()),
        },
        username: "alice".into(),
        methods: vec![
            option(Method::VerifiedPush, Some("Alice's phone")),
            option(Method::Passcode, Some("Alice's phone")),
            option(Method::PhoneCall, None),
            option(Method::BypassCode, None),
        ],
        default_method: Some(Method::VerifiedPush),
        completion: None,
        expires_at: 0,
    })
}

fn refused(code: ErrorCode, message: &str, attempts_left: Option<u32>) -> Problem {
    Problem::Refused(ErrorInfo {
        code,
        message: message.into(),
        attempts_left,
    })
}

/// The state named `screen`, with pushes expiring 60 s after `now`.
pub fn flow(screen: &str, now: i64) -> Option<Flow> {
    let started = started();
    let push = |method, code: Option<&str>, step: fn(Arc<PushStarted>) -> PushStep| Flow::Push {
        started: started.clone(),
        method,
        step: step(Arc::new(PushStarted {
            txid: "TXPREVIEW".into(),
            verification_code: code.map(str::to_owned),
            expires_at: now.saturating_add(60),
            device_name: Some("Alice's phone".into()),
        })),
    };
    let code = |method, problem| Flow::Passcode {
        started: started.clone(),
        method,
        step: PasscodeStep::Ready {
            problem,
            attempt: 0,
        },
    };
    let push_step = |step| Flow::Push {
        started: started.clone(),
        method: Method::VerifiedPush,
        step,
    };
    let failed = |problem, can_resend| {
        push_step(PushStep::Failed {
            problem,
            can_resend,
            attempt: 0,
        })
    };
    let fatal = |problem| Flow::Fatal {
        started: Some(started.clone()),
        problem,
    };
    Some(match screen {
        "loading" => Flow::Loading,
        "passcode" => code(Method::Passcode, None),
        "passcode-error" => code(
            Method::Passcode,
            Some(refused(
                ErrorCode::InvalidPasscode,
                "Incorrect passcode.",
                Some(9),
            )),
        ),
        "bypass" => code(Method::BypassCode, None),
        "push-sending" => push_step(PushStep::Sending { attempt: 0 }),
        "verified-push" => push(Method::VerifiedPush, Some("417"), |push| {
            PushStep::Waiting { push, attempt: 0 }
        }),
        "push" => push(Method::Push, None, |push| PushStep::Waiting {
            push,
            attempt: 0,
        }),
        "push-denied" => push_step(PushStep::Denied {
            txid: "TXPREVIEW".into(),
            attempt: 0,
        }),
        "push-reported" => push_step(PushStep::Answered {
            was_me: false,
            problem: None,
            attempt: 0,
        }),
        "push-expired" => failed(Problem::PushExpired, true),
        "push-fraud" => failed(Problem::PushFraud, false),
        "push-wrong-code" => failed(Problem::PushWrongCode, true),
        "unavailable" => Flow::Unavailable {
            started: started.clone(),
            method: Method::PhoneCall,
        },
        "remember" => Flow::Remember {
            started: started.clone(),
            completion: Arc::new(Completion {
                redirect: String::new(),
                code: String::new(),
                state: String::new(),
                remember: Some(RememberOffer {
                    token: String::new(),
                    expires_at: now.saturating_add(30 * 86_400),
                    scope: "application".into(),
                }),
            }),
        },
        "success" => Flow::Done {
            started: Some(started.clone()),
        },
        "locked" => fatal(refused(
            ErrorCode::LockedOut,
            "Your account is locked. Contact your help desk.",
            None,
        )),
        "location" => fatal(refused(
            ErrorCode::LocationDenied,
            "Access denied. Tessera does not provide services in your current location.",
            None,
        )),
        "enrollment" => fatal(refused(
            ErrorCode::EnrollmentRequired,
            "Enroll a device first.",
            None,
        )),
        "timeout" => fatal(refused(
            ErrorCode::SessionExpired,
            "This sign-in took too long.",
            None,
        )),
        "failed" => fatal(Problem::Network),
        "misconfigured" => Flow::Fatal {
            started: None,
            problem: Problem::Misconfigured,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_screen_has_a_state() {
        for screen in SCREENS {
            assert!(flow(screen, 0).is_some(), "{screen}");
        }
        assert_eq!(flow("nope", 0), None);
    }
}
