//! supervisord's config file search order, used when no FILE is given.

use std::path::{Path, PathBuf};

use crate::host::Host;

/// The candidate paths, in order: `<prefix>/etc/supervisord.conf`,
/// `<prefix>/supervisord.conf` (prefix = the directory above the executable's directory),
/// then `supervisord.conf`, `etc/supervisord.conf`, `/etc/supervisord.conf`,
/// `/etc/supervisor/supervisord.conf`.
pub fn search_paths(executable: &Path) -> Vec<PathBuf> {
    let prefix = executable
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    vec![
        prefix.join("etc").join("supervisord.conf"),
        prefix.join("supervisord.conf"),
        PathBuf::from("supervisord.conf"),
        PathBuf::from("etc/supervisord.conf"),
        PathBuf::from("/etc/supervisord.conf"),
        PathBuf::from("/etc/supervisor/supervisord.conf"),
    ]
}

/// The first existing candidate.
pub fn find_config(executable: &Path, host: &dyn Host) -> Result<PathBuf, Vec<PathBuf>> {
    let candidates = search_paths(executable);
    candidates
        .iter()
        .find(|path| host.exists(path))
        .cloned()
        .ok_or(candidates)
}
