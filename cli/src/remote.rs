//! Asking a running `payhost serve` instead of the local journal and
//! plugin directory: its URL, a token (`--token-file` or `PAYHOST_TOKEN`)
//! and the CA its certificate is signed by (`--cacert`). A refusal says
//! what to do: a token to pass, a scope to ask for, a CA to trust.

use super::{Exit, exit};
use clap::Args;
use serde::de::DeserializeOwned;
use std::path::PathBuf;

/// Where a running host is, and how to be let in.
#[derive(Args, Clone, Debug, Default)]
pub(crate) struct ServerArgs {
    /// Ask a running host (`payhost serve`) instead of the local journal
    /// and plugin directory, e.g. https://payhost.internal:8700.
    #[arg(long, env = "PAYHOST_SERVER")]
    pub(crate) server: Option<String>,
    /// A file holding the API token to present (else $PAYHOST_TOKEN).
    #[arg(long, requires = "server")]
    pub(crate) token_file: Option<PathBuf>,
    /// A PEM file with the CA certificate the host's certificate is signed
    /// by, for a host whose CA the system does not trust.
    #[arg(long, requires = "server")]
    pub(crate) cacert: Option<PathBuf>,
}

/// A running host to ask.
pub(crate) struct Remote {
    client: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl ServerArgs {
    /// The host to ask, when `--server` names one.
    pub(crate) fn remote(&self) -> Result<Option<Remote>, Exit> {
        let Some(server) = &self.server else {
            return Ok(None);
        };
        let token = match &self.token_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| {
                        Exit::usage(anyhow::anyhow!(
                            "cannot read the token file {}: {e}",
                            path.display()
                        ))
                    })?
                    .trim()
                    .to_owned(),
            ),
            None => std::env::var("PAYHOST_TOKEN")
                .ok()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty()),
        };
        // A token crosses the network only encrypted.
        let url = reqwest::Url::parse(server).map_err(|e| {
            Exit::usage(anyhow::anyhow!(
                "--server {server} is not a URL ({e}): write it like https://payhost.internal:8700"
            ))
        })?;
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(name)) => name == "localhost",
            None => false,
        };
        if token.is_some() && url.scheme() != "https" && !loopback {
            return Err(Exit::usage(anyhow::anyhow!(
                "a token is sent to {server} only over https (the host serves TLS when [api] tls is set): use https://"
            )));
        }
        let mut builder = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = &self.cacert {
            let pem = std::fs::read(path).map_err(|e| {
                Exit::usage(anyhow::anyhow!(
                    "cannot read the CA file {}: {e}",
                    path.display()
                ))
            })?;
            let ca = reqwest::Certificate::from_pem(&pem).map_err(|e| {
                Exit::usage(anyhow::anyhow!(
                    "{} is not a PEM certificate ({e}): pass the CA's certificate with --cacert",
                    path.display()
                ))
            })?;
            builder = builder.add_root_certificate(ca);
        }
        let client = builder
            .build()
            .map_err(|e| Exit::usage(anyhow::anyhow!("cannot make an HTTP client: {e}")))?;
        Ok(Some(Remote {
            client,
            base: server.trim_end_matches('/').to_owned(),
            token,
        }))
    }
}

impl Remote {
    /// `GET path?query`, its JSON answer.
    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, Exit> {
        self.send(self.client.get(format!("{}{path}", self.base)).query(query))
            .await
    }

    /// `POST path` with a JSON body, its JSON answer.
    pub(crate) async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, Exit> {
        self.send(self.client.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    async fn send<T: DeserializeOwned>(&self, request: reqwest::RequestBuilder) -> Result<T, Exit> {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let answer = request.send().await.map_err(|e| self.unreachable(&e))?;
        let status = answer.status().as_u16();
        let body = answer.bytes().await.map_err(|e| self.unreachable(&e))?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&body).map_err(|e| {
                Exit::from(anyhow::anyhow!(
                    "the host at {} answered something that is not what payhost answers ({e})",
                    self.base
                ))
            });
        }
        let error: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let message = error["error"]["message"].as_str().unwrap_or("").to_owned();
        let code = error["error"]["code"].as_str().unwrap_or("").to_owned();
        let (exit_code, text) = match status {
            401 => (
                exit::USAGE,
                format!(
                    "the host at {} wants a token it knows (401): pass one with --token-file FILE or PAYHOST_TOKEN",
                    self.base
                ),
            ),
            403 => (
                exit::USAGE,
                format!(
                    "the token is not allowed to do this (403: {message}): ask for a token with that scope"
                ),
            ),
            // The library's table: a code means the same exit wherever
            // the command ran.
            _ if let Some(known) = payhost::Code::named(&code) => {
                (known.failure().exit_code(), format!("{code}: {message}"))
            }
            400..=499 => (exit::USAGE, format!("{code}: {message}")),
            _ => (
                exit::INTERNAL,
                format!(
                    "the host at {} failed ({status} {code}): {message}",
                    self.base
                ),
            ),
        };
        Err(Exit {
            code: exit_code,
            error: anyhow::anyhow!(text),
        })
    }

    /// A request that got no answer: why, in words an operator acts on.
    fn unreachable(&self, e: &reqwest::Error) -> Exit {
        let mut chain = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            chain.push_str(&format!(": {s}"));
            source = s.source();
        }
        let hint = if chain.contains("certificate") || chain.contains("UnknownIssuer") {
            "the host's certificate is not trusted here: pass the CA that signed it with --cacert FILE"
        } else if e.is_timeout() {
            "it did not answer in time"
        } else {
            "is `payhost serve` running there, and is the URL right (http or https)?"
        };
        Exit::usage(anyhow::anyhow!(
            "cannot reach the host at {} ({chain}); {hint}",
            self.base
        ))
    }
}
