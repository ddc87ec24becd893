//! Local HTTPS for Duo SDK clients (they speak only HTTPS): a local CA, a leaf certificate
//! for `localhost`/`127.0.0.1`, and a TLS terminator that forwards raw TCP to `wrangler dev`.
//!
//! The terminator passes bytes through unchanged (Host header included), so the worker sees
//! the same requests as over plain HTTP.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Creates `dir/{ca.pem, cert.pem, key.pem}` once; later runs reuse them.
pub fn ensure_certificates(dir: &Path) -> Result<TlsFiles> {
    let files = TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    if files.ca.exists() && files.cert.exists() && files.key.exists() {
        println!("reusing the local CA and certificate in {}", dir.display());
        return Ok(files);
    }
    std::fs::create_dir_all(dir)?;
    let now = time::OffsetDateTime::now_utc();

    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = rcgen::DistinguishedName::new();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Tessera local development CA");
    ca_params
        .distinguished_name
        .push(DnType::OrganizationName, "Tessera (local)");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params.not_before = now - time::Duration::days(1);
    ca_params.not_after = now + time::Duration::days(3650);
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca_params.self_signed(&ca_key)?;

    let mut leaf = CertificateParams::default();
    leaf.distinguished_name = rcgen::DistinguishedName::new();
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf.subject_alt_names = vec![
        SanType::DnsName("localhost".try_into()?),
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        SanType::DnsName("127.0.0.1".try_into()?),
    ];
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    // Browsers and Apple clients cap leaf lifetimes; stay under 398 days.
    leaf.not_before = now - time::Duration::days(1);
    leaf.not_after = now + time::Duration::days(390);
    let leaf_key = KeyPair::generate()?;
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer)?;

    std::fs::write(&files.ca, ca_cert.pem())?;
    std::fs::write(&files.cert, leaf_cert.pem())?;
    write_private(&files.key, &leaf_key.serialize_pem())?;
    println!(
        "created a local CA ({}) and a certificate for localhost, 127.0.0.1",
        files.ca.display()
    );
    Ok(files)
}

fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

/// Listens on `127.0.0.1:https_port` (and `[::1]` when available) and forwards each TLS
/// connection's plaintext to `127.0.0.1:http_port`. Runs on a background thread for the
/// life of the process.
pub fn spawn_terminator(files: &TlsFiles, https_port: u16, http_port: u16) -> Result<()> {
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .with_context(|| format!("reading {}", files.cert.display()))?
        .collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .with_context(|| format!("reading {}", files.key.display()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

    let mut listeners = vec![
        std::net::TcpListener::bind(("127.0.0.1", https_port))
            .with_context(|| format!("port {https_port} (HTTPS) is already in use"))?,
    ];
    // Some clients resolve `localhost` to ::1 first; serve it too when the host has IPv6.
    if let Ok(v6) = std::net::TcpListener::bind(("::1", https_port)) {
        listeners.push(v6);
    }
    for listener in &listeners {
        listener.set_nonblocking(true)?;
    }
    let upstream = SocketAddr::from((Ipv4Addr::LOCALHOST, http_port));
    std::thread::Builder::new()
        .name("tls-terminator".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    eprintln!("tls terminator: {error}");
                    return;
                }
            };
            runtime.block_on(async move {
                let mut tasks = Vec::new();
                for listener in listeners {
                    let acceptor = acceptor.clone();
                    tasks.push(tokio::spawn(async move {
                        match tokio::net::TcpListener::from_std(listener) {
                            Ok(listener) => accept_loop(listener, acceptor, upstream).await,
                            Err(error) => eprintln!("tls terminator: {error}"),
                        }
                    }));
                }
                for task in tasks {
                    let _ = task.await;
                }
            });
        })?;
    Ok(())
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    upstream: SocketAddr,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            // Handshake failures (a client that does not trust the CA) are the client's to report.
            let Ok(mut tls) = acceptor.accept(client).await else {
                return;
            };
            let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                return;
            };
            let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A client that trusts only the generated CA reaches a plain TCP server through the
    /// terminator, for both `localhost` and `127.0.0.1`.
    #[test]
    fn terminator_forwards_with_the_local_ca() {
        let dir = std::env::temp_dir().join(format!("xtask-tls-{}", std::process::id()));
        let files = ensure_certificates(&dir).unwrap();
        let upstream = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let http_port = upstream.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in upstream.incoming().flatten() {
                let mut stream = stream;
                let mut buf = [0u8; 5];
                stream.read_exact(&mut buf).unwrap();
                stream.write_all(&buf).unwrap();
            }
        });
        let https_port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        spawn_terminator(&files, https_port, http_port).unwrap();

        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(&files.ca).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let config = Arc::new(config);
        for name in ["localhost", "127.0.0.1"] {
            let server_name = rustls::pki_types::ServerName::try_from(name.to_owned()).unwrap();
            let mut connection =
                rustls::ClientConnection::new(config.clone(), server_name).unwrap();
            let mut socket = std::net::TcpStream::connect(("127.0.0.1", https_port)).unwrap();
            let mut tls = rustls::Stream::new(&mut connection, &mut socket);
            tls.write_all(b"hello").unwrap();
            let mut echoed = [0u8; 5];
            tls.read_exact(&mut echoed).unwrap();
            assert_eq!(&echoed, b"hello");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
