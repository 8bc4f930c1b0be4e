//! Exit statuses, the contract with cron, systemd and shell scripts.
//!
//! The numbers follow sysexits.h where one fits, so `RestartPreventExitStatus=78`
//! in the unit keeps systemd from restarting a daemon whose config is broken.

use std::process::ExitCode;

/// How the process ends. Each variant is documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The report was sent (or printed, or the config checked).
    Success = 0,
    /// Anything not covered below: an I/O error writing `--output`, say.
    Failure = 1,
    /// The command line was wrong (clap exits with this itself).
    Usage = 2,
    /// The report could not be delivered now; trying again later may work (EX_TEMPFAIL).
    TempFail = 75,
    /// The config file or a template is invalid (EX_CONFIG).
    Config = 78,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::Exit;

    #[test]
    fn numbers_are_the_documented_ones() {
        let table = [
            (Exit::Success, 0),
            (Exit::Failure, 1),
            (Exit::Usage, 2),
            (Exit::TempFail, 75),
            (Exit::Config, 78),
        ];
        for (exit, code) in table {
            assert_eq!(exit as u8, code, "{exit:?}");
        }
    }
}
