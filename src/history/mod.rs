//! The day behind the numbers: what the daemon samples between reports, and where it
//! keeps it (`store.rs`, SQLite in the state directory).

pub mod sampler;
pub mod store;

pub use self::sampler::Sampler;
pub use self::store::{Sample, Store, StoreError};
