//! One report, start to finish: collect → render → build the email → queue → deliver.
//!
//! Shared by `--once`, `--check` and the daemon so all three do exactly the same
//! work. Holds the templates so the daemon compiles them once, not per report; a
//! one-shot command compiles them beside its collectors, and only those it renders.

use chrono::{DateTime, Utc};

use crate::collect::procfs::Procfs;
use crate::collect::{self, Context, Window};
use crate::config::Config;
use crate::delivery::{self, Attempt, Flushed};
use crate::history::Period;
use crate::mail;
use crate::outbox::{self, Outbox, OutboxError};
use crate::report::{
    self, Image, Parts, Recipe, Rendered, TemplateError, Templates, DEFAULT_SUBJECT,
};
use crate::smtp::{self, Refusal, SendError};
use crate::state::StateDir;

pub struct Pipeline {
    pub config: Config,
    renderer: Templates,
    /// The digest's templates, where `[digest]` is configured.
    digest: Option<Templates>,
    /// Where the previous report's counters are kept; None: no "since previous".
    pub state_dir: Option<StateDir>,
    /// The EHLO name: the configured hostname, else the system's.
    pub hello: String,
    /// `[export] textfile`: the metrics for node_exporter, and how the last write went.
    export: Option<crate::textfile::Export>,
}

/// Why a report was not delivered now. The first four are delivery failures (exit 75).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("report not delivered, queued as {path} for the daemon or the next --once to retry: {error}")]
    Queued { path: String, error: SendError },
    #[error("report refused, moved to {path}: {error}")]
    Refused { path: String, error: SendError },
    #[error("report not delivered and could not be queued ({queue_error}): {error}")]
    NotQueued {
        queue_error: OutboxError,
        error: SendError,
    },
    /// Queued, not tried: another process holds the delivery lock, or rreport is stopping.
    #[error("report queued as {path}, not sent now: {reason}")]
    Waiting { path: String, reason: String },
    /// Taken by the server for some recipients, not for these.
    #[error("report delivered, but not to every recipient: {}", .refused.iter().map(|r| format!("{} ({})", r.address, r.reply)).collect::<Vec<_>>().join("; "))]
    Partly { refused: Vec<Refusal> },
    #[error(transparent)]
    Build(#[from] mail::BuildError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
}

/// A report that went out: its subject (which carries its status), for the log.
#[derive(Debug, Clone)]
pub struct Sent {
    pub subject: String,
}

impl Pipeline {
    /// Compiles the templates named by `config` now, so a broken one stops the
    /// daemon or `--check` at start. `strict` is for `--check`.
    pub fn new(config: Config, strict: bool) -> Result<Pipeline, TemplateError> {
        let pipeline = Pipeline::deferred(config, strict, Parts::BOTH);
        pipeline.renderer.get()?;
        if let Some(digest) = &pipeline.digest {
            digest.get()?;
        }
        Ok(pipeline)
    }

    /// As `new`, with nothing compiled yet: a one-shot command compiles what it
    /// renders while it collects (`collect_to_render`), or when it renders, and
    /// only the `parts` it shows.
    pub fn deferred(config: Config, strict: bool, parts: Parts) -> Pipeline {
        let renderer = Templates::new(report_recipe(&config, strict, parts));
        let digest = digest_recipe(&config, strict, parts).map(Templates::new);
        let hello = config
            .hostname
            .clone()
            .or_else(|| collect::host::hostname().ok())
            .unwrap_or_default();
        let export = config.textfile.clone().map(crate::textfile::Export::new);
        Pipeline {
            config,
            renderer,
            digest,
            hello,
            state_dir: None,
            export,
        }
    }

    /// Compiles the templates strictly and throws them away: for SIGHUP, which must
    /// refuse templates that do not compile (and keep the old ones) although the
    /// pipeline itself renders leniently like any report.
    pub fn check_templates(config: &Config) -> Result<(), TemplateError> {
        report_recipe(config, true, Parts::BOTH).compile()?;
        digest_recipe(config, true, Parts::BOTH).map_or(Ok(()), |r| r.compile().map(drop))
    }

    /// Runs the chosen sections' collectors; `now` is the report's time. Reads what
    /// the previous report left (counters, the watched files' manifest) but does not
    /// replace it: a preview must not move "since the previous report".
    pub fn collect(&self, now: DateTime<Utc>) -> Context {
        self.collect_in(Window::open(&Procfs::default()), now)
    }

    /// As `collect`, in a CPU sample window the command opened earlier.
    pub fn collect_in(&self, window: Window, now: DateTime<Utc>) -> Context {
        self.gather(window, now, false, None).0
    }

    /// As `collect_in`, for a report that is rendered next: the templates compile
    /// while the collectors run. With `charts`, the period's charts are drawn (when
    /// `report.charts`) and named in the context: what the HTML of a report needs.
    pub fn collect_to_render(
        &self,
        window: Window,
        now: DateTime<Utc>,
        charts: bool,
    ) -> (Context, Vec<Image>) {
        self.renderer.start();
        let (ctx, _, images) = self.gather(window, now, charts, None);
        (ctx, images)
    }

    /// `missed`: the fire time this report stands in for, when the daemon was not
    /// running at it (the template says so).
    fn gather(
        &self,
        window: Window,
        now: DateTime<Utc>,
        charts: bool,
        missed: Option<DateTime<Utc>>,
    ) -> (Context, collect::Remembered, Vec<Image>) {
        let mut settings = collect::Settings {
            zone: self.config.timezone.clone(),
            hostname: self.config.hostname.clone(),
            filesystems: self.config.report.filesystems.clone(),
            cpu_sample: self.config.report.cpu_sample,
            timeout: self.config.collector_timeout,
            sections: self.config.report.sections.clone(),
            checks: self.config.checks.clone(),
            watches: self.config.watches.clone(),
            certificates: self.config.certificates.clone(),
            journal: self.config.journal.clone(),
            previous: Default::default(),
            extra: Vec::new(),
            procfs: Procfs::default(),
            state_dir: self.state_dir.clone(),
            package_logs: collect::package_log::logs(),
        };
        if let Some(dir) = &self.state_dir {
            settings.previous = crate::previous::load(dir, settings.watches_files());
        }
        let since = settings.previous.counters.as_ref().map(|c| c.taken_at);
        let (mut readings, remembered) = collect::gather_in(window, &settings, now);
        readings.errors.extend(self.export_failure());
        let period = match &self.state_dir {
            Some(dir) => {
                let history = &self.config.history;
                Period::load(
                    &dir.history(),
                    since,
                    now,
                    &readings,
                    history,
                    &settings.zone,
                )
            }
            None => Period::none(&settings.zone),
        };
        let t = &self.config.thresholds;
        let mut ctx = crate::status::context(&readings, &period, t);
        if let Some(due) = missed {
            ctx.put("missed", period.time(due));
        }
        let mut images = Vec::new();
        if charts && self.config.report.charts && period.day.is_some() {
            // Unique to this message: the Content-IDs of its images.
            let id = format!("{}.{:08x}@rreport", now.timestamp(), fastrand::u32(..));
            let drawn = report::charts::draw(&period, &ctx, t, &settings.zone, &id);
            ctx.put("charts", drawn.context);
            images = drawn.images;
        }
        (ctx, remembered, images)
    }

    /// Renders the report; a broken admin template is logged and replaced by the
    /// built-in one (see `Renderer::render`).
    pub fn render(&self, ctx: &Context) -> Result<Rendered, TemplateError> {
        let rendered = self.renderer.get()?.render(ctx)?;
        if let Some(problem) = &rendered.template_error {
            tracing::error!("template failed, the built-in one was used instead: {problem}");
        }
        Ok(rendered)
    }

    /// Collects, renders and queues one report, then makes the first delivery attempt.
    /// The caller has checked that SMTP is configured (`Config::smtp_for_sending`).
    ///
    /// The order is the guarantee: the delivery lock before the queue file (so no
    /// other process's flush sends it too), the queue file before "since the previous
    /// report" moves (so a kill in between cannot erase a change from every report).
    pub fn send_report(
        &self,
        outbox: &Outbox,
        now: DateTime<Utc>,
        missed: Option<DateTime<Utc>>,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<Sent, DeliveryError> {
        let Some(smtp) = &self.config.smtp else {
            unreachable!("send_report is only called after smtp_for_sending succeeded")
        };
        let (mut built, remembered) = self.build(smtp, now, missed)?;
        let ctx = std::mem::take(&mut built.ctx);
        let result = self.deliver(outbox, built, Some(&remembered), now, keep_going);
        self.export(&ctx, outbox, now);
        result
    }

    /// Writes the report's metrics for node_exporter, when `[export] textfile` asks;
    /// a failure is logged, and in the next report's `errors`, never this report's.
    fn export(&self, ctx: &Context, outbox: &Outbox, now: DateTime<Utc>) {
        if let Some(export) = &self.export {
            let (queued, failed) = outbox.counts();
            export.report(ctx, crate::textfile::Outbox { queued, failed }, now);
        }
    }

    /// The last write of the textfile, when it failed: an `errors` entry.
    fn export_failure(&self) -> Option<collect::CollectorFailure> {
        let message = self.export.as_ref()?.failure()?;
        let collector = "export".into();
        Some(collect::CollectorFailure { collector, message })
    }

    /// The last report's metrics written again with the outbox's counts now, when they
    /// changed (the daemon, after each sample): a report stuck in the queue shows
    /// before the next report, and one delivered by a retry stops showing.
    pub fn export_again(&self, outbox: &Outbox) {
        if let Some(export) = &self.export {
            let (queued, failed) = outbox.counts();
            export.outbox(crate::textfile::Outbox { queued, failed });
        }
    }

    /// The fleet digest at `now` from Prometheus (`[digest]`), rendered; None without
    /// `[digest]`. A Prometheus that cannot be asked is in the digest, not an error.
    pub fn digest(&self, now: DateTime<Utc>) -> Option<Result<(Context, Rendered), TemplateError>> {
        let (settings, templates) = (self.config.digest.as_ref()?, self.digest.as_ref()?);
        templates.start();
        let ctx = crate::fleet::digest(
            settings,
            &self.config.thresholds,
            now,
            &self.config.timezone,
        );
        let rendered = templates.get().and_then(|r| r.render(&ctx));
        Some(rendered.map(|rendered| (ctx, rendered)))
    }

    /// Renders, queues and sends the fleet digest through the same outbox and
    /// delivery as a report. The caller has checked `[digest]` and SMTP.
    pub fn send_digest(
        &self,
        outbox: &Outbox,
        now: DateTime<Utc>,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<Sent, DeliveryError> {
        let (Some(smtp), Some(digest)) = (&self.config.smtp, self.digest(now)) else {
            unreachable!("send_digest is only called with [digest] and [smtp]")
        };
        let (ctx, rendered) = digest?;
        if let Some(problem) = &rendered.template_error {
            tracing::error!("digest template failed, the built-in one was used instead: {problem}");
        }
        let built = message(smtp, rendered, ctx, now)?;
        self.deliver(outbox, built, None, now, keep_going)
    }

    /// Queues the built report, saves what it leaves for the next one, and makes the
    /// first attempt at it.
    fn deliver(
        &self,
        outbox: &Outbox,
        built: Built,
        remembered: Option<&collect::Remembered>,
        now: DateTime<Utc>,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<Sent, DeliveryError> {
        let Some(smtp) = &self.config.smtp else {
            unreachable!("only after smtp_for_sending succeeded")
        };
        let lock = outbox.lock(delivery::patience(smtp)).unwrap_or_else(|e| {
            tracing::error!("{e}; queueing the report for a later delivery");
            None
        });
        let mut entry = match outbox.enqueue(built.meta.clone(), built.bytes.clone()) {
            Ok(entry) => entry,
            // A full or broken disk must not cost the report: send it from memory.
            Err(queue_error) => {
                let id = &built.id;
                tracing::error!("cannot queue {id}, sending without a copy on disk: {queue_error}");
                let hello = &self.hello;
                let accepted = smtp::send(
                    smtp,
                    hello,
                    &built.envelope,
                    &built.bytes,
                    keep_going,
                    &mut |_| {},
                )
                .map_err(|error| DeliveryError::NotQueued { queue_error, error })?;
                self.remember(remembered);
                return finished(built.sent, accepted.refused);
            }
        };
        tracing::debug!("queued {} as {}", built.id, entry.path.display());
        self.remember(remembered);
        let reason = match (&lock, keep_going()) {
            (None, _) => "another rreport holds the outbox lock and will deliver it",
            (Some(_), false) => "rreport is stopping; it stays queued",
            (Some(_), true) => {
                return self.first_attempt(outbox, &mut entry, built, now, keep_going)
            }
        };
        Err(DeliveryError::Waiting {
            path: entry.path.display().to_string(),
            reason: reason.into(),
        })
    }

    /// The first attempt at a report just queued, under the delivery lock.
    fn first_attempt(
        &self,
        outbox: &Outbox,
        entry: &mut outbox::Entry,
        built: Built,
        now: DateTime<Utc>,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<Sent, DeliveryError> {
        let Some(smtp) = &self.config.smtp else {
            unreachable!("only after smtp_for_sending succeeded")
        };
        let (hello, zone) = (&self.hello, &self.config.timezone);
        match delivery::attempt(outbox, smtp, hello, entry, now, keep_going, zone)? {
            Attempt::Delivered {
                refused,
                failed_copy,
                retry_at,
            } => {
                delivery::log_refused(&built.id, &refused, failed_copy.as_deref(), retry_at);
                finished(built.sent, refused)
            }
            Attempt::Deferred { error, .. } => Err(DeliveryError::Queued {
                path: entry.path.display().to_string(),
                error,
            }),
            Attempt::Failed { error, path } => Err(DeliveryError::Refused {
                path: path.display().to_string(),
                error,
            }),
        }
    }

    /// Collects and renders a report and builds its message; also returns what the
    /// report leaves for the next one (saved only once the message is safe).
    fn build(
        &self,
        smtp: &crate::config::SmtpSettings,
        now: DateTime<Utc>,
        missed: Option<DateTime<Utc>>,
    ) -> Result<(Built, collect::Remembered), DeliveryError> {
        self.renderer.start();
        let window = Window::open(&Procfs::default());
        let (ctx, remembered, images) = self.gather(window, now, true, missed);
        let mut rendered = self.render(&ctx)?;
        rendered.images = images;
        Ok((message(smtp, rendered, ctx, now)?, remembered))
    }

    /// Saves what this report leaves for the next one, once the report is safe.
    fn remember(&self, remembered: Option<&collect::Remembered>) {
        if let (Some(dir), Some(remembered)) = (&self.state_dir, remembered) {
            crate::previous::save(dir, remembered);
        }
    }

    /// One attempt at every queued message (only those due when `only_due`); says
    /// when the next one left queued is due.
    pub fn flush(
        &self,
        outbox: &Outbox,
        now: DateTime<Utc>,
        only_due: bool,
        keep_going: &dyn Fn() -> bool,
    ) -> Result<Flushed, OutboxError> {
        match &self.config.smtp {
            Some(smtp) => {
                let zone = &self.config.timezone;
                delivery::flush(outbox, smtp, &self.hello, now, only_due, keep_going, zone)
            }
            None => Ok(Flushed::Done { next_due: None }),
        }
    }
}

/// The report's templates.
fn report_recipe(config: &Config, strict: bool, parts: Parts) -> Recipe {
    Recipe {
        set: &report::REPORT,
        subject: config
            .report
            .subject
            .as_deref()
            .unwrap_or(DEFAULT_SUBJECT)
            .into(),
        template_dir: config.report.template_dir.clone(),
        strict,
        sections: config.report.sections.names(),
        parts,
    }
}

/// The digest's templates, where `[digest]` is configured.
fn digest_recipe(config: &Config, strict: bool, parts: Parts) -> Option<Recipe> {
    let d = config.digest.as_ref()?;
    Some(Recipe {
        set: &report::DIGEST,
        subject: d
            .subject
            .as_deref()
            .unwrap_or(report::DIGEST_SUBJECT)
            .into(),
        template_dir: config.report.template_dir.clone(),
        strict,
        sections: Vec::new(),
        parts,
    })
}

/// A rendered report (or digest) built into its message, ready to queue.
fn message(
    smtp: &crate::config::SmtpSettings,
    rendered: Rendered,
    ctx: Context,
    now: DateTime<Utc>,
) -> Result<Built, DeliveryError> {
    let (message, id) = mail::build(smtp, &rendered, now.into())?;

    let envelope = message.envelope().clone();
    let meta = outbox::new_meta(
        &id,
        envelope.from().map(|a| a.to_string()),
        envelope.to().iter().map(|a| a.to_string()).collect(),
        now,
    );
    let built = Built {
        sent: Sent {
            subject: rendered.subject,
        },
        id,
        envelope,
        meta,
        bytes: message.formatted(),
        ctx,
    };
    Ok(built)
}

/// A report built into its message, ready to queue.
struct Built {
    sent: Sent,
    id: String,
    envelope: lettre::address::Envelope,
    meta: outbox::Meta,
    bytes: Vec<u8>,
    /// The report's context, for the metrics written after it.
    ctx: Context,
}

/// Delivered: fine if every recipient took it.
fn finished(sent: Sent, refused: Vec<Refusal>) -> Result<Sent, DeliveryError> {
    match refused.is_empty() {
        true => Ok(sent),
        false => Err(DeliveryError::Partly { refused }),
    }
}
