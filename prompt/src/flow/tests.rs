use tessera_shared::v1::Application;

use super::*;

fn option(method: Method) -> MethodOption {
    MethodOption {
        method,
        device_name: None,
        device_id: is_push(method).then(|| "DP1".to_owned()),
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

fn refused(code: ErrorCode) -> Failure {
    Failure::Refused(ErrorInfo {
        code,
        message: "English.".into(),
        attempts_left: None,
    })
}

fn completion(remember: bool) -> Completion {
    Completion {
        redirect: "http://localhost:8080/duo-callback?duo_code=C&state=T".into(),
        code: "C".into(),
        state: "T".into(),
        remember: remember.then(|| RememberOffer {
            token: "R1".into(),
            expires_at: 99,
            scope: "application".into(),
        }),
    }
}

fn pushed(txid: &str) -> PushStarted {
    PushStarted {
        txid: txid.into(),
        verification_code: Some("417".into()),
        expires_at: 60,
        device_name: Some("Alice's phone".into()),
    }
}

fn status(state: PushState, completion: Option<Completion>) -> PushStatus {
    PushStatus {
        state,
        completion,
        error: None,
    }
}

fn ok(methods: &[Method]) -> Event {
    Event::Started {
        result: Ok(start(methods)),
        last_used: None,
    }
}

/// Runs `events` from `Loading`: the final state and every command, in order.
fn run(events: Vec<Event>) -> (Flow, Vec<Command>) {
    events
        .into_iter()
        .fold((Flow::Loading, Vec::new()), |(flow, mut all), event| {
            let (flow, commands) = flow.next(event);
            all.extend(commands);
            (flow, all)
        })
}

/// A short name for where the flow ended.
fn where_(flow: &Flow) -> String {
    match flow {
        Flow::Loading => "loading".into(),
        Flow::Passcode { method, step, .. } => match step {
            PasscodeStep::Ready { problem, attempt } => {
                format!("{}:ready{attempt}:{problem:?}", method.as_str())
            }
            PasscodeStep::Submitting { attempt } => {
                format!("{}:submitting{attempt}", method.as_str())
            }
        },
        Flow::Push { method, step, .. } => format!(
            "{}:{}",
            method.as_str(),
            match step {
                PushStep::Sending { attempt } => format!("sending{attempt}"),
                PushStep::Waiting { push, .. } => format!("waiting:{}", push.txid),
                PushStep::Denied { txid, .. } => format!("denied:{txid}"),
                PushStep::Answering { was_me, .. } => format!("answering:{was_me}"),
                PushStep::Answered { was_me, .. } => format!("answered:{was_me}"),
                PushStep::Failed {
                    problem,
                    can_resend,
                    ..
                } => format!("failed:{problem:?}:{can_resend}"),
            }
        ),
        Flow::Unavailable { method, .. } => format!("unavailable:{}", method.as_str()),
        Flow::Remember { .. } => "remember".into(),
        Flow::Done { .. } => "done".into(),
        Flow::Fatal { problem, .. } => format!("fatal:{:?}", problem.kind()),
    }
}

fn check(events: Vec<Event>, expected: &str, commands: Vec<Command>) {
    let (flow, all) = run(events);
    assert_eq!(where_(&flow), expected);
    assert_eq!(all, commands, "{expected}");
}

fn send_push(method: Method, attempt: u32) -> Command {
    Command::SendPush {
        session: "S1".into(),
        method,
        device_id: Some("DP1".into()),
        attempt,
    }
}

fn poll(txid: &str) -> Command {
    Command::Poll {
        session: "S1".into(),
        txid: txid.into(),
    }
}

fn cancel(txid: &str) -> Command {
    Command::Cancel {
        session: "S1".into(),
        txid: txid.into(),
    }
}

fn sent(attempt: u32, txid: &str) -> Event {
    Event::PushSent {
        attempt,
        result: Ok(pushed(txid)),
    }
}

fn answer(txid: &str, state: PushState, completion: Option<Completion>) -> Event {
    Event::PushStatus {
        txid: txid.into(),
        result: Ok(status(state, completion)),
    }
}

#[test]
fn method_selection() {
    let pick = |methods: &[Method], default: Option<Method>, last: Option<Method>| {
        let mut response = start(methods);
        response.default_method = default;
        initial_method(&response, last)
    };
    use Method::*;
    // First visit: the edge's default.
    assert_eq!(
        pick(&[VerifiedPush, Passcode], Some(VerifiedPush), None),
        Some(VerifiedPush)
    );
    // Afterwards the method last used in this browser, while still usable.
    assert_eq!(
        pick(
            &[VerifiedPush, Passcode],
            Some(VerifiedPush),
            Some(Passcode)
        ),
        Some(Passcode)
    );
    assert_eq!(
        pick(&[VerifiedPush, Passcode], Some(VerifiedPush), Some(Push)),
        Some(VerifiedPush)
    );
    // No usable default: the most secure method with a screen, else the most secure.
    assert_eq!(pick(&[SecurityKey, Passcode], None, None), Some(Passcode));
    assert_eq!(
        pick(&[SecurityKey, Passcode], Some(SecurityKey), None),
        Some(Passcode)
    );
    assert_eq!(
        pick(&[PhoneCall, SecurityKey], None, None),
        Some(SecurityKey)
    );
    assert_eq!(pick(&[], Some(Passcode), Some(Passcode)), None);
}

#[test]
fn start_outcomes() {
    use Method::*;
    check(vec![], "loading", vec![]);
    check(vec![ok(&[Passcode])], "passcode:ready0:None", vec![]);
    check(
        vec![ok(&[VerifiedPush, Passcode])],
        "verified_push:sending0",
        vec![send_push(VerifiedPush, 0)],
    );
    check(vec![ok(&[PhoneCall])], "unavailable:phone_call", vec![]);
    check(vec![ok(&[])], "fatal:Failed", vec![]);
    let mut decided = start(&[Passcode]);
    decided.completion = Some(completion(false));
    check(
        vec![Event::Started {
            result: Ok(decided),
            last_used: None,
        }],
        "done",
        vec![Command::Complete(completion(false))],
    );
    for (code, kind) in [
        (ErrorCode::EnrollmentRequired, "fatal:Enrollment"),
        (ErrorCode::LocationDenied, "fatal:Location"),
        (ErrorCode::LockedOut, "fatal:Locked"),
        (ErrorCode::InvalidRequest, "fatal:Failed"),
    ] {
        check(
            vec![Event::Started {
                result: Err(refused(code)),
                last_used: None,
            }],
            kind,
            vec![],
        );
    }
    check(
        vec![Event::Started {
            result: Err(Failure::Network),
            last_used: None,
        }],
        "fatal:Failed",
        vec![],
    );
    // A second start answer changes nothing.
    check(
        vec![ok(&[Passcode]), ok(&[VerifiedPush])],
        "passcode:ready0:None",
        vec![],
    );
}

#[test]
fn passcode_flow() {
    use Event::*;
    use Method::*;
    let submit = Command::SubmitPasscode {
        session: "S1".into(),
        passcode: "123456".into(),
    };
    check(
        vec![ok(&[Passcode]), Submit(" 123 456".into())],
        "passcode:submitting0",
        vec![submit.clone()],
    );
    check(
        vec![
            ok(&[Passcode]),
            Submit("123456".into()),
            Verified(Ok(completion(false))),
        ],
        "done",
        vec![
            submit.clone(),
            Command::SaveMethod(Passcode),
            Command::Complete(completion(false)),
        ],
    );
    check(
        vec![
            ok(&[Passcode]),
            Submit("123456".into()),
            Verified(Err(refused(ErrorCode::InvalidPasscode))),
        ],
        "passcode:ready1:Some(Refused(ErrorInfo { code: InvalidPasscode, message: \"English.\", attempts_left: None }))",
        vec![submit.clone()],
    );
    check(
        vec![
            ok(&[Passcode]),
            Submit("123456".into()),
            Verified(Err(refused(ErrorCode::LockedOut))),
        ],
        "fatal:Locked",
        vec![submit.clone()],
    );
    // A second submission while one is in flight, or an answer nobody waits for: nothing.
    check(
        vec![
            ok(&[Passcode]),
            Submit("123456".into()),
            Submit("123456".into()),
        ],
        "passcode:submitting0",
        vec![submit.clone()],
    );
    check(
        vec![ok(&[Passcode]), Verified(Ok(completion(false)))],
        "passcode:ready0:None",
        vec![],
    );
    // A bypass code uses the same form.
    check(
        vec![Started {
            result: Ok(start(&[Passcode, BypassCode])),
            last_used: Some(BypassCode),
        }],
        "bypass_code:ready0:None",
        vec![],
    );
}

#[test]
fn push_flow() {
    use Event::*;
    use Method::*;
    let push = || ok(&[VerifiedPush, Passcode]);
    let approved = || answer("T1", PushState::Approved, Some(completion(false)));
    check(
        vec![push(), sent(0, "T1")],
        "verified_push:waiting:T1",
        vec![send_push(VerifiedPush, 0), poll("T1")],
    );
    // Long poll: `pending` asks again, at once.
    check(
        vec![
            push(),
            sent(0, "T1"),
            answer("T1", PushState::Pending, None),
        ],
        "verified_push:waiting:T1",
        vec![send_push(VerifiedPush, 0), poll("T1"), poll("T1")],
    );
    check(
        vec![push(), sent(0, "T1"), approved()],
        "done",
        vec![
            send_push(VerifiedPush, 0),
            poll("T1"),
            Command::SaveMethod(VerifiedPush),
            Command::Complete(completion(false)),
        ],
    );
    for (state, expected) in [
        (PushState::Fraud, "verified_push:failed:PushFraud:false"),
        (
            PushState::WrongCode,
            "verified_push:failed:PushWrongCode:true",
        ),
        (PushState::Expired, "verified_push:failed:PushExpired:true"),
        (
            PushState::Cancelled,
            "verified_push:failed:PushCancelled:true",
        ),
        (PushState::Denied, "verified_push:denied:T1"),
    ] {
        let (flow, _) = run(vec![push(), sent(0, "T1"), answer("T1", state, None)]);
        assert_eq!(where_(&flow), expected);
    }
    // A status for another push is ignored.
    check(
        vec![push(), sent(0, "T1"), answer("T0", PushState::Denied, None)],
        "verified_push:waiting:T1",
        vec![send_push(VerifiedPush, 0), poll("T1")],
    );
    // Refusals: muted pushes cannot be resent; a lockout ends the prompt.
    check(
        vec![
            push(),
            PushSent {
                attempt: 0,
                result: Err(refused(ErrorCode::PushMuted)),
            },
        ],
        "verified_push:failed:Refused(ErrorInfo { code: PushMuted, message: \"English.\", attempts_left: None }):false",
        vec![send_push(VerifiedPush, 0)],
    );
    let (flow, _) = run(vec![
        push(),
        sent(0, "T1"),
        PushStatus {
            txid: "T1".into(),
            result: Ok(tessera_shared::v1::PushStatus {
                state: PushState::WrongCode,
                completion: None,
                error: Some(ErrorInfo {
                    code: ErrorCode::LockedOut,
                    message: "Locked.".into(),
                    attempts_left: None,
                }),
            }),
        },
    ]);
    assert_eq!(where_(&flow), "fatal:Locked");
    let (flow, _) = run(vec![
        push(),
        sent(0, "T1"),
        PushStatus {
            txid: "T1".into(),
            result: Err(Failure::Network),
        },
    ]);
    assert_eq!(where_(&flow), "verified_push:failed:Network:true");
}

#[test]
fn resending_and_switching_cancel_the_pending_push() {
    use Event::*;
    use Method::*;
    let push = || ok(&[VerifiedPush, Passcode]);
    // "Send another push" withdraws the pending one and sends a new one.
    check(
        vec![push(), sent(0, "T1"), Resend],
        "verified_push:sending1",
        vec![
            send_push(VerifiedPush, 0),
            poll("T1"),
            cancel("T1"),
            send_push(VerifiedPush, 1),
        ],
    );
    check(
        vec![
            push(),
            sent(0, "T1"),
            answer("T1", PushState::Expired, None),
            Resend,
            sent(1, "T2"),
        ],
        "verified_push:waiting:T2",
        vec![
            send_push(VerifiedPush, 0),
            poll("T1"),
            send_push(VerifiedPush, 1),
            poll("T2"),
        ],
    );
    // Switching to the passcode withdraws the pending push.
    check(
        vec![push(), sent(0, "T1"), Choose(Passcode)],
        "passcode:ready0:None",
        vec![send_push(VerifiedPush, 0), poll("T1"), cancel("T1")],
    );
    // A push that arrives after the switch is withdrawn at once, and its status ignored.
    check(
        vec![
            push(),
            Choose(Passcode),
            sent(0, "T1"),
            answer("T1", PushState::Approved, Some(completion(false))),
        ],
        "passcode:ready0:None",
        vec![send_push(VerifiedPush, 0), cancel("T1")],
    );
    // A late answer to an earlier push is withdrawn too.
    check(
        vec![push(), sent(0, "T1"), Resend, sent(0, "T0")],
        "verified_push:sending1",
        vec![
            send_push(VerifiedPush, 0),
            poll("T1"),
            cancel("T1"),
            send_push(VerifiedPush, 1),
            cancel("T0"),
        ],
    );
    // Unknown or current methods change nothing.
    check(
        vec![ok(&[Passcode]), Choose(Push)],
        "passcode:ready0:None",
        vec![],
    );
    check(
        vec![ok(&[Passcode, Push]), Choose(Passcode)],
        "passcode:ready0:None",
        vec![],
    );
    // From the passcode, back to push: a fresh push.
    check(
        vec![ok(&[Passcode, Push]), Choose(Push)],
        "push:sending0",
        vec![send_push(Push, 0)],
    );
    // Fraud: no resend.
    check(
        vec![
            push(),
            sent(0, "T1"),
            answer("T1", PushState::Fraud, None),
            Resend,
        ],
        "verified_push:failed:PushFraud:false",
        vec![send_push(VerifiedPush, 0), poll("T1")],
    );
}

#[test]
fn denied_push_feedback() {
    use Event::*;
    use Method::*;
    let denied = || {
        vec![
            ok(&[VerifiedPush]),
            sent(0, "T1"),
            answer("T1", PushState::Denied, None),
        ]
    };
    let feedback = |was_me| Command::Feedback {
        session: "S1".into(),
        txid: "T1".into(),
        was_me,
    };
    let mut events = denied();
    events.extend([Feedback(false), FeedbackSent(Ok(()))]);
    check(
        events,
        "verified_push:answered:false",
        vec![send_push(VerifiedPush, 0), poll("T1"), feedback(false)],
    );
    // After "No, report it" no push is offered again; after "Yes" one is.
    let mut events = denied();
    events.extend([Feedback(false), FeedbackSent(Ok(())), Resend]);
    assert_eq!(where_(&run(events).0), "verified_push:answered:false");
    let mut events = denied();
    events.extend([Feedback(true), FeedbackSent(Err(Failure::Network)), Resend]);
    assert_eq!(where_(&run(events).0), "verified_push:sending1");
    // Feedback outside the question is ignored.
    check(
        vec![ok(&[Passcode]), Feedback(false)],
        "passcode:ready0:None",
        vec![],
    );
}

#[test]
fn remembered_device_offer() {
    use Event::*;
    use Method::*;
    let verified = || {
        vec![
            ok(&[Passcode]),
            Submit("123456".into()),
            Verified(Ok(completion(true))),
        ]
    };
    let (flow, commands) = run(verified());
    assert_eq!(where_(&flow), "remember");
    assert!(
        !commands.iter().any(|c| matches!(c, Command::Complete(_))),
        "the page waits for the answer"
    );
    let mut events = verified();
    events.push(Remember(true));
    let (flow, commands) = run(events);
    assert_eq!(where_(&flow), "done");
    assert_eq!(
        commands[2..],
        [
            Command::KeepDevice(completion(true).remember.unwrap()),
            Command::Complete(completion(true)),
        ]
    );
    let mut events = verified();
    events.push(Remember(false));
    let (_, commands) = run(events);
    assert_eq!(commands[2..], [Command::Complete(completion(true))]);
}

#[test]
fn derived_values() {
    let (flow, _) = run(vec![ok(&[
        Method::SecurityKey,
        Method::Passcode,
        Method::PhoneCall,
        Method::BypassCode,
    ])]);
    assert!(!flow.is_busy());
    assert_eq!(
        flow.other_options(),
        vec![option(Method::BypassCode)],
        "only the others this prompt can complete"
    );
    let (flow, _) = flow.next(Event::Submit("1".into()));
    assert!(flow.is_busy());
    assert_eq!(flow.started().map(|s| s.username.as_str()), Some("alice"));
    let (flow, _) = flow.next(Event::Verified(Ok(completion(false))));
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
}
