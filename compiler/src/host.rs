//! Everything the compiler asks of the machine it runs on, behind one trait.
//!
//! supervisord reads files, expands globs, looks up users, checks that directories exist and
//! reads its own environment while it parses. The compiler does the same through [`Host`], so
//! tests can feed an in-memory machine ([`MemoryHost`]) and `--no-host-checks` can answer
//! for a production host that is not this one.
//!
//! Invariant: no other module of the compiler touches the file system, the environment or
//! the user database.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

/// The machine as the compiler sees it. Shared by the compiler's worker threads, hence
/// `Sync`.
pub trait Host: Sync {
    /// Reads a whole file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Expands a glob pattern with Python `glob.glob` semantics (no match for hidden files
    /// unless the pattern component starts with `.`), unsorted.
    fn glob(&self, pattern: &str) -> Vec<PathBuf>;
    /// True if `path` exists (any file type).
    fn exists(&self, path: &Path) -> bool;
    /// True if `path` is a directory (following symlinks).
    fn is_dir(&self, path: &Path) -> bool;
    /// The daemon's environment at startup (`ENV_*` expansions, children's base env).
    fn environment(&self) -> IndexMap<String, String>;
    /// `platform.node()`: the host name.
    fn node_name(&self) -> String;
    /// Current working directory (relative paths are made absolute against it).
    fn current_dir(&self) -> PathBuf;
    /// Python's `tempfile.gettempdir()`.
    fn temp_dir(&self) -> String;
    /// Home directory for `~` (HOME, else the password database).
    fn home_dir(&self, user: Option<&str>) -> Option<String>;
    /// True if a user with this name exists.
    fn user_exists(&self, name: &str) -> bool;
    /// True if a user with this uid exists.
    fn uid_exists(&self, uid: u32) -> bool;
    /// True if a group with this name exists.
    fn group_exists(&self, name: &str) -> bool;
    /// True if a group with this gid exists.
    fn gid_exists(&self, gid: u32) -> bool;
}

/// The real machine.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealHost;

impl Host for RealHost {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn glob(&self, pattern: &str) -> Vec<PathBuf> {
        python_glob(pattern)
    }

    fn exists(&self, path: &Path) -> bool {
        path.symlink_metadata().is_ok()
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn environment(&self) -> IndexMap<String, String> {
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect()
    }

    fn node_name(&self) -> String {
        nix::unistd::gethostname()
            .ok()
            .and_then(|name| name.into_string().ok())
            .unwrap_or_default()
    }

    fn current_dir(&self) -> PathBuf {
        std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
    }

    fn temp_dir(&self) -> String {
        // tempfile.gettempdir(): TMPDIR, TEMP, TMP, then /tmp, /var/tmp, /usr/tmp, then the
        // current directory; the first that is a writable directory wins.
        let mut candidates: Vec<String> = ["TMPDIR", "TEMP", "TMP"]
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            .collect();
        candidates.extend(["/tmp", "/var/tmp", "/usr/tmp"].map(String::from));
        for candidate in candidates {
            let path = Path::new(&candidate);
            let writable = nix::unistd::access(path, nix::unistd::AccessFlags::W_OK).is_ok();
            if path.is_dir() && writable {
                let absolute = if path.is_absolute() {
                    path.to_path_buf()
                } else {
                    self.current_dir().join(path)
                };
                return crate::paths::normpath(&absolute.to_string_lossy());
            }
        }
        self.current_dir().to_string_lossy().into_owned()
    }

    fn home_dir(&self, user: Option<&str>) -> Option<String> {
        match user {
            None => std::env::var("HOME").ok().or_else(|| {
                nix::unistd::User::from_uid(nix::unistd::getuid())
                    .ok()
                    .flatten()
                    .map(|u| u.dir.to_string_lossy().into_owned())
            }),
            Some(name) => nix::unistd::User::from_name(name)
                .ok()
                .flatten()
                .map(|u| u.dir.to_string_lossy().into_owned()),
        }
    }

    fn user_exists(&self, name: &str) -> bool {
        matches!(nix::unistd::User::from_name(name), Ok(Some(_)))
    }

    fn uid_exists(&self, uid: u32) -> bool {
        matches!(nix::unistd::User::from_uid(uid.into()), Ok(Some(_)))
    }

    fn group_exists(&self, name: &str) -> bool {
        matches!(nix::unistd::Group::from_name(name), Ok(Some(_)))
    }

    fn gid_exists(&self, gid: u32) -> bool {
        matches!(nix::unistd::Group::from_gid(gid.into()), Ok(Some(_)))
    }
}

/// Python `glob.glob(pattern)` on the real file system: `*`, `?` and `[...]`, hidden files
/// only when the pattern component starts with `.`, a literal path returned if it exists.
/// An invalid pattern (an unclosed `[`) is taken literally, as Python does.
pub fn python_glob(pattern: &str) -> Vec<PathBuf> {
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    match glob::glob_with(pattern, options) {
        Ok(paths) => paths.filter_map(Result::ok).collect(),
        Err(_) => {
            let path = PathBuf::from(pattern);
            if path.symlink_metadata().is_ok() {
                vec![path]
            } else {
                Vec::new()
            }
        }
    }
}

/// An in-memory machine for tests: files, directories, environment and users are whatever
/// the test puts in.
#[derive(Debug, Clone, Default)]
pub struct MemoryHost {
    /// Absolute path -> file content.
    pub files: BTreeMap<PathBuf, Vec<u8>>,
    /// Extra directories (parents of files are directories too).
    pub dirs: Vec<PathBuf>,
    /// The environment.
    pub env: IndexMap<String, String>,
    /// Known users `(name, uid)`.
    pub users: Vec<(String, u32)>,
    /// Known groups `(name, gid)`.
    pub groups: Vec<(String, u32)>,
    /// Host name.
    pub node_name: String,
    /// Working directory.
    pub cwd: PathBuf,
}

impl MemoryHost {
    /// An empty machine with `/`, `/tmp`, user and group `root` (0), cwd `/`.
    pub fn new() -> MemoryHost {
        MemoryHost {
            dirs: vec![PathBuf::from("/"), PathBuf::from("/tmp")],
            users: vec![("root".into(), 0)],
            groups: vec![("root".into(), 0)],
            node_name: "testhost".into(),
            cwd: PathBuf::from("/"),
            ..MemoryHost::default()
        }
    }

    /// Adds a file (and makes its parents directories).
    pub fn file(mut self, path: impl Into<PathBuf>, content: impl Into<Vec<u8>>) -> MemoryHost {
        self.files.insert(path.into(), content.into());
        self
    }
}

impl Host for MemoryHost {
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        if self.is_dir(path) {
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "Is a directory",
            ));
        }
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "No such file or directory"))
    }

    fn glob(&self, pattern: &str) -> Vec<PathBuf> {
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        let Ok(compiled) = glob::Pattern::new(pattern) else {
            let path = PathBuf::from(pattern);
            return if self.exists(&path) {
                vec![path]
            } else {
                Vec::new()
            };
        };
        let mut all: Vec<PathBuf> = self.files.keys().cloned().collect();
        all.extend(self.dirs.iter().cloned());
        all.into_iter()
            .filter(|path| compiled.matches_path_with(path, options))
            .collect()
    }

    fn exists(&self, path: &Path) -> bool {
        self.files.contains_key(path) || self.is_dir(path)
    }

    fn is_dir(&self, path: &Path) -> bool {
        self.dirs.iter().any(|dir| dir == path)
            || self
                .files
                .keys()
                .any(|file| file.starts_with(path) && file != path)
    }

    fn environment(&self) -> IndexMap<String, String> {
        self.env.clone()
    }

    fn node_name(&self) -> String {
        self.node_name.clone()
    }

    fn current_dir(&self) -> PathBuf {
        self.cwd.clone()
    }

    fn temp_dir(&self) -> String {
        "/tmp".into()
    }

    fn home_dir(&self, user: Option<&str>) -> Option<String> {
        match user {
            None => self.env.get("HOME").cloned(),
            Some(name) => self
                .users
                .iter()
                .any(|(u, _)| u == name)
                .then(|| format!("/home/{name}")),
        }
    }

    fn user_exists(&self, name: &str) -> bool {
        self.users.iter().any(|(u, _)| u == name)
    }

    fn uid_exists(&self, uid: u32) -> bool {
        self.users.iter().any(|(_, id)| *id == uid)
    }

    fn group_exists(&self, name: &str) -> bool {
        self.groups.iter().any(|(g, _)| g == name)
    }

    fn gid_exists(&self, gid: u32) -> bool {
        self.groups.iter().any(|(_, id)| *id == gid)
    }
}
