//! A TLS endpoint's certificate: connect, send the host name as SNI, and keep the leaf
//! certificate the server presents, whether or not it verifies, with the verdict of
//! rustls' own WebPKI verifier (the system's roots plus an optional `ca_file`). The
//! handshake stops once the certificate is read: nothing is sent, no key is used.
//!
//! Everything runs under the collector's timeout: the connection, each read and write.

use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

/// What the server presented: its leaf certificate (DER) and whether it verified
/// (Err: why not, in an admin's words).
#[derive(Debug)]
pub struct Presented {
    pub leaf: Vec<u8>,
    pub verified: Result<(), String>,
}

/// Connects to `host:port` and reads the certificate it presents.
pub fn read(
    host: &str,
    port: u16,
    ca_file: Option<&Path>,
    timeout: Duration,
) -> Result<Presented, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let capture = Arc::new(Capture {
        inner: verifier(ca_file, &provider),
        seen: Mutex::new(None),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(capture.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_string()).map_err(|e| format!("{host}: {e}"))?;
    let mut tls =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| format!("TLS: {e}"))?;
    let mut socket = connect(host, port, timeout)?;
    let outcome = handshake(&mut tls, &mut socket);
    let seen = capture.seen.lock().map(|mut s| s.take()).unwrap_or(None);
    match (seen, outcome) {
        (Some(presented), _) => Ok(presented),
        (None, Err(e)) => Err(e),
        (None, Ok(())) => Err("the server presented no certificate".into()),
    }
}

fn connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, String> {
    let addresses = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?;
    let mut last = format!("{host} has no address");
    for address in addresses {
        match TcpStream::connect_timeout(&address, timeout) {
            Ok(socket) => {
                socket
                    .set_read_timeout(Some(timeout))
                    .map_err(|e| e.to_string())?;
                socket
                    .set_write_timeout(Some(timeout))
                    .map_err(|e| e.to_string())?;
                return Ok(socket);
            }
            Err(e) => last = format!("cannot connect to {address}: {e}"),
        }
    }
    Err(last)
}

/// Drives the handshake until the verifier has seen the certificate (it then stops
/// the handshake, which is the error this returns) or the server gives up.
fn handshake(tls: &mut rustls::ClientConnection, socket: &mut TcpStream) -> Result<(), String> {
    while tls.is_handshaking() {
        match tls.complete_io(socket) {
            Ok((0, 0)) => {
                return Err("the server closed the connection during the handshake".into())
            }
            Ok(_) => {}
            Err(e) if is_timeout(&e) => return Err("no answer from the server (timed out)".into()),
            Err(e) => return Err(format!("TLS handshake: {e}")),
        }
    }
    Ok(())
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// The system's roots and the admin's `ca_file`; None when there are none at all
/// (then every certificate is "not verified: no trusted roots on this host").
fn verifier(ca_file: Option<&Path>, provider: &Arc<CryptoProvider>) -> Verdict {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = ca_file {
        let found = std::fs::read(path)
            .map_err(|e| format!("ca_file {}: {e}", path.display()))
            .and_then(|pem| private_roots(&pem, path));
        match found {
            Ok(certs) => {
                roots.add_parsable_certificates(certs);
            }
            Err(e) => return Verdict::Broken(e),
        }
    }
    match WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build() {
        Ok(v) => Verdict::Verifier(v),
        Err(_) => Verdict::Broken("no trusted root certificates on this host".into()),
    }
}

fn private_roots(pem: &[u8], path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = x509_parser::pem::Pem::iter_from_buffer(pem)
        .filter_map(Result::ok)
        .map(|p| CertificateDer::from(p.contents))
        .collect();
    match certs.is_empty() {
        true => Err(format!(
            "ca_file {}: no PEM certificate in it",
            path.display()
        )),
        false => Ok(certs),
    }
}

#[derive(Debug)]
enum Verdict {
    Verifier(Arc<WebPkiServerVerifier>),
    /// Nothing can be verified, and why.
    Broken(String),
}

/// A verifier that records the leaf and the real verifier's verdict, then stops the
/// handshake: the certificate is all this connection is for.
#[derive(Debug)]
struct Capture {
    inner: Verdict,
    seen: Mutex<Option<Presented>>,
}

impl ServerCertVerifier for Capture {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let verified = match &self.inner {
            Verdict::Verifier(v) => v
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
                .map(|_| ())
                .map_err(|e| plain(&e, server_name)),
            Verdict::Broken(why) => Err(why.clone()),
        };
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(Presented {
                leaf: end_entity.to_vec(),
                verified,
            });
        }
        Err(stopped())
    }

    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        Err(stopped())
    }

    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        Err(stopped())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::ring::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// What ends the handshake once the certificate is read (so no signature is ever
/// checked: nothing is exchanged with the server after that).
fn stopped() -> Error {
    Error::General("certificate read; handshake stopped".into())
}

/// Why a certificate did not verify, as an admin says it.
fn plain(e: &Error, name: &ServerName<'_>) -> String {
    let Error::InvalidCertificate(why) = e else {
        return e.to_string();
    };
    match why {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => "expired".into(),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "not valid yet".into()
        }
        // No trusted root signed it: none of its issuer's name, or one of the name
        // whose key did not make its signature (a self-signed "localhost" beside
        // Debian's snakeoil "localhost" in /etc/ssl/certs).
        CertificateError::UnknownIssuer
        | CertificateError::BadSignature
        | CertificateError::UnsupportedSignatureAlgorithmContext { .. }
        | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            "issuer not trusted (self-signed, or a private CA: set ca_file)".into()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!("not valid for the name {}", name.to_str())
        }
        CertificateError::Revoked => "revoked".into(),
        other => format!("{other:?}"),
    }
}
