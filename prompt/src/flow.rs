//! The prompt's state machines, as plain data and pure transition functions.
//!
//! The UI keeps a single [`Flow`] in a signal and derives everything it shows from it.
//! What the user does and what the edge answers arrive as [`Event`]s; [`Flow::next`]
//! returns the next state and the [`Command`]s to carry out (calls to the edge, telling
//! the page, remembering things in this browser). So every transition, including "a
//! switch of method cancels the pending push", is tested natively without a browser.
//!
//! One state enum per flow: [`Flow`] for the prompt, [`PasscodeStep`] for a typed code
//! (passcode, hardware token, bypass code) and [`PushStep`] for Push and Verified Push.

use std::sync::Arc;

use tessera_shared::v1::{
    Completion, ErrorCode, ErrorInfo, Method, MethodOption, PushStarted, PushState, PushStatus,
    RememberOffer, StartResponse,
};

/// What `/prompt/v1/start` answered, shared by every state after it.
pub type Started = Arc<StartResponse>;

/// Where the prompt is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flow {
    /// Waiting for `/prompt/v1/start`.
    Loading,
    /// A typed code: `method` is [`Method::Passcode`], [`Method::HardwareToken`] or
    /// [`Method::BypassCode`].
    Passcode {
        started: Started,
        method: Method,
        step: PasscodeStep,
    },
    /// Push or Verified Push.
    Push {
        started: Started,
        method: Method,
        step: PushStep,
    },
    /// A method of the user's that this prompt has no screen for.
    Unavailable { started: Started, method: Method },
    /// Verified; the edge offers to remember this browser: "Is this your device?"
    Remember {
        started: Started,
        completion: Arc<Completion>,
    },
    /// Verified; the page is being told (and usually redirected).
    Done { started: Option<Started> },
    /// Nothing more can be done here; `problem` says why and what to do.
    Fatal {
        started: Option<Started>,
        problem: Problem,
    },
}

/// The typed-code flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasscodeStep {
    /// The form, with why the last attempt failed. Each failure is a new `attempt`, so the
    /// view starts a fresh, focused form.
    Ready {
        problem: Option<Problem>,
        attempt: u32,
    },
    /// The code is on its way to the edge.
    Submitting { attempt: u32 },
}

/// The push flow. `attempt` counts pushes sent from this screen, so a late answer to an
/// earlier one is recognised and ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushStep {
    /// `/prompt/v1/push` is on its way.
    Sending { attempt: u32 },
    /// The device has the request; the prompt long-polls its status.
    Waiting {
        push: Arc<PushStarted>,
        attempt: u32,
    },
    /// Denied on the device: "Was this request from you?"
    Denied { txid: String, attempt: u32 },
    /// The answer to "Was this request from you?" is on its way.
    Answering {
        txid: String,
        was_me: bool,
        attempt: u32,
    },
    /// The answer was recorded (or could not be: `problem`).
    Answered {
        was_me: bool,
        problem: Option<Problem>,
        attempt: u32,
    },
    /// This push failed; another can be sent when `can_resend`.
    Failed {
        problem: Problem,
        can_resend: bool,
        attempt: u32,
    },
}

impl PushStep {
    fn attempt(&self) -> u32 {
        match self {
            PushStep::Sending { attempt }
            | PushStep::Waiting { attempt, .. }
            | PushStep::Denied { attempt, .. }
            | PushStep::Answering { attempt, .. }
            | PushStep::Answered { attempt, .. }
            | PushStep::Failed { attempt, .. } => *attempt,
        }
    }

    /// The push the device may still answer.
    fn pending_txid(&self) -> Option<&str> {
        match self {
            PushStep::Waiting { push, .. } => Some(&push.txid),
            _ => None,
        }
    }
}

/// Why something did not work. Kept as data and put into words by the view, in the
/// user's language ([`crate::strings::Messages`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The edge refused with a Tessera error body.
    Refused(ErrorInfo),
    /// The edge could not be reached.
    Network,
    /// The edge answered something that is neither the expected body nor an error body.
    Unexpected,
    /// The user has no method this application allows.
    NoMethods,
    /// The page's configuration is incomplete.
    Misconfigured,
    PushFraud,
    PushWrongCode,
    PushExpired,
    PushCancelled,
}

/// How a problem is titled on its screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    Failed,
    Timeout,
    Locked,
    Location,
    Enrollment,
}

impl Problem {
    pub fn kind(&self) -> ProblemKind {
        match self {
            Problem::Refused(info) => match info.code {
                ErrorCode::LockedOut | ErrorCode::UserDisabled => ProblemKind::Locked,
                ErrorCode::LocationDenied => ProblemKind::Location,
                ErrorCode::EnrollmentRequired => ProblemKind::Enrollment,
                ErrorCode::SessionExpired => ProblemKind::Timeout,
                _ => ProblemKind::Failed,
            },
            Problem::PushExpired => ProblemKind::Timeout,
            _ => ProblemKind::Failed,
        }
    }

    /// Whether the user can fix this by trying again on the same screen.
    fn is_retryable(&self) -> bool {
        match self {
            Problem::Refused(info) => matches!(
                info.code,
                ErrorCode::InvalidPasscode
                    | ErrorCode::PasscodeReused
                    | ErrorCode::BadRequest
                    | ErrorCode::RateLimited
                    | ErrorCode::PushMuted
                    | ErrorCode::MethodUnavailable
                    | ErrorCode::TransactionNotFound
                    | ErrorCode::ApprovalRefused
            ),
            Problem::Network => true,
            _ => false,
        }
    }
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

impl From<Failure> for Problem {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Refused(info) => Problem::Refused(info),
            Failure::Network => Problem::Network,
            Failure::Unexpected => Problem::Unexpected,
        }
    }
}

/// Something that happened to the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `/prompt/v1/start` answered; `last_used` is the method this browser used last.
    Started {
        result: Result<StartResponse, Failure>,
        last_used: Option<Method>,
    },
    /// The user picked another method under "Other options".
    Choose(Method),
    /// The user submitted the code form with what they typed.
    Submit(String),
    /// `/prompt/v1/passcode` answered.
    Verified(Result<Completion, Failure>),
    /// `/prompt/v1/push` answered the push of `attempt`.
    PushSent {
        attempt: u32,
        result: Result<PushStarted, Failure>,
    },
    /// `/prompt/v1/push/status` answered for `txid`.
    PushStatus {
        txid: String,
        result: Result<PushStatus, Failure>,
    },
    /// "Send another push".
    Resend,
    /// "Was this request from you?": `true` is "Yes", `false` is "No, report it".
    Feedback(bool),
    /// `/prompt/v1/push/feedback` answered.
    FeedbackSent(Result<(), Failure>),
    /// "Is this your device?": `true` is "Yes".
    Remember(bool),
}

/// What the prompt must do after a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `POST /prompt/v1/push`; answer with [`Event::PushSent`].
    SendPush {
        session: String,
        method: Method,
        device_id: Option<String>,
        attempt: u32,
    },
    /// `POST /prompt/v1/push/status` as a long poll; answer with [`Event::PushStatus`].
    Poll { session: String, txid: String },
    /// `POST /prompt/v1/cancel`; nothing to answer.
    Cancel { session: String, txid: String },
    /// `POST /prompt/v1/passcode`; answer with [`Event::Verified`].
    SubmitPasscode { session: String, passcode: String },
    /// `POST /prompt/v1/push/feedback`; answer with [`Event::FeedbackSent`].
    Feedback {
        session: String,
        txid: String,
        was_me: bool,
    },
    /// Hand `{code, state}` to the page, which usually follows `redirect`.
    Complete(Completion),
    /// Remember `method` as the last one used in this browser.
    SaveMethod(Method),
    /// Keep this remembered-device token in this browser.
    KeepDevice(RememberOffer),
}

/// Whether this version of the prompt can complete `method`.
pub fn has_screen(method: Method) -> bool {
    is_typed(method) || is_push(method)
}

/// Methods completed by typing a code into the passcode form.
pub fn is_typed(method: Method) -> bool {
    matches!(
        method,
        Method::Passcode | Method::HardwareToken | Method::BypassCode
    )
}

pub fn is_push(method: Method) -> bool {
    matches!(method, Method::VerifiedPush | Method::Push)
}

/// The method to show first: the one last used in this browser while it is still usable,
/// else the edge's default (the most secure usable one), else the most secure one the
/// prompt has a screen for, else the user's most secure one (whose screen then says it is
/// not available here).
pub fn initial_method(response: &StartResponse, last_used: Option<Method>) -> Option<Method> {
    let usable = |method: Method| {
        response
            .methods
            .iter()
            .any(|option| option.method == method)
            && has_screen(method)
    };
    let methods = response.methods.iter().map(|option| option.method);
    last_used
        .filter(|method| usable(*method))
        .or(response.default_method.filter(|method| usable(*method)))
        .or_else(|| methods.clone().filter(|method| has_screen(*method)).min())
        .or_else(|| methods.min())
}

/// What the user typed, as the edge expects it: people paste codes as "123 456".
pub fn normalize_passcode(typed: &str) -> String {
    typed.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Only ever navigate to, link to or load web addresses, whatever the edge sends.
pub fn is_web_url(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

type Next = (Flow, Vec<Command>);

impl Flow {
    /// The state after `event`, and what to do. Events that make no sense in the current
    /// state (a second submission while one is in flight, a late answer) leave it
    /// unchanged; a late push that nobody waits for any more is withdrawn.
    #[must_use]
    pub fn next(self, event: Event) -> Next {
        match event {
            Event::Started { result, last_used } => match self {
                Flow::Loading => started(result, last_used),
                unchanged => (unchanged, Vec::new()),
            },
            Event::Choose(method) => self.choose(method),
            Event::Submit(typed) => self.submit(&typed),
            Event::Verified(result) => self.verified(result),
            Event::PushSent { attempt, result } => self.push_sent(attempt, result),
            Event::PushStatus { txid, result } => self.push_status(&txid, result),
            Event::Resend => self.resend(),
            Event::Feedback(was_me) => self.feedback(was_me),
            Event::FeedbackSent(result) => self.feedback_sent(result),
            Event::Remember(yes) => self.remember(yes),
        }
    }

    fn choose(self, method: Method) -> Next {
        let Some(started) = self.choosing().cloned() else {
            return (self, Vec::new());
        };
        if !started.methods.iter().any(|option| option.method == method)
            || self.method() == Some(method)
        {
            return (self, Vec::new());
        }
        let mut commands = Vec::new();
        if let Flow::Push { step, .. } = &self
            && let Some(txid) = step.pending_txid()
        {
            commands.push(Command::Cancel {
                session: started.session.clone(),
                txid: txid.to_owned(),
            });
        }
        let attempt = match &self {
            Flow::Push { step, .. } => step.attempt().saturating_add(1),
            _ => 0,
        };
        let (flow, more) = enter(started, method, attempt);
        commands.extend(more);
        (flow, commands)
    }

    fn submit(self, typed: &str) -> Next {
        match self {
            Flow::Passcode {
                started,
                method,
                step: PasscodeStep::Ready { attempt, .. },
            } => {
                let command = Command::SubmitPasscode {
                    session: started.session.clone(),
                    passcode: normalize_passcode(typed),
                };
                let step = PasscodeStep::Submitting { attempt };
                (
                    Flow::Passcode {
                        started,
                        method,
                        step,
                    },
                    vec![command],
                )
            }
            unchanged => (unchanged, Vec::new()),
        }
    }

    fn verified(self, result: Result<Completion, Failure>) -> Next {
        match self {
            Flow::Passcode {
                started,
                method,
                step: PasscodeStep::Submitting { attempt },
            } => match result {
                Ok(completion) => succeeded(started, method, completion),
                Err(failure) => {
                    let problem = Problem::from(failure);
                    if problem.is_retryable() {
                        let step = PasscodeStep::Ready {
                            problem: Some(problem),
                            attempt: attempt.saturating_add(1),
                        };
                        let flow = Flow::Passcode {
                            started,
                            method,
                            step,
                        };
                        (flow, Vec::new())
                    } else {
                        fatal(Some(started), problem)
                    }
                }
            },
            unchanged => (unchanged, Vec::new()),
        }
    }

    fn push_sent(self, sent: u32, result: Result<PushStarted, Failure>) -> Next {
        match self {
            Flow::Push {
                started,
                method,
                step: PushStep::Sending { attempt },
            } if attempt == sent => match result {
                Ok(push) => {
                    let poll = Command::Poll {
                        session: started.session.clone(),
                        txid: push.txid.clone(),
                    };
                    let step = PushStep::Waiting {
                        push: Arc::new(push),
                        attempt,
                    };
                    let flow = Flow::Push {
                        started,
                        method,
                        step,
                    };
                    (flow, vec![poll])
                }
                Err(failure) => push_failed(started, method, attempt, failure.into()),
            },
            // Nobody waits for this push any more: withdraw it from the device.
            other => {
                let commands = match (&result, other.started()) {
                    (Ok(push), Some(started)) => vec![Command::Cancel {
                        session: started.session.clone(),
                        txid: push.txid.clone(),
                    }],
                    _ => Vec::new(),
                };
                (other, commands)
            }
        }
    }

    fn push_status(self, txid: &str, result: Result<PushStatus, Failure>) -> Next {
        let Flow::Push {
            started,
            method,
            step: PushStep::Waiting { push, attempt },
        } = self
        else {
            return (self, Vec::new());
        };
        if push.txid != txid {
            let step = PushStep::Waiting { push, attempt };
            let flow = Flow::Push {
                started,
                method,
                step,
            };
            return (flow, Vec::new());
        }
        let status = match result {
            Ok(status) => status,
            Err(failure) => return push_failed(started, method, attempt, failure.into()),
        };
        if let Some(info) = &status.error
            && ends_the_prompt(info.code)
        {
            return fatal(Some(started), Problem::Refused(info.clone()));
        }
        let failed = |problem: Problem, can_resend: bool| {
            let step = PushStep::Failed {
                problem,
                can_resend,
                attempt,
            };
            (
                Flow::Push {
                    started: started.clone(),
                    method,
                    step,
                },
                Vec::new(),
            )
        };
        match status.state {
            PushState::Pending => {
                let poll = Command::Poll {
                    session: started.session.clone(),
                    txid: push.txid.clone(),
                };
                let step = PushStep::Waiting { push, attempt };
                let flow = Flow::Push {
                    started,
                    method,
                    step,
                };
                (flow, vec![poll])
            }
            PushState::Approved => match status.completion {
                Some(completion) => succeeded(started, method, completion),
                None => failed(Problem::Unexpected, true),
            },
            PushState::Denied => {
                let step = PushStep::Denied {
                    txid: push.txid.clone(),
                    attempt,
                };
                let flow = Flow::Push {
                    started,
                    method,
                    step,
                };
                (flow, Vec::new())
            }
            PushState::Fraud => failed(Problem::PushFraud, false),
            PushState::WrongCode => failed(Problem::PushWrongCode, true),
            PushState::Expired => failed(Problem::PushExpired, true),
            PushState::Cancelled => failed(Problem::PushCancelled, true),
        }
    }

    fn resend(self) -> Next {
        let Flow::Push {
            started,
            method,
            step,
        } = self
        else {
            return (self, Vec::new());
        };
        let allowed = match &step {
            PushStep::Waiting { .. } => true,
            PushStep::Failed { can_resend, .. } => *can_resend,
            PushStep::Answered { was_me, .. } => *was_me,
            _ => false,
        };
        if !allowed {
            let flow = Flow::Push {
                started,
                method,
                step,
            };
            return (flow, Vec::new());
        }
        let mut commands = Vec::new();
        if let Some(txid) = step.pending_txid() {
            commands.push(Command::Cancel {
                session: started.session.clone(),
                txid: txid.to_owned(),
            });
        }
        let (flow, more) = enter(started, method, step.attempt().saturating_add(1));
        commands.extend(more);
        (flow, commands)
    }

    fn feedback(self, was_me: bool) -> Next {
        match self {
            Flow::Push {
                started,
                method,
                step: PushStep::Denied { txid, attempt },
            } => {
                let command = Command::Feedback {
                    session: started.session.clone(),
                    txid: txid.clone(),
                    was_me,
                };
                let step = PushStep::Answering {
                    txid,
                    was_me,
                    attempt,
                };
                let flow = Flow::Push {
                    started,
                    method,
                    step,
                };
                (flow, vec![command])
            }
            unchanged => (unchanged, Vec::new()),
        }
    }

    fn feedback_sent(self, result: Result<(), Failure>) -> Next {
        match self {
            Flow::Push {
                started,
                method,
                step:
                    PushStep::Answering {
                        was_me, attempt, ..
                    },
            } => {
                let step = PushStep::Answered {
                    was_me,
                    problem: result.err().map(Problem::from),
                    attempt,
                };
                let flow = Flow::Push {
                    started,
                    method,
                    step,
                };
                (flow, Vec::new())
            }
            unchanged => (unchanged, Vec::new()),
        }
    }

    fn remember(self, yes: bool) -> Next {
        match self {
            Flow::Remember {
                started,
                completion,
            } => {
                let completion = Arc::unwrap_or_clone(completion);
                let mut commands = Vec::new();
                if yes && let Some(offer) = completion.remember.clone() {
                    commands.push(Command::KeepDevice(offer));
                }
                commands.push(Command::Complete(completion));
                let flow = Flow::Done {
                    started: Some(started),
                };
                (flow, commands)
            }
            unchanged => (unchanged, Vec::new()),
        }
    }

    /// What `/prompt/v1/start` answered, once it has.
    pub fn started(&self) -> Option<&Started> {
        match self {
            Flow::Loading => None,
            Flow::Passcode { started, .. }
            | Flow::Push { started, .. }
            | Flow::Unavailable { started, .. }
            | Flow::Remember { started, .. } => Some(started),
            Flow::Done { started } | Flow::Fatal { started, .. } => started.as_ref(),
        }
    }

    /// The start answer while the user can still choose a method.
    fn choosing(&self) -> Option<&Started> {
        match self {
            Flow::Passcode { started, .. }
            | Flow::Push { started, .. }
            | Flow::Unavailable { started, .. } => Some(started),
            _ => None,
        }
    }

    /// The method on screen.
    pub fn method(&self) -> Option<Method> {
        match self {
            Flow::Passcode { method, .. }
            | Flow::Push { method, .. }
            | Flow::Unavailable { method, .. } => Some(*method),
            _ => None,
        }
    }

    /// Whether a request the user started is in flight.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            Flow::Loading
                | Flow::Passcode {
                    step: PasscodeStep::Submitting { .. },
                    ..
                }
                | Flow::Push {
                    step: PushStep::Sending { .. } | PushStep::Answering { .. },
                    ..
                }
        )
    }

    /// The methods under "Other options", while choosing is possible: the user's others
    /// that this prompt can complete (never a dead end).
    pub fn other_options(&self) -> Vec<MethodOption> {
        match (self.choosing(), self.method()) {
            (Some(started), Some(method)) => started
                .methods
                .iter()
                .filter(|option| option.method != method && has_screen(option.method))
                .cloned()
                .collect(),
            _ => Vec::new(),
        }
    }
}

fn started(result: Result<StartResponse, Failure>, last_used: Option<Method>) -> Next {
    let response = match result {
        Ok(response) => response,
        Err(failure) => return fatal(None, failure.into()),
    };
    if let Some(completion) = response.completion.clone() {
        let flow = Flow::Done {
            started: Some(Arc::new(response)),
        };
        return (flow, vec![Command::Complete(completion)]);
    }
    match initial_method(&response, last_used) {
        Some(method) => enter(Arc::new(response), method, 0),
        None => fatal(Some(Arc::new(response)), Problem::NoMethods),
    }
}

/// The first state of `method`'s screen, and what it needs done.
fn enter(started: Started, method: Method, attempt: u32) -> Next {
    if is_push(method) {
        let device_id = started
            .methods
            .iter()
            .find(|option| option.method == method)
            .and_then(|option| option.device_id.clone());
        let command = Command::SendPush {
            session: started.session.clone(),
            method,
            device_id,
            attempt,
        };
        let step = PushStep::Sending { attempt };
        let flow = Flow::Push {
            started,
            method,
            step,
        };
        (flow, vec![command])
    } else if is_typed(method) {
        let step = PasscodeStep::Ready {
            problem: None,
            attempt: 0,
        };
        let flow = Flow::Passcode {
            started,
            method,
            step,
        };
        (flow, Vec::new())
    } else {
        (Flow::Unavailable { started, method }, Vec::new())
    }
}

fn succeeded(started: Started, method: Method, completion: Completion) -> Next {
    let save = Command::SaveMethod(method);
    if completion.remember.is_some() {
        let flow = Flow::Remember {
            started,
            completion: Arc::new(completion),
        };
        (flow, vec![save])
    } else {
        let flow = Flow::Done {
            started: Some(started),
        };
        (flow, vec![save, Command::Complete(completion)])
    }
}

fn push_failed(started: Started, method: Method, attempt: u32, problem: Problem) -> Next {
    if !problem.is_retryable() {
        return fatal(Some(started), problem);
    }
    let can_resend =
        !matches!(&problem, Problem::Refused(info) if info.code == ErrorCode::PushMuted);
    let step = PushStep::Failed {
        problem,
        can_resend,
        attempt,
    };
    let flow = Flow::Push {
        started,
        method,
        step,
    };
    (flow, Vec::new())
}

/// Refusals after which no method can succeed in this prompt.
fn ends_the_prompt(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::LockedOut
            | ErrorCode::UserDisabled
            | ErrorCode::LocationDenied
            | ErrorCode::EnrollmentRequired
            | ErrorCode::InvalidSession
            | ErrorCode::SessionExpired
    )
}

fn fatal(started: Option<Started>, problem: Problem) -> Next {
    (Flow::Fatal { started, problem }, Vec::new())
}

#[cfg(test)]
mod tests;
