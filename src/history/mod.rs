//! The day behind the numbers. What the daemon samples between reports
//! (`sampler.rs`) and where it keeps it (`store.rs`, SQLite in the state directory);
//! what a report reads back (`day.rs`, streamed into `stats.rs` accumulators and
//! `forecast.rs` trends) and puts in its context (`period.rs`); `--export`
//! (`export.rs`). Only the daemon writes; everything else opens the file read-only.

pub mod day;
pub mod export;
pub mod forecast;
pub mod period;
pub mod sampler;
pub mod stats;
pub mod store;

pub use self::day::{Day, Window};
pub use self::period::Period;
pub use self::sampler::Sampler;
pub use self::store::{Sample, Store, StoreError};
