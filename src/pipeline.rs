//! One report, start to finish: collect → render → build the email → deliver.
//!
//! Shared by `--once`, `--check` and the daemon so all three do exactly the same
//! work. Holds the compiled templates so the daemon compiles them once, not per report.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::collect::{self, Context};
use crate::config::Config;
use crate::mail::{self, SendError};
use crate::report::{Rendered, Renderer, TemplateError};

pub struct Pipeline {
    pub config: Config,
    renderer: Renderer,
}

/// What one delivery attempt came to, for the log line and the exit status.
pub struct Delivery {
    pub recipients: String,
    pub took: Duration,
    pub outcome: Result<(), DeliveryError>,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error(transparent)]
    Send(#[from] SendError),
    #[error(transparent)]
    Build(#[from] mail::BuildError),
    #[error(transparent)]
    Template(#[from] TemplateError),
}

impl Pipeline {
    /// Compiles the templates named by `config`. `strict` is for `--check`.
    pub fn new(config: Config, strict: bool) -> Result<Pipeline, TemplateError> {
        let renderer = Renderer::new(
            &config.report.subject,
            config.report.template_dir.as_deref(),
            strict,
        )?;
        Ok(Pipeline { config, renderer })
    }

    /// Runs every collector; `now` is the report's time.
    pub fn collect(&self, now: DateTime<Utc>) -> Context {
        let settings = collect::Settings {
            zone: self.config.timezone,
            hostname: self.config.hostname.clone(),
            filesystems: self.config.report.filesystems.clone(),
            cpu_sample: self.config.report.cpu_sample,
        };
        collect::gather(&settings, now)
    }

    pub fn render(&self, ctx: &Context) -> Result<Rendered, TemplateError> {
        self.renderer.render(ctx)
    }

    /// Collects, renders and sends one report to the configured recipients.
    /// The caller has checked that SMTP is configured (`Config::smtp_for_sending`).
    pub fn send_report(&self, now: DateTime<Utc>) -> Delivery {
        let started = Instant::now();
        let Some(smtp) = &self.config.smtp else {
            unreachable!("send_report is only called after smtp_for_sending succeeded")
        };
        let recipients = smtp
            .to
            .iter()
            .map(|m| m.email.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let outcome = (|| {
            let ctx = self.collect(now);
            let rendered = self.render(&ctx)?;
            let message = mail::build(smtp, &rendered, now.into())?;
            let hostname = ctx
                .0
                .get("hostname")
                .and_then(|h| h.as_str())
                .unwrap_or_default();
            mail::send(smtp, hostname, &message)?;
            Ok(())
        })();
        Delivery {
            recipients,
            took: started.elapsed(),
            outcome,
        }
    }
}

impl Delivery {
    /// The one log line per report: info when sent, error when not.
    pub fn log(&self) {
        let ms = self.took.as_millis();
        match &self.outcome {
            Ok(()) => tracing::info!("report sent to {} in {ms} ms", self.recipients),
            Err(e) => tracing::error!(
                "report to {} not delivered after {ms} ms: {e}",
                self.recipients
            ),
        }
    }
}
