//! The one integration-test binary (see Cargo.toml's `[[test]]`): modules per area.

mod cli;
mod delivery;
mod support;
