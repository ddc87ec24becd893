//! The authenticator's side of `/device/v1/*`: activation, the signed listing of pending
//! pushes, signed answers, and the WebSocket the edge delivers pushes on. HTTPS goes
//! through `ureq`, the WebSocket through `tungstenite` over `rustls`; both trust the
//! public web PKI, or only the CA given (`--ca` / `TESSERA_CA`, as tests use a local CA).

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tessera_shared::approval::{Approval, DeviceSigningKey, sign_approval};
use tessera_shared::device_auth::{self, DeviceClaims};
use tessera_shared::v1::device::{
    ActivationRequest, ActivationResponse, DEVICE_ACTIVATE, DEVICE_APPROVAL, DEVICE_PUSHES,
    PendingPushes, PushRequest, PushWithdrawn,
};
use tessera_shared::v1::{ApprovalDecision, DeviceApproval, ErrorBody};
use thiserror::Error;
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

use crate::state::Account;

/// Environment variable naming a PEM file of CA certificates to trust instead of the web PKI.
pub const CA_ENV: &str = "TESSERA_CA";
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The edge answered with Tessera's error shape.
    #[error("{message} ({code})")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    #[error("cannot reach the edge: {0}")]
    Transport(String),
    #[error("unexpected answer from the edge: {0}")]
    Protocol(String),
    #[error("cannot read the CA file {path}: {detail}")]
    Ca { path: String, detail: String },
    #[error("this account has no signing key: activate it with an activation link")]
    NoKey,
}

/// Which certificate authorities to trust.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// DER certificates; empty means the web PKI (Mozilla's roots).
    custom: Vec<CertificateDer<'static>>,
}

impl Trust {
    /// From `--ca` if given, else `TESSERA_CA` if set, else the web PKI.
    pub fn from_flag_or_env(flag: Option<&Path>) -> Result<Self, ClientError> {
        let env = std::env::var_os(CA_ENV).filter(|v| !v.is_empty());
        match flag.map(Path::to_path_buf).or(env.map(Into::into)) {
            Some(path) => Self::from_pem_file(&path),
            None => Ok(Self::default()),
        }
    }

    pub fn from_pem_file(path: &Path) -> Result<Self, ClientError> {
        let error = |detail: String| ClientError::Ca {
            path: path.display().to_string(),
            detail,
        };
        let pem = std::fs::read(path).map_err(|e| error(e.to_string()))?;
        let custom = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| error(e.to_string()))?;
        if custom.is_empty() {
            return Err(error("no certificate in it".to_owned()));
        }
        Ok(Self { custom })
    }

    fn rustls_config(&self) -> Result<Arc<rustls::ClientConfig>, ClientError> {
        let mut roots = rustls::RootCertStore::empty();
        if self.custom.is_empty() {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        } else {
            for cert in &self.custom {
                roots
                    .add(cert.clone())
                    .map_err(|e| ClientError::Transport(e.to_string()))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ClientError::Transport(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }

    fn agent(&self) -> ureq::Agent {
        use ureq::tls::{Certificate, RootCerts, TlsConfig};
        let roots = if self.custom.is_empty() {
            RootCerts::WebPki
        } else {
            let certs: Vec<Certificate<'static>> = self
                .custom
                .iter()
                .map(|der| Certificate::from_der(der.as_ref()).to_owned())
                .collect();
            RootCerts::Specific(Arc::new(certs))
        };
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(TIMEOUT))
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .build()
            .into()
    }
}

/// An edge at `base_url` (`https://host[:port]`, no path).
#[derive(Debug)]
pub struct EdgeClient {
    base: String,
    agent: ureq::Agent,
    trust: Trust,
}

/// What a device receives on its WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Push(PushRequest),
    Withdrawn(String),
}

impl EdgeClient {
    pub fn new(base_url: &str, trust: Trust) -> Self {
        Self {
            base: base_url.trim_end_matches('/').to_owned(),
            agent: trust.agent(),
            trust,
        }
    }

    /// Registers the device's key with an activation code.
    pub fn activate(&self, request: &ActivationRequest) -> Result<ActivationResponse, ClientError> {
        let body =
            serde_json::to_string(request).map_err(|e| ClientError::Protocol(e.to_string()))?;
        let response = self
            .agent
            .post(format!("{}{DEVICE_ACTIVATE}", self.base))
            .content_type("application/json")
            .send(body);
        json_answer(response)
    }

    /// The pushes waiting for this device.
    pub fn pending(&self, account: &Account, now: i64) -> Result<Vec<PushRequest>, ClientError> {
        let authorization = signed_header(account, "GET", DEVICE_PUSHES, now)?;
        let response = self
            .agent
            .get(format!("{}{DEVICE_PUSHES}", self.base))
            .header("authorization", &authorization)
            .call();
        let pending: PendingPushes = json_answer(response)?;
        Ok(pending.pushes)
    }

    /// Signs and sends an answer. Returns what was sent (header and body), for scripts.
    pub fn answer(
        &self,
        account: &Account,
        txid: &str,
        decision: ApprovalDecision,
        code: Option<&str>,
        now: i64,
    ) -> Result<SentAnswer, ClientError> {
        let key = account.signing_key().ok_or(ClientError::NoKey)?;
        let approval = Approval::new(txid, decision, code, now, &account.device_id)
            .map_err(|e| ClientError::Protocol(e.to_string()))?;
        let wire = sign_approval(&key, &approval).to_wire();
        let authorization = signed_header(account, "POST", DEVICE_APPROVAL, now)?;
        let body =
            serde_json::to_string(&wire).map_err(|e| ClientError::Protocol(e.to_string()))?;
        let response = self
            .agent
            .post(format!("{}{DEVICE_APPROVAL}", self.base))
            .header("authorization", &authorization)
            .content_type("application/json")
            .send(body.clone());
        let _: serde_json::Value = json_answer(response)?;
        Ok(SentAnswer {
            authorization,
            approval: wire,
        })
    }

    /// Opens the WebSocket on which the edge delivers pushes (the pending ones first).
    pub fn connect(&self, account: &Account, now: i64) -> Result<PushSocket, ClientError> {
        let authorization = signed_header(account, "GET", DEVICE_PUSHES, now)?;
        let (secure, rest) = if let Some(rest) = self.base.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = self.base.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(ClientError::Transport(format!(
                "{} is not an http(s) URL",
                self.base
            )));
        };
        let authority = rest.split('/').next().unwrap_or(rest);
        let host = match authority.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => authority,
        };
        let address = if authority.contains(':') && !authority.ends_with(']') {
            authority.to_owned()
        } else {
            format!("{authority}:{}", if secure { 443 } else { 80 })
        };
        let transport = |e: &dyn std::fmt::Display| ClientError::Transport(e.to_string());
        let socket_address = address
            .to_socket_addrs()
            .map_err(|e| transport(&e))?
            .next()
            .ok_or_else(|| transport(&format!("{address} does not resolve")))?;
        let tcp =
            TcpStream::connect_timeout(&socket_address, TIMEOUT).map_err(|e| transport(&e))?;
        tcp.set_nodelay(true).map_err(|e| transport(&e))?;
        let stream = if secure {
            let name = ServerName::try_from(host.trim_matches(['[', ']']).to_owned())
                .map_err(|e| transport(&e))?;
            let connection = rustls::ClientConnection::new(self.trust.rustls_config()?, name)
                .map_err(|e| transport(&e))?;
            Stream::Tls(Box::new(rustls::StreamOwned::new(connection, tcp)))
        } else {
            Stream::Plain(tcp)
        };
        let scheme = if secure { "wss" } else { "ws" };
        let mut request = format!("{scheme}://{authority}{DEVICE_PUSHES}")
            .into_client_request()
            .map_err(|e| transport(&e))?;
        let value = authorization.parse().map_err(|e| transport(&e))?;
        request.headers_mut().insert("authorization", value);
        let (socket, _) = tungstenite::client(request, stream).map_err(|error| match error {
            tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response)) => {
                let status = response.status().as_u16();
                let body = response.body().clone().unwrap_or_default();
                refused(status, &body)
            }
            other => transport(&other),
        })?;
        Ok(PushSocket { socket })
    }
}

/// The answer as sent, for `--show-request`.
#[derive(Debug, Clone)]
pub struct SentAnswer {
    pub authorization: String,
    pub approval: DeviceApproval,
}

/// The `Authorization` header for a request by `account`'s device.
pub fn signed_header(
    account: &Account,
    method: &str,
    path: &str,
    now: i64,
) -> Result<String, ClientError> {
    let key: DeviceSigningKey = account.signing_key().ok_or(ClientError::NoKey)?;
    let claims = DeviceClaims {
        realm: account.realm.clone(),
        username: account.username.clone(),
        device_id: account.device_id.clone(),
        time: now,
    };
    Ok(device_auth::authorization(&key, &claims, method, path))
}

fn refused(status: u16, body: &[u8]) -> ClientError {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(error) => ClientError::Refused {
            status,
            code: serde_json::to_value(error.error.code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            message: error.error.message,
        },
        Err(_) => ClientError::Protocol(format!(
            "HTTP {status}: {}",
            String::from_utf8_lossy(body)
                .chars()
                .take(200)
                .collect::<String>()
        )),
    }
}

fn json_answer<T: serde::de::DeserializeOwned>(
    response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<T, ClientError> {
    let mut response = response.map_err(|e| ClientError::Transport(e.to_string()))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(1 << 20)
        .read_to_vec()
        .map_err(|e| ClientError::Transport(e.to_string()))?;
    if !(200..300).contains(&status) {
        return Err(refused(status, &body));
    }
    serde_json::from_slice(&body).map_err(|e| ClientError::Protocol(e.to_string()))
}

/// A plain or TLS connection under the WebSocket.
#[derive(Debug)]
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Self::Plain(tcp) => tcp,
            Self::Tls(tls) => tls.get_ref(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(tcp) => tcp.read(buf),
            Self::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(tcp) => tcp.write(buf),
            Self::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(tcp) => tcp.flush(),
            Self::Tls(tls) => tls.flush(),
        }
    }
}

/// The device's open WebSocket.
#[derive(Debug)]
pub struct PushSocket {
    socket: WebSocket<Stream>,
}

impl PushSocket {
    /// The next delivery, waiting at most `timeout` (`Ok(None)` when it passed: send a
    /// keep-alive with [`PushSocket::ping`] and wait again).
    pub fn next(&mut self, timeout: Duration) -> Result<Option<Delivery>, ClientError> {
        self.socket
            .get_ref()
            .tcp()
            .set_read_timeout(Some(timeout))
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        loop {
            match self.socket.read() {
                Ok(Message::Text(text)) => {
                    if let Ok(push) = serde_json::from_str::<PushRequest>(&text) {
                        return Ok(Some(Delivery::Push(push)));
                    }
                    if let Ok(gone) = serde_json::from_str::<PushWithdrawn>(&text) {
                        return Ok(Some(Delivery::Withdrawn(gone.withdrawn)));
                    }
                    // An unknown message from a newer edge: skip it.
                }
                Ok(Message::Close(_)) => {
                    return Err(ClientError::Transport(
                        "the edge closed the connection".into(),
                    ));
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(error))
                    if matches!(
                        error.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None);
                }
                Err(error) => return Err(ClientError::Transport(error.to_string())),
            }
        }
    }

    /// A keep-alive.
    pub fn ping(&mut self) -> Result<(), ClientError> {
        self.socket
            .send(Message::Ping(Vec::new().into()))
            .map_err(|e| ClientError::Transport(e.to_string()))
    }
}
