//! `cargo xtask layout`: the host library's module import graph, checked for
//! cycles at two levels.
//!
//! Every file of `host/src` is a module (`registry/load.rs` is
//! `registry::load`, `registry/mod.rs` is `registry`). A file imports a
//! module when it names a path into it: `crate::a::b`, `super::x`,
//! `self::x`, or, in a `mod.rs`, a child module by name (`load::load`). A
//! path is resolved to the longest module it names.
//!
//! - Rooms: the top-level modules (`engine`, `registry`, …) must form a
//!   graph without cycles; the check prints them in order, each using only
//!   those before it.
//! - Files: the same, module by module.
//!
//! `lib.rs` only declares and re-exports; a path to an item of the crate
//! root (`crate::Host`) is refused, so that every import names the module
//! that owns it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Runs the check on `src` (a crate's `src/`); prints the rooms in order.
/// With `root_items`, the crate root may own items the modules import (the
/// SDK's root holds its generated bindings and its public names); without,
/// the root only declares modules and re-exports.
pub fn check(src: &Path, root_items: bool) -> Result<(), String> {
    let files = rust_files(src)?;
    let modules: BTreeMap<String, PathBuf> = files
        .iter()
        .map(|f| (module_of(src, f), f.clone()))
        .collect();
    let mut file_edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (module, file) in &modules {
        if module.is_empty() {
            continue; // lib.rs
        }
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let is_mod = file.ends_with("mod.rs");
        let children: Vec<String> = modules
            .keys()
            .filter_map(|m| m.strip_prefix(&format!("{module}::")))
            .filter(|rest| !rest.contains("::"))
            .map(str::to_owned)
            .collect();
        let edges = file_edges.entry(module.clone()).or_default();
        for line in code_lines(&text) {
            if line.trim_start().starts_with("mod ")
                || line.trim_start().starts_with("pub mod ")
                || line.trim_start().starts_with("pub(crate) mod ")
            {
                continue;
            }
            for path in paths(line) {
                let absolute = match path.split_first() {
                    Some((first, rest)) if first == "crate" => rest.to_vec(),
                    Some((first, rest)) if first == "super" => {
                        let mut base: Vec<String> = split(module);
                        // A mod.rs is its folder: its `super` is one level up.
                        base.pop();
                        base.extend(rest.iter().cloned());
                        base
                    }
                    Some((first, rest)) if first == "self" => {
                        let mut base = split(module);
                        if !is_mod {
                            base.pop();
                        }
                        base.extend(rest.iter().cloned());
                        base
                    }
                    Some((first, _)) if is_mod && children.contains(first) => {
                        let mut base = split(module);
                        base.extend(path.iter().cloned());
                        base
                    }
                    _ => continue,
                };
                let target = longest_module(&modules, &absolute);
                if target.is_empty() {
                    if root_items {
                        continue;
                    }
                    problems.push(format!(
                        "{}: `{}` names an item of the crate root; import it from the module that owns it",
                        file.display(),
                        path.join("::")
                    ));
                } else if &target != module {
                    edges.insert(target);
                }
            }
        }
    }

    let room = |m: &str| m.split("::").next().unwrap_or_default().to_owned();
    let mut room_edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in &file_edges {
        let entry = room_edges.entry(room(from)).or_default();
        for to in tos {
            if room(to) != room(from) {
                entry.insert(room(to));
            }
        }
    }
    let rooms = match order(&room_edges) {
        Ok(order) => order,
        Err(cycle) => {
            problems.push(format!(
                "the rooms import each other: {}",
                cycle.join(" -> ")
            ));
            Vec::new()
        }
    };
    if let Err(cycle) = order(&file_edges) {
        problems.push(format!(
            "the files import each other: {}",
            cycle.join(" -> ")
        ));
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    println!(
        "layout: {} modules in {} rooms, no import cycle; rooms in order (each uses only those before it):",
        file_edges.len(),
        rooms.len()
    );
    for r in &rooms {
        let uses: Vec<&str> = room_edges[r].iter().map(String::as_str).collect();
        println!(
            "  {r:<14} uses {}",
            if uses.is_empty() {
                "nothing".to_owned()
            } else {
                uses.join(", ")
            }
        );
    }
    Ok(())
}

fn split(module: &str) -> Vec<String> {
    module.split("::").map(str::to_owned).collect()
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).map_err(|e| format!("cannot read {}: {e}", d.display()))?;
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `src/registry/load.rs` → `registry::load`; `src/registry/mod.rs` →
/// `registry`; `src/lib.rs` → the root, ``.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

/// The lines of `text` that are code: comments and the tests module dropped.
fn code_lines(text: &str) -> impl Iterator<Item = &str> {
    let end = text.find("#[cfg(test)]").unwrap_or(text.len());
    text[..end].lines().filter(|l| {
        let t = l.trim_start();
        !t.starts_with("//")
    })
}

/// The paths in a line, as segments: `crate::a::{b, c}` gives `crate::a`
/// (braces end a path; what is inside them is in the same module or below).
fn paths(line: &str) -> Vec<Vec<String>> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b':');
        if starts_word && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
            let mut segments = Vec::new();
            let mut j = i;
            loop {
                let start = j;
                while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                    j += 1;
                }
                segments.push(line[start..j].to_owned());
                if line[j..].starts_with("::")
                    && line[j + 2..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                {
                    j += 2;
                } else {
                    break;
                }
            }
            if segments.len() > 1 || line[j..].starts_with("::{") {
                out.push(segments);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// The longest module that `path` names (`[]` for the crate root).
fn longest_module(modules: &BTreeMap<String, PathBuf>, path: &[String]) -> String {
    for n in (1..=path.len()).rev() {
        let candidate = path[..n].join("::");
        if modules.contains_key(&candidate) {
            return candidate;
        }
    }
    String::new()
}

/// A topological order of `edges` (dependencies first), or a cycle.
fn order(edges: &BTreeMap<String, BTreeSet<String>>) -> Result<Vec<String>, Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Visiting,
        Done,
    }
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        marks: &mut BTreeMap<String, Mark>,
        stack: &mut Vec<String>,
        out: &mut Vec<String>,
    ) -> Result<(), Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return Ok(()),
            Some(Mark::Visiting) => {
                let from = stack.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = stack[from..].to_vec();
                cycle.push(node.to_owned());
                return Err(cycle);
            }
            None => {}
        }
        marks.insert(node.to_owned(), Mark::Visiting);
        stack.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            visit(next, edges, marks, stack, out)?;
        }
        stack.pop();
        marks.insert(node.to_owned(), Mark::Done);
        out.push(node.to_owned());
        Ok(())
    }
    let mut marks = BTreeMap::new();
    let mut out = Vec::new();
    for node in edges.keys() {
        visit(node, edges, &mut marks, &mut Vec::new(), &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_found_and_cycles_reported() {
        assert_eq!(
            paths("use crate::engine::store::{CallState, Fault};"),
            vec![vec!["crate", "engine", "store"]]
        );
        assert_eq!(
            paths("let x = super::Registry::new();")[0],
            vec!["super", "Registry", "new"]
        );
        let mut edges = BTreeMap::new();
        edges.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
        edges.insert("b".to_owned(), BTreeSet::from(["a".to_owned()]));
        assert_eq!(order(&edges).unwrap_err(), vec!["a", "b", "a"]);
        edges.insert("b".to_owned(), BTreeSet::new());
        assert_eq!(order(&edges).unwrap(), vec!["b", "a"]);
    }
}
