//! A small template language for documents the xtask writes (docs/benchmarks.template.md), so
//! that their prose stays in Markdown, beside the code it describes, and Rust only fills in
//! figures.
//!
//! - `{{name}}` is replaced by a text value;
//! - `{{#name}}...{{/name}}` is shown when the flag `name` is set, or once per item of the list
//!   `name` (each item's values come first, then the enclosing ones);
//! - `{{^name}}...{{/name}}` is shown when the flag is not set or the list is empty;
//! - `{{! ... }}` is a comment.
//!
//! A line holding only a section or comment tag leaves no line behind. Rendering fails on a name
//! the values do not have, on a tag that is not closed, and on a value the template never names
//! (a figure nobody reads is a template out of date).

use std::collections::BTreeSet;

/// A value a template can name.
#[derive(Debug, Clone)]
pub enum Value {
    /// Text, for `{{name}}`.
    Text(String),
    /// A flag, for `{{#name}}` and `{{^name}}`.
    Flag(bool),
    /// A list, whose items fill `{{#name}}...{{/name}}` one after the other.
    List(Vec<Values>),
}

/// Named values.
#[derive(Debug, Clone, Default)]
pub struct Values(Vec<(String, Value)>);

impl Values {
    /// No values.
    pub fn new() -> Values {
        Values::default()
    }

    /// Sets `name` to some text.
    pub fn text(&mut self, name: &str, text: impl Into<String>) -> &mut Values {
        self.set(name, Value::Text(text.into()))
    }

    /// Sets the flag `name`.
    pub fn flag(&mut self, name: &str, set: bool) -> &mut Values {
        self.set(name, Value::Flag(set))
    }

    /// Sets `name` to a list of items.
    pub fn list(&mut self, name: &str, items: Vec<Values>) -> &mut Values {
        self.set(name, Value::List(items))
    }

    fn set(&mut self, name: &str, value: Value) -> &mut Values {
        self.0.retain(|(n, _)| n != name);
        self.0.push((name.to_owned(), value));
        self
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Every name, in items too.
    fn names(&self, into: &mut BTreeSet<String>) {
        for (name, value) in &self.0 {
            into.insert(name.clone());
            if let Value::List(items) = value {
                items.iter().for_each(|item| item.names(into));
            }
        }
    }
}

/// A piece of a parsed template.
#[derive(Debug)]
enum Node {
    Text(String),
    Name(String),
    Section {
        name: String,
        inverted: bool,
        body: Vec<Node>,
    },
}

/// Fills `template` with `values`.
pub fn render(template: &str, values: &Values) -> Result<String, String> {
    let nodes = parse(template)?;
    let mut named = BTreeSet::new();
    collect_names(&nodes, &mut named);
    let mut given = BTreeSet::new();
    values.names(&mut given);
    let unread: Vec<_> = given.difference(&named).cloned().collect();
    if !unread.is_empty() {
        return Err(format!("the template never names {}", unread.join(", ")));
    }
    let mut out = String::new();
    write(&nodes, &mut vec![values], &mut out)?;
    Ok(out)
}

/// Drops the line ends of lines that hold only a section or comment tag.
fn strip_standalone(template: &str) -> String {
    template
        .split_inclusive('\n')
        .map(|line| {
            let trimmed = line.trim();
            let standalone = trimmed.starts_with("{{")
                && trimmed.ends_with("}}")
                && trimmed.matches("{{").count() == 1
                && matches!(trimmed.chars().nth(2), Some('#' | '^' | '/' | '!'));
            if standalone {
                trimmed
            } else {
                line
            }
        })
        .collect()
}

fn parse(template: &str) -> Result<Vec<Node>, String> {
    let text = strip_standalone(template);
    // Open sections: (name, inverted, the nodes before it).
    let mut open: Vec<(String, bool, Vec<Node>)> = Vec::new();
    let mut nodes = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            nodes.push(Node::Text(rest[..start].to_owned()));
        }
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("a tag is not closed: {}", excerpt(&rest[start..])))?;
        let tag = after[..end].trim();
        rest = &after[end + 2..];
        let name = |prefixed: &str| prefixed[1..].trim().to_owned();
        match tag.chars().next() {
            Some('!') => {}
            Some(kind @ ('#' | '^')) => {
                open.push((name(tag), kind == '^', std::mem::take(&mut nodes)));
            }
            Some('/') => {
                let closing = name(tag);
                let (opened, inverted, before) = open
                    .pop()
                    .ok_or_else(|| format!("{{{{/{closing}}}}} closes no section"))?;
                if opened != closing {
                    return Err(format!("{{{{/{closing}}}}} closes the section {opened}"));
                }
                let body = std::mem::replace(&mut nodes, before);
                nodes.push(Node::Section {
                    name: opened,
                    inverted,
                    body,
                });
            }
            _ if is_name(tag) => nodes.push(Node::Name(tag.to_owned())),
            _ => return Err(format!("'{{{{{tag}}}}}' is not a tag")),
        }
    }
    if let Some((name, _, _)) = open.last() {
        return Err(format!("the section {name} is not closed"));
    }
    if !rest.is_empty() {
        nodes.push(Node::Text(rest.to_owned()));
    }
    Ok(nodes)
}

fn is_name(tag: &str) -> bool {
    !tag.is_empty() && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn excerpt(text: &str) -> String {
    text.chars().take(40).collect()
}

fn collect_names(nodes: &[Node], into: &mut BTreeSet<String>) {
    for node in nodes {
        match node {
            Node::Text(_) => {}
            Node::Name(name) => {
                into.insert(name.clone());
            }
            Node::Section { name, body, .. } => {
                into.insert(name.clone());
                collect_names(body, into);
            }
        }
    }
}

/// The value of `name`, looked up from the innermost list item out.
fn lookup<'a>(stack: &[&'a Values], name: &str) -> Result<&'a Value, String> {
    stack
        .iter()
        .rev()
        .find_map(|values| values.get(name))
        .ok_or_else(|| format!("the template names {name}, which has no value"))
}

fn write(nodes: &[Node], stack: &mut Vec<&Values>, out: &mut String) -> Result<(), String> {
    for node in nodes {
        match node {
            Node::Text(text) => out.push_str(text),
            Node::Name(name) => match lookup(stack, name)? {
                Value::Text(text) => out.push_str(text),
                _ => return Err(format!("{{{{{name}}}}} is a flag or a list, not text")),
            },
            Node::Section {
                name,
                inverted,
                body,
            } => match (lookup(stack, name)?, inverted) {
                (Value::Flag(set), _) if set != inverted => write(body, stack, out)?,
                (Value::Flag(_), _) => {}
                (Value::List(items), false) => {
                    for item in items {
                        stack.push(item);
                        let written = write(body, stack, out);
                        stack.pop();
                        written?;
                    }
                }
                (Value::List(items), true) => {
                    if items.is_empty() {
                        write(body, stack, out)?;
                    }
                }
                (Value::Text(_), _) => {
                    return Err(format!("{{{{#{name}}}}} names text, not a flag or a list"))
                }
            },
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_flags_lists_and_standalone_lines() {
        let template = "# {{title}}\n{{! a comment }}\n{{#rows}}\n| {{name}} | {{unit}} |\n{{/rows}}\n\
            {{^rows}}\nno rows\n{{/rows}}\n{{#missed}}- missed{{/missed}}{{^missed}}all met{{/missed}}\n";
        let mut row = Values::new();
        row.text("name", "a");
        let mut values = Values::new();
        values
            .text("title", "T")
            .text("unit", "ms")
            .list("rows", vec![row.clone(), row])
            .flag("missed", false);
        assert_eq!(
            render(template, &values).unwrap(),
            "# T\n| a | ms |\n| a | ms |\nall met\n"
        );
        values.list("rows", Vec::new()).flag("missed", true);
        assert_eq!(
            render(template, &values).unwrap(),
            "# T\nno rows\n- missed\n"
        );
    }

    #[test]
    fn unknown_unread_and_unclosed_names_fail() {
        let mut values = Values::new();
        values.text("known", "x");
        assert!(render("{{known}} {{unknown}}", &values)
            .unwrap_err()
            .contains("unknown, which has no value"));
        assert!(render("nothing", &values)
            .unwrap_err()
            .contains("never names known"));
        assert!(render("{{#known}}", &values).is_err());
        assert!(render("{{known", &values).is_err());
        assert!(render("{{#a}}{{/b}}", &values).is_err());
        assert!(render("{{known}} {{not a name}}", &values).is_err());
    }
}
