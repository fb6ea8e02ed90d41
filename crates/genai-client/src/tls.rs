//! The client's TLS settings: what reqwest builds by default (rustls with
//! aws-lc-rs, TLS 1.2 and 1.3, ALPN `h2` then `http/1.1`, the platform's
//! verifier over the system's root certificates), except that the system's
//! roots are read at the first TLS handshake instead of when the client is
//! made.
//!
//! Reading them walks every file of the system's certificate folder (about
//! 4 ms of CPU and a few hundred file operations on a Debian machine), which
//! a client that only ever talks plain HTTP (a loopback replay or fixture
//! server) never needs. A client whose base URL is `https` reads them at
//! once, as before, so a machine without usable roots still fails when the
//! client is made, with the same error.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_platform_verifier::Verifier;

/// The TLS settings of a client; `eager` reads the system's roots now
/// (their error is returned here), otherwise at the first handshake.
pub(crate) fn config(eager: bool) -> Result<rustls::ClientConfig, rustls::Error> {
    // As reqwest does: a provider installed by the program, else aws-lc-rs.
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let verifier = LazyVerifier {
        provider: provider.clone(),
        inner: OnceLock::new(),
    };
    if eager {
        verifier.inner()?;
    }
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform's verifier, made the first time a certificate is checked.
#[derive(Debug)]
struct LazyVerifier {
    provider: Arc<CryptoProvider>,
    inner: OnceLock<Result<Verifier, rustls::Error>>,
}

impl LazyVerifier {
    fn inner(&self) -> Result<&Verifier, rustls::Error> {
        self.inner
            .get_or_init(|| Verifier::new(self.provider.clone()))
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner()?.verify_tls13_signature(message, cert, dss)
    }

    /// The platform's verifier offers its provider's schemes; so does this
    /// one, without reading the roots for it.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_are_reqwests_defaults() {
        let config = config(false).expect("TLS settings");
        assert_eq!(
            config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        assert!(config.enable_sni);
        assert_eq!(
            config.crypto_provider().cipher_suites.len(),
            rustls::crypto::aws_lc_rs::default_provider()
                .cipher_suites
                .len()
        );
    }

    #[test]
    fn offering_the_schemes_does_not_read_the_roots() {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let verifier = LazyVerifier {
            provider: provider.clone(),
            inner: OnceLock::new(),
        };
        assert_eq!(
            verifier.supported_verify_schemes(),
            provider
                .signature_verification_algorithms
                .supported_schemes()
        );
        assert!(verifier.inner.get().is_none());
    }
}
