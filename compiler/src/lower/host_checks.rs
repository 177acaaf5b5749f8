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

impl Lowering<'_> {
    /// `name_to_uid`: a user name or a uid that exists.
    pub fn check_user(&mut self, user: &str, span: Span) {
        if !self.options.host_checks {
            return;
        }
        let exists = match python_int(user, 10) {
            Some(uid) => u32::try_from(uid).is_ok_and(|uid| self.host.uid_exists(uid)),
            None => self.host.user_exists(user),
        };
        if !exists {
            let what = if python_int(user, 10).is_some() {
                "uid"
            } else {
                "user"
            };
            self.diagnostics.push(
                Diagnostic::new(&codes::HOST_UNKNOWN_USER, format!("{what} `{user}` does not exist on this host"))
                    .at(span, "unknown user")
                    .help("create the user, fix the name, or pass --no-host-checks if this is not the production host"),
            );
        }
    }

    /// `name_to_gid`: a group name or a gid that exists.
    pub fn check_group(&mut self, group: &str, span: Span) {
        if !self.options.host_checks {
            return;
        }
        let exists = match python_int(group, 10) {
            Some(gid) => u32::try_from(gid).is_ok_and(|gid| self.host.gid_exists(gid)),
            None => self.host.group_exists(group),
        };
        if !exists {
            self.diagnostics.push(
                Diagnostic::new(&codes::HOST_UNKNOWN_GROUP, format!("group `{group}` does not exist on this host"))
                    .at(span, "unknown group")
                    .help("create the group, fix the name, or pass --no-host-checks if this is not the production host"),
            );
        }
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
