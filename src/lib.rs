//! rreport: emails a report of how a Linux server is doing, on a cron schedule.
//!
//! # Layout, in the order data flows
//! - `cli`: the command line (clap). `main.rs` parses it and calls [`run`].
//! - `config`: the TOML file → a checked [`config::Config`]; credentials from the environment.
//! - `schedule`: crontab(5) expression + "now" → next fire time. Pure.
//! - `zone`: time zones from the system's tz database, for the schedule and the report.
//! - `sections`: which sections the report shows, in which order; only their collectors run.
//! - `collect`: the collectors (`host`, `boot`, `cpu`, `load`, `memory`, `disk`,
//!   `network`, `diskio`, `processes`, `users`, `checks`, `files`), each returning
//!   its own map, merged into one [`collect::Context`] (`context`, a leaf that
//!   collect writes and status and report read); failures become `errors` entries.
//! - `status`: levels, the overall status and the attention list, decided in one place.
//! - `report/`: context → subject, HTML and text through minijinja (`filters` for
//!   humans), with room for more template sets and inline images.
//! - `mail`: the MIME message (lettre's builder).
//! - `smtp`: delivery over SMTP: relays, TLS, AUTH, recipients one by one; redacted errors.
//! - `outbox`: the durable queue on disk; the only code that touches the spool.
//! - `previous`: what the previous report left (counters, the watched files' manifest).
//! - `history`: the samples the daemon takes between reports, kept in SQLite; what a
//!   report reads back (the period's figures, chart lines, disk-full forecasts).
//! - `state`: the state directory, resolved once, and the layout of what lives in it.
//! - `atomic`: crash-safe file replacement, for the outbox and the previous report's files.
//! - `delivery`: one attempt at a queued message, backoff, giving up to failed/.
//! - `late`: the note at the top of a report delivered over an hour late.
//! - `pipeline`: one report start to finish, shared by `--once`, `--check` and the daemon.
//! - `daemon`: the only loop; `agenda` (pure: what is due next) and `clock` (the time
//!   and the wait, injected so tests move time instead of sleeping).
//! - `notify`: systemd's notification socket (READY, STATUS) and the watchdog, petted
//!   by whatever stage finishes a bounded step (`notify::progress`).
//! - `commands`: each mode of the command line (`check`, `preview`, `queue`, `send`),
//!   dispatched from one `match`; [`RunError`] maps every failure to an `exit` status.
//!
//! `.ci/imports.py` holds each module to its layer: nothing uses a module above it.

// One unsafe call in all of rreport: `daemon.rs`'s `malloc_trim`, with its SAFETY note.
#![deny(unsafe_code)]

pub mod agenda;
mod atomic;
pub mod cli;
pub mod clock;
pub mod collect;
mod commands;
pub mod config;
pub mod context;
pub mod daemon;
pub mod delivery;
pub mod exit;
pub mod fleet;
pub mod history;
pub mod late;
pub mod logging;
pub mod mail;
mod math;
pub mod notify;
pub mod outbox;
pub mod pipeline;
pub mod previous;
mod regular;
pub mod report;
pub mod schedule;
pub mod secret;
pub mod sections;
pub mod smtp;
pub mod state;
pub mod status;
pub mod textfile;
mod units;
pub mod zone;

pub use crate::commands::{run, RunError};
