//! The one integration-test binary (see Cargo.toml's `[[test]]`): modules per area.

mod cli;
mod collectors;
mod delivery;
mod support;
mod templates;
