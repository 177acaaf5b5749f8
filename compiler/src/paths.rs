//! Path arithmetic with Python's `os.path` semantics (pure string operations, no I/O).
//!
//! supervisord normalizes pid files, log files and socket paths with
//! `normpath(abspath(expanduser(p)))`; the Graph must hold the same strings.

/// `os.path.normpath` for POSIX paths.
pub fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    // POSIX allows exactly two leading slashes to mean something else; Python keeps them.
    let initial_slashes = if path.starts_with("//") && !path.starts_with("///") {
        2
    } else if path.starts_with('/') {
        1
    } else {
        0
    };
    let mut parts: Vec<&str> = Vec::new();
    for component in path.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                if initial_slashes == 0 && (parts.is_empty() || parts.last() == Some(&"..")) {
                    parts.push("..");
                } else if !parts.is_empty() {
                    parts.pop();
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    let result = format!("{}{}", "/".repeat(initial_slashes), joined);
    if result.is_empty() {
        ".".into()
    } else {
        result
    }
}

/// `os.path.join(base, path)`: an absolute `path` replaces `base`.
pub fn join(base: &str, path: &str) -> String {
    if path.starts_with('/') || base.is_empty() {
        path.to_string()
    } else if base.ends_with('/') {
        format!("{base}{path}")
    } else {
        format!("{base}/{path}")
    }
}

/// `os.path.abspath(path)` against `cwd`.
pub fn abspath(path: &str, cwd: &str) -> String {
    normpath(&join(cwd, path))
}

/// `os.path.dirname`.
pub fn dirname(path: &str) -> &str {
    match path.rfind('/') {
        None => "",
        Some(index) => {
            let head = &path[..=index];
            let trimmed = head.trim_end_matches('/');
            if trimmed.is_empty() { head } else { trimmed }
        }
    }
}

/// `os.path.expanduser` given a way to find home directories.
pub fn expanduser(path: &str, home: impl Fn(Option<&str>) -> Option<String>) -> String {
    if !path.starts_with('~') {
        return path.to_string();
    }
    let end = path.find('/').unwrap_or(path.len());
    let user = &path[1..end];
    let home_dir = if user.is_empty() {
        home(None)
    } else {
        home(Some(user))
    };
    match home_dir {
        None => path.to_string(),
        Some(dir) => {
            let dir = dir.trim_end_matches('/');
            let rest = &path[end..];
            if dir.is_empty() && rest.is_empty() {
                "/".into()
            } else {
                format!("{dir}{rest}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normpath_matches_python() {
        assert_eq!(normpath("/a/./b/../c//d/"), "/a/c/d");
        assert_eq!(normpath("a/../../b"), "../b");
        assert_eq!(normpath("/../x"), "/x");
        assert_eq!(normpath("//x/y"), "//x/y");
        assert_eq!(normpath("///x"), "/x");
        assert_eq!(normpath(""), ".");
    }

    #[test]
    fn dirname_matches_python() {
        assert_eq!(dirname("/a/b.log"), "/a");
        assert_eq!(dirname("b.log"), "");
        assert_eq!(dirname("/b.log"), "/");
        assert_eq!(dirname("a//b"), "a");
    }

    #[test]
    fn expanduser_uses_home() {
        let home = |user: Option<&str>| Some(format!("/home/{}", user.unwrap_or("me")));
        assert_eq!(expanduser("~/x", home), "/home/me/x");
        assert_eq!(expanduser("~bob/x", home), "/home/bob/x");
        assert_eq!(expanduser("/x~", home), "/x~");
    }
}
