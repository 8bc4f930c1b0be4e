//! The one integration-test binary (see Cargo.toml's `[[test]]`): modules per area.

mod certificates;
mod checks;
mod cli;
mod collectors;
mod daemon;
mod delivery;
mod digest;
mod dnf;
mod faults;
mod files;
mod fleet;
mod health;
mod history;
mod journal;
mod prom;
mod queue;
mod support;
mod systemd;
mod templates;
mod updates;
