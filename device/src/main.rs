//! `tessera-device`: the reference authenticator's command line. Output meant for scripts
//! goes to stdout (`code` prints the passcode and nothing else); every failure is one line
//! on stderr and exit status 2.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};
use tessera_device::{Account, DeviceState, Upsert, current_code, load, load_or_empty, save};
use tessera_shared::SecretString;

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
                println!(
                    "{}\t{}\t{}\t{}",
                    account.realm, account.username, account.device_name, account.edge_url
                );
            }
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

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
