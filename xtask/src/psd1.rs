//! Reading PowerShell data files (`.psd1`, module manifests) without PowerShell: hashtables,
//! arrays, comma lists, quoted and here-strings, bare tokens (`$true`, numbers), comments, and a
//! signature block (comments too). Enough for what the pack and its checks read from the manifest.

/// A value in a data file.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A quoted string or here-string.
    Str(String),
    /// `@( ... )` or `a, b`.
    List(Vec<Value>),
    /// `@{ ... }`.
    Table(Table),
    /// Anything unquoted: `$true`, `$null`, `4`.
    Bare(String),
}

/// A hashtable, keys in file order, looked up case-insensitively as PowerShell does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table(pub Vec<(String, Value)>);

impl Table {
    /// The value of `key`, whatever its case.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    /// The string value of `key` (a one-item list counts).
    pub fn str(&self, key: &str) -> Option<&str> {
        match self.get(key)? {
            Value::Str(s) => Some(s),
            Value::List(items) if items.len() == 1 => match &items[0] {
                Value::Str(s) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// The strings of `key`: a string is a list of one; absent is empty.
    pub fn strings(&self, key: &str) -> Vec<String> {
        fn collect(value: &Value, into: &mut Vec<String>) {
            match value {
                Value::Str(s) | Value::Bare(s) => into.push(s.clone()),
                Value::List(items) => items.iter().for_each(|item| collect(item, into)),
                Value::Table(_) => {}
            }
        }
        let mut out = Vec::new();
        if let Some(value) = self.get(key) {
            collect(value, &mut out);
        }
        out
    }

    /// The table value of `key`.
    pub fn table(&self, key: &str) -> Option<&Table> {
        match self.get(key)? {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    /// `$true` / `$false` of `key`.
    pub fn bool(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Value::Bare(b) if b.eq_ignore_ascii_case("$true") => Some(true),
            Value::Bare(b) if b.eq_ignore_ascii_case("$false") => Some(false),
            _ => None,
        }
    }
}

/// Parses a data file whose top level is one hashtable.
pub fn parse(text: &str) -> Result<Table, String> {
    let mut parser = Parser {
        chars: text.trim_start_matches('\u{feff}').chars().collect(),
        at: 0,
    };
    parser.skip_trivia(true);
    if !parser.eat_str("@{") {
        return Err(parser.error("the file does not start with @{"));
    }
    let table = parser.table()?;
    parser.skip_trivia(true);
    if parser.at < parser.chars.len() {
        return Err(parser.error("unexpected text after the hashtable"));
    }
    Ok(table)
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.at + offset).copied()
    }

    fn eat_str(&mut self, s: &str) -> bool {
        let wanted: Vec<char> = s.chars().collect();
        if self.chars[self.at..].starts_with(&wanted) {
            self.at += wanted.len();
            true
        } else {
            false
        }
    }

    fn error(&self, what: &str) -> String {
        let line = self.chars[..self.at.min(self.chars.len())]
            .iter()
            .filter(|c| **c == '\n')
            .count()
            + 1;
        format!("line {line}: {what}")
    }

    /// Skips spaces and comments, and line ends too when `newlines`.
    fn skip_trivia(&mut self, newlines: bool) {
        while let Some(c) = self.peek() {
            if c == '<' && self.peek_at(1) == Some('#') {
                match self.find_from(self.at + 2, "#>") {
                    Some(end) => self.at = end + 2,
                    None => self.at = self.chars.len(),
                }
            } else if c == '#' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.at += 1;
                }
            } else if c == '`' && matches!(self.peek_at(1), Some('\n' | '\r')) {
                // A line continuation.
                self.at += 2;
            } else if c == '\n' || c == '\r' {
                if !newlines {
                    return;
                }
                self.at += 1;
            } else if c.is_whitespace() {
                self.at += 1;
            } else {
                return;
            }
        }
    }

    fn find_from(&self, from: usize, s: &str) -> Option<usize> {
        let wanted: Vec<char> = s.chars().collect();
        (from..self.chars.len()).find(|&i| self.chars[i..].starts_with(&wanted))
    }

    /// The entries up to and including the closing `}`.
    fn table(&mut self) -> Result<Table, String> {
        let mut entries = Vec::new();
        loop {
            self.skip_trivia(true);
            match self.peek() {
                None => return Err(self.error("a hashtable is not closed")),
                Some('}') => {
                    self.at += 1;
                    return Ok(Table(entries));
                }
                Some(';') => {
                    self.at += 1;
                    continue;
                }
                _ => {}
            }
            let key = match self.peek() {
                Some('\'') | Some('"') => self.quoted()?,
                _ => {
                    let start = self.at;
                    while self
                        .peek()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.')
                    {
                        self.at += 1;
                    }
                    if start == self.at {
                        return Err(self.error("expected a key"));
                    }
                    self.chars[start..self.at].iter().collect()
                }
            };
            self.skip_trivia(false);
            if !self.eat_str("=") {
                return Err(self.error(&format!("expected = after {key}")));
            }
            self.skip_trivia(true);
            let value = self.value()?;
            entries.push((key, value));
        }
    }

    /// A value, and the rest of a comma list that starts with it.
    fn value(&mut self) -> Result<Value, String> {
        let first = self.single()?;
        self.skip_trivia(false);
        if self.peek() != Some(',') {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.peek() == Some(',') {
            self.at += 1;
            self.skip_trivia(true);
            items.push(self.single()?);
            self.skip_trivia(false);
        }
        Ok(Value::List(items))
    }

    fn single(&mut self) -> Result<Value, String> {
        if self.eat_str("@{") {
            return self.table().map(Value::Table);
        }
        if self.eat_str("@(") {
            let mut items = Vec::new();
            loop {
                self.skip_trivia(true);
                match self.peek() {
                    None => return Err(self.error("an array is not closed")),
                    Some(')') => {
                        self.at += 1;
                        return Ok(Value::List(items));
                    }
                    Some(',') | Some(';') => self.at += 1,
                    _ => match self.value()? {
                        Value::List(more) => items.extend(more),
                        one => items.push(one),
                    },
                }
            }
        }
        if self.peek() == Some('@') && matches!(self.peek_at(1), Some('\'') | Some('"')) {
            return self.here_string().map(Value::Str);
        }
        if matches!(self.peek(), Some('\'') | Some('"')) {
            return self.quoted().map(Value::Str);
        }
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| !c.is_whitespace() && !matches!(c, ',' | ';' | '}' | ')' | '#'))
        {
            self.at += 1;
        }
        if start == self.at {
            return Err(self.error("expected a value"));
        }
        Ok(Value::Bare(self.chars[start..self.at].iter().collect()))
    }

    /// `'...'` (`''` is a quote) or `"..."` (`""` and backtick escapes; no expansion).
    fn quoted(&mut self) -> Result<String, String> {
        let quote = self.peek().ok_or_else(|| self.error("expected a string"))?;
        self.at += 1;
        let mut out = String::new();
        loop {
            let c = self
                .peek()
                .ok_or_else(|| self.error("a string is not closed"))?;
            self.at += 1;
            if c == quote {
                if self.peek() == Some(quote) {
                    out.push(quote);
                    self.at += 1;
                    continue;
                }
                return Ok(out);
            }
            if quote == '"' && c == '`' {
                let escaped = self
                    .peek()
                    .ok_or_else(|| self.error("a string is not closed"))?;
                self.at += 1;
                out.push(match escaped {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    '0' => '\0',
                    other => other,
                });
                continue;
            }
            out.push(c);
        }
    }

    /// `@'` or `@"`, a line end, the text, a line end, `'@` or `"@` at a line start.
    fn here_string(&mut self) -> Result<String, String> {
        let quote = self.peek_at(1).unwrap_or('\'');
        self.at += 2;
        while self.peek().is_some_and(|c| c != '\n') {
            self.at += 1;
        }
        self.at += 1;
        let start = self.at;
        let close: String = ['\n', quote, '@'].iter().collect();
        let end = self
            .find_from(start.saturating_sub(1), &close)
            .ok_or_else(|| self.error("a here-string is not closed"))?;
        let text: String = self.chars[start..end.max(start)].iter().collect();
        self.at = end + 3;
        Ok(text.trim_end_matches('\r').to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_manifest_with_every_kind_of_value() {
        let text = "\u{feff}# header\n@{\n  RootModule = 'A.psm1'\n  NestedModules = @('A.dll')\n  \
            Tags = @('x', \"y\"\n 'z')\n  Pairs = 'p', 'q'\n  Quote = 'it''s'\n  Flag = $false # comment\n  \
            <# block\n comment #> Empty = @()\n  PrivateData = @{ PSData = @{ ReleaseNotes = @'\nline 1\nline 2\n'@\n \
            Prerelease = \"rc`t1\" } }\n}\n# SIG # Begin signature block\n# MIIx\n";
        let table = parse(text).unwrap();
        assert_eq!(table.str("rootmodule"), Some("A.psm1"));
        assert_eq!(table.str("NestedModules"), Some("A.dll"));
        assert_eq!(table.strings("Tags"), ["x", "y", "z"]);
        assert_eq!(table.strings("Pairs"), ["p", "q"]);
        assert_eq!(table.str("Quote"), Some("it's"));
        assert_eq!(table.bool("Flag"), Some(false));
        assert!(table.strings("Empty").is_empty());
        assert!(table.strings("Missing").is_empty());
        let data = table.table("PrivateData").unwrap().table("psdata").unwrap();
        assert_eq!(data.str("ReleaseNotes"), Some("line 1\nline 2"));
        assert_eq!(data.str("Prerelease"), Some("rc\t1"));
    }

    #[test]
    fn refuses_what_is_not_a_data_file() {
        assert!(parse("Get-Process").is_err());
        assert!(parse("@{ A = 'x'").is_err());
        assert!(parse("@{ A = 'x }").is_err());
        assert!(parse("@{ A = 'x' } trailing").is_err());
    }

    #[test]
    fn reads_the_project_manifest() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap();
        let text = std::fs::read_to_string(root.join("MSCommerce.psd1")).unwrap();
        let manifest = parse(&text).unwrap();
        assert_eq!(
            manifest.str("GUID"),
            Some("0141756d-17fc-4ea8-9169-d034b210847e")
        );
        assert!(manifest
            .strings("CmdletsToExport")
            .contains(&"Update-MSCommerceProductPolicy".to_owned()));
    }
}
