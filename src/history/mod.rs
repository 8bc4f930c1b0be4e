//! The day behind the numbers: what the daemon samples between reports, and where it
//! keeps it (`store.rs`, SQLite in the state directory).

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
