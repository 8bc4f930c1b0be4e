//! The built-in templates, compiled into the binary: the report's set and the fleet
//! digest's, their default subjects, and the report's sections.
//!
//! The report's `report.html` and `report.txt` are shells (the page, the macros, the
//! loop over `report.sections`) that include one template per section and format,
//! `templates/sections/<name>.{html,txt}`, registered as
//! `builtin/sections/<name>.{html,txt}`. Those are compiled when first asked for,
//! so a report compiles only the sections it shows: compiled templates are most of
//! a report's heap (about 0.8 MB for all 25 sections in both formats).

/// A set of templates: the report's, or the fleet digest's.
pub struct Set {
    /// The file names an admin's `template_dir` may hold instead of the built-in ones.
    pub html: &'static str,
    pub text: &'static str,
    /// The built-in templates: the names they are registered under, and their text.
    pub(super) builtin_html: (&'static str, &'static str),
    pub(super) builtin_text: (&'static str, &'static str),
    /// The templates the built-in ones include by section: (section, HTML, text).
    pub(super) sections: &'static [(&'static str, &'static str, &'static str)],
    /// The subject when the config names none.
    pub subject: &'static str,
}

impl Set {
    /// The built-in template registered as `name`, among those compiled only when
    /// first asked for (the sections).
    pub(super) fn lazy(&self, name: &str) -> Option<&'static str> {
        let (section, ext) = name.strip_prefix(SECTIONS_DIR)?.rsplit_once('.')?;
        let (_, html, text) = self.sections.iter().find(|(s, ..)| *s == section)?;
        match ext {
            "html" => Some(html),
            "txt" => Some(text),
            _ => None,
        }
    }
}

/// Where the sections' templates are registered.
const SECTIONS_DIR: &str = "builtin/sections/";

/// The name a section's template is registered under; `ext` is "html" or "txt".
pub(super) fn section_template(section: &str, ext: &str) -> String {
    format!("{SECTIONS_DIR}{section}.{ext}")
}

/// One row of `Set::sections` from the files under templates/sections/.
macro_rules! section {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../templates/sections/", $name, ".html")),
            include_str!(concat!("../../templates/sections/", $name, ".txt")),
        )
    };
}

pub const REPORT: Set = Set {
    html: "report.html",
    text: "report.txt",
    builtin_html: (
        "builtin/report.html",
        include_str!("../../templates/report.html"),
    ),
    builtin_text: (
        "builtin/report.txt",
        include_str!("../../templates/report.txt"),
    ),
    sections: &[
        section!("attention"),
        section!("host"),
        section!("cpu"),
        section!("memory"),
        section!("filesystems"),
        section!("diskio"),
        section!("network"),
        section!("processes"),
        section!("checks"),
        section!("updates"),
        section!("reboot"),
        section!("units"),
        section!("smart"),
        section!("raid"),
        section!("certificates"),
        section!("clock"),
        section!("temperatures"),
        section!("journal"),
        section!("oom"),
        section!("logins"),
        section!("packages"),
        section!("reboots"),
        section!("users"),
        section!("files"),
        section!("errors"),
    ],
    subject: DEFAULT_SUBJECT,
};

pub const DIGEST: Set = Set {
    html: "digest.html",
    text: "digest.txt",
    builtin_html: (
        "builtin/digest.html",
        include_str!("../../templates/digest.html"),
    ),
    builtin_text: (
        "builtin/digest.txt",
        include_str!("../../templates/digest.txt"),
    ),
    sections: &[],
    subject: DIGEST_SUBJECT,
};

/// The dark-mode styles the built-in HTML templates include.
pub(super) const STYLE: &str = include_str!("../../templates/style.html");

/// The digest's subject: how many hosts need the admin, or why there is no digest.
pub const DIGEST_SUBJECT: &str = "[rreport] {% if error %}{{ error | truncate(150) }}\
{% elif attention_hosts %}{{ attention_hosts }} of {{ hosts_total }} hosts need attention\
{% else %}all {{ hosts_total }} hosts ok{% endif %}";
/// The subject when the config names none: the status and the first thing to read,
/// so the inbox alone says what is wrong:
/// `[CRITICAL] db-3: check postgres failed: connection refused (+4 more)`.
pub const DEFAULT_SUBJECT: &str = "[{{ status | upper }}] {{ hostname | truncate(64) }}\
{% if attention is defined and attention %}: {{ attention[0].text | truncate(100) }}\
{% if attention | length > 1 %} (+{{ attention | length - 1 }} more){% endif %}\
{% else %} system report{% endif %}";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sections::Section;

    #[test]
    fn every_section_has_its_two_templates_and_nothing_else_is_lazy() {
        let names: Vec<_> = REPORT.sections.iter().map(|(s, ..)| *s).collect();
        assert_eq!(names, Section::ALL.map(Section::name));
        for section in Section::ALL.map(Section::name) {
            let html = REPORT.lazy(&section_template(section, "html")).unwrap();
            let text = REPORT.lazy(&section_template(section, "txt")).unwrap();
            assert_ne!(html, text, "{section}");
        }
        for name in [
            "builtin/sections/cpu",
            "builtin/sections/cpu.md",
            "cpu.html",
        ] {
            assert_eq!(REPORT.lazy(name), None, "{name}");
        }
        assert_eq!(DIGEST.lazy(&section_template("cpu", "html")), None);
    }
}
