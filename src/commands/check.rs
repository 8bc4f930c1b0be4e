//! `--check`: the config for sending, what is valid but probably wrong, the templates
//! rendered strictly against live data, the checks run once; then the next fire
//! times on stdout and nothing else there.

use std::io::Write;

use chrono::Utc;

use super::{open_outbox, RunError};
use crate::collect;
use crate::config::{self, Config};
use crate::pipeline::Pipeline;

/// Warns when the env file beside the config (where the unit reads credentials
/// from) holds the password and other users can read it.
pub(super) fn warn_if_secrets_readable(config_path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let env_file = config_path
        .parent()
        .unwrap_or(std::path::Path::new("/"))
        .join("env");
    let Ok(meta) = std::fs::metadata(&env_file) else {
        return;
    };
    let mode = meta.permissions().mode() & 0o777;
    let holds_password = std::fs::read_to_string(&env_file)
        .map(|text| {
            text.lines()
                .any(|l| l.trim_start().starts_with(config::PASSWORD_VAR))
        })
        .unwrap_or(false);
    if holds_password && mode & 0o044 != 0 {
        tracing::warn!(
            "{} holds {} and other users can read it (mode {mode:04o}); run: chmod 600 {}",
            env_file.display(),
            config::PASSWORD_VAR,
            env_file.display()
        );
    }
}

/// The check, and the next `n` fire times.
pub(super) fn run(config: Config, n: usize) -> Result<(), RunError> {
    config.smtp_for_sending()?;
    open_outbox(&config)?;
    let mount_points = collect::disk::mount_points();
    let host = config::lint::Host {
        mount_points: &mount_points,
        exists: &|p: &std::path::Path| p.exists(),
    };
    config::lint::template_dir(&config, &host)?;
    for warning in config::lint::warnings(&config, &host) {
        tracing::warn!("{}: {warning}", config.origin);
    }
    let pipeline = Pipeline::new(config, true)?;
    let ctx = pipeline.collect(Utc::now());
    pipeline.render(&ctx)?;
    // The config is fine either way, but the admin who just wrote a check wants to
    // know whether it passes now.
    let failed = ctx
        .0
        .get("checks")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten();
    for check in failed.filter(|c| c["ok"] != true) {
        let text = |key: &str| check[key].as_str().unwrap_or_default().to_string();
        tracing::warn!("check '{}' failed now: {}", text("name"), text("detail"));
    }
    let config = &pipeline.config;
    let Some(schedule) = &config.schedule else {
        tracing::warn!("schedule = \"off\": no reports from this host, only the digest");
        return Ok(());
    };
    let times = schedule.upcoming(Utc::now(), &config.timezone, n);
    if times.is_empty() && n > 0 {
        return Err(anyhow::anyhow!("schedule '{}' never fires", schedule.as_str()).into());
    }
    let mut out = std::io::stdout().lock();
    for t in times {
        writeln!(out, "{}", t.to_rfc3339()).map_err(anyhow::Error::from)?;
    }
    Ok(())
}
