//! The `hostname` collector: the kernel's node name (uname), as hostname(1) prints it.

use super::CollectError;

pub fn hostname() -> Result<String, CollectError> {
    let name = psutil::host::info().hostname().to_string();
    if name.is_empty() {
        return Err(CollectError::new("uname returned an empty node name"));
    }
    Ok(name)
}
