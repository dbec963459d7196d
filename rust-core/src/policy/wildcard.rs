//! PowerShell's wildcard patterns (`-Exclude`, `-ProductName`): `*` any run of characters, `?`
//! one character, `[abc]` and `[a-z]` one character of a set, a backtick escapes the next
//! character. Matching ignores case and covers the whole text, as `-like` does.

use crate::error::{Error, ErrorKind, Result};

/// One element of a parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// Exactly this character (already folded to lower case).
    Literal(char),
    /// Any one character.
    One,
    /// Any run of characters, the empty one included.
    Any,
    /// One character from these inclusive ranges (a single character is a range of one).
    Set(Vec<(char, char)>),
}

/// A parsed wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wildcard {
    pattern: String,
    tokens: Vec<Token>,
}

impl Wildcard {
    /// Parses `pattern`; an unclosed `[` is an error, as it is for `-like`.
    pub fn new(pattern: &str) -> Result<Self> {
        let mut tokens = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '*' => {
                    if tokens.last() != Some(&Token::Any) {
                        tokens.push(Token::Any);
                    }
                }
                '?' => tokens.push(Token::One),
                '`' => match chars.next() {
                    Some(escaped) => tokens.push(Token::Literal(fold(escaped))),
                    None => tokens.push(Token::Literal('`')),
                },
                '[' => tokens.push(Token::Set(parse_set(&mut chars, pattern)?)),
                other => tokens.push(Token::Literal(fold(other))),
            }
        }
        Ok(Wildcard {
            pattern: pattern.to_owned(),
            tokens,
        })
    }

    /// The pattern as given.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// True when `text`, all of it, matches, ignoring case.
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().map(fold).collect();
        // Iterative matching with one backtrack point per `*`: linear in practice and never
        // exponential, whatever the pattern.
        let (mut t, mut p) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.tokens.get(p) {
                Some(Token::Any) => {
                    star = Some((p, t));
                    p += 1;
                }
                Some(token) if token.accepts(text[t]) => {
                    t += 1;
                    p += 1;
                }
                _ => match star {
                    Some((star_p, star_t)) => {
                        p = star_p + 1;
                        t = star_t + 1;
                        star = Some((star_p, star_t + 1));
                    }
                    None => return false,
                },
            }
        }
        self.tokens[p..].iter().all(|token| *token == Token::Any)
    }
}

impl Token {
    fn accepts(&self, c: char) -> bool {
        match self {
            Token::Literal(l) => *l == c,
            Token::One => true,
            Token::Any => false,
            Token::Set(ranges) => ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)),
        }
    }
}

fn fold(c: char) -> char {
    // Single-character lower casing keeps positions aligned; the few characters whose lower
    // case is longer than one character keep their first.
    c.to_lowercase().next().unwrap_or(c)
}

fn parse_set(chars: &mut std::str::Chars<'_>, pattern: &str) -> Result<Vec<(char, char)>> {
    let mut members: Vec<char> = Vec::new();
    let mut ranges = Vec::new();
    loop {
        let c = match chars.next() {
            None => {
                return Err(Error::new(
                    ErrorKind::InvalidArgument,
                    format!("The wildcard pattern '{pattern}' is not valid: a '[' is not closed."),
                )
                .with_target(Some(pattern)))
            }
            Some(']') if !members.is_empty() || !ranges.is_empty() => break,
            Some('`') => chars.next().unwrap_or('`'),
            Some(c) => c,
        };
        members.push(fold(c));
        // `a-z` becomes a range once its end has been read.
        if members.len() == 3 && members[1] == '-' {
            let (lo, hi) = (members[0], members[2]);
            ranges.push(if lo <= hi { (lo, hi) } else { (hi, lo) });
            members.clear();
        } else if members.len() == 2 && members[1] != '-' {
            ranges.push((members[0], members[0]));
            members.remove(0);
        }
    }
    ranges.extend(members.into_iter().map(|c| (c, c)));
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn like(text: &str, pattern: &str) -> bool {
        Wildcard::new(pattern).unwrap().matches(text)
    }

    #[test]
    fn star_and_question_mark_match_runs_and_single_characters() {
        assert!(like("Power BI Pro", "power*"));
        assert!(like("Power BI Pro", "*BI*"));
        assert!(like("Power BI Pro", "Power BI Pr?"));
        assert!(!like("Power BI Pro", "Power BI P?"));
        assert!(like("", "*"));
        assert!(!like("", "?"));
    }

    #[test]
    fn matching_covers_the_whole_text_and_ignores_case() {
        assert!(like("CFQ7TTC0KP0N", "cfq7ttc0kp0n"));
        assert!(!like("CFQ7TTC0KP0N", "CFQ7TTC0KP0"));
        assert!(!like("xCFQ7TTC0KP0N", "CFQ7TTC0KP0N"));
    }

    #[test]
    fn sets_and_ranges_match_one_character() {
        assert!(like("Visio Plan 1", "Visio Plan [12]"));
        assert!(like("Visio Plan 2", "Visio Plan [1-3]"));
        assert!(!like("Visio Plan 4", "Visio Plan [1-3]"));
        assert!(like("a-b", "a[-]b"));
        assert!(like("a]b", "a[]]b"));
    }

    #[test]
    fn a_backtick_escapes_a_wildcard_character() {
        assert!(like("What?", "What`?"));
        assert!(!like("Whats", "What`?"));
        assert!(like("[x]", "`[x`]"));
    }

    #[test]
    fn an_unclosed_set_is_refused_with_the_pattern_as_target() {
        let error = Wildcard::new("Power[").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        assert_eq!(error.target(), Some("Power["));
    }

    proptest! {
        #[test]
        fn a_text_without_wildcard_characters_matches_itself(text in "[^*?`\\[]{0,40}") {
            prop_assert!(like(&text, &text));
        }

        #[test]
        fn star_matches_everything_and_many_stars_never_blow_up(text in ".{0,60}", stars in 1usize..30) {
            prop_assert!(like(&text, &"*".repeat(stars)));
            let pattern = format!("{}b", "*a".repeat(stars));
            let _ = like(&"a".repeat(200), &pattern);
        }
    }
}
