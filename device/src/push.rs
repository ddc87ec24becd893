//! The CLI's push commands: `watch` (one WebSocket per account, reconnecting with
//! backoff; each push shown and answered at the terminal) and the one-shot `approve` /
//! `deny` for scripts.

use std::io::{BufRead, Write};
use std::sync::mpsc;
use std::time::Duration;

use tessera_device::client::{ClientError, Delivery, EdgeClient, Trust};
use tessera_device::{Account, DeviceState};
use tessera_shared::v1::ApprovalDecision;
use tessera_shared::v1::device::PushRequest;

use crate::{Failure, unix_now};

/// How long a WebSocket read waits before a keep-alive ping.
const KEEPALIVE: Duration = Duration::from_secs(20);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub enum Answer {
    Approve(Option<String>),
    Deny,
    Fraud,
}

/// `approve` / `deny`: answers the pending push (`txid`, or the only/newest one).
pub fn answer_pending(
    account: &Account,
    trust: Trust,
    txid: Option<&str>,
    answer: Answer,
    show_request: bool,
) -> Result<(), Failure> {
    if !account.has_push() {
        return Err(Failure(format!(
            "{} was not activated for push on this device.",
            account.label()
        )));
    }
    let client = EdgeClient::new(&account.edge_url, trust);
    let pending = client.pending(account, unix_now())?;
    let push = match txid {
        Some(txid) => pending
            .iter()
            .find(|push| push.txid == txid)
            .cloned()
            .unwrap_or_else(|| placeholder(txid)),
        None => pending
            .iter()
            .max_by_key(|push| push.time)
            .cloned()
            .ok_or_else(|| Failure(format!("No push is pending for {}.", account.label())))?,
    };
    send(&client, account, &push, answer, show_request)
}

/// A push known only by id (not pending any more, or never ours): the edge decides.
fn placeholder(txid: &str) -> PushRequest {
    PushRequest {
        txid: txid.to_owned(),
        application: String::new(),
        username: String::new(),
        ip: None,
        location: Default::default(),
        time: 0,
        expires_at: 0,
        verified: false,
        code_length: None,
    }
}

fn send(
    client: &EdgeClient,
    account: &Account,
    push: &PushRequest,
    answer: Answer,
    show_request: bool,
) -> Result<(), Failure> {
    let (decision, code) = match answer {
        Answer::Approve(code) => {
            if push.verified && code.is_none() {
                return Err(Failure(
                    "This is a Verified Push: give the code shown in the browser with --code."
                        .into(),
                ));
            }
            (ApprovalDecision::Approve, code)
        }
        Answer::Deny => (ApprovalDecision::Deny, None),
        Answer::Fraud => (ApprovalDecision::DenyFraud, None),
    };
    let sent = client.answer(account, &push.txid, decision, code.as_deref(), unix_now())?;
    if show_request {
        let shown = serde_json::json!({
            "authorization": sent.authorization,
            "approval": sent.approval,
        });
        println!("{shown}");
    } else {
        let verb = match decision {
            ApprovalDecision::Approve => "Approved",
            ApprovalDecision::Deny => "Denied",
            ApprovalDecision::DenyFraud => "Denied and reported as fraud:",
        };
        println!("{verb} {}", describe(push));
    }
    Ok(())
}

fn describe(push: &PushRequest) -> String {
    if push.application.is_empty() {
        return format!("push {}", push.txid);
    }
    format!("{} for {} ({})", push.application, push.username, push.txid)
}

/// `watch`: one listener thread per account; pushes are answered one at a time here.
pub fn watch(
    state: &DeviceState,
    wanted: Option<&str>,
    no_prompt: bool,
    trust: Trust,
) -> Result<(), Failure> {
    let accounts: Vec<Account> = match wanted {
        Some(_) => vec![state.select(wanted)?.clone()],
        None => state
            .accounts
            .iter()
            .filter(|a| a.has_push())
            .cloned()
            .collect(),
    };
    if accounts.is_empty() || accounts.iter().any(|a| !a.has_push()) {
        return Err(Failure(
            "No account on this device can receive pushes: activate one first.".into(),
        ));
    }
    let (sender, receiver) = mpsc::channel::<(usize, Delivery)>();
    for (index, account) in accounts.iter().enumerate() {
        let sender = sender.clone();
        let account = account.clone();
        let trust = trust.clone();
        std::thread::spawn(move || listen(index, &account, trust, &sender, no_prompt));
    }
    drop(sender);
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    while let Ok((index, delivery)) = receiver.recv() {
        let Some(account) = accounts.get(index) else {
            continue;
        };
        match delivery {
            Delivery::Withdrawn(txid) => {
                if no_prompt {
                    println!("{}", serde_json::json!({ "withdrawn": txid }));
                } else {
                    println!("Push {txid} was withdrawn.");
                }
            }
            Delivery::Push(push) if no_prompt => {
                println!("{}", serde_json::to_string(&push).unwrap_or_default());
            }
            Delivery::Push(push) => {
                show(account, &push);
                let answer = ask(&mut lines, &push);
                let client = EdgeClient::new(&account.edge_url, trust.clone());
                if let Some(answer) = answer
                    && let Err(Failure(message)) = send(&client, account, &push, answer, false)
                {
                    eprintln!("{message}");
                }
            }
        }
        let _ = std::io::stdout().flush();
    }
    Ok(())
}

fn show(account: &Account, push: &PushRequest) {
    let location = match (&push.location.city, &push.location.country) {
        (Some(city), Some(country)) => format!("{city}, {country}"),
        (None, Some(country)) => country.clone(),
        (Some(city), None) => city.clone(),
        (None, None) => "unknown location".to_owned(),
    };
    let left = push.expires_at.saturating_sub(unix_now());
    println!();
    println!("Sign-in request for {} ({})", push.username, account.realm);
    println!("  Application  {}", push.application);
    println!(
        "  From         {} — {location}",
        push.ip.as_deref().unwrap_or("unknown address")
    );
    println!("  Time         {} (answer within {left} s)", push.time);
}

/// Asks Approve / Deny / Report fraud, and the code for a Verified Push.
fn ask(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    push: &PushRequest,
) -> Option<Answer> {
    loop {
        print!("Approve (a), deny (d) or report fraud — not me (f)? ");
        let _ = std::io::stdout().flush();
        let line = lines.next()?.ok()?;
        match line.trim().to_ascii_lowercase().as_str() {
            "a" | "approve" | "y" | "yes" => {
                if !push.verified {
                    return Some(Answer::Approve(None));
                }
                print!(
                    "Enter the {}-digit code shown in your browser: ",
                    push.code_length.unwrap_or(3)
                );
                let _ = std::io::stdout().flush();
                let code = lines.next()?.ok()?;
                return Some(Answer::Approve(Some(code.trim().to_owned())));
            }
            "d" | "deny" | "n" | "no" => return Some(Answer::Deny),
            "f" | "fraud" => return Some(Answer::Fraud),
            _ => println!("Type a, d or f."),
        }
    }
}

/// Keeps one account's WebSocket open, reconnecting with exponential backoff.
fn listen(
    index: usize,
    account: &Account,
    trust: Trust,
    sender: &mpsc::Sender<(usize, Delivery)>,
    quiet: bool,
) {
    let client = EdgeClient::new(&account.edge_url, trust);
    let mut backoff = Duration::from_secs(1);
    loop {
        match client.connect(account, unix_now()) {
            Ok(mut socket) => {
                backoff = Duration::from_secs(1);
                if !quiet {
                    eprintln!("Connected: waiting for pushes to {}.", account.label());
                } else {
                    eprintln!("connected {}", account.label());
                }
                loop {
                    match socket.next(KEEPALIVE) {
                        Ok(Some(delivery)) => {
                            if sender.send((index, delivery)).is_err() {
                                return;
                            }
                        }
                        Ok(None) => {
                            if socket.ping().is_err() {
                                break;
                            }
                        }
                        Err(error) => {
                            eprintln!("{}: {error}; reconnecting.", account.label());
                            break;
                        }
                    }
                }
            }
            Err(ClientError::Refused {
                status, message, ..
            }) if status == 401 || status == 403 => {
                eprintln!("{}: {message} Stopping.", account.label());
                return;
            }
            Err(error) => {
                eprintln!(
                    "{}: {error}; retrying in {} s.",
                    account.label(),
                    backoff.as_secs()
                );
            }
        }
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
