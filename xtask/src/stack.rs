//! The local stack shared by `demo` and `test`: credentials, TLS files, `wrangler dev`
//! (the real worker in workerd), the HTTPS terminator, seeding, the device and `tessera-www`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::build;
use crate::cmd::{self, Service, step};
use crate::tls::{self, TlsFiles};

pub const REALM: &str = "demo";
pub const APP_NAME: &str = "Tessera Demo";
pub const ALICE: &str = "alice";
pub const ALICE_PASSWORD: &str = "correct horse";
pub const BOB: &str = "bob";
pub const BOB_PASSWORD: &str = "battery staple";
pub const ALICE_DEVICE_NAME: &str = "Alice's phone";
/// The push lifetime of the test stack, in seconds (the demo keeps the default 60).
pub const TEST_PUSH_LIFETIME: &str = "12";

#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub edge: u16,
    pub https: u16,
    pub www: u16,
}

pub const DEMO_PORTS: Ports = Ports {
    edge: 8787,
    https: 8443,
    www: 8080,
};
pub const TEST_PORTS: Ports = Ports {
    edge: 18787,
    https: 18443,
    www: 18080,
};

/// Where the authenticator app keeps its accounts for this stack.
#[derive(Debug, Clone)]
pub enum DeviceState {
    /// The user's default location (`~/.config/tessera/device.json`): the demo, so that
    /// `cargo run -p tessera-device -- code` works without flags.
    UserDefault,
    /// An explicit file (tests).
    File(PathBuf),
}

/// Generated once per STATE directory and reused, so a second demo run keeps working with
/// the device already enrolled and re-seeding is an idempotent upsert.
#[derive(Debug)]
pub struct Credentials {
    pub admin_token: String,
    pub session_key: String,
    /// `TESSERA_STORAGE_KEY`: 32 random bytes in standard base64 (AES-256-GCM at rest).
    pub storage_key: String,
    pub client_id: String,
    pub client_secret: String,
    pub alice_device_id: String,
    pub alice_totp_secret: String,
}

impl Credentials {
    fn generate() -> Result<Self> {
        Ok(Self {
            admin_token: cmd::random_string(48, cmd::ALNUM)?,
            session_key: cmd::random_string(64, cmd::ALNUM)?,
            storage_key: new_storage_key()?,
            client_id: format!("DI{}", cmd::random_string(18, cmd::UPPER_ALNUM)?),
            client_secret: cmd::random_string(40, cmd::ALNUM)?,
            alice_device_id: format!("DP{}", cmd::random_string(18, cmd::UPPER_ALNUM)?),
            alice_totp_secret: data_encoding::BASE32_NOPAD.encode(&cmd::random_bytes::<20>()?),
        })
    }

    fn to_json(&self) -> Value {
        json!({
            "admin_token": self.admin_token,
            "session_key": self.session_key,
            "storage_key": self.storage_key,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "alice_device_id": self.alice_device_id,
            "alice_totp_secret_base32": self.alice_totp_secret,
        })
    }

    /// The credentials in `value`, and whether a storage key had to be added (state
    /// folders from before encryption at rest).
    fn from_json(value: &Value) -> Option<(Self, bool)> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let (storage_key, added) = match text("storage_key") {
            Some(key) => (key, false),
            None => (new_storage_key().ok()?, true),
        };
        let credentials = Self {
            admin_token: text("admin_token")?,
            session_key: text("session_key")?,
            storage_key,
            client_id: text("client_id")?,
            client_secret: text("client_secret")?,
            alice_device_id: text("alice_device_id")?,
            alice_totp_secret: text("alice_totp_secret_base32")?,
        };
        Some((credentials, added))
    }

    /// Loads `STATE/demo.json`, or creates it (mode 0600).
    pub fn load_or_create(state: &Path) -> Result<Self> {
        let path = state.join("demo.json");
        if let Ok(text) = std::fs::read_to_string(&path) {
            let value: Value = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", path.display()))?;
            if let Some((credentials, added)) = Self::from_json(&value) {
                if added {
                    write_private(
                        &path,
                        &serde_json::to_string_pretty(&credentials.to_json())?,
                    )?;
                    println!("added a storage key to {}", path.display());
                }
                println!("reusing credentials from {}", path.display());
                return Ok(credentials);
            }
            bail!(
                "{} is incomplete: delete the state folder {} to start over",
                path.display(),
                state.display()
            );
        }
        let credentials = Self::generate()?;
        write_private(
            &path,
            &serde_json::to_string_pretty(&credentials.to_json())?,
        )?;
        println!("generated new credentials in {}", path.display());
        Ok(credentials)
    }
}

fn new_storage_key() -> Result<String> {
    Ok(data_encoding::BASE64.encode(&cmd::random_bytes::<32>()?))
}

fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    Ok(())
}

/// A running stack; dropping it stops every process it started.
#[derive(Debug)]
pub struct Stack {
    pub ports: Ports,
    pub state: PathBuf,
    pub credentials: Credentials,
    pub tls: TlsFiles,
    // Field order is drop order: www first, then the edge.
    www: Service,
    edge: Service,
}

impl Stack {
    pub fn edge_url(&self) -> String {
        format!("http://localhost:{}", self.ports.edge)
    }
    pub fn edge_https_url(&self) -> String {
        format!("https://localhost:{}", self.ports.https)
    }
    pub fn www_url(&self) -> String {
        format!("http://localhost:{}", self.ports.www)
    }

    /// Fails when a service died since it was started.
    pub fn check_running(&mut self) -> Result<()> {
        self.edge.check_running()?;
        self.www.check_running()
    }

    /// Starts everything with the edge's default settings; the builds must be done.
    pub fn start(state: &Path, ports: Ports, device_state: DeviceState) -> Result<Self> {
        Self::start_with(state, ports, device_state, &[])
    }

    /// [`Stack::start`] with extra `--var NAME:value` settings for the edge (tests shorten
    /// the push lifetime).
    pub fn start_with(
        state: &Path,
        ports: Ports,
        device_state: DeviceState,
        edge_vars: &[(&str, &str)],
    ) -> Result<Self> {
        step(&format!("stack: state in {}", state.display()));
        std::fs::create_dir_all(state)?;
        let state = state.canonicalize()?;
        for (port, what) in [
            (ports.edge, "edge"),
            (ports.https, "edge HTTPS"),
            (ports.www, "www"),
        ] {
            cmd::ensure_port_free(port, what)?;
        }
        let credentials = Credentials::load_or_create(&state)?;
        let tls = tls::ensure_certificates(&state.join("tls"))?;

        step(&format!(
            "stack: edge (wrangler dev → workerd) on http://localhost:{}",
            ports.edge
        ));
        let mut edge = Service::spawn(
            "wrangler dev",
            &mut edge_command_with(&state, ports.edge, &credentials, edge_vars),
            &state.join("logs/edge.log"),
        )?;
        let took = cmd::wait_http_ok(
            &format!("http://127.0.0.1:{}/healthz", ports.edge),
            &mut edge,
            Duration::from_secs(90),
        )?;
        println!("edge healthy after {:.1}s", took.as_secs_f64());

        step(&format!(
            "stack: HTTPS terminator on https://localhost:{} → :{}",
            ports.https, ports.edge
        ));
        tls::spawn_terminator(&tls, ports.https, ports.edge)?;

        step("stack: seed the realm (application, alice with a TOTP device, bob without devices)");
        seed(ports.edge, &credentials, ports.www)?;

        step("stack: activate alice's push device in the reference authenticator");
        activate_alice(ports.edge, &credentials, &device_state)?;

        step(&format!(
            "stack: www demo app on http://localhost:{}",
            ports.www
        ));
        let www_config = state.join("www.json");
        write_private(
            &www_config,
            &serde_json::to_string_pretty(&www_json(ports, &credentials))?,
        )?;
        let mut www_command = cmd::command(build::www_bin());
        www_command.arg("--config").arg(&www_config);
        let mut www = Service::spawn("tessera-www", &mut www_command, &state.join("logs/www.log"))?;
        let took = cmd::wait_http_ok(
            &format!("http://127.0.0.1:{}/", ports.www),
            &mut www,
            Duration::from_secs(30),
        )?;
        println!("www up after {:.1}s", took.as_secs_f64());

        Ok(Self {
            ports,
            state,
            credentials,
            tls,
            www,
            edge,
        })
    }
}

/// `tessera-device` with the stack's device state.
fn device_command(device_state: &DeviceState) -> std::process::Command {
    let mut command = cmd::command(build::device_bin());
    match device_state {
        DeviceState::UserDefault => {
            command.env_remove("TESSERA_DEVICE_STATE");
        }
        DeviceState::File(path) => {
            command.env("TESSERA_DEVICE_STATE", path);
        }
    }
    command.env_remove("TESSERA_CA");
    command
}

/// Activates alice's authenticator through the real activation endpoint (an activation
/// link from `/internal/v1/activation`, then `tessera-device activate`), unless the
/// device state already holds her push account for this edge (a second demo run).
fn activate_alice(
    edge_port: u16,
    credentials: &Credentials,
    device_state: &DeviceState,
) -> Result<()> {
    let edge_url = format!("http://localhost:{edge_port}");
    let listed = cmd::output(device_command(device_state).arg("list")).unwrap_or_default();
    let active = listed.lines().any(|line| {
        let fields: Vec<&str> = line.split('\t').collect();
        fields.first() == Some(&REALM)
            && fields.get(1) == Some(&ALICE)
            && fields.get(3) == Some(&edge_url.as_str())
            && fields.last() == Some(&"push+totp")
    });
    if active {
        println!("alice's push device is already activated");
        return Ok(());
    }
    let link = issue_activation(edge_port, credentials, ALICE)?;
    let mut activate = device_command(device_state);
    activate
        .arg("activate")
        .arg(link)
        .args(["--edge", &edge_url, "--name", ALICE_DEVICE_NAME]);
    cmd::run(&mut activate)
}

/// An activation link for `username` in the demo realm (`POST /internal/v1/activation`).
pub fn issue_activation(
    edge_port: u16,
    credentials: &Credentials,
    username: &str,
) -> Result<String> {
    let url = format!("http://127.0.0.1:{edge_port}/internal/v1/activation");
    let body = json!({"realm": REALM, "username": username});
    let text = admin_post(credentials, &url, &body).context("issuing an activation code failed")?;
    let value: Value = serde_json::from_str(&text)?;
    value
        .get("activation_link")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .context("no activation_link in the answer")
}

/// `wrangler dev` exactly as in the contract, with Node 22 first on PATH and no network.
pub fn edge_command(state: &Path, port: u16, credentials: &Credentials) -> std::process::Command {
    edge_command_with(state, port, credentials, &[])
}

/// [`edge_command`] with extra `--var NAME:value` settings.
pub fn edge_command_with(
    state: &Path,
    port: u16,
    credentials: &Credentials,
    vars: &[(&str, &str)],
) -> std::process::Command {
    let mut command = cmd::command(cmd::node_bin("wrangler"));
    command
        .env("PATH", cmd::node_path())
        .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
        .env("WRANGLER_SEND_METRICS", "false")
        .args([
            "dev",
            "--config",
            "edge/wrangler.toml",
            "--local",
            "--ip",
            "127.0.0.1",
            "--port",
        ])
        .arg(port.to_string())
        .arg("--persist-to")
        .arg(state.join("wrangler"))
        .arg("--var")
        .arg(format!("TESSERA_ADMIN_TOKEN:{}", credentials.admin_token))
        .arg("--var")
        .arg(format!("TESSERA_SESSION_KEY:{}", credentials.session_key))
        .arg("--var")
        .arg(format!("TESSERA_STORAGE_KEY:{}", credentials.storage_key));
    for (name, value) in vars {
        command.arg("--var").arg(format!("{name}:{value}"));
    }
    command.args(["--log-level", "warn"]);
    command
}

pub fn spawn_edge(
    state: &Path,
    port: u16,
    credentials: &Credentials,
    log: &Path,
) -> Result<Service> {
    if !cmd::root().join("edge/wrangler.toml").exists() {
        bail!("edge/wrangler.toml is missing");
    }
    Service::spawn(
        "wrangler dev",
        &mut edge_command(state, port, credentials),
        log,
    )
}

fn seed(edge_port: u16, credentials: &Credentials, www_port: u16) -> Result<()> {
    let body = json!({
        "realm": REALM,
        "applications": [{
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "name": APP_NAME,
            "origins": [format!("http://localhost:{www_port}")],
            "branding": {
                "logo_url": format!("http://localhost:{www_port}/logo.svg"),
                "accent_color": "#1a56db",
                "help_url": format!("http://localhost:{www_port}/"),
                "manage_devices_url": format!("http://localhost:{www_port}/"),
            },
        }],
        "users": [
            {"username": ALICE, "devices": [{
                "id": credentials.alice_device_id,
                "name": ALICE_DEVICE_NAME,
                "totp": {"secret_base32": credentials.alice_totp_secret, "algorithm": "SHA1", "digits": 6, "period": 30},
            }]},
            {"username": BOB, "devices": []},
        ],
    });
    let url = format!("http://127.0.0.1:{edge_port}/internal/v1/seed");
    println!("POST {url}");
    let text = admin_post(credentials, &url, &body).context("seeding failed")?;
    println!("seeded: {text}");
    Ok(())
}

/// POSTs `body` as JSON to an admin endpoint with the admin token; the answer's text, or
/// an error naming a status other than 200.
fn admin_post(credentials: &Credentials, url: &str, body: &Value) -> Result<String> {
    let mut response = cmd::http_agent(Duration::from_secs(30))
        .post(url)
        .header(
            "Authorization",
            &format!("Bearer {}", credentials.admin_token),
        )
        .content_type("application/json")
        .send(body.to_string())
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    if status != 200 {
        bail!("POST {url}: {status} {text}");
    }
    Ok(text)
}

fn www_json(ports: Ports, credentials: &Credentials) -> Value {
    json!({
        "listen": format!("127.0.0.1:{}", ports.www),
        "public_url": format!("http://localhost:{}", ports.www),
        "edge_url": format!("http://localhost:{}", ports.edge),
        "api_host": format!("localhost:{}", ports.edge),
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
        "app_name": APP_NAME,
        "users": [
            {"username": ALICE, "password": ALICE_PASSWORD},
            {"username": BOB, "password": BOB_PASSWORD},
        ],
    })
}

/// `cargo xtask demo`.
pub fn demo() -> Result<()> {
    crate::setup::run()?;
    build::all()?;
    let state = cmd::root().join(".tessera");
    let mut stack = Stack::start(&state, DEMO_PORTS, DeviceState::UserDefault)?;
    let bypass_code = issue_bob_bypass_code(&stack)?;
    print_demo_instructions(&stack, &bypass_code);
    loop {
        std::thread::sleep(Duration::from_secs(1));
        stack.check_running()?;
    }
}

/// Issues bob (who has no device) one single-use bypass code through the edge's admin
/// endpoint, replacing any earlier one, so the demo shows signing in with a code alone.
/// Returns it as `123-456-789`.
fn issue_bob_bypass_code(stack: &Stack) -> Result<String> {
    step("demo: issue bob a bypass code");
    let url = format!("{}/internal/v1/bypass_codes", stack.edge_url());
    let body = json!({"realm": REALM, "username": BOB, "count": 1});
    let text =
        admin_post(&stack.credentials, &url, &body).context("issuing bob's bypass code failed")?;
    let value: Value = serde_json::from_str(&text)?;
    let code = value
        .get("codes")
        .and_then(|codes| codes.get(0))
        .and_then(Value::as_str)
        .filter(|code| code.len() == 9)
        .with_context(|| format!("no bypass code in {text}"))?;
    Ok(format!(
        "{}-{}-{}",
        code.get(0..3).unwrap_or_default(),
        code.get(3..6).unwrap_or_default(),
        code.get(6..9).unwrap_or_default()
    ))
}

fn print_demo_instructions(stack: &Stack, bypass_code: &str) {
    let ca = stack
        .tls
        .ca
        .strip_prefix(cmd::root())
        .unwrap_or(&stack.tls.ca)
        .display()
        .to_string();
    let c = &stack.credentials;
    println!(
        "
================================================================================
 Tessera demo is running. Press Ctrl-C to stop it.

 1. Open        {www}
 2. Sign in     alice / {ALICE_PASSWORD}     (bob / {BOB_PASSWORD} has no device: he signs in once
                with the bypass code {bypass_code}, then needs enrollment)
 3. Passcode    get one with:  cargo run -q -p tessera-device -- code
                (alice's authenticator is in ~/.config/tessera/device.json)
    Push        keep it connected: cargo run -q -p tessera-device -- watch
                (or answer from a script: tessera-device approve --code NNN / deny [--fraud])
    Fraud reports  curl -H 'Authorization: Bearer {admin}' '{edge_url}/internal/v1/notifications?realm={REALM}'

 Duo Web SDK v4 settings for your own app:
   API host       localhost:{https}  (HTTPS; trust the local CA {ca})
                  localhost:{edge}  (plain HTTP, for clients that allow it)
   Client ID      {client_id}
   Client secret  {client_secret}
 Health          {edge_url}/healthz   ({edge_https}/healthz)
 State and logs  {state}  (delete it to start over)
================================================================================",
        www = stack.www_url(),
        https = stack.ports.https,
        edge = stack.ports.edge,
        client_id = c.client_id,
        admin = c.admin_token,
        client_secret = c.client_secret,
        edge_url = stack.edge_url(),
        edge_https = stack.edge_https_url(),
        state = stack.state.display(),
    );
}
