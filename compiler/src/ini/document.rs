//! The merged result of reading every file: configparser's `_sections` and `_defaults`.
//!
//! Duplicate sections merge into the first one (later keys win); duplicate keys replace
//! the earlier value and keep a record of it for the `duplicate_key` lint. `[DEFAULT]` keys
//! are looked up behind every section's own keys.
//!
//! Key names are interned: every entry with the same (lower-cased) key shares one
//! `Arc<str>`, which the entry and its map slot both hold.

use std::sync::Arc;

use indexmap::IndexMap;

/// An insertion-ordered map by name. Keys come from configuration files, which are trusted
/// input of one compilation, so a fast non-cryptographic hash is used.
pub type Map<V> = IndexMap<String, V, rustc_hash::FxBuildHasher>;

/// The keys of a section (or of `[DEFAULT]`) by name, in first-definition order.
pub type Entries = IndexMap<Arc<str>, Entry, rustc_hash::FxBuildHasher>;
use svc_schema::{Origin, SourceId, Span};

use crate::ini::Value;

/// One key as last set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key, lower-cased as configparser's `optionxform` does.
    pub key: Arc<str>,
    /// Span of the key as written.
    pub key_span: Span,
    /// The value.
    pub value: Value,
    /// Spans of inline comments that configparser stripped from the value's lines.
    pub stripped_comments: Vec<Span>,
    /// Key spans of earlier definitions this one replaced.
    pub replaced: Vec<Span>,
    /// True if `expand_here` copied it in from `[DEFAULT]`.
    pub from_default: bool,
}

/// One section, merged over all its occurrences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The name between the brackets, case and spaces kept.
    pub name: String,
    /// The file that first defined it (supervisord's `section_to_file`).
    pub source: SourceId,
    /// Span of the name inside each `[...]` header that opened it, in reading order.
    pub headers: Vec<Span>,
    /// Its own keys in first-definition order.
    pub entries: Entries,
    /// `origin()`, computed once (after reading is complete).
    pub(crate) origin: std::sync::OnceLock<Origin>,
}

impl Section {
    /// Span of the first header's name.
    pub fn header(&self) -> Span {
        self.headers.first().copied().unwrap_or_default()
    }

    /// The provenance of a Graph item made from this section: its header and the value span
    /// of each of its own keys.
    pub fn origin(&self) -> Origin {
        self.origin
            .get_or_init(|| Origin {
                section: Some(self.header()),
                keys: std::sync::Arc::new(
                    self.entries
                        .values()
                        .map(|entry| (Arc::clone(&entry.key), entry.value.span()))
                        .collect(),
                ),
            })
            .clone()
    }
}

/// Everything read so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// Sections in first-definition order (what `parser.sections()` returns).
    pub sections: Map<Section>,
    /// `[DEFAULT]` keys.
    pub defaults: Entries,
    /// Span of each `[DEFAULT]` header.
    pub default_headers: Vec<Span>,
    /// `(section index, entry index)` of values read since the last `expand_here` that
    /// contain `%(here)s`: the only ones the next `expand_here` can change. (Sections and
    /// entries are never removed, so indices stay valid.)
    pub(crate) here_pending: Vec<(usize, usize)>,
    /// Every key name read so far, for interning.
    key_names: rustc_hash::FxHashSet<Arc<str>>,
}

impl Document {
    /// A section by exact name.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.get(name)
    }

    /// `parser.get(section, key)`: the section's own value, else `[DEFAULT]`'s.
    pub fn get(&self, section: &str, key: &str) -> Option<&Entry> {
        self.get_in(self.sections.get(section)?, key)
    }

    /// [`Document::get`] in a section already looked up (one hash lookup, not two).
    pub fn get_in<'d>(&'d self, section: &'d Section, key: &str) -> Option<&'d Entry> {
        section.entries.get(key).or_else(|| self.defaults.get(key))
    }

    /// The shared name of a key as written: lower-cased like configparser's `optionxform`
    /// (`str.lower()`), interned.
    pub(crate) fn key_name(&mut self, written: &str) -> Arc<str> {
        let lowered = if written
            .bytes()
            .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
        {
            std::borrow::Cow::Owned(written.to_lowercase())
        } else {
            std::borrow::Cow::Borrowed(written)
        };
        if let Some(name) = self.key_names.get(&*lowered) {
            return Arc::clone(name);
        }
        let name: Arc<str> = Arc::from(&*lowered);
        self.key_names.insert(Arc::clone(&name));
        name
    }

    /// Adds what was read from a later file into a document of its own, exactly as if
    /// that file had been read into this one: new sections and keys are appended; an
    /// existing section gains the headers and keys (a key set again replaces the value and
    /// records the earlier definitions); `[DEFAULT]` likewise; and the values with
    /// `%(here)s` wait for the next [`Document::expand_here`].
    pub(crate) fn merge(&mut self, other: Document) {
        let Document {
            sections,
            defaults,
            default_headers,
            here_pending,
            key_names,
        } = other;
        self.key_names.extend(key_names);
        self.default_headers.extend(default_headers);
        for entry in defaults.into_values() {
            insert_entry(&mut self.defaults, entry);
        }
        // Index of each of `other`'s sections here and, when it merged into an existing
        // section, the index here of each of its entries.
        let mut placed: Vec<(usize, Option<Vec<usize>>)> = Vec::with_capacity(sections.len());
        for (name, section) in sections {
            match self.sections.entry(name) {
                indexmap::map::Entry::Vacant(slot) => {
                    placed.push((slot.index(), None));
                    slot.insert(section);
                }
                indexmap::map::Entry::Occupied(mut slot) => {
                    let index = slot.index();
                    let existing = slot.get_mut();
                    existing.headers.extend(section.headers);
                    let entries = section
                        .entries
                        .into_values()
                        .map(|entry| insert_entry(&mut existing.entries, entry))
                        .collect();
                    placed.push((index, Some(entries)));
                }
            }
        }
        for (section, entry) in here_pending {
            if let Some((index, entries)) = placed.get(section) {
                let entry = entries
                    .as_ref()
                    .map_or(Some(entry), |entries| entries.get(entry).copied());
                if let Some(entry) = entry {
                    self.here_pending.push((*index, entry));
                }
            }
        }
    }

    /// Every section's own keys by section name, then `[DEFAULT]`'s under `"DEFAULT"`.
    pub fn all_entries(&self) -> impl Iterator<Item = (&str, &Entries)> {
        self.sections
            .values()
            .map(|section| (section.name.as_str(), &section.entries))
            .chain(std::iter::once(("DEFAULT", &self.defaults)))
    }

    /// `parser.options(section)`: own keys, then `[DEFAULT]` keys not overridden.
    pub fn keys(&self, section: &str) -> Vec<&Entry> {
        let Some(found) = self.sections.get(section) else {
            return Vec::new();
        };
        let mut keys: Vec<&Entry> = found.entries.values().collect();
        keys.extend(
            self.defaults
                .values()
                .filter(|entry| !found.entries.contains_key(&entry.key)),
        );
        keys
    }

    /// supervisord's `expand_here(here)`: replaces `%(here)s` textually in the value of
    /// every key of every section (inherited `[DEFAULT]` values are copied into the section).
    pub fn expand_here(&mut self, here: &str) {
        const HERE: &str = "%(here)s";
        let pending = std::mem::take(&mut self.here_pending);
        if !self
            .defaults
            .values()
            .any(|entry| entry.value.text.contains(HERE))
        {
            // Values replaced before contain no `%(here)s` any more, so only the values read
            // since the last call can change: the same result without rescanning everything.
            for (section, entry) in pending {
                if let Some((_, entry)) = self
                    .sections
                    .get_index_mut(section)
                    .and_then(|(_, s)| s.entries.get_index_mut(entry))
                    && entry.value.text.contains(HERE)
                {
                    entry.value = entry.value.replace(HERE, here);
                }
            }
            return;
        }
        let defaults = &self.defaults;
        for section in self.sections.values_mut() {
            let inherited: Vec<Entry> = defaults
                .values()
                .filter(|entry| {
                    !section.entries.contains_key(&entry.key) && entry.value.text.contains(HERE)
                })
                .cloned()
                .collect();
            for mut entry in inherited {
                entry.from_default = true;
                section.entries.insert(Arc::clone(&entry.key), entry);
            }
            for entry in section.entries.values_mut() {
                if entry.value.text.contains(HERE) {
                    entry.value = entry.value.replace(HERE, here);
                }
            }
        }
    }
}

/// Inserts an entry, or replaces the one with its key (the last definition wins, keeping
/// the first one's position); the replaced definitions, earliest first, are recorded in
/// `replaced`. Returns the entry's index.
pub(crate) fn insert_entry(entries: &mut Entries, mut entry: Entry) -> usize {
    match entries.entry(Arc::clone(&entry.key)) {
        indexmap::map::Entry::Occupied(mut slot) => {
            let previous = slot.get();
            let mut replaced = previous.replaced.clone();
            replaced.push(previous.key_span);
            replaced.append(&mut entry.replaced);
            entry.replaced = replaced;
            slot.insert(entry);
            slot.index()
        }
        indexmap::map::Entry::Vacant(slot) => {
            let index = slot.index();
            slot.insert(entry);
            index
        }
    }
}
