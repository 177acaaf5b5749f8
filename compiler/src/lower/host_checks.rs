//! Checks that depend on the machine: users, groups, directories.
//!
//! supervisord performs them while parsing, so they are errors by default, each with its own
//! `svc::host::*` code. `--no-host-checks` skips them for CI machines that are not the
//! production host; the values are kept as written.

use svc_schema::Span;

use crate::codes;
use crate::convert::python_int;
use crate::diagnostic::Diagnostic;
use crate::lower::Lowering;
use crate::paths;

/// What kind of account a name refers to.
#[derive(Debug, Clone, Copy)]
enum Account {
    User,
    Group,
}

impl Lowering<'_> {
    /// `name_to_uid`: a user name or a uid that exists.
    pub fn check_user(&mut self, user: &str, span: Span) {
        self.check_account(Account::User, user, span);
    }

    /// `name_to_gid`: a group name or a gid that exists.
    pub fn check_group(&mut self, group: &str, span: Span) {
        self.check_account(Account::Group, group, span);
    }

    /// A name, or a number that Python's `int()` accepts as an id, must exist.
    fn check_account(&mut self, account: Account, name: &str, span: Span) {
        if !self.options.host_checks {
            return;
        }
        let id = python_int(name, 10);
        let exists = match (account, id) {
            (Account::User, Some(id)) => u32::try_from(id).is_ok_and(|id| self.host.uid_exists(id)),
            (Account::User, None) => self.host.user_exists(name),
            (Account::Group, Some(id)) => {
                u32::try_from(id).is_ok_and(|id| self.host.gid_exists(id))
            }
            (Account::Group, None) => self.host.group_exists(name),
        };
        if exists {
            return;
        }
        let (code, what, id_word) = match account {
            Account::User => (&codes::HOST_UNKNOWN_USER, "user", "uid"),
            Account::Group => (&codes::HOST_UNKNOWN_GROUP, "group", "group"),
        };
        let written = if id.is_some() { id_word } else { what };
        self.diagnostics.push(
            Diagnostic::new(code, format!("{written} `{name}` does not exist on this host"))
                .at(span, format!("unknown {what}"))
                .help(format!(
                    "create the {what}, fix the name, or pass --no-host-checks if this is not the production host"
                )),
        );
    }

    /// `existing_directory`: returns the `~`-expanded path.
    pub fn check_directory(&mut self, key: &str, path: &str, span: Span) -> String {
        let expanded = paths::expanduser(path, |user| self.host.home_dir(user));
        if self.options.host_checks
            && !self
                .host
                .is_dir(std::path::Path::new(&paths::abspath(&expanded, &self.cwd)))
        {
            self.diagnostics.push(
                Diagnostic::new(&codes::HOST_MISSING_DIRECTORY, format!("`{key}`: `{path}` is not an existing directory"))
                    .at(span, "no such directory")
                    .help("create the directory before starting supervisord, or pass --no-host-checks if this is not the production host"),
            );
        }
        expanded
    }

    /// `existing_dirpath`: the directory part of a file path must exist; returns the
    /// `~`-expanded path.
    pub fn check_parent_directory(&mut self, key: &str, path: &str, span: Span) -> String {
        let expanded = paths::expanduser(path, |user| self.host.home_dir(user));
        let directory = paths::dirname(&expanded);
        if self.options.host_checks
            && !directory.is_empty()
            && !self
                .host
                .is_dir(std::path::Path::new(&paths::abspath(directory, &self.cwd)))
        {
            self.diagnostics.push(
                Diagnostic::new(
                    &codes::HOST_MISSING_PARENT_DIRECTORY,
                    format!("`{key}`: the directory of `{path}` does not exist"),
                )
                .at(span, format!("`{directory}` does not exist"))
                .help("create the directory before starting supervisord (supervisord does not create it), or pass --no-host-checks if this is not the production host"),
            );
        }
        expanded
    }
}
