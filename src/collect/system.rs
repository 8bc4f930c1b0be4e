//! What this host is, for the host section: the OS (os-release), the running kernel
//! and the newest one installed (a newer one installed means a reboot would load
//! it), the architecture, the CPU model, and the virtualization when it can be told.
//!
//! Cheap reads only, but `systemd-detect-virt` is a program: this collector runs on
//! its own thread, under the report's deadline like any other.

use std::cmp::Ordering;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use super::command;
use super::procfs::Procfs;
use super::CollectError;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct System {
    /// os-release's PRETTY_NAME: "Debian GNU/Linux 12 (bookworm)".
    pub os: Option<String>,
    /// The running kernel's release.
    pub kernel: String,
    /// The newest kernel with modules installed (/lib/modules), when there are any.
    pub newest_kernel: Option<String>,
    /// A newer kernel is installed than the one running.
    pub kernel_outdated: bool,
    pub arch: String,
    pub cpu_model: Option<String>,
    /// "kvm", "docker", "none"…; None when it cannot be told.
    pub virtualization: Option<String>,
}

pub fn collect(procfs: &Procfs, timeout: Duration) -> Result<System, CollectError> {
    let kernel = procfs.read("sys/kernel/osrelease")?.trim().to_string();
    let os = ["/etc/os-release", "/usr/lib/os-release"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| pretty_name(&t));
    let installed = kernels(Path::new("/lib/modules"));
    let newest_kernel = newest(&installed);
    let kernel_outdated = newest_kernel
        .as_deref()
        .is_some_and(|n| compare_versions(n, &kernel) == Ordering::Greater);
    Ok(System {
        os,
        kernel,
        newest_kernel,
        kernel_outdated,
        arch: nix::sys::utsname::uname()
            .map(|u| u.machine().to_string_lossy().into_owned())
            .unwrap_or_default(),
        cpu_model: procfs.read("cpuinfo").ok().and_then(|t| cpu_model(&t)),
        virtualization: virtualization(procfs, timeout),
    })
}

/// PRETTY_NAME of an os-release file (values may be quoted, as the spec allows).
pub fn pretty_name(text: &str) -> Option<String> {
    let value = text.lines().find_map(|l| l.strip_prefix("PRETTY_NAME="))?;
    let value = value.trim().trim_matches('"').trim_matches('\'');
    (!value.is_empty()).then(|| value.to_string())
}

/// The CPU model: x86's "model name", else ARM's "Model" or "Hardware".
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    ["model name", "Model", "Hardware", "cpu model"]
        .iter()
        .find_map(|key| {
            cpuinfo.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == *key && !v.trim().is_empty()).then(|| v.trim().to_string())
            })
        })
}

fn kernels(modules: &Path) -> Vec<String> {
    std::fs::read_dir(modules)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| {
                    e.path().join("modules.dep").exists() || e.path().join("kernel").exists()
                })
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn newest(kernels: &[String]) -> Option<String> {
    kernels
        .iter()
        .max_by(|a, b| compare_versions(a, b))
        .cloned()
}

/// Kernel releases compared as their numbers: 6.1.0-26 after 6.1.0-9.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let parts = |s: &str| -> Vec<u64> {
        s.split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    parts(a).cmp(&parts(b))
}

/// `systemd-detect-virt` when there is one (it knows containers too), else what the
/// firmware says its maker and product are.
fn virtualization(procfs: &Procfs, timeout: Duration) -> Option<String> {
    let argv = ["systemd-detect-virt"];
    if let Ok((done, out)) = command::run_keeping(&argv, timeout, 256) {
        let said = String::from_utf8_lossy(&out).trim().to_string();
        if !done.timed_out && matches!(done.code, Some(0) | Some(1)) && !said.is_empty() {
            return Some(said);
        }
    }
    let read = |name: &str| std::fs::read_to_string(procfs.sys(name)).unwrap_or_default();
    let dmi = format!(
        "{} {}",
        read("class/dmi/id/sys_vendor"),
        read("class/dmi/id/product_name")
    );
    from_dmi(&dmi)
}

/// A hypervisor told by the firmware's vendor and product names.
pub fn from_dmi(dmi: &str) -> Option<String> {
    let known = [
        ("QEMU", "qemu"),
        ("KVM", "kvm"),
        ("VMware", "vmware"),
        ("VirtualBox", "oracle"),
        ("Microsoft Corporation Virtual Machine", "microsoft"),
        ("Xen", "xen"),
        ("Amazon EC2", "amazon"),
        ("Google Compute Engine", "google"),
    ];
    known
        .iter()
        .find(|(needle, _)| dmi.contains(needle))
        .map(|(_, name)| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_cpuinfo_and_dmi_are_read() {
        let debian = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n";
        assert_eq!(
            pretty_name(debian).as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(pretty_name("NAME=x\n"), None);
        assert_eq!(
            cpu_model("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n").as_deref(),
            Some("AMD EPYC 7B13")
        );
        assert_eq!(
            cpu_model("Hardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n")
                .as_deref(),
            Some("Raspberry Pi 4 Model B Rev 1.4")
        );
        assert_eq!(
            from_dmi("QEMU Standard PC (Q35 + ICH9, 2009)").as_deref(),
            Some("qemu")
        );
        assert_eq!(from_dmi("Dell Inc. PowerEdge R640"), None);
    }

    #[test]
    fn kernels_compare_by_their_numbers() {
        let installed = ["6.1.0-9-amd64", "6.1.0-26-amd64", "5.10.0-30-amd64"].map(String::from);
        assert_eq!(newest(&installed).as_deref(), Some("6.1.0-26-amd64"));
        assert_eq!(
            compare_versions("6.1.0-26-amd64", "6.1.0-9-amd64"),
            Ordering::Greater
        );
        assert_eq!(
            compare_versions("6.1.0-26-amd64", "6.1.0-26-amd64"),
            Ordering::Equal
        );
    }
}
