//! User and group names for ids, through NSS (so LDAP and sssd names resolve too),
//! else the number. Each lookup may read /etc/passwd or ask a directory server, and
//! a report names the same few ids again and again: each is looked up once per
//! thread, and collectors run on a fresh thread for every report.

use std::cell::RefCell;
use std::collections::BTreeMap;

use nix::unistd::{Gid, Group, Uid, User};

thread_local! {
    static USERS: RefCell<BTreeMap<u32, String>> = const { RefCell::new(BTreeMap::new()) };
    static GROUPS: RefCell<BTreeMap<u32, String>> = const { RefCell::new(BTreeMap::new()) };
}

pub fn user(uid: u32) -> String {
    USERS.with_borrow_mut(|names| {
        names
            .entry(uid)
            .or_insert_with(|| match User::from_uid(Uid::from_raw(uid)) {
                Ok(Some(user)) => user.name,
                _ => uid.to_string(),
            })
            .clone()
    })
}

pub fn group(gid: u32) -> String {
    GROUPS.with_borrow_mut(|names| {
        names
            .entry(gid)
            .or_insert_with(|| match Group::from_gid(Gid::from_raw(gid)) {
                Ok(Some(group)) => group.name,
                _ => gid.to_string(),
            })
            .clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_or_numbers() {
        // Every system has root (uid and gid 0); nothing has id 4294967294 named.
        assert_eq!(
            (user(0), group(0)),
            ("root".to_string(), "root".to_string())
        );
        assert_eq!(user(4_294_967_294), "4294967294");
    }
}
