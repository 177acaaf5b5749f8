//! Which names a key can expand, and their values.
//!
//! supervisord builds a different expansion dict for different keys (reference §1.2): the
//! `[supervisord]` keys see `here` and `ENV_*`, a program's per-process keys also see
//! `program_name`, `group_name`, `host_node_name`, `process_num`, `numprocs` and the
//! program's own `environment=` as `ENV_*`. A [`Names`] is one such dict. The environment
//! layers are shared (`Arc`), so building one per key copies no environment.

use std::sync::Arc;

use indexmap::IndexMap;

pub use super::pyformat::NameValue;

/// Every name supervisord ever defines besides `ENV_*`.
pub const SUPERVISOR_NAMES: &[&str] = &[
    "group_name",
    "here",
    "host_node_name",
    "numprocs",
    "process_num",
    "program_name",
];

/// An expansion dict.
#[derive(Debug, Clone, Default)]
pub struct Names {
    own: Vec<(&'static str, NameValue)>,
    env: Vec<Arc<IndexMap<String, String>>>,
}

impl Names {
    /// No names at all.
    pub fn new() -> Names {
        Names::default()
    }

    /// Adds (or replaces) a supervisor name.
    pub fn with(mut self, name: &'static str, value: NameValue) -> Names {
        self.own.retain(|(existing, _)| *existing != name);
        self.own.push((name, value));
        self
    }

    /// Adds a string name.
    pub fn with_str(self, name: &'static str, value: impl Into<Arc<str>>) -> Names {
        self.with(name, NameValue::Str(value.into()))
    }

    /// Adds a layer of `ENV_*` names; later layers win.
    pub fn with_env(mut self, env: &Arc<IndexMap<String, String>>) -> Names {
        self.env.push(Arc::clone(env));
        self
    }

    /// Looks a name up.
    pub fn get(&self, name: &str) -> Option<NameValue> {
        if let Some(var) = name.strip_prefix("ENV_")
            && let Some(value) = self.env.iter().rev().find_map(|layer| layer.get(var))
        {
            return Some(NameValue::Str(Arc::from(value.as_str())));
        }
        self.own
            .iter()
            .find(|(own, _)| *own == name)
            .map(|(_, value)| value.clone())
    }

    /// True for the fixed supervisor names (whether or not available here).
    pub fn is_supervisor_name(&self, name: &str) -> bool {
        SUPERVISOR_NAMES.contains(&name)
    }

    /// `"here, program_name, ENV_*"`: what this key can use, for help lines.
    pub fn available_list(&self) -> String {
        let mut names: Vec<&str> = self.own.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        names.push("ENV_<variable>");
        names.join(", ")
    }

    /// Every name worth suggesting: all supervisor names and the `ENV_*` present.
    pub fn all_names(&self) -> Vec<String> {
        let mut names: Vec<String> = SUPERVISOR_NAMES.iter().map(|s| s.to_string()).collect();
        for layer in &self.env {
            names.extend(layer.keys().map(|k| format!("ENV_{k}")));
        }
        names
    }
}
