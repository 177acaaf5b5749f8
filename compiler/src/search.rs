//! supervisord's config file search order, used when no FILE is given.

use std::path::{Path, PathBuf};

use crate::codes;
use crate::diagnostic::Diagnostic;
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

/// The first existing candidate, or a `svc::source::no_config_found` diagnostic.
pub fn find_config(executable: &Path, host: &dyn Host) -> Result<PathBuf, Box<Diagnostic>> {
    let candidates = search_paths(executable);
    if let Some(found) = candidates.iter().find(|path| host.exists(path)) {
        return Ok(found.clone());
    }
    let list: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
    Err(Box::new(
        Diagnostic::new(
            &codes::SOURCE_NO_CONFIG_FOUND,
            format!(
                "No config file found at default paths ({})",
                list.join(", ")
            ),
        )
        .help("pass the configuration file to check: svc check /path/to/supervisord.conf"),
    ))
}
