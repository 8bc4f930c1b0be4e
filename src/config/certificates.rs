//! `[[certificates]]`: PEM files whose expiry the report watches.
//!
//! ```toml
//! [[certificates]]
//! path = "/etc/letsencrypt/live/*/cert.pem"   # a path or a glob
//! warning_days = 14                           # the defaults
//! critical_days = 3
//! ```

use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Locator};
use crate::collect::certificates::Watched;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCertificate {
    path: Spanned<String>,
    warning_days: Option<Spanned<u64>>,
    critical_days: Option<Spanned<u64>>,
}

pub(super) fn check_all(
    raw: Vec<RawCertificate>,
    loc: &Locator,
) -> Result<Vec<Watched>, ConfigError> {
    raw.into_iter().map(|r| check(r, loc)).collect()
}

fn check(raw: RawCertificate, loc: &Locator) -> Result<Watched, ConfigError> {
    let at = raw.path.span().start;
    let path = raw.path.into_inner();
    if !path.starts_with('/') {
        return Err(loc.at(
            at,
            format!("certificates.path = {path:?} must be an absolute path or glob"),
        ));
    }
    if let Err(e) = glob::Pattern::new(&path) {
        return Err(loc.at(
            at,
            format!("certificates.path = {path:?} is not a glob: {e}"),
        ));
    }
    let warning = loc.bounded(&raw.warning_days, "certificates.warning_days", 1..=365, 14)?;
    let critical = loc.bounded(&raw.critical_days, "certificates.critical_days", 0..=365, 3)?;
    if critical > warning {
        let at = raw.critical_days.as_ref().map_or(at, |c| c.span().start);
        return Err(loc.at(
            at,
            format!(
                "certificates.critical_days = {critical} is more than warning_days = {warning}"
            ),
        ));
    }
    Ok(Watched {
        path,
        warning_days: warning as f64,
        critical_days: critical as f64,
    })
}
