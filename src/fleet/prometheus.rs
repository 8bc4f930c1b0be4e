//! The Prometheus HTTP API, as much of it as a digest needs: instant queries
//! (`/api/v1/query` with an evaluation time), over one blocking ureq agent (rustls,
//! the system's roots and the admin's `ca_file`), with basic auth or a bearer token.
//! Every failure is a `QueryError` that says what happened in words an admin can act
//! on; the credentials are never part of one.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::config::{Auth, DigestSettings};

/// Bytes of one answer read at most: 1,000 hosts × a few series is well under this.
const BODY_MAX: u64 = 64 << 20;

pub struct Client {
    agent: ureq::Agent,
    base: String,
    auth: Option<String>,
    timeout_secs: u64,
}

/// One series of an instant vector: its labels and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

impl Sample {
    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }

    /// A label made safe to show: a host writes its own textfile, and a hostile one
    /// must not forge a line of the digest with a line feed or an escape sequence.
    pub fn shown(&self, name: &str) -> String {
        crate::collect::journal::shown(self.label(name))
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    #[error("Prometheus at {url} unreachable: {why}")]
    Unreachable { url: String, why: String },
    #[error("Prometheus at {url} did not answer within {secs} s")]
    Timeout { url: String, secs: u64 },
    #[error("Prometheus at {url} refused the credentials (HTTP {status}); check RREPORT_PROMETHEUS_USERNAME/PASSWORD or _TOKEN")]
    Auth { url: String, status: u16 },
    #[error("Prometheus at {url} answered HTTP {status}: {why}")]
    Status {
        url: String,
        status: u16,
        why: String,
    },
    #[error("Prometheus at {url} could not run `{query}`: {why}")]
    Query {
        url: String,
        query: String,
        why: String,
    },
    #[error("ca_file {path}: {why}")]
    CaFile { path: String, why: String },
}

#[derive(Deserialize)]
struct Answer {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct Series {
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

impl Client {
    pub fn new(s: &DigestSettings) -> Result<Client, QueryError> {
        let roots = roots(s.ca_file.as_deref())?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::Specific(Arc::new(roots)))
            .unversioned_rustls_crypto_provider(provider)
            .build();
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(s.timeout))
            .http_status_as_error(false)
            .tls_config(tls)
            .user_agent(concat!("rreport/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let auth = s.auth.as_ref().map(|a| match a {
            Auth::Basic { username, password } => {
                use base64::Engine;
                let pair = format!("{username}:{}", password.expose());
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }
            Auth::Bearer(token) => format!("Bearer {}", token.expose()),
        });
        Ok(Client {
            agent,
            base: s.prometheus.clone(),
            auth,
            timeout_secs: s.timeout.as_secs(),
        })
    }

    /// The instant vector `query` evaluates to at `at`.
    pub fn query(&self, query: &str, at: DateTime<Utc>) -> Result<Vec<Sample>, QueryError> {
        let (status, body) = self.fetch(query, at)?;
        let url = self.base.clone();
        let Ok(answer) = serde_json::from_str::<Answer>(&body) else {
            let why = body
                .chars()
                .take(200)
                .collect::<String>()
                .trim()
                .to_string();
            return Err(QueryError::Status { url, status, why });
        };
        match (answer.status.as_str(), answer.data) {
            ("success", Some(data)) if data.result_type == "vector" => vector(data.result, url),
            _ => Err(QueryError::Query {
                url,
                query: query.to_string(),
                why: answer.error.unwrap_or_else(|| format!("HTTP {status}")),
            }),
        }
    }

    /// The answer's HTTP status and body; a refused credential is an error here.
    fn fetch(&self, query: &str, at: DateTime<Utc>) -> Result<(u16, String), QueryError> {
        let url = format!("{}/api/v1/query", self.base);
        let time = format!("{:.3}", at.timestamp_millis() as f64 / 1000.0);
        let mut request = self
            .agent
            .get(&url)
            .query("query", query)
            .query("time", &time);
        if let Some(auth) = &self.auth {
            request = request.header("Authorization", auth);
        }
        let failed = |e: ureq::Error| match e {
            ureq::Error::Timeout(_) => QueryError::Timeout {
                url: self.base.clone(),
                secs: self.timeout_secs,
            },
            e => QueryError::Unreachable {
                url: self.base.clone(),
                why: e.to_string(),
            },
        };
        let mut response = request.call().map_err(failed)?;
        let status = response.status().as_u16();
        if status == 401 || status == 403 {
            return Err(QueryError::Auth {
                url: self.base.clone(),
                status,
            });
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(BODY_MAX)
            .read_to_string();
        Ok((status, body.map_err(failed)?))
    }
}

fn vector(result: serde_json::Value, url: String) -> Result<Vec<Sample>, QueryError> {
    let series: Vec<Series> = serde_json::from_value(result).map_err(|e| QueryError::Status {
        url,
        status: 200,
        why: format!("not a vector: {e}"),
    })?;
    Ok(series
        .into_iter()
        .map(|s| Sample {
            labels: s.metric,
            value: s.value.1.parse().unwrap_or(f64::NAN),
        })
        .collect())
}

/// The system's roots and the admin's `ca_file`.
fn roots(
    ca_file: Option<&std::path::Path>,
) -> Result<Vec<ureq::tls::Certificate<'static>>, QueryError> {
    let mut roots: Vec<ureq::tls::Certificate<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .into_iter()
        .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    if let Some(path) = ca_file {
        let fail = |why: String| QueryError::CaFile {
            path: path.display().to_string(),
            why,
        };
        let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
        let before = roots.len();
        for p in x509_parser::pem::Pem::iter_from_buffer(&pem).filter_map(Result::ok) {
            roots.push(ureq::tls::Certificate::from_der(&p.contents).to_owned());
        }
        if roots.len() == before {
            return Err(fail("no PEM certificate in it".into()));
        }
    }
    Ok(roots)
}
