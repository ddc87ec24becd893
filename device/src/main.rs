//! `tessera-device`: the reference authenticator's command line. Output meant for scripts
//! goes to stdout (`code` prints the passcode and nothing else); every failure is one line
//! on stderr and exit status 2.

mod push;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};
use tessera_device::activation::parse_activation;
use tessera_device::client::{EdgeClient, Trust};
use tessera_device::{
    Account, DeviceState, TotpSettings, Upsert, current_code, load, load_or_empty, save,
};
use tessera_shared::SecretString;
use tessera_shared::v1::device::ActivationRequest;

#[derive(Debug, Parser)]
#[command(
    name = "tessera-device",
    version,
    about = "Tessera's reference authenticator",
    after_help = "The state file is $TESSERA_DEVICE_STATE, else $XDG_CONFIG_HOME/tessera/device.json, \
                  else $HOME/.config/tessera/device.json."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Activate this device for an account with the activation link (or code) you were
    /// given: draws the device's signing key, registers it and stores the account.
    Activate {
        /// The activation link, or the bare code with --edge, --realm and --username.
        #[arg(value_name = "LINK_OR_CODE")]
        activation: String,
        /// The edge's base URL (overrides the link's).
        #[arg(long, value_name = "URL")]
        edge: Option<String>,
        #[arg(long)]
        realm: Option<String>,
        #[arg(long)]
        username: Option<String>,
        /// What to call this device.
        #[arg(long, value_name = "NAME", default_value = "tessera-device")]
        name: String,
        /// PEM file of the CA to trust (default: $TESSERA_CA, else the web PKI).
        #[arg(long, value_name = "PEM")]
        ca: Option<PathBuf>,
    },
    /// Stay connected and answer each push as it arrives (Ctrl-C to stop).
    Watch {
        /// Only this account (default: every account that can receive pushes).
        #[arg(long, value_name = "USER[@REALM]")]
        account: Option<String>,
        /// Print each push as one JSON line and do not ask (for scripts and benchmarks).
        #[arg(long)]
        no_prompt: bool,
        #[arg(long, value_name = "PEM")]
        ca: Option<PathBuf>,
    },
    /// Approve the pending push (for scripts).
    Approve {
        #[arg(long, value_name = "USER[@REALM]")]
        account: Option<String>,
        /// The push to answer, when several are pending.
        #[arg(long, value_name = "TXID")]
        txid: Option<String>,
        /// The Verified Push code shown in the browser.
        #[arg(long, value_name = "DIGITS")]
        code: Option<String>,
        /// Print the signed request that was sent, as JSON.
        #[arg(long)]
        show_request: bool,
        #[arg(long, value_name = "PEM")]
        ca: Option<PathBuf>,
    },
    /// Deny the pending push (for scripts); --fraud reports it as not yours.
    Deny {
        #[arg(long, value_name = "USER[@REALM]")]
        account: Option<String>,
        #[arg(long, value_name = "TXID")]
        txid: Option<String>,
        /// "I'm not signing in": report fraud, which alerts the administrators and pauses
        /// pushes to you.
        #[arg(long)]
        fraud: bool,
        #[arg(long)]
        show_request: bool,
        #[arg(long, value_name = "PEM")]
        ca: Option<PathBuf>,
    },
    /// Print the current passcode of an account.
    Code {
        /// The account, when the device has several.
        #[arg(long, value_name = "USER[@REALM]")]
        account: Option<String>,
    },
    /// List the accounts on this device (realm, username, device name, edge URL).
    List,
    /// Add a TOTP account, or replace the one with the same realm, username and edge URL.
    AddTotp {
        #[arg(long)]
        realm: String,
        #[arg(long)]
        username: String,
        #[arg(long, value_name = "URL")]
        edge_url: String,
        /// The shared secret in base32 (note: visible to other local users in the process list).
        #[arg(long, value_name = "BASE32")]
        secret_base32: String,
        /// Defaults to the replaced account's id, else a fresh `DP…` id.
        #[arg(long, value_name = "ID")]
        device_id: Option<String>,
        #[arg(long, value_name = "NAME", default_value = "tessera-device")]
        device_name: String,
    },
}

/// A failure already phrased for the user.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Self(error.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<(), Failure> {
    let path = tessera_device::state_path_from_env().ok_or_else(|| {
        Failure(format!(
            "Cannot locate the Tessera device state: set {} or HOME.",
            tessera_device::STATE_ENV
        ))
    })?;
    match command {
        Command::Code { account } => {
            let state = load(&path)?;
            let account = state.select(account.as_deref())?;
            let code = current_code(account, unix_now()).map_err(|e| {
                Failure(format!(
                    "The TOTP key of {} is unusable: {e}.",
                    account.label()
                ))
            })?;
            println!("{code}");
        }
        Command::List => {
            let state = load(&path)?;
            for account in &state.accounts {
                let kind = if account.has_push() {
                    "push+totp"
                } else {
                    "totp"
                };
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{kind}",
                    account.realm,
                    account.username,
                    account.device_name,
                    account.edge_url,
                    account.device_id
                );
            }
        }
        Command::Activate {
            activation,
            edge,
            realm,
            username,
            name,
            ca,
        } => {
            let target = parse_activation(
                &activation,
                edge.as_deref(),
                realm.as_deref(),
                username.as_deref(),
            )?;
            // Refuse early rather than after the code is spent.
            let mut state: DeviceState = load_or_empty(&path)?;
            let seed = tessera_device::new_signing_seed()?;
            let public_key = tessera_device::signing_key_from_seed(&seed)
                .ok_or_else(|| Failure("Could not create the signing key.".into()))?
                .public_key()
                .to_base64url();
            let client = EdgeClient::new(&target.edge_url, Trust::from_flag_or_env(ca.as_deref())?);
            let request = ActivationRequest {
                activation_code: target.code.expose_secret().to_owned(),
                public_key,
                device_name: name.clone(),
                platform: Some(format!("tessera-device {}", env!("CARGO_PKG_VERSION"))),
                realm: Some(target.realm.clone()),
                username: Some(target.username.clone()),
            };
            let response = client.activate(&request)?;
            let edge_url = response.edge_url.as_deref().unwrap_or(&target.edge_url);
            let mut account = Account::new_totp(
                &response.realm,
                &response.username,
                edge_url,
                &response.device_id,
                &name,
                SecretString::new(response.totp.secret_base32.clone()),
            )?;
            account.totp = TotpSettings::try_from(&response.totp)?;
            account.signing_seed = Some(seed);
            let label = account.label();
            let id = account.device_id.clone();
            state.upsert(account);
            save(&path, &state)?;
            println!("Activated {label} as device {id} in {}", path.display());
        }
        Command::Watch {
            account,
            no_prompt,
            ca,
        } => {
            let state = load(&path)?;
            push::watch(
                &state,
                account.as_deref(),
                no_prompt,
                Trust::from_flag_or_env(ca.as_deref())?,
            )?;
        }
        Command::Approve {
            account,
            txid,
            code,
            show_request,
            ca,
        } => {
            let state = load(&path)?;
            let account = state.select(account.as_deref())?;
            let trust = Trust::from_flag_or_env(ca.as_deref())?;
            push::answer_pending(
                account,
                trust,
                txid.as_deref(),
                push::Answer::Approve(code),
                show_request,
            )?;
        }
        Command::Deny {
            account,
            txid,
            fraud,
            show_request,
            ca,
        } => {
            let state = load(&path)?;
            let account = state.select(account.as_deref())?;
            let trust = Trust::from_flag_or_env(ca.as_deref())?;
            let answer = if fraud {
                push::Answer::Fraud
            } else {
                push::Answer::Deny
            };
            push::answer_pending(account, trust, txid.as_deref(), answer, show_request)?;
        }
        Command::AddTotp {
            realm,
            username,
            edge_url,
            secret_base32,
            device_id,
            device_name,
        } => {
            let mut state: DeviceState = load_or_empty(&path)?;
            let edge_url = edge_url.trim_end_matches('/').to_owned();
            let device_id = match device_id {
                Some(id) => id,
                None => match state.find(&realm, &username, &edge_url) {
                    Some(existing) => existing.device_id.clone(),
                    None => tessera_device::new_device_id()?,
                },
            };
            let account = Account::new_totp(
                &realm,
                &username,
                &edge_url,
                &device_id,
                &device_name,
                SecretString::new(secret_base32),
            )?;
            let label = account.label();
            let outcome = state.upsert(account);
            save(&path, &state)?;
            let verb = match outcome {
                Upsert::Added => "Added",
                Upsert::Replaced => "Replaced",
            };
            println!("{verb} {label} in {}", path.display());
        }
    }
    Ok(())
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
